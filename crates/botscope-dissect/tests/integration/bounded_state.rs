//! Dissector state stays bounded under hostile traffic (issue 17): what
//! the dissectors hold counts against the engine's `memory_cap`, and DCC
//! expectations expire by capture time.
//!
//! The captures are built here, frame by frame, and fed to the engine as
//! a capture file's records would be (same `Engine::packet` path).

use crate::common::conns;
use botscope_capture::{CaptureSummary, ChecksumMode, Engine, EngineConfig, FlowSink};
use botscope_core::events::{Conn, Event};
use botscope_core::Ts;
use botscope_dissect::{Analyzer, Record};
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

#[allow(clippy::too_many_arguments)]
/// One Ethernet/IPv4/TCP frame (checksums left zero: the runs below do
/// not validate them).
fn tcp_frame(
    src: Ipv4Addr,
    sp: u16,
    dst: Ipv4Addr,
    dp: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    let ip_len = (20 + 20 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&ip_len.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Feeds frames to an engine as consecutive capture records.
struct Capture<'c> {
    eng: Engine<'c>,
    pkt_no: u64,
    ts: i64,
}

impl<'c> Capture<'c> {
    fn new(cfg: &'c EngineConfig, start_us: i64) -> Self {
        let mut eng = Engine::new(cfg);
        eng.begin_file(0, "built-in-test");
        Capture {
            eng,
            pkt_no: 0,
            ts: start_us,
        }
    }

    /// One frame, `dt_us` after the previous one.
    fn frame(&mut self, dt_us: i64, frame: &[u8], sink: &mut dyn FlowSink) {
        self.pkt_no += 1;
        self.ts += dt_us;
        self.eng
            .packet(self.pkt_no, Ts(self.ts), 1, frame, frame.len() as u32, sink);
    }

    fn finish(mut self, sink: &mut dyn FlowSink) -> CaptureSummary {
        self.eng.finish(sink);
        self.eng.summary
    }
}

/// A client/server TCP connection whose client sends its payload one
/// byte per segment.
struct OneByteFlow {
    client: Ipv4Addr,
    cport: u16,
    server: Ipv4Addr,
    sport: u16,
    payload: Vec<u8>,
}

const C_ISN: u32 = 1000;
const S_ISN: u32 = 5000;

impl OneByteFlow {
    /// Frames: 3 handshake packets, one per payload byte, 3 closing.
    fn frames(&self) -> usize {
        self.payload.len() + 6
    }

    /// The `k`-th frame of this connection.
    fn frame(&self, k: usize) -> Vec<u8> {
        let (c, cp, s, sp) = (self.client, self.cport, self.server, self.sport);
        let n = self.payload.len() as u32;
        let data_end = C_ISN + 1 + n;
        match k {
            0 => tcp_frame(c, cp, s, sp, C_ISN, 0, SYN, b""),
            1 => tcp_frame(s, sp, c, cp, S_ISN, C_ISN + 1, SYN | ACK, b""),
            2 => tcp_frame(c, cp, s, sp, C_ISN + 1, S_ISN + 1, ACK, b""),
            k if k < 3 + n as usize => {
                let i = k - 3;
                let seq = C_ISN + 1 + i as u32;
                tcp_frame(
                    c,
                    cp,
                    s,
                    sp,
                    seq,
                    S_ISN + 1,
                    PSH | ACK,
                    &self.payload[i..i + 1],
                )
            }
            k if k == 3 + n as usize => {
                tcp_frame(c, cp, s, sp, data_end, S_ISN + 1, FIN | ACK, b"")
            }
            k if k == 4 + n as usize => {
                tcp_frame(s, sp, c, cp, S_ISN + 1, data_end + 1, FIN | ACK, b"")
            }
            _ => tcp_frame(c, cp, s, sp, data_end + 1, S_ISN + 2, ACK, b""),
        }
    }
}

/// `head`, then `fill` up to `len - tail.len()` bytes, then `tail`.
fn padded(head: &str, fill: u8, tail: &str, len: usize) -> Vec<u8> {
    let mut v = head.as_bytes().to_vec();
    v.resize(len - tail.len(), fill);
    v.extend_from_slice(tail.as_bytes());
    assert_eq!(v.len(), len);
    v
}

fn irc_payload(name: &str, len: usize) -> Vec<u8> {
    padded(
        &format!(
            "NICK {name}\r\nUSER {name} 0 0 :real\r\nJOIN #room-{name}\r\nPRIVMSG #room-{name} :"
        ),
        b'x',
        "\r\n",
        len,
    )
}

fn http_payload(name: &str, len: usize) -> Vec<u8> {
    padded(
        &format!("GET /{name}.exe HTTP/1.1\r\nHost: example.test\r\nUser-Agent: {name}\r\nX-Pad: "),
        b'p',
        "\r\n\r\n",
        len,
    )
}

/// Text with no line end: no protocol can be decided from it, so the
/// flow stays undecided and its bytes are held for detection.
fn unknown_payload(len: usize) -> Vec<u8> {
    b"hello world ".iter().copied().cycle().take(len).collect()
}

const STORM_FLOWS: u32 = 20_000;
const SEGMENTS: usize = 200;
const COMPLETE_FLOWS: u32 = 100;
const STORM_SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const COMPLETE_SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

/// 20,000 connections (IRC, HTTP and unknown ports, a third each) sending
/// 200 one-byte segments each, all open at once (round robin, one byte per
/// connection per round), and 100 complete connections (IRC and HTTP)
/// sent whole in between. Returns the summary, the records and the
/// analyzer's statistics.
fn storm(cap: usize) -> (CaptureSummary, Vec<Record>, botscope_dissect::Stats) {
    let storm: Vec<OneByteFlow> = (0..STORM_FLOWS)
        .map(|i| {
            let (sport, payload) = match i % 3 {
                0 => (6667, irc_payload(&format!("s{i}"), SEGMENTS)),
                1 => (80, http_payload(&format!("s{i}"), SEGMENTS)),
                _ => (4444, unknown_payload(SEGMENTS)),
            };
            OneByteFlow {
                client: Ipv4Addr::from(0x0a00_0000 + i),
                cport: 40_000,
                server: STORM_SERVER,
                sport,
                payload,
            }
        })
        .collect();
    let complete: Vec<OneByteFlow> = (0..COMPLETE_FLOWS)
        .map(|j| {
            let name = format!("c{j}");
            let (sport, payload) = if j % 2 == 0 {
                (6667, irc_payload(&name, SEGMENTS))
            } else {
                (80, http_payload(&name, SEGMENTS))
            };
            OneByteFlow {
                client: Ipv4Addr::new(172, 16, 0, j as u8),
                cport: 50_000,
                server: COMPLETE_SERVER,
                sport,
                payload,
            }
        })
        .collect();
    let cfg = EngineConfig {
        memory_cap: cap,
        checksums: ChecksumMode::Off,
        ..EngineConfig::default()
    };
    let mut an = Analyzer::new(Vec::new());
    let mut cap = Capture::new(&cfg, 1_700_000_000_000_000);
    let rounds = storm[0].frames();
    let every = rounds / COMPLETE_FLOWS as usize;
    let mut next_complete = complete.iter();
    for k in 0..rounds {
        for f in &storm {
            cap.frame(1, &f.frame(k), &mut an);
        }
        if k % every == 0 {
            if let Some(f) = next_complete.next() {
                for i in 0..f.frames() {
                    cap.frame(1, &f.frame(i), &mut an);
                }
            }
        }
    }
    assert!(next_complete.next().is_none(), "every complete flow sent");
    let summary = cap.finish(&mut an);
    // Every flow ended: the dissectors' running total is back to nothing.
    assert_eq!(an.held_bytes(), 0);
    an.finish();
    let stats = an.stats.clone();
    (summary, an.into_sink(), stats)
}

#[test]
fn one_byte_segment_storm_stays_under_the_memory_cap_with_dissector_bytes_counted() {
    // The engine's own state for 20,000 open connections is ~12 MB: under
    // 24 MiB alone. What the dissectors hold for them (IRC lines, HTTP
    // heads, undecided flows' held bytes) is not, once it is counted.
    let cap = 24 << 20;
    let (s, records, stats) = storm(cap);
    eprintln!(
        "peak accounted {} B (sink {} B), evicted {} ({} for sink bytes), conns {}, dissector peak {} B",
        s.peak_memory,
        s.peak_sink_memory,
        s.evicted_memory,
        s.evicted_sink_memory,
        s.conns,
        stats.peak_held_bytes
    );
    assert!(
        s.peak_memory <= cap as u64,
        "peak {} over cap {cap}",
        s.peak_memory
    );
    assert!(s.peak_sink_memory > 0 && s.peak_sink_memory < s.peak_memory);
    assert!(stats.peak_held_bytes <= cap as u64);
    assert!(s.evicted_memory > 0);
    assert!(
        s.evicted_sink_memory > 0,
        "flows were ended because of dissector bytes"
    );
    // Every storm connection still got its conn record (several when it
    // was evicted and picked up again).
    let all = conns(&records);
    let storm_clients: HashSet<_> = all
        .iter()
        .filter(|c| c.id.resp_h == STORM_SERVER || c.id.orig_h == STORM_SERVER)
        .map(|c| {
            if c.id.resp_h == STORM_SERVER {
                c.id.orig_h
            } else {
                c.id.resp_h
            }
        })
        .collect();
    assert_eq!(storm_clients.len(), STORM_FLOWS as usize);
    // The complete connections, sent whole while the storm was on, are
    // dissected in full: every IRC message and HTTP request, SF conns.
    let done: Vec<&&Conn> = all
        .iter()
        .filter(|c| c.id.resp_h == COMPLETE_SERVER)
        .collect();
    assert_eq!(done.len(), COMPLETE_FLOWS as usize);
    for c in &done {
        assert_eq!(c.conn_state, "SF", "{}", c.id);
        assert_eq!(c.orig_bytes, Some(SEGMENTS as u64));
        let want = if c.id.resp_p == 6667 { "irc" } else { "http" };
        assert_eq!(c.service.as_deref(), Some(want), "{}", c.id);
    }
    let mut irc: HashMap<String, Vec<String>> = HashMap::new();
    let mut http = HashMap::new();
    for r in &records {
        match &r.event {
            Event::Irc(e) if e.id.resp_h == COMPLETE_SERVER => irc
                .entry(e.id.orig_h.to_string())
                .or_default()
                .push(format!("{} {}", e.command, e.params.join(" "))),
            Event::Http(e) if e.id.resp_h == COMPLETE_SERVER => {
                http.insert(e.uri.clone().unwrap_or_default(), e.user_agent.clone());
            }
            _ => {}
        }
    }
    for j in (0..COMPLETE_FLOWS).step_by(2) {
        let text = String::from_utf8(irc_payload(&format!("c{j}"), SEGMENTS)).unwrap();
        let privmsg = text.lines().last().unwrap().trim_end().replace(" :", " ");
        assert_eq!(
            irc.get(&format!("172.16.0.{j}")).map(Vec::as_slice),
            Some(
                &[
                    format!("NICK c{j}"),
                    format!("USER c{j} 0 0 real"),
                    format!("JOIN #room-c{j}"),
                    privmsg,
                ][..]
            ),
            "c{j}"
        );
        let h = j + 1;
        assert_eq!(
            http.get(&format!("/c{h}.exe")),
            Some(&Some(format!("c{h}"))),
            "c{h}"
        );
    }
    assert_eq!(irc.len(), COMPLETE_FLOWS as usize / 2);
    assert_eq!(http.len(), COMPLETE_FLOWS as usize / 2);
}

/// Sends a whole connection, one frame every `dt_us`.
fn send(cap: &mut Capture<'_>, f: &OneByteFlow, dt_us: i64, sink: &mut dyn FlowSink) {
    for i in 0..f.frames() {
        cap.frame(dt_us, &f.frame(i), sink);
    }
}

#[test]
fn dcc_offers_expire_after_five_minutes_of_capture_time() {
    let cfg = EngineConfig {
        checksums: ChecksumMode::Off,
        ..EngineConfig::default()
    };
    let mut an = Analyzer::new(Vec::new());
    let t0 = 1_700_000_000_000_000;
    let mut cap = Capture::new(&cfg, t0);
    let offerer = Ipv4Addr::new(10, 0, 0, 1);
    let irc_server = Ipv4Addr::new(192, 0, 2, 7);
    // 10.0.0.1 = 167772161 offers a file on port 5000, then on 5001.
    let offer = |port: u16| {
        OneByteFlow {
        client: offerer,
        cport: 40_000 + port,
        server: irc_server,
        sport: 6667,
        payload: format!(
            "NICK bot\r\nUSER bot 0 0 :bot\r\nPRIVMSG peer :\x01DCC SEND a.exe 167772161 {port} 4\x01\r\n"
        )
        .into_bytes(),
    }
    };
    let fetch = |port: u16| OneByteFlow {
        client: Ipv4Addr::new(10, 0, 0, 2),
        cport: 41_000,
        server: offerer,
        sport: port,
        payload: b"MZ\x90\x00".to_vec(),
    };
    send(&mut cap, &offer(5000), 1, &mut an);
    send(&mut cap, &offer(5001), 1, &mut an);
    // 60 s later the offer on 5000 is taken up: a DCC data connection.
    cap.frame(
        60_000_000,
        &tcp_frame(offerer, 1, irc_server, 2, 0, 0, ACK, b""),
        &mut an,
    );
    send(&mut cap, &fetch(5000), 1, &mut an);
    // 5 min 1 s after the offers, the one on 5001 has expired.
    cap.frame(
        241_000_000,
        &tcp_frame(offerer, 1, irc_server, 2, 0, 0, ACK, b""),
        &mut an,
    );
    send(&mut cap, &fetch(5001), 1, &mut an);
    cap.finish(&mut an);
    an.finish();
    let stats = an.stats.clone();
    let records = an.into_sink();
    let service = |port: u16| {
        conns(&records)
            .iter()
            .find(|c| c.id.resp_p == port && c.id.resp_h == offerer)
            .map(|c| c.service.clone())
            .expect("fetch conn")
    };
    assert_eq!(service(5000).as_deref(), Some("irc-dcc-data"));
    assert_eq!(service(5001), None);
    assert_eq!(stats.dcc_offers_expired, 1);
    assert_eq!(stats.dcc_offers_displaced, 0);
    // Both offers were parsed as DCC SENDs.
    let offers = records
        .iter()
        .filter(|r| matches!(&r.event, Event::Irc(e) if e.dcc.as_ref().is_some_and(|d| d.kind == "SEND")))
        .count();
    assert_eq!(offers, 2);
}
