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
        ("MS03-026", 371_142, 31.53),
        ("MS04-011", 313_754, 26.66),
        ("Share Access", 278_586, 23.67),
        ("MS03-039", 212_503, 18.05),
        ("MS04-007", 1_046, 0.09),
        ("MS02-045", 24, 0.0),
    ]
}

/// Logistic infected-client counts (p = 0.9/day, θ = 5000, M₀ = 20).
fn infected_at(day: f64) -> f64 {
    let (p, theta, m0) = (0.9f64, 5000.0f64, 20.0f64);
    let k = p * theta;
    k / (1.0 + (k / m0 - 1.0) * (-p * day).exp())
}

fn put(dir: &Path, id: &str, v: &Value) {
    std::fs::write(
        dir.join(format!("{id}.json")),
        serde_json::to_vec_pretty(v).unwrap(),
    )
    .unwrap();
}

/// A data folder of report-contract files (one per section), plus a
/// half-written one, a stray file and a ground truth that must be ignored.
fn write_fixture(dir: &Path) {
    let t0 = 1_115_683_200i64; // 2005-05-10T00:00:00Z
    let ts = |s: i64| botscope_core::Ts(s * 1_000_000).rfc3339();
    let rows: Vec<Value> = vector_rows()
        .iter()
        .enumerate()
        .map(|(i, (v, n, pct))| {
            // Row 0 has more evidence than the producer listed (20 + 5).
            let ev: Vec<String> = (0..if i == 0 { 20 } else { 2 })
                .map(|k| format!("C{i}x{k} packets {}", k * 10 + 1))
                .collect();
            json!({"label": v, "count": n, "percent": pct, "evidence": ev,
                   "evidence_more": if i == 0 { 5 } else { 0 }})
        })
        .collect();
    put(
        dir,
        "table7",
        &json!({"schema_version": 1, "total": 1_177_055, "rows": rows}),
    );
    put(
        dir,
        "table9",
        &json!({"schema_version": 1, "total": 1529, "rows": [
        {"label": "6667", "count": 953, "percent": 62.33, "evidence": ["C9a", "C9b"]},
        {"label": "5562", "count": 576, "percent": 37.67, "evidence": ["C9c"]}]}),
    );
    put(
        dir,
        "table2",
        &json!({"schema_version": 1, "from": "2005-04-21", "to": "2005-05-12",
        "days": 42, "as_of": "2005-05-13T00:00:00.000000Z",
        "total": {"detections": 31846, "kinds": 3705, "detections_per_day": 758.2, "kinds_per_day": 88.2},
        "known": {"detections": 28309, "kinds": 767, "detections_per_day": 674.0, "kinds_per_day": 18.3},
        "unknown": {"detections": 3537, "kinds": 2938, "detections_per_day": 84.2, "kinds_per_day": 70.0},
        "evidence": ["sightings in the store"]}),
    );
    put(
        dir,
        "table3",
        &json!({"schema_version": 1, "counting": "exact", "relative_error": null,
        "rows": [{"group": "ISP A", "start": "2005-05-11T00:00:00Z", "end": "2005-05-12T00:00:00Z",
                  "clients": 100000, "infected": 2640, "rate": 0.0264, "queries": 9, "matched_queries": 3,
                  "evidence": ["client 10.1.0.7 resolved a.example"], "evidence_more": 2639}]}),
    );
    let sequences: Vec<Value> = (0..3)
        .map(|v| {
            let base = t0 + 3600 * v;
            let st = |name: &str, d: i64| json!({"stage": name, "ts": ts(base + d), "delta_s": d, "evidence": format!("C{name}{v}")});
            json!({"bot": format!("10.0.0.{}", v + 10), "stages": [
                st("exploit", 0), st("copy", 4 + v), st("scan", 9 + v),
                st("irc_join", 30 + 2 * v), st("update", 45 + 3 * v)]})
        })
        .collect();
    put(
        dir,
        "fig3",
        &json!({"schema_version": 1, "sequences": sequences}),
    );
    put(
        dir,
        "fig5",
        &json!({"schema_version": 1, "days": 6.0, "percent_le_100": 73.0, "bins": [
        {"lower": 1, "upper": 100, "sources": 73, "evidence": ["10.9.0.1 via 10.0.0.10:3186: 12 requests"]},
        {"lower": 101, "upper": 1000, "sources": 20},
        {"lower": 1001, "upper": null, "sources": 7}]}),
    );
    put(
        dir,
        "orders",
        &json!({"schema_version": 1,
        "commands": [{"label": "advscan", "count": 1, "percent": 50.0, "evidence": ["Cord1"]},
                     {"label": "ntscan", "count": 1, "percent": 50.0}],
        "rows": [{"ts": "2005-05-10T01:00:00Z", "bot": "10.0.0.10", "via": "topic", "command": "advscan",
                  "raw": ".advscan dcom135 260 5 0 -b -r -s", "evidence": ["session Cord1"]},
                 {"ts": "2005-05-10T02:00:00Z", "bot": "10.0.0.11", "via": "privmsg", "command": "ntscan",
                  "raw": "ntscan 200 2000 -a -b -s"}]}),
    );
    let hours: Vec<Value> = (0..24)
        .map(|h| json!({"hour": h, "joins": if (9..18).contains(&h) { 10 + h } else { 2 }, "evidence": [format!("session S{h}")]}))
        .collect();
    put(
        dir,
        "diurnal",
        &json!({"schema_version": 1, "tz_offset_s": 32400, "hours": hours}),
    );
    let points: Vec<Value> = (0..20)
        .map(|d| {
            let inf = infected_at(d as f64).round();
            json!({"start": ts(t0 + d * 86_400), "clients": 200_000, "infected": inf as u64, "rate": inf / 200_000.0})
        })
        .collect();
    put(
        dir,
        "rate_series",
        &json!({"schema_version": 1, "window_secs": 86400, "group": "all", "points": points}),
    );
    put(
        dir,
        "table10",
        &json!({"schema_version": 1, "total": 2,
        "rows": [{"label": "ddos.synflood", "count": 2, "percent": 100.0, "evidence": ["Cdd1", "Cdd2"]}],
        "floods": [
            {"source": "10.0.0.10", "target": "10.5.0.1", "command": "ddos.synflood", "port": 6667,
             "start": ts(t0 + 100), "end": ts(t0 + 160), "packets": 6000},
            {"source": "10.0.0.11", "target": "10.5.0.1", "command": "ddos.synflood", "port": 6667,
             "start": ts(t0 + 100), "end": ts(t0 + 140), "packets": 4000}]}),
    );
    put(
        dir,
        "table6",
        &json!({"schema_version": 1, "section": "table6",
        "unavailable": "no resolver answers for these names", "command": "botscope intel probe W"}),
    );
    // A writer died half-way through this one.
    std::fs::write(
        dir.join("table5.json"),
        br#"{"schema_version": 1, "total": 68, "rows": [{"label""#,
    )
    .unwrap();
    // Neither of these is a report input: no table4.json, so Table 4 has no data.
    std::fs::write(
        dir.join("analysis.json"),
        br#"{"table4": {"bots": 100, "several_fqdns": 19}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("truth.json"),
        br#"{"tables": {"table4": {"bots": 77, "multi_server": 11}}}"#,
    )
    .unwrap();
}

fn url_of(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let s = &dom[dom
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"))..];
    &s[..s.find("</section>").unwrap()]
}

#[test]
fn html_report_in_chromium_matches_data_and_study_figures() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let out = dir.path().join("report.html");
    let summary = render_report(dir.path(), &out, Format::Html).unwrap();
    assert_eq!(summary.unreadable.len(), 1, "{:?}", summary.unreadable);
    assert!(summary.unreadable[0].starts_with("table5.json: "));
    let html = std::fs::read_to_string(&out).unwrap();
    // Self-contained: nothing is fetched.
    for bad in [
        "<script",
        "src=\"http",
        "href=\"http",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(bad), "report contains {bad}");
    }

    let dom = dump_dom(&url_of(&out));
    // Table 7: measured cells (exact values behind the text) and the
    // study's published row beside each.
    let rows = dom_named(&dom, "table7");
    assert_eq!(rows.len(), 6);
    for (row, (v, n, pct)) in rows.iter().zip(vector_rows()) {
        assert_eq!(row["Exploit vector"], v);
        assert_eq!(row["Measured attempts"], n.to_string());
        assert_eq!(row["Measured share"].parse::<f64>().unwrap(), pct);
    }
    assert_eq!(rows[0]["Study attempts"], "371142");
    assert_eq!(rows[0]["Study share"], "31.5");
    // What a person reads: words, separators, one decimal, the study's wording.
    let text = browser::data_table_text(&dom, "table7").unwrap();
    assert_eq!(
        text[0][..6],
        [
            "MS03-026 RPC DCOM BO",
            "371,142",
            "31.5 %",
            "371,142",
            "31.5 %",
            "0.0 pts"
        ]
    );
    assert_eq!(text[3][2], "18.1 %");
    // The study's row this field has not seen.
    let study7 = browser::table_named(&dom, "data-study", "table7").unwrap();
    assert_eq!(study7.len(), 1);
    assert_eq!(study7[0]["Exploit vector"], "MS03-043");
    assert_eq!(study7[0]["Study attempts"], "12");
    assert!(section(&dom, "table7").contains("<a href=\"#ev-table7-0\">371,142</a>"));
    // Table 9: ports; the study's 6667 at 48 %.
    let t9 = dom_named(&dom, "table9");
    assert_eq!(
        (
            t9[0]["IRC server port"].as_str(),
            t9[0]["Measured sessions"].as_str(),
            t9[0]["Study share"].as_str()
        ),
        ("6667", "953", "48")
    );
    // Table 3: percent, the period as dates, the study's rows beside.
    let t3 = &browser::data_table_text(&dom, "table3").unwrap()[0];
    assert_eq!(
        t3[..5],
        [
            "ISP A",
            "2005-05-11 00:00 UTC – 2005-05-12 00:00 UTC",
            "100,000",
            "2,640",
            "2.6 %"
        ]
    );
    let s3 = browser::table_named(&dom, "data-study", "table3").unwrap();
    assert_eq!(
        s3.iter()
            .map(|r| r["Deemed infection rate"].as_str())
            .collect::<Vec<_>>(),
        ["2.64", "2.1", "2.44"]
    );
    // Table 2: facts with a date (not an epoch), rows beside the study's.
    let n2 = browser::notes(&dom, "table2").unwrap();
    assert_eq!(n2["days"], "42");
    assert!(section(&dom, "table2").contains("2005-05-13 00:00 UTC"));
    let t2 = dom_named(&dom, "table2");
    assert_eq!(
        (
            t2[0]["Specimens"].as_str(),
            t2[0]["Detections"].as_str(),
            t2[0]["Kinds"].as_str(),
            t2[0]["Study: detections"].as_str()
        ),
        ("total", "31846", "3705", "31,846")
    );
    // Fig. 3: delays after the exploit, in the study's stage order.
    let f3 = browser::data_table_text(&dom, "fig3").unwrap();
    assert_eq!(
        f3[2],
        ["10.0.0.12", "+0 s", "+6 s", "+11 s", "+34 s", "+51 s", "5"]
    );
    assert!(section(&dom, "fig3")
        .contains("3 of 3 infected hosts went through the stages in the study's order"));
    // Diurnal: 24 hours in local time.
    let diurnal = dom_named(&dom, "diurnal");
    assert_eq!(diurnal.len(), 24);
    assert_eq!(
        (
            diurnal[10]["Local hour"].as_str(),
            diurnal[10]["IRC joins"].as_str()
        ),
        ("10", "20")
    );
    assert!(section(&dom, "diurnal").contains("UTC+09:00"));
    // Fig. 5 with the study's 73 %.
    assert_eq!(
        browser::notes(&dom, "fig5").unwrap()["percent_le_100"],
        "73"
    );
    let orders = browser::table_named(&dom, "data-extra", "orders").unwrap();
    assert_eq!(orders[0]["Order"], ".advscan dcom135 260 5 0 -b -r -s");
    // Missing, unavailable and broken sections say so and name the command.
    let t4 = browser::no_data(&dom, "table4").unwrap();
    assert!(
        t4.contains("table4.json is not in the data folder")
            && t4.contains("botscope specimen --json table4"),
        "{t4}"
    );
    assert!(!section(&dom, "table4").contains("77") && !section(&dom, "table4").contains(">19<"));
    let t6 = browser::no_data(&dom, "table6").unwrap();
    assert!(
        t6.contains("no resolver answers for these names") && t6.contains("botscope intel probe"),
        "{t6}"
    );
    let t5 = browser::no_data(&dom, "table5").unwrap();
    assert!(t5.contains("table5.json cannot be read"), "{t5}");
    // The chart chosen for each figure.
    for (id, mark) in [
        ("table7", "measured"),
        ("fig3", "square-root scale"),
        ("fig5", "100 requests"),
        ("rate_series", "residuals"),
        ("diurnal", "shaded: 22h–6h"),
    ] {
        let s = section(&dom, id);
        assert!(
            s.contains("<svg") && s.contains(mark),
            "{id} has no chart with {mark:?}: {}",
            &s[..s.len().min(1500)]
        );
    }
    // The model section recovers the series' logistic parameters.
    let model = dom_named(&dom, "model");
    let get = |key: &str| -> f64 {
        model
            .iter()
            .find(|r| r["Parameter"] == key)
            .unwrap_or_else(|| panic!("{key} missing: {model:?}"))["Value"]
            .parse()
            .unwrap()
    };
    assert!((get("p") - 0.9).abs() < 0.045, "{model:?}");
    assert!((get("theta") - 5000.0).abs() < 250.0, "{model:?}");
    // Floods: 10000 packets over 100 bot-seconds.
    assert_eq!(get("P"), 100.0);

    // Evidence: the panel of row 0 lists the 20 items and "5 more".
    let ev = &dom[dom.find("id=\"ev-table7-0\"").unwrap()..];
    let end = ev.find("</ul>").unwrap();
    let ev = &ev[..end + ev[end..].find("</div>").unwrap()];
    assert_eq!(ev.matches("<li>").count(), 20);
    assert!(ev.contains("C0x3 packets 31"));
    assert!(ev.contains("5 more not listed by the producer"));

    // Follow the link as a person would: click it in a frame and check
    // that the panel is the URL fragment, opened and scrolled into view.
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
    var li = t.querySelector('li'), lr = li.getBoundingClientRect();
    document.getElementById('out').textContent = JSON.stringify({
      hash: w.location.hash, top: r.top, height: r.height, vh: w.innerHeight,
      other: w.getComputedStyle(d.getElementById('ev-table7-1')).display,
      item_height: lr.height, display: cs.display, target: d.querySelector(':target') === t,
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
    // One click shows the evidence; the other panels stay out of the way.
    assert!(res["item_height"].as_f64().unwrap() > 0.0, "{res}");
    assert_eq!(res["other"], "none", "{res}");
    assert_eq!(res["items"], 20);
    assert_ne!(res["display"], "none");
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
    screenshot(&url_of(&check), "report-evidence.png", "1100,800");
}

#[test]
fn a_folder_holding_only_the_ground_truth_gives_no_data_sections() {
    let dir = tempfile::tempdir().unwrap();
    // Everything a key-guessing report would have taken from the truth.
    let truth = json!({"tables": {
        "table1": {"addresses": 16, "window_s": 86400, "avg_kbps_per_address": 0.4321},
        "table2": {"days": 1, "detections": 4242, "kinds": 4141},
        "table4": {"bots": 77, "multi_server": 11, "percent": 14.29},
        "table7": {"MS03-026": {"count": 987654, "percent": 55.55}},
        "table9": {"6667": {"count": 8642, "percent": 77.77}},
        "fig3": {"10.0.0.99": ["exploit", "copy"]},
        "fig5": {"percent_le_100": 66.66},
        "joins_per_local_hour": [5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5]},
        "resolver": {"distinct_clients": 31337, "infected_clients": 4711, "rate": 0.1503}});
    std::fs::write(dir.path().join("truth.json"), truth.to_string()).unwrap();
    let out = dir.path().join("r.html");
    let s = render_report(dir.path(), &out, Format::Html).unwrap();
    assert_eq!((s.sections_with_data, s.unreadable.len()), (0, 0));
    let html = std::fs::read_to_string(&out).unwrap();
    for id in botscope_core::report::SECTIONS {
        assert!(
            html.contains(&format!("<p class=\"nodata\" data-nodata=\"{id}\">No data: {id}.json is not in the data folder.")),
            "{id} is not 'no data'"
        );
    }
    for n in [
        "987654",
        "987,654",
        "55.55",
        "55.6",
        "8642",
        "8,642",
        "4242",
        "4,242",
        "31337",
        "31,337",
        "4711",
        "66.66",
        "0.4321",
        "10.0.0.99",
    ] {
        assert!(!html.contains(n), "a truth number ({n}) reached the report");
    }
    assert!(html.contains("Fill it with: <code>botscope analyze"));
}

#[test]
fn another_schema_version_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "table9",
        &json!({"schema_version": 2, "total": 1, "rows": []}),
    );
    put(dir.path(), "table8", &json!({"total": 1, "rows": []}));
    let out = dir.path().join("r.json");
    render_report(dir.path(), &out, Format::Json).unwrap();
    let js: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let sec = |id: &str| {
        js["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(
        sec("table9")["no_data"],
        "No data: table9.json cannot be read (schema_version 2; this report reads 1)."
    );
    assert_eq!(
        sec("table8")["no_data"],
        "No data: table8.json cannot be read (no schema_version: not a report data file)."
    );
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
    assert!(md.contains("| Exploit vector | Measured attempts | Measured share | Study attempts † | Study share † | Difference |"), "{md}");
    assert!(
        md.contains("| MS04-011 LSASS BO | 313,754 | 26.7 % | 313,754 † | 26.7 % † | 0.0 pts |"),
        "{md}"
    );
    assert!(md.contains("- **MS03-026 RPC DCOM BO**: `C0x0 packets 1`"));
    assert!(md.contains("… 5 more"));
    assert!(md.contains("No data: table4.json is not in the data folder. Fill it with: `botscope specimen --json table4"));
    let js: Value = serde_json::from_str(&std::fs::read_to_string(&js_path).unwrap()).unwrap();
    let t7 = js["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "table7")
        .unwrap();
    assert_eq!(t7["file"], "table7.json");
    let data = t7["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "data")
        .unwrap();
    let counts: Vec<u64> = data["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cells"][1]["value"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        counts,
        vector_rows().iter().map(|r| r.1).collect::<Vec<_>>()
    );
    assert_eq!(data["rows"][0]["evidence_more"], 5);
}

#[test]
fn collect_turns_the_analysis_output_into_contract_files() {
    // The fields `botscope analyze` writes (a trimmed report.json).
    let analysis = json!({
        "table7": [{"key": "MS04-011", "count": 3, "percent": 75.0, "evidence": ["C1", "C2"]},
                   {"key": "MS03-026", "count": 1, "percent": 25.0, "evidence": ["C3"]}],
        "table8": [{"key": "tftp_get", "count": 2, "percent": 100.0, "evidence": ["C4"]}],
        "table8_success": {"tftp_get": 1},
        "table9": [], "table10": [], "table11": [], "floods": [], "order_commands": [], "orders": [],
        "relays": [{"bot": "10.0.0.1", "port": 3186, "spammer": "10.9.9.9", "count": 40,
                    "first": "2005-05-10T00:00:00Z", "last": "2005-05-10T00:10:00Z", "evidence": []}],
        "sequences": [{"bot": "10.0.0.1", "stages": [{"stage": "exploit", "ts": "2005-05-10T00:00:00Z", "delta_s": 0.0, "uid": "C1"}]}],
        "fig5": {"bin_upper": [100, 4294967295u64], "sources": [1, 0], "percent_le_100": 100.0},
        "joins_per_local_hour": (0..24).map(|h| if h == 3 { 1 } else { 0 }).collect::<Vec<_>>(),
        "sessions": [{"uid": "S1", "bot": "10.0.0.1", "join": "2005-05-09T18:30:00Z",
                      "role": "bot", "attribution": {"verdict": "cc"}},
                     // Not counted in the hours, so not their evidence either.
                     {"uid": "S2", "bot": "10.0.0.2", "join": "2005-05-09T18:40:00Z",
                      "role": "bot", "attribution": {"verdict": "unattributed"}},
                     {"uid": "S3", "bot": "10.0.0.3", "join": "2005-05-09T18:50:00Z",
                      "role": "herder", "attribution": {"verdict": "cc"}}],
        "tz_offset_s": 32400, "days": 1.0});
    let outs = botscope_report::collect::from_analyze(&analysis).unwrap();
    let dir = tempfile::tempdir().unwrap();
    botscope_report::collect::write_sections(dir.path(), &outs).unwrap();
    let read = |id: &str| -> Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(format!("{id}.json"))).unwrap())
            .unwrap()
    };
    assert_eq!(
        read("table1")["unavailable"],
        "the analysis had no capture of the sensor interface"
    );
    // Three attempts, two uids listed: one more not listed.
    assert_eq!(
        read("table7")["rows"][0],
        json!({"label": "MS04-011", "count": 3, "percent": 75.0, "evidence": ["C1", "C2"], "evidence_more": 1})
    );
    assert_eq!(read("table8")["rows"][0]["success"], 1);
    assert_eq!(
        read("fig5")["bins"][0]["evidence"],
        json!(["10.9.9.9 via 10.0.0.1:3186: 40 requests"])
    );
    assert_eq!(read("fig5")["bins"][1]["upper"], Value::Null);
    // 18:30 UTC is 03:30 in UTC+9: the session is hour 3's evidence.
    assert_eq!(
        read("diurnal")["hours"][3]["evidence"],
        json!(["session S1 bot 10.0.0.1 joined 2005-05-09T18:30:00.000000Z"])
    );
    assert_eq!(read("table11")["relays"][0]["duration_s"], 600.0);
    let out = dir.path().join("r.md");
    let s = render_report(dir.path(), &out, Format::Markdown).unwrap();
    assert_eq!(s.unreadable, Vec::<String>::new());
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(
        md.contains("| MS04-011 LSASS BO | 3 | 75.0 % | 313,754 † | 26.7 % † | +48.3 pts |"),
        "{md}"
    );
    assert!(md.contains("No data: the analysis had no capture of the sensor interface. Fill it with: `botscope analyze --background"));
}

#[test]
fn pdf_export_prints_the_report() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let html = dir.path().join("report.html");
    render_report(dir.path(), &html, Format::Html).unwrap();
    let pdf = dir.path().join("report.pdf");
    botscope_report::export_pdf(&html, &pdf).unwrap();
    let bytes = std::fs::read(&pdf).unwrap();
    assert_eq!(&bytes[..5], b"%PDF-");
    assert!(bytes.len() > 20_000, "{} bytes", bytes.len());
}

/// Minimal HTTP GET over a TcpStream (status line and body), naming the
/// server as a browser would (`Host: 127.0.0.1:PORT`).
fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let (code, _, body) = http_req(addr, path, &[("Host", &addr.to_string())]);
    (code, body)
}

/// GET with the given header lines; (status, header block, body).
fn http_req(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    let code = r[9..12].parse().unwrap();
    let split = r.find("\r\n\r\n").unwrap();
    (code, r[..split].to_string(), r[split + 4..].to_string())
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
    // Links to the data files lead to the served copies.
    assert!(dom1.contains("<a href=\"data/table7.json\">table7.json</a>"));
    screenshot(&url, "dashboard-1.png", "1200,2400");

    // The writer completes its line, appends more, and rewrites table7.json
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
        dir.path().join("table7.json"),
        b"{\"schema_version\": 1, \"rows\": [{\"label\": \"MS03-026\"",
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
        "last good table7.json kept"
    );
    let recent = dom_table(&dom2, "recent");
    assert_eq!(
        recent[0][..3],
        ["events.jsonl".to_string(), "5".into(), "irc".into()]
    );
    assert!(recent[0][4].contains("uid C5"));

    // The rewrite completes with new numbers; the writer restarts its log.
    let a = json!({"schema_version": 1, "total": 5, "rows": [
        {"label": "MS03-026", "count": 5, "percent": 100.0, "evidence": ["C9"]}]});
    std::fs::write(dir.path().join("table7.json"), a.to_string()).unwrap();
    std::fs::write(&events, line("http", "C6")).unwrap();
    let dom3 = dump_dom(&url);
    assert_eq!(
        dom_table(&dom3, "live"),
        vec![vec!["events.jsonl", "http", "1"]]
    );
    assert_eq!(dom_table(&dom3, "table7")[0][..3], ["MS03-026", "5", "100"]);
    assert_eq!(dom_table(&dom3, "table7").len(), 1);
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
    let (c, body) = http_get(addr, "/data/table3.json");
    assert_eq!(c, 200);
    assert!(body.contains("\"ISP A\""));
}

#[test]
fn dashboard_token_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let addr = start_server(botscope_report::serve::ServeConfig {
        data: dir.path().to_path_buf(),
        token: Some("s3cret".into()),
    });
    let host = addr.to_string();
    let get = |path: &str, extra: &[(&str, &str)]| {
        let mut h = vec![("Host", host.as_str())];
        h.extend_from_slice(extra);
        http_req(addr, path, &h)
    };
    assert_eq!(http_get(addr, "/").0, 401);
    // Wrong tokens, by header and by cookie.
    for (k, v) in [
        ("Authorization", "Bearer wrong"),
        ("Authorization", "Bearer s3cre"),
        ("Authorization", "Bearer s3cretX"),
        ("Authorization", "s3cret"),
        ("Cookie", "botscope_token=wrong"),
        ("Cookie", "other=s3cret"),
    ] {
        let (c, _, body) = get("/api/report.json", &[(k, v)]);
        assert_eq!((c, body.as_str()), (401, "token required\n"), "{k}: {v}");
    }
    // The query string is no way in to the API.
    assert_eq!(http_get(addr, "/api/report.json?token=s3cret").0, 401);
    assert_eq!(http_get(addr, "/data/table3.json?token=s3cret").0, 401);
    // The right token by header and by cookie.
    for (k, v) in [
        ("Authorization", "Bearer s3cret"),
        ("Cookie", "a=b; botscope_token=s3cret"),
    ] {
        let (c, _, body) = get("/api/report.json", &[(k, v)]);
        assert_eq!(c, 200, "{k}: {v}");
        let j: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(j["sections"][0]["id"], "live");
        assert_eq!(get("/api/version", &[(k, v)]).0, 200);
    }
    // `/?token=` logs in: cookie set, redirect to a URL without the token.
    let (c, head, _) = get("/?token=s3cret", &[]);
    assert_eq!(c, 303);
    let head = head.to_ascii_lowercase();
    assert!(head.contains("\r\nlocation: /\r\n"), "{head}");
    assert!(
        head.contains(
            "\r\nset-cookie: botscope_token=s3cret; httponly; samesite=strict; path=/\r\n"
        ),
        "{head}"
    );
    // Behind a TLS proxy the cookie is also Secure.
    let (_, head, _) = get("/?token=s3cret", &[("X-Forwarded-Proto", "https")]);
    assert!(head.contains("; Path=/; Secure\r\n"), "{head}");
    let (c, head, _) = get("/?token=wrong", &[]);
    assert_eq!(c, 401);
    assert!(!head.to_ascii_lowercase().contains("set-cookie"), "{head}");
    let dom = dump_dom(&format!("http://{addr}/?token=s3cret"));
    assert_eq!(dom_named(&dom, "table9")[1]["Measured sessions"], "576");
}

#[test]
fn dashboard_refuses_foreign_host_names() {
    // DNS rebinding: a page on evil.example whose name now resolves to
    // 127.0.0.1 sends `Host: evil.example`; with or without a token it
    // must not read the report.
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    for token in [None, Some("s3cret")] {
        let addr = start_server(botscope_report::serve::ServeConfig {
            data: dir.path().to_path_buf(),
            token: token.map(String::from),
        });
        let port = addr.port();
        let auth = [("Authorization", "Bearer s3cret")];
        for host in [
            "evil.example".to_string(),
            format!("evil.example:{port}"),
            format!("localhost.evil.example:{port}"),
            format!("localhost:{}", port + 1),
        ] {
            for path in [
                "/",
                "/api/report.json",
                "/api/version",
                "/data/table3.json",
                "/?token=s3cret",
            ] {
                let (c, head, body) = http_req(addr, path, &[("Host", &host), auth[0]]);
                assert_eq!(
                    (c, body.as_str()),
                    (
                        421,
                        "Host must be localhost, 127.0.0.1 or [::1] with the port\n"
                    ),
                    "{host} {path}"
                );
                assert!(!head.to_ascii_lowercase().contains("set-cookie"));
            }
        }
        // No Host header at all.
        assert_eq!(http_req(addr, "/api/report.json", &auth).0, 421);
        for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
            let (c, _, body) = http_req(addr, "/api/report.json", &[("Host", &host), auth[0]]);
            assert_eq!(c, 200, "{host}");
            let j: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(j["sections"][0]["id"], "live");
        }
    }
}
