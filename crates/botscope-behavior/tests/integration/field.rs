//! Synthetic fields (several seeds, one wrapped in GRE): every table equals
//! the generator's ground truth exactly.

use botscope_behavior::analysis::{Options, Report, Row};
use botscope_behavior::orders::OrderKind;
use botscope_behavior::pipeline::RunSummary;
use botscope_behavior::{pipeline, Limits};
use botscope_capture::{ChecksumMode, EngineConfig};
use botscope_core::tz::Zone;
use botscope_synth::truth::{CopyMethod, Truth};
use botscope_synth::SynthConfig;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Field {
    pub truth: Truth,
    /// Analysis of both honeypot captures as one run (Tables 7, 8: every
    /// attempt on the honeypot net).
    pub honeynet: Report,
    /// Analysis of the infected honeypots' capture (Fig. 3, Tables 9–11...).
    pub infected: Report,
    /// What reading the infected honeypots' capture counted.
    pub infected_summary: RunSummary,
    _dir: tempfile::TempDir,
}

/// Seeds tested table by table.
const SEEDS: [(u64, bool); 2] = [(1, false), (7, false)];
/// A field whose sensor traffic is wrapped in GRE (the study's tunnels).
const GRE_SEED: (u64, bool) = (23, true);

/// One lazily generated field per seed, common to the tests.
type FieldCache = Mutex<BTreeMap<u64, Arc<OnceLock<Arc<Field>>>>>;

fn field(seed: u64, gre: bool) -> Arc<Field> {
    static CACHE: OnceLock<FieldCache> = OnceLock::new();
    let slot = {
        let mut m = CACHE.get_or_init(Default::default).lock().unwrap();
        m.entry(seed).or_default().clone()
    };
    slot.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SynthConfig {
            seed,
            gre,
            resolver_logs: false,
            ..Default::default()
        };
        let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
        let opt = Options {
            zone: Zone::Fixed(truth.tz_offset_s),
            ..Default::default()
        };
        let run = |rel: &[&str]| {
            let paths: Vec<_> = rel.iter().map(|r| dir.path().join(r)).collect();
            pipeline::run(&paths, &EngineConfig::default(), Limits::default(), &opt).expect("reads")
        };
        let honeynet = run(&["pcap/honeynet-exploits.pcap", "pcap/infected.pcap"]).0;
        let (infected, infected_summary) = run(&["pcap/infected.pcap"]);
        Arc::new(Field {
            truth,
            honeynet,
            infected,
            infected_summary,
            _dir: dir,
        })
    })
    .clone()
}

fn counts(rows: &[Row]) -> BTreeMap<String, (u64, f64)> {
    rows.iter()
        .filter(|r| r.count > 0)
        .map(|r| (r.key.clone(), (r.count, r.percent)))
        .collect()
}

fn truth_counts<K: ToString>(
    t: &BTreeMap<K, botscope_synth::truth::Share>,
) -> BTreeMap<String, (u64, f64)> {
    t.iter()
        .map(|(k, s)| (k.to_string(), (s.count, s.percent)))
        .collect()
}

#[test]
fn table7_exploit_vectors_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let want: BTreeMap<String, (u64, f64)> = truth_counts(&f.truth.tables.table7);
        assert_eq!(counts(&f.honeynet.table7), want, "seed {seed}");
    }
}

#[test]
fn table8_copy_methods_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(
            counts(&f.honeynet.table8),
            truth_counts(&f.truth.tables.table8),
            "seed {seed}"
        );
        assert_eq!(
            f.honeynet.table8_success, f.truth.tables.table8_success,
            "seed {seed}"
        );
        // Hashes and sizes of the successful copies.
        for c in f.truth.copies.iter().filter(|c| c.success) {
            let got = f
                .honeynet
                .copies
                .iter()
                .find(|x| x.sha256.as_deref() == Some(c.sha256.as_str()) && x.success);
            assert!(
                got.is_some(),
                "seed {seed}: copy {} ({:?}) not found",
                c.id,
                c.method
            );
            assert_eq!(got.unwrap().size, c.size);
        }
    }
}

#[test]
fn fig3_infection_sequence_equals_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let got: BTreeMap<String, Vec<String>> = f
            .infected
            .sequences
            .iter()
            .map(|s| {
                (
                    s.bot.to_string(),
                    s.stages.iter().map(|x| x.stage.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(got, f.truth.tables.fig3, "seed {seed}");
    }
}

#[test]
fn table9_irc_ports_and_sessions_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(
            counts(&f.infected.table9),
            truth_counts(&f.truth.tables.table9),
            "seed {seed}"
        );
        assert_eq!(f.infected.sessions.len(), f.truth.irc_sessions.len());
        for t in &f.truth.irc_sessions {
            let s = f
                .infected
                .sessions
                .iter()
                .find(|s| {
                    s.bot == std::net::IpAddr::V4(t.bot)
                        && s.start.0.abs_diff(t.connect.0) < 2_000_000
                })
                .expect("session");
            assert_eq!(s.server, std::net::IpAddr::V4(t.server));
            assert_eq!(s.port, t.port);
            assert_eq!(s.fqdn.as_deref(), Some(t.fqdn.as_str()), "seed {seed}");
            assert_eq!(s.nick.as_deref(), Some(t.nick.as_str()));
            assert_eq!(s.channels, vec![t.channel.clone()]);
            assert_eq!(s.key, t.key);
        }
    }
}

#[test]
fn diurnal_joins_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(
            f.infected.joins_per_local_hour, f.truth.tables.joins_per_local_hour,
            "seed {seed}"
        );
    }
}

#[test]
fn table10_ddos_orders_and_replies_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let got: BTreeMap<String, u64> = f
            .infected
            .table10
            .iter()
            .map(|r| (r.key.clone(), r.count))
            .collect();
        assert_eq!(got, f.truth.tables.table10, "seed {seed}");
        assert_eq!(f.infected.orders.len(), f.truth.orders.len(), "seed {seed}");
        // Same bot, same order: both lists sorted by (bot, time).
        let mut got: Vec<_> = f.infected.orders.iter().collect();
        got.sort_by_key(|o| (o.bot.to_string(), o.ts));
        let mut want: Vec<_> = f.truth.orders.iter().collect();
        want.sort_by_key(|o| (o.bot.to_string(), o.ts));
        for (o, t) in got.into_iter().zip(want) {
            assert_eq!(o.raw, t.raw);
            assert_eq!(o.order.command, t.command);
            assert_eq!(o.order.args, t.args);
            assert_eq!(o.via, t.via);
            let replies: Vec<&str> = o
                .replies
                .iter()
                .map(|i| f.infected.replies[*i].raw.as_str())
                .collect();
            assert_eq!(
                replies,
                t.reply.iter().map(String::as_str).collect::<Vec<_>>(),
                "seed {seed}: {}",
                t.raw
            );
        }
    }
}

#[test]
fn floods_equal_truth_and_link_to_orders() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(f.infected.floods.len(), f.truth.floods.len(), "seed {seed}");
        // Every field has spoofed floods (Phatbot's SYN variants).
        assert!(
            f.truth.floods.iter().any(|t| t.spoofed && t.sources > 100),
            "seed {seed}"
        );
        for t in &f.truth.floods {
            let g = f
                .infected
                .floods
                .iter()
                .find(|g| {
                    g.flood.target == std::net::IpAddr::V4(t.target)
                        && g.flood.source == std::net::IpAddr::V4(t.source)
                })
                .unwrap_or_else(|| panic!("seed {seed}: flood {t:?} missing"));
            assert_eq!(g.command, t.kind);
            // Spoofed floods (issue 15): reported per target, attributed to
            // the bot by its Ethernet address, with the forged sources'
            // spread (estimated past 8: within 15 %).
            assert_eq!(
                (g.flood.spoofed, &g.flood.sender_mac),
                (t.spoofed, &t.sender_mac),
                "seed {seed}: {t:?}"
            );
            let spread = g.flood.sources as f64 - t.sources as f64;
            assert!(
                spread.abs() <= 0.15 * t.sources as f64,
                "seed {seed}: {} sources vs {}",
                g.flood.sources,
                t.sources
            );
            // Truth times are the generator's; packets carry them to the µs.
            assert!(
                g.flood.start.0.abs_diff(t.start.0) <= 1,
                "seed {seed}: {g:?} vs {t:?}"
            );
            // HTTP floods are counted in GET packets, fragment floods in
            // reassembled datagrams; the truth counts every IP packet.
            if t.kind != "ddos.httpflood" && t.kind != "ddos.targa3" {
                assert!(g.flood.end.0.abs_diff(t.end.0) <= 1);
                assert_eq!(g.flood.packets, t.packets);
                assert_eq!(g.flood.port, t.port);
            }
            let o = g.order.expect("linked order");
            assert_eq!(
                f.infected.orders[o].raw,
                f.truth.orders[t.order as usize].raw
            );
            // The order's Phatbot arguments parse to what the generator meant.
            match &f.infected.orders[o].order.kind {
                OrderKind::Ddos {
                    port,
                    duration_s,
                    delay_ms,
                    ..
                } => assert_eq!(
                    (*port, *duration_s, *delay_ms),
                    (t.order_port, Some(t.duration_s), t.delay_ms),
                    "seed {seed}: {}",
                    f.infected.orders[o].raw
                ),
                other => panic!("seed {seed}: flood order parsed as {other:?}"),
            }
            assert!(
                f.infected.orders[o]
                    .ts
                    .0
                    .abs_diff(f.truth.orders[t.order as usize].ts.0)
                    < 1_000_000
            );
        }
    }
}

#[test]
fn table11_and_fig5_spam_relays_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(
            counts(&f.infected.table11),
            truth_counts(&f.truth.tables.table11),
            "seed {seed}"
        );
        assert_eq!(f.infected.fig5.sources, f.truth.tables.fig5.sources);
        assert_eq!(
            f.infected.fig5.percent_le_100,
            f.truth.tables.fig5.percent_le_100
        );
        for t in &f.truth.spam_relays {
            let g = f
                .infected
                .relays
                .iter()
                .find(|g| g.spammer == std::net::IpAddr::V4(t.spammer) && g.port == t.port)
                .expect("relay source");
            assert_eq!(
                (g.count, g.protocol.as_str()),
                (u64::from(t.count), t.protocol.as_str())
            );
        }
    }
}

#[test]
fn updates_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(
            f.infected.updates_per_bot_per_day, f.truth.tables.updates_per_bot_per_day,
            "seed {seed}"
        );
        assert_eq!(
            f.infected.updates_failed, f.truth.tables.updates_failed,
            "seed {seed}"
        );
        assert_eq!(f.infected.updates.len(), f.truth.updates.len());
        let mut got: Vec<_> = f.infected.updates.iter().collect();
        got.sort_by(|a, b| a.url.cmp(&b.url));
        let mut want: Vec<_> = f.truth.updates.iter().collect();
        want.sort_by(|a, b| a.url.cmp(&b.url));
        for (g, t) in got.into_iter().zip(want) {
            assert_eq!(
                (g.url.as_str(), g.success, &g.sha256),
                (t.url.as_str(), t.success, &t.sha256)
            );
        }
    }
}

#[test]
fn scans_equal_truth_and_fit_orders() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let mut got: Vec<_> = f
            .infected
            .scans
            .iter()
            .map(|s| {
                (
                    s.scan.source.to_string(),
                    s.scan.range.clone(),
                    s.scan.port,
                    s.scan.start,
                    s.scan.end,
                    s.scan.probes,
                )
            })
            .collect();
        let mut want: Vec<_> = f
            .truth
            .scans
            .iter()
            .map(|s| {
                (
                    s.source.to_string(),
                    s.range.clone(),
                    s.port,
                    s.start,
                    s.end,
                    u64::from(s.count),
                )
            })
            .collect();
        got.sort();
        want.sort();
        if got != want {
            let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
            let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
            panic!("seed {seed}: scans differ\n extra {extra:?}\n missing {missing:?}");
        }
        for s in &f.infected.scans {
            let t = f
                .truth
                .scans
                .iter()
                .find(|t| {
                    t.start == s.scan.start && s.scan.source.to_string() == t.source.to_string()
                })
                .unwrap();
            assert_eq!(s.order.is_some(), t.order.is_some(), "seed {seed}: {t:?}");
            if let Some(o) = s.order {
                let want = &f.truth.orders[t.order.unwrap() as usize];
                assert_eq!(f.infected.orders[o].raw, want.raw);
                // Topic orders arrive with the JOIN, a moment before the
                // generator's nominal join time.
                assert!(f.infected.orders[o].ts.0.abs_diff(want.ts.0) < 1_000_000);
                assert_eq!(s.fits_order, Some(true));
            }
        }
    }
}

#[test]
fn gre_wrapped_field_tables_equal_truth() {
    let (seed, gre) = GRE_SEED;
    let f = field(seed, gre);
    let want7: BTreeMap<String, (u64, f64)> = truth_counts(&f.truth.tables.table7);
    assert_eq!(counts(&f.honeynet.table7), want7, "Table 7 under GRE");
    assert_eq!(
        counts(&f.honeynet.table8),
        truth_counts(&f.truth.tables.table8),
        "Table 8 under GRE"
    );
    assert_eq!(
        counts(&f.infected.table9),
        truth_counts(&f.truth.tables.table9),
        "Table 9 under GRE"
    );
    let got10: BTreeMap<String, u64> = f
        .infected
        .table10
        .iter()
        .map(|r| (r.key.clone(), r.count))
        .collect();
    assert_eq!(got10, f.truth.tables.table10, "Table 10 under GRE");
    assert_eq!(
        counts(&f.infected.table11),
        truth_counts(&f.truth.tables.table11),
        "Table 11 under GRE"
    );
    assert_eq!(
        f.infected.joins_per_local_hour,
        f.truth.tables.joins_per_local_hour
    );
}

/// The field's person chatting on IRC (`pcap/chat.pcap`, `truth.json` →
/// `chat_sessions`; issue 15): analyzed with the infected honeypots'
/// capture, it is reported as an unattributed session with its evidence,
/// and Table 9, the diurnal table, Fig. 3 and the orders still equal the
/// truth, which has only the bots' sessions.
#[test]
fn human_chat_session_is_unattributed_and_tables_still_equal_truth() {
    let (seed, gre) = SEEDS[0];
    let f = field(seed, gre);
    assert_eq!(f.truth.chat_sessions.len(), 1);
    let c = &f.truth.chat_sessions[0];
    let opt = Options {
        zone: Zone::Fixed(f.truth.tz_offset_s),
        ..Default::default()
    };
    let paths = [
        f._dir.path().join("pcap/infected.pcap"),
        f._dir.path().join(&c.file),
    ];
    let r = pipeline::run(&paths, &EngineConfig::default(), Limits::default(), &opt)
        .expect("reads")
        .0;
    assert_eq!(counts(&r.table9), truth_counts(&f.truth.tables.table9));
    assert_eq!(r.joins_per_local_hour, f.truth.tables.joins_per_local_hour);
    assert_eq!(r.orders.len(), f.truth.orders.len());
    let bots: Vec<String> = r.sequences.iter().map(|s| s.bot.to_string()).collect();
    let want: Vec<String> = f.truth.tables.fig3.keys().cloned().collect();
    let mut got = bots.clone();
    got.sort();
    let mut want = want;
    want.sort();
    assert_eq!(got, want);
    let n = f.truth.irc_sessions.len() as u64;
    assert_eq!(r.sessions.len() as u64, n + 1);
    assert_eq!((r.irc_sessions_cc, r.irc_sessions_unattributed), (n, 1));
    let s = r
        .sessions
        .iter()
        .find(|s| s.bot == std::net::IpAddr::V4(c.client))
        .expect("the chat session");
    assert_eq!(s.server, std::net::IpAddr::V4(c.server));
    assert_eq!(s.port, c.port);
    assert_eq!(s.nick.as_deref(), Some(c.nick.as_str()));
    assert_eq!(s.channels, vec![c.channel.clone()]);
    assert_eq!(s.key, None);
    assert_eq!(s.join, Some(c.join));
    assert_eq!(s.attribution.verdict, "unattributed");
    // Its `!seen` to the channel's service bot: an order-shaped line of an
    // unknown command, listed but deciding nothing.
    assert_eq!(
        s.attribution.evidence_for,
        vec!["orders_sent: 1 (0 of a known command)".to_string()]
    );
    let against: Vec<&str> = s
        .attribution
        .evidence_against
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(against.len(), 3, "{against:?}");
    assert!(against[0].starts_with(&format!("chat: {} line(s)", c.chat_lines)));
    assert_eq!(
        &against[1..],
        &["cap_negotiation: IRCv3 CAP", "client_queries: LIST"]
    );
    // Every C&C session of the truth is still C&C.
    assert!(r
        .sessions
        .iter()
        .filter(|x| x.bot != std::net::IpAddr::V4(c.client))
        .all(|x| x.attribution.verdict == "cc"));
}

/// Issue 15, class 2: the field's FTP fetches go to FTP servers on ports
/// other than 21 (random ones, and Sasser's 5554), in both captures. They
/// are FTP copies, every one of them, and never IRC sessions: Table 9 of
/// the run over both honeypot captures still equals the truth.
#[test]
fn ftp_on_non_standard_ports_is_counted_as_ftp_copies_never_irc() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let ftp: Vec<_> = f.truth.copies.iter().filter(|c| c.via == "ftp").collect();
        assert!(ftp.iter().all(|c| c.flow.resp_p != 21), "seed {seed}");
        assert!(
            ftp.iter().any(|c| c.flow.resp_p == 5554)
                && ftp.iter().any(|c| c.file == "pcap/infected.pcap"),
            "seed {seed}: no FTP fetch on 5554 or none in infected.pcap"
        );
        let got = f.honeynet.copies.iter().filter(|c| c.via == "ftp").count();
        assert_eq!(got, ftp.len(), "seed {seed}: FTP copies");
        assert_eq!(
            counts(&f.honeynet.table9),
            truth_counts(&f.truth.tables.table9),
            "seed {seed}: Table 9 over both captures"
        );
        assert_eq!(f.honeynet.sessions.len(), f.truth.irc_sessions.len());
        for c in &ftp {
            assert!(
                !f.honeynet
                    .sessions
                    .iter()
                    .any(|s| s.server == c.flow.resp_h && s.port == c.flow.resp_p),
                "seed {seed}: FTP server {}:{} taken for IRC",
                c.flow.resp_h,
                c.flow.resp_p
            );
        }
    }
}

/// Issue 15, class 3: fetches typed into the exploit's bind shell (the
/// cmd.exe banner, then `echo open A P > o & … & ftp -n -s:o` or `tftp -i
/// A GET x.exe`), FTP ones in active mode too (the victim sends PORT, the
/// infecting host connects from port 20): each copy has the truth's
/// method by who started it (reverse_connect, tftp_get) and the truth's
/// transport, and the bots infected this way show the shell in Fig. 3.
#[test]
fn typed_shell_fetches_are_classified_by_initiator() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let typed: Vec<_> = f
            .truth
            .copies
            .iter()
            .filter(|c| c.shell.is_some())
            .collect();
        let active = typed
            .iter()
            .filter(|c| c.ftp.as_ref().is_some_and(|x| x.mode == "active"))
            .count();
        let tftp = typed.iter().filter(|c| c.via == "tftp").count();
        assert!(
            active > 0 && tftp > 0 && typed.len() > active + tftp,
            "seed {seed}: {} typed, {active} active FTP, {tftp} TFTP",
            typed.len()
        );
        for c in &typed {
            let want = match c.method {
                CopyMethod::TftpGet => "tftp_get",
                CopyMethod::ReverseConnect => "reverse_connect",
                CopyMethod::TcpPush => "tcp_push",
            };
            let victim = std::net::IpAddr::V4(f.truth.exploits[c.exploit as usize].victim);
            let got = f
                .honeynet
                .copies
                .iter()
                .find(|g| g.victim == victim && g.ts.0.abs_diff(c.ts.0) < 1_000_000)
                .unwrap_or_else(|| panic!("seed {seed}: typed copy {} not found", c.id));
            assert_eq!(
                (got.method.as_str(), got.via.as_str(), got.success),
                (want, c.via.as_str(), c.success),
                "seed {seed}: copy {} typed {:?}",
                c.id,
                c.shell.as_ref().map(|s| &s.typed)
            );
            if c.success {
                assert_eq!(got.sha256.as_deref(), Some(c.sha256.as_str()));
            }
        }
        // Fig. 3 (equal to the truth in fig3_infection_sequence_equals_truth)
        // has the shell between exploit and copy for the bots typed into.
        let shelled: Vec<_> = f
            .truth
            .tables
            .fig3
            .values()
            .filter(|st| st.iter().any(|s| s == "shell"))
            .collect();
        assert!(!shelled.is_empty(), "seed {seed}");
        for st in shelled {
            assert_eq!(&st[..3], ["exploit", "shell", "copy"], "seed {seed}");
        }
    }
}

/// Issue 15, class 4: `vantage/infected-hostside.pcap` is the infected
/// honeypots' capture as their VM host's bridge shows it, every TCP/UDP
/// packet a honeypot sent carrying the partial checksum its virtual NIC
/// leaves to offload. With `checksums auto` the reader counts the bad ones
/// in its sample, stops validating, and every table equals the truth;
/// with `on` it finds (and drops) exactly the truth's bad packets.
#[test]
fn checksum_offload_capture_auto_keeps_every_packet() {
    let (seed, gre) = SEEDS[0];
    let f = field(seed, gre);
    let o = f.truth.offload.as_ref().expect("offload capture");
    assert!(o.bad_checksums > 1000 && o.bad_in_sample * 10 > o.sample);
    let opt = Options {
        zone: Zone::Fixed(f.truth.tz_offset_s),
        ..Default::default()
    };
    let read = |mode: ChecksumMode| {
        let eng = EngineConfig {
            checksums: mode,
            ..Default::default()
        };
        pipeline::run(
            &[f._dir.path().join(&o.file)],
            &eng,
            Limits::default(),
            &opt,
        )
        .expect("reads")
    };
    let (r, sum) = read(ChecksumMode::Auto);
    let ck = &sum.capture.checksums;
    assert_eq!(ck.mode, ChecksumMode::Off, "{ck}");
    assert_eq!((ck.sampled, ck.sample_bad), (o.sample, o.bad_in_sample));
    assert_eq!(ck.dropped, 0);
    assert_eq!(sum.capture.packets, o.packets);
    assert_eq!(counts(&r.table9), truth_counts(&f.truth.tables.table9));
    let t10: BTreeMap<String, u64> = r.table10.iter().map(|x| (x.key.clone(), x.count)).collect();
    assert_eq!(t10, f.truth.tables.table10);
    assert_eq!(counts(&r.table11), truth_counts(&f.truth.tables.table11));
    assert_eq!(r.joins_per_local_hour, f.truth.tables.joins_per_local_hour);
    assert_eq!(r.orders.len(), f.truth.orders.len());
    assert_eq!(r.floods.len(), f.truth.floods.len());
    assert_eq!(r.scans.len(), f.truth.scans.len());
    assert_eq!(r.updates.len(), f.truth.updates.len());
    let fig3: BTreeMap<String, Vec<String>> = r
        .sequences
        .iter()
        .map(|s| {
            (
                s.bot.to_string(),
                s.stages.iter().map(|x| x.stage.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(fig3, f.truth.tables.fig3);
    // The same analysis as the capture without offload, packet for packet.
    assert_eq!(r.orders, f.infected.orders);
    assert_eq!(r.copies, f.infected.copies);
    // Validating every packet: the truth's bad checksums, all dropped.
    let (_, sum) = read(ChecksumMode::On);
    let ck = &sum.capture.checksums;
    assert_eq!(
        (ck.bad_ip, ck.bad_tcp + ck.bad_udp, ck.dropped),
        (0, o.bad_checksums, o.bad_checksums)
    );
    // The honeynet-side capture itself has none.
    assert_eq!(f.infected_summary.capture.checksums.dropped, 0);
}

/// Issue 15, class 5: `vantage/herder.pcap`, the herder's client: the
/// orders it sent (to the bot's nick and to the channel) are the truth's,
/// as sent orders of a herder session; the bot's relayed replies are
/// linked to them, from the bot's prefix; the bot's address comes from it.
#[test]
fn herder_side_orders_and_replies_equal_truth() {
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        assert_eq!(f.truth.herder_sessions.len(), 1, "seed {seed}");
        let h = &f.truth.herder_sessions[0];
        let (r, _) = pipeline::run(
            &[f._dir.path().join(&h.file)],
            &EngineConfig::default(),
            Limits::default(),
            &Options::default(),
        )
        .expect("reads");
        assert_eq!(r.sessions.len(), 1, "seed {seed}");
        let s = &r.sessions[0];
        assert_eq!(
            (s.role.as_str(), s.nick.as_deref(), s.port),
            ("herder", Some(h.nick.as_str()), h.port)
        );
        assert_eq!(s.server, std::net::IpAddr::V4(h.server));
        assert!(r.table9.is_empty() && r.sequences.is_empty());
        assert_eq!(r.orders.len(), h.orders.len(), "seed {seed}");
        assert_eq!(r.unknown_orders, 0);
        for (o, t) in r.orders.iter().zip(&h.orders) {
            assert_eq!(
                (o.raw.as_str(), o.order.command.as_str(), &o.order.args),
                (t.raw.as_str(), t.command.as_str(), &t.args),
                "seed {seed}"
            );
            assert_eq!(o.direction, "sent");
            assert_eq!(o.sender.as_deref(), Some(h.nick.as_str()));
            assert_eq!(o.target.as_deref(), Some(t.target.as_str()));
            assert_eq!(o.bot_nick, t.bot_nick, "seed {seed}: {}", t.raw);
            assert_eq!(
                o.bot,
                std::net::IpAddr::V4(t.bot.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
                "seed {seed}: {}",
                t.raw
            );
            let replies: Vec<&str> = o
                .replies
                .iter()
                .map(|i| r.replies[*i].raw.as_str())
                .collect();
            assert_eq!(replies, t.replies, "seed {seed}: {}", t.raw);
            for i in &o.replies {
                assert_eq!(r.replies[*i].from.as_deref(), Some(h.bot_prefix.as_str()));
            }
        }
        let t10: BTreeMap<String, u64> =
            r.table10.iter().map(|x| (x.key.clone(), x.count)).collect();
        let mut want = BTreeMap::new();
        for t in h.orders.iter().filter(|t| t.command.starts_with("ddos.")) {
            *want.entry(t.command.clone()).or_insert(0u64) += 1;
        }
        assert_eq!(t10, want, "seed {seed}");
    }
}

/// Issue 15, class 7: the field's C&C servers at an odd address prefix
/// every line with IRCv3 message tags (`@time=…;msgid=… :server 001 …`).
/// Their sessions and orders equal the truth (the table tests above cover
/// them with the rest), and no line went unparsed.
#[test]
fn ircv3_tagged_servers_sessions_and_orders_equal_truth() {
    let mut tagged_total = 0;
    for (seed, gre) in SEEDS {
        let f = field(seed, gre);
        let tagged: Vec<_> = f.truth.irc_sessions.iter().filter(|s| s.tags).collect();
        tagged_total += tagged.len();
        for t in &tagged {
            let s = f
                .infected
                .sessions
                .iter()
                .find(|s| {
                    s.bot == std::net::IpAddr::V4(t.bot)
                        && s.start.0.abs_diff(t.connect.0) < 2_000_000
                })
                .unwrap_or_else(|| panic!("seed {seed}: tagged session {} missing", t.id));
            assert_eq!(
                (s.nick.as_deref(), &s.channels, &s.key),
                (Some(t.nick.as_str()), &vec![t.channel.clone()], &t.key),
                "seed {seed}"
            );
            // The JOIN goes out just before the generator's nominal time.
            assert!(s.join.expect("joined").0.abs_diff(t.join.0) < 1_000_000);
            let mut want: Vec<&str> = f
                .truth
                .orders
                .iter()
                .filter(|o| o.session == t.id)
                .map(|o| o.raw.as_str())
                .collect();
            let mut got: Vec<&str> = f
                .infected
                .orders
                .iter()
                .filter(|o| o.uid == s.uid)
                .map(|o| o.raw.as_str())
                .collect();
            want.sort();
            got.sort();
            assert_eq!(got, want, "seed {seed}: session {}", t.id);
        }
        assert!(
            !f.infected_summary
                .dissect
                .anomalies
                .by_reason
                .contains_key("irc_unparsable_line"),
            "seed {seed}"
        );
    }
    assert!(tagged_total > 0, "no tagged C&C server in the fields");
}
