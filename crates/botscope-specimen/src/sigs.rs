//! Versioned signature sets (YARA rules through `yara-x`, hash lists) and
//! scans recorded with the set version and time, so re-scanning after an
//! update gives each specimen's time-to-known.

use crate::store::{Store, StoreError};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Kind of a signature set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetKind {
    /// YARA rules source.
    Yara,
    /// Hash list (plain hex, ClamAV `.hdb` or `.hsb`).
    Hashes,
}

impl SetKind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SetKind::Yara => "yara",
            SetKind::Hashes => "hashes",
        }
    }
}

/// A parsed hash list: lowercase hex digest → detection name.
#[derive(Clone, Debug, Default)]
pub struct HashList {
    /// Digest → name (MD5, SHA-1 or SHA-256 digests, told apart by length).
    pub names: HashMap<String, String>,
    /// Lines skipped, with line numbers and reasons.
    pub skipped: Vec<(usize, String)>,
}

/// Parses hash lists: one entry a line, `#` comments; a line is a bare hex
/// digest, or ClamAV `hash:size:name[:...]` (`.hdb` MD5, `.hsb` SHA-1/256;
/// a size of `*` matches any size).
pub fn parse_hash_list(text: &str) -> HashList {
    let mut out = HashList::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split(':');
        let digest = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if !matches!(digest.len(), 32 | 40 | 64) || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.skipped
                .push((i + 1, "not a hex MD5/SHA-1/SHA-256 digest".into()));
            continue;
        }
        let size = parts.next();
        if let Some(s) = size {
            if s != "*" && s.parse::<u64>().is_err() {
                out.skipped.push((i + 1, "bad size field".into()));
                continue;
            }
        }
        let name = parts
            .next()
            .map(str::to_string)
            .unwrap_or_else(|| format!("hash.{}", &digest[..8]));
        out.names.insert(digest, name);
    }
    out
}

/// Why a signature set did not compile.
#[derive(Debug, thiserror::Error)]
pub enum SigSetError {
    /// YARA rules given to a build without the `yara` feature.
    #[error("this build has no YARA support (feature `yara`)")]
    NoYara,
    /// The YARA rules do not compile.
    #[cfg(feature = "yara")]
    #[error("{0}")]
    Yara(Box<yara_x::errors::CompileError>),
}

/// A compiled signature set.
pub enum Compiled {
    /// YARA-X rules.
    #[cfg(feature = "yara")]
    Yara(Box<yara_x::Rules>),
    /// A hash list.
    Hashes(HashList),
}

impl Compiled {
    /// Compiles a set's content.
    pub fn new(kind: SetKind, content: &str) -> Result<Compiled, SigSetError> {
        match kind {
            #[cfg(feature = "yara")]
            SetKind::Yara => yara_x::compile(content)
                .map(|r| Compiled::Yara(Box::new(r)))
                .map_err(|e| SigSetError::Yara(Box::new(e))),
            #[cfg(not(feature = "yara"))]
            SetKind::Yara => {
                let _ = content;
                Err(SigSetError::NoYara)
            }
            SetKind::Hashes => Ok(Compiled::Hashes(parse_hash_list(content))),
        }
    }

    /// A scanner for this set; one per thread, reused across specimens
    /// (building a YARA-X scanner costs far more than most scans).
    pub fn scanner(&self) -> SetScanner<'_> {
        match self {
            #[cfg(feature = "yara")]
            Compiled::Yara(rules) => {
                let mut scanner = yara_x::Scanner::new(rules);
                scanner.set_timeout(std::time::Duration::from_secs(30));
                SetScanner::Yara(Box::new(scanner))
            }
            Compiled::Hashes(h) => SetScanner::Hashes(h),
        }
    }
}

/// A set ready to scan specimens one after another.
pub enum SetScanner<'r> {
    /// YARA-X scanner.
    #[cfg(feature = "yara")]
    Yara(Box<yara_x::Scanner<'r>>),
    /// Hash-list lookup.
    Hashes(&'r HashList),
}

impl SetScanner<'_> {
    /// Detection names for one specimen (empty = not detected).
    pub fn scan(&mut self, data: &[u8], md5: &str, sha1: &str, sha256: &str) -> Vec<String> {
        #[cfg(not(feature = "yara"))]
        let _ = data;
        match self {
            #[cfg(feature = "yara")]
            SetScanner::Yara(scanner) => match scanner.scan(data) {
                Ok(res) => res
                    .matching_rules()
                    .map(|r| r.identifier().to_string())
                    .collect(),
                Err(_) => Vec::new(),
            },
            SetScanner::Hashes(h) => [md5, sha1, sha256]
                .iter()
                .filter_map(|d| h.names.get(*d).cloned())
                .collect(),
        }
    }
}

/// One stored set version.
#[derive(Clone, Debug, Serialize)]
pub struct SetVersion {
    /// Set name.
    pub name: String,
    /// Version label.
    pub version: String,
    /// Kind.
    pub kind: SetKind,
    /// Release time, epoch seconds.
    pub released: i64,
}

/// Stores a new set version (checking that it compiles first).
pub fn add_set(
    store: &Store,
    name: &str,
    version: &str,
    kind: SetKind,
    released: i64,
    content: &str,
) -> Result<(), StoreError> {
    Compiled::new(kind, content)
        .map_err(|e| StoreError::Other(format!("set {name} {version} does not compile: {e}")))?;
    store.db().execute(
        "INSERT INTO sigsets (name, version, kind, released, content) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, version, kind.as_str(), released, content],
    )?;
    Ok(())
}

/// The newest version (by release time) of every set, or of the named one.
pub fn latest_sets(
    store: &Store,
    only: Option<&str>,
) -> Result<Vec<(SetVersion, String)>, StoreError> {
    let mut st = store.db().prepare(
        "SELECT name, version, kind, released, content FROM sigsets s
         WHERE (?1 IS NULL OR name = ?1)
           AND released = (SELECT MAX(released) FROM sigsets t WHERE t.name = s.name)
         ORDER BY name, rowid DESC",
    )?;
    let rows = st
        .query_map(params![only], |r| {
            let kind: String = r.get(2)?;
            Ok((
                SetVersion {
                    name: r.get(0)?,
                    version: r.get(1)?,
                    kind: if kind == "yara" {
                        SetKind::Yara
                    } else {
                        SetKind::Hashes
                    },
                    released: r.get(3)?,
                },
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    // One version per set even if two share a release time (newest row wins).
    let mut seen = std::collections::HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|(v, _)| seen.insert(v.name.clone()))
        .collect())
}

/// Result of one scan run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanSummary {
    /// Sets and versions used.
    pub sets: Vec<String>,
    /// Specimens scanned.
    pub scanned: u64,
    /// Specimens detected by at least one set.
    pub detected: u64,
    /// Specimens whose file could not be read.
    pub unreadable: u64,
}

/// Scans every stored specimen with the newest version of each set (or of
/// `only`) and records the results at time `at`, one worker a core.
pub fn scan_all(store: &mut Store, only: Option<&str>, at: i64) -> Result<ScanSummary, StoreError> {
    scan_all_threads(store, only, at, 0)
}

/// [`scan_all`] with `threads` workers (0 = one a core).
pub fn scan_all_threads(
    store: &mut Store,
    only: Option<&str>,
    at: i64,
    threads: usize,
) -> Result<ScanSummary, StoreError> {
    let sets = latest_sets(store, only)?;
    if sets.is_empty() {
        return Err(StoreError::Other(
            "no signature set to scan with (add one with `set add`)".into(),
        ));
    }
    let compiled: Vec<(SetVersion, Compiled)> = sets
        .into_iter()
        .map(|(v, c)| {
            Compiled::new(v.kind, &c)
                .map(|c| (v, c))
                .map_err(|e| StoreError::Other(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let rows: Vec<(String, String, String)> = {
        let mut st = store
            .db()
            .prepare("SELECT sha256, md5, sha1 FROM specimens ORDER BY sha256")?;
        let r = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        r
    };
    let mut summary = ScanSummary {
        sets: compiled
            .iter()
            .map(|(v, _)| format!("{} {}", v.name, v.version))
            .collect(),
        ..Default::default()
    };
    // Workers take specimens by index; each has its own scanners.
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(rows.len().max(1));
    let next = AtomicUsize::new(0);
    let quarantine = store.quarantine();
    let per_row: Vec<Option<Vec<Vec<String>>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (rows, compiled, next, quarantine) = (&rows, &compiled, &next, &quarantine);
                scope.spawn(move || {
                    let mut scanners: Vec<SetScanner<'_>> =
                        compiled.iter().map(|(_, c)| c.scanner()).collect();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((sha256, md5, sha1)) = rows.get(i) else {
                            return out;
                        };
                        let names = quarantine.read(sha256).ok().map(|data| {
                            scanners
                                .iter_mut()
                                .map(|s| s.scan(&data, md5, sha1, sha256))
                                .collect()
                        });
                        out.push((i, names));
                    }
                })
            })
            .collect();
        let mut all: Vec<Option<Vec<Vec<String>>>> = vec![None; rows.len()];
        for w in workers {
            for (i, names) in w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)) {
                all[i] = names;
            }
        }
        all
    });
    let mut results = Vec::with_capacity(rows.len() * compiled.len());
    for ((sha256, _, _), names) in rows.iter().zip(per_row) {
        let Some(names) = names else {
            summary.unreadable += 1;
            continue;
        };
        summary.scanned += 1;
        summary.detected += u64::from(names.iter().any(|n| !n.is_empty()));
        for ((v, _), n) in compiled.iter().zip(names) {
            results.push((v.name.clone(), v.version.clone(), sha256.clone(), n));
        }
    }
    let tx = store.db().unchecked_transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO scans (set_name, set_version, time, sha256, detected, names) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (n, v, sha, names) in results {
            ins.execute(params![n, v, at, sha, !names.is_empty(), names.join(",")])?;
        }
    }
    tx.commit()?;
    Ok(summary)
}

/// When a specimen first became known (earliest detecting scan at or
/// before `as_of`) and with what names.
pub fn known_since(
    store: &Store,
    sha256: &str,
    as_of: i64,
) -> Result<Option<(i64, String, String, String)>, StoreError> {
    Ok(store
        .db()
        .query_row(
            "SELECT time, set_name, set_version, names FROM scans
             WHERE sha256 = ?1 AND detected = 1 AND time <= ?2 ORDER BY time, id LIMIT 1",
            params![sha256, as_of],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?)
}

/// Every stored set version, by name then release time.
pub fn list_sets(store: &Store) -> Result<Vec<SetVersion>, StoreError> {
    let mut st = store.db().prepare(
        "SELECT name, version, kind, released FROM sigsets ORDER BY name, released, rowid",
    )?;
    let rows = st
        .query_map([], |r| {
            let kind: String = r.get(2)?;
            Ok(SetVersion {
                name: r.get(0)?,
                version: r.get(1)?,
                kind: if kind == "yara" {
                    SetKind::Yara
                } else {
                    SetKind::Hashes
                },
                released: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
