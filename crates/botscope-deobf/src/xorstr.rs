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

/// The period of 1–4 bytes `d` repeats itself with (`irc.irc.ir`), if
/// any: what a wrong key makes of stored bytes that repeat, never a host.
fn period(d: &[u8]) -> Option<usize> {
    (1..=4).find(|&p| d.len() >= 2 * p + 2 && (p..d.len()).all(|j| d[j] == d[j - p]))
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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

/// What ends a decoded string: its NUL, or a byte it cannot hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Nul,
    Bad,
}

/// The decoded bytes a transform yields, as far as scanning goes: starts
/// whose decodings agree byte for byte share one stream, so a stretch
/// scanned for one start is not scanned again for the next (a run of one
/// repeated byte is an anchor at every offset, issue 19).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Stream {
    /// A byte-wise transform (XOR 0, ADD 1, ROL 2; key): the same at every
    /// position.
    Fixed(u8, u8),
    /// A per-string key (bytes, length) restarted at offsets ≡ phase
    /// (mod its length).
    Keyed([u8; 16], u8, u8),
    /// Rolling XOR: byte `m` XOR-ed with `base + m`.
    Rolling(u8),
    /// Chained XOR after a string's first byte: `raw[m] ^ raw[m - 1]`.
    Chained,
}

impl Stream {
    /// The stream the string starting at `s` reads with `t`.
    fn of(t: &Transform, s: usize) -> Stream {
        match t {
            Transform::XorKey(k) => {
                // Keys are 2–16 bytes (`stored_keys` reads at most 16).
                let mut key = [0u8; 16];
                let n = k.len().min(16);
                key[..n].copy_from_slice(&k[..n]);
                Stream::Keyed(key, n as u8, (s % n) as u8)
            }
            Transform::Rolling(k) => Stream::Rolling(k.wrapping_sub(s as u8)),
            Transform::Chained(_) => Stream::Chained,
            Transform::Xor1(k) => Stream::Fixed(0, *k),
            Transform::Add(k) => Stream::Fixed(1, *k),
            Transform::Rol(r) => Stream::Fixed(2, *r),
        }
    }
}

/// A hash map with a multiply-rotate hash: its keys are a few machine
/// words made by the search, not chosen by an adversary directly, and
/// SipHash cost more than the scanning it saves.
type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<WordHasher>>;

/// FxHash's word mixing.
#[derive(Default)]
struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Positions `[lo, hi)` of a stream hold no string end; `end` is the
/// one at `hi` when scanned.
#[derive(Clone, Copy)]
struct Span {
    lo: usize,
    hi: usize,
    end: Option<End>,
}

/// The search's memory of one segment: scanned spans per stream, and per
/// byte-wise transform the last anchor whose every start failed.
struct Scanner<'r> {
    raw: &'r [u8],
    spans: FastMap<Stream, Span>,
    pi_done: FastMap<Stream, usize>,
    /// Per stream and string end: a start whose string repeats, and its period.
    periodic_tails: FastMap<(Stream, usize), (usize, usize)>,
    /// Bytes decoded or tested so far (the bounded-work test reads it).
    work: u64,
}

impl<'r> Scanner<'r> {
    fn new(raw: &'r [u8]) -> Scanner<'r> {
        Scanner {
            raw,
            spans: FastMap::default(),
            pi_done: FastMap::default(),
            periodic_tails: FastMap::default(),
            work: 0,
        }
    }

    /// The first string end of stream `st` in `[from, limit)`.
    fn first_end(&mut self, st: &Stream, from: usize, limit: usize) -> Option<(usize, End)> {
        if from >= limit {
            return None;
        }
        let raw = self.raw;
        let old = self.spans.get(st).copied();
        let (lo, mut m) = match old {
            Some(sp) if sp.lo <= from && from <= sp.hi => {
                if let Some(e) = sp.end {
                    return (sp.hi < limit).then_some((sp.hi, e));
                }
                (sp.lo, sp.hi)
            }
            _ => (from, from),
        };
        let (key, klen, phase) = match st {
            Stream::Keyed(k, n, ph) => (*k, usize::from(*n), usize::from(*ph)),
            _ => ([0; 16], 1, 0),
        };
        let mut end = None;
        while m < limit {
            // A fresh scan that reaches the remembered span skips it.
            if let Some(sp) = old {
                if m == sp.lo && from < sp.lo {
                    m = sp.hi;
                    if let Some(e) = sp.end {
                        if m < limit {
                            end = Some(e);
                        }
                        break;
                    }
                    continue;
                }
            }
            self.work += 1;
            let b = raw[m];
            let (d, zero_ok) = match st {
                Stream::Fixed(0, k) => (b ^ k, false),
                Stream::Fixed(1, k) => (b.wrapping_sub(*k), false),
                Stream::Fixed(_, r) => (b.rotate_right(u32::from(*r)), false),
                Stream::Keyed(..) => (b ^ key[(m - phase) % klen], false),
                Stream::Rolling(base) => (b ^ base.wrapping_add(m as u8), false),
                Stream::Chained => (b ^ raw[m - 1], true),
            };
            if d == 0 {
                end = Some(End::Nul);
                break;
            }
            if (b == 0 && !zero_ok) || !printable(d) {
                end = Some(End::Bad);
                break;
            }
            m += 1;
        }
        let hi = m.min(raw.len());
        self.spans.insert(*st, Span { lo, hi, end });
        end.map(|e| (hi, e))
    }

    /// Where the string [`decode_string`] decodes at `s` with `t` ends
    /// (its NUL), if it decodes.
    fn string_end(&mut self, s: usize, t: &Transform) -> Option<usize> {
        let raw = self.raw;
        let limit = (s + MAX_STRING_LEN + 1).min(raw.len());
        if s >= limit {
            return None;
        }
        let from = match t {
            Transform::Chained(k) => {
                let d = raw[s] ^ k;
                if d == 0 || !printable(d) {
                    return None;
                }
                s + 1
            }
            _ => s,
        };
        match self.first_end(&Stream::of(t, s), from, limit) {
            Some((e, End::Nul)) if e > s => Some(e),
            _ => None,
        }
    }

    /// The string at `s` decoded by `t`, as [`decode_string`] gives it.
    fn decoded(&mut self, s: usize, t: &Transform) -> Option<Vec<u8>> {
        let e = self.string_end(s, t)?;
        self.work += (e - s) as u64;
        Some((0..e - s).map(|j| t.decode_at(self.raw, s, j)).collect())
    }

    /// For a byte-wise transform anchored mid-host at `i`: the host around
    /// it (its start searched backwards over host characters, the longest
    /// that decodes to a host; forwards to the NUL). A start is a host or
    /// not whatever the anchor, and the search's start only moves forwards
    /// from one anchor to the next, so starts an earlier anchor of the same
    /// transform tried are not tried again.
    fn confirm_pi(&mut self, i: usize, t: &Transform, host_ok: HostCheck) -> bool {
        let raw = self.raw;
        let st = Stream::of(t, i);
        let done = self.pi_done.get(&st).copied();
        let floor = done.map_or(0, |d| d + 1);
        let mut s = i;
        while s > 0 && i - s < 64 && host_char(t.decode(raw[s - 1], 0)) {
            if s <= floor {
                break; // starts below were tried (and failed) already
            }
            s -= 1;
        }
        self.work += (i - s) as u64;
        let s = s.max(floor.min(i + 1));
        for start in s..=i {
            // An encoded host holds no zero byte: `string_end` stops there.
            let Some(d) = self.decoded(start, t) else {
                continue;
            };
            if std::str::from_utf8(&d).is_ok_and(host_ok) {
                return true;
            }
        }
        self.pi_done.insert(st, i);
        false
    }

    /// For a per-string transform anchored at a host's first byte `i`. An
    /// encoded host holds no zero byte (zeros are padding or plain text).
    /// A string ending at `e` that repeats with period `p` from `s` on
    /// repeats from any later start too, while at least `2p + 2` long: a
    /// run of one byte is an anchor at every offset, and each would
    /// otherwise decode its whole tail again.
    fn confirm_restart(&mut self, i: usize, t: &Transform, host_ok: HostCheck) -> bool {
        let Some(e) = self.string_end(i, t) else {
            return false;
        };
        let st = Stream::of(t, i);
        if let Some(&(s0, p)) = self.periodic_tails.get(&(st, e)) {
            if s0 <= i && e - i >= 2 * p + 2 {
                return false;
            }
        }
        self.work += (e - i) as u64;
        let d: Vec<u8> = (0..e - i).map(|j| t.decode_at(self.raw, i, j)).collect();
        if !d.iter().all(|&b| host_char(b)) {
            return false;
        }
        if let Some(p) = period(&d) {
            self.periodic_tails.insert((st, e), (i, p));
            return false;
        }
        std::str::from_utf8(&d).is_ok_and(host_ok)
    }
}

/// Key-independent relations between an anchor's first two bytes: XOR
/// and ROL keep `a ^ b` up to rotation, ADD keeps `b - a`; each
/// difference names the (anchor, rotation) pairs worth checking. Built
/// once.
struct AnchorTables {
    tx: Vec<Vec<(usize, u8)>>,
    ta: Vec<Vec<usize>>,
    /// Bytes a decoded host may hold (lowercase, see `is_decoded_host`).
    hostc: [bool; 256],
}

fn anchor_tables() -> &'static AnchorTables {
    static TABLES: std::sync::OnceLock<AnchorTables> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tx: Vec<Vec<(usize, u8)>> = vec![Vec::new(); 256];
        let mut ta: Vec<Vec<usize>> = vec![Vec::new(); 256];
        for (n, a) in ANCHORS.iter().enumerate() {
            let d = a[0] ^ a[1];
            for r in 0..8u8 {
                tx[d.rotate_left(u32::from(r)) as usize].push((n, r));
            }
            ta[a[1].wrapping_sub(a[0]) as usize].push(n);
        }
        let mut hostc = [false; 256];
        for b in 0..=255u8 {
            hostc[b as usize] = host_char(b) && !b.is_ascii_uppercase() && b != b'_';
        }
        AnchorTables { tx, ta, hostc }
    })
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
    find_transforms_counted(raw, key_store, found, seg, confirms, host_ok);
}

/// [`find_transforms`], returning the bytes it decoded or tested while
/// confirming (the work a hostile input can cause; tests bound it).
#[doc(hidden)]
pub fn find_transforms_counted(
    raw: &[u8],
    key_store: &KeyIndex,
    found: &mut Vec<(Transform, usize, usize)>,
    seg: usize,
    confirms: &mut usize,
    host_ok: HostCheck,
) -> u64 {
    if raw.len() < 8 {
        return 0;
    }
    let AnchorTables { tx, ta, hostc } = anchor_tables();
    let mut sc = Scanner::new(raw);
    let start_confirms = *confirms;
    let have = |t: &Transform, found: &Vec<(Transform, usize, usize)>| {
        found.iter().any(|(f, _, _)| f == t)
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
                if sc.confirm_pi(i, &t, host_ok) {
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
                    if sc.confirm_pi(i, &t, host_ok) {
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
                if sc.confirm_restart(i, &t, host_ok) {
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
                if sc.confirm_restart(i, &t, host_ok) {
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
                if sc.confirm_restart(i, &t, host_ok) {
                    found.push((t, seg, i));
                    continue;
                }
            }
        }
        stored_keys(&mut sc, i, kk, key_store, found, seg, confirms, host_ok);
    }
    sc.work
}

/// Keys of 5–16 bytes at anchor `i`: the image stores the key the
/// decoder uses, and its first four bytes are `kk`.
#[allow(clippy::too_many_arguments)] // the search's state, passed down
fn stored_keys(
    sc: &mut Scanner,
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
            if sc.confirm_restart(i, &t, host_ok) {
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
            // About 16 bits a window: a payload's filter is not 128 KiB
            // to clear (the filter only skips look-ups; results are the same).
            let n = (sorted.len() * 16)
                .next_power_of_two()
                .clamp(1024, KEY_BITS);
            bits = vec![0u64; n / 64];
            for &(v, _, _) in &sorted {
                let h = key_hash(v) % n;
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
        let h = key_hash(v) % (self.bits.len() * 64);
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

    /// Deterministic bytes drawn from `alphabet` (xorshift64*).
    fn bytes_from(n: usize, mut s: u64, alphabet: &[u8]) -> Vec<u8> {
        (0..n)
            .map(|_| {
                s ^= s >> 12;
                s ^= s << 25;
                s ^= s >> 27;
                alphabet[(s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as usize % alphabet.len()]
            })
            .collect()
    }

    #[test]
    fn scanner_decodes_as_decode_string_in_any_order() {
        // Host text, NULs and a few other bytes, so strings end every way.
        let raw = bytes_from(3000, 9, b"irc.examplnt-\0\0\x01\xfe\x5cA");
        let ts = [
            Transform::Xor1(0x01),
            Transform::Add(0x17),
            Transform::Rol(3),
            Transform::XorKey(vec![0x01, 0x5c, 0x00]),
            Transform::XorKey(vec![0x5c, 0x01, 0x41, 0x02, 0x03]),
            Transform::Rolling(0x41),
            Transform::Chained(0x5c),
        ];
        // Forwards, backwards and strided, all through one scanner.
        let mut order: Vec<usize> = (0..raw.len() + 2).collect();
        order.extend((0..raw.len()).rev());
        order.extend((0..raw.len()).step_by(7).chain((0..raw.len()).step_by(3)));
        for t in &ts {
            let mut sc = Scanner::new(&raw);
            for &s in &order {
                assert_eq!(sc.decoded(s, t), decode_string(&raw, s, t), "{t:?} at {s}");
            }
        }
    }

    #[test]
    fn work_on_hostile_runs_is_linear_in_their_length() {
        let pattern: Vec<u8> = b"irc.xx.com."
            .iter()
            .cycle()
            .take(64 << 10)
            .map(|b| b ^ 0x5c)
            .collect();
        let text = bytes_from(512, 3, b"abcdefghijklmnopqrstuvwxyz");
        for (name, raw, per_byte) in [
            ("one byte run", vec![0x41u8; 512], 4),
            ("repeated pattern", pattern, 2),
            (
                "run after run",
                [vec![0x41u8; 255], vec![0x28]].concat().repeat(8),
                8,
            ),
            ("lowercase text", text, 64),
        ] {
            let (mut found, mut confirms) = (Vec::new(), 0);
            let work = find_transforms_counted(
                &raw,
                &KeyIndex::new(&[(&raw[..], true)]),
                &mut found,
                0,
                &mut confirms,
                &plausible_host,
            );
            eprintln!("WORK {name}: {work} / {} ({confirms})", raw.len());
            // Random text may hold a host by chance; the runs never do.
            assert!(
                name == "lowercase text" || found.is_empty(),
                "{name}: {found:?}"
            );
            assert!(
                work <= per_byte * raw.len() as u64,
                "{name}: {work} bytes of work for {} bytes ({confirms} confirmations)",
                raw.len()
            );
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
