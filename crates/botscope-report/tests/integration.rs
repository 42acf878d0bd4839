//! The report and the dashboard as a person sees them: rendered files and
//! a live server opened in real headless Chromium, table cells read back
//! from the DOM and compared with the data, evidence links followed.
//!
//! The data folder is generated here (no committed results): paper-sized
//! tables with evidence lists, infection sequences, orders, and an
//! infected-client series drawn from a known logistic curve.

use botscope_report::browser::{self, strip_tags};
use botscope_report::{render_report, Format};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use std::time::Duration;

fn chromium(url: &str, extra: &[&str]) -> String {
    browser::chromium(url, extra).unwrap_or_else(|e| panic!("{e}"))
}

fn dump_dom(url: &str) -> String {
    browser::dump_dom(url).unwrap_or_else(|e| panic!("{e}"))
}

fn screenshot(url: &str, name: &str, size: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    let _ = std::fs::remove_file(&file);
    chromium(
        url,
        &[
            &format!("--screenshot={}", file.display()),
            &format!("--window-size={size}"),
            "--virtual-time-budget=3000",
            "--allow-file-access-from-files",
        ],
    );
    let png = std::fs::read(&file).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 10_000,
        "screenshot is nearly empty ({} bytes)",
        png.len()
    );
    file
}

/// Rows of a data table as column name → cell text.
fn dom_named(dom: &str, id: &str) -> Vec<std::collections::HashMap<String, String>> {
    browser::data_table_named(dom, id).unwrap_or_else(|| panic!("table {id} not in DOM"))
}

/// Rows of the `<table class="data" data-section="ID">` in a DOM dump, as cell texts.
fn dom_table(dom: &str, id: &str) -> Vec<Vec<String>> {
    browser::data_table(dom, id).unwrap_or_else(|| panic!("table {id} not in DOM"))
}

fn vector_rows() -> Vec<(&'static str, u64, f64)> {
    vec![
        ("MS03-026 RPC DCOM BO", 371_142, 31.5),
        ("MS04-011 LSASS BO", 313_754, 26.7),
        ("Share Access", 278_586, 23.7),
        ("MS03-039 RPCSS BO", 212_503, 18.1),
        ("MS04-007 ASN.1 BO", 1_046, 0.1),
        ("MS02-045 SMB BO", 24, 0.0),
        ("MS03-043 Messenger BO", 12, 0.0),
    ]
}

/// Logistic infected-client counts (p = 0.9/day, θ = 5000, M₀ = 20).
fn infected_at(day: f64) -> f64 {
    let (p, theta, m0) = (0.9f64, 5000.0f64, 20.0f64);
    let k = p * theta;
    k / (1.0 + (k / m0 - 1.0) * (-p * day).exp())
}

fn write_fixture(dir: &Path) {
    let t0 = 1_115_683_200i64; // 2005-05-10T00:00:00Z
    let table7: Vec<Value> = vector_rows()
        .iter()
        .enumerate()
        .map(|(i, (v, n, pct))| {
            // Row 0 carries more evidence than is shown (25 > 10).
            let ev: Vec<Value> = (0..if i == 0 { 25 } else { 2 })
                .map(|k| json!({"uid": format!("C{i}x{k}"), "packets": [k * 10 + 1, k * 10 + 4]}))
                .collect();
            json!({"vector": v, "count": n, "percent": pct, "evidence": ev})
        })
        .collect();
    let sequences: Vec<Value> = (0..3)
        .map(|v| {
            let base = t0 + 3600 * v;
            json!({"victim": format!("10.0.0.{}", v + 10), "steps": [
                {"step": "exploit", "ts": base, "evidence": [{"uid": format!("CE{v}"), "packets": [1]}]},
                {"step": "copy", "ts": base + 4 + v},
                {"step": "scan", "ts": base + 9 + v},
                {"step": "irc", "ts": base + 30 + 2 * v},
                {"step": "update", "ts": base + 45 + 3 * v},
            ]})
        })
        .collect();
    let analysis = json!({
        "table7": {"rows": table7, "total": 1_177_067},
        "table9": {"rows": [
            {"port": 6667, "sessions": 953, "percent": 48.0, "evidence": ["C9a", "C9b"]},
            {"port": 5562, "sessions": 576, "percent": 29.0, "evidence": ["C9c"]},
        ]},
        "fig3": sequences,
        "fig5": {"bins": [{"requests": "1-100", "count": 73}, {"requests": "101-1000", "count": 20}, {"requests": ">1000", "count": 7}]},
        "orders": [
            {"ts": "2005-05-10T01:00:00Z", "raw": ".advscan dcom135 260 5 0 -b -r -s", "command": "advscan", "evidence": [{"uid": "Cord1", "packets": [77]}]},
            {"ts": "2005-05-10T02:00:00Z", "raw": "ntscan 200 2000 -a -b -s", "command": "ntscan"},
        ],
        "diurnal": (0..24).map(|h| if (9..18).contains(&h) { 10 + h } else { 2 }).collect::<Vec<_>>(),
        "floods": [
            {"source": "10.0.0.10", "start": 100.0, "end": 160.0, "packets": 6000},
            {"source": "10.0.0.11", "start": 100.0, "end": 140.0, "packets": 4000},
        ],
    });
    let series: Vec<Value> = (0..20)
        .map(|d| {
            let inf = infected_at(d as f64).round();
            json!({"t": t0 + d * 86_400, "infected": inf, "clients": 200_000, "rate": inf / 2000.0})
        })
        .collect();
    let dns = json!({
        "table3": [{"isp": "ISP A", "date": "2005-05-11", "rate_percent": 2.64, "infected": 2640, "clients": 100_000, "evidence": [{"file": "query.log", "line": 812}]}],
        "rate_series": series,
    });
    let intel =
        json!({"tables": {"table5": {"Dynamic DNS": 19, "DNS service": 15, "unknown": 13}}});
    std::fs::write(
        dir.join("analysis.json"),
        serde_json::to_vec_pretty(&analysis).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("dns-rate.json"), serde_json::to_vec(&dns).unwrap()).unwrap();
    std::fs::write(dir.join("intel.json"), serde_json::to_vec(&intel).unwrap()).unwrap();
    std::fs::write(
        dir.join("table2.json"),
        br#"{"total":{"detections":31846,"kinds":3705},"days":42}"#,
    )
    .unwrap();
    // A writer died half-way through this one.
    std::fs::write(
        dir.join("specimens.json"),
        br#"{"table4": {"rows": [{"servers": 1, "count": 81"#,
    )
    .unwrap();
}

fn url_of(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn html_report_in_chromium_matches_data_and_evidence_links_work() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let out = dir.path().join("report.html");
    let summary = render_report(dir.path(), &out, Format::Html).unwrap();
    assert_eq!(summary.unreadable.len(), 1, "{:?}", summary.unreadable);
    assert!(summary.unreadable[0].starts_with("specimens.json: "));
    let html = std::fs::read_to_string(&out).unwrap();
    // Self-contained: nothing is fetched.
    for bad in ["<script", "src=\"http", "href=\"http", "<link", "@import"] {
        assert!(!html.contains(bad), "report contains {bad}");
    }

    let dom = dump_dom(&url_of(&out));
    let rows = dom_named(&dom, "table7");
    assert_eq!(rows.len(), 7);
    for (row, (v, n, pct)) in rows.iter().zip(vector_rows()) {
        assert_eq!(row["vector"], v);
        assert_eq!(row["count"], n.to_string());
        assert_eq!(row["percent"].parse::<f64>().unwrap(), pct);
    }
    assert!(dom.contains("<td class=\"num\"><a href=\"#ev-table7-0\">371142</a></td>"));
    let t9 = dom_named(&dom, "table9");
    assert_eq!(
        (
            t9[0]["port"].as_str(),
            t9[0]["sessions"].as_str(),
            t9[0]["percent"].as_str()
        ),
        ("6667", "953", "48")
    );
    assert_eq!(
        (
            t9[1]["port"].as_str(),
            t9[1]["sessions"].as_str(),
            t9[1]["percent"].as_str()
        ),
        ("5562", "576", "29")
    );
    let t5 = dom_table(&dom, "table5");
    assert!(
        t5.contains(&vec!["Dynamic DNS".to_string(), "19".into()]),
        "{t5:?}"
    );
    assert_eq!(t5.len(), 3);
    let t3 = &dom_named(&dom, "table3")[0];
    assert_eq!(
        (
            t3["isp"].as_str(),
            t3["date"].as_str(),
            t3["rate_percent"].as_str()
        ),
        ("ISP A", "2005-05-11", "2.64")
    );
    assert_eq!(
        (t3["infected"].as_str(), t3["clients"].as_str()),
        ("2640", "100000")
    );
    // Fig. 3: delays after the exploit, per victim.
    let f3 = dom_table(&dom, "fig3");
    assert_eq!(
        f3[2],
        vec!["10.0.0.12", "+0 s", "+6 s", "+11 s", "+34 s", "+51 s", "5"]
    );
    let diurnal = dom_table(&dom, "diurnal");
    assert_eq!(diurnal.len(), 24);
    assert_eq!(diurnal[10], vec!["10", "20"]);
    let orders = dom_named(&dom, "orders");
    assert_eq!(orders[0]["raw"], ".advscan dcom135 260 5 0 -b -r -s");
    assert_eq!(orders[1]["command"], "ntscan");
    // Missing and broken sections say so.
    let t4 = &dom[dom.find("<section id=\"table4\"").unwrap()..];
    assert!(t4[..t4.find("</section>").unwrap()].contains("no data"));
    assert!(dom.contains("specimens.json: "));
    // Table 2 from its own file, as facts.
    let t2 = &dom[dom.find("<section id=\"table2\"").unwrap()..];
    assert!(t2[..t2.find("</section>").unwrap()].contains("<td>days</td><td class=\"num\">42</td>"));
    let t2 = &dom_named(&dom, "table2")[0];
    assert_eq!(
        (
            t2["label"].as_str(),
            t2["detections"].as_str(),
            t2["kinds"].as_str()
        ),
        ("total", "31846", "3705")
    );
    // Every figure has its SVG.
    for id in ["table7", "fig3", "fig5", "rate_series", "diurnal", "model"] {
        let s = &dom[dom.find(&format!("<section id=\"{id}\"")).unwrap()..];
        assert!(
            s[..s.find("</section>").unwrap()].contains("<svg"),
            "{id} has no chart"
        );
    }
    // The model section recovers the series' logistic parameters.
    let model = dom_table(&dom, "model");
    let get = |name: &str| -> f64 {
        model
            .iter()
            .find(|r| r[1] == name)
            .unwrap_or_else(|| panic!("{name} missing: {model:?}"))[2]
            .parse()
            .unwrap()
    };
    assert!((get("p (per day)") - 0.9).abs() < 0.045, "{model:?}");
    assert!((get("θ") - 5000.0).abs() < 250.0, "{model:?}");
    // Floods: 10000 packets over 100 bot-seconds.
    assert_eq!(get("P (packets per bot per s)"), 100.0);

    // Evidence: the panel of row 0 lists 10 items and "15 more".
    let ev = &dom[dom.find("id=\"ev-table7-0\"").unwrap()..];
    let ev = &ev[..ev.find("</div>").unwrap()];
    assert_eq!(ev.matches("<li>").count(), 10);
    assert!(ev.contains("uid C0x3 · packets 31, 34"));
    assert!(ev.contains(
        "15 more</a> in <code>analysis.json</code> at <code>/table7/rows/0/evidence</code>"
    ));

    // Follow the link as a person would: click it in a frame and check
    // that the target is the URL fragment, shown and scrolled into view.
    let check = dir.path().join("follow.html");
    std::fs::write(
        &check,
        r##"<!DOCTYPE html><html><body><iframe id="f" src="report.html" width="1000" height="700"></iframe><pre id="out">pending</pre>
<script>
document.getElementById('f').addEventListener('load', function () {
  var d = this.contentDocument, w = this.contentWindow;
  var link = d.querySelector('a[href="#ev-table7-0"]');
  link.click();
  setTimeout(function () {
    var t = d.getElementById('ev-table7-0'), r = t.getBoundingClientRect(), cs = w.getComputedStyle(t);
    document.getElementById('out').textContent = JSON.stringify({
      hash: w.location.hash, top: r.top, height: r.height, vh: w.innerHeight,
      display: cs.display, visibility: cs.visibility, target: d.querySelector(':target') === t,
      items: t.querySelectorAll('li').length });
  }, 300);
});
</script></body></html>"##,
    )
    .unwrap();
    let dom = chromium(
        &url_of(&check),
        &[
            "--dump-dom",
            "--virtual-time-budget=5000",
            "--allow-file-access-from-files",
        ],
    );
    let res = &dom[dom.find("<pre id=\"out\">").unwrap() + 14..];
    let res: Value =
        serde_json::from_str(&strip_tags(&res[..res.find("</pre>").unwrap()])).unwrap();
    assert_eq!(res["hash"], "#ev-table7-0", "{res}");
    assert_eq!(res["target"], true, "{res}");
    assert_eq!(res["items"], 10);
    assert_ne!(res["display"], "none");
    assert_eq!(res["visibility"], "visible");
    let (top, h, vh) = (
        res["top"].as_f64().unwrap(),
        res["height"].as_f64().unwrap(),
        res["vh"].as_f64().unwrap(),
    );
    assert!(
        h > 0.0 && top >= -1.0 && top < vh,
        "evidence panel not in view: {res}"
    );

    screenshot(&url_of(&out), "report.png", "1200,2400");
    // Headless screenshots ignore a top-level #fragment: shoot the frame
    // that followed the link instead.
    screenshot(&url_of(&check), "report-evidence.png", "1100,800");
}

#[test]
fn markdown_and_json_forms_carry_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let md_path = dir.path().join("report.md");
    let js_path = dir.path().join("report.json");
    render_report(dir.path(), &md_path, Format::Markdown).unwrap();
    render_report(dir.path(), &js_path, Format::Json).unwrap();
    let md = std::fs::read_to_string(&md_path).unwrap();
    assert!(md.contains("| vector | count | percent |"), "{md}");
    assert!(md.contains("| MS04-011 LSASS BO | 313754 | 26.7 |"));
    assert!(md.contains("- **MS03-026 RPC DCOM BO**: `uid C0x0 · packets 1, 4`"));
    assert!(md.contains("… 15 more"));
    assert!(md.contains("## Table 4 — Bots carrying more than one IRC server\n\nno data"));
    let js: Value = serde_json::from_str(&std::fs::read_to_string(&js_path).unwrap()).unwrap();
    let t7 = js["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "table7")
        .unwrap();
    assert_eq!(
        t7["source"],
        json!({"file": "analysis.json", "pointer": "/table7/rows"})
    );
    assert_eq!(t7["count_column"], "count");
    let counts: Vec<u64> = t7["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cells"][1].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        counts,
        vector_rows().iter().map(|r| r.1).collect::<Vec<_>>()
    );
    assert_eq!(t7["rows"][0]["evidence_more"], 15);
    assert_eq!(t7["notes"][0], json!({"name": "total", "value": "1177067"}));
}

#[test]
fn huge_evidence_lists_stay_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // 300k evidence ids behind one count: the report shows 10 and says how many more.
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("analysis.json")).unwrap());
    write!(
        f,
        "{{\"table8\":[{{\"method\":\"TFTP GET\",\"count\":300000,\"evidence\":["
    )
    .unwrap();
    for i in 0..300_000 {
        write!(f, "{}\"C{i}\"", if i > 0 { "," } else { "" }).unwrap();
    }
    write!(f, "]}}]}}").unwrap();
    drop(f);
    let out = dir.path().join("r.html");
    render_report(dir.path(), &out, Format::Html).unwrap();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.len() < 200_000, "{} bytes", html.len());
    assert!(html.contains("<code>C9</code>") && !html.contains("<code>C10</code>"));
    assert!(html.contains("299990 more</a>"));
}

/// Minimal HTTP GET over a TcpStream (status line and body).
fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    let code = r[9..12].parse().unwrap();
    (
        code,
        r[r.find("\r\n\r\n").map(|i| i + 4).unwrap_or(0)..].to_string(),
    )
}

fn start_server(cfg: botscope_report::serve::ServeConfig) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(l.local_addr().unwrap()).unwrap();
            botscope_report::serve::serve(cfg, l).await.unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

#[test]
fn dashboard_updates_live_in_chromium_while_a_writer_appends() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let events = dir.path().join("events.jsonl");
    let line = |kind: &str, uid: &str| {
        format!(
            "{{\"kind\":\"{kind}\",\"ts\":\"2005-05-10T01:00:00.000000Z\",\"uid\":\"{uid}\"}}\n"
        )
    };
    // Two complete lines and a partial third (the writer is mid-write).
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&events)
        .unwrap();
    write!(
        f,
        "{}{}{{\"kind\":\"dns\",\"ts\":",
        line("irc", "C1"),
        line("irc", "C2")
    )
    .unwrap();
    f.flush().unwrap();
    let addr = start_server(botscope_report::serve::ServeConfig {
        data: dir.path().to_path_buf(),
        token: None,
    });
    let url = format!("http://{addr}/");

    let dom1 = dump_dom(&url);
    let live1 = dom_table(&dom1, "live");
    assert_eq!(live1, vec![vec!["events.jsonl", "irc", "2"]]);
    assert_eq!(dom_table(&dom1, "table7")[0][1], "371142");
    // "N more" evidence links lead to the served data file.
    assert!(dom1.contains("<a href=\"data/analysis.json\">15 more</a>"));
    screenshot(&url, "dashboard-1.png", "1200,2400");

    // The writer completes its line, appends more, and rewrites analysis.json
    // (first half-written: the dashboard keeps the last good version).
    write!(
        f,
        "\"2005-05-10T01:00:01Z\",\"uid\":\"C3\"}}\n{}{}",
        line("tftp", "C4"),
        line("irc", "C5")
    )
    .unwrap();
    f.flush().unwrap();
    std::fs::write(
        dir.path().join("analysis.json"),
        b"{\"table7\": [{\"vector\": \"MS03-026\"",
    )
    .unwrap();
    let dom2 = dump_dom(&url);
    let live2 = dom_table(&dom2, "live");
    assert_eq!(
        live2,
        vec![
            vec!["events.jsonl", "dns", "1"],
            vec!["events.jsonl", "irc", "3"],
            vec!["events.jsonl", "tftp", "1"]
        ]
    );
    assert_eq!(
        dom_table(&dom2, "table7")[0][1],
        "371142",
        "last good analysis.json kept"
    );
    let recent = dom_table(&dom2, "recent");
    assert_eq!(
        recent[0][..3],
        ["events.jsonl".to_string(), "5".into(), "irc".into()]
    );
    assert!(recent[0][4].contains("uid C5"));

    // The rewrite completes with new numbers; the writer restarts its log.
    let mut a: Value =
        serde_json::from_str(r#"{"table7": [{"vector": "MS03-026", "count": 5}]}"#).unwrap();
    a["table7"][0]["evidence"] = json!(["C9"]);
    std::fs::write(dir.path().join("analysis.json"), a.to_string()).unwrap();
    std::fs::write(&events, line("http", "C6")).unwrap();
    let dom3 = dump_dom(&url);
    assert_eq!(
        dom_table(&dom3, "live"),
        vec![vec!["events.jsonl", "http", "1"]]
    );
    assert_eq!(dom_table(&dom3, "table7"), vec![vec!["MS03-026", "5"]]);
    screenshot(&url, "dashboard-2.png", "1200,2400");

    // The page polls for changes: the version moves when the folder does.
    let (c, v1) = http_get(addr, "/api/version");
    assert_eq!(c, 200);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap()
        .write_all(line("irc", "C7").as_bytes())
        .unwrap();
    let (_, v2) = http_get(addr, "/api/version");
    assert_ne!(v1, v2);
    let (c, body) = http_get(addr, "/data/../../etc/passwd");
    assert_eq!(c, 404, "{body}");
    let (c, body) = http_get(addr, "/data/dns-rate.json");
    assert_eq!(c, 200);
    assert!(body.contains("\"table3\""));
}

#[test]
fn dashboard_token_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let addr = start_server(botscope_report::serve::ServeConfig {
        data: dir.path().to_path_buf(),
        token: Some("s3cret".into()),
    });
    assert_eq!(http_get(addr, "/").0, 401);
    assert_eq!(http_get(addr, "/api/report.json?token=wrong").0, 401);
    let (c, body) = http_get(addr, "/api/report.json?token=s3cret");
    assert_eq!(c, 200);
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["sections"][0]["id"], "live");
    let dom = dump_dom(&format!("http://{addr}/?token=s3cret"));
    assert_eq!(dom_named(&dom, "table9")[1]["sessions"], "576");
}
