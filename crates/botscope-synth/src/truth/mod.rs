//! The ground-truth file `truth.json`: every generated event with its time
//! and flow, plus the exact expected value of each table and figure of the
//! study, counted from the generated events.

mod channels;
mod models;

pub use channels::{
    HttpBenignTruth, HttpBotTruth, HttpCcTruth, HttpDeliveryTruth, HttpOrderTruth, P2pLinkTruth,
    P2pPeerTruth, P2pTruth,
};
pub use models::{model_inputs, FloodRateTruth, ModelTruth, ScanWaveTruth, SpamRateTruth};

use crate::specimen::{BotConfig, ConfigEncoding, Packer};
use botscope_core::{FlowKey, Ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Exploit vectors of Table 7: the same type the exploit classifier emits,
/// so truth and analysis name them alike.
pub use botscope_core::exploit::ExploitVector as Vector;

/// Copy methods of Table 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyMethod {
    /// The victim fetches the binary by TFTP GET from the infecting host.
    TftpGet,
    /// The infecting host connects to the victim and pushes the binary.
    TcpPush,
    /// The victim connects back to the infecting host and receives it.
    ReverseConnect,
}

/// One exploit attempt.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExploitTruth {
    /// Sequence number (index in this list).
    pub id: u32,
    /// Which capture file holds it (relative path).
    pub file: String,
    /// First packet time.
    pub ts: Ts,
    /// Attacking host.
    pub attacker: Ipv4Addr,
    /// Victim (sensor or honeypot) address.
    pub victim: Ipv4Addr,
    /// Vector.
    pub vector: Vector,
    /// Destination ports used (in order).
    pub ports: Vec<u16>,
    /// The exploit connection (or datagram) 5-tuple.
    pub flow: FlowKey,
    /// Download instruction carried in clear text, if any.
    pub instruction: Option<String>,
    /// Account and password for share access.
    pub credentials: Option<(String, String)>,
    /// Share connected for share access (`ADMIN$`, `C$`).
    pub share: Option<String>,
    /// Index of the copy that followed, if any.
    pub copy: Option<u32>,
}

/// One binary copy after an exploit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CopyTruth {
    /// Index in this list.
    pub id: u32,
    /// Capture file.
    pub file: String,
    /// Exploit it followed.
    pub exploit: u32,
    /// Start time.
    pub ts: Ts,
    /// Method.
    pub method: CopyMethod,
    /// The transfer flow (originator first).
    pub flow: FlowKey,
    /// File name requested / announced.
    pub filename: String,
    /// SHA-256 (hex) of the binary.
    pub sha256: String,
    /// Size of the binary in bytes.
    pub size: u64,
    /// Whether the whole binary arrived.
    pub success: bool,
    /// Index of the specimen in `specimens`.
    pub specimen: u32,
    /// How the bytes came: `tftp`, `ftp` (a victim-initiated RETR on
    /// the infecting host's FTP server, any port, either mode) or `tcp`
    /// (raw bytes on the connection).
    #[serde(default)]
    pub via: String,
    /// The FTP fetch's data connection, when `via` is `ftp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ftp: Option<FtpFetchTruth>,
    /// The bind shell the fetch was typed into, when it was (issue 15,
    /// class 3): the exploit opened it and the infecting host typed the
    /// `tftp`/`ftp` command into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<ShellTruth>,
}

/// The data side of an FTP fetch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FtpFetchTruth {
    /// `passive` (the victim opens the data connection after `PASV`) or
    /// `active` (the victim sends `PORT`; the infecting host connects
    /// from port 20).
    pub mode: String,
    /// The data connection (originator first).
    pub data_flow: FlowKey,
}

/// A remote shell an exploit opened on the victim.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShellTruth {
    /// Connection (infecting host → victim's bind port).
    pub flow: FlowKey,
    /// Time of the typed command line.
    pub ts: Ts,
    /// The command line typed (without CR LF).
    pub typed: String,
}

/// One IRC session of a bot.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IrcSessionTruth {
    /// Index in this list.
    pub id: u32,
    /// Bot address.
    pub bot: Ipv4Addr,
    /// C&C server IP.
    pub server: Ipv4Addr,
    /// C&C server port.
    pub port: u16,
    /// FQDN the bot resolved.
    pub fqdn: String,
    /// Nick.
    pub nick: String,
    /// Channel.
    pub channel: String,
    /// Channel key.
    pub key: Option<String>,
    /// TCP connect time.
    pub connect: Ts,
    /// JOIN time.
    pub join: Ts,
    /// Connection close time.
    pub end: Ts,
    /// Connection 5-tuple.
    pub flow: FlowKey,
    /// PRIVMSG lines in the session (both directions).
    pub privmsg_lines: u32,
    /// Whether the server prefixes its lines with IRCv3 message tags
    /// (`@time=…;msgid=… :server 001 …`; issue 15, class 7).
    #[serde(default)]
    pub tags: bool,
}

/// A person's IRC session (`pcap/chat.pcap`): the negative of the C&C
/// attribution — not in Table 9, Fig. 3 or the diurnal table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChatSessionTruth {
    /// The person's host.
    pub client: Ipv4Addr,
    /// IRC server.
    pub server: Ipv4Addr,
    /// Server port.
    pub port: u16,
    /// Nick.
    pub nick: String,
    /// Channel joined (no key).
    pub channel: String,
    /// TCP connect time.
    pub connect: Ts,
    /// JOIN time.
    pub join: Ts,
    /// QUIT time.
    pub end: Ts,
    /// Plain chat lines the person sent.
    pub chat_lines: u32,
    /// Connection 5-tuple.
    pub flow: FlowKey,
    /// Capture file.
    pub file: String,
}

/// The herder's IRC session captured at the herder's client
/// (`vantage/herder.pcap`; issue 15, class 5): orders sent, replies
/// relayed by the server with the bot's prefix.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HerderSessionTruth {
    /// Capture file.
    pub file: String,
    /// The herder's host.
    pub client: Ipv4Addr,
    /// C&C server (the field's).
    pub server: Ipv4Addr,
    /// Server port.
    pub port: u16,
    /// The herder's nick.
    pub nick: String,
    /// The C&C channel.
    pub channel: String,
    /// The bot ordered (the field's bot).
    pub bot: Ipv4Addr,
    /// Its nick.
    pub bot_nick: String,
    /// Its prefix on relayed lines (`nick!user@address`).
    pub bot_prefix: String,
    /// TCP connect time.
    pub connect: Ts,
    /// Close time.
    pub end: Ts,
    /// Connection 5-tuple.
    pub flow: FlowKey,
    /// Orders sent, in time order.
    pub orders: Vec<HerderOrderTruth>,
}

/// One order the herder sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HerderOrderTruth {
    /// Time of the PRIVMSG.
    pub ts: Ts,
    /// PRIVMSG target: the bot's nick or the channel.
    pub target: String,
    /// The bot's nick when sent to it (none for the channel).
    pub bot_nick: Option<String>,
    /// The bot's address when sent to its nick (from its replies' prefix).
    pub bot: Option<Ipv4Addr>,
    /// Raw order text.
    pub raw: String,
    /// Command word without the leading dot.
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// The bot's replies, relayed, in order.
    pub replies: Vec<String>,
}

/// A capture of the field as taken on a host whose network card computes
/// TX checksums (issue 15, class 4).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OffloadTruth {
    /// Capture file.
    pub file: String,
    /// The capture whose packets it holds, byte for byte but checksums.
    pub copy_of: String,
    /// Packets.
    pub packets: u64,
    /// TCP/UDP packets the honeypots sent, carrying a partial
    /// (pseudo-header) checksum: a checksum-validating reader drops them.
    pub bad_checksums: u64,
    /// IPv4 packets at the file's start a `checksums auto` reader samples.
    pub sample: u64,
    /// Bad checksums among them.
    pub bad_in_sample: u64,
}

/// One order a herder gave.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrderTruth {
    /// Index in this list.
    pub id: u32,
    /// IRC session it arrived in.
    pub session: u32,
    /// Bot.
    pub bot: Ipv4Addr,
    /// Time the order line was sent.
    pub ts: Ts,
    /// `topic` (332 on join) or `privmsg`.
    pub via: String,
    /// Raw order text.
    pub raw: String,
    /// Command word without the leading dot (`advscan`, `ddos.synflood`).
    pub command: String,
    /// Arguments.
    pub args: Vec<String>,
    /// The bot's reply line, if any.
    pub reply: Option<String>,
}

/// One flood.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FloodTruth {
    /// Order that started it.
    pub order: u32,
    /// Flood type (Table 10 command name: `ddos.synflood`, …).
    pub kind: String,
    /// Bot.
    pub source: Ipv4Addr,
    /// Target.
    pub target: Ipv4Addr,
    /// Target port of the packets (0 for ICMP).
    pub port: u16,
    /// Port as the order states it (`None` for `phaticmp` and `targa3`,
    /// whose Phatbot layouts have no port; 80 for `httpflood`'s URL).
    #[serde(default)]
    pub order_port: Option<u16>,
    /// Duration the order states, seconds.
    #[serde(default)]
    pub duration_s: u32,
    /// Delay between packets the order states, ms (`None` for `targa3` and
    /// `httpflood`, whose layouts have none).
    #[serde(default)]
    pub delay_ms: Option<u32>,
    /// First packet.
    pub start: Ts,
    /// Last packet.
    pub end: Ts,
    /// Packets sent.
    pub packets: u64,
    /// Whether the bot forged the IP sources (Phatbot's SYN variants):
    /// every packet from a fresh random address, the bot's own Ethernet
    /// address on every frame.
    #[serde(default)]
    pub spoofed: bool,
    /// Distinct IP sources the packets carried (1 when not spoofed).
    #[serde(default)]
    pub sources: u64,
    /// Ethernet source address of the frames (`02:00:…`, the bot's).
    #[serde(default)]
    pub sender_mac: Option<String>,
}

/// Spam relayed through a bot by one spammer source.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpamRelayTruth {
    /// Order that opened the port.
    pub order: u32,
    /// Bot.
    pub bot: Ipv4Addr,
    /// Port opened on the bot.
    pub port: u16,
    /// `socks4`, `socks5`, `http_connect` or `redirect`.
    pub protocol: String,
    /// Spammer source address.
    pub spammer: Ipv4Addr,
    /// Mail server relayed to.
    pub mail_server: Ipv4Addr,
    /// Relay requests (one SMTP message each).
    pub count: u32,
    /// First request.
    pub first: Ts,
    /// Last request.
    pub last: Ts,
}

/// One binary update (`.update` / `.download`, or right after joining).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UpdateTruth {
    /// Order that asked for it.
    pub order: u32,
    /// Bot.
    pub bot: Ipv4Addr,
    /// URL.
    pub url: String,
    /// `update` or `download`.
    pub kind: String,
    /// Start of the HTTP connection.
    pub ts: Ts,
    /// Whether the download succeeded (200 and full body).
    pub success: bool,
    /// SHA-256 of the body on success.
    pub sha256: Option<String>,
}

/// One scan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScanTruth {
    /// Order that started it (`None` for the scan right after infection).
    pub order: Option<u32>,
    /// Scanning host.
    pub source: Ipv4Addr,
    /// Range as `a.b.c.0/24` or `a.b.0.0/16`.
    pub range: String,
    /// Destination port.
    pub port: u16,
    /// First probe.
    pub start: Ts,
    /// Last probe.
    pub end: Ts,
    /// Probes sent.
    pub count: u32,
}

/// One DNS lookup of a C&C name in the captures.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DnsLookupTruth {
    /// Bot.
    pub client: Ipv4Addr,
    /// Resolver.
    pub resolver: Ipv4Addr,
    /// Name.
    pub qname: String,
    /// Answers.
    pub answers: Vec<Ipv4Addr>,
    /// Query time.
    pub ts: Ts,
}

/// An infected honeypot followed through Fig. 3.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BotTruth {
    /// Its address.
    pub ip: Ipv4Addr,
    /// Specimen it runs.
    pub specimen: u32,
    /// The Fig. 3 stages with their first time.
    pub sequence: Vec<(String, Ts)>,
}

/// One specimen written to `specimens/`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SpecimenTruth {
    /// Index.
    pub id: u32,
    /// Relative path.
    pub path: String,
    /// SHA-256 hex.
    pub sha256: String,
    /// Size.
    pub size: u64,
    /// Family.
    pub family: u32,
    /// Variant.
    pub variant: u32,
    /// Config encoding.
    pub encoding: ConfigEncoding,
    /// Packer.
    pub packer: Packer,
    /// Embedded configuration.
    pub config: BotConfig,
    /// Whether an always-updated AV signature set "knows" it (Table 2).
    pub known: bool,
    /// Whether the builder of the specimen helper made it (false: the
    /// stand-in writer of this crate).
    pub built_by_specimen_builder: bool,
}

/// A generated file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileTruth {
    /// Relative path.
    pub path: String,
    /// What it is.
    pub kind: String,
    /// Packets (captures) or 0.
    pub packets: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// A count with its share of the total.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Share {
    /// Count.
    pub count: u64,
    /// Percent of the table's total.
    pub percent: f64,
}

/// Expected values of the study's tables and figures.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Tables {
    /// Table 1: background traffic per address.
    pub table1: Table1,
    /// Table 2: detections and kinds, known/unknown.
    pub table2: Table2,
    /// Table 4: bots with more than one server.
    pub table4: Table4,
    /// Table 7: exploit attempts per vector.
    pub table7: BTreeMap<String, Share>,
    /// Table 8: copies per method (all attempts).
    pub table8: BTreeMap<String, Share>,
    /// Table 8 successful copies per method.
    pub table8_success: BTreeMap<String, u64>,
    /// Table 9: IRC sessions per server port.
    pub table9: BTreeMap<u16, Share>,
    /// Table 10: DDoS orders per command.
    pub table10: BTreeMap<String, u64>,
    /// Table 11: spam relay requests per redirect port.
    pub table11: BTreeMap<u16, Share>,
    /// Fig. 3: each bot's stage sequence (stage names in time order).
    pub fig3: BTreeMap<String, Vec<String>>,
    /// Fig. 5: spam requests per source, histogram.
    pub fig5: Fig5,
    /// IRC joins per local hour (0–23) in the scenario time zone.
    pub joins_per_local_hour: Vec<u64>,
    /// Updates per bot per day.
    pub updates_per_bot_per_day: f64,
    /// Failed updates.
    pub updates_failed: u64,
    /// Deemed infection rate of the resolver logs, if they were written.
    pub deemed_infection_rate: Option<f64>,
    /// Inputs of the study's equations 2–4 (issue 20).
    #[serde(default)]
    pub models: ModelTruth,
    /// Infected hosts whose only C&C is peer-to-peer (every P2P botnet's
    /// `p2p_only_hosts`, ascending): what DNS-based counting misses.
    #[serde(default)]
    pub p2p_only_hosts: Vec<Ipv4Addr>,
}

/// Table 1.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Table1 {
    /// Sensor addresses.
    pub addresses: u32,
    /// Capture window, seconds.
    pub window_s: u64,
    /// IP bytes (inner IP total length) arriving at sensor addresses.
    pub ip_bytes: u64,
    /// Average kbps per address over the window.
    pub avg_kbps_per_address: f64,
    /// Peak over 60 s bins, kbps per address.
    pub peak_kbps_per_address: f64,
    /// Bin used for the peak, seconds.
    pub peak_bin_s: u32,
    /// Addresses extrapolated to (Japan, the study's 30 M).
    pub extrapolation_addresses: u64,
    /// Extrapolated average, Gbps.
    pub extrapolated_avg_gbps: f64,
    /// Extrapolated peak, Gbps.
    pub extrapolated_peak_gbps: f64,
}

/// Table 2.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Table2 {
    /// Days.
    pub days: u32,
    /// Successful copies (detections).
    pub detections: u64,
    /// Distinct hashes.
    pub kinds: u64,
    /// Detections of known specimens.
    pub known_detections: u64,
    /// Distinct known hashes.
    pub known_kinds: u64,
    /// Detections of unknown specimens.
    pub unknown_detections: u64,
    /// Distinct unknown hashes.
    pub unknown_kinds: u64,
}

/// Table 4.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Table4 {
    /// Specimens.
    pub bots: u64,
    /// With more than one server.
    pub multi_server: u64,
    /// Percent.
    pub percent: f64,
}

/// Fig. 5.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Fig5 {
    /// Upper bounds (inclusive) of the bins; the last bin is open.
    pub bin_upper: Vec<u32>,
    /// Sources per bin.
    pub sources: Vec<u64>,
    /// Share of sources with ≤ 100 requests, percent.
    pub percent_le_100: f64,
}

/// The whole truth file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Truth {
    /// Schema version.
    pub version: u32,
    /// Seed.
    pub seed: u64,
    /// Scenario knobs.
    pub scenario: serde_json::Value,
    /// Start of the scenario.
    pub start: Ts,
    /// End of the scenario.
    pub end: Ts,
    /// Offset of the scenario's zone at its start, seconds east of UTC (the
    /// diurnal joins use the offset in force at each join).
    pub tz_offset_s: i32,
    /// Files written.
    pub files: Vec<FileTruth>,
    /// Sensor (honeypot-net) addresses.
    pub sensors: Vec<Ipv4Addr>,
    /// Exploits.
    pub exploits: Vec<ExploitTruth>,
    /// Copies.
    pub copies: Vec<CopyTruth>,
    /// Infected honeypots.
    pub bots: Vec<BotTruth>,
    /// DNS lookups of C&C names in the captures.
    pub dns_lookups: Vec<DnsLookupTruth>,
    /// IRC C&C sessions.
    pub irc_sessions: Vec<IrcSessionTruth>,
    /// IRC sessions of people (not C&C), in their own capture.
    #[serde(default)]
    pub chat_sessions: Vec<ChatSessionTruth>,
    /// The herder's sessions seen from the herder's client (other
    /// vantage point: `vantage/`, not part of the honeypot captures).
    #[serde(default)]
    pub herder_sessions: Vec<HerderSessionTruth>,
    /// The infected honeypots' capture as taken with checksum offload
    /// (other vantage point: `vantage/`).
    #[serde(default)]
    pub offload: Option<OffloadTruth>,
    /// Orders.
    pub orders: Vec<OrderTruth>,
    /// Floods.
    pub floods: Vec<FloodTruth>,
    /// Spam relays.
    pub spam_relays: Vec<SpamRelayTruth>,
    /// Updates and downloads.
    pub updates: Vec<UpdateTruth>,
    /// Scans.
    pub scans: Vec<ScanTruth>,
    /// Specimens.
    pub specimens: Vec<SpecimenTruth>,
    /// HTTP polling C&C servers with their bots and orders (issue 20).
    #[serde(default)]
    pub http_cc: Vec<HttpCcTruth>,
    /// Benign periodic HTTP clients (negatives of HTTP C&C detection).
    #[serde(default)]
    pub http_benign: Vec<HttpBenignTruth>,
    /// Peer-to-peer botnets (issue 20).
    #[serde(default)]
    pub p2p: Vec<P2pTruth>,
    /// Resolver-log ground truth from the resolver module, when written.
    pub resolver: Option<serde_json::Value>,
    /// Note on parts not produced.
    pub notes: Vec<String>,
    /// Expected tables and figures.
    pub tables: Tables,
}

/// A count table with percentages (two decimals) from counts.
pub fn shares<K: Ord + Clone>(counts: &BTreeMap<K, u64>) -> BTreeMap<K, Share> {
    let total: u64 = counts.values().sum();
    counts
        .iter()
        .map(|(k, c)| {
            let percent = if total == 0 {
                0.0
            } else {
                round2(*c as f64 * 100.0 / total as f64)
            };
            (k.clone(), Share { count: *c, percent })
        })
        .collect()
}

/// Rounds to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
