//! Undoing UPX's x86 branch filters after NRV decompression.
//!
//! Before compressing the code of a win32/pe file, UPX rewrites the 32-bit
//! operands of `call rel32` (E8), `jmp rel32` (E9) and, for some filters,
//! `jcc rel32` (0F 80..8F) into absolute positions so repeated calls
//! compress better. The filter id and its "call trick offset" byte (cto) are
//! in the `UPX!` pack header (bytes 28 and 29). Two families are undone here:
//!
//! - *ct32* (0x11..=0x19): every matching opcode's operand had `offset of
//!   the operand + addvalue` added; 0x14..=0x16 stored it big-endian,
//!   0x17..=0x19 read it big-endian;
//! - *cto32* (0x24, 0x25, 0x26, 0x36, 0x46, 0x49): only operands whose first
//!   byte is the cto mark were rewritten (big-endian, `target + addvalue +
//!   cto << 24`); 0x49 also rewrote jcc, except a 0F that is the last byte
//!   of the previous rewritten operand.
//!
//! Every rewritten operand is skipped after it is restored, exactly as the
//! filter skipped it; the work is one bounded pass over the buffer with no
//! allocation, whatever the bytes.

use serde::Serialize;

/// Which opcodes a filter rewrote and how its operands are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Kind {
    e8: bool,
    e9: bool,
    jcc: bool,
    style: Style,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// ct32, operand stored little-endian.
    Ct32Le,
    /// ct32, operand stored big-endian.
    Ct32StoredBe,
    /// ct32, operand read big-endian, stored little-endian.
    Ct32StoredLe,
    /// cto32: marked operands only, big-endian.
    Cto32,
}

fn kind(id: u8) -> Option<Kind> {
    let k = |e8, e9, jcc, style| Some(Kind { e8, e9, jcc, style });
    match id {
        0x11 => k(true, false, false, Style::Ct32Le),
        0x12 => k(false, true, false, Style::Ct32Le),
        0x13 => k(true, true, false, Style::Ct32Le),
        0x14 => k(true, false, false, Style::Ct32StoredBe),
        0x15 => k(false, true, false, Style::Ct32StoredBe),
        0x16 => k(true, true, false, Style::Ct32StoredBe),
        0x17 => k(true, false, false, Style::Ct32StoredLe),
        0x18 => k(false, true, false, Style::Ct32StoredLe),
        0x19 => k(true, true, false, Style::Ct32StoredLe),
        0x24 => k(true, false, false, Style::Cto32),
        0x25 => k(false, true, false, Style::Cto32),
        // UPX's 0x36 and 0x46 differ from 0x26 only in the stub's code.
        0x26 | 0x36 | 0x46 => k(true, true, false, Style::Cto32),
        0x49 => k(true, true, true, Style::Cto32),
        _ => None,
    }
}

/// A short name for a filter id (UPX's naming), `None` when unknown.
pub fn filter_name(id: u8) -> Option<&'static str> {
    Some(match id {
        0x00 => "none",
        0x11 => "ct32_e8",
        0x12 => "ct32_e9",
        0x13 => "ct32_e8e9",
        0x14 => "ct32_e8_bswap_le",
        0x15 => "ct32_e9_bswap_le",
        0x16 => "ct32_e8e9_bswap_le",
        0x17 => "ct32_e8_bswap_be",
        0x18 => "ct32_e9_bswap_be",
        0x19 => "ct32_e8e9_bswap_be",
        0x24 => "cto32_e8_bswap_le",
        0x25 => "cto32_e9_bswap_le",
        0x26 => "cto32_e8e9_bswap_le",
        0x36 => "ctoj32_e8e9_bswap_le",
        0x46 => "ctok32_e8e9_bswap_le",
        0x49 => "ctok32_e8e9_jcc_bswap_le",
        _ => return None,
    })
}

/// Can [`unfilter`] undo filter `id`? (0, no filter, counts as yes.)
pub fn is_supported(id: u8) -> bool {
    id == 0 || kind(id).is_some()
}

/// Why a filter could not be undone.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
pub enum UnfilterError {
    /// The id is not one of the x86 filters we know.
    #[error("unsupported UPX filter {0:#04x}")]
    Unsupported(u8),
}

/// Why [`upx_code_range`] found no code range in UPX's extra info.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeRangeError {
    /// Fewer than the four bytes that give the extra info's offset.
    #[error("unpacked data too short for UPX extra info")]
    TooShort,
    /// The offset in the last four bytes is not that of a `PE\0\0` copy.
    #[error("UPX extra info offset {0:#x} does not point at a PE header")]
    NoPeHeader(usize),
    /// The copied optional header is neither PE32 nor PE32+.
    #[error("UPX extra info: unknown optional header magic")]
    UnknownMagic,
    /// The copied header ends past the data.
    #[error("UPX extra info truncated")]
    Truncated,
    /// No room for the original section table after the header.
    #[error("UPX extra info: no original section table")]
    NoSectionTable,
    /// BaseOfCode lies before the first section's RVA.
    #[error("UPX code base {code_base:#x} before first section {first_rva:#x}")]
    BaseBeforeFirstSection {
        /// BaseOfCode.
        code_base: u32,
        /// The first original section's RVA.
        first_rva: u32,
    },
    /// The code range runs past the unpacked data.
    #[error("UPX code range {start:#x}+{size:#x} outside the unpacked data ({len:#x})")]
    OutsideData {
        /// Offset of the code in the data.
        start: usize,
        /// SizeOfCode.
        size: u32,
        /// Length of the unpacked data.
        len: usize,
    },
}

/// What [`unfilter`] restored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UnfilterStats {
    /// Branch operands restored.
    pub calls: u32,
}

fn is_branch(b: &[u8], x: usize, lastcall: usize, k: Kind) -> bool {
    let Some(&op) = b.get(x) else {
        return false;
    };
    (k.e8 && op == 0xE8)
        || (k.e9 && op == 0xE9)
        || (k.jcc && lastcall != x && x >= 1 && b[x - 1] == 0x0F && (0x80..=0x8F).contains(&op))
}

fn operand(b: &[u8], at: usize) -> [u8; 4] {
    [b[at], b[at + 1], b[at + 2], b[at + 3]]
}

/// Undoes filter `id` (cto byte `cto`) over `buf`, the code section of the
/// unpacked image; `addvalue` is the code's offset from the image start
/// (BaseOfCode minus the first section's RVA), as UPX uses it. A buffer of
/// fewer than 5 bytes holds no operand and is left alone. Filter 0 does
/// nothing.
pub fn unfilter(
    buf: &mut [u8],
    id: u8,
    cto: u8,
    addvalue: u32,
) -> Result<UnfilterStats, UnfilterError> {
    if id == 0 {
        return Ok(UnfilterStats::default());
    }
    let k = kind(id).ok_or(UnfilterError::Unsupported(id))?;
    let mut stats = UnfilterStats::default();
    if buf.len() < 5 {
        return Ok(stats);
    }
    // ct32 looks at offset 0 even in a 5-byte buffer; both then stop
    // before the last 5 bytes (an operand never reaches past the end).
    let end = match k.style {
        Style::Cto32 => buf.len() - 5,
        _ => (buf.len() - 5).max(1),
    };
    let mut ic = 0usize;
    let mut lastcall = 0usize;
    while ic < end {
        if !is_branch(buf, ic, lastcall, k) {
            ic += 1;
            continue;
        }
        let at = ic + 1;
        let pos = at as u32;
        let restored = match k.style {
            Style::Cto32 => {
                if buf[at] != cto {
                    // A branch the filter left alone.
                    ic += 1;
                    continue;
                }
                u32::from_be_bytes(operand(buf, at))
                    .wrapping_sub(pos)
                    .wrapping_sub(addvalue)
                    .wrapping_sub(u32::from(cto) << 24)
                    .to_le_bytes()
            }
            Style::Ct32Le => u32::from_le_bytes(operand(buf, at))
                .wrapping_sub(pos)
                .wrapping_sub(addvalue)
                .to_le_bytes(),
            Style::Ct32StoredBe => u32::from_be_bytes(operand(buf, at))
                .wrapping_sub(pos)
                .wrapping_sub(addvalue)
                .to_le_bytes(),
            Style::Ct32StoredLe => u32::from_le_bytes(operand(buf, at))
                .wrapping_sub(pos)
                .wrapping_sub(addvalue)
                .to_be_bytes(),
        };
        buf[at..at + 4].copy_from_slice(&restored);
        stats.calls += 1;
        ic += 5;
        lastcall = ic;
    }
    Ok(stats)
}

/// Where UPX's win32/pe filter ran, read from the "extra info" UPX appends
/// to the unpacked data: the image's last four bytes give the offset of a
/// copy of the original `PE\0\0` header, followed by the original section
/// table. Returns (offset of the code in `image`, its length), checked to
/// lie inside `image`, or why not.
pub fn upx_code_range(image: &[u8]) -> Result<(usize, usize), CodeRangeError> {
    let n = image.len();
    let tail = n.checked_sub(4).ok_or(CodeRangeError::TooShort)?;
    let rd = |at: usize| -> Option<u32> {
        image
            .get(at..at.checked_add(4)?)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let rd16 = |at: usize| -> Option<u16> {
        image
            .get(at..at.checked_add(2)?)
            .map(|s| u16::from_le_bytes([s[0], s[1]]))
    };
    let extra = rd(tail).unwrap_or(u32::MAX) as usize;
    if extra >= tail || image.get(extra..extra + 4) != Some(b"PE\0\0".as_slice()) {
        return Err(CodeRangeError::NoPeHeader(extra));
    }
    let opt = extra + 24;
    // UPX copies a fixed-size header: 16 data directories.
    let header_len = match rd16(opt) {
        Some(0x10b) => 4 + 20 + 0xE0,
        Some(0x20b) => 4 + 20 + 0xF0,
        _ => return Err(CodeRangeError::UnknownMagic),
    };
    let code_size = rd(opt + 4).ok_or(CodeRangeError::Truncated)?;
    let code_base = rd(opt + 20).ok_or(CodeRangeError::Truncated)?;
    // The first original section's RVA is where the unpacked data starts.
    let first_rva = rd(extra + header_len + 12)
        .filter(|_| extra + header_len + 40 <= tail)
        .ok_or(CodeRangeError::NoSectionTable)?;
    let start = code_base
        .checked_sub(first_rva)
        .ok_or(CodeRangeError::BaseBeforeFirstSection {
            code_base,
            first_rva,
        })? as usize;
    let end = start
        .checked_add(code_size as usize)
        .filter(|&e| e <= n)
        .ok_or(CodeRangeError::OutsideData {
            start,
            size: code_size,
            len: n,
        })?;
    Ok((start, end - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cto_unfilter_restores_marked_and_skips_unmarked() {
        // Filtered: call with mark 0x01 to UPX-target 4 (rel 3); an unmarked far call.
        let mut b = vec![0xE8, 0x01, 0x00, 0x00, 0x04, 0x90, 0x90, 0x90, 0xC3, 0x90];
        b.extend_from_slice(&[0xE8, 0x00, 0x10, 0, 0, 0x90, 0x90, 0x90, 0x90, 0x90]);
        let s = unfilter(&mut b, 0x26, 1, 0).unwrap();
        assert_eq!(s.calls, 1);
        assert_eq!(&b[..5], &[0xE8, 3, 0, 0, 0]);
        assert_eq!(&b[10..15], &[0xE8, 0x00, 0x10, 0, 0]);
    }

    #[test]
    fn jcc_only_for_0x49_and_not_after_a_rewritten_operand() {
        // 0F 85 with mark 0 at offset 1 (target 9 → rel 9 - 2 = 7).
        let filtered = [
            0x0F, 0x85, 0x00, 0x00, 0x00, 0x09, 0x90, 0x90, 0x90, 0x90, 0x90,
        ];
        let mut b = filtered;
        assert_eq!(unfilter(&mut b, 0x49, 0, 0).unwrap().calls, 1);
        assert_eq!(&b[2..6], &7u32.to_le_bytes());
        let mut b = filtered;
        assert_eq!(unfilter(&mut b, 0x26, 0, 0).unwrap().calls, 0);
        assert_eq!(b, filtered);
    }

    #[test]
    fn unknown_empty_and_short() {
        let mut b = [0xE8u8, 1, 2, 3];
        assert_eq!(
            unfilter(&mut b, 0x52, 0, 0),
            Err(UnfilterError::Unsupported(0x52))
        );
        assert_eq!(unfilter(&mut [], 0x49, 0, 0).unwrap().calls, 0);
        assert_eq!(unfilter(&mut b, 0x16, 0, 0).unwrap().calls, 0);
        assert_eq!(b, [0xE8, 1, 2, 3]);
        assert_eq!(filter_name(0x49), Some("ctok32_e8e9_jcc_bswap_le"));
        assert!(is_supported(0) && !is_supported(0x80));
    }
}
