//! The report's table model: cells with their exact values, rows with
//! evidence, tables, sections and the report, and its JSON form.

use super::*;
use serde_json::Value;

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
    pub(crate) fn new(kind: TableKind, caption: &str, columns: Vec<Cell>) -> Table {
        Table {
            kind,
            caption: caption.into(),
            columns,
            rows: vec![],
            rows_more: 0,
        }
    }
}

pub(crate) fn heads(names: &[&str]) -> Vec<Cell> {
    names.iter().map(|n| Cell::text(*n)).collect()
}

pub(crate) fn study_head(name: &str) -> Cell {
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
    pub(crate) fn new(id: &str, title: &str, study: &str, command: &str) -> Section {
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

pub(crate) fn cell_json(c: &Cell) -> Value {
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

pub(crate) fn facts_table() -> Table {
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

pub(crate) fn fact(key: &str, name: &str, measured: Cell, study: &str) -> Row {
    Row::plain(vec![
        Cell::keyed(name, key),
        measured,
        Cell::text(study).from_study(),
    ])
}
