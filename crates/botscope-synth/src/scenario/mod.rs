//! The scenario: what happens, when, to whom. Planning draws every choice
//! from one seeded ChaCha stream and records it in the truth; rendering
//! turns the plan into packets (job by job, in start-time order) without
//! further choices except per-job seeded details.
//!
//! The parts: `config` (the knobs and the study's weights), `plan`
//! (sensors, specimens, exploits and copies, background and resolver
//! inputs), `bots` (the infected honeypots: infection, joins, IRC
//! sessions and their orders), `consequences` (what an order makes a bot
//! do), `render` (the job captures), `copy` (binary copies and FTP
//! fetches on the wire), `background` (Table 1's capture) and `tables`
//! (the expected tables, counted from the planned events). This file
//! holds the generator's state and the order the steps run in.

mod background;
mod bots;
mod config;
mod consequences;
mod copy;
mod plan;
mod render;
mod tables;

use background::{maybe_gre, render_background, BackgroundPlan};
use config::*;
pub use config::{SynthConfig, AV_SIGNATURES, DEFAULT_START};
use plan::{CopyStart, SASSER_FTP_PORT};

use crate::orders::SCAN_ORDERS;
use crate::truth::*;
use botscope_core::Ts;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

/// Which output capture a job writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cap {
    Exploits,
    Infected,
}

/// A unit of rendering: starts at `t` and writes only packets at ≥ `t`.
#[derive(Clone, Debug)]
enum Job {
    Exploit { idx: u32 },
    Copy { idx: u32 },
    Scan { idx: u32 },
    Dns { idx: u32 },
    Irc { idx: u32 },
    Http { idx: u32 },
    Flood { idx: u32 },
    Spam { relay: u32, n: u32, t: i64 },
}

struct Spec {
    truth: SpecimenTruth,
    bytes: Vec<u8>,
}

/// A scheduled IRC line inside a session.
#[derive(Clone, Debug)]
struct IrcLine {
    t: i64,
    from_server: bool,
    text: String,
}

struct Gen {
    cfg: SynthConfig,
    rng: ChaCha8Rng,
    t: Truth,
    specs: Vec<Spec>,
    /// FQDN → addresses.
    cc: BTreeMap<String, Vec<Ipv4Addr>>,
    /// Per IRC session: scheduled lines (after the join block).
    irc_lines: Vec<Vec<IrcLine>>,
    /// Per IRC session: (topic order text).
    irc_topic: Vec<String>,
    /// Per update: (server ip, path, specimen index or None for 404/refused, refused).
    http: Vec<(Ipv4Addr, String, Option<u32>, bool)>,
    /// Per spam relay: request times.
    spam_times: Vec<Vec<i64>>,
    jobs: Vec<(i64, Cap, Job)>,
    resolver_ip: Ipv4Addr,
    herder: BTreeMap<String, String>,
}

/// Generates the whole field under `out` and returns its truth.
pub fn generate(cfg: &SynthConfig, out: &Path) -> io::Result<Truth> {
    std::fs::create_dir_all(out.join("pcap"))?;
    std::fs::create_dir_all(out.join("specimens"))?;
    let mut g = Gen {
        cfg: cfg.clone(),
        rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        t: Truth::default(),
        specs: Vec::new(),
        cc: BTreeMap::new(),
        irc_lines: Vec::new(),
        irc_topic: Vec::new(),
        http: Vec::new(),
        spam_times: Vec::new(),
        jobs: Vec::new(),
        resolver_ip: Ipv4Addr::new(210, 150, 255, 53),
        herder: BTreeMap::new(),
    };
    g.t.version = 1;
    g.t.seed = cfg.seed;
    g.t.scenario = serde_json::to_value(cfg).unwrap_or_default();
    g.t.start = Ts(cfg.start_us);
    g.t.end = Ts(cfg.start_us + cfg.days as i64 * 86_400_000_000);
    g.t.tz_offset_s = cfg.zone.offset_at(cfg.start_us.div_euclid(1_000_000));
    g.plan_sensors();
    g.plan_specimens();
    g.write_specimens(out)?;
    g.plan_exploits();
    g.plan_bots();
    // Inputs of the three writers are drawn here, in a fixed order, so the
    // writers can run at once and still give the same bytes for a seed.
    let bg = g.plan_background();
    let jobs_seed: u64 = g.rng.random();
    // The channels beyond IRC come from their own stream (issue 20). Their
    // C&C names stay out of the resolver logs: the demo's watch list comes
    // from the specimens' configs, which name only the IRC servers, so a
    // client querying an HTTP C&C name would be infected in the truth but
    // invisible to the deemed infection rate.
    let channels = crate::channels::plan(cfg, &g.t.sensors);
    let resolver_spec = cfg.resolver_logs.then(|| g.resolver_spec());
    let sensors = g.t.sensors.clone();
    let (bg_done, rt) = std::thread::scope(|sc| -> io::Result<_> {
        let bg_thread = sc.spawn(|| render_background(cfg, &sensors, &bg, out));
        let rs_thread = resolver_spec.as_ref().map(|spec| {
            sc.spawn(move || {
                let dir = out.join("resolver");
                std::fs::create_dir_all(&dir)?;
                crate::resolver::write_resolver_logs(spec, &dir)
            })
        });
        let jobs = g.render_jobs(out, jobs_seed);
        let bg_done = bg_thread
            .join()
            .map_err(|_| io::Error::other("background writer panicked"))?;
        let rt = match rs_thread {
            Some(h) => Some(
                h.join()
                    .map_err(|_| io::Error::other("resolver writer panicked"))??,
            ),
            None => None,
        };
        jobs?;
        Ok((bg_done?, rt))
    })?;
    let (bg_file, table1) = bg_done;
    g.t.files.insert(0, bg_file);
    // The person's chat session: its own stream, so nothing above changes.
    let (chat_file, chat) = crate::chat::render_chat(cfg.seed, cfg.start_us, out)?;
    g.t.files.push(chat_file);
    g.t.chat_sessions.push(chat);
    let ch = crate::channels::render(&channels, g.resolver_ip, out)?;
    g.t.files.extend(ch.files);
    g.t.http_cc = ch.http_cc;
    g.t.http_benign = ch.http_benign;
    g.t.p2p = ch.p2p;
    g.other_vantage_points(out)?;
    g.t.tables.table1 = table1;
    if let Some(rt) = rt {
        g.finish_resolver(rt, out)?;
    }
    g.tables();
    let truth_path = out.join("truth.json");
    let f = std::fs::File::create(&truth_path)?;
    let mut w = io::BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, &g.t).map_err(io::Error::other)?;
    io::Write::flush(&mut w)?;
    Ok(g.t)
}

impl Gen {
    fn n(&self, base: f64) -> usize {
        (base * self.cfg.scale).round().max(1.0) as usize
    }

    fn end_us(&self) -> i64 {
        self.cfg.start_us + self.cfg.days as i64 * 86_400_000_000
    }

    /// Delay between flood packets the orders state, ms: what
    /// `flood_pps` makes the rendered floods show.
    fn flood_delay_ms(&self) -> u32 {
        1000 / self.cfg.flood_pps.max(1)
    }

    fn local_hour(&self, t: i64) -> usize {
        let secs = t.div_euclid(1_000_000);
        ((secs + i64::from(self.cfg.zone.offset_at(secs))).rem_euclid(86_400) / 3600) as usize
    }

    /// Draws what the background writer needs from the scenario stream.
    /// Captures of the field from elsewhere than the honeypot net's
    /// capture set (`vantage/`; issue 15): the infected honeypots' capture
    /// as taken on their VM host's bridge, where the honeypots' virtual
    /// NICs leave TX checksums to offload, and the herder's client.
    fn other_vantage_points(&mut self, out: &Path) -> io::Result<()> {
        std::fs::create_dir_all(out.join("vantage"))?;
        let src = "pcap/infected.pcap";
        let dst = "vantage/infected-hostside.pcap";
        let senders = self.t.sensors.iter().map(|s| crate::pcap::host_mac(*s));
        let n = crate::pcap::copy_with_offload(&out.join(src), &out.join(dst), &senders.collect())?;
        let bytes = std::fs::metadata(out.join(dst))?.len();
        self.t.files.push(FileTruth {
            path: dst.into(),
            kind: "pcap: infected honeypots taken on their VM host (TX checksum offload)".into(),
            packets: n.packets,
            bytes,
        });
        self.t.offload = Some(OffloadTruth {
            file: dst.into(),
            copy_of: src.into(),
            packets: n.packets,
            bad_checksums: n.bad,
            sample: n.sample,
            bad_in_sample: n.bad_in_sample,
        });
        let Some(session) = self.t.irc_sessions.first().cloned() else {
            return Ok(());
        };
        let herder = self
            .herder
            .get(&session.fqdn)
            .cloned()
            .unwrap_or_else(|| "herder".into());
        let scan = SCAN_ORDERS[(self.cfg.seed % SCAN_ORDERS.len() as u64) as usize];
        let (file, h) = crate::herder::render_herder(self.cfg.seed, &session, &herder, scan, out)?;
        self.t.files.push(file);
        self.t.herder_sessions.push(h);
        Ok(())
    }

    fn finish_resolver(
        &mut self,
        mut rt: crate::resolver::ResolverTruth,
        out: &Path,
    ) -> io::Result<()> {
        let dir = out.join("resolver");
        // The module records the paths it wrote as given (absolute here);
        // make them relative to OUT so the same seed gives the same bytes
        // wherever OUT is, and rewrite its truth file accordingly.
        for p in rt.files.values_mut() {
            if let Ok(rel) = p.strip_prefix(out) {
                *p = rel.to_path_buf();
            }
        }
        {
            let mut w = io::BufWriter::new(std::fs::File::create(dir.join("resolver-truth.json"))?);
            serde_json::to_writer_pretty(&mut w, &rt).map_err(io::Error::other)?;
            io::Write::write_all(&mut w, b"\n")?;
            io::Write::flush(&mut w)?;
        }
        self.t.tables.deemed_infection_rate = Some(rt.rate);
        for (_, p) in rt.files.iter() {
            let rel = p.clone();
            let bytes = std::fs::metadata(out.join(p)).map(|m| m.len()).unwrap_or(0);
            self.t.files.push(FileTruth {
                path: rel.to_string_lossy().into_owned(),
                kind: "resolver log".into(),
                packets: 0,
                bytes,
            });
        }
        let mut v = serde_json::to_value(&rt).map_err(io::Error::other)?;
        if let Some(files) = v.get_mut("files") {
            // Absolute paths would make the truth depend on OUT.
            if let Some(m) = files.as_object_mut() {
                for (_, p) in m.iter_mut() {
                    if let Some(s) = p.as_str() {
                        let rel = Path::new(s)
                            .strip_prefix(out)
                            .map(|x| x.to_string_lossy().into_owned())
                            .unwrap_or_else(|_| s.to_string());
                        *p = serde_json::Value::String(rel);
                    }
                }
            }
        }
        self.t.resolver = Some(v);
        Ok(())
    }
}
