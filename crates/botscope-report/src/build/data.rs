//! Loading the data folder: the contract's named files only, each checked
//! for its schema version and its `unavailable` form before its type.

use super::*;
use crate::ReportError;
use botscope_core::report::*;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows shown per table; the rest are "N more" in the data file.
pub const ROWS_SHOWN: usize = 500;
/// Largest data file read (a bigger one is reported, not parsed).
pub const MAX_FILE: u64 = 256 << 20;

/// Files read beside the sections of [`SECTIONS`]: `models.json`, the
/// series the models section fits ([`botscope_model::series::ModelSeries`]
/// with a `schema_version`, written by `botscope report collect`).
pub const EXTRA_FILES: [&str; 2] = ["models", "table9_channels"];

/// The data files of a folder: only the contract's named files.
#[derive(Clone, Debug, Default)]
pub struct DataFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Files that parse as JSON: name (`table7.json`) and bytes (each is
    /// deserialised straight into its section's type, never held as a
    /// generic JSON tree).
    pub files: Vec<(String, Arc<[u8]>)>,
    /// Named files that could not be parsed: name and reason.
    pub unreadable: Vec<(String, String)>,
}

impl DataFolder {
    pub(crate) fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| &v[..])
    }

    pub(crate) fn bad(&self, name: &str) -> Option<&str> {
        self.unreadable
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.as_str())
    }
}

/// The file a section is read from.
pub fn file_of(id: &str) -> String {
    format!("{id}.json")
}

/// Reads the contract's files from `dir` (a half-written or hostile file is
/// reported and its section says so; the others still count).
pub fn load_data(dir: &Path) -> Result<DataFolder, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::DataDir {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
        });
    }
    let mut data = DataFolder {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    for id in SECTIONS.iter().chain(EXTRA_FILES.iter()) {
        let name = file_of(id);
        let path = dir.join(&name);
        if !path.exists() {
            continue;
        }
        match parse_file(&path) {
            Ok(v) => data.files.push((name, v)),
            Err(e) => data.unreadable.push((name, e.to_string())),
        }
    }
    Ok(data)
}

/// Reads one data file (at most [`MAX_FILE`] bytes) and checks that it
/// is complete JSON (a half-written file is an error, not a section).
pub fn parse_file(path: &Path) -> Result<Arc<[u8]>, ReportError> {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if len > MAX_FILE {
        return Err(ReportError::FileTooLarge { len, max: MAX_FILE });
    }
    let bytes = std::fs::read(path).map_err(ReportError::Read)?;
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(ReportError::Json)?;
    Ok(bytes.into())
}

/// The members every data file is checked for before its type.
#[derive(serde::Deserialize)]
pub(crate) struct Head {
    schema_version: Option<u64>,
    unavailable: Option<serde::de::IgnoredAny>,
}

pub(crate) enum Loaded<T> {
    Data(T),
    Not(Status),
}

pub(crate) fn load<T: DeserializeOwned>(data: &DataFolder, id: &str) -> Loaded<T> {
    let name = file_of(id);
    if let Some(e) = data.bad(&name) {
        return Loaded::Not(Status::Unreadable(e.to_string()));
    }
    let Some(v) = data.file(&name) else {
        return Loaded::Not(Status::Missing);
    };
    let head = match serde_json::from_slice::<Head>(v) {
        Ok(h) => h,
        Err(e) => return Loaded::Not(Status::Unreadable(e.to_string())),
    };
    match head.schema_version {
        Some(n) if n == SCHEMA_VERSION as u64 => {}
        Some(n) => {
            return Loaded::Not(Status::Unreadable(format!(
                "schema_version {n}; this report reads {SCHEMA_VERSION}"
            )))
        }
        None => {
            return Loaded::Not(Status::Unreadable(
                "no schema_version: not a report data file".into(),
            ))
        }
    }
    // An `unavailable` member marks the reason form; anything else must be
    // the section's struct (so a mismatch names the field that is wrong).
    if head.unavailable.is_some() {
        return match serde_json::from_slice::<Unavailable>(v) {
            Ok(u) => Loaded::Not(Status::Unavailable(u.unavailable)),
            Err(e) => Loaded::Not(Status::Unreadable(e.to_string())),
        };
    }
    match serde_json::from_slice::<T>(v) {
        Ok(t) => Loaded::Data(t),
        Err(e) => Loaded::Not(Status::Unreadable(e.to_string())),
    }
}
