//! The expected tables and figures, counted from the planned events.

use super::*;
use crate::truth::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

impl Gen {
    pub(super) fn tables(&mut self) {
        let zone = &self.cfg.zone;
        let t = &mut self.t;
        // Tables 7, 8 and 2 count every attempt on a sensor address, in
        // whichever capture it lies: the exploits that infected the
        // high-interaction honeypots (infected.pcap) are attempts on the
        // honeypot net too.
        let mut t7: BTreeMap<String, u64> = BTreeMap::new();
        for e in &t.exploits {
            *t7.entry(e.vector.name().into()).or_default() += 1;
        }
        t.tables.table7 = shares(&t7);
        let mut t8: BTreeMap<String, u64> = BTreeMap::new();
        let mut t8s: BTreeMap<String, u64> = BTreeMap::new();
        let mut kinds = BTreeSet::new();
        let mut kinds_known = BTreeSet::new();
        let mut t2 = Table2 {
            days: self.cfg.days,
            ..Default::default()
        };
        for c in &t.copies {
            let name = serde_json::to_value(c.method)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            *t8.entry(name.clone()).or_default() += 1;
            if c.success {
                *t8s.entry(name).or_default() += 1;
                t2.detections += 1;
                kinds.insert(c.sha256.clone());
                if self.specs[c.specimen as usize].truth.known {
                    t2.known_detections += 1;
                    kinds_known.insert(c.sha256.clone());
                } else {
                    t2.unknown_detections += 1;
                }
            }
        }
        t2.kinds = kinds.len() as u64;
        t2.known_kinds = kinds_known.len() as u64;
        t2.unknown_kinds = t2.kinds - t2.known_kinds;
        t.tables.table2 = t2;
        t.tables.table8 = shares(&t8);
        t.tables.table8_success = t8s;
        let multi = t
            .specimens
            .iter()
            .filter(|s| s.config.servers.len() > 1)
            .count() as u64;
        let nb = t.specimens.len() as u64;
        t.tables.table4 = Table4 {
            bots: nb,
            multi_server: multi,
            percent: round2(multi as f64 * 100.0 / nb.max(1) as f64),
        };
        let mut t9: BTreeMap<u16, u64> = BTreeMap::new();
        let mut hours = vec![0u64; 24];
        for s in &t.irc_sessions {
            *t9.entry(s.port).or_default() += 1;
            let off = i64::from(zone.offset_at(s.join.secs()));
            let lh = ((s.join.secs() + off).rem_euclid(86_400) / 3600) as usize;
            hours[lh] += 1;
        }
        t.tables.table9 = shares(&t9);
        t.tables.joins_per_local_hour = hours;
        let mut t10: BTreeMap<String, u64> = BTreeMap::new();
        for o in t.orders.iter().filter(|o| o.command.starts_with("ddos.")) {
            *t10.entry(o.command.clone()).or_default() += 1;
        }
        t.tables.table10 = t10;
        let mut t11: BTreeMap<u16, u64> = BTreeMap::new();
        for s in &t.spam_relays {
            *t11.entry(s.port).or_default() += s.count as u64;
        }
        t.tables.table11 = shares(&t11);
        let bins: Vec<u32> = (1..=10).map(|k| k * 100).chain([u32::MAX]).collect();
        let mut counts = vec![0u64; bins.len()];
        for s in &t.spam_relays {
            let i = bins
                .iter()
                .position(|b| s.count <= *b)
                .unwrap_or(bins.len() - 1);
            counts[i] += 1;
        }
        let total: u64 = counts.iter().sum();
        t.tables.fig5 = Fig5 {
            bin_upper: bins,
            sources: counts.clone(),
            percent_le_100: round2(counts[0] as f64 * 100.0 / total.max(1) as f64),
        };
        for b in &t.bots {
            let mut seq = b.sequence.clone();
            seq.sort_by_key(|s| s.1);
            t.tables
                .fig3
                .insert(b.ip.to_string(), seq.into_iter().map(|s| s.0).collect());
        }
        let ups = t.updates.iter().filter(|u| u.kind == "update").count() as f64;
        t.tables.updates_per_bot_per_day =
            round2(ups / (t.bots.len().max(1) as f64 * self.cfg.days.max(1) as f64));
        t.tables.updates_failed = t
            .updates
            .iter()
            .filter(|u| u.kind == "update" && !u.success)
            .count() as u64;
        let _ = self.local_hour(0);
        let t = &mut self.t;
        t.tables.models = crate::truth::model_inputs(t);
        let mut only: Vec<Ipv4Addr> = t
            .p2p
            .iter()
            .flat_map(|n| n.p2p_only_hosts.iter().copied())
            .collect();
        only.sort();
        only.dedup();
        t.tables.p2p_only_hosts = only;
    }
}
