//! Where in an input something went wrong. Every parser error that reaches
//! a user names its place: file, packet number, byte offset or line.

use serde::Serialize;
use std::fmt;

/// A place in an input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file (or `-` for standard input).
    pub file: String,
    /// 1-based packet (record) number, when the input is a capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<u64>,
    /// Byte offset in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// 1-based line number, when the input is text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(p) = self.packet {
            write!(f, " packet {p}")?;
        }
        if let Some(l) = self.line {
            write!(f, " line {l}")?;
        }
        if let Some(o) = self.offset {
            write!(f, " offset {o}")?;
        }
        Ok(())
    }
}

/// An error tied to its place in the input: `file packet 12 offset 4096: reason`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{location}: {reason}")]
pub struct Located {
    /// Where.
    pub location: Location,
    /// A short, stable reason (also used as the key when counting skips).
    pub reason: String,
}

/// Counts skipped records by reason and keeps the first few places of each,
/// so a summary can say "412 × truncated record (first at packet 7, 19, 33)".
#[derive(Clone, Debug, Default, Serialize)]
pub struct SkipCounter {
    /// Reason → (count, first places).
    pub by_reason: std::collections::BTreeMap<String, (u64, Vec<String>)>,
}

impl SkipCounter {
    /// How many first places are kept per reason.
    pub const KEEP: usize = 5;

    /// Records one skipped record.
    pub fn add(&mut self, e: &Located) {
        let slot = self.by_reason.entry(e.reason.clone()).or_default();
        slot.0 += 1;
        if slot.1.len() < Self::KEEP {
            slot.1.push(e.location.to_string());
        }
    }

    /// Adds another counter's records (first places kept up to [`Self::KEEP`]).
    pub fn merge(&mut self, other: SkipCounter) {
        for (reason, (n, places)) in other.by_reason {
            let slot = self.by_reason.entry(reason).or_default();
            slot.0 += n;
            let room = Self::KEEP.saturating_sub(slot.1.len());
            slot.1.extend(places.into_iter().take(room));
        }
    }

    /// Total skipped records.
    pub fn total(&self) -> u64 {
        self.by_reason.values().map(|v| v.0).sum()
    }
}
