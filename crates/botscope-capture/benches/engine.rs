//! Micro-benchmarks of the capture engine's per-packet hot loop (issue 19),
//! so a regression shows before `bench/capture.sh` does:
//!
//! - `scan_flows`: single-packet TCP SYN flows to fresh addresses (the
//!   synthetic field's honeynet background: a flow created, given a uid,
//!   ended by idle time and summarised per packet);
//! - `long_flows`: 64 TCP connections with a handshake and 200 data
//!   segments each, interleaved (the corpus shape: table lookups,
//!   history, endpoint state, in-order stream delivery);
//! - `conn_row`: one conn.log row into a reused buffer.
//!
//! Frames go straight to [`Engine::packet`] (no capture reader), with a
//! sink that does nothing, checksums off.
//!
//! Run: `cargo bench -p botscope-capture --bench engine`.

use botscope_capture::{Engine, EngineConfig, FlowSink};
use botscope_core::events::{Conn, ConnEvidence};
use botscope_core::{FlowKey, Proto, Ts};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

struct NoOp;
impl FlowSink for NoOp {}

/// An Ethernet/IPv4/TCP frame (checksums left zero: the engine runs with
/// validation off).
fn tcp_frame(
    src: [u8; 4],
    dst: [u8; 4],
    (sp, dp): (u16, u16),
    (seq, ack): (u32, u32),
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(54 + payload.len());
    f.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00]);
    let total = (40 + payload.len()) as u16;
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// `(timestamp µs, frame)` in capture order.
type Frames = Vec<(i64, Vec<u8>)>;

fn scan_frames(n: u32) -> Frames {
    (0..n)
        .map(|i| {
            let dst = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
            // 20 ms apart: flows end by idle time while the run goes on.
            let ts = 1_600_000_000_000_000 + i as i64 * 20_000;
            (
                ts,
                tcp_frame(
                    [192, 0, 2, 7],
                    dst,
                    (40_000 + (i % 1000) as u16, 445),
                    (i, 0),
                    0x02,
                    &[],
                ),
            )
        })
        .collect()
}

fn long_frames(conns: u32, segments: u32) -> Frames {
    let payload = [b'x'; 512];
    let mut out = Vec::new();
    let mut ts = 1_600_000_000_000_000i64;
    let mut push = |f: Vec<u8>, out: &mut Frames| {
        ts += 100;
        out.push((ts, f));
    };
    let (c, s) = ([198, 51, 100, 1], [203, 0, 113, 9]);
    for k in 0..conns {
        let sp = 50_000 + k as u16;
        push(tcp_frame(c, s, (sp, 6667), (1000, 0), 0x02, &[]), &mut out);
        push(
            tcp_frame(s, c, (6667, sp), (5000, 1001), 0x12, &[]),
            &mut out,
        );
        push(
            tcp_frame(c, s, (sp, 6667), (1001, 5001), 0x10, &[]),
            &mut out,
        );
    }
    for j in 0..segments {
        for k in 0..conns {
            let sp = 50_000 + k as u16;
            let seq = 1001 + j * 512;
            push(
                tcp_frame(c, s, (sp, 6667), (seq, 5001), 0x18, &payload),
                &mut out,
            );
            push(
                tcp_frame(s, c, (6667, sp), (5001, seq + 512), 0x10, &[]),
                &mut out,
            );
        }
    }
    for k in 0..conns {
        let sp = 50_000 + k as u16;
        let seq = 1001 + segments * 512;
        push(
            tcp_frame(c, s, (sp, 6667), (seq, 5001), 0x11, &[]),
            &mut out,
        );
        push(
            tcp_frame(s, c, (6667, sp), (5001, seq + 1), 0x11, &[]),
            &mut out,
        );
        push(
            tcp_frame(c, s, (sp, 6667), (seq + 1, 5002), 0x10, &[]),
            &mut out,
        );
    }
    out
}

/// One engine run over the frames; returns the conns it ended.
fn run(cfg: &EngineConfig, frames: &Frames) -> u64 {
    let mut eng = Engine::new(cfg);
    eng.begin_file(0, "bench");
    for (n, (ts, f)) in frames.iter().enumerate() {
        eng.packet(n as u64 + 1, Ts(*ts), 1, f, f.len() as u32, &mut NoOp);
    }
    eng.finish(&mut NoOp);
    eng.summary.conns
}

fn engine(c: &mut Criterion) {
    let cfg = EngineConfig {
        verify_checksums: false,
        ..EngineConfig::default()
    };
    let mut g = c.benchmark_group("engine");
    let scan = scan_frames(20_000);
    assert_eq!(run(&cfg, &scan), 20_000);
    g.throughput(Throughput::Elements(scan.len() as u64));
    g.bench_function("scan_flows", |b| b.iter(|| black_box(run(&cfg, &scan))));
    let long = long_frames(64, 200);
    assert_eq!(run(&cfg, &long), 64);
    g.throughput(Throughput::Elements(long.len() as u64));
    g.bench_function("long_flows", |b| b.iter(|| black_box(run(&cfg, &long))));
    g.finish();
}

fn conn_row(c: &mut Criterion) {
    let conn = Conn {
        ts: Ts(1_320_279_566_452_687),
        uid: "CHhAvVGS1DHFjwGM9".into(),
        id: FlowKey {
            orig_h: "10.0.0.22".parse().unwrap(),
            orig_p: 43614,
            resp_h: "10.0.0.7".parse().unwrap(),
            resp_p: 59130,
            proto: Proto::Tcp,
        },
        service: Some("irc".into()),
        duration: Some(0.162309),
        orig_bytes: Some(352),
        resp_bytes: Some(1_320_211),
        conn_state: "SF".into(),
        missed_bytes: 0,
        history: "ShAadDfF".into(),
        orig_pkts: 127,
        orig_ip_bytes: 6964,
        resp_pkts: 962,
        resp_ip_bytes: 1_370_247,
        tunnel_parents: Vec::new(),
        evidence: ConnEvidence::default(),
    };
    let mut buf = Vec::with_capacity(512);
    let mut g = c.benchmark_group("connlog");
    g.throughput(Throughput::Elements(1));
    g.bench_function("conn_row", |b| {
        b.iter(|| {
            buf.clear();
            botscope_capture::connlog::write_conn_row(black_box(&conn), &mut buf);
            black_box(buf.len())
        })
    });
    g.finish();
}

criterion_group!(benches, engine, conn_row);
criterion_main!(benches);
