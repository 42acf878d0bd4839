//! The models section draws what `botscope_model::fits` fits on
//! `models.json` (issue 20): per equation a parameter table with 95 %
//! intervals, and a chart of points, fitted curve and residuals.

use serde_json::{json, Value};

#[test]
fn models_json_gives_parameters_with_intervals_and_residual_charts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    // Four floods at 20, 22, 18 and 20 attacks per second.
    let flood = |start: &str, end: &str, count: u64| json!({"bot": "10.0.0.9", "start": start, "end": end, "count": count});
    let models = json!({
        "schema_version": 1,
        "floods": [
            flood("2005-05-19T01:00:00Z", "2005-05-19T01:01:40Z", 2000),
            flood("2005-05-19T02:00:00Z", "2005-05-19T02:03:20Z", 4400),
            flood("2005-05-19T03:00:00Z", "2005-05-19T03:05:00Z", 5400),
            flood("2005-05-19T04:00:00Z", "2005-05-19T04:06:40Z", 8000),
        ]
    });
    std::fs::write(data.join("models.json"), models.to_string()).expect("models.json");
    let out = dir.path().join("r.json");
    botscope_report::render_report(&data, &out, botscope_report::Format::Json).expect("renders");
    let r: Value = serde_json::from_slice(&std::fs::read(&out).expect("read")).expect("JSON");
    let model = r["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["id"] == "model")
        .expect("model section");
    assert_eq!(model["has_data"], true);
    let table = &model["tables"][0];
    let row = &table["rows"][0]["cells"];
    assert_eq!(row[1]["value"], "P");
    // P = Σ d·c / Σ d² over (100, 2000), (200, 4400), (300, 5400), (400, 8000).
    let want = (100.0 * 2000.0 + 200.0 * 4400.0 + 300.0 * 5400.0 + 400.0 * 8000.0)
        / (100.0f64.powi(2) + 200.0f64.powi(2) + 300.0f64.powi(2) + 400.0f64.powi(2));
    let got: f64 = row[2]["value"]
        .as_str()
        .expect("value")
        .parse()
        .expect("number");
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    let interval = row[3]["value"].as_str().expect("interval");
    let (lo, hi) = interval.split_once(',').expect("lo,hi");
    let (lo, hi): (f64, f64) = (lo.parse().expect("lo"), hi.parse().expect("hi"));
    assert!(lo < want && want < hi && hi - lo < 6.0, "{interval}");
    // The chart: points, the fit and the residuals.
    let html = dir.path().join("r.html");
    botscope_report::render_report(&data, &html, botscope_report::Format::Html).expect("renders");
    let page = std::fs::read_to_string(&html).expect("read");
    let sec = &page[page.find("id=\"model\"").expect("model")..];
    assert!(sec.contains("equation 3 fitted") && sec.contains("residuals (observed − fit)"));
    assert_eq!(
        sec.matches("<circle").count(),
        4 + 1,
        "4 points and the legend's"
    );
}
