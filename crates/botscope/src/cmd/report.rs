//! `botscope report`: the field report (HTML, Markdown or JSON, and a PDF
//! through headless Chromium) from a data folder of report-contract files;
//! `botscope report collect` writes those files from the other
//! subcommands' outputs.

use anyhow::{bail, Context};
use botscope_report::collect::{self, Out};
use botscope_report::{export_pdf, render_report, Format};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `botscope report`.
#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    long_about = "Renders the field report from a data folder holding one file per table or \
figure (table1.json … diurnal.json, the structs of botscope_core::report). Only those files \
are read. `botscope report collect` writes them from the other commands' outputs.\n\n\
Example: botscope report --data data --out report.html --pdf report.pdf"
)]
pub struct Args {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Data folder of report-contract files. Default: the store folder.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output file.
    #[arg(long, default_value = "report.html")]
    out: PathBuf,
    /// html, md or json (default: from the output's extension, else html).
    #[arg(long)]
    format: Option<String>,
    /// Also print the HTML report to this PDF with headless Chromium
    /// (/usr/bin/chromium).
    #[arg(long)]
    pdf: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Convert the other commands' outputs into the report's data files.
    Collect(CollectArgs),
}

/// Arguments of `botscope report collect`.
#[derive(clap::Args)]
struct CollectArgs {
    /// Data folder to write `<section>.json` files into.
    #[arg(long)]
    data: PathBuf,
    /// `botscope analyze --out DIR`'s `report.json` (Tables 1, 7–11, Fig. 3, 5, orders, diurnal).
    #[arg(long)]
    analysis: Option<PathBuf>,
    /// `botscope specimen --json table2` output (Table 2).
    #[arg(long)]
    table2: Option<PathBuf>,
    /// `botscope specimen --json table4` output (Table 4).
    #[arg(long)]
    table4: Option<PathBuf>,
    /// `botscope dns rate --json` output (Table 3, and the cumulative
    /// infected clients equation 1 is fitted to in `models.json`).
    #[arg(long)]
    dns_rate: Option<PathBuf>,
    /// `botscope analyze --out DIR`'s `series/series.json` (the models'
    /// series; found beside `--analysis` when not given).
    #[arg(long)]
    series: Option<PathBuf>,
    /// `botscope dns rate --window 1h --json` output (the infection-rate series).
    #[arg(long)]
    rate_series: Option<PathBuf>,
    /// `botscope intel classify --table-json` output (Table 5).
    #[arg(long)]
    table5: Option<PathBuf>,
    /// `botscope intel classify --json` per-name output (Table 5's evidence).
    #[arg(long)]
    table5_names: Option<PathBuf>,
    /// Store folder whose `intel probe` history fills Table 6 (with --watchlist).
    #[arg(long)]
    probes: Option<PathBuf>,
    /// The C&C names Table 6 covers (one FQDN a line).
    #[arg(long)]
    watchlist: Option<PathBuf>,
    /// Why Table 6 cannot be filled, when no probe could be made (written
    /// into table6.json instead of the probes).
    #[arg(long)]
    table6_unavailable: Option<String>,
}

/// Runs `botscope report`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(Cmd::Collect(c)) = args.cmd {
        return run_collect(c);
    }
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
    if args.pdf.is_some() && format != Format::Html {
        bail!("--pdf prints the HTML report: use --format html (or an .html --out)");
    }
    let s = render_report(&data, &args.out, format)?;
    for u in &s.unreadable {
        eprintln!("botscope: unreadable data file {u}");
    }
    eprintln!(
        "botscope: wrote {} ({} bytes): {} sections with data, {} without",
        s.out.display(),
        s.bytes,
        s.sections_with_data,
        s.sections_without_data
    );
    if let Some(pdf) = &args.pdf {
        export_pdf(&args.out, pdf).map_err(|e| anyhow::anyhow!("PDF export: {e}"))?;
        eprintln!("botscope: wrote {}", pdf.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn convert(
    path: &Option<PathBuf>,
    f: impl FnOnce(&serde_json::Value) -> Result<Vec<Out>, botscope_report::ReportError>,
) -> anyhow::Result<Vec<Out>> {
    match path {
        None => Ok(vec![]),
        Some(p) => {
            let v = collect::read_json(p).map_err(anyhow::Error::msg)?;
            f(&v).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        }
    }
}

/// `models.json` from the analysis' series and the resolver logs.
fn models(a: &CollectArgs) -> anyhow::Result<Option<Out>> {
    let beside = a
        .analysis
        .as_ref()
        .and_then(|p| p.parent())
        .map(|d| d.join("series").join("series.json"))
        .filter(|p| p.is_file());
    let read = |p: &Option<PathBuf>| -> anyhow::Result<Option<serde_json::Value>> {
        p.as_ref()
            .map(|p| collect::read_json(p).map_err(anyhow::Error::msg))
            .transpose()
    };
    let series = read(&a.series.clone().or(beside))?;
    let dns = read(&a.dns_rate)?;
    collect::models_from(series.as_ref(), dns.as_ref()).map_err(anyhow::Error::msg)
}

fn run_collect(a: CollectArgs) -> anyhow::Result<ExitCode> {
    let mut outs = Vec::new();
    outs.extend(convert(&a.analysis, collect::from_analyze)?);
    outs.extend(convert(&a.table2, collect::from_table2)?);
    outs.extend(convert(&a.table4, collect::from_table4)?);
    outs.extend(convert(&a.dns_rate, collect::from_dns_rate)?);
    outs.extend(convert(&a.rate_series, collect::from_rate_series)?);
    if let Some(t5) = &a.table5 {
        let names = match &a.table5_names {
            Some(p) => Some(collect::read_json(p).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let v = collect::read_json(t5).map_err(anyhow::Error::msg)?;
        outs.extend(
            collect::from_table5(&v, names.as_ref())
                .map_err(|e| anyhow::anyhow!("{}: {e}", t5.display()))?,
        );
    }
    if let Some(t6) = table6(&a)? {
        outs.push(t6);
    }
    if let Some(m) = models(&a)? {
        outs.push(m);
    }
    let written = collect::write_sections(&a.data, &outs)
        .with_context(|| format!("writing into {}", a.data.display()))?;
    eprintln!(
        "botscope: wrote {} into {}",
        written.join(", "),
        a.data.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Table 6 from the newest probe of each watch-listed name in the store,
/// or the reason it cannot be filled.
fn table6(a: &CollectArgs) -> anyhow::Result<Option<Out>> {
    let command = "botscope intel probe WATCHLIST --store S; botscope report collect --probes S --watchlist WATCHLIST --data DATA";
    let Some(store) = &a.probes else {
        return Ok(a
            .table6_unavailable
            .as_deref()
            .map(|why| collect::unavailable("table6", why, command)));
    };
    let watch = a
        .watchlist
        .as_ref()
        .context("--probes needs --watchlist (the names Table 6 covers)")?;
    let text =
        std::fs::read_to_string(watch).with_context(|| format!("reading {}", watch.display()))?;
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let db = store.join(botscope_intel::store::DB_FILE);
    let why = |detail: String| -> Option<Out> {
        let why = match &a.table6_unavailable {
            Some(w) => format!("{w} ({detail})"),
            None => detail,
        };
        Some(collect::unavailable("table6", &why, command))
    };
    if !db.is_file() {
        return Ok(why(format!(
            "no name has been probed: {} does not exist",
            display(&db)
        )));
    }
    let st = botscope_intel::store::Store::open(store)?;
    let mut rows = Vec::new();
    let (mut latest, mut active, mut max_addrs) = (None, false, 0u64);
    for n in &names {
        let Some(p) = st.latest(n)? else { continue };
        let mut keys = Vec::new();
        if p.several_bots() {
            keys.push("several_bots");
        }
        if p.several_addrs() {
            keys.push("several_addrs");
        }
        if p.not_resolvable() {
            keys.push("not_resolvable");
        }
        if p.unreachable() == Some(true) {
            keys.push("unreachable");
        }
        if p.fwd_rev_disagree() {
            keys.push("fwd_rev_disagree");
        }
        active |= p.active;
        max_addrs = max_addrs.max(p.addrs.len() as u64);
        latest = latest.max(Some(p.ts));
        rows.push((n.clone(), keys));
    }
    if rows.is_empty() {
        return Ok(why(format!(
            "none of the {} names in {} has a probe in {}",
            names.len(),
            display(watch),
            display(&db)
        )));
    }
    Ok(Some(collect::table6_from(
        latest.map(|t| t.rfc3339()),
        active,
        max_addrs,
        &rows,
    )))
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
