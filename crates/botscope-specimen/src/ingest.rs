//! Adding files, folders and zip archives to the store. Archives follow
//! the "infected" password convention (ZipCrypto); expansion is capped per
//! entry and per archive, so zip bombs are rejected with a reason instead
//! of filling the disk. Nested archives are stored as specimens, not opened.

use crate::analysis;
use crate::store::{self, AddOptions, Prepared, Sighting, Source, Store, StoreError};
use botscope_core::error::SkipCounter;
use botscope_core::{Located, Location};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

/// Limits on what an add may read.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest single file or archive entry.
    pub max_entry: u64,
    /// Largest total expansion of one archive.
    pub max_archive_total: u64,
    /// Largest compression ratio accepted for one entry.
    pub max_ratio: u64,
    /// Most entries read from one archive.
    pub max_entries: usize,
    /// Deepest folder recursion.
    pub max_depth: usize,
    /// Password tried for encrypted entries.
    pub password: Vec<u8>,
    /// Largest UPX unpack output analysed (a larger one is refused with a
    /// reason in the analysis; the file is still stored).
    pub max_unpacked: u64,
    /// Largest UPX unpacked : packed ratio analysed.
    pub max_unpack_ratio: u64,
}

impl Limits {
    /// The unpack bounds analysis runs under.
    pub fn unpack_caps(&self) -> crate::pe::UnpackCaps {
        crate::pe::UnpackCaps {
            max_size: self.max_unpacked,
            max_ratio: self.max_unpack_ratio,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry: 64 << 20,
            max_archive_total: 512 << 20,
            max_ratio: 200,
            max_entries: 100_000,
            max_depth: 32,
            password: b"infected".to_vec(),
            max_unpacked: crate::pe::DEFAULT_MAX_UNPACKED,
            max_unpack_ratio: crate::pe::DEFAULT_MAX_UNPACK_RATIO,
        }
    }
}

/// What an add did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AddReport {
    /// Specimens newly stored.
    pub new: u64,
    /// Sightings of specimens already stored.
    pub seen_again: u64,
    /// SHA-256 of every specimen added, in order.
    pub added: Vec<String>,
    /// Entries and files rejected, by reason, with places.
    pub rejected: SkipCounter,
}

/// How an add runs.
pub struct AddConfig<'a> {
    /// Where and when the files were seen.
    pub seen: i64,
    /// Where they came from.
    pub source: Source,
    /// Caps on what is read.
    pub limits: &'a Limits,
    /// Test hooks.
    pub opts: &'a AddOptions,
    /// Worker threads hashing, quarantining and analysing (0 = one a core).
    pub threads: usize,
    /// Called on the committing thread after each specimen with the totals
    /// so far (specimens, bytes).
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
}

/// Sightings committed per database transaction (one file-system flush each).
const BATCH: usize = 256;

/// Adds a path (file, folder or zip archive) with one worker a core.
pub fn add_path(
    store: &mut Store,
    path: &Path,
    seen: i64,
    source: Source,
    limits: &Limits,
    opts: &AddOptions,
    report: &mut AddReport,
) -> Result<(), StoreError> {
    let cfg = AddConfig {
        seen,
        source,
        limits,
        opts,
        threads: 0,
        progress: None,
    };
    add_paths(store, &[path.to_path_buf()], &cfg, report)
}

/// One file or archive entry read by the walker.
struct Job {
    seq: usize,
    data: Vec<u8>,
}

/// Adds paths (files, folders, zip archives) in a pipeline: one thread
/// walks and reads, `threads` workers hash, quarantine and analyse, and
/// the calling thread commits batches of [`BATCH`] sightings. Memory is
/// bounded by the channel depths times the entry cap. `report.added` keeps
/// the walk order. On an error, batches already committed stay committed.
pub fn add_paths(
    store: &mut Store,
    paths: &[std::path::PathBuf],
    cfg: &AddConfig<'_>,
    report: &mut AddReport,
) -> Result<(), StoreError> {
    let threads = match cfg.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let quarantine = store.quarantine();
    // Claimed by a worker during this run: a specimen seen twice in one add
    // is analysed and written once. Each worker asks the database, through
    // its own reader, whether a specimen was stored before.
    let claimed = Mutex::new(HashSet::new());
    let readers = (0..threads)
        .map(|_| store.reader())
        .collect::<Result<Vec<_>, _>>()?;
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(threads * 2);
    // Shared by the workers only: when the last one stops (done, or the
    // committer gave up), the receiver goes and the walker's send fails.
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::sync_channel::<Done>(BATCH);
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let walker = scope.spawn(move || {
            let mut walk = Walk {
                limits: cfg.limits,
                rejected: SkipCounter::default(),
                next: 0,
                out: job_tx,
            };
            for p in paths {
                if !walk.path(p, 0) {
                    break;
                }
            }
            walk.rejected
        });
        for reader in readers {
            let (job_rx, done_tx) = (Arc::clone(&job_rx), done_tx.clone());
            let (claimed, quarantine) = (&claimed, &quarantine);
            scope.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(job) = job else { return };
                // One read of the bytes feeds the three digests and the
                // CTPH census (analysis finishes it for new specimens).
                let pass = analysis::first_pass(&job.data);
                let done = match reader.is_stored(&pass.hashes.sha256) {
                    Ok(stored) => {
                        let first = !stored
                            && claimed
                                .lock()
                                .is_ok_and(|mut c| c.insert(pass.hashes.sha256.clone()));
                        Done {
                            seq: job.seq,
                            awaits_record: !stored && !first,
                            prepared: store::prepare(
                                quarantine,
                                &job.data,
                                pass,
                                !first,
                                cfg.opts,
                                &cfg.limits.unpack_caps(),
                            ),
                        }
                    }
                    Err(e) => Done {
                        seq: job.seq,
                        awaits_record: false,
                        prepared: Err(e),
                    },
                };
                if done_tx.send(done).is_err() {
                    return;
                }
            });
        }
        drop((done_tx, job_rx));
        let mut batch = Batch::default();
        let (mut count, mut bytes) = (0u64, 0u64);
        let mut failure = None;
        for done in done_rx.iter() {
            let p = match done.prepared {
                Ok(p) => p,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            count += 1;
            bytes += p.size;
            batch.push(
                done.seq,
                Sighting {
                    specimen: p,
                    seen: cfg.seen,
                    source: cfg.source,
                },
                done.awaits_record,
            );
            if batch.sightings.len() >= BATCH {
                if let Err(e) = batch.commit(store, report) {
                    failure = Some(e);
                    break;
                }
            }
            if let Some(f) = cfg.progress {
                f(count, bytes);
            }
        }
        // Dropping the receiver stops the workers, and through them the walker.
        drop(done_rx);
        let committed = if failure.is_none() {
            batch.commit(store, report)
        } else {
            Ok(())
        };
        if let Ok(rejected) = walker.join() {
            report.rejected.merge(rejected);
        }
        batch.added.sort_unstable_by_key(|(seq, _)| *seq);
        report
            .added
            .extend(batch.added.into_iter().map(|(_, sha)| sha));
        match failure {
            Some(e) => Err(e),
            None => committed,
        }
    })
}

/// A worker's result for one job.
struct Done {
    seq: usize,
    /// Another worker has this new specimen: its sighting must not commit
    /// before the specimen's row does.
    awaits_record: bool,
    prepared: Result<Prepared, StoreError>,
}

/// Sightings waiting for the next transaction, in an order where no
/// sighting of a new specimen comes before the row that inserts it (so a
/// kill between transactions never leaves a sighting without a specimen).
#[derive(Default)]
struct Batch {
    seqs: Vec<usize>,
    sightings: Vec<Sighting>,
    /// New specimens whose row is in this or an earlier batch.
    recorded: HashSet<String>,
    /// Sightings held back until their specimen's row is queued.
    waiting: HashMap<String, Vec<(usize, Sighting)>>,
    /// (walk order, SHA-256) of everything committed.
    added: Vec<(usize, String)>,
}

impl Batch {
    fn push(&mut self, seq: usize, s: Sighting, awaits_record: bool) {
        let sha = s.specimen.hashes.sha256.clone();
        if awaits_record && !self.recorded.contains(&sha) {
            self.waiting.entry(sha).or_default().push((seq, s));
            return;
        }
        let has_record = s.specimen.record.is_some();
        self.seqs.push(seq);
        self.sightings.push(s);
        if has_record {
            for (seq, s) in self.waiting.remove(&sha).unwrap_or_default() {
                self.seqs.push(seq);
                self.sightings.push(s);
            }
            self.recorded.insert(sha);
        }
    }

    fn commit(&mut self, store: &mut Store, report: &mut AddReport) -> Result<(), StoreError> {
        if self.sightings.is_empty() {
            return Ok(());
        }
        let inserted = store.commit(&self.sightings)?;
        for ((seq, s), new) in self
            .seqs
            .drain(..)
            .zip(self.sightings.drain(..))
            .zip(inserted)
        {
            if new {
                report.new += 1;
            } else {
                report.seen_again += 1;
            }
            self.added.push((seq, s.specimen.hashes.sha256));
        }
        Ok(())
    }
}

/// The walking and reading side of an add.
struct Walk<'a> {
    limits: &'a Limits,
    rejected: SkipCounter,
    next: usize,
    out: mpsc::SyncSender<Job>,
}

impl Walk<'_> {
    /// Queues one entry; false once the workers have stopped.
    fn emit(&mut self, data: Vec<u8>) -> bool {
        let seq = self.next;
        self.next += 1;
        self.out.send(Job { seq, data }).is_ok()
    }

    fn reject(&mut self, path: &Path, reason: String) {
        self.rejected.add(&Located {
            location: Location {
                file: path.display().to_string(),
                ..Default::default()
            },
            reason,
        });
    }

    /// Walks one path; false once the workers have stopped.
    fn path(&mut self, path: &Path, depth: usize) -> bool {
        let limits = self.limits;
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.reject(path, format!("unreadable: {}", e.kind()));
                return true;
            }
        };
        if meta.is_dir() {
            if depth >= limits.max_depth {
                self.reject(path, "folder nesting too deep".into());
                return true;
            }
            let mut entries: Vec<_> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
                Err(e) => {
                    self.reject(path, format!("unreadable: {}", e.kind()));
                    return true;
                }
            };
            entries.sort();
            return entries.iter().all(|p| self.path(p, depth + 1));
        }
        if !meta.is_file() {
            self.reject(path, "not a regular file".into());
            return true;
        }
        if meta.len() > limits.max_entry.max(limits.max_archive_total) {
            self.reject(path, "file larger than the size cap".into());
            return true;
        }
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                self.reject(path, format!("unreadable: {}", e.kind()));
                return true;
            }
        };
        if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
            let mut go_on = true;
            let rejected = zip_entries(&path.display().to_string(), &data, limits, &mut |e| {
                go_on = go_on && self.emit(e);
                go_on
            });
            self.rejected.merge(rejected);
            return go_on;
        }
        if data.len() as u64 > limits.max_entry {
            self.reject(path, "file larger than the size cap".into());
            return true;
        }
        self.emit(data)
    }
}

/// Expands every file entry of a zip archive held in memory, within the
/// caps, handing each to `emit` (which returns false to stop). Returns the
/// entries rejected, by reason.
pub fn zip_entries(
    name: &str,
    data: &[u8],
    limits: &Limits,
    emit: &mut dyn FnMut(Vec<u8>) -> bool,
) -> SkipCounter {
    let mut rejected = SkipCounter::default();
    let place = |entry: Option<&str>, offset: Option<u64>| Location {
        file: match entry {
            Some(e) => format!("{name}!{e}"),
            None => name.to_string(),
        },
        offset,
        ..Default::default()
    };
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(data)) {
        Ok(a) => a,
        Err(e) => {
            rejected.add(&Located {
                location: place(None, None),
                reason: format!("unreadable zip: {e}"),
            });
            return rejected;
        }
    };
    if archive.len() > limits.max_entries {
        rejected.add(&Located {
            location: place(None, None),
            reason: "too many zip entries".into(),
        });
        return rejected;
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let encrypted = match archive.by_index_raw(i) {
            Ok(f) => f.encrypted(),
            Err(e) => {
                rejected.add(&Located {
                    location: place(None, None),
                    reason: format!("bad zip entry: {e}"),
                });
                continue;
            }
        };
        let entry = if encrypted {
            archive.by_index_decrypt(i, &limits.password)
        } else {
            archive.by_index(i)
        };
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let reason = if encrypted {
                    format!("cannot decrypt entry: {e}")
                } else {
                    format!("bad zip entry: {e}")
                };
                rejected.add(&Located {
                    location: place(None, None),
                    reason,
                });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let ename = entry.name().to_string();
        let offset = Some(entry.header_start());
        let declared = entry.size();
        let compressed = entry.compressed_size().max(1);
        if declared > limits.max_entry {
            rejected.add(&Located {
                location: place(Some(&ename), offset),
                reason: "zip entry exceeds the per-entry size cap".into(),
            });
            continue;
        }
        if declared / compressed > limits.max_ratio {
            rejected.add(&Located {
                location: place(Some(&ename), offset),
                reason: "zip entry compression ratio too high (zip bomb)".into(),
            });
            continue;
        }
        if total + declared > limits.max_archive_total {
            rejected.add(&Located {
                location: place(Some(&ename), offset),
                reason: "zip archive exceeds the total expansion cap (zip bomb)".into(),
            });
            break;
        }
        // Declared sizes may lie: never read more than the caps allow.
        let cap = limits.max_entry.min(limits.max_archive_total - total);
        let mut buf = Vec::with_capacity(declared.min(cap) as usize);
        let read = (&mut entry).take(cap + 1).read_to_end(&mut buf);
        match read {
            Err(e) => {
                rejected.add(&Located {
                    location: place(Some(&ename), offset),
                    reason: format!("zip entry unreadable: {}", e.kind()),
                });
                continue;
            }
            Ok(_) if buf.len() as u64 > cap => {
                rejected.add(&Located {
                    location: place(Some(&ename), offset),
                    reason: "zip entry expands past its declared size and the cap (zip bomb)"
                        .into(),
                });
                break;
            }
            Ok(_) => {}
        }
        total += buf.len() as u64;
        drop(entry);
        if !emit(buf) {
            break;
        }
    }
    rejected
}
