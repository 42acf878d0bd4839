//! Live capture on `lo` against a real ngircd: a client registers, joins
//! and sends an order; a UDP DNS query and answer cross the loopback too.
//! The test needs root (packet capture) and ngircd, which CI installs.

use botscope_capture::{read_live, EngineConfig};
use botscope_core::events::Event;
use botscope_dissect::{Analyzer, Record};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_ngircd(dir: &std::path::Path, port: u16) -> Server {
    let conf = dir.join("ngircd.conf");
    std::fs::write(
        &conf,
        format!(
            "[Global]\nName = irc.botscope.test\nInfo = botscope test\nListen = 127.0.0.1\nPorts = {port}\n\
             PidFile = {}\nMotdPhrase = hello\nServerUID = 65534\nServerGID = 65534\n\
             [Options]\nPAM = no\nIdent = no\nDNS = no\n",
            dir.join("ngircd.pid").display()
        ),
    )
    .unwrap();
    let child = Command::new("ngircd")
        .args(["-n", "-f"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ngircd must be installed (scripts/setup.sh)");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "ngircd did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn dns_response(query: &[u8]) -> Vec<u8> {
    let mut r = query.to_vec();
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1;
    r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x02, 0x58, 0, 4, 127, 0, 0, 66]);
    r
}

#[test]
fn live_ngircd_session_and_dns_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let irc_port = free_port();
    let dns_port = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let _server = start_ngircd(dir.path(), irc_port);

    let stop = Arc::new(AtomicBool::new(false));
    let filter = format!("tcp port {irc_port} or udp port {dns_port}");
    let capture = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut an = Analyzer::new(Vec::<Record>::new());
            // Loopback packets carry offloaded (unfilled) checksums.
            let cfg = EngineConfig {
                verify_checksums: false,
                ..Default::default()
            };
            let summary = read_live("lo", Some(&filter), &cfg, &mut an, &stop, None)
                .expect("live capture on lo");
            (an.into_sink(), summary)
        })
    };
    // Let libpcap open and install the filter before traffic starts.
    std::thread::sleep(Duration::from_millis(800));

    let stream = TcpStream::connect(("127.0.0.1", irc_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    w.write_all(b"NICK bot4711\r\nUSER bot 0 * :botscope test bot\r\n")
        .unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            r.read_line(&mut line).unwrap() > 0,
            "server closed before 001"
        );
        if line.contains(" 376 ") || line.contains(" 422 ") {
            break;
        }
    }
    w.write_all(b"JOIN #cc\r\nPRIVMSG #cc :.advscan lsass 100 5 0 -r -s\r\nQUIT :done\r\n")
        .unwrap();
    while r.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {}

    let server = UdpSocket::bind(("127.0.0.1", dns_port)).unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let query = [
        0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'c', b'n', b'c', 7, b'e', b'x', b'a',
        b'm', b'p', b'l', b'e', 3, b'n', b'e', b't', 0, 0, 1, 0, 1,
    ];
    client.send_to(&query, ("127.0.0.1", dns_port)).unwrap();
    let mut buf = [0u8; 512];
    let (n, from) = server.recv_from(&mut buf).unwrap();
    server.send_to(&dns_response(&buf[..n]), from).unwrap();
    client.recv_from(&mut buf).unwrap();

    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    // libpcap's read timeout does not fire on an idle loopback in
    // immediate mode, so one more matching datagram wakes the capture loop
    // to see `stop`.
    let waker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let wake_deadline = Instant::now() + Duration::from_secs(10);
    while !capture.is_finished() && Instant::now() < wake_deadline {
        waker.send_to(b"wake", ("127.0.0.1", dns_port)).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let (records, summary) = capture.join().unwrap();
    assert!(
        summary.packets >= 10,
        "captured {} packets",
        summary.packets
    );

    let irc: Vec<_> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Irc(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(irc
        .iter()
        .all(|e| e.id.resp_p == irc_port && e.id.orig_h.is_loopback()));
    let nick = irc
        .iter()
        .find(|e| e.from_client && e.command == "NICK")
        .expect("NICK seen");
    assert_eq!(nick.value.as_deref(), Some("bot4711"));
    let welcome = irc
        .iter()
        .find(|e| !e.from_client && e.command == "001")
        .expect("001 seen");
    assert_eq!(welcome.prefix.as_deref(), Some("irc.botscope.test"));
    assert_eq!(welcome.params[0], "bot4711");
    let join = irc
        .iter()
        .find(|e| e.from_client && e.command == "JOIN")
        .expect("JOIN seen");
    assert_eq!(join.value.as_deref(), Some("#cc"));
    assert_eq!(join.nick.as_deref(), Some("bot4711"));
    assert_eq!(join.user.as_deref(), Some("bot"));
    let order = irc
        .iter()
        .find(|e| e.from_client && e.command == "PRIVMSG")
        .expect("PRIVMSG seen");
    assert_eq!(order.params, vec!["#cc", ".advscan lsass 100 5 0 -r -s"]);
    let rows = records.iter().filter(|r| r.irc_log_row).count();
    assert_eq!(rows, 3, "irc.log rows: NICK, USER, JOIN");

    let dns: Vec<_> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Dns(d) => Some(d),
            _ => None,
        })
        .collect();
    // The wake-up datagrams are not DNS: only the one transaction.
    assert_eq!(dns.len(), 1, "{dns:?}");
    assert_eq!(dns[0].query.as_deref(), Some("cnc.example.net"));
    assert_eq!(dns[0].trans_id, 0xbeef);
    assert_eq!(dns[0].qtype_name.as_deref(), Some("A"));
    assert_eq!(dns[0].answers, vec!["127.0.0.66"]);
    assert_eq!(dns[0].ttls, vec![600.0]);
    assert_eq!(dns[0].rcode_name.as_deref(), Some("NOERROR"));
    assert!(dns[0].rtt.is_some());
    assert_eq!(dns[0].id.resp_p, dns_port);
}
