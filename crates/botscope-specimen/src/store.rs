//! The specimen store: `STORE/quarantine/ab/<sha256>` files (read-only,
//! never executable, no original extension) and `STORE/specimens.db`
//! (SQLite in WAL mode) with hashes, type, sightings, signature sets, scans
//! and each specimen's analysis.
//!
//! Crash and concurrency safety: a file is written to a temp file in its
//! final folder and renamed into place, and the file system is flushed
//! (`syncfs`, once per batch) *before* the database transaction that names
//! it, so a killed add leaves at most a stray temp file and never a row
//! without its file; two processes adding the same
//! specimen both rename identical bytes and both upserts succeed (SQLite's
//! busy timeout serialises the writers).

use crate::analysis::{self, Analysis, Hashes};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File system.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// SQLite.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Stored JSON unreadable.
    #[error("stored record: {0}")]
    Json(#[from] serde_json::Error),
    /// Anything else with a reason.
    #[error("{0}")]
    Other(String),
}

type Result<T> = std::result::Result<T, StoreError>;

fn io(ctx: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let c = ctx.into();
    move |e| StoreError::Io(c, e)
}

/// Where a specimen came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Collected by a botscope sensor.
    Sensor,
    /// Carved from a capture.
    Capture,
    /// Added by hand.
    Manual,
}

impl Source {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Sensor => "sensor",
            Source::Capture => "capture",
            Source::Manual => "manual",
        }
    }
    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "sensor" => Some(Source::Sensor),
            "capture" => Some(Source::Capture),
            "manual" => Some(Source::Manual),
            _ => None,
        }
    }
}

/// A stored specimen's row.
#[derive(Clone, Debug, Serialize)]
pub struct SpecimenRow {
    /// Hashes.
    #[serde(flatten)]
    pub hashes: Hashes,
    /// Size in bytes.
    pub size: u64,
    /// `PE32`, `PE32+`, `zip` or `other`.
    pub file_type: String,
    /// First sighting, epoch seconds.
    pub first_seen: i64,
    /// Last sighting, epoch seconds.
    pub last_seen: i64,
    /// Source of the first sighting.
    pub source: String,
    /// Total sightings.
    pub sightings: u64,
    /// Import hash.
    pub imphash: Option<String>,
    /// ssdeep digest families are grouped by (see
    /// [`Analysis::family_digest`]).
    pub fuzzy: String,
}

/// Test hook: pause between writing the temp file and renaming it, so a
/// test can kill an add at its most delicate point.
#[derive(Clone, Debug, Default)]
pub struct AddOptions {
    /// Sleep this long after the temp file is synced.
    pub pause_before_rename: Option<Duration>,
}

/// An open store.
pub struct Store {
    root: PathBuf,
    db: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS specimens (
  sha256 TEXT PRIMARY KEY, md5 TEXT NOT NULL, sha1 TEXT NOT NULL, size INTEGER NOT NULL,
  file_type TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  source TEXT NOT NULL, imphash TEXT, fuzzy TEXT NOT NULL, analysis TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sightings (
  sha256 TEXT NOT NULL, day TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (sha256, day, source));
CREATE TABLE IF NOT EXISTS sigsets (
  name TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL, released INTEGER NOT NULL,
  content TEXT NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS scans (
  id INTEGER PRIMARY KEY, set_name TEXT NOT NULL, set_version TEXT NOT NULL, time INTEGER NOT NULL,
  sha256 TEXT NOT NULL, detected INTEGER NOT NULL, names TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS scans_sha ON scans (sha256, detected, time);
";

/// UTC day `YYYY-MM-DD` of an epoch second.
pub fn utc_day(secs: i64) -> String {
    botscope_core::Ts(secs * 1_000_000).utc_day()
}

impl Store {
    /// Opens (creating if needed) the store in `root`.
    pub fn open(root: &Path) -> Result<Store> {
        std::fs::create_dir_all(root.join("quarantine")).map_err(io(root.display().to_string()))?;
        let db = Connection::open(root.join("specimens.db"))?;
        db.busy_timeout(Duration::from_secs(60))?;
        // Switching a new database to WAL takes an exclusive lock without
        // consulting the busy handler, so two processes opening a new store
        // at once may see "database is locked": wait and try again.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let setup = db
                .pragma_update(None, "journal_mode", "WAL")
                .and_then(|_| db.pragma_update(None, "synchronous", "NORMAL"))
                .and_then(|_| db.execute_batch(SCHEMA));
            match setup {
                Err(e)
                    if matches!(
                        e.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        )
                    ) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => break r?,
            }
        }
        Ok(Store {
            root: root.to_path_buf(),
            db,
        })
    }

    /// The store folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database connection (for the table and scan modules).
    pub fn db(&self) -> &Connection {
        &self.db
    }

    /// Path of a specimen's quarantined file.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.quarantine().path_of(sha256)
    }

    /// Reads a quarantined specimen.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        self.quarantine().read(sha256)
    }

    /// The quarantine folder, shareable with worker threads.
    pub fn quarantine(&self) -> Quarantine {
        Quarantine {
            root: self.root.join("quarantine"),
            made: Default::default(),
        }
    }

    /// A read-only connection for a worker thread (WAL lets it read while
    /// this connection writes).
    pub fn reader(&self) -> Result<StoreReader> {
        let db = Connection::open_with_flags(
            self.root.join("specimens.db"),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(Duration::from_secs(60))?;
        Ok(StoreReader(db))
    }

    /// Adds one specimen's bytes, seen at `seen` (epoch seconds) from
    /// `source`. Returns its SHA-256 and whether it was new.
    pub fn add(
        &mut self,
        data: &[u8],
        seen: i64,
        source: Source,
        opts: &AddOptions,
    ) -> Result<(String, bool)> {
        let first = analysis::first_pass(data);
        let known = is_stored(&self.db, &first.hashes.sha256)?;
        let prepared = prepare(
            &self.quarantine(),
            data,
            first,
            known,
            opts,
            &crate::pe::UnpackCaps::default(),
        )?;
        let sha = prepared.hashes.sha256.clone();
        let new = self.commit(&[Sighting {
            specimen: prepared,
            seen,
            source,
        }])?;
        Ok((sha, new[0]))
    }

    /// Records a batch of sightings in one transaction, inserting the
    /// specimens that are new. Files written for the batch are flushed to
    /// disk first, so no committed row ever names a file a crash could
    /// lose. Returns, per sighting, whether it inserted the specimen.
    pub fn commit(&mut self, batch: &[Sighting]) -> Result<Vec<bool>> {
        if batch.iter().any(|s| s.specimen.wrote_file) {
            self.quarantine().sync()?;
        }
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut inserted = Vec::with_capacity(batch.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO specimens (sha256, md5, sha1, size, file_type, first_seen, last_seen, source, imphash, fuzzy, analysis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut span = tx.prepare_cached(
                "UPDATE specimens SET first_seen = MIN(first_seen, ?2), last_seen = MAX(last_seen, ?2) WHERE sha256 = ?1",
            )?;
            let mut sighting = tx.prepare_cached(
                "INSERT INTO sightings (sha256, day, source, count) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (sha256, day, source) DO UPDATE SET count = count + 1",
            )?;
            for s in batch {
                let h = &s.specimen.hashes;
                let mut new = false;
                if let Some(r) = &s.specimen.record {
                    let n = insert.execute(params![
                        h.sha256,
                        h.md5,
                        h.sha1,
                        s.specimen.size as i64,
                        r.file_type,
                        s.seen,
                        s.source.as_str(),
                        r.imphash,
                        r.fuzzy,
                        r.analysis_json
                    ])?;
                    new = n == 1;
                }
                if !new {
                    // A row just inserted already spans `seen` alone.
                    span.execute(params![h.sha256, s.seen])?;
                }
                sighting.execute(params![h.sha256, utc_day(s.seen), s.source.as_str()])?;
                inserted.push(new);
            }
        }
        tx.commit()?;
        Ok(inserted)
    }

    /// One specimen's row.
    pub fn get(&self, sha256: &str) -> Result<Option<SpecimenRow>> {
        let mut rows = self.rows_where("s.sha256 = ?1", &[&sha256])?;
        Ok(rows.pop())
    }

    /// All rows, most sighted first (ties by SHA-256).
    pub fn all(&self) -> Result<Vec<SpecimenRow>> {
        self.rows_where("1", &[])
    }

    fn rows_where(&self, cond: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<SpecimenRow>> {
        let sql = format!(
            "SELECT s.sha256, s.md5, s.sha1, s.size, s.file_type, s.first_seen, s.last_seen, s.source, s.imphash, s.fuzzy,
                    COALESCE((SELECT SUM(count) FROM sightings g WHERE g.sha256 = s.sha256), 0) AS n
             FROM specimens s WHERE {cond} ORDER BY n DESC, s.sha256"
        );
        let mut st = self.db.prepare(&sql)?;
        let rows = st
            .query_map(args, |r| {
                Ok(SpecimenRow {
                    hashes: Hashes {
                        sha256: r.get(0)?,
                        md5: r.get(1)?,
                        sha1: r.get(2)?,
                    },
                    size: r.get::<_, i64>(3)? as u64,
                    file_type: r.get(4)?,
                    first_seen: r.get(5)?,
                    last_seen: r.get(6)?,
                    source: r.get(7)?,
                    imphash: r.get(8)?,
                    fuzzy: r.get(9)?,
                    sightings: r.get::<_, i64>(10)? as u64,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// A specimen's stored analysis.
    pub fn analysis(&self, sha256: &str) -> Result<Option<serde_json::Value>> {
        let s: Option<String> = self
            .db
            .query_row(
                "SELECT analysis FROM specimens WHERE sha256 = ?1",
                [sha256],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match s {
            Some(s) => Some(serde_json::from_str(&s)?),
            None => None,
        })
    }

    /// Resolves a hash prefix (MD5, SHA-1 or SHA-256, at least 6 hex digits).
    pub fn resolve(&self, prefix: &str) -> Result<Option<String>> {
        let p = prefix.to_ascii_lowercase();
        if p.len() < 6 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StoreError::Other(format!("not a hash prefix: {prefix}")));
        }
        let like = format!("{p}%");
        let mut st = self
            .db
            .prepare("SELECT sha256 FROM specimens WHERE sha256 LIKE ?1 OR md5 LIKE ?1 OR sha1 LIKE ?1 LIMIT 2")?;
        let found: Vec<String> = st
            .query_map([like], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.into_iter().next()),
            _ => Err(StoreError::Other(format!(
                "hash prefix {prefix} is ambiguous"
            ))),
        }
    }
}

/// A read-only view of a store's database, one per worker thread.
pub struct StoreReader(Connection);

impl StoreReader {
    /// Whether a specimen with this SHA-256 is stored.
    pub fn is_stored(&self, sha256: &str) -> Result<bool> {
        is_stored(&self.0, sha256)
    }
}

fn is_stored(db: &Connection, sha256: &str) -> Result<bool> {
    Ok(db
        .prepare_cached("SELECT 1 FROM specimens WHERE sha256 = ?1")?
        .exists([sha256])?)
}

/// A specimen's row values worked out off the database thread.
#[derive(Clone, Debug)]
pub struct NewRecord {
    /// `PE32`, `PE32+`, `zip` or `other`.
    pub file_type: &'static str,
    /// Import hash.
    pub imphash: Option<String>,
    /// ssdeep digest families are grouped by.
    pub fuzzy: String,
    /// The analysis as JSON.
    pub analysis_json: String,
}

impl NewRecord {
    /// The row values of an analysis.
    pub fn from_analysis(a: &Analysis) -> Result<NewRecord> {
        Ok(NewRecord {
            file_type: a.file_type.as_str(),
            imphash: a.pe.as_ref().and_then(|p| p.imphash.clone()),
            fuzzy: a.family_digest().to_string(),
            analysis_json: serde_json::to_string(a)?,
        })
    }
}

/// A specimen hashed, quarantined and (when not yet stored) analysed,
/// ready for [`Store::commit`].
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Its hashes.
    pub hashes: Hashes,
    /// Size in bytes.
    pub size: u64,
    /// Row values when the specimen may be new; `None` for a sighting of a
    /// specimen already stored (or already prepared in this run).
    pub record: Option<NewRecord>,
    /// Whether its quarantine file was written (and needs flushing).
    pub wrote_file: bool,
}

/// One sighting to commit.
#[derive(Clone, Debug)]
pub struct Sighting {
    /// The specimen.
    pub specimen: Prepared,
    /// When it was seen, epoch seconds.
    pub seen: i64,
    /// Where it came from.
    pub source: Source,
}

/// Quarantines `data` (unless `known` and its file is present) and
/// analyses it (unless `known`); `first` is the caller's one read of the
/// bytes ([`analysis::first_pass`]: the hashes and the CTPH census, which
/// analysis finishes). Safe to call from many threads at once. UPX
/// unpacking is bounded by `caps`.
pub fn prepare(
    q: &Quarantine,
    data: &[u8],
    first: analysis::FirstPass,
    known: bool,
    opts: &AddOptions,
    caps: &crate::pe::UnpackCaps,
) -> Result<Prepared> {
    let analysis::FirstPass { hashes, fuzzy } = first;
    let mut wrote_file = false;
    if !known || !q.path_of(&hashes.sha256).exists() {
        q.write(&hashes.sha256, data, opts)?;
        wrote_file = true;
    }
    // Analysis only for new specimens; a sighting of a known one is cheap.
    let record = if known {
        None
    } else {
        Some(NewRecord::from_analysis(&analysis::analyze_fed(
            data,
            caps,
            Some(fuzzy),
        ))?)
    };
    Ok(Prepared {
        hashes,
        size: data.len() as u64,
        record,
        wrote_file,
    })
}

/// The quarantine folder: `ab/<sha256>` files, read-only, never executable.
#[derive(Clone, Debug)]
pub struct Quarantine {
    root: PathBuf,
    /// The `ab/` folders this handle has made or found (one bit each of
    /// the 256 two-hex-digit prefixes), shared by its clones: each folder
    /// is created once per add, not asked for once per file.
    made: std::sync::Arc<[std::sync::atomic::AtomicU64; 4]>,
}

impl Quarantine {
    /// Path of a specimen's file.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Reads a specimen's file.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        let p = self.path_of(sha256);
        std::fs::read(&p).map_err(io(p.display().to_string()))
    }

    /// Writes a specimen's file: a temp file in the final folder, mode
    /// 0444, renamed into place. Not flushed here: [`Store::commit`] flushes
    /// the file system once per batch, before the rows naming the files.
    pub fn write(&self, sha256: &str, data: &[u8], opts: &AddOptions) -> Result<()> {
        let dir = self.root.join(&sha256[..2]);
        self.make_dir(&sha256[..2], &dir)?;
        let mut tmp = tempfile_in(&dir)?;
        tmp.1
            .write_all(data)
            .map_err(io(tmp.0.display().to_string()))?;
        // fchmod on the open file: no second path walk.
        tmp.1
            .set_permissions(std::fs::Permissions::from_mode(0o444))
            .map_err(io(tmp.0.display().to_string()))?;
        drop(tmp.1);
        if let Some(d) = opts.pause_before_rename {
            // The test hook kills us here; the temp file must be on disk.
            self.sync()?;
            std::thread::sleep(d);
        }
        let dest = dir.join(sha256);
        std::fs::rename(&tmp.0, &dest).map_err(io(dest.display().to_string()))
    }

    /// Creates the folder of prefix `prefix` unless this handle already
    /// did (prefixes that are not two lowercase hex digits are created
    /// every time).
    fn make_dir(&self, prefix: &str, dir: &Path) -> Result<()> {
        use std::sync::atomic::Ordering;
        let hex = prefix.len() == 2
            && prefix
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        let bit = hex
            .then(|| u8::from_str_radix(prefix, 16).ok())
            .flatten()
            .map(|b| {
                let b = usize::from(b);
                (&self.made[b / 64], 1u64 << (b % 64))
            });
        if let Some((word, mask)) = bit {
            if word.load(Ordering::Relaxed) & mask != 0 {
                return Ok(());
            }
        }
        std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
        if let Some((word, mask)) = bit {
            word.fetch_or(mask, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Flushes the file system holding the quarantine, data and renames:
    /// one `syncfs` per batch instead of an fsync per file and folder.
    pub fn sync(&self) -> Result<()> {
        let dir = std::fs::File::open(&self.root).map_err(io(self.root.display().to_string()))?;
        sync_file_system(&dir).map_err(io(self.root.display().to_string()))
    }
}

#[cfg(target_os = "linux")]
fn sync_file_system(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `f` stays open for the whole call; syncfs only reads the fd.
    if unsafe { libc::syncfs(f.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_file_system(_: &std::fs::File) -> std::io::Result<()> {
    // SAFETY: sync(2) takes no arguments.
    unsafe { libc::sync() };
    Ok(())
}

/// A uniquely named temp file in `dir` (same file system as the final name,
/// so the rename is atomic).
fn tempfile_in(dir: &Path) -> Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for _ in 0..100 {
        let name = format!(
            ".tmp-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            nanos
        );
        let p = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(StoreError::Io(p.display().to_string(), e)),
        }
    }
    Err(StoreError::Other("could not create a temp file".into()))
}

use std::os::unix::fs::OpenOptionsExt;
