//! Adding files, folders and zip archives to the store. Archives follow
//! the "infected" password convention (ZipCrypto); expansion is capped per
//! entry and per archive, so zip bombs are rejected with a reason instead
//! of filling the disk. Nested archives are stored as specimens, not opened.

use crate::store::{AddOptions, Source, Store, StoreError};
use botscope_core::error::SkipCounter;
use botscope_core::{Located, Location};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

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

/// Adds a path (file, folder or zip archive).
pub fn add_path(
    store: &mut Store,
    path: &Path,
    seen: i64,
    source: Source,
    limits: &Limits,
    opts: &AddOptions,
    report: &mut AddReport,
) -> Result<(), StoreError> {
    add_path_depth(store, path, seen, source, limits, opts, report, 0)
}

#[allow(clippy::too_many_arguments)]
fn add_path_depth(
    store: &mut Store,
    path: &Path,
    seen: i64,
    source: Source,
    limits: &Limits,
    opts: &AddOptions,
    report: &mut AddReport,
    depth: usize,
) -> Result<(), StoreError> {
    let reject = |report: &mut AddReport, reason: String| {
        report.rejected.add(&Located {
            location: Location {
                file: path.display().to_string(),
                ..Default::default()
            },
            reason,
        });
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            reject(report, format!("unreadable: {}", e.kind()));
            return Ok(());
        }
    };
    if meta.is_dir() {
        if depth >= limits.max_depth {
            reject(report, "folder nesting too deep".into());
            return Ok(());
        }
        let mut entries: Vec<_> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
            Err(e) => {
                reject(report, format!("unreadable: {}", e.kind()));
                return Ok(());
            }
        };
        entries.sort();
        for p in entries {
            add_path_depth(store, &p, seen, source, limits, opts, report, depth + 1)?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        reject(report, "not a regular file".into());
        return Ok(());
    }
    if meta.len() > limits.max_entry.max(limits.max_archive_total) {
        reject(report, "file larger than the size cap".into());
        return Ok(());
    }
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            reject(report, format!("unreadable: {}", e.kind()));
            return Ok(());
        }
    };
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return add_zip(
            store,
            &path.display().to_string(),
            &data,
            seen,
            source,
            limits,
            opts,
            report,
        );
    }
    if data.len() as u64 > limits.max_entry {
        reject(report, "file larger than the size cap".into());
        return Ok(());
    }
    record(store, &data, seen, source, opts, report)
}

fn record(
    store: &mut Store,
    data: &[u8],
    seen: i64,
    source: Source,
    opts: &AddOptions,
    report: &mut AddReport,
) -> Result<(), StoreError> {
    let (sha, new) = store.add(data, seen, source, opts)?;
    if new {
        report.new += 1;
    } else {
        report.seen_again += 1;
    }
    report.added.push(sha);
    Ok(())
}

/// Adds every file entry of a zip archive held in memory.
#[allow(clippy::too_many_arguments)]
pub fn add_zip(
    store: &mut Store,
    name: &str,
    data: &[u8],
    seen: i64,
    source: Source,
    limits: &Limits,
    opts: &AddOptions,
    report: &mut AddReport,
) -> Result<(), StoreError> {
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
            report.rejected.add(&Located {
                location: place(None, None),
                reason: format!("unreadable zip: {e}"),
            });
            return Ok(());
        }
    };
    if archive.len() > limits.max_entries {
        report.rejected.add(&Located {
            location: place(None, None),
            reason: "too many zip entries".into(),
        });
        return Ok(());
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let encrypted = match archive.by_index_raw(i) {
            Ok(f) => f.encrypted(),
            Err(e) => {
                report.rejected.add(&Located {
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
                report.rejected.add(&Located {
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
            report.rejected.add(&Located {
                location: place(Some(&ename), offset),
                reason: "zip entry exceeds the per-entry size cap".into(),
            });
            continue;
        }
        if declared / compressed > limits.max_ratio {
            report.rejected.add(&Located {
                location: place(Some(&ename), offset),
                reason: "zip entry compression ratio too high (zip bomb)".into(),
            });
            continue;
        }
        if total + declared > limits.max_archive_total {
            report.rejected.add(&Located {
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
                report.rejected.add(&Located {
                    location: place(Some(&ename), offset),
                    reason: format!("zip entry unreadable: {}", e.kind()),
                });
                continue;
            }
            Ok(_) if buf.len() as u64 > cap => {
                report.rejected.add(&Located {
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
        record(store, &buf, seen, source, opts, report)?;
    }
    Ok(())
}
