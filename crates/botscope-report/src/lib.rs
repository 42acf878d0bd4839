//! Tables, charts, the HTML field report and the live dashboard.
//!
//! The input is a data folder holding one file per table or figure of the
//! study (`table1.json` … `diurnal.json`), each the serde struct of
//! [`botscope_core::report`] for it. [`collect`] writes those files from
//! the other subcommands' outputs; [`build`] reads exactly those files,
//! lays each section out as the study printed it with the study's own
//! figures ([`study`]) beside the measured ones, and [`html`] renders it.
//! A section whose file is missing, unavailable or unreadable says so and
//! names the command that fills it. `docs/report.md` has the details.

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod browser;
pub mod build;
pub mod charts;
pub mod collect;
pub mod html;
pub mod serve;
pub mod study;
pub mod val;

pub use build::{
    build_report, load_data, Cell, DataFolder, Report, Row, Section, Status, Table, TableKind,
};

use std::path::{Path, PathBuf};

/// Output forms of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One self-contained HTML file.
    Html,
    /// GitHub-flavoured Markdown.
    Markdown,
    /// The normalised sections as JSON.
    Json,
}

impl Format {
    /// From a name (`html`, `md`/`markdown`, `json`) or a file extension.
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "html" | "htm" => Some(Format::Html),
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Errors of the report crate.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The data folder could not be listed.
    #[error("cannot read data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A data file is larger than the report reads.
    #[error("{len} bytes, more than the {max} read")]
    FileTooLarge {
        /// Its size.
        len: u64,
        /// The most read.
        max: u64,
    },
    /// A data file could not be read (the caller names the file).
    #[error(transparent)]
    Read(std::io::Error),
    /// A data file is not complete JSON (the caller names the file).
    #[error(transparent)]
    Json(serde_json::Error),
    /// Another command's output could not be read.
    #[error("{path}: {source}")]
    InputRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another command's output is not JSON.
    #[error("{path}: {source}")]
    InputJson {
        /// The file.
        path: PathBuf,
        /// Where the JSON broke.
        source: serde_json::Error,
    },
    /// Another command's output lacks a documented field, or has it with
    /// another type.
    #[error("{what}: missing or mistyped field `{field}`")]
    Field {
        /// The output read (`analyze report.json`...).
        what: String,
        /// The field, dotted from the top when nested.
        field: String,
    },
    /// The browser is not installed.
    #[error("{0} is missing: run scripts/setup.sh (a real browser is needed)")]
    NoBrowser(&'static str),
    /// A step of running the browser failed.
    #[error("{what}: {source}")]
    Browser {
        /// The step (`starting chromium`...).
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The browser's output could not be collected.
    #[error("chromium output lost: {0}")]
    BrowserOutput(&'static str),
    /// The browser ran past its time limit on a page and was killed.
    #[error("chromium did not finish on {0}")]
    BrowserTimeout(String),
    /// The browser printed no page.
    #[error("no DOM from chromium for {url}: {start}")]
    NoDom {
        /// The page.
        url: String,
        /// The first 200 characters it printed.
        start: String,
    },
    /// The browser left no (or an empty) output file.
    #[error("chromium wrote no {what} to {path}")]
    NoBrowserFile {
        /// `PDF` or `screenshot`.
        what: &'static str,
        /// The file expected.
        path: PathBuf,
    },
    /// A dashboard bind that would serve the network without a token.
    #[error("binding to {0} (not loopback) needs --token")]
    BindNeedsToken(std::net::SocketAddr),
}

/// What a rendered report contains, for callers that print a summary.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReportSummary {
    /// Where it was written.
    pub out: PathBuf,
    /// Bytes written.
    pub bytes: u64,
    /// Sections with data.
    pub sections_with_data: usize,
    /// Sections rendered as "no data".
    pub sections_without_data: usize,
    /// Data files that could not be parsed (name: reason).
    pub unreadable: Vec<String>,
}

/// Reads `data_dir`, renders the report in `format` and writes it to `out`.
pub fn render_report(
    data_dir: &Path,
    out: &Path,
    format: Format,
) -> Result<ReportSummary, ReportError> {
    let data = load_data(data_dir)?;
    let report = build_report(&data);
    let text = render(&report, format);
    std::fs::write(out, text.as_bytes()).map_err(|source| ReportError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(ReportSummary {
        out: out.to_path_buf(),
        bytes: text.len() as u64,
        sections_with_data: report.sections.iter().filter(|s| s.has_data()).count(),
        sections_without_data: report.sections.iter().filter(|s| !s.has_data()).count(),
        unreadable: report.unreadable.clone(),
    })
}

/// Prints an HTML report to PDF with headless Chromium
/// ([`browser::CHROMIUM`]); its print CSS lays the sections out on A4.
pub fn export_pdf(html: &Path, pdf: &Path) -> Result<(), ReportError> {
    let pdf_abs = if pdf.is_absolute() {
        pdf.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|source| ReportError::Browser {
                what: "current directory",
                source,
            })?
            .join(pdf)
    };
    browser::print_to_pdf(&browser::file_url(html), &pdf_abs)
}

/// Renders a built report in one of the three forms.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Html => html::report_html(report, None),
        Format::Markdown => html::report_markdown(report),
        Format::Json => serde_json::to_string_pretty(&report.to_json()).unwrap_or_default(),
    }
}
