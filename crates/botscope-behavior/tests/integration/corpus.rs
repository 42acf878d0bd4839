//! Real captures: the 2004 IRC bot capture (Suricata-verify), DCE-RPC over
//! SMB (Suricata-verify, Zeek), and the Blaster shell (chrissanders).

use botscope_behavior::analysis::{Options, Report};
use botscope_behavior::orders::{OrderKind, ScanFlags};
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use botscope_dissect::exploit::dcerpc::RpcSeen;
use botscope_dissect::exploit::StreamClassifier;
use std::path::PathBuf;
use std::process::Command;

/// A file of the peer corpus in the repository (`<repo>/tests/corpus`).
fn corpus(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(rel);
    assert!(p.exists(), "corpus file missing: {}", p.display());
    p
}

fn analyze(rel: &str) -> Report {
    let (r, _) = pipeline::run(
        &[corpus(rel)],
        &EngineConfig::default(),
        Limits::default(),
        &Options::default(),
    )
    .expect("capture reads");
    r
}

#[test]
fn irc_bot_capture_orders_replies_and_session() {
    let r = analyze("suricata-verify/tests/irc/input.pcap");
    assert_eq!(r.sessions.len(), 1);
    let s = &r.sessions[0];
    assert_eq!(s.server.to_string(), "69.64.34.124");
    assert_eq!(s.port, 6667);
    assert_eq!(s.bot.to_string(), "172.16.1.10");
    assert_eq!(s.nick.as_deref(), Some("damn-0262937047"));
    assert_eq!(s.nick_pattern.as_deref(), Some("damn-#"));
    assert_eq!(s.channels, vec!["#sl0w3r".to_string()]);
    assert_eq!(s.key.as_deref(), Some("l03dx"));
    assert_eq!(r.table9.len(), 1);
    assert_eq!((r.table9[0].key.as_str(), r.table9[0].count), ("6667", 1));

    // The advscan topic of #sl0w3r.
    let adv: Vec<_> = r
        .orders
        .iter()
        .filter(|o| o.order.command == "advscan")
        .collect();
    assert_eq!(adv.len(), 1);
    assert_eq!(adv[0].via, "topic");
    assert_eq!(adv[0].target.as_deref(), Some("#sl0w3r"));
    assert_eq!(
        adv[0].order.kind,
        OrderKind::Scan {
            scanner: Some("dcom135".into()),
            threads: Some(200),
            delay_s: Some(3),
            minutes: Some(0),
            range: None,
            flags: ScanFlags {
                a: false,
                b: false,
                r: true,
                s: true
            },
        }
    );
    // Three download topics (#s01..#s03), each with URL and file name.
    let dl: Vec<_> = r
        .orders
        .iter()
        .filter(|o| o.order.command == "download")
        .collect();
    assert_eq!(dl.len(), 3);
    let OrderKind::Download { update, url, file } = &dl[2].order.kind else {
        panic!("not a download")
    };
    assert!(!update);
    assert_eq!(
        url.as_deref(),
        Some("http://ysbweb.com/ist/scripts/ysb_exe.php?account_id=1000489&user_level=3")
    );
    assert_eq!(file.as_deref(), Some("ysbinstall_1000489_3.exe"));
    assert_eq!(dl[2].target.as_deref(), Some("#s03"));
    let OrderKind::Download { url, file, .. } = &dl[0].order.kind else {
        panic!()
    };
    assert_eq!(
        (url.as_deref(), file.as_deref()),
        (Some("http://www.wanees.net/bbnz.exe"), Some("bbnz.exe"))
    );
    // Replies: 3 "Downloading", then "Downloaded"/"Opened" for ysbinstall,
    // all linked to the download order naming the same URL or file.
    let idx_s03 = r
        .orders
        .iter()
        .position(|o| std::ptr::eq(o, dl[2]))
        .unwrap();
    let downloaded: Vec<_> = r
        .replies
        .iter()
        .filter(|x| x.raw.starts_with("[DOWNLOAD]: Downloaded 28.6 KB"))
        .collect();
    assert!(!downloaded.is_empty());
    for x in &downloaded {
        assert_eq!(x.reply.file.as_deref(), Some("ysbinstall_1000489_3.exe"));
        assert_eq!(x.order, Some(idx_s03));
    }
    let idx_s01 = r
        .orders
        .iter()
        .position(|o| std::ptr::eq(o, dl[0]))
        .unwrap();
    let first = r
        .replies
        .iter()
        .find(|x| x.raw.contains("wanees"))
        .expect("reply for #s01");
    assert_eq!(first.order, Some(idx_s01));
    assert!(r.orders[idx_s03].replies.len() >= downloaded.len());
    assert_eq!(r.unknown_orders, 0);
    assert!(r.table10.is_empty());
}

/// Client→server bytes of every TCP stream, reassembled by tshark
/// (`-z follow,tcp,raw`), so the classifier is checked on its own; node 0
/// is the side that sent the stream's first packet.
fn tshark_client_streams(rel: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for stream in 0.. {
        let o = Command::new("tshark")
            .arg("-r")
            .arg(corpus(rel))
            .args(["-q", "-z", &format!("follow,tcp,raw,{stream}")])
            .output()
            .expect("tshark must be installed (scripts/setup.sh)");
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        if !text
            .lines()
            .any(|l| !l.is_empty() && l.trim_start().chars().all(|c| c.is_ascii_hexdigit()))
        {
            break;
        }
        let mut bytes = Vec::new();
        for line in text.lines() {
            // Client lines start at column 0; server lines are indented.
            if line.is_empty()
                || line.starts_with('\t')
                || !line.chars().all(|c| c.is_ascii_hexdigit())
            {
                continue;
            }
            for i in (0..line.len() - line.len() % 2).step_by(2) {
                bytes.push(u8::from_str_radix(&line[i..i + 2], 16).unwrap());
            }
        }
        out.push(bytes);
    }
    out
}

fn rpc_of(rel: &str) -> (Vec<String>, Vec<u16>, usize) {
    let mut binds = Vec::new();
    let mut ops = Vec::new();
    let mut findings = 0;
    for stream in tshark_client_streams(rel) {
        let mut c = StreamClassifier::new();
        c.feed(&stream);
        for b in c.binds() {
            if let RpcSeen::Bind { iface, .. } = b {
                binds.push(iface.to_string());
            }
        }
        for q in &c.requests {
            if let RpcSeen::Request { opnum, .. } = q {
                ops.push(*opnum);
            }
        }
        findings += c.findings.len();
    }
    (binds, ops, findings)
}

/// tshark's view of the same capture: bound interfaces and request opnums.
fn tshark_rpc(rel: &str) -> (Vec<String>, Vec<u16>) {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(corpus(rel))
        .args([
            "-Y",
            "dcerpc.pkt_type == 0 || dcerpc.pkt_type == 11",
            "-T",
            "fields",
            "-e",
            "dcerpc.pkt_type",
            "-e",
            "dcerpc.cn_bind_to_uuid",
            "-e",
            "dcerpc.opnum",
        ])
        .output()
        .expect("tshark must be installed (scripts/setup.sh)");
    assert!(out.status.success());
    let mut binds = Vec::new();
    let mut ops = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.first().copied() {
            Some("11") => binds.extend(
                f.get(1)
                    .unwrap_or(&"")
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            ),
            Some("0") => ops.extend(f.get(2).and_then(|s| s.parse::<u16>().ok())),
            _ => {}
        }
    }
    (binds, ops)
}

#[test]
fn dcerpc_over_smb_matches_tshark_spoolss() {
    let (binds, ops, findings) = rpc_of("suricata-verify/tests/smb-dce_iface/input.pcap");
    assert_eq!(
        binds,
        vec!["12345678-1234-abcd-ef00-0123456789ab".to_string()]
    );
    assert_eq!(ops, vec![10, 10, 89]);
    assert_eq!(
        (binds, ops),
        tshark_rpc("suricata-verify/tests/smb-dce_iface/input.pcap")
    );
    assert_eq!(findings, 0, "printing is not an exploit");
}

#[test]
fn dcerpc_over_smb_matches_tshark_svcctl_psexec() {
    let rel = "suricata-verify/tests/dcerpc-smb-test-01/input.pcap";
    let (binds, ops, findings) = rpc_of(rel);
    let (tb, to) = tshark_rpc(rel);
    assert_eq!(binds, tb);
    assert_eq!(ops, to);
    assert_eq!(ops[0], 15, "Suricata's rule: svcctl opnum 15");
    assert_eq!(findings, 0);
}

#[test]
fn benign_dssetup_call_is_not_lsass_exploit() {
    let rel = "zeek/testing/btest/Traces/smb/dssetup_DsRoleGetPrimaryDomainInformation_standalone_workstation.cap";
    let (binds, ops, findings) = rpc_of(rel);
    assert_eq!(
        binds,
        vec!["3919286a-b10c-11d0-9ba8-00c04fd92ef5".to_string()]
    );
    assert_eq!(ops, vec![0]);
    assert_eq!((binds, ops), tshark_rpc(rel));
    assert_eq!(findings, 0);
}

#[test]
fn blaster_shell_capture_holds_no_exploit_pdu() {
    // The file is only the TCP 4444 cmd.exe session Blaster opens after
    // the MS03-026 exploit; the exploit PDUs on 135 are not in it, so the
    // byte-level classifier must not invent one.
    let r = analyze("chrissanders-packets/ppa1e/blaster.pcap");
    assert!(r.exploits.is_empty());
    assert_eq!(r.table7.iter().map(|x| x.count).sum::<u64>(), 0);
}
