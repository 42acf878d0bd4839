//! What the de-obfuscation stage did to one specimen or payload.

use serde::{Deserialize, Serialize};

/// Longest revealed string kept (characters).
pub const MAX_REVEALED_LEN: usize = 256;

/// The record of one run of the stage: stored with the specimen, carried
/// in the sensor's session and datagram events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Every decoder that ran, in registry order.
    pub ran: Vec<String>,
    /// Decoders stopped by the work budget before they had read
    /// everything (their findings so far are kept).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cut_short: Vec<String>,
    /// Input bytes the decoders examined, all together.
    pub bytes_examined: u64,
    /// What matched, in decoder order then offset order.
    pub findings: Vec<Finding>,
}

/// One decoding that matched.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The registry name of the decoder (`shellcode_stub`, `xor_strings`,
    /// `base64` …).
    pub decoder: String,
    /// The decoding with its parameters: `xor8`, `xor:5ac3178e`,
    /// `rolling_xor:41`, `base64`, `rot13`, `nrv2b+filter:26` …
    pub method: String,
    /// The key, lowercase hex, when the decoding has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The input it was found in (`.data`, `overlay`, `payload` …).
    pub region: String,
    /// Offset of the encoded bytes (or the decoder stub) in that input.
    pub offset: usize,
    /// Length of the encoded stretch, when known.
    pub length: usize,
    /// Printable strings the decoding revealed (each at most
    /// [`MAX_REVEALED_LEN`] characters).
    pub revealed: Vec<String>,
    /// Indicators (hosts, IPs, URLs, commands) found in `revealed` and
    /// not in the plain bytes: filled by the consumer's IOC extractor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iocs: Vec<String>,
}

impl Record {
    /// Whether any decoder matched.
    pub fn matched(&self) -> bool {
        !self.findings.is_empty()
    }

    /// The distinct decoders that matched, in record order.
    pub fn matched_decoders(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.findings {
            if !out.contains(&f.decoder.as_str()) {
                out.push(&f.decoder);
            }
        }
        out
    }

    /// Every IOC the findings revealed, each once.
    pub fn revealed_iocs(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for i in self.findings.iter().flat_map(|f| &f.iocs) {
            if !out.contains(&i.as_str()) {
                out.push(i);
            }
        }
        out
    }
}

/// Lowercase hex of a key.
pub fn hex(k: &[u8]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

/// Printable runs (ASCII 0x20–0x7e and tab) of at least `min` bytes in
/// `b`, at most `max` of them, each cut at [`MAX_REVEALED_LEN`].
pub fn printable_runs(b: &[u8], min: usize, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    for i in 0..=b.len() {
        let p = i < b.len() && ((0x20..0x7f).contains(&b[i]) || b[i] == b'\t');
        if p {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            if i - s >= min {
                let end = i.min(s + MAX_REVEALED_LEN);
                out.push(String::from_utf8_lossy(&b[s..end]).into_owned());
                if out.len() == max {
                    break;
                }
            }
        }
    }
    out
}
