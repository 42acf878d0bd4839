//! `botscope demo`: generate a synthetic field and run the whole study on
//! it — captures, behaviour tables, specimens, infection rate, name
//! intelligence, models — ending in one HTML report.
//!
//! Each step runs this same executable as a subprocess with the documented
//! command line, so the demo is exactly what a user would type, and every
//! step's output lands in the demo folder for inspection.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Arguments of `botscope demo`.
#[derive(clap::Args)]
#[command(
    about = "Generate a synthetic field and run the whole study on it",
    long_about = "Runs, in order: synth (a seeded field with ground truth), capture read \
(Zeek-style logs), analyze (Tables 7-11, Fig. 3, 5, 6-7), specimen add/scan/table2/\
table4/export (Tables 2 and 4, the bot FQDN watch list), dns rate (Table 3, the \
infected-customer list), intel classify (Table 5), and report (one self-contained \
HTML file). Prints where the report is.\n\nExample: botscope demo --out demo-out --seed 7"
)]
pub struct Args {
    /// Folder for the field, every step's output and the report.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// Seed of the synthetic field.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

struct Step<'a> {
    title: &'a str,
    args: Vec<String>,
    /// Where the step's standard output is saved (else it is shown).
    stdout_to: Option<PathBuf>,
}

fn s(v: &str) -> String {
    v.to_string()
}

fn p(v: &Path) -> String {
    v.display().to_string()
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> anyhow::Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| f.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .map(|f| p(&f))
        .collect();
    out.sort();
    Ok(out)
}

/// Runs `botscope demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("finding the botscope executable")?;
    let out = args.out;
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }
    let (field, data, store) = (out.join("field"), out.join("data"), out.join("store"));
    std::fs::create_dir_all(&data)?;
    let started = Instant::now();
    let run_step = |n: usize, step: Step| -> anyhow::Result<()> {
        eprintln!("[{n}/8] {}", step.title);
        let t = Instant::now();
        let mut cmd = Command::new(&exe);
        cmd.args(&step.args).stdin(Stdio::null());
        let output = match &step.stdout_to {
            Some(path) => {
                let o = cmd.stderr(Stdio::inherit()).output()?;
                std::fs::write(path, &o.stdout)?;
                o.status
            }
            None => cmd.status()?,
        };
        if !output.success() {
            bail!(
                "step {n} ({}) failed: botscope {}",
                step.title,
                step.args.join(" ")
            );
        }
        eprintln!("      done in {:.1} s", t.elapsed().as_secs_f64());
        Ok(())
    };

    run_step(
        1,
        Step {
            title: "synth: generating the synthetic field",
            args: vec![
                s("synth"),
                s("--out"),
                p(&field),
                s("--seed"),
                args.seed.to_string(),
                s("--days"),
                s("1"),
            ],
            stdout_to: None,
        },
    )?;
    let pcaps = files_in(&field.join("pcap"), |n| n.ends_with(".pcap"))?;
    let mut capture = vec![
        s("capture"),
        s("read"),
        s("--out"),
        p(&out.join("logs")),
        s("--format"),
        s("zeek"),
    ];
    capture.extend(pcaps.iter().cloned());
    run_step(
        2,
        Step {
            title: "capture read: Zeek-style logs",
            args: capture,
            stdout_to: None,
        },
    )?;
    // Sightings, the signature release and the scan happen on the field's
    // own dates, so Table 2 covers the scenario's days.
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(field.join("truth.json")).context("reading truth.json")?,
    )?;
    let day = |key: &str| -> anyhow::Result<String> {
        let t = truth[key]
            .as_str()
            .with_context(|| format!("truth.json has no {key}"))?;
        Ok(t.get(..10).unwrap_or(t).to_string())
    };
    let (first_day, last_day) = (day("start")?, day("end")?);
    let mut analyze = vec![
        s("analyze"),
        s("--tz"),
        s("Asia/Tokyo"),
        s("--out"),
        p(&out.join("analysis")),
    ];
    // Tables 7 and 8 count attempts on the honeypot net only: the sensor
    // addresses (non-contiguous, as the study's were), one /32 each.
    for sensor in truth["sensors"].as_array().into_iter().flatten() {
        if let Some(ip) = sensor.as_str() {
            analyze.extend([s("--honeypot-net"), format!("{ip}/32")]);
        }
    }
    analyze.extend(pcaps.iter().cloned());
    run_step(
        3,
        Step {
            title: "analyze: Tables 7-11, Fig. 3, 5, 6-7",
            args: analyze,
            stdout_to: None,
        },
    )?;
    std::fs::copy(out.join("analysis/report.json"), data.join("analysis.json"))
        .context("analyze wrote no report.json")?;

    let st = p(&store);
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/specimen/irc-bots.yar");
    run_step(
        4,
        Step {
            title: "specimen: store, signature scan, static extraction",
            args: vec![
                s("specimen"),
                s("--store"),
                st.clone(),
                s("add"),
                s("--source"),
                s("sensor"),
                s("--seen"),
                first_day.clone(),
                p(&field.join("specimens")),
            ],
            stdout_to: None,
        },
    )?;
    for (args, to) in [
        (
            vec![
                s("set"),
                s("add"),
                s("--name"),
                s("irc-bots"),
                s("--version"),
                s("1"),
                s("--released"),
                first_day.clone(),
                p(&rules),
            ],
            None,
        ),
        (vec![s("scan"), s("--at"), last_day.clone()], None),
        (
            vec![
                s("--json"),
                s("table2"),
                s("--from"),
                first_day.clone(),
                s("--to"),
                last_day.clone(),
            ],
            Some(data.join("table2.json")),
        ),
        (
            vec![s("--json"), s("table4")],
            Some(data.join("table4.json")),
        ),
        (
            vec![s("export"), s("--bot-fqdns"), p(&out.join("watchlist.txt"))],
            None,
        ),
    ] {
        let mut a = vec![s("specimen"), s("--store"), st.clone()];
        a.extend(args);
        let mut cmd = Command::new(&exe);
        cmd.args(&a).stdin(Stdio::null());
        let o = cmd.output()?;
        if !o.status.success() {
            bail!(
                "botscope {} failed: {}",
                a.join(" "),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        if let Some(to) = to {
            std::fs::write(to, &o.stdout)?;
        }
    }

    // The same queries are written in four formats; one is enough.
    let bind_logs = files_in(&field.join("resolver"), |n| n == "query.log")?;
    let mut dns = vec![
        s("dns"),
        s("rate"),
        s("--watchlist"),
        p(&out.join("watchlist.txt")),
        s("--out"),
        p(&out.join("dns")),
        s("--json"),
    ];
    dns.extend(bind_logs);
    run_step(
        5,
        Step {
            title: "dns rate: deemed infection rate (Table 3)",
            args: dns,
            stdout_to: Some(data.join("table3.json")),
        },
    )?;
    run_step(
        6,
        Step {
            title: "intel classify: C&C names by provider (Table 5)",
            args: vec![
                s("intel"),
                s("classify"),
                p(&out.join("watchlist.txt")),
                s("--table-json"),
            ],
            stdout_to: Some(data.join("table5.json")),
        },
    )?;
    run_step(
        7,
        Step {
            title: "report: the field report",
            args: vec![
                s("report"),
                s("--data"),
                p(&data),
                s("--out"),
                p(&out.join("report.html")),
            ],
            stdout_to: None,
        },
    )?;
    eprintln!("[8/8] done in {:.1} s", started.elapsed().as_secs_f64());
    println!("report: {}", p(&out.join("report.html")));
    println!("ground truth: {}", p(&field.join("truth.json")));
    Ok(ExitCode::SUCCESS)
}
