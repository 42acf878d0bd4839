//! PE static analysis: our own bounded header walk (so every rejection has a
//! clear reason), then `goblin` for imports; imphash as pefile computes it,
//! section entropy, overlay, UPX detection and unpacking.

use crate::nrv::{self, Method};
use crate::unfilter;
use md5::{Digest, Md5};
use serde::Serialize;

/// Largest image we will map or unpack (declared sizes above are hostile).
pub const MAX_IMAGE: u64 = 256 << 20;
/// Default cap on one UPX unpack's output (see [`UnpackCaps`]).
pub const DEFAULT_MAX_UNPACKED: u64 = 32 << 20;
/// Default cap on the ratio of unpacked to packed bytes.
pub const DEFAULT_MAX_UNPACK_RATIO: u64 = 1000;

/// Bounds on one UPX unpack, checked against the pack header before any
/// output is allocated: a tiny specimen whose one NRV match runs for
/// hundreds of megabytes is refused with a stated reason instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnpackCaps {
    /// Largest unpacked size accepted (bytes).
    pub max_size: u64,
    /// Largest unpacked : packed ratio accepted (`u_len` over `c_len`).
    pub max_ratio: u64,
}

impl Default for UnpackCaps {
    fn default() -> Self {
        UnpackCaps {
            max_size: DEFAULT_MAX_UNPACKED,
            max_ratio: DEFAULT_MAX_UNPACK_RATIO,
        }
    }
}

/// Largest number of sections accepted.
pub const MAX_SECTIONS: usize = 96;

/// 32- or 64-bit PE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PeKind {
    /// PE32 (optional header magic 0x10b).
    #[serde(rename = "PE32")]
    Pe32,
    /// PE32+ (0x20b).
    #[serde(rename = "PE32+")]
    Pe32Plus,
}

/// One section header plus what we measured of its data.
#[derive(Clone, Debug, Serialize)]
pub struct SectionInfo {
    /// Name (NUL-trimmed, lossy).
    pub name: String,
    /// RVA.
    pub virtual_address: u32,
    /// Virtual size.
    pub virtual_size: u32,
    /// File offset of the raw data.
    pub raw_offset: u32,
    /// Raw size (clipped to the file).
    pub raw_size: u32,
    /// Characteristics flags.
    pub characteristics: u32,
    /// Shannon entropy of the raw data, bits per byte.
    pub entropy: f64,
}

/// One imported function.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ImportInfo {
    /// DLL name as written.
    pub dll: String,
    /// Function name, or `ord<N>`.
    pub name: String,
}

/// A packer we recognised and why.
#[derive(Clone, Debug, Serialize)]
pub struct PackerInfo {
    /// Packer name (`UPX`).
    pub name: String,
    /// NRV method, when the `UPX!` header names one we know.
    pub method: Option<Method>,
    /// The evidence seen (section names, header, entropy).
    pub evidence: Vec<String>,
    /// Unpacked image size, when unpacking succeeded.
    pub unpacked_size: Option<u64>,
    /// Why unpacking failed, if it did; also set (with `unpacked_size`)
    /// when the image was unpacked but its code is left filtered because
    /// the filter is one we cannot undo.
    pub unpack_error: Option<String>,
    /// The branch filter the `UPX!` header names, when it names one.
    pub filter: Option<FilterInfo>,
}

/// A UPX branch filter named by the pack header.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FilterInfo {
    /// Filter id (header byte 28).
    pub id: u8,
    /// Call-trick offset byte (header byte 29).
    pub cto: u8,
    /// UPX's name for the filter, when we know the id.
    pub name: Option<&'static str>,
    /// Whether [`upx_unpack`] undoes it.
    pub supported: bool,
}

/// What static analysis learned from a PE.
#[derive(Clone, Debug, Serialize)]
pub struct PeInfo {
    /// PE32 or PE32+.
    pub kind: PeKind,
    /// COFF machine.
    pub machine: u16,
    /// COFF TimeDateStamp (epoch seconds as the linker wrote it).
    pub timestamp: u32,
    /// Entry point RVA.
    pub entry: u32,
    /// Declared SizeOfImage.
    pub size_of_image: u32,
    /// Sections.
    pub sections: Vec<SectionInfo>,
    /// Imports in directory order.
    pub imports: Vec<ImportInfo>,
    /// pefile-compatible import hash (None without imports).
    pub imphash: Option<String>,
    /// Overlay (bytes after the last section's raw data): (offset, length).
    pub overlay: Option<(u64, u64)>,
    /// Packer, if any.
    pub packer: Option<PackerInfo>,
    /// Anomalies that did not stop analysis.
    pub warnings: Vec<String>,
}

/// Why a file is not an analysable PE.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{reason} at offset {offset}")]
pub struct PeReject {
    /// Stable short reason.
    pub reason: &'static str,
    /// Byte offset where it was noticed.
    pub offset: u64,
}

fn rd16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}
fn rd32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Shannon entropy in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u64; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Does the file start like a PE (MZ with a `PE\0\0` at e_lfanew)?
pub fn looks_like_pe(b: &[u8]) -> bool {
    b.starts_with(b"MZ")
        && rd32(b, 0x3c)
            .and_then(|o| b.get(o as usize..(o as usize).checked_add(4)?))
            .is_some_and(|s| s == b"PE\0\0")
}

/// pefile's imphash: `lib.func` lowercased, `.dll/.ocx/.sys` dropped,
/// comma-joined, MD5. Ordinals are written `ord<N>` (pefile maps a few
/// ws2_32/oleaut32 ordinals to names; we do not).
pub fn imphash(imports: &[ImportInfo]) -> Option<String> {
    if imports.is_empty() {
        return None;
    }
    let mut parts = Vec::with_capacity(imports.len());
    for i in imports {
        let mut lib = i.dll.to_ascii_lowercase();
        if let Some((stem, ext)) = lib.rsplit_once('.') {
            if matches!(ext, "dll" | "ocx" | "sys") {
                lib = stem.to_string();
            }
        }
        parts.push(format!("{}.{}", lib, i.name.to_ascii_lowercase()));
    }
    Some(hex::encode(Md5::digest(parts.join(",").as_bytes())))
}

/// Analyses a PE; `Err` when the headers are unusable.
pub fn analyze(b: &[u8]) -> Result<PeInfo, PeReject> {
    let rej = |reason, offset: usize| PeReject {
        reason,
        offset: offset as u64,
    };
    if b.len() < 0x40 {
        return Err(rej("truncated DOS header", b.len()));
    }
    if &b[..2] != b"MZ" {
        return Err(rej("no MZ signature", 0));
    }
    let pe = rd32(b, 0x3c).ok_or(rej("truncated DOS header", 0x3c))? as usize;
    if pe.checked_add(24).is_none_or(|e| e > b.len()) {
        return Err(rej("PE header past end of file", pe.min(b.len())));
    }
    if &b[pe..pe + 4] != b"PE\0\0" {
        return Err(rej("no PE signature", pe));
    }
    let coff = pe + 4;
    let machine = rd16(b, coff).unwrap_or(0);
    let nsec = rd16(b, coff + 2).unwrap_or(0) as usize;
    let timestamp = rd32(b, coff + 4).unwrap_or(0);
    let opt_size = rd16(b, coff + 16).unwrap_or(0) as usize;
    let opt = coff + 20;
    let magic = rd16(b, opt).ok_or(rej("truncated optional header", opt))?;
    let kind = match magic {
        0x10b => PeKind::Pe32,
        0x20b => PeKind::Pe32Plus,
        _ => return Err(rej("unknown optional header magic", opt)),
    };
    let min_opt = if kind == PeKind::Pe32 { 96 } else { 112 };
    if opt_size < min_opt || opt + opt_size > b.len() {
        return Err(rej("truncated optional header", opt));
    }
    if nsec == 0 || nsec > MAX_SECTIONS {
        return Err(rej("implausible number of sections", coff + 2));
    }
    let entry = rd32(b, opt + 16).unwrap_or(0);
    let size_of_image = rd32(b, opt + 56).unwrap_or(0);
    if u64::from(size_of_image) > MAX_IMAGE {
        return Err(rej("declared image size too large", opt + 56));
    }
    let st = opt + opt_size;
    if st + nsec * 40 > b.len() {
        return Err(rej("section table past end of file", st));
    }
    let mut warnings = Vec::new();
    let mut sections = Vec::with_capacity(nsec);
    let mut raw_end = st + nsec * 40;
    for i in 0..nsec {
        let h = st + i * 40;
        let name_bytes = &b[h..h + 8];
        let name_len = name_bytes.iter().position(|&c| c == 0).unwrap_or(8);
        let name = String::from_utf8_lossy(&name_bytes[..name_len]).into_owned();
        let vsize = rd32(b, h + 8).unwrap_or(0);
        let va = rd32(b, h + 12).unwrap_or(0);
        let rsize = rd32(b, h + 16).unwrap_or(0);
        let roff = rd32(b, h + 20).unwrap_or(0);
        let ch = rd32(b, h + 36).unwrap_or(0);
        if u64::from(vsize) > MAX_IMAGE {
            return Err(rej("declared section size too large", h + 8));
        }
        let start = roff as usize;
        let end = start.saturating_add(rsize as usize);
        let data: &[u8] = if rsize == 0 {
            &[]
        } else if start >= b.len() {
            warnings.push(format!("section {name} raw data past end of file"));
            &[]
        } else {
            if end > b.len() {
                warnings.push(format!("section {name} raw data truncated"));
            }
            &b[start..end.min(b.len())]
        };
        if rsize > 0 && start < b.len() {
            raw_end = raw_end.max(end.min(b.len()));
        }
        sections.push(SectionInfo {
            name,
            virtual_address: va,
            virtual_size: vsize,
            raw_offset: roff,
            raw_size: data.len() as u32,
            characteristics: ch,
            entropy: (entropy(data) * 1000.0).round() / 1000.0,
        });
    }
    let overlay = (raw_end < b.len()).then(|| (raw_end as u64, (b.len() - raw_end) as u64));

    let imports = goblin_imports(b, &mut warnings);
    let imphash = imphash(&imports);
    let mut info = PeInfo {
        kind,
        machine,
        timestamp,
        entry,
        size_of_image,
        sections,
        imports,
        imphash,
        overlay,
        packer: None,
        warnings,
    };
    info.packer = detect_packer(b, &info);
    Ok(info)
}

fn goblin_imports(b: &[u8], warnings: &mut Vec<String>) -> Vec<ImportInfo> {
    let mut opts = goblin::pe::options::ParseOptions::default();
    opts.parse_attribute_certificates = false;
    opts.parse_resources = false;
    opts.parse_tls_data = false;
    // goblin is not promised panic-free on hostile bytes; a panic there
    // must not take the whole ingest down.
    let parsed = std::panic::catch_unwind(|| {
        goblin::pe::PE::parse_with_opts(b, &opts).map(|pe| {
            pe.imports
                .iter()
                .take(100_000)
                .map(|i| ImportInfo {
                    dll: i.dll.to_string(),
                    name: match i.name.strip_prefix("ORDINAL ") {
                        Some(n) => format!("ord{n}"),
                        None => i.name.to_string(),
                    },
                })
                .collect::<Vec<_>>()
        })
    });
    match parsed {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            warnings.push(format!("imports unreadable: {e}"));
            Vec::new()
        }
        Err(_) => {
            warnings.push("imports unreadable: parser panic".into());
            Vec::new()
        }
    }
}

/// UPX's pack header fields we use.
#[derive(Clone, Debug)]
struct PackHeader {
    method: u8,
    u_adler: u32,
    c_adler: u32,
    u_len: u32,
    c_len: u32,
    filter: u8,
    cto: u8,
}

fn find_upx_header(b: &[u8]) -> Option<(usize, PackHeader)> {
    let head = &b[..b.len().min(0x1000)];
    let at = memchr::memmem::find(head, b"UPX!")?;
    let h = b.get(at..at + 32)?;
    Some((
        at,
        PackHeader {
            method: h[6],
            u_adler: rd32(h, 8)?,
            c_adler: rd32(h, 12)?,
            u_len: rd32(h, 16)?,
            c_len: rd32(h, 20)?,
            // Header versions before 10 (UPX < 1.0) had no filter byte:
            // level bit 7 meant the one calltrick filter of the time.
            filter: if h[4] >= 10 {
                h[28]
            } else if h[7] & 0x80 != 0 {
                0x26
            } else {
                0
            },
            cto: h[29],
        },
    ))
}

fn detect_packer(b: &[u8], info: &PeInfo) -> Option<PackerInfo> {
    let mut evidence = Vec::new();
    for s in &info.sections {
        if s.name.starts_with("UPX") {
            evidence.push(format!("section {}", s.name));
        }
    }
    let header = find_upx_header(b);
    if let Some((at, _)) = &header {
        evidence.push(format!("UPX! header at {at:#x}"));
    }
    for s in &info.sections {
        if s.entropy > 7.2 && s.raw_size >= 512 {
            evidence.push(format!("section {} entropy {:.2}", s.name, s.entropy));
        }
    }
    if evidence.is_empty() {
        return None;
    }
    let upx = header.is_some() || info.sections.iter().any(|s| s.name.starts_with("UPX"));
    let method = header
        .as_ref()
        .and_then(|(_, h)| Method::from_upx(h.method));
    let filter = header
        .as_ref()
        .filter(|(_, h)| h.filter != 0)
        .map(|(_, h)| FilterInfo {
            id: h.filter,
            cto: h.cto,
            name: unfilter::filter_name(h.filter),
            supported: unfilter::is_supported(h.filter),
        });
    // An unknown filter does not stop unpacking; the image's code stays
    // filtered, which the record must say.
    let unpack_error = filter.as_ref().filter(|f| !f.supported).map(|f| {
        format!(
            "unsupported UPX filter {:#04x}: unpacked code left filtered",
            f.id
        )
    });
    Some(PackerInfo {
        name: if upx {
            "UPX".into()
        } else {
            "unknown (high entropy)".into()
        },
        method,
        evidence,
        unpacked_size: None,
        unpack_error,
        filter,
    })
}

/// Why a UPX-packed PE was not unpacked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    /// No `UPX!` pack header in the file.
    #[error("no UPX! header")]
    NoHeader,
    /// A compression method other than NRV2B/D/E.
    #[error("unsupported UPX method {0}")]
    Method(u8),
    /// No section named `UPX0`.
    #[error("no UPX0 section")]
    NoUpx0,
    /// No section after `UPX0` to hold the packed data.
    #[error("no section after UPX0")]
    NoUpx1,
    /// The declared unpacked size is past [`MAX_IMAGE`] or `UPX0`'s size.
    #[error("declared unpacked size {0} too large")]
    UnpackedTooLarge(u32),
    /// The declared packed size is past the packed section.
    #[error("declared packed size {0} exceeds section")]
    PackedTooLarge(u32),
    /// The declared unpacked size is past [`UnpackCaps::max_size`].
    #[error("declared unpacked size {size} exceeds the unpack cap of {cap} bytes")]
    OverSizeCap {
        /// Declared unpacked size.
        size: u32,
        /// The cap.
        cap: u64,
    },
    /// Unpacked : packed is past [`UnpackCaps::max_ratio`].
    #[error("unpack ratio {ratio}:1 ({u_len} from {c_len} bytes) exceeds the cap of {cap}:1")]
    OverRatioCap {
        /// Declared unpacked size over declared packed size, rounded down.
        ratio: u64,
        /// Declared unpacked size.
        u_len: u32,
        /// Declared packed size.
        c_len: u32,
        /// The cap.
        cap: u64,
    },
    /// The packed data runs past the end of the file.
    #[error("packed data past end of file")]
    PackedPastEnd,
    /// The packed data's Adler-32 differs from the header's.
    #[error("packed data checksum mismatch")]
    PackedChecksum,
    /// The NRV stream is broken.
    #[error(transparent)]
    Nrv(#[from] nrv::NrvError),
    /// The stream ended before the declared size.
    #[error("unpacked {got} bytes, header says {declared}")]
    ShortOutput {
        /// Bytes produced.
        got: usize,
        /// Declared unpacked size.
        declared: u32,
    },
    /// The unpacked data's Adler-32 differs from the header's.
    #[error("unpacked data checksum mismatch")]
    UnpackedChecksum,
    /// No code range to unfilter in UPX's extra info.
    #[error(transparent)]
    CodeRange(#[from] unfilter::CodeRangeError),
    /// The branch filter could not be undone.
    #[error(transparent)]
    Unfilter(#[from] unfilter::UnfilterError),
}

/// Unpacks a UPX-packed PE: the NRV stream at the start of the section
/// after `UPX0`, bounded by the pack header's sizes, the section sizes and
/// [`MAX_IMAGE`]; both Adler-32 sums must match (`u_adler` covers the data
/// still filtered, as in UPX), then the branch filter is undone over the
/// original code range UPX recorded in its extra info. An unknown filter
/// leaves the code filtered (see [`PackerInfo::unpack_error`]). Default
/// [`UnpackCaps`]; see [`upx_unpack_capped`].
pub fn upx_unpack(b: &[u8], info: &PeInfo) -> Result<Vec<u8>, UnpackError> {
    upx_unpack_detailed(b, info).map(|u| u.image)
}

/// What [`upx_unpack_detailed`] produced.
#[derive(Clone, Debug)]
pub struct UpxUnpacked {
    /// The unpacked data (image from the first section's RVA, then UPX's
    /// extra info), unfiltered when the filter is supported.
    pub image: Vec<u8>,
    /// Filter id from the pack header (0: none).
    pub filter: u8,
    /// Branch operands restored by the unfilter.
    pub restored: u32,
    /// Set when the code was left filtered, and why.
    pub left_filtered: Option<String>,
}

/// [`upx_unpack`] with the filter outcome (default [`UnpackCaps`]).
pub fn upx_unpack_detailed(b: &[u8], info: &PeInfo) -> Result<UpxUnpacked, UnpackError> {
    upx_unpack_capped(b, info, &UnpackCaps::default())
}

/// [`upx_unpack_detailed`] under `caps`: a declared unpacked size above
/// `caps.max_size`, or above `caps.max_ratio` times the packed size, is
/// refused before decompression, so the output never passes the cap.
pub fn upx_unpack_capped(
    b: &[u8],
    info: &PeInfo,
    caps: &UnpackCaps,
) -> Result<UpxUnpacked, UnpackError> {
    let (_, h) = find_upx_header(b).ok_or(UnpackError::NoHeader)?;
    let method = Method::from_upx(h.method).ok_or(UnpackError::Method(h.method))?;
    let idx = info
        .sections
        .iter()
        .position(|s| s.name == "UPX0")
        .ok_or(UnpackError::NoUpx0)?;
    let upx0 = &info.sections[idx];
    let upx1 = info.sections.get(idx + 1).ok_or(UnpackError::NoUpx1)?;
    if u64::from(h.u_len) > MAX_IMAGE || h.u_len > upx0.virtual_size.max(upx0.raw_size) {
        return Err(UnpackError::UnpackedTooLarge(h.u_len));
    }
    if h.c_len > upx1.raw_size {
        return Err(UnpackError::PackedTooLarge(h.c_len));
    }
    if u64::from(h.u_len) > caps.max_size {
        return Err(UnpackError::OverSizeCap {
            size: h.u_len,
            cap: caps.max_size,
        });
    }
    if u64::from(h.u_len) > caps.max_ratio.saturating_mul(u64::from(h.c_len)) {
        return Err(UnpackError::OverRatioCap {
            ratio: u64::from(h.u_len) / u64::from(h.c_len.max(1)),
            u_len: h.u_len,
            c_len: h.c_len,
            cap: caps.max_ratio,
        });
    }
    let start = upx1.raw_offset as usize;
    let src = b
        .get(start..start + h.c_len as usize)
        .ok_or(UnpackError::PackedPastEnd)?;
    if nrv::adler32(src) != h.c_adler {
        return Err(UnpackError::PackedChecksum);
    }
    let (mut out, _) = nrv::decompress(src, method, h.u_len as usize)?;
    if out.len() != h.u_len as usize {
        return Err(UnpackError::ShortOutput {
            got: out.len(),
            declared: h.u_len,
        });
    }
    if nrv::adler32(&out) != h.u_adler {
        return Err(UnpackError::UnpackedChecksum);
    }
    let (mut restored, mut left_filtered) = (0, None);
    if h.filter != 0 {
        if unfilter::is_supported(h.filter) {
            let (start, len) = unfilter::upx_code_range(&out)?;
            let stats =
                unfilter::unfilter(&mut out[start..start + len], h.filter, h.cto, start as u32)?;
            restored = stats.calls;
        } else {
            left_filtered = Some(format!("unsupported UPX filter {:#04x}", h.filter));
        }
    }
    Ok(UpxUnpacked {
        image: out,
        filter: h.filter,
        restored,
        left_filtered,
    })
}
