//! Probe history and export state in the store folder (`intel.sqlite`).
//!
//! Every probe appends rows, so re-probing shows a name that was re-pointed
//! to new addresses as history rather than overwriting what was seen.

use crate::probe::ProbeResult;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// File name of the intel database inside the store folder.
pub const DB_FILE: &str = "intel.sqlite";

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("{path}: {source}")]
    Sql {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The store folder could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored row no longer decodes.
    #[error("{path}: stored probe row {id} does not decode: {reason}")]
    Decode {
        /// The database file.
        path: PathBuf,
        /// Row id.
        id: i64,
        /// serde_json's message.
        reason: String,
    },
}

/// The intel database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// One history row: a probe and whether its address set changed from the
/// previous probe of the same name.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryRow {
    /// The probe.
    pub probe: ProbeResult,
    /// True when the address set differs from the previous probe's.
    pub repointed: bool,
}

impl Store {
    /// Opens (creating) `<dir>/intel.sqlite`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(sql)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS probe (
               id INTEGER PRIMARY KEY,
               name TEXT NOT NULL,
               ts INTEGER NOT NULL,
               status TEXT NOT NULL,
               addrs TEXT NOT NULL,
               json TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS probe_name_ts ON probe(name, ts);
             CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .map_err(sql)?;
        Ok(Store { conn, path })
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends probe results in one transaction.
    pub fn record(&mut self, results: &[ProbeResult]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sql {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO probe(name, ts, status, addrs, json) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(sql)?;
            for r in results {
                let json = serde_json::to_string(r).expect("probe results serialise");
                let status = serde_json::to_value(r.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                st.execute(params![r.name, r.ts.0, status, r.addr_set(), json])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }

    fn decode(&self, id: i64, json: &str) -> Result<ProbeResult, StoreError> {
        serde_json::from_str(json).map_err(|e| StoreError::Decode {
            path: self.path.clone(),
            id,
            reason: e.to_string(),
        })
    }

    /// Every probe of `name`, oldest first, marking re-pointings.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, json FROM probe WHERE name = ?1 ORDER BY ts, id")
            .map_err(|e| self.sql(e))?;
        let rows: Vec<(i64, String)> = st
            .query_map(params![name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.sql(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.sql(e))?;
        let mut out: Vec<HistoryRow> = Vec::with_capacity(rows.len());
        for (id, json) in rows {
            let probe = self.decode(id, &json)?;
            let repointed = out
                .last()
                .is_some_and(|prev| prev.probe.addr_set() != probe.addr_set());
            out.push(HistoryRow { probe, repointed });
        }
        Ok(out)
    }

    /// The newest probe of `name`, if any.
    pub fn latest(&self, name: &str) -> Result<Option<ProbeResult>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT id, json FROM probe WHERE name = ?1 ORDER BY ts DESC, id DESC LIMIT 1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        row.map(|(id, j)| self.decode(id, &j)).transpose()
    }

    /// Reads a state value.
    pub fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM kv WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.sql(e))
    }

    /// Writes a state value.
    pub fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO kv(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.sql(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{AddrCheck, DnsStatus, PtrStatus};
    use botscope_core::Ts;

    fn pr(ts: i64, addrs: &[&str]) -> ProbeResult {
        ProbeResult {
            name: "cc.example.net".into(),
            ts: Ts(ts),
            resolver: "r".into(),
            status: if addrs.is_empty() {
                DnsStatus::Nxdomain
            } else {
                DnsStatus::Resolved
            },
            addrs: addrs
                .iter()
                .map(|a| AddrCheck {
                    addr: a.parse().unwrap(),
                    ptr: vec![],
                    ptr_status: PtrStatus::Missing,
                    ports: vec![],
                })
                .collect(),
            bots: 0,
            active: false,
        }
    }

    #[test]
    fn history_marks_repointing_and_latest_is_newest() {
        let d = tempfile::tempdir().unwrap();
        let mut s = Store::open(d.path()).unwrap();
        s.record(&[pr(1, &["10.0.0.1"])]).unwrap();
        s.record(&[pr(2, &["10.0.0.1"])]).unwrap();
        s.record(&[pr(3, &["10.0.0.9"])]).unwrap();
        drop(s);
        let s = Store::open(d.path()).unwrap();
        let h = s.history("cc.example.net").unwrap();
        assert_eq!(
            h.iter().map(|r| r.repointed).collect::<Vec<_>>(),
            vec![false, false, true]
        );
        assert_eq!(
            s.latest("cc.example.net").unwrap().unwrap().addr_set(),
            "10.0.0.9"
        );
        assert!(s.latest("other.example").unwrap().is_none());
        s.set("k", "1").unwrap();
        s.set("k", "2").unwrap();
        assert_eq!(s.get("k").unwrap().as_deref(), Some("2"));
    }
}
