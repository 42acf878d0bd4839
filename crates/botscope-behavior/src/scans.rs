//! Scans with the scan order that started each (the same bot, at most
//! 60 s earlier) and whether range and duration fit that order.

use crate::analysis::{round2, Report};
use crate::inputs::Inputs;
use crate::orders::{Order, OrderKind};
use botscope_core::events::ScanObs;
use serde::Serialize;

/// A scan and whether it fits its order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ScanRow {
    /// Observation.
    #[serde(flatten)]
    pub scan: ScanObs,
    /// Probes per second.
    pub rate_pps: f64,
    /// Index of the scan order that started it.
    pub order: Option<usize>,
    /// Whether range and duration fit that order's parameters.
    pub fits_order: Option<bool>,
}

/// The scan rows, linked to the orders in `r.orders`.
pub(crate) fn scans(inp: &Inputs, r: &mut Report) {
    for s in &inp.scans {
        let order = r
            .orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.bot == s.source && o.ts <= s.start && s.start.0 - o.ts.0 <= 60_000_000
            })
            .filter(|(_, o)| matches!(o.order.kind, OrderKind::Scan { .. }))
            .max_by_key(|(_, o)| o.ts)
            .map(|(i, _)| i);
        let fits_order = order.map(|i| scan_fits(&r.orders[i].order, s));
        let secs = (s.end.0 - s.start.0) as f64 / 1e6;
        let rate_pps = if secs > 0.0 {
            round2(s.probes as f64 / secs)
        } else {
            s.probes as f64
        };
        r.scans.push(ScanRow {
            scan: s.clone(),
            rate_pps,
            order,
            fits_order,
        });
    }
}

/// Whether a scan fits its order: `-a` keeps to the /8, `-b` to the /16,
/// neither to the /24 (`ipscan` to the /16); a scan lasting longer than
/// the ordered minutes (when not 0) does not fit.
pub fn scan_fits(order: &Order, s: &ScanObs) -> bool {
    let OrderKind::Scan { flags, minutes, .. } = &order.kind else {
        return false;
    };
    let bits: u32 = s
        .range
        .rsplit_once('/')
        .and_then(|(_, b)| b.parse().ok())
        .unwrap_or(0);
    let allowed = if flags.a {
        8
    } else if flags.b || order.command == "ipscan" {
        16
    } else {
        24
    };
    let dur_ok = match minutes {
        Some(m) if *m > 0 && order.command != "ipscan" => {
            (s.end.0 - s.start.0) <= i64::from(*m) * 60_000_000
        }
        _ => true,
    };
    bits >= allowed && dur_ok
}
