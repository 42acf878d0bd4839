//! A TCP connection written packet by packet: handshake, data in MSS-sized
//! segments with an ACK per flight, orderly close or reset.

use crate::pcap::{flags, Ip4, PcapFile};
use std::net::Ipv4Addr;

/// Maximum segment size used for data.
pub const MSS: usize = 1460;

/// One TCP connection between a client and a server.
#[derive(Clone, Debug)]
pub struct Tcp {
    /// Client address.
    pub c: Ipv4Addr,
    /// Client port.
    pub cp: u16,
    /// Server address.
    pub s: Ipv4Addr,
    /// Server port.
    pub sp: u16,
    cseq: u32,
    sseq: u32,
    /// Current time, µs.
    pub t: i64,
    /// One-way delay, µs.
    pub delay: i64,
    /// Packets this connection wrote.
    pub packets: u64,
}

impl Tcp {
    /// A connection that has not sent anything yet.
    pub fn new(c: Ipv4Addr, cp: u16, s: Ipv4Addr, sp: u16, t: i64, isn: u32) -> Tcp {
        Tcp {
            c,
            cp,
            s,
            sp,
            cseq: isn,
            sseq: isn.rotate_left(13) ^ 0x5a5a_1234,
            t,
            delay: 20_000,
            packets: 0,
        }
    }

    fn ip_c(&self) -> Ip4 {
        Ip4 {
            src: self.c,
            dst: self.s,
            ttl: 128,
        }
    }
    fn ip_s(&self) -> Ip4 {
        Ip4 {
            src: self.s,
            dst: self.c,
            ttl: 112,
        }
    }

    /// Client SYN only (a scan probe or an unanswered attempt).
    pub fn syn_only(&mut self, f: &mut PcapFile, fl: u8) {
        let ip = self.ip_c();
        f.tcp(self.t, ip, self.cp, self.sp, self.cseq, 0, fl, &[]);
        self.packets += 1;
    }

    /// Three-way handshake.
    pub fn handshake(&mut self, f: &mut PcapFile) {
        let (ipc, ips) = (self.ip_c(), self.ip_s());
        f.tcp(self.t, ipc, self.cp, self.sp, self.cseq, 0, flags::SYN, &[]);
        self.cseq = self.cseq.wrapping_add(1);
        self.t += self.delay;
        f.tcp(
            self.t,
            ips,
            self.sp,
            self.cp,
            self.sseq,
            self.cseq,
            flags::SYN | flags::ACK,
            &[],
        );
        self.sseq = self.sseq.wrapping_add(1);
        self.t += self.delay;
        f.tcp(
            self.t,
            ipc,
            self.cp,
            self.sp,
            self.cseq,
            self.sseq,
            flags::ACK,
            &[],
        );
        self.t += 1000;
        self.packets += 3;
    }

    /// The server refuses the connection (SYN answered by RST).
    pub fn refused(&mut self, f: &mut PcapFile) {
        let (ipc, ips) = (self.ip_c(), self.ip_s());
        f.tcp(self.t, ipc, self.cp, self.sp, self.cseq, 0, flags::SYN, &[]);
        self.t += self.delay;
        let ack = self.cseq.wrapping_add(1);
        f.tcp(
            self.t,
            ips,
            self.sp,
            self.cp,
            0,
            ack,
            flags::RST | flags::ACK,
            &[],
        );
        self.t += 1000;
        self.packets += 2;
    }

    /// Client sends `data`; the server acknowledges the flight.
    pub fn c_send(&mut self, f: &mut PcapFile, data: &[u8]) {
        self.send(f, true, data);
    }

    /// Server sends `data`; the client acknowledges the flight.
    pub fn s_send(&mut self, f: &mut PcapFile, data: &[u8]) {
        self.send(f, false, data);
    }

    fn send(&mut self, f: &mut PcapFile, from_client: bool, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let (ip_tx, ip_rx) = if from_client {
            (self.ip_c(), self.ip_s())
        } else {
            (self.ip_s(), self.ip_c())
        };
        let (sp, dp) = if from_client {
            (self.cp, self.sp)
        } else {
            (self.sp, self.cp)
        };
        let mut n = 0;
        for chunk in data.chunks(MSS) {
            let (seq, ack) = if from_client {
                (self.cseq, self.sseq)
            } else {
                (self.sseq, self.cseq)
            };
            f.tcp(
                self.t,
                ip_tx,
                sp,
                dp,
                seq,
                ack,
                flags::PSH | flags::ACK,
                chunk,
            );
            if from_client {
                self.cseq = self.cseq.wrapping_add(chunk.len() as u32);
            } else {
                self.sseq = self.sseq.wrapping_add(chunk.len() as u32);
            }
            self.t += 120;
            n += 1;
            // Acknowledge every second segment and the last one.
            if n % 2 == 0 || chunk.as_ptr_range().end == data.as_ptr_range().end {
                let t_ack = self.t + self.delay;
                let (seq, ack) = if from_client {
                    (self.sseq, self.cseq)
                } else {
                    (self.cseq, self.sseq)
                };
                f.tcp(t_ack, ip_rx, dp, sp, seq, ack, flags::ACK, &[]);
                self.packets += 1;
            }
            self.packets += 1;
        }
        self.t += self.delay + 1000;
    }

    /// Orderly close started by the client (or by the server).
    pub fn close(&mut self, f: &mut PcapFile, by_client: bool) {
        let (a, b) = if by_client {
            (self.ip_c(), self.ip_s())
        } else {
            (self.ip_s(), self.ip_c())
        };
        let (ap, bp) = if by_client {
            (self.cp, self.sp)
        } else {
            (self.sp, self.cp)
        };
        let (mut aseq, mut bseq) = if by_client {
            (self.cseq, self.sseq)
        } else {
            (self.sseq, self.cseq)
        };
        f.tcp(self.t, a, ap, bp, aseq, bseq, flags::FIN | flags::ACK, &[]);
        aseq = aseq.wrapping_add(1);
        self.t += self.delay;
        f.tcp(self.t, b, bp, ap, bseq, aseq, flags::FIN | flags::ACK, &[]);
        bseq = bseq.wrapping_add(1);
        self.t += self.delay;
        f.tcp(self.t, a, ap, bp, aseq, bseq, flags::ACK, &[]);
        if by_client {
            (self.cseq, self.sseq) = (aseq, bseq);
        } else {
            (self.sseq, self.cseq) = (aseq, bseq);
        }
        self.packets += 3;
    }

    /// The server resets the connection (a crashed service).
    pub fn server_reset(&mut self, f: &mut PcapFile) {
        let ip = self.ip_s();
        f.tcp(
            self.t,
            ip,
            self.sp,
            self.cp,
            self.sseq,
            self.cseq,
            flags::RST | flags::ACK,
            &[],
        );
        self.t += 1000;
        self.packets += 1;
    }
}
