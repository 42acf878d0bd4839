//! One specimen's static analysis: type, hashes, PE facts, unpacking,
//! strings, IOCs, bot config and fuzzy hash.

use crate::config::{self, Layout, Segment};
use crate::ioc::{self, Iocs};
use crate::pe::{self, PeInfo, PeKind};
use crate::strings::{self, FoundEncoding};
use botscope_core::botconfig::BotConfig;
use botscope_deobf::{Finding, Input, Limits, Record, Registry};
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

/// Bytes of the fused first pass's pieces: small enough that a piece
/// read by MD5 is still in the L1/L2 cache when SHA-1, SHA-256 and the
/// CTPH trigger scan read it.
const FIRST_PASS_PIECE: usize = 16 << 10;

/// What one read of a file feeds: the three digests the store records and
/// the CTPH first pass (trigger census), finished by analysis when the
/// specimen is new.
pub struct FirstPass {
    /// MD5, SHA-1 and SHA-256.
    pub hashes: Hashes,
    /// The ssdeep digest's first pass over the same bytes.
    pub fuzzy: crate::fuzzy::FirstPass,
}

/// One loop over `data` in [`FIRST_PASS_PIECE`] pieces, each hashed three
/// ways and scanned for CTPH triggers while it is in cache: no second pass
/// over the bytes for the digests or the census.
pub fn first_pass(data: &[u8]) -> FirstPass {
    let (mut md5, mut sha1, mut sha256) = (Md5::new(), Sha1::new(), Sha256::new());
    let mut fuzzy = crate::fuzzy::FirstPass::new(data.len());
    let mut end = 0;
    for piece in data.chunks(FIRST_PASS_PIECE) {
        md5.update(piece);
        sha1.update(piece);
        sha256.update(piece);
        end += piece.len();
        fuzzy.feed(data, end);
    }
    FirstPass {
        hashes: Hashes {
            md5: hex::encode(md5.finalize()),
            sha1: hex::encode(sha1.finalize()),
            sha256: hex::encode(sha256.finalize()),
        },
        fuzzy,
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
    /// How its strings were laid out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_layout: Option<Layout>,
    /// Its evidence score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_score: Option<u32>,
    /// The evidence, one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config_evidence: Vec<String>,
    /// Indicators (those only decoding revealed included).
    pub iocs: Iocs,
    /// The de-obfuscation stage: decoders run, matched, keys, offsets,
    /// what they revealed ([`deobfuscate`]).
    pub deobf: Record,
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

/// The de-obfuscation stage's work budget per specimen: every decoder
/// reads at most the bytes config extraction reads
/// ([`config::MAX_CONFIG_SCAN`]), the shellcode stub finder at most
/// 1 MiB, each decoder adds at most 16 findings, and 4 KiB blocks above
/// [`MAX_DEOBF_ENTROPY`] are left out.
pub fn deobf_limits() -> Limits {
    Limits {
        max_bytes: config::MAX_CONFIG_SCAN,
        max_entropy: Some(MAX_DEOBF_ENTROPY),
        ..Limits::default()
    }
}

/// Blocks of a specimen above this entropy (bits per byte) are not
/// decoded: compressed or encrypted data (a packed section, a random
/// overlay) holds no string a decoder could read, and the XOR-family
/// search costs most there. The packer's high-entropy mark is 7.2.
pub const MAX_DEOBF_ENTROPY: f64 = 7.2;

/// Runs the de-obfuscation stage over a specimen's segments (clipped as
/// config extraction clips them). `known`: the XOR-family decodings
/// config extraction searched for, `Some(empty)` when a plain config made
/// that search needless (then the stage does not search either, and
/// lists `xor_strings` as cut short), `None` to search here. Returns the
/// record and the XOR-family decodings.
pub fn deobfuscate(
    segments: &[Segment],
    known: Option<&[(botscope_deobf::xorstr::Transform, usize, usize)]>,
) -> (
    Record,
    Vec<(botscope_deobf::xorstr::Transform, usize, usize)>,
) {
    let clipped = config::clipped(segments);
    let inputs: Vec<Input> = clipped
        .iter()
        .map(|s| Input::new(s.name, s.bytes, s.va.is_some()))
        .collect();
    let out = Registry::shared().run_with(&inputs, deobf_limits(), &config::decoded_host_ok, known);
    (out.record, out.transforms)
}

/// The block finder's one-byte XOR (`strings::find_config`) as the
/// record's `xor_strings` finding: the config's strings are what it
/// revealed.
fn block_xor_finding(f: &config::Extracted) -> Option<Finding> {
    let FoundEncoding::Xor(k) = f.encoding else {
        return None;
    };
    if f.layout != Layout::Block {
        return None;
    }
    let c = &f.config;
    let mut revealed: Vec<String> = c.servers.iter().map(|s| s.host.clone()).collect();
    revealed.push(c.channel.clone());
    Some(Finding {
        decoder: "xor_strings".into(),
        method: format!("xor:{k:02x}"),
        key: Some(format!("{k:02x}")),
        region: f.region.clone(),
        offset: 0,
        length: 0,
        revealed,
        iocs: Vec::new(),
    })
}

/// Fills each finding's `iocs` with the indicators in its revealed
/// strings that the plain strings did not give (`plain`), and adds them
/// to `all`.
fn revealed_iocs(record: &mut Record, plain: &Iocs, all: &mut Iocs) {
    for f in &mut record.findings {
        let mut got = Iocs::default();
        for r in &f.revealed {
            ioc::scan_text(r, &mut got);
        }
        let new = got
            .fqdns
            .iter()
            .filter(|x| !plain.fqdns.contains(*x))
            .chain(got.ipv4.iter().filter(|x| !plain.ipv4.contains(*x)))
            .chain(got.urls.iter().filter(|x| !plain.urls.contains(*x)));
        f.iocs = new.cloned().collect();
        all.fqdns.extend(got.fqdns);
        all.ipv4.extend(got.ipv4);
        all.urls.extend(got.urls);
    }
}

/// The record's entry for a UPX unpack (the PE walk finds the pack
/// header and sections; the NRV and unfilter code is the stage's).
fn upx_finding(info: &PeInfo, un: &pe::UpxUnpacked) -> Finding {
    let method = info
        .packer
        .as_ref()
        .and_then(|p| p.method)
        .map_or("nrv", |m| match m {
            botscope_deobf::upx::nrv::Method::Nrv2b => "nrv2b",
            botscope_deobf::upx::nrv::Method::Nrv2d => "nrv2d",
            botscope_deobf::upx::nrv::Method::Nrv2e => "nrv2e",
        });
    let upx1 = info.sections.iter().skip_while(|s| s.name != "UPX0").nth(1);
    let mut revealed = vec![format!("unpacked image of {} bytes", un.image.len())];
    if un.filter != 0 {
        revealed.push(format!("{} branch operands restored", un.restored));
    }
    Finding {
        decoder: "upx".into(),
        method: if un.filter == 0 {
            method.to_string()
        } else {
            format!("{method}+filter:{:02x}", un.filter)
        },
        key: None,
        region: upx1.map_or("UPX1".into(), |s| s.name.clone()),
        offset: upx1.map_or(0, |s| s.raw_offset as usize),
        length: upx1.map_or(0, |s| s.raw_size as usize),
        revealed,
        iocs: Vec::new(),
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
/// `pe.warnings` or `pe.packer.unpack_error`. Default [`pe::UnpackCaps`].
pub fn analyze(data: &[u8]) -> Analysis {
    analyze_with(data, &pe::UnpackCaps::default())
}

/// [`analyze`] with UPX unpacking bounded by `caps`. The unpacked image is
/// fuzzy-hashed whole (it is at most `caps.max_size`), but like every other
/// region only its first [`MAX_SCAN_REGION`] bytes are searched.
pub fn analyze_with(data: &[u8], caps: &pe::UnpackCaps) -> Analysis {
    analyze_fed(data, caps, None)
}

/// [`analyze_with`] finishing the CTPH first pass [`first_pass`] already
/// ran over `data` (`None`: the digest is computed here).
pub fn analyze_fed(
    data: &[u8],
    caps: &pe::UnpackCaps,
    fuzzy: Option<crate::fuzzy::FirstPass>,
) -> Analysis {
    // (name, bytes, virtual address when mapped)
    let mut regions: Vec<(String, std::borrow::Cow<'_, [u8]>, Option<u64>)> = Vec::new();
    let base = config::pe_image_base(data);
    let mut pe_info = None;
    let mut pe_reject = None;
    let mut ftype;
    let mut fuzzy_unpacked = None;
    let mut upx_found = None;
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
                            base.map(|b| b + u64::from(s.virtual_address)),
                        ));
                    }
                }
                if let Some((off, len)) = info.overlay {
                    let end = (off + len.min(MAX_SCAN_REGION as u64)) as usize;
                    regions.push(("overlay".into(), data[off as usize..end].into(), None));
                }
                let is_upx = info.packer.as_ref().is_some_and(|p| p.name == "UPX");
                let first_rva = info.sections.first().map(|s| s.virtual_address);
                if is_upx {
                    match pe::upx_unpack_capped(data, &info, caps) {
                        Ok(un) => {
                            upx_found = Some(upx_finding(&info, &un));
                            let mut img = un.image;
                            if let Some(p) = info.packer.as_mut() {
                                p.unpacked_size = Some(img.len() as u64);
                            }
                            fuzzy_unpacked = Some(crate::fuzzy::digest(&img));
                            img.truncate(MAX_SCAN_REGION);
                            let va = base.zip(first_rva).map(|(b, r)| b + u64::from(r));
                            regions.insert(0, ("unpacked".into(), img.into(), va));
                        }
                        Err(e) => {
                            if let Some(p) = info.packer.as_mut() {
                                p.unpack_error = Some(e.to_string());
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
                    None,
                ));
            }
        }
    } else {
        ftype = file_type(data);
        regions.push((
            "file".into(),
            data[..data.len().min(MAX_SCAN_REGION)].into(),
            None,
        ));
    }

    let segments: Vec<Segment> = regions
        .iter()
        .map(|(name, bytes, va)| Segment {
            name,
            va: *va,
            bytes,
        })
        .collect();
    // Config extraction first: its XOR-family search (run only when no
    // plain config was found) is the stage's, recorded, not run twice.
    let (found, searched) = config::extract_with(&segments);
    let block_xor = found.as_ref().and_then(block_xor_finding);
    let known = searched.unwrap_or_default();
    let (mut deobf, _) = deobfuscate(&segments, Some(&known));
    if let Some(f) = block_xor {
        // The block finder searched and decoded it: not cut short.
        deobf.cut_short.retain(|d| d != "xor_strings");
        // In registry order: after the decoders that run before it.
        let names = Registry::shared().names();
        let rank = |d: &str| names.iter().position(|n| *n == d);
        let at = deobf
            .findings
            .iter()
            .position(|x| rank(&x.decoder) > rank("xor_strings"))
            .unwrap_or(deobf.findings.len());
        deobf.findings.insert(at, f);
    }
    if let Some(f) = upx_found {
        deobf.ran.insert(0, "upx".into());
        deobf.findings.insert(0, f);
    }
    let mut iocs = Iocs::default();
    let mut nstrings = 0;
    for (_, bytes, _) in &regions {
        strings::for_each_string(bytes, 5, |_, _, text| {
            nstrings += 1;
            ioc::scan_text(text, &mut iocs);
        });
    }
    // What the plain strings name: a finding's `iocs` are what decoding
    // adds to it.
    let plain = iocs.clone();
    if let Some(f) = &found {
        // Decoded strings are indicators too (byte-wise encodings decode
        // the whole region; per-string ones give the config's servers).
        let decode: Option<Box<dyn Fn(u8) -> u8>> = match f.encoding {
            FoundEncoding::Xor(k) => Some(Box::new(move |b| b ^ k)),
            FoundEncoding::Add(k) => Some(Box::new(move |b: u8| b.wrapping_sub(k))),
            FoundEncoding::Rol(r) => Some(Box::new(move |b: u8| b.rotate_right(u32::from(r)))),
            _ => None,
        };
        if let (Some(d), Some((_, bytes, _))) = (decode, regions.iter().find(|r| r.0 == f.region)) {
            let decoded: Vec<u8> = bytes.iter().map(|&b| d(b)).collect();
            strings::for_each_string(&decoded, 5, |_, _, text| ioc::scan_text(text, &mut iocs));
        }
        // Config servers are indicators whatever their encoding.
        for s in &f.config.servers {
            ioc::scan_text(&s.host, &mut iocs);
        }
    }
    revealed_iocs(&mut deobf, &plain, &mut iocs);
    let fuzzy = match fuzzy {
        Some(first) => first.finish(data),
        None => crate::fuzzy::digest(data),
    };
    Analysis {
        file_type: ftype,
        pe: pe_info,
        pe_reject,
        config: found.as_ref().map(|f| f.config.clone()),
        config_encoding: found.as_ref().map(|f| f.encoding.clone()),
        config_region: found.as_ref().map(|f| f.region.clone()),
        config_layout: found.as_ref().map(|f| f.layout),
        config_score: found.as_ref().map(|f| f.score),
        config_evidence: found.map(|f| f.evidence).unwrap_or_default(),
        iocs,
        deobf,
        strings: nstrings,
        fuzzy,
        fuzzy_unpacked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_pass_digests_match_published_vectors() {
        // FIPS 180 / RFC 1321 test vectors: "abc" (one piece) and a
        // million 'a' (61 pieces of the fused loop).
        let abc = first_pass(b"abc").hashes;
        assert_eq!(abc.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(abc.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            abc.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let million = vec![b'a'; 1_000_000];
        let pass = first_pass(&million);
        assert_eq!(pass.hashes.md5, "7707d6ae4e027c70eea2a935c2296f21");
        assert_eq!(pass.hashes.sha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
        assert_eq!(
            pass.hashes.sha256,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        assert_eq!(pass.hashes, hashes(&million));
        assert_eq!(pass.fuzzy.finish(&million), crate::fuzzy::digest(&million));
    }
}
