//! Checksum validation modes (`auto`, `on`, `off`) on captures botscope
//! did not make: Zeek's traces with offloaded or broken checksums (copied
//! into `tests/corpus/zeek/`), a loopback capture taken by tshark during
//! the test, and crafted runs longer than `auto`'s sample. Every expected
//! count is tshark's (the command is given with each) or the ground truth
//! of the crafted input.

use crate::common::{corpus, pcap, udp_frame, Recorder};
use botscope_capture::{
    read_bytes, read_files, CaptureSummary, ChecksumMode, EngineConfig, CHECKSUM_SAMPLE,
};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

fn run(path: &Path, mode: ChecksumMode) -> (CaptureSummary, Recorder) {
    let cfg = EngineConfig {
        checksums: mode,
        ..EngineConfig::default()
    };
    let mut rec = Recorder::default();
    let s = read_files(&[path.to_path_buf()], &cfg, &mut rec).expect("read");
    (s, rec)
}

/// `tshark -r F -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE -o
/// udp.check_checksum:TRUE -Y '<layer>.checksum.status==0 && !icmp &&
/// !icmpv6' | wc -l` for ip, tcp, udp (tshark also checks the headers
/// quoted inside ICMP errors; botscope does not), and the frame count.
struct Tshark {
    frames: u64,
    bad_ip: u64,
    bad_tcp: u64,
    bad_udp: u64,
    /// Frames with any bad checksum.
    bad_any: u64,
    /// TCP + UDP conversations (`-z conv,tcp -z conv,udp`).
    convs: u64,
    /// IP fragments whose datagram never completes
    /// (`-Y 'ip.flags.mf==1 || ip.frag_offset>0'`, each alone).
    frags: u64,
}

fn check(path: &Path, t: &Tshark, auto_gives: ChecksumMode) {
    let name = path.display();
    // on: every bad packet is counted per layer and dropped.
    let (s, rec) = run(path, ChecksumMode::On);
    assert_eq!(s.packets, t.frames, "{name}");
    let c = &s.checksums;
    assert_eq!((c.requested, c.mode), (ChecksumMode::On, ChecksumMode::On));
    assert_eq!(
        (c.bad_ip, c.bad_tcp, c.bad_udp),
        (t.bad_ip, t.bad_tcp, t.bad_udp),
        "{name}: bad ip/tcp/udp as tshark"
    );
    assert_eq!(c.dropped, t.bad_any, "{name}");
    assert_eq!(s.bad_checksums, t.bad_any, "{name}");
    let whole = t.frames - t.frags;
    assert_eq!(
        rec.packets,
        whole - t.bad_any,
        "{name}: on hands on the rest"
    );
    // off: nothing checked, everything handed on.
    let (s, rec_off) = run(path, ChecksumMode::Off);
    let c = &s.checksums;
    assert_eq!((c.mode, c.checked, c.dropped), (ChecksumMode::Off, 0, 0));
    assert_eq!(rec_off.packets, whole, "{name}");
    assert_eq!(rec_off.conns.len() as u64, t.convs, "{name}: conversations");
    // auto: sampled every packet (short capture), decided like this.
    let (s, rec) = run(path, ChecksumMode::Auto);
    let c = &s.checksums;
    assert_eq!(
        (c.requested, c.mode),
        (ChecksumMode::Auto, auto_gives),
        "{name}"
    );
    assert_eq!((c.sampled, c.sample_bad), (whole, t.bad_any), "{name}");
    assert_eq!(
        (c.bad_ip, c.bad_tcp, c.bad_udp),
        (t.bad_ip, t.bad_tcp, t.bad_udp),
        "{name}"
    );
    if auto_gives == ChecksumMode::Off {
        assert_eq!(c.dropped, 0);
        assert_eq!(rec.packets, whole, "{name}: auto keeps every packet");
        // Same flows as with validation off, in the same order.
        let ids = |r: &Recorder| {
            r.conns
                .iter()
                .map(|c| (c.uid.clone(), c.orig_pkts, c.resp_pkts, c.history.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&rec), ids(&rec_off), "{name}");
    } else {
        assert_eq!(c.dropped, t.bad_any);
        assert_eq!(rec.packets, whole - t.bad_any, "{name}");
    }
}

#[test]
fn offloaded_irc_capture_auto_keeps_all_145_packets_on_drops_them() {
    // Every TCP checksum of this trace is wrong (taken on the sending
    // host); Zeek's own test reads it with -C.
    check(
        &corpus("zeek/testing/btest/Traces/irc-more-commands.pcap"),
        &Tshark {
            frames: 145,
            bad_ip: 0,
            bad_tcp: 145,
            bad_udp: 0,
            bad_any: 145,
            convs: 2,
            frags: 0,
        },
        ChecksumMode::Off,
    );
}

#[test]
fn bad_ip_and_tcp_checksums_are_counted_per_layer() {
    // Raw-IP trace, IP header and TCP checksums all unfilled.
    check(
        &corpus("zeek/testing/btest/Traces/contentline/contentline-irc-5k-line.pcap"),
        &Tshark {
            frames: 118,
            bad_ip: 118,
            bad_tcp: 118,
            bad_udp: 0,
            bad_any: 118,
            convs: 6,
            frags: 0,
        },
        ChecksumMode::Off,
    );
}

#[test]
fn dns_capture_with_a_quarter_bad_udp_and_tcp_turns_auto_off() {
    // 21 of 89 frames (IPv4 and IPv6) bad: more than one in ten.
    check(
        &corpus("zeek/testing/btest/Traces/dns-edns-ecs.pcap"),
        &Tshark {
            frames: 89,
            bad_ip: 0,
            bad_tcp: 2,
            bad_udp: 19,
            bad_any: 21,
            convs: 69,
            frags: 4,
        },
        ChecksumMode::Off,
    );
}

#[test]
fn dcerpc_capture_with_7_bad_of_125_keeps_auto_validating() {
    // 7 bad TCP checksums in 125 frames (5.6 %): corruption, not offload,
    // so auto keeps validating and drops those 7 (as Zeek does).
    check(
        &corpus("arkime/tests/pcap/dcerpc_synthetic.pcap"),
        &Tshark {
            frames: 125,
            bad_ip: 0,
            bad_tcp: 7,
            bad_udp: 0,
            bad_any: 7,
            convs: 18,
            frags: 0,
        },
        ChecksumMode::On,
    );
}

/// 1500 UDP datagrams, one a second, 100 per flow (flows 100 s apart, so
/// each ends idle after UDP's 60 s timeout); `bad(i)` datagrams get a
/// corrupted payload byte after their checksum was computed.
fn crafted(bad: impl Fn(usize) -> bool) -> Vec<u8> {
    let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let pkts: Vec<(i64, Vec<u8>)> = (0..1500usize)
        .map(|i| {
            let mut fr = udp_frame(a, b, 40000 + (i / 100) as u16, 53, b"payload!");
            if bad(i) {
                let n = fr.len();
                fr[n - 1] ^= 0x5a;
            }
            (1_000_000_000 * 1_000_000 + i as i64 * 1_000_000, fr)
        })
        .collect();
    pcap(1, &pkts, false, false)
}

fn run_bytes(data: &[u8], mode: ChecksumMode) -> (CaptureSummary, Recorder) {
    let cfg = EngineConfig {
        checksums: mode,
        ..EngineConfig::default()
    };
    let mut rec = Recorder::default();
    let s = read_bytes("crafted", data, &cfg, &mut rec).expect("read");
    (s, rec)
}

#[test]
fn auto_decides_after_its_sample_replays_it_and_stops_checking() {
    // Offload-like: every other datagram bad.
    let (s, rec) = run_bytes(&crafted(|i| i % 2 == 1), ChecksumMode::Auto);
    let c = &s.checksums;
    assert_eq!(c.mode, ChecksumMode::Off);
    assert_eq!((c.sampled, c.sample_bad), (CHECKSUM_SAMPLE, 500));
    // Nothing is checked after the decision.
    assert_eq!((c.checked, c.bad_udp, c.dropped), (1000, 500, 0));
    assert_eq!(rec.packets, 1500);
    // The held packets were replayed in order with idle expiry: 15 flows
    // of 100 datagrams, 14 ended idle.
    assert_eq!(rec.conns.len(), 15);
    assert!(rec.conns.iter().all(|c| c.orig_pkts == 100), "flows split");
    assert_eq!(s.evicted_idle, 14);
    let ports: Vec<u16> = rec.conns.iter().map(|c| c.id.orig_p).collect();
    assert_eq!(ports, (40000..40015).collect::<Vec<u16>>());
}

#[test]
fn auto_keeps_validating_when_few_are_bad_and_drops_them_all_run_long() {
    // One in 20 bad (5 %): auto stays on for the whole run, the 50 bad
    // datagrams of the sample and the 25 after it are dropped.
    let data = crafted(|i| i % 20 == 7);
    let (s, rec) = run_bytes(&data, ChecksumMode::Auto);
    let c = &s.checksums;
    assert_eq!(c.mode, ChecksumMode::On);
    assert_eq!((c.sampled, c.sample_bad), (1000, 50));
    assert_eq!((c.checked, c.bad_udp, c.dropped), (1500, 75, 75));
    assert_eq!(rec.packets, 1425);
    assert_eq!(rec.conns.len(), 15);
    assert!(rec.conns.iter().all(|c| c.orig_pkts == 95));
    // Same result as `on` from the first packet.
    let (on, rec_on) = run_bytes(&data, ChecksumMode::On);
    assert_eq!(on.checksums.dropped, 75);
    let hist = |r: &Recorder| {
        r.conns
            .iter()
            .map(|c| c.history.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(hist(&rec), hist(&rec_on));
}

#[test]
fn verify_checksums_false_still_means_off() {
    let cfg = EngineConfig {
        verify_checksums: false,
        checksums: ChecksumMode::On,
        ..EngineConfig::default()
    };
    assert_eq!(cfg.checksum_mode(), ChecksumMode::Off);
    let mut rec = Recorder::default();
    let s = read_bytes("crafted", &crafted(|i| i % 2 == 0), &cfg, &mut rec).expect("read");
    assert_eq!((s.checksums.checked, rec.packets), (0, 1500));
}

/// Counts in a capture file as tshark sees them.
fn tshark_count(file: &Path, filter: &str) -> u64 {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args(["-Y", filter])
        .output()
        .expect("tshark (scripts/setup.sh installs it)");
    assert!(out.status.success(), "tshark failed");
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

#[test]
fn loopback_capture_by_tshark_auto_keeps_everything_on_drops_everything() {
    use std::io::{BufRead, BufReader, Read, Write};
    // A TCP exchange on 127.0.0.1 captured by tshark on `lo`: Linux
    // leaves loopback checksums to the (absent) card, so every TCP
    // checksum in the file is partial.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("botscope-cksum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("lo.pcap");
    let mut ts = Command::new("tshark")
        .args([
            "-i",
            "lo",
            "-f",
            &format!("tcp port {port}"),
            "-a",
            "duration:3",
            "-w",
        ])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tshark (scripts/setup.sh installs it; needs root)");
    // Wait until tshark says it is capturing.
    let mut err = BufReader::new(ts.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        if err.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("tshark ended before capturing");
        }
        if line.contains("Capturing on") {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        c.write_all(b"pong").unwrap();
    });
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"pong");
    drop(c);
    server.join().unwrap();
    assert!(ts.wait().unwrap().success(), "tshark capture failed");

    let frames = tshark_count(&file, "frame");
    let bad = tshark_count(&file, "tcp.checksum.status==0 || ip.checksum.status==0");
    assert!(frames >= 8, "handshake, data, close: {frames} frames");
    assert!(
        bad * 10 > frames,
        "loopback checksums are offloaded: {bad}/{frames}"
    );

    let (s, rec) = run(&file, ChecksumMode::Auto);
    assert_eq!(s.packets, frames);
    assert_eq!(s.checksums.mode, ChecksumMode::Off, "auto saw the offload");
    assert_eq!((s.checksums.sampled, s.checksums.sample_bad), (frames, bad));
    assert_eq!(rec.packets, frames, "auto keeps every packet");
    assert_eq!(rec.conns.len(), 1);
    let conn = &rec.conns[0];
    assert_eq!(conn.orig_pkts + conn.resp_pkts, frames);
    assert_eq!((conn.orig_bytes, conn.resp_bytes), (Some(4), Some(4)));
    assert_eq!(conn.conn_state, "SF");

    let (s, rec) = run(&file, ChecksumMode::On);
    assert_eq!((s.checksums.bad_tcp, s.checksums.dropped), (bad, bad));
    assert_eq!(rec.packets, frames - bad);
    std::fs::remove_dir_all(&dir).ok();
}
