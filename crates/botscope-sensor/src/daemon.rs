//! Runs a whole sensor: bind, start background accounting, drop
//! privileges, serve, and on shutdown write Table 1 and a summary.

use crate::config::SensorConfig;
use crate::server::now;
use crate::server::{
    bind, event_channel, lookup_user, running_as_root, serve, switch_user, SensorEvent,
    SensorStats, SpecimenSink,
};
use botscope_capture::accounting::{BackgroundCounter, Table1, Volume};
use serde::Serialize;
use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What a sensor run produced.
#[derive(Debug, Serialize)]
pub struct RunReport {
    /// Addresses bound.
    pub addresses: usize,
    /// Connections accepted.
    pub accepted: u64,
    /// Connections turned away at the session cap.
    pub overloaded: u64,
    /// Sessions finished.
    pub sessions: u64,
    /// Datagrams received.
    pub datagrams: u64,
    /// Binaries stored.
    pub downloads_ok: u64,
    /// Downloads that failed.
    pub downloads_failed: u64,
    /// Downloads refused by containment or limits.
    pub refused: u64,
    /// `error` events: specimens whose analysis or store panicked.
    pub errors: u64,
    /// Connections turned away at the per-source session quota.
    pub source_limited: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
    /// Shell sessions served (bind and connect-back).
    pub shells: u64,
    /// Table 1, when background accounting ran.
    pub table1: Option<Table1>,
    /// Per-address volume, when background accounting ran.
    pub per_address: Vec<(IpAddr, Volume)>,
    /// Packets the kernel dropped before the capture read them (Table 1
    /// and the pcap dump are short by these).
    pub capture_dropped: u64,
}

/// Errors that stop a sensor from starting.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Configuration problem.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// Binding, log file or privilege problem.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The capture interface could not be opened, or the pcap dump file
    /// not created.
    #[error("{0}")]
    Capture(#[from] botscope_capture::CaptureError),
    /// `pcap` was set without `capture_interface`.
    #[error("`pcap` needs `capture_interface`: the dump is written from that interface's capture")]
    PcapWithoutInterface,
}

/// The JSON Lines event log, buffered until [`RotatingLog::flush`] (the
/// sensor flushes whenever its event queue is drained, so a follower sees
/// each line as soon as the sensor is idle) and rotated by size: once a
/// line would take it past `max_bytes`, `path` becomes `path.1` (`path.1`
/// becomes `path.2` ..., `path.<keep>` is deleted) and a new `path` is
/// started. A rotation that fails (e.g. the folder is not writable by the
/// sensor's user) is reported once on stderr and the log goes on growing.
pub struct RotatingLog {
    path: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    size: u64,
    max_bytes: u64,
    keep: usize,
    rotation_failed: bool,
}

impl RotatingLog {
    /// Wraps `file`, opened for appending at `path`.
    pub fn new(
        path: std::path::PathBuf,
        file: std::fs::File,
        max_bytes: u64,
        keep: usize,
    ) -> std::io::Result<Self> {
        let size = file.metadata()?.len();
        Ok(RotatingLog {
            path,
            file: std::io::BufWriter::with_capacity(LOG_BUFFER, file),
            size,
            max_bytes,
            keep: keep.max(1),
            rotation_failed: false,
        })
    }

    /// Appends one line (a newline is added).
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        self.write_line_bytes(line.as_bytes())
    }

    /// Appends one line given as bytes (a newline is added); it reaches
    /// the file at the next [`RotatingLog::flush`] or rotation at the
    /// latest.
    pub fn write_line_bytes(&mut self, line: &[u8]) -> std::io::Result<()> {
        let n = line.len() as u64 + 1;
        if self.max_bytes > 0 && self.size > 0 && self.size + n > self.max_bytes {
            if let Err(e) = self.rotate() {
                if !self.rotation_failed {
                    eprintln!(
                        "botscope sensor: cannot rotate {}: {e}",
                        self.path.display()
                    );
                    self.rotation_failed = true;
                }
            }
        }
        self.file.write_all(line)?;
        self.file.write_all(b"\n")?;
        self.size += n;
        Ok(())
    }

    /// Appends `ev` as its JSON line, formatted in `line` (a buffer the
    /// caller reuses); an event that cannot be written is skipped.
    fn write_event(&mut self, line: &mut Vec<u8>, ev: &SensorEvent) {
        line.clear();
        if serde_json::to_writer(&mut *line, ev).is_ok() {
            let _ = self.write_line_bytes(line);
        }
    }

    /// Writes buffered lines to the file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        botscope_capture::shift_rotated(&self.path, self.keep)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.file = std::io::BufWriter::with_capacity(LOG_BUFFER, file);
        self.size = 0;
        Ok(())
    }
}

/// Bytes of event log buffered before a write.
const LOG_BUFFER: usize = 64 * 1024;
/// Most events written between two flushes of the event log.
const LOG_BATCH: usize = 256;

/// Runs the sensor until `shutdown` resolves. Events are appended to the
/// configured log as JSON Lines (flushed as soon as the event queue is
/// empty, or every 256 events, so a dashboard can follow it) and also
/// passed to `on_event`.
pub async fn run(
    cfg: SensorConfig,
    sink: Arc<dyn SpecimenSink>,
    on_event: impl Fn(&SensorEvent) + Send + 'static,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<RunReport, RunError> {
    let addrs = cfg.expand_addresses()?;
    let bound = bind(&cfg).await?;
    let started = std::time::Instant::now();

    // Background accounting: libpcap opens the interface (and the pcap
    // dump file) now, while the sensor may still be root; the capture only
    // runs after privileges are dropped.
    let counter = Arc::new(Mutex::new(BackgroundCounter::new(&addrs)));
    let stop = Arc::new(AtomicBool::new(false));
    let capture = match &cfg.capture_interface {
        Some(iface) => {
            let mut cap = botscope_capture::open_live(iface, None)?;
            if let Some(path) = &cfg.pcap {
                cap.dump_rotating(path, cfg.pcap_max_bytes, cfg.pcap_keep)?;
            }
            Some(cap)
        }
        None if cfg.pcap.is_some() => return Err(RunError::PcapWithoutInterface),
        None => None,
    };
    // The log is opened as whoever started the sensor, too.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cfg.log)?;
    let mut warnings = Vec::new();
    match &cfg.user {
        Some(user) if running_as_root() => {
            // The store (and the log) were opened, perhaps created, as
            // root: hand them to the user first, or every later write
            // fails once privileges are gone.
            let (uid, gid) = lookup_user(user)?;
            sink.hand_over(uid, gid)?;
            std::os::unix::fs::chown(&cfg.log, Some(uid), Some(gid))?;
            if let Some(pcap) = &cfg.pcap {
                std::os::unix::fs::chown(pcap, Some(uid), Some(gid))?;
            }
            switch_user(uid, gid)?;
        }
        Some(_) => {}
        None if running_as_root() => {
            let message = "running as root: set `user` (e.g. user = \"nobody\") in the \
                           configuration so the sensor drops root after binding"
                .to_string();
            eprintln!("botscope sensor: WARNING: {message}");
            warnings.push(message);
        }
        None => {}
    }
    let capture_thread = capture.map(|cap| {
        let (mut sink, stop) = (counter.clone(), stop.clone());
        std::thread::spawn(move || {
            // Packets between namespaces or from offloading NICs carry
            // partial checksums; every arriving packet counts regardless.
            let ecfg = botscope_capture::EngineConfig {
                verify_checksums: false,
                ..Default::default()
            };
            // Only packets addressed to a sensor address are counted, so
            // the sensor's own replies never inflate the table.
            cap.run(&ecfg, &mut sink, &stop, None)
        })
    });

    let (tx, mut rx) = event_channel(cfg.limits.event_queue);
    let dropped = tx.dropped_counter();
    let writer_dropped = dropped.clone();
    let mut log = RotatingLog::new(cfg.log.clone(), log, cfg.log_max_bytes, cfg.log_keep)?;
    let writer = tokio::spawn(async move {
        let mut reported = 0u64;
        // One reused line buffer; the events queued when the writer runs
        // are written together and flushed once the queue is empty (one
        // write() a batch instead of one a line).
        let mut line = Vec::with_capacity(1024);
        while let Some(first) = rx.recv().await {
            let mut next = Some(first);
            let mut batch = 0;
            while let Some(ev) = next {
                // Events dropped while the queue was full are reported as
                // soon as the writer gets to run again.
                let total = writer_dropped.load(Ordering::Relaxed);
                if total != reported {
                    reported = total;
                    let ev = SensorEvent::EventsDropped { ts: now(), total };
                    log.write_event(&mut line, &ev);
                    on_event(&ev);
                }
                log.write_event(&mut line, &ev);
                on_event(&ev);
                batch += 1;
                next = if batch < LOG_BATCH {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            let _ = log.flush();
        }
    });
    for message in warnings {
        tx.send(SensorEvent::Warning { ts: now(), message });
    }
    let stats = Arc::new(SensorStats::default());
    serve(bound, cfg.clone(), sink, tx, stats.clone(), shutdown).await;
    // Sessions still running hold senders; give them a moment to log.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    writer.abort();

    stop.store(true, Ordering::Relaxed);
    let capture = capture_thread.and_then(|t| t.join().ok()?.ok());
    let capture_ran = capture.is_some();
    let capture_dropped = capture
        .and_then(|s| {
            s.skipped
                .by_reason
                .get(botscope_capture::DROPPED_REASON)
                .map(|v| v.0)
        })
        .unwrap_or(0);
    let counter = counter.lock().unwrap_or_else(|e| e.into_inner());
    let table1 = capture_ran.then(|| {
        counter.table1(
            Some(started.elapsed().as_secs_f64()),
            cfg.accounting.extrapolate_to,
        )
    });
    if let (Some(t), Some(path)) = (&table1, &cfg.accounting.table_path) {
        std::fs::write(path, serde_json::to_vec_pretty(t).unwrap_or_default())?;
    }
    let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    Ok(RunReport {
        addresses: addrs.len(),
        accepted: g(&stats.accepted),
        overloaded: g(&stats.overloaded),
        sessions: g(&stats.sessions),
        datagrams: g(&stats.datagrams),
        downloads_ok: g(&stats.downloads_ok),
        downloads_failed: g(&stats.downloads_failed),
        refused: g(&stats.refused),
        errors: g(&stats.errors),
        source_limited: g(&stats.source_limited),
        events_dropped: dropped.load(Ordering::Relaxed),
        shells: g(&stats.shells),
        per_address: if capture_ran {
            counter.per_address()
        } else {
            Vec::new()
        },
        table1,
        capture_dropped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_log_rotates_at_100_bytes_keeping_2() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sensor.jsonl");
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap()
        };
        let mut log = RotatingLog::new(path.clone(), open(), 100, 2).unwrap();
        // 10 lines of 30 bytes (29 + newline): 3 fit in 100 bytes.
        for i in 0..10 {
            log.write_line(&format!("{{\"event\":\"line\",\"n\":{i:05}}}xxx"))
                .unwrap();
        }
        drop(log);
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        let ns = |text: String| -> Vec<usize> {
            text.lines()
                .map(|l| {
                    assert_eq!(l.len(), 29, "{l}");
                    l[20..25].parse().unwrap()
                })
                .collect()
        };
        assert_eq!(ns(read(&path)), [9]);
        assert_eq!(ns(read(&dir.path().join("sensor.jsonl.1"))), [6, 7, 8]);
        assert_eq!(ns(read(&dir.path().join("sensor.jsonl.2"))), [3, 4, 5]);
        assert!(!dir.path().join("sensor.jsonl.3").exists());
        // Reopened with 30 bytes in it: two more lines fit, the third rotates.
        let mut log = RotatingLog::new(path.clone(), open(), 100, 2).unwrap();
        for i in 10..13 {
            log.write_line(&format!("{{\"event\":\"line\",\"n\":{i:05}}}xxx"))
                .unwrap();
        }
        drop(log);
        assert_eq!(ns(read(&path)), [12]);
        assert_eq!(ns(read(&dir.path().join("sensor.jsonl.1"))), [9, 10, 11]);
        assert_eq!(ns(read(&dir.path().join("sensor.jsonl.2"))), [6, 7, 8]);
    }
}
