//! The XOR-family key search (`xorstr::find_in_segments`) on hostile and
//! real inputs: the sensor hands it every payload, so its cost on garbage
//! bounds how cheaply a sender can load the sensor (issue 19).
//!
//! ```sh
//! cargo bench -p botscope-deobf --bench hot_loops
//! ```

use botscope_deobf::xorstr::{find_in_segments, plausible_host};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// Deterministic pseudo-random bytes (xorshift64*).
fn random_bytes(n: usize, mut s: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// 64 KiB of a host-like text pattern without a terminator, XOR-ed with
/// one byte: every `irc.` and `.com` in it is an anchor whose host never
/// ends.
fn repeated_pattern() -> Vec<u8> {
    b"irc.xx.com."
        .iter()
        .cycle()
        .take(64 << 10)
        .map(|b| b ^ 0x5c)
        .collect()
}

/// A 16 KiB initialised-data segment as a bot leaves it: plain strings,
/// a stored 6-byte key and a host encoded with it, a one-byte-XOR host
/// and a rolling-XOR host, zero padding between.
fn encoded_specimen() -> Vec<u8> {
    let mut d = Vec::new();
    let put = |d: &mut Vec<u8>, s: &[u8]| {
        d.extend_from_slice(s);
        d.extend_from_slice(&[0; 3]);
    };
    for s in [
        &b"GetProcAddress"[..],
        b"LoadLibraryA",
        b"%s\\system32\\wuamgr.exe",
        b"PRIVMSG %s :%s",
        b"Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    ] {
        put(&mut d, s);
    }
    let key = b"Z#9!Q@";
    put(&mut d, key);
    let enc: Vec<u8> = b"irc.xorcc.example.org"
        .iter()
        .enumerate()
        .map(|(j, b)| b ^ key[j % key.len()])
        .collect();
    put(&mut d, &enc);
    let x1: Vec<u8> = b"irc.onebyte.example.net"
        .iter()
        .map(|b| b ^ 0x5c)
        .collect();
    put(&mut d, &x1);
    let roll: Vec<u8> = b"irc.rolling.example.com"
        .iter()
        .enumerate()
        .map(|(j, b)| b ^ 0x41u8.wrapping_add(j as u8))
        .collect();
    put(&mut d, &roll);
    d.extend(random_bytes(4096, 7));
    d.resize(16 << 10, 0);
    d
}

fn xorstr(c: &mut Criterion) {
    let inputs = [
        ("one_byte_run_512", vec![0x41u8; 512]),
        ("random_512", random_bytes(512, 1)),
        ("repeated_pattern_64k", repeated_pattern()),
        ("encoded_specimen_16k", encoded_specimen()),
    ];
    let mut g = c.benchmark_group("xorstr");
    for (name, bytes) in &inputs {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| find_in_segments(black_box(&[(&bytes[..], true)]), &plausible_host))
        });
    }
    g.finish();
}

criterion_group!(benches, xorstr);
criterion_main!(benches);
