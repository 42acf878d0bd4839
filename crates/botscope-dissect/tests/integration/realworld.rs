//! Issue 15: the FTP captures of `tests/realworld/` (data nobody at
//! botscope wrote) against their peers' own baselines in that folder:
//! suricata-verify `test.yaml` EVE expectations (quoted next to each
//! check), nDPI `ndpiReader` reports, Arkime session JSON and Zeek logs
//! (parsed). Values not in a baseline are marked as tshark's.

use crate::common::{conns, run_with};
use crate::ftp_logs::{baseline, ftp_events, ndpi_flows, our_ftp_rows, COMPARED};
use botscope_capture::{ChecksumMode, EngineConfig};
use botscope_core::events::FtpEvent;
use botscope_dissect::{Record, Stats};
use std::path::PathBuf;

/// `<repo>/tests/realworld`.
fn realworld() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/realworld")
}

fn run_mode(rel: &str, checksums: ChecksumMode) -> (Vec<Record>, Stats) {
    let cfg = EngineConfig {
        checksums,
        ..Default::default()
    };
    let (records, stats, _) = run_with(&[realworld().join(rel)], &cfg);
    (records, stats)
}

/// Suricata's default `checksum-checks: auto`.
fn run_suricata(rel: &str) -> (Vec<Record>, Stats) {
    run_mode(&format!("suricata-verify/tests/{rel}"), ChecksumMode::Auto)
}

fn by_command<'a>(ftp: &[&'a FtpEvent], cmd: &str) -> Vec<&'a FtpEvent> {
    ftp.iter().copied().filter(|f| f.command == cmd).collect()
}

fn addr_pair(f: &FtpEvent) -> (String, String) {
    (f.id.orig_h.to_string(), f.id.resp_h.to_string())
}

/// The data-channel ports of the PORT/PASV/EPRT/EPSV rows, in order.
fn channel_ports(ftp: &[&FtpEvent]) -> Vec<u16> {
    ftp.iter()
        .filter_map(|f| f.data_channel.as_ref().map(|d| d.resp_p))
        .collect()
}

/// One RETR of `index.html` over a data connection from `data_src` to
/// `data_dst`, as suricata-verify's ftp-download-{active,passive} expect.
fn check_download(rel: &str, data_src: &str, data_dst: &str, ports: &[u16]) {
    let (records, stats) = run_suricata(rel);
    let ftp = ftp_events(&records);
    assert!(!ftp.is_empty(), "{rel}");
    // `event_type: ftp, src_ip: "172.23.0.3", dest_ip: "172.23.0.2",
    // ftp.command: "USER"` count 1: one control session, client .3.
    for f in &ftp {
        assert_eq!(
            addr_pair(f),
            ("172.23.0.3".into(), "172.23.0.2".into()),
            "{rel}"
        );
        assert_eq!(f.uid, ftp[0].uid, "{rel}: one control session");
    }
    // `event_type: ftp_data, src_ip: <data_src>, dest_ip: <data_dst>,
    // ftp_data.command: "RETR", ftp_data.filename: "index.html"` count 1.
    let retr = by_command(&ftp, "RETR");
    assert_eq!(retr.len(), 1, "{rel}");
    assert_eq!(retr[0].file_name.as_deref(), Some("index.html"), "{rel}");
    let t = retr[0].transfer.as_ref().expect("RETR data connection");
    assert_eq!(
        (t.id.orig_h.to_string(), t.id.resp_h.to_string()),
        (data_src.to_string(), data_dst.to_string()),
        "{rel}"
    );
    // 39 bytes: the 150 reply `(39 bytes)` and the data flow (tshark).
    assert_eq!((retr[0].file_size, t.bytes), (Some(39), 39), "{rel}");
    assert_eq!(retr[0].reply_code, Some(226), "{rel}");
    // Data ports announced (tshark): LIST, RETR, LIST.
    assert_eq!(channel_ports(&ftp), ports, "{rel}");
    assert_eq!(stats.services.get("ftp-data"), Some(&3), "{rel}");
}

#[test]
fn realworld_suricata_ftp_download_active_and_passive_match_eve() {
    // Active: "In active FTP, the src_ip and dest_ip are reversed from the
    // control channel" — the data connection comes from the server's port 20.
    check_download(
        "ftp/ftp-download-active/input.pcap",
        "172.23.0.2",
        "172.23.0.3",
        &[44671, 43585, 43439],
    );
    // Passive: `ftp_data` `src_ip: "172.23.0.3"`, `dest_ip: "172.23.0.2"`.
    check_download(
        "ftp/ftp-download-passive/input.pcap",
        "172.23.0.3",
        "172.23.0.2",
        &[21001, 21008, 21008],
    );
}

#[test]
fn realworld_suricata_filestore_ftp_active_mode_stores_one_file() {
    // test.yaml: `find filestore -type f | xargs | wc -l` → `expect: 1`.
    let (records, stats) = run_suricata("filestore-ftp-active-mode/ftp-active-mode.pcap");
    let ftp = ftp_events(&records);
    let files: Vec<_> = ftp
        .iter()
        .filter_map(|f| f.transfer.as_ref().map(|t| (f, t)))
        .filter(|(_, t)| t.bytes > 0 && t.sha256.is_some())
        .collect();
    assert_eq!(files.len(), 1);
    let (f, t) = files[0];
    assert_eq!(f.command, "RETR");
    assert_eq!(f.file_name.as_deref(), Some("index.html"));
    assert_eq!((f.file_size, t.bytes), (Some(39), 39));
    // PORT 127,0,0,1,156,67: the server connects from :20 to :40003.
    assert_eq!((t.id.orig_p, t.id.resp_p), (20, 40003));
    assert_eq!(stats.services.get("ftp-data"), Some(&1));
}

#[test]
fn realworld_suricata_eprt_dynamic_port_matches_eve() {
    // Suricata ran with `-k none`; test.yaml: 2 alerts with
    // `ftp.command: EPRT`, `ftp.dynamic_port: 34325`.
    let (records, _) = run_mode(
        "suricata-verify/tests/detect-ftp/ftp-active-dynamic_port-02/ftp-active-dynamic_port.pcap",
        ChecksumMode::Off,
    );
    let ftp = ftp_events(&records);
    let eprt = by_command(&ftp, "EPRT");
    assert_eq!(eprt.len(), 1);
    let d = eprt[0].data_channel.as_ref().expect("EPRT data channel");
    assert_eq!(d.resp_p, 34325);
    assert!(!d.passive);
    assert_eq!(
        d.resp_h.to_string(),
        "2601:191:8500:2e00:7c0f:78e0:dc5b:f7c1"
    );
    // flowsynth's client port 5555 → 2.2.2.2:21 (the rules' `ftp` flow).
    assert_eq!(
        (
            eprt[0].id.orig_p,
            eprt[0].id.resp_h.to_string(),
            eprt[0].id.resp_p
        ),
        (5555, "2.2.2.2".into(), 21)
    );
}

#[test]
fn realworld_suricata_ftp_data_in_mixed_traffic_matches_eve() {
    // test.yaml: `count: 2, event_type: ftp_data` (LIST and RETR) and
    // `count: 1, event_type: ftp_data, ftp_data.filename: temp.txt,
    // ftp_data.command: RETR`; rules sid 1-3 (`file.name`/`filename`
    // `temp.txt`, `fileext:"txt"`) each alert once.
    let (records, stats) = run_suricata("output-eve-ftp-data/input.pcap");
    assert_eq!(stats.services.get("ftp-data"), Some(&2));
    let ftp = ftp_events(&records);
    let retr = by_command(&ftp, "RETR");
    assert_eq!(retr.len(), 1);
    assert_eq!(retr[0].file_name.as_deref(), Some("temp.txt"));
    // 1164 bytes: 150 `(1164 bytes)` and the data flow (tshark).
    assert_eq!(retr[0].file_size, Some(1164));
    assert_eq!(retr[0].transfer.as_ref().map(|t| t.bytes), Some(1164));
    // Active mode, data ports (tshark): LIST 59914, RETR 59926.
    assert_eq!(channel_ports(&ftp), [59914, 59926]);
    assert_eq!(
        addr_pair(retr[0]),
        ("192.168.0.13".into(), "192.168.0.10".into())
    );
}

#[test]
fn realworld_ndpi_ftp_flows_credentials_and_partial_download() {
    let d = "ndpi/tests/cfgs/default";
    let out = std::fs::read_to_string(realworld().join(d).join("result/ftp.pcap.out")).unwrap();
    let flows = ndpi_flows(&out);
    // `TCP 192.168.1.212:50694 <-> 90.130.70.73:21 [proto: 1/FTP_CONTROL]
    // ... [User: anonymous][Pwd: NcFTP@]`
    let ctl = flows.iter().find(|f| f.2 == "FTP_CONTROL").unwrap();
    assert!(ctl.3.contains("[User: anonymous][Pwd: NcFTP@]"));
    // nDPI does not validate checksums (offloaded in this capture).
    let (records, stats) = run_mode(&format!("{d}/pcap/ftp.pcap"), ChecksumMode::Off);
    let ftp = ftp_events(&records);
    assert!(!ftp.is_empty());
    for f in &ftp {
        assert_eq!((f.id.orig_p, f.id.resp_p), (ctl.0, ctl.1));
        assert_eq!(f.user, "anonymous");
        assert_eq!(f.password.as_deref(), Some("NcFTP@"));
    }
    // nDPI: `50695 <-> 90.130.70.73:25685 [proto: 175/FTP_DATA]`, and the
    // RETR flow `50696 <-> :24523 [proto: 0/Unknown]` (undetected). Both
    // are ftp-data here.
    let data: Vec<(u16, u16)> = conns(&records)
        .iter()
        .filter(|c| c.service.as_deref() == Some("ftp-data"))
        .map(|c| (c.id.orig_p, c.id.resp_p))
        .collect();
    let fd = flows.iter().find(|f| f.2 == "FTP_DATA").unwrap();
    let unknown = flows.iter().find(|f| f.2 == "Unknown").unwrap();
    assert_eq!((fd.0, fd.1), (50695, 25685));
    assert_eq!((unknown.0, unknown.1), (50696, 24523));
    assert!(data.contains(&(fd.0, fd.1)), "{data:?}");
    assert!(data.contains(&(unknown.0, unknown.1)), "{data:?}");
    assert_eq!(stats.services.get("ftp-data"), Some(&2));
    // The RETR: SIZE 1MB.zip → `213 1048576` (tshark), but the capture
    // holds 109,440 payload bytes of it (tshark); nDPI's
    // `78 pkts/114596 bytes` server side counts headers too.
    let retr = by_command(&ftp, "RETR");
    assert_eq!(retr.len(), 1);
    assert_eq!(retr[0].arg.as_deref(), Some("ftp://90.130.70.73/1MB.zip"));
    assert_eq!(retr[0].file_size, Some(1_048_576));
    let t = retr[0].transfer.as_ref().unwrap();
    assert_eq!((t.id.orig_p, t.id.resp_p), (unknown.0, unknown.1));
    assert_eq!(t.bytes, 109_440);

    // ftp_failed.pcap: `TCP [2a00:d40:1:3:192:12:193:11]:44724 <->
    // [2a00:800:1010::1]:21 [proto: 1/FTP_CONTROL] ... [User: hello][Pwd: ]
    // [Auth Failed]`.
    let out =
        std::fs::read_to_string(realworld().join(d).join("result/ftp_failed.pcap.out")).unwrap();
    let flows = ndpi_flows(&out);
    assert_eq!(flows.len(), 1);
    assert!(flows[0].3.contains("[User: hello][Pwd: ][Auth Failed]"));
    let (records, stats) = run_mode(&format!("{d}/pcap/ftp_failed.pcap"), ChecksumMode::Off);
    let ftp = ftp_events(&records);
    assert_eq!(ftp.len(), 1, "the session's last command, as Zeek logs it");
    assert_eq!(
        (ftp[0].id.orig_p, ftp[0].id.resp_p),
        (flows[0].0, flows[0].1)
    );
    assert_eq!(ftp[0].user, "hello");
    assert_eq!(
        (ftp[0].command.as_str(), ftp[0].reply_code),
        ("QUIT", Some(221))
    );
    assert!(ftp[0].transfer.is_none());
    assert_eq!(stats.services.get("ftp"), Some(&1));
    assert_eq!(stats.services.get("ftp-data"), None);
}

#[test]
fn realworld_arkime_ftp_login_matches_session_json() {
    let text = std::fs::read_to_string(realworld().join("arkime/tests/pcap/ftp.test")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let body = &json["sessions3"][0]["body"];
    // `"command" : ["PASS", "USER"]`, `"user" : ["anonymous"]`,
    // `"tags" : ["ftp:password"]`, source port 43958 → 21,
    // `"client" : {"bytes" : 38}`, `"server" : {"bytes" : 90}`.
    assert_eq!(body["ftp"]["command"], serde_json::json!(["PASS", "USER"]));
    assert_eq!(body["user"], serde_json::json!(["anonymous"]));
    assert_eq!(body["tags"], serde_json::json!(["ftp:password"]));
    let sport = body["source"]["port"].as_u64().unwrap() as u16;
    let dport = body["destination"]["port"].as_u64().unwrap() as u16;
    let (records, stats) = run_mode("arkime/tests/pcap/ftp.pcap", ChecksumMode::Off);
    let rows = our_ftp_rows(&records);
    assert_eq!(rows.len(), 1, "Zeek's one summary row (no logged command)");
    let r = &rows[0];
    assert_eq!(r["id.orig_p"], sport.to_string());
    assert_eq!(r["id.resp_p"], dport.to_string());
    assert_eq!(r["user"], "anonymous");
    assert_eq!(r["command"], "PASS");
    // Anonymous: the password is shown (Arkime tags it `ftp:password`).
    assert_eq!(r["password"], "ftp@example.com");
    let c = conns(&records);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].service.as_deref(), Some("ftp"));
    assert_eq!(
        (c[0].orig_bytes, c[0].resp_bytes),
        (
            body["client"]["bytes"].as_u64(),
            body["server"]["bytes"].as_u64()
        )
    );
    assert_eq!(stats.services.get("ftp"), Some(&1));
}

const ZEEK: &str = "zeek/testing/btest";

#[test]
fn realworld_zeek_ftp_with_numbers_in_filename_matches_zeek_ftp_log() {
    // Starts mid-session (first packet PASV): every ftp.log column Zeek and
    // botscope both fill, row by row, from the baseline file.
    let (records, stats) = run_mode(
        &format!("{ZEEK}/Traces/ftp/ftp-with-numbers-in-filename.pcap"),
        ChecksumMode::On,
    );
    let theirs = baseline(&realworld().join(format!(
        "{ZEEK}/Baseline/scripts.base.protocols.ftp.ftp-get-file-size/ftp.log"
    )));
    let ours = our_ftp_rows(&records);
    assert_eq!(theirs.len(), 5);
    assert_eq!(ours.len(), theirs.len(), "{ours:#?}");
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        for f in COMPARED {
            assert_eq!(o[*f], t[*f], "row {i} column {f}");
        }
    }
    // RETR file_size 154427: SIZE → `213 154427` and the 150 `(154427
    // bytes)` agree; the data flow carried as many.
    let retr = by_command(&ftp_events(&records), "RETR");
    assert_eq!(retr.len(), 1);
    assert_eq!(
        retr[0].transfer.as_ref().map(|t| t.bytes.to_string()),
        Some(theirs[4]["file_size"].clone())
    );
    // The four PASV data flows are ftp-data.
    assert_eq!(stats.services.get("ftp-data"), Some(&4));
}

#[test]
fn realworld_zeek_bigtransfer_size_gap_and_conn_log() {
    let (records, _) = run_mode(
        &format!("{ZEEK}/Traces/ftp/bigtransfer.pcap"),
        ChecksumMode::On,
    );
    let base = realworld().join(format!("{ZEEK}/Baseline/core.tcp.large-file-reassembly"));
    let zconn = baseline(&base.join("conn.log"));
    let zfiles = baseline(&base.join("files.log"));
    assert_eq!(zconn.len(), 3);
    let ours = conns(&records);
    assert_eq!(ours.len(), 3);
    for z in &zconn {
        let port = |k: &str| z[k].parse::<u16>().unwrap();
        let c = ours
            .iter()
            .find(|c| c.id.orig_p == port("id.orig_p") && c.id.resp_p == port("id.resp_p"))
            .expect("same flow");
        let key = &z["id.resp_p"];
        assert_eq!(c.service.as_deref(), Some(z["service"].as_str()), "{key}");
        assert_eq!(
            c.orig_bytes.map(|b| b.to_string()),
            Some(z["orig_bytes"].clone()),
            "{key}"
        );
        assert_eq!(
            c.resp_bytes.map(|b| b.to_string()),
            Some(z["resp_bytes"].clone()),
            "{key}"
        );
        assert_eq!(c.missed_bytes.to_string(), z["missed_bytes"], "{key}");
        assert_eq!(c.conn_state, z["conn_state"], "{key}");
        // History with Zeek's content-gap letter: the RETR flow (:37150)
        // is `ShAdgfFa` (a responder gap while both sides established).
        assert_eq!(c.history, z["history"], "{key}");
    }
    assert!(zconn.iter().any(|z| z["history"] == "ShAdgfFa"));
    // The file: files.log `seen_bytes` 23822 + `missing_bytes` 5416642848
    // = conn.log `resp_bytes` 5416666670 of the RETR flow (:37150).
    let big = zfiles
        .iter()
        .find(|f| f["id.resp_p"] == "37150")
        .expect("files.log row");
    let total: u64 =
        big["seen_bytes"].parse::<u64>().unwrap() + big["missing_bytes"].parse::<u64>().unwrap();
    assert_eq!(total, 5_416_666_670);
    let ftp = ftp_events(&records);
    // EPSV rows announce the two data flows of conn.log (LIST, RETR).
    let mut data_ports: Vec<String> = zconn
        .iter()
        .filter(|z| z["service"] == "ftp-data")
        .map(|z| z["id.resp_p"].clone())
        .collect();
    data_ports.sort();
    let mut ours_ports: Vec<String> = by_command(&ftp, "EPSV")
        .iter()
        .filter_map(|f| f.data_channel.as_ref().map(|d| d.resp_p.to_string()))
        .collect();
    ours_ports.sort();
    assert_eq!(ours_ports, data_ports);
    // RETR file_size from `SIZE rand.txt` → `213 5416666670`, not from
    // Pure-FTPd's `150 5289713.5 kbytes to download` (its last number is 5).
    let retr = by_command(&ftp, "RETR");
    assert_eq!(retr.len(), 1);
    assert_eq!(
        retr[0].arg.as_deref(),
        Some("ftp://192.168.56.101/rand.txt")
    );
    assert_eq!(retr[0].file_size, Some(total));
    assert_eq!(retr[0].reply_code, Some(226));
    let t = retr[0].transfer.as_ref().expect("RETR data flow");
    assert_eq!(t.id.resp_p.to_string(), big["id.resp_p"]);
    assert_eq!(t.bytes, total, "bytes by sequence numbers, gap included");
    assert_eq!(t.sha256, None, "bytes were lost: no hash");
}
