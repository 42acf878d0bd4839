//! Tables, charts, the HTML field report and the live dashboard.
//!
//! The input is a data folder of JSON files written by the other
//! subcommands (`analysis.json`, `dns-rate.json`, `specimens.json`,
//! `table2.json`, `table4.json`, `intel.json`, `truth.json`). Each is read
//! with capped arrays ([`val`]) so a huge field renders in bounded memory;
//! a section whose data is missing or malformed is rendered as "no data".
//! `docs/report.md` lists the shape each section expects.

pub mod browser;
pub mod build;
pub mod html;
pub mod serve;
pub mod val;

pub use build::{build_report, load_data, DataFolder, Report, Row, Section};

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

/// Renders a built report in one of the three forms.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Html => html::report_html(report, None),
        Format::Markdown => html::report_markdown(report),
        Format::Json => serde_json::to_string_pretty(&report.to_json()).unwrap_or_default(),
    }
}
