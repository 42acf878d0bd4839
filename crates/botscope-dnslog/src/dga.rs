//! Names that rotate: scoring query names for signs of a domain generation
//! algorithm (DGA), and the per-client evidence that puts a client in the
//! *suspected* tier of the deemed infection rate (issue 20).
//!
//! A bot with a DGA resolves many names a day that nobody chose — most of
//! them unregistered (NXDOMAIN), one registered by the herder. Such names
//! look random where people's names do not: their registrable label (the
//! label left of the public suffix: `vqzkxjwpfhtb` in `vqzkxjwpfhtb.ki`) has
//! a high character entropy and trigrams that chosen names rarely have.
//!
//! Only the registrable label is scored. Random-looking labels *below* a
//! registered domain (CDN object hashes such as
//! `d3k2j4h5g6f7a8.cloudfront.net`, `e1234.a.akamaiedge.net`) belong to one
//! domain somebody registered and pay for, so they do not count; a DGA has
//! to vary the registrable label, since each of its names must be
//! registrable by the herder on the day it is used.
//!
//! The character model: interpolated trigram probabilities over `a-z`,
//! `0-9`, `-` and a label boundary, trained on the zone names of the
//! provider lists shipped in `data/providers/` (people's choices: dynamic
//! DNS zones, hosting and ISP zones), minus a held-out half of the MISP
//! dynamic-DNS zones ([`is_held_out`]) on which the false-positive rate is
//! measured. A label's score is the mean surprise in bits per character
//! under that model ([`NgramModel::bits_per_char`]).

use std::sync::OnceLock;

/// Symbols: boundary (0), `a-z` (1..=26), `0-9` (27..=36), `-`/`_` (37).
const SYMBOLS: usize = 38;

/// The symbol of a byte (case folded), or `None` outside label characters.
#[inline]
fn symbol(b: u8) -> Option<usize> {
    match b {
        b'a'..=b'z' => Some((b - b'a') as usize + 1),
        b'A'..=b'Z' => Some((b - b'A') as usize + 1),
        b'0'..=b'9' => Some((b - b'0') as usize + 27),
        b'-' | b'_' => Some(37),
        _ => None,
    }
}

/// A character trigram model of chosen (benign) domain labels.
pub struct NgramModel {
    /// `-log2 P(c | a b)` for every symbol triple, `a * 38² + b * 38 + c`.
    surprise: Box<[f32]>,
}

/// Weight of the lower-order estimate in the interpolation (a pseudo-count).
const BACKOFF: f64 = 2.0;

impl NgramModel {
    /// Trains on labels (any case; bytes outside label characters make the
    /// label be skipped).
    pub fn train<'a>(labels: impl IntoIterator<Item = &'a [u8]>) -> NgramModel {
        let mut uni = vec![0f64; SYMBOLS];
        let mut bi = vec![0f64; SYMBOLS * SYMBOLS];
        let mut tri = vec![0f64; SYMBOLS * SYMBOLS * SYMBOLS];
        for label in labels {
            let Some(syms) = label.iter().map(|&b| symbol(b)).collect::<Option<Vec<_>>>() else {
                continue;
            };
            let (mut a, mut b) = (0usize, 0usize);
            for c in syms.into_iter().chain(std::iter::once(0)) {
                uni[c] += 1.0;
                bi[b * SYMBOLS + c] += 1.0;
                tri[(a * SYMBOLS + b) * SYMBOLS + c] += 1.0;
                a = b;
                b = c;
            }
        }
        let total: f64 = uni.iter().sum();
        let p1: Vec<f64> = uni
            .iter()
            .map(|n| (n + 1.0) / (total + SYMBOLS as f64))
            .collect();
        let mut p2 = vec![0f64; SYMBOLS * SYMBOLS];
        for b in 0..SYMBOLS {
            let row = &bi[b * SYMBOLS..(b + 1) * SYMBOLS];
            let n: f64 = row.iter().sum();
            for c in 0..SYMBOLS {
                p2[b * SYMBOLS + c] = (row[c] + BACKOFF * p1[c]) / (n + BACKOFF);
            }
        }
        let mut surprise = vec![0f32; SYMBOLS * SYMBOLS * SYMBOLS].into_boxed_slice();
        for ab in 0..SYMBOLS * SYMBOLS {
            let b = ab % SYMBOLS;
            let row = &tri[ab * SYMBOLS..(ab + 1) * SYMBOLS];
            let n: f64 = row.iter().sum();
            for c in 0..SYMBOLS {
                let p = (row[c] + BACKOFF * p2[b * SYMBOLS + c]) / (n + BACKOFF);
                surprise[ab * SYMBOLS + c] = (-p.log2()) as f32;
            }
        }
        NgramModel { surprise }
    }

    /// The model shipped with botscope (trained once, on first use).
    pub fn builtin() -> &'static NgramModel {
        static MODEL: OnceLock<NgramModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            let lists = [
                include_str!("../../../data/providers/dynamic-dns.txt"),
                include_str!("../../../data/providers/dynamic-dns-misp.txt"),
                include_str!("../../../data/providers/dns-service.txt"),
                include_str!("../../../data/providers/game-hosting.txt"),
                include_str!("../../../data/providers/hosting.txt"),
                include_str!("../../../data/providers/isp.txt"),
                include_str!("../../../data/providers/ircd-shell.txt"),
                include_str!("../../../data/public-irc-servers.txt"),
            ];
            let zones = lists
                .iter()
                .flat_map(|l| l.lines())
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|z| !z.is_empty() && !is_held_out(z));
            // Every label of a zone is somebody's choice, not only the
            // registrable one (`forgot.her.name`, `dyn.example-isp.net`);
            // top-level domains are left out (they are not labels people pick).
            let labels: Vec<&[u8]> = zones
                .flat_map(|z| {
                    let n = z.matches('.').count();
                    z.split('.').take(n).map(str::as_bytes)
                })
                .filter(|l| !l.is_empty())
                .collect();
            NgramModel::train(labels)
        })
    }

    /// Mean surprise of a label in bits per symbol (its characters and the
    /// end boundary); `None` for an empty label or one with bytes outside
    /// `a-z`, `0-9`, `-`, `_` (any case).
    #[inline]
    pub fn bits_per_char(&self, label: &[u8]) -> Option<f64> {
        if label.is_empty() {
            return None;
        }
        let (mut a, mut b) = (0usize, 0usize);
        let mut sum = 0f32;
        for &byte in label {
            let c = symbol(byte)?;
            sum += self.surprise[(a * SYMBOLS + b) * SYMBOLS + c];
            a = b;
            b = c;
        }
        sum += self.surprise[(a * SYMBOLS + b) * SYMBOLS];
        Some(sum as f64 / (label.len() + 1) as f64)
    }
}

/// Whether a zone of the MISP dynamic-DNS list is held out of the model's
/// training (about half of them, chosen by a hash of the lower-case zone
/// without a leading dot) so that the false-positive rate can be measured
/// on names the model never saw.
pub fn is_held_out(zone: &str) -> bool {
    let z = zone.trim_start_matches('.');
    // FNV-1a: stable across builds and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in z.bytes() {
        h ^= b.to_ascii_lowercase() as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h & 1 == 1
}

/// Second-level labels under which country-code registries sell names
/// (`example.co.uk`, `example.com.au`, `example.ne.jp`): with a two-letter
/// top-level domain, the registrable label is the third from the right.
const CC_SECOND_LEVEL: [&[u8]; 16] = [
    b"co", b"com", b"net", b"org", b"ac", b"gov", b"edu", b"ne", b"or", b"go", b"gr", b"ed", b"lg",
    b"ad", b"ltd", b"plc",
];

/// The registrable domain of a name (any case, trailing dot allowed) and
/// the position where its registrable label starts: `vqzkx.ki` →
/// `(0, "vqzkx.ki")`, `www.example.co.uk` → `(4, "example.co.uk")`.
/// `None` for a single-label name.
#[inline]
pub fn registrable(name: &[u8]) -> Option<(usize, &[u8])> {
    let name = name.strip_suffix(b".").unwrap_or(name);
    // The last three dots, found in one backward walk (names are short:
    // a plain loop beats a SIMD search set up three times).
    let mut dots = [usize::MAX; 3];
    let mut found = 0;
    for (i, &b) in name.iter().enumerate().rev() {
        if b == b'.' {
            dots[found] = i;
            found += 1;
            if found == 3 {
                break;
            }
        }
    }
    if found == 0 {
        return None;
    }
    let tld_dot = dots[0];
    let sld_start = if found >= 2 { dots[1] + 1 } else { 0 };
    let tld = &name[tld_dot + 1..];
    let sld = &name[sld_start..tld_dot];
    let start = if found >= 2
        && tld.len() == 2
        && CC_SECOND_LEVEL.iter().any(|s| s.eq_ignore_ascii_case(sld))
    {
        if found == 3 {
            dots[2] + 1
        } else {
            0
        }
    } else {
        sld_start
    };
    Some((start, &name[start..]))
}

/// The registrable label alone (`example` in `www.example.co.uk`).
#[inline]
pub fn registrable_label(name: &[u8]) -> Option<&[u8]> {
    let (_, dom) = registrable(name)?;
    let end = memchr::memchr(b'.', dom).unwrap_or(dom.len());
    Some(&dom[..end])
}

/// Shannon entropy of a label's bytes (case folded), in bits per byte.
pub fn entropy(label: &[u8]) -> f64 {
    // Counts per symbol; bytes outside the label alphabet share slot 0.
    let mut counts = [0u8; SYMBOLS];
    let mut seen = [0u8; 64];
    let mut distinct = 0;
    for &b in label.iter().take(255) {
        let c = symbol(b).unwrap_or(0);
        if counts[c] == 0 {
            seen[distinct] = c as u8;
            distinct += 1;
        }
        counts[c] = counts[c].saturating_add(1);
    }
    let n = label.len().min(255) as f64;
    seen[..distinct]
        .iter()
        .map(|&c| {
            let p = counts[c as usize] as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// How a name's registrable label scored.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct NameScore {
    /// Length of the registrable label.
    pub len: usize,
    /// Character entropy of the label, bits per byte.
    pub entropy: f64,
    /// Mean trigram surprise, bits per symbol.
    pub bits_per_char: f64,
    /// Whether the label counts as random-looking ([`Thresholds`]).
    pub random: bool,
}

/// When a registrable label counts as random-looking.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Shorter labels are never judged (too little evidence).
    pub min_len: usize,
    /// Trigram surprise at or above which a label is random-looking.
    pub min_bits: f64,
    /// Entropy at or above which a label is random-looking, as a fraction
    /// of the most a label of its length can have (`log2(len)`, at most
    /// `log2(36)`).
    pub min_entropy_ratio: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_len: 7,
            min_bits: 5.4,
            min_entropy_ratio: 0.7,
        }
    }
}

/// Scores a name's registrable label; `None` when the name has one label,
/// an IDN (`xn--`) or a character outside `a-z0-9-_` in that label.
pub fn score_name(model: &NgramModel, t: &Thresholds, name: &[u8]) -> Option<NameScore> {
    let label = scored_label(name)?;
    let bits = model.bits_per_char(label)?;
    let len = label.len();
    let e = entropy(label);
    Some(NameScore {
        len,
        entropy: e,
        bits_per_char: bits,
        random: len >= t.min_len && bits >= t.min_bits && e >= min_entropy(t, len),
    })
}

/// The same verdict as [`score_name`]`(…).random`, for the per-query hot
/// path: short labels are turned away first, and the entropy is computed
/// only for labels whose trigram surprise already passed.
#[inline]
pub fn looks_generated(model: &NgramModel, t: &Thresholds, name: &[u8]) -> bool {
    let Some(label) = scored_label(name) else {
        return false;
    };
    label.len() >= t.min_len
        && model.bits_per_char(label).is_some_and(|b| b >= t.min_bits)
        && entropy(label) >= min_entropy(t, label.len())
}

/// [`looks_generated`] on a registrable domain already cut out
/// ([`registrable`]): its first label is the one scored.
#[inline]
pub fn domain_looks_generated(model: &NgramModel, t: &Thresholds, domain: &[u8]) -> bool {
    let label = &domain[..memchr::memchr(b'.', domain).unwrap_or(domain.len())];
    label.len() >= t.min_len
        && !label
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"))
        && model.bits_per_char(label).is_some_and(|b| b >= t.min_bits)
        && entropy(label) >= min_entropy(t, label.len())
}

/// The registrable label if it can be scored (not an IDN).
#[inline]
fn scored_label(name: &[u8]) -> Option<&[u8]> {
    let label = registrable_label(name)?;
    if label.len() >= 4 && label[..4].eq_ignore_ascii_case(b"xn--") {
        return None;
    }
    Some(label)
}

/// The entropy a label of `len` bytes needs to count as random-looking.
fn min_entropy(t: &Thresholds, len: usize) -> f64 {
    t.min_entropy_ratio * (len.clamp(1, 36) as f64).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrable_label_skips_public_suffixes() {
        assert_eq!(registrable_label(b"www.example.com"), Some(&b"example"[..]));
        assert_eq!(
            registrable_label(b"WWW.Example.CO.UK."),
            Some(&b"Example"[..])
        );
        assert_eq!(
            registrable_label(b"a.b.example.ne.jp"),
            Some(&b"example"[..])
        );
        assert_eq!(registrable_label(b"co.uk"), Some(&b"co"[..]));
        assert_eq!(
            registrable_label(b"vqzkxjwpfhtb.ki"),
            Some(&b"vqzkxjwpfhtb"[..])
        );
        assert_eq!(registrable_label(b"localhost"), None);
        assert_eq!(
            registrable(b"d3k2j4h5g6.cloudfront.net"),
            Some((11, &b"cloudfront.net"[..]))
        );
    }

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-12);
        assert!((entropy(b"AaBb") - 1.0).abs() < 1e-12);
    }

    #[test]
    fn chosen_names_score_below_random_ones() {
        let m = NgramModel::builtin();
        let t = Thresholds::default();
        for benign in [
            "www.example.com",
            "mail.google.com",
            "update.microsoft.com",
            "d3k2j4h5g6f7a8.cloudfront.net",
            "r3---sn-4g5e6nz7.googlevideo.com",
            "irc.freenode.net",
            "shop.weatherforecast.co.uk",
        ] {
            let s = score_name(m, &t, benign.as_bytes()).unwrap();
            assert!(!s.random, "{benign}: {s:?}");
        }
        for dga in [
            "vqzkxjwpfhtb.ki",
            "hgqwzxkvbnrt.net",
            "tzqpwvmxkdlrhcjfng.in",
        ] {
            let s = score_name(m, &t, dga.as_bytes()).unwrap();
            assert!(s.random, "{dga}: {s:?}");
        }
        // Outside the alphabet or an IDN: not scored.
        assert_eq!(score_name(m, &t, b"xn--mnchen-3ya.de"), None);
        assert_eq!(score_name(m, &t, b"a\\032b.com"), None);
    }

    #[test]
    fn fast_verdict_equals_full_score() {
        let m = NgramModel::builtin();
        let t = Thresholds::default();
        let mut names: Vec<String> = include_str!("../../../data/providers/dynamic-dns-misp.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .step_by(7)
            .map(|l| format!("www.{l}"))
            .collect();
        // Random labels of 3..24 characters from a fixed LCG.
        let mut x: u64 = 7;
        for i in 0..3000 {
            let len = 3 + i % 22;
            let label: String = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"abcdefghijklmnopqrstuvwxyz0123456789-"[(x >> 33) as usize % 37] as char
                })
                .collect();
            names.push(format!("{label}.com"));
        }
        let mut random = 0;
        for n in &names {
            let full = score_name(m, &t, n.as_bytes()).is_some_and(|s| s.random);
            assert_eq!(looks_generated(m, &t, n.as_bytes()), full, "{n}");
            let dom = registrable(n.as_bytes()).map(|(_, d)| d);
            assert_eq!(
                dom.is_some_and(|d| domain_looks_generated(m, &t, d)),
                full,
                "{n}"
            );
            random += usize::from(full);
        }
        assert!(random > 1000 && random < names.len() - 1000, "{random}");
    }

    #[test]
    fn trained_model_prefers_its_training_text() {
        let m = NgramModel::train([&b"banana"[..], b"bandana", b"cabana"]);
        let seen = m.bits_per_char(b"banana").unwrap();
        let unseen = m.bits_per_char(b"zqxjvk").unwrap();
        assert!(seen < 2.0 && unseen > 5.0, "{seen} {unseen}");
        assert_eq!(m.bits_per_char(b""), None);
        assert_eq!(m.bits_per_char(b"a.b"), None);
    }
}
