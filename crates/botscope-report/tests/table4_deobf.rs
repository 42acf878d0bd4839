//! Issue 20: Table 4's de-obfuscation summary (`specimen --json table4`,
//! field `deobfuscation`) reaches the report as a small table under
//! Table 4, its cells carrying the exact counts; older outputs without the
//! field still load and show no such table.

use botscope_report::{collect, render_report, Format};
use serde_json::{json, Value};

/// `specimen --json table4` as the specimen crate writes it (the numbers
/// are those of 48 specimens of the synthetic collection).
fn table4_output(deobf: Option<Value>) -> Value {
    let mut v = json!({
        "top": 100, "examined": 48, "bots": 45, "one_fqdn": 30, "several_fqdns": 12,
        "ip_only": 3, "several_percent": 26.7,
        "by_fqdn_count": {"0": 3, "1": 30, "2": 12},
        "by_provenance": {"block/plain": 45},
        "list": [], "ioc_only": []
    });
    if let Some(d) = deobf {
        v["deobfuscation"] = d;
    }
    v
}

/// The rows of the table captioned `caption`, each as its cells'
/// `data-value` attributes.
fn rows_of(html: &str, caption: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<caption>{caption}</caption>"))
        .unwrap_or_else(|| panic!("no table {caption}"));
    let t = &html[start..];
    let t = &t[..t.find("</table>").unwrap()];
    t.split("<tr")
        .skip(1)
        .map(|row| {
            row.split("data-value=\"")
                .skip(1)
                .map(|c| c[..c.find('"').unwrap()].to_string())
                .collect::<Vec<_>>()
        })
        .filter(|r| !r.is_empty())
        .collect()
}

const CAPTION: &str =
    "De-obfuscation: decoders that matched, specimens, names revealed only by decoding";

#[test]
fn table4_shows_the_deobfuscation_summary_with_its_counts() {
    let d = json!({
        "specimens": 48, "matched": 42, "revealed_iocs": 20,
        "decoders": [
            {"decoder": "upx", "specimens": 36, "revealed_iocs": 0},
            {"decoder": "utf16le", "specimens": 11, "revealed_iocs": 0},
            {"decoder": "xor_strings", "specimens": 17, "revealed_iocs": 20}
        ]
    });
    let dir = tempfile::tempdir().unwrap();
    let outs = collect::from_table4(&table4_output(Some(d))).unwrap();
    collect::write_sections(dir.path(), &outs).unwrap();
    let t: botscope_core::report::Table4 =
        serde_json::from_slice(&std::fs::read(dir.path().join("table4.json")).unwrap()).unwrap();
    assert_eq!(
        (t.deobfuscation.specimens, t.deobfuscation.matched),
        (48, 42)
    );
    assert_eq!(t.deobfuscation.decoders.len(), 3);

    let out = dir.path().join("r.html");
    render_report(dir.path(), &out, Format::Html).unwrap();
    let html = std::fs::read_to_string(&out).unwrap();
    let sec = &html[html.find("<section id=\"table4\"").expect("table4")..];
    let sec = &sec[..sec.find("</section>").unwrap()];
    assert_eq!(
        rows_of(sec, CAPTION),
        vec![
            vec!["deobf_upx", "36", "0"],
            vec!["deobf_utf16le", "11", "0"],
            vec!["deobf_xor_strings", "17", "20"],
            vec!["deobf_any", "42", "20"],
        ]
    );
    assert!(
        sec.contains("a decoder matched in 42 of 48 specimens; 20 indicators"),
        "{sec}"
    );
}

#[test]
fn table4_output_without_the_summary_still_loads() {
    let dir = tempfile::tempdir().unwrap();
    let outs = collect::from_table4(&table4_output(None)).unwrap();
    collect::write_sections(dir.path(), &outs).unwrap();
    let t: botscope_core::report::Table4 =
        serde_json::from_slice(&std::fs::read(dir.path().join("table4.json")).unwrap()).unwrap();
    assert_eq!((t.bots, t.deobfuscation.specimens), (45, 0));
    // A table4.json written before the field existed.
    let old = json!({"schema_version": 1, "examined": 48, "bots": 45, "one_fqdn": 30,
        "several_fqdns": 12, "ip_only": 3, "by_fqdn_count": []});
    let t: botscope_core::report::Table4 = serde_json::from_value(old).unwrap();
    assert!(t.deobfuscation.decoders.is_empty());
    let out = dir.path().join("r.html");
    render_report(dir.path(), &out, Format::Html).unwrap();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("<section id=\"table4\""));
    assert!(!html.contains(CAPTION));
    // A malformed summary is an error, not silently empty.
    let bad = table4_output(Some(json!({"specimens": "many"})));
    assert!(collect::from_table4(&bad).is_err());
}
