//! Load generator for `bench/sensor.sh`: connection rate, concurrent
//! sessions and a soak of hostile connections against a sensor on
//! loopback. Only ever targets the addresses given, which the script keeps
//! inside 127.0.0.0/8.
//!
//! Usage: sensor_load MODE TARGETS N [CONCURRENCY]
//!   MODE: rate | hold | soak | probe
//!   TARGETS: comma-separated ip:port list (must be loopback)

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn raise_fd_limit() {
    // SAFETY: plain rlimit calls on a local struct.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

#[path = "support/probes.rs"]
mod probes;
use probes::{dce_bind, smb_negotiate};

/// The first message a client of `port` sends and the sensor answers.
/// 1 MiB of repeated `tftp -i` commands (issue 16's instruction bomb): the
/// sensor's search must stay linear and stop at its instruction cap.
fn instruction_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        b"tftp -i 0.0.0.0 GET a.exe & "
            .iter()
            .copied()
            .cycle()
            .take(1 << 20)
            .collect()
    })
}

/// One UDP datagram carrying a download instruction to the sensor's UDP
/// port 69 on `t`'s address, from 127.66.66.66, which never connects by
/// TCP: the sensor must act on none of them.
async fn forged_datagram(t: SocketAddr) {
    let Ok(u) = tokio::net::UdpSocket::bind("127.66.66.66:0").await else {
        return;
    };
    let to = SocketAddr::new(t.ip(), 69);
    let _ = u.send_to(b"tftp -i 127.66.66.66 GET x.exe\r\n", to).await;
}

fn hello_for(port: u16) -> Vec<u8> {
    match port {
        135 | 1025 => dce_bind(),
        139 => {
            // NetBIOS session request (called/calling names, encoded).
            let mut r = vec![0x81, 0, 0, 68, 0x20];
            r.extend_from_slice(&[b'C'; 32]);
            r.extend_from_slice(&[0, 0x20]);
            r.extend_from_slice(&[b'C'; 32]);
            r.push(0);
            r
        }
        _ => smb_negotiate(),
    }
}

#[tokio::main]
async fn main() {
    raise_fd_limit();
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: sensor_load rate|hold|soak|probe TARGETS N [CONCURRENCY]");
        std::process::exit(2);
    }
    let targets: Vec<SocketAddr> = args[2]
        .split(',')
        .map(|t| t.parse().expect("ip:port"))
        .collect();
    assert!(
        targets.iter().all(|t| t.ip().is_loopback()),
        "targets must be loopback"
    );
    let n: u64 = args[3].parse().unwrap();
    let conc: u64 = args.get(4).map(|c| c.parse().unwrap()).unwrap_or(256);
    let mode = args[1].clone();
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let replies = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    match mode.as_str() {
        "probe" => {
            // One DCE-RPC bind: does the sensor still answer?
            let mut s = TcpStream::connect(targets[0]).await.expect("connect");
            s.write_all(&dce_bind()).await.unwrap();
            let mut buf = [0u8; 256];
            let k = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(k >= 16 && buf[2] == 12, "no bind_ack");
            println!("probe: bind_ack received");
            return;
        }
        "hold" => {
            // N concurrent sessions, each sends what its port speaks (SMB
            // negotiate to 445/139, DCE-RPC bind to 135/1025), reads the
            // reply, and stays open until all are open.
            let barrier = Arc::new(tokio::sync::Barrier::new(n as usize + 1));
            let mut tasks = Vec::new();
            for i in 0..n {
                let t = targets[i as usize % targets.len()];
                let (ok, failed, replies, barrier) =
                    (ok.clone(), failed.clone(), replies.clone(), barrier.clone());
                tasks.push(tokio::spawn(async move {
                    let s = TcpStream::connect(t).await;
                    let mut s = match s {
                        Ok(s) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                            Some(s)
                        }
                        Err(_) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            None
                        }
                    };
                    if let Some(s) = s.as_mut() {
                        if s.write_all(&hello_for(t.port())).await.is_ok() {
                            let mut buf = [0u8; 512];
                            if let Ok(Ok(k)) =
                                tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
                                    .await
                            {
                                // The shortest answer is a NetBIOS positive
                                // response (4 bytes).
                                if k >= 4 {
                                    replies.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    barrier.wait().await;
                    drop(s);
                }));
            }
            barrier.wait().await;
            let held = start.elapsed();
            for t in tasks {
                let _ = t.await;
            }
            println!(
                "hold: {} sessions open at once ({} failed), {} answered, in {:.2} s",
                ok.load(Ordering::Relaxed),
                failed.load(Ordering::Relaxed),
                replies.load(Ordering::Relaxed),
                held.as_secs_f64()
            );
            return;
        }
        _ => {}
    }
    let mut workers = Vec::new();
    for _ in 0..conc {
        let (ok, failed, next, targets, mode) = (
            ok.clone(),
            failed.clone(),
            next.clone(),
            targets.clone(),
            mode.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = targets[i as usize % targets.len()];
                match TcpStream::connect(t).await {
                    Ok(mut s) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        if mode == "soak" {
                            // Hostile mixes: garbage, slowloris byte, half-open,
                            // an SMB frame declaring 128 KiB it never sends;
                            // one in 1,000 is a 1 MiB instruction bomb, and
                            // one in 100 also sends a datagram with a download
                            // instruction from a loopback address that never
                            // completed a handshake (a forged source, as far
                            // as the sensor can tell).
                            if i % 1000 == 999 {
                                let _ = s.write_all(instruction_bomb()).await;
                            }
                            if i % 100 == 42 {
                                forged_datagram(t).await;
                            }
                            match i % 4 {
                                0 => {
                                    let _ = s.write_all(&[0xde; 512]).await;
                                }
                                1 => {
                                    let _ = s.write_all(&[0x00]).await;
                                    tokio::time::sleep(Duration::from_millis(50)).await;
                                }
                                2 => {}
                                _ => {
                                    let _ = s
                                        .write_all(&[
                                            0x00, 0x01, 0xff, 0xff, 0xff, b'S', b'M', b'B',
                                        ])
                                        .await;
                                }
                            }
                        }
                        // Linger 0 closes with RST: a zero linger never blocks,
                        // and it keeps a million connections from exhausting
                        // ephemeral ports in TIME_WAIT.
                        #[allow(deprecated)]
                        let _ = s.set_linger(Some(Duration::ZERO));
                    }
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{mode}: {} connections in {:.2} s = {:.0} conn/s ({} failed)",
        ok.load(Ordering::Relaxed),
        secs,
        ok.load(Ordering::Relaxed) as f64 / secs,
        failed.load(Ordering::Relaxed)
    );
}
