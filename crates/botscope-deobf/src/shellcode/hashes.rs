//! API-name hashes that position-independent shellcode of the era looks
//! its imports up by: for each byte of the name, rotate the hash right by
//! 13 and add the byte ("ror13", LSD and Metasploit Win32 payloads, and the
//! bots that copied them). A body that pushes the hashes of `bind`,
//! `listen` and `accept` opens a bind shell; one that pushes `connect`'s
//! connects back.

/// The ror13 hash of an API name (no terminating NUL hashed).
pub const fn ror13(name: &str) -> u32 {
    let b = name.as_bytes();
    let mut h: u32 = 0;
    let mut i = 0;
    while i < b.len() {
        h = h.rotate_right(13).wrapping_add(b[i] as u32);
        i += 1;
    }
    h
}

/// `ws2_32!bind`.
pub const BIND: u32 = ror13("bind");
/// `ws2_32!listen`.
pub const LISTEN: u32 = ror13("listen");
/// `ws2_32!accept`.
pub const ACCEPT: u32 = ror13("accept");
/// `ws2_32!connect`.
pub const CONNECT: u32 = ror13("connect");
/// `ws2_32!WSASocketA`.
pub const WSASOCKETA: u32 = ror13("WSASocketA");
/// `ws2_32!WSAStartup`.
pub const WSASTARTUP: u32 = ror13("WSAStartup");
/// `kernel32!LoadLibraryA`.
pub const LOADLIBRARYA: u32 = ror13("LoadLibraryA");
/// `kernel32!CreateProcessA`.
pub const CREATEPROCESSA: u32 = ror13("CreateProcessA");
/// `kernel32!WinExec`.
pub const WINEXEC: u32 = ror13("WinExec");
/// `kernel32!ExitProcess`.
pub const EXITPROCESS: u32 = ror13("ExitProcess");

/// What a hash found in a body says about the shellcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashRole {
    /// `bind`, `listen`, `accept`: a listening (bind) shell.
    Listens,
    /// `connect`: a connect-back shell.
    Connects,
    /// Any other known import: shellcode, but not which kind.
    Other,
}

/// Every hash recognised, with its role.
pub const KNOWN: [(u32, HashRole); 10] = [
    (BIND, HashRole::Listens),
    (LISTEN, HashRole::Listens),
    (ACCEPT, HashRole::Listens),
    (CONNECT, HashRole::Connects),
    (WSASOCKETA, HashRole::Other),
    (WSASTARTUP, HashRole::Other),
    (LOADLIBRARYA, HashRole::Other),
    (CREATEPROCESSA, HashRole::Other),
    (WINEXEC, HashRole::Other),
    (EXITPROCESS, HashRole::Other),
];

/// The role of `v` if it is a known hash.
pub fn role(v: u32) -> Option<HashRole> {
    KNOWN.iter().find(|(h, _)| *h == v).map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values published with the LSD/Metasploit payloads, which the
    /// const function must reproduce.
    #[test]
    fn ror13_matches_published_values() {
        assert_eq!(BIND, 0xc770_1aa4);
        assert_eq!(LISTEN, 0xe92e_ada4);
        assert_eq!(ACCEPT, 0x4986_49e5);
        assert_eq!(CONNECT, 0x60aa_f9ec);
        assert_eq!(WSASOCKETA, 0xadf5_09d9);
        assert_eq!(LOADLIBRARYA, 0xec0e_4e8e);
        assert_eq!(WINEXEC, 0x0e8a_fe98);
        assert_eq!(role(0x60aa_f9ec), Some(HashRole::Connects));
        assert_eq!(role(0x1234_5678), None);
    }
}
