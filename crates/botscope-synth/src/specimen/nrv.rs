//! Greedy NRV2B / NRV2D / NRV2E compressors producing the bit streams UPX's
//! win32/pe stubs read (`nrv2b_le32`, `nrv2d_le32`, `nrv2e_le32`): control
//! bits are kept in 32-bit little-endian words, consumed most significant bit
//! first, interleaved with whole bytes (literals and low offset bytes).
//!
//! The matcher is a plain hash-chain greedy search: compression ratio is not
//! the point, a valid stream that botscope's decompressor must undo is.

/// Which NRV variant to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NrvMethod {
    /// NRV2B: offset prefix in 1-bit groups, far threshold 0xd00.
    B,
    /// NRV2D: offset prefix in 2-bit groups, low length bit in the offset.
    D,
    /// NRV2E: like NRV2D with a finer length code.
    E,
}

impl NrvMethod {
    /// UPX method number of the le32 variant (`M_NRV2B_LE32` = 2, D = 5, E = 8).
    pub fn upx_method(self) -> u8 {
        match self {
            NrvMethod::B => 2,
            NrvMethod::D => 5,
            NrvMethod::E => 8,
        }
    }

    fn far_threshold(self) -> usize {
        match self {
            NrvMethod::B => 0xd00,
            NrvMethod::D | NrvMethod::E => 0x500,
        }
    }
}

/// Bit writer: reserves a 32-bit word in the output when its first bit is
/// written, so the decoder meets the word before the bytes that follow it.
struct BitOut {
    out: Vec<u8>,
    word_at: usize,
    word: u32,
    nbits: u32,
}

impl BitOut {
    fn new() -> Self {
        BitOut {
            out: Vec::new(),
            word_at: 0,
            word: 0,
            nbits: 32,
        }
    }

    fn bit(&mut self, b: u32) {
        if self.nbits == 32 {
            self.word_at = self.out.len();
            self.out.extend_from_slice(&[0; 4]);
            self.word = 0;
            self.nbits = 0;
        }
        self.word = (self.word << 1) | (b & 1);
        self.nbits += 1;
        if self.nbits == 32 {
            self.out[self.word_at..self.word_at + 4].copy_from_slice(&self.word.to_le_bytes());
        }
    }

    fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// Gamma code where each data bit is followed by a stop flag (UCL's
    /// `ss11`): value >= 2.
    fn gamma11(&mut self, v: u64) {
        debug_assert!(v >= 2);
        let top = 63 - v.leading_zeros();
        for i in (0..top).rev() {
            self.bit(((v >> i) & 1) as u32);
            self.bit(u32::from(i == 0));
        }
    }

    /// Gamma code of NRV2D/E offsets (UCL's `ss12`): value >= 2.
    fn gamma12(&mut self, v: u64) {
        debug_assert!(v >= 2);
        // Walk the decoder backwards: v = 2u + d; before that, u = 2(w-1) + x.
        let mut groups: Vec<(Option<u32>, u32)> = Vec::new();
        let mut cur = v;
        loop {
            let d = (cur & 1) as u32;
            let u = cur >> 1;
            if u == 1 {
                groups.push((None, d));
                break;
            }
            let x = (u & 1) as u32;
            groups.push((Some(x), d));
            cur = (u >> 1) + 1;
        }
        groups.reverse();
        let n = groups.len();
        for (i, (x, d)) in groups.into_iter().enumerate() {
            if let Some(x) = x {
                self.bit(x);
            }
            self.bit(d);
            self.bit(u32::from(i + 1 == n));
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.nbits < 32 {
            let w = self.word << (32 - self.nbits);
            self.out[self.word_at..self.word_at + 4].copy_from_slice(&w.to_le_bytes());
        }
        self.out
    }
}

const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 2048;
const WINDOW: usize = 1 << 17;
const CHAIN_DEPTH: usize = 24;
const HASH_BITS: u32 = 15;

fn hash3(d: &[u8], i: usize) -> usize {
    let v = u32::from(d[i]) | u32::from(d[i + 1]) << 8 | u32::from(d[i + 2]) << 16;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Compresses `data` with `method`; the stream ends with the NRV end marker.
pub fn compress(data: &[u8], method: NrvMethod) -> Vec<u8> {
    let mut w = BitOut::new();
    let mut head = vec![usize::MAX; 1 << HASH_BITS];
    let mut prev = vec![usize::MAX; data.len()];
    let mut last_off: usize = 1;
    let mut i = 0;
    let insert = |head: &mut Vec<usize>, prev: &mut Vec<usize>, p: usize| {
        if p + MIN_MATCH <= data.len() {
            let h = hash3(data, p);
            prev[p] = head[h];
            head[h] = p;
        }
    };
    while i < data.len() {
        let (mut best_len, mut best_off) = (0usize, 0usize);
        if i + MIN_MATCH <= data.len() {
            let mut cand = head[hash3(data, i)];
            let mut depth = 0;
            let max = (data.len() - i).min(MAX_MATCH);
            while cand != usize::MAX && depth < CHAIN_DEPTH && i - cand <= WINDOW {
                let mut l = 0;
                while l < max && data[cand + l] == data[i + l] {
                    l += 1;
                }
                let off = i - cand;
                // Far matches cost one extra byte of length in every variant.
                let needed = if off > method.far_threshold() { 3 } else { 2 };
                if l >= needed.max(MIN_MATCH) && l > best_len {
                    best_len = l;
                    best_off = off;
                }
                cand = prev[cand];
                depth += 1;
            }
        }
        if best_len == 0 {
            w.bit(1);
            w.byte(data[i]);
            insert(&mut head, &mut prev, i);
            i += 1;
            continue;
        }
        w.bit(0);
        emit_match(&mut w, method, best_off, best_len, &mut last_off);
        for p in i..i + best_len {
            insert(&mut head, &mut prev, p);
        }
        i += best_len;
    }
    // End marker: an offset code whose value wraps to 0xffffffff.
    w.bit(0);
    w.gamma_for(method, 0x0100_0002);
    w.byte(0xff);
    w.finish()
}

impl BitOut {
    fn gamma_for(&mut self, method: NrvMethod, v: u64) {
        match method {
            NrvMethod::B => self.gamma11(v),
            NrvMethod::D | NrvMethod::E => self.gamma12(v),
        }
    }
}

fn emit_match(w: &mut BitOut, method: NrvMethod, off: usize, len: usize, last_off: &mut usize) {
    let far = usize::from(off > method.far_threshold());
    // m: the length value the decoder reads before adding `far` and one.
    let m = (len - 1 - far) as u64;
    match method {
        NrvMethod::B => {
            if off == *last_off {
                w.gamma11(2);
            } else {
                let raw = (off - 1) as u64;
                w.gamma11((raw >> 8) + 3);
                w.byte((raw & 0xff) as u8);
                *last_off = off;
            }
            if m <= 3 {
                w.bit((m >> 1) as u32);
                w.bit((m & 1) as u32);
            } else {
                w.bit(0);
                w.bit(0);
                w.gamma11(m - 2);
            }
        }
        NrvMethod::D | NrvMethod::E => {
            // The first length bit travels in the offset's low bit (inverted),
            // or as a plain bit when the last offset is reused.
            let first = match method {
                NrvMethod::D => u32::from((2..=3).contains(&m)),
                _ => u32::from(m <= 2),
            };
            if off == *last_off {
                w.gamma12(2);
                w.bit(first);
            } else {
                let raw = (((off - 1) as u64) << 1) | u64::from(first ^ 1);
                w.gamma12((raw >> 8) + 3);
                w.byte((raw & 0xff) as u8);
                *last_off = off;
            }
            if method == NrvMethod::D {
                if m <= 3 {
                    w.bit((m & 1) as u32);
                } else {
                    w.bit(0);
                    w.gamma11(m - 2);
                }
            } else if m <= 2 {
                w.bit((m - 1) as u32);
            } else if m <= 4 {
                w.bit(1);
                w.bit((m - 3) as u32);
            } else {
                w.bit(0);
                w.gamma11(m - 3);
            }
        }
    }
}

/// Adler-32 as UPX records it (one definition, in `botscope-core`).
pub use botscope_core::checksum::adler32;
