//! One specimen's static analysis: type, hashes, PE facts, unpacking,
//! strings, IOCs, bot config and fuzzy hash.

use crate::ioc::{self, Iocs};
use crate::pe::{self, PeInfo, PeKind};
use crate::strings::{self, FoundEncoding};
use botscope_core::botconfig::BotConfig;
use md5::Md5;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Bytes of a non-PE file or of an overlay searched for strings.
pub const MAX_SCAN_REGION: usize = 16 << 20;

/// File type as the store records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FileType {
    /// PE32.
    #[serde(rename = "PE32")]
    Pe32,
    /// PE32+.
    #[serde(rename = "PE32+")]
    Pe32Plus,
    /// A zip archive.
    #[serde(rename = "zip")]
    Zip,
    /// Anything else.
    #[serde(rename = "other")]
    Other,
}

impl FileType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Pe32 => "PE32",
            FileType::Pe32Plus => "PE32+",
            FileType::Zip => "zip",
            FileType::Other => "other",
        }
    }
}

/// MD5, SHA-1 and SHA-256 of a file, lowercase hex.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Hashes {
    /// MD5.
    pub md5: String,
    /// SHA-1.
    pub sha1: String,
    /// SHA-256.
    pub sha256: String,
}

/// Computes all three hashes in one pass: each 64 KiB piece is hashed
/// three ways while it is still in cache.
pub fn hashes(data: &[u8]) -> Hashes {
    let (mut md5, mut sha1, mut sha256) = (Md5::new(), Sha1::new(), Sha256::new());
    for piece in data.chunks(64 << 10) {
        md5.update(piece);
        sha1.update(piece);
        sha256.update(piece);
    }
    Hashes {
        md5: hex::encode(md5.finalize()),
        sha1: hex::encode(sha1.finalize()),
        sha256: hex::encode(sha256.finalize()),
    }
}

/// Everything static analysis found.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    /// File type.
    pub file_type: FileType,
    /// PE facts, when the headers were usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<PeInfo>,
    /// Why the file looked like a PE but was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe_reject: Option<String>,
    /// The IRC bot config, if found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<BotConfig>,
    /// How the config was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_encoding: Option<FoundEncoding>,
    /// Where it was found (section name or `unpacked`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_region: Option<String>,
    /// Indicators.
    pub iocs: Iocs,
    /// Number of ASCII and UTF-16LE strings (length >= 5) seen.
    pub strings: usize,
    /// ssdeep digest of the whole file, as the `ssdeep` tool prints it.
    pub fuzzy: String,
    /// ssdeep digest of the unpacked image, when unpacking worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzzy_unpacked: Option<String>,
}

impl Analysis {
    /// The digest families are grouped by: the unpacked image's when there
    /// is one (packing scrambles every byte), else the file's.
    pub fn family_digest(&self) -> &str {
        self.fuzzy_unpacked.as_deref().unwrap_or(&self.fuzzy)
    }
}

/// Detects the file type from magic bytes and headers.
pub fn file_type(data: &[u8]) -> FileType {
    if pe::looks_like_pe(data) {
        match pe::analyze(data) {
            Ok(i) if i.kind == PeKind::Pe32Plus => FileType::Pe32Plus,
            _ => FileType::Pe32,
        }
    } else if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        FileType::Zip
    } else {
        FileType::Other
    }
}

/// Analyses one file's bytes. Never fails: problems land in `pe_reject`,
/// `pe.warnings` or `pe.packer.unpack_error`.
pub fn analyze(data: &[u8]) -> Analysis {
    let mut regions: Vec<(String, std::borrow::Cow<'_, [u8]>)> = Vec::new();
    let mut pe_info = None;
    let mut pe_reject = None;
    let mut ftype;
    let mut fuzzy_unpacked = None;
    if data.starts_with(b"MZ") {
        ftype = FileType::Pe32;
        match pe::analyze(data) {
            Ok(mut info) => {
                if info.kind == PeKind::Pe32Plus {
                    ftype = FileType::Pe32Plus;
                }
                for s in &info.sections {
                    let start = s.raw_offset as usize;
                    if s.raw_size > 0 {
                        regions.push((
                            s.name.clone(),
                            data[start..start + s.raw_size as usize].into(),
                        ));
                    }
                }
                if let Some((off, len)) = info.overlay {
                    let end = (off + len.min(MAX_SCAN_REGION as u64)) as usize;
                    regions.push(("overlay".into(), data[off as usize..end].into()));
                }
                let is_upx = info.packer.as_ref().is_some_and(|p| p.name == "UPX");
                if is_upx {
                    match pe::upx_unpack(data, &info) {
                        Ok(img) => {
                            if let Some(p) = info.packer.as_mut() {
                                p.unpacked_size = Some(img.len() as u64);
                            }
                            fuzzy_unpacked = Some(crate::fuzzy::digest(&img));
                            regions.insert(0, ("unpacked".into(), img.into()));
                        }
                        Err(e) => {
                            if let Some(p) = info.packer.as_mut() {
                                p.unpack_error = Some(e);
                            }
                        }
                    }
                }
                pe_info = Some(info);
            }
            Err(e) => {
                pe_reject = Some(e.to_string());
                regions.push((
                    "file".into(),
                    data[..data.len().min(MAX_SCAN_REGION)].into(),
                ));
            }
        }
    } else {
        ftype = file_type(data);
        regions.push((
            "file".into(),
            data[..data.len().min(MAX_SCAN_REGION)].into(),
        ));
    }

    let mut config = None;
    let mut iocs = Iocs::default();
    let mut nstrings = 0;
    for (name, bytes) in &regions {
        if config.is_none() {
            if let Some((c, enc)) = strings::find_config(bytes) {
                // Decoded XOR strings are indicators too.
                if let FoundEncoding::Xor(k) = enc {
                    for s in strings::ascii_strings(&strings::xor_decode(bytes, k), 5) {
                        ioc::scan_text(&s.text, &mut iocs);
                    }
                }
                config = Some((c, enc, name.clone()));
            }
        }
        strings::for_each_string(bytes, 5, |_, _, text| {
            nstrings += 1;
            ioc::scan_text(text, &mut iocs);
        });
    }
    // Config servers are indicators whatever their encoding.
    if let Some((c, _, _)) = &config {
        for s in &c.servers {
            ioc::scan_text(&s.host, &mut iocs);
        }
    }
    let fuzzy = crate::fuzzy::digest(data);
    let (config, config_encoding, config_region) = match config {
        Some((c, e, r)) => (Some(c), Some(e), Some(r)),
        None => (None, None, None),
    };
    Analysis {
        file_type: ftype,
        pe: pe_info,
        pe_reject,
        config,
        config_encoding,
        config_region,
        iocs,
        strings: nstrings,
        fuzzy,
        fuzzy_unpacked,
    }
}
