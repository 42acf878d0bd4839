//! The PE32 writer behind [`super::build_specimen`].
//!
//! Layout of a plain specimen (file alignment 0x200, section alignment
//! 0x1000, image base 0x400000):
//!
//! | section | content |
//! |---|---|
//! | `.text`  | entry point: one `ret` (0xC3), then `int3` (0xCC) filler |
//! | `.rdata` | import directory, lookup tables, IAT, hint/name entries, DLL names |
//! | `.data`  | family filler, the config block, variant filler |
//!
//! The config block (see `docs/specimen.md`) is a run of NUL-terminated
//! strings in the chosen encoding: three IRC command templates, then
//! `host`, `port` (decimal) for every server, then the channel, the channel
//! key (empty string when none) and the nick prefix.
//! Other layouts ([`ConfigLayout`]) replace the block: sdbot-style
//! globals, an rbot-style pointer table (strings appended to `.rdata`) or
//! agobot-style name/value pointer triples.
//!
//! A packed specimen's `.text` is code-like (calls, jumps, jccs) instead of
//! `int3` filler. It has `UPX0` (no raw data; room for the unpacked image),
//! `UPX1` (the NRV stream of [`UpxPayload::filtered`]: the original
//! sections' image with the code filtered, plus UPX's extra info; then the stub:
//! one `ret` and `int3` filler) and `.rsrc` (the stub's small import table),
//! with UPX's version string and `UPX!` pack header in the last bytes of the
//! headers.

use super::filter;
use super::nrv::{adler32, compress, NrvMethod};
use super::{effective_layout, ConfigEncoding, ConfigLayout, Packer, SpecimenSpec};

const IMAGE_BASE: u32 = 0x0040_0000;
const SECT_ALIGN: u32 = 0x1000;
const FILE_ALIGN: u32 = 0x200;
const HEADERS_SIZE: u32 = 0x400;
const E_LFANEW: u32 = 0x80;

/// Small deterministic generator (splitmix64): the filler only needs to be
/// reproducible from the seed.
pub(crate) struct Mix(u64);

impl Mix {
    pub(crate) fn new(seed: u64) -> Self {
        Mix(seed ^ 0x0005_EED0_FB07_5C0E)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const KERNEL32: &[&str] = &[
    "GetModuleHandleA",
    "GetProcAddress",
    "LoadLibraryA",
    "ExitProcess",
    "Sleep",
    "CreateMutexA",
    "GetTickCount",
    "CreateThread",
    "GetSystemDirectoryA",
    "CopyFileA",
    "GetModuleFileNameA",
    "WinExec",
    "CreateFileA",
    "WriteFile",
    "CloseHandle",
    "GetLastError",
];
const WS2_32: &[&str] = &[
    "WSAStartup",
    "socket",
    "connect",
    "send",
    "recv",
    "gethostbyname",
    "closesocket",
    "inet_addr",
    "htons",
    "select",
    "sendto",
    "bind",
];
const ADVAPI32: &[&str] = &[
    "RegOpenKeyExA",
    "RegSetValueExA",
    "RegCloseKey",
    "RegCreateKeyExA",
];
const WININET: &[&str] = &[
    "InternetOpenA",
    "InternetOpenUrlA",
    "InternetReadFile",
    "InternetCloseHandle",
];

/// The imports a family's specimens declare (DLL, functions). Families
/// differ in which functions and DLLs they use, so their imphashes differ.
pub fn family_imports(family: u32) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut m = Mix::new(u64::from(family).wrapping_mul(0x1000_0001) ^ 0xFA11);
    let mut pick = |list: &[&'static str], min: usize| -> Vec<&'static str> {
        let mut v: Vec<&'static str> = list.iter().copied().filter(|_| m.below(2) == 0).collect();
        for &f in list {
            if v.len() >= min {
                break;
            }
            if !v.contains(&f) {
                v.push(f);
            }
        }
        v
    };
    let mut out = vec![
        ("kernel32.dll", pick(KERNEL32, 4)),
        ("ws2_32.dll", pick(WS2_32, 3)),
    ];
    let extra = Mix::new(u64::from(family) ^ 0xD11).below(4);
    if extra & 1 == 1 {
        out.push(("advapi32.dll", pick(ADVAPI32, 1)));
    }
    if extra & 2 == 2 {
        out.push(("wininet.dll", pick(WININET, 1)));
    }
    out
}

/// Imports of the unpacking stub of a packed specimen: UPX keeps
/// LoadLibraryA/GetProcAddress/VirtualProtect/... from kernel32 and one
/// function of every other DLL the original imports.
pub fn packed_imports(family: u32) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out = vec![(
        "kernel32.dll",
        vec![
            "LoadLibraryA",
            "GetProcAddress",
            "VirtualProtect",
            "VirtualAlloc",
            "VirtualFree",
            "ExitProcess",
        ],
    )];
    for (dll, funcs) in family_imports(family).into_iter().skip(1) {
        out.push((dll, vec![funcs[0]]));
    }
    out
}

fn align(v: u32, a: u32) -> u32 {
    v.div_ceil(a) * a
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Builds an import table to be placed at `rva`; returns (bytes, iat_rva, iat_size).
fn import_table(rva: u32, dlls: &[(&str, Vec<&str>)]) -> (Vec<u8>, u32, u32) {
    let desc_size = 20 * (dlls.len() + 1);
    let thunk_counts: Vec<usize> = dlls.iter().map(|(_, f)| f.len() + 1).collect();
    let thunks_total: usize = thunk_counts.iter().sum::<usize>() * 4;
    let ilt_at = desc_size;
    let iat_at = ilt_at + thunks_total;
    let names_at = iat_at + thunks_total;
    let mut names: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; names_at];
    let mut slot = 0usize;
    for (i, (dll, funcs)) in dlls.iter().enumerate() {
        let ilt_rva = rva + (ilt_at + slot * 4) as u32;
        let iat_rva = rva + (iat_at + slot * 4) as u32;
        for (k, f) in funcs.iter().enumerate() {
            let hint_rva = rva + (names_at + names.len()) as u32;
            names.extend_from_slice(&(k as u16).to_le_bytes());
            names.extend_from_slice(f.as_bytes());
            names.push(0);
            if names.len() % 2 == 1 {
                names.push(0);
            }
            put32(&mut buf, ilt_at + (slot + k) * 4, hint_rva);
            put32(&mut buf, iat_at + (slot + k) * 4, hint_rva);
        }
        let name_rva = rva + (names_at + names.len()) as u32;
        names.extend_from_slice(dll.as_bytes());
        names.push(0);
        if names.len() % 2 == 1 {
            names.push(0);
        }
        let d = i * 20;
        put32(&mut buf, d, ilt_rva);
        put32(&mut buf, d + 12, name_rva);
        put32(&mut buf, d + 16, iat_rva);
        slot += funcs.len() + 1;
    }
    buf.extend_from_slice(&names);
    (buf, rva + iat_at as u32, thunks_total as u32)
}

/// The strings of the config block, in order, before encoding.
pub fn config_strings(spec: &SpecimenSpec) -> Vec<String> {
    let mut v: Vec<String> = vec![
        "PRIVMSG %s :%s".into(),
        "NICK %s".into(),
        "JOIN %s %s".into(),
    ];
    for s in &spec.config.servers {
        v.push(s.host.clone());
        v.push(s.port.to_string());
    }
    v.push(spec.config.channel.clone());
    v.push(spec.config.key.clone().unwrap_or_default());
    v.push(spec.config.nick_prefix.clone());
    v
}

/// One string of the globals layout in `enc`, terminator included.
pub fn encode_string(s: &str, enc: ConfigEncoding) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    match enc {
        ConfigEncoding::Plain => b,
        ConfigEncoding::Xor(k) => b.iter().map(|x| x ^ k).collect(),
        ConfigEncoding::Utf16 => {
            let mut out = Vec::new();
            for u in s.encode_utf16() {
                out.extend_from_slice(&u.to_le_bytes());
            }
            out.extend_from_slice(&[0, 0]);
            out
        }
        ConfigEncoding::XorKey { key, len } => {
            let l = usize::from(len.clamp(1, 16));
            b.iter().enumerate().map(|(j, x)| x ^ key[j % l]).collect()
        }
        ConfigEncoding::Add(k) => b.iter().map(|x| x.wrapping_add(k)).collect(),
        ConfigEncoding::Rol(r) => b.iter().map(|x| x.rotate_left(u32::from(r))).collect(),
        ConfigEncoding::RollingXor(k) => b
            .iter()
            .enumerate()
            .map(|(j, x)| x ^ k.wrapping_add(j as u8))
            .collect(),
        ConfigEncoding::ChainedXor(k) => {
            let mut prev = k;
            b.iter()
                .map(|x| {
                    prev ^= x;
                    prev
                })
                .collect()
        }
    }
}

fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// The globals layout: nick, server, port (LE32), channel, key, each
/// 4-aligned with four zero bytes between; reversed for odd variants.
fn globals_block(spec: &SpecimenSpec) -> Vec<u8> {
    let c = &spec.config;
    let mut vars: Vec<Vec<u8>> = vec![encode_string(&c.nick_prefix, spec.encoding)];
    if let Some(s) = c.servers.first() {
        vars.push(encode_string(&s.host, spec.encoding));
        vars.push(u32::from(s.port).to_le_bytes().to_vec());
    }
    vars.push(encode_string(&c.channel, spec.encoding));
    if let Some(k) = &c.key {
        vars.push(encode_string(k, spec.encoding));
    }
    if spec.variant % 2 == 1 {
        vars.reverse();
    }
    let mut out = Vec::new();
    if let ConfigEncoding::XorKey { key, len } = spec.encoding {
        // The decoder's key table.
        out.extend_from_slice(&key[..usize::from(len.clamp(1, 16))]);
        pad4(&mut out);
        out.extend_from_slice(&[0; 4]);
    }
    for v in vars {
        out.extend_from_slice(&v);
        pad4(&mut out);
        out.extend_from_slice(&[0; 4]);
    }
    out
}

/// Strings appended to `.rdata` at `rva`, returning each one's VA.
struct Rdata {
    rva: u32,
    bytes: Vec<u8>,
}

impl Rdata {
    fn add(&mut self, s: &str) -> u32 {
        let va = IMAGE_BASE + self.rva + self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        pad4(&mut self.bytes);
        va
    }
}

/// The pointer-table layout's `.rdata` strings and `.data` rows.
fn pointer_table(spec: &SpecimenSpec, rd: &mut Rdata) -> Vec<u8> {
    let c = &spec.config;
    let chan = rd.add(&c.channel);
    let key = rd.add(c.key.as_deref().unwrap_or(""));
    let empty = rd.add("");
    let mut rows = Vec::new();
    for s in &c.servers {
        let host = rd.add(&s.host);
        rows.extend_from_slice(&host.to_le_bytes());
        rows.extend_from_slice(&u32::from(s.port).to_le_bytes());
        rows.extend_from_slice(&chan.to_le_bytes());
        rows.extend_from_slice(&key.to_le_bytes());
        rows.extend_from_slice(&empty.to_le_bytes());
        rows.extend_from_slice(&0u32.to_le_bytes());
    }
    rows
}

/// The name/value layout's `.rdata` strings and `.data` pointer triples.
fn name_value_table(spec: &SpecimenSpec, rd: &mut Rdata) -> Vec<u8> {
    let c = &spec.config;
    let (host, port) = c
        .servers
        .first()
        .map_or((String::new(), String::new()), |s| {
            (s.host.clone(), s.port.to_string())
        });
    let version = format!("Agobot3 0.2.{}", spec.variant % 10);
    let filename = format!("sys{}.exe", spec.family);
    let pairs: [(&str, &str, &str); 9] = [
        ("bot_version", &version, "Bot version"),
        ("bot_filename", &filename, "Destination file name"),
        (
            "si_chanpass",
            c.key.as_deref().unwrap_or(""),
            "The channel password",
        ),
        ("si_mainchan", &c.channel, "The main channel"),
        ("si_nickprefix", &c.nick_prefix, "The nickname prefix"),
        ("si_port", &port, "Server port"),
        ("si_server", &host, "The irc server"),
        ("si_servpass", "", "The server password"),
        ("si_usessl", "false", "Use SSL"),
    ];
    let mut rows = Vec::new();
    for (n, v, d) in pairs {
        for s in [n, v, d] {
            rows.extend_from_slice(&rd.add(s).to_le_bytes());
        }
    }
    rows
}

/// The encoded config block.
pub fn encode_config(spec: &SpecimenSpec) -> Vec<u8> {
    let mut out = Vec::new();
    for s in config_strings(spec) {
        match spec.encoding {
            ConfigEncoding::Plain => {
                out.extend_from_slice(s.as_bytes());
                out.push(0);
            }
            ConfigEncoding::Xor(k) => {
                out.extend(s.as_bytes().iter().map(|b| b ^ k));
                out.push(k);
            }
            ConfigEncoding::Utf16 => {
                for u in s.encode_utf16() {
                    out.extend_from_slice(&u.to_le_bytes());
                }
                out.extend_from_slice(&[0, 0]);
            }
            // Per-string encodings: each string on its own.
            enc => out.extend(encode_string(&s, enc)),
        }
    }
    out
}

/// Filler that never looks like text: bytes 0x80..=0xFF and zeros.
fn filler(m: &mut Mix, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| {
            let r = m.next();
            if r & 7 == 0 {
                0
            } else {
                // A small alphabet keeps the filler compressible, as real
                // data sections are.
                0x80 | ((r >> 8) & 0x1F) as u8
            }
        })
        .collect()
}

/// Size of the code section of a packed specimen.
const CODE_LEN: usize = 0x800;

/// Code-like bytes for the `.text` of a packed specimen, so UPX's branch
/// filters have something to rewrite: an entry `ret`, then never-executed
/// "functions" made of prologues, immediates, `call`/`jmp`/`jcc rel32` to
/// places inside the section and `call`s far outside it (to the import
/// thunks' neighbourhood), epilogues. Immediates are random, so stray E8/E9
/// bytes that are no branch occur too, as in real code. The same for every
/// variant of a family.
fn code_text(spec: &SpecimenSpec) -> Vec<u8> {
    // Shared by a family's variants, as real variants share their code.
    let mut m = Mix::new(u64::from(spec.family).wrapping_mul(0xC0DE_0001) ^ 0x7E47);
    let mut t = vec![0xC3u8];
    let rel_to =
        |from: usize, target: i64| -> [u8; 4] { ((target - from as i64 - 5) as i32).to_le_bytes() };
    while t.len() + 16 < CODE_LEN {
        let here = t.len();
        match m.below(12) {
            0..=2 => {
                let target = m.below(CODE_LEN as u64) as i64;
                t.push(0xE8);
                t.extend_from_slice(&rel_to(here, target));
            }
            3 => {
                // Far call: 1..16 pages past the section start.
                let target = (0x1000 * (1 + m.below(16)) + m.below(0x100)) as i64;
                t.push(0xE8);
                t.extend_from_slice(&rel_to(here, target));
            }
            4 => {
                let target = m.below(CODE_LEN as u64) as i64;
                t.push(0xE9);
                t.extend_from_slice(&rel_to(here, target));
            }
            5 | 6 => {
                let target = m.below(CODE_LEN as u64) as i64;
                t.push(0x0F);
                t.push(0x80 | (m.next() & 0x0F) as u8);
                // jcc rel32 is 6 bytes long.
                t.extend_from_slice(&rel_to(here + 1, target));
            }
            7 => t.extend_from_slice(&[0x55, 0x8B, 0xEC]),
            8 => t.extend_from_slice(&[0x83, 0xEC, m.next() as u8]),
            9 => {
                t.push(0xB8 | (m.next() & 7) as u8);
                t.extend_from_slice(&(m.next() as u32).to_le_bytes());
            }
            10 => t.extend_from_slice(&[0x6A, m.next() as u8]),
            _ => t.extend_from_slice(&[0x8B, 0xE5, 0x5D, 0xC3]),
        }
    }
    t.resize(CODE_LEN, 0xCC);
    t
}

struct Section {
    name: [u8; 8],
    vsize: u32,
    rva: u32,
    raw: Vec<u8>,
    characteristics: u32,
}

fn sname(s: &str) -> [u8; 8] {
    let mut n = [0u8; 8];
    n[..s.len()].copy_from_slice(s.as_bytes());
    n
}

/// The original (unpacked) sections: .text, .rdata, .data.
/// The original sections, the entry RVA, the import directory (RVA, size)
/// and the IAT (RVA, size).
type Original = (Vec<Section>, u32, (u32, u32), (u32, u32));

fn original_sections(spec: &SpecimenSpec, layout: ConfigLayout) -> Original {
    let layout = effective_layout(spec, layout);
    let text_rva = SECT_ALIGN;
    let text = if spec.packer == Packer::None {
        let mut text = vec![0xCCu8; 0x200];
        text[0] = 0xC3;
        text
    } else {
        code_text(spec)
    };

    let rdata_rva = text_rva + SECT_ALIGN;
    let imports = family_imports(spec.family);
    let (mut itab, iat_rva, iat_size) = import_table(rdata_rva, &imports);
    // Table layouts keep their strings in .rdata after the imports.
    pad4(&mut itab);
    let mut rd = Rdata {
        rva: rdata_rva + itab.len() as u32,
        bytes: Vec::new(),
    };
    let block = match layout {
        ConfigLayout::Block => encode_config(spec),
        ConfigLayout::Globals => globals_block(spec),
        ConfigLayout::PointerTable => pointer_table(spec, &mut rd),
        ConfigLayout::NameValue => name_value_table(spec, &mut rd),
    };
    itab.extend_from_slice(&rd.bytes);
    let import_size = (20 * (imports.len() + 1)) as u32;

    // .data: family filler shared by all variants, then the config block,
    // then variant filler; a few variant-specific bytes inside the family
    // part keep variants apart without breaking their similarity.
    let mut fam = Mix::new(u64::from(spec.family).wrapping_mul(0x9E37) ^ 0xDA7A);
    let fam_len = 0x1800 + fam.below(0x800) as usize;
    let mut data = filler(&mut fam, fam_len);
    let mut var = Mix::new(spec.seed ^ u64::from(spec.variant).wrapping_mul(0x51_7CC1));
    for _ in 0..4 {
        let at = var.below(fam_len as u64) as usize;
        data[at] = 0x80 | var.next() as u8;
    }
    // Keep the block 4-aligned so UTF-16 strings sit on even offsets.
    while !data.len().is_multiple_of(4) {
        data.push(0);
    }
    data.extend_from_slice(&[0; 8]);
    data.extend_from_slice(&block);
    data.extend_from_slice(&[0; 8]);
    let tail = 0x40 + var.below(0x80) as usize;
    data.extend(filler(&mut var, tail));
    let data_rva = rdata_rva + align(itab.len() as u32, SECT_ALIGN);

    let sections = vec![
        Section {
            name: sname(".text"),
            vsize: text.len() as u32,
            rva: text_rva,
            raw: text,
            characteristics: 0x6000_0020,
        },
        Section {
            name: sname(".rdata"),
            vsize: itab.len() as u32,
            rva: rdata_rva,
            raw: itab,
            characteristics: 0x4000_0040,
        },
        Section {
            name: sname(".data"),
            vsize: data.len() as u32,
            rva: data_rva,
            raw: data,
            characteristics: 0xC000_0040,
        },
    ];
    (
        sections,
        text_rva,
        (rdata_rva, import_size),
        (iat_rva, iat_size),
    )
}

/// Writes headers + sections. `extra_header` goes in the last bytes of the
/// header area (UPX's version string and pack header).
fn write_pe(
    spec: &SpecimenSpec,
    sections: &mut [Section],
    entry: u32,
    import_dir: (u32, u32),
    iat: (u32, u32),
    extra_header: &[u8],
) -> Vec<u8> {
    let mut out = vec![0u8; HEADERS_SIZE as usize];
    // DOS header and a stub that only carries the customary message.
    out[0] = b'M';
    out[1] = b'Z';
    put16(&mut out, 2, 0x90);
    put16(&mut out, 4, 3);
    put16(&mut out, 8, 4);
    put16(&mut out, 0x0c, 0xffff);
    put16(&mut out, 0x10, 0xb8);
    put16(&mut out, 0x18, 0x40);
    put32(&mut out, 0x3c, E_LFANEW);
    let msg = b"This program cannot be run in DOS mode.\r\r\n$";
    out[0x4e..0x4e + msg.len()].copy_from_slice(msg);

    let pe = E_LFANEW as usize;
    out[pe..pe + 4].copy_from_slice(b"PE\0\0");
    let coff = pe + 4;
    put16(&mut out, coff, 0x014c);
    put16(&mut out, coff + 2, sections.len() as u16);
    // 2005-01-01 plus family days plus variant hours.
    let ts = 1_104_537_600u32
        .wrapping_add(spec.family.wrapping_mul(3 * 86_400))
        .wrapping_add(spec.variant.wrapping_mul(3_600));
    put32(&mut out, coff + 4, ts);
    put16(&mut out, coff + 16, 0xE0);
    put16(&mut out, coff + 18, 0x010F);

    let opt = coff + 20;
    let mut file_off = HEADERS_SIZE;
    let mut size_code = 0u32;
    let mut size_init = 0u32;
    let mut size_uninit = 0u32;
    let mut ptrs = Vec::new();
    for s in sections.iter() {
        let raw_size = align(s.raw.len() as u32, FILE_ALIGN);
        ptrs.push(if raw_size == 0 { 0 } else { file_off });
        file_off += raw_size;
        if s.characteristics & 0x20 != 0 {
            size_code += raw_size;
        }
        if s.characteristics & 0x40 != 0 {
            size_init += raw_size;
        }
        if s.characteristics & 0x80 != 0 {
            size_uninit += align(s.vsize, FILE_ALIGN);
        }
    }
    let last = sections.last().expect("sections");
    let size_of_image = last.rva + align(last.vsize.max(1), SECT_ALIGN);
    put16(&mut out, opt, 0x10b);
    out[opt + 2] = 6; // linker version
    put32(&mut out, opt + 4, size_code);
    put32(&mut out, opt + 8, size_init);
    put32(&mut out, opt + 12, size_uninit);
    put32(&mut out, opt + 16, entry);
    put32(&mut out, opt + 20, sections[0].rva);
    put32(
        &mut out,
        opt + 24,
        sections.get(1).map_or(sections[0].rva, |s| s.rva),
    );
    put32(&mut out, opt + 28, IMAGE_BASE);
    put32(&mut out, opt + 32, SECT_ALIGN);
    put32(&mut out, opt + 36, FILE_ALIGN);
    put16(&mut out, opt + 40, 4); // OS version
    put16(&mut out, opt + 48, 4); // subsystem version
    put32(&mut out, opt + 56, size_of_image);
    put32(&mut out, opt + 60, HEADERS_SIZE);
    put16(&mut out, opt + 68, 2); // Windows GUI
    put32(&mut out, opt + 72, 0x0010_0000);
    put32(&mut out, opt + 76, 0x1000);
    put32(&mut out, opt + 80, 0x0010_0000);
    put32(&mut out, opt + 84, 0x1000);
    put32(&mut out, opt + 92, 16);
    let dd = opt + 96;
    put32(&mut out, dd + 8, import_dir.0);
    put32(&mut out, dd + 12, import_dir.1);
    put32(&mut out, dd + 12 * 8, iat.0);
    put32(&mut out, dd + 12 * 8 + 4, iat.1);

    let st = opt + 0xE0;
    for (i, s) in sections.iter().enumerate() {
        let h = st + i * 40;
        out[h..h + 8].copy_from_slice(&s.name);
        put32(&mut out, h + 8, s.vsize);
        put32(&mut out, h + 12, s.rva);
        put32(&mut out, h + 16, align(s.raw.len() as u32, FILE_ALIGN));
        put32(&mut out, h + 20, ptrs[i]);
        put32(&mut out, h + 36, s.characteristics);
    }
    let eh = HEADERS_SIZE as usize - extra_header.len();
    assert!(eh >= st + sections.len() * 40, "header overflow");
    out[eh..].copy_from_slice(extra_header);

    for s in sections.iter_mut() {
        let raw_size = align(s.raw.len() as u32, FILE_ALIGN) as usize;
        s.raw.resize(raw_size, 0);
        out.extend_from_slice(&s.raw);
    }
    out
}

/// The filter a packed specimen asks for, by variant: none, 0x26 (cto32
/// E8/E9), 0x49 (cto32 E8/E9 + jcc), 0x16 (ct32 E8/E9, byte-swapped).
pub fn requested_filter(spec: &SpecimenSpec) -> u8 {
    match spec.variant % 4 {
        0 => filter::NONE,
        1 => filter::CTO32_E8E9,
        2 => filter::CTO32_E8E9_JCC,
        _ => filter::CT32_E8E9_BSWAP,
    }
}

/// What a packed specimen's NRV stream holds, before and after filtering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpxPayload {
    /// The unfiltered bytes: the sections' memory image from the first
    /// section's RVA, padded to the section alignment, then UPX's
    /// "extra info" (the original `PE\0\0` + COFF + optional header, the
    /// section table) and a little-endian u32 giving the extra info's
    /// offset. This is what an unpacker that undoes the filter returns.
    pub original: Vec<u8>,
    /// The bytes that were compressed (`original` with the code filtered);
    /// the pack header's `u_adler` covers these, as UPX's does.
    pub filtered: Vec<u8>,
    /// Filter id written in the pack header (0: none).
    pub filter: u8,
    /// Filter cto byte written in the pack header.
    pub cto: u8,
    /// The filtered range of `original`: (offset, length), i.e. the
    /// original header's BaseOfCode minus the first RVA, and SizeOfCode.
    pub code: (usize, usize),
}

/// Size of UPX's `pe_header_t` for PE32: signature, COFF header, optional
/// header with 16 data directories.
const PE32_HEADER_LEN: usize = 4 + 20 + 0xE0;

/// The payload of a packed specimen; `None` when `spec` is not packed.
pub fn upx_payload(spec: &SpecimenSpec) -> Option<UpxPayload> {
    upx_payload_with(spec, ConfigLayout::Block)
}

/// [`upx_payload`] of the specimen built with `layout`.
pub fn upx_payload_with(spec: &SpecimenSpec, layout: ConfigLayout) -> Option<UpxPayload> {
    if spec.packer == Packer::None {
        return None;
    }
    let (mut secs, entry, import_dir, iat) = original_sections(spec, layout);
    let plain = write_pe(spec, &mut secs, entry, import_dir, iat, &[]);
    let (secs, ..) = original_sections(spec, layout);
    let base = secs[0].rva;
    let last = secs.last().expect("sections");
    let image_end = align(last.rva + last.vsize, SECT_ALIGN);
    let mut original = vec![0u8; (image_end - base) as usize];
    for s in &secs {
        let at = (s.rva - base) as usize;
        original[at..at + s.raw.len()].copy_from_slice(&s.raw);
    }
    // UPX appends the original headers so it can rebuild the file; the
    // unfilter takes the code range from there.
    let extra_at = original.len() as u32;
    let hdr = E_LFANEW as usize;
    let st_len = secs.len() * 40;
    original.extend_from_slice(&plain[hdr..hdr + PE32_HEADER_LEN + st_len]);
    original.extend_from_slice(&extra_at.to_le_bytes());

    let opt = hdr + 24;
    let rd =
        |at: usize| u32::from_le_bytes([plain[at], plain[at + 1], plain[at + 2], plain[at + 3]]);
    let code_off = (rd(opt + 20) - base) as usize;
    let code_len = rd(opt + 4) as usize;
    let mut filtered = original.clone();
    let want = requested_filter(spec);
    let (filter_id, cto) = if want == filter::NONE {
        (filter::NONE, 0)
    } else {
        match filter::filter(
            &mut filtered[code_off..code_off + code_len],
            want,
            code_off as u32,
        ) {
            Some(done) => (want, done.cto),
            // As UPX does when a filter cannot be used: pack unfiltered.
            None => (filter::NONE, 0),
        }
    };
    Some(UpxPayload {
        original,
        filtered,
        filter: filter_id,
        cto,
        code: (code_off, code_len),
    })
}

/// Builds one specimen: see the module documentation for its layout.
pub fn build(spec: &SpecimenSpec, layout: ConfigLayout) -> Vec<u8> {
    let (mut secs, entry, import_dir, (iat_rva, iat_size)) = original_sections(spec, layout);
    let method = match spec.packer {
        Packer::None => {
            return write_pe(spec, &mut secs, entry, import_dir, (iat_rva, iat_size), &[]);
        }
        Packer::Nrv2b => NrvMethod::B,
        Packer::Nrv2d => NrvMethod::D,
        Packer::Nrv2e => NrvMethod::E,
    };
    let plain_size = {
        let plain = write_pe(
            spec,
            &mut original_sections(spec, layout).0,
            entry,
            import_dir,
            (iat_rva, iat_size),
            &[],
        );
        plain.len() as u32
    };
    let payload = upx_payload_with(spec, layout).expect("packed");
    let base = secs[0].rva;
    let image_len = payload.filtered.len();
    let packed = compress(&payload.filtered, method);

    let upx0_vsize = align(image_len as u32, SECT_ALIGN);
    let upx1_rva = base + upx0_vsize;
    let mut upx1 = packed.clone();
    while !upx1.len().is_multiple_of(16) {
        upx1.push(0);
    }
    let stub_at = upx1.len() as u32;
    upx1.push(0xC3);
    upx1.extend_from_slice(&[0xCC; 31]);
    let rsrc_rva = upx1_rva + align(upx1.len() as u32, SECT_ALIGN);
    let stub_imports = packed_imports(spec.family);
    let (itab, s_iat_rva, s_iat_size) = import_table(rsrc_rva, &stub_imports);
    let s_import_size = (20 * (stub_imports.len() + 1)) as u32;

    // UPX's pack header (format 9 = win32/pe), preceded by its version string.
    let mut ph = Vec::with_capacity(40);
    ph.extend_from_slice(b"3.96\0");
    ph.extend_from_slice(b"UPX!");
    ph.push(13); // header version
    ph.push(9); // UPX_F_WIN32_PE
    ph.push(method.upx_method());
    ph.push(8); // level
    ph.extend_from_slice(&adler32(&payload.filtered).to_le_bytes());
    ph.extend_from_slice(&adler32(&packed).to_le_bytes());
    ph.extend_from_slice(&(image_len as u32).to_le_bytes());
    ph.extend_from_slice(&(packed.len() as u32).to_le_bytes());
    ph.extend_from_slice(&plain_size.to_le_bytes());
    ph.extend_from_slice(&[payload.filter, payload.cto, 0]); // filter, filter_cto, n_mru
                                                             // UPX's header checksum: the bytes after the magic, modulo 251.
    let sum = ph[9..].iter().map(|&b| u32::from(b)).sum::<u32>() % 251;
    ph.push(sum as u8);

    let mut sections = vec![
        Section {
            name: sname("UPX0"),
            vsize: upx0_vsize,
            rva: base,
            raw: Vec::new(),
            characteristics: 0xE000_0080,
        },
        Section {
            name: sname("UPX1"),
            vsize: align(upx1.len() as u32, SECT_ALIGN),
            rva: upx1_rva,
            raw: upx1,
            characteristics: 0xE000_0040,
        },
        Section {
            name: sname(".rsrc"),
            vsize: itab.len() as u32,
            rva: rsrc_rva,
            raw: itab,
            characteristics: 0xC000_0040,
        },
    ];
    write_pe(
        spec,
        &mut sections,
        upx1_rva + stub_at,
        (rsrc_rva, s_import_size),
        (s_iat_rva, s_iat_size),
        &ph,
    )
}
