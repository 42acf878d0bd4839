//! `botscope dns`: resolver logs in, deemed infection rate and the
//! infected-customer list out (see `docs/dns.md`).

use anyhow::{bail, Context};
use botscope_dnslog::rate::{parse_window, CidrMap};
use botscope_dnslog::read::CsvColumns;
use botscope_dnslog::{
    GroupBy, LogFormat, Mode, NameSet, RateConfig, RateEngine, RateReport, ReadOptions,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `botscope dns`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Deemed infection rate per window and group, and the infected-customer list.
    Rate(RateArgs),
    /// Write normalised queries as Parquet partitioned by day (for Spark: jobs/).
    Ingest(IngestArgs),
    /// Write a synthetic BIND query log with its truth (for benchmarks and demos).
    #[command(hide = true)]
    Gen(GenArgs),
}

#[derive(clap::Args)]
struct RateArgs {
    /// Watch list: one name a line (`name`, `*.zone`, `zone:zone`), `#` comments.
    #[arg(long, required = true)]
    watchlist: Vec<PathBuf>,
    /// Allow list(s): a listed name and every name under it are never counted.
    #[arg(long)]
    allowlist: Vec<PathBuf>,
    /// Do not use the shipped public-IRC-server allow list.
    #[arg(long)]
    no_builtin_allowlist: bool,
    /// Window length: `1d`, `6h`, `30m`, `1w`, or `all`.
    #[arg(long, default_value = "1d")]
    window: String,
    /// Group by `resolver`, or by a CIDR map file (`CIDR NAME` lines).
    #[arg(long)]
    group_by: Option<String>,
    /// Exact distinct counts (the default).
    #[arg(long, conflicts_with = "approx")]
    exact: bool,
    /// Approximate distinct counts with HyperLogLog.
    #[arg(long)]
    approx: bool,
    /// HyperLogLog precision (registers = 2^p; error 1.04/sqrt(2^p)).
    #[arg(long, default_value_t = 14)]
    precision: u8,
    /// HyperLogLog seed.
    #[arg(long, default_value_t = 0x626f_7473)]
    seed: u64,
    /// Count IPv6 clients per prefix of this length (128 = per address).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u8).range(1..=128))]
    v6_prefix: u8,
    /// Force the input format (bind, unbound, dnstap, zeek-tsv, zeek-json, csv, pcap).
    #[arg(long)]
    format: Option<String>,
    /// CSV column map, e.g. `ts=0,client=1,qname=2[,server=3]`.
    #[arg(long)]
    csv_columns: Option<CsvColumns>,
    /// Year for syslog time stamps without one (default: from each file's
    /// modification time; a log covers at most the 12 months before it).
    #[arg(long = "log-year", alias = "syslog-year")]
    syslog_year: Option<i64>,
    /// Zone of log time stamps that carry none: an IANA name
    /// (`Europe/Berlin`, read from /usr/share/zoneinfo) or an offset (`+09:00`).
    #[arg(long, default_value = "UTC")]
    log_tz: String,
    /// Also count dnstap resolver/forwarder/stub query messages.
    #[arg(long)]
    dnstap_all: bool,
    /// Checksum validation of pcap inputs: `auto` (validate unless more
    /// than 1 in 10 of the first 1000 packets are bad, i.e. checksum
    /// offload), `on` (drop bad packets), `off` (keep them).
    #[arg(long, default_value = "auto", value_name = "auto|on|off")]
    checksums: botscope_capture::ChecksumMode,
    /// Do not score names for the suspected tier (generated names, issue 20).
    #[arg(long)]
    no_suspect: bool,
    /// Distinct random-looking registrable domains in one window that put a
    /// client in the suspected tier.
    #[arg(long, default_value_t = 8)]
    suspect_min_domains: u32,
    /// Distinct random-looking domains answered NXDOMAIN in one window that
    /// put a client in the suspected tier (logs with response codes).
    #[arg(long, default_value_t = 4)]
    suspect_min_nxdomain: u32,
    /// Parser threads for plain (uncompressed) line logs.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Write rate.csv, rate.json, infected.csv, infected.json,
    /// suspected.csv, suspected.json here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the whole report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Log files or pcap/pcapng captures (`-` for standard input); gzip and
    /// zstd are undone.
    #[arg(required = true)]
    logs: Vec<String>,
}

#[derive(clap::Args)]
struct IngestArgs {
    /// Lake folder (`DIR/day=YYYY-MM-DD/part-RUN.parquet`).
    #[arg(long)]
    parquet: PathBuf,
    /// `client_key` of IPv6 clients: prefix of this length (128 = address).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u8).range(1..=128))]
    v6_prefix: u8,
    /// Force the input format (bind, unbound, dnstap, zeek-tsv, zeek-json, csv, pcap).
    #[arg(long)]
    format: Option<String>,
    /// CSV column map, e.g. `ts=0,client=1,qname=2[,server=3]`.
    #[arg(long)]
    csv_columns: Option<CsvColumns>,
    /// Year for syslog time stamps without one (default: from each file's
    /// modification time).
    #[arg(long = "log-year", alias = "syslog-year")]
    syslog_year: Option<i64>,
    /// Zone of log time stamps that carry none (IANA name or `+09:00`).
    #[arg(long, default_value = "UTC")]
    log_tz: String,
    /// Also take dnstap resolver/forwarder/stub query messages.
    #[arg(long)]
    dnstap_all: bool,
    /// Checksum validation of pcap inputs: `auto` (validate unless more
    /// than 1 in 10 of the first 1000 packets are bad, i.e. checksum
    /// offload), `on` (drop bad packets), `off` (keep them).
    #[arg(long, default_value = "auto", value_name = "auto|on|off")]
    checksums: botscope_capture::ChecksumMode,
    /// Log files or pcap/pcapng captures (`-` for standard input).
    #[arg(required = true)]
    logs: Vec<String>,
}

#[derive(clap::Args)]
struct GenArgs {
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Distinct clients.
    #[arg(long, default_value_t = 10_000)]
    clients: u32,
    /// Queries per active client and day.
    #[arg(long, default_value_t = 10)]
    queries_per_client: u32,
    /// Days.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of clients running a DGA (generated names, mostly NXDOMAIN).
    #[arg(long, default_value_t = 0.0)]
    dga_fraction: f64,
    /// Fraction of clients resolving random-looking CDN names (negatives).
    #[arg(long, default_value_t = 0.0)]
    cdn_fraction: f64,
    /// Probability that a client is active on a given day.
    #[arg(long, default_value_t = 0.9)]
    active_fraction: f64,
    /// Formats, comma-separated: bind, unbound, zeek-tsv, zeek-json, dnstap,
    /// csv, and the wrapped shapes unbound-rfc3339 (rsyslog), bind-syslog
    /// (traditional syslog, local time UTC+09:00, no year), infoblox,
    /// bind-answer (BIND 9.18+ response lines only).
    #[arg(long, default_value = "bind")]
    formats: String,
}

/// The shipped public-IRC-server allow list.
const BUILTIN_ALLOW: &str = include_str!("../../../../data/public-irc-servers.txt");

/// Runs `botscope dns`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Rate(a) => rate(a),
        Sub::Ingest(a) => ingest(a),
        Sub::Gen(a) => gen(a),
    }
}

fn parse_format(s: &str) -> anyhow::Result<LogFormat> {
    Ok(match s {
        "bind" => LogFormat::Bind,
        "unbound" => LogFormat::Unbound,
        "dnstap" => LogFormat::Dnstap,
        "zeek-tsv" | "zeek" => LogFormat::ZeekTsv,
        "zeek-json" => LogFormat::ZeekJson,
        "csv" => LogFormat::Csv,
        "pcap" | "pcapng" => LogFormat::Pcap,
        _ => bail!("unknown format {s:?}"),
    })
}

fn rate(a: RateArgs) -> anyhow::Result<ExitCode> {
    let mut watch = NameSet::new();
    for w in &a.watchlist {
        let s = NameSet::from_file(w)?;
        for e in s.entries() {
            watch
                .add(e)
                .map_err(|e| anyhow::anyhow!("{}: {e}", w.display()))?;
        }
    }
    // An allow-list entry covers the name and everything under it (the
    // same rule as `botscope intel`'s allow list).
    let mut allow = NameSet::new();
    let mut add_allow = |s: NameSet| -> anyhow::Result<()> {
        for e in s.entries() {
            let zone = if e.starts_with("*.")
                || e.starts_with("zone:")
                || botscope_dnslog::pattern::is_pattern(e)
            {
                e.clone()
            } else {
                format!("zone:{e}")
            };
            allow
                .add(&zone)
                .map_err(|err| anyhow::anyhow!("{e}: {err}"))?;
        }
        Ok(())
    };
    if !a.no_builtin_allowlist {
        let mut s = NameSet::new();
        s.read(BUILTIN_ALLOW.as_bytes(), "data/public-irc-servers.txt")?;
        add_allow(s)?;
    }
    for f in &a.allowlist {
        add_allow(NameSet::from_file(f)?)?;
    }
    let group_by = match a.group_by.as_deref() {
        None => GroupBy::None,
        Some("resolver") => GroupBy::Resolver,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading CIDR map {path}"))?;
            GroupBy::Cidr(CidrMap::parse(&text, path)?)
        }
    };
    let cfg = RateConfig {
        window_us: parse_window(&a.window)?,
        mode: if a.approx && !a.exact {
            Mode::Approx {
                precision: a.precision,
                seed: a.seed,
            }
        } else {
            Mode::Exact
        },
        v6_prefix: a.v6_prefix,
        group_by,
        suspect: botscope_dnslog::suspect::SuspectConfig {
            enabled: !a.no_suspect,
            min_domains: a.suspect_min_domains.max(1),
            min_nxdomain: a.suspect_min_nxdomain,
            ..Default::default()
        },
    };
    let opts = ReadOptions {
        format: a.format.as_deref().map(parse_format).transpose()?,
        csv_columns: a.csv_columns,
        syslog_year: a.syslog_year,
        tz: botscope_dnslog::read::Zone::parse(&a.log_tz)
            .map_err(|e| anyhow::anyhow!("--log-tz: {e}"))?,
        dnstap_all_queries: a.dnstap_all,
        checksums: a.checksums,
        // With one window a query needs no time to be counted.
        keep_undated: cfg.window_us == 0,
        ..Default::default()
    };
    let threads = if a.threads == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    } else {
        a.threads
    };
    let mut engine = RateEngine::new(cfg.clone(), &watch, &allow);
    for log in &a.logs {
        if threads > 1 && log != "-" {
            let part = botscope_dnslog::parallel::read_parallel(log, &opts, threads, || {
                RateEngine::new(cfg.clone(), &watch, &allow)
            });
            match part {
                Some(e) => engine.merge(e),
                None => engine.read(log, &opts),
            }
        } else {
            engine.read(log, &opts);
        }
    }
    let report = engine.report();
    if let Some(dir) = &a.out {
        write_out(&report, dir)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&report);
    }
    for f in &report.files {
        if let Some(c) = &f.checksums {
            eprintln!("{}: {c}", f.file);
        }
    }
    let failed = report.files.iter().filter(|f| f.error.is_some()).count();
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn write_out(r: &RateReport, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let w = |name: &str, text: String| -> anyhow::Result<()> {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
    };
    w("rate.csv", r.rate_csv())?;
    w("rate.json", serde_json::to_string_pretty(r)? + "\n")?;
    w("infected.csv", r.infected_csv())?;
    w(
        "infected.json",
        serde_json::to_string_pretty(&r.infected)? + "\n",
    )?;
    w("suspected.csv", r.suspected_csv())?;
    w(
        "suspected.json",
        serde_json::to_string_pretty(&r.suspected)? + "\n",
    )?;
    Ok(())
}

fn print_table(r: &RateReport) {
    if let Some(e) = r.relative_error {
        println!(
            "approximate counts (HyperLogLog, relative standard error {:.2} %)",
            e * 100.0
        );
    }
    println!(
        "{:<20} {:<22} {:>12} {:>10} {:>9} {:>14} {:>10}",
        "group", "window", "clients", "infected", "rate %", "queries", "suspected"
    );
    for row in r.windows.iter().chain(&r.totals) {
        println!(
            "{:<20} {:<22} {:>12} {:>10} {:>9.3} {:>14} {:>10}",
            row.group,
            row.window_start
                .as_deref()
                .map(|s| &s[..s.len().min(19)])
                .unwrap_or("total"),
            row.clients,
            row.infected,
            row.rate * 100.0,
            row.queries,
            row.suspected
        );
    }
    println!("infected clients: {}", r.infected.len());
    for i in r.infected.iter().take(20) {
        println!(
            "  {:<24} {} .. {}  {:>6}  {}",
            i.client,
            i.first_seen,
            i.last_seen,
            i.count,
            i.names.join(",")
        );
    }
    if r.infected.len() > 20 {
        println!(
            "  … {} more (use --out or --json for the full list)",
            r.infected.len() - 20
        );
    }
    if !r.suspected.is_empty() {
        println!(
            "suspected clients (generated names, not confirmed by the watch list): {}",
            r.suspected.len()
        );
        for s in r.suspected.iter().take(20) {
            println!(
                "  {:<24} {} .. {}  {:>3} domains {:>5} NXDOMAIN  {}",
                s.client,
                s.first_seen,
                s.last_seen,
                s.domains,
                s.nxdomain,
                s.names.join(",")
            );
        }
        if r.suspected.len() > 20 {
            println!("  … {} more (use --out or --json)", r.suspected.len() - 20);
        }
    }
    if r.allowlisted_queries > 0 {
        println!(
            "allow-listed watch-list queries not counted: {}",
            r.allowlisted_queries
        );
    }
    for (reason, (n, places)) in &r.skipped.by_reason {
        eprintln!("skipped {n} × {reason} (first at {})", places.join(", "));
    }
    let undated: u64 = r.files.iter().map(|f| f.undated).sum();
    if undated > 0 {
        eprintln!(
            "warning: {undated} queries had no time stamp; counted (one window), their times unknown"
        );
    }
    for f in &r.files {
        if let Some(e) = &f.error {
            eprintln!("botscope: {e} (after {} queries from this file)", f.queries);
        }
    }
}

fn ingest(a: IngestArgs) -> anyhow::Result<ExitCode> {
    let opts = ReadOptions {
        format: a.format.as_deref().map(parse_format).transpose()?,
        csv_columns: a.csv_columns,
        syslog_year: a.syslog_year,
        tz: botscope_dnslog::read::Zone::parse(&a.log_tz)
            .map_err(|e| anyhow::anyhow!("--log-tz: {e}"))?,
        dnstap_all_queries: a.dnstap_all,
        checksums: a.checksums,
        ..Default::default()
    };
    let run_id = format!(
        "{}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_micros(),
        std::process::id()
    );
    let mut lake = botscope_dnslog::lake::LakeWriter::new(&a.parquet, a.v6_prefix, &run_id)?;
    let mut skips = botscope_core::error::SkipCounter::default();
    let mut failed = 0;
    for log in &a.logs {
        let mut err = None;
        let stats = botscope_dnslog::read::read_input(
            log,
            &opts,
            &mut |q| {
                if err.is_none() {
                    if let Err(e) = lake.push(q, log) {
                        err = Some(e);
                    }
                }
            },
            &mut skips,
        );
        if let Some(e) = err {
            return Err(e.into());
        }
        if let Some(c) = &stats.checksums {
            eprintln!("{log}: {c}");
        }
        if let Some(e) = &stats.error {
            eprintln!(
                "botscope: {e} (after {} queries from this file)",
                stats.queries
            );
            failed += 1;
        }
    }
    let rows = lake.rows;
    let files = lake.finish()?;
    for (reason, (n, places)) in &skips.by_reason {
        eprintln!("skipped {n} × {reason} (first at {})", places.join(", "));
    }
    println!(
        "{rows} queries -> {} Parquet file(s) in {}",
        files.len(),
        a.parquet.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn gen(a: GenArgs) -> anyhow::Result<ExitCode> {
    use botscope_synth::resolver::{write_resolver_logs, Format, ResolverSpec};
    let formats = a
        .formats
        .split(',')
        .map(|f| {
            serde_json::from_value::<Format>(serde_json::Value::String(f.trim().to_string()))
                .map_err(|_| anyhow::anyhow!("unknown format {f:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = ResolverSpec {
        seed: a.seed,
        clients: a.clients,
        days: a.days,
        queries_per_client: a.queries_per_client,
        active_fraction: a.active_fraction,
        formats,
        dga_fraction: a.dga_fraction,
        cdn_fraction: a.cdn_fraction,
        ..Default::default()
    };
    let truth = write_resolver_logs(&spec, &a.out)?;
    std::fs::write(a.out.join("watchlist.txt"), spec.cc_names.join("\n") + "\n")?;
    println!(
        "{} queries, {} clients, {} infected ({:.3} %) -> {}",
        truth.queries,
        truth.distinct_clients,
        truth.infected_clients,
        truth.rate * 100.0,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
