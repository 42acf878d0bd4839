//! The documented configuration, `user = "nobody"`, end to end: the sensor
//! is started as root, opens (and creates) its specimen store as root,
//! drops to nobody, and a binary an attacker on loopback pushes back lands
//! in the store, owned by nobody and not executable.
//!
//! Switching user changes the whole process, so the sensor runs in a child
//! process: this test binary run again with only `child_sensor_as_nobody`
//! (ignored unless asked for, and a no-op without its environment).
//! Traffic stays on 127.0.0.1.

use botscope_sensor::config::SensorConfig;
use botscope_sensor::daemon::run;
use botscope_sensor::server::{lookup_user, SensorEvent, StoreSink};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DIR_ENV: &str = "BOTSCOPE_SENSOR_PRIVILEGE_DIR";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn documented_user_nobody_stores_specimens_as_nobody() {
    // SAFETY: geteuid only reads the process's credentials.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test starts the sensor as root, as the documentation does"
    );
    let (nobody_uid, _) = lookup_user("nobody").expect("user nobody");
    let tmp = tempfile::tempdir().unwrap();
    // The store's parent must be traversable by nobody, as /var/lib is.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let sensor_port = free_port();
    let rev = TcpListener::bind("127.0.0.1:0").unwrap();
    let rev_port = rev.local_addr().unwrap().port();
    std::fs::write(
        tmp.path().join("sensor.toml"),
        format!(
            "addresses = [\"127.0.0.1\"]\ntcp_ports = [{sensor_port}]\nudp_ports = []\n\
             log = \"{}\"\nuser = \"nobody\"\n[limits]\nsession_idle_secs = 2\ndownload_timeout_secs = 10\n",
            tmp.path().join("sensor.jsonl").display()
        ),
    )
    .unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_sensor_as_nobody",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_ENV, tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // The attacker: serves a synthetic body on rev_port, connects to the
    // sensor and tells it to connect back there.
    let body: Vec<u8> = (0..20_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&body))
    };
    let served = body.clone();
    let server = std::thread::spawn(move || {
        rev.set_nonblocking(false).unwrap();
        if let Ok((mut s, _)) = rev.accept() {
            let _ = s.write_all(&served);
        }
    });
    let to = SocketAddr::from(([127, 0, 0, 1], sensor_port));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut s = loop {
        match TcpStream::connect_timeout(&to, Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => panic!("sensor never listened: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    s.write_all(format!("cmd /c connect to me on port {rev_port}\r\n").as_bytes())
        .unwrap();
    drop(s);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child: {stdout}\n{stderr}");
    server.join().unwrap();

    // The child ran as nobody after the switch and stored the binary.
    assert!(
        stdout.contains(&format!("sensor-euid={nobody_uid}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("sensor-download={sha} error=None\n")),
        "{stdout}\n{stderr}"
    );
    let store_dir = tmp.path().join("store");
    let file = store_dir.join("quarantine").join(&sha[..2]).join(&sha);
    let meta = std::fs::metadata(&file).expect("specimen in the quarantine");
    assert_eq!(meta.len(), body.len() as u64);
    assert_eq!(meta.uid(), nobody_uid, "owned by nobody");
    assert_eq!(meta.mode() & 0o777, 0o444, "read-only, not executable");
    for p in [
        store_dir.clone(),
        store_dir.join("quarantine"),
        store_dir.join("specimens.db"),
    ] {
        assert_eq!(
            std::fs::metadata(&p).unwrap().uid(),
            nobody_uid,
            "{}",
            p.display()
        );
    }
    let store = botscope_specimen::Store::open(&store_dir).unwrap();
    let row = store.get(&sha).unwrap().expect("row in the store");
    assert_eq!(row.size as usize, body.len());
    assert_eq!(std::fs::read(&file).unwrap(), body);
}

/// The sensor process of the test above: started as root with the
/// documented `user = "nobody"`; opens the store as root, as the command
/// does, and stops after the first download.
#[test]
#[ignore = "run by documented_user_nobody_stores_specimens_as_nobody in its own process"]
fn child_sensor_as_nobody() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let cfg =
        SensorConfig::parse(&std::fs::read_to_string(dir.join("sensor.toml")).unwrap()).unwrap();
    let store = botscope_specimen::Store::open(&dir.join("store")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let report = rt
        .block_on(run(
            cfg,
            std::sync::Arc::new(StoreSink(std::sync::Mutex::new(store))),
            move |e| {
                if let SensorEvent::Download { sha256, error, .. } = e {
                    let _ = tx.send(format!(
                        "sensor-download={} error={error:?}",
                        sha256.as_deref().unwrap_or("-")
                    ));
                }
            },
            async {
                match tokio::time::timeout(Duration::from_secs(45), rx.recv()).await {
                    Ok(Some(line)) => println!("{line}"),
                    _ => println!("sensor-download=none"),
                }
            },
        ))
        .expect("sensor runs");
    // SAFETY: geteuid only reads the process's credentials.
    println!("sensor-euid={}", unsafe { libc::geteuid() });
    println!(
        "downloads_ok={} failed={}",
        report.downloads_ok, report.downloads_failed
    );
}
