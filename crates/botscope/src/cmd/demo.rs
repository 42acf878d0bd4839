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

/// `data/specimen/irc-bots.yar`, embedded so `botscope demo` works from any
/// folder with an installed binary.
const IRC_BOT_RULES: &str = include_str!("../../../../data/specimen/irc-bots.yar");

/// Arguments of `botscope demo`.
#[derive(clap::Args)]
#[command(
    about = "Generate a synthetic field and run the whole study on it",
    long_about = "Runs, in order: synth (a seeded field with ground truth), capture read \
(Zeek-style logs), analyze (Tables 7-11, Fig. 3, 5, 6-7), specimen add/scan/table2/\
table4/export (Tables 2 and 4, the bot FQDN watch list), dns rate (Table 3, the \
infected-customer list), intel classify (Table 5), report collect (the report's data \
files, one per table) and report (one self-contained HTML file). Prints where the report is.\n\nExample: botscope demo --out demo-out --seed 7"
)]
pub struct Args {
    /// Folder for the field, every step's output and the report.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// Seed of the synthetic field.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// Steps the demo prints.
const STEPS: usize = 9;

/// Why the demo's Table 6 is empty: probing needs a resolver that answers
/// for the C&C names, and the demo's are synthetic.
pub const TABLE6_WHY: &str = "the demo's C&C names are synthetic and no resolver on this machine answers for them, so the demo does not run `botscope intel probe`";

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

/// The demo's folders and the executable every step runs.
struct Demo {
    exe: PathBuf,
    out: PathBuf,
    field: PathBuf,
    /// The commands' own outputs; `report collect` turns them into `data/`.
    outputs: PathBuf,
    store: PathBuf,
}

/// The field's dates, read from its `truth.json`: Table 2 and the
/// specimen scans happen on the field's own days.
struct FieldDates {
    first_day: String,
    last_day: String,
    day_before: String,
    day_after: String,
    /// The last microsecond of the field, RFC 3339.
    end: String,
}

impl FieldDates {
    fn read(truth: &serde_json::Value) -> anyhow::Result<Self> {
        // The field runs from `start` to `end` (exclusive): its last day
        // is the day of the last microsecond before `end`.
        let time = |key: &str, back_us: i64| -> anyhow::Result<String> {
            let t = truth[key]
                .as_str()
                .and_then(botscope_core::Ts::parse_rfc3339)
                .with_context(|| format!("truth.json has no {key} time"))?;
            Ok(botscope_core::Ts(t.0 - back_us).to_string())
        };
        let day = |key: &str, back_us: i64| -> anyhow::Result<String> {
            let t = time(key, back_us)?;
            Ok(t.get(..10).unwrap_or(&t).to_string())
        };
        Ok(Self {
            first_day: day("start", 0)?,
            last_day: day("end", 1)?,
            day_before: day("start", 1)?,
            day_after: day("end", 0)?,
            end: time("end", 1)?,
        })
    }
}

/// Runs `botscope demo`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let out = args.out;
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("clearing {}", out.display()))?;
    }
    let demo = Demo {
        exe: std::env::current_exe().context("finding the botscope executable")?,
        field: out.join("field"),
        outputs: out.join("outputs"),
        store: out.join("store"),
        out,
    };
    std::fs::create_dir_all(&demo.outputs)?;
    let started = Instant::now();
    demo.synth(args.seed)?;
    let pcaps = files_in(&demo.field.join("pcap"), |n| n.ends_with(".pcap"))?;
    demo.capture(&pcaps)?;
    let truth: serde_json::Value = serde_json::from_slice(
        &std::fs::read(demo.field.join("truth.json")).context("reading truth.json")?,
    )?;
    demo.analyze(&truth, &pcaps)?;
    demo.specimens(&FieldDates::read(&truth)?)?;
    demo.dns_rate()?;
    demo.intel()?;
    demo.report()?;
    eprintln!(
        "[{STEPS}/{STEPS}] done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("report: {}", p(&demo.out.join("report.html")));
    println!("ground truth: {}", p(&demo.field.join("truth.json")));
    Ok(ExitCode::SUCCESS)
}

impl Demo {
    /// Runs step `n` as a subprocess, saving or showing its output.
    fn step(&self, n: usize, step: Step) -> anyhow::Result<()> {
        eprintln!("[{n}/{STEPS}] {}", step.title);
        let t = Instant::now();
        let mut cmd = Command::new(&self.exe);
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
    }

    /// A step within a step: its standard output is returned, not shown.
    fn quiet(&self, a: &[String]) -> anyhow::Result<Vec<u8>> {
        let o = Command::new(&self.exe)
            .args(a)
            .stdin(Stdio::null())
            .output()?;
        if !o.status.success() {
            bail!(
                "botscope {} failed: {}",
                a.join(" "),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        Ok(o.stdout)
    }

    fn synth(&self, seed: u64) -> anyhow::Result<()> {
        self.step(
            1,
            Step {
                title: "synth: generating the synthetic field",
                args: vec![
                    s("synth"),
                    s("--out"),
                    p(&self.field),
                    s("--seed"),
                    seed.to_string(),
                    s("--days"),
                    s("1"),
                ],
                stdout_to: None,
            },
        )
    }

    fn capture(&self, pcaps: &[String]) -> anyhow::Result<()> {
        let mut capture = vec![
            s("capture"),
            s("read"),
            s("--out"),
            p(&self.out.join("logs")),
            s("--format"),
            s("zeek"),
        ];
        capture.extend(pcaps.iter().cloned());
        self.step(
            2,
            Step {
                title: "capture read: Zeek-style logs",
                args: capture,
                stdout_to: None,
            },
        )
    }

    fn analyze(&self, truth: &serde_json::Value, pcaps: &[String]) -> anyhow::Result<()> {
        let mut analyze = vec![
            s("analyze"),
            s("--tz"),
            s("Asia/Tokyo"),
            s("--out"),
            p(&self.out.join("analysis")),
        ];
        // Tables 7 and 8 count attempts on the honeypot net only: the sensor
        // addresses (non-contiguous, as the study's were), one /32 each.
        for sensor in truth["sensors"].as_array().into_iter().flatten() {
            if let Some(ip) = sensor.as_str() {
                analyze.extend([s("--honeypot-net"), format!("{ip}/32")]);
            }
        }
        // Table 1 comes from the capture of the sensor interface.
        for bg in pcaps.iter().filter(|f| f.ends_with("-background.pcap")) {
            analyze.extend([s("--background"), bg.clone()]);
        }
        analyze.extend(pcaps.iter().cloned());
        self.step(
            3,
            Step {
                title: "analyze: Tables 1, 7-11, Fig. 3, 5, 6-7",
                args: analyze,
                stdout_to: Some(self.out.join("analysis.txt")),
            },
        )?;
        if !self.out.join("analysis/report.json").is_file() {
            bail!("analyze wrote no report.json");
        }
        Ok(())
    }

    fn specimen(&self, args: &[String]) -> anyhow::Result<Vec<u8>> {
        let mut a = vec![s("specimen"), s("--store"), p(&self.store)];
        a.extend(args.iter().cloned());
        self.quiet(&a)
    }

    /// Step 4: the sensor's catches and the earlier collection into the
    /// store, the signature scans, Tables 2 and 4 and the watch list.
    fn specimens(&self, dates: &FieldDates) -> anyhow::Result<()> {
        let field = &self.field;
        // The shipped rules are compiled in (an installed binary has no
        // source tree); the step reads them from the demo folder like a
        // user's file.
        let rules = self.out.join("signatures").join("irc-bots.yar");
        std::fs::create_dir_all(self.out.join("signatures"))?;
        std::fs::write(&rules, IRC_BOT_RULES)
            .with_context(|| format!("writing {}", rules.display()))?;
        // The sensor's catches: every complete copy the capture analysis
        // saw is a sighting, on the copy's day, of the specimen it carried
        // (the field's specimen files stand in for the sensor's downloads).
        let sightings = copy_sightings(
            &self.out.join("analysis/report.json"),
            &field.join("specimens"),
        )?;
        eprintln!("[4/{STEPS}] specimen: store, signature scan, static extraction");
        let specimen_started = Instant::now();
        for (seen, files) in &sightings {
            let mut a = vec![
                s("add"),
                s("--source"),
                s("sensor"),
                s("--seen"),
                seen.clone(),
            ];
            a.extend(files.iter().cloned());
            self.specimen(&a)?;
        }
        // The rest of the field's specimens (updates fetched by the bots,
        // variants no sensor caught) were in the collection before the
        // field began: they count in Table 4, not in Table 2's days.
        let caught: std::collections::BTreeSet<&String> = sightings.values().flatten().collect();
        let earlier = files_in(&field.join("specimens"), |n| n.ends_with(".bin"))?
            .into_iter()
            .filter(|f| !caught.contains(f))
            .collect::<Vec<_>>();
        if !earlier.is_empty() {
            let mut a = vec![
                s("add"),
                s("--source"),
                s("manual"),
                s("--seen"),
                dates.day_before.clone(),
            ];
            a.extend(earlier);
            self.specimen(&a)?;
        }
        // Table 2's "known" is known to antivirus while the field ran: the
        // vendor's hash list current at its start, scanned then. Our own
        // YARA rules come after the field (`specimen ttk` shows how much
        // later each unknown specimen became known).
        let first_day = &dates.first_day;
        for (args, to) in [
            (
                vec![
                    s("set"),
                    s("add"),
                    s("--name"),
                    s("antivirus"),
                    s("--version"),
                    s("1"),
                    s("--kind"),
                    s("hashes"),
                    s("--released"),
                    first_day.clone(),
                    p(&field.join(botscope_synth::scenario::AV_SIGNATURES)),
                ],
                None,
            ),
            (vec![s("scan"), s("--at"), first_day.clone()], None),
            (
                vec![
                    s("set"),
                    s("add"),
                    s("--name"),
                    s("irc-bots"),
                    s("--version"),
                    s("1"),
                    s("--released"),
                    dates.day_after.clone(),
                    p(&rules),
                ],
                None,
            ),
            (vec![s("scan"), s("--at"), dates.day_after.clone()], None),
            (
                vec![
                    s("--json"),
                    s("table2"),
                    s("--from"),
                    first_day.clone(),
                    s("--to"),
                    dates.last_day.clone(),
                    s("--as-of"),
                    dates.end.clone(),
                ],
                Some(self.outputs.join("specimen-table2.json")),
            ),
            (
                vec![s("--json"), s("table4")],
                Some(self.outputs.join("specimen-table4.json")),
            ),
            (
                vec![
                    s("export"),
                    s("--bot-fqdns"),
                    p(&self.out.join("watchlist.txt")),
                ],
                None,
            ),
        ] {
            let stdout = self.specimen(&args)?;
            if let Some(to) = to {
                std::fs::write(to, stdout)?;
            }
        }
        eprintln!(
            "      done in {:.1} s",
            specimen_started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// Step 5: Table 3 over the whole field and by the hour.
    fn dns_rate(&self) -> anyhow::Result<()> {
        // The same queries are written in several formats; one is enough.
        let bind_logs = files_in(&self.field.join("resolver"), |n| n == "query.log")?;
        let rate = |extra: &[&str]| {
            let mut a = vec![
                s("dns"),
                s("rate"),
                s("--watchlist"),
                p(&self.out.join("watchlist.txt")),
            ];
            a.extend(extra.iter().map(|x| s(x)));
            a.extend(bind_logs.iter().cloned());
            a
        };
        // The same logs by the hour: the infection-rate series the report
        // charts and fits equation 1 to.
        let hourly = rate(&["--window", "1h", "--json"]);
        std::fs::write(
            self.outputs.join("dns-rate-hourly.json"),
            self.quiet(&hourly)?,
        )?;
        let dns_out = p(&self.out.join("dns"));
        self.step(
            5,
            Step {
                title: "dns rate: deemed infection rate (Table 3)",
                args: rate(&["--out", &dns_out, "--json"]),
                stdout_to: Some(self.outputs.join("dns-rate.json")),
            },
        )
    }

    fn intel(&self) -> anyhow::Result<()> {
        self.step(
            6,
            Step {
                title: "intel classify: C&C names by provider (Table 5)",
                args: vec![
                    s("intel"),
                    s("classify"),
                    p(&self.out.join("watchlist.txt")),
                    s("--table-json"),
                    s("--json"),
                    p(&self.outputs.join("intel-names.json")),
                ],
                stdout_to: Some(self.outputs.join("intel-table5.json")),
            },
        )
    }

    /// Steps 7 and 8: the report's data files, then the HTML report.
    fn report(&self) -> anyhow::Result<()> {
        let (data, outputs) = (self.out.join("data"), &self.outputs);
        self.step(
            7,
            Step {
                title: "report collect: one data file per table and figure",
                args: vec![
                    s("report"),
                    s("collect"),
                    s("--data"),
                    p(&data),
                    s("--analysis"),
                    p(&self.out.join("analysis/report.json")),
                    s("--table2"),
                    p(&outputs.join("specimen-table2.json")),
                    s("--table4"),
                    p(&outputs.join("specimen-table4.json")),
                    s("--dns-rate"),
                    p(&outputs.join("dns-rate.json")),
                    s("--rate-series"),
                    p(&outputs.join("dns-rate-hourly.json")),
                    s("--table5"),
                    p(&outputs.join("intel-table5.json")),
                    s("--table5-names"),
                    p(&outputs.join("intel-names.json")),
                    s("--probes"),
                    p(&self.store),
                    s("--watchlist"),
                    p(&self.out.join("watchlist.txt")),
                    s("--table6-unavailable"),
                    s(TABLE6_WHY),
                ],
                stdout_to: None,
            },
        )?;
        self.step(
            8,
            Step {
                title: "report: the field report",
                args: vec![
                    s("report"),
                    s("--data"),
                    p(&data),
                    s("--out"),
                    p(&self.out.join("report.html")),
                ],
                stdout_to: None,
            },
        )
    }
}

/// Specimen files to add per day: one entry per successful copy in the
/// analysis report whose SHA-256 names a file of `specimens`.
fn copy_sightings(
    report: &Path,
    specimens: &Path,
) -> anyhow::Result<std::collections::BTreeMap<String, Vec<String>>> {
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(report).with_context(|| format!("reading {}", report.display()))?,
    )?;
    let mut by_day: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for c in report["copies"].as_array().into_iter().flatten() {
        let (Some(true), Some(sha), Some(ts)) = (
            c["success"].as_bool(),
            c["sha256"].as_str(),
            c["ts"].as_str(),
        ) else {
            continue;
        };
        let file = specimens.join(format!("{sha}.bin"));
        if file.is_file() {
            by_day
                .entry(ts.get(..10).unwrap_or(ts).to_string())
                .or_default()
                .push(p(&file));
        }
    }
    Ok(by_day)
}
