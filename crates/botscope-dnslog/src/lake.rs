//! The query lake: normalised queries as Parquet, partitioned by UTC day
//! (`DIR/day=YYYY-MM-DD/part-NNNNN.parquet`), for Spark (`jobs/`) and
//! other engines.
//!
//! Columns (Spark-friendly: no unsigned types, microsecond timestamps):
//!
//! | column | Parquet type | meaning |
//! |---|---|---|
//! | `ts` | INT64 TIMESTAMP(MICROS, UTC) | query time |
//! | `client` | BYTE_ARRAY UTF8 | client address as logged |
//! | `client_key` | BYTE_ARRAY UTF8 | the counting key: IPv4 address, IPv6 address or `prefix/len` (see `--v6-prefix`) |
//! | `qname` | BYTE_ARRAY UTF8 | query name, lower case, no trailing dot |
//! | `server` | BYTE_ARRAY UTF8, optional | resolver address when the log names it |
//! | `source` | BYTE_ARRAY UTF8 | input file |
//!
//! Written with the `parquet` crate's column writers (no Arrow layer, to
//! keep the build small); row groups of [`ROWS_PER_GROUP`] rows, zstd.

use crate::read::Query;
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::Type;
use std::collections::BTreeMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows buffered per row group.
pub const ROWS_PER_GROUP: usize = 1 << 17;

const SCHEMA: &str = "message query {
  REQUIRED INT64 ts (TIMESTAMP(MICROS,true));
  REQUIRED BYTE_ARRAY client (UTF8);
  REQUIRED BYTE_ARRAY client_key (UTF8);
  REQUIRED BYTE_ARRAY qname (UTF8);
  OPTIONAL BYTE_ARRAY server (UTF8);
  REQUIRED BYTE_ARRAY source (UTF8);
}";

/// A lake write failed.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Parquet encoder error.
    #[error("{path}: parquet: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The error.
        source: parquet::errors::ParquetError,
    },
}

#[derive(Default)]
struct Rows {
    ts: Vec<i64>,
    client: Vec<ByteArray>,
    key: Vec<ByteArray>,
    qname: Vec<ByteArray>,
    server: Vec<ByteArray>,
    server_def: Vec<i16>,
    source: Vec<ByteArray>,
}

struct DayFile {
    path: PathBuf,
    writer: SerializedFileWriter<File>,
    rows: Rows,
    written: u64,
}

/// Writes queries into a day-partitioned Parquet folder.
pub struct LakeWriter {
    dir: PathBuf,
    schema: Arc<Type>,
    props: Arc<WriterProperties>,
    days: BTreeMap<i64, DayFile>,
    v6_prefix: u8,
    run_id: String,
    name_buf: Vec<u8>,
    /// Rows written so far.
    pub rows: u64,
}

impl LakeWriter {
    /// A writer into `dir`; IPv6 clients get `client_key` per `v6_prefix`.
    /// Files are named with `run_id` so repeated ingests add files instead
    /// of overwriting them.
    pub fn new(dir: &Path, v6_prefix: u8, run_id: &str) -> Result<LakeWriter, LakeError> {
        std::fs::create_dir_all(dir).map_err(|source| LakeError::Io {
            path: dir.into(),
            source,
        })?;
        let schema = Arc::new(parse_message_type(SCHEMA).expect("static schema parses"));
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::ZSTD(
                    ZstdLevel::try_new(3).expect("valid level"),
                ))
                .build(),
        );
        Ok(LakeWriter {
            dir: dir.into(),
            schema,
            props,
            days: BTreeMap::new(),
            v6_prefix,
            run_id: run_id.into(),
            name_buf: Vec::new(),
            rows: 0,
        })
    }

    /// The counting key of a client, rendered as the rate report renders it.
    pub fn client_key(ip: IpAddr, v6_prefix: u8) -> String {
        match ip {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None if v6_prefix >= 128 => a.to_string(),
                None => {
                    let m = u128::from(a) & (u128::MAX << (128 - v6_prefix as u32));
                    format!("{}/{}", std::net::Ipv6Addr::from(m), v6_prefix)
                }
            },
        }
    }

    /// Adds one query.
    pub fn push(&mut self, q: &Query<'_>, source: &str) -> Result<(), LakeError> {
        if !crate::name::normalize_qname_into(q.qname, &mut self.name_buf) {
            return Ok(());
        }
        let day = q.ts_us.div_euclid(86_400_000_000);
        if !self.days.contains_key(&day) {
            let name = botscope_core::Ts(day * 86_400_000_000).utc_day();
            let sub = self.dir.join(format!("day={name}"));
            std::fs::create_dir_all(&sub).map_err(|source| LakeError::Io {
                path: sub.clone(),
                source,
            })?;
            let path = sub.join(format!("part-{}.parquet", self.run_id));
            let file = File::create(&path).map_err(|source| LakeError::Io {
                path: path.clone(),
                source,
            })?;
            let writer = SerializedFileWriter::new(file, self.schema.clone(), self.props.clone())
                .map_err(|source| LakeError::Parquet {
                path: path.clone(),
                source,
            })?;
            self.days.insert(
                day,
                DayFile {
                    path,
                    writer,
                    rows: Rows::default(),
                    written: 0,
                },
            );
        }
        let f = self.days.get_mut(&day).expect("inserted above");
        let r = &mut f.rows;
        r.ts.push(q.ts_us);
        r.client
            .push(ByteArray::from(q.client.to_string().into_bytes()));
        r.key.push(ByteArray::from(
            Self::client_key(q.client, self.v6_prefix).into_bytes(),
        ));
        r.qname.push(ByteArray::from(self.name_buf.clone()));
        match q.server {
            Some(s) => {
                r.server.push(ByteArray::from(s.to_string().into_bytes()));
                r.server_def.push(1);
            }
            None => r.server_def.push(0),
        }
        r.source.push(ByteArray::from(source.as_bytes().to_vec()));
        self.rows += 1;
        if r.ts.len() >= ROWS_PER_GROUP {
            flush(f)?;
        }
        Ok(())
    }

    /// Flushes and closes every file; returns the files written.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, LakeError> {
        let mut out = Vec::new();
        for (_, mut f) in std::mem::take(&mut self.days) {
            flush(&mut f)?;
            let path = f.path.clone();
            f.writer.close().map_err(|source| LakeError::Parquet {
                path: path.clone(),
                source,
            })?;
            out.push(path);
        }
        Ok(out)
    }
}

fn flush(f: &mut DayFile) -> Result<(), LakeError> {
    if f.rows.ts.is_empty() {
        return Ok(());
    }
    let path = f.path.clone();
    let pe = |source| LakeError::Parquet {
        path: path.clone(),
        source,
    };
    let rows = std::mem::take(&mut f.rows);
    let mut rg = f.writer.next_row_group().map_err(pe)?;
    let mut idx = 0;
    while let Some(mut col) = rg.next_column().map_err(pe)? {
        match idx {
            0 => col
                .typed::<Int64Type>()
                .write_batch(&rows.ts, None, None)
                .map(|_| ()),
            1 => col
                .typed::<ByteArrayType>()
                .write_batch(&rows.client, None, None)
                .map(|_| ()),
            2 => col
                .typed::<ByteArrayType>()
                .write_batch(&rows.key, None, None)
                .map(|_| ()),
            3 => col
                .typed::<ByteArrayType>()
                .write_batch(&rows.qname, None, None)
                .map(|_| ()),
            4 => col
                .typed::<ByteArrayType>()
                .write_batch(&rows.server, Some(&rows.server_def), None)
                .map(|_| ()),
            _ => col
                .typed::<ByteArrayType>()
                .write_batch(&rows.source, None, None)
                .map(|_| ()),
        }
        .map_err(pe)?;
        col.close().map_err(pe)?;
        idx += 1;
    }
    rg.close().map_err(pe)?;
    f.written += rows.ts.len() as u64;
    Ok(())
}
