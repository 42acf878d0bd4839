//! Compact text types of the per-flow record ([`crate::events::Conn`]):
//! uids, connection states and histories that need no heap allocation in
//! the common case, serialised as the same strings as plain `String`s.
//!
//! [`CompactStr`] keeps up to [`INLINE_CAP`] bytes inline and falls back
//! to a shared `Arc<str>` for longer text (text read from logs is
//! arbitrary and may be long; it still round-trips exactly). Cloning
//! never allocates.

mod conn_state;
mod packets;
mod uid;

pub use conn_state::ConnState;
pub use packets::PacketNumbers;
pub use uid::{Uid, UID_DIGITS};

use std::sync::Arc;

/// Bytes held inline by a [`CompactStr`] (longer text is shared on the
/// heap). Engine uids (`C` + at most 17 base-62 digits) and nearly all
/// Zeek histories fit.
pub const INLINE_CAP: usize = 22;

#[derive(Clone)]
enum Repr {
    /// `b[..len]` is valid UTF-8 (copied from a `&str`, or ASCII).
    Inline {
        len: u8,
        b: [u8; INLINE_CAP],
    },
    Shared(Arc<str>),
}

/// Immutable text, inline up to [`INLINE_CAP`] bytes, else a shared
/// `Arc<str>`. Cloning never allocates.
#[derive(Clone)]
pub struct CompactStr(Repr);

impl CompactStr {
    /// The empty text.
    pub const fn new() -> Self {
        CompactStr(Repr::Inline {
            len: 0,
            b: [0; INLINE_CAP],
        })
    }

    /// Text from ASCII bytes that fit inline (`None` if they do not, or
    /// are not ASCII).
    pub fn inline_ascii(bytes: &[u8]) -> Option<Self> {
        if bytes.len() > INLINE_CAP || !bytes.is_ascii() {
            return None;
        }
        let mut b = [0; INLINE_CAP];
        b[..bytes.len()].copy_from_slice(bytes);
        Some(CompactStr(Repr::Inline {
            len: bytes.len() as u8,
            b,
        }))
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: inline bytes are only ever copied from a `&str`
            // (`From<&str>`) or checked ASCII (`inline_ascii`, `Uid`), so
            // they are valid UTF-8. Unchecked because the engine hands a
            // uid's text to the sink with every packet.
            Repr::Inline { len, b } => unsafe {
                std::str::from_utf8_unchecked(b.get_unchecked(..*len as usize))
            },
            Repr::Shared(s) => s,
        }
    }

    /// Whether the text is held inline (no heap object behind it).
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }

    /// Inline text from bytes already known to be ASCII and at most
    /// [`INLINE_CAP`] long (callers in this module guarantee both).
    fn from_ascii_unchecked(b: [u8; INLINE_CAP], len: usize) -> Self {
        debug_assert!(len <= INLINE_CAP && b[..len].is_ascii());
        CompactStr(Repr::Inline { len: len as u8, b })
    }
}

impl Default for CompactStr {
    fn default() -> Self {
        Self::new()
    }
}

impl From<&str> for CompactStr {
    fn from(s: &str) -> Self {
        if s.len() <= INLINE_CAP {
            let mut b = [0; INLINE_CAP];
            b[..s.len()].copy_from_slice(s.as_bytes());
            CompactStr(Repr::Inline {
                len: s.len() as u8,
                b,
            })
        } else {
            CompactStr(Repr::Shared(Arc::from(s)))
        }
    }
}

impl From<String> for CompactStr {
    fn from(s: String) -> Self {
        CompactStr::from(s.as_str())
    }
}

impl From<&String> for CompactStr {
    fn from(s: &String) -> Self {
        CompactStr::from(s.as_str())
    }
}

/// Common traits of the text newtypes: they compare, hash, order, print
/// and serialise as their text, and read as `&str`.
macro_rules! text_traits {
    ($t:ty) => {
        impl std::ops::Deref for $t {
            type Target = str;
            #[inline]
            fn deref(&self) -> &str {
                self.as_str()
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl std::borrow::Borrow<str> for $t {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(self.as_str(), f)
            }
        }
        impl PartialEq for $t {
            fn eq(&self, o: &Self) -> bool {
                self.as_str() == o.as_str()
            }
        }
        impl Eq for $t {}
        impl PartialOrd for $t {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for $t {
            fn cmp(&self, o: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(o.as_str())
            }
        }
        impl std::hash::Hash for $t {
            fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
                self.as_str().hash(h)
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, o: &str) -> bool {
                self.as_str() == o
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, o: &&str) -> bool {
                self.as_str() == *o
            }
        }
        impl PartialEq<String> for $t {
            fn eq(&self, o: &String) -> bool {
                self.as_str() == o.as_str()
            }
        }
        impl PartialEq<$t> for str {
            fn eq(&self, o: &$t) -> bool {
                self == o.as_str()
            }
        }
        impl PartialEq<$t> for &str {
            fn eq(&self, o: &$t) -> bool {
                *self == o.as_str()
            }
        }
        impl PartialEq<$t> for String {
            fn eq(&self, o: &$t) -> bool {
                self.as_str() == o.as_str()
            }
        }
        impl From<&$t> for String {
            fn from(t: &$t) -> String {
                t.as_str().to_string()
            }
        }
        impl From<$t> for String {
            fn from(t: $t) -> String {
                t.as_str().to_string()
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str($crate::compact::TextVisitor)
                    .map(|t| <$t>::from(t.as_str()))
            }
        }
    };
}
pub(crate) use text_traits;

/// Reads a string without allocating when the text is borrowed or fits
/// inline.
pub(crate) struct TextVisitor;

impl serde::de::Visitor<'_> for TextVisitor {
    type Value = CompactStr;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CompactStr, E> {
        Ok(CompactStr::from(v))
    }
}

text_traits!(CompactStr);

/// Zeek's connection history letters (`ShADadFf`...): inline up to
/// [`INLINE_CAP`] letters, longer ones (rare) shared on the heap.
#[derive(Clone, Default)]
pub struct History(CompactStr);

impl History {
    /// The empty history.
    pub const fn new() -> Self {
        History(CompactStr::new())
    }
    /// The letters.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for History {
    fn from(s: &str) -> Self {
        History(CompactStr::from(s))
    }
}

impl From<String> for History {
    fn from(s: String) -> Self {
        History(CompactStr::from(s.as_str()))
    }
}

text_traits!(History);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_text_round_trips() {
        let s = CompactStr::from("ShADadFf");
        assert!(s.is_inline());
        assert_eq!(s, "ShADadFf");
        let exact = "x".repeat(INLINE_CAP);
        assert!(CompactStr::from(exact.as_str()).is_inline());
        let long = "Cé,\\x01\t".repeat(10);
        let l = CompactStr::from(long.as_str());
        assert!(!l.is_inline());
        assert_eq!(l.as_str(), long);
        assert_eq!(l.clone(), l);
        // Multi-byte text that fits inline keeps its bytes.
        let u = CompactStr::from("ü€𝄞");
        assert!(u.is_inline());
        assert_eq!(u.as_str(), "ü€𝄞");
        assert_eq!(CompactStr::inline_ascii(b"abc").unwrap(), "abc");
        assert!(CompactStr::inline_ascii("é".as_bytes()).is_none());
        assert!(CompactStr::inline_ascii(&[b'a'; INLINE_CAP + 1]).is_none());
    }

    #[test]
    fn text_serialises_as_a_json_string_and_reads_back() {
        for t in ["", "S", "ShADadFf", &"^dDaA".repeat(20), "a\"b\\c\u{1}"] {
            let h = History::from(t);
            let json = serde_json::to_string(&h).unwrap();
            assert_eq!(json, serde_json::to_string(t).unwrap());
            let back: History = serde_json::from_str(&json).unwrap();
            assert_eq!(back, t);
            assert_eq!(format!("{h:?}"), format!("{t:?}"));
            assert_eq!(h.to_string(), t);
        }
    }
}
