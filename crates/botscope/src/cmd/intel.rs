//! `botscope intel`: classify C&C names by provider (Table 5), probe their
//! DNS state (Table 6) with history, and export countermeasures.

use anyhow::{bail, Context};
use botscope_core::error::SkipCounter;
use botscope_intel::classify::{self, Classifier, Table5};
use botscope_intel::configs::BotConfigs;
use botscope_intel::export::{self, Endpoint, RpzAction, RpzOptions, SerialMode};
use botscope_intel::names::{self, AllowList};
use botscope_intel::probe::{self, ProbeOptions, Table6};
use botscope_intel::store::Store;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `botscope intel`.
#[derive(clap::Args)]
pub struct Args {
    /// Store folder (else $BOTSCOPE_HOME, else the XDG data folder).
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Table 5: provider category of each name.
    Classify(ClassifyArgs),
    /// Table 6: DNS state of each name, kept as history in the store.
    Probe(ProbeArgs),
    /// Every stored probe of one name, marking re-pointings.
    History(HistoryArgs),
    /// Countermeasures: RPZ, nftables, iptables, hosts, MISP, STIX, notify list.
    Export(ExportArgs),
}

#[derive(clap::Args)]
struct ClassifyArgs {
    /// Name list: one FQDN a line, `#` comments.
    names: PathBuf,
    /// TOML overrides: `[names] "x.example" = "hosting"`, `[zones] "example.org" = "isp"`.
    #[arg(long)]
    overrides: Option<PathBuf>,
    /// Write per-name results as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write per-name results as CSV.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Print Table 5 as JSON instead of text.
    #[arg(long)]
    table_json: bool,
}

#[derive(clap::Args)]
struct ProbeArgs {
    /// Name list: one FQDN a line, `#` comments.
    names: PathBuf,
    /// Resolver to ask (`127.0.0.1:5353`); default: /etc/resolv.conf.
    #[arg(long)]
    resolver: Option<SocketAddr>,
    /// Bot configs JSON: `[{"sha256": "...", "servers": [{"host": "...", "port": 6667}]}]`.
    #[arg(long)]
    configs: Option<PathBuf>,
    /// Also TCP-connect to each address's C&C ports (sends packets to the C&C!).
    #[arg(long)]
    active: bool,
    /// Names probed at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Per-query timeout in milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
    /// Connect timeout in milliseconds (`--active`).
    #[arg(long, default_value_t = 3000)]
    connect_timeout_ms: u64,
    /// Port tried when the configs name none for a host.
    #[arg(long, default_value_t = 6667)]
    default_port: u16,
    /// Write per-name results as JSON Lines.
    #[arg(long)]
    jsonl: Option<PathBuf>,
    /// Do not record results in the store.
    #[arg(long)]
    no_store: bool,
    /// Print Table 6 as JSON instead of text.
    #[arg(long)]
    table_json: bool,
}

#[derive(clap::Args)]
struct HistoryArgs {
    /// The name.
    name: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct ExportArgs {
    /// Name list: one FQDN a line, `#` comments.
    names: PathBuf,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// RPZ action: nxdomain, nodata, a sinkhole address, or a sinkhole host name.
    #[arg(long, default_value = "nxdomain")]
    action: String,
    /// Also cover subdomains (`*.name`).
    #[arg(long)]
    wildcard: bool,
    /// SOA serial: `increment` (over the last export in the store) or `date` (YYYYMMDDnn).
    #[arg(long, default_value = "increment")]
    serial: String,
    /// Policy zone name (owner-name length is checked against it).
    #[arg(long, default_value = "rpz.botscope")]
    origin: String,
    /// RPZ record TTL.
    #[arg(long, default_value_t = 300)]
    ttl: u32,
    /// Extra allow-list file (added to the shipped public-IRC list).
    #[arg(long)]
    allow_list: Option<PathBuf>,
    /// Bot configs JSON, for C&C ports and address literals.
    #[arg(long)]
    configs: Option<PathBuf>,
    /// Port used for names whose configs name none.
    #[arg(long, default_value_t = 6667)]
    default_port: u16,
    /// Infected-customer CSV from `botscope dns` (checked and passed through).
    #[arg(long)]
    notify: Option<PathBuf>,
    /// Classification overrides (categories go into MISP/STIX descriptions).
    #[arg(long)]
    overrides: Option<PathBuf>,
    /// MISP event title.
    #[arg(long, default_value = "botscope: botnet C&C names and endpoints")]
    info: String,
}

/// Runs `botscope intel`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = botscope_core::store::store_dir(args.store);
    match args.cmd {
        Cmd::Classify(a) => run_classify(a),
        Cmd::Probe(a) => run_probe(a, &store),
        Cmd::History(a) => run_history(a, &store),
        Cmd::Export(a) => run_export(a, &store),
    }
}

fn read(p: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn report_skips(what: &str, s: &SkipCounter) {
    for (reason, (n, places)) in &s.by_reason {
        eprintln!(
            "botscope: {what}: skipped {n} × {reason} (first at {})",
            places.join(", ")
        );
    }
}

fn load_names(p: &Path) -> anyhow::Result<Vec<String>> {
    let l = names::parse_name_list(&p.display().to_string(), &read(p)?);
    report_skips("names", &l.skipped);
    Ok(l.names)
}

fn load_classifier(overrides: Option<&Path>) -> anyhow::Result<Classifier> {
    let mut c = Classifier::builtin();
    if let Some(o) = overrides {
        c.add_overrides(&o.display().to_string(), &read(o)?)?;
    }
    Ok(c)
}

fn load_configs(p: Option<&Path>) -> anyhow::Result<BotConfigs> {
    match p {
        None => Ok(BotConfigs::default()),
        Some(p) => {
            let c = BotConfigs::parse(&p.display().to_string(), &read(p)?)?;
            report_skips("configs", &c.skipped);
            Ok(c)
        }
    }
}

fn run_classify(a: ClassifyArgs) -> anyhow::Result<ExitCode> {
    let names = load_names(&a.names)?;
    let c = load_classifier(a.overrides.as_deref())?;
    let rows: Vec<_> = names.iter().map(|n| c.classify(n)).collect();
    let t = Table5::from_rows(&rows);
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&rows)?)?;
    }
    if let Some(p) = &a.csv {
        std::fs::write(p, classify::to_csv(&rows))?;
    }
    if a.table_json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_probe(a: ProbeArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let names = load_names(&a.names)?;
    let configs = load_configs(a.configs.as_deref())?;
    let opts = ProbeOptions {
        resolver: a.resolver,
        timeout: Duration::from_millis(a.timeout_ms.max(1)),
        concurrency: a.concurrency.max(1),
        active: a.active,
        connect_timeout: Duration::from_millis(a.connect_timeout_ms.max(1)),
        default_ports: vec![a.default_port],
        ..Default::default()
    };
    let start = std::time::Instant::now();
    let results = probe::probe_blocking(&names, &configs, &opts)?;
    let secs = start.elapsed().as_secs_f64();
    if !a.no_store {
        Store::open(store)?.record(&results)?;
    }
    if let Some(p) = &a.jsonl {
        let mut s = String::new();
        for r in &results {
            s.push_str(&serde_json::to_string(r)?);
            s.push('\n');
        }
        std::fs::write(p, s)?;
    }
    let t = Table6::from_results(&results);
    if a.table_json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        print!("{}", t.render());
    }
    eprintln!(
        "botscope: probed {} names in {:.2} s ({:.0} names/s)",
        results.len(),
        secs,
        results.len() as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}

fn run_history(a: HistoryArgs, store: &Path) -> anyhow::Result<ExitCode> {
    let name = names::normalize(&a.name).map_err(|e| anyhow::anyhow!("{:?}: {e}", a.name))?;
    let rows = Store::open(store)?.history(&name)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("{name}: never probed");
    }
    for r in rows {
        let p = &r.probe;
        println!(
            "{}  {:<9} {}{}",
            p.ts.rfc3339(),
            format!("{:?}", p.status).to_lowercase(),
            if p.addrs.is_empty() {
                "-".to_string()
            } else {
                p.addr_set()
            },
            if r.repointed { "  (re-pointed)" } else { "" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_export(a: ExportArgs, store_dir: &Path) -> anyhow::Result<ExitCode> {
    let names = load_names(&a.names)?;
    let action = RpzAction::parse(&a.action).map_err(anyhow::Error::msg)?;
    let serial_mode = match a.serial.as_str() {
        "increment" => SerialMode::Increment,
        "date" => SerialMode::Date,
        other => bail!("--serial {other:?}: use increment or date"),
    };
    let origin = names::normalize(&a.origin).map_err(|e| anyhow::anyhow!("--origin: {e}"))?;
    let rpz = RpzOptions {
        origin,
        action,
        wildcard: a.wildcard,
        ttl: a.ttl,
        serial_mode,
    };
    let mut allow = AllowList::builtin();
    if let Some(p) = &a.allow_list {
        let l = names::parse_name_list(&p.display().to_string(), &read(p)?);
        report_skips("allow-list", &l.skipped);
        for z in l.names {
            allow.insert(&z).ok();
        }
    }
    let sel = export::select(&names, &allow, &rpz);
    for e in &sel.excluded {
        eprintln!("botscope: left out {}: {}", e.name, e.reason);
    }
    let configs = load_configs(a.configs.as_deref())?;
    let classifier = load_classifier(a.overrides.as_deref())?;
    let classes: BTreeMap<_, _> = sel
        .names
        .iter()
        .map(|n| (n.clone(), classifier.classify(n)))
        .collect();
    let store = Store::open(store_dir)?;
    // Endpoints: addresses from each name's latest probe × its C&C ports,
    // plus address literals named in the configs.
    let mut endpoints = vec![];
    let mut unprobed = 0usize;
    for n in &sel.names {
        let mut ports = configs.ports(n);
        if ports.is_empty() {
            ports.push(a.default_port);
        }
        match store.latest(n)? {
            Some(p) => {
                for ad in &p.addrs {
                    for &port in &ports {
                        endpoints.push(Endpoint {
                            addr: ad.addr,
                            port,
                        });
                    }
                }
            }
            None => unprobed += 1,
        }
    }
    for (host, ports) in &configs.ports_by_host {
        if let Ok(ip) = host.parse::<IpAddr>() {
            for &port in ports {
                endpoints.push(Endpoint { addr: ip, port });
            }
        }
    }
    endpoints.sort();
    endpoints.dedup();
    if unprobed > 0 {
        eprintln!(
            "botscope: {unprobed} names have no probe in the store: no firewall entries for them (run `botscope intel probe` first)"
        );
    }
    let now = probe::now();
    let prev = store.get("rpz.serial")?.and_then(|s| s.parse::<u32>().ok());
    let serial = export::next_serial(prev, rpz.serial_mode, export::yyyymmdd(now));
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let w = |file: &str, text: String| -> anyhow::Result<()> {
        let p = a.out.join(file);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))
    };
    w("rpz.zone", export::rpz_zone(&sel.names, &rpz, serial, now))?;
    w("cc.nft", export::nftables(&endpoints, now))?;
    let (v4, v6) = export::iptables(&endpoints, now);
    w("iptables.rules", v4)?;
    w("ip6tables.rules", v6)?;
    w("hosts", export::hosts(&sel.names, &rpz.action, now))?;
    w(
        "misp-event.json",
        serde_json::to_string_pretty(&export::misp_event(
            &a.info, &sel.names, &endpoints, &classes, now,
        ))?,
    )?;
    w(
        "stix-bundle.json",
        serde_json::to_string_pretty(&export::stix_bundle(&sel.names, &endpoints, &classes, now))?,
    )?;
    w(
        "excluded.json",
        serde_json::to_string_pretty(&sel.excluded)?,
    )?;
    if let Some(p) = &a.notify {
        let (out, skipped) = export::notify_passthrough(&p.display().to_string(), &read(p)?)?;
        report_skips("notify", &skipped);
        w("notify.csv", out)?;
    }
    store.set("rpz.serial", &serial.to_string())?;
    println!(
        "exported {} names ({} left out), {} endpoints, RPZ serial {} to {}",
        sel.names.len(),
        sel.excluded.len(),
        endpoints.len(),
        serial,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
