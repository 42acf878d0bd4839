//! Micro-benchmarks of the analysis' per-packet and per-event hot loops
//! (issue 19), so a regression shows before `bench/analyze.sh` does:
//!
//! - `flood_tally`: [`FloodTracker::on_packet`] on the synthetic field's
//!   background shape (stray SYNs and UDP datagrams from fresh sources to
//!   sensor addresses, every packet a new per-source and per-target tally)
//!   mixed 1:1 with a SYN flood whose sources are forged (one target
//!   tally, its spread sketch, no per-source tallies);
//! - `scan_runs`: [`ScanTracker::on_syn`] on 16 scanners sweeping /24s
//!   interleaved with stray SYNs from fresh sources (one new run each);
//! - `behaviour_sink`: [`Inputs::take`] filing scan and flood events.
//!
//! Packets are built once and fed straight to the trackers (no capture
//! engine). Run: `cargo bench -p botscope-behavior --bench hot_loops`.

use botscope_behavior::Inputs;
use botscope_capture::PacketInfo;
use botscope_core::events::{Event, Evidence, FloodObs, ScanObs};
use botscope_core::{Proto, Ts};
use botscope_dissect::flood::FloodTracker;
use botscope_dissect::scan::ScanTracker;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

/// Packets per batch.
const N: usize = 65_536;

fn v4(x: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(x))
}

/// A packet header as the engine hands it to the sinks.
fn packet(
    i: usize,
    src: IpAddr,
    dst: IpAddr,
    proto: Proto,
    flags: Option<u8>,
) -> PacketInfo<'static> {
    PacketInfo {
        ts: Ts(1_116_460_800_000_000 + i as i64 * 200),
        file: 0,
        pkt_no: i as u64 + 1,
        src,
        dst,
        src_port: 1025 + (i % 30_000) as u16,
        dst_port: [445, 135, 139, 1434][i % 4],
        proto,
        tcp_flags: flags,
        ip_len: 48,
        fragmented: false,
        tunnel_depth: 0,
        payload: &[],
        src_mac: Some([0, 0x0c, 0x29, 0, 0, (i % 7) as u8]),
    }
}

/// Fresh background sources (a multiplicative walk over the address space).
fn stray(i: usize) -> IpAddr {
    v4((i as u32).wrapping_mul(2_654_435_761) | 0x0100_0000)
}

fn flood_packets() -> Vec<PacketInfo<'static>> {
    let sensor = |i: usize| v4(0xc000_0200 + (i % 192) as u32);
    (0..N)
        .map(|i| {
            if i % 2 == 0 {
                // Forged-source SYN flood on one target.
                let mut p = packet(
                    i,
                    stray(i ^ 0x5555),
                    v4(0xcb00_7107),
                    Proto::Tcp,
                    Some(0x02),
                );
                p.dst_port = 80;
                p.src_mac = Some([2, 0, 0, 0, 0, 1]);
                p
            } else if i % 4 == 1 {
                packet(i, stray(i), sensor(i), Proto::Tcp, Some(0x02))
            } else {
                packet(i, stray(i), sensor(i), Proto::Udp, None)
            }
        })
        .collect()
}

fn scan_packets() -> Vec<PacketInfo<'static>> {
    (0..N)
        .map(|i| {
            if i % 2 == 0 {
                // Scanner i % 16 probes the next address of its /24.
                let s = (i / 2) % 16;
                let dst = 0x3b87_0000 + ((s as u32) << 8) + ((i / 32) % 256) as u32;
                let mut p = packet(
                    i,
                    v4(0x0a00_0001 + s as u32),
                    v4(dst),
                    Proto::Tcp,
                    Some(0x02),
                );
                p.dst_port = 445;
                p
            } else {
                packet(
                    i,
                    stray(i),
                    v4(0xc000_0200 + (i % 192) as u32),
                    Proto::Tcp,
                    Some(0x02),
                )
            }
        })
        .collect()
}

fn events() -> Vec<Event> {
    (0..N)
        .map(|i| {
            let evidence = Evidence {
                file: 0,
                packets: vec![i as u64, i as u64 + 99],
            };
            if i % 2 == 0 {
                Event::Scan(ScanObs {
                    source: stray(i),
                    port: 445,
                    range: "59.135.0.0/24".into(),
                    start: Ts(i as i64),
                    end: Ts(i as i64 + 1),
                    probes: 100,
                    targets: 100,
                    evidence,
                })
            } else {
                Event::Flood {
                    flood: FloodObs {
                        source: stray(i),
                        target: v4(0xcb00_7107),
                        kind: "syn".into(),
                        port: 80,
                        start: Ts(i as i64),
                        end: Ts(i as i64 + 1),
                        packets: 100,
                        evidence,
                        spoofed: false,
                        sources: 1,
                        sender_mac: None,
                    },
                }
            }
        })
        .collect()
}

fn hot_loops(c: &mut Criterion) {
    let mut g = c.benchmark_group("analysis");
    g.throughput(Throughput::Elements(N as u64));
    let flood = flood_packets();
    g.bench_function("flood_tally", |b| {
        b.iter_batched_ref(
            || FloodTracker::new(65_536),
            |t| {
                for p in &flood {
                    black_box(t.on_packet(p));
                }
            },
            BatchSize::LargeInput,
        )
    });
    let scans = scan_packets();
    g.bench_function("scan_runs", |b| {
        b.iter_batched_ref(
            || ScanTracker::new(65_536, 65_536),
            |t| {
                for p in &scans {
                    t.on_syn(p);
                }
            },
            BatchSize::LargeInput,
        )
    });
    let ev = events();
    g.bench_function("behaviour_sink", |b| {
        b.iter_batched(
            || (Inputs::default(), ev.clone()),
            |(mut inputs, ev)| {
                for e in ev {
                    inputs.take(e);
                }
                inputs
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, hot_loops);
criterion_main!(benches);
