//! Ground truth of the command channels beyond IRC (issue 20): HTTP
//! polling C&C servers with their bots and orders, benign periodic HTTP
//! clients (the negatives), and peer-to-peer botnets (Gnutella 0.6 and a
//! WASTE-style encrypted mesh) with their peer graphs.

use botscope_core::{FlowKey, Ts};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// One HTTP C&C server and the bots that poll it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpCcTruth {
    /// Index in `http_cc`.
    pub id: u32,
    /// Capture file holding the polls.
    pub file: String,
    /// Server address.
    pub server: Ipv4Addr,
    /// FQDN the bots resolve first (through the field's resolver, in the
    /// capture, and listed among the resolver logs' C&C names); `None`
    /// when the bots poll the address directly.
    pub name: Option<String>,
    /// Server port.
    pub port: u16,
    /// `GET` (bot id in the query string) or `POST` (bot id in a form
    /// body).
    pub method: String,
    /// Path of every poll (`/gate.php`).
    pub path: String,
    /// The request shape common to all bots: for `GET` the URI with the
    /// bot id as `{id}` (`/gate.php?id={id}&v=2.1&os=5.1`); for `POST` the
    /// path, a space, and the form body with `{id}`.
    pub uri_pattern: String,
    /// Nominal poll interval, seconds.
    pub poll_interval_s: u32,
    /// Each gap is the interval plus a uniform jitter in ±`jitter_s`.
    pub jitter_s: u32,
    /// Body of a poll answer that carries no order (`""` or `"ok"`).
    pub idle_body: String,
    /// The bots polling it.
    pub bots: Vec<HttpBotTruth>,
    /// Orders the herder queued, each delivered to every bot on its first
    /// poll after `issued`.
    pub orders: Vec<HttpOrderTruth>,
}

/// One bot polling an HTTP C&C server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpBotTruth {
    /// Bot address.
    pub ip: Ipv4Addr,
    /// The id it sends (`id=` value).
    pub bot_id: String,
    /// Time of its DNS lookup of the server's name (none when the server
    /// has no name).
    pub dns: Option<Ts>,
    /// Polls sent (one TCP connection each).
    pub polls: u32,
    /// Polls answered with an order (the rest got `idle_body`).
    pub polls_with_order: u32,
    /// First poll (connection start).
    pub first: Ts,
    /// Last poll (connection start).
    pub last: Ts,
}

/// One order an HTTP C&C server handed out.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpOrderTruth {
    /// When the herder queued it.
    pub issued: Ts,
    /// Raw order text, the same grammar as the IRC orders
    /// (`.advscan lsass 100 5 0 -r`, `.ddos.synflood HOST SECS DELAY PORT`,
    /// `.download URL PATH 1`, `.update URL ID`).
    pub raw: String,
    /// Command word without the leading dot.
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// Each bot's poll whose answer carried it: (bot, time of the response
    /// packet).
    pub deliveries: Vec<HttpDeliveryTruth>,
}

/// A poll answer carrying an order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpDeliveryTruth {
    /// Bot.
    pub bot: Ipv4Addr,
    /// Time of the poll's request packet.
    pub request: Ts,
    /// Time of the response packet carrying the order.
    pub response: Ts,
    /// The poll's connection.
    pub flow: FlowKey,
}

/// A benign client polling a web service at a regular interval: no
/// commands, a constant answer (the negative of HTTP C&C detection).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpBenignTruth {
    /// What it is (`update-check`, `status-api`, `time-api`).
    pub kind: String,
    /// Capture file.
    pub file: String,
    /// Client.
    pub client: Ipv4Addr,
    /// Server.
    pub server: Ipv4Addr,
    /// Server name (Host header; resolved once through the field's
    /// resolver, never a C&C name).
    pub name: String,
    /// Port.
    pub port: u16,
    /// `GET` or `POST`.
    pub method: String,
    /// Request URI.
    pub uri: String,
    /// Request body for `POST` (constant).
    pub request_body: Option<String>,
    /// The constant response body (JSON).
    pub response_body: String,
    /// Poll interval, seconds.
    pub poll_interval_s: u32,
    /// Jitter, ± seconds.
    pub jitter_s: u32,
    /// Polls sent.
    pub polls: u32,
    /// First poll.
    pub first: Ts,
    /// Last poll.
    pub last: Ts,
}

/// One peer-to-peer botnet.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct P2pTruth {
    /// Index in `p2p`.
    pub id: u32,
    /// `gnutella` (Gnutella 0.6 handshake then binary descriptors) or
    /// `waste` (an encrypted mesh: random-looking bytes both ways).
    pub protocol: String,
    /// Capture file.
    pub file: String,
    /// The port every peer listens on.
    pub port: u16,
    /// Every peer with its links.
    pub peers: Vec<P2pPeerTruth>,
    /// Every link (one long-lived TCP connection).
    pub links: Vec<P2pLinkTruth>,
    /// Infected peers whose only C&C is this network: no IRC, no HTTP
    /// polling, no DNS lookup of any C&C name (DNS-based counting misses
    /// them).
    pub p2p_only_hosts: Vec<Ipv4Addr>,
}

/// One peer of a P2P botnet.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct P2pPeerTruth {
    /// Address.
    pub ip: Ipv4Addr,
    /// Whether it is a bot (all peers of the field's P2P botnets are).
    pub infected: bool,
    /// Its other command channels: `http` when it also polls an HTTP C&C
    /// server (then it is in `http_cc[].bots` too); empty when P2P only.
    pub other_cc: Vec<String>,
    /// The peers it has a link with (either side opened it), ascending.
    pub neighbours: Vec<Ipv4Addr>,
}

/// One P2P link.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct P2pLinkTruth {
    /// Connection (the peer that connected first).
    pub flow: FlowKey,
    /// SYN time.
    pub start: Ts,
    /// Close time.
    pub end: Ts,
    /// TCP payload bytes originator → responder.
    pub bytes_orig: u64,
    /// TCP payload bytes responder → originator.
    pub bytes_resp: u64,
    /// Gnutella descriptors sent on the link (ping, pong, query, query
    /// hit; both ways; 0 for WASTE).
    pub descriptors: u32,
}
