//! IRC bot config extraction on evidence over the whole image.
//!
//! Bots of 2003–2006 kept their IRC configuration in a handful of ways;
//! this module recognises each and scores what it finds:
//!
//! - **block**: the synthetic generator's run of NUL-terminated strings
//!   (`host, port, …, #channel, key, nick`), found by
//!   [`strings::find_config`];
//! - **globals** (sdbot): separate global strings — server, channel, key —
//!   with the port as text or as a little-endian 16/32-bit integer near
//!   them, in either order (`-O2` reverses the globals);
//! - **pointer table** (rbot): rows of pointers to the strings with an
//!   integer port between them;
//! - **name/value** (agobot/phatbot): `si_server`, `si_port`,
//!   `si_mainchan`, `si_chanpass`, `si_nickprefix` … each followed (by
//!   pointer or by position) by its value.
//!
//! Strings are read plain, as UTF-16LE, or decoded: single-byte XOR, ADD
//! (SUB is ADD of the negated key) and ROL, found by known plaintext
//! (`irc.`, `.com`, `.net`, `.org`, `.biz`, `info`) whose XOR, difference
//! or rotation between neighbouring bytes is key-independent, so one table
//! look-up a byte finds every key at once; XOR with a 2–4 byte key and the
//! rolling XOR (`key + i`), both restarting at each string, and the
//! chained XOR (each byte XOR the previous stored byte) found from a host
//! starting `irc.`; XOR keys of 5–16 bytes found from the same anchor
//! when the key itself is stored in the image (as decoders keep it). Every
//! key is confirmed by decoding a whole host name that ends in a known
//! public suffix.
//!
//! Cost: one pass over the scanned bytes for tokens, one for anchors, one
//! over aligned dwords for pointers, plus work bounded by constants per
//! host, per anchor and per pointer hit; nothing is quadratic in the image.

use crate::ioc;
use crate::strings::{self, FoundEncoding};
use botscope_core::botconfig::{BotConfig, BotServer};
use botscope_deobf::xorstr::{decode_string, Transform};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Bytes of an image scanned for configs (all segments together).
pub const MAX_CONFIG_SCAN: usize = 16 << 20;
/// Tokens kept per view.
const MAX_TOKENS: usize = 200_000;
/// Host tokens examined per view.
const MAX_HOSTS: usize = 256;
/// Bytes decoded each side of an anchor for per-string encodings.
const WINDOW: usize = 1024;
/// Pointer hits kept per image.
const MAX_PTR_HITS: usize = 4096;
/// Longest config string.
const MAX_TOKEN_LEN: usize = botscope_deobf::xorstr::MAX_STRING_LEN;
/// Least score a config needs (a server and a channel alone are not
/// enough: also a port, a key, or a server named `irc…`).
pub const MIN_SCORE: u32 = 12;

/// One mapped piece of the file: a section, the unpacked image, the
/// overlay or the whole file.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Name used in evidence (`.data`, `unpacked`, `overlay`, `file`).
    pub name: &'a str,
    /// Virtual address of the first byte, when the segment is mapped.
    pub va: Option<u64>,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// How the config's strings were laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// The generator's run of strings (host, port, …, channel, key, nick).
    Block,
    /// Separate strings and an integer or text port near them (sdbot).
    Globals,
    /// Rows of pointers to the strings, integer ports in the rows (rbot).
    PointerTable,
    /// Named settings (`si_server`, `si_port` …; agobot).
    NameValue,
}

impl Layout {
    /// The name used in tables and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Block => "block",
            Layout::Globals => "globals",
            Layout::PointerTable => "pointer_table",
            Layout::NameValue => "name_value",
        }
    }
}

/// A config and how it was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extracted {
    /// The config.
    pub config: BotConfig,
    /// How its strings were encoded.
    pub encoding: FoundEncoding,
    /// How they were laid out.
    pub layout: Layout,
    /// Segment holding the server string.
    pub region: String,
    /// Evidence score (higher is stronger; see `docs/specimen.md`).
    pub score: u32,
    /// What was seen, one line each.
    pub evidence: Vec<String>,
}

/// Image base of a PE file (PE32 or PE32+), read from its optional header.
pub fn pe_image_base(data: &[u8]) -> Option<u64> {
    let rd32 = |at: usize| {
        data.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let lfanew = rd32(0x3c)? as usize;
    if data.get(lfanew..lfanew + 4)? != b"PE\0\0" {
        return None;
    }
    let opt = lfanew + 24;
    let magic = u16::from_le_bytes([*data.get(opt)?, *data.get(opt + 1)?]);
    match magic {
        0x10b => rd32(opt + 28).map(u64::from),
        0x20b => {
            let b = data.get(opt + 24..opt + 32)?;
            Some(u64::from_le_bytes(b.try_into().ok()?))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------
// String classes.

fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\t'
}

/// A channel as bots name it: `#` or `&`, then 2–49 characters without
/// space, comma, BEL or a format directive, one at least a letter or digit.
pub fn is_channel(s: &str) -> bool {
    if !(2..=50).contains(&s.len())
        || !(s.starts_with('#') || s.starts_with('&'))
        || s.contains([' ', ',', '\x07', '%', '\t'])
    {
        return false;
    }
    // At least two characters after the prefix, one of them a letter or
    // digit; not a preprocessor line or an HTML colour.
    let rest = &s[1..];
    if rest.len() < 2 || !rest.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let colour =
        (rest.len() == 3 || rest.len() == 6) && rest.bytes().all(|b| b.is_ascii_hexdigit());
    let directive = s.starts_with('#')
        && [
            "define",
            "include",
            "pragma",
            "if",
            "ifdef",
            "ifndef",
            "endif",
            "else",
            "elif",
            "error",
            "line",
            "undef",
            "import",
            "region",
            "endregion",
        ]
        .contains(&rest);
    !colour && !directive
}

/// Suffixes that are public suffixes but far more often file extensions.
const FILE_SUFFIXES: [&str; 6] = [".so", ".py", ".pl", ".sh", ".rs", ".md"];

/// A host a config may name: [`strings::is_host`], not a file name under
/// a suffix that doubles as an extension (`libfoo.so`).
pub fn is_config_host(s: &str) -> bool {
    strings::is_host(s) && !FILE_SUFFIXES.iter().any(|x| s.ends_with(x))
}

/// A host decoded from encoded bytes: a config host in lowercase with at
/// least three labels (`irc.` + a registered name), so that junk decoded
/// by a wrong key (`irc.Pe`, `irc.id`) is not taken.
fn is_decoded_host(s: &str) -> bool {
    s.split('.').count() >= 3 && !s.bytes().any(|b| b.is_ascii_uppercase()) && is_config_host(s)
}

/// A decimal port 1–65535.
pub fn text_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p > 0)
}

/// Could be a channel key: 2–32 characters, no blanks, no dot, slash,
/// colon, percent or equals sign (file names, paths, hosts, formats; one
/// character is more often junk than a key).
pub fn is_keyish(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && !s.starts_with('#')
        && !s.contains([' ', '\t', '.', '/', '\\', ':', '%', '=', '"', '<', '>'])
}

/// How likely a value is an IRC port: 3 for the usual IRC ports, 2 for
/// other unprivileged ports, 1 for well-known service ports bots used,
/// 0 otherwise.
fn port_prior(p: u16) -> u32 {
    match p {
        6660..=6670 | 6697 | 7000..=7002 | 7777 | 8000 | 8080 | 4444 | 5555 => 3,
        1024..=65535 => 2,
        21 | 23 | 80 | 443 | 445 | 993 | 994 | 995 => 1,
        _ => 0,
    }
}

// ---------------------------------------------------------------------
// Views: a segment's bytes as tokens.

/// One string in a view: byte span (terminator excluded) and text.
#[derive(Clone, Debug)]
struct Tok<'s> {
    off: usize,
    end: usize,
    /// Borrowed from the segment for plain ASCII, owned when decoded.
    text: Cow<'s, str>,
    /// Starts after a zero byte or another string's end (always so for
    /// NUL-split views; decoded views may start one inside junk).
    clean: bool,
    /// For a list of pointers to hosts standing in for the first: the
    /// other hosts, in order.
    more: Vec<String>,
}

/// A segment read one way: tokens sorted by offset, offsets into the
/// segment's raw bytes.
struct View<'s> {
    seg: usize,
    raw: &'s [u8],
    unit: usize,
    encoding: FoundEncoding,
    tokens: Vec<Tok<'s>>,
}

/// NUL-terminated printable pieces (one NUL byte), empty ones skipped.
fn ascii_tokens(data: &[u8]) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for nul in memchr::memchr_iter(0, data) {
        let piece = &data[start..nul];
        if !piece.is_empty()
            && piece.len() <= MAX_TOKEN_LEN
            && piece.iter().all(|&b| printable(b))
            && out.len() < MAX_TOKENS
        {
            out.push(Tok {
                off: start,
                end: nul,
                text: String::from_utf8_lossy(piece),
                clean: true,
                more: Vec::new(),
            });
        }
        start = nul + 1;
    }
    out
}

/// UTF-16LE pieces ending in a NUL code unit, at one alignment.
fn utf16_tokens(data: &[u8], align: usize) -> Vec<Tok<'static>> {
    let mut out = Vec::new();
    let mut start = align;
    let mut ok = true;
    let mut text = String::new();
    let mut i = align;
    while i + 1 < data.len() {
        let (lo, hi) = (data[i], data[i + 1]);
        if lo == 0 && hi == 0 {
            if ok && !text.is_empty() && out.len() < MAX_TOKENS {
                out.push(Tok {
                    off: start,
                    end: i,
                    text: Cow::Owned(std::mem::take(&mut text)),
                    clean: true,
                    more: Vec::new(),
                });
            }
            text.clear();
            ok = true;
            start = i + 2;
        } else if ok {
            if hi == 0 && printable(lo) && text.len() < MAX_TOKEN_LEN {
                text.push(lo as char);
            } else {
                ok = false;
            }
        }
        i += 2;
    }
    out
}

// ---------------------------------------------------------------------
// Encodings (the decodings and their key search: `botscope_deobf::xorstr`).

/// The analysis' name for a decoding.
pub fn encoding_of(t: &Transform) -> FoundEncoding {
    match t {
        Transform::Xor1(k) => FoundEncoding::Xor(*k),
        Transform::Add(k) => FoundEncoding::Add(*k),
        Transform::Rol(r) => FoundEncoding::Rol(*r),
        Transform::XorKey(k) => FoundEncoding::XorKey(hex::encode(k)),
        Transform::Rolling(k) => FoundEncoding::RollingXor(*k),
        Transform::Chained(k) => FoundEncoding::ChainedXor(*k),
    }
}

/// A decoded host that counts: under a known public suffix, and
/// [`is_decoded_host`].
pub fn decoded_host_ok(h: &str) -> bool {
    ioc::is_fqdn(h) && is_decoded_host(h)
}

/// Tokens of a window decoded with a transform, when string starts are
/// unknown (integers and padding between strings decode to junk): every
/// start whose decoding is printable up to a decoded NUL; of those ending
/// at the same NUL, the longest that reads as a host or channel, else the
/// one after a boundary (zero byte or another string's end), else the
/// longest.
fn restart_tokens(raw: &[u8], anchor: usize, t: &Transform) -> Vec<Tok<'static>> {
    let lo = anchor.saturating_sub(WINDOW);
    let hi = (anchor + WINDOW).min(raw.len());
    let mut by_end: HashMap<usize, Vec<usize>> = HashMap::new();
    for s in lo..hi {
        // No string starts with a stored zero (padding).
        if raw[s] == 0 {
            continue;
        }
        if let Some(d) = decode_string(raw, s, t) {
            by_end.entry(s + d.len()).or_default().push(s);
        }
    }
    let ends: HashSet<usize> = by_end.keys().copied().collect();
    let mut out = Vec::new();
    for (&end, starts) in &by_end {
        let boundary = |s: usize| s == 0 || raw[s - 1] == 0 || ends.contains(&(s - 1));
        let text_at = |s: usize| -> String {
            (0..end - s)
                .map(|j| t.decode_at(raw, s, j) as char)
                .collect()
        };
        // Rank: meaningful, after a boundary, a host starting `irc.`,
        // 4-aligned (compilers align data), longest.
        let Some(s) = starts.iter().copied().max_by_key(|&s| {
            let x = text_at(s);
            (
                is_channel(&x) || strings::is_host(&x),
                boundary(s),
                x.starts_with("irc."),
                s % 4 == 0,
                std::cmp::Reverse(s),
            )
        }) else {
            continue;
        };
        let text = text_at(s);
        out.push(Tok {
            off: s,
            end,
            text: Cow::Owned(text),
            clean: boundary(s),
            more: Vec::new(),
        });
    }
    out.sort_by_key(|t| t.off);
    // Drop tokens nested in a longer one (suffixes at a key-period shift).
    let mut kept: Vec<Tok<'static>> = Vec::new();
    for t in out {
        if kept.last().is_some_and(|k| t.off < k.end + 1) {
            continue;
        }
        kept.push(t);
    }
    kept
}

// ---------------------------------------------------------------------
// Candidates.

struct Cand {
    ex: Extracted,
    /// Order found (earlier wins ties).
    order: usize,
}

fn loc(seg: &Segment, off: usize) -> String {
    format!("{}+{:#x}", seg.name, off)
}

/// Integer ports in `raw[lo..hi]`: little-endian 32-bit values 1–65535 at
/// 4-aligned offsets and 16-bit values >= 1024 at 2-aligned ones.
fn int_ports(raw: &[u8], lo: usize, hi: usize, out: &mut Vec<(usize, u16, &'static str)>) {
    let hi = hi.min(raw.len());
    let mut p = lo.next_multiple_of(2);
    while p + 2 <= hi {
        let v16 = u16::from_le_bytes([raw[p], raw[p + 1]]);
        if p.is_multiple_of(4) && p + 4 <= hi && raw[p + 2] == 0 && raw[p + 3] == 0 && v16 > 0 {
            out.push((p, v16, "le32"));
        } else if v16 >= 1024 {
            out.push((p, v16, "le16"));
        }
        p += 2;
    }
}

/// Globals: each host token with the nearest channel, a port between them
/// or beside the host, and the key on the channel's far side.
fn globals(view: &View, seg: &Segment, cands: &mut Vec<Cand>) {
    let toks = &view.tokens;
    let u = view.unit;
    let mut hosts = 0;
    for h in 0..toks.len() {
        let decoded =
            view.encoding != FoundEncoding::Plain && view.encoding != FoundEncoding::Utf16;
        let ok = if decoded {
            is_decoded_host(&toks[h].text)
        } else {
            is_config_host(&toks[h].text)
        };
        if !ok {
            continue;
        }
        hosts += 1;
        if hosts > MAX_HOSTS {
            break;
        }
        let host = &toks[h];
        // Nearest channel within 512 units either side, at most 32 tokens away.
        let mut best: Option<(usize, usize)> = None;
        for j in (h + 1..toks.len()).take(32) {
            if toks[j].off > host.end + 512 * u {
                break;
            }
            if is_channel(&toks[j].text) {
                best = Some((j, toks[j].off - host.end));
                break;
            }
        }
        for j in (h.saturating_sub(32)..h).rev() {
            if toks[j].end + 512 * u < host.off {
                break;
            }
            if is_channel(&toks[j].text) {
                let d = host.off - toks[j].end;
                if best.is_none_or(|(_, bd)| d < bd) {
                    best = Some((j, d));
                }
                break;
            }
        }
        let Some((c, gap)) = best else { continue };
        // Encoded configs are compact; far channels there are junk.
        if decoded && gap > 128 {
            continue;
        }
        let chan = &toks[c];
        let (a, b) = if c > h { (h, c) } else { (c, h) };
        // Ports: text tokens between, or next to the host.
        let mut ports: Vec<(u32, u16, String)> = Vec::new();
        let neighbours = [h.wrapping_sub(1), h + 1];
        for j in (a + 1..b).chain(neighbours) {
            let Some(t) = toks.get(j) else { continue };
            if let Some(p) = text_port(&t.text) {
                let inside = j > a && j < b;
                let s = port_prior(p) + if inside { 4 } else { 2 };
                ports.push((s, p, format!("port {p} as text at {}", loc(seg, t.off))));
            }
        }
        // Integers in the gaps between the host and the channel, and
        // within 32 bytes beside the host.
        // Strings under 3 characters do not hide integers: in decoded views
        // an integer's own bytes can decode to one.
        let mut ints = Vec::new();
        let mut prev = a;
        for j in a + 1..=b {
            if j == b || toks[j].text.len() >= 3 {
                int_ports(view.raw, toks[prev].end + u, toks[j].off, &mut ints);
                prev = j;
            }
        }
        let n_inside = ints.len();
        let side_lo = if c > h {
            host.off.saturating_sub(32)
        } else {
            host.end + u
        };
        let side_hi = if c > h {
            host.off
        } else {
            (host.end + u + 32).min(view.raw.len())
        };
        let (side_lo, side_hi) = clip_gap(toks, side_lo, side_hi, h, u);
        int_ports(view.raw, side_lo, side_hi, &mut ints);
        for (k, (p, v, how)) in ints.into_iter().enumerate() {
            let inside = k < n_inside;
            let dist = if p >= host.end {
                p - host.end
            } else {
                host.off - p
            };
            // An integer port sits next to its server (or in its row).
            if dist > 64 * u {
                continue;
            }
            let s = port_prior(v) + if inside { 3 } else { 1 };
            let s = s.saturating_sub((dist / 64) as u32);
            ports.push((s, v, format!("port {v} as {how} at {}", loc(seg, p))));
        }
        ports.sort_by_key(|p| std::cmp::Reverse(p.0));
        let port = ports.first().filter(|p| p.0 >= 3);
        // Key: the string right past the channel, away from the host.
        let kj = if c > h { c + 1 } else { c.wrapping_sub(1) };
        let key = toks.get(kj).filter(|k| {
            let g = if c > h {
                k.off.saturating_sub(chan.end)
            } else {
                chan.off.saturating_sub(k.end)
            };
            g <= 32 * u && k.clean && is_keyish(&k.text) && !strings::is_host(&k.text)
        });
        let mut score = 8 + closeness(gap / u);
        if host.text.starts_with("irc") {
            score += 1;
        }
        let mut evidence = vec![
            format!(
                "server {} at {} ({})",
                host.text,
                loc(seg, host.off),
                view.encoding.label()
            ),
            format!(
                "channel {} at {}, {} bytes from the server",
                chan.text,
                loc(seg, chan.off),
                gap
            ),
        ];
        if let Some(p) = port {
            score += 2 + p.0.min(6) / 2;
            evidence.push(p.2.clone());
        }
        if !host.more.is_empty() {
            score += 1;
            evidence.push(format!(
                "{} more servers in the list of host pointers at {}",
                host.more.len(),
                loc(seg, host.off)
            ));
        }
        if let Some(k) = key {
            score += 1;
            evidence.push(format!(
                "key {} next to the channel at {}",
                k.text,
                loc(seg, k.off)
            ));
        }
        let order = cands.len();
        cands.push(Cand {
            ex: Extracted {
                config: BotConfig {
                    servers: std::iter::once(host.text.to_ascii_lowercase())
                        .chain(host.more.iter().cloned())
                        .map(|h| BotServer {
                            host: h,
                            port: port.map_or(0, |p| p.1),
                        })
                        .collect(),
                    channel: chan.text.to_string(),
                    key: key.map(|k| k.text.to_string()),
                    nick_prefix: String::new(),
                },
                encoding: view.encoding.clone(),
                layout: Layout::Globals,
                region: seg.name.to_string(),
                score,
                evidence,
            },
            order,
        });
    }
}

/// Narrows `[lo, hi)` beside token `h` so it overlaps no other token.
fn clip_gap(toks: &[Tok<'_>], lo: usize, hi: usize, h: usize, u: usize) -> (usize, usize) {
    let mut lo = lo;
    let mut hi = hi;
    if lo < toks[h].off {
        if let Some(p) = h.checked_sub(1).and_then(|p| toks.get(p)) {
            lo = lo.max(p.end + u);
        }
    } else if let Some(n) = toks.get(h + 1) {
        hi = hi.min(n.off);
    }
    (lo, hi.max(lo))
}

fn closeness(gap_units: usize) -> u32 {
    match gap_units {
        0..=64 => 3,
        65..=256 => 2,
        _ => 1,
    }
}

/// Roles of named settings.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Server,
    Port,
    Channel,
    Key,
    Nick,
}

const ROLE_NAMES: [(&str, Role); 31] = [
    ("si_server", Role::Server),
    ("server", Role::Server),
    ("ircserver", Role::Server),
    ("irc_server", Role::Server),
    ("servername", Role::Server),
    ("host", Role::Server),
    ("si_port", Role::Port),
    ("port", Role::Port),
    ("ircport", Role::Port),
    ("irc_port", Role::Port),
    ("serverport", Role::Port),
    ("si_mainchan", Role::Channel),
    ("si_channel", Role::Channel),
    ("mainchan", Role::Channel),
    ("channel", Role::Channel),
    ("chan", Role::Channel),
    ("ircchannel", Role::Channel),
    ("irc_channel", Role::Channel),
    ("si_chanpass", Role::Key),
    ("si_chankey", Role::Key),
    ("chanpass", Role::Key),
    ("chankey", Role::Key),
    ("channelkey", Role::Key),
    ("channel_key", Role::Key),
    ("channelpass", Role::Key),
    ("chan_pass", Role::Key),
    ("si_nickprefix", Role::Nick),
    ("nickprefix", Role::Nick),
    ("nick_prefix", Role::Nick),
    ("nickconst", Role::Nick),
    ("nick_const", Role::Nick),
];

fn role_of(name: &str) -> Option<Role> {
    if !(4..=13).contains(&name.len()) {
        return None;
    }
    ROLE_NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, r)| r)
}

/// Builds a name/value config from (role, value, where) triples.
fn name_value_config(
    pairs: &[(Role, String, String)],
    enc: &FoundEncoding,
    region: &str,
    how: &str,
    bonus: u32,
) -> Option<Extracted> {
    let get = |r: Role| pairs.iter().find(|p| p.0 == r);
    let server = pairs
        .iter()
        .find(|p| p.0 == Role::Server && is_config_host(&p.1))?;
    let port = get(Role::Port).and_then(|p| text_port(&p.1));
    let chan = get(Role::Channel).filter(|c| is_channel(&c.1));
    if port.is_none() && chan.is_none() {
        return None;
    }
    let key = get(Role::Key).filter(|k| is_keyish(&k.1));
    let nick = get(Role::Nick).filter(|n| !n.1.is_empty() && n.1.len() <= 32 && !n.1.contains(' '));
    let mut score = 8 + bonus;
    let mut evidence = vec![format!("server {} named {}", server.1, server.2)];
    if let Some(p) = port {
        score += 3;
        evidence.push(format!(
            "port {p} named {}",
            get(Role::Port).map_or("", |p| &p.2)
        ));
    }
    if let Some(c) = chan {
        score += 4;
        evidence.push(format!("channel {} named {}", c.1, c.2));
    }
    if let Some(k) = key {
        score += 1;
        evidence.push(format!("key {} named {}", k.1, k.2));
    }
    if let Some(n) = nick {
        score += 1;
        evidence.push(format!("nick prefix {} named {}", n.1, n.2));
    }
    evidence.push(how.to_string());
    Some(Extracted {
        config: BotConfig {
            servers: vec![BotServer {
                host: server.1.to_ascii_lowercase(),
                port: port.unwrap_or(0),
            }],
            channel: chan.map(|c| c.1.clone()).unwrap_or_default(),
            key: key.map(|k| k.1.clone()),
            nick_prefix: nick.map(|n| n.1.clone()).unwrap_or_default(),
        },
        encoding: enc.clone(),
        layout: Layout::NameValue,
        region: region.to_string(),
        score,
        evidence,
    })
}

/// Name/value as text (`server=irc.x.net` lines of an INI-style block,
/// `;`- or `&`-separated pairs): around each `server=` (any case, at most
/// 64 a segment), the text between the NULs (up to 2 KiB) split into pairs.
fn name_value_text(raw: &[u8], seg: &Segment, cands: &mut Vec<Cand>) {
    let finders = [b"server=".as_slice(), b"SERVER=", b"Server=", b"server = "];
    let mut seen_blocks = HashSet::new();
    for f in finders {
        for at in memchr::memmem::find_iter(raw, f).take(64) {
            let lo = raw[at.saturating_sub(1024)..at]
                .iter()
                .rposition(|&b| b == 0)
                .map_or(at.saturating_sub(1024), |p| at.saturating_sub(1024) + p + 1);
            let hi = raw[at..(at + 1024).min(raw.len())]
                .iter()
                .position(|&b| b == 0)
                .map_or((at + 1024).min(raw.len()), |p| at + p);
            if !seen_blocks.insert(lo) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(&raw[lo..hi]) else {
                continue;
            };
            let mut pairs = Vec::new();
            for item in text.split(['\r', '\n', ';', '&']) {
                let Some((n, v)) = item.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                if let Some(r) = role_of(n.trim()) {
                    if !pairs.iter().any(|p: &(Role, String, String)| p.0 == r) {
                        pairs.push((
                            r,
                            v.to_string(),
                            format!("{}= at {}", n.trim(), loc(seg, lo)),
                        ));
                    }
                }
            }
            if let Some(ex) = name_value_config(
                &pairs,
                &FoundEncoding::Plain,
                seg.name,
                "name=value text",
                4,
            ) {
                let order = cands.len();
                cands.push(Cand { ex, order });
            }
        }
    }
}

/// Name/value by position: a setting name followed within 16 bytes by its
/// value (string literals of an initialiser sit in order).
fn name_value_adjacent(view: &View, seg: &Segment, cands: &mut Vec<Cand>) {
    let toks = &view.tokens;
    let mut pairs = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Some(r) = role_of(&t.text) else { continue };
        if pairs.iter().any(|p: &(Role, String, String)| p.0 == r) {
            continue;
        }
        if let Some(v) = toks.get(i + 1) {
            if v.off <= t.end + 16 * view.unit {
                pairs.push((
                    r,
                    v.text.to_string(),
                    format!("{} at {}", t.text, loc(seg, t.off)),
                ));
            }
        }
    }
    if let Some(ex) = name_value_config(
        &pairs,
        &view.encoding,
        seg.name,
        "values follow their names",
        0,
    ) {
        let order = cands.len();
        cands.push(Cand { ex, order });
    }
}

// ---------------------------------------------------------------------
// Pointers.

struct Mapped<'a> {
    segs: &'a [Segment<'a>],
}

impl Mapped<'_> {
    /// The segment and offset holding virtual address `va`.
    fn at(&self, va: u64) -> Option<(usize, usize)> {
        self.segs.iter().enumerate().find_map(|(i, s)| {
            let base = s.va?;
            (va >= base && va < base + s.bytes.len() as u64).then(|| (i, (va - base) as usize))
        })
    }

    /// The printable C string at `va` (may be empty).
    fn cstr(&self, va: u64) -> Option<String> {
        let (s, o) = self.at(va)?;
        let b = &self.segs[s].bytes[o..];
        let end = memchr::memchr(0, &b[..b.len().min(MAX_TOKEN_LEN + 1)])?;
        let piece = &b[..end];
        piece
            .iter()
            .all(|&c| printable(c))
            .then(|| String::from_utf8_lossy(piece).into_owned())
    }
}

/// One row of a pointer table.
struct Row {
    seg: usize,
    at: usize,
    host: String,
    port: u16,
    chan: String,
    key: Option<String>,
    evidence: Vec<String>,
}

fn dword(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
}

/// Pointer targets (VA → (is a host, text)) and hits (segment, offset, VA).
type Pointers = (HashMap<u32, (bool, String)>, Vec<(usize, usize, u32)>);

/// Aligned dwords of the mapped segments pointing at a host, a setting
/// name or a channel found among the plain tokens.
fn pointer_hits(segs: &[Segment], plain: &[View]) -> Pointers {
    // Targets of interest: hosts, setting names and channels, by VA.
    let mut targets: HashMap<u32, (bool, String)> = HashMap::new();
    for v in plain {
        let Some(base) = segs[v.seg].va else { continue };
        for t in &v.tokens {
            let is_host = is_config_host(&t.text);
            if is_host || role_of(&t.text).is_some() || is_channel(&t.text) {
                if let Ok(va) = u32::try_from(base + t.off as u64) {
                    targets.insert(va, (is_host, t.text.to_string()));
                }
            }
            if targets.len() > 4096 {
                break;
            }
        }
    }
    if targets.is_empty() {
        return (targets, Vec::new());
    }
    let lo = *targets.keys().min().unwrap_or(&0);
    let hi = *targets.keys().max().unwrap_or(&0);
    let mut hits: Vec<(usize, usize, u32)> = Vec::new();
    let mut budget = MAX_CONFIG_SCAN;
    'segs: for (si, s) in segs.iter().enumerate() {
        if s.va.is_none() {
            continue;
        }
        let n = s.bytes.len().min(budget);
        budget -= n;
        let mut p = 0;
        while p + 4 <= n {
            let v =
                u32::from_le_bytes([s.bytes[p], s.bytes[p + 1], s.bytes[p + 2], s.bytes[p + 3]]);
            if v >= lo && v <= hi && targets.contains_key(&v) {
                hits.push((si, p, v));
                if hits.len() >= MAX_PTR_HITS {
                    break 'segs;
                }
            }
            p += 4;
        }
    }
    (targets, hits)
}

/// Pointer globals (`char *server = "irc…"`, `char *servers[] = {…}`,
/// `char *channel = "#…"`) as tokens of the segment holding the pointers:
/// a run of host pointers 4 bytes apart becomes one host token (the others
/// in `more`), a channel pointer a channel token, and a string pointed to
/// right beside a channel pointer a token too (the key).
fn inject_pointer_tokens(segs: &[Segment], plain: &mut [View], ptrs: &Pointers) {
    let (targets, hits) = ptrs;
    let m = Mapped { segs };
    let mut added: HashMap<usize, Vec<Tok<'static>>> = HashMap::new();
    let mut k = 0;
    while k < hits.len() {
        let (si, p, v) = hits[k];
        let (is_host, text) = &targets[&v];
        if *is_host {
            let mut more = Vec::new();
            let mut end = p + 4;
            while let Some(&(sj, q, w)) = hits.get(k + 1 + more.len()) {
                match targets.get(&w) {
                    Some((true, h)) if sj == si && q == end => {
                        more.push(h.to_ascii_lowercase());
                        end += 4;
                    }
                    _ => break,
                }
            }
            k += more.len();
            // `end` is where a terminator would be: the pointer's last byte.
            added.entry(si).or_default().push(Tok {
                off: p,
                end: end - 1,
                text: Cow::Owned(text.clone()),
                clean: true,
                more,
            });
        } else if is_channel(text) {
            added.entry(si).or_default().push(Tok {
                off: p,
                end: p + 3,
                text: Cow::Owned(text.clone()),
                clean: true,
                more: Vec::new(),
            });
            for at in [p.wrapping_sub(4), p + 4] {
                let Some(s) = dword(segs[si].bytes, at).and_then(|d| m.cstr(u64::from(d))) else {
                    continue;
                };
                if !s.is_empty() && !is_channel(&s) && !is_config_host(&s) {
                    added.entry(si).or_default().push(Tok {
                        off: at,
                        end: at + 3,
                        text: Cow::Owned(s),
                        clean: true,
                        more: Vec::new(),
                    });
                }
            }
        }
        k += 1;
    }
    for v in plain.iter_mut() {
        if let Some(mut extra) = added.remove(&v.seg) {
            extra.retain(|t| t.end <= v.raw.len());
            v.tokens.extend(extra);
            v.tokens.sort_by_key(|t| t.off);
            v.tokens.dedup_by_key(|t| t.off);
        }
    }
}

/// Pointer tables: rows (rbot) and named settings (agobot).
fn pointer_tables(segs: &[Segment], ptrs: &Pointers, cands: &mut Vec<Cand>) {
    let m = Mapped { segs };
    let (targets, hits) = ptrs;
    // Resolves the dwords of a row to strings where they point at one.
    let resolve = |si: usize, at: usize| -> Option<String> {
        let v = dword(segs[si].bytes, at)?;
        m.cstr(u64::from(v))
    };
    // rbot rows.
    let mut rows: Vec<Row> = Vec::new();
    for &(si, p, v) in hits {
        let (true, host) = &targets[&v] else { continue };
        let b = segs[si].bytes;
        let mut chan = None;
        let mut port: Option<(u32, u16, usize)> = None;
        for k in 1..8 {
            let at = p + 4 * k;
            if let Some(s) = resolve(si, at) {
                if is_channel(&s) {
                    chan = Some((k, s));
                    break;
                }
                continue;
            }
            let Some(w) = dword(b, at) else { break };
            for (half, val) in [(0, w as u16), (2, (w >> 16) as u16)] {
                if val == 0 {
                    continue;
                }
                let s = port_prior(val) * 2 + 4u32.saturating_sub(k as u32);
                if port.is_none_or(|q| s > q.0) {
                    port = Some((s, val, at + half));
                }
            }
        }
        let Some((ck, chan)) = chan else { continue };
        let key = resolve(si, p + 4 * (ck + 1)).filter(|k| is_keyish(k));
        let Some((_, pv, pat)) = port else { continue };
        let ev = vec![
            format!(
                "server {host} pointed to from {} (row of pointers)",
                loc(&segs[si], p)
            ),
            format!("port {pv} as integer at {}", loc(&segs[si], pat)),
            format!(
                "channel {chan} pointed to from {}",
                loc(&segs[si], p + 4 * ck)
            ),
        ];
        rows.push(Row {
            seg: si,
            at: p,
            host: host.clone(),
            port: pv,
            chan,
            key,
            evidence: ev,
        });
    }
    if let Some(first) = rows.first() {
        // One table: the rows sharing the first row's segment and channel,
        // within 1 KiB, in address order.
        let (si, p0, chan) = (first.seg, first.at, first.chan.clone());
        let table: Vec<_> = rows
            .iter()
            .filter(|r| r.seg == si && r.chan == chan && r.at >= p0 && r.at < p0 + 1024)
            .collect();
        let mut evidence: Vec<String> = table.iter().flat_map(|r| r.evidence.clone()).collect();
        let key = first.key.clone();
        if let Some(k) = &key {
            evidence.push(format!("key {k} pointed to after the channel"));
        }
        let order = cands.len();
        cands.push(Cand {
            ex: Extracted {
                config: BotConfig {
                    servers: table
                        .iter()
                        .map(|r| BotServer {
                            host: r.host.to_ascii_lowercase(),
                            port: r.port,
                        })
                        .collect(),
                    channel: chan,
                    key,
                    nick_prefix: String::new(),
                },
                encoding: FoundEncoding::Plain,
                layout: Layout::PointerTable,
                region: segs[si].name.to_string(),
                score: 20 + table.len() as u32,
                evidence,
            },
            order,
        });
    }
    // Named settings: a name pointer followed by its value pointer.
    let mut pairs: Vec<(Role, String, String)> = Vec::new();
    for &(si, p, v) in hits {
        let (false, name) = &targets[&v] else {
            continue;
        };
        let Some(r) = role_of(name) else { continue };
        if pairs.iter().any(|q| q.0 == r) {
            continue;
        }
        if let Some(val) = resolve(si, p + 4) {
            pairs.push((r, val, format!("{name} (pointer at {})", loc(&segs[si], p))));
        }
    }
    if let Some(ex) = name_value_config(
        &pairs,
        &FoundEncoding::Plain,
        segs.iter()
            .find(|s| s.va.is_some())
            .map_or("file", |s| s.name),
        "table of name and value pointers",
        6,
    ) {
        let order = cands.len();
        cands.push(Cand { ex, order });
    }
}

// ---------------------------------------------------------------------

/// Extracts the best-scoring config from an image's segments (in the
/// order given: the unpacked image first, then sections, then overlay).
pub fn extract(segs: &[Segment]) -> Option<Extracted> {
    extract_with(segs).0
}

/// The segments [`extract`] reads, clipped to [`MAX_CONFIG_SCAN`] in all:
/// what the encoded-string search runs over (the de-obfuscation stage
/// runs it on these and hands its findings to [`extract_with`]).
pub fn clipped<'a>(segs: &[Segment<'a>]) -> Vec<Segment<'a>> {
    let mut budget = MAX_CONFIG_SCAN;
    let mut out = Vec::new();
    for s in segs {
        if budget == 0 {
            break;
        }
        let n = s.bytes.len().min(budget);
        budget -= n;
        out.push(Segment {
            bytes: &s.bytes[..n],
            ..*s
        });
    }
    out
}

/// The XOR-family decodings the search found, `(transform, segment,
/// anchor)` over [`clipped`] segments.
pub type Decodings = Vec<(Transform, usize, usize)>;

/// [`extract`], also returning the XOR-family decodings it searched for
/// (`None` when a plain config made the search needless): the
/// de-obfuscation stage records them instead of searching again.
pub fn extract_with(segs: &[Segment]) -> (Option<Extracted>, Option<Decodings>) {
    let mut cands: Vec<Cand> = Vec::new();
    let mut budget = MAX_CONFIG_SCAN;
    let mut scanned: Vec<usize> = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        if budget == 0 {
            break;
        }
        let n = s.bytes.len().min(budget);
        budget -= n;
        scanned.push(i);
        // The generator's block: exact, with nick and every server.
        if let Some((c, enc)) = strings::find_config(&s.bytes[..n]) {
            let order = cands.len();
            cands.push(Cand {
                ex: Extracted {
                    evidence: vec![format!(
                        "run of {} servers, channel, key and nick prefix in {} ({})",
                        c.servers.len(),
                        s.name,
                        enc.label()
                    )],
                    score: 30 + c.servers.len() as u32,
                    config: c,
                    encoding: enc,
                    layout: Layout::Block,
                    region: s.name.to_string(),
                },
                order,
            });
        }
    }
    // The block is the most specific evidence there is.
    if let Some(c) = cands.first() {
        return (Some(c.ex.clone()), None);
    }
    let clip = |i: usize| {
        let done: usize = scanned
            .iter()
            .take_while(|&&j| j < i)
            .map(|&j| segs[j].bytes.len())
            .sum();
        &segs[i].bytes[..segs[i]
            .bytes
            .len()
            .min(MAX_CONFIG_SCAN.saturating_sub(done))]
    };
    let mut plain = Vec::new();
    for &i in &scanned {
        let raw = clip(i);
        plain.push(View {
            seg: i,
            raw,
            unit: 1,
            encoding: FoundEncoding::Plain,
            tokens: ascii_tokens(raw),
        });
    }
    let ptrs = pointer_hits(segs, &plain);
    for v in &plain {
        name_value_adjacent(v, &segs[v.seg], &mut cands);
        name_value_text(v.raw, &segs[v.seg], &mut cands);
    }
    inject_pointer_tokens(segs, &mut plain, &ptrs);
    for v in &plain {
        globals(v, &segs[v.seg], &mut cands);
    }
    pointer_tables(segs, &ptrs, &mut cands);
    for &i in &scanned {
        let raw = clip(i);
        if memchr::memmem::find(raw, b"\0\0#\0").is_some() {
            for align in 0..2 {
                let v = View {
                    seg: i,
                    raw,
                    unit: 2,
                    encoding: FoundEncoding::Utf16,
                    tokens: utf16_tokens(raw, align),
                };
                globals(&v, &segs[i], &mut cands);
                name_value_adjacent(&v, &segs[i], &mut cands);
            }
        }
    }
    // Encoded strings: only when nothing plain was found.
    let mut searched = None;
    if !cands.iter().any(|c| c.ex.score >= MIN_SCORE) {
        let mapped: Vec<Segment> = scanned
            .iter()
            .map(|&i| Segment {
                bytes: clip(i),
                ..segs[i]
            })
            .collect();
        let segs_in: Vec<(&[u8], bool)> =
            mapped.iter().map(|s| (s.bytes, s.va.is_some())).collect();
        let found = botscope_deobf::xorstr::find_in_segments(&segs_in, &decoded_host_ok);
        searched = Some(found.clone());
        for (t, k, anchor) in found {
            let raw = mapped[k].bytes;
            let tokens = restart_tokens(raw, anchor, &t);
            let v = View {
                seg: scanned[k],
                raw,
                unit: 1,
                encoding: encoding_of(&t),
                tokens,
            };
            let before = cands.len();
            globals(&v, &segs[v.seg], &mut cands);
            name_value_adjacent(&v, &segs[v.seg], &mut cands);
            for c in &mut cands[before..] {
                c.ex.evidence.push(format!(
                    "{} found from known plaintext at {}",
                    encoding_of(&t).label(),
                    loc(&segs[v.seg], anchor)
                ));
            }
        }
    }
    let best = cands
        .into_iter()
        .filter(|c| c.ex.score >= MIN_SCORE)
        .max_by(|a, b| a.ex.score.cmp(&b.ex.score).then(b.order.cmp(&a.order)))
        .map(|c| c.ex);
    (best, searched)
}

/// [`extract`] over one unmapped region (a non-PE file, a fuzz input).
pub fn extract_region(data: &[u8]) -> Option<Extracted> {
    extract(&[Segment {
        name: "file",
        va: None,
        bytes: data,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_not_directives_or_colours() {
        assert!(is_channel("#sdtest"));
        assert!(is_channel("&local"));
        assert!(is_channel("#ab"));
        for s in [
            "#define", "#include", "#ffffff", "#A0B", "#%s", "# x", "#", "sdtest", "#a", "&R",
            "#--",
        ] {
            assert!(!is_channel(s), "{s}");
        }
    }

    #[test]
    fn a_host_and_a_channel_alone_are_not_a_config() {
        // Server and channel only, no port, no key, not named irc...: 11.
        let weak = b"\0\0www.example.com\0#lobby\0\0\0\0";
        assert_eq!(extract_region(weak), None);
        // The same with an integer port between them is.
        // (4-aligned, as compilers place an int: 2 + 16 + 6 = 24.)
        let mut strong = b"\0\0www.example.com\0\0\0\0\0\0\0".to_vec();
        assert_eq!(strong.len(), 24);
        strong.extend_from_slice(&6667u32.to_le_bytes());
        strong.extend_from_slice(b"#lobby\0\0\0\0");
        let e = extract_region(&strong).unwrap();
        assert_eq!(e.config.servers[0].port, 6667);
        assert_eq!(e.config.channel, "#lobby");
        assert_eq!(e.layout, Layout::Globals);
        assert_eq!(e.encoding, FoundEncoding::Plain);
        assert!(e.score >= MIN_SCORE);
        // Preprocessor lines near a host are never channels.
        let text = b"\0www.example.com\0#define\0key1\0";
        assert_eq!(extract_region(text), None);
    }

    #[test]
    fn pe_image_base_of_pe32() {
        let mut b = vec![0u8; 0x200];
        b[0] = b'M';
        b[1] = b'Z';
        b[0x3c] = 0x80;
        b[0x80..0x84].copy_from_slice(b"PE\0\0");
        b[0x98..0x9a].copy_from_slice(&0x10bu16.to_le_bytes());
        b[0x98 + 28..0x98 + 32].copy_from_slice(&0x0040_0000u32.to_le_bytes());
        assert_eq!(pe_image_base(&b), Some(0x0040_0000));
        assert_eq!(pe_image_base(&b[..0x90]), None);
    }
}
