//! XOR-family string encodings of bot configurations: the decodings
//! (one-byte XOR, ADD/SUB, ROL, per-string XOR keys of 2–16 bytes,
//! rolling and chained XOR) and the search for their keys by known
//! plaintext (`irc.`, `.com`, `.net` …), each confirmed by decoding a
//! whole host the caller accepts.
//!
//! `botscope_specimen::config` builds encoded views from what
//! [`find_transforms`] finds; the de-obfuscation stage
//! ([`crate::Registry`]) records the same findings for every specimen.

/// Decides whether a decoded host is a real one (the specimen analysis
/// checks the public suffix list; [`plausible_host`] is the default).
pub type HostCheck<'f> = &'f dyn Fn(&str) -> bool;

/// Longest string decoded.
pub const MAX_STRING_LEN: usize = 255;
/// Distinct decoding keys tried per image.
pub const MAX_TRANSFORMS: usize = 8;
/// Anchor confirmations (full host decodes) per segment.
pub const MAX_CONFIRMS: usize = 4096;
/// And per image.
pub const MAX_IMAGE_CONFIRMS: usize = 16384;

fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\t'
}

fn host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_'
}

fn hex(k: &[u8]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// A host decoded from encoded bytes as a C&C name would read: at least
/// three labels (`irc.` + a registered name), lowercase letters, digits
/// and hyphens, a top-level label of 2–24 letters. Junk decoded by a
/// wrong key (`irc.Pe`, `irc.id`) fails.
pub fn plausible_host(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 3
        && s.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels[labels.len() - 2].len() >= 2
        && labels.last().is_some_and(|t| {
            (2..=24).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase())
        })
}

/// Whether `d` repeats itself with a period of 1–4 bytes (`irc.irc.ir`):
/// what a wrong key makes of stored bytes that repeat, never a host.
fn periodic(d: &[u8]) -> bool {
    (1..=4).any(|p| d.len() >= 2 * p + 2 && (p..d.len()).all(|j| d[j] == d[j - p]))
}

/// Every decoding [`find_transforms`] finds in `segs` (`(bytes, mapped)`),
/// as `(transform, segment index, anchor offset)`, within the per-segment
/// and per-image confirmation caps and at most [`MAX_TRANSFORMS`].
pub fn find_in_segments(
    segs: &[(&[u8], bool)],
    host_ok: HostCheck,
) -> Vec<(Transform, usize, usize)> {
    let keys = KeyIndex::new(segs);
    let mut found = Vec::new();
    let mut confirms = 0;
    for (k, &(bytes, _)) in segs.iter().enumerate() {
        find_transforms(bytes, &keys, &mut found, k, &mut confirms, host_ok);
        if found.len() >= MAX_TRANSFORMS {
            break;
        }
    }
    found
}

/// A decoding found from known plaintext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transform {
    /// Byte-wise, position-independent: stored = f(plain).
    Xor1(u8),
    /// Byte-wise: stored = plain + key (SUB k is ADD 256 − k).
    Add(u8),
    /// Byte-wise: stored = plain rotated left by this many bits.
    Rol(u8),
    /// Per string, restarting at each string's first byte.
    XorKey(Vec<u8>),
    /// Per string: byte `j` XOR-ed with `key + j`.
    Rolling(u8),
    /// Each byte XOR-ed with the previous stored byte (`key` before the first).
    Chained(u8),
}

impl Transform {
    /// Short label, as the specimen analysis prints it: `xor:5c`,
    /// `add:17`, `rol:3`, `xor:5ac3178e`, `rolling_xor:41`, `chained_xor:41`.
    pub fn label(&self) -> String {
        match self {
            Transform::Xor1(k) => format!("xor:{k:02x}"),
            Transform::Add(k) => format!("add:{k:02x}"),
            Transform::Rol(r) => format!("rol:{r}"),
            Transform::XorKey(k) => format!("xor:{}", hex(k)),
            Transform::Rolling(k) => format!("rolling_xor:{k:02x}"),
            Transform::Chained(k) => format!("chained_xor:{k:02x}"),
        }
    }

    /// The decoder's family name in a de-obfuscation record.
    pub fn family(&self) -> &'static str {
        match self {
            Transform::Xor1(_) => "xor8",
            Transform::Add(_) => "add8",
            Transform::Rol(_) => "rol8",
            Transform::XorKey(_) => "xor_key",
            Transform::Rolling(_) => "rolling_xor",
            Transform::Chained(_) => "chained_xor",
        }
    }

    /// Whether the key stream restarts at each string's first byte
    /// (string starts matter), rather than being the same at every byte.
    pub fn per_string(&self) -> bool {
        !matches!(
            self,
            Transform::Xor1(_) | Transform::Add(_) | Transform::Rol(_)
        )
    }

    /// Decodes byte `b` at position `j` of its string.
    pub fn decode(&self, b: u8, j: usize) -> u8 {
        match self {
            Transform::Xor1(k) => b ^ k,
            Transform::Add(k) => b.wrapping_sub(*k),
            Transform::Rol(r) => b.rotate_right(u32::from(*r)),
            Transform::XorKey(k) => b ^ k[j % k.len()],
            Transform::Rolling(k) => b ^ k.wrapping_add(j as u8),
            Transform::Chained(k) => b ^ k,
        }
    }

    /// Decodes byte `j` of the string starting at `raw[s]` (the chained
    /// XOR needs the stored byte before it).
    pub fn decode_at(&self, raw: &[u8], s: usize, j: usize) -> u8 {
        match self {
            Transform::Chained(k) if j == 0 => raw[s] ^ k,
            Transform::Chained(_) => raw[s + j] ^ raw[s + j - 1],
            t => t.decode(raw[s + j], j),
        }
    }

    /// Whether a stored zero byte can be part of a string (only when the
    /// key stream depends on the data).
    pub fn zero_ok(&self) -> bool {
        matches!(self, Transform::Chained(_))
    }
}

/// Plaintext anchors for the byte-wise transforms.
const ANCHORS: [&[u8; 4]; 6] = [b"irc.", b".com", b".net", b".org", b".biz", b"info"];

/// Decodes the string starting at `s` with `t` (phase 0 at `s`) until a
/// decoded NUL; `None` unless all of it is printable, holds no zero byte
/// and is terminated within [`MAX_STRING_LEN`] bytes.
pub fn decode_string(raw: &[u8], s: usize, t: &Transform) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for (j, &b) in raw.get(s..)?.iter().enumerate().take(MAX_STRING_LEN + 1) {
        let d = t.decode_at(raw, s, j);
        if d == 0 {
            return (!out.is_empty()).then_some(out);
        }
        // A zero byte is padding or plain text, never an encoded character.
        if (b == 0 && !t.zero_ok()) || !printable(d) {
            return None;
        }
        out.push(d);
    }
    None
}

/// For a byte-wise transform anchored mid-host at `i`: the host around it
/// (its start searched backwards over host characters, the longest that
/// decodes to a host; forwards to the NUL).
fn confirm_pi(raw: &[u8], i: usize, t: &Transform, host_ok: HostCheck) -> Option<String> {
    let mut s = i;
    while s > 0 && i - s < 64 && host_char(t.decode(raw[s - 1], 0)) {
        s -= 1;
    }
    (s..=i).find_map(|start| {
        let d = decode_string(raw, start, t)?;
        if raw[start..start + d.len()].contains(&0) {
            return None;
        }
        let h = std::str::from_utf8(&d).ok()?;
        host_ok(h).then(|| h.to_string())
    })
}

/// For a per-string transform anchored at a host's first byte `i`. An
/// encoded host holds no zero byte (zeros are padding or plain text).
fn confirm_restart(raw: &[u8], i: usize, t: &Transform, host_ok: HostCheck) -> Option<String> {
    let d = decode_string(raw, i, t)?;
    if !t.zero_ok() && raw[i..i + d.len()].contains(&0) {
        return None;
    }
    let h = std::str::from_utf8(&d).ok()?;
    (h.bytes().all(host_char) && !periodic(&d) && host_ok(h)).then(|| h.to_string())
}

/// Finds decodings in one segment by known plaintext: pushes (transform,
/// segment, anchor offset), each transform once. `confirms` counts full
/// host decodes: at most [`MAX_CONFIRMS`] in a segment, [`MAX_IMAGE_CONFIRMS`]
/// over the image.
pub fn find_transforms(
    raw: &[u8],
    key_store: &KeyIndex,
    found: &mut Vec<(Transform, usize, usize)>,
    seg: usize,
    confirms: &mut usize,
    host_ok: HostCheck,
) {
    if raw.len() < 8 {
        return;
    }
    // Key-independent relations between an anchor's first two bytes:
    // XOR and ROL keep `a ^ b` up to rotation, ADD keeps `b - a`; each
    // difference names the (anchor, rotation) pairs worth checking.
    let mut tx: Vec<Vec<(usize, u8)>> = vec![Vec::new(); 256];
    let mut ta: Vec<Vec<usize>> = vec![Vec::new(); 256];
    for (n, a) in ANCHORS.iter().enumerate() {
        let d = a[0] ^ a[1];
        for r in 0..8u8 {
            tx[d.rotate_left(u32::from(r)) as usize].push((n, r));
        }
        ta[a[1].wrapping_sub(a[0]) as usize].push(n);
    }
    let start_confirms = *confirms;
    let have = |t: &Transform, found: &Vec<(Transform, usize, usize)>| {
        found.iter().any(|(f, _, _)| f == t)
    };
    let hostc = {
        let mut h = [false; 256];
        for b in 0..=255u8 {
            // Decoded hosts are lowercase (see `is_decoded_host`).
            h[b as usize] = host_char(b) && !b.is_ascii_uppercase() && b != b'_';
        }
        h
    };
    for i in 0..raw.len() - 4 {
        if found.len() >= MAX_TRANSFORMS
            || *confirms - start_confirms >= MAX_CONFIRMS
            || *confirms >= MAX_IMAGE_CONFIRMS
        {
            break;
        }
        let (a, b, c, d) = (raw[i], raw[i + 1], raw[i + 2], raw[i + 3]);
        let w = [a, b, c, d];
        for &(n, r) in &tx[(a ^ b) as usize] {
            let anchor = ANCHORS[n];
            let t = if r == 0 {
                let k = a ^ anchor[0];
                if k == 0 || !(0..4).all(|j| w[j] ^ k == anchor[j]) {
                    continue;
                }
                Transform::Xor1(k)
            } else {
                if !(0..4).all(|j| w[j].rotate_right(u32::from(r)) == anchor[j]) {
                    continue;
                }
                Transform::Rol(r)
            };
            if !have(&t, found) {
                *confirms += 1;
                if confirm_pi(raw, i, &t, host_ok).is_some() {
                    found.push((t, seg, i));
                }
            }
        }
        for &n in &ta[b.wrapping_sub(a) as usize] {
            let anchor = ANCHORS[n];
            let k = a.wrapping_sub(anchor[0]);
            // Adding 0x80 is XOR-ing 0x80: one decoding, named `xor:80`.
            if k != 0 && k != 0x80 && (0..4).all(|j| w[j].wrapping_sub(k) == anchor[j]) {
                let t = Transform::Add(k);
                if !have(&t, found) {
                    *confirms += 1;
                    if confirm_pi(raw, i, &t, host_ok).is_some() {
                        found.push((t, seg, i));
                    }
                }
            }
        }
        // Chained XOR: stored bytes XOR-ed pairwise give the plain text
        // after the first byte, whatever the key.
        if b ^ a == b'r' && c ^ b == b'c' && d ^ c == b'.' {
            let t = Transform::Chained(a ^ b'i');
            if !have(&t, found) {
                *confirms += 1;
                if confirm_restart(raw, i, &t, host_ok).is_some() {
                    found.push((t, seg, i));
                }
            }
        }
        // Per-string encodings, anchored on a host starting "irc."; an
        // encoded host holds no zero byte.
        if a == 0 || b == 0 || c == 0 || d == 0 {
            continue;
        }
        let kk = [a ^ b'i', b ^ b'r', c ^ b'c', d ^ b'.'];
        // Rolling XOR: key, key+1, key+2, key+3.
        if kk[1] == kk[0].wrapping_add(1)
            && kk[2] == kk[0].wrapping_add(2)
            && kk[3] == kk[0].wrapping_add(3)
        {
            let t = Transform::Rolling(kk[0]);
            if !have(&t, found) {
                *confirms += 1;
                if confirm_restart(raw, i, &t, host_ok).is_some() {
                    found.push((t, seg, i));
                }
            }
        }
        if kk == [0; 4] || (kk[0] == kk[1] && kk[1] == kk[2] && kk[2] == kk[3]) {
            continue; // plain text or one-byte XOR (found above)
        }
        let key = if kk[0] == kk[2] && kk[1] == kk[3] {
            Some(vec![kk[0], kk[1]])
        } else if kk[0] == kk[3] {
            Some(vec![kk[0], kk[1], kk[2]])
        } else if raw.len() > i + 7
            && hostc[(raw[i + 4] ^ kk[0]) as usize]
            && hostc[(raw[i + 5] ^ kk[1]) as usize]
            && hostc[(raw[i + 6] ^ kk[2]) as usize]
        {
            Some(kk.to_vec())
        } else {
            None
        };
        if let Some(key) = key {
            let t = Transform::XorKey(key);
            if !have(&t, found) {
                *confirms += 1;
                if confirm_restart(raw, i, &t, host_ok).is_some() {
                    found.push((t, seg, i));
                    continue;
                }
            }
        }
        stored_keys(raw, i, kk, key_store, found, seg, confirms, host_ok);
    }
}

/// Keys of 5–16 bytes at anchor `i`: the image stores the key the
/// decoder uses, and its first four bytes are `kk`.
#[allow(clippy::too_many_arguments)] // the search's state, passed down
fn stored_keys(
    raw: &[u8],
    i: usize,
    kk: [u8; 4],
    key_store: &KeyIndex,
    found: &mut Vec<(Transform, usize, usize)>,
    seg: usize,
    confirms: &mut usize,
    host_ok: HostCheck,
) {
    for (ks, ko) in key_store.lookup(kk) {
        for len in 5..=16 {
            let Some(key) = key_store.key(ks, ko, len) else {
                break;
            };
            let t = Transform::XorKey(key);
            if found.iter().any(|(f, _, _)| *f == t) {
                break;
            }
            *confirms += 1;
            if confirm_restart(raw, i, &t, host_ok).is_some() {
                found.push((t, seg, i));
                break;
            }
        }
    }
}

/// Every 4-byte window of the mapped segments' first [`KEY_INDEX_BYTES`]
/// that could begin a stored XOR key (at most one zero byte; text keys
/// included): a bit filter, then a sorted list of (window, segment,
/// offset) for the few look-ups that pass it.
pub struct KeyIndex<'a> {
    segs: Vec<&'a [u8]>,
    sorted: Vec<(u32, u32, u32)>,
    /// One bit per hash of an indexed window: most look-ups stop here.
    bits: Vec<u64>,
}

/// Bytes indexed for stored keys (mapped segments up to this size).
const KEY_INDEX_BYTES: usize = 64 << 10;
/// Bits in the key filter.
const KEY_BITS: usize = 1 << 20;

fn key_hash(w: u32) -> usize {
    (w.wrapping_mul(0x9E37_79B1) >> 12) as usize
}

impl<'a> KeyIndex<'a> {
    /// Indexes the mapped segments (`(bytes, mapped)`; unmapped ones,
    /// such as an overlay, hold no key a decoder reads).
    pub fn new(segs: &[(&'a [u8], bool)]) -> KeyIndex<'a> {
        let mut sorted = Vec::new();
        let mut budget = KEY_INDEX_BYTES;
        let mut kept = Vec::new();
        for (si, &(bytes, mapped)) in segs.iter().enumerate() {
            kept.push(bytes);
            // Keys sit in initialised data next to the strings; skip big
            // segments (code, overlay) to keep the index small.
            if bytes.len() > budget || !mapped {
                continue;
            }
            budget -= bytes.len();
            for (o, w) in bytes.windows(4).enumerate() {
                // Text keys ("s3cr3t…") count: decoders kept them as strings.
                if w.iter().filter(|&&b| b == 0).count() > 1 {
                    continue;
                }
                let v = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                sorted.push((v, si as u32, o as u32));
            }
        }
        let mut bits = Vec::new();
        if !sorted.is_empty() {
            bits = vec![0u64; KEY_BITS / 64];
            for &(v, _, _) in &sorted {
                let h = key_hash(v);
                bits[h / 64] |= 1 << (h % 64);
            }
            sorted.sort_unstable();
        }
        KeyIndex {
            segs: kept,
            sorted,
            bits,
        }
    }

    /// Up to four places holding the window `w`.
    pub fn lookup(&self, w: [u8; 4]) -> Vec<(usize, usize)> {
        if self.bits.is_empty() {
            return Vec::new();
        }
        let v = u32::from_le_bytes(w);
        let h = key_hash(v);
        if self.bits[h / 64] >> (h % 64) & 1 == 0 {
            return Vec::new();
        }
        let from = self.sorted.partition_point(|e| e.0 < v);
        self.sorted[from..]
            .iter()
            .take_while(|e| e.0 == v)
            .take(4)
            .map(|e| (e.1 as usize, e.2 as usize))
            .collect()
    }

    /// `len` bytes at `off` of segment `seg`, if there are that many.
    pub fn key(&self, seg: usize, off: usize, len: usize) -> Option<Vec<u8>> {
        self.segs[seg].get(off..off + len).map(<[u8]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_decode_what_they_encode() {
        let p = b"irc.example.net";
        let cases = [
            Transform::Xor1(0x5c),
            Transform::Add(0x17),
            Transform::Rol(3),
            Transform::XorKey(vec![0x5a, 0xc3, 0x17, 0x8e, 0x91]),
            Transform::Rolling(0x41),
        ];
        for t in cases {
            let enc: Vec<u8> = p
                .iter()
                .chain([&0u8])
                .enumerate()
                .map(|(j, &b)| (0..=255u8).find(|&c| t.decode(c, j) == b).unwrap())
                .collect();
            let dec = decode_string(&enc, 0, &t).unwrap();
            assert_eq!(dec, p, "{t:?}");
        }
    }

    #[test]
    fn chained_xor_decodes_and_is_found() {
        let k = 0x41u8;
        let mut enc = vec![0u8; 8];
        let mut prev = k;
        for &b in b"irc.chain-example.org\0" {
            prev ^= b;
            enc.push(prev);
        }
        enc.extend_from_slice(&[0; 8]);
        let t = Transform::Chained(k);
        assert_eq!(
            decode_string(&enc, 8, &t).unwrap(),
            b"irc.chain-example.org"
        );
        let mut found = Vec::new();
        find_transforms(
            &enc,
            &KeyIndex::new(&[]),
            &mut found,
            0,
            &mut 0,
            &plausible_host,
        );
        assert_eq!(found, vec![(Transform::Chained(k), 0, 8)]);
    }
}
