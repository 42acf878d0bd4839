//! Issue 16: the live capture's pcap dump rotates. A capture on `lo`
//! (root, libpcap from `scripts/setup.sh`) of datagrams between the test's
//! own 127.0.0.1 sockets, dumped with a small size bound, leaves the
//! current file and at most `keep` rotated ones, each a whole pcap that
//! reads back.

use botscope_capture::{open_live, read_files, shift_rotated, EngineConfig, FlowSink};
use std::net::UdpSocket;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Counts packets.
#[derive(Default)]
struct Count(u64);

impl FlowSink for Count {
    fn on_packet(
        &mut self,
        _: &botscope_capture::PacketInfo<'_>,
        _: botscope_capture::FlowRef<'_>,
    ) {
        self.0 += 1;
    }
}

/// Records in a pcap file, read back by the engine (every record counts,
/// whatever its checksums: loopback frames carry offloaded ones).
fn packets_in(path: &std::path::Path) -> u64 {
    read_files(
        &[path.to_path_buf()],
        &EngineConfig::default(),
        &mut Count::default(),
    )
    .expect("a whole pcap")
    .packets
}

#[test]
fn shift_rotated_keeps_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.pcap");
    for round in 0..5 {
        std::fs::write(&p, format!("{round}")).unwrap();
        shift_rotated(&p, 3).unwrap();
    }
    assert!(!p.exists());
    let read = |i: usize| std::fs::read_to_string(dir.path().join(format!("x.pcap.{i}"))).unwrap();
    assert_eq!(
        (read(1), read(2), read(3)),
        ("4".into(), "3".into(), "2".into())
    );
    assert!(!dir.path().join("x.pcap.4").exists());
}

#[test]
fn live_dump_rotates_at_its_size_bound() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to capture on lo");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sensor.pcap");
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    let mut cap = open_live("lo", Some(&format!("udp dst port {port}"))).expect("libpcap on lo");
    // Each datagram is 300 bytes of payload, a 342-byte frame on lo plus
    // a 16-byte record header: 5 records fill a 1,500-byte file past its
    // bound, so 60 datagrams rotate many times.
    cap.dump_rotating(&path, 1_500, 2).unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..60 {
            tx.send_to(&[0x42; 300], ("127.0.0.1", port)).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let stop = AtomicBool::new(false);
    let mut sink = Count::default();
    let summary = cap
        .run(&EngineConfig::default(), &mut sink, &stop, Some(60))
        .unwrap();
    sender.join().unwrap();
    assert_eq!(summary.packets, 60);
    // The current file and two rotated ones, no third.
    let rotated = |i: usize| dir.path().join(format!("sensor.pcap.{i}"));
    assert!(path.exists() && rotated(1).exists() && rotated(2).exists());
    assert!(!rotated(3).exists());
    // Each rotated file was closed when it reached the bound: 5 records
    // (24 + 5 × (16 + 342) = 1,814 bytes), and reads back whole.
    for f in [rotated(1), rotated(2)] {
        assert_eq!(std::fs::metadata(&f).unwrap().len(), 24 + 5 * (16 + 342));
        assert_eq!(packets_in(&f), 5);
    }
    // 60 = 11 full files + 5 in the current one: it was just rotated and
    // holds the header only.
    assert_eq!(packets_in(&path), 0);
}
