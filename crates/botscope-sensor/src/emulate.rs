//! Low-interaction emulation: just enough NetBIOS, SMB1 and DCE-RPC to make
//! an exploit client send its payload, and a banner on the other ports.
//!
//! [`Emulator`] is a pure state machine: bytes from the client go in,
//! bytes for the client come out. It never interprets the payload beyond
//! the framing it must answer; classification happens afterwards on the
//! whole client stream. Every length it reads is checked against what it
//! holds; buffered input is capped.

/// Most client bytes buffered while waiting for a complete frame.
pub const MAX_FRAME: usize = 256 * 1024;
/// Most DCE-RPC reply bytes held for the client's next SMB Read AndX. A
/// client that keeps writing without reading desyncs the session instead
/// of growing it (a Read AndX could not carry more than 64 KiB anyway).
pub const MAX_PIPE_OUT: usize = 16 * 1024;

/// Which emulation a port gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personality {
    /// NetBIOS session service (139): session request, then SMB.
    NetbiosSession,
    /// Direct-hosted SMB (445).
    Smb,
    /// DCE-RPC over TCP (135, 1025).
    DceRpc,
    /// Send a banner, then listen.
    Banner(&'static [u8]),
    /// Listen only.
    Silent,
}

impl Personality {
    /// The default personality of a TCP port.
    pub fn for_port(port: u16) -> Personality {
        match port {
            139 => Personality::NetbiosSession,
            445 => Personality::Smb,
            135 | 1025 => Personality::DceRpc,
            21 => Personality::Banner(b"220 Microsoft FTP Service\r\n"),
            42 => Personality::Silent,
            80 | 5000 => Personality::Silent,
            2745 | 3127 | 6129 => Personality::Silent,
            _ => Personality::Silent,
        }
    }
}

/// The emulation state of one connection.
#[derive(Debug)]
pub struct Emulator {
    personality: Personality,
    buf: Vec<u8>,
    /// DCE-RPC replies waiting for an SMB read or transaction.
    pipe_out: Vec<u8>,
    session_started: bool,
    banner_sent: bool,
    /// Set when the client sent something the emulator cannot frame; the
    /// connection is then only listened to.
    pub desynced: bool,
    desync_reason: Option<&'static str>,
}

const SMB_MAGIC: &[u8; 4] = b"\xffSMB";
const NDR_SYNTAX: [u8; 20] = [
    0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
    0x02, 0x00, 0x00, 0x00,
];

impl Emulator {
    /// A fresh connection with the given personality.
    pub fn new(personality: Personality) -> Emulator {
        Emulator {
            personality,
            buf: Vec::new(),
            pipe_out: Vec::new(),
            session_started: false,
            banner_sent: false,
            desynced: false,
            desync_reason: None,
        }
    }

    /// Why the emulator stopped answering, once it has.
    pub fn desync_reason(&self) -> Option<&'static str> {
        self.desynced
            .then_some(self.desync_reason.unwrap_or("unframed input"))
    }

    /// Stops answering, dropping everything buffered.
    fn desync(&mut self, reason: &'static str) {
        self.desynced = true;
        self.desync_reason.get_or_insert(reason);
        self.buf = Vec::new();
        self.pipe_out = Vec::new();
    }

    /// Reply bytes waiting for a Read AndX.
    pub fn pipe_out_len(&self) -> usize {
        self.pipe_out.len()
    }

    /// What to send as soon as the client connects.
    pub fn greeting(&mut self) -> Vec<u8> {
        match self.personality {
            Personality::Banner(b) if !self.banner_sent => {
                self.banner_sent = true;
                b.to_vec()
            }
            _ => Vec::new(),
        }
    }

    /// Feeds client bytes; returns the bytes to answer with.
    pub fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        if self.desynced {
            return Vec::new();
        }
        if self.buf.len() + data.len() > MAX_FRAME {
            self.desync("frame larger than the buffer cap");
            return Vec::new();
        }
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            let consumed = match self.personality {
                Personality::NetbiosSession | Personality::Smb => self.step_nbss(&mut out),
                Personality::DceRpc => self.step_dcerpc(&mut out),
                Personality::Banner(_) | Personality::Silent => {
                    self.buf.clear();
                    None
                }
            };
            if self.desynced {
                // Replies already produced in this call are still sent.
                self.buf = Vec::new();
                break;
            }
            match consumed {
                Some(n) if n > 0 => {
                    self.buf.drain(..n);
                }
                _ => break,
            }
        }
        out
    }

    /// One NetBIOS session frame: returns bytes consumed, or None when
    /// incomplete.
    fn step_nbss(&mut self, out: &mut Vec<u8>) -> Option<usize> {
        if self.buf.len() < 4 {
            return None;
        }
        let kind = self.buf[0];
        let len = (((self.buf[1] & 1) as usize) << 16)
            | ((self.buf[2] as usize) << 8)
            | self.buf[3] as usize;
        if self.buf.len() < 4 + len {
            return None;
        }
        match kind {
            0x81 => {
                // Session request: positive response.
                self.session_started = true;
                out.extend_from_slice(&[0x82, 0, 0, 0]);
            }
            0x00 => {
                let frame = self.buf[4..4 + len].to_vec();
                if let Some(reply) = self.smb_reply(&frame) {
                    let l = reply.len();
                    out.extend_from_slice(&[0, (l >> 16) as u8 & 1, (l >> 8) as u8, l as u8]);
                    out.extend_from_slice(&reply);
                }
            }
            0x85 => {} // keep-alive
            _ => {
                self.desync("unknown NetBIOS session frame type");
                return None;
            }
        }
        Some(4 + len)
    }

    fn smb_reply(&mut self, m: &[u8]) -> Option<Vec<u8>> {
        if m.len() < 35 || &m[..4] != SMB_MAGIC {
            return None;
        }
        let cmd = m[4];
        let wc = m[32] as usize;
        let words_end = 33 + 2 * wc;
        let bytes = m.get(words_end + 2..).unwrap_or(&[]);
        let mut h = m[..32].to_vec();
        h[5..9].copy_from_slice(&[0, 0, 0, 0]); // status: success
        h[9] |= 0x80; // reply
        let (words, data): (Vec<u8>, Vec<u8>) = match cmd {
            0x72 => negotiate_reply(bytes),
            0x73 => {
                h[28..30].copy_from_slice(&2048u16.to_le_bytes()); // uid
                (andx_words(&[0, 0]), Vec::new())
            }
            0x75 => {
                h[24..26].copy_from_slice(&2049u16.to_le_bytes()); // tid
                (andx_words(&[1, 0]), b"IPC\0".to_vec())
            }
            0xa2 => {
                let mut w = vec![0xff, 0, 0, 0, 0];
                w.extend_from_slice(&0x4000u16.to_le_bytes()); // fid
                w.extend_from_slice(&1u32.to_le_bytes()); // create action: opened
                w.resize(68, 0);
                w[64..66].copy_from_slice(&2u16.to_le_bytes()); // resource: message pipe
                w[66..68].copy_from_slice(&0x05ffu16.to_le_bytes());
                (w, Vec::new())
            }
            0x2f => {
                // Write AndX: the written bytes may be a DCE-RPC PDU.
                let count = m
                    .get(33 + 20..33 + 22)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                    .unwrap_or(0);
                let off = m
                    .get(33 + 22..33 + 24)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                    .unwrap_or(0);
                // Offsets count from the SMB header start.
                if let Some(pdu) = m.get(off..off.saturating_add(count)) {
                    let reply = dcerpc_reply(pdu);
                    if self.pipe_out.len() + reply.len() > MAX_PIPE_OUT {
                        self.desync("DCE-RPC replies past the pipe cap without a Read AndX");
                        return None;
                    }
                    self.pipe_out.extend(reply);
                }
                let mut w = andx_words(&[]);
                w.extend_from_slice(&(count as u16).to_le_bytes());
                w.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0, 0, 0]);
                (w, Vec::new())
            }
            0x2e => {
                // Read AndX: hand back what the pipe holds.
                let data = std::mem::take(&mut self.pipe_out);
                let mut w = andx_words(&[]);
                w.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
                w.extend_from_slice(&(data.len() as u16).to_le_bytes());
                w.extend_from_slice(&((32 + 1 + 24 + 2 + 1) as u16).to_le_bytes());
                w.extend_from_slice(&[0u8; 10]);
                let mut b = vec![0u8]; // pad
                b.extend_from_slice(&data);
                (w, b)
            }
            0x25 => {
                // Transaction (TransactNmPipe or RAP): data section may be a PDU.
                let dcount = m
                    .get(33 + 22..33 + 24)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                    .unwrap_or(0);
                let doff = m
                    .get(33 + 24..33 + 26)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                    .unwrap_or(0);
                let reply = m
                    .get(doff..doff.saturating_add(dcount))
                    .map(dcerpc_reply)
                    .unwrap_or_default();
                let data_off = 32 + 1 + 20 + 2 + 1;
                let mut w = Vec::new();
                for v in [
                    0u16,
                    reply.len() as u16,
                    0,
                    0,
                    data_off as u16,
                    0,
                    reply.len() as u16,
                    data_off as u16,
                    0,
                ] {
                    w.extend_from_slice(&v.to_le_bytes());
                }
                w.truncate(18);
                w.extend_from_slice(&(reply.len() as u16).to_le_bytes());
                w.extend_from_slice(&[0, 0]);
                let mut b = vec![0u8];
                b.extend_from_slice(&reply);
                (w, b)
            }
            _ => (Vec::new(), Vec::new()),
        };
        let mut r = h;
        r.push((words.len() / 2) as u8);
        r.extend_from_slice(&words);
        r.extend_from_slice(&(data.len() as u16).to_le_bytes());
        r.extend_from_slice(&data);
        Some(r)
    }

    /// One DCE-RPC connection-oriented PDU.
    fn step_dcerpc(&mut self, out: &mut Vec<u8>) -> Option<usize> {
        if self.buf.len() < 16 {
            return None;
        }
        if self.buf[0] != 5 {
            self.desync("not a DCE-RPC PDU");
            return None;
        }
        let le = self.buf[4] & 0x10 != 0;
        let flen = if le {
            u16::from_le_bytes([self.buf[8], self.buf[9]])
        } else {
            u16::from_be_bytes([self.buf[8], self.buf[9]])
        } as usize;
        if flen < 16 {
            self.desync("DCE-RPC fragment length under 16");
            return None;
        }
        if self.buf.len() < flen {
            return None;
        }
        let pdu = self.buf[..flen].to_vec();
        out.extend(dcerpc_reply(&pdu));
        Some(flen)
    }
}

fn andx_words(rest: &[u8]) -> Vec<u8> {
    let mut w = vec![0xff, 0, 0, 0];
    w.extend_from_slice(rest);
    w
}

/// Negotiate: pick "NT LM 0.12" if offered, else the last dialect.
fn negotiate_reply(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let dialects: Vec<&[u8]> = bytes
        .split(|&b| b == 0)
        .filter(|d| d.first() == Some(&2))
        .map(|d| &d[1..])
        .collect();
    let idx = dialects
        .iter()
        .position(|d| *d == b"NT LM 0.12")
        .unwrap_or(dialects.len().saturating_sub(1)) as u16;
    let mut w = Vec::new();
    w.extend_from_slice(&idx.to_le_bytes());
    w.push(0x03); // user security, encrypt passwords
    w.extend_from_slice(&50u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&16644u32.to_le_bytes());
    w.extend_from_slice(&65536u32.to_le_bytes());
    w.extend_from_slice(&0u32.to_le_bytes());
    w.extend_from_slice(&0x0000_f3fdu32.to_le_bytes()); // capabilities, no extended security
    w.extend_from_slice(&0u64.to_le_bytes());
    w.extend_from_slice(&0i16.to_le_bytes());
    w.push(8);
    let mut b = b"\x11\x22\x33\x44\x55\x66\x77\x88".to_vec();
    b.extend_from_slice(b"WORKGROUP\0");
    (w, b)
}

/// Answers a DCE-RPC PDU: bind → bind_ack accepting every context with
/// NDR, request → an empty response. Anything else gets nothing.
pub fn dcerpc_reply(pdu: &[u8]) -> Vec<u8> {
    if pdu.len() < 16 || pdu[0] != 5 {
        return Vec::new();
    }
    let call_id = [pdu[12], pdu[13], pdu[14], pdu[15]];
    let mut body = Vec::new();
    let ptype = match pdu[2] {
        11 | 14 => {
            // bind / alter_context
            let n_ctx = pdu.get(24).copied().unwrap_or(0).min(16);
            body.extend_from_slice(&4280u16.to_le_bytes());
            body.extend_from_slice(&4280u16.to_le_bytes());
            body.extend_from_slice(&0x1234u32.to_le_bytes());
            let port = b"\\PIPE\\ntsvcs\0";
            body.extend_from_slice(&(port.len() as u16).to_le_bytes());
            body.extend_from_slice(port);
            while (16 + body.len()) % 4 != 0 {
                body.push(0);
            }
            body.extend_from_slice(&[n_ctx, 0, 0, 0]);
            for _ in 0..n_ctx {
                body.extend_from_slice(&[0, 0, 0, 0]);
                body.extend_from_slice(&NDR_SYNTAX);
            }
            if pdu[2] == 11 {
                12
            } else {
                15
            }
        }
        0 => {
            body.extend_from_slice(&4u32.to_le_bytes());
            body.extend_from_slice(pdu.get(20..22).unwrap_or(&[0, 0]));
            body.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
            2
        }
        _ => return Vec::new(),
    };
    let len = (16 + body.len()) as u16;
    let mut r = vec![5, 0, ptype, 0x03, 0x10, 0, 0, 0];
    r.extend_from_slice(&len.to_le_bytes());
    r.extend_from_slice(&[0, 0]);
    r.extend_from_slice(&call_id);
    r.extend_from_slice(&body);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(uuid: [u8; 16]) -> Vec<u8> {
        let mut b = vec![5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 7, 0, 0, 0];
        b.extend_from_slice(&[0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0]);
        b.extend_from_slice(&[0, 0, 1, 0]);
        b.extend_from_slice(&uuid);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&NDR_SYNTAX);
        b
    }

    #[test]
    fn dcerpc_bind_gets_bind_ack_with_call_id() {
        let mut e = Emulator::new(Personality::DceRpc);
        let p = bind([0xa0; 16]);
        assert_eq!(p.len(), 72);
        // Fed in two pieces: the frame is held until complete.
        assert!(e.feed(&p[..30]).is_empty());
        let r = e.feed(&p[30..]);
        assert_eq!(r[2], 12, "bind_ack");
        assert_eq!(&r[12..16], &[7, 0, 0, 0], "call id echoed");
        assert_eq!(u16::from_le_bytes([r[8], r[9]]) as usize, r.len());
        // One context result, accepted.
        let n_off = r.len() - 24 - 4;
        assert_eq!(r[n_off], 1);
        assert_eq!(&r[n_off + 4..n_off + 6], &[0, 0]);
    }

    #[test]
    fn netbios_session_then_smb_negotiate() {
        let mut e = Emulator::new(Personality::NetbiosSession);
        let mut req = vec![0x81, 0, 0, 68];
        req.extend_from_slice(&[0x20; 68]);
        assert_eq!(e.feed(&req), vec![0x82, 0, 0, 0]);
        let mut smb = SMB_MAGIC.to_vec();
        smb.push(0x72);
        smb.resize(32, 0);
        smb.push(0);
        let dialects = b"\x02PC NETWORK PROGRAM 1.0\0\x02NT LM 0.12\0";
        smb.extend_from_slice(&(dialects.len() as u16).to_le_bytes());
        smb.extend_from_slice(dialects);
        let mut frame = vec![0, 0, 0, smb.len() as u8];
        frame.extend_from_slice(&smb);
        let r = e.feed(&frame);
        assert_eq!(&r[4..8], SMB_MAGIC);
        assert_eq!(r[4 + 9] & 0x80, 0x80, "reply flag");
        assert_eq!(r[4 + 32], 17, "NT LM 0.12 negotiate has 17 words");
        assert_eq!(
            u16::from_le_bytes([r[4 + 33], r[4 + 34]]),
            1,
            "dialect index"
        );
    }

    /// An SMB Write AndX (fid 0x4000) carrying `pdu`, in a NetBIOS frame.
    fn write_andx(pdu: &[u8]) -> Vec<u8> {
        let mut m = SMB_MAGIC.to_vec();
        m.push(0x2f);
        m.resize(32, 0);
        m.push(14); // word count
        let mut words = vec![
            0xff, 0, 0, 0, 0x00, 0x40, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff,
        ];
        words.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        words.extend_from_slice(&(pdu.len() as u16).to_le_bytes());
        words.extend_from_slice(&64u16.to_le_bytes()); // data offset from the SMB header
        words.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(words.len(), 28);
        m.extend_from_slice(&words);
        m.extend_from_slice(&((pdu.len() + 1) as u16).to_le_bytes());
        m.push(0); // pad
        assert_eq!(m.len(), 64);
        m.extend_from_slice(pdu);
        let mut f = vec![0, 0, (m.len() >> 8) as u8, m.len() as u8];
        f.extend_from_slice(&m);
        f
    }

    fn read_andx() -> Vec<u8> {
        let mut m = SMB_MAGIC.to_vec();
        m.push(0x2e);
        m.resize(32, 0);
        m.push(10);
        m.extend_from_slice(&[0u8; 20]);
        m.extend_from_slice(&[0, 0]);
        let mut f = vec![0, 0, 0, m.len() as u8];
        f.extend_from_slice(&m);
        f
    }

    #[test]
    fn pipe_replies_are_bounded_without_a_read() {
        let mut e = Emulator::new(Personality::Smb);
        let w = write_andx(&bind([0xa0; 16]));
        // One write, one read: the bind_ack comes back in the Read AndX.
        e.feed(&w);
        let ack_len = e.pipe_out_len();
        assert!(ack_len > 16, "a bind_ack is queued");
        let r = e.feed(&read_andx());
        assert_eq!(e.pipe_out_len(), 0);
        assert_eq!(r.len(), 4 + 32 + 1 + 24 + 2 + 1 + ack_len);
        assert_eq!(r[r.len() - ack_len + 2], 12, "bind_ack");
        // Writes without reads: held up to the cap, then the session
        // desyncs, drops what it held and says why.
        let mut writes = 0;
        while !e.desynced {
            e.feed(&w);
            writes += 1;
            assert!(e.pipe_out_len() <= MAX_PIPE_OUT, "{}", e.pipe_out_len());
            assert!(writes <= MAX_PIPE_OUT / ack_len + 1, "never desynced");
        }
        assert_eq!(writes, MAX_PIPE_OUT / ack_len + 1);
        assert_eq!(e.pipe_out_len(), 0);
        assert_eq!(
            e.desync_reason(),
            Some("DCE-RPC replies past the pipe cap without a Read AndX")
        );
        assert!(e.feed(&w).is_empty());
        assert!(e.feed(&read_andx()).is_empty());
    }

    #[test]
    fn garbage_desyncs_without_growing() {
        let mut e = Emulator::new(Personality::DceRpc);
        assert!(e.feed(b"GET / HTTP/1.0\r\n\r\n").is_empty());
        assert!(e.desynced);
        let mut e = Emulator::new(Personality::Smb);
        // A frame claiming 128 KiB arrives in pieces and never completes.
        let mut hdr = vec![0u8, 1, 0xff, 0xff];
        hdr.extend(vec![0u8; 1000]);
        assert!(e.feed(&hdr).is_empty());
        for _ in 0..300 {
            assert!(e.feed(&[0u8; 1000]).is_empty());
            assert!(e.buf.len() <= 4 + 0x1ffff, "held {} bytes", e.buf.len());
        }
        // Non-SMB frames are consumed and dropped; a bad NBSS type desyncs,
        // after which nothing more is buffered.
        assert!(!e.desynced);
        let mut e = Emulator::new(Personality::Smb);
        e.feed(&[0x99, 0, 0, 0]);
        e.feed(&vec![0u8; 200_000]);
        assert!(e.desynced);
        assert!(e.buf.len() <= 4);
    }
}
