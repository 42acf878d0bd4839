//! The honeypot-net background capture (Table 1).

use super::*;
use crate::draw::free_port;
use crate::pcap::{flags, GreTunnel, Ip4, PcapFile};
use crate::truth::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

/// What the background writer draws from the scenario stream.
pub(super) struct BackgroundPlan {
    /// Scanning/noise sources.
    pub(super) sources: Vec<Ipv4Addr>,
    /// Seed of the per-minute streams.
    pub(super) seed: u64,
}

/// One background packet, drawn before the minute is sorted by time.
#[derive(Clone, Copy)]
pub(super) struct BgPacket {
    t: i64,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    sport: u16,
    /// 0 SYN probe, 1 ICMP echo, 2 NetBIOS name query, 3 UDP worm noise.
    kind: u8,
    port: u16,
    /// TCP sequence number / ICMP id+seq.
    word: u32,
    /// UDP payload length.
    len: u16,
}

pub(super) fn maybe_gre(gre: bool, sensors: &[Ipv4Addr], f: &mut PcapFile) {
    if gre {
        let tunnels = [(61, 193), (210, 150), (219, 110), (220, 108)]
            .iter()
            .map(|&(a, b)| GreTunnel {
                isp_end: Ipv4Addr::new(a, b, 0, 1),
                honeypot_end: Ipv4Addr::new(133, 1, 200, 1),
            })
            .collect();
        f.set_gre(tunnels, sensors);
    }
}

/// Writes the honeypot-net background capture: scanning and noise toward
/// every sensor at Table 1's rates. Each minute's packets are drawn, sorted
/// by time and built straight into the output run.
pub(super) fn render_background(
    cfg: &SynthConfig,
    addrs: &[Ipv4Addr],
    plan: &BackgroundPlan,
    out: &Path,
) -> io::Result<(FileTruth, Table1)> {
    let rel = "pcap/honeynet-background.pcap";
    let mut f = PcapFile::create(&out.join(rel))?;
    maybe_gre(cfg.gre, addrs, &mut f);
    let minutes = match cfg.background_minutes {
        Some(m) => m as i64,
        None => (cfg.scale * 60.0).round() as i64,
    }
    .clamp(1, cfg.days as i64 * 1440);
    let n_addr = addrs.len() as f64;
    let (avg, peak) = (cfg.background_avg_kbps, cfg.background_peak_kbps);
    // One burst minute per hour at the peak rate; the rest so the hour
    // averages `avg`.
    let low = ((avg * 60.0 - peak) / 59.0).max(0.0);
    let mut total_ip = 0u64;
    let mut peak_bytes = 0u64;
    let sources = &plan.sources;
    let mut seeds = ChaCha8Rng::seed_from_u64(plan.seed);
    let payload_a = [b'A'; 600];
    let payload_icmp = [0xaau8; 64];
    const NBNS: [u8; 50] = [
        0x80, 0x94, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, b'C', b'K', b'A', b'A', b'A', b'A', b'A',
        b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A',
        b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', 0, 0, 0x21, 0, 1,
    ];
    const SYN_PORTS: [u16; 10] = [135, 445, 139, 1025, 80, 4899, 3127, 2745, 6129, 1433];
    let mut pkts: Vec<BgPacket> = Vec::new();
    for m in 0..minutes {
        let burst_minute = (m % 60) == ((m / 60 * 37 + 11) % 60);
        let kbps = if burst_minute { peak } else { low };
        let target = (kbps * 1000.0 / 8.0 * 60.0 * n_addr) as u64;
        let t0 = cfg.start_us + m * 60_000_000;
        let mut r = ChaCha8Rng::seed_from_u64(seeds.random());
        let mut bytes = 0u64;
        pkts.clear();
        while bytes < target {
            let mut p = BgPacket {
                t: t0 + r.random_range(0..60_000_000),
                src: sources[r.random_range(0..sources.len())],
                dst: addrs[r.random_range(0..addrs.len())],
                ttl: r.random_range(100..128),
                sport: free_port(&mut r, 1025, 65000),
                kind: 0,
                port: 0,
                word: r.random(),
                len: 0,
            };
            let kind = r.random_range(0..10u8);
            bytes += match kind {
                0..=5 => {
                    p.port = SYN_PORTS[r.random_range(0..SYN_PORTS.len())];
                    40
                }
                6 | 7 => {
                    p.kind = 1;
                    92
                }
                8 => {
                    p.kind = 2;
                    28 + NBNS.len() as u64
                }
                _ => {
                    p.kind = 3;
                    p.len = r.random_range(100..600);
                    p.port = [1434u16, 1026, 1027][r.random_range(0..3)];
                    28 + p.len as u64
                }
            };
            pkts.push(p);
        }
        // Stable: equal times keep the order drawn.
        pkts.sort_by_key(|p| p.t);
        for p in &pkts {
            let ip = Ip4 {
                src: p.src,
                dst: p.dst,
                ttl: p.ttl,
            };
            match p.kind {
                0 => f.tcp(p.t, ip, p.sport, p.port, p.word, 0, flags::SYN, &[]),
                1 => f.icmp_echo(p.t, ip, (p.word >> 16) as u16, p.word as u16, &payload_icmp),
                2 => f.udp(p.t, ip, 137, 137, &NBNS),
                _ => f.udp(p.t, ip, p.sport, p.port, &payload_a[..p.len as usize]),
            }
        }
        total_ip += bytes;
        peak_bytes = peak_bytes.max(bytes);
        // Later minutes are all at or after the next minute's start.
        f.advance(t0 + 60_000_000)?;
    }
    let (packets, size) = f.finish()?;
    let file = FileTruth {
        path: rel.into(),
        kind: "pcap: honeypot-net background".into(),
        packets,
        bytes: size,
    };
    let window_s = minutes as u64 * 60;
    let avg_kbps = total_ip as f64 * 8.0 / 1000.0 / window_s as f64 / n_addr;
    let peak_kbps = peak_bytes as f64 * 8.0 / 1000.0 / 60.0 / n_addr;
    let ext = 30_000_000u64;
    let table1 = Table1 {
        addresses: addrs.len() as u32,
        window_s,
        ip_bytes: total_ip,
        avg_kbps_per_address: (avg_kbps * 10_000.0).round() / 10_000.0,
        peak_kbps_per_address: (peak_kbps * 10_000.0).round() / 10_000.0,
        peak_bin_s: 60,
        extrapolation_addresses: ext,
        extrapolated_avg_gbps: round2(avg_kbps * ext as f64 / 1e6),
        extrapolated_peak_gbps: round2(peak_kbps * ext as f64 / 1e6),
    };
    Ok((file, table1))
}
