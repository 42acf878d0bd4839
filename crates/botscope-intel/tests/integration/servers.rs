//! Starting real DNS servers on loopback for the tests.

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of a required binary; panics (fails the test) when missing.
pub fn bin(name: &str) -> PathBuf {
    for dir in [
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
    ] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: install it (scripts/setup.sh installs bind9, bind9-dnsutils, unbound, nftables)");
}

/// A loopback port free for both TCP and UDP right now.
pub fn free_port() -> u16 {
    loop {
        let t = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = t.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A running server process, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `dig @127.0.0.1 -p PORT NAME TYPE` → (status, answer rdata lines).
pub fn dig(port: u16, name: &str, qtype: &str) -> (String, Vec<String>) {
    let out = Command::new(bin("dig"))
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            name,
            qtype,
            "+tries=1",
            "+time=2",
            "+noall",
            "+comments",
            "+answer",
        ])
        .output()
        .expect("run dig");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text
        .lines()
        .find_map(|l| l.split("status: ").nth(1))
        .map(|s| s.split(',').next().unwrap_or("").to_string())
        .unwrap_or_else(|| "NO-ANSWER".into());
    let answers = text
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            format!("{} {}", f.get(3).unwrap_or(&""), f[4..].join(" "))
        })
        .collect();
    (status, answers)
}

fn wait_ready(s: &mut Server, probe_name: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(st)) = s.child.try_wait() {
            panic!(
                "server exited ({st}); log:\n{}",
                std::fs::read_to_string(&s.log).unwrap_or_default()
            );
        }
        let (status, _) = dig(s.port, probe_name, "SOA");
        if status == "NOERROR" || status == "NXDOMAIN" {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "server not ready after 20 s; log:\n{}",
        std::fs::read_to_string(&s.log).unwrap_or_default()
    );
}

/// Starts `named -g -c DIR/named.conf` with `body` (zones etc.) after a
/// generated `options` block. `extra_options` goes inside `options`.
pub fn named(dir: &Path, extra_options: &str, body: &str, ready_name: &str) -> Server {
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "options {{\n  directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  \
         pid-file \"{d}/named.pid\";\n  session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  \
         allow-query {{ any; }};\n  dnssec-validation no;\n  {extra_options}\n}};\ncontrols {{ }};\n{body}\n"
    );
    std::fs::write(dir.join("named.conf"), conf).unwrap();
    let log = dir.join("named.log");
    let child = Command::new(bin("named"))
        .args(["-g", "-c"])
        .arg(dir.join("named.conf"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start named");
    let mut s = Server { child, port, log };
    wait_ready(&mut s, ready_name);
    s
}

/// Starts `unbound -d -c DIR/unbound.conf`; `body` follows the `server:`
/// block (rpz:, forward-zone: clauses); `server_extra` goes inside it.
pub fn unbound(dir: &Path, server_extra: &str, body: &str, ready_name: &str) -> Server {
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "server:\n  interface: 127.0.0.1\n  port: {port}\n  do-ip6: no\n  do-not-query-localhost: no\n  \
         username: \"\"\n  chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  \
         use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n  access-control: 127.0.0.0/8 allow\n  \
         module-config: \"respip validator iterator\"\n{server_extra}\nremote-control:\n  control-enable: no\n{body}\n"
    );
    let path = dir.join("unbound.conf");
    std::fs::write(&path, conf).unwrap();
    let check = Command::new(bin("unbound-checkconf"))
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "unbound-checkconf: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let log = dir.join("unbound.log");
    let child = Command::new(bin("unbound"))
        .args(["-d", "-c"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start unbound");
    let mut s = Server { child, port, log };
    wait_ready(&mut s, ready_name);
    s
}
