//! Bounded IPv4/IPv6 fragment reassembly. Overlapping fragments: the bytes
//! that arrived first win and the overlap is reported so it can be counted.

use botscope_core::Ts;
use std::collections::HashMap;
use std::net::IpAddr;

/// Largest reassembled datagram (the IP length field's limit).
const MAX_DATAGRAM: usize = 65_535 + 40;

/// Seconds a partial datagram is kept (as common OS stacks do).
const FRAG_TIMEOUT_US: i64 = 30 * 1_000_000;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

struct Partial {
    /// Reassembled payload bytes (after the IP header).
    data: Vec<u8>,
    /// Covered byte ranges, sorted, non-overlapping.
    have: Vec<(u32, u32)>,
    /// Total payload length once the last fragment was seen.
    total: Option<u32>,
    first_seen: Ts,
}

/// What happened to one fragment.
pub enum FragOutcome {
    /// Stored; the datagram is not complete yet.
    Pending,
    /// The datagram is complete: its transport payload.
    Complete(Vec<u8>),
    /// The fragment was dropped (table full, too large, bad offsets).
    Dropped(&'static str),
}

/// The reassembly table.
pub struct FragTable {
    parts: HashMap<FragKey, Partial>,
    max: usize,
    /// Bytes buffered in partial datagrams (for the engine's memory cap).
    pub bytes: usize,
    /// Overlapping fragments seen (first data kept).
    pub overlaps: u64,
    /// Overlaps whose bytes differed from the first copy.
    pub conflicting_overlaps: u64,
    /// Partial datagrams expired or evicted unfinished.
    pub expired: u64,
    last_expire: Ts,
}

impl FragTable {
    /// A table holding at most `max` datagrams in progress.
    pub fn new(max: usize) -> FragTable {
        FragTable {
            parts: HashMap::new(),
            max: max.max(1),
            bytes: 0,
            overlaps: 0,
            conflicting_overlaps: 0,
            expired: 0,
            last_expire: Ts(i64::MIN / 2),
        }
    }

    /// Adds one fragment: payload bytes at `offset` (bytes) of the
    /// datagram `(src, dst, id, proto)`; `more` is the MF flag.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        now: Ts,
        src: IpAddr,
        dst: IpAddr,
        id: u32,
        proto: u8,
        offset: u32,
        more: bool,
        payload: &[u8],
    ) -> (FragOutcome, bool) {
        let key = FragKey {
            src,
            dst,
            id,
            proto,
        };
        let end = offset as usize + payload.len();
        if end > MAX_DATAGRAM {
            return (FragOutcome::Dropped("ip fragment beyond 64 KiB"), false);
        }
        if !self.parts.contains_key(&key) {
            self.expire(now);
            if self.parts.len() >= self.max {
                // Full: drop the oldest partial datagram to make room.
                if let Some(old) = self
                    .parts
                    .iter()
                    .min_by_key(|(_, p)| p.first_seen)
                    .map(|(k, _)| *k)
                {
                    if let Some(p) = self.parts.remove(&old) {
                        self.bytes -= p.data.capacity();
                        self.expired += 1;
                    }
                }
            }
            self.parts.insert(
                key,
                Partial {
                    data: Vec::new(),
                    have: Vec::new(),
                    total: None,
                    first_seen: now,
                },
            );
        }
        let Some(p) = self.parts.get_mut(&key) else {
            return (FragOutcome::Dropped("ip fragment table full"), false);
        };
        if !more {
            let t = end as u32;
            match p.total {
                Some(old) if old != t => {
                    return (
                        FragOutcome::Dropped("ip fragment inconsistent length"),
                        false,
                    );
                }
                _ => p.total = Some(t),
            }
        }
        if p.data.len() < end {
            let before = p.data.capacity();
            p.data.resize(end, 0);
            self.bytes += p.data.capacity() - before;
        }
        // Copy only the uncovered parts; compare covered parts (first wins).
        let mut overlap = false;
        let mut conflict = false;
        let (s, e) = (offset, end as u32);
        let mut cur = s;
        let mut new_ranges: Vec<(u32, u32)> = Vec::new();
        for &(hs, he) in &p.have {
            if he <= cur || hs >= e {
                continue;
            }
            if hs > cur {
                new_ranges.push((cur, hs));
            }
            let os = hs.max(cur);
            let oe = he.min(e);
            if os < oe {
                overlap = true;
                let old = &p.data[os as usize..oe as usize];
                let new = &payload[(os - s) as usize..(oe - s) as usize];
                if old != new {
                    conflict = true;
                }
            }
            cur = cur.max(he);
        }
        if cur < e {
            new_ranges.push((cur, e));
        }
        for &(a, b) in &new_ranges {
            p.data[a as usize..b as usize]
                .copy_from_slice(&payload[(a - s) as usize..(b - s) as usize]);
            p.have.push((a, b));
        }
        p.have.sort_unstable();
        // Merge adjacent ranges so the list stays short.
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(p.have.len());
        for &(a, b) in &p.have {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        p.have = merged;
        if overlap {
            self.overlaps += 1;
        }
        if conflict {
            self.conflicting_overlaps += 1;
        }
        let complete = matches!(p.total, Some(t) if p.have.len() == 1 && p.have[0] == (0, t));
        if complete {
            let p = self.parts.remove(&key).expect("present");
            self.bytes -= p.data.capacity();
            let mut d = p.data;
            d.truncate(p.total.unwrap_or(0) as usize);
            return (FragOutcome::Complete(d), overlap);
        }
        (FragOutcome::Pending, overlap)
    }

    /// Drops partial datagrams older than the timeout (checked at most
    /// once a second of packet time).
    pub fn expire(&mut self, now: Ts) {
        if self.parts.is_empty() || now.0.saturating_sub(self.last_expire.0) < 1_000_000 {
            return;
        }
        self.last_expire = now;
        let before = self.parts.len();
        let mut freed = 0;
        self.parts.retain(|_, p| {
            let keep = now.0.saturating_sub(p.first_seen.0) <= FRAG_TIMEOUT_US;
            if !keep {
                freed += p.data.capacity();
            }
            keep
        });
        self.bytes -= freed;
        self.expired += (before - self.parts.len()) as u64;
    }

    /// Partial datagrams currently held.
    pub fn pending(&self) -> usize {
        self.parts.len()
    }
}
