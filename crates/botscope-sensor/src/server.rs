//! The sensor daemon: listeners on every configured address and port,
//! emulation per connection, classification of what the client sent,
//! contained downloads, and a JSON Lines event log.

use crate::analysis::{analyse_payload, Analysis, Scope};
use crate::config::SensorConfig;
use crate::containment::{
    check_bind_port, target_for, DownloadLimiter, HandshakeTable, Refusal, SourceQuota,
};
use crate::download::{fetch, planned_copy_method, DownloadCaps};
use crate::emulate::{Emulator, Personality};
use crate::instructions::DownloadInstruction;
use crate::shell::{FetchOutcome, ShellKind, ShellOffer};
use botscope_core::Ts;
use botscope_deobf::Record;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, Semaphore};

/// Why a [`SpecimenSink`] did not store a binary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The specimen store's lookup or commit failed.
    #[error("specimen store: {0}")]
    Store(#[from] botscope_specimen::store::StoreError),
    /// Writing the binary into quarantine failed.
    #[error("quarantining {path}: {source}")]
    Quarantine {
        /// The quarantine file.
        path: std::path::PathBuf,
        /// The quarantine's error.
        source: botscope_specimen::store::StoreError,
    },
    /// Another sink declined it, with its reason.
    #[error("{0}")]
    Declined(String),
}

/// Where downloaded binaries go (the specimen store in production; a
/// folder or a vector in tests).
pub trait SpecimenSink: Send + Sync + 'static {
    /// Stores one binary with what the sensor knows about it; returns its
    /// SHA-256 (hex) or why it was not stored.
    fn store(&self, data: &[u8], meta: &DownloadMeta) -> Result<String, StoreError>;

    /// Like [`SpecimenSink::store`], also saying when the binary was
    /// stored but its analysis failed (the sensor logs an `error` event
    /// naming it). Runs on a blocking worker, never on the async ones.
    fn store_checked(&self, data: &[u8], meta: &DownloadMeta) -> Result<Stored, StoreError> {
        self.store(data, meta).map(|sha256| Stored {
            sha256,
            analysis_error: None,
        })
    }

    /// Hands whatever the sink writes to over to `uid`:`gid`, before the
    /// sensor switches to that user. Called as root; the default has
    /// nothing to hand over.
    fn hand_over(&self, _uid: u32, _gid: u32) -> std::io::Result<()> {
        Ok(())
    }
}

/// A binary a sink stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// Why its analysis failed (it panicked), if it did; the file and its
    /// row are stored all the same.
    pub analysis_error: Option<String>,
}

/// What the sensor knows about a downloaded binary.
#[derive(Clone, Debug, Serialize)]
pub struct DownloadMeta {
    /// When the download finished.
    pub ts: Ts,
    /// The attacking address (and the only one contacted).
    pub attacker: IpAddr,
    /// The sensor address that was attacked.
    pub sensor: SocketAddr,
    /// Exploit vector the session was classified as, if any.
    pub vector: Option<String>,
    /// Table 8 copy method (`tftp_get`, `tcp_push`, `reverse_connect`).
    pub copy_method: String,
    /// Transfer protocol (`tftp`, `ftp`, `http`, `reverse`, `bindport`).
    pub protocol: String,
    /// File name the instruction gave, if any.
    pub file_name: Option<String>,
    /// The shell the download was typed into, if it was.
    pub shell: Option<ShellKind>,
}

/// One line of the sensor's event log.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SensorEvent {
    /// The sensor is listening.
    Started {
        /// When.
        ts: Ts,
        /// Addresses bound.
        addresses: usize,
        /// TCP listeners.
        tcp_listeners: usize,
        /// UDP sockets.
        udp_sockets: usize,
    },
    /// A TCP session ended.
    Session {
        /// When it started.
        ts: Ts,
        /// Attacker.
        src: SocketAddr,
        /// Sensor address and port.
        dst: SocketAddr,
        /// Seconds open.
        duration: f64,
        /// Client bytes received.
        bytes_in: u64,
        /// Bytes the emulator sent.
        bytes_out: u64,
        /// Exploit vectors found in the client stream.
        vectors: Vec<String>,
        /// What matched, per vector.
        details: Vec<String>,
        /// Download instructions found.
        instructions: Vec<DownloadInstruction>,
        /// The de-obfuscation stage's record, when a decoder matched.
        #[serde(skip_serializing_if = "no_match")]
        deobf: Record,
        /// Why the emulator stopped answering, if it did (the session was
        /// still listened to and classified).
        #[serde(skip_serializing_if = "Option::is_none")]
        desync: Option<String>,
    },
    /// A UDP datagram arrived.
    Datagram {
        /// When.
        ts: Ts,
        /// Sender.
        src: SocketAddr,
        /// Sensor address and port.
        dst: SocketAddr,
        /// Payload length.
        bytes: usize,
        /// Exploit vector, if classified.
        vectors: Vec<String>,
        /// Download instructions found.
        instructions: Vec<DownloadInstruction>,
        /// The de-obfuscation stage's record, when a decoder matched.
        #[serde(skip_serializing_if = "no_match")]
        deobf: Record,
    },
    /// A download was attempted.
    Download {
        /// When it ended.
        ts: Ts,
        /// The attacker it came from.
        attacker: IpAddr,
        /// What was asked.
        instruction: DownloadInstruction,
        /// Exploit vector of the session that led to it, if classified.
        vector: Option<String>,
        /// Table 8 copy method of the transfer that delivered it (an FTP
        /// script is a `reverse_connect` in either mode: the victim logged
        /// into the infecting host).
        copy_method: String,
        /// The shell the download command was typed into, if it was.
        #[serde(skip_serializing_if = "Option::is_none")]
        shell: Option<ShellKind>,
        /// SHA-256 of what was stored.
        sha256: Option<String>,
        /// Size downloaded.
        size: usize,
        /// Failure reason.
        error: Option<String>,
    },
    /// A download was refused by containment or the rate limits.
    Refused {
        /// When.
        ts: Ts,
        /// Attacker.
        attacker: IpAddr,
        /// What was asked.
        instruction: DownloadInstruction,
        /// Why not.
        reason: Refusal,
    },
    /// Load fell, and memory freed by finished sessions was handed back
    /// to the operating system (glibc keeps freed heap pages otherwise).
    MemoryReleased {
        /// When.
        ts: Ts,
        /// Sessions open at the time.
        open_sessions: usize,
        /// Heap bytes still allocated (glibc `mallinfo2`).
        heap_in_use: u64,
        /// Resident set size before, in KiB.
        rss_before_kib: u64,
        /// Resident set size after, in KiB.
        rss_after_kib: u64,
    },
    /// Something the operator must know, e.g. running as root.
    Warning {
        /// When.
        ts: Ts,
        /// What.
        message: String,
    },
    /// Something went wrong with one specimen (its analysis panicked, or
    /// the sink did); the sensor carries on storing the next ones.
    Error {
        /// When.
        ts: Ts,
        /// The attacker it came from.
        attacker: IpAddr,
        /// SHA-256 of the specimen concerned.
        sha256: Option<String>,
        /// What happened.
        message: String,
    },
    /// A session was turned away because its source already held
    /// `limits.sessions_per_source` sessions.
    SourceLimited {
        /// When.
        ts: Ts,
        /// Attacker.
        src: SocketAddr,
        /// The per-source quota.
        limit: usize,
    },
    /// The event queue was full and events were dropped; written by the
    /// log writer once it catches up.
    EventsDropped {
        /// When.
        ts: Ts,
        /// Events dropped since the sensor started.
        total: u64,
    },
    /// A shell session (bind or connect-back) ended.
    Shell {
        /// When it opened.
        ts: Ts,
        /// Bind or connect-back.
        kind: ShellKind,
        /// The attacker's end of the shell connection.
        src: SocketAddr,
        /// The sensor's end.
        dst: SocketAddr,
        /// Exploit vector of the session whose shellcode offered it.
        vector: Option<String>,
        /// Seconds open.
        duration: f64,
        /// Bytes typed.
        bytes_in: u64,
        /// Lines typed.
        lines: usize,
        /// The first lines typed (at most 64, each cut at 512 bytes).
        typed: Vec<String>,
        /// Downloads the typed commands asked for.
        fetches: usize,
        /// Why it closed: `exit`, `closed`, `idle`, `time` or `bytes`.
        end: &'static str,
    },
    /// A shell offer was refused (a connect-back to a third party, a
    /// connection to a bind-shell port from another address, a reserved
    /// port, a quota).
    ShellRefused {
        /// When.
        ts: Ts,
        /// The attacker.
        attacker: IpAddr,
        /// What the shellcode offered.
        offer: ShellOffer,
        /// Why not.
        reason: Refusal,
    },
    /// A shell offer could not be served: the port could not be opened,
    /// the attacker never connected, or the connect-back failed.
    ShellFailed {
        /// When.
        ts: Ts,
        /// The attacker.
        attacker: IpAddr,
        /// What the shellcode offered.
        offer: ShellOffer,
        /// What happened.
        message: String,
    },
    /// A session was turned away because too many were open.
    Overloaded {
        /// When.
        ts: Ts,
        /// Attacker.
        src: SocketAddr,
    },
}

/// Whether a record has no finding (left out of the event).
fn no_match(r: &Record) -> bool {
    !r.matched()
}

/// Counters the sensor keeps while running.
#[derive(Debug, Default)]
pub struct SensorStats {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections turned away at the session cap.
    pub overloaded: AtomicU64,
    /// Sessions finished.
    pub sessions: AtomicU64,
    /// Datagrams received.
    pub datagrams: AtomicU64,
    /// Downloads stored.
    pub downloads_ok: AtomicU64,
    /// Downloads that failed.
    pub downloads_failed: AtomicU64,
    /// Downloads refused.
    pub refused: AtomicU64,
    /// `error` events: specimens whose analysis (or sink) panicked.
    pub errors: AtomicU64,
    /// Connections turned away at the per-source session quota.
    pub source_limited: AtomicU64,
    /// Shell sessions served (bind and connect-back).
    pub shells: AtomicU64,
}

/// The sending side of the bounded event queue: when the log writer falls
/// `capacity` events behind, further events are dropped and counted
/// instead of queueing without bound.
#[derive(Clone, Debug)]
pub struct EventSender {
    tx: mpsc::Sender<SensorEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventSender {
    /// Queues `ev`, or counts it as dropped when the queue is full (or
    /// the writer is gone).
    pub fn send(&self, ev: SensorEvent) {
        if self.tx.try_send(ev).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The shared drop counter.
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }
}

/// A bounded event queue of `capacity` events (at least 1).
pub fn event_channel(capacity: usize) -> (EventSender, mpsc::Receiver<SensorEvent>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (
        EventSender {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        },
        rx,
    )
}

/// Current wall-clock time as a [`Ts`].
pub fn now() -> Ts {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ts(d.as_micros() as i64)
}

/// What every listener, session and download shares.
pub(crate) struct Ctx {
    pub(crate) cfg: SensorConfig,
    pub(crate) sessions: Semaphore,
    limiter: DownloadLimiter,
    handshakes: HandshakeTable,
    analyses: Semaphore,
    sink: Arc<dyn SpecimenSink>,
    pub(crate) events: EventSender,
    pub(crate) stats: Arc<SensorStats>,
    pub(crate) source_sessions: SourceQuota,
    source_downloads: SourceQuota,
    /// Shell offers being served, by attacker: the same offer twice (an
    /// exploit retried) opens one shell.
    pub(crate) open_shells: std::sync::Mutex<std::collections::HashSet<(IpAddr, ShellOffer)>>,
    /// Early shellcode searches made (sessions that paused).
    early_searches: AtomicU64,
}

impl Ctx {
    pub(crate) fn new(
        cfg: SensorConfig,
        sink: Arc<dyn SpecimenSink>,
        events: EventSender,
        stats: Arc<SensorStats>,
    ) -> Ctx {
        Ctx {
            source_sessions: SourceQuota::new(cfg.limits.sessions_per_source),
            source_downloads: SourceQuota::new(cfg.limits.downloads_per_source),
            sessions: Semaphore::new(cfg.limits.max_sessions),
            limiter: DownloadLimiter::new(
                cfg.limits.downloads_concurrent,
                cfg.limits.downloads_per_minute,
            ),
            handshakes: HandshakeTable::new(
                cfg.limits.handshake_sources,
                Duration::from_secs(cfg.limits.handshake_ttl_secs),
            ),
            analyses: Semaphore::new(cfg.limits.analyses_concurrent.max(1)),
            open_shells: Default::default(),
            early_searches: AtomicU64::new(0),
            cfg,
            sink,
            events,
            stats,
        }
    }

    /// The sensor's own ports, never opened for an attacker.
    pub(crate) fn own_ports(&self) -> Vec<u16> {
        self.cfg
            .tcp_ports
            .iter()
            .chain(&self.cfg.udp_ports)
            .copied()
            .collect()
    }

    /// Caps on one download.
    fn download_caps(&self) -> DownloadCaps {
        let lim = &self.cfg.limits;
        DownloadCaps {
            max_bytes: lim.download_max_bytes,
            max_time: Duration::from_secs(lim.download_timeout_secs),
            step_timeout: Duration::from_secs(lim.session_idle_secs.clamp(1, 10)),
        }
    }
}

/// The bound sockets of a sensor, ready to serve.
pub struct BoundSensor {
    tcp: Vec<TcpListener>,
    udp: Vec<UdpSocket>,
    addresses: usize,
}

impl BoundSensor {
    /// Number of TCP listeners.
    pub fn tcp_listeners(&self) -> usize {
        self.tcp.len()
    }
}

/// Binds every address × port of the configuration. Fails naming the first
/// address and port that could not be bound.
pub async fn bind(cfg: &SensorConfig) -> std::io::Result<BoundSensor> {
    let addrs = cfg
        .expand_addresses()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    raise_fd_limit();
    let mut tcp = Vec::new();
    let mut udp = Vec::new();
    for ip in &addrs {
        for &p in &cfg.tcp_ports {
            let sa = SocketAddr::new(*ip, p);
            tcp.push(TcpListener::bind(sa).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen on tcp {sa}: {e}"))
            })?);
        }
        for &p in &cfg.udp_ports {
            let sa = SocketAddr::new(*ip, p);
            udp.push(UdpSocket::bind(sa).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen on udp {sa}: {e}"))
            })?);
        }
    }
    Ok(BoundSensor {
        tcp,
        udp,
        addresses: addrs.len(),
    })
}

/// Raises the open-file limit to its hard maximum: 192 addresses × 12
/// ports is already past the usual soft limit of 1,024.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// Whether the process runs as root (effective uid 0).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid only reads the process's credentials.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of `user`.
pub fn lookup_user(user: &str) -> std::io::Result<(u32, u32)> {
    // SAFETY: libc calls with a NUL-terminated name; the returned passwd
    // pointer is read before any other call that could reuse it.
    unsafe {
        let name = std::ffi::CString::new(user)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad user name"))?;
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no such user {user}"),
            ));
        }
        Ok(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// Switches to `user` (its uid, gid, no supplementary groups) when running
/// as root. Called after binding, so privileged ports stay open.
pub fn drop_privileges(user: &str) -> std::io::Result<()> {
    if !running_as_root() {
        return Ok(());
    }
    let (uid, gid) = lookup_user(user)?;
    switch_user(uid, gid)
}

/// Switches to `uid`:`gid` with no supplementary groups, and checks that
/// root cannot be regained.
pub fn switch_user(uid: u32, gid: u32) -> std::io::Result<()> {
    // SAFETY: plain credential syscalls on integers.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        if uid != 0 && (libc::setuid(0) == 0 || libc::geteuid() != uid) {
            return Err(std::io::Error::other("root could be regained after setuid"));
        }
    }
    Ok(())
}

/// Serves until `shutdown` resolves; events go to `events`.
pub async fn serve(
    bound: BoundSensor,
    cfg: SensorConfig,
    sink: Arc<dyn SpecimenSink>,
    events: EventSender,
    stats: Arc<SensorStats>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let ctx = Arc::new(Ctx::new(cfg, sink, events, stats));
    ctx.events.send(SensorEvent::Started {
        ts: now(),
        addresses: bound.addresses,
        tcp_listeners: bound.tcp.len(),
        udp_sockets: bound.udp.len(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for l in bound.tcp {
        tasks.spawn(accept_loop(l, ctx.clone()));
    }
    for u in bound.udp {
        tasks.spawn(udp_loop(u, ctx.clone()));
    }
    tasks.spawn(release_memory_when_load_falls(ctx.clone()));
    shutdown.await;
    tasks.abort_all();
}

async fn accept_loop(l: TcpListener, ctx: Arc<Ctx>) {
    // Listeners bound to one address (the sensor binds each configured
    // address apart) accept connections to exactly that address and port:
    // no getsockname() per connection then.
    let listening = l.local_addr().ok().filter(|a| !a.ip().is_unspecified());
    loop {
        let Ok((s, peer)) = l.accept().await else {
            // EMFILE and friends: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        ctx.stats.accepted.fetch_add(1, Ordering::Relaxed);
        // accept() returns only after the three-way handshake: this source
        // answered our SYN-ACK, so it is not forged.
        ctx.handshakes.confirm(peer.ip());
        let local = match listening {
            Some(a) => a,
            None => s.local_addr().unwrap_or(peer),
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let Some(_slot) = ctx.source_sessions.try_acquire(peer.ip()) else {
                ctx.stats.source_limited.fetch_add(1, Ordering::Relaxed);
                ctx.events.send(SensorEvent::SourceLimited {
                    ts: now(),
                    src: peer,
                    limit: ctx.source_sessions.limit(),
                });
                return;
            };
            let Ok(_permit) = ctx.sessions.try_acquire() else {
                ctx.stats.overloaded.fetch_add(1, Ordering::Relaxed);
                ctx.events.send(SensorEvent::Overloaded {
                    ts: now(),
                    src: peer,
                });
                return;
            };
            session(s, peer, local, &ctx).await;
        });
    }
}

/// Every two seconds, looks at how many sessions are open; once they fell
/// to a quarter of their high-water mark (at least 256 at the peak), or to
/// none after some traffic (at most every 10 s), asks glibc to return free
/// heap pages to the system. Without this glibc keeps the pages of
/// finished sessions in its per-thread arenas and the RSS stays at its
/// peak after a flood, although nothing is allocated any more.
async fn release_memory_when_load_falls(ctx: Arc<Ctx>) {
    let max = ctx.cfg.limits.max_sessions;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut peak_open = 0usize;
    let mut accepted_at_release = 0u64;
    let mut last_release = Instant::now();
    loop {
        tick.tick().await;
        let open = max.saturating_sub(ctx.sessions.available_permits());
        peak_open = peak_open.max(open);
        let accepted = ctx.stats.accepted.load(Ordering::Relaxed);
        let fell = peak_open >= 256 && open <= peak_open / 4;
        let idle = open == 0
            && accepted != accepted_at_release
            && last_release.elapsed() >= Duration::from_secs(10);
        if !(fell || idle) {
            continue;
        }
        if let Some(m) = memory::release() {
            ctx.events.send(SensorEvent::MemoryReleased {
                ts: now(),
                open_sessions: open,
                heap_in_use: m.heap_in_use,
                rss_before_kib: m.rss_before_kib,
                rss_after_kib: m.rss_after_kib,
            });
        }
        peak_open = open;
        accepted_at_release = accepted;
        last_release = Instant::now();
    }
}

/// Returning freed heap memory to the system (glibc only).
pub mod memory {
    /// What one release did.
    #[derive(Clone, Copy, Debug)]
    pub struct Released {
        /// Heap bytes still allocated afterwards.
        pub heap_in_use: u64,
        /// RSS before, KiB.
        pub rss_before_kib: u64,
        /// RSS after, KiB.
        pub rss_after_kib: u64,
    }

    /// The process's resident set size in KiB (Linux), 0 if unknown.
    pub fn rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            // SAFETY: sysconf only reads a system constant.
            .map(|pages| pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64 / 1024)
            .unwrap_or(0)
    }

    /// Heap bytes allocated through malloc right now (glibc `mallinfo2`:
    /// arena chunks in use plus mmapped chunks).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn heap_in_use() -> Option<u64> {
        // SAFETY: mallinfo2 only reads allocator statistics.
        let m = unsafe { libc::mallinfo2() };
        Some((m.uordblks + m.hblkhd) as u64)
    }

    /// Not available outside glibc.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn heap_in_use() -> Option<u64> {
        None
    }

    /// Hands free pages of every malloc arena back to the system
    /// (`malloc_trim(0)`); `None` where the allocator has no such call.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub fn release() -> Option<Released> {
        let rss_before_kib = rss_kib();
        // SAFETY: malloc_trim takes the arena locks itself.
        unsafe { libc::malloc_trim(0) };
        Some(Released {
            heap_in_use: heap_in_use().unwrap_or(0),
            rss_before_kib,
            rss_after_kib: rss_kib(),
        })
    }

    /// Not available outside glibc.
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    pub fn release() -> Option<Released> {
        None
    }
}

async fn session(mut s: TcpStream, peer: SocketAddr, local: SocketAddr, ctx: &Arc<Ctx>) {
    let start = Instant::now();
    let ts = now();
    let lim = &ctx.cfg.limits;
    let mut emu = Emulator::new(Personality::for_port(local.port()));
    let mut kept = Vec::new();
    let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
    let greeting = emu.greeting();
    if !greeting.is_empty() && s.write_all(&greeting).await.is_ok() {
        bytes_out += greeting.len() as u64;
    }
    let deadline = start + Duration::from_secs(lim.session_max_secs);
    // Small: 10,000 sessions each holding a read buffer is the sensor's
    // peak memory. Longer client writes just take more reads.
    let mut buf = vec![0u8; 4 * 1024];
    // Shells already offered, and how much of the stream was searched.
    let mut offered: Vec<ShellOffer> = Vec::new();
    let (mut searched, mut early_searches) = (0usize, 0usize);
    loop {
        let idle = Duration::from_secs(lim.session_idle_secs)
            .min(deadline.saturating_duration_since(Instant::now()));
        let pending = kept.len() > searched
            && (MIN_SHELLCODE_STREAM..=MAX_EARLY_STREAM).contains(&kept.len())
            && early_searches < MAX_EARLY_SEARCHES;
        let wait = if pending {
            idle.min(SHELLCODE_QUIET)
        } else {
            idle
        };
        let n = match tokio::time::timeout(wait, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            Err(_) if pending && wait < idle => {
                // The client paused after sending: a bot that sent a
                // bind-shell exploit connects to the shell next, without
                // closing this connection first. Open the shell now.
                searched = kept.len();
                early_searches += 1;
                ctx.early_searches.fetch_add(1, Ordering::Relaxed);
                let early = analyse(ctx, kept.clone(), false, Scope::Shells).await;
                let vector = early.vectors.first().cloned();
                offer_shells(ctx, peer.ip(), local, vector, early.offers, &mut offered);
                continue;
            }
            _ => break,
        };
        bytes_in += n as u64;
        let room = lim.max_session_bytes.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        let reply = emu.feed(&buf[..n]);
        if !reply.is_empty() {
            if s.write_all(&reply).await.is_err() {
                break;
            }
            bytes_out += reply.len() as u64;
        }
    }
    drop(s);
    drop(buf);
    let desync = emu.desync_reason().map(str::to_string);
    drop(emu);
    let Analysis {
        vectors,
        details,
        instructions,
        offers,
        deobf,
    } = analyse(ctx, kept, false, Scope::All).await;
    ctx.stats.sessions.fetch_add(1, Ordering::Relaxed);
    ctx.events.send(SensorEvent::Session {
        ts,
        src: peer,
        dst: local,
        duration: start.elapsed().as_secs_f64(),
        bytes_in,
        bytes_out,
        vectors: vectors.clone(),
        details,
        instructions: instructions.clone(),
        deobf,
        desync,
    });
    let vector = vectors.first().cloned();
    offer_shells(ctx, peer.ip(), local, vector, offers, &mut offered);
    handle_instructions(
        ctx,
        peer.ip(),
        local,
        vectors.first().cloned(),
        instructions,
    )
    .await;
}

/// A session that paused this long after sending is searched for
/// shellcode before it ends.
const SHELLCODE_QUIET: Duration = Duration::from_secs(1);
/// Streams shorter than this are not searched early (no shellcode fits).
const MIN_SHELLCODE_STREAM: usize = 64;
/// Streams longer than this are searched only when the session ends (an
/// exploit carrying shellcode is a few KiB to a few tens of KiB): a
/// client trickling bytes after a megabyte cannot make the sensor search
/// the megabyte again at every pause.
const MAX_EARLY_STREAM: usize = 256 * 1024;
/// At most this many early searches per session.
const MAX_EARLY_SEARCHES: usize = 4;

/// Serves each shell in `offers` not already in `offered` (on its own
/// task), and remembers it there.
fn offer_shells(
    ctx: &Arc<Ctx>,
    attacker: IpAddr,
    sensor: SocketAddr,
    vector: Option<String>,
    offers: Vec<ShellOffer>,
    offered: &mut Vec<ShellOffer>,
) {
    for offer in offers {
        if offered.contains(&offer) {
            continue;
        }
        offered.push(offer);
        let (ctx, vector) = (ctx.clone(), vector.clone());
        tokio::spawn(async move {
            crate::shell_session::serve_offer(&ctx, attacker, sensor, vector, offer).await
        });
    }
}

/// Classifies a client stream (or, with `udp135`, a Messenger datagram)
/// and finds its download instructions, on the blocking pool and at most
/// `limits.analyses_concurrent` at once: a megabyte of hostile payload
/// never stalls the listeners on the async workers.
async fn analyse(ctx: &Arc<Ctx>, data: Vec<u8>, udp135: bool, scope: Scope) -> Analysis {
    // An empty stream (a scan, a connection reset before it sent) carries
    // nothing any search could find: no blocking-pool round trip for it.
    if data.is_empty() {
        return Analysis::default();
    }
    let Ok(_permit) = ctx.analyses.acquire().await else {
        return Default::default();
    };
    tokio::task::spawn_blocking(move || analyse_payload(&data, udp135, scope))
        .await
        .unwrap_or_default()
}

/// Tries the instructions in order until one download succeeds; every
/// refusal and failure is logged.
async fn handle_instructions(
    ctx: &Arc<Ctx>,
    attacker: IpAddr,
    sensor: SocketAddr,
    vector: Option<String>,
    instructions: Vec<DownloadInstruction>,
) {
    for instr in instructions {
        let got = download_one(ctx, attacker, sensor, vector.clone(), instr, None).await;
        if matches!(got, FetchOutcome::Stored(_)) {
            return;
        }
    }
}

/// Carries out one download instruction from `attacker` against the
/// attacked `sensor` address, within containment and the limits, and
/// logs it (`download` or `refused`). `shell` says which shell it was
/// typed into, if any.
pub(crate) async fn download_one(
    ctx: &Arc<Ctx>,
    attacker: IpAddr,
    sensor: SocketAddr,
    vector: Option<String>,
    instr: DownloadInstruction,
    shell: Option<ShellKind>,
) -> FetchOutcome {
    let refuse = |reason: Refusal| {
        ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
        ctx.events.send(SensorEvent::Refused {
            ts: now(),
            attacker,
            instruction: instr.clone(),
            reason,
        });
        FetchOutcome::Refused
    };
    let target = match target_for(&instr, attacker) {
        Ok(t) => t,
        Err(r) => return refuse(r),
    };
    if let DownloadInstruction::BindPort { port } = &instr {
        if let Err(r) = check_bind_port(*port, &ctx.own_ports()) {
            return refuse(r);
        }
    }
    let Some(_slot) = ctx.source_downloads.try_acquire(attacker) else {
        return refuse(Refusal::SourceQuota {
            addr: attacker,
            limit: ctx.source_downloads.limit(),
        });
    };
    let _permit = match ctx.limiter.acquire() {
        Ok(p) => p,
        Err(r) => return refuse(r),
    };
    let result = fetch(&instr, target, sensor.ip(), ctx.download_caps()).await;
    let mut copy_method = planned_copy_method(&instr).to_string();
    let (sha256, size, error) = match result {
        Ok(got) if !got.data.is_empty() => {
            copy_method = got.copy_method.to_string();
            let meta = DownloadMeta {
                ts: now(),
                attacker,
                sensor,
                vector: vector.clone(),
                copy_method: copy_method.clone(),
                protocol: instr.method().to_string(),
                file_name: file_name(&instr),
                shell,
            };
            store_download(ctx, attacker, got.data, meta).await
        }
        Ok(_) => (None, 0, Some("empty download".to_string())),
        Err(e) => (None, 0, Some(e.to_string())),
    };
    let outcome = if error.is_none() {
        ctx.stats.downloads_ok.fetch_add(1, Ordering::Relaxed);
        FetchOutcome::Stored(size)
    } else {
        ctx.stats.downloads_failed.fetch_add(1, Ordering::Relaxed);
        FetchOutcome::Failed
    };
    ctx.events.send(SensorEvent::Download {
        ts: now(),
        attacker,
        instruction: instr,
        vector,
        copy_method,
        shell,
        sha256,
        size,
        error,
    });
    outcome
}

/// Stores one download on a blocking worker: hashing, analysis and the
/// file-system flush never run on the async workers, and a panic in any
/// of them costs this specimen's analysis (or this one store), never the
/// sensor's ability to store the next. Returns (SHA-256, size, error) for
/// the `download` event; panics are logged as `error` events.
async fn store_download(
    ctx: &Arc<Ctx>,
    attacker: IpAddr,
    data: Vec<u8>,
    meta: DownloadMeta,
) -> (Option<String>, usize, Option<String>) {
    let size = data.len();
    let sink = ctx.sink.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sink.store_checked(&data, &meta)
        }));
        (result, data)
    })
    .await;
    let error_event = |sha256: Option<String>, message: String| {
        ctx.stats.errors.fetch_add(1, Ordering::Relaxed);
        ctx.events.send(SensorEvent::Error {
            ts: now(),
            attacker,
            sha256,
            message,
        });
    };
    match joined {
        Ok((Ok(Ok(stored)), _)) => {
            if let Some(e) = stored.analysis_error {
                error_event(
                    Some(stored.sha256.clone()),
                    format!("analysis of {} failed: {e}", stored.sha256),
                );
            }
            (Some(stored.sha256), size, None)
        }
        Ok((Ok(Err(e)), data)) => (
            Some(hex::encode(Sha256::digest(&data))),
            size,
            Some(e.to_string()),
        ),
        Ok((Err(panic), data)) => {
            let sha = hex::encode(Sha256::digest(&data));
            let message = format!("storing {sha} panicked: {}", panic_message(&*panic));
            error_event(Some(sha.clone()), message.clone());
            (Some(sha), size, Some(message))
        }
        Err(e) => {
            let message = format!("store worker failed: {e}");
            error_event(None, message.clone());
            (None, size, Some(message))
        }
    }
}

/// The text a panic was raised with.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

fn file_name(i: &DownloadInstruction) -> Option<String> {
    match i {
        DownloadInstruction::Tftp { file, .. } | DownloadInstruction::Ftp { file, .. } => {
            Some(file.clone())
        }
        DownloadInstruction::Http { path, .. } | DownloadInstruction::FtpUrl { path, .. } => {
            path.rsplit('/').next().map(str::to_string)
        }
        _ => None,
    }
}

async fn udp_loop(u: UdpSocket, ctx: Arc<Ctx>) {
    let local = u.local_addr().ok();
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, peer)) = u.recv_from(&mut buf).await else {
            continue;
        };
        ctx.stats.datagrams.fetch_add(1, Ordering::Relaxed);
        let dst = local.unwrap_or(peer);
        // Awaited before the next datagram: a flood waits in the kernel's
        // socket buffer (and is dropped there), not in the sensor's memory.
        let Analysis {
            vectors,
            instructions,
            offers,
            deobf,
            ..
        } = analyse(&ctx, buf[..n].to_vec(), dst.port() == 135, Scope::All).await;
        ctx.events.send(SensorEvent::Datagram {
            ts: now(),
            src: peer,
            dst,
            bytes: n,
            vectors: vectors.clone(),
            instructions: instructions.clone(),
            deobf,
        });
        let confirmed = ctx.handshakes.is_confirmed(peer.ip());
        for offer in offers {
            if confirmed {
                let (ctx, vector) = (ctx.clone(), vectors.first().cloned());
                tokio::spawn(async move {
                    crate::shell_session::serve_offer(&ctx, peer.ip(), dst, vector, offer).await
                });
            } else {
                ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
                ctx.events.send(SensorEvent::ShellRefused {
                    ts: now(),
                    attacker: peer.ip(),
                    offer,
                    reason: Refusal::UnconfirmedSource { addr: peer.ip() },
                });
            }
        }
        if !instructions.is_empty() && !confirmed {
            // The datagram's source may be forged: acting on it would
            // fetch from, or connect to, whoever the sender named as source.
            for instruction in instructions {
                ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
                ctx.events.send(SensorEvent::Refused {
                    ts: now(),
                    attacker: peer.ip(),
                    instruction,
                    reason: Refusal::UnconfirmedSource { addr: peer.ip() },
                });
            }
        } else if !instructions.is_empty() {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                handle_instructions(&ctx, peer.ip(), dst, vectors.first().cloned(), instructions)
                    .await;
            });
        }
    }
}

/// Stores downloads in the specimen store with source `sensor`.
pub struct StoreSink(pub std::sync::Mutex<botscope_specimen::Store>);

impl StoreSink {
    /// The store, also after a panic while it was locked (a poisoned lock
    /// is taken over: the store's own writes are transactions).
    fn lock(&self) -> std::sync::MutexGuard<'_, botscope_specimen::Store> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SpecimenSink for StoreSink {
    fn store(&self, data: &[u8], meta: &DownloadMeta) -> Result<String, StoreError> {
        self.store_checked(data, meta).map(|s| s.sha256)
    }

    /// Hashes, quarantines and analyses without the store lock (only the
    /// "already stored?" lookup and the commit, with its `syncfs`, hold
    /// it). A panic in the analysis is caught: the file is stored with a
    /// row whose analysis records the failure.
    fn store_checked(&self, data: &[u8], meta: &DownloadMeta) -> Result<Stored, StoreError> {
        use botscope_specimen::store::{NewRecord, Prepared, Sighting};
        let hashes = botscope_specimen::analysis::hashes(data);
        let sha256 = hashes.sha256.clone();
        let (quarantine, known) = {
            let store = self.lock();
            let known = store.get(&sha256)?.is_some();
            (store.quarantine(), known)
        };
        let path = quarantine.path_of(&sha256);
        let wrote_file = !path.exists();
        if wrote_file {
            quarantine
                .write(&sha256, data, &Default::default())
                .map_err(|source| StoreError::Quarantine {
                    path: path.clone(),
                    source,
                })?;
        }
        let mut specimen = Prepared {
            hashes,
            size: data.len() as u64,
            record: None,
            wrote_file,
        };
        let mut analysis_error = None;
        if !known {
            let analysed = std::panic::catch_unwind(|| {
                #[cfg(test)]
                tests::analysis_fault(data);
                NewRecord::from_analysis(&botscope_specimen::analyze(data))
            });
            specimen.record = Some(match analysed {
                Ok(Ok(record)) => record,
                failed => {
                    let e = match failed {
                        Ok(Err(e)) => e.to_string(),
                        Err(p) => format!("analysis panicked: {}", panic_message(&*p)),
                        Ok(Ok(_)) => unreachable!(),
                    };
                    let json = serde_json::json!({ "analysis_error": e }).to_string();
                    analysis_error = Some(e);
                    NewRecord {
                        file_type: "other",
                        imphash: None,
                        fuzzy: String::new(),
                        analysis_json: json,
                    }
                }
            });
        }
        self.lock().commit(&[Sighting {
            specimen,
            seen: meta.ts.secs(),
            source: botscope_specimen::Source::Sensor,
        }])?;
        Ok(Stored {
            sha256,
            analysis_error,
        })
    }

    /// The store folder and everything in it (database, WAL, quarantine
    /// folders) becomes the sensor user's: it was opened, and perhaps
    /// created, as root, and the sensor writes to it after the switch.
    fn hand_over(&self, uid: u32, gid: u32) -> std::io::Result<()> {
        let store = self.lock();
        chown_tree(store.root(), uid, gid)
    }
}

/// `lchown` of `root` and everything below it (symbolic links are not
/// followed). Quarantined files keep their mode (0444).
pub fn chown_tree(root: &std::path::Path, uid: u32, gid: u32) -> std::io::Result<()> {
    let named = |p: &std::path::Path, e: std::io::Error| {
        std::io::Error::new(
            e.kind(),
            format!("handing {} to uid {uid}: {e}", p.display()),
        )
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).map_err(|e| named(&p, e))?;
        let meta = std::fs::symlink_metadata(&p).map_err(|e| named(&p, e))?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&p).map_err(|e| named(&p, e))? {
                stack.push(entry.map_err(|e| named(&p, e))?.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Specimens starting with this make the analysis panic (test builds
    /// only), like a parser bug hit by one hostile binary.
    const PANIC_MARKER: &[u8] = b"BOTSCOPE-TEST-PANIC-IN-ANALYSIS";

    pub(super) fn analysis_fault(data: &[u8]) {
        if data.starts_with(PANIC_MARKER) {
            panic!("injected analysis fault");
        }
    }

    fn meta() -> DownloadMeta {
        DownloadMeta {
            ts: Ts(1_700_000_000_000_000),
            attacker: "127.0.0.2".parse().unwrap(),
            sensor: "127.0.0.1:445".parse().unwrap(),
            vector: None,
            copy_method: "tftp_get".into(),
            protocol: "tftp".into(),
            file_name: Some("x.exe".into()),
            shell: None,
        }
    }

    fn ctx_with(sink: Arc<dyn SpecimenSink>) -> (Arc<Ctx>, mpsc::Receiver<SensorEvent>) {
        let cfg = SensorConfig::parse("addresses = [\"127.0.0.1\"]").unwrap();
        let (tx, rx) = event_channel(1024);
        let ctx = Ctx::new(cfg, sink, tx, Arc::new(SensorStats::default()));
        (Arc::new(ctx), rx)
    }

    fn sha(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn store_sink(dir: &std::path::Path) -> Arc<StoreSink> {
        let store = botscope_specimen::Store::open(dir).unwrap();
        Arc::new(StoreSink(std::sync::Mutex::new(store)))
    }

    #[tokio::test]
    async fn analysis_panic_is_logged_and_the_next_download_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let sink = store_sink(dir.path());
        let (ctx, mut rx) = ctx_with(sink.clone());
        let attacker: IpAddr = "127.0.0.2".parse().unwrap();

        let mut bad = PANIC_MARKER.to_vec();
        bad.extend_from_slice(&[0x90; 1000]);
        let (h, size, error) = store_download(&ctx, attacker, bad.clone(), meta()).await;
        assert_eq!(h.as_deref(), Some(sha(&bad).as_str()));
        assert_eq!(size, PANIC_MARKER.len() + 1000);
        assert_eq!(
            error, None,
            "the file is stored although its analysis failed"
        );
        match rx.try_recv().unwrap() {
            SensorEvent::Error {
                sha256, message, ..
            } => {
                assert_eq!(sha256, Some(sha(&bad)));
                assert!(message.contains("injected analysis fault"), "{message}");
                assert!(message.contains(&sha(&bad)), "{message}");
            }
            other => panic!("expected an error event, got {other:?}"),
        }
        assert_eq!(ctx.stats.errors.load(Ordering::Relaxed), 1);

        let good = b"MZ synthetic specimen, never executed".repeat(40);
        let (h, size, error) = store_download(&ctx, attacker, good.clone(), meta()).await;
        assert_eq!(h.as_deref(), Some(sha(&good).as_str()));
        assert_eq!(size, good.len());
        assert_eq!(error, None);
        assert!(rx.try_recv().is_err(), "no error event for a good specimen");
        assert_eq!(ctx.stats.errors.load(Ordering::Relaxed), 1);

        assert!(!sink.0.is_poisoned());
        let store = sink.lock();
        assert_eq!(store.read(&sha(&bad)).unwrap(), bad);
        assert_eq!(store.read(&sha(&good)).unwrap(), good);
        let bad_row = store.get(&sha(&bad)).unwrap().unwrap();
        assert_eq!(bad_row.file_type, "other");
        assert_eq!(bad_row.size, bad.len() as u64);
        let a = store.analysis(&sha(&bad)).unwrap().unwrap();
        assert_eq!(
            a["analysis_error"],
            "analysis panicked: injected analysis fault"
        );
        assert_eq!(
            store.get(&sha(&good)).unwrap().unwrap().size,
            good.len() as u64
        );
        let a = store.analysis(&sha(&good)).unwrap().unwrap();
        assert!(a.get("analysis_error").is_none());
        assert!(a.get("file_type").is_some(), "{a}");
    }

    #[tokio::test]
    async fn a_poisoned_store_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let sink = store_sink(dir.path());
        let s2 = sink.clone();
        let _ = std::thread::spawn(move || {
            let _guard = s2.0.lock().unwrap();
            panic!("poisoning the store lock");
        })
        .join();
        assert!(sink.0.is_poisoned());
        let (ctx, _rx) = ctx_with(sink.clone());
        let data = b"synthetic payload after a poisoned lock".to_vec();
        let (h, _, error) =
            store_download(&ctx, "127.0.0.2".parse().unwrap(), data.clone(), meta()).await;
        assert_eq!(error, None);
        assert_eq!(h, Some(sha(&data)));
        assert!(sink.lock().get(&sha(&data)).unwrap().is_some());
    }

    /// A sink that panics on its first store.
    struct PanicsOnce(std::sync::atomic::AtomicBool, std::sync::Mutex<Vec<String>>);

    impl SpecimenSink for PanicsOnce {
        fn store(&self, data: &[u8], _: &DownloadMeta) -> Result<String, StoreError> {
            if !self.0.swap(true, Ordering::SeqCst) {
                panic!("sink bug");
            }
            let h = hex::encode(Sha256::digest(data));
            self.1.lock().unwrap().push(h.clone());
            Ok(h)
        }
    }

    #[tokio::test]
    async fn a_panicking_sink_costs_one_download() {
        let sink = Arc::new(PanicsOnce(Default::default(), Default::default()));
        let (ctx, mut rx) = ctx_with(sink.clone());
        let a = b"first synthetic payload".to_vec();
        let b = b"second synthetic payload".to_vec();
        let attacker: IpAddr = "127.0.0.2".parse().unwrap();
        let (h, _, error) = store_download(&ctx, attacker, a.clone(), meta()).await;
        assert_eq!(h, Some(sha(&a)));
        assert_eq!(
            error.as_deref(),
            Some(format!("storing {} panicked: sink bug", sha(&a)).as_str())
        );
        assert!(matches!(
            rx.try_recv().unwrap(),
            SensorEvent::Error { sha256: Some(s), .. } if s == sha(&a)
        ));
        let (h, _, error) = store_download(&ctx, attacker, b.clone(), meta()).await;
        assert_eq!((h, error), (Some(sha(&b)), None));
        assert_eq!(*sink.1.lock().unwrap(), vec![sha(&b)]);
    }

    /// A sink that stores nothing.
    struct NullSink;

    impl SpecimenSink for NullSink {
        fn store(&self, data: &[u8], _: &DownloadMeta) -> Result<String, StoreError> {
            Ok(sha(data))
        }
    }

    #[test]
    fn event_queue_is_bounded_and_counts_drops() {
        let (tx, mut rx) = event_channel(4);
        for i in 0..10 {
            tx.send(SensorEvent::Warning {
                ts: Ts(i),
                message: format!("event {i}"),
            });
        }
        assert_eq!(tx.dropped(), 6);
        let mut got = Vec::new();
        while let Ok(SensorEvent::Warning { message, .. }) = rx.try_recv() {
            got.push(message);
        }
        assert_eq!(got, ["event 0", "event 1", "event 2", "event 3"]);
        // Room again: the next one is queued.
        tx.send(SensorEvent::Warning {
            ts: Ts(10),
            message: "event 10".into(),
        });
        assert!(rx.try_recv().is_ok());
        assert_eq!(tx.dropped(), 6);
    }

    async fn next_event(rx: &mut mpsc::Receiver<SensorEvent>) -> SensorEvent {
        loop {
            match rx.recv().await.expect("event queue open") {
                SensorEvent::Started { .. } | SensorEvent::MemoryReleased { .. } => continue,
                ev => return ev,
            }
        }
    }

    #[tokio::test]
    async fn one_source_gets_16_of_50_sessions() {
        let cfg = SensorConfig::parse(
            "addresses = [\"127.0.0.1\"]\ntcp_ports = [0]\nudp_ports = []\n\
             [limits]\nsessions_per_source = 16\nsession_idle_secs = 3600\n",
        )
        .unwrap();
        let bound = bind(&cfg).await.unwrap();
        let addr = bound.tcp[0].local_addr().unwrap();
        let (tx, mut rx) = event_channel(1024);
        let stats = Arc::new(SensorStats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            bound,
            cfg,
            Arc::new(NullSink),
            tx,
            stats.clone(),
            async {
                let _ = stopped.await;
            },
        ));
        let mut conns = Vec::new();
        for _ in 0..50 {
            conns.push(TcpStream::connect(addr).await.unwrap());
        }
        for _ in 0..34 {
            match next_event(&mut rx).await {
                SensorEvent::SourceLimited { src, limit, .. } => {
                    assert_eq!((src.ip(), limit), (addr.ip(), 16));
                }
                other => panic!("expected source_limited, got {other:?}"),
            }
        }
        assert_eq!(stats.source_limited.load(Ordering::Relaxed), 34);
        assert_eq!(stats.accepted.load(Ordering::Relaxed), 50);
        // Another source still gets in while 127.0.0.1 holds its 16.
        let other = tokio::net::TcpSocket::new_v4().unwrap();
        other.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let mut other = other.connect(addr).await.unwrap();
        other.write_all(b"hello").await.unwrap();
        drop(other);
        match next_event(&mut rx).await {
            SensorEvent::Session { src, bytes_in, .. } => {
                assert_eq!((src.ip().to_string(), bytes_in), ("127.0.0.2".into(), 5));
            }
            other => panic!("expected the other source's session, got {other:?}"),
        }
        // Closing everything gives the 16 slots back: 16 sessions end.
        drop(conns);
        for _ in 0..16 {
            assert!(matches!(
                next_event(&mut rx).await,
                SensorEvent::Session { src, .. } if src.ip() == addr.ip()
            ));
        }
        // ...and 20 new connections get exactly 16 again.
        let mut conns = Vec::new();
        for _ in 0..20 {
            conns.push(TcpStream::connect(addr).await.unwrap());
        }
        for _ in 0..4 {
            assert!(matches!(
                next_event(&mut rx).await,
                SensorEvent::SourceLimited { .. }
            ));
        }
        assert_eq!(stats.source_limited.load(Ordering::Relaxed), 38);
        drop(conns);
        for _ in 0..16 {
            assert!(matches!(
                next_event(&mut rx).await,
                SensorEvent::Session { .. }
            ));
        }
        assert_eq!(stats.sessions.load(Ordering::Relaxed), 33);
        let _ = stop.send(());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn one_source_gets_2_downloads_at_once() {
        let cfg = SensorConfig::parse(
            "addresses = [\"127.0.0.1\"]\n[limits]\ndownloads_per_source = 2\n",
        )
        .unwrap();
        let (tx, mut rx) = event_channel(1024);
        let ctx = Arc::new(Ctx::new(
            cfg,
            Arc::new(NullSink),
            tx,
            Arc::new(SensorStats::default()),
        ));
        // The "attacker" offers its binary on a port and holds every
        // connection open until told.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let sensor: SocketAddr = "127.0.0.1:445".parse().unwrap();
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let ctx = ctx.clone();
            tasks.push(tokio::spawn(async move {
                let instr = vec![DownloadInstruction::Push { port }];
                handle_instructions(&ctx, attacker, sensor, None, instr).await;
            }));
        }
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(l.accept().await.unwrap().0);
        }
        for _ in 0..3 {
            match next_event(&mut rx).await {
                SensorEvent::Refused { reason, .. } => assert_eq!(
                    reason,
                    Refusal::SourceQuota {
                        addr: attacker,
                        limit: 2
                    }
                ),
                other => panic!("expected a source_quota refusal, got {other:?}"),
            }
        }
        for (i, mut s) in held.into_iter().enumerate() {
            s.write_all(format!("synthetic binary {i}").as_bytes())
                .await
                .unwrap();
        }
        let mut stored = Vec::new();
        for _ in 0..2 {
            match next_event(&mut rx).await {
                SensorEvent::Download { sha256, error, .. } => {
                    assert_eq!(error, None);
                    stored.push(sha256.unwrap());
                }
                other => panic!("expected a download, got {other:?}"),
            }
        }
        stored.sort();
        let mut want = vec![sha(b"synthetic binary 0"), sha(b"synthetic binary 1")];
        want.sort();
        assert_eq!(stored, want);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(ctx.stats.refused.load(Ordering::Relaxed), 3);
        assert_eq!(ctx.stats.downloads_ok.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn bindport_refuses_privileged_and_own_ports() {
        let cfg = SensorConfig::parse("addresses = [\"127.0.0.1\"]\n").unwrap();
        let (tx, mut rx) = event_channel(1024);
        let ctx = Arc::new(Ctx::new(
            cfg,
            Arc::new(NullSink),
            tx,
            Arc::new(SensorStats::default()),
        ));
        let attacker: IpAddr = "127.0.0.1".parse().unwrap();
        let sensor: SocketAddr = "127.0.0.1:445".parse().unwrap();
        let instr = [80u16, 1023, 445, 2745]
            .into_iter()
            .map(|port| DownloadInstruction::BindPort { port })
            .collect();
        handle_instructions(&ctx, attacker, sensor, None, instr).await;
        for port in [80u16, 1023, 445, 2745] {
            match next_event(&mut rx).await {
                SensorEvent::Refused { reason, .. } => {
                    assert_eq!(reason, Refusal::ReservedPort { port })
                }
                other => panic!("expected reserved_port for {port}, got {other:?}"),
            }
        }
        assert_eq!(ctx.stats.refused.load(Ordering::Relaxed), 4);
    }

    #[tokio::test]
    async fn early_shellcode_searches_are_bounded() {
        let cfg = SensorConfig::parse(
            "addresses = [\"127.0.0.1\"]\ntcp_ports = [0]\nudp_ports = []\n\
             [limits]\nsession_idle_secs = 30\nmax_session_bytes = 1048576\n",
        )
        .unwrap();
        let bound = bind(&cfg).await.unwrap();
        let addr = bound.tcp[0].local_addr().unwrap();
        let (tx, mut rx) = event_channel(1024);
        let sink: Arc<dyn SpecimenSink> = Arc::new(NullSink);
        let ctx = Arc::new(Ctx::new(cfg, sink, tx, Arc::new(SensorStats::default())));
        let l = bound.tcp.into_iter().next().unwrap();
        tokio::spawn(accept_loop(l, ctx.clone()));
        let pause = || tokio::time::sleep(Duration::from_millis(1300));
        // 100 bytes, then a byte after each of 6 pauses: 4 searches, not 6.
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&[0x41; 100]).await.unwrap();
        for _ in 0..6 {
            pause().await;
            s.write_all(b"B").await.unwrap();
        }
        pause().await;
        assert_eq!(ctx.early_searches.load(Ordering::Relaxed), 4);
        // Fewer than 64 bytes, or more than 256 KiB: none.
        let mut small = TcpStream::connect(addr).await.unwrap();
        small.write_all(&[0x41; 63]).await.unwrap();
        let mut big = TcpStream::connect(addr).await.unwrap();
        big.write_all(&vec![0x41; 300 * 1024]).await.unwrap();
        pause().await;
        pause().await;
        assert_eq!(ctx.early_searches.load(Ordering::Relaxed), 4);
        drop((s, small, big));
        for _ in 0..3 {
            assert!(matches!(
                next_event(&mut rx).await,
                SensorEvent::Session { .. }
            ));
        }
    }
}
