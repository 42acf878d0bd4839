//! `botscope intel`: classify C&C names by provider (Table 5), probe their
//! DNS state (Table 6) with history, and export countermeasures.

use anyhow::{bail, Context};
use botscope_core::error::SkipCounter;
use botscope_intel::classify::{self, Classifier, Table5};
use botscope_intel::configs::BotConfigs;
use botscope_intel::export::{self, RpzAction, RpzOptions, SerialMode};
use botscope_intel::names::{self, AllowList};
use botscope_intel::probe::{self, ProbeOptions, Table6};
use botscope_intel::store::Store;
use botscope_intel::targets::{self, NetList, SkipSummary, TargetPolicy};
use std::collections::BTreeMap;
use std::net::SocketAddr;
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
    /// Non-global addresses (RFC 1918, loopback, link-local, ...) are never
    /// connected to unless `--allow-private-targets`.
    #[arg(long)]
    active: bool,
    /// Lab use only: let `--active` connect to non-global addresses
    /// (e.g. a test C&C on 127.0.0.1). A C&C zone is written by the herder.
    #[arg(long)]
    allow_private_targets: bool,
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
    /// Never-block list: addresses/CIDRs (one a line, `#` comments) never
    /// put in nftables/iptables/MISP/STIX, whatever a C&C name resolves to.
    /// Default: `never-block.txt` in the store folder, when it exists.
    #[arg(long, value_name = "FILE")]
    never_block: Option<PathBuf>,
    /// Lab use only: let non-global addresses (RFC 1918, loopback, ...)
    /// into the firewall exports. The never-block list still applies.
    #[arg(long)]
    allow_private_targets: bool,
    /// Print the export summary (counts, left-out addresses) as JSON.
    #[arg(long)]
    json: bool,
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
        allow_private_targets: a.allow_private_targets,
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
    // Names whose addresses are not global: never connected to (without
    // --allow-private-targets) and never exported.
    let not_connected = SkipSummary::new(probe::skipped_connects(&results));
    let non_global = SkipSummary::new(probe::non_global_addrs(&results));
    if let Some(w) = not_connected.warning("not connected to") {
        eprintln!("{w}");
    } else if let Some(w) = non_global.warning("never exported") {
        eprintln!("{w}");
    }
    if a.table_json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            table6: &'a Table6,
            not_connected: &'a SkipSummary,
            non_global: &'a SkipSummary,
        }
        let out = Out {
            table6: &t,
            not_connected: &not_connected,
            non_global: &non_global,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
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
    // The never-block list: --never-block, else STORE/never-block.txt when present.
    let nb_path = match &a.never_block {
        Some(p) => Some(p.clone()),
        None => Some(targets::default_never_block(store_dir)).filter(|p| p.is_file()),
    };
    let mut never_block = NetList::default();
    if let Some(p) = &nb_path {
        let (l, skipped) = NetList::parse(&p.display().to_string(), &read(p)?);
        report_skips("never-block", &skipped);
        never_block = l;
    }
    let policy = TargetPolicy {
        allow_private: a.allow_private_targets,
        never_block,
    };
    // Endpoints: addresses from each name's latest probe × its C&C ports,
    // plus address literals named in the configs; non-global and
    // never-block addresses left out.
    let mut latest = BTreeMap::new();
    for n in &sel.names {
        if let Some(p) = store.latest(n)? {
            latest.insert(n.clone(), p);
        }
    }
    let fw = export::firewall_endpoints(&sel.names, &latest, &configs, a.default_port, &policy);
    let endpoints = &fw.endpoints;
    let unprobed = fw.unprobed.len();
    if unprobed > 0 {
        eprintln!(
            "botscope: {unprobed} names have no probe in the store: no firewall entries for them (run `botscope intel probe` first)"
        );
    }
    let left_out = SkipSummary::new(fw.skipped.clone());
    if let Some(w) = left_out.warning("not exported") {
        eprintln!("{w}");
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
    w("cc.nft", export::nftables(endpoints, now))?;
    let (v4, v6) = export::iptables(endpoints, now);
    w("iptables.rules", v4)?;
    w("ip6tables.rules", v6)?;
    w("hosts", export::hosts(&sel.names, &rpz.action, now))?;
    w(
        "misp-event.json",
        serde_json::to_string_pretty(&export::misp_event(
            &a.info, &sel.names, endpoints, &classes, now,
        ))?,
    )?;
    w(
        "stix-bundle.json",
        serde_json::to_string_pretty(&export::stix_bundle(&sel.names, endpoints, &classes, now))?,
    )?;
    w(
        "excluded.json",
        serde_json::to_string_pretty(&sel.excluded)?,
    )?;
    w(
        "excluded-addresses.json",
        serde_json::to_string_pretty(&left_out)?,
    )?;
    if let Some(p) = &a.notify {
        let (out, skipped) = export::notify_passthrough(&p.display().to_string(), &read(p)?)?;
        report_skips("notify", &skipped);
        w("notify.csv", out)?;
    }
    store.set("rpz.serial", &serial.to_string())?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "names": sel.names.len(),
                "names_left_out": sel.excluded.len(),
                "endpoints": endpoints.len(),
                "rpz_serial": serial,
                "out": a.out.display().to_string(),
                "never_block": nb_path.as_ref().map(|p| p.display().to_string()),
                "unprobed": fw.unprobed,
                "addresses_left_out": left_out,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
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
