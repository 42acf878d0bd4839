//! Pure parser: the file size a PE header announces.

/// Section headers read at most (the PE format allows 96).
pub const MAX_SECTIONS: usize = 96;

fn le32(b: &[u8], at: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as u64)
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

/// End of the last section of a PE file, from its headers (`None` when
/// `head` is not an `MZ`/`PE` file or is cut before its section table).
pub fn pe_file_size(head: &[u8]) -> Option<u64> {
    if !head.starts_with(b"MZ") {
        return None;
    }
    let lfanew = le32(head, 0x3c)? as usize;
    if head.get(lfanew..lfanew.checked_add(4)?)? != b"PE\0\0" {
        return None;
    }
    let nsec = le16(head, lfanew + 6)?;
    let opt = le16(head, lfanew + 20)?;
    let table = lfanew + 24 + opt;
    let mut end = 0u64;
    for i in 0..nsec.min(MAX_SECTIONS) {
        let s = table + 40 * i;
        let size = le32(head, s + 16)?;
        let ptr = le32(head, s + 20)?;
        if size > 0 {
            end = end.max(ptr + size);
        }
    }
    (end > 0).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pe_size_from_section_table() {
        let mut pe = vec![0u8; 0x200];
        pe[0..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x86..0x88].copy_from_slice(&2u16.to_le_bytes());
        pe[0x94..0x96].copy_from_slice(&0xe0u16.to_le_bytes());
        let t = 0x80 + 24 + 0xe0;
        for (i, (size, ptr)) in [(0x400u32, 0x400u32), (0x200, 0x800)].iter().enumerate() {
            pe[t + 40 * i + 16..t + 40 * i + 20].copy_from_slice(&size.to_le_bytes());
            pe[t + 40 * i + 20..t + 40 * i + 24].copy_from_slice(&ptr.to_le_bytes());
        }
        assert_eq!(pe_file_size(&pe), Some(0xa00));
        assert_eq!(pe_file_size(b"MZ"), None);
    }

    #[test]
    fn hostile_e_lfanew_is_refused() {
        let mut pe = vec![0u8; 0x40];
        pe[0..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(pe_file_size(&pe), None);
    }
}
