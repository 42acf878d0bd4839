//! What the analyses read: typed events only, from a capture run
//! ([`crate::pipeline::run`]) or read back from JSON Lines
//! ([`read_jsonl`], the `events.jsonl` that `botscope capture read
//! --format json` writes). Both go through [`Inputs::take`] and
//! [`Inputs::finish`], so both sort alike and give the same report.

use botscope_core::error::SkipCounter;
use botscope_core::events::{
    BinaryTransfer, DnsEvent, Event, FloodObs, FtpEvent, HttpEvent, IrcEvent, P2pLink, RelayObs,
    ScanObs, ShellEvent, TftpEvent,
};
use botscope_core::exploit::ExploitEvent;
use botscope_core::{Located, Location, Ts};
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Everything the analyses read.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Classified exploit attempts.
    pub exploits: Vec<ExploitEvent>,
    /// IRC lines.
    pub irc: Vec<IrcEvent>,
    /// DNS transactions.
    pub dns: Vec<DnsEvent>,
    /// TFTP transfers.
    pub tftp: Vec<TftpEvent>,
    /// HTTP transactions.
    pub http: Vec<HttpEvent>,
    /// FTP commands (transfer rows carry their data connection).
    pub ftp: Vec<FtpEvent>,
    /// Lines typed into remote shells.
    pub shell: Vec<ShellEvent>,
    /// Executables over TCP.
    pub binaries: Vec<BinaryTransfer>,
    /// Floods.
    pub floods: Vec<FloodObs>,
    /// Scans.
    pub scans: Vec<ScanObs>,
    /// Relay requests.
    pub relays: Vec<RelayObs>,
    /// Peer-to-peer links (Gnutella, opaque mesh links).
    pub p2p: Vec<P2pLink>,
    /// First and last packet time of the input.
    pub span: Option<(Ts, Ts)>,
}

impl Inputs {
    /// Files one event under its kind. Connection summaries carry no
    /// behaviour; they widen `span` to the packets they cover (the only
    /// packet times a file of events keeps).
    pub fn take(&mut self, e: Event) {
        match e {
            Event::Irc(e) => self.irc.push(e),
            Event::Dns(e) => self.dns.push(e),
            Event::Tftp(e) => self.tftp.push(e),
            Event::Http(e) => self.http.push(e),
            Event::Ftp(e) => self.ftp.push(e),
            Event::Shell(e) => self.shell.push(e),
            Event::Exploit(e) => self.exploits.push(e),
            Event::Binary(e) => self.binaries.push(e),
            Event::Flood { flood } => self.floods.push(flood),
            Event::Scan(e) => self.scans.push(e),
            Event::Relay(e) => self.relays.push(e),
            Event::P2p(e) => self.p2p.push(e),
            Event::Conn(c) => {
                let last = Ts(c.ts.0 + c.duration.map_or(0, |d| (d * 1e6).round() as i64));
                self.widen_span(c.ts, last);
            }
        }
    }

    /// Extends the span to cover `first..=last`.
    pub fn widen_span(&mut self, first: Ts, last: Ts) {
        self.span = Some(match self.span {
            None => (first, last),
            Some((a, b)) => (a.min(first), b.max(last)),
        });
    }

    /// Puts the packet-level observations in the order the dissect layer
    /// gives them ([`botscope_dissect::observe`]): whatever order they
    /// were read in, the analyses see the same lists.
    pub fn finish(&mut self) {
        botscope_dissect::observe::sort_observations(
            &mut self.exploits,
            &mut self.binaries,
            &mut self.relays,
        );
        self.floods.sort_by(|a, b| {
            (a.start, a.source, a.target, &a.kind, a.port, a.spoofed)
                .cmp(&(b.start, b.source, b.target, &b.kind, b.port, b.spoofed))
        });
        self.scans
            .sort_by_key(|a| (a.start, a.source, a.port, a.end, a.probes));
        self.p2p.sort_by(|a, b| (a.ts, &a.uid).cmp(&(b.ts, &b.uid)));
    }
}

/// Reading a file of events failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ReadEventsError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// Events read back from files, and the lines that were not events.
#[derive(Debug, Default)]
pub struct ReadEvents {
    /// The analyses' inputs (sorted, [`Inputs::finish`]).
    pub inputs: Inputs,
    /// Lines read as events.
    pub events: u64,
    /// Lines skipped (not JSON, or not an event kind), by reason with
    /// their first places.
    pub skipped: SkipCounter,
}

/// Longest line read as an event; longer ones are skipped (an event the
/// writer produces is far shorter).
pub const MAX_LINE: usize = 16 << 20;

/// Reads JSON Lines files of events (`botscope capture read --format
/// json`'s `events.jsonl`), in the order given, as one run. Lines that
/// are not events are skipped and counted; the rest are still read.
pub fn read_jsonl(paths: &[PathBuf]) -> Result<ReadEvents, ReadEventsError> {
    let mut out = ReadEvents::default();
    for path in paths {
        read_one(path, &mut out)?;
    }
    out.inputs.finish();
    Ok(out)
}

fn read_one(path: &Path, out: &mut ReadEvents) -> Result<(), ReadEventsError> {
    let io = |source| ReadEventsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut r = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let mut line = Vec::new();
    let mut no = 0u64;
    loop {
        line.clear();
        let n = (&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(io)?;
        if n == 0 {
            return Ok(());
        }
        no += 1;
        let skip = |reason: &str, out: &mut ReadEvents| {
            out.skipped.add(&Located {
                location: Location {
                    file: path.display().to_string(),
                    line: Some(no),
                    ..Default::default()
                },
                reason: reason.to_string(),
            })
        };
        if line.len() > MAX_LINE && !line.ends_with(b"\n") {
            skip("line longer than 16 MiB", out);
            // Skip the rest of the long line.
            let mut rest = Vec::new();
            while !rest.ends_with(b"\n") {
                rest.clear();
                if (&mut r)
                    .take(1 << 20)
                    .read_until(b'\n', &mut rest)
                    .map_err(io)?
                    == 0
                {
                    return Ok(());
                }
            }
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(&line) {
            Ok(e) => {
                out.events += 1;
                out.inputs.take(e);
            }
            Err(e) if e.is_data() => skip("not an event of a known kind", out),
            Err(_) => skip("not JSON", out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_are_not_events_are_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        let relay = r#"{"ts_epoch":1.5,"kind":"relay","uid":"C1","spammer":"10.0.0.7","bot":"10.0.0.9","port":1080,"protocol":"socks4","target_port":25,"ts":"1970-01-01T00:00:01.500000Z","evidence":{"file":0,"packets":[4]}}"#;
        let flood = r#"{"kind":"flood","flood":{"source":"10.0.0.9","target":"10.9.0.1","kind":"syn","port":80,"start":"1970-01-01T00:00:02.000000Z","end":"1970-01-01T00:00:03.000000Z","packets":150,"evidence":{"file":0,"packets":[5,154]}}}"#;
        let text = format!("{relay}\nnot json\n{{\"kind\":\"weather\"}}\n\n{flood}\n");
        std::fs::write(&p, text).unwrap();
        let r = read_jsonl(&[p]).unwrap();
        assert_eq!(r.events, 2);
        assert_eq!(r.skipped.total(), 2);
        assert!(r.skipped.by_reason["not JSON"].1[0].ends_with(" line 2"));
        assert!(r.skipped.by_reason["not an event of a known kind"].1[0].ends_with(" line 3"));
        assert_eq!(r.inputs.relays[0].target_port, Some(25));
        assert_eq!(r.inputs.relays[0].ts, Ts(1_500_000));
        assert_eq!(
            (r.inputs.floods[0].packets, r.inputs.floods[0].sources),
            (150, 0)
        );
        let missing = read_jsonl(&[dir.path().join("none.jsonl")]);
        assert!(matches!(missing, Err(ReadEventsError::Io { .. })));
    }
}
