//! `botscope sensor`: run the honeypot sensor.

use anyhow::Context;
use botscope_sensor::config::SensorConfig;
use botscope_sensor::server::{SensorEvent, StoreSink};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Arguments of `botscope sensor`.
#[derive(clap::Args)]
#[command(
    about = "Run the low-interaction honeypot sensor",
    long_about = "Listens on every address and port of the configuration, emulates \
NetBIOS/SMB/DCE-RPC enough to draw exploit payloads, classifies the exploit vector \
(Table 7), downloads the bot binary from the attacking address only (Table 8) into \
the specimen store, and counts background traffic (Table 1). Runs until Ctrl-C or \
--duration; events go to the configured JSON Lines log.\n\n\
Example: botscope sensor --config sensor.toml --store /var/lib/botscope"
)]
pub struct Args {
    /// The sensor configuration (TOML; see docs/sensor.md).
    #[arg(long, short)]
    config: PathBuf,
    /// Specimen store folder (else the config's `store`, $BOTSCOPE_HOME, XDG).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
    /// Print each event as a JSON line on stdout too.
    #[arg(long)]
    follow: bool,
    /// Print the run summary (and Table 1) as JSON.
    #[arg(long)]
    json: bool,
    /// Write what the sensor sees on `capture_interface` to this pcap file
    /// (overrides the config's `pcap`).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
}

/// Runs `botscope sensor`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("reading {}", args.config.display()))?;
    let mut cfg =
        SensorConfig::parse(&text).with_context(|| format!("in {}", args.config.display()))?;
    if let Some(p) = args.pcap {
        cfg.pcap = Some(p);
    }
    let store_dir = botscope_core::store::store_dir(args.store.or_else(|| cfg.store.clone()));
    let store = botscope_specimen::Store::open(&store_dir)
        .with_context(|| format!("opening specimen store {}", store_dir.display()))?;
    let sink = Arc::new(StoreSink(Mutex::new(store)));
    let follow = args.follow;
    let duration = args.duration;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(botscope_sensor::daemon::run(
        cfg,
        sink,
        move |e: &SensorEvent| {
            if follow {
                if let Ok(line) = serde_json::to_string(e) {
                    println!("{line}");
                }
            }
        },
        async move {
            match duration {
                Some(s) => tokio::time::sleep(std::time::Duration::from_secs(s)).await,
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        },
    ))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "sensor: {} addresses, {} connections ({} turned away), {} sessions, {} datagrams, \
             {} binaries stored, {} downloads failed, {} refused",
            report.addresses,
            report.accepted,
            report.overloaded,
            report.sessions,
            report.datagrams,
            report.downloads_ok,
            report.downloads_failed,
            report.refused
        );
        if report.capture_dropped > 0 {
            println!(
                "warning: the kernel dropped {} captured packets; Table 1 and the pcap are short by them",
                report.capture_dropped
            );
        }
        if let Some(t) = &report.table1 {
            print!("{}", t.render());
        }
    }
    Ok(ExitCode::SUCCESS)
}
