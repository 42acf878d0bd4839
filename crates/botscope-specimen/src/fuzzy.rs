//! ssdeep-compatible context-triggered piecewise hashing (CTPH, Kornblum
//! 2006, after Tridgell's spamsum).
//!
//! [`digest`] returns exactly what `ssdeep` 2.14.1 (libfuzzy) prints for the
//! same bytes, `blocksize:sig1:sig2` without the file name, and [`compare`]
//! returns exactly libfuzzy's `fuzzy_compare` score for two well-formed
//! digests. Both are checked against the real `ssdeep` binary by the
//! `fuzzy_peer` integration tests. The code is written from the published
//! algorithm, not translated from libfuzzy; libfuzzy is a streaming state
//! machine, this is a multi-pass whole-buffer formulation of the same
//! function, built for throughput:
//!
//! - The rolling hash at a position is a pure function of the last seven
//!   bytes (zeros before the start), so the trigger test runs without a
//!   serial dependency (auto-vectorised, AVX2 when the CPU has it).
//! - A position triggers block size `3·2^k` when `(r + 1) mod 2^32` is a
//!   non-zero multiple of `3·2^k` (`r` the rolling value): trigger sets nest,
//!   and the level of a trigger is the number of trailing zero bits of
//!   `(r + 1) / 3`, an exact division done with the inverse of 3 mod 2^32.
//! - A first pass counts triggers per level to choose the block size the way
//!   libfuzzy does (smallest `b` with `64·b >= len`, clipped to the highest
//!   level that exists, then halved while fewer than 32 pieces); a second
//!   pass hashes only the pieces of the two signatures that are printed.
//!   Pieces are independent, so sixteen piece hashes run side by side in
//!   AVX2 lanes (eight interleaved scalar chains without AVX2).
//! - With AVX2, the first pass tests sixteen positions a vector in 16-bit
//!   lanes against a necessary condition (low bits of `r + 1`), and checks
//!   the rare survivors exactly.
//! - The piece hash is FNV-1 (`h·0x01000193 ^ c`) of which only the low six
//!   bits are ever used, so it runs on one byte: `h·19 ^ c`, reduced mod 64
//!   at the end (libfuzzy's 64×64 `sum_table` holds the same function).
//!
//! Inputs longer than libfuzzy's limit (`3·2^30·64` bytes, where ssdeep
//! reports an error) get the largest block size instead of an error.

const WINDOW: usize = 7;
/// Characters a signature may hold (libfuzzy's `SPAMSUM_LENGTH`).
const SPAMSUM_LENGTH: usize = 64;
const MIN_BLOCK: u64 = 3;
/// Block sizes `3·2^0 … 3·2^30`, as in libfuzzy.
const TOP_LEVEL: u32 = 30;
/// Initial piece hash (libfuzzy's `0x28021967` mod 64).
const HASH_INIT: u8 = 0x27;
/// The FNV prime `0x01000193` mod 64.
const FNV_PRIME_LOW: u8 = 0x13;
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// Multiplicative inverse of 3 mod 2^32: `t * INV3` is `t / 3` when 3 divides `t`.
const INV3: u32 = 0xAAAA_AAAB;
/// `t * INV3 <= MAX_THIRD` exactly when 3 divides `t`.
const MAX_THIRD: u32 = u32::MAX / 3;
/// Trigger positions kept from the first pass for reuse by the second; more
/// than this (adversarial or tiny block sizes) and the second pass rescans.
const EVENT_CAP: usize = 1 << 14;

/// The rolling value after byte `data[i]`, reading zeros before the start.
#[inline(always)]
fn roll_at(data: &[u8], i: usize) -> u32 {
    let mut w = [0u8; WINDOW];
    for (j, slot) in w.iter_mut().enumerate() {
        if let Some(k) = i.checked_sub(j) {
            *slot = data[k];
        }
    }
    roll_window(&w)
}

/// The rolling value of a window, newest byte first: `h1 + h2 + h3` of
/// spamsum, i.e. the weighted sum `Σ (8-j)·c_j` plus the shift-xor `⊕ c_j << 5j`.
#[inline(always)]
fn roll_window(w: &[u8; WINDOW]) -> u32 {
    let c = |j: usize| u32::from(w[j]);
    let sum = 8 * c(0) + 7 * c(1) + 6 * c(2) + 5 * c(3) + 4 * c(4) + 3 * c(5) + 2 * c(6);
    let xor = c(0)
        ^ (c(1) << 5)
        ^ (c(2) << 10)
        ^ (c(3) << 15)
        ^ (c(4) << 20)
        ^ (c(5) << 25)
        ^ (c(6) << 30);
    sum.wrapping_add(xor)
}

/// `(r + 1) / 3` when that is an exact, non-zero division (the position
/// triggers level `trailing_zeros` and all below), else a value with the
/// top bits set that the trigger test rejects.
#[inline(always)]
fn third(r: u32) -> u32 {
    r.wrapping_add(1).wrapping_mul(INV3)
}

/// Whether `q = third(r)` triggers some level >= the one `low_mask` encodes.
#[inline(always)]
fn hits(q: u32, low_mask: u32) -> bool {
    // q - 1 < MAX_THIRD  <=>  0 < q <= MAX_THIRD (q = 0 is r = 2^32 - 1, never a trigger).
    (q.wrapping_sub(1) < MAX_THIRD) & (q & low_mask == 0)
}

const BLOCK: usize = 64;

/// One block of `BLOCK` positions starting `WINDOW - 1` bytes into `blk`:
/// sets `flags[k]` where position `k` triggers a level >= the mask's.
#[inline(always)]
fn scan_block(
    blk: &[u8; BLOCK + WINDOW - 1],
    low_mask: u32,
    qs: &mut [u32; BLOCK],
    flags: &mut [u8; BLOCK],
) {
    for k in 0..BLOCK {
        let c = |j: usize| u32::from(blk[k + WINDOW - 1 - j]);
        let sum = 8 * c(0) + 7 * c(1) + 6 * c(2) + 5 * c(3) + 4 * c(4) + 3 * c(5) + 2 * c(6);
        let xor = c(0)
            ^ (c(1) << 5)
            ^ (c(2) << 10)
            ^ (c(3) << 15)
            ^ (c(4) << 20)
            ^ (c(5) << 25)
            ^ (c(6) << 30);
        let q = third(sum.wrapping_add(xor));
        qs[k] = q;
        flags[k] = u8::from(hits(q, low_mask));
    }
}

#[inline(always)]
fn scan_body<F: FnMut(usize, u32)>(data: &[u8], min_level: u32, f: &mut F) {
    let low_mask = (1u32 << min_level) - 1;
    let n = data.len();
    let head = n.min(WINDOW - 1);
    for i in 0..head {
        check_position(data, i, low_mask, f);
    }
    let mut qs = [0u32; BLOCK];
    let mut flags = [0u8; BLOCK];
    let mut start = head;
    while start + BLOCK <= n {
        let Some(blk) = data
            .get(start + 1 - WINDOW..start + BLOCK)
            .and_then(|s| <&[u8; BLOCK + WINDOW - 1]>::try_from(s).ok())
        else {
            break;
        };
        scan_block(blk, low_mask, &mut qs, &mut flags);
        for (w, word) in flags.chunks_exact(8).enumerate() {
            let mut bits = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            while bits != 0 {
                let k = w * 8 + (bits.trailing_zeros() / 8) as usize;
                bits &= bits - 1;
                f(start + k, qs[k].trailing_zeros());
            }
        }
        start += BLOCK;
    }
    for i in start..n {
        check_position(data, i, low_mask, f);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2<F: FnMut(usize, u32)>(data: &[u8], min_level: u32, f: &mut F) {
    scan_body(data, min_level, f)
}

/// Checks one position exactly (scalar), reporting it when it triggers.
#[inline(always)]
fn check_position<F: FnMut(usize, u32)>(data: &[u8], i: usize, low_mask: u32, f: &mut F) {
    let q = third(roll_at(data, i));
    if hits(q, low_mask) {
        f(i, q.trailing_zeros());
    }
}

/// Trigger scan for `min_level >= 3` (every file over 1.5 KiB's first
/// pass): sixteen positions a vector in 16-bit lanes. A trigger at level
/// `L` needs the low `L` bits of `r + 1` to be zero, and the low 16 bits of
/// `r + 1` only depend on the weighted byte sum and the low half of the
/// shift-xor, so the vector test is a cheap necessary condition; the rare
/// positions that pass (one in `2^min(L,16)`) are checked exactly.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2_prefilter<F: FnMut(usize, u32)>(data: &[u8], min_level: u32, f: &mut F) {
    use std::arch::x86_64::*;
    const LANES: usize = 16;
    let low_mask = (1u32 << min_level) - 1;
    let n = data.len();
    let head = n.min(WINDOW - 1);
    for i in 0..head {
        check_position(data, i, low_mask, f);
    }
    let mask16 = _mm256_set1_epi16((low_mask & 0xFFFF) as u16 as i16);
    let one = _mm256_set1_epi16(1);
    let zero = _mm256_setzero_si256();
    let mut start = head;
    while start + LANES <= n {
        // Byte `start + k - j` for lane k: window byte j of position start + k.
        let Some(win) = data.get(start + 1 - WINDOW..start + LANES) else {
            break;
        };
        let ptr = win.as_ptr();
        // SAFETY: offsets 0..=6 plus 16 bytes lie inside `win` (22 bytes).
        let c = |j: usize| unsafe {
            _mm256_cvtepu8_epi16(_mm_loadu_si128(ptr.add(WINDOW - 1 - j).cast()))
        };
        let (c0, c1, c2, c3, c4, c5, c6) = (c(0), c(1), c(2), c(3), c(4), c(5), c(6));
        let k = |v: i16| _mm256_set1_epi16(v);
        let sum = _mm256_add_epi16(
            _mm256_add_epi16(
                _mm256_add_epi16(_mm256_slli_epi16(c0, 3), _mm256_mullo_epi16(c1, k(7))),
                _mm256_add_epi16(_mm256_mullo_epi16(c2, k(6)), _mm256_mullo_epi16(c3, k(5))),
            ),
            _mm256_add_epi16(
                _mm256_add_epi16(_mm256_slli_epi16(c4, 2), _mm256_mullo_epi16(c5, k(3))),
                _mm256_slli_epi16(c6, 1),
            ),
        );
        let xor_lo = _mm256_xor_si256(
            _mm256_xor_si256(c0, _mm256_slli_epi16(c1, 5)),
            _mm256_xor_si256(_mm256_slli_epi16(c2, 10), _mm256_slli_epi16(c3, 15)),
        );
        let t = _mm256_add_epi16(_mm256_add_epi16(sum, xor_lo), one);
        let pass = _mm256_cmpeq_epi16(_mm256_and_si256(t, mask16), zero);
        let mut bits = (_mm256_movemask_epi8(pass) as u32) & 0x5555_5555;
        while bits != 0 {
            let lane = (bits.trailing_zeros() / 2) as usize;
            bits &= bits - 1;
            check_position(data, start + lane, low_mask, f);
        }
        start += LANES;
    }
    for i in start..n {
        check_position(data, i, low_mask, f);
    }
}

/// Calls `f(position, level)` for every position whose rolling value
/// triggers block-size level `level >= min_level` (and every level below),
/// in increasing position order.
fn scan_triggers<F: FnMut(usize, u32)>(data: &[u8], min_level: u32, mut f: F) {
    let min_level = min_level.min(TOP_LEVEL);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        if min_level >= 3 {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { scan_avx2_prefilter(data, min_level, &mut f) };
            return;
        }
        // SAFETY: the CPU supports AVX2 (checked just above).
        unsafe { scan_avx2(data, min_level, &mut f) };
        return;
    }
    scan_body(data, min_level, &mut f)
}

/// Trigger counts per exact level from one scan, plus the trigger
/// positions themselves while they fit.
struct Census {
    min_level: u32,
    /// `exact[k]`: positions whose highest triggered level is `k` (k >= min_level).
    exact: [u64; TOP_LEVEL as usize + 1],
    events: Vec<(usize, u8)>,
    overflow: bool,
}

impl Census {
    fn empty(min_level: u32) -> Census {
        Census {
            min_level,
            exact: [0; TOP_LEVEL as usize + 1],
            events: Vec::new(),
            overflow: false,
        }
    }

    /// Counts one trigger (positions come in increasing order).
    #[inline]
    fn record(&mut self, pos: usize, level: u32) {
        let level = level.min(TOP_LEVEL);
        self.exact[level as usize] += 1;
        if self.events.len() < EVENT_CAP {
            self.events.push((pos, level as u8));
        } else {
            self.overflow = true;
        }
    }

    fn take(data: &[u8], min_level: u32) -> Census {
        let mut c = Census::empty(min_level);
        scan_triggers(data, min_level, |pos, level| c.record(pos, level));
        c
    }

    /// Triggers at level `k` (positions whose highest level is >= k).
    fn count(&self, k: u32) -> u64 {
        self.exact[k as usize..].iter().sum()
    }

    /// The block-size level libfuzzy prints, or `None` when this census
    /// does not reach low enough levels to tell.
    fn choose(&self, guess: u32) -> Option<u32> {
        let highest = (0..=TOP_LEVEL).rev().find(|&k| self.exact[k as usize] > 0);
        // Level k exists once level k-1 has triggered; level 0 always exists.
        let top = match highest {
            Some(h) => (h + 1).min(TOP_LEVEL),
            None if self.min_level == 0 => 0,
            None => return None,
        };
        let mut level = guess.min(top);
        while level > 0 && self.count(level) < (SPAMSUM_LENGTH / 2) as u64 {
            level -= 1;
            if level < self.min_level {
                return None;
            }
        }
        Some(level)
    }

    fn top(&self) -> u32 {
        (0..=TOP_LEVEL)
            .rev()
            .find(|&k| self.exact[k as usize] > 0)
            .map_or(0, |h| (h + 1).min(TOP_LEVEL))
    }
}

/// The cut points of one level that a signature needs: the first `cap`
/// positions, the last one and how many there are.
struct Cuts {
    first: Vec<usize>,
    last: usize,
    count: u64,
}

impl Cuts {
    fn new() -> Cuts {
        Cuts {
            first: Vec::new(),
            last: 0,
            count: 0,
        }
    }
    fn push(&mut self, pos: usize, cap: usize) {
        if self.first.len() < cap {
            self.first.push(pos);
        }
        self.last = pos;
        self.count += 1;
    }
}

/// Byte ranges `[start, end)` whose piece hashes one signature prints:
/// one per cut up to `cap` (the signature's reset limit), then the tail
/// piece (libfuzzy's rule: with a non-zero final rolling value the open
/// piece to the end of the data; else, when cuts went past the limit, the
/// piece up to the last cut, which libfuzzy stored at that cut).
fn signature_ranges(cuts: &Cuts, cap: usize, n: usize, final_roll: u32) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(cap + 1);
    let mut start = 0;
    for &c in cuts.first.iter().take(cap) {
        out.push((start, c + 1));
        start = c + 1;
    }
    if final_roll != 0 {
        out.push((start, n));
    } else if cuts.count > cap as u64 {
        out.push((start, cuts.last + 1));
    }
    out
}

/// The piece hash chain from state `h` over `bytes`.
fn chain(h: u8, bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(h, |h, &c| h.wrapping_mul(FNV_PRIME_LOW) ^ c)
}

/// Piece hashes (mod 64) of `ranges` (sixteen at a time in AVX2 lanes when
/// the CPU has AVX2, else eight interleaved scalar chains).
fn piece_hashes(data: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        return piece_hashes_wide(data, ranges);
    }
    piece_hashes_scalar(data, ranges)
}

/// Piece hashes, sixteen ranges at a time: each round loads 16 bytes of
/// every lane, transposes the 16×16 block and runs the sixteen chains as
/// 16-bit vector lanes (the low six bits of `h·19 ^ c` do not depend on
/// the width). Ranges shorter than a block and the last partial block of
/// each range are finished by the scalar chain.
#[cfg(target_arch = "x86_64")]
fn piece_hashes_wide(data: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    const LANES: usize = 16;
    let mut out = vec![HASH_INIT; ranges.len()];
    let mut order: Vec<usize> = (0..ranges.len())
        .filter(|&i| ranges[i].1 > ranges[i].0)
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ranges[i].1 - ranges[i].0));
    let mut queue = order.into_iter();
    // Lane: (range index, next position, end).
    let mut lanes: [Option<(usize, usize, usize)>; LANES] = [None; LANES];
    let mut h = [u16::from(HASH_INIT); LANES];
    loop {
        for l in 0..LANES {
            while lanes[l].is_none() {
                let Some(i) = queue.next() else { break };
                let (s, e) = ranges[i];
                if e - s < LANES {
                    out[i] = chain(HASH_INIT, &data[s..e]);
                } else {
                    lanes[l] = Some((i, s, e));
                    h[l] = u16::from(HASH_INIT);
                }
            }
        }
        let Some(blocks) = lanes
            .iter()
            .flatten()
            .map(|&(_, p, e)| (e - p) / LANES)
            .min()
        else {
            break;
        };
        let len = blocks * LANES;
        let shadow = lanes.iter().flatten().next().map_or(0, |&(_, p, _)| p);
        let mut src: [&[u8]; LANES] = [&[]; LANES];
        for l in 0..LANES {
            let p = lanes[l].map_or(shadow, |(_, p, _)| p);
            src[l] = &data[p..p + len];
        }
        // SAFETY: the CPU has AVX2 (checked by the caller); every slice
        // holds `blocks` full blocks.
        unsafe { wide::run(&src, blocks, &mut h) };
        for l in 0..LANES {
            if let Some((i, p, e)) = lanes[l] {
                let p = p + len;
                if e - p < LANES {
                    out[i] = chain(h[l] as u8, &data[p..e]);
                    lanes[l] = None;
                } else {
                    lanes[l] = Some((i, p, e));
                }
            }
        }
    }
    out
}

#[cfg(target_arch = "x86_64")]
mod wide {
    use std::arch::x86_64::*;

    /// 4-bit bit reversal: after four rounds of pairwise byte interleaving,
    /// vector `REV4[k]` holds byte `k` of every lane, and vector byte `p`
    /// belongs to lane `REV4[p]`.
    const REV4: [usize; 16] = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

    /// Advances the 16 chains `h` over `blocks` 16-byte blocks of each lane.
    ///
    /// # Safety
    /// The CPU must support AVX2. Slices shorter than `blocks * 16` make
    /// this return without touching `h`.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run(lanes: &[&[u8]; 16], blocks: usize, h: &mut [u16; 16]) {
        if lanes.iter().any(|s| s.len() < blocks * 16) {
            return;
        }
        let mut hp = [0u16; 16];
        for p in 0..16 {
            hp[p] = h[REV4[p]];
        }
        let mut acc = _mm256_loadu_si256(hp.as_ptr().cast());
        let prime = _mm256_set1_epi16(i16::from(super::FNV_PRIME_LOW));
        for r in 0..blocks {
            let mut x = [_mm_setzero_si128(); 16];
            for (l, v) in x.iter_mut().enumerate() {
                // SAFETY: r * 16 + 16 <= blocks * 16 <= lanes[l].len().
                *v = _mm_loadu_si128(lanes[l].as_ptr().add(r * 16).cast());
            }
            for _ in 0..4 {
                let mut y = [_mm_setzero_si128(); 16];
                for i in 0..8 {
                    y[i] = _mm_unpacklo_epi8(x[2 * i], x[2 * i + 1]);
                    y[i + 8] = _mm_unpackhi_epi8(x[2 * i], x[2 * i + 1]);
                }
                x = y;
            }
            for &j in &REV4 {
                let c = _mm256_cvtepu8_epi16(x[j]);
                acc = _mm256_xor_si256(_mm256_mullo_epi16(acc, prime), c);
            }
        }
        _mm256_storeu_si256(hp.as_mut_ptr().cast(), acc);
        for p in 0..16 {
            h[REV4[p]] = hp[p];
        }
    }
}

/// Piece hashes (mod 64) of `ranges`, computed eight at a time so the
/// serial multiply-xor chains overlap.
fn piece_hashes_scalar(data: &[u8], ranges: &[(usize, usize)]) -> Vec<u8> {
    const LANES: usize = 8;
    let mut out = vec![HASH_INIT; ranges.len()];
    // Longest first, so the lanes finish together.
    let mut order: Vec<usize> = (0..ranges.len())
        .filter(|&i| ranges[i].1 > ranges[i].0)
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ranges[i].1 - ranges[i].0));
    let mut queue = order.into_iter();
    // Lane: (range index, next position, end, hash); None when idle.
    let mut lanes: [Option<(usize, usize, usize, u8)>; LANES] = [None; LANES];
    loop {
        for lane in lanes.iter_mut() {
            if lane.is_none() {
                *lane = queue
                    .next()
                    .map(|i| (i, ranges[i].0, ranges[i].1, HASH_INIT));
            }
        }
        let Some(step) = lanes.iter().flatten().map(|&(_, p, e, _)| e - p).min() else {
            break;
        };
        // Idle lanes shadow the first busy one; their results are dropped.
        let shadow = lanes.iter().flatten().next().map_or(0, |&(_, p, _, _)| p);
        let mut src: [&[u8]; LANES] = [&[]; LANES];
        let mut h = [HASH_INIT; LANES];
        for l in 0..LANES {
            let p = lanes[l].map_or(shadow, |(_, p, _, hh)| {
                h[l] = hh;
                p
            });
            src[l] = data.get(p..p + step).unwrap_or(&[]);
        }
        if src.iter().any(|s| s.len() != step) {
            break; // unreachable: ranges lie inside `data`
        }
        let [s0, s1, s2, s3, s4, s5, s6, s7] = src;
        for k in 0..step {
            h[0] = h[0].wrapping_mul(FNV_PRIME_LOW) ^ s0[k];
            h[1] = h[1].wrapping_mul(FNV_PRIME_LOW) ^ s1[k];
            h[2] = h[2].wrapping_mul(FNV_PRIME_LOW) ^ s2[k];
            h[3] = h[3].wrapping_mul(FNV_PRIME_LOW) ^ s3[k];
            h[4] = h[4].wrapping_mul(FNV_PRIME_LOW) ^ s4[k];
            h[5] = h[5].wrapping_mul(FNV_PRIME_LOW) ^ s5[k];
            h[6] = h[6].wrapping_mul(FNV_PRIME_LOW) ^ s6[k];
            h[7] = h[7].wrapping_mul(FNV_PRIME_LOW) ^ s7[k];
        }
        for l in 0..LANES {
            if let Some((i, p, e, _)) = lanes[l] {
                if p + step == e {
                    out[i] = h[l];
                    lanes[l] = None;
                } else {
                    lanes[l] = Some((i, p + step, e, h[l]));
                }
            }
        }
    }
    out
}

fn b64(h: u8) -> char {
    char::from(B64[usize::from(h & 63)])
}

/// The ssdeep digest of `data`: `blocksize:sig1:sig2`, byte-identical to
/// what `ssdeep` 2.14.1 prints (without the file name).
pub fn digest(data: &[u8]) -> String {
    let mut first = FirstPass::new(data.len());
    first.feed(data, data.len());
    first.finish(data)
}

/// The first pass of [`digest`] (the trigger census) fed piece by piece,
/// so a caller reading a file once can run it in the same loop as other
/// hashes, over each piece while it is in cache; [`FirstPass::finish`]
/// then hashes the pieces of the two printed signatures.
pub struct FirstPass {
    len: usize,
    guess: u32,
    census: Census,
    /// Positions scanned so far: `[0, fed)`.
    fed: usize,
}

impl FirstPass {
    /// A first pass over a buffer of `len` bytes.
    pub fn new(len: usize) -> FirstPass {
        // Initial guess: the smallest block size b with 64·b >= len.
        let mut guess = 0u32;
        while guess < TOP_LEVEL && (MIN_BLOCK << guess) * (SPAMSUM_LENGTH as u64) < len as u64 {
            guess += 1;
        }
        // Count triggers from a few levels under the guess (about 500
        // events on ordinary data); `finish` goes lower only when the
        // counts say the signature at the guess is too short.
        FirstPass {
            len,
            guess,
            census: Census::empty(guess.saturating_sub(3)),
            fed: 0,
        }
    }

    /// Scans the positions from the last `feed`'s `end` up to `end` of
    /// `data` (the whole buffer, `len` bytes: the rolling hash looks six
    /// bytes back). Positions must be fed in order; `end` is clipped.
    pub fn feed(&mut self, data: &[u8], end: usize) {
        let end = end.min(data.len()).min(self.len);
        if end <= self.fed {
            return;
        }
        let from = self.fed;
        // Six bytes of look-back: positions before `from` in the slice see
        // zeros where the slice starts, so they are scanned but dropped.
        let lo = from.saturating_sub(WINDOW - 1);
        let census = &mut self.census;
        scan_triggers(&data[lo..end], census.min_level, |pos, level| {
            let pos = pos + lo;
            if pos >= from {
                census.record(pos, level);
            }
        });
        self.fed = end;
    }

    /// The digest of `data`, the buffer fed (the rest of it is scanned
    /// first when `feed` stopped short; a buffer of another length than
    /// `new` was told is digested from scratch).
    pub fn finish(mut self, data: &[u8]) -> String {
        if data.len() != self.len {
            return digest(data);
        }
        self.feed(data, data.len());
        let guess = self.guess;
        let mut census = self.census;
        let level = loop {
            if let Some(level) = census.choose(guess) {
                break level;
            }
            let lower = census.min_level.saturating_sub(6);
            census = Census::take(data, lower);
        };
        finish_digest(data, &census, level)
    }
}

/// The second pass of [`digest`]: cut points of the two printed levels
/// (from the census's events when it kept them), then their piece hashes.
fn finish_digest(data: &[u8], census: &Census, level: u32) -> String {
    let n = data.len();
    let top = census.top();
    let with_second = level < top;
    // Cut points of the two printed levels.
    let (mut cuts1, mut cuts2) = (Cuts::new(), Cuts::new());
    let mut collect = |pos: usize, lvl: u32| {
        if lvl >= level {
            cuts1.push(pos, SPAMSUM_LENGTH - 1);
            if lvl > level {
                cuts2.push(pos, SPAMSUM_LENGTH / 2 - 1);
            }
        }
    };
    if census.overflow || census.min_level > level {
        scan_triggers(data, level, &mut collect);
    } else {
        for &(pos, lvl) in &census.events {
            collect(pos, u32::from(lvl));
        }
    }
    let final_roll = if n == 0 { 0 } else { roll_at(data, n - 1) };
    let mut ranges = signature_ranges(&cuts1, SPAMSUM_LENGTH - 1, n, final_roll);
    let sig1_len = ranges.len();
    if with_second {
        ranges.extend(signature_ranges(
            &cuts2,
            SPAMSUM_LENGTH / 2 - 1,
            n,
            final_roll,
        ));
    } else if final_roll != 0 {
        // No level above exists: libfuzzy prints the hash of all the data.
        ranges.push((0, n));
    }
    let hashes = piece_hashes(data, &ranges);
    let mut out = String::with_capacity(16 + SPAMSUM_LENGTH + SPAMSUM_LENGTH / 2);
    out.push_str(&(MIN_BLOCK << level).to_string());
    out.push(':');
    out.extend(hashes[..sig1_len].iter().map(|&h| b64(h)));
    out.push(':');
    out.extend(hashes[sig1_len..].iter().map(|&h| b64(h)));
    out
}

/// One signature of a digest with runs of more than three equal
/// characters cut to three, as libfuzzy reads it; `None` when longer than
/// 64 characters after that.
fn squeeze(part: &[u8]) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(SPAMSUM_LENGTH);
    for &b in part {
        let n = out.len();
        if n >= 3 && out[n - 1] == b && out[n - 2] == b && out[n - 3] == b {
            continue;
        }
        if n == SPAMSUM_LENGTH {
            return None;
        }
        out.push(b);
    }
    Some(out)
}

/// A digest split as libfuzzy splits it: block size, the part up to the
/// next `:`, and the part up to a `,` or the end.
struct Parsed {
    block: u64,
    sig1: Vec<u8>,
    sig2: Vec<u8>,
}

fn parse(s: &str) -> Option<Parsed> {
    // C strings end at the first NUL.
    let s = s.as_bytes();
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    let colon = s.iter().position(|&b| b == b':')?;
    let digits = &s[..colon];
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let block = digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    let rest = &s[colon + 1..];
    let colon2 = rest.iter().position(|&b| b == b':')?;
    let sig1 = squeeze(&rest[..colon2])?;
    let rest = &rest[colon2 + 1..];
    let end = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
    let sig2 = squeeze(&rest[..end])?;
    Some(Parsed { block, sig1, sig2 })
}

/// Whether two signatures share a substring of `WINDOW` characters
/// (bit-parallel: bit i of `d` says a match of the current length ends at
/// position i of `a`).
fn has_common_substring(a: &[u8], b: &[u8]) -> bool {
    if a.len() < WINDOW || b.len() < WINDOW {
        return false;
    }
    let mut pos = [0u64; 256];
    for (i, &c) in a.iter().enumerate() {
        pos[usize::from(c)] |= 1 << i;
    }
    for start in 0..=b.len() - WINDOW {
        let mut d = pos[usize::from(b[start])];
        for &c in &b[start + 1..start + WINDOW] {
            if d == 0 {
                break;
            }
            d = (d << 1) & pos[usize::from(c)];
        }
        if d != 0 {
            return true;
        }
    }
    false
}

/// Length of the longest common subsequence (both at most 64 long):
/// Hyyrö's bit-vector recurrence over the match masks of `a`.
fn lcs_len(a: &[u8], b: &[u8]) -> u32 {
    let mut pos = [0u64; 256];
    for (i, &c) in a.iter().enumerate() {
        pos[usize::from(c)] |= 1 << i;
    }
    let mut v = u64::MAX;
    for &c in b {
        let u = v & pos[usize::from(c)];
        v = v.wrapping_add(u) | (v - u);
    }
    let live = if a.len() >= 64 {
        u64::MAX
    } else {
        (1u64 << a.len()) - 1
    };
    (!v & live).count_ones()
}

/// libfuzzy's `score_strings`: 0..=100 for two squeezed signatures at
/// block size `block`.
fn score_strings(a: &[u8], b: &[u8], block: u64) -> u32 {
    if !has_common_substring(a, b) {
        return 0;
    }
    let (la, lb) = (a.len() as u32, b.len() as u32);
    // Insert and delete cost 1, replace 2: the distance is la + lb - 2·LCS.
    let dist = la + lb - 2 * lcs_len(a, b);
    let scaled = dist * SPAMSUM_LENGTH as u32 / (la + lb);
    let score = 100 - 100 * scaled / SPAMSUM_LENGTH as u32;
    // Small block sizes (short inputs) must not claim a big match.
    let small = (99 + WINDOW as u64) / WINDOW as u64 * MIN_BLOCK;
    if block >= small {
        return score;
    }
    let cap = block / MIN_BLOCK * u64::from(la.min(lb));
    score.min(u32::try_from(cap).unwrap_or(u32::MAX))
}

/// Similarity 0..=100 of two ssdeep digests, exactly libfuzzy's
/// `fuzzy_compare`. Where libfuzzy reports an error (malformed digest,
/// a signature longer than 64 characters after squeezing runs) this
/// returns 0. Digests whose block sizes are not equal or a factor of two
/// apart score 0.
pub fn compare(x: &str, y: &str) -> u32 {
    let (Some(a), Some(b)) = (parse(x), parse(y)) else {
        return 0;
    };
    let (b1, b2) = (a.block, b.block);
    if b1 == b2 && a.sig1 == b.sig1 && a.sig2 == b.sig2 {
        return 100;
    }
    if b1 == b2 {
        let s1 = score_strings(&a.sig1, &b.sig1, b1);
        if b1 > u64::MAX / 2 {
            return s1;
        }
        s1.max(score_strings(&a.sig2, &b.sig2, b1 * 2))
    } else if b1 <= u64::MAX / 2 && b1 * 2 == b2 {
        score_strings(&b.sig1, &a.sig2, b2)
    } else if b1 % 2 == 0 && b1 / 2 == b2 {
        score_strings(&a.sig1, &b.sig2, b1)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libfuzzy's streaming state machine, re-expressed as plainly as
    /// possible (all 31 levels live from the start, no early pruning): the
    /// slow oracle the fast multi-pass code must equal.
    fn reference(data: &[u8]) -> String {
        #[derive(Clone)]
        struct Level {
            sig: Vec<u8>,
            tail: Option<u8>,
            half_tail: Option<u8>,
            h: u8,
            half_h: u8,
        }
        let mut levels = vec![
            Level {
                sig: Vec::new(),
                tail: None,
                half_tail: None,
                h: HASH_INIT,
                half_h: HASH_INIT,
            };
            TOP_LEVEL as usize + 1
        ];
        let mut win = [0u8; WINDOW];
        let (mut h1, mut h2, mut h3) = (0u32, 0u32, 0u32);
        let mut whole = HASH_INIT;
        let mut highest: Option<usize> = None;
        let mut r_final = 0u32;
        for (i, &c) in data.iter().enumerate() {
            let cc = u32::from(c);
            h2 = h2.wrapping_sub(h1).wrapping_add(WINDOW as u32 * cc);
            h1 = h1.wrapping_add(cc).wrapping_sub(u32::from(win[i % WINDOW]));
            win[i % WINDOW] = c;
            h3 = (h3 << 5) ^ cc;
            let r = h1.wrapping_add(h2).wrapping_add(h3);
            r_final = r;
            whole = whole.wrapping_mul(FNV_PRIME_LOW) ^ c;
            for l in levels.iter_mut() {
                l.h = l.h.wrapping_mul(FNV_PRIME_LOW) ^ c;
                l.half_h = l.half_h.wrapping_mul(FNV_PRIME_LOW) ^ c;
            }
            for (k, l) in levels.iter_mut().enumerate() {
                let bs = MIN_BLOCK << k;
                if u64::from(r) % bs != bs - 1 {
                    break;
                }
                highest = highest.max(Some(k));
                if l.sig.len() < SPAMSUM_LENGTH - 1 {
                    l.sig.push(l.h & 63);
                    l.h = HASH_INIT;
                    l.half_tail = Some(l.half_h & 63);
                    if l.sig.len() < SPAMSUM_LENGTH / 2 {
                        l.half_h = HASH_INIT;
                        l.half_tail = None;
                    }
                } else {
                    l.tail = Some(l.h & 63);
                    l.half_tail = Some(l.half_h & 63);
                }
            }
        }
        let top = highest.map_or(0, |h| (h + 1).min(TOP_LEVEL as usize));
        let mut bi = 0;
        while bi < TOP_LEVEL as usize && (MIN_BLOCK << bi) * 64 < data.len() as u64 {
            bi += 1;
        }
        bi = bi.min(top);
        while bi > 0 && levels[bi].sig.len() < SPAMSUM_LENGTH / 2 {
            bi -= 1;
        }
        let mut s = format!("{}:", MIN_BLOCK << bi);
        let l = &levels[bi];
        s.extend(l.sig.iter().map(|&h| b64(h)));
        if r_final != 0 {
            s.push(b64(l.h));
        } else if let Some(t) = l.tail {
            s.push(b64(t));
        }
        s.push(':');
        if bi < top {
            let l2 = &levels[bi + 1];
            s.extend(l2.sig.iter().take(SPAMSUM_LENGTH / 2 - 1).map(|&h| b64(h)));
            if r_final != 0 {
                s.push(b64(l2.half_h));
            } else if let Some(t) = l2.half_tail {
                s.push(b64(t));
            }
        } else if r_final != 0 {
            s.push(b64(whole));
        }
        s
    }

    /// xorshift64*, deterministic test data.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn piece_hash_is_fnv_mod_64() {
        // The six low bits of 32-bit FNV-1 equal the one-byte shortcut.
        for h in 0..=255u8 {
            for c in 0..=255u8 {
                let full = (u32::from(h).wrapping_mul(0x0100_0193) ^ u32::from(c)) & 63;
                assert_eq!(u32::from((h.wrapping_mul(FNV_PRIME_LOW) ^ c) & 63), full);
            }
        }
        assert_eq!(0x2802_1967u32 & 63, u32::from(HASH_INIT));
    }

    #[test]
    fn rolling_value_matches_streaming_form() {
        let data = bytes(7, 5000);
        let (mut h1, mut h2, mut h3) = (0u32, 0u32, 0u32);
        let mut win = [0u8; WINDOW];
        for (i, &c) in data.iter().enumerate() {
            let cc = u32::from(c);
            h2 = h2.wrapping_sub(h1).wrapping_add(7 * cc);
            h1 = h1.wrapping_add(cc).wrapping_sub(u32::from(win[i % 7]));
            win[i % 7] = c;
            h3 = (h3 << 5) ^ cc;
            assert_eq!(
                roll_at(&data, i),
                h1.wrapping_add(h2).wrapping_add(h3),
                "at {i}"
            );
        }
    }

    #[test]
    fn trigger_levels_match_modulo_rule() {
        for r in (0..2_000_000u32).chain(u32::MAX - 100..=u32::MAX) {
            let q = third(r);
            for k in 0..=TOP_LEVEL {
                let bs = MIN_BLOCK << k;
                let want = u64::from(r) % bs == bs - 1;
                let got = hits(q, (1u32 << k) - 1);
                assert_eq!(got, want, "r={r} k={k}");
            }
        }
    }

    #[test]
    fn edge_inputs_match_reference() {
        let mut inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"x".to_vec(),
            vec![0; 4_000_000],
            b"abcdefg".repeat(600_000),
            vec![0xff; 100_000],
        ];
        for n in [
            1usize, 2, 6, 7, 8, 63, 64, 65, 191, 192, 193, 200, 4095, 4096, 4097,
        ] {
            inputs.push(bytes(n as u64, n));
        }
        // Half random, half zeros: the block size drops below the guess.
        let mut half = bytes(99, 300_000);
        half.extend(vec![0u8; 300_000]);
        inputs.push(half);
        for (i, d) in inputs.iter().enumerate() {
            assert_eq!(digest(d), reference(d), "input {i} (len {})", d.len());
        }
    }

    #[test]
    fn known_ssdeep_outputs() {
        // Printed by ssdeep 2.14.1 for these inputs.
        assert_eq!(digest(b""), "3::");
        assert_eq!(digest(b"x"), "3:d:d");
        assert_eq!(digest(&vec![0; 4_000_000]), "3::");
        assert_eq!(
            digest(&b"abcdefg".repeat(600_000)),
            format!("48:{}:n", "t".repeat(64))
        );
    }

    #[test]
    fn random_inputs_match_reference() {
        for seed in 0..60u64 {
            let n = (bytes(seed + 1000, 4)
                .iter()
                .fold(0usize, |a, &b| a * 256 + usize::from(b)))
                % 100_000;
            let mut d = bytes(seed, n);
            if seed % 3 == 0 {
                // Low entropy: few distinct bytes, long runs.
                for b in d.iter_mut() {
                    *b &= 0x03;
                }
            }
            assert_eq!(digest(&d), reference(&d), "seed {seed} len {n}");
        }
    }

    #[test]
    fn first_pass_fed_in_pieces_matches_reference() {
        // Pieces of every shape: shorter than the rolling window, odd
        // sizes, the fused loop's 16 KiB; low-entropy inputs make the
        // census fall back to lower levels.
        for seed in 0..24u64 {
            let n = [0, 1, 6, 7, 100, 5_000, 70_000, 200_000][seed as usize % 8];
            let mut d = bytes(seed + 77, n);
            if seed % 3 == 0 {
                for b in d.iter_mut() {
                    *b &= 0x01;
                }
            }
            let want = reference(&d);
            for piece in [1usize, 5, 7, 4099, 16 << 10] {
                let mut first = FirstPass::new(d.len());
                let mut end = 0;
                while end < d.len() {
                    end = (end + piece).min(d.len());
                    first.feed(&d, end);
                }
                assert_eq!(first.finish(&d), want, "seed {seed} len {n} piece {piece}");
            }
            // Fed half way: `finish` scans the rest.
            let mut half = FirstPass::new(d.len());
            half.feed(&d, d.len() / 2);
            assert_eq!(half.finish(&d), want, "seed {seed} half");
            // Told the wrong length: digested from scratch.
            assert_eq!(
                FirstPass::new(n + 1).finish(&d),
                want,
                "seed {seed} wrong length"
            );
        }
    }

    #[test]
    fn compare_rules() {
        let a = digest(&bytes(1, 100_000));
        let mut m = bytes(1, 100_000);
        m[50_000..50_100].fill(0);
        let b = digest(&m);
        assert_eq!(compare(&a, &a), 100);
        let s = compare(&a, &b);
        assert!(s > 50 && s < 100, "{a} {b} {s}");
        assert_eq!(compare(&a, &b), compare(&b, &a));
        // Unrelated data scores 0 (no common 7-character substring).
        assert_eq!(compare(&a, &digest(&bytes(2, 100_000))), 0);
        // Incompatible block sizes.
        assert_eq!(
            compare("3:abcdefghij:abcdefghij", "12:abcdefghij:abcdefghij"),
            0
        );
        // Identical strings score 100 even when too short to score otherwise.
        assert_eq!(compare("3::", "3::"), 100);
        assert_eq!(compare("3:abc:de", "3:abc:de"), 100);
        assert_eq!(compare("3:abc:de", "3:abc:df"), 0);
        // Runs longer than three are squeezed before comparing.
        assert_eq!(compare("3:aaaaaaaa:b", "3:aaa:b"), 100);
        // Malformed: no second colon, bad block size, overlong signature.
        assert_eq!(compare("3:abcdefgh", "3:abcdefgh"), 0);
        assert_eq!(compare("x:abc:def", "x:abc:def"), 0);
        assert_eq!(compare(":abc:def", ":abc:def"), 0);
        assert_eq!(
            compare("99999999999999999999999:a:b", "99999999999999999999999:a:b"),
            0
        );
        let long = format!("3:{}:a", "abcdefgh".repeat(9));
        assert_eq!(compare(&long, &long), 0);
        // Text after a comma (ssdeep's file name) is not part of sig2.
        assert_eq!(compare("3:abc:de,\"f1\"", "3:abc:de,\"f2\""), 100);
        // Small block sizes cap the score at block/3 · shorter length.
        assert_eq!(compare("3:abcdefgh:", "3:abcdefgX:"), 8);
        assert_eq!(compare("3:abcdefghi:", "3:abcdefghX:"), 9);
        assert_eq!(compare("48:abcdefghi:", "48:abcdefghX:"), 90);
        // Halved and doubled block sizes compare the shared level.
        assert_eq!(compare("48:zzzzzzz:abcdefghi", "96:abcdefghi:zzzzzzz"), 100);
        assert_eq!(compare("96:abcdefghi:yyyyyyy", "48:qqqqqqq:abcdefghi"), 100);
        // Hostile: NUL ends the string, huge inputs are cheap and never panic.
        assert_eq!(compare("3:abcdefgh:\0zzz", "3:abcdefgh:"), 100);
        let huge = "9".repeat(1 << 20);
        assert_eq!(compare(&huge, &huge), 0);
    }

    #[test]
    fn trigger_scans_agree() {
        let mut data = bytes(11, 200_000);
        data.extend(b"abcdefg".repeat(3000));
        data.extend(vec![0u8; 1000]);
        for level in [0u32, 2, 3, 5, 8, 12, 16, 17, 20, 30] {
            let mut want = Vec::new();
            for i in 0..data.len() {
                let q = third(roll_at(&data, i));
                if hits(q, (1u32 << level) - 1) {
                    want.push((i, q.trailing_zeros()));
                }
            }
            let mut portable = Vec::new();
            scan_body(&data, level, &mut |i, l| portable.push((i, l)));
            let mut dispatched = Vec::new();
            scan_triggers(&data, level, |i, l| dispatched.push((i, l)));
            assert_eq!(portable, want, "level {level}");
            assert_eq!(dispatched, want, "level {level}");
        }
    }

    #[test]
    fn piece_hash_engines_agree() {
        let data = bytes(3, 300_000);
        let cuts = bytes(4, 400);
        let mut ranges = vec![(0, 0), (5, 6), (0, 15), (0, 16), (1, 17), (0, data.len())];
        let mut start = 0;
        for w in cuts.chunks(2) {
            let end = (start + usize::from(w[0]) * usize::from(w[1]) / 16).min(data.len());
            ranges.push((start, end));
            start = end;
        }
        let want: Vec<u8> = ranges
            .iter()
            .map(|&(s, e)| chain(HASH_INIT, &data[s..e]))
            .collect();
        assert_eq!(piece_hashes_scalar(&data, &ranges), want);
        assert_eq!(piece_hashes(&data, &ranges), want);
    }

    #[test]
    fn lcs_and_substring_helpers() {
        assert_eq!(lcs_len(b"Hello world", b"Hell world"), 10);
        assert_eq!(lcs_len(b"Hello world", b"Hello owrld"), 10);
        assert_eq!(lcs_len(b"abc", b""), 0);
        let a64: Vec<u8> = (0..64).map(|i| B64[i]).collect();
        assert_eq!(lcs_len(&a64, &a64), 64);
        assert!(has_common_substring(b"xxabcdefgyy", b"abcdefg"));
        assert!(!has_common_substring(b"xxabcdefyy", b"abcdefg"));
        assert!(!has_common_substring(b"abcdef", b"abcdef"));
    }
}
