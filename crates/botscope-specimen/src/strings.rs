//! Printable strings (ASCII and UTF-16LE), single-byte XOR recovery and the
//! IRC bot config record.
//!
//! The config finder works on a *token stream*: the bytes of a region split
//! at NUL terminators (one NUL byte, or one NUL code unit in UTF-16), each
//! token either printable text or "not text". A config is a run
//! `host, port, [host, port ...], #channel, key-or-empty, nick-prefix`
//! (the layout the synthetic builder writes; see `docs/specimen.md`).

use botscope_core::botconfig::{BotConfig, BotServer};
use serde::Serialize;

/// Longest string kept (longer runs are cut).
pub const MAX_STRING: usize = 4096;
/// Most strings returned from one region.
pub const MAX_STRINGS: usize = 200_000;

/// A string found in a byte region.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FoundString {
    /// Offset in the region.
    pub offset: usize,
    /// `ascii` or `utf16le`.
    pub encoding: &'static str,
    /// The text.
    pub text: String,
}

fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\t'
}

#[cfg(any(not(target_arch = "x86_64"), test))]
const HIGH: u64 = 0x8080_8080_8080_8080;
#[cfg(any(not(target_arch = "x86_64"), test))]
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
#[cfg(any(not(target_arch = "x86_64"), test))]
const ONES: u64 = 0x0101_0101_0101_0101;

/// Gathers the high bit of each of a word's 8 bytes into 8 bits (byte `i`
/// → bit `i`); only the partial products of equal indices reach the top
/// byte, so no carry spoils it (checked over all 256 patterns in a test).
#[cfg(any(not(target_arch = "x86_64"), test))]
fn gather_high_bits(v: u64) -> u64 {
    ((v & HIGH) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Per byte of `x`: high bit set when the byte is printable (tab or
/// 0x20..=0x7e). Each addition stays inside its byte (7-bit operands).
#[cfg(any(not(target_arch = "x86_64"), test))]
fn printable_bytes(x: u64) -> u64 {
    let y = x & LOW7;
    let ge_space = (y + 0x60 * ONES) & HIGH;
    let ge_del = (y + ONES) & HIGH;
    let t = y ^ (0x09 * ONES);
    let is_tab = !(((t + LOW7) | t) & HIGH) & HIGH;
    ((ge_space & !ge_del) | is_tab) & !(x & HIGH)
}

/// Per byte of `x`: high bit set when the byte is zero.
#[cfg(any(not(target_arch = "x86_64"), test))]
fn zero_bytes(x: u64) -> u64 {
    !((((x & LOW7) + LOW7) | x) & HIGH) & HIGH
}

/// Bit masks of 64 bytes from `at`: (printable, zero); bytes past the end
/// count as neither.
fn block_masks(data: &[u8], at: usize) -> (u64, u64) {
    let block: [u8; 64] = match data.get(at..at + 64) {
        Some(b) => b.try_into().unwrap_or([0xff; 64]),
        None => {
            let mut b = [0xffu8; 64];
            if let Some(rest) = data.get(at..) {
                b[..rest.len()].copy_from_slice(rest);
            }
            b
        }
    };
    classify(&block)
}

/// (printable, zero) bit masks of a 64-byte block, 16 bytes at a time.
#[cfg(target_arch = "x86_64")]
fn classify(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::*;
    let (mut p, mut z) = (0u64, 0u64);
    for (i, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of the x86_64 baseline, and the unaligned
        // load reads exactly the 16 bytes of `lane`.
        let (pm, zm) = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast());
            // Signed compares: bytes >= 0x80 are negative, so not > 0x1f.
            let graphic = _mm_and_si128(
                _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x7f)),
            );
            let printable = _mm_or_si128(graphic, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x09)));
            let zero = _mm_cmpeq_epi8(v, _mm_setzero_si128());
            (_mm_movemask_epi8(printable), _mm_movemask_epi8(zero))
        };
        p |= u64::from(pm as u16) << (16 * i);
        z |= u64::from(zm as u16) << (16 * i);
    }
    (p, z)
}

/// (printable, zero) bit masks of a 64-byte block, 8 bytes at a time.
#[cfg(any(not(target_arch = "x86_64"), test))]
fn classify_words(block: &[u8; 64]) -> (u64, u64) {
    let (mut p, mut z) = (0u64, 0u64);
    for (w, bytes) in block.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(bytes.try_into().unwrap_or([0xff; 8]));
        p |= gather_high_bits(printable_bytes(word)) << (w * 8);
        z |= gather_high_bits(zero_bytes(word)) << (w * 8);
    }
    (p, z)
}

#[cfg(not(target_arch = "x86_64"))]
fn classify(block: &[u8; 64]) -> (u64, u64) {
    classify_words(block)
}

/// The even bits of `x` packed into the low 32 bits.
fn even_bits(x: u64) -> u64 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x >> 4)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x >> 8)) & 0x0000_ffff_0000_ffff;
    (x | (x >> 16)) & 0xffff_ffff
}

fn low_bits(n: u32) -> u64 {
    if n >= 64 {
        !0
    } else {
        (1u64 << n) - 1
    }
}

/// Finds runs of set bits at least `min` long in a bit stream fed a word
/// at a time (a run may span words).
struct RunFinder {
    min: u32,
    open: Option<usize>,
    pos: usize,
}

impl RunFinder {
    fn new(min: usize) -> Self {
        RunFinder {
            // Minimums above one word are not needed (callers use 4 or 5).
            min: min.clamp(1, 64) as u32,
            open: None,
            pos: 0,
        }
    }

    /// Feeds the next `nbits` (1..=64) of the stream; `emit(start, len)`.
    fn feed(&mut self, m: u64, nbits: u32, emit: &mut impl FnMut(usize, usize)) {
        let base = self.pos;
        self.pos += nbits as usize;
        let mut m = m & low_bits(nbits);
        if let Some(s) = self.open {
            let t = m.trailing_ones();
            if t >= nbits {
                return;
            }
            self.open = None;
            let end = base + t as usize;
            if end - s >= self.min as usize {
                emit(s, end - s);
            }
            m &= !low_bits(t);
        }
        // Words without a long enough run inside only matter for a run
        // reaching their top, which may go on in the next word.
        let mut long = m;
        for k in 1..self.min {
            long &= m >> k;
        }
        if long == 0 {
            let top = (m << (64 - nbits)).leading_ones();
            if top > 0 {
                self.open = Some(base + (nbits - top) as usize);
            }
            return;
        }
        while m != 0 {
            let s = m.trailing_zeros();
            let len = (m >> s).trailing_ones();
            if s + len >= nbits {
                self.open = Some(base + s as usize);
                return;
            }
            if len >= self.min {
                emit(base + s as usize, len as usize);
            }
            m &= !(low_bits(len) << s);
        }
    }

    fn finish(&mut self, emit: &mut impl FnMut(usize, usize)) {
        if let Some(s) = self.open.take() {
            if self.pos - s >= self.min as usize {
                emit(s, self.pos - s);
            }
        }
    }
}

/// Which kind of string a visitor is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringKind {
    /// Printable ASCII bytes.
    Ascii,
    /// UTF-16LE printable ASCII code units at even byte offsets.
    Utf16Even,
    /// The same at odd byte offsets.
    Utf16Odd,
}

impl StringKind {
    /// The name `FoundString::encoding` uses.
    pub fn encoding(self) -> &'static str {
        match self {
            StringKind::Ascii => "ascii",
            _ => "utf16le",
        }
    }
}

/// Calls `f(offset, kind, text)` for every ASCII string of at least `min`
/// printable bytes and every UTF-16LE string of at least `min` printable
/// units (at both alignments), texts cut at [`MAX_STRING`]. One pass: each
/// 64-byte block is classified once with word arithmetic and its bit masks
/// feed three run finders, so nothing is allocated per byte or per string
/// (UTF-16 texts reuse one buffer). Offsets ascend within each kind.
pub fn for_each_string(data: &[u8], min: usize, mut f: impl FnMut(usize, StringKind, &str)) {
    let mut ascii = RunFinder::new(min);
    let mut wide = [RunFinder::new(min), RunFinder::new(min)];
    let mut buf = String::new();
    let mut emit_ascii = |s: usize, len: usize| {
        // Printable bytes are ASCII, hence UTF-8.
        if let Ok(t) = std::str::from_utf8(&data[s..s + len.min(MAX_STRING)]) {
            f(s, StringKind::Ascii, t);
        }
    };
    let mut wide_runs: [Vec<(usize, usize)>; 2] = [Vec::new(), Vec::new()];
    // Unit k of alignment a starts at byte 2k + a; it is text when its low
    // byte is printable and its high byte zero.
    let units = [data.len() / 2, data.len().saturating_sub(1) / 2];
    let mut next = block_masks(data, 0);
    let mut at = 0;
    while at < data.len() {
        let (p, z) = next;
        next = block_masks(data, at + 64);
        ascii.feed(p, (data.len() - at).min(64) as u32, &mut emit_ascii);
        if p & (z >> 1 | next.1 << 63) != 0 || wide.iter().any(|w| w.open.is_some()) {
            let text_units = p & ((z >> 1) | (next.1 << 63));
            for align in 0..2 {
                let first = at / 2;
                if first < units[align] {
                    let n = (units[align] - first).min(32) as u32;
                    let runs = &mut wide_runs[align];
                    wide[align].feed(even_bits(text_units >> align), n, &mut |u, l| {
                        runs.push((u, l))
                    });
                }
            }
        } else {
            for w in &mut wide {
                w.pos += 32;
            }
        }
        at += 64;
    }
    ascii.finish(&mut emit_ascii);
    for (align, w) in wide.iter_mut().enumerate() {
        let runs = &mut wide_runs[align];
        w.finish(&mut |u, l| runs.push((u, l)));
    }
    for (align, runs) in wide_runs.iter().enumerate() {
        let kind = [StringKind::Utf16Even, StringKind::Utf16Odd][align];
        for &(unit, len) in runs {
            let s = unit * 2 + align;
            buf.clear();
            buf.extend(
                data[s..]
                    .iter()
                    .step_by(2)
                    .take(len.min(MAX_STRING))
                    .map(|&b| b as char),
            );
            f(s, kind, &buf);
        }
    }
}

/// ASCII strings of at least `min` printable bytes.
pub fn ascii_strings(data: &[u8], min: usize) -> Vec<FoundString> {
    collect(data, min, |k| k == StringKind::Ascii)
}

/// UTF-16LE strings (printable ASCII code units) of at least `min` units, at
/// both byte alignments, in offset order.
pub fn utf16_strings(data: &[u8], min: usize) -> Vec<FoundString> {
    collect(data, min, |k| k != StringKind::Ascii)
}

fn collect(data: &[u8], min: usize, want: impl Fn(StringKind) -> bool) -> Vec<FoundString> {
    let mut out = Vec::new();
    for_each_string(data, min, |offset, kind, t| {
        if want(kind) && out.len() < MAX_STRINGS {
            out.push(FoundString {
                offset,
                encoding: kind.encoding(),
                text: t.to_string(),
            });
        }
    });
    out.sort_by_key(|s| s.offset);
    out
}

/// How a config was stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundEncoding {
    /// Plain ASCII.
    Plain,
    /// XOR with one byte.
    Xor(u8),
    /// UTF-16LE.
    Utf16,
    /// XOR with a key of 2–16 bytes (lowercase hex), restarting at each
    /// string's first byte.
    XorKey(String),
    /// The byte added to every plain byte (SUB k is ADD 256 − k).
    Add(u8),
    /// Every byte rotated left by this many bits.
    Rol(u8),
    /// Byte `i` of each string XOR-ed with `key + i` (mod 256).
    RollingXor(u8),
    /// Each byte XOR-ed with the previous stored byte, the first with `key`.
    ChainedXor(u8),
}

impl FoundEncoding {
    /// Short label: `plain`, `utf16`, `xor:5c`, `xor:5ac3178e`, `add:17`,
    /// `rol:3`, `rolling_xor:41`, `chained_xor:41`.
    pub fn label(&self) -> String {
        match self {
            FoundEncoding::Plain => "plain".into(),
            FoundEncoding::Utf16 => "utf16".into(),
            FoundEncoding::Xor(k) => format!("xor:{k:02x}"),
            FoundEncoding::XorKey(k) => format!("xor:{k}"),
            FoundEncoding::Add(k) => format!("add:{k:02x}"),
            FoundEncoding::Rol(r) => format!("rol:{r}"),
            FoundEncoding::RollingXor(k) => format!("rolling_xor:{k:02x}"),
            FoundEncoding::ChainedXor(k) => format!("chained_xor:{k:02x}"),
        }
    }
}

/// Tokens: the NUL-terminated pieces of `data`, `None` when a piece is
/// not printable text under 256 bytes. Borrowed, not copied: the pieces are
/// found with `memchr` and printable ASCII is UTF-8. (The block finder
/// reads tokens around channel markers instead, `config_at_channels`; this
/// whole-region form is its test's reference.)
#[cfg(test)]
fn tokens_bytes(data: &[u8]) -> Vec<Option<&str>> {
    let mut out = Vec::new();
    let mut start = 0;
    for nul in memchr::memchr_iter(0, data) {
        let piece = &data[start..nul];
        start = nul + 1;
        out.push(
            if piece.len() < 256 && piece.iter().all(|&b| printable(b)) {
                std::str::from_utf8(piece).ok()
            } else {
                None
            },
        );
    }
    out
}

fn tokens_utf16(data: &[u8], align: usize) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut ok = true;
    let mut i = align;
    while i + 1 < data.len() {
        let (lo, hi) = (data[i], data[i + 1]);
        if lo == 0 && hi == 0 {
            out.push(if ok {
                Some(std::mem::take(&mut cur))
            } else {
                None
            });
            cur.clear();
            ok = true;
        } else if ok {
            if hi == 0 && printable(lo) && cur.len() < 256 {
                cur.push(lo as char);
            } else {
                ok = false;
            }
        }
        i += 2;
    }
    out
}

/// A valid IRC channel name as bots write it: `#` then 1..49 characters
/// without space, comma or BEL.
fn is_channel(s: &str) -> bool {
    s.len() >= 2 && s.len() <= 50 && s.starts_with('#') && !s.contains([' ', ',', '\x07'])
}

fn is_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p > 0)
}

/// A host a bot may connect to: a dotted IPv4 address or a name with a
/// known public suffix.
pub fn is_host(s: &str) -> bool {
    crate::ioc::parse_ipv4(s).is_some() || crate::ioc::is_fqdn(s)
}

fn config_in_tokens(t: &[Option<&str>]) -> Option<BotConfig> {
    for i in 0..t.len() {
        let Some(chan) = t[i] else {
            continue;
        };
        if !is_channel(chan) {
            continue;
        }
        let mut servers = Vec::new();
        let mut j = i;
        while j >= 2 {
            let (Some(h), Some(p)) = (t[j - 2], t[j - 1]) else {
                break;
            };
            let Some(port) = is_port(p) else { break };
            if !is_host(h) {
                break;
            }
            servers.push(BotServer {
                host: h.to_ascii_lowercase(),
                port,
            });
            j -= 2;
        }
        if servers.is_empty() {
            continue;
        }
        servers.reverse();
        let (Some(Some(key)), Some(Some(nick))) = (t.get(i + 1), t.get(i + 2)) else {
            continue;
        };
        if nick.is_empty() || nick.len() > 32 || nick.contains(' ') {
            continue;
        }
        return Some(BotConfig {
            servers,
            channel: chan.to_string(),
            key: (!key.is_empty()).then(|| key.to_string()),
            nick_prefix: nick.to_string(),
        });
    }
    None
}

/// Keys worth trying for single-byte XOR. A config's channel follows its
/// port: `digit NUL # printable`, which XOR-ed with `k` reads
/// `digit^k, k, '#'^k, printable^k`; each such window names candidate `k`
/// (random bytes almost never do). The most frequent first, at most 16.
pub fn xor_key_candidates(data: &[u8]) -> Vec<u8> {
    let mut count = [0u32; 256];
    let mut check = |w: &[u8]| {
        let k = w[1];
        if k != 0 && w[2] == b'#' ^ k && (w[0] ^ k).is_ascii_digit() && printable(w[3] ^ k) {
            count[k as usize] += 1;
        }
    };
    // The rarest test first, 32 windows at a time: bytes 1 and 2 of a
    // window XOR to '#' (one window in 256 of random bytes). The loop
    // over a fixed 32 compiles to vector compares and a movemask.
    let windows = data.len().saturating_sub(3);
    let mut start = 0;
    while start + 32 <= windows {
        let (Ok(a), Ok(b)) = (
            <&[u8; 32]>::try_from(&data[start + 1..start + 33]),
            <&[u8; 32]>::try_from(&data[start + 2..start + 34]),
        ) else {
            break;
        };
        let mut hits = 0u32;
        for j in 0..32 {
            hits |= u32::from(a[j] ^ b[j] == b'#') << j;
        }
        while hits != 0 {
            let s = start + hits.trailing_zeros() as usize;
            hits &= hits - 1;
            check(&data[s..s + 4]);
        }
        start += 32;
    }
    for s in start..windows {
        check(&data[s..s + 4]);
    }
    let mut keys: Vec<u8> = (1..=255u8).filter(|&k| count[k as usize] > 0).collect();
    keys.sort_by_key(|&k| std::cmp::Reverse(count[k as usize]));
    keys.truncate(16);
    keys
}

/// Finds the generator's config block in a region (see
/// [`crate::config`] for every other layout): plain, then UTF-16LE, then
/// single-byte XOR. Each
/// encoding is tokenised only when the region holds its `NUL #` marker
/// (the port's terminator before the channel).
pub fn find_config(data: &[u8]) -> Option<(BotConfig, FoundEncoding)> {
    use memchr::memmem::find;
    if let Some(c) = config_at_channels(data, 0) {
        return Some((c, FoundEncoding::Plain));
    }
    if find(data, b"\0\0#\0").is_some() {
        for align in 0..2 {
            let wide = tokens_utf16(data, align);
            let tokens: Vec<Option<&str>> = wide.iter().map(|t| t.as_deref()).collect();
            if let Some(c) = config_in_tokens(&tokens) {
                return Some((c, FoundEncoding::Utf16));
            }
        }
    }
    for k in xor_key_candidates(data) {
        if let Some(c) = config_at_channels(data, k) {
            return Some((c, FoundEncoding::Xor(k)));
        }
    }
    None
}

/// Tokens (see `tokens_bytes`) are at most this long; longer pieces are
/// no token a config can use.
const MAX_TOKEN: usize = 255;

/// `config_in_tokens(&tokens_bytes(&xor_decode(data, key)))` without
/// decoding or tokenising the region: a config's channel token follows its
/// port token, so its first byte sits in a `digit NUL # printable` window
/// of the decoded bytes (NUL is `key` in `data`), and every token the
/// config reads is found from there by looking for `key` at most
/// [`MAX_TOKEN`] + 1 bytes away. Windows are tried in byte order, which is
/// token order: the same config comes first.
fn config_at_channels(data: &[u8], key: u8) -> Option<BotConfig> {
    let marker = [key, b'#' ^ key];
    for nul in memchr::memmem::find_iter(data, &marker) {
        let c = nul + 1;
        if nul == 0 || !(data[nul - 1] ^ key).is_ascii_digit() {
            continue;
        }
        if let Some(cfg) = config_at(data, key, c) {
            return Some(cfg);
        }
    }
    None
}

/// The decoded token `data[start..end]` (`end` its NUL): `None` when it is
/// too long or holds a byte that is not printable once decoded.
fn token_text(data: &[u8], key: u8, start: usize, end: usize) -> Option<String> {
    let piece = data.get(start..end)?;
    if piece.len() > MAX_TOKEN {
        return None;
    }
    piece
        .iter()
        .map(|&b| b ^ key)
        .map(|b| printable(b).then_some(char::from(b)))
        .collect()
}

/// Start of the token that ends at the NUL at `end`: after the previous
/// NUL, or 0. `None` when the token is longer than [`MAX_TOKEN`] (no
/// NUL close enough: it could only be a `None` token).
fn token_start(data: &[u8], key: u8, end: usize) -> Option<usize> {
    let from = end.saturating_sub(MAX_TOKEN + 1);
    match memchr::memrchr(key, &data[from..end]) {
        Some(p) => Some(from + p + 1),
        None if from == 0 => Some(0),
        None => None,
    }
}

/// The token starting at `start` and the position of its NUL; `None` when
/// no NUL ends it within [`MAX_TOKEN`] bytes (too long, or never ended).
fn token_from(data: &[u8], key: u8, start: usize) -> Option<(String, usize)> {
    let to = data.len().min(start.saturating_add(MAX_TOKEN + 1));
    let end = start + memchr::memchr(key, data.get(start..to)?)?;
    Some((token_text(data, key, start, end)?, end))
}

/// `config_in_tokens` for the channel token starting at byte `c`.
fn config_at(data: &[u8], key: u8, c: usize) -> Option<BotConfig> {
    let (chan, chan_end) = token_from(data, key, c)?;
    if !is_channel(&chan) {
        return None;
    }
    let mut servers = Vec::new();
    // `start`: first byte of token j; tokens j-1 and j-2 must exist.
    let mut start = c;
    while start > 0 {
        let port_end = start - 1;
        let Some(port_start) = token_start(data, key, port_end) else {
            break;
        };
        if port_start == 0 {
            break;
        }
        let host_end = port_start - 1;
        let Some(host_start) = token_start(data, key, host_end) else {
            break;
        };
        let (Some(h), Some(p)) = (
            token_text(data, key, host_start, host_end),
            token_text(data, key, port_start, port_end),
        ) else {
            break;
        };
        let Some(port) = is_port(&p) else { break };
        if !is_host(&h) {
            break;
        }
        servers.push(BotServer {
            host: h.to_ascii_lowercase(),
            port,
        });
        start = host_start;
    }
    if servers.is_empty() {
        return None;
    }
    servers.reverse();
    let (key_text, key_end) = token_from(data, key, chan_end + 1)?;
    let (nick, _) = token_from(data, key, key_end + 1)?;
    if nick.is_empty() || nick.len() > 32 || nick.contains(' ') {
        return None;
    }
    Some(BotConfig {
        servers,
        channel: chan,
        key: (!key_text.is_empty()).then_some(key_text),
        nick_prefix: nick,
    })
}

/// Decodes a region with a XOR key (for string and IOC listing).
pub fn xor_decode(data: &[u8], key: u8) -> Vec<u8> {
    data.iter().map(|b| b ^ key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `find_config` as it was: every region decoded and tokenised whole.
    fn find_config_whole(data: &[u8]) -> Option<(BotConfig, FoundEncoding)> {
        if memchr::memmem::find(data, b"\0#").is_some() {
            if let Some(c) = config_in_tokens(&tokens_bytes(data)) {
                return Some((c, FoundEncoding::Plain));
            }
        }
        if memchr::memmem::find(data, b"\0\0#\0").is_some() {
            for align in 0..2 {
                let wide = tokens_utf16(data, align);
                let tokens: Vec<Option<&str>> = wide.iter().map(|t| t.as_deref()).collect();
                if let Some(c) = config_in_tokens(&tokens) {
                    return Some((c, FoundEncoding::Utf16));
                }
            }
        }
        for k in xor_key_candidates(data) {
            let decoded = xor_decode(data, k);
            if let Some(c) = config_in_tokens(&tokens_bytes(&decoded)) {
                return Some((c, FoundEncoding::Xor(k)));
            }
        }
        None
    }

    #[test]
    fn config_at_channels_matches_whole_region_tokens() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let blocks: [&[u8]; 8] = [
            b"irc.a.net\x006667\0#chan\0key\0bot-\0",
            b"1.2.3.4\x007000\0irc.b.org\x006667\0#x1\0\0nick\0",
            b"irc.c.com\x006667\0#has space\0k\0n\0",
            b"irc.d.com\x006667\0#ok\0k\0has space\0",
            b"irc.e.com\x0070000\0#ok\0k\0n\0",
            b"not a host\x006667\0#ok\0k\0n\0",
            b"irc.f.net\x006667\0#end\0key\0",
            b"irc.g.net\x006667\0#chan\0key\0nick",
        ];
        let mut found = 0;
        for case in 0..400u32 {
            let n = (rnd() % 3000) as usize;
            let mut data: Vec<u8> = (0..n).map(|_| rnd() as u8).collect();
            // Low-entropy filler in some cases: long printable runs (tokens
            // over 255 bytes) and many NULs.
            if case % 4 == 1 {
                for b in data.iter_mut() {
                    *b = if *b < 8 { 0 } else { b'a' + *b % 26 };
                }
            }
            let key = if case % 3 == 0 {
                0
            } else {
                (rnd() % 255 + 1) as u8
            };
            for _ in 0..(rnd() % 3) {
                let mut b = blocks[(rnd() % 8) as usize].to_vec();
                if rnd() % 4 == 0 {
                    // A host longer than a token may be.
                    b.splice(0..0, std::iter::repeat_n(b'h', 250));
                }
                for v in b.iter_mut() {
                    *v ^= key;
                }
                let at = if data.is_empty() {
                    0
                } else {
                    (rnd() as usize) % (data.len() + 1)
                };
                let at = if rnd() % 8 == 0 { 0 } else { at };
                data.splice(at..at, b);
            }
            let want = find_config_whole(&data);
            found += usize::from(want.is_some());
            let got = find_config(&data);
            assert_eq!(
                format!("{got:?}"),
                format!("{want:?}"),
                "case {case} key {key:02x}"
            );
        }
        assert!(found > 50, "configs found: {found}");
    }

    #[test]
    fn xor_key_candidates_match_every_window_test() {
        // The byte-at-a-time definition, over random bytes with planted
        // `digit NUL # printable` windows under several keys (at the
        // 32-window block edges too), and every short length.
        fn reference(data: &[u8]) -> Vec<u8> {
            let mut count = [0u32; 256];
            for w in data.windows(4) {
                let k = w[1];
                if k != 0 && w[2] == b'#' ^ k && (w[0] ^ k).is_ascii_digit() && printable(w[3] ^ k)
                {
                    count[k as usize] += 1;
                }
            }
            let mut keys: Vec<u8> = (1..=255u8).filter(|&k| count[k as usize] > 0).collect();
            keys.sort_by_key(|&k| std::cmp::Reverse(count[k as usize]));
            keys.truncate(16);
            keys
        }
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut data: Vec<u8> = (0..70_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for (i, at) in [0usize, 29, 30, 31, 32, 63, 4_000, 69_996]
            .iter()
            .enumerate()
        {
            let k = 0x41 + i as u8 * 3;
            data[*at..*at + 4].copy_from_slice(&[b'6' ^ k, k, b'#' ^ k, b'c' ^ k]);
        }
        let want = reference(&data);
        assert!(want.len() >= 8, "planted keys found: {want:?}");
        assert_eq!(xor_key_candidates(&data), want);
        for n in 0..200 {
            assert_eq!(
                xor_key_candidates(&data[..n]),
                reference(&data[..n]),
                "len {n}"
            );
            let tail = &data[data.len() - n..];
            assert_eq!(xor_key_candidates(tail), reference(tail), "tail {n}");
        }
    }

    /// The byte-at-a-time definition the word-parallel finders must match.
    fn reference(data: &[u8], min: usize) -> Vec<(usize, &'static str, String)> {
        let mut out = Vec::new();
        let mut start = None;
        for i in 0..=data.len() {
            if i < data.len() && printable(data[i]) {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                if i - s >= min {
                    let t = &data[s..i.min(s + MAX_STRING)];
                    out.push((s, "ascii", String::from_utf8(t.to_vec()).unwrap()));
                }
            }
        }
        let mut wide = Vec::new();
        for align in 0..2 {
            let (mut start, mut text) = (None, String::new());
            let mut i = align;
            loop {
                let unit = (i + 1 < data.len()).then(|| (data[i], data[i + 1]));
                match unit {
                    Some((lo, 0)) if printable(lo) => {
                        start.get_or_insert(i);
                        if text.len() < MAX_STRING {
                            text.push(lo as char);
                        }
                    }
                    _ => {
                        if let Some(s) = start.take() {
                            if (i - s) / 2 >= min {
                                wide.push((s, "utf16le", text.clone()));
                            }
                        }
                        text.clear();
                        if unit.is_none() {
                            break;
                        }
                    }
                }
                i += 2;
            }
        }
        wide.sort_by_key(|w| w.0);
        out.extend(wide);
        out
    }

    fn found(data: &[u8], min: usize) -> Vec<(usize, &'static str, String)> {
        ascii_strings(data, min)
            .into_iter()
            .chain(utf16_strings(data, min))
            .map(|s| (s.offset, s.encoding, s.text))
            .collect()
    }

    #[test]
    fn gather_is_exact_for_all_patterns() {
        for pattern in 0..=255u64 {
            let mut v = 0u64;
            for i in 0..8 {
                if pattern >> i & 1 == 1 {
                    v |= 0x80 << (8 * i);
                }
            }
            // Noise in the low 7 bits of every byte must not matter.
            assert_eq!(gather_high_bits(v | 0x7f7f_7f7f_7f7f_7f7f), pattern);
        }
    }

    #[test]
    fn byte_classes_match_the_definition() {
        for b in 0..=255u8 {
            let w = u64::from_le_bytes([b, 0, b, b'a', b, 0xff, b, 0x09]);
            let p = gather_high_bits(printable_bytes(w));
            assert_eq!(p & 1 == 1, printable(b), "byte {b:#x}");
            assert_eq!(p >> 3 & 1, 1);
            assert_eq!(p >> 5 & 1, 0);
            assert_eq!(p >> 7 & 1, 1);
            let z = gather_high_bits(zero_bytes(w));
            assert_eq!(z & 1 == 1, b == 0, "byte {b:#x}");
            assert_eq!(z >> 1 & 1, 1);
        }
    }

    #[test]
    fn both_classifiers_agree() {
        for seed in 0..64u8 {
            let mut block = [0u8; 64];
            for (i, b) in block.iter_mut().enumerate() {
                *b = (i as u8)
                    .wrapping_mul(37)
                    .wrapping_add(seed.wrapping_mul(101))
                    ^ seed;
            }
            block[seed as usize] = 0;
            assert_eq!(classify(&block), classify_words(&block), "seed {seed}");
        }
    }

    #[test]
    fn word_parallel_finders_equal_the_bytewise_definition() {
        // Pseudo-random buffers rich in printable runs, NULs and
        // UTF-16 text, of every length across several 64-byte blocks.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in (0..300).chain([1000, 4096, 9000]) {
            for min in [1, 4, 5, 13] {
                let data: Vec<u8> = (0..len)
                    .map(|i| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        match x % 7 {
                            0 | 1 => b'a' + (x >> 8) as u8 % 26,
                            2 if i % 2 == 1 => 0,
                            2 => b'A',
                            3 => 0,
                            4 => b' ',
                            _ => (x >> 16) as u8,
                        }
                    })
                    .collect();
                assert_eq!(
                    found(&data, min),
                    reference(&data, min),
                    "len {len} min {min}"
                );
            }
        }
        let long = vec![b'x'; 3 * MAX_STRING];
        assert_eq!(found(&long, 5), reference(&long, 5));
        let wide: Vec<u8> = b"http://c2.example.net/x"
            .iter()
            .flat_map(|&b| [b, 0])
            .collect();
        assert_eq!(utf16_strings(&wide, 5)[0].text, "http://c2.example.net/x");
    }
}
