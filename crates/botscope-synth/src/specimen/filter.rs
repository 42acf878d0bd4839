//! UPX's reversible x86 branch filters, forward direction (what the packer
//! does to the code section before compression).
//!
//! A filter rewrites the 32-bit operand of `call rel32` (E8), `jmp rel32`
//! (E9) and, for some ids, `jcc rel32` (0F 80..8F) from a displacement to
//! an absolute position, so that calls to the same function compress to the
//! same bytes. Two families matter for win32/pe:
//!
//! - *ct32* (ids 0x11..=0x19): every opcode's operand gets `+ (offset of the
//!   operand) + addvalue`, stored little-endian (0x11..=0x13), big-endian
//!   (0x14..=0x16) or read big-endian and stored little-endian (0x17..=0x19);
//! - *cto32* (0x24, 0x25, 0x26, 0x36, 0x46, 0x49): only branches whose target
//!   falls inside the buffer are rewritten, to the big-endian value
//!   `target + addvalue + (cto << 24)`; the "call trick offset" byte `cto`
//!   is chosen so that no branch left alone starts its operand with it, which
//!   is how the unfilter tells rewritten branches apart. 0x49 also rewrites
//!   `jcc` (0F 8x), except a 0F that is the last byte of the previous
//!   rewritten operand.
//!
//! The unfilter lives in `botscope-specimen` (`unfilter.rs`); this module is
//! the generator's side, written from the format description so that
//! synthetic specimens are filtered as UPX filters real ones.

/// No filter.
pub const NONE: u8 = 0x00;
/// ct32, E8 and E9, operand stored big-endian (UPX's `ct32_e8e9_bswap_le`).
pub const CT32_E8E9_BSWAP: u8 = 0x16;
/// cto32, E8 and E9 (UPX's default first choice for win32/pe).
pub const CTO32_E8E9: u8 = 0x26;
/// cto32, E8, E9 and 0F 8x jcc.
pub const CTO32_E8E9_JCC: u8 = 0x49;

/// Which opcodes a filter id rewrites and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterKind {
    /// Rewrites E8 (call rel32).
    pub e8: bool,
    /// Rewrites E9 (jmp rel32).
    pub e9: bool,
    /// Rewrites 0F 80..8F (jcc rel32); cto filters only.
    pub jcc: bool,
    /// Layout of the rewritten operand.
    pub style: FilterStyle,
}

/// How a filter stores the rewritten operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterStyle {
    /// ct32: read LE, add, write LE.
    Ct32Le,
    /// ct32: read LE, add, write BE.
    Ct32BswapLe,
    /// ct32: read BE, add, write LE.
    Ct32BswapBe,
    /// cto32: in-buffer targets only, BE with the cto mark byte.
    Cto32,
}

/// The x86 filters win32/pe UPX uses, by id; `None` for ids we do not
/// know (0 included: no filter).
pub fn filter_kind(id: u8) -> Option<FilterKind> {
    let k = |e8, e9, jcc, style| Some(FilterKind { e8, e9, jcc, style });
    match id {
        0x11 => k(true, false, false, FilterStyle::Ct32Le),
        0x12 => k(false, true, false, FilterStyle::Ct32Le),
        0x13 => k(true, true, false, FilterStyle::Ct32Le),
        0x14 => k(true, false, false, FilterStyle::Ct32BswapLe),
        0x15 => k(false, true, false, FilterStyle::Ct32BswapLe),
        0x16 => k(true, true, false, FilterStyle::Ct32BswapLe),
        0x17 => k(true, false, false, FilterStyle::Ct32BswapBe),
        0x18 => k(false, true, false, FilterStyle::Ct32BswapBe),
        0x19 => k(true, true, false, FilterStyle::Ct32BswapBe),
        0x24 => k(true, false, false, FilterStyle::Cto32),
        0x25 => k(false, true, false, FilterStyle::Cto32),
        // 0x36 and 0x46 differ from 0x26 only in UPX's stub code.
        0x26 | 0x36 | 0x46 => k(true, true, false, FilterStyle::Cto32),
        0x49 => k(true, true, true, FilterStyle::Cto32),
        _ => None,
    }
}

/// Is there a branch opcode at `x` that filter `k` handles? `lastcall` is
/// the end of the last rewritten operand: a 0F there belongs to that
/// operand, not to a jcc.
pub fn is_branch(b: &[u8], x: usize, lastcall: usize, k: FilterKind) -> bool {
    let Some(&op) = b.get(x) else {
        return false;
    };
    (k.e8 && op == 0xE8)
        || (k.e9 && op == 0xE9)
        || (k.jcc && lastcall != x && x >= 1 && b[x - 1] == 0x0F && (0x80..=0x8F).contains(&op))
}

fn rd_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn rd_be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// What a successful filter did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filtered {
    /// The cto byte (0 for ct32 filters, which have none).
    pub cto: u8,
    /// Branches rewritten.
    pub calls: u32,
}

/// Applies filter `id` to `buf` (the code section; `addvalue` is its
/// offset from the start of the packed image). Returns `None`, leaving
/// `buf` as it was, when the id is unknown, when no cto byte is free, when
/// an in-buffer target does not fit 24 bits, or when nothing was rewritten
/// (UPX then packs without a filter).
pub fn filter(buf: &mut [u8], id: u8, addvalue: u32) -> Option<Filtered> {
    let k = filter_kind(id)?;
    let mut work = buf.to_vec();
    let done = match k.style {
        FilterStyle::Cto32 => filter_cto(&mut work, k, addvalue)?,
        _ => filter_ct(&mut work, k, addvalue),
    };
    if done.calls == 0 {
        return None;
    }
    buf.copy_from_slice(&work);
    Some(done)
}

fn filter_ct(b: &mut [u8], k: FilterKind, addvalue: u32) -> Filtered {
    let mut calls = 0;
    if b.len() < 5 {
        return Filtered { cto: 0, calls };
    }
    // UPX's loop always looks at offset 0, then at every offset before
    // len - 5.
    let end = (b.len() - 5).max(1);
    let mut ic = 0;
    while ic < end {
        if is_branch(b, ic, 0, k) {
            let a = ic as u32 + 1;
            let at = ic + 1;
            let v = match k.style {
                FilterStyle::Ct32BswapBe => rd_be(b, at),
                _ => rd_le(b, at),
            }
            .wrapping_add(a)
            .wrapping_add(addvalue);
            let bytes = match k.style {
                FilterStyle::Ct32BswapLe => v.to_be_bytes(),
                _ => v.to_le_bytes(),
            };
            b[at..at + 4].copy_from_slice(&bytes);
            calls += 1;
            ic += 5;
        } else {
            ic += 1;
        }
    }
    Filtered { cto: 0, calls }
}

fn filter_cto(b: &mut [u8], k: FilterKind, addvalue: u32) -> Option<Filtered> {
    let size = b.len();
    if size <= 5 {
        return None;
    }
    let end = size - 5;
    // Pass 1: the first operand bytes of branches that will stay as they
    // are (targets outside the buffer) cannot be the mark. Looking at
    // every offset (not skipping operands) only adds marks, which is safe.
    let mut taken = [false; 256];
    for ic in 0..end {
        if !is_branch(b, ic, 0, k) {
            continue;
        }
        let target = u64::from(rd_le(b, ic + 1).wrapping_add(ic as u32 + 1));
        if target < size as u64 {
            if target + u64::from(addvalue) >= 1 << 24 {
                return None;
            }
        } else {
            taken[b[ic + 1] as usize] = true;
        }
    }
    let cto = taken.iter().position(|t| !t)? as u8;

    // Pass 2: rewrite in-buffer branches, left to right, skipping the
    // rewritten operand as the unfilter will.
    let mut calls = 0u32;
    let mut lastcall = 0usize;
    let mut lastnoncall = size;
    let mut ic = 0usize;
    while ic < end {
        if !is_branch(b, ic, lastcall, k) {
            ic += 1;
            continue;
        }
        let rel = rd_le(b, ic + 1);
        let target = rel.wrapping_add(ic as u32 + 1);
        if u64::from(target) < size as u64 {
            let v = target
                .wrapping_add(addvalue)
                .wrapping_add(u32::from(cto) << 24);
            b[ic + 1..ic + 5].copy_from_slice(&v.to_be_bytes());
            // A branch left alone just before this one must not look
            // rewritten to the unfilter; UPX keeps this one unfiltered then.
            if ic.wrapping_sub(lastnoncall) < 5 {
                let clash = (1..=4usize).any(|kc| {
                    kc <= ic && is_branch(b, ic - kc, lastcall, k) && b[ic - kc + 1] == cto
                });
                if clash {
                    b[ic + 1..ic + 5].copy_from_slice(&rel.to_le_bytes());
                    if b[ic + 1] == cto {
                        return None;
                    }
                    lastnoncall = ic;
                    ic += 1;
                    continue;
                }
            }
            calls += 1;
            ic += 5;
            lastcall = ic;
        } else {
            lastnoncall = ic;
            ic += 1;
        }
    }
    Some(Filtered { cto, calls })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cto_rewrites_in_buffer_call_big_endian_with_mark() {
        // call rel 3 at offset 0, then a call far outside the buffer.
        let mut b = vec![0xE8, 3, 0, 0, 0, 0x90, 0x90, 0x90, 0xC3, 0x90];
        b.extend_from_slice(&[0xE8, 0x00, 0x10, 0, 0, 0x90, 0x90, 0x90, 0x90, 0x90]);
        let f = filter(&mut b, CTO32_E8E9, 0x1000).unwrap();
        // The far call's first operand byte 0x00 is taken: cto is 1.
        assert_eq!(f, Filtered { cto: 1, calls: 1 });
        // UPX's "target" is rel + offset of the operand: 3 + 1.
        assert_eq!(&b[1..5], &(0x0100_0000u32 + 0x1000 + 4).to_be_bytes());
        assert_eq!(&b[10..15], &[0xE8, 0x00, 0x10, 0, 0]);
    }

    #[test]
    fn ct32_bswap_rewrites_every_call() {
        let mut b = vec![0xE8, 0xFF, 0xFF, 0xFF, 0xFF, 0xE9, 1, 0, 0, 0, 0x90];
        let f = filter(&mut b, CT32_E8E9_BSWAP, 0).unwrap();
        assert_eq!(f.calls, 2);
        assert_eq!(&b[1..5], &0u32.to_be_bytes());
        assert_eq!(&b[6..10], &7u32.to_be_bytes());
    }

    #[test]
    fn unknown_id_and_useless_filter_leave_buffer() {
        let mut b = vec![0x90; 32];
        assert_eq!(filter(&mut b, CTO32_E8E9, 0), None);
        b[3] = 0xE8;
        assert_eq!(filter(&mut b, 0x52, 0), None);
        assert_eq!(b[3..8], [0xE8, 0x90, 0x90, 0x90, 0x90]);
    }
}
