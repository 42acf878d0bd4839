//! `botscope demo` as a newcomer runs it: the whole study on a synthetic
//! field, the report opened in real headless Chromium, and every table the
//! scenario's `truth.json` states compared with what the page shows.
//!
//! Nothing here is a stored result: the field, its truth and the report are
//! made by the run under test.

use botscope_report::browser;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

fn num(s: &str) -> f64 {
    s.trim()
        .trim_end_matches('%')
        .trim()
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {s:?}"))
}

fn table(dom: &str, id: &str) -> Vec<HashMap<String, String>> {
    browser::data_table_named(dom, id).unwrap_or_else(|| panic!("{id}: no table in the report"))
}

fn notes(dom: &str, id: &str) -> HashMap<String, String> {
    browser::notes(dom, id).unwrap_or_else(|| panic!("{id}: no facts in the report"))
}

/// Label key → (count, percent) of a share table: the label in column 0,
/// the measured count and share in `count_col` and the next column (cells
/// are the exact `data-value`s). Rows the study has and the field has not
/// (measured "—") are left out.
fn shares(dom: &str, id: &str, count_col: usize) -> BTreeMap<String, (u64, Option<f64>)> {
    browser::data_table(dom, id)
        .unwrap_or_else(|| panic!("{id}: no table in the report"))
        .iter()
        .filter(|r| r[count_col] != "—")
        .map(|r| {
            let pct = r.get(count_col + 1).map(|p| num(p));
            (r[0].clone(), (num(&r[count_col]) as u64, pct))
        })
        .collect()
}

/// The same from the truth: `{k: {count, percent}}` or `{k: count}`.
fn truth_shares(v: &Value) -> BTreeMap<String, (u64, Option<f64>)> {
    v.as_object()
        .unwrap_or_else(|| panic!("truth table is not a map: {v}"))
        .iter()
        .map(|(k, x)| match x {
            Value::Object(_) => (
                k.clone(),
                (x["count"].as_u64().unwrap(), x["percent"].as_f64()),
            ),
            n => (k.clone(), (n.as_u64().unwrap(), None)),
        })
        .collect()
}

/// Counts equal; percents equal to the truth's two decimals where it has them.
fn assert_shares(dom: &str, id: &str, count_col: usize, truth: &Value) {
    let got = shares(dom, id, count_col);
    let want = truth_shares(truth);
    let counts = |m: &BTreeMap<String, (u64, Option<f64>)>| -> BTreeMap<String, u64> {
        m.iter().map(|(k, v)| (k.clone(), v.0)).collect()
    };
    assert_eq!(counts(&got), counts(&want), "{id}: counts");
    for (k, (_, want_pct)) in &want {
        if let (Some(w), Some(g)) = (want_pct, got[k].1) {
            assert!((w - g).abs() < 0.006, "{id} {k}: {g}% shown, {w}% true");
        }
    }
}

fn close(got: &str, want: f64, tol: f64, what: &str) {
    let g = num(got);
    assert!((g - want).abs() <= tol, "{what}: {g} shown, {want} true");
}

#[test]
fn demo_report_tables_in_chromium_equal_the_scenario_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    // Run from an empty folder outside the repository, as an installed
    // binary is: shipped data (YARA rules, provider and allow-lists) must
    // come from the binary, not from `data/` found through the cwd.
    let cwd = dir.path().join("empty");
    std::fs::create_dir(&cwd).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .current_dir(&cwd)
        .args(["demo", "--seed", "3", "--out"])
        .arg(&out)
        .output()
        .expect("run botscope demo");
    assert!(
        run.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let report = out.join("report.html");
    assert!(
        stdout.contains(&format!("report: {}", report.display())),
        "demo does not say where the report is: {stdout}"
    );
    // The embedded rules, written out for the specimen step, are the
    // shipped ones, and the store holds both signature sets.
    assert_eq!(
        std::fs::read_to_string(out.join("signatures/irc-bots.yar")).unwrap(),
        include_str!("../../../data/specimen/irc-bots.yar")
    );
    let sets = Command::new(env!("CARGO_BIN_EXE_botscope"))
        .current_dir(&cwd)
        .args(["specimen", "--store"])
        .arg(out.join("store"))
        .args(["set", "list"])
        .output()
        .unwrap();
    assert!(sets.status.success());
    let sets: Vec<Vec<String>> = String::from_utf8_lossy(&sets.stdout)
        .lines()
        .map(|l| l.split('\t').take(3).map(String::from).collect())
        .collect();
    assert_eq!(
        sets,
        vec![
            vec!["antivirus".to_string(), "1".into(), "hashes".into()],
            vec!["irc-bots".to_string(), "1".into(), "yara".into()],
        ]
    );
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "the demo writes only to --out"
    );
    let truth: Value =
        serde_json::from_slice(&std::fs::read(out.join("field/truth.json")).unwrap()).unwrap();
    let t = &truth["tables"];
    let dom = browser::dump_dom(&browser::file_url(&report)).unwrap();

    // Table 1: background traffic per sensor address.
    let t1 = notes(&dom, "table1");
    assert_eq!(
        num(&t1["addresses"]),
        t["table1"]["addresses"].as_f64().unwrap()
    );
    assert_eq!(
        num(&t1["window_secs"]),
        t["table1"]["window_s"].as_f64().unwrap()
    );
    for k in ["avg_kbps_per_address", "peak_kbps_per_address"] {
        close(&t1[k], t["table1"][k].as_f64().unwrap(), 1e-4, k);
    }
    assert_eq!(
        num(&t1["bytes"]),
        t["table1"]["ip_bytes"].as_f64().unwrap(),
        "Table 1 bytes"
    );

    // Table 2: the sensor's catches over the field's days.
    let t2 = table(&dom, "table2");
    let row = |label: &str| t2.iter().find(|r| r["Specimens"] == label).unwrap();
    let want2 = &t["table2"];
    assert_eq!(
        num(&notes(&dom, "table2")["days"]),
        want2["days"].as_f64().unwrap()
    );
    for (label, det, kinds) in [
        ("total", "detections", "kinds"),
        ("known", "known_detections", "known_kinds"),
        ("unknown", "unknown_detections", "unknown_kinds"),
    ] {
        assert_eq!(
            num(&row(label)["Detections"]),
            want2[det].as_f64().unwrap(),
            "Table 2 {label} detections"
        );
        assert_eq!(
            num(&row(label)["Kinds"]),
            want2[kinds].as_f64().unwrap(),
            "Table 2 {label} kinds"
        );
    }
    // The study's figures beside them, and a date rather than an epoch.
    assert_eq!(num(&row("total")["Study: detections"]), 31_846.0);
    let t2_text = browser::strip_tags(
        dom.split("id=\"table2\"")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap(),
    );
    assert!(t2_text.contains(" UTC"), "Table 2 shows no date: {t2_text}");

    // Table 3: the deemed infection rate of the resolver's clients, shown
    // in percent beside the study's.
    let t3 = table(&dom, "table3");
    assert_eq!(t3.len(), 1, "one day, one window");
    let r = &truth["resolver"];
    assert_eq!(
        num(&t3[0]["Clients"]),
        r["distinct_clients"].as_f64().unwrap()
    );
    assert_eq!(
        num(&t3[0]["Infected clients"]),
        r["infected_clients"].as_f64().unwrap()
    );
    close(
        &t3[0]["Deemed infection rate"],
        r["rate"].as_f64().unwrap() * 100.0,
        1e-2,
        "Table 3 rate (percent)",
    );
    let study3 = browser::table_named(&dom, "data-study", "table3").unwrap();
    assert_eq!(num(&study3[0]["Deemed infection rate"]), 2.64);

    // Table 4: bots carrying more than one server.
    let t4 = notes(&dom, "table4");
    assert_eq!(num(&t4["bots"]), t["table4"]["bots"].as_f64().unwrap());
    assert_eq!(
        num(&t4["several_fqdns"]),
        t["table4"]["multi_server"].as_f64().unwrap()
    );

    // Table 6: the demo cannot probe, and the section says why.
    let why6 = browser::no_data(&dom, "table6").expect("Table 6 has no 'no data' sentence");
    assert!(
        why6.contains("synthetic") && why6.contains("botscope intel probe"),
        "Table 6: {why6}"
    );

    // Tables 7-11: exploit vectors, copy methods, IRC ports, DDoS orders,
    // spam relay ports; each beside the study's published row.
    for id in ["table7", "table8", "table9", "table11"] {
        assert_shares(&dom, id, 1, &t[id]);
    }
    assert_shares(&dom, "table10", 2, &t["table10"]);
    // MS03-026 with the study's count: in the main table when the field
    // has it, else among the study's rows not seen here.
    let t7 = table(&dom, "table7");
    let study7 = browser::table_named(&dom, "data-study", "table7").unwrap_or_default();
    let ms03 = t7
        .iter()
        .chain(study7.iter())
        .find(|r| r["Exploit vector"] == "MS03-026")
        .expect("Table 7 has no MS03-026 row");
    assert_eq!(num(&ms03["Study attempts"]), 371_142.0);
    assert_eq!(num(&ms03["Study share"]), 31.5);

    // Fig. 3: every bot and the stages it went through.
    let fig3: BTreeMap<String, BTreeSet<String>> = table(&dom, "fig3")
        .into_iter()
        .map(|r| {
            let stages = r
                .iter()
                .filter(|(k, v)| !matches!(k.as_str(), "Infected host" | "Stages") && !v.is_empty())
                .map(|(k, _)| k.clone())
                .collect();
            (r["Infected host"].clone(), stages)
        })
        .collect();
    let want3: BTreeMap<String, BTreeSet<String>> = t["fig3"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(bot, st)| {
            let st = st.as_array().unwrap().iter();
            (
                bot.clone(),
                st.map(|s| s.as_str().unwrap().into()).collect(),
            )
        })
        .collect();
    assert_eq!(fig3, want3, "Fig. 3");

    // Fig. 5 and the diurnal joins.
    close(
        &notes(&dom, "fig5")["percent_le_100"],
        t["fig5"]["percent_le_100"].as_f64().unwrap(),
        0.006,
        "Fig. 5",
    );
    let joins: Vec<u64> = table(&dom, "diurnal")
        .iter()
        .map(|r| num(&r["IRC joins"]) as u64)
        .collect();
    let want_joins: Vec<u64> = t["joins_per_local_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(joins, want_joins, "diurnal joins");

    // Every step's own output is there for inspection, and the report's
    // data folder holds only report-contract files (no ground truth).
    for f in [
        "data/table7.json",
        "data/table3.json",
        "outputs/dns-rate.json",
        "watchlist.txt",
    ] {
        assert!(Path::new(&out.join(f)).is_file(), "{f} missing");
    }
    for e in std::fs::read_dir(out.join("data")).unwrap().flatten() {
        let name = e.file_name().into_string().unwrap();
        let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        assert_eq!(v["schema_version"], 1, "{name}");
    }
}

/// Shipped data is compiled in (`include_str!`/`include_bytes!`): no
/// program code (outside `#[cfg(test)]`) locates files through the source
/// tree, which an installed binary does not have.
#[test]
fn no_program_code_reads_through_the_source_tree() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(&crates).unwrap().flatten() {
        let src = c.path().join("src");
        if src.is_dir() {
            walk(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "only {} source files found", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let program = text.split("#[cfg(test)]").next().unwrap();
        for (i, line) in program.lines().enumerate() {
            if line.contains("CARGO_MANIFEST_DIR") && !line.trim_start().starts_with("//") {
                bad.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "run-time reads of source paths:\n{}",
        bad.join("\n")
    );
}

/// Table 6 is filled whenever probes exist in the store: `report collect
/// --probes` reads the newest probe of each watch-listed name.
#[test]
fn report_collect_fills_table6_from_the_probes_in_the_store() {
    use botscope_intel::probe::{AddrCheck, DnsStatus, PortCheck, ProbeResult, PtrStatus};
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let addr = |a: &str, ptr: PtrStatus, open: bool| AddrCheck {
        addr: a.parse().unwrap(),
        ptr: vec![],
        ptr_status: ptr,
        ports: vec![PortCheck { port: 6667, open }],
    };
    let probe = |name: &str, status, addrs, bots| ProbeResult {
        name: name.into(),
        ts: botscope_core::Ts::parse_rfc3339("2005-05-20T09:30:00Z").unwrap(),
        resolver: "127.0.0.1:5353".into(),
        status,
        addrs,
        bots,
        active: true,
    };
    let mut st = botscope_intel::store::Store::open(&store).unwrap();
    st.record(&[
        // Several bots, several addresses, one without PTR, none open.
        probe(
            "cc.dyn.example",
            DnsStatus::Resolved,
            vec![
                addr("10.9.0.1", PtrStatus::Agrees, false),
                addr("10.9.0.2", PtrStatus::Missing, false),
            ],
            3,
        ),
        probe("gone.example", DnsStatus::Nxdomain, vec![], 1),
        probe(
            "ok.example",
            DnsStatus::Resolved,
            vec![addr("10.9.0.3", PtrStatus::Agrees, true)],
            1,
        ),
        // Probed but not on the watch list: not counted.
        probe("other.example", DnsStatus::Nxdomain, vec![], 1),
    ])
    .unwrap();
    drop(st);
    let watch = dir.path().join("watch.txt");
    std::fs::write(
        &watch,
        "# names\ncc.dyn.example\ngone.example\nok.example\nnever-probed.example\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let bin = env!("CARGO_BIN_EXE_botscope");
    let o = Command::new(bin)
        .args(["report", "collect", "--data"])
        .arg(&data)
        .arg("--probes")
        .arg(&store)
        .arg("--watchlist")
        .arg(&watch)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t6: Value =
        serde_json::from_slice(&std::fs::read(data.join("table6.json")).unwrap()).unwrap();
    assert_eq!(
        (t6["total"].as_u64(), t6["max_addrs"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(t6["probed_at"], "2005-05-20T09:30:00.000000Z");
    let rows: BTreeMap<String, (u64, Vec<String>)> = t6["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let ev = r["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
                .collect();
            (
                r["label"].as_str().unwrap().to_string(),
                (r["count"].as_u64().unwrap(), ev),
            )
        })
        .collect();
    let one = |n: &str| (1u64, vec![n.to_string()]);
    assert_eq!(rows["several_bots"], one("cc.dyn.example"));
    assert_eq!(rows["several_addrs"], one("cc.dyn.example"));
    assert_eq!(rows["not_resolvable"], one("gone.example"));
    assert_eq!(rows["unreachable"], one("cc.dyn.example"));
    assert_eq!(rows["fwd_rev_disagree"], one("cc.dyn.example"));
    // The report shows it beside the study's Table 6.
    let html = data.join("r.html");
    let o = Command::new(bin)
        .args(["report", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&html)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = browser::dump_dom(&browser::file_url(&html)).unwrap();
    let t = table(&dom, "table6");
    let row = t
        .iter()
        .find(|r| r["DNS state"] == "not_resolvable")
        .unwrap();
    assert_eq!(row["Measured FQDNs"], "1");
    assert_eq!(num(&row["Measured share"]), 33.33);
    assert_eq!(row["Study FQDNs"], "23");
    assert_eq!(
        notes(&dom, "table6")["probed_at"],
        "2005-05-20T09:30:00.000000Z"
    );
}
