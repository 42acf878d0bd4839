//! `botscope synth`: a seeded synthetic field (captures, resolver logs,
//! specimens) with its ground truth `truth.json`.

use anyhow::Context;
use botscope_synth::{generate, SynthConfig};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `botscope synth`.
#[derive(clap::Args)]
pub struct Args {
    /// Output folder (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days covered by the scenario.
    #[arg(long, default_value_t = 2)]
    pub days: u32,
    /// Sensor addresses of the honeypot net.
    #[arg(long, default_value_t = 192)]
    pub addresses: u32,
    /// Multiplies event counts (and the background window, in hours) linearly.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Carry sensor traffic in GRE tunnels (outer IPs = tunnel endpoints).
    #[arg(long)]
    pub gre: bool,
    /// Time zone of the bots' owners: a name (Asia/Tokyo) or a fixed offset (+09:00).
    #[arg(long, default_value = "Asia/Tokyo")]
    pub tz: String,
    /// Flood packet rate, packets per second (flood durations stay real).
    #[arg(long, default_value_t = 20)]
    pub flood_pps: u32,
    /// Resolver-log clients (multiplied by --scale).
    #[arg(long, default_value_t = 5_000)]
    pub resolver_clients: u32,
    /// Infected fraction of the resolver-log clients.
    #[arg(long, default_value_t = 0.024)]
    pub infected_fraction: f64,
    /// Do not write resolver logs.
    #[arg(long)]
    pub no_resolver: bool,
}

/// Runs `botscope synth`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let zone = botscope_core::tz::Zone::parse(&args.tz).with_context(|| {
        format!(
            "unknown time zone {:?} (use a name like Asia/Tokyo or an offset like +09:00)",
            args.tz
        )
    })?;
    anyhow::ensure!(args.days >= 1, "--days must be at least 1");
    anyhow::ensure!(args.addresses >= 1, "--addresses must be at least 1");
    anyhow::ensure!(
        args.scale > 0.0 && args.scale.is_finite(),
        "--scale must be positive"
    );
    let cfg = SynthConfig {
        seed: args.seed,
        days: args.days,
        addresses: args.addresses,
        scale: args.scale,
        gre: args.gre,
        tz: args.tz.clone(),
        zone,
        flood_pps: args.flood_pps.max(1),
        resolver_logs: !args.no_resolver,
        resolver_clients: args.resolver_clients,
        infected_fraction: args.infected_fraction,
        ..SynthConfig::default()
    };
    let truth =
        generate(&cfg, &args.out).with_context(|| format!("writing {}", args.out.display()))?;
    let total: u64 = truth.files.iter().map(|f| f.bytes).sum();
    for f in &truth.files {
        println!(
            "{:>12} bytes {:>10} packets  {}",
            f.bytes, f.packets, f.path
        );
    }
    if let Some(queries) = truth
        .resolver
        .as_ref()
        .and_then(|r| r.get("queries"))
        .and_then(|q| q.as_u64())
    {
        let logs = truth
            .files
            .iter()
            .filter(|f| f.kind == "resolver log")
            .count() as u64;
        println!(
            "resolver logs: {queries} queries x {logs} formats = {} records (lines or dnstap frames)",
            queries * logs
        );
    }
    println!(
        "{} exploits, {} copies, {} bots, {} IRC sessions, {} orders, {} floods, {} spam relays, {} specimens; {:.1} MB; truth: {}",
        truth.exploits.len(),
        truth.copies.len(),
        truth.bots.len(),
        truth.irc_sessions.len(),
        truth.orders.len(),
        truth.floods.len(),
        truth.spam_relays.len(),
        truth.specimens.len(),
        total as f64 / 1e6,
        args.out.join("truth.json").display()
    );
    // Issue 20: the command channels beyond IRC.
    let http_bots: usize = truth.http_cc.iter().map(|s| s.bots.len()).sum();
    let links: usize = truth.p2p.iter().map(|n| n.links.len()).sum();
    println!(
        "beyond IRC: {} HTTP C&C servers ({http_bots} bots), {} benign pollers; {} P2P botnets ({links} links), {} P2P-only hosts",
        truth.http_cc.len(),
        truth.http_benign.len(),
        truth.p2p.len(),
        truth.tables.p2p_only_hosts.len()
    );
    Ok(ExitCode::SUCCESS)
}
