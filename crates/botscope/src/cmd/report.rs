//! `botscope report`: the field report (HTML, Markdown or JSON) from a data
//! folder of the other subcommands' JSON files.

use anyhow::Context;
use botscope_report::{render_report, Format};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `botscope report`.
#[derive(clap::Args)]
pub struct Args {
    /// Data folder (analysis.json, dns-rate.json, specimens.json, table2.json,
    /// table4.json, intel.json, truth.json). Default: the store folder.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output file.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
    /// html, md or json (default: from the output's extension, else html).
    #[arg(long)]
    format: Option<String>,
}

/// Runs `botscope report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data = args
        .data
        .unwrap_or_else(|| botscope_core::store::store_dir(None));
    let format = match &args.format {
        Some(f) => {
            Format::parse(f).with_context(|| format!("unknown format {f:?} (html, md, json)"))?
        }
        None => args
            .out
            .extension()
            .and_then(|e| e.to_str())
            .and_then(Format::parse)
            .unwrap_or(Format::Html),
    };
    let s = render_report(&data, &args.out, format)?;
    for u in &s.unreadable {
        eprintln!("botscope: skipped unreadable data file {u}");
    }
    eprintln!(
        "botscope: wrote {} ({} bytes): {} sections with data, {} without",
        s.out.display(),
        s.bytes,
        s.sections_with_data,
        s.sections_without_data
    );
    Ok(ExitCode::SUCCESS)
}
