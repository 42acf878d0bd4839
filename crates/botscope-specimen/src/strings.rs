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

/// ASCII strings of at least `min` printable bytes.
pub fn ascii_strings(data: &[u8], min: usize) -> Vec<FoundString> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in data.iter().chain(std::iter::once(&0)).enumerate() {
        if i < data.len() && printable(b) {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            if i - s >= min && out.len() < MAX_STRINGS {
                let end = i.min(s + MAX_STRING);
                out.push(FoundString {
                    offset: s,
                    encoding: "ascii",
                    text: String::from_utf8_lossy(&data[s..end]).into_owned(),
                });
            }
        }
    }
    out
}

/// UTF-16LE strings (printable ASCII code units) of at least `min` units, at
/// both byte alignments.
pub fn utf16_strings(data: &[u8], min: usize) -> Vec<FoundString> {
    let mut out = Vec::new();
    for align in 0..2 {
        let mut start: Option<usize> = None;
        let mut text = String::new();
        let mut i = align;
        loop {
            let unit = if i + 1 < data.len() {
                Some((data[i], data[i + 1]))
            } else {
                None
            };
            match unit {
                Some((lo, 0)) if printable(lo) => {
                    start.get_or_insert(i);
                    if text.len() < MAX_STRING {
                        text.push(lo as char);
                    }
                }
                _ => {
                    if let Some(s) = start.take() {
                        if text.len() >= min && out.len() < MAX_STRINGS {
                            out.push(FoundString {
                                offset: s,
                                encoding: "utf16le",
                                text: std::mem::take(&mut text),
                            });
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
    out.sort_by_key(|s| s.offset);
    out
}

/// How a config was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundEncoding {
    /// Plain ASCII.
    Plain,
    /// XOR with one byte.
    Xor(u8),
    /// UTF-16LE.
    Utf16,
}

/// Tokens: `None` = not text.
fn tokens_bytes(data: &[u8], key: u8) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut ok = true;
    for &raw in data {
        let b = raw ^ key;
        if b == 0 {
            out.push(if ok {
                Some(String::from_utf8_lossy(&cur).into_owned())
            } else {
                None
            });
            cur.clear();
            ok = true;
        } else if ok {
            if printable(b) && cur.len() < 256 {
                cur.push(b);
            } else {
                ok = false;
            }
        }
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

fn config_in_tokens(t: &[Option<String>]) -> Option<BotConfig> {
    for i in 0..t.len() {
        let Some(chan) = t[i].as_deref() else {
            continue;
        };
        if !is_channel(chan) {
            continue;
        }
        let mut servers = Vec::new();
        let mut j = i;
        while j >= 2 {
            let (Some(h), Some(p)) = (t[j - 2].as_deref(), t[j - 1].as_deref()) else {
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
            key: (!key.is_empty()).then(|| key.clone()),
            nick_prefix: nick.clone(),
        });
    }
    None
}

/// Keys worth trying for single-byte XOR: a `#` channel is preceded by the
/// port's NUL terminator, so `(k, '#' ^ k)` pairs name candidate keys; the
/// most frequent first, at most 16.
pub fn xor_key_candidates(data: &[u8]) -> Vec<u8> {
    let mut count = [0u32; 256];
    for w in data.windows(2) {
        let k = w[0];
        if k != 0 && w[1] == b'#' ^ k {
            count[k as usize] += 1;
        }
    }
    let mut keys: Vec<u8> = (1..=255u8).filter(|&k| count[k as usize] > 0).collect();
    keys.sort_by_key(|&k| std::cmp::Reverse(count[k as usize]));
    keys.truncate(16);
    keys
}

/// Finds the bot config in a region: plain, then UTF-16LE, then XOR.
pub fn find_config(data: &[u8]) -> Option<(BotConfig, FoundEncoding)> {
    if let Some(c) = config_in_tokens(&tokens_bytes(data, 0)) {
        return Some((c, FoundEncoding::Plain));
    }
    for align in 0..2 {
        if let Some(c) = config_in_tokens(&tokens_utf16(data, align)) {
            return Some((c, FoundEncoding::Utf16));
        }
    }
    for k in xor_key_candidates(data) {
        if let Some(c) = config_in_tokens(&tokens_bytes(data, k)) {
            return Some((c, FoundEncoding::Xor(k)));
        }
    }
    None
}

/// Decodes a region with a XOR key (for string and IOC listing).
pub fn xor_decode(data: &[u8], key: u8) -> Vec<u8> {
    data.iter().map(|b| b ^ key).collect()
}
