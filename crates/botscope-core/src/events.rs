//! Typed events: what sources (capture, sensor, logs) emit and analyses
//! read. Field names follow Zeek's logs where one exists, so JSON Lines and
//! Zeek TSV renderings use the same column names.
//!
//! Every event carries its evidence: the flow `uid` and the number of the
//! packet (1-based, within the input file) it was first seen in.

use crate::compact::{ConnState, History, PacketNumbers, Uid};
use crate::{FlowKey, Ts};
use serde::{Deserialize, Serialize};

/// Where an event came from: the flow uid and the packet numbers behind it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Index of the input file in the run (0 for the first file given).
    pub file: u32,
    /// 1-based packet numbers (first, and last where it differs).
    pub packets: Vec<u64>,
}

/// A flow record's evidence: the file and its first and last packet
/// numbers, held inline (no heap allocation per flow). Serialised like
/// [`Evidence`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnEvidence {
    /// Index of the input file in the run (0 for the first file given).
    pub file: u32,
    /// 1-based packet numbers (first, and last where it differs).
    pub packets: PacketNumbers,
}

impl From<&ConnEvidence> for Evidence {
    fn from(e: &ConnEvidence) -> Evidence {
        Evidence {
            file: e.file,
            packets: e.packets.to_vec(),
        }
    }
}

/// One connection summary (Zeek `conn.log`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conn {
    /// First packet time.
    pub ts: Ts,
    /// Flow id (`C` + base62, Zeek style).
    pub uid: Uid,
    /// 5-tuple, originator first.
    pub id: FlowKey,
    /// Detected application protocol(s), comma separated (`irc`, `dns`...).
    pub service: Option<String>,
    /// Seconds between first and last packet.
    pub duration: Option<f64>,
    /// Payload bytes from the originator (TCP: sequence space seen).
    pub orig_bytes: Option<u64>,
    /// Payload bytes from the responder.
    pub resp_bytes: Option<u64>,
    /// Zeek connection state (`S0`, `SF`, `REJ`, `RSTO`, `OTH`...).
    pub conn_state: ConnState,
    /// Bytes lost in sequence gaps.
    pub missed_bytes: u64,
    /// Zeek history string (`ShADadFf`...).
    pub history: History,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// IP-level bytes from the originator.
    pub orig_ip_bytes: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// IP-level bytes from the responder.
    pub resp_ip_bytes: u64,
    /// Uids of enclosing tunnels (GRE/ERSPAN outer flows).
    pub tunnel_parents: Vec<Uid>,
    /// Packet numbers behind this record.
    pub evidence: ConnEvidence,
}

/// One DNS transaction (Zeek `dns.log`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DnsEvent {
    /// Time of the query (or of the response when no query was seen).
    pub ts: Ts,
    /// Flow uid.
    pub uid: String,
    /// 5-tuple.
    pub id: FlowKey,
    /// `udp` or `tcp`.
    pub proto: String,
    /// DNS transaction id.
    pub trans_id: u16,
    /// Seconds from query to response.
    pub rtt: Option<f64>,
    /// First question name, as sent (case kept).
    pub query: Option<String>,
    /// Question class number.
    pub qclass: Option<u16>,
    /// Question class name (`C_INTERNET`).
    pub qclass_name: Option<String>,
    /// Question type number.
    pub qtype: Option<u16>,
    /// Question type name (`A`, `AAAA`...).
    pub qtype_name: Option<String>,
    /// Response code number.
    pub rcode: Option<u16>,
    /// Response code name (`NOERROR`, `NXDOMAIN`...).
    pub rcode_name: Option<String>,
    /// Authoritative answer.
    #[serde(rename = "AA")]
    pub aa: bool,
    /// Truncated.
    #[serde(rename = "TC")]
    pub tc: bool,
    /// Recursion desired.
    #[serde(rename = "RD")]
    pub rd: bool,
    /// Recursion available.
    #[serde(rename = "RA")]
    pub ra: bool,
    /// The Z field.
    #[serde(rename = "Z")]
    pub z: u8,
    /// Answer data rendered as Zeek renders it.
    pub answers: Vec<String>,
    /// Answer TTLs in seconds.
    #[serde(rename = "TTLs")]
    pub ttls: Vec<f64>,
    /// Whether the responder rejected the query.
    pub rejected: bool,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// One IRC message, in either direction. Zeek's `irc.log` keeps only
/// NICK/USER/JOIN/DCC; botscope keeps every command because bot orders
/// live in TOPIC, PRIVMSG and NOTICE texts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IrcEvent {
    /// Time of the packet that completed the line.
    pub ts: Ts,
    /// Flow uid.
    pub uid: String,
    /// 5-tuple (originator is the IRC client).
    pub id: FlowKey,
    /// True when the client sent the line.
    pub from_client: bool,
    /// Nick in effect for this connection when the line was seen.
    pub nick: Option<String>,
    /// User name from USER.
    pub user: Option<String>,
    /// Message prefix (`nick!user@host` or server), without the colon.
    pub prefix: Option<String>,
    /// Command, upper-cased (`PRIVMSG`, `332`...).
    pub command: String,
    /// Parameters, the trailing one last, without its colon.
    pub params: Vec<String>,
    /// Zeek's `value` column (channel for JOIN, nick for NICK...).
    pub value: Option<String>,
    /// Zeek's `addl` column (channel key for JOIN...).
    pub addl: Option<String>,
    /// DCC offer, when the text is a CTCP DCC.
    pub dcc: Option<DccOffer>,
    /// IRCv3 message tags (`@time=...;msgid=...`), key and unescaped value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// A CTCP DCC offer parsed from a PRIVMSG.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DccOffer {
    /// `SEND`, `CHAT`...
    pub kind: String,
    /// File name for SEND.
    pub file_name: Option<String>,
    /// Offered address.
    pub host: Option<std::net::IpAddr>,
    /// Offered port.
    pub port: Option<u16>,
    /// Offered size for SEND.
    pub size: Option<u64>,
}

/// One TFTP transfer (Zeek/spicy-tftp `tftp.log`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TftpEvent {
    /// Time of the request.
    pub ts: Ts,
    /// Uid of the request flow.
    pub uid: String,
    /// Request 5-tuple (to port 69).
    pub id: FlowKey,
    /// True for a write request.
    pub wrq: bool,
    /// Requested file name.
    pub fname: String,
    /// Transfer mode (`octet`, `netascii`).
    pub mode: String,
    /// Uid of the data flow on the new port, when seen.
    pub uid_data: Option<String>,
    /// Bytes transferred.
    pub size: u64,
    /// Highest data block sent.
    pub block_sent: u64,
    /// Highest block acknowledged.
    pub block_acked: u64,
    /// TFTP error code, if the transfer ended in an error.
    pub error_code: Option<u16>,
    /// TFTP error message.
    pub error_msg: Option<String>,
    /// Options from the request (RFC 2347), name=value.
    pub options: Vec<(String, String)>,
    /// SHA-256 of the data when the transfer completed.
    pub sha256: Option<String>,
    /// Whether the data starts with the `MZ` executable magic.
    pub is_executable: bool,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// One HTTP/1.x request and its response (Zeek `http.log`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpEvent {
    /// Time of the request.
    pub ts: Ts,
    /// Flow uid.
    pub uid: String,
    /// 5-tuple.
    pub id: FlowKey,
    /// 1-based position of the request within the connection.
    pub trans_depth: u32,
    /// Method.
    pub method: Option<String>,
    /// Host header.
    pub host: Option<String>,
    /// Request target.
    pub uri: Option<String>,
    /// HTTP version (`1.1`).
    pub version: Option<String>,
    /// User-Agent header.
    pub user_agent: Option<String>,
    /// Request body length.
    pub request_body_len: u64,
    /// Response body length.
    pub response_body_len: u64,
    /// Status code.
    pub status_code: Option<u16>,
    /// Status text.
    pub status_msg: Option<String>,
    /// Whether the response body starts with `MZ`.
    pub is_executable: bool,
    /// SHA-256 of the response body when it is an executable.
    pub sha256: Option<String>,
    /// The response body when it is short text (at most
    /// `botscope_dissect::http::state::MAX_RESPONSE_TEXT` bytes, printable
    /// UTF-8): where a polling bot reads its orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_text: Option<String>,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// The data channel an FTP command announced (Zeek's `data_channel.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FtpDataChannel {
    /// True for PASV/EPSV (the client connects), false for PORT/EPRT (the
    /// server connects).
    pub passive: bool,
    /// Who opens the data connection.
    pub orig_h: std::net::IpAddr,
    /// Where it goes.
    pub resp_h: std::net::IpAddr,
    /// Port it goes to.
    pub resp_p: u16,
}

/// What went over the data connection of a transfer command (botscope's
/// addition to Zeek's `ftp.log` columns).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FtpTransfer {
    /// Uid of the data connection.
    pub uid: String,
    /// Its 5-tuple (originator: who connected).
    pub id: FlowKey,
    /// Bytes seen on it (the direction that carried data).
    pub bytes: u64,
    /// True when the originator of the data connection sent the bytes.
    pub from_orig: bool,
    /// SHA-256 of the bytes, when no byte was lost.
    pub sha256: Option<String>,
    /// Whether the data starts with the `MZ` executable magic.
    pub is_executable: bool,
}

/// One FTP command and its reply (Zeek `ftp.log`): transfer commands
/// (RETR, STOR, STOU, APPE, DELE, ACCT) and data-channel set-ups (PORT,
/// EPRT, PASV, EPSV).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FtpEvent {
    /// Time of the command.
    pub ts: Ts,
    /// Uid of the control connection.
    pub uid: String,
    /// Control connection 5-tuple (originator is the client).
    pub id: FlowKey,
    /// User name from USER (`<unknown>` when none was seen, as Zeek).
    pub user: String,
    /// Password from PASS, as sent (the Zeek TSV hides it unless the user
    /// is anonymous/ftp/ftpuser/guest, as Zeek does).
    pub password: Option<String>,
    /// Command, upper-cased.
    pub command: String,
    /// Argument; for file commands the `ftp://host/path` URL Zeek builds.
    pub arg: Option<String>,
    /// The file name as sent (file commands only).
    pub file_name: Option<String>,
    /// MIME type of the data (`application/x-dosexec` for `MZ` data;
    /// botscope does no other sniffing).
    pub mime_type: Option<String>,
    /// Size the server announced (150 reply to RETR, 213 reply to SIZE).
    pub file_size: Option<u64>,
    /// Reply code.
    pub reply_code: Option<u16>,
    /// Reply text.
    pub reply_msg: Option<String>,
    /// Data channel announced by this command.
    pub data_channel: Option<FtpDataChannel>,
    /// What the transfer's data connection carried.
    pub transfer: Option<FtpTransfer>,
    /// Evidence packets (command, reply).
    pub evidence: Evidence,
}

/// The download a line typed into a shell instructs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShellFetch {
    /// `tftp` or `ftp`.
    pub tool: String,
    /// Host to fetch from, as typed.
    pub host: String,
    /// Port, when typed (`echo open HOST PORT`).
    pub port: Option<u16>,
    /// File asked for.
    pub file: Option<String>,
}

/// A line typed into a remote command shell (the `cmd.exe` bind or
/// connect-back shell an exploit opened), found by the shell's banner or
/// prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShellEvent {
    /// Time of the packet that completed the line.
    pub ts: Ts,
    /// Flow uid.
    pub uid: String,
    /// 5-tuple.
    pub id: FlowKey,
    /// The host running the shell (it sent the banner or prompt).
    pub shell_host: std::net::IpAddr,
    /// The host typing.
    pub peer: std::net::IpAddr,
    /// The typed line (at most 1024 bytes).
    pub line: String,
    /// The download the line (with the session's earlier `echo` lines)
    /// instructs.
    pub fetch: Option<ShellFetch>,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// Any event, tagged by kind for JSON Lines streams that mix kinds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// A connection summary.
    Conn(Conn),
    /// A DNS transaction.
    Dns(DnsEvent),
    /// An IRC line.
    Irc(IrcEvent),
    /// A TFTP transfer.
    Tftp(TftpEvent),
    /// An HTTP transaction.
    Http(HttpEvent),
    /// An FTP command and its reply.
    Ftp(FtpEvent),
    /// A line typed into a remote shell.
    Shell(ShellEvent),
    /// A classified exploit attempt (Table 7).
    Exploit(crate::exploit::ExploitEvent),
    /// An executable carried over one TCP direction (Table 8).
    Binary(BinaryTransfer),
    /// A flood (§5.3). A struct variant because the observation has a
    /// field named `kind` (its packet type), which the enum's tag uses:
    /// `{"kind":"flood","flood":{"kind":"syn",...}}`.
    Flood {
        /// The observation.
        flood: FloodObs,
    },
    /// A scan.
    Scan(ScanObs),
    /// A relay request to a bot (Table 11, Fig. 5).
    Relay(RelayObs),
    /// A peer-to-peer link: a Gnutella 0.6 connection or an opaque,
    /// high-entropy TCP link (§9's P2P command channels).
    P2p(P2pLink),
}

/// Gnutella 0.6 descriptors counted on one link, per payload type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GnutellaDescriptors {
    /// Ping (0x00).
    pub ping: u64,
    /// Pong (0x01).
    pub pong: u64,
    /// Bye (0x02).
    pub bye: u64,
    /// Query Routing Protocol (0x30).
    pub qrp: u64,
    /// Vendor messages (0x31, 0x32).
    pub vendor: u64,
    /// Push (0x40).
    pub push: u64,
    /// Query (0x80).
    pub query: u64,
    /// Query hit (0x81).
    pub query_hit: u64,
    /// Any other payload type.
    pub other: u64,
}

/// One peer-to-peer link (`botscope_dissect::p2p`), reported when the
/// connection ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct P2pLink {
    /// First packet time.
    pub ts: Ts,
    /// Flow uid.
    pub uid: String,
    /// 5-tuple (originator: the peer that connected).
    pub id: FlowKey,
    /// `gnutella` (handshake seen) or `opaque` (no protocol recognised,
    /// high-entropy payload both ways: an encrypted mesh link, WASTE-style).
    pub protocol: String,
    /// Gnutella: the status code that answered `GNUTELLA CONNECT/0.6`
    /// (200 when the link was accepted).
    pub status: Option<u16>,
    /// Gnutella: the connecting peer's `User-Agent` header.
    pub user_agent: Option<String>,
    /// Gnutella: descriptors seen, both directions.
    pub descriptors: GnutellaDescriptors,
    /// Gnutella: the peers upgraded the link to TLS after the handshake
    /// (`Connection: Upgrade`, `Upgrade: TLS/1.0`): no descriptor is
    /// visible.
    #[serde(default)]
    pub tls: bool,
    /// Gnutella: a side announced Gnutella2 packets (`Content-Type:
    /// application/x-gnutella2`), which are not 0.6 descriptors and are
    /// not counted.
    #[serde(default)]
    pub gnutella2: bool,
    /// Gnutella: peers learnt from pong descriptors and `X-Try-Ultrapeers`
    /// headers (at most 64), `addr:port`.
    pub learnt_peers: Vec<String>,
    /// Gnutella: search texts of query descriptors (at most 16, 256 bytes
    /// each), where a Gnutella-borne order travels.
    pub queries: Vec<String>,
    /// Seconds between first and last packet.
    pub duration: f64,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// Shannon entropy, bits per byte, of the first payload bytes from the
    /// originator (up to 4 KiB).
    pub orig_entropy: f64,
    /// The same from the responder.
    pub resp_entropy: f64,
    /// Evidence packets.
    pub evidence: Evidence,
}

/// An executable carried over one TCP direction: its first bytes were
/// `MZ` (`botscope_dissect::binary`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryTransfer {
    /// Flow uid.
    pub uid: String,
    /// 5-tuple.
    pub id: FlowKey,
    /// True when the originator sent the executable.
    pub from_orig: bool,
    /// Time of the first executable byte.
    pub ts: Ts,
    /// Bytes seen.
    pub size: u64,
    /// SHA-256 of the bytes seen.
    pub sha256: String,
    /// Size the PE header announces (end of its last section), if parsable.
    pub pe_size: Option<u64>,
    /// Whether the whole file arrived (no gap, and the PE size when known).
    pub complete: bool,
    /// Evidence.
    pub evidence: Evidence,
}

/// A flood: many packets of one type from one source to one target, or,
/// when the sources are forged, from one sending host (Ethernet source
/// address at the capture point) to one target (`botscope_dissect::flood`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FloodObs {
    /// Source: the IP source, or for a spoofed flood the sending host's
    /// own address when its Ethernet address is seen carrying one host's
    /// TCP data (`0.0.0.0` when it is not).
    pub source: std::net::IpAddr,
    /// Target.
    pub target: std::net::IpAddr,
    /// Type: `syn`, `syn+urg`, `syn+ack`, `udp`, `icmp`, `fragments`, `http-get`.
    pub kind: String,
    /// Destination port (0 for ICMP and fragments).
    pub port: u16,
    /// First packet.
    pub start: Ts,
    /// Last packet.
    pub end: Ts,
    /// Packets.
    pub packets: u64,
    /// Evidence (first and last packet).
    pub evidence: Evidence,
    /// Whether the IP sources were forged: the flood is tallied per
    /// target and sending host, not per source.
    #[serde(default)]
    pub spoofed: bool,
    /// Distinct IP sources (1 for an unspoofed flood; estimated past 8).
    #[serde(default)]
    pub sources: u64,
    /// Ethernet source address of the frames (the sending host, or the
    /// router in front of it), when the capture has one.
    #[serde(default)]
    pub sender_mac: Option<String>,
}

/// A scan: TCP SYNs from one source to many addresses on one port
/// (`botscope_dissect::scan`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ScanObs {
    /// Source.
    pub source: std::net::IpAddr,
    /// Destination port.
    pub port: u16,
    /// Smallest /8, /16 or /24 holding every target (`a.b.c.0/24`).
    pub range: String,
    /// First probe.
    pub start: Ts,
    /// Last probe.
    pub end: Ts,
    /// Probes.
    pub probes: u64,
    /// Distinct targets (capped at the limit).
    pub targets: u64,
    /// Evidence.
    pub evidence: Evidence,
}

/// One relay request: a connection to a bot asking it to relay
/// (`botscope_dissect::relay`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RelayObs {
    /// Flow uid.
    pub uid: String,
    /// Spammer (originator).
    pub spammer: std::net::IpAddr,
    /// Bot.
    pub bot: std::net::IpAddr,
    /// Port on the bot.
    pub port: u16,
    /// `socks4`, `socks5`, `http_connect` or `redirect`.
    pub protocol: String,
    /// Relay target port, when the request names it.
    pub target_port: Option<u16>,
    /// Time.
    pub ts: Ts,
    /// Evidence.
    pub evidence: Evidence,
}
