//! Live capture through libpcap on the loopback interface: the test sends
//! UDP datagrams to itself on 127.0.0.1 and checks what the engine saw.

use crate::common::Recorder;
use botscope_capture::{read_live, EngineConfig};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn live_capture_on_loopback_sees_our_udp_datagrams() {
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind receiver");
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    let (dport, sport) = (
        rx.local_addr().unwrap().port(),
        tx.local_addr().unwrap().port(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let bpf = format!("udp and src port {sport} and dst port {dport}");
    let cap = std::thread::spawn(move || {
        let mut rec = Recorder::default();
        // Packets captured on the sending host carry offloaded (unfilled)
        // checksums, so they are not verified here.
        let cfg = EngineConfig {
            verify_checksums: false,
            ..EngineConfig::default()
        };
        let r = read_live("lo", Some(&bpf), &cfg, &mut rec, &stop2, Some(5));
        (r, rec)
    });
    // Give libpcap time to open and install the filter, then send; keep
    // sending (bounded) until the capture has its five packets.
    std::thread::sleep(Duration::from_millis(500));
    let mut sent = 0;
    while !cap.is_finished() && sent < 50 {
        tx.send_to(format!("ping {sent:02}").as_bytes(), ("127.0.0.1", dport))
            .expect("send");
        sent += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let (r, rec) = cap.join().expect("capture thread");
    let s = r.expect("live capture on lo (needs root/CAP_NET_RAW and libpcap)");
    assert_eq!(s.packets, 5);
    assert_eq!(rec.conns.len(), 1);
    let c = &rec.conns[0];
    assert_eq!((c.id.orig_p, c.id.resp_p), (sport, dport));
    assert_eq!(c.id.orig_h.to_string(), "127.0.0.1");
    assert_eq!((c.orig_pkts, c.resp_pkts), (5, 0));
    assert_eq!(c.orig_ip_bytes, 5 * (20 + 8 + 7));
    assert_eq!(c.conn_state, "S0");
    assert_eq!(rec.datagrams.len(), 5);
    assert!(rec.datagrams[0].starts_with(b"ping "));
}

#[test]
fn live_capture_on_a_missing_interface_is_an_error() {
    let stop = AtomicBool::new(false);
    let r = read_live(
        "botscope-no-such-if0",
        None,
        &EngineConfig::default(),
        &mut Recorder::default(),
        &stop,
        Some(1),
    );
    assert!(matches!(
        r,
        Err(botscope_capture::CaptureError::Live { .. })
    ));
}
