//! Scans from packet headers: TCP SYNs from one source to one port with
//! pauses under [`SCAN_GAP_US`], reaching at least [`SCAN_MIN_TARGETS`]
//! addresses. Bounded: at most `max_runs` runs and `max_dsts`
//! destinations per run.

use crate::flood::key::addr_word;
use botscope_capture::PacketInfo;
use botscope_core::events::{Evidence, ScanObs};
use botscope_core::hash::{FastMap, FastSet};
use botscope_core::Ts;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Probes to distinct addresses needed to call a run a scan.
pub const SCAN_MIN_TARGETS: usize = 10;
/// A pause longer than this ends a scan run.
pub const SCAN_GAP_US: i64 = 2_000_000;

/// A run's key: (source, destination port), hashed in one word.
#[derive(Clone, Copy, PartialEq, Eq)]
struct RunKey {
    src: IpAddr,
    port: u16,
}

impl Hash for RunKey {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(addr_word(&self.src) ^ (u64::from(self.port) << 47));
    }
}

/// An address as a set member hashed in one word.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Dst(IpAddr);

impl Hash for Dst {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(addr_word(&self.0));
    }
}

/// Addresses inline before a run needs a set.
const INLINE_DSTS: usize = 4;

/// The distinct destinations of one run: the first [`INLINE_DSTS`] inline
/// (most runs are one stray SYN, and a set per run cost an allocation
/// and a free each), the rest in a set.
struct Dsts {
    inline: [IpAddr; INLINE_DSTS],
    held: u8,
    more: FastSet<Dst>,
}

impl Dsts {
    fn one(ip: IpAddr) -> Self {
        Dsts {
            inline: [ip; INLINE_DSTS],
            held: 1,
            more: FastSet::default(),
        }
    }

    fn len(&self) -> usize {
        usize::from(self.held) + self.more.len()
    }

    fn insert(&mut self, ip: IpAddr) {
        let held = usize::from(self.held);
        if self.inline[..held].contains(&ip) {
            return;
        }
        if held < INLINE_DSTS {
            self.inline[held] = ip;
            self.held += 1;
        } else {
            self.more.insert(Dst(ip));
        }
    }

    fn iter(&self) -> impl Iterator<Item = &IpAddr> {
        self.inline[..usize::from(self.held)]
            .iter()
            .chain(self.more.iter().map(|d| &d.0))
    }
}

struct ScanRun {
    start: Ts,
    end: Ts,
    probes: u64,
    dsts: Dsts,
    file: u32,
    first_pkt: u64,
    last_pkt: u64,
}

impl ScanRun {
    /// A run opened by `pkt`.
    fn first(pkt: &PacketInfo<'_>) -> Self {
        ScanRun {
            start: pkt.ts,
            end: pkt.ts,
            probes: 1,
            dsts: Dsts::one(pkt.dst),
            file: pkt.file,
            first_pkt: pkt.pkt_no,
            last_pkt: pkt.pkt_no,
        }
    }
}

/// The scan runs of one capture run.
pub struct ScanTracker {
    max_runs: usize,
    max_dsts: usize,
    runs: FastMap<RunKey, ScanRun>,
    /// Scans found, in closing order.
    pub scans: Vec<ScanObs>,
    /// Runs not started because the table was full.
    pub evicted: u64,
    now: Ts,
}

impl ScanTracker {
    /// A tracker with at most `max_runs` runs of `max_dsts` destinations.
    pub fn new(max_runs: usize, max_dsts: usize) -> Self {
        ScanTracker {
            max_runs,
            max_dsts,
            runs: FastMap::default(),
            scans: Vec::new(),
            evicted: 0,
            now: Ts(0),
        }
    }

    /// Runs open now.
    pub fn open_runs(&self) -> usize {
        self.runs.len()
    }

    /// Counts a bare TCP SYN (no ACK, no URG).
    pub fn on_syn(&mut self, pkt: &PacketInfo<'_>) {
        self.now = pkt.ts;
        let key = RunKey {
            src: pkt.src,
            port: pkt.dst_port,
        };
        // One probe for a known run or a new one while there is room.
        let full = self.runs.len() >= self.max_runs;
        match self.runs.entry(key) {
            Entry::Occupied(mut o) => {
                let s = o.get_mut();
                if pkt.ts.0 - s.end.0 <= SCAN_GAP_US {
                    s.end = pkt.ts;
                    s.probes += 1;
                    s.last_pkt = pkt.pkt_no;
                    if s.dsts.len() < self.max_dsts {
                        s.dsts.insert(pkt.dst);
                    }
                    return;
                }
                // A new run in the old one's place (the table cannot be
                // full after the old one goes).
                let old = std::mem::replace(s, ScanRun::first(pkt));
                self.close(key, old);
                return;
            }
            Entry::Vacant(v) if !full => {
                v.insert(ScanRun::first(pkt));
                return;
            }
            Entry::Vacant(_) => {}
        }
        if self.runs.len() >= self.max_runs {
            let now = self.now.0;
            let idle: Vec<_> = self
                .runs
                .iter()
                .filter(|(_, s)| now - s.end.0 > SCAN_GAP_US)
                .map(|(k, _)| *k)
                .collect();
            for k in idle {
                if let Some(s) = self.runs.remove(&k) {
                    self.close(k, s);
                }
            }
            if self.runs.len() >= self.max_runs {
                self.evicted += 1;
                return;
            }
        }
        self.runs.insert(key, ScanRun::first(pkt));
    }

    /// Closes every open run (after the last packet), scans sorted by
    /// start, source and port.
    pub fn finish(&mut self) {
        for (k, s) in std::mem::take(&mut self.runs) {
            self.close(k, s);
        }
        self.scans
            .sort_by_key(|a| (a.start, a.source, a.port, a.end, a.probes));
    }

    fn close(&mut self, k: RunKey, s: ScanRun) {
        if s.dsts.len() < SCAN_MIN_TARGETS {
            return;
        }
        self.scans.push(ScanObs {
            source: k.src,
            port: k.port,
            range: covering_range(s.dsts.iter()),
            start: s.start,
            end: s.end,
            probes: s.probes,
            targets: s.dsts.len() as u64,
            evidence: Evidence {
                file: s.file,
                packets: vec![s.first_pkt, s.last_pkt],
            },
        });
    }
}

/// The smallest /24, /16 or /8 (IPv4) holding all addresses.
pub fn covering_range<'a>(addrs: impl Iterator<Item = &'a IpAddr>) -> String {
    let v4: Vec<u32> = addrs
        .filter_map(|a| match a {
            IpAddr::V4(x) => Some(u32::from(*x)),
            IpAddr::V6(_) => None,
        })
        .collect();
    let (Some(&lo), Some(&hi)) = (v4.iter().min(), v4.iter().max()) else {
        return "-".into();
    };
    for bits in [24u32, 16, 8] {
        let mask = u32::MAX << (32 - bits);
        if lo & mask == hi & mask {
            return format!("{}/{bits}", std::net::Ipv4Addr::from(lo & mask));
        }
    }
    "0.0.0.0/0".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_ranges() {
        let a: Vec<IpAddr> = ["10.1.2.3", "10.1.2.200"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(covering_range(a.iter()), "10.1.2.0/24");
        let b: Vec<IpAddr> = ["10.1.2.3", "10.1.9.1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(covering_range(b.iter()), "10.1.0.0/16");
    }
}
