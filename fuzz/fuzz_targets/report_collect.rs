//! `botscope report collect` on hostile outputs of the other commands: the
//! first byte picks the collector (`from_analyze`, `from_table2`, ...).
//! When the rest parses as JSON it is read as it is; otherwise a valid
//! document of that collector's shape has every number replaced by one
//! taken from the bytes (extremes included), which reaches the arithmetic
//! on times and counts that random JSON rarely does. Never panics; what a
//! collector returns is written and read back as JSON.
#![no_main]

use botscope_report::collect;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// A trimmed `analyze` report.json (as in the report crate's tests).
fn analyze_doc() -> Value {
    json!({
        "table7": [{"key": "MS04-011", "count": 3, "percent": 75.0, "evidence": ["C1", "C2"]}],
        "table8": [{"key": "tftp_get", "count": 2, "percent": 100.0, "evidence": ["C4"]}],
        "table8_success": {"tftp_get": 1},
        "table9": [], "table10": [], "table11": [], "floods": [], "order_commands": [], "orders": [],
        "relays": [{"bot": "10.0.0.1", "port": 3186, "spammer": "10.9.9.9", "count": 40,
                    "first": "2005-05-10T00:00:00Z", "last": "2005-05-10T00:10:00Z", "evidence": []}],
        "sequences": [{"bot": "10.0.0.1", "stages": [{"stage": "exploit", "ts": "2005-05-10T00:00:00Z", "delta_s": 0.0, "uid": "C1"}]}],
        "fig5": {"bin_upper": [100, 4294967295u64], "sources": [1, 0], "percent_le_100": 100.0},
        "joins_per_local_hour": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "sessions": [{"uid": "S1", "bot": "10.0.0.1", "join": "2005-05-09T18:30:00Z",
                      "role": "bot", "attribution": {"verdict": "cc"}}],
        "table1": {"total": {"bytes": 1000, "packets": 10}, "addresses": 4, "window_secs": 60.0,
                   "avg_kbps_per_address": 1.5, "peak_kbps_per_address": 3.0, "extrapolate_to": 1000,
                   "extrapolated_avg_gbps": 0.1, "extrapolated_peak_gbps": 0.2,
                   "per_minute": [{"minute": 1115683200, "volume": {"bytes": 10, "packets": 1}}]},
        "tz_offset_s": 32400, "days": 1.0
    })
}

/// A `specimen --json table2` output.
fn table2_doc() -> Value {
    let c = json!({"detections": 1, "kinds": 1, "detections_per_day": 1.0, "kinds_per_day": 1.0});
    json!({"as_of": 1115683200, "from": "2005-05-01", "to": "2005-05-31", "days": 31,
           "total": c, "known": c, "unknown": c})
}

/// Replaces every number in `v` by one of the same kind (unsigned,
/// signed, float) made from the next bytes: small or anywhere in range.
fn renumber(v: &mut Value, bytes: &mut std::slice::Iter<'_, u8>) {
    match v {
        Value::Number(n) => {
            let mut b = [0u8; 9];
            for x in b.iter_mut() {
                *x = bytes.next().copied().unwrap_or(0);
            }
            let raw = i64::from_le_bytes(b[1..].try_into().unwrap());
            let small = b[0] & 1 == 0;
            *v = if n.is_f64() {
                let f = f64::from_bits(raw as u64);
                json!(if small || !f.is_finite() {
                    (raw % 1000) as f64 / 10.0
                } else {
                    f
                })
            } else if n.is_u64() {
                json!(if small {
                    raw.rem_euclid(1000) as u64
                } else {
                    raw as u64
                })
            } else {
                json!(if small { raw % 1000 } else { raw })
            };
        }
        Value::Array(a) => a.iter_mut().for_each(|x| renumber(x, bytes)),
        Value::Object(o) => o.values_mut().for_each(|x| renumber(x, bytes)),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let which = pick % 6;
    let doc = match serde_json::from_slice::<Value>(rest) {
        Ok(v) => v,
        Err(_) => {
            let mut v = match which {
                0 => analyze_doc(),
                1 => table2_doc(),
                _ => return,
            };
            renumber(&mut v, &mut rest.iter());
            v
        }
    };
    let out = match which {
        0 => collect::from_analyze(&doc),
        1 => collect::from_table2(&doc),
        2 => collect::from_table4(&doc),
        3 => collect::from_dns_rate(&doc),
        4 => collect::from_rate_series(&doc),
        _ => collect::from_table5(&doc, Some(&doc)),
    };
    if let Ok(outs) = out {
        for (id, v) in &outs {
            let text = serde_json::to_string(v).expect("section serialises");
            let back: Value = serde_json::from_str(&text).expect("section reads back");
            assert!(!id.is_empty() && back.is_object(), "{id}: {back}");
        }
    }
});
