//! Context-triggered piecewise hashing (CTPH, the idea behind ssdeep, after
//! Kornblum 2006), implemented here from the published description: a
//! 7-byte rolling hash picks cut points, an FNV-1a hash of each piece gives
//! one base64 character. Output `blocksize:sig:sig2`, where `sig2` uses twice
//! the block size. Not byte-compatible with ssdeep's digests.

const WINDOW: usize = 7;
const SIG_LEN: usize = 64;
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const MIN_BLOCK: u64 = 3;

struct Roll {
    win: [u8; WINDOW],
    n: usize,
    h1: u32,
    h2: u32,
    h3: u32,
}

impl Roll {
    fn new() -> Self {
        Roll {
            win: [0; WINDOW],
            n: 0,
            h1: 0,
            h2: 0,
            h3: 0,
        }
    }
    fn push(&mut self, c: u8) -> u32 {
        let c32 = u32::from(c);
        self.h2 = self
            .h2
            .wrapping_sub(self.h1)
            .wrapping_add((WINDOW as u32).wrapping_mul(c32));
        self.h1 = self
            .h1
            .wrapping_add(c32)
            .wrapping_sub(u32::from(self.win[self.n % WINDOW]));
        self.win[self.n % WINDOW] = c;
        self.n += 1;
        self.h3 = (self.h3 << 5) ^ c32;
        self.h1.wrapping_add(self.h2).wrapping_add(self.h3)
    }
}

fn fnv_step(h: u32, c: u8) -> u32 {
    (h ^ u32::from(c)).wrapping_mul(0x0100_0193)
}
const FNV_INIT: u32 = 0x811C_9DC5;

fn signatures(data: &[u8], bs: u64) -> (String, String) {
    let mut roll = Roll::new();
    let (mut p1, mut p2) = (FNV_INIT, FNV_INIT);
    let (mut s1, mut s2) = (Vec::new(), Vec::new());
    for &c in data {
        let r = u64::from(roll.push(c));
        p1 = fnv_step(p1, c);
        p2 = fnv_step(p2, c);
        if r % bs == bs - 1 && s1.len() < SIG_LEN - 1 {
            s1.push(B64[(p1 % 64) as usize]);
            p1 = FNV_INIT;
        }
        if r % (bs * 2) == bs * 2 - 1 && s2.len() < SIG_LEN / 2 - 1 {
            s2.push(B64[(p2 % 64) as usize]);
            p2 = FNV_INIT;
        }
    }
    s1.push(B64[(p1 % 64) as usize]);
    s2.push(B64[(p2 % 64) as usize]);
    (
        String::from_utf8(s1).unwrap_or_default(),
        String::from_utf8(s2).unwrap_or_default(),
    )
}

/// The CTPH digest of `data`.
pub fn digest(data: &[u8]) -> String {
    let mut bs = MIN_BLOCK;
    while bs * (SIG_LEN as u64) < data.len() as u64 {
        bs *= 2;
    }
    loop {
        let (s1, s2) = signatures(data, bs);
        // Too few cut points: a smaller block size describes the file better.
        if s1.len() < SIG_LEN / 2 && bs > MIN_BLOCK {
            bs /= 2;
            continue;
        }
        return format!("{bs}:{s1}:{s2}");
    }
}

fn squeeze(s: &str) -> Vec<u8> {
    // Long runs of one character carry little information (ssdeep does the same).
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    for b in s.bytes() {
        let n = out.len();
        if n >= 3 && out[n - 1] == b && out[n - 2] == b && out[n - 3] == b {
            continue;
        }
        out.push(b);
    }
    out
}

fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn sig_score(a: &str, b: &str) -> u32 {
    let (a, b) = (squeeze(a), squeeze(b));
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let d = levenshtein(&a, &b);
    let m = a.len().max(b.len());
    (100 - (d * 100 / m).min(100)) as u32
}

/// Similarity 0..=100 of two digests (0 when block sizes are not within a
/// factor of two, or a digest is malformed).
pub fn compare(x: &str, y: &str) -> u32 {
    let parse = |s: &str| -> Option<(u64, String, String)> {
        let mut it = s.splitn(3, ':');
        Some((
            it.next()?.parse().ok()?,
            it.next()?.to_string(),
            it.next()?.to_string(),
        ))
    };
    let (Some((b1, s1, t1)), Some((b2, s2, t2))) = (parse(x), parse(y)) else {
        return 0;
    };
    if b1 == b2 {
        sig_score(&s1, &s2).max(sig_score(&t1, &t2))
    } else if b1 * 2 == b2 {
        sig_score(&t1, &s2)
    } else if b2 * 2 == b1 {
        sig_score(&s1, &t2)
    } else {
        0
    }
}
