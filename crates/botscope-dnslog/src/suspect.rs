//! The *suspected* tier of the deemed infection rate (issue 20): clients
//! whose queries in one window show a domain generation algorithm at work —
//! many distinct random-looking registrable domains ([`crate::dga`]), or an
//! NXDOMAIN burst over such domains when the log carries response codes.
//!
//! The tier is never mixed with confirmed matches: a client that resolved a
//! watch-listed name anywhere in the run is *infected* (confirmed) and is
//! left out of the suspected counts and list, so the two tiers are
//! disjoint and a rate row gives both side by side.
//!
//! State is kept only for (window, client) pairs that resolved at least one
//! random-looking name, and each holds at most `min_domains` hashes, so a
//! population of ordinary clients costs nothing and a DGA client a few
//! dozen bytes.

use crate::dga::{domain_looks_generated, NgramModel, Thresholds};
use botscope_core::hash::FastMap;
use serde::Serialize;

/// Settings of the suspected tier.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SuspectConfig {
    /// Whether names are scored at all (`--no-suspect` turns it off).
    pub enabled: bool,
    /// Distinct random-looking registrable domains in one window that make
    /// a client suspected.
    pub min_domains: u32,
    /// Distinct random-looking registrable domains answered NXDOMAIN in one
    /// window that make a client suspected (logs with response codes).
    pub min_nxdomain: u32,
    /// Trigram surprise (bits per character) from which a registrable
    /// label is random-looking.
    pub min_bits: f64,
    /// Entropy, as a fraction of the most the label's length allows, from
    /// which a registrable label is random-looking.
    pub min_entropy_ratio: f64,
    /// Registrable labels shorter than this are not judged.
    pub min_len: usize,
}

impl Default for SuspectConfig {
    fn default() -> Self {
        let t = Thresholds::default();
        SuspectConfig {
            enabled: true,
            min_domains: 8,
            min_nxdomain: 4,
            min_bits: t.min_bits,
            min_entropy_ratio: t.min_entropy_ratio,
            min_len: t.min_len,
        }
    }
}

impl SuspectConfig {
    /// The per-name thresholds.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            min_len: self.min_len,
            min_bits: self.min_bits,
            min_entropy_ratio: self.min_entropy_ratio,
        }
    }
}

/// Evidence gathered for one client in one window.
#[derive(Clone, Debug)]
pub(crate) struct Acc {
    /// Hashes of distinct random-looking registrable domains (at most `min_domains`).
    domains: Vec<u32>,
    /// Of those, the ones answered NXDOMAIN (at most `min_nxdomain`).
    nx: Vec<u32>,
    /// Random-looking queries.
    pub(crate) queries: u64,
    /// NXDOMAIN answers among them.
    pub(crate) nxdomain: u64,
    pub(crate) first_us: i64,
    pub(crate) last_us: i64,
    /// The [`KEEP_NAMES`] smallest example names, normalised.
    pub(crate) names: Vec<String>,
    /// Group of the first such query.
    pub(crate) group: u32,
}

/// Example names kept per client and window.
const KEEP_NAMES: usize = 8;

/// Keeps the [`KEEP_NAMES`] smallest distinct names, so the examples do not
/// depend on the order queries (or per-thread engines) arrive in.
fn keep_name(names: &mut Vec<String>, n: &str) {
    if names.iter().any(|x| x == n) {
        return;
    }
    if names.len() < KEEP_NAMES {
        names.push(n.to_string());
    } else if let Some((i, max)) = names.iter().enumerate().max_by(|a, b| a.1.cmp(b.1)) {
        if n < max.as_str() {
            names[i] = n.to_string();
        }
    }
}

impl Acc {
    fn new(group: u32) -> Acc {
        Acc {
            domains: Vec::new(),
            nx: Vec::new(),
            queries: 0,
            nxdomain: 0,
            first_us: i64::MAX,
            last_us: i64::MIN,
            names: Vec::new(),
            group,
        }
    }

    fn add_hash(set: &mut Vec<u32>, h: u32, cap: u32) {
        if set.len() < cap as usize && !set.contains(&h) {
            set.push(h);
        }
    }

    fn merge(&mut self, o: &Acc, cfg: &SuspectConfig) {
        for &h in &o.domains {
            Acc::add_hash(&mut self.domains, h, cfg.min_domains);
        }
        for &h in &o.nx {
            Acc::add_hash(&mut self.nx, h, cfg.min_nxdomain);
        }
        self.queries += o.queries;
        self.nxdomain += o.nxdomain;
        if o.first_us < self.first_us {
            self.group = o.group;
        }
        self.first_us = self.first_us.min(o.first_us);
        self.last_us = self.last_us.max(o.last_us);
        for n in &o.names {
            keep_name(&mut self.names, n);
        }
    }

    /// Whether this window's evidence puts the client in the tier.
    pub(crate) fn flagged(&self, cfg: &SuspectConfig) -> bool {
        self.domains.len() as u32 >= cfg.min_domains
            || (cfg.min_nxdomain > 0 && self.nx.len() as u32 >= cfg.min_nxdomain)
    }

    /// Distinct random-looking registrable domains counted (capped at the threshold).
    pub(crate) fn domains(&self) -> usize {
        self.domains.len()
    }
}

/// Per (window, client) evidence of generated names.
pub(crate) struct SuspectTracker {
    pub(crate) cfg: SuspectConfig,
    thresholds: Thresholds,
    model: &'static NgramModel,
    pub(crate) by: FastMap<(i64, u128), Acc>,
    cache: VerdictCache,
}

/// Byte equality of two slices of the same short length, eight bytes at a
/// time (no call into `memcmp` for a 10–40 byte domain).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        if x != y {
            return false;
        }
    }
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .all(|(x, y)| x == y)
}

/// Longest registrable domain the verdict cache holds.
const CACHED_LEN: usize = 47;
/// Slots of the verdict cache (a power of two).
const CACHE_SLOTS: usize = 4096;

/// One remembered verdict.
#[derive(Clone, Copy)]
struct CacheSlot {
    /// Domain length; 0 = empty.
    len: u8,
    random: bool,
    bytes: [u8; CACHED_LEN],
}

/// Direct-mapped verdicts per registrable domain (196 KiB).
struct VerdictCache {
    slots: Box<[CacheSlot]>,
}

impl VerdictCache {
    fn new() -> VerdictCache {
        let empty = CacheSlot {
            len: 0,
            random: false,
            bytes: [0; CACHED_LEN],
        };
        VerdictCache {
            slots: vec![empty; CACHE_SLOTS].into_boxed_slice(),
        }
    }

    /// The slot of a domain, `None` when it is too long to cache.
    #[inline]
    fn slot(&self, dom: &[u8]) -> Option<usize> {
        let n = dom.len();
        if n == 0 || n > CACHED_LEN {
            return None;
        }
        let word = |b: &[u8]| {
            let mut w = [0u8; 8];
            let k = b.len().min(8);
            w[..k].copy_from_slice(&b[..k]);
            u64::from_le_bytes(w)
        };
        let (a, z) = (word(dom), word(&dom[n.saturating_sub(8)..]));
        let h = (a ^ z.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Some((h >> 52) as usize & (CACHE_SLOTS - 1))
    }
}

/// FNV-1a of a name's bytes, case folded, as 32 bits.
fn hash32(b: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &c in b {
        h ^= c.to_ascii_lowercase() as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

impl SuspectTracker {
    pub(crate) fn new(cfg: SuspectConfig) -> SuspectTracker {
        SuspectTracker {
            cfg,
            thresholds: cfg.thresholds(),
            model: if cfg.enabled {
                NgramModel::builtin()
            } else {
                // Not consulted when disabled; a tiny model avoids training.
                static EMPTY: std::sync::OnceLock<NgramModel> = std::sync::OnceLock::new();
                EMPTY.get_or_init(|| NgramModel::train([]))
            },
            by: FastMap::default(),
            cache: VerdictCache::new(),
        }
    }

    /// True when `raw` (a name as logged) has a random-looking registrable
    /// label. Verdicts are remembered per registrable domain (as logged) in
    /// a small direct-mapped cache: resolver logs repeat the same domains
    /// all day, and a hit costs one short compare instead of scoring.
    #[inline]
    pub(crate) fn is_random(&mut self, raw: &[u8]) -> bool {
        if !self.cfg.enabled {
            return false;
        }
        let Some((_, dom)) = crate::dga::registrable(raw) else {
            return false;
        };
        let slot = match self.cache.slot(dom) {
            Some(i) => {
                let c = &self.cache.slots[i];
                if c.len as usize == dom.len() && same_bytes(&c.bytes[..dom.len()], dom) {
                    return c.random;
                }
                Some(i)
            }
            None => None,
        };
        let random = domain_looks_generated(self.model, &self.thresholds, dom);
        if let Some(i) = slot {
            let c = &mut self.cache.slots[i];
            c.len = dom.len() as u8;
            c.bytes[..dom.len()].copy_from_slice(dom);
            c.random = random;
        }
        random
    }

    /// Records a random-looking query (`name` normalised).
    pub(crate) fn observe(
        &mut self,
        window: i64,
        key: u128,
        group: u32,
        ts_us: i64,
        name: &[u8],
        rcode: Option<u16>,
    ) {
        let cfg = self.cfg;
        let a = self
            .by
            .entry((window, key))
            .or_insert_with(|| Acc::new(group));
        let dom = crate::dga::registrable(name).map_or(name, |(_, d)| d);
        let h = hash32(dom);
        Acc::add_hash(&mut a.domains, h, cfg.min_domains);
        a.queries += 1;
        if rcode == Some(3) {
            a.nxdomain += 1;
            Acc::add_hash(&mut a.nx, h, cfg.min_nxdomain);
        }
        if ts_us != crate::read::NO_TS {
            a.first_us = a.first_us.min(ts_us);
            a.last_us = a.last_us.max(ts_us);
        }
        keep_name(&mut a.names, &String::from_utf8_lossy(name));
    }

    /// Folds another tracker in; `remap` maps its group ids to ours.
    pub(crate) fn merge(&mut self, other: SuspectTracker, remap: &[u32]) {
        let cfg = self.cfg;
        for (k, mut o) in other.by {
            o.group = remap[o.group as usize];
            match self.by.get_mut(&k) {
                Some(a) => a.merge(&o, &cfg),
                None => {
                    self.by.insert(k, o);
                }
            }
        }
    }
}

/// One client of the suspected tier.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SuspectRow {
    /// Client address (or `prefix/len`).
    pub client: String,
    /// Group of its first random-looking query.
    pub group: String,
    /// First random-looking query (RFC 3339), over the flagged windows.
    pub first_seen: String,
    /// Last random-looking query (RFC 3339).
    pub last_seen: String,
    /// Windows in which the client met the threshold.
    pub windows: u32,
    /// Distinct random-looking registrable domains, the most in one
    /// flagged window (counted up to the threshold).
    pub domains: u32,
    /// Random-looking queries in the flagged windows.
    pub queries: u64,
    /// Of those, answered NXDOMAIN (0 when the log has no response codes).
    pub nxdomain: u64,
    /// Example names: the 8 smallest (normalised, sorted).
    pub names: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_counts_distinct_domains_not_queries() {
        let mut t = SuspectTracker::new(SuspectConfig::default());
        // The same generated name 20 times is one domain.
        for _ in 0..20 {
            t.observe(0, 1, 0, 5, b"vqzkxjwpfhtb.ki", None);
        }
        assert!(!t.by[&(0, 1)].flagged(&t.cfg));
        // Eight distinct ones are enough; labels below one domain count once.
        for (i, n) in ["a", "b", "c", "d", "e", "f", "g"].iter().enumerate() {
            t.observe(
                0,
                1,
                0,
                6 + i as i64,
                format!("x{n}qzkjwvbtr.com").as_bytes(),
                None,
            );
        }
        assert!(t.by[&(0, 1)].flagged(&t.cfg));
        for n in ["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"] {
            t.observe(
                0,
                2,
                0,
                1,
                format!("{n}qzkjwvbtr.cloudfront.net").as_bytes(),
                None,
            );
        }
        assert!(!t.by[&(0, 2)].flagged(&t.cfg));
        assert_eq!(t.by[&(0, 2)].domains(), 1);
        // Four NXDOMAIN answers over distinct domains make a burst.
        for n in ["qa", "qb", "qc", "qd"] {
            t.observe(0, 3, 0, 1, format!("{n}zkjwvbtrx.net").as_bytes(), Some(3));
        }
        assert!(t.by[&(0, 3)].flagged(&t.cfg));
        assert_eq!(t.by[&(0, 3)].nxdomain, 4);
    }

    #[test]
    fn random_looking_uses_the_registrable_label() {
        let mut t = SuspectTracker::new(SuspectConfig::default());
        // Twice each: the second answer comes from the cache.
        for _ in 0..2 {
            assert!(t.is_random(b"tzqpwvmxkdlrhcjfng.in"));
            assert!(!t.is_random(b"d3k2j4h5g6f7a8.cloudfront.net."));
            assert!(!t.is_random(b"www.example.com"));
        }
        assert!(t.is_random(b"tzqpwvmxkdlrhcjfng.in"));
        assert!(!t.is_random(b"d3k2j4h5g6f7a8.cloudfront.net."));
        assert!(!t.is_random(b"www.example.com"));
        let mut off = SuspectTracker::new(SuspectConfig {
            enabled: false,
            ..Default::default()
        });
        assert!(!off.is_random(b"tzqpwvmxkdlrhcjfng.in"));
    }
}
