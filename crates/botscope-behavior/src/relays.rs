//! Table 11 (relay requests per port on the bot) and Fig. 5 (requests
//! per spammer through one bot port, binned at 100, 200, ... 1000 and
//! above). Requests naming a port other than 25 are not spam.

use crate::analysis::{bump, round2, table, Report};
use crate::inputs::Inputs;
use botscope_core::Ts;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Relay requests from one spammer through one bot port (Table 11, Fig. 5).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RelaySourceRow {
    /// Bot.
    pub bot: IpAddr,
    /// Port on the bot.
    pub port: u16,
    /// Protocol.
    pub protocol: String,
    /// Spammer.
    pub spammer: IpAddr,
    /// Requests.
    pub count: u64,
    /// First.
    pub first: Ts,
    /// Last.
    pub last: Ts,
    /// Evidence: first few uids.
    pub evidence: Vec<String>,
}

/// Fig. 5 histogram.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Fig5 {
    /// Upper bounds (inclusive); the last bin is open (`u32::MAX`).
    pub bin_upper: Vec<u32>,
    /// Sources per bin.
    pub sources: Vec<u64>,
    /// Percent of sources with ≤ 100 requests.
    pub percent_le_100: f64,
}

/// Table 11, the per-spammer rows and Fig. 5.
pub(crate) fn table11(inp: &Inputs, r: &mut Report) {
    let mut per_src: BTreeMap<(IpAddr, u16, IpAddr), RelaySourceRow> = BTreeMap::new();
    let mut t11 = BTreeMap::new();
    for x in inp
        .relays
        .iter()
        .filter(|x| x.target_port.is_none_or(|p| p == 25))
    {
        bump(&mut t11, x.port.to_string(), &x.uid, 1);
        let row = per_src
            .entry((x.bot, x.port, x.spammer))
            .or_insert_with(|| RelaySourceRow {
                bot: x.bot,
                port: x.port,
                protocol: x.protocol.clone(),
                spammer: x.spammer,
                count: 0,
                first: x.ts,
                last: x.ts,
                evidence: vec![],
            });
        row.count += 1;
        row.first = row.first.min(x.ts);
        row.last = row.last.max(x.ts);
        if row.evidence.len() < 5 {
            row.evidence.push(x.uid.clone());
        }
    }
    r.table11 = table(&t11);
    r.relays = per_src.into_values().collect();
    let bins: Vec<u32> = (1..=10).map(|k| k * 100).chain([u32::MAX]).collect();
    let mut counts = vec![0u64; bins.len()];
    for s in &r.relays {
        let i = bins
            .iter()
            .position(|b| s.count <= u64::from(*b))
            .unwrap_or(bins.len() - 1);
        counts[i] += 1;
    }
    let total: u64 = counts.iter().sum();
    r.fig5 = Fig5 {
        percent_le_100: round2(counts[0] as f64 * 100.0 / total.max(1) as f64),
        bin_upper: bins,
        sources: counts,
    };
}
