//! `botscope capture`: read capture files (or a live interface) into
//! conn/dns/irc/ftp/tftp/http logs, as JSON Lines or Zeek TSV. JSON Lines
//! also carries the behaviour observations (exploit, binary, flood, scan,
//! relay events), so `botscope analyze --events` can run on the file.

use anyhow::Context;
use botscope_capture::{
    open_live, read_files, CaptureSummary, EngineConfig, PacketInfo, ProgressSink,
};
use botscope_core::events::Event;
use botscope_dissect::logs::{Format, LogWriter};
use botscope_dissect::observe::{Limits, Observer};
use botscope_dissect::{Analyzer, Record, Stats};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use workers::read_parallel;

mod workers;

/// Arguments of `botscope capture`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Read pcap/pcapng files (one run: flows continue across files), or a
    /// live interface with `--interface`.
    Read(ReadArgs),
    /// Capture from a live interface (same as `read --interface IF`).
    Live(LiveArgs),
}

#[derive(clap::ValueEnum, Clone, Copy)]
enum FormatArg {
    /// JSON Lines: every event in `events.jsonl`, with the behaviour
    /// observations (exploit, binary, flood, scan, relay) at the end.
    Json,
    /// Zeek TSV: conn.log, dns.log, irc.log, ftp.log, tftp.log, http.log.
    Zeek,
}

#[derive(clap::Args)]
struct Common {
    /// Folder for the logs (created if missing).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Log format.
    #[arg(long, value_enum, default_value = "zeek")]
    format: FormatArg,
    /// Hard cap on flow, reassembly and dissector memory (line, header
    /// and detection buffers), in bytes; over it the least recently
    /// active flows are ended early.
    #[arg(long, default_value_t = 1 << 30)]
    memory_cap: usize,
    /// Accept packets with bad TCP/UDP checksums (like `zeek -C`; needed
    /// for captures taken on the sending host with checksum offload).
    /// Same as `--checksums off`.
    #[arg(long)]
    no_checksums: bool,
    /// IP/TCP/UDP checksum validation: `auto` (validate unless more than
    /// 1 in 10 of the first 1000 packets are bad, i.e. checksum offload),
    /// `on` (drop and count bad packets, like Zeek), `off` (like `zeek -C`).
    #[arg(long, default_value = "auto", value_name = "auto|on|off")]
    checksums: botscope_capture::ChecksumMode,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ReadArgs {
    /// Capture files (pcap or pcapng, optionally .gz/.zst).
    files: Vec<PathBuf>,
    /// Capture from this interface instead of files.
    #[arg(long)]
    interface: Option<String>,
    /// BPF filter for live capture.
    #[arg(long)]
    filter: Option<String>,
    /// Stop a live capture after this many packets.
    #[arg(long)]
    count: Option<u64>,
    /// Stop a live capture after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    /// Only walk the records (no decoding): the reading ceiling, for benchmarks.
    #[arg(long, hide = true)]
    walk_only: bool,
    /// Worker threads: flows spread by their outermost address pair, each
    /// worker with its own engine and dissectors, logs merged in a fixed
    /// order (same rows as one thread). Zeek format only.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: u16,
    #[command(flatten)]
    privs: DropArgs,
    #[command(flatten)]
    common: Common,
}

/// Who dissects a live capture started as root.
#[derive(clap::Args)]
struct DropArgs {
    /// Live capture started as root: the user to switch to once the
    /// interface is open, before any packet is dissected (default: nobody).
    /// `--user root` keeps root.
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Live capture started as root: keep root while dissecting (same as
    /// `--user root`; not recommended: the dissectors parse hostile traffic).
    #[arg(long, conflicts_with = "user")]
    no_drop: bool,
}

#[derive(clap::Args)]
struct LiveArgs {
    /// Interface to capture on.
    #[arg(long)]
    interface: String,
    /// BPF filter.
    #[arg(long)]
    filter: Option<String>,
    /// Stop after this many packets.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    duration: Option<f64>,
    #[command(flatten)]
    privs: DropArgs,
    #[command(flatten)]
    common: Common,
}

/// Runs `botscope capture`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Read(a) => match a.interface {
            Some(_) if a.workers > 1 => {
                anyhow::bail!("--workers is for capture files; a live capture runs on one thread")
            }
            Some(iface) => live(
                &iface,
                a.filter.as_deref(),
                a.count,
                a.duration,
                &a.privs,
                &a.common,
            ),
            None => {
                anyhow::ensure!(!a.files.is_empty(), "give capture files or --interface");
                if a.walk_only {
                    let (mut packets, mut bytes) = (0, 0);
                    for f in &a.files {
                        let (p, b) = botscope_capture::walk_records(f)?;
                        packets += p;
                        bytes += b;
                    }
                    println!("packets {packets}  bytes {bytes}");
                    return Ok(ExitCode::SUCCESS);
                }
                if a.workers > 1 {
                    return read_parallel(&a.files, &a.common, a.workers as usize);
                }
                read(&a.files, &a.common)
            }
        },
        Sub::Live(a) => live(
            &a.interface,
            a.filter.as_deref(),
            a.count,
            a.duration,
            &a.privs,
            &a.common,
        ),
    }
}

fn config(c: &Common) -> EngineConfig {
    EngineConfig {
        memory_cap: c.memory_cap,
        verify_checksums: !c.no_checksums,
        checksums: c.checksums,
        ..Default::default()
    }
}

/// Records handed to the writer thread at a time.
const WRITE_BATCH: usize = 512;

/// Lines written per log file.
type Written = std::collections::BTreeMap<String, u64>;

/// The writer side of the analyzer: records go in batches to a thread
/// that formats and writes them, so log serialisation overlaps packet
/// decoding and dissection.
struct Writer {
    batch: Vec<Record>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<Record>>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<Written>>>,
}

impl Writer {
    fn new(c: &Common) -> anyhow::Result<Writer> {
        let format = match c.format {
            FormatArg::Json => Format::Json,
            FormatArg::Zeek => Format::Zeek,
        };
        let mut logs = LogWriter::new(&c.out, format)
            .with_context(|| format!("cannot write to {}", c.out.display()))?;
        let mut conns = (format == Format::Zeek).then(|| ConnLog::new(c.out.clone()));
        // A few batches in flight: decoding never waits on one slow write,
        // and memory stays bounded when the disk is slower than decoding.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Record>>(8);
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || {
                for batch in rx {
                    for r in &batch {
                        match (&mut conns, &r.event) {
                            (Some(cl), Event::Conn(conn)) => cl.write(conn)?,
                            _ => logs.write(r)?,
                        }
                    }
                }
                let mut written = logs.finish()?;
                if let Some(cl) = conns {
                    cl.finish(&mut written)?;
                }
                Ok(written)
            })
            .context("starting the log writer thread")?;
        Ok(Writer {
            batch: Vec::with_capacity(WRITE_BATCH),
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    fn send_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let b = std::mem::replace(&mut self.batch, Vec::with_capacity(WRITE_BATCH));
        // A send fails only when the thread stopped on a write error,
        // which `close` reports.
        if self.tx.as_ref().is_some_and(|tx| tx.send(b).is_err()) {
            self.tx = None;
        }
    }

    /// Writes what is left, closes the logs and gives the line counts.
    fn close(mut self) -> std::io::Result<Written> {
        self.send_batch();
        drop(self.tx.take());
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(res)) => res,
            Some(Err(_)) => Err(std::io::Error::other("log writer thread panicked")),
            None => Ok(Written::new()),
        }
    }
}

/// conn.log in Zeek TSV, rows formatted by `botscope_capture::connlog`
/// into one reused buffer (the same bytes as `LogWriter`'s generic rows,
/// at about a fifth of the instructions: conn rows are most of the log
/// writer's work on scan-heavy captures). Created on the first row, like
/// every log.
struct ConnLog {
    dir: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    lines: u64,
    row: Vec<u8>,
}

impl ConnLog {
    fn new(dir: PathBuf) -> ConnLog {
        ConnLog {
            dir,
            file: None,
            lines: 0,
            row: Vec::with_capacity(512),
        }
    }

    fn write(&mut self, conn: &botscope_core::events::Conn) -> std::io::Result<()> {
        let w = match &mut self.file {
            Some(w) => w,
            None => {
                let f = std::fs::File::create(self.dir.join("conn.log"))?;
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                botscope_dissect::logs::write_zeek_header(&mut w, &botscope_dissect::logs::CONN)?;
                self.file.insert(w)
            }
        };
        self.row.clear();
        botscope_capture::connlog::write_conn_row(conn, &mut self.row);
        self.lines += 1;
        std::io::Write::write_all(w, &self.row)
    }

    /// Writes the `#close` line, flushes, and adds the line count.
    fn finish(self, written: &mut Written) -> std::io::Result<()> {
        use std::io::Write;
        let Some(mut w) = self.file else {
            return Ok(());
        };
        writeln!(w, "#close\t{}", botscope_capture::connlog::zeek_time_now())?;
        w.flush()?;
        written.insert("conn.log".to_string(), self.lines);
        Ok(())
    }
}

impl botscope_dissect::RecordSink for Writer {
    fn record(&mut self, r: Record) {
        if self.tx.is_some() {
            self.batch.push(r);
            if self.batch.len() >= WRITE_BATCH {
                self.send_batch();
            }
        }
    }
}

fn read(files: &[PathBuf], c: &Common) -> anyhow::Result<ExitCode> {
    let mut an = Analyzer::new(Writer::new(c)?);
    // The observer after it ignores conn records: move them, not clone.
    an.take_conn = true;
    an.set_file_names(files.iter().map(|p| p.display().to_string()).collect());
    let bar = progress_bar(files);
    let mut observer = observer_for(c);
    let started = std::time::Instant::now();
    let summary = {
        let mut pending = 0u64;
        let mut sink = ProgressSink::new(&mut an, |pkt: &PacketInfo<'_>| {
            if let Some(b) = &bar {
                // Record header plus link header, roughly: progress is an estimate.
                pending += pkt.ip_len as u64 + 30;
                if pending > 1 << 22 {
                    b.inc(pending);
                    pending = 0;
                }
            }
        });
        match observer.as_mut() {
            Some(o) => read_files(files, &config(c), &mut (&mut sink, o))?,
            None => read_files(files, &config(c), &mut sink)?,
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    finish(an, observer, summary, started, c)
}

/// A progress bar on stderr for inputs over 64 MB when stderr is a
/// terminal.
fn progress_bar(files: &[PathBuf]) -> Option<indicatif::ProgressBar> {
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    (std::io::stderr().is_terminal() && total > 64 << 20).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    })
}

/// The user a live capture started as root switches to: `None` to keep
/// the current user (not root, `--no-drop`, `--user root`).
fn drop_target(d: &DropArgs, iface: &str) -> anyhow::Result<Option<(String, u32, u32)>> {
    // SAFETY: plain libc call.
    let root = unsafe { libc::geteuid() } == 0;
    if d.no_drop || d.user.as_deref() == Some("root") {
        if root {
            eprintln!("botscope: keeping root while dissecting {iface} (asked for)");
        }
        return Ok(None);
    }
    if !root {
        if let Some(u) = &d.user {
            eprintln!("botscope: not running as root: --user {u} ignored");
        }
        return Ok(None);
    }
    let user = d.user.clone().unwrap_or_else(|| "nobody".to_string());
    let (uid, gid) = lookup_user(&user)?;
    if d.user.is_none() {
        eprintln!(
            "botscope: running as root: {iface} is opened as root, then packets are dissected as \
             user nobody (--user NAME for another user, --no-drop to keep root)"
        );
    }
    Ok((uid != 0).then_some((user, uid, gid)))
}

/// The uid and gid of `user` (getpwnam).
fn lookup_user(user: &str) -> anyhow::Result<(u32, u32)> {
    let name = std::ffi::CString::new(user).context("--user holds a NUL")?;
    // SAFETY: NUL-terminated name; the passwd record is read at once, before
    // any other call that could reuse it (no other thread looks users up).
    unsafe {
        let pw = libc::getpwnam(name.as_ptr());
        anyhow::ensure!(!pw.is_null(), "--user {user}: no such user");
        Ok(((*pw).pw_uid, (*pw).pw_gid))
    }
}

/// Switches every thread to `uid`:`gid` with no supplementary groups
/// (glibc applies set*id to all threads) and checks root cannot be regained.
fn switch_user(uid: u32, gid: u32) -> anyhow::Result<()> {
    // SAFETY: plain libc calls.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            anyhow::bail!(
                "dropping privileges to {uid}:{gid}: {}",
                std::io::Error::last_os_error()
            );
        }
        anyhow::ensure!(
            libc::setuid(0) != 0 && libc::geteuid() == uid,
            "dropping privileges: root could be regained"
        );
    }
    Ok(())
}

fn live(
    iface: &str,
    filter: Option<&str>,
    count: Option<u64>,
    duration: Option<f64>,
    privs: &DropArgs,
    c: &Common,
) -> anyhow::Result<ExitCode> {
    let target = drop_target(privs, iface)?;
    // The output folder is created now, as root; the log files are created
    // by the writer on first use, i.e. after the drop, as the user.
    let existed = c.out.exists();
    let mut an = Analyzer::new(Writer::new(c)?);
    // The observer after it ignores conn records: move them, not clone.
    an.take_conn = true;
    an.set_file_names(vec![iface.to_string()]);
    let stop = Arc::new(AtomicBool::new(false));
    if let Some(d) = duration {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs_f64(d.max(0.0)));
            stop.store(true, Ordering::Relaxed);
        });
    }
    // Open the interface (needs root / CAP_NET_RAW), then drop privileges
    // before the first packet reaches a dissector.
    let cap = open_live(iface, filter)?;
    if let Some((user, uid, gid)) = &target {
        if !existed {
            std::os::unix::fs::chown(&c.out, Some(*uid), Some(*gid))
                .with_context(|| format!("handing {} to {user}", c.out.display()))?;
        }
        switch_user(*uid, *gid)?;
        let check = c
            .out
            .join(format!(".botscope-write-check-{}", std::process::id()));
        std::fs::File::create(&check)
            .and_then(|_| std::fs::remove_file(&check))
            .with_context(|| {
                format!(
                    "as user {user}, cannot create files in {}: give a new --out folder \
                     (botscope creates it for {user}), make it writable for {user}, or --user root",
                    c.out.display()
                )
            })?;
    }
    let mut observer = observer_for(c);
    let started = std::time::Instant::now();
    let summary = match observer.as_mut() {
        Some(o) => cap.run(&config(c), &mut (&mut an, o), &stop, count)?,
        None => cap.run(&config(c), &mut an, &stop, count)?,
    };
    finish(an, observer, summary, started, c)
}

#[derive(serde::Serialize)]
struct Summary<'a> {
    capture: &'a CaptureSummary,
    dissect: &'a Stats,
    seconds: f64,
    logs: std::collections::BTreeMap<String, u64>,
    out: String,
}

/// The behaviour observer, for JSON Lines output only (Zeek TSV has no
/// log for its events).
fn observer_for(c: &Common) -> Option<Observer> {
    matches!(c.format, FormatArg::Json).then(|| Observer::new(Limits::default()))
}

fn finish(
    mut an: Analyzer<Writer>,
    observer: Option<Observer>,
    summary: CaptureSummary,
    started: std::time::Instant,
    c: &Common,
) -> anyhow::Result<ExitCode> {
    an.finish();
    let mut stats = an.stats.clone();
    if let Some(mut o) = observer {
        o.finish();
        for event in o.events() {
            let kind = match &event {
                botscope_core::events::Event::Exploit(_) => "exploit",
                botscope_core::events::Event::Binary(_) => "binary",
                botscope_core::events::Event::Flood { .. } => "flood",
                botscope_core::events::Event::Scan(_) => "scan",
                _ => "relay",
            };
            *stats.events.entry(kind.to_string()).or_default() += 1;
            botscope_dissect::RecordSink::record(
                an.sink_mut(),
                Record {
                    event,
                    dns_opcode: None,
                    irc_log_row: false,
                },
            );
        }
    }
    let logs = an
        .into_sink()
        .close()
        .with_context(|| format!("writing logs to {}", c.out.display()))?;
    report(&summary, &stats, logs, started, c)
}

/// Prints the run summary (text or JSON).
fn report(
    summary: &CaptureSummary,
    stats: &Stats,
    logs: Written,
    started: std::time::Instant,
    c: &Common,
) -> anyhow::Result<ExitCode> {
    let secs = started.elapsed().as_secs_f64();
    let s = Summary {
        capture: summary,
        dissect: stats,
        seconds: secs,
        logs,
        out: c.out.display().to_string(),
    };
    if c.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "packets {}  bytes {}  flows {}  ({:.2} s, {:.1} MB/s)",
        summary.packets,
        summary.bytes,
        summary.flows,
        secs,
        summary.bytes as f64 / 1e6 / secs.max(1e-9)
    );
    let kinds: Vec<String> = stats
        .events
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "events  {}",
        if kinds.is_empty() {
            "none".into()
        } else {
            kinds.join(", ")
        }
    );
    let services: Vec<String> = stats
        .services
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !services.is_empty() {
        println!("services {}", services.join(", "));
    }
    println!("{}", summary.checksums);
    if summary.evicted_memory > 0 {
        println!(
            "memory  cap {} B reached: {} flows ended early ({} for dissector bytes); peak {} B, dissectors {} B",
            c.memory_cap,
            summary.evicted_memory,
            summary.evicted_sink_memory,
            summary.peak_memory,
            summary.peak_sink_memory
        );
    }
    for (file, n) in &s.logs {
        println!("wrote   {}/{file} ({n} lines)", c.out.display());
    }
    for e in &summary.file_errors {
        println!("file error: {e}");
    }
    let groups = [
        ("skipped", &summary.skipped),
        ("capture anomaly", &summary.anomalies),
        ("protocol anomaly", &stats.anomalies),
    ];
    for (label, counter) in groups {
        for (reason, (n, places)) in &counter.by_reason {
            println!("{label}: {n} × {reason} (first at {})", places.join("; "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
