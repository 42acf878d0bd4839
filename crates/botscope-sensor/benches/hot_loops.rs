//! Micro-benchmarks of the sensor's per-connection work (issue 19), so a
//! regression shows before `bench/sensor.sh` does:
//!
//! - `emulator`: a fresh [`Emulator`] answering the first message of a
//!   session, an SMB negotiate on 445 and a DCE-RPC bind on 135 (what the
//!   bench's hold phase sends);
//! - `analysis`: the classification, instruction, shellcode and
//!   de-obfuscation pass a session's stream gets when it ends, for the
//!   same two messages and for the soak's 512 bytes of garbage;
//! - `event`: one `session` event formatted as its JSON line, into a
//!   reused buffer as the log writer does.
//!
//! Run: `cargo bench -p botscope-sensor --bench hot_loops`.

use botscope_core::Ts;
use botscope_sensor::analysis::{analyse_payload, Scope};
use botscope_sensor::emulate::{Emulator, Personality};
use botscope_sensor::server::SensorEvent;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

#[path = "../examples/support/probes.rs"]
mod probes;
use probes::{dce_bind, smb_negotiate};

fn emulator(c: &mut Criterion) {
    let mut g = c.benchmark_group("emulator");
    g.throughput(Throughput::Elements(1));
    let negotiate = smb_negotiate();
    let bind = dce_bind();
    // Ground truth first: both answers are what a client waits for.
    let r = Emulator::new(Personality::Smb).feed(&negotiate);
    assert_eq!(&r[4..9], b"\xffSMB\x72", "SMB negotiate response");
    let r = Emulator::new(Personality::DceRpc).feed(&bind);
    assert_eq!(r[2], 12, "bind_ack");
    g.bench_function("smb_negotiate", |b| {
        b.iter(|| Emulator::new(Personality::Smb).feed(black_box(&negotiate)))
    });
    g.bench_function("dcerpc_bind", |b| {
        b.iter(|| Emulator::new(Personality::DceRpc).feed(black_box(&bind)))
    });
    g.finish();
}

fn analysis(c: &mut Criterion) {
    let mut g = c.benchmark_group("analysis");
    g.throughput(Throughput::Elements(1));
    let inputs = [
        ("smb_negotiate", smb_negotiate()),
        ("dcerpc_bind", dce_bind()),
        ("garbage_512", vec![0xde; 512]),
    ];
    for (name, data) in &inputs {
        // None of these carries an exploit, an instruction or a shell.
        let a = analyse_payload(data, false, Scope::All);
        assert!(a.vectors.is_empty() && a.instructions.is_empty() && a.offers.is_empty());
        g.bench_function(*name, |b| {
            b.iter(|| analyse_payload(black_box(data), false, Scope::All))
        });
    }
    g.finish();
}

fn event(c: &mut Criterion) {
    let mut g = c.benchmark_group("event");
    g.throughput(Throughput::Elements(1));
    let ev = SensorEvent::Session {
        ts: Ts(1_796_600_000_123_456),
        src: "127.0.0.1:40312".parse().unwrap(),
        dst: "127.0.0.10:445".parse().unwrap(),
        duration: 0.000_412,
        bytes_in: 51,
        bytes_out: 89,
        vectors: Vec::new(),
        details: Vec::new(),
        instructions: Vec::new(),
        deobf: Default::default(),
        desync: None,
    };
    let mut line = Vec::new();
    serde_json::to_writer(&mut line, &ev).unwrap();
    assert!(line.starts_with(br#"{"event":"session","ts":"#));
    g.bench_function("session_json", |b| {
        b.iter(|| {
            line.clear();
            serde_json::to_writer(&mut line, black_box(&ev)).unwrap();
            line.len()
        })
    });
    g.finish();
}

criterion_group!(benches, emulator, analysis, event);
criterion_main!(benches);
