//! Floods (§5.3) with the `ddos.*` order that started each: the same
//! bot, naming the target, at most 2 minutes earlier.

use crate::analysis::{round2, Report};
use crate::inputs::Inputs;
use crate::orders::{url_host, OrderKind};
use botscope_core::events::FloodObs;
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// A flood with the order that started it (§5.3).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FloodRow {
    /// Observation.
    #[serde(flatten)]
    pub flood: FloodObs,
    /// The `ddos.*` command this type corresponds to.
    pub command: String,
    /// Packets per second.
    pub rate_pps: f64,
    /// Index of the order that started it.
    pub order: Option<usize>,
}

/// The `ddos.*` command a flood type corresponds to.
fn flood_command(kind: &str) -> &'static str {
    match kind {
        "syn" => "ddos.synflood",
        "syn+urg" => "ddos.phatsyn",
        "syn+ack" => "ddos.phatwolk",
        "udp" => "ddos.udpflood",
        "icmp" => "ddos.phaticmp",
        "fragments" => "ddos.targa3",
        "http-get" => "ddos.httpflood",
        _ => "ddos.?",
    }
}

/// The flood rows, linked to the orders in `r.orders`.
pub(crate) fn floods(inp: &Inputs, r: &mut Report) {
    let http_pairs: BTreeSet<(IpAddr, IpAddr)> = inp
        .floods
        .iter()
        .filter(|f| f.kind == "http-get")
        .map(|f| (f.source, f.target))
        .collect();
    for f in &inp.floods {
        if f.kind == "syn" && !f.spoofed && http_pairs.contains(&(f.source, f.target)) {
            continue; // the connections of an HTTP GET flood
        }
        let command = flood_command(&f.kind).to_string();
        let mut f = f.clone();
        if f.kind == "http-get" {
            // The flood starts with the first connection's SYN.
            let syn_start = inp
                .floods
                .iter()
                .filter(|g| {
                    g.kind == "syn"
                        && g.source == f.source
                        && g.target == f.target
                        && g.port == f.port
                        && g.start <= f.start
                        && g.end >= f.start
                })
                .map(|g| g.start)
                .min();
            if let Some(s) = syn_start {
                f.start = s;
            }
        }
        let f = &f;
        let order = r
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.bot == f.source && o.ts <= f.start && f.start.0 - o.ts.0 <= 120_000_000
            })
            .filter(|(_, o)| match &o.order.kind {
                OrderKind::Ddos {
                    target: Some(t), ..
                } => {
                    t.parse::<IpAddr>().ok() == Some(f.target)
                        || url_host(t).and_then(|h| h.parse::<IpAddr>().ok()) == Some(f.target)
                }
                _ => false,
            })
            .max_by_key(|(_, o)| o.ts)
            .map(|(i, _)| i);
        let secs = (f.end.0 - f.start.0) as f64 / 1e6;
        let rate_pps = if secs > 0.0 {
            round2(f.packets as f64 / secs)
        } else {
            f.packets as f64
        };
        r.floods.push(FloodRow {
            flood: f.clone(),
            command,
            rate_pps,
            order,
        });
    }
}
