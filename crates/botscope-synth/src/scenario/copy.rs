//! Binary copies on the wire: TFTP, raw TCP, FTP fetches in either mode,
//! and the bind shell a typed fetch goes through.

use super::*;
use crate::draw::free_port;
use crate::pcap::{Ip4, PcapFile};
use crate::proto;
use crate::tcp::Tcp;
use crate::truth::*;
use botscope_core::Ts;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

impl Gen {
    pub(super) fn render_copy(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let cp = self.t.copies[idx as usize].clone();
        let e = &self.t.exploits[cp.exploit as usize];
        let (attacker, victim) = (e.attacker, e.victim);
        let bytes = self.specs[cp.specimen as usize].bytes.clone();
        let t0 = cp.ts.0;
        // The bind shell the fetch is typed into: open until after it.
        let shell = cp.shell.as_ref().map(|sh| {
            let mut c = Tcp::new(
                attacker,
                sh.flow.orig_p,
                victim,
                sh.flow.resp_p,
                sh.ts.0,
                r.random(),
            );
            c.handshake(f);
            c.s_send(f, SHELL_BANNER);
            let typed_at = c.t;
            c.c_send(f, format!("{}\r\n", sh.typed).as_bytes());
            (c, typed_at)
        });
        if let (Some((_, at)), Some(s)) = (&shell, self.t.copies[idx as usize].shell.as_mut()) {
            // The typed line's packet time (what a reader reports).
            s.ts = Ts(*at);
        }
        let t_end = match cp.method {
            CopyMethod::TftpGet => {
                let cport = cp.flow.orig_p;
                let vip = Ip4 {
                    src: victim,
                    dst: attacker,
                    ttl: 128,
                };
                let aip = Ip4 {
                    src: attacker,
                    dst: victim,
                    ttl: 110,
                };
                f.udp(t0, vip, cport, 69, &proto::tftp_rrq(&cp.filename));
                let tid = free_port(r, 1025, 5000);
                let mut t = t0 + 40_000;
                let blocks: Vec<&[u8]> = bytes.chunks(512).collect();
                let n_blocks = if bytes.len().is_multiple_of(512) {
                    blocks.len() + 1
                } else {
                    blocks.len()
                };
                let stop = if cp.success {
                    n_blocks
                } else {
                    (n_blocks / 3).max(1)
                };
                for b in 0..stop {
                    let data = blocks.get(b).copied().unwrap_or(&[]);
                    f.udp(t, aip, tid, cport, &proto::tftp_data((b + 1) as u16, data));
                    t += 20_000;
                    f.udp(t, vip, cport, tid, &proto::tftp_ack((b + 1) as u16));
                    t += 2_000;
                }
                if !cp.success {
                    f.udp(
                        t + 10_000,
                        aip,
                        tid,
                        cport,
                        &proto::tftp_error(0, "transfer aborted"),
                    );
                }
                t + 10_000
            }
            // An FTP fetch: the victim logs into the infecting host's FTP
            // server and RETRs the file over a passive data connection it
            // opens, or an active one the server opens from port 20.
            CopyMethod::ReverseConnect if cp.via == "ftp" => {
                render_ftp_fetch(f, &cp, &bytes, (victim, attacker), r)
            }
            CopyMethod::TcpPush | CopyMethod::ReverseConnect => {
                let push = cp.method == CopyMethod::TcpPush;
                let (c_ip, s_ip) = if push {
                    (attacker, victim)
                } else {
                    (victim, attacker)
                };
                let mut c = Tcp::new(c_ip, cp.flow.orig_p, s_ip, cp.flow.resp_p, t0, r.random());
                c.handshake(f);
                let body = if cp.success {
                    &bytes[..]
                } else {
                    &bytes[..bytes.len() / 3]
                };
                if push {
                    c.c_send(f, body);
                    c.close(f, true);
                } else {
                    c.s_send(f, body);
                    c.close(f, false);
                }
                c.t
            }
        };
        if let Some((mut c, _)) = shell {
            c.t = c.t.max(t_end + 100_000);
            c.close(f, true);
        }
    }
}

/// What a Windows bind shell prints first (the shell dissector's cue).
pub(super) const SHELL_BANNER: &[u8] = b"Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\nC:\\WINDOWS\\system32>";

/// Writes an FTP fetch (`cp.via == "ftp"`): the victim logs in on the
/// infecting host's FTP server (`cp.flow`), asks for a passive data
/// connection (`PASV`, the victim connects) or offers an active one
/// (`PORT`, the server connects from port 20), and RETRs the file; the
/// server sends it and `226` (a third and `426` on failure). Returns the
/// end time.
pub(super) fn render_ftp_fetch(
    f: &mut PcapFile,
    cp: &CopyTruth,
    bytes: &[u8],
    (victim, attacker): (Ipv4Addr, Ipv4Addr),
    r: &mut ChaCha8Rng,
) -> i64 {
    let body = if cp.success {
        bytes
    } else {
        &bytes[..bytes.len() / 3]
    };
    let Some(ftp) = &cp.ftp else { return cp.ts.0 };
    let active = ftp.mode == "active";
    let d = &ftp.data_flow;
    let mut c = Tcp::new(
        victim,
        cp.flow.orig_p,
        attacker,
        cp.flow.resp_p,
        cp.ts.0,
        r.random(),
    );
    c.handshake(f);
    c.s_send(f, b"220 FTP server ready\r\n");
    let hp = |ip: Ipv4Addr, port: u16| {
        let a = ip.octets();
        format!(
            "{},{},{},{},{},{}",
            a[0],
            a[1],
            a[2],
            a[3],
            port >> 8,
            port & 0xff
        )
    };
    let (mode_cmd, mode_reply) = if active {
        (
            format!("PORT {}\r\n", hp(victim, d.resp_p)),
            "200 PORT command successful.\r\n".to_string(),
        )
    } else {
        (
            "PASV\r\n".to_string(),
            format!("227 Entering Passive Mode ({})\r\n", hp(attacker, d.resp_p)),
        )
    };
    for (cmd, reply) in [
        (&b"USER 1\r\n"[..], &b"331 Password required.\r\n"[..]),
        (b"PASS 1\r\n", b"230 Logged in.\r\n"),
        (b"TYPE I\r\n", b"200 Type set to I.\r\n"),
        (mode_cmd.as_bytes(), mode_reply.as_bytes()),
    ] {
        c.c_send(f, cmd);
        c.s_send(f, reply);
    }
    let isn = (cp.flow.orig_p as u32).wrapping_mul(0x9e37_79b9);
    let announce = |c: &mut Tcp, f: &mut PcapFile| {
        c.c_send(f, format!("RETR {}\r\n", cp.filename).as_bytes());
        c.s_send(
            f,
            format!(
                "150 Opening BINARY mode data connection for {} ({} bytes).\r\n",
                cp.filename,
                bytes.len()
            )
            .as_bytes(),
        );
    };
    let (dc, ds) = if active {
        (attacker, victim)
    } else {
        (victim, attacker)
    };
    let mut data = Tcp::new(dc, d.orig_p, ds, d.resp_p, 0, isn);
    if active {
        // The server connects once the RETR asked for the file.
        announce(&mut c, f);
        data.t = c.t;
        data.handshake(f);
        data.c_send(f, body);
        data.close(f, true);
    } else {
        data.t = c.t + 5_000;
        data.handshake(f);
        c.t = data.t;
        announce(&mut c, f);
        data.t = c.t;
        data.s_send(f, body);
        data.close(f, false);
    }
    c.t = data.t + 5_000;
    c.s_send(
        f,
        if cp.success {
            b"226 Transfer complete.\r\n"
        } else {
            b"426 Connection closed; transfer aborted.\r\n"
        },
    );
    c.c_send(f, b"QUIT\r\n");
    c.s_send(f, b"221 Goodbye.\r\n");
    c.close(f, true);
    c.t
}
