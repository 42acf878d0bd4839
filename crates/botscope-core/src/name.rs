//! Domain names, one normaliser for every crate (watch lists, allow lists,
//! C&C names from specimens): trimmed, one trailing dot dropped, lower
//! case, non-ASCII names mapped by UTS 46 (case folding, NFC, width and
//! compatibility mappings, ideographic full stops as dots; nontransitional,
//! so `ß` stays `ß`) and turned into IDNA A-labels (`xn--` punycode) with
//! the `idna` crate, then checked against the DNS length rules (RFC 1035:
//! labels of 1–63 octets, 253 characters in presentation form). Letters,
//! digits, `-` and `_` (service labels; bot herders use them) are allowed.

use std::fmt;

/// Longest label in octets (RFC 1035 §2.3.4).
pub const MAX_LABEL: usize = 63;
/// Longest name in presentation form without the trailing dot: 255 octets
/// on the wire is 253 characters of text.
pub const MAX_NAME: usize = 253;
/// Longest input looked at, in bytes: UTS 46 may drop or shorten
/// characters, but no name worth mapping is this long, and hostile input
/// gets bounded work.
pub const MAX_INPUT: usize = 4096;

/// Why a name was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name has no labels.
    #[error("empty name")]
    Empty,
    /// A label is empty (`a..b`).
    #[error("empty label")]
    EmptyLabel,
    /// A label is longer than 63 octets.
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// The whole name is longer than 253 octets (or the input than
    /// [`MAX_INPUT`]).
    #[error("name longer than 253 octets")]
    NameTooLong,
    /// A character that has no place in a host name.
    #[error("invalid character {0:?}")]
    BadChar(char),
    /// A label starts or ends with a hyphen.
    #[error("label starts or ends with '-'")]
    Hyphen,
    /// UTS 46 mapping failed (disallowed code point, bad bidi or joiner
    /// use, invalid punycode).
    #[error("not a valid internationalised name (UTS 46)")]
    Idna,
}

/// A normalised domain name: lower-case A-labels joined by dots, no
/// trailing dot, within the DNS length limits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// Normalises a name given by a person or found in a specimen.
    pub fn parse(input: &str) -> Result<Name, NameError> {
        if input.len() > MAX_INPUT {
            return Err(NameError::NameTooLong);
        }
        let s = input.trim();
        let s = s.strip_suffix('.').unwrap_or(s);
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        // UTS 46 works on the whole name: some mappings produce dots.
        let mapped;
        let s = if s.is_ascii() {
            s
        } else {
            mapped = idna::domain_to_ascii_cow(s.as_bytes(), idna::AsciiDenyList::URL)
                .map_err(|_| NameError::Idna)?;
            mapped.strip_suffix('.').unwrap_or(&mapped)
        };
        let mut out = String::with_capacity(s.len());
        for (i, label) in s.split('.').enumerate() {
            if i > 0 {
                out.push('.');
            }
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > MAX_LABEL {
                return Err(NameError::LabelTooLong);
            }
            if let Some(c) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(NameError::BadChar(c));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(NameError::Hyphen);
            }
            out.extend(label.bytes().map(|b| char::from(b.to_ascii_lowercase())));
        }
        if out.len() > MAX_NAME {
            return Err(NameError::NameTooLong);
        }
        Ok(Name(out))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Its labels, leftmost first.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.0.split('.')
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Result<String, NameError> {
        Name::parse(s).map(Name::into_string)
    }

    #[test]
    fn ascii_case_dot_and_labels() {
        assert_eq!(n(" Bot.DynDNS.org. ").unwrap(), "bot.dyndns.org");
        assert_eq!(n("_irc.Example.COM").unwrap(), "_irc.example.com");
        let name = Name::parse("a.b.c").unwrap();
        assert_eq!(name.labels().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!("X.Y".parse::<Name>().unwrap().to_string(), "x.y");
    }

    #[test]
    fn idn_to_a_labels() {
        // RFC 3492 section 7.1 (L).
        assert_eq!(
            n("3年B組金八先生.jp").unwrap(),
            "xn--3b-ww4c5e180e575a65lsy2b.jp"
        );
        assert_eq!(n("MÜNCHEN.DE.").unwrap(), "xn--mnchen-3ya.de");
        assert_eq!(n("ＥＸＡＭＰＬＥ。ｃｏｍ").unwrap(), "example.com");
        assert_eq!(n("faß.de").unwrap(), "xn--fa-hia.de");
        assert_eq!(n("a\u{2028}b.com"), Err(NameError::Idna));
    }

    #[test]
    fn limits() {
        assert_eq!(n(""), Err(NameError::Empty));
        assert_eq!(n("."), Err(NameError::Empty));
        assert_eq!(n("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(n(&"a".repeat(64)), Err(NameError::LabelTooLong));
        assert_eq!(n(&"a".repeat(63)).unwrap().len(), 63);
        // 4 labels of 63 and 3 dots = 255 > 253; 253 exactly is fine.
        assert_eq!(
            n(&vec!["a".repeat(63); 4].join(".")),
            Err(NameError::NameTooLong)
        );
        let at_limit = format!("{}.{}", vec!["a".repeat(63); 3].join("."), "a".repeat(61));
        assert_eq!(n(&at_limit).unwrap().len(), 253);
        assert_eq!(n(&"a".repeat(MAX_INPUT + 1)), Err(NameError::NameTooLong));
        assert_eq!(n("a b.com"), Err(NameError::BadChar(' ')));
        assert_eq!(n("*.com"), Err(NameError::BadChar('*')));
        assert_eq!(n("a-.com"), Err(NameError::Hyphen));
    }
}
