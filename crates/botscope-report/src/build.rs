//! From a data folder to report sections: find each table or figure in the
//! files, normalise it to columns and rows, attach evidence, draw charts.

use crate::val::{fmt_num, Val};
use crate::ReportError;
use botscope_core::Ts;
use botscope_model::svg::{bar_chart, line_chart, Series};
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Evidence items shown per count; the rest are "N more" in the JSON file.
pub const EVIDENCE_SHOWN: usize = 10;
/// Rows shown per table; the rest are "N more" in the JSON file.
pub const ROWS_SHOWN: usize = 500;

/// The files the report reads, in the order they are searched.
pub const KNOWN_FILES: [&str; 7] = [
    "analysis.json",
    "dns-rate.json",
    "specimens.json",
    "table2.json",
    "table4.json",
    "intel.json",
    "truth.json",
];

/// The parsed data folder.
#[derive(Clone, Debug, Default)]
pub struct DataFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Parsed files: name and value (known files first, then others, by name).
    pub files: Vec<(String, Val)>,
    /// Files that could not be parsed: `name: reason`.
    pub unreadable: Vec<String>,
}

/// Reads every `*.json` file of `dir` (a half-written or hostile file is
/// reported in `unreadable` and skipped; the others still count).
pub fn load_data(dir: &Path) -> Result<DataFolder, ReportError> {
    let rd = std::fs::read_dir(dir).map_err(|source| ReportError::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort_by_key(|n| {
        (
            KNOWN_FILES
                .iter()
                .position(|k| k == n)
                .unwrap_or(usize::MAX),
            n.clone(),
        )
    });
    let mut data = DataFolder {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    for name in names {
        match parse_file(&dir.join(&name)) {
            Ok(v) => data.files.push((name, v)),
            Err(e) => data.unreadable.push(format!("{name}: {e}")),
        }
    }
    Ok(data)
}

/// Parses one JSON file with capped arrays, streaming from disk.
pub fn parse_file(path: &Path) -> Result<Val, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    serde_json::from_reader(BufReader::with_capacity(1 << 16, f)).map_err(|e| e.to_string())
}

/// One table row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Cell texts, one per column.
    pub cells: Vec<String>,
    /// Evidence items shown (rendered text).
    pub evidence: Vec<String>,
    /// Evidence items not shown.
    pub evidence_more: u64,
}

/// One table or figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Anchor id (`table7`, `fig5`...).
    pub id: String,
    /// Heading.
    pub title: String,
    /// Data file and JSON pointer it came from.
    pub source: Option<(String, String)>,
    /// Column names.
    pub columns: Vec<String>,
    /// Index of the column whose numbers link to evidence.
    pub count_col: Option<usize>,
    /// Rows.
    pub rows: Vec<Row>,
    /// Rows in the data but not shown.
    pub rows_more: u64,
    /// Scalar facts beside the table (`total: 1986`).
    pub notes: Vec<(String, String)>,
    /// An inline SVG chart.
    pub chart: Option<String>,
}

impl Section {
    fn empty(id: &str, title: &str) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            source: None,
            columns: vec![],
            count_col: None,
            rows: vec![],
            rows_more: 0,
            notes: vec![],
            chart: None,
        }
    }

    /// Whether the section found any data.
    pub fn has_data(&self) -> bool {
        !self.rows.is_empty() || !self.notes.is_empty()
    }

    /// The evidence anchor of row `i`.
    pub fn evidence_id(&self, i: usize) -> String {
        format!("ev-{}-{i}", self.id)
    }

    /// Column index by name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// The whole report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Data folder it was built from.
    pub data_dir: String,
    /// Sections in reading order.
    pub sections: Vec<Section>,
    /// Files that could not be parsed.
    pub unreadable: Vec<String>,
}

impl Report {
    /// The normalised report as JSON (no SVG).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        json!({
            "data_dir": self.data_dir,
            "unreadable": self.unreadable,
            "sections": self.sections.iter().map(|s| json!({
                "id": s.id,
                "title": s.title,
                "source": s.source.as_ref().map(|(f, p)| json!({"file": f, "pointer": p})),
                "columns": s.columns,
                "count_column": s.count_col.map(|i| s.columns[i].clone()),
                "rows": s.rows.iter().map(|r| json!({
                    "cells": r.cells, "evidence": r.evidence, "evidence_more": r.evidence_more
                })).collect::<Vec<_>>(),
                "rows_more": s.rows_more,
                "notes": s.notes.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
                "has_data": s.has_data(),
            })).collect::<Vec<_>>(),
        })
    }

    /// A section by id.
    pub fn section(&self, id: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }
}

/// Columns that can hold a series' time, in order of preference.
const SERIES_TIME_KEYS: [&str; 8] = [
    "t",
    "ts",
    "time",
    "start",
    "window_start",
    "period",
    "date",
    "day",
];

/// Keys of the infection-rate series (`windows` is `dns rate --json`'s).
const RATE_SERIES_KEYS: &[&str] = &["rate_series", "series", "infection_rate_series", "windows"];

/// What to look for: section id, title, keys tried in each file.
pub const CATALOGUE: [(&str, &str, &[&str]); 16] = [
    (
        "table1",
        "Table 1 — Background traffic per address",
        &["table1", "background"],
    ),
    (
        "table2",
        "Table 2 — Specimen detections, known and unknown",
        &["table2"],
    ),
    (
        "table3",
        "Table 3 — Deemed infection rate",
        &["table3", "rates"],
    ),
    (
        "table4",
        "Table 4 — Bots carrying more than one IRC server",
        &["table4"],
    ),
    (
        "table5",
        "Table 5 — C&C FQDNs by kind of domain",
        &["table5"],
    ),
    ("table6", "Table 6 — C&C FQDN DNS state", &["table6"]),
    (
        "table7",
        "Table 7 — Exploit vectors",
        &["table7", "exploits"],
    ),
    (
        "table8",
        "Table 8 — How the bot binary is copied",
        &["table8", "copy_methods"],
    ),
    (
        "table9",
        "Table 9 — IRC server ports",
        &["table9", "irc_ports"],
    ),
    (
        "table10",
        "Table 10 — DDoS commands",
        &["table10", "ddos_commands"],
    ),
    (
        "table11",
        "Table 11 — Spam redirect/proxy ports",
        &["table11", "spam_ports"],
    ),
    (
        "fig3",
        "Fig. 3 — Infection sequence",
        &["fig3", "sequences", "infection_sequences"],
    ),
    (
        "fig5",
        "Fig. 5 — Spam requests per source",
        &["fig5", "spam_histogram"],
    ),
    ("orders", "Fig. 6–7 — Observed orders", &["orders", "fig6"]),
    (
        "rate_series",
        "Deemed infection rate over time",
        RATE_SERIES_KEYS,
    ),
    (
        "diurnal",
        "Diurnal IRC joins (hour of day)",
        &["diurnal", "joins_by_hour", "joins_per_local_hour"],
    ),
];

/// Containers a section may sit in inside a file.
const NESTS: [&str; 4] = ["tables", "figures", "expected", "report"];

/// Finds a section's value: a file named `<id>.json`, else a key at the top
/// level of a file, else under `tables`/`figures`/`expected`/`report`.
pub fn find<'a>(
    data: &'a DataFolder,
    id: &str,
    keys: &[&str],
) -> Option<(String, String, &'a Val)> {
    let own = format!("{id}.json");
    if let Some((n, v)) = data.files.iter().find(|(n, _)| *n == own) {
        return Some((n.clone(), String::new(), v));
    }
    for (name, v) in &data.files {
        for k in keys {
            if let Some(x) = v.get(k).filter(|x| !matches!(x, Val::Null)) {
                return Some((name.clone(), format!("/{k}"), x));
            }
            for nest in NESTS {
                if let Some(x) = v
                    .get(nest)
                    .and_then(|n| n.get(k))
                    .filter(|x| !matches!(x, Val::Null))
                {
                    return Some((name.clone(), format!("/{nest}/{k}"), x));
                }
            }
        }
    }
    None
}

/// Keys that name a row; the first one present becomes the first column.
pub const LABEL_KEYS: [&str; 22] = [
    "label",
    "name",
    "vector",
    "method",
    "port",
    "category",
    "kind",
    "command",
    "isp",
    "group",
    "victim",
    "fqdn",
    "server",
    "bot",
    "source",
    "requests",
    "hour",
    "date",
    "window_start",
    "ts",
    "t",
    "index",
];
const EVIDENCE_KEYS: [&str; 3] = ["evidence", "evidence_ids", "evidence_refs"];
const COUNT_KEYS: [&str; 10] = [
    "count",
    "detections",
    "sessions",
    "n",
    "total",
    "requests",
    "joins",
    "value",
    "infected",
    "bots",
];

/// Normalises a table value into the section: an array of row objects, an
/// object with `rows`, a map label → number or label → object, or an array
/// of numbers (indexed by `index_name`).
fn fill_table(sec: &mut Section, v: &Val, index_name: &str) {
    // `windows` is `dns rate --json`'s per-window table (Table 3).
    let nested = ["rows", "items", "bins", "windows"]
        .into_iter()
        .find(|k| matches!(v.get(k), Some(Val::Arr(..))));
    let (rows_val, notes_from): (Option<&Val>, Option<&Val>) = match (v, nested) {
        (Val::Arr(..), _) => (Some(v), None),
        (Val::Obj(..), Some(k)) => {
            // Row pointers in "N more" links must name the nested array.
            if let Some((_, p)) = &mut sec.source {
                p.push('/');
                p.push_str(k);
            }
            (v.get(k), Some(v))
        }
        (Val::Obj(..), None) => (None, Some(v)),
        _ => (None, None),
    };
    let mut objects: Vec<Vec<(String, Val)>> = Vec::new();
    let mut more = 0;
    match rows_val {
        Some(Val::Arr(items, m)) => {
            more = *m;
            for (i, it) in items.iter().enumerate() {
                match it {
                    Val::Obj(members, _) => objects.push(members.clone()),
                    scalar => objects.push(vec![
                        (index_name.into(), Val::Num(i as f64)),
                        ("count".into(), scalar.clone()),
                    ]),
                }
            }
        }
        Some(other) => sec.notes.push(("value".into(), other.cell())),
        None => {}
    }
    if let (None, Some(Val::Obj(members, m))) = (rows_val, notes_from) {
        // A map. Members that are objects become rows (label + fields) and
        // scalars facts; a map of only numbers is label → count rows
        // (except Table 1, whose numbers are facts: average, peak...).
        let any_object = members.iter().any(|(_, x)| matches!(x, Val::Obj(..)));
        let all_numbers = members.iter().all(|(_, x)| x.as_f64().is_some());
        if any_object {
            more = *m;
            for (k, x) in members {
                match x {
                    Val::Obj(inner, _) => {
                        let mut row = vec![("label".to_string(), Val::Str(k.clone()))];
                        row.extend(inner.iter().cloned());
                        objects.push(row);
                    }
                    x if x.is_scalar() => sec.notes.push((k.clone(), x.cell())),
                    _ => {}
                }
            }
        } else if all_numbers && sec.id != "table1" && !members.is_empty() {
            more = *m;
            for (k, x) in members {
                objects.push(vec![
                    ("label".to_string(), Val::Str(k.clone())),
                    ("count".to_string(), x.clone()),
                ]);
            }
        } else {
            for (k, x) in members {
                if x.is_scalar() {
                    sec.notes.push((k.clone(), x.cell()));
                }
            }
        }
    } else if let Some(Val::Obj(members, _)) = notes_from {
        for (k, x) in members {
            if x.is_scalar() {
                sec.notes.push((k.clone(), x.cell()));
            }
        }
    }
    // The row's name goes first (writers without ordered maps sort keys).
    if let Some(first) = objects.first() {
        if let Some(k) = LABEL_KEYS
            .iter()
            .find(|k| first.iter().any(|(n, _)| n == *k))
        {
            sec.columns.push(k.to_string());
        }
    }
    for obj in &objects {
        for (k, _) in obj {
            if !EVIDENCE_KEYS.contains(&k.as_str())
                && !sec.columns.contains(k)
                && sec.columns.len() < 24
            {
                sec.columns.push(k.clone());
            }
        }
    }
    sec.count_col = COUNT_KEYS.iter().find_map(|k| sec.col(k));
    let shown = objects.len().min(ROWS_SHOWN);
    sec.rows_more = more + (objects.len() - shown) as u64;
    for obj in objects.into_iter().take(shown) {
        let cells = sec
            .columns
            .iter()
            .map(|c| {
                obj.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.cell())
                    .unwrap_or_default()
            })
            .collect();
        let (evidence, evidence_more) = obj
            .iter()
            .find(|(k, _)| EVIDENCE_KEYS.contains(&k.as_str()))
            .map(|(_, v)| evidence_items(v))
            .unwrap_or_default();
        sec.rows.push(Row {
            cells,
            evidence,
            evidence_more,
        });
    }
}

/// Evidence as short texts: `uid C1a2b packets 12, 40`, `line 1234`, ids.
fn evidence_items(v: &Val) -> (Vec<String>, u64) {
    match v {
        Val::Arr(items, more) => {
            let shown: Vec<String> = items
                .iter()
                .take(EVIDENCE_SHOWN)
                .map(evidence_text)
                .collect();
            (
                shown,
                more + items.len().saturating_sub(EVIDENCE_SHOWN) as u64,
            )
        }
        Val::Null => (vec![], 0),
        one => (vec![evidence_text(one)], 0),
    }
}

fn evidence_text(v: &Val) -> String {
    match v {
        Val::Obj(members, _) => {
            // Identifiers first, then places, then anything else.
            const ORDER: [&str; 8] = [
                "id", "event", "uid", "file", "line", "packet", "packets", "offset",
            ];
            let rank = |k: &str| ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len());
            let mut m: Vec<&(String, Val)> = members.iter().collect();
            m.sort_by_key(|(k, _)| rank(k));
            m.iter()
                .map(|(k, x)| format!("{k} {}", x.cell()))
                .collect::<Vec<_>>()
                .join(" · ")
        }
        other => other.cell(),
    }
}

/// Seconds since the epoch from an RFC 3339 string or a number.
pub fn time_of(v: &Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(*n),
        Val::Str(s) => Ts::parse_rfc3339(s)
            .map(|t| t.as_secs_f64())
            .or_else(|| s.parse().ok()),
        _ => None,
    }
}

/// Builds every section from the data folder.
pub fn build_report(data: &DataFolder) -> Report {
    let mut sections = Vec::new();
    for (id, title, keys) in CATALOGUE {
        let mut sec = Section::empty(id, title);
        if let Some((file, pointer, v)) = find(data, id, keys) {
            sec.source = Some((file, pointer));
            match id {
                "fig3" => fill_sequences(&mut sec, v),
                "diurnal" => fill_table(&mut sec, v, "hour"),
                _ => fill_table(&mut sec, v, "index"),
            }
            add_chart(&mut sec);
        }
        sections.push(sec);
    }
    sections.push(model_section(data));
    Report {
        data_dir: data.dir.display().to_string(),
        sections,
        unreadable: data.unreadable.clone(),
    }
}

/// Column values of a section as numbers.
fn numeric(sec: &Section, col: usize) -> Vec<Option<f64>> {
    sec.rows
        .iter()
        .map(|r| {
            let c = &r.cells[col];
            Ts::parse_rfc3339(c)
                .map(|t| t.as_secs_f64())
                .or_else(|| c.trim_end_matches('%').parse().ok())
        })
        .collect()
}

fn add_chart(sec: &mut Section) {
    if sec.rows.is_empty() {
        return;
    }
    match sec.id.as_str() {
        "rate_series" => {
            let x = SERIES_TIME_KEYS.iter().find_map(|k| sec.col(k));
            let y = ["rate", "rate_percent", "percent", "infected"]
                .iter()
                .find_map(|k| sec.col(k));
            if let (Some(x), Some(y)) = (x, y) {
                let xs = numeric(sec, x);
                let ys = numeric(sec, y);
                let t0 = xs.iter().flatten().copied().fold(f64::INFINITY, f64::min);
                let pts: Vec<(f64, f64)> = xs
                    .iter()
                    .zip(&ys)
                    .enumerate()
                    .filter_map(|(i, (a, b))| Some((a.map(|a| a - t0).unwrap_or(i as f64), (*b)?)))
                    .collect();
                let name = sec.columns[y].clone();
                sec.chart = Some(line_chart(
                    &sec.title,
                    "time since first period (s)",
                    &name,
                    &[Series {
                        name: name.clone(),
                        points: pts,
                        dots: false,
                    }],
                ));
            }
        }
        "fig3" => {}
        _ => {
            let Some(c) = sec.count_col else { return };
            let label_col = (0..sec.columns.len()).find(|&i| i != c).unwrap_or(0);
            let bars: Vec<(String, f64)> = sec
                .rows
                .iter()
                .filter_map(|r| Some((r.cells[label_col].clone(), r.cells[c].parse::<f64>().ok()?)))
                .take(48)
                .collect();
            if bars.len() >= 2 && !matches!(sec.id.as_str(), "table1" | "orders") {
                let xl = sec.columns[label_col].clone();
                let yl = sec.columns[c].clone();
                sec.chart = Some(bar_chart(&sec.title, &xl, &yl, &bars));
            }
        }
    }
}

/// A victim, its (step, time) list and its evidence (shown, more).
type ParsedSequence = (String, Vec<(String, f64)>, (Vec<String>, u64));

/// Fig. 3: one row per victim with each step's delay after the first step,
/// and a timeline chart with one dot series per step kind.
fn fill_sequences(sec: &mut Section, v: &Val) {
    let (items, more) = match v {
        Val::Arr(a, m) => (a.as_slice(), *m),
        Val::Obj(..) => match v.get("sequences").or_else(|| v.get("rows")) {
            Some(Val::Arr(a, m)) => (a.as_slice(), *m),
            _ => (&[][..], 0),
        },
        _ => (&[][..], 0),
    };
    sec.columns = vec!["victim".into()];
    let mut parsed: Vec<ParsedSequence> = Vec::new();
    for it in items {
        let victim = ["victim", "host", "bot", "ip"]
            .iter()
            .find_map(|k| it.get(k))
            .map(Val::cell)
            .unwrap_or_default();
        let mut steps = Vec::new();
        let mut ev: (Vec<String>, u64) = (vec![], 0);
        if let Some(Val::Arr(ss, _)) = it
            .get("steps")
            .or_else(|| it.get("stages"))
            .or_else(|| it.get("events"))
        {
            for s in ss {
                let name = ["step", "kind", "name", "stage"]
                    .iter()
                    .find_map(|k| s.get(k))
                    .map(Val::cell)
                    .unwrap_or_default();
                let t = ["ts", "t", "time"]
                    .iter()
                    .find_map(|k| s.get(k))
                    .and_then(time_of);
                if let Some(t) = t {
                    steps.push((name.clone(), t));
                }
                if let Some(e) = EVIDENCE_KEYS.iter().find_map(|k| s.get(k)) {
                    let (mut shown, m) = evidence_items(e);
                    for x in &mut shown {
                        *x = format!("{name}: {x}");
                    }
                    ev.0.extend(shown);
                    ev.1 += m;
                }
            }
        }
        if let Some(e) = EVIDENCE_KEYS.iter().find_map(|k| it.get(k)) {
            let (shown, m) = evidence_items(e);
            ev.0.extend(shown);
            ev.1 += m;
        }
        if ev.0.len() > EVIDENCE_SHOWN {
            ev.1 += (ev.0.len() - EVIDENCE_SHOWN) as u64;
            ev.0.truncate(EVIDENCE_SHOWN);
        }
        for (n, _) in &steps {
            if !sec.columns.contains(n) && sec.columns.len() < 16 {
                sec.columns.push(n.clone());
            }
        }
        parsed.push((victim, steps, ev));
    }
    sec.columns.push("steps".into());
    sec.count_col = Some(sec.columns.len() - 1);
    let mut series: Vec<Series> = sec.columns[1..sec.columns.len() - 1]
        .iter()
        .map(|n| Series {
            name: n.clone(),
            points: vec![],
            dots: true,
        })
        .collect();
    let shown = parsed.len().min(ROWS_SHOWN);
    sec.rows_more = more + (parsed.len() - shown) as u64;
    for (row_i, (victim, steps, ev)) in parsed.into_iter().take(shown).enumerate() {
        let t0 = steps.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
        let mut cells = vec![String::new(); sec.columns.len()];
        cells[0] = victim;
        for (n, t) in &steps {
            if let Some(c) = sec.col(n) {
                cells[c] = format!("+{} s", fmt_num(t - t0));
                if row_i < 40 {
                    series[c - 1].points.push((t - t0, row_i as f64));
                }
            }
        }
        let last = cells.len() - 1;
        cells[last] = steps.len().to_string();
        sec.rows.push(Row {
            cells,
            evidence: ev.0,
            evidence_more: ev.1,
        });
    }
    if !sec.rows.is_empty() {
        sec.chart = Some(line_chart(
            &sec.title,
            "seconds after the first step",
            "victim (row)",
            &series,
        ));
    }
}

/// Models fitted on the data: equation 1 on the infected-client counts of
/// the rate series, equations 3 and 4 from floods and spam relays.
fn model_section(data: &DataFolder) -> Section {
    let mut sec = Section::empty("model", "Models — equations 1–4 fitted to the data");
    sec.columns = vec![
        "equation".into(),
        "parameter".into(),
        "value".into(),
        "from".into(),
    ];
    let mut charts = String::new();
    if let Some((file, pointer, v)) = find(data, "rate_series", RATE_SERIES_KEYS) {
        let mut tmp = Section::empty("x", "x");
        fill_table(&mut tmp, v, "index");
        let x = SERIES_TIME_KEYS.iter().find_map(|k| tmp.col(k));
        let y = tmp.col("infected");
        if let (Some(x), Some(y)) = (x, y) {
            let xs = numeric(&tmp, x);
            let ys = numeric(&tmp, y);
            let pts: Vec<(f64, f64)> = xs
                .iter()
                .zip(&ys)
                .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                .collect();
            let t0 = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            // Time in days keeps p readable (infections per day).
            let ts: Vec<f64> = pts.iter().map(|p| (p.0 - t0) / 86_400.0).collect();
            let ms: Vec<f64> = pts.iter().map(|p| p.1).collect();
            let src = format!("{file}{pointer} (infected, {} points)", pts.len());
            match botscope_model::fit_logistic(&ts, &ms) {
                Ok(fit) => {
                    let m = fit.model;
                    for (p, val) in [
                        ("p (per day)", m.p),
                        ("θ", m.theta),
                        ("M₀", m.m0),
                        ("θ·p (saturation)", m.capacity()),
                        ("RMSE", fit.rmse),
                    ] {
                        sec.rows.push(Row {
                            cells: vec!["1 logistic".into(), p.into(), fmt_num(val), src.clone()],
                            evidence: vec![],
                            evidence_more: 0,
                        });
                    }
                    let t_end = ts.iter().copied().fold(0.0, f64::max);
                    let curve: Vec<(f64, f64)> = (0..=200)
                        .map(|i| {
                            let t = t_end * i as f64 / 200.0;
                            (t, m.at(t))
                        })
                        .collect();
                    charts.push_str(&line_chart(
                        "Equation 1 fitted to infected clients",
                        "days",
                        "infected clients",
                        &[
                            Series {
                                name: "observed".into(),
                                points: ts.iter().copied().zip(ms.iter().copied()).collect(),
                                dots: true,
                            },
                            Series {
                                name: "logistic fit".into(),
                                points: curve,
                                dots: false,
                            },
                        ],
                    ));
                }
                Err(e) => sec
                    .notes
                    .push(("equation 1".into(), format!("not fitted: {e}"))),
            }
        }
    }
    if let Some((file, pointer, Val::Arr(items, _))) = find(data, "floods", &["floods"]) {
        // Each flood is one bot for (end − start) seconds sending `packets`.
        let windows: Vec<botscope_model::Window> = items
            .iter()
            .filter_map(|f| {
                let s = f.get("start").and_then(time_of)?;
                let e = f.get("end").and_then(time_of)?;
                let n = f.get("packets").and_then(Val::as_f64)?;
                Some(botscope_model::Window {
                    bots: 1.0,
                    duration: e - s,
                    count: n,
                })
            })
            .collect();
        if let Ok(r) = botscope_model::fit_rate(&windows) {
            sec.rows.push(Row {
                cells: vec![
                    "3 DDoS".into(),
                    "P (packets per bot per s)".into(),
                    fmt_num(r.rate),
                    format!("{file}{pointer} ({} floods)", r.n),
                ],
                evidence: vec![],
                evidence_more: 0,
            });
        }
    }
    if let Some((file, pointer, Val::Arr(items, _))) =
        find(data, "spam_rate", &["spam_rate", "relay_windows"])
    {
        {
            let windows: Vec<botscope_model::Window> = items
                .iter()
                .filter_map(|w| {
                    Some(botscope_model::Window {
                        bots: w.get("bots").and_then(Val::as_f64)?,
                        duration: w.get("duration").and_then(Val::as_f64)?,
                        count: w
                            .get("mails")
                            .or_else(|| w.get("count"))
                            .and_then(Val::as_f64)?,
                    })
                })
                .collect();
            if let Ok(r) = botscope_model::fit_rate(&windows) {
                sec.rows.push(Row {
                    cells: vec![
                        "4 spam".into(),
                        "F (mails per bot per s)".into(),
                        fmt_num(r.rate),
                        format!("{file}{pointer} ({} windows)", r.n),
                    ],
                    evidence: vec![],
                    evidence_more: 0,
                });
            }
        }
    }
    if !charts.is_empty() {
        sec.chart = Some(charts);
    }
    sec.count_col = None;
    sec
}
