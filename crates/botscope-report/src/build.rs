//! From a data folder to report sections. The folder holds one file per
//! section of the contract ([`botscope_core::report`], `<id>.json`); each
//! is deserialised into its type and laid out as the study printed it,
//! with the study's published figures beside the measured ones
//! ([`crate::study`]). Only the files named in [`SECTIONS`] are read:
//! anything else in the folder (`truth.json` included) is never an input.

use crate::charts;
use crate::study::{self, StudyRow};
use crate::ReportError;
use botscope_core::report::*;
use botscope_core::Ts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows shown per table; the rest are "N more" in the data file.
pub const ROWS_SHOWN: usize = 500;
/// Largest data file read (a bigger one is reported, not parsed).
pub const MAX_FILE: u64 = 256 << 20;

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
    fn file(&self, name: &str) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| &v[..])
    }

    fn bad(&self, name: &str) -> Option<&str> {
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
    for id in SECTIONS {
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
struct Head {
    schema_version: Option<u64>,
    unavailable: Option<serde::de::IgnoredAny>,
}

/// One table cell: the text shown and, where it differs, the exact value
/// behind it (`data-value`, read by tests and scripts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    /// Shown text.
    pub text: String,
    /// Exact value (a key, an unrounded number).
    pub value: Option<String>,
    /// Right-aligned number.
    pub num: bool,
    /// A value the study published (styled apart).
    pub study: bool,
}

impl Cell {
    /// Plain text.
    pub fn text(t: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            ..Default::default()
        }
    }

    /// Text with a key behind it.
    pub fn keyed(t: impl Into<String>, key: impl Into<String>) -> Cell {
        Cell {
            text: t.into(),
            value: Some(key.into()),
            ..Default::default()
        }
    }

    /// A count with thousands separators.
    pub fn count(n: u64) -> Cell {
        Cell {
            text: fmt_int(n as i64),
            value: Some(n.to_string()),
            num: true,
            study: false,
        }
    }

    /// A number shown with `text`, exact value `v`.
    pub fn number(text: impl Into<String>, v: f64) -> Cell {
        Cell {
            text: text.into(),
            value: Some(num_text(v)),
            num: true,
            study: false,
        }
    }

    /// A percentage to one decimal.
    pub fn percent(p: f64) -> Cell {
        Cell::number(fmt_pct(p), p)
    }

    /// A missing value.
    pub fn none() -> Cell {
        Cell {
            text: "—".into(),
            num: true,
            ..Default::default()
        }
    }

    /// Marks the cell as the study's.
    pub fn from_study(mut self) -> Cell {
        self.study = true;
        self
    }
}

/// One table row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// Cells, one per column.
    pub cells: Vec<Cell>,
    /// Index of the cell that links to the evidence.
    pub link: Option<usize>,
    /// Evidence shown.
    pub evidence: Vec<String>,
    /// Evidence items not shown (in the data file).
    pub evidence_more: u64,
}

impl Row {
    /// A row without evidence.
    pub fn plain(cells: Vec<Cell>) -> Row {
        Row {
            cells,
            ..Default::default()
        }
    }

    /// A row whose cell `link` opens its evidence.
    pub fn with_evidence(cells: Vec<Cell>, link: usize, ev: &[String], more: u64) -> Row {
        Row {
            cells,
            link: (!ev.is_empty() || more > 0).then_some(link),
            evidence: ev.to_vec(),
            evidence_more: more,
        }
    }
}

/// What a table is in its section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableKind {
    /// The section's main table (`data-section`).
    Data,
    /// Quantities, measured beside the study's (`data-notes`).
    Facts,
    /// The study's own rows that have no measured counterpart (`data-study`).
    Study,
    /// A further listing (`data-extra`).
    Extra,
}

/// A table of a section.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Its role.
    pub kind: TableKind,
    /// Caption.
    pub caption: String,
    /// Column headings (their `value` is a stable key where one exists).
    pub columns: Vec<Cell>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Rows in the data but not shown.
    pub rows_more: u64,
}

impl Table {
    fn new(kind: TableKind, caption: &str, columns: Vec<Cell>) -> Table {
        Table {
            kind,
            caption: caption.into(),
            columns,
            rows: vec![],
            rows_more: 0,
        }
    }
}

fn heads(names: &[&str]) -> Vec<Cell> {
    names.iter().map(|n| Cell::text(*n)).collect()
}

fn study_head(name: &str) -> Cell {
    Cell::text(name).from_study()
}

/// Whether a section has data, and if not why.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Data read.
    Data,
    /// The file is not in the folder.
    Missing,
    /// The producer said why it could not fill the section.
    Unavailable(String),
    /// The file is there but unreadable (or another schema version).
    Unreadable(String),
}

/// One table or figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Anchor id (`table7`, `fig5`...), also the data file's stem.
    pub id: String,
    /// Heading, as the study titles it.
    pub title: String,
    /// What the study found, in one or two sentences.
    pub study: String,
    /// Data status.
    pub status: Status,
    /// The command that fills this section.
    pub command: String,
    /// Tables in reading order.
    pub tables: Vec<Table>,
    /// Inline SVG charts.
    pub charts: Vec<String>,
    /// Sentences comparing the field with the study.
    pub remarks: Vec<String>,
}

impl Section {
    fn new(id: &str, title: &str, study: &str, command: &str) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            study: study.into(),
            status: Status::Missing,
            command: command.into(),
            tables: vec![],
            charts: vec![],
            remarks: vec![],
        }
    }

    /// Whether the section has data.
    pub fn has_data(&self) -> bool {
        self.status == Status::Data
    }

    /// The data file it reads.
    pub fn file(&self) -> String {
        file_of(&self.id)
    }

    /// The table of a kind.
    pub fn table(&self, kind: TableKind) -> Option<&Table> {
        self.tables.iter().find(|t| t.kind == kind)
    }

    /// The "no data" sentence.
    pub fn no_data_text(&self) -> String {
        match &self.status {
            Status::Data => String::new(),
            Status::Missing => format!("No data: {} is not in the data folder.", self.file()),
            Status::Unavailable(why) => format!("No data: {why}."),
            Status::Unreadable(e) => format!("No data: {} cannot be read ({e}).", self.file()),
        }
    }
}

/// The whole report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Data folder it was built from.
    pub data_dir: String,
    /// Sections in reading order.
    pub sections: Vec<Section>,
    /// Files that could not be parsed: `name: reason`.
    pub unreadable: Vec<String>,
}

fn cell_json(c: &Cell) -> Value {
    serde_json::json!({"text": c.text, "value": c.value, "study": c.study})
}

impl Report {
    /// The report as JSON (no SVG).
    pub fn to_json(&self) -> Value {
        use serde_json::json;
        json!({
            "data_dir": self.data_dir,
            "unreadable": self.unreadable,
            "sections": self.sections.iter().map(|s| json!({
                "id": s.id,
                "title": s.title,
                "study": s.study,
                "file": s.file(),
                "has_data": s.has_data(),
                "no_data": s.no_data_text(),
                "command": s.command,
                "remarks": s.remarks,
                "tables": s.tables.iter().map(|t| json!({
                    "kind": format!("{:?}", t.kind).to_lowercase(),
                    "caption": t.caption,
                    "columns": t.columns.iter().map(cell_json).collect::<Vec<_>>(),
                    "rows": t.rows.iter().map(|r| json!({
                        "cells": r.cells.iter().map(cell_json).collect::<Vec<_>>(),
                        "evidence": r.evidence,
                        "evidence_more": r.evidence_more,
                    })).collect::<Vec<_>>(),
                    "rows_more": t.rows_more,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// A section by id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }
}

// ---------------------------------------------------------------- formats

/// An integer with thousands separators: `1,177,067`.
pub fn fmt_int(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut o = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    if n < 0 {
        format!("-{o}")
    } else {
        o
    }
}

/// A percentage to one decimal: `31.5 %`.
pub fn fmt_pct(p: f64) -> String {
    format!("{p:.1} %")
}

/// A number without noise: integers plain, others to 4 significant places.
pub fn num_text(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A number to `d` decimals with thousands separators on the integer part.
pub fn fmt_dec(v: f64, d: usize) -> String {
    let s = format!("{:.*}", d, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let int = fmt_int(int.parse().unwrap_or(0));
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// An RFC 3339 time as a reader wants it: `2005-05-19 14:00 UTC`
/// (seconds shown only when not zero).
pub fn fmt_time(rfc3339: &str) -> String {
    match Ts::parse_rfc3339(rfc3339) {
        Some(t) => {
            let s = t.rfc3339();
            let (day, rest) = s.split_at(10);
            let hms = &rest[1..9];
            if hms.ends_with(":00") {
                format!("{day} {} UTC", &hms[..5])
            } else {
                format!("{day} {hms} UTC")
            }
        }
        None => rfc3339.to_string(),
    }
}

/// A duration in words: `45 s`, `3 min 20 s`, `2 h 5 min`, `1.5 days`.
pub fn fmt_duration(secs: f64) -> String {
    let s = secs.max(0.0);
    if s < 60.0 {
        return format!("{} s", num_text((s * 10.0).round() / 10.0));
    }
    if s >= 2.0 * 86_400.0 {
        return format!("{:.1} days", s / 86_400.0);
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        match (whole / 60, whole % 60) {
            (m, 0) => format!("{m} min"),
            (m, r) => format!("{m} min {r} s"),
        }
    } else {
        let minutes = (s / 60.0).round() as u64;
        match (minutes / 60, minutes % 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        }
    }
}

/// A stage of Fig. 3 in words.
pub fn stage_name(s: &str) -> String {
    match s {
        "exploit" => "Exploit".into(),
        "copy" => "Copy binary".into(),
        "scan" => "Scan".into(),
        "dns" => "DNS lookup".into(),
        "irc_join" => "IRC join".into(),
        "update" => "Update".into(),
        o => o.to_string(),
    }
}

fn diff_cell(measured: Option<f64>, study: Option<f64>) -> Cell {
    match (measured, study) {
        (Some(m), Some(s)) => {
            let d = m - s;
            let sign = if d.abs() < 0.05 {
                ""
            } else if d > 0.0 {
                "+"
            } else {
                "−"
            };
            Cell::number(format!("{sign}{:.1} pts", d.abs()), d)
        }
        _ => Cell::none(),
    }
}

// ---------------------------------------------------------------- reading

enum Loaded<T> {
    Data(T),
    Not(Status),
}

fn load<T: DeserializeOwned>(data: &DataFolder, id: &str) -> Loaded<T> {
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

/// Section ids, titles, the study's finding, and the command that fills it.
pub const CATALOGUE: [(&str, &str, &str, &str); 16] = [
    (
        "table1",
        "Table 1 — Background traffic per honeypot address",
        "192 honeypot addresses received 0.28 kbps each on average and 2.58 kbps at peak; over Japan's ~30 M addresses that is 8.4 Gbps on average and 77.4 Gbps at peak.",
        "botscope analyze --background SENSOR.pcap CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table2",
        "Table 2 — Specimens caught: known and unknown to antivirus",
        "Over 42 days (2005-04-21 – 05-12): 31,846 detections of 3,705 kinds; about 90 % of detections were known to antivirus, but about 80 % of kinds were not.",
        "botscope specimen --json table2 --from DAY --to DAY > t2.json; botscope report collect --table2 t2.json --data DATA",
    ),
    (
        "table3",
        "Table 3 — Deemed infection rate of ISP customers",
        "Clients resolving a bot FQDN over clients querying the resolver: ISP A 2.64 % (2005-05-11) and 2.10 % (2005-06-07), ISP B 2.44 % (2005-05-11).",
        "botscope dns rate --watchlist W LOGS --json > rate.json; botscope report collect --dns-rate rate.json --data DATA",
    ),
    (
        "table4",
        "Table 4 — Bots carrying more than one IRC server",
        "Of the 100 most-caught bots, 19 (19 %) carry more than one IRC server FQDN.",
        "botscope specimen --json table4 > t4.json; botscope report collect --table4 t4.json --data DATA",
    ),
    (
        "table5",
        "Table 5 — C&C FQDNs by kind of domain",
        "68 C&C FQDNs: dynamic DNS 28 %, DNS services 22 %, unknown 19 %, game hosting 10 %, hosting 7 %, ISPs 7 %, IRCd/shell hosting 6 %.",
        "botscope intel classify WATCHLIST --table-json > t5.json; botscope report collect --table5 t5.json --data DATA",
    ),
    (
        "table6",
        "Table 6 — DNS state of the C&C FQDNs",
        "Of 68 FQDNs: 22 % serve several bots, 19 % have several addresses (up to 5), 34 % do not resolve, 15 % resolve to an unreachable address, 32 % have forward and reverse lookups that disagree.",
        "botscope intel probe WATCHLIST --store S; botscope report collect --probes S --watchlist WATCHLIST --data DATA",
    ),
    (
        "table7",
        "Table 7 — Exploit vectors against the honeypots",
        "1,177,067 attempts; four vectors make up 99.9 %: MS03-026 31.5 %, MS04-011 26.7 %, weak SMB shares 23.7 %, MS03-039 18.1 %.",
        "botscope analyze --honeypot-net NET CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table8",
        "Table 8 — How the bot binary is copied",
        "6,792 copies (5/19–5/24): TFTP GET to the infecting host 81.9 %, TCP connection from it 17.9 %, reverse connection 0.2 %.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table9",
        "Table 9 — IRC server ports of the C&C sessions",
        "1,986 sessions on 28 ports; only 48 % on 6667 — C&C must be found by content, not by port.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table10",
        "Table 10 — DDoS commands (Phatbot)",
        "Phatbot offers eight ddos.* commands; every attack observed was a SYN flood of a few minutes against rival botnets' IRC servers.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table11",
        "Table 11 — Spam redirect ports opened on the bots",
        "Spam is relayed through a port the bot opens: 3186 37 %, 6329 36 %, 3104 13 %, 24853 6 %, 47257 4 %, 7430 3 %, 78 other ports 1 %.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "fig3",
        "Fig. 3 — What happens after infection",
        "exploit → copy the binary → scan nearby addresses at once → connect to IRC → update the binary right after joining.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "fig5",
        "Fig. 5 — Spam requests per source",
        "Over 6 days, 73 % of spam sources sent at most 100 requests — kept low to stay under anti-spam thresholds.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "orders",
        "Fig. 6–7 — Orders the herders gave",
        "Observed orders: .advscan dcom135 260 5 0 -b -r -s, .advscan dclass 400 3 999 -r -s, ntscan 200 2000 -a -b -s, ipscan r.r.r dcom2 86400 256 8000 -s; advscan <scanner> <threads> <delay s> <minutes> [-a] [-b] [-r] [-s].",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "rate_series",
        "Deemed infection rate over time, with equation 1 fitted",
        "The study models worm spread with the logistic equation 1, dM/dt = (1/θ)·M·(θp − M), and bot spread as command-driven linear bursts.",
        "botscope dns rate --watchlist W --window 1h LOGS --json > series.json; botscope report collect --rate-series series.json --data DATA",
    ),
    (
        "diurnal",
        "Bots joining their channel, by local hour",
        "Bots join their botnet mostly in the daytime of the victims' time zone: home and office PCs.",
        "botscope analyze --tz ZONE CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
];

/// Builds every section from the data folder.
pub fn build_report(data: &DataFolder) -> Report {
    let mut sections = Vec::new();
    for (id, title, finding, command) in CATALOGUE {
        let mut sec = Section::new(id, title, finding, command);
        let status = match id {
            "table1" => run(data, id, &mut sec, table1),
            "table2" => run(data, id, &mut sec, table2),
            "table3" => run(data, id, &mut sec, table3),
            "table4" => run(data, id, &mut sec, table4),
            "table6" => run(data, id, &mut sec, table6),
            "table10" => run(data, id, &mut sec, table10),
            "table11" => run(data, id, &mut sec, |s, t: Table11| {
                let st = ShareTable {
                    schema_version: t.schema_version,
                    total: t.total,
                    rows: t.rows,
                };
                share_section(s, &st)
            }),
            "fig3" => run(data, id, &mut sec, fig3),
            "fig5" => run(data, id, &mut sec, fig5),
            "orders" => run(data, id, &mut sec, orders),
            "rate_series" => run(data, id, &mut sec, rate_series),
            "diurnal" => run(data, id, &mut sec, diurnal),
            _ => run(data, id, &mut sec, |s, t: ShareTable| share_section(s, &t)),
        };
        sec.status = status;
        sections.push(sec);
    }
    sections.push(model_section(data));
    Report {
        data_dir: data.dir.display().to_string(),
        sections,
        unreadable: data
            .unreadable
            .iter()
            .map(|(n, e)| format!("{n}: {e}"))
            .collect(),
    }
}

fn run<T: DeserializeOwned>(
    data: &DataFolder,
    id: &str,
    sec: &mut Section,
    fill: impl FnOnce(&mut Section, T),
) -> Status {
    match load::<T>(data, id) {
        Loaded::Data(t) => {
            fill(sec, t);
            Status::Data
        }
        Loaded::Not(s) => s,
    }
}

// ---------------------------------------------------------------- sections

fn facts_table() -> Table {
    Table::new(
        TableKind::Facts,
        "",
        vec![
            Cell::text("Quantity"),
            Cell::text("Measured"),
            study_head("Study (2005)"),
        ],
    )
}

fn fact(key: &str, name: &str, measured: Cell, study: &str) -> Row {
    Row::plain(vec![
        Cell::keyed(name, key),
        measured,
        Cell::text(study).from_study(),
    ])
}

fn table1(sec: &mut Section, t: Table1) {
    let mut f = facts_table();
    f.rows.push(fact(
        "addresses",
        "Honeypot addresses",
        Cell::count(t.addresses),
        &study::table1::ADDRESSES.to_string(),
    ));
    f.rows.push(fact(
        "start",
        "Observed from",
        Cell::keyed(
            t.start.as_deref().map(fmt_time).unwrap_or("—".into()),
            t.start.clone().unwrap_or_default(),
        ),
        "2005",
    ));
    f.rows.push(fact(
        "window_secs",
        "Observation window",
        Cell::number(fmt_duration(t.window_secs), t.window_secs),
        "—",
    ));
    f.rows.push(fact(
        "bytes",
        "Received in all",
        Cell::number(
            format!(
                "{} bytes in {} packets",
                fmt_int(t.bytes as i64),
                fmt_int(t.packets as i64)
            ),
            t.bytes as f64,
        ),
        "—",
    ));
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("Average per address", "avg_kbps_per_address"),
            Cell::number(
                format!("{} kbps", fmt_dec(t.avg_kbps_per_address, 2)),
                t.avg_kbps_per_address,
            ),
            Cell::text(format!("{} kbps", study::table1::AVG_KBPS)).from_study(),
        ],
        1,
        &t.evidence,
        0,
    ));
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("Peak per address (busiest minute)", "peak_kbps_per_address"),
            Cell::number(
                format!("{} kbps", fmt_dec(t.peak_kbps_per_address, 2)),
                t.peak_kbps_per_address,
            ),
            Cell::text(format!("{} kbps", study::table1::PEAK_KBPS)).from_study(),
        ],
        1,
        &t.evidence,
        0,
    ));
    let n = fmt_int(t.extrapolate_to as i64);
    f.rows.push(fact(
        "extrapolated_avg_gbps",
        &format!("Average over {n} addresses"),
        Cell::number(
            format!("{} Gbps", fmt_dec(t.extrapolated_avg_gbps, 1)),
            t.extrapolated_avg_gbps,
        ),
        &format!(
            "{} Gbps over {}",
            study::table1::AVG_GBPS,
            fmt_int(study::table1::EXTRAPOLATE_TO as i64)
        ),
    ));
    f.rows.push(fact(
        "extrapolated_peak_gbps",
        &format!("Peak over {n} addresses"),
        Cell::number(
            format!("{} Gbps", fmt_dec(t.extrapolated_peak_gbps, 1)),
            t.extrapolated_peak_gbps,
        ),
        &format!("{} Gbps", study::table1::PEAK_GBPS),
    ));
    let ratio = t.avg_kbps_per_address / study::table1::AVG_KBPS;
    sec.remarks.push(format!(
        "Each address here received {} the study's average background traffic.",
        if (0.9..=1.1).contains(&ratio) {
            "about".to_string()
        } else {
            format!("{:.1} ×", ratio)
        }
    ));
    sec.tables.push(f);
}

fn table2(sec: &mut Section, t: Table2) {
    let mut f = facts_table();
    let days = if t.days == 1 { "day" } else { "days" };
    f.rows.push(fact(
        "period",
        "Period",
        Cell::keyed(
            format!("{} – {} ({} {days})", t.from, t.to, t.days),
            format!("{}..{}", t.from, t.to),
        ),
        &format!("{} ({} days)", study::table2::PERIOD, study::table2::DAYS),
    ));
    f.rows.push(fact(
        "days",
        "Days",
        Cell::count(t.days),
        &study::table2::DAYS.to_string(),
    ));
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("Known means detected by signatures released by", "as_of"),
            Cell::keyed(fmt_time(&t.as_of), t.as_of.clone()),
            Cell::text("an always-updated antivirus").from_study(),
        ],
        1,
        &t.evidence,
        0,
    ));
    sec.tables.push(f);
    let mut d = Table::new(
        TableKind::Data,
        "Detections (specimens caught) and kinds (distinct specimens)",
        vec![
            Cell::text("Specimens"),
            Cell::text("Detections"),
            Cell::text("Kinds"),
            Cell::text("Detections per day"),
            Cell::text("Kinds per day"),
            study_head("Study: detections"),
            study_head("Study: kinds"),
            study_head("Study: per day (detections / kinds)"),
        ],
    );
    let total = t.total.detections.max(1) as f64;
    let total_k = t.total.kinds.max(1) as f64;
    for (key, name, c, s) in [
        ("total", "Total", &t.total, study::table2::TOTAL),
        (
            "known",
            "Known to antivirus",
            &t.known,
            study::table2::KNOWN,
        ),
        (
            "unknown",
            "Unknown to antivirus",
            &t.unknown,
            study::table2::UNKNOWN,
        ),
    ] {
        let pd = c.detections as f64 * 100.0 / total;
        let pk = c.kinds as f64 * 100.0 / total_k;
        let (det_text, kind_text) = if key == "total" {
            (fmt_int(c.detections as i64), fmt_int(c.kinds as i64))
        } else {
            (
                format!("{} ({})", fmt_int(c.detections as i64), fmt_pct(pd)),
                format!("{} ({})", fmt_int(c.kinds as i64), fmt_pct(pk)),
            )
        };
        let sp = |a: u64, b: u64| {
            format!(
                "{} ({})",
                fmt_int(a as i64),
                fmt_pct(a as f64 * 100.0 / b as f64)
            )
        };
        let (sd, sk) = if key == "total" {
            (fmt_int(s.0 as i64), fmt_int(s.1 as i64))
        } else {
            (
                sp(s.0, study::table2::TOTAL.0),
                sp(s.1, study::table2::TOTAL.1),
            )
        };
        d.rows.push(Row::plain(vec![
            Cell::keyed(name, key),
            Cell::number(det_text, c.detections as f64),
            Cell::number(kind_text, c.kinds as f64),
            Cell::number(fmt_dec(c.detections_per_day, 1), c.detections_per_day),
            Cell::number(fmt_dec(c.kinds_per_day, 1), c.kinds_per_day),
            Cell::text(sd).from_study(),
            Cell::text(sk).from_study(),
            Cell::text(format!("{:.1} / {:.1}", s.2, s.3)).from_study(),
        ]));
    }
    sec.remarks.push(format!(
        "Known to antivirus: {} of detections (study about 89 %), {} of kinds (study about 21 %).",
        fmt_pct(t.known.detections as f64 * 100.0 / total),
        fmt_pct(t.known.kinds as f64 * 100.0 / total_k)
    ));
    sec.tables.push(d);
}

fn table3(sec: &mut Section, t: Table3) {
    let mut d = Table::new(
        TableKind::Data,
        "",
        vec![
            Cell::text("ISP (client group)"),
            Cell::text("Period"),
            Cell::text("Clients"),
            Cell::text("Infected clients"),
            Cell::text("Deemed infection rate"),
            study_head("Study (2005)"),
        ],
    );
    for r in t.rows.iter().take(ROWS_SHOWN) {
        let period = match (&r.start, &r.end) {
            (Some(a), Some(b)) => format!("{} – {}", fmt_time(a), fmt_time(b)),
            _ => "whole run".into(),
        };
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(r.group.clone(), r.group.clone()),
                Cell::keyed(period, r.start.clone().unwrap_or_default()),
                Cell::count(r.clients),
                Cell::count(r.infected),
                Cell::percent(r.rate * 100.0),
                Cell::text("ISP A 2.64 %, 2.10 %; ISP B 2.44 %").from_study(),
            ],
            3,
            &r.evidence,
            r.evidence_more,
        ));
    }
    d.rows_more = t.rows.len().saturating_sub(ROWS_SHOWN) as u64;
    let mut s = Table::new(
        TableKind::Study,
        "The study's Table 3",
        vec![
            study_head("ISP"),
            study_head("Day"),
            study_head("Deemed infection rate"),
        ],
    );
    for (isp, day, rate) in study::TABLE3 {
        s.rows.push(Row::plain(vec![
            Cell::text(isp).from_study(),
            Cell::text(day).from_study(),
            Cell::number(format!("{rate:.2} %"), rate).from_study(),
        ]));
    }
    if t.counting != "exact" {
        sec.remarks.push(format!(
            "Counted approximately ({}), relative standard error {}.",
            t.counting,
            t.relative_error
                .map(|e| fmt_pct(e * 100.0))
                .unwrap_or("not stated".into())
        ));
    }
    if let Some(r) = t.rows.first() {
        sec.remarks.push(format!(
            "{} here against 2.10–2.64 % in the study: {}.",
            fmt_pct(r.rate * 100.0),
            if r.rate * 100.0 > 2.64 {
                "more infected customers than any ISP the study measured"
            } else if r.rate * 100.0 < 2.10 {
                "fewer infected customers than any ISP the study measured"
            } else {
                "within the study's range"
            }
        ));
    }
    sec.tables.push(d);
    sec.tables.push(s);
}

fn table4(sec: &mut Section, t: Table4) {
    let (sb, sm, sp) = study::TABLE4;
    let mut f = facts_table();
    f.rows.push(fact(
        "examined",
        "Specimens examined (most caught first)",
        Cell::count(t.examined),
        &sb.to_string(),
    ));
    f.rows.push(fact(
        "bots",
        "Bots with a readable configuration",
        Cell::count(t.bots),
        &sb.to_string(),
    ));
    let pct = t.several_fqdns as f64 * 100.0 / t.bots.max(1) as f64;
    let ev: Vec<String> = t
        .several
        .iter()
        .map(|b| {
            format!(
                "{} (seen {}×): {}",
                &b.sha256[..b.sha256.len().min(16)],
                b.sightings,
                b.fqdns.join(", ")
            )
        })
        .collect();
    f.rows.push(Row::with_evidence(
        vec![
            Cell::keyed("With more than one IRC server FQDN", "several_fqdns"),
            Cell::number(
                format!("{} ({})", fmt_int(t.several_fqdns as i64), fmt_pct(pct)),
                t.several_fqdns as f64,
            ),
            Cell::text(format!("{sm} ({})", fmt_pct(sp))).from_study(),
        ],
        1,
        &ev,
        t.several_more,
    ));
    f.rows.push(fact(
        "one_fqdn",
        "With exactly one FQDN",
        Cell::count(t.one_fqdn),
        "—",
    ));
    f.rows.push(fact(
        "ip_only",
        "Naming servers by address only",
        Cell::count(t.ip_only),
        "—",
    ));
    sec.tables.push(f);
    let mut d = Table::new(
        TableKind::Data,
        "Bots by number of server FQDNs",
        vec![Cell::text("Server FQDNs per bot"), Cell::text("Bots")],
    );
    for c in &t.by_fqdn_count {
        d.rows.push(Row::plain(vec![
            Cell::keyed(c.fqdns.to_string(), c.fqdns.to_string()),
            Cell::count(c.bots),
        ]));
    }
    sec.remarks.push(format!(
        "{} of bots carry several servers, against 19 % in the study.",
        fmt_pct(pct)
    ));
    sec.tables.push(d);
}

/// Column names of a share table: (label column, unit).
fn share_words(id: &str) -> (&'static str, &'static str) {
    match id {
        "table5" => ("Kind of domain", "FQDNs"),
        "table6" => ("DNS state", "FQDNs"),
        "table7" => ("Exploit vector", "Attempts"),
        "table8" => ("How the binary is copied", "Copies"),
        "table9" => ("IRC server port", "Sessions"),
        "table11" => ("Redirect port on the bot", "Relay requests"),
        _ => ("", "Count"),
    }
}

/// `Attempts` → `attempts`, but `FQDNs` stays.
fn lower_word(w: &str) -> String {
    let mut c = w.chars();
    match (c.next(), c.next()) {
        (Some(a), Some(b)) if b.is_lowercase() => a.to_lowercase().chain([b]).chain(c).collect(),
        _ => w.to_string(),
    }
}

/// A table of counts beside the study's: label, measured count and share,
/// the study's count and share, the difference in percentage points.
fn share_section(sec: &mut Section, t: &ShareTable) {
    let id = sec.id.clone();
    let (label, unit) = share_words(&id);
    let published = study::rows_of(&id);
    let has_success = t.rows.iter().any(|r| r.success.is_some());
    let mut cols = vec![
        Cell::text(label),
        Cell::text(format!("Measured {}", lower_word(unit))),
        Cell::text("Measured share"),
    ];
    if has_success {
        cols.push(Cell::text("Complete copies"));
    }
    cols.extend([
        study_head(&format!("Study {}", lower_word(unit))),
        study_head("Study share"),
        Cell::text("Difference"),
    ]);
    let mut d = Table::new(TableKind::Data, "", cols);
    let mut bars = Vec::new();
    let find = |key: &str| published.iter().find(|s| s.key == key);
    let words = |r: &StudyRow| r.label.to_string();
    let mut others_measured = 0.0;
    for r in t.rows.iter().take(ROWS_SHOWN) {
        let s = find(&r.label);
        let name = s.map(words).unwrap_or_else(|| r.label.clone());
        if s.is_none() {
            others_measured += r.percent;
        }
        let mut cells = vec![
            Cell::keyed(name.clone(), r.label.clone()),
            Cell::count(r.count),
            Cell::percent(r.percent),
        ];
        if has_success {
            cells.push(r.success.map(Cell::count).unwrap_or_else(Cell::none));
        }
        cells.extend([
            s.and_then(|s| s.count)
                .map(|c| Cell::count(c).from_study())
                .unwrap_or_else(|| Cell::none().from_study()),
            s.and_then(|s| s.percent)
                .map(|p| Cell::percent(p).from_study())
                .unwrap_or_else(|| Cell::none().from_study()),
            diff_cell(Some(r.percent), s.and_then(|s| s.percent)),
        ]);
        d.rows
            .push(Row::with_evidence(cells, 1, &r.evidence, r.evidence_more));
        bars.push((name, Some(r.percent), s.and_then(|s| s.percent)));
    }
    d.rows_more = t.rows.len().saturating_sub(ROWS_SHOWN) as u64;
    // The study's rows this field has no count for.
    let mut s = Table::new(
        TableKind::Study,
        "In the study, not seen here",
        vec![
            study_head(label),
            study_head(&format!("Study {}", lower_word(unit))),
            study_head("Study share"),
        ],
    );
    for p in published {
        if !t.rows.iter().any(|r| r.label == p.key) {
            if p.key == "others" {
                bars.push((p.label.into(), Some(others_measured), p.percent));
            } else {
                bars.push((p.label.into(), None, p.percent));
            }
            s.rows.push(Row::plain(vec![
                Cell::keyed(p.label, p.key),
                p.count
                    .map(|c| Cell::count(c).from_study())
                    .unwrap_or_else(|| Cell::none().from_study()),
                p.percent
                    .map(|x| Cell::percent(x).from_study())
                    .unwrap_or_else(|| Cell::none().from_study()),
            ]));
        }
    }
    let mut f = facts_table();
    let study_total = match id.as_str() {
        "table5" => Some(study::TABLE5_TOTAL),
        "table6" => Some(study::TABLE6_TOTAL),
        "table7" => Some(study::TABLE7_TOTAL),
        "table8" => Some(study::TABLE8_TOTAL),
        "table9" => Some(study::TABLE9_TOTAL),
        _ => None,
    };
    f.rows.push(fact(
        "total",
        &format!("{unit} in all"),
        Cell::count(t.total),
        &study_total.map(|n| fmt_int(n as i64)).unwrap_or("—".into()),
    ));
    // The largest gap from the study, in words.
    if let Some((name, m, s)) = bars
        .iter()
        .filter_map(|(n, m, s)| Some((n, m.unwrap_or(0.0), (*s)?)))
        .max_by(|a, b| (a.1 - a.2).abs().total_cmp(&(b.1 - b.2).abs()))
    {
        sec.remarks.push(format!(
            "Largest difference from the study: {name}, {} here against {} in 2005.",
            fmt_pct(m),
            fmt_pct(s)
        ));
    }
    sec.tables.insert(0, f);
    sec.tables.push(d);
    if !s.rows.is_empty() {
        sec.tables.push(s);
    }
    sec.charts.push(charts::paired_bars(
        &format!("{} — share measured and in the study", label),
        &bars,
    ));
}

fn table6(sec: &mut Section, t: Table6) {
    let st = ShareTable {
        schema_version: t.schema_version,
        total: t.total,
        rows: t.rows.clone(),
    };
    share_section(sec, &st);
    if let Some(f) = sec.tables.iter_mut().find(|x| x.kind == TableKind::Facts) {
        f.rows.push(fact(
            "max_addrs",
            "Most addresses behind one name",
            Cell::count(t.max_addrs),
            "5",
        ));
        f.rows.push(fact(
            "probed_at",
            "Probed",
            Cell::keyed(
                t.probed_at.as_deref().map(fmt_time).unwrap_or("—".into()),
                t.probed_at.clone().unwrap_or_default(),
            ),
            "2005",
        ));
    }
    if !t.active {
        sec.remarks.push(
            "Reachability was not tested (run `botscope intel probe --active` to fill that row)."
                .into(),
        );
    }
}

fn table10(sec: &mut Section, t: Table10) {
    let mut d = Table::new(
        TableKind::Data,
        "",
        vec![
            Cell::text("Command"),
            study_head("What it does (study)"),
            Cell::text("Orders seen"),
            Cell::text("Share of orders"),
            Cell::text("Floods seen"),
        ],
    );
    let mut keys: Vec<String> = t.rows.iter().map(|r| r.label.clone()).collect();
    for s in study::TABLE10 {
        if !keys.iter().any(|k| k == s.key) {
            keys.push(s.key.into());
        }
    }
    for k in &keys {
        let r = t.rows.iter().find(|r| &r.label == k);
        let floods: Vec<&Flood> = t.floods.iter().filter(|f| &f.command == k).collect();
        let cells = vec![
            Cell::keyed(k.clone(), k.clone()),
            Cell::text(study::label_of("table10", k).unwrap_or("not in Phatbot's list"))
                .from_study(),
            r.map(|r| Cell::count(r.count)).unwrap_or_else(Cell::none),
            r.map(|r| Cell::percent(r.percent))
                .unwrap_or_else(Cell::none),
            Cell::count(floods.len() as u64),
        ];
        match r {
            Some(r) => d
                .rows
                .push(Row::with_evidence(cells, 2, &r.evidence, r.evidence_more)),
            None => d.rows.push(Row::plain(cells)),
        }
    }
    let mut fl = Table::new(
        TableKind::Extra,
        "Floods seen leaving the bots",
        heads(&["Command", "Bot", "Target", "Started", "Lasted", "Packets"]),
    );
    for f in t.floods.iter().take(ROWS_SHOWN) {
        let dur = match (Ts::parse_rfc3339(&f.start), Ts::parse_rfc3339(&f.end)) {
            (Some(a), Some(b)) => (b.0 - a.0) as f64 / 1e6,
            _ => 0.0,
        };
        fl.rows.push(Row::with_evidence(
            vec![
                Cell::text(f.command.clone()),
                Cell::text(f.source.clone()),
                Cell::text(format!("{}:{}", f.target, f.port)),
                Cell::keyed(fmt_time(&f.start), f.start.clone()),
                Cell::number(fmt_duration(dur), dur),
                Cell::count(f.packets),
            ],
            5,
            &f.evidence,
            0,
        ));
    }
    fl.rows_more = t.floods.len().saturating_sub(ROWS_SHOWN) as u64;
    let syn = t
        .floods
        .iter()
        .filter(|f| f.command == "ddos.synflood")
        .count();
    sec.remarks.push(format!(
        "{syn} of {} floods seen were SYN floods (the study saw only SYN floods).",
        t.floods.len()
    ));
    sec.tables.push(d);
    if !fl.rows.is_empty() {
        sec.tables.push(fl);
    }
}

fn fig3(sec: &mut Section, t: Fig3) {
    let mut stages: Vec<String> = study::FIG3.iter().map(|s| s.to_string()).collect();
    for q in &t.sequences {
        for s in &q.stages {
            if !stages.contains(&s.stage) && stages.len() < 12 {
                stages.push(s.stage.clone());
            }
        }
    }
    // Study order first, then anything else in first-seen order; `dns`
    // sits before the IRC join where the analysis records it.
    if let Some(i) = stages.iter().position(|s| s == "dns") {
        let dns = stages.remove(i);
        let at = stages
            .iter()
            .position(|s| s == "irc_join")
            .unwrap_or(stages.len());
        stages.insert(at, dns);
    }
    let mut cols = vec![Cell::text("Infected host")];
    cols.extend(stages.iter().map(|s| Cell::keyed(stage_name(s), s.clone())));
    cols.push(Cell::text("Stages"));
    let mut d = Table::new(
        TableKind::Data,
        "Delay of each stage after the first (exploit)",
        cols,
    );
    let mut in_order = 0;
    let mut lanes = Vec::new();
    for q in &t.sequences {
        let mut cells = vec![Cell::keyed(q.bot.clone(), q.bot.clone())];
        for s in &stages {
            match q.stages.iter().find(|x| &x.stage == s) {
                Some(x) => cells.push(Cell::keyed(
                    format!("+{}", fmt_duration(x.delta_s)),
                    num_text(x.delta_s),
                )),
                None => cells.push(Cell::text("")),
            }
        }
        cells.push(Cell::count(q.stages.len() as u64));
        let ev: Vec<String> = q
            .stages
            .iter()
            .map(|x| {
                format!(
                    "{} at {}: {}",
                    stage_name(&x.stage),
                    fmt_time(&x.ts),
                    x.evidence
                )
            })
            .collect();
        let last = cells.len() - 1;
        if d.rows.len() < ROWS_SHOWN {
            d.rows.push(Row::with_evidence(cells, last, &ev, 0));
        }
        // In the study's order: each study stage present comes no earlier
        // than the one before it.
        let times: Vec<f64> = study::FIG3
            .iter()
            .filter_map(|st| q.stages.iter().find(|x| x.stage == *st).map(|x| x.delta_s))
            .collect();
        if times.windows(2).all(|w| w[0] <= w[1]) {
            in_order += 1;
        }
        lanes.push((
            q.bot.clone(),
            q.stages
                .iter()
                .map(|x| (x.stage.clone(), x.delta_s))
                .collect::<Vec<_>>(),
        ));
    }
    d.rows_more = t.sequences.len().saturating_sub(ROWS_SHOWN) as u64;
    sec.remarks.push(format!(
        "{in_order} of {} infected hosts went through the stages in the study's order.",
        t.sequences.len()
    ));
    let names: Vec<&str> = stages.iter().map(String::as_str).collect();
    sec.charts.push(charts::timeline(
        "Fig. 3 — stages per infected host",
        &names,
        &lanes,
    ));
    sec.tables.push(d);
}

fn fig5(sec: &mut Section, t: Fig5) {
    let total: u64 = t.bins.iter().map(|b| b.sources).sum();
    let mut f = facts_table();
    f.rows.push(fact(
        "percent_le_100",
        "Sources with at most 100 requests",
        Cell::percent(t.percent_le_100),
        &fmt_pct(study::FIG5_PERCENT_LE_100),
    ));
    f.rows
        .push(fact("sources", "Spam sources", Cell::count(total), "—"));
    f.rows.push(fact(
        "days",
        "Days observed",
        t.days
            .map(|d| Cell::number(fmt_dec(d, 1), d))
            .unwrap_or_else(Cell::none),
        &num_text(study::FIG5_DAYS),
    ));
    let mut d = Table::new(
        TableKind::Data,
        "",
        heads(&["Requests per source", "Sources", "Share of sources"]),
    );
    let mut bars = Vec::new();
    let mut mark = 0;
    for (i, b) in t.bins.iter().enumerate() {
        let label = match b.upper {
            Some(u) => format!("{}–{}", fmt_int(b.lower as i64), fmt_int(u as i64)),
            None => format!("> {}", fmt_int(b.lower as i64 - 1)),
        };
        if b.upper.is_some_and(|u| u <= 100) {
            mark = i + 1;
        }
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(
                    label.clone(),
                    b.upper.map(|u| u.to_string()).unwrap_or("open".into()),
                ),
                Cell::count(b.sources),
                Cell::percent(b.sources as f64 * 100.0 / total.max(1) as f64),
            ],
            1,
            &b.evidence,
            b.evidence_more,
        ));
        bars.push((label, b.sources as f64));
    }
    sec.remarks.push(format!(
        "{} of sources stayed at or under 100 requests, against 73 % in the study.",
        fmt_pct(t.percent_le_100)
    ));
    sec.charts.push(charts::histogram(
        "Fig. 5 — spam sources by requests sent",
        &bars,
        mark,
        &format!(
            "100 requests: {} at or below (study 73 %)",
            fmt_pct(t.percent_le_100)
        ),
    ));
    sec.tables.push(f);
    sec.tables.push(d);
}

fn orders(sec: &mut Section, t: Orders) {
    let mut d = Table::new(
        TableKind::Data,
        "Orders per command",
        heads(&["Command", "Orders", "Share"]),
    );
    for c in &t.commands {
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(c.label.clone(), c.label.clone()),
                Cell::count(c.count),
                Cell::percent(c.percent),
            ],
            1,
            &c.evidence,
            c.evidence_more,
        ));
    }
    let mut x = Table::new(
        TableKind::Extra,
        "The first orders seen",
        heads(&["Time", "Bot", "Via", "Order"]),
    );
    for o in t.rows.iter().take(50) {
        x.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(fmt_time(&o.ts), o.ts.clone()),
                Cell::text(o.bot.clone()),
                Cell::text(o.via.clone()),
                Cell::text(o.raw.clone()),
            ],
            3,
            &o.evidence,
            0,
        ));
    }
    x.rows_more = (t.rows.len().saturating_sub(50)) as u64 + t.rows_more;
    let mut s = Table::new(
        TableKind::Study,
        "Orders the study observed (Fig. 6)",
        vec![study_head("Order"), study_head("Seen here")],
    );
    for o in study::FIG6 {
        let cmd = o
            .trim_start_matches(['.', '!', '@'])
            .split(' ')
            .next()
            .unwrap_or("");
        let n = t
            .commands
            .iter()
            .find(|c| c.label == cmd)
            .map(|c| c.count)
            .unwrap_or(0);
        let verbatim = t.rows.iter().filter(|r| r.raw.trim() == o).count();
        let seen = match (verbatim, n) {
            (_, 0) => format!("no {cmd} order"),
            (0, n) => format!("not verbatim; {} {cmd} orders", fmt_int(n as i64)),
            (v, n) => format!("{v}× verbatim; {} {cmd} orders", fmt_int(n as i64)),
        };
        s.rows.push(Row::plain(vec![
            Cell::text(o).from_study(),
            Cell::text(seen),
        ]));
    }
    sec.tables.push(d);
    sec.tables.push(x);
    sec.tables.push(s);
}

fn series_points(t: &RateSeries) -> Vec<(f64, f64, &RatePoint)> {
    t.points
        .iter()
        .filter_map(|p| {
            Some((
                Ts::parse_rfc3339(&p.start)?.as_secs_f64(),
                p.infected as f64,
                p,
            ))
        })
        .collect()
}

fn rate_series(sec: &mut Section, t: RateSeries) {
    let pts = series_points(&t);
    let mut f = facts_table();
    f.rows.push(fact(
        "window_secs",
        "Period length",
        Cell::number(fmt_duration(t.window_secs as f64), t.window_secs as f64),
        "a day",
    ));
    f.rows.push(fact(
        "group",
        "Client group",
        Cell::keyed(t.group.clone(), t.group.clone()),
        "ISP A, ISP B",
    ));
    let mut d = Table::new(
        TableKind::Data,
        "",
        heads(&[
            "Period start",
            "Clients",
            "Infected clients",
            "Deemed infection rate",
            "Fit",
            "Residual",
        ]),
    );
    let t0 = pts.first().map(|p| p.0).unwrap_or(0.0);
    let days: Vec<f64> = pts.iter().map(|p| (p.0 - t0) / 86_400.0).collect();
    let ms: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let fit = botscope_model::fit_logistic(&days, &ms).ok();
    for (i, (_, m, p)) in pts.iter().enumerate().take(ROWS_SHOWN) {
        let model = fit.as_ref().map(|f| f.model.at(days[i]));
        d.rows.push(Row::plain(vec![
            Cell::keyed(fmt_time(&p.start), p.start.clone()),
            Cell::count(p.clients),
            Cell::count(p.infected),
            Cell::percent(p.rate * 100.0),
            model
                .map(|v| Cell::number(fmt_dec(v, 1), v))
                .unwrap_or_else(Cell::none),
            model
                .map(|v| Cell::number(fmt_dec(m - v, 1), m - v))
                .unwrap_or_else(Cell::none),
        ]));
    }
    d.rows_more = pts.len().saturating_sub(ROWS_SHOWN) as u64;
    let tick = |x: f64| {
        let s = Ts((x * 1e6) as i64).rfc3339();
        if (x - t0).abs() < 1.0 || s[11..16] == *"00:00" {
            format!("{} {}", &s[5..10], &s[11..16])
        } else {
            s[11..16].to_string()
        }
    };
    let obs: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
    match &fit {
        Some(fit) => {
            let x1 = pts.last().map(|p| p.0).unwrap_or(t0);
            let curve: Vec<(f64, f64)> = (0..=200)
                .map(|i| {
                    let x = t0 + (x1 - t0) * i as f64 / 200.0;
                    (x, fit.model.at((x - t0) / 86_400.0))
                })
                .collect();
            let res: Vec<(f64, f64)> = pts
                .iter()
                .zip(&days)
                .map(|(p, d)| (p.0, p.1 - fit.model.at(*d)))
                .collect();
            sec.charts.push(charts::time_series(
                "Infected clients per period, and equation 1 fitted (UTC)",
                "infected clients",
                &obs,
                Some(&curve),
                Some(&res),
                &tick,
            ));
            let peak = pts.iter().map(|p| p.1).fold(0.0, f64::max);
            if fit.model.capacity() > 10.0 * peak.max(1.0) {
                sec.remarks.push(format!(
                    "Equation 1 fitted: p = {} per day, RMSE {}; the series shows no saturation, so θ (the most infected addresses) is not determined by it — the worm-like logistic growth of equation 1 is not what this field shows.",
                    fmt_dec(fit.model.p, 3),
                    fmt_dec(fit.rmse, 2)
                ));
            } else {
                sec.remarks.push(format!(
                    "Equation 1 fitted: p = {} per day, θ = {}, saturation θ·p = {} clients, RMSE {}.",
                    fmt_dec(fit.model.p, 3),
                    fmt_dec(fit.model.theta, 1),
                    fmt_dec(fit.model.capacity(), 1),
                    fmt_dec(fit.rmse, 2)
                ));
            }
        }
        None => {
            sec.charts.push(charts::time_series(
                "Infected clients per period (UTC)",
                "infected clients",
                &obs,
                None,
                None,
                &tick,
            ));
            sec.remarks
                .push("Equation 1 could not be fitted to this series.".into());
        }
    }
    sec.tables.push(f);
    sec.tables.push(d);
}

fn diurnal(sec: &mut Section, t: Diurnal) {
    let off = t.tz_offset_s;
    let zone = format!(
        "UTC{}{:02}:{:02}",
        if off < 0 { '−' } else { '+' },
        off.abs() / 3600,
        off.abs() % 3600 / 60
    );
    let mut d = Table::new(
        TableKind::Data,
        &format!("Local time is {zone}"),
        heads(&["Local hour", "IRC joins", "Share of joins"]),
    );
    let total: u64 = t.hours.iter().map(|h| h.joins).sum();
    let mut hours = vec![0u64; 24];
    for h in &t.hours {
        if (h.hour as usize) < 24 {
            hours[h.hour as usize] = h.joins;
        }
        d.rows.push(Row::with_evidence(
            vec![
                Cell::keyed(
                    format!("{:02}:00–{:02}:00", h.hour, (h.hour + 1) % 24),
                    h.hour.to_string(),
                ),
                Cell::count(h.joins),
                Cell::percent(h.joins as f64 * 100.0 / total.max(1) as f64),
            ],
            1,
            &h.evidence,
            h.evidence_more,
        ));
    }
    let day: u64 = hours[8..20].iter().sum();
    let mut f = facts_table();
    f.rows.push(fact(
        "daytime",
        "Joins in local daytime (08–20 h)",
        Cell::percent(day as f64 * 100.0 / total.max(1) as f64),
        "most: joins peak in the victims' daytime",
    ));
    let peak = (0..24)
        .max_by_key(|&h| (hours[h], std::cmp::Reverse(h)))
        .unwrap_or(0);
    f.rows.push(fact(
        "peak_hour",
        "Busiest hour",
        Cell::keyed(
            format!("{peak:02}:00–{:02}:00", (peak + 1) % 24),
            peak.to_string(),
        ),
        "daytime",
    ));
    sec.charts.push(charts::clock(
        "IRC joins by local hour",
        &hours,
        &format!("local time {zone}; {} joins", fmt_int(total as i64)),
    ));
    sec.tables.push(f);
    sec.tables.push(d);
}

/// Models fitted to the data: equation 1 on the infected-client series,
/// P of equation 3 from the floods, F of equation 4 from the relays.
fn model_section(data: &DataFolder) -> Section {
    let mut sec = Section::new(
        "model",
        "Models — equations 1–4 fitted to the data",
        "Equation 1 (logistic worm spread) dM/dt = (1/θ)·M·(θp − M); bots spread linearly when ordered; DDoS effect S = M·P·E (eq. 3), spam rate S = M·F (eq. 4). Updates: 3.4 per infected address per day.",
        "botscope report collect --rate-series series.json --analysis analysis/report.json --data DATA",
    );
    let mut d = Table::new(
        TableKind::Data,
        "",
        heads(&["Equation", "Parameter", "Value", "Fitted to"]),
    );
    if let Loaded::Data(t) = load::<RateSeries>(data, "rate_series") {
        let pts = series_points(&t);
        let t0 = pts.first().map(|p| p.0).unwrap_or(0.0);
        let days: Vec<f64> = pts.iter().map(|p| (p.0 - t0) / 86_400.0).collect();
        let ms: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let src = format!("rate_series.json ({} periods)", pts.len());
        if let Ok(fit) = botscope_model::fit_logistic(&days, &ms) {
            for (k, p, v) in [
                ("p", "p, infection rate (per day)", fit.model.p),
                ("theta", "θ, most infected addresses", fit.model.theta),
                ("m0", "M₀, infected at the start", fit.model.m0),
                ("capacity", "θ·p, saturation", fit.model.capacity()),
                ("rmse", "RMSE (clients)", fit.rmse),
            ] {
                d.rows.push(Row::plain(vec![
                    Cell::text("1 — logistic"),
                    Cell::keyed(p, k),
                    Cell::number(fmt_dec(v, 3), v),
                    Cell::text(src.clone()),
                ]));
            }
        }
    }
    if let Loaded::Data(t) = load::<Table10>(data, "table10") {
        let windows: Vec<botscope_model::Window> = t
            .floods
            .iter()
            .filter_map(|f| {
                let a = Ts::parse_rfc3339(&f.start)?;
                let b = Ts::parse_rfc3339(&f.end)?;
                Some(botscope_model::Window {
                    bots: 1.0,
                    duration: (b.0 - a.0) as f64 / 1e6,
                    count: f.packets as f64,
                })
            })
            .collect();
        if let Ok(r) = botscope_model::fit_rate(&windows) {
            d.rows.push(Row::plain(vec![
                Cell::text("3 — DDoS"),
                Cell::keyed("P, packets per bot per second", "P"),
                Cell::number(fmt_dec(r.rate, 1), r.rate),
                Cell::text(format!("table10.json ({} floods)", r.n)),
            ]));
        }
    }
    if let Loaded::Data(t) = load::<Table11>(data, "table11") {
        let windows: Vec<botscope_model::Window> = t
            .relays
            .iter()
            .filter(|r| r.duration_s > 0.0)
            .map(|r| botscope_model::Window {
                bots: 1.0,
                duration: r.duration_s,
                count: r.mails as f64,
            })
            .collect();
        if let Ok(r) = botscope_model::fit_rate(&windows) {
            d.rows.push(Row::plain(vec![
                Cell::text("4 — spam"),
                Cell::keyed("F, mails per bot per second", "F"),
                Cell::number(fmt_dec(r.rate, 3), r.rate),
                Cell::text(format!("table11.json ({} relays)", r.n)),
            ]));
        }
    }
    if !d.rows.is_empty() {
        sec.status = Status::Data;
        sec.tables.push(d);
    } else {
        sec.status = Status::Unavailable(
            "nothing to fit: rate_series.json, table10.json and table11.json have no usable data"
                .into(),
        );
    }
    sec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(fmt_int(1_177_067), "1,177,067");
        assert_eq!(fmt_int(-1000), "-1,000");
        assert_eq!(fmt_int(999), "999");
        assert_eq!(fmt_pct(31.549), "31.5 %");
        assert_eq!(fmt_dec(8437.25, 1), "8,437.2");
        assert_eq!(fmt_time("2005-05-19T14:00:00Z"), "2005-05-19 14:00 UTC");
        assert_eq!(
            fmt_time("2005-05-19T14:00:07.5Z"),
            "2005-05-19 14:00:07 UTC"
        );
        assert_eq!(fmt_duration(86_400.0), "24 h");
        assert_eq!(fmt_duration(200.0), "3 min 20 s");
        assert_eq!(fmt_duration(4.0), "4 s");
        assert_eq!(fmt_duration(119.6), "2 min");
        assert_eq!(fmt_duration(3599.7), "1 h");
    }
}
