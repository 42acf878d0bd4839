//! `botscope specimen`: the specimen store (add, scan, show, export) and
//! the study's Tables 2 and 4.

use anyhow::{bail, Context};
use botscope_specimen::ingest::{self, AddReport, Limits};
use botscope_specimen::sigs::{self, SetKind};
use botscope_specimen::store::{AddOptions, Source, Store};
use botscope_specimen::{parse_time, tables};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `botscope specimen`.
#[derive(clap::Args)]
pub struct Args {
    /// Store folder (else $BOTSCOPE_HOME, else the XDG data folder).
    #[arg(long, global = true)]
    store: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Add files, folders and zip archives (password "infected").
    Add {
        /// Files, folders or zip archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Where they came from: sensor, capture or manual.
        #[arg(long, default_value = "manual")]
        source: String,
        /// When they were seen (epoch seconds, YYYY-MM-DD or RFC 3339); default now.
        #[arg(long)]
        seen: Option<String>,
        /// Password for encrypted zip entries.
        #[arg(long, default_value = "infected")]
        password: String,
        /// Largest file or archive entry, MiB.
        #[arg(long, default_value_t = 64)]
        max_entry_mib: u64,
        /// Largest total expansion of one archive, MiB.
        #[arg(long, default_value_t = 512)]
        max_archive_mib: u64,
        /// Worker threads (default: one a core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Signature sets.
    Set {
        #[command(subcommand)]
        cmd: SetCmd,
    },
    /// Scan every specimen with the newest version of each set and record it.
    Scan {
        /// Only this set.
        #[arg(long)]
        set: Option<String>,
        /// Record the scan at this time (default now).
        #[arg(long)]
        at: Option<String>,
        /// Worker threads (default: one a core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Show one specimen's record and analysis (or list all).
    Show {
        /// MD5, SHA-1 or SHA-256 (or a prefix of at least 6 digits); none lists all.
        hash: Option<String>,
    },
    /// Export the bot FQDN watch list (one FQDN a line) for `botscope dns`:
    /// tier 1, the servers of extracted configs; tier 2, C&C-like names
    /// (dynamic-DNS and hosting zones) of specimens without a config. Each
    /// name carries its provenance as a `#` comment.
    Export {
        /// Output file (`-` for standard output).
        #[arg(long)]
        bot_fqdns: PathBuf,
        /// Top-N specimens by sightings.
        #[arg(long, default_value_t = 100)]
        top: usize,
        /// Tier 1 only: leave out the C&C-like indicators of specimens
        /// without a config.
        #[arg(long)]
        config_only: bool,
    },
    /// Table 2: detections and kinds, known and unknown, for a period.
    Table2 {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day (inclusive), YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Count as known what scans up to this time detected (default: all scans).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Table 4: bots carrying more than one C&C FQDN among the top-N.
    Table4 {
        /// Top-N specimens by sightings.
        #[arg(long, default_value_t = 100)]
        top: usize,
    },
    /// Time from first sighting to first detection, per specimen.
    Ttk {
        /// As of this time (default: all scans).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Families: variants grouped by imphash and ssdeep similarity.
    Families,
    /// Write synthetic specimens (benign PE32 files with a bot config) for
    /// tests and benchmarks, with a ground-truth JSON Lines file.
    Gen {
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Number of specimens.
        #[arg(long, default_value_t = 100)]
        count: u32,
        /// Overlay bytes appended to each, KiB (pads the collection's size).
        #[arg(long, default_value_t = 0)]
        overlay_kib: usize,
        /// Ground-truth JSON Lines file (default: OUT.truth.jsonl beside the folder).
        #[arg(long)]
        truth: Option<PathBuf>,
    },
    /// ssdeep digests of files (folders recursively), printed like `ssdeep`;
    /// no store needed.
    Fuzzy {
        /// Also print every pair of files that matches (score > 0), like `ssdeep -d`.
        #[arg(long)]
        compare: bool,
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

#[derive(clap::Subcommand)]
enum SetCmd {
    /// Add a version of a signature set.
    Add {
        /// Set name.
        #[arg(long)]
        name: String,
        /// Version label.
        #[arg(long)]
        version: String,
        /// yara or hashes (default: hashes for .hdb/.hsb/.txt/.md5/.sha256, else yara).
        #[arg(long)]
        kind: Option<String>,
        /// Release time (default now).
        #[arg(long)]
        released: Option<String>,
        /// Rule or hash-list files, concatenated.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List set versions.
    List,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn time_arg(s: &Option<String>, default: i64) -> anyhow::Result<i64> {
    match s {
        None => Ok(default),
        Some(s) => parse_time(s)
            .with_context(|| format!("bad time {s:?}: use epoch seconds, YYYY-MM-DD or RFC 3339")),
    }
}

fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(v)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// A byte-counting spinner on standard error (hidden when it is not a
/// terminal, so scripts and logs stay clean).
fn progress_spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg}, {bytes} ({binary_bytes_per_sec}) {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Runs `botscope specimen`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Cmd::Fuzzy { compare, paths } = &args.cmd {
        return fuzzy_files(paths, *compare, args.json);
    }
    if let Cmd::Gen {
        out,
        count,
        overlay_kib,
        truth,
    } = &args.cmd
    {
        return gen_specimens(out, *count, *overlay_kib, truth.as_deref(), args.json);
    }
    let root = botscope_core::store::store_dir(args.store);
    let mut store =
        Store::open(&root).with_context(|| format!("opening store {}", root.display()))?;
    match args.cmd {
        Cmd::Add {
            paths,
            source,
            seen,
            password,
            max_entry_mib,
            max_archive_mib,
            threads,
        } => add(
            &mut store,
            &paths,
            AddArgs {
                source,
                seen,
                password,
                max_entry_mib,
                max_archive_mib,
                threads,
            },
            args.json,
        )?,
        Cmd::Set {
            cmd:
                SetCmd::Add {
                    name,
                    version,
                    kind,
                    released,
                    files,
                },
        } => set_add(
            &store,
            &name,
            &version,
            kind.as_deref(),
            &released,
            &files,
            args.json,
        )?,
        Cmd::Set { cmd: SetCmd::List } => {
            let rows = sigs::list_sets(&store)?;
            if args.json {
                print_json(&rows)?;
            } else {
                for v in rows {
                    println!(
                        "{}\t{}\t{}\t{}",
                        v.name,
                        v.version,
                        v.kind.as_str(),
                        botscope_core::Ts(v.released * 1_000_000).rfc3339()
                    );
                }
            }
        }
        Cmd::Scan { set, at, threads } => {
            let s =
                sigs::scan_all_threads(&mut store, set.as_deref(), time_arg(&at, now())?, threads)?;
            if args.json {
                print_json(&s)?;
            } else {
                println!(
                    "scanned {} with {}: {} detected, {} unreadable",
                    s.scanned,
                    s.sets.join(", "),
                    s.detected,
                    s.unreadable
                );
            }
        }
        Cmd::Show { hash } => show(&store, hash, args.json)?,
        Cmd::Export {
            bot_fqdns,
            top,
            config_only,
        } => export(&store, &bot_fqdns, top, config_only, args.json)?,
        Cmd::Table2 { from, to, as_of } => table2(&store, &from, &to, &as_of, args.json)?,
        Cmd::Table4 { top } => table4(&store, top, args.json)?,
        Cmd::Ttk { as_of } => {
            let t = tables::time_to_known(&store, time_arg(&as_of, i64::MAX)?)?;
            if args.json {
                print_json(&t)?;
            } else {
                for r in t {
                    let s = r.seconds.map_or("unknown".to_string(), |s| {
                        format!("{:.1} days", s as f64 / 86_400.0)
                    });
                    println!("{}\t{}\t{}", r.sha256, s, r.by.unwrap_or_default());
                }
            }
        }
        Cmd::Gen { .. } | Cmd::Fuzzy { .. } => {} // handled before the store is opened
        Cmd::Families => {
            let f = tables::families(&store)?;
            if args.json {
                print_json(&f)?;
            } else {
                for fam in f {
                    println!(
                        "family {} ({} members, imphash {})",
                        fam.id,
                        fam.members.len(),
                        fam.imphash.unwrap_or_default()
                    );
                    for m in fam.members {
                        println!("  {m}");
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `botscope specimen show`: every specimen, or one with its analysis.
fn show(store: &Store, hash: Option<String>, json: bool) -> anyhow::Result<()> {
    match hash {
        None => {
            let rows = store.all()?;
            if json {
                print_json(&rows)?;
            } else {
                for r in rows {
                    println!(
                        "{}\t{}\t{}\t{}",
                        r.hashes.sha256, r.file_type, r.size, r.sightings
                    );
                }
            }
        }
        Some(h) => {
            let Some(sha) = store.resolve(&h)? else {
                bail!("no specimen matches {h}")
            };
            let row = store.get(&sha)?;
            let analysis = store.analysis(&sha)?;
            let known = sigs::known_since(store, &sha, i64::MAX)?;
            let v = serde_json::json!({ "record": row, "known_since": known.map(|k| serde_json::json!({"time": k.0, "set": k.1, "version": k.2, "names": k.3})), "analysis": analysis });
            print_json(&v)?;
        }
    }
    Ok(())
}

/// `botscope specimen gen`: synthetic specimens and their truth file.
fn gen_specimens(
    out: &Path,
    count: u32,
    overlay_kib: usize,
    truth: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let truth_path = truth
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out.with_extension("truth.jsonl"));
    let mut truth = std::io::BufWriter::new(std::fs::File::create(&truth_path)?);
    let mut total = 0u64;
    for i in 0..count {
        let (spec, layout) = botscope_synth::specimen::collection::synthetic_item(i);
        let mut bytes = botscope_synth::specimen::build_specimen_with(&spec, layout);
        botscope_synth::specimen::append_overlay(&mut bytes, overlay_kib << 10, u64::from(i));
        let name = format!("s{i:06}.bin");
        std::fs::write(out.join(&name), &bytes)?;
        total += bytes.len() as u64;
        // The truth: what was written and what extraction must recover.
        let expected = serde_json::json!({
            "config": botscope_synth::specimen::expected_config(&spec, layout),
            "encoding": botscope_synth::specimen::expected_encoding(&spec, layout),
            "layout": botscope_synth::specimen::effective_layout(&spec, layout),
        });
        writeln!(
            truth,
            "{}",
            serde_json::json!({"file": name, "spec": spec, "layout": layout, "expected": expected})
        )?;
    }
    truth.flush()?;
    if !json {
        println!(
            "{count} specimens, {total} bytes, truth in {}",
            truth_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `botscope specimen add`'s options.
struct AddArgs {
    source: String,
    seen: Option<String>,
    password: String,
    max_entry_mib: u64,
    max_archive_mib: u64,
    threads: usize,
}

/// `botscope specimen add`: files, folders and archives into the store.
fn add(store: &mut Store, paths: &[PathBuf], a: AddArgs, json: bool) -> anyhow::Result<()> {
    let AddArgs {
        source,
        seen,
        password,
        max_entry_mib,
        max_archive_mib,
        threads,
    } = a;
    let Some(source) = Source::parse(&source) else {
        bail!("--source must be sensor, capture or manual")
    };
    let seen = time_arg(&seen, now())?;
    let limits = Limits {
        max_entry: max_entry_mib << 20,
        max_archive_total: max_archive_mib << 20,
        password: password.into_bytes(),
        ..Limits::default()
    };
    let mut report = AddReport::default();
    let bar = progress_spinner();
    let progress = |n: u64, bytes: u64| {
        bar.set_position(bytes);
        bar.set_message(format!("{n} specimens"));
    };
    let cfg = ingest::AddConfig {
        seen,
        source,
        limits: &limits,
        opts: &AddOptions::default(),
        threads,
        progress: Some(&progress),
    };
    let added = ingest::add_paths(store, paths, &cfg, &mut report);
    bar.finish_and_clear();
    added?;
    if json {
        print_json(&report)?;
    } else {
        println!(
            "{} new, {} seen again, {} rejected",
            report.new,
            report.seen_again,
            report.rejected.total()
        );
        for (reason, (n, places)) in &report.rejected.by_reason {
            println!("  rejected {n} × {reason} (first: {})", places.join(", "));
        }
    }
    Ok(())
}

/// `botscope specimen set add`: a signature set version from files.
fn set_add(
    store: &Store,
    name: &str,
    version: &str,
    kind: Option<&str>,
    released: &Option<String>,
    files: &[PathBuf],
    json: bool,
) -> anyhow::Result<()> {
    let mut content = String::new();
    for f in files {
        content.push_str(
            &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        );
        content.push('\n');
    }
    let kind = match kind {
        Some("yara") => SetKind::Yara,
        Some("hashes") => SetKind::Hashes,
        Some(k) => bail!("--kind must be yara or hashes, not {k}"),
        None => {
            let ext = files[0].extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "hdb" | "hsb" | "txt" | "md5" | "sha256" | "sha1") {
                SetKind::Hashes
            } else {
                SetKind::Yara
            }
        }
    };
    sigs::add_set(
        store,
        name,
        version,
        kind,
        time_arg(released, now())?,
        &content,
    )?;
    if !json {
        println!("set {name} version {version} ({}) added", kind.as_str());
    }
    Ok(())
}

/// `botscope specimen export`: the bot FQDN watch list.
fn export(
    store: &Store,
    bot_fqdns: &Path,
    top: usize,
    config_only: bool,
    json: bool,
) -> anyhow::Result<()> {
    let mut list = tables::watch_list(store, top)?;
    if config_only {
        list.retain(|e| e.tier == 1);
    }
    let text = tables::watch_list_text(&list, top);
    let tier = |t: u8| list.iter().filter(|e| e.tier == t).count();
    if bot_fqdns.as_os_str() == "-" {
        print!("{text}");
    } else {
        std::fs::write(bot_fqdns, text)
            .with_context(|| format!("writing {}", bot_fqdns.display()))?;
        if json {
            print_json(&serde_json::json!({
                "file": bot_fqdns,
                "fqdns": list.len(),
                "tier1": tier(1),
                "tier2": tier(2),
                "entries": list,
            }))?;
        } else {
            println!(
                "{} FQDNs written to {} (tier 1, config servers: {}; tier 2, C&C-like indicators: {})",
                list.len(),
                bot_fqdns.display(),
                tier(1),
                tier(2)
            );
        }
    }
    Ok(())
}

/// `botscope specimen table2`.
fn table2(
    store: &Store,
    from: &str,
    to: &str,
    as_of: &Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let t = tables::table2(store, from, to, time_arg(as_of, i64::MAX)?)?;
    if json {
        print_json(&t)?;
    } else {
        println!("Table 2: specimens {}..{} ({} days)", t.from, t.to, t.days);
        println!(
            "{:<8} {:>12} {:>8} {:>14} {:>10}",
            "", "detections", "kinds", "detections/day", "kinds/day"
        );
        for (n, c) in [
            ("total", &t.total),
            ("known", &t.known),
            ("unknown", &t.unknown),
        ] {
            println!(
                "{:<8} {:>12} {:>8} {:>14.1} {:>10.1}",
                n, c.detections, c.kinds, c.detections_per_day, c.kinds_per_day
            );
        }
    }
    Ok(())
}

/// `botscope specimen table4`.
fn table4(store: &Store, top: usize, json: bool) -> anyhow::Result<()> {
    let t = tables::table4(store, top)?;
    if json {
        print_json(&t)?;
    } else {
        println!(
            "Table 4: top {} specimens by sightings: {} bots with a config",
            t.top, t.bots
        );
        println!("  one server FQDN        {}", t.one_fqdn);
        println!(
            "  more than one FQDN     {} ({:.1} %)",
            t.several_fqdns, t.several_percent
        );
        println!("  IP addresses only      {}", t.ip_only);
        for (how, n) in &t.by_provenance {
            println!("  config {how:<22} {n}");
        }
        println!(
            "  no config, C&C-like indicators (tier 2): {} specimens",
            t.ioc_only.len()
        );
        let d = &t.deobfuscation;
        println!(
            "  de-obfuscation: a decoder matched in {} of {} specimens, {} indicators revealed only by decoding",
            d.matched, d.specimens, d.revealed_iocs
        );
        for m in &d.decoders {
            println!(
                "    {:<20} {} specimens, {} revealed",
                m.decoder, m.specimens, m.revealed_iocs
            );
        }
    }
    Ok(())
}

/// `botscope specimen fuzzy`: ssdeep digests (and with `compare`, matching
/// pairs) of files; folders are walked recursively in name order. Unreadable
/// files are reported on standard error and make the exit status 1.
fn fuzzy_files(paths: &[PathBuf], compare: bool, json: bool) -> anyhow::Result<ExitCode> {
    use botscope_specimen::fuzzy;
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    let mut failed = false;
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            match std::fs::read_dir(&p) {
                Ok(rd) => {
                    let mut kids: Vec<PathBuf> =
                        rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    kids.sort();
                    stack.extend(kids.into_iter().rev());
                }
                Err(e) => {
                    eprintln!("{}: {e}", p.display());
                    failed = true;
                }
            }
        } else {
            files.push(p);
        }
    }
    let mut digests: Vec<(String, String)> = Vec::with_capacity(files.len());
    if !json {
        println!("ssdeep,1.1--blocksize:hash:hash,filename");
    }
    for f in &files {
        match std::fs::read(f) {
            Ok(bytes) => {
                let d = fuzzy::digest(&bytes);
                let name = f.display().to_string();
                if !json {
                    println!("{d},\"{name}\"");
                }
                digests.push((name, d));
            }
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                failed = true;
            }
        }
    }
    let mut matches = Vec::new();
    if compare {
        for (i, (a, da)) in digests.iter().enumerate() {
            for (b, db) in &digests[i + 1..] {
                let score = fuzzy::compare(da, db);
                if score > 0 {
                    if !json {
                        println!("{a} matches {b} ({score})");
                    }
                    matches.push(serde_json::json!({"a": a, "b": b, "score": score}));
                }
            }
        }
    }
    if json {
        let files: Vec<_> = digests
            .iter()
            .map(|(p, d)| serde_json::json!({"path": p, "digest": d}))
            .collect();
        let mut out = serde_json::json!({ "files": files });
        if compare {
            out["matches"] = serde_json::Value::Array(matches);
        }
        print_json(&out)?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
