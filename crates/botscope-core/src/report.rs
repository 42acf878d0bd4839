//! The contract between the analyses and the report: one serde struct per
//! table or figure of the study, each carrying [`SCHEMA_VERSION`].
//!
//! A data folder holds one file per section, named after the section's id
//! (`table7.json`, `fig3.json`, ... — see [`SECTIONS`]). The file holds
//! either that section's struct or an [`Unavailable`] saying why the section
//! could not be produced. The report reads exactly these files and
//! deserialises them into these types: it never searches for keys, and
//! nothing else in the folder (ground truth included) is ever read.
//!
//! `botscope report collect` writes these files from the other commands'
//! outputs; anything else that writes the same JSON is an equal producer.
//! Every counted row carries its evidence: the first few event ids, flow
//! uids or names (`evidence`) and how many more the producer saw
//! (`evidence_more`).

use serde::{Deserialize, Serialize};

/// Version of every struct in this module. A reader refuses another one.
pub const SCHEMA_VERSION: u32 = 1;

/// Section ids in reading order; each is also its file name (`<id>.json`).
pub const SECTIONS: [&str; 16] = [
    "table1",
    "table2",
    "table3",
    "table4",
    "table5",
    "table6",
    "table7",
    "table8",
    "table9",
    "table10",
    "table11",
    "fig3",
    "fig5",
    "orders",
    "rate_series",
    "diurnal",
];

/// Most evidence items a producer writes per row (the rest are counted in
/// `evidence_more`).
pub const EVIDENCE_CAP: usize = 20;

/// A section that could not be produced, and why (written in place of the
/// section's struct, e.g. `table6.json` when nothing could be probed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unavailable {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Section id.
    pub section: String,
    /// Why there is no data, in words.
    pub unavailable: String,
    /// The command that would produce it.
    pub command: String,
}

/// Either a section's data or the reason it is missing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SectionFile<T> {
    /// The reason it is missing (tried first: it has a required
    /// `unavailable` field no section struct has).
    Unavailable(Unavailable),
    /// The data.
    Data(T),
}

/// One counted row: what, how many, what share, and the evidence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShareRow {
    /// What is counted: an exploit vector, a copy method, a port...
    pub label: String,
    /// How many.
    pub count: u64,
    /// Percent of the table's total.
    pub percent: f64,
    /// Of those, how many succeeded (Table 8: complete copies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<u64>,
    /// First evidence items (flow uids, event ids, names).
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Evidence items not listed.
    #[serde(default)]
    pub evidence_more: u64,
}

/// A table of counts with shares: Tables 5, 7, 8, 9 (and the rows of 10, 11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareTable {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Sum of the counts.
    pub total: u64,
    /// Rows, largest first.
    pub rows: Vec<ShareRow>,
}

/// One HTTP C&C server of Table 9 (issue 20).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpCcRow {
    /// Host header, else the server address.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// URI shape polled (values masked).
    pub uri_shape: String,
    /// Polling bots.
    pub bots: u64,
    /// Polls.
    pub polls: u64,
    /// Median seconds between polls.
    pub interval_s: Option<f64>,
    /// Orders the responses carried.
    pub orders: u64,
    /// Their commands.
    pub commands: Vec<String>,
}

/// One host with P2P C&C links (issue 20).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct P2pHostRow {
    /// The host.
    pub host: String,
    /// Protocols (`gnutella`, `opaque`).
    pub protocols: Vec<String>,
    /// Its peers.
    pub peers: Vec<String>,
    /// Whether P2P is its only C&C (DNS-based counting misses it).
    pub p2p_only: bool,
    /// What decided.
    pub reason: String,
}

/// Table 9's command channels beyond IRC (file `table9_channels.json`,
/// read with the Table 9 section): HTTP C&C rows and P2P C&C hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandChannels {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// HTTP C&C servers.
    pub http: Vec<HttpCcRow>,
    /// P2P C&C hosts.
    pub p2p: Vec<P2pHostRow>,
}

/// Table 1: background traffic per sensor address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table1 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Sensor addresses.
    pub addresses: u64,
    /// First whole minute counted (RFC 3339).
    pub start: Option<String>,
    /// Observation window, seconds.
    pub window_secs: f64,
    /// IP bytes received in all.
    pub bytes: u64,
    /// Packets received in all.
    pub packets: u64,
    /// Average per address, kbit/s.
    pub avg_kbps_per_address: f64,
    /// Highest one-minute rate per address, kbit/s.
    pub peak_kbps_per_address: f64,
    /// Address count extrapolated to.
    pub extrapolate_to: u64,
    /// Average extrapolated, Gbit/s.
    pub extrapolated_avg_gbps: f64,
    /// Peak extrapolated, Gbit/s.
    pub extrapolated_peak_gbps: f64,
    /// Evidence: the capture files counted, the busiest minute.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// Detections and kinds (distinct specimens) of one class in Table 2.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Detections (sightings).
    pub detections: u64,
    /// Kinds (distinct SHA-256).
    pub kinds: u64,
    /// Detections per day.
    pub detections_per_day: f64,
    /// Kinds per day.
    pub kinds_per_day: f64,
}

/// Table 2: specimens caught, known and unknown to antivirus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table2 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// First day (YYYY-MM-DD).
    pub from: String,
    /// Last day (YYYY-MM-DD).
    pub to: String,
    /// Days.
    pub days: u64,
    /// Signatures counted up to this time (RFC 3339).
    pub as_of: String,
    /// All specimens.
    pub total: Counts,
    /// Known to antivirus.
    pub known: Counts,
    /// Unknown to antivirus.
    pub unknown: Counts,
    /// Evidence: where the counts come from.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// One row of Table 3 (one resolver-client group over one period).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RateRow {
    /// Group (ISP) name.
    pub group: String,
    /// Period start (RFC 3339); `None` for the whole run.
    pub start: Option<String>,
    /// Period end, exclusive.
    pub end: Option<String>,
    /// Distinct clients that queried the resolver.
    pub clients: u64,
    /// Distinct clients that resolved a bot FQDN.
    pub infected: u64,
    /// `infected / clients` (a fraction, not a percent).
    pub rate: f64,
    /// Queries seen.
    pub queries: u64,
    /// Queries for a bot FQDN.
    pub matched_queries: u64,
    /// Distinct clients of the suspected tier (generated names, not
    /// confirmed by the watch list; disjoint from `infected`). 0 in inputs
    /// written before issue 20.
    #[serde(default)]
    pub suspected: u64,
    /// Evidence: infected clients and the names they resolved.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Infected clients not listed.
    #[serde(default)]
    pub evidence_more: u64,
}

/// Table 3: the deemed infection rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table3 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `exact` or `approximate`.
    pub counting: String,
    /// Relative standard error of each count (approximate counting only).
    pub relative_error: Option<f64>,
    /// Rows.
    pub rows: Vec<RateRow>,
}

/// A bot of Table 4 with its server names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Table4Bot {
    /// Specimen SHA-256.
    pub sha256: String,
    /// Times it was seen.
    pub sightings: u64,
    /// IRC server FQDNs in its configuration.
    pub fqdns: Vec<String>,
}

/// How many bots carry a given number of server FQDNs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FqdnCount {
    /// FQDNs per bot.
    pub fqdns: u64,
    /// Bots with that many.
    pub bots: u64,
}

/// Table 4: bots carrying more than one IRC server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table4 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Specimens examined (the most-seen ones).
    pub examined: u64,
    /// Of those, bots with a readable configuration.
    pub bots: u64,
    /// Bots with one server FQDN.
    pub one_fqdn: u64,
    /// Bots with more than one.
    pub several_fqdns: u64,
    /// Bots naming their servers by address only.
    pub ip_only: u64,
    /// Bots per FQDN count.
    pub by_fqdn_count: Vec<FqdnCount>,
    /// Evidence: the bots with more than one FQDN.
    #[serde(default)]
    pub several: Vec<Table4Bot>,
    /// Such bots not listed.
    #[serde(default)]
    pub several_more: u64,
    /// What the de-obfuscation stage found in the same specimens (empty
    /// in files written before it was collected).
    #[serde(default)]
    pub deobfuscation: Deobfuscation,
}

/// The de-obfuscation stage over Table 4's specimens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Deobfuscation {
    /// Specimens with a de-obfuscation record.
    pub specimens: u64,
    /// Of those, specimens where any decoder matched.
    pub matched: u64,
    /// Indicators revealed only by decoding, summed over specimens.
    pub revealed_iocs: u64,
    /// Per decoder that matched.
    pub decoders: Vec<DecoderMatches>,
}

/// One decoder's row of [`Deobfuscation`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecoderMatches {
    /// Registry name (`xor_strings`, `upx` …).
    pub decoder: String,
    /// Specimens in which it matched.
    pub specimens: u64,
    /// Indicators its findings revealed that no plain string holds.
    pub revealed_iocs: u64,
}

/// Table 6: what the C&C names look like in DNS. Rows are keyed
/// `several_bots`, `several_addrs`, `not_resolvable`, `unreachable`,
/// `fwd_rev_disagree`; the evidence is the names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table6 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Latest probe time (RFC 3339).
    pub probed_at: Option<String>,
    /// Names probed.
    pub total: u64,
    /// Most addresses one name resolved to.
    pub max_addrs: u64,
    /// Whether reachability was tested (`intel probe --active`).
    pub active: bool,
    /// Rows.
    pub rows: Vec<ShareRow>,
}

/// A flood seen leaving a bot (Table 10; P of equation 3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flood {
    /// Bot.
    pub source: String,
    /// Target.
    pub target: String,
    /// The `ddos.*` command of that flood type.
    pub command: String,
    /// Target port.
    pub port: u16,
    /// First packet (RFC 3339).
    pub start: String,
    /// Last packet (RFC 3339).
    pub end: String,
    /// Packets.
    pub packets: u64,
    /// Evidence.
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// Table 10: DDoS orders per command, and the floods seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table10 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Orders counted.
    pub total: u64,
    /// Orders per `ddos.*` command.
    pub rows: Vec<ShareRow>,
    /// Floods observed.
    #[serde(default)]
    pub floods: Vec<Flood>,
}

/// Relay requests of one spammer through one bot (F of equation 4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RelayWindow {
    /// Bot.
    pub bot: String,
    /// Spammer.
    pub spammer: String,
    /// Seconds from first to last request.
    pub duration_s: f64,
    /// Requests (mails).
    pub mails: u64,
}

/// Table 11: spam relay requests per redirect port on the bots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table11 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Requests counted.
    pub total: u64,
    /// Requests per port.
    pub rows: Vec<ShareRow>,
    /// Per bot and spammer.
    #[serde(default)]
    pub relays: Vec<RelayWindow>,
}

/// One stage of the infection sequence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// `exploit`, `copy`, `scan`, `dns`, `irc_join`, `update`.
    pub stage: String,
    /// When (RFC 3339).
    pub ts: String,
    /// Seconds after the bot's first stage.
    pub delta_s: f64,
    /// Evidence (flow uid).
    pub evidence: String,
}

/// One infected host's sequence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// The infected host.
    pub bot: String,
    /// Stages in time order.
    pub stages: Vec<Stage>,
}

/// Fig. 3: the sequence after infection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig3 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// One per infected host.
    pub sequences: Vec<Sequence>,
}

/// One bin of Fig. 5.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fig5Bin {
    /// Lowest request count in the bin.
    pub lower: u64,
    /// Highest, inclusive; `None` for the open last bin.
    pub upper: Option<u64>,
    /// Spam sources in the bin.
    pub sources: u64,
    /// Evidence: the sources and their request counts.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Sources not listed.
    #[serde(default)]
    pub evidence_more: u64,
}

/// Fig. 5: spam requests per source address.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fig5 {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Days observed.
    pub days: Option<f64>,
    /// Bins in order.
    pub bins: Vec<Fig5Bin>,
    /// Percent of sources with at most 100 requests.
    pub percent_le_100: f64,
}

/// One herder order (Fig. 6).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderRow {
    /// When (RFC 3339).
    pub ts: String,
    /// The bot that received it.
    pub bot: String,
    /// `topic`, `privmsg` or `notice`.
    pub via: String,
    /// Command word.
    pub command: String,
    /// The order as sent.
    pub raw: String,
    /// Evidence (session uid).
    #[serde(default)]
    pub evidence: Vec<String>,
}

/// Fig. 6–7: the orders seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Orders {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Orders per command.
    pub commands: Vec<ShareRow>,
    /// The orders (first ones).
    pub rows: Vec<OrderRow>,
    /// Orders not listed.
    #[serde(default)]
    pub rows_more: u64,
}

/// One period of the infection-rate series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RatePoint {
    /// Period start (RFC 3339).
    pub start: String,
    /// Distinct clients.
    pub clients: u64,
    /// Infected clients.
    pub infected: u64,
    /// `infected / clients`.
    pub rate: f64,
}

/// The deemed infection rate over time (equation 1 is fitted to it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateSeries {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Period length, seconds.
    pub window_secs: u64,
    /// Group (ISP) name.
    pub group: String,
    /// Periods in time order.
    pub points: Vec<RatePoint>,
}

/// IRC joins in one local hour.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HourJoins {
    /// Local hour, 0–23.
    pub hour: u8,
    /// Joins.
    pub joins: u64,
    /// Evidence: session uids.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Sessions not listed.
    #[serde(default)]
    pub evidence_more: u64,
}

/// Bots joining their channel by local hour of day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diurnal {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Seconds east of UTC of the local time used.
    pub tz_offset_s: i32,
    /// 24 hours, 0 first.
    pub hours: Vec<HourJoins>,
}

/// Evidence list capped at [`EVIDENCE_CAP`]: (shown, more).
pub fn cap_evidence<I: IntoIterator<Item = String>>(items: I) -> (Vec<String>, u64) {
    let mut shown = Vec::new();
    let mut more = 0;
    for it in items {
        if shown.len() < EVIDENCE_CAP {
            shown.push(it);
        } else {
            more += 1;
        }
    }
    (shown, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_is_told_apart_from_data() {
        let u: SectionFile<ShareTable> = serde_json::from_str(
            r#"{"schema_version":1,"section":"table7","unavailable":"no captures","command":"botscope analyze"}"#,
        )
        .unwrap();
        assert!(matches!(u, SectionFile::Unavailable(ref x) if x.unavailable == "no captures"));
        let d: SectionFile<ShareTable> = serde_json::from_str(
            r#"{"schema_version":1,"total":3,"rows":[{"label":"a","count":3,"percent":100.0}]}"#,
        )
        .unwrap();
        match d {
            SectionFile::Data(t) => assert_eq!((t.total, t.rows[0].count), (3, 3)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn evidence_is_capped_and_counted() {
        let (shown, more) = cap_evidence((0..25).map(|i| i.to_string()));
        assert_eq!((shown.len(), more, shown[19].as_str()), (20, 5, "19"));
    }
}
