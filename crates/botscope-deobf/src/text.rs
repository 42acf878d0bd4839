//! String encodings: base64, hex, ROT13, stack strings and UTF-16LE.
//!
//! Each decoder is one pass over its input with a constant amount of work
//! a byte (a class table, a few compares), and a match needs the decoded
//! text to read as text: all printable, at least [`MIN_TEXT`] bytes.
//! Random bytes rarely pass (12 printable bytes in a row from junk: about
//! one in 10^5), the base64 alphabet table bots carry decodes to junk.

use crate::record::{printable_runs, Finding, MAX_REVEALED_LEN};
use crate::registry::{within, Decoder, Input, Sink};

/// Least length of decoded text that counts.
pub const MIN_TEXT: usize = 6;
/// Least run of base64 characters looked at.
pub const MIN_BASE64: usize = 12;
/// Least run of hex digits looked at.
pub const MIN_HEX: usize = 16;
/// Longest run decoded (longer runs are decoded up to this).
pub const MAX_RUN: usize = 4096;

fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\r' | b'\n')
}

fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decodes standard or URL-safe base64 without padding checks; `None` on
/// a character outside the alphabet or a dangling single character.
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let s = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in s {
        acc = (acc << 6) | u32::from(b64_value(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Decodes hex digits (either case), `None` on an odd count or another
/// character.
pub fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 == 1 {
        return None;
    }
    let v = |c: u8| (c as char).to_digit(16);
    s.chunks(2)
        .map(|p| Some((v(p[0])? * 16 + v(p[1])?) as u8))
        .collect()
}

/// ROT13 of ASCII letters; other bytes as they are.
pub fn rot13(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|&c| match c {
            b'a'..=b'z' => (c - b'a' + 13) % 26 + b'a',
            b'A'..=b'Z' => (c - b'A' + 13) % 26 + b'A',
            _ => c,
        })
        .collect()
}

/// Whether decoded bytes read as text.
fn is_text(d: &[u8]) -> bool {
    d.len() >= MIN_TEXT
        && d.iter().all(|&b| printable(b))
        && d.iter().any(|b| b.is_ascii_alphabetic())
}

/// Maximal runs of bytes in `class` of at least `min` bytes: `(start,
/// end)`. A run that long holds byte `q + min - 1` for any start `q` it
/// may have in `q..q + min`, so that byte is tested first and, failing,
/// skips `min` bytes (as [`wide_runs`] does for pairs).
fn runs<'a>(
    b: &'a [u8],
    min: usize,
    class: impl Fn(u8) -> bool + 'a,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let min = min.max(1);
    // Invariant: byte `i - 1` is not in `class` (or `i` is 0).
    let mut i = 0;
    std::iter::from_fn(move || {
        while i + min <= b.len() {
            if !class(b[i + min - 1]) {
                i += min;
                continue;
            }
            if let Some(r) = (i..i + min - 1).rev().find(|&r| !class(b[r])) {
                i = r + 1;
                continue;
            }
            let s = i;
            let mut e = i + min;
            while e < b.len() && class(b[e]) {
                e += 1;
            }
            i = e + 1;
            return Some((s, e));
        }
        None
    })
}

fn finding(
    method: &str,
    inp: &Input,
    offset: usize,
    length: usize,
    revealed: Vec<String>,
) -> Finding {
    Finding {
        method: method.to_string(),
        region: inp.name.to_string(),
        offset: inp.base + offset,
        length,
        revealed,
        ..Finding::default()
    }
}

/// How a run-based text decoder reads: which bytes make a run, the least
/// run, how a run is cut to decodable length, and the decoding.
struct RunCodec {
    method: &'static str,
    min: usize,
    class: fn(u8) -> bool,
    trim: fn(&[u8]) -> &[u8],
    decode: fn(&[u8]) -> Option<Vec<u8>>,
}

impl RunCodec {
    /// Every run in `inputs` (within `budget`) that decodes to text.
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        let mut read = 0;
        // A class table: one look-up a byte instead of a call.
        let mut table = [false; 256];
        for (c, t) in table.iter_mut().enumerate() {
            *t = (self.class)(c as u8);
        }
        for (i, b) in within(inputs, budget, sink) {
            read += b.len() as u64;
            for (s, e) in runs(b, self.min, |c| table[c as usize]) {
                if !sink.room() {
                    return read;
                }
                let run = (self.trim)(&b[s..e.min(s + MAX_RUN)]);
                if run.len() < self.min {
                    continue;
                }
                let Some(d) = (self.decode)(run) else {
                    continue;
                };
                if is_text(&d) {
                    let rev = printable_runs(&d, MIN_TEXT, 1);
                    sink.findings
                        .push(finding(self.method, &inputs[i], s, run.len(), rev));
                }
            }
        }
        read
    }
}

/// A base64 run cut to whole quads, padding only at its end.
fn base64_trim(run: &[u8]) -> &[u8] {
    let mut run = &run[..run.len() - run.len() % 4];
    while run.len() > 1 && run[..run.len() - 1].contains(&b'=') {
        run = &run[..run.len() - 4];
    }
    run
}

/// Base64 text (standard or URL-safe alphabet).
pub struct Base64;

impl Decoder for Base64 {
    fn name(&self) -> &'static str {
        "base64"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        RunCodec {
            method: "base64",
            min: MIN_BASE64,
            class: |c| b64_value(c).is_some() || c == b'=',
            trim: base64_trim,
            decode: base64_decode,
        }
        .run(inputs, budget, sink)
    }
}

/// Hex-encoded text.
pub struct Hex;

impl Decoder for Hex {
    fn name(&self) -> &'static str {
        "hex"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        RunCodec {
            method: "hex",
            min: MIN_HEX,
            class: |c| c.is_ascii_hexdigit(),
            trim: |r| &r[..r.len() & !1],
            decode: hex_decode,
        }
        .run(inputs, budget, sink)
    }
}

/// What ROT13 text must reveal to count (searched in ROT13 form).
const ROT13_MARKERS: [&[u8]; 7] = [
    b"uggc://",  // http://
    b"uggcf://", // https://
    b"sgc://",   // ftp://
    b"vep.",     // irc.
    b"gsgc ",    // tftp
    b"CEVIZFT",  // PRIVMSG
    b".rkr",     // .exe
];

/// ROT13 (Caesar 13) text naming a URL, an IRC host or command.
pub struct Rot13;

impl Decoder for Rot13 {
    fn name(&self) -> &'static str {
        "rot13"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        let mut read = 0;
        for (i, b) in within(inputs, budget, sink) {
            read += b.len() as u64;
            let mut seen: Vec<(usize, usize)> = Vec::new();
            for m in ROT13_MARKERS {
                for at in memchr::memmem::find_iter(b, m) {
                    if !sink.room() {
                        return read;
                    }
                    let mut s = at;
                    while s > 0
                        && at - s < MAX_REVEALED_LEN
                        && printable(b[s - 1])
                        && b[s - 1] >= 0x20
                    {
                        s -= 1;
                    }
                    let mut e = at + m.len();
                    while e < b.len() && e - s < MAX_REVEALED_LEN && printable(b[e]) && b[e] >= 0x20
                    {
                        e += 1;
                    }
                    if seen.iter().any(|&(x, y)| s < y && x < e) {
                        continue;
                    }
                    seen.push((s, e));
                    let d = rot13(&b[s..e]);
                    sink.findings.push(finding(
                        "rot13",
                        &inputs[i],
                        s,
                        e - s,
                        printable_runs(&d, 4, 1),
                    ));
                }
            }
        }
        read
    }
}

/// A store of an immediate to the stack frame at `b[i..]`: `(frame
/// displacement, bytes stored, instruction length)`. `mov byte/dword
/// [ebp+d8/d32], imm` (`C6/C7 45|85`), `mov byte/dword [esp+d8/d32], imm`
/// (`C6/C7 44|84 24`).
fn stack_store(b: &[u8], i: usize) -> Option<(i64, [u8; 4], usize, usize)> {
    let op = *b.get(i)?;
    if op != 0xc6 && op != 0xc7 {
        return None;
    }
    let width = if op == 0xc6 { 1 } else { 4 };
    let modrm = *b.get(i + 1)?;
    let (disp_at, disp_len) = match modrm {
        0x45 => (i + 2, 1),
        0x85 => (i + 2, 4),
        0x44 if *b.get(i + 2)? == 0x24 => (i + 3, 1),
        0x84 if *b.get(i + 2)? == 0x24 => (i + 3, 4),
        _ => return None,
    };
    let disp = if disp_len == 1 {
        i64::from(*b.get(disp_at)? as i8)
    } else {
        let d = b.get(disp_at..disp_at + 4)?;
        i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))
    };
    let imm_at = disp_at + disp_len;
    let imm = b.get(imm_at..imm_at + width)?;
    let mut v = [0u8; 4];
    v[..width].copy_from_slice(imm);
    Some((disp, v, width, imm_at + width - i))
}

/// Most bytes of other instructions between two stores of one string.
const MAX_GAP: usize = 8;

/// Most stores one stack string is built from.
const MAX_STORES: usize = 256;

/// Strings a function builds on its stack one immediate store at a time
/// (compilers do this for local `char s[] = "…"` arrays, and bots to keep
/// strings out of the string table).
pub struct StackStrings;

impl Decoder for StackStrings {
    fn name(&self) -> &'static str {
        "stack_strings"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        let mut read = 0;
        for (k, b) in within(inputs, budget, sink) {
            read += b.len() as u64;
            let mut i = 0;
            while i < b.len() {
                if !sink.room() {
                    return read;
                }
                let Some(first) = stack_store(b, i) else {
                    // Every store starts with C6 or C7.
                    i = memchr::memchr2(0xc6, 0xc7, &b[i + 1..]).map_or(b.len(), |k| i + 1 + k);
                    continue;
                };
                // A run of consecutive stores.
                let start = i;
                let mut cells: Vec<(i64, u8)> = Vec::new();
                let mut st = Some(first);
                let mut n = 0;
                while let Some((disp, v, w, len)) = st {
                    for (j, &byte) in v[..w].iter().enumerate() {
                        cells.push((disp + j as i64, byte));
                    }
                    i += len;
                    n += 1;
                    if n == MAX_STORES {
                        break;
                    }
                    // Compilers schedule other instructions between the
                    // stores (`xor eax, eax`, `lea ecx, [esp+0x30]`).
                    st = None;
                    for gap in 0..=MAX_GAP {
                        if let Some(x) = stack_store(b, i + gap) {
                            i += gap;
                            st = Some(x);
                            break;
                        }
                    }
                }
                if n < 2 {
                    i = start + 1;
                    continue;
                }
                // Later stores win; then read the frame in address order.
                cells.reverse();
                cells.sort_by_key(|c| c.0);
                cells.dedup_by_key(|c| c.0);
                let mut bytes = Vec::new();
                let mut prev: Option<i64> = None;
                for (d, v) in cells {
                    if prev.is_some_and(|p| d != p + 1) {
                        bytes.push(0);
                    }
                    bytes.push(v);
                    prev = Some(d);
                }
                let rev = printable_runs(&bytes, 5, sink.limits.max_revealed);
                if !rev.is_empty() {
                    sink.findings
                        .push(finding("stack_strings", &inputs[k], start, i - start, rev));
                }
            }
        }
        read
    }
}

/// UTF-16LE strings that name a URL or a host the caller accepts (plain
/// wide strings are listed by the specimen's string pass; this decoder
/// records those that carry indicators).
pub struct Utf16;

impl Decoder for Utf16 {
    fn name(&self) -> &'static str {
        "utf16le"
    }
    fn run(&self, inputs: &[Input], budget: usize, sink: &mut Sink) -> u64 {
        let mut read = 0;
        for (k, b) in within(inputs, budget, sink) {
            read += b.len() as u64;
            for align in 0..2 {
                // Pairs `q` at this alignment: bytes `align + 2q` and the
                // zero after it.
                let pairs = b.len().saturating_sub(align) / 2;
                if pairs == 0 {
                    continue;
                }
                if !sink.room() {
                    return read;
                }
                for (s, e) in wide_runs(b, align, pairs) {
                    let text: Vec<u8> = (s..e.min(s + MAX_REVEALED_LEN))
                        .map(|q| b[align + 2 * q])
                        .collect();
                    if names_indicator(&text, sink) {
                        let t = String::from_utf8_lossy(&text).into_owned();
                        let at = align + 2 * s;
                        sink.findings.push(finding(
                            "utf16le",
                            &inputs[k],
                            at,
                            2 * (e - s),
                            vec![t],
                        ));
                        if !sink.room() && e < pairs {
                            return read;
                        }
                    }
                }
            }
        }
        read
    }
}

/// Maximal runs `[s, e)` of at least [`MIN_TEXT`] pairs (a printable
/// ASCII byte, then a zero) among the first `pairs` pairs from `align`.
/// A run that long holds pair `q + MIN_TEXT - 1` for any start `q` it
/// may have in `q..q + MIN_TEXT`, so that one pair is tested first and,
/// failing, skips `MIN_TEXT` pairs: non-text bytes cost about one test
/// every 12 bytes.
fn wide_runs(b: &[u8], align: usize, pairs: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let good =
        move |q: usize| b[align + 2 * q + 1] == 0 && (0x20..0x7f).contains(&b[align + 2 * q]);
    // Invariant: pair `q - 1` is not good (or `q` is 0), so a run of
    // good pairs from `q` starts at `q`.
    let mut q = 0;
    std::iter::from_fn(move || {
        while q + MIN_TEXT <= pairs {
            if !good(q + MIN_TEXT - 1) {
                q += MIN_TEXT;
                continue;
            }
            if let Some(r) = (q..q + MIN_TEXT - 1).rev().find(|&r| !good(r)) {
                q = r + 1;
                continue;
            }
            let s = q;
            let mut e = q + MIN_TEXT;
            while e < pairs && good(e) {
                e += 1;
            }
            q = e + 1;
            return Some((s, e));
        }
        None
    })
}

/// Whether `t` holds `://` or a token the host check accepts.
fn names_indicator(t: &[u8], sink: &Sink) -> bool {
    if memchr::memmem::find(t, b"://").is_some() {
        return true;
    }
    t.split(|&c| !(c.is_ascii_alphanumeric() || c == b'.' || c == b'-'))
        .filter(|w| w.len() >= 5 && w.contains(&b'.'))
        .any(|w| std::str::from_utf8(w).is_ok_and(|w| (sink.host_ok)(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex_round_trip_known_values() {
        assert_eq!(
            base64_decode(b"aXJjLmV4YW1wbGUubmV0").unwrap(),
            b"irc.example.net"
        );
        assert_eq!(base64_decode(b"aHR0cDovL2Eu").unwrap(), b"http://a.");
        assert_eq!(base64_decode(b"Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64_decode(b"Zm9vY"), None);
        assert_eq!(hex_decode(b"6972632e").unwrap(), b"irc.");
        assert_eq!(hex_decode(b"697"), None);
        assert_eq!(rot13(b"uggc://vep.rknzcyr.arg"), b"http://irc.example.net");
    }

    /// The skipping run finder gives the runs of the plain two-pass
    /// scan (every pair tested, maximal runs of at least MIN_TEXT pairs)
    /// at both alignments, on junk with wide strings planted at odd and
    /// even offsets, back to back, 5 and 6 characters long, and at the end.
    #[test]
    fn wide_runs_equal_the_plain_scan() {
        let mut x = 0x9e37_79b9u32;
        let mut b: Vec<u8> = (0..3001)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Many zeros and printables, so short runs are common.
                match x % 4 {
                    0 => 0,
                    1 => b'a' + (x >> 8) as u8 % 26,
                    _ => (x >> 16) as u8,
                }
            })
            .collect();
        let plant = |b: &mut Vec<u8>, at: usize, t: &[u8]| {
            for (j, &c) in t.iter().enumerate() {
                b[at + 2 * j] = c;
                b[at + 2 * j + 1] = 0;
            }
        };
        plant(&mut b, 100, b"http://irc.example.net");
        plant(&mut b, 301, b"abcde");
        plant(&mut b, 401, b"abcdef");
        plant(&mut b, 500, b"aaaaaaa");
        plant(&mut b, 514, b"bbbbbbbb");
        plant(&mut b, 2987, b"zzzzzzz");
        let mut total = 0;
        for align in 0..2 {
            let pairs = (b.len() - align) / 2;
            let good =
                |q: usize| b[align + 2 * q + 1] == 0 && (0x20..0x7f).contains(&b[align + 2 * q]);
            let mut want = Vec::new();
            let mut q = 0;
            while q < pairs {
                let s = q;
                while q < pairs && good(q) {
                    q += 1;
                }
                if q - s >= MIN_TEXT {
                    want.push((s, q));
                }
                q = q.max(s + 1);
            }
            let got: Vec<_> = wide_runs(&b, align, pairs).collect();
            assert_eq!(got, want, "alignment {align}");
            total += got.len();
        }
        // Planted: 100 (22 chars), 401 (6), 500+514 as one run of 15,
        // 2987 (7, to the end), each inside one run (junk may extend
        // it); "abcde" at 301 is too short.
        let runs: Vec<(usize, usize)> = (0..2)
            .flat_map(|a| {
                wide_runs(&b, a, (b.len() - a) / 2)
                    .map(move |(s, e)| (a + 2 * s, a + 2 * e))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (at, len) in [(100, 22), (401, 6), (500, 15), (2987, 7)] {
            assert!(
                runs.iter().any(|&(s, e)| s <= at && at + 2 * len <= e),
                "{at} in {runs:?}"
            );
        }
        assert!(!runs.iter().any(|&(s, e)| s <= 301 && 311 <= e));
        assert!(total >= 4);
    }

    /// The skipping run finder gives the maximal class runs of a plain
    /// byte-by-byte scan, for the base64 and hex classes and least runs
    /// 1, 12 and 16, on junk with planted base64 and hex text.
    #[test]
    fn class_runs_equal_the_plain_scan() {
        let mut x = 0x6c07_8965u32;
        let mut b: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                if x.is_multiple_of(2) {
                    b"0123456789abcdefXYZ+/="[(x >> 8) as usize % 22]
                } else {
                    (x >> 16) as u8
                }
            })
            .collect();
        b[1000..1020].copy_from_slice(b"aXJjLmV4YW1wbGUubmV0");
        b[2000..2016].copy_from_slice(b"6972632e6578616d");
        let l = b.len();
        b[l - 12..].copy_from_slice(b"Zm9vYmFyYmF6");
        let b64 = |c: u8| b64_value(c).is_some() || c == b'=';
        let hex = |c: u8| c.is_ascii_hexdigit();
        for (class, min) in [(&b64 as &dyn Fn(u8) -> bool, 12), (&hex, 16), (&hex, 1)] {
            let mut want = Vec::new();
            let mut i = 0;
            while i < b.len() {
                let s = i;
                while i < b.len() && class(b[i]) {
                    i += 1;
                }
                if i - s >= min {
                    want.push((s, i));
                }
                i = i.max(s + 1);
            }
            let got: Vec<_> = runs(&b, min, class).collect();
            assert_eq!(got, want, "min {min}");
            assert!(!got.is_empty());
        }
        let got: Vec<_> = runs(&b, 12, b64).collect();
        assert!(got.iter().any(|&(s, e)| s <= 1000 && 1020 <= e));
        assert!(got.iter().any(|&(s, e)| s <= l - 12 && e == l));
    }

    #[test]
    fn stack_store_forms() {
        // mov byte [ebp-0x10], 'i'
        assert_eq!(
            stack_store(&[0xc6, 0x45, 0xf0, b'i'], 0),
            Some((-16, [b'i', 0, 0, 0], 1, 4))
        );
        // mov dword [esp+0x20], "irc."
        assert_eq!(
            stack_store(&[0xc7, 0x44, 0x24, 0x20, b'i', b'r', b'c', b'.'], 0),
            Some((32, *b"irc.", 4, 8))
        );
        assert_eq!(stack_store(&[0xc7, 0x45], 0), None);
    }
}
