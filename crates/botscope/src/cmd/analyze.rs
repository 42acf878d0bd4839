//! `botscope analyze`: bot behaviour tables (exploit vectors, copy method,
//! infection sequence, IRC C&C, orders, floods, spam relays, updates,
//! scans, diurnal joins) from captures.

use anyhow::Context;
use botscope_behavior::analysis::Options;
use botscope_behavior::{pipeline, render, Limits};
use botscope_capture::accounting;
use botscope_core::cidr::Cidr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `botscope analyze`.
#[derive(clap::Args)]
pub struct Args {
    /// Capture files (pcap, pcapng; read in order as one run).
    #[arg(required_unless_present = "events")]
    pub captures: Vec<PathBuf>,
    /// Analyse events read back from JSON Lines files instead of captures
    /// (`events.jsonl` of `botscope capture read --format json`; in order,
    /// as one run): the same report as analysing the captures.
    #[arg(long = "events", value_name = "JSONL", conflicts_with = "captures")]
    pub events: Vec<PathBuf>,
    /// Honeypot network(s): Tables 7 and 8 count attempts on these only.
    #[arg(long = "honeypot-net", value_name = "CIDR")]
    pub honeypot_net: Vec<String>,
    /// Captures of the sensor interface for Table 1 (background traffic per
    /// address of the --honeypot-net networks, whole minutes from the first
    /// to the last packet). Also give them as captures to analyse them.
    #[arg(long = "background", value_name = "PCAP", requires = "honeypot_net")]
    pub background: Vec<PathBuf>,
    /// Table 1 extrapolates the per-address rate to this many addresses.
    #[arg(long, default_value_t = 30_000_000)]
    pub extrapolate_to: u64,
    /// Time zone for the diurnal table: `+09:00`, `-0500`, `UTC`, `JST`, or an IANA
    /// name (`Asia/Kolkata`, `Europe/Berlin`: daylight saving applied at each join).
    #[arg(long, default_value = "UTC")]
    pub tz: String,
    /// Days the captures cover (default: their span, rounded).
    #[arg(long)]
    pub days: Option<f64>,
    /// Watch list of C&C names (one a line, `#` comments): a P2P C&C host
    /// that looked one up is not reported as P2P-only. Default: the C&C
    /// names the run finds (IRC servers' FQDNs, HTTP C&C hosts).
    #[arg(long, value_name = "FILE")]
    pub watch: Option<PathBuf>,
    /// Write report.json and one CSV per table here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the report as JSON instead of text tables.
    #[arg(long)]
    pub json: bool,
    /// IP/TCP/UDP checksum validation: `auto` (validate unless more than
    /// 1 in 10 of the first 1000 packets are bad, i.e. checksum offload),
    /// `on` (drop and count bad packets), `off` (process them).
    #[arg(long, default_value = "auto", value_name = "auto|on|off")]
    pub checksums: botscope_capture::ChecksumMode,
    /// Memory cap of the capture engine, MiB.
    #[arg(long, default_value_t = 1024)]
    pub memory_mib: usize,
    /// Flows, flood tallies and scan runs the behaviour sink keeps at once.
    #[arg(long, default_value_t = 65_536)]
    pub max_tracked: usize,
}

/// Runs `botscope analyze`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let zone = botscope_core::tz::Zone::parse(&args.tz)
        .with_context(|| format!("unknown time zone {:?}", args.tz))?;
    let mut honeypot_nets = Vec::new();
    for n in &args.honeypot_net {
        honeypot_nets.push(Cidr::parse(n).with_context(|| format!("bad --honeypot-net {n:?}"))?);
    }
    let mut watch = Vec::new();
    if let Some(w) = &args.watch {
        let text =
            std::fs::read_to_string(w).with_context(|| format!("reading {}", w.display()))?;
        for (no, line) in text.lines().enumerate() {
            let l = line.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                continue;
            }
            let n = botscope_core::name::Name::parse(l)
                .with_context(|| format!("{} line {}: bad name {l:?}", w.display(), no + 1))?;
            watch.push(n.into_string());
        }
    }
    let opt = Options {
        honeypot_nets,
        zone,
        days: args.days,
        watch,
    };
    let engine = botscope_capture::EngineConfig {
        memory_cap: args.memory_mib << 20,
        checksums: args.checksums,
        ..Default::default()
    };
    let limits = Limits {
        max_flows: args.max_tracked,
        max_floods: args.max_tracked,
        max_scans: args.max_tracked,
        ..Default::default()
    };
    let sensor_addresses = if args.background.is_empty() {
        Vec::new()
    } else {
        let nets: Vec<_> = opt.honeypot_nets.iter().map(|n| (n.addr, n.len)).collect();
        accounting::addresses_of(&nets)?
    };
    if !args.events.is_empty() {
        return from_events(&args, &opt, &sensor_addresses, &engine);
    }
    // Table 1 is counted in the same pass as the analyses for every
    // background capture that is also analysed (no second read); the
    // others are read on their own afterwards.
    let (in_pass, rest) = background_in_pass(&args.captures, &args.background);
    let mut counter = accounting::BackgroundCounter::new(&sensor_addresses).only_files(&in_pass);
    let (mut report, summary) = if in_pass.is_empty() {
        pipeline::run(&args.captures, &engine, limits, &opt)?
    } else {
        pipeline::run_with(&args.captures, &engine, limits, &opt, &mut counter)?
    };
    if !args.background.is_empty() {
        if !in_pass.is_empty() {
            eprintln!(
                "botscope analyze: background: {} of {} captures counted in the analysis pass",
                in_pass.len(),
                args.background.len()
            );
        }
        if !rest.is_empty() {
            counter.all_files();
            let bg = botscope_capture::read_files(&rest, &engine, &mut counter)?;
            for e in &bg.file_errors {
                eprintln!("botscope analyze: background: {e}");
            }
            eprintln!("botscope analyze: background: {}", bg.checksums);
        }
        report.table1 = Some(counter.table1(None, args.extrapolate_to));
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::text(&report));
    }
    for e in &summary.capture.file_errors {
        eprintln!("botscope analyze: {e}");
    }
    eprintln!("botscope analyze: {}", summary.capture.checksums);
    let skipped = summary.capture.skipped.total();
    if skipped > 0 {
        eprintln!("botscope analyze: {skipped} records skipped");
    }
    let ev = &summary.evictions;
    if ev.flows + ev.floods + ev.scans > 0 {
        eprintln!("botscope analyze: evicted to stay within limits: {} flows, {} flood tallies, {} scan runs", ev.flows, ev.floods, ev.scans);
    }
    if let Some(dir) = &args.out {
        render::write_dir(&report, dir).with_context(|| format!("writing {}", dir.display()))?;
        let s = serde_json::to_vec_pretty(&summary)?;
        std::fs::write(dir.join("summary.json"), s)?;
        write_series(&report, dir)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Which `captures` (by index) are also `background` files, and the
/// background files that are not analysed. Paths compare after
/// canonicalisation (`./a.pcap` and `a.pcap` are one file).
fn background_in_pass(captures: &[PathBuf], background: &[PathBuf]) -> (Vec<u32>, Vec<PathBuf>) {
    let canon = |p: &PathBuf| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
    let caps: Vec<PathBuf> = captures.iter().map(canon).collect();
    let mut in_pass = Vec::new();
    let mut rest = Vec::new();
    for b in background {
        match caps.iter().position(|c| *c == canon(b)) {
            Some(i) if !in_pass.contains(&(i as u32)) => in_pass.push(i as u32),
            Some(_) => {}
            None => rest.push(b.clone()),
        }
    }
    (in_pass, rest)
}

/// `--events`: the analyses on events read back from JSON Lines.
fn from_events(
    args: &Args,
    opt: &Options,
    sensor_addresses: &[std::net::IpAddr],
    engine: &botscope_capture::EngineConfig,
) -> anyhow::Result<ExitCode> {
    let (mut report, read) = pipeline::run_events(&args.events, opt)?;
    if !args.background.is_empty() {
        let (table1, _) = accounting::table1_from_captures(
            &args.background,
            engine,
            sensor_addresses,
            args.extrapolate_to,
        )?;
        report.table1 = Some(table1);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::text(&report));
    }
    eprintln!(
        "botscope analyze: {} events read, {} lines skipped",
        read.events,
        read.skipped.total()
    );
    for (reason, (n, places)) in &read.skipped.by_reason {
        eprintln!(
            "botscope analyze: skipped {n} × {reason} (first at {})",
            places.join("; ")
        );
    }
    if let Some(dir) = &args.out {
        render::write_dir(&report, dir).with_context(|| format!("writing {}", dir.display()))?;
        let s = serde_json::json!({ "events": read.events, "skipped": read.skipped });
        std::fs::write(dir.join("summary.json"), serde_json::to_vec_pretty(&s)?)?;
        write_series(&report, dir)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The series `botscope model fit` reads (`DIR/series/*.csv`, issue 20).
fn write_series(report: &botscope_behavior::Report, dir: &std::path::Path) -> anyhow::Result<()> {
    let series = botscope_behavior::series::series(report);
    let to = dir.join("series");
    botscope_behavior::series::write_series(&series, &to)
        .with_context(|| format!("writing {}", to.display()))
}
