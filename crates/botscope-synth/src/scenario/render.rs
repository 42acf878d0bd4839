//! Rendering the job captures (`honeynet-exploits.pcap`, `infected.pcap`):
//! jobs in start order, each written as one run of packets.

use super::*;
use crate::draw::{free_port, public_ip, word};
use crate::exploits::{client_script, SmbIds};
use crate::pcap::{flags, Ip4, PcapFile};
use crate::proto;
use crate::tcp::Tcp;
use crate::truth::*;
use botscope_core::Ts;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

impl Gen {
    pub(super) fn maybe_gre(&self, f: &mut PcapFile) {
        maybe_gre(self.cfg.gre, &self.t.sensors, f);
    }

    pub(super) fn render_jobs(&mut self, out: &Path, seed: u64) -> io::Result<()> {
        let rel_e = "pcap/honeynet-exploits.pcap";
        let rel_i = "pcap/infected.pcap";
        let mut fe = PcapFile::create(&out.join(rel_e))?;
        let mut fi = PcapFile::create(&out.join(rel_i))?;
        self.maybe_gre(&mut fe);
        self.maybe_gre(&mut fi);
        // The infected honeypots' frames carry their own Ethernet address
        // (a spoofed flood is attributed to its sender by it).
        fi.set_host_macs(&self.t.sensors);
        let mut jobs = std::mem::take(&mut self.jobs);
        jobs.sort_by_key(|j| j.0);
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        for (t, cap, job) in &jobs {
            let f = match cap {
                Cap::Exploits => &mut fe,
                Cap::Infected => &mut fi,
            };
            f.advance(*t)?;
            match job {
                Job::Exploit { idx } => self.render_exploit(f, *idx, &mut r),
                Job::Copy { idx } => self.render_copy(f, *idx, &mut r),
                Job::Scan { idx } => self.render_scan(f, *idx, &mut r),
                Job::Dns { idx } => self.render_dns(f, *idx, &mut r),
                Job::Irc { idx } => self.render_irc(f, *idx),
                Job::Http { idx } => self.render_http(f, *idx, &mut r),
                Job::Flood { idx } => self.render_flood(f, *idx, &mut r),
                Job::Spam { relay, n, t } => self.render_spam(f, *relay, *n, *t, &mut r),
            }
        }
        for (rel, f, kind) in [
            (rel_e, fe, "pcap: honeypot-net exploits and copies"),
            (rel_i, fi, "pcap: infected honeypots (Fig. 3)"),
        ] {
            let (packets, bytes) = f.finish()?;
            self.t.files.push(FileTruth {
                path: rel.into(),
                kind: kind.into(),
                packets,
                bytes,
            });
        }
        Ok(())
    }

    pub(super) fn render_exploit(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let e = &self.t.exploits[idx as usize];
        let instr = e.instruction.as_deref().unwrap_or_default();
        let cid: [u8; 16] = r.random();
        let fill = r.random_range(900..1400);
        let isn: u32 = r.random();
        // Ids a Windows host hands out: the share and IPC$ trees differ.
        let ids = SmbIds {
            pid: r.random_range(100..4000),
            uid: 2048,
            share_tid: 2049,
            tid: 2050,
            fid: 0x4000 + r.random_range(0..0x100),
            challenge: r.random(),
        };
        let script = client_script(
            e.vector,
            &e.attacker.to_string(),
            &e.victim.to_string(),
            e.credentials
                .as_ref()
                .map(|(a, p)| (a.as_str(), p.as_str())),
            e.share.as_deref(),
            instr,
            fill,
            cid,
            ids,
        );
        if script.udp {
            let ip = Ip4 {
                src: e.attacker,
                dst: e.victim,
                ttl: 110,
            };
            f.udp(e.ts.0, ip, e.flow.orig_p, script.port, &script.messages[0]);
            return;
        }
        let mut c = Tcp::new(e.attacker, e.flow.orig_p, e.victim, e.ports[0], e.ts.0, isn);
        c.handshake(f);
        for (msg, reply) in script.messages.iter().zip(&script.replies) {
            c.c_send(f, msg);
            if let Some(reply) = reply {
                c.s_send(f, reply);
            }
        }
        // The scheduled job is accepted and the session closed; every
        // overflow kills the service, which resets the connection.
        if e.vector == Vector::ShareAccess {
            c.close(f, true);
        } else {
            c.server_reset(f);
        }
    }

    pub(super) fn render_scan(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let s = self.t.scans[idx as usize].clone();
        let (net, bits) = s.range.split_once('/').unwrap_or(("0.0.0.0", "24"));
        let base = u32::from(net.parse::<Ipv4Addr>().unwrap_or(Ipv4Addr::UNSPECIFIED));
        let host_bits = 32 - bits.parse::<u32>().unwrap_or(24).min(32);
        let step = if s.count > 1 {
            (s.end.0 - s.start.0) / (s.count as i64 - 1)
        } else {
            0
        };
        for i in 0..s.count {
            let off = r.random_range(1..(1u32 << host_bits) - 1);
            let dst = Ipv4Addr::from(base | off);
            let mut c = Tcp::new(
                s.source,
                free_port(r, 1025, 5000),
                dst,
                s.port,
                s.start.0 + i as i64 * step,
                r.random(),
            );
            c.syn_only(f, flags::SYN);
        }
    }

    pub(super) fn render_dns(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let d = self.t.dns_lookups[idx as usize].clone();
        let id: u16 = r.random();
        let port = free_port(r, 1025, 5000);
        f.udp(
            d.ts.0,
            Ip4 {
                src: d.client,
                dst: d.resolver,
                ttl: 128,
            },
            port,
            53,
            &proto::dns_query(id, &d.qname),
        );
        f.udp(
            d.ts.0 + 35_000,
            Ip4 {
                src: d.resolver,
                dst: d.client,
                ttl: 63,
            },
            53,
            port,
            &proto::dns_response(id, &d.qname, &d.answers, 300),
        );
    }

    pub(super) fn render_irc(&mut self, f: &mut PcapFile, idx: u32) {
        let s = self.t.irc_sessions[idx as usize].clone();
        let lines = std::mem::take(&mut self.irc_lines[idx as usize]);
        let topic = self.irc_topic[idx as usize].clone();
        let srv = format!("irc.{}", s.fqdn);
        let herder = self
            .herder
            .get(&s.fqdn)
            .cloned()
            .unwrap_or_else(|| "herder".into());
        let mut c = Tcp::new(
            s.bot,
            s.flow.orig_p,
            s.server,
            s.port,
            s.connect.0,
            idx.wrapping_mul(2654435761),
        );
        c.handshake(f);
        // Server lines, with IRCv3 message tags when the server uses them.
        let mut tagged = 0u32;
        let mut server_says = |c: &mut Tcp, f: &mut PcapFile, text: &str| {
            if s.tags {
                let t = proto::ircv3_tagged(text, c.t, idx, &mut tagged);
                c.s_send(f, t.as_bytes());
            } else {
                c.s_send(f, text.as_bytes());
            }
        };
        server_says(
            &mut c,
            f,
            &format!(":{srv} NOTICE AUTH :*** Looking up your hostname...\r\n"),
        );
        c.c_send(
            f,
            format!("NICK {}\r\nUSER {} 0 0 :{}\r\n", s.nick, s.nick, s.nick).as_bytes(),
        );
        let n = &s.nick;
        server_says(
            &mut c,
            f,
            &format!(
                ":{srv} 001 {n} :Welcome to the Internet Relay Network {n}\r\n:{srv} 002 {n} :Your host is {srv}, running version Unreal3.2\r\n:{srv} 376 {n} :End of /MOTD command.\r\n"
            ),
        );
        c.t = c.t.max(s.join.0 - 300_000);
        let join = match &s.key {
            Some(k) => format!("JOIN {} {}\r\n", s.channel, k),
            None => format!("JOIN {}\r\n", s.channel),
        };
        c.c_send(f, join.as_bytes());
        let ch = &s.channel;
        server_says(
            &mut c,
            f,
            &format!(
                ":{n}!{n}@{} JOIN :{ch}\r\n:{srv} 332 {n} {ch} :{topic}\r\n:{srv} 333 {n} {ch} {herder} {}\r\n:{srv} 353 {n} @ {ch} :{n} @{herder}\r\n:{srv} 366 {n} {ch} :End of /NAMES list.\r\n",
                s.bot,
                s.join.secs()
            ),
        );
        for l in &lines {
            c.t = c.t.max(l.t);
            if l.from_server {
                server_says(&mut c, f, &l.text);
            } else {
                c.c_send(f, l.text.as_bytes());
            }
        }
        c.t = c.t.max(s.end.0);
        c.close(f, false);
    }

    pub(super) fn render_http(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let u = self.t.updates[idx as usize].clone();
        let (server, path, spec, refused) = self.http[idx as usize].clone();
        let mut c = Tcp::new(
            u.bot,
            free_port(r, 1025, 5000),
            server,
            80,
            u.ts.0,
            r.random(),
        );
        if refused {
            c.refused(f);
            return;
        }
        c.handshake(f);
        c.c_send(f, &proto::http_get(&server.to_string(), &path));
        match spec {
            Some(s) => {
                let body = &self.specs[s as usize].bytes;
                let mut resp = proto::http_ok_head(body.len());
                resp.extend_from_slice(body);
                c.s_send(f, &resp);
            }
            None => c.s_send(f, &proto::http_not_found()),
        }
        c.close(f, false);
    }

    pub(super) fn render_flood(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let fl = self.t.floods[idx as usize].clone();
        let secs = (fl.end.0 - fl.start.0) / 1_000_000;
        let pps = self.cfg.flood_pps.max(1) as i64;
        let n = secs * pps;
        let step = 1_000_000 / pps;
        let mut ip = Ip4 {
            src: fl.source,
            dst: fl.target,
            ttl: 128,
        };
        // Forged sources come from the flood's own stream.
        let mut forged = fl.spoofed.then(|| {
            f.set_sender_mac(Some(crate::pcap::host_mac(fl.source)));
            (
                ChaCha8Rng::seed_from_u64(0x5b00_f10d ^ u64::from(idx) ^ fl.start.0 as u64),
                std::collections::BTreeSet::new(),
            )
        });
        let payload = [b'A'; 512];
        let mut packets = 0u64;
        let mut last = fl.start.0;
        let mut i = 0;
        while i < n {
            let t = fl.start.0 + i * step;
            last = t;
            let sport = free_port(r, 1025, 65000);
            if let Some((fr, seen)) = forged.as_mut() {
                ip.src = public_ip(fr);
                seen.insert(ip.src);
            }
            match fl.kind.as_str() {
                "ddos.phatsyn" => f.tcp(
                    t,
                    ip,
                    sport,
                    fl.port,
                    r.random(),
                    0,
                    flags::SYN | flags::URG,
                    &[],
                ),
                "ddos.phatwolk" => f.tcp(
                    t,
                    ip,
                    sport,
                    fl.port,
                    r.random(),
                    r.random(),
                    flags::SYN | flags::ACK,
                    &[],
                ),
                "ddos.udpflood" => f.udp(t, ip, sport, fl.port.max(1), &payload),
                "ddos.phaticmp" => f.icmp_echo(t, ip, sport, i as u16, &payload[..56]),
                "ddos.targa3" => {
                    f.udp_fragmented(t, ip, sport, fl.port.max(1), &payload[..200]);
                    packets += 1;
                }
                "ddos.httpflood" => {
                    // One GET connection every 10 packet slots.
                    if i % 10 != 0 {
                        i += 1;
                        continue;
                    }
                    let mut c = Tcp::new(fl.source, sport, fl.target, 80, t, r.random());
                    c.delay = 5_000;
                    c.handshake(f);
                    c.c_send(f, &proto::http_get(&fl.target.to_string(), "/"));
                    c.close(f, true);
                    packets += c.packets - 1;
                    last = c.t;
                }
                _ => f.tcp(t, ip, sport, fl.port, r.random(), 0, flags::SYN, &[]),
            }
            packets += 1;
            i += 1;
        }
        let ft = &mut self.t.floods[idx as usize];
        ft.packets = packets;
        ft.end = Ts(last);
        if let Some((_, seen)) = forged {
            f.set_sender_mac(None);
            ft.sources = seen.len() as u64;
        }
    }

    pub(super) fn render_spam(
        &mut self,
        f: &mut PcapFile,
        relay: u32,
        n: u32,
        t: i64,
        r: &mut ChaCha8Rng,
    ) {
        let s = self.t.spam_relays[relay as usize].clone();
        let mut c = Tcp::new(
            s.spammer,
            free_port(r, 1025, 60000),
            s.bot,
            s.port,
            t,
            r.random(),
        );
        c.handshake(f);
        match s.protocol.as_str() {
            "socks4" => {
                c.c_send(f, &proto::socks4_connect(s.mail_server, 25));
                c.s_send(f, &proto::socks4_granted(s.mail_server, 25));
            }
            "socks5" => {
                c.c_send(f, &[5, 1, 0]);
                c.s_send(f, &[5, 0]);
                c.c_send(f, &proto::socks5_connect(s.mail_server, 25));
                c.s_send(f, &proto::socks5_ok(s.bot, 25));
            }
            "http_connect" => {
                c.c_send(
                    f,
                    format!("CONNECT {}:25 HTTP/1.0\r\n\r\n", s.mail_server).as_bytes(),
                );
                c.s_send(f, b"HTTP/1.0 200 Connection established\r\n\r\n");
            }
            _ => {}
        }
        let mut m = Tcp::new(
            s.bot,
            free_port(r, 1025, 5000),
            s.mail_server,
            25,
            c.t,
            r.random(),
        );
        m.handshake(f);
        let rcpt = format!("{}@{}.example.jp", word(r, 6), word(r, 5));
        let dialogue: [(bool, String); 12] = [
            (false, format!("220 mx.{} ESMTP\r\n", s.mail_server)),
            (true, "HELO localhost\r\n".to_string()),
            (false, "250 Hello\r\n".to_string()),
            (true, "MAIL FROM:<sales@cheap-meds.example>\r\n".to_string()),
            (false, "250 OK\r\n".to_string()),
            (true, format!("RCPT TO:<{rcpt}>\r\n")),
            (false, "250 OK\r\n".to_string()),
            (true, "DATA\r\n".to_string()),
            (false, "354 End data with <CR><LF>.<CR><LF>\r\n".to_string()),
            (true, format!("Subject: offer {n}\r\nFrom: sales@cheap-meds.example\r\nTo: {rcpt}\r\n\r\nBest prices.\r\n.\r\n")),
            (false, "250 Queued\r\n".to_string()),
            (true, "QUIT\r\n".to_string()),
        ];
        for (from_client, line) in dialogue.iter() {
            c.t = c.t.max(m.t);
            m.t = m.t.max(c.t);
            if *from_client {
                c.c_send(f, line.as_bytes());
                m.t = m.t.max(c.t);
                m.c_send(f, line.as_bytes());
            } else {
                m.s_send(f, line.as_bytes());
                c.t = c.t.max(m.t);
                c.s_send(f, line.as_bytes());
            }
        }
        m.s_send(f, b"221 Bye\r\n");
        c.t = c.t.max(m.t);
        c.s_send(f, b"221 Bye\r\n");
        m.close(f, true);
        c.close(f, true);
    }
}
