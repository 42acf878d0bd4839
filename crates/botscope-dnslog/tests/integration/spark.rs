//! The Parquet lake and the Spark job: `jobs/deemed_rate.py` run on Apache
//! Spark in local mode over a lake written by `LakeWriter` must give the
//! same per-day rate, total and infected list as `RateEngine`.

use super::synth::lists;
use botscope_dnslog::lake::LakeWriter;
use botscope_dnslog::read::{read_input, ReadOptions};
use botscope_dnslog::{RateConfig, RateEngine};
use botscope_synth::resolver::{write_resolver_logs, Format, ResolverSpec};
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn spark_job_equals_botscope_rate() {
    let dir = tempfile::tempdir().unwrap();
    let spec = ResolverSpec {
        seed: 11,
        clients: 4000,
        days: 2,
        v6_fraction: 0.1,
        formats: vec![Format::Bind],
        ..Default::default()
    };
    let t = write_resolver_logs(&spec, dir.path()).unwrap();
    let log = t.files["bind"].to_str().unwrap().to_string();

    // botscope's own answer.
    let (watch, allow) = lists(&spec);
    let mut e = RateEngine::new(RateConfig::default(), &watch, &allow);
    e.read(&log, &ReadOptions::default());
    let r = e.report();
    assert_eq!(r.totals[0].infected, t.infected_clients);

    // The lake.
    let lake = dir.path().join("lake");
    let mut w = LakeWriter::new(&lake, 64, "test").unwrap();
    let mut skips = Default::default();
    let mut err = None;
    let stats = read_input(
        &log,
        &ReadOptions::default(),
        &mut |q| {
            if let Err(e) = w.push(q, &log) {
                err = Some(e);
            }
        },
        &mut skips,
    );
    assert!(err.is_none() && stats.error.is_none());
    assert_eq!(w.rows, t.queries);
    let files = w.finish().unwrap();
    assert_eq!(files.len(), 2, "one file per day");

    let watch_file = dir.path().join("watch.txt");
    std::fs::write(
        &watch_file,
        spec.cc_names
            .iter()
            .chain(&spec.allow_names)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let allow_file = dir.path().join("allow.txt");
    std::fs::write(&allow_file, spec.allow_names.join("\n")).unwrap();
    let out = dir.path().join("out");
    let job = concat!(env!("CARGO_MANIFEST_DIR"), "/../../jobs/deemed_rate.py");
    let st = Command::new("python3")
        .args([job, "--master", "local[2]", "--lake"])
        .arg(&lake)
        .arg("--watchlist")
        .arg(&watch_file)
        .arg("--allowlist")
        .arg(&allow_file)
        .arg("--out")
        .arg(&out)
        .env("PYSPARK_PYTHON", "python3")
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .status()
        .expect("python3 with pyspark (scripts/setup.sh) must be installed");
    assert!(st.success(), "Spark job failed: {st}");
    let got: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("rate.json")).unwrap()).unwrap();

    let days = got["days"].as_array().unwrap();
    assert_eq!(days.len(), r.windows.len());
    for (d, w) in days.iter().zip(&r.windows) {
        assert_eq!(
            d["day"].as_str(),
            w.window_start.as_deref().map(|s| &s[..10])
        );
        assert_eq!(d["clients"].as_u64(), Some(w.clients));
        assert_eq!(d["infected"].as_u64(), Some(w.infected));
        assert_eq!(d["queries"].as_u64(), Some(w.queries));
        assert_eq!(d["matched_queries"].as_u64(), Some(w.matched_queries));
        assert!((d["rate"].as_f64().unwrap() - w.rate).abs() < 1e-12);
    }
    assert_eq!(got["total"]["clients"].as_u64(), Some(r.totals[0].clients));
    assert_eq!(
        got["total"]["infected"].as_u64(),
        Some(r.totals[0].infected)
    );
    let spark_list: BTreeMap<String, (i64, i64, Vec<String>, u64)> = got["infected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["client"].as_str().unwrap().to_string(),
                (
                    i["first_us"].as_i64().unwrap(),
                    i["last_us"].as_i64().unwrap(),
                    i["names"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap().to_string())
                        .collect(),
                    i["count"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    let ours: BTreeMap<String, (i64, i64, Vec<String>, u64)> = r
        .infected
        .iter()
        .map(|i| {
            (
                i.client.clone(),
                (i.first_us, i.last_us, i.names.clone(), i.count),
            )
        })
        .collect();
    assert_eq!(spark_list.len() as u64, t.infected_clients);
    assert_eq!(spark_list, ours);
}
