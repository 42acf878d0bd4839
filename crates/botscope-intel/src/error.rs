//! Typed errors of the intel crate's option and list parsers.

use crate::names::NameError;

/// Why a network or an RPZ action was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not an IP address (the text given).
    #[error("not an IP address: {0:?}")]
    NotAnAddress(String),
    /// A prefix length that is not a number up to 32 (IPv4) or 128 (IPv6).
    #[error("bad prefix length {0:?}")]
    BadPrefix(String),
    /// An RPZ sinkhole that is neither an address nor a valid host name.
    #[error("sinkhole {given:?}: {reason}")]
    Sinkhole {
        /// The sinkhole given.
        given: String,
        /// Why the name was refused.
        reason: NameError,
    },
}

impl ParseError {
    /// The reason without the offending text, used when counting skips
    /// (so one bad value does not make a reason of its own).
    pub fn reason(&self) -> &'static str {
        match self {
            ParseError::NotAnAddress(_) => "not an IP address",
            ParseError::BadPrefix(_) => "bad prefix length",
            ParseError::Sinkhole { .. } => "bad sinkhole",
        }
    }
}
