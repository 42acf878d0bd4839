//! The study's behaviour tables from events: [`analyze`] runs one module
//! per table or figure, in the order their joins need —
//! [`crate::exploits`] (Table 7), [`crate::copy`] (Table 8),
//! [`crate::sessions`] (Table 9, diurnal; with orders and replies from
//! [`crate::herd`]), [`crate::orders`] (Table 10), [`crate::floods`]
//! (§5.3), [`crate::relays`] (Table 11, Fig. 5), [`crate::updates`]
//! (§5.5), [`crate::scans`], [`crate::sequence`] (Fig. 3). Every row
//! carries its evidence (flow uid, packet numbers). This module holds
//! what they share: options, the report, count tables.

pub use crate::copy::{ftp_transfer_complete, CopyRow};
pub use crate::exploits::vector_counts;
pub use crate::floods::FloodRow;
pub use crate::inputs::Inputs;
pub use crate::orders::{OrderRow, ReplyRow};
pub use crate::relays::{Fig5, RelaySourceRow};
pub use crate::scans::{scan_fits, ScanRow};
pub use crate::sequence::{Sequence, Stage};
pub use crate::sessions::{nick_pattern, SessionRow};
pub use crate::updates::UpdateRow;
use botscope_core::cidr::Cidr;
use botscope_core::exploit::ExploitEvent;
use botscope_core::tz::Zone;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Analysis options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Honeypot networks: Table 7/8 count only attempts on these. Empty:
    /// every address.
    pub honeypot_nets: Vec<Cidr>,
    /// Zone of the diurnal table: each join counts in the local hour of the
    /// offset in force at that instant (daylight saving included).
    pub zone: Zone,
    /// Days the capture covers (default: its span rounded).
    pub days: Option<f64>,
    /// Watch-listed C&C names (lower case): a host that looked one up is
    /// not P2P-only ([`crate::p2p`]). Empty: the C&C names the run finds.
    pub watch: Vec<String>,
}

/// One row of a count table.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    /// What is counted (vector, method, port...).
    pub key: String,
    /// Count.
    pub count: u64,
    /// Percent of the table total, two decimals.
    pub percent: f64,
    /// Evidence: the first few flow uids.
    pub evidence: Vec<String>,
}

/// Rounds to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A count table from per-key counts and evidence: rows by count, then key.
pub(crate) fn table(counts: &BTreeMap<String, (u64, Vec<String>)>) -> Vec<Row> {
    let total: u64 = counts.values().map(|v| v.0).sum();
    let mut rows: Vec<Row> = counts
        .iter()
        .map(|(k, (c, ev))| Row {
            key: k.clone(),
            count: *c,
            percent: if total == 0 {
                0.0
            } else {
                round2(*c as f64 * 100.0 / total as f64)
            },
            evidence: ev.clone(),
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    rows
}

/// Counts `n` more under `k`, keeping the first five evidence uids.
pub(crate) fn bump(
    m: &mut BTreeMap<String, (u64, Vec<String>)>,
    k: impl Into<String>,
    uid: &str,
    n: u64,
) {
    let e = m.entry(k.into()).or_default();
    e.0 += n;
    if e.1.len() < 5 && !uid.is_empty() {
        e.1.push(uid.to_string());
    }
}

/// Everything `botscope analyze` reports.
#[derive(Clone, Debug, Serialize, Default)]
pub struct Report {
    /// Table 1: background traffic per honeypot address, when captures of
    /// the sensor interface were given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table1: Option<botscope_capture::accounting::Table1>,
    /// Table 7.
    pub table7: Vec<Row>,
    /// Exploit attempts counted in Table 7.
    pub exploits: Vec<ExploitEvent>,
    /// Table 8 (all copies).
    pub table8: Vec<Row>,
    /// Table 8 successful copies per method.
    pub table8_success: BTreeMap<String, u64>,
    /// Copies.
    pub copies: Vec<CopyRow>,
    /// Fig. 3.
    pub sequences: Vec<Sequence>,
    /// Table 9: C&C sessions per server port (bot side only).
    pub table9: Vec<Row>,
    /// Table 9's HTTP rows: one per HTTP C&C server, port and URI shape
    /// ([`crate::http_cc`]).
    pub table9_http: Vec<crate::http_cc::HttpCcRow>,
    /// Periodic HTTP pollers not attributed to C&C, with their evidence.
    pub http_pollers: Vec<crate::http_cc::HttpCcRow>,
    /// Orders read from HTTP C&C responses.
    pub http_orders: Vec<crate::http_cc::HttpOrderRow>,
    /// Hosts with P2P links to at least three peers: peer graph and verdict
    /// ([`crate::p2p`]).
    pub p2p_hosts: Vec<crate::p2p::P2pHostRow>,
    /// P2P C&C hosts with no IRC or HTTP C&C and no lookup of a
    /// watch-listed name: what DNS-based counting (Table 3) misses.
    pub p2p_only_hosts: Vec<IpAddr>,
    /// IRC sessions: C&C ones and unattributed ones (see
    /// `SessionRow::attribution`).
    pub sessions: Vec<SessionRow>,
    /// IRC sessions attributed to C&C (bot or herder side).
    pub irc_sessions_cc: u64,
    /// IRC sessions not attributed to a bot (left out of Table 9, the
    /// diurnal table, Fig. 3 and the per-bot rates).
    pub irc_sessions_unattributed: u64,
    /// Table 10: `ddos.*` orders per command.
    pub table10: Vec<Row>,
    /// Orders per command (all).
    pub order_commands: Vec<Row>,
    /// Orders whose command is not interpreted.
    pub unknown_orders: u64,
    /// Orders.
    pub orders: Vec<OrderRow>,
    /// Replies.
    pub replies: Vec<ReplyRow>,
    /// Floods.
    pub floods: Vec<FloodRow>,
    /// Table 11: relay requests per bot port.
    pub table11: Vec<Row>,
    /// Relay requests per spammer.
    pub relays: Vec<RelaySourceRow>,
    /// Fig. 5.
    pub fig5: Fig5,
    /// Updates and downloads.
    pub updates: Vec<UpdateRow>,
    /// Update orders per bot per day.
    pub updates_per_bot_per_day: f64,
    /// Failed updates.
    pub updates_failed: u64,
    /// Scans.
    pub scans: Vec<ScanRow>,
    /// IRC joins per local hour.
    pub joins_per_local_hour: Vec<u64>,
    /// Offset in force at the start of the run, seconds east of UTC (the
    /// diurnal table uses the offset at each join, which differs across a
    /// daylight-saving change).
    pub tz_offset_s: i32,
    /// Days used for per-day rates.
    pub days: f64,
}

/// The bots of the run: clients of C&C sessions that are not herders'.
fn bots(r: &Report) -> BTreeSet<IpAddr> {
    r.sessions
        .iter()
        .filter(|s| s.role == "bot" && s.attribution.is_cc())
        .map(|s| s.bot)
        .collect()
}

/// Days the run covers: `--days`, else its span rounded (at least 1).
fn days(inp: &Inputs, opt: &Options) -> f64 {
    opt.days.unwrap_or_else(|| {
        inp.span
            .map(|(a, b)| ((b.0 - a.0) as f64 / 86_400e6).round().max(1.0))
            .unwrap_or(1.0)
    })
}

/// Runs every analysis. Later tables join earlier ones: copies follow
/// Table 7's exploits, attribution reads the copies, floods, updates and
/// scans link to the orders, Fig. 3 reads them all.
pub fn analyze(inp: &Inputs, opt: &Options) -> Report {
    let mut r = Report {
        tz_offset_s: opt
            .zone
            .offset_at(inp.span.map_or(0, |(start, _)| start.secs())),
        days: days(inp, opt),
        ..Default::default()
    };
    crate::exploits::table7(inp, opt, &mut r);
    crate::copy::table8(inp, &mut r);
    crate::sessions::table9(inp, opt, &mut r);
    crate::orders::table10(&mut r);
    crate::http_cc::http_cc(inp, &mut r);
    crate::p2p::p2p(inp, &opt.watch, &mut r);
    crate::floods::floods(inp, &mut r);
    crate::relays::table11(inp, &mut r);
    let bots = bots(&r);
    crate::updates::updates(inp, &bots, &mut r);
    crate::scans::scans(inp, &mut r);
    crate::sequence::sequences(inp, &bots, &mut r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_patterns() {
        // `--honeypot-net` is `botscope_core::cidr::Cidr` (tested there).
        let n = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(n.contains("10.1.200.3".parse().unwrap()));
        assert!(!n.contains("10.2.0.1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert_eq!(nick_pattern("damn-0262937047"), "damn-#");
        assert_eq!(nick_pattern("USA|31337|x"), "USA|#|x");
    }
}
