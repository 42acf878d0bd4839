//! Issue 20: the suspected tier of `botscope dns rate --json` (generated
//! names, unconfirmed) reaches Table 3 as its own column, never added to
//! the infected clients or the rate.

use serde_json::json;

#[test]
fn table3_shows_the_suspected_tier_apart_from_infected() {
    let rate = json!({
        "mode": "exact",
        "windows": [{"group": "ISP A", "window_start": "2005-05-11T00:00:00.000000Z",
                     "window_end": "2005-05-12T00:00:00.000000Z", "clients": 1000,
                     "infected": 24, "rate": 0.024, "queries": 9000, "matched_queries": 30,
                     "suspected": 7}],
        "totals": [],
        "infected": []
    });
    let outs = botscope_report::collect::from_dns_rate(&rate).unwrap();
    let dir = tempfile::tempdir().unwrap();
    botscope_report::collect::write_sections(dir.path(), &outs).unwrap();
    let t: botscope_core::report::Table3 =
        serde_json::from_slice(&std::fs::read(dir.path().join("table3.json")).unwrap()).unwrap();
    assert_eq!((t.rows[0].infected, t.rows[0].suspected), (24, 7));
    assert_eq!(t.rows[0].rate, 0.024);
    // An older dns rate output without the field reads as 0.
    let old = json!({"mode": "exact", "windows": [{"group": "g", "clients": 1, "infected": 0,
        "rate": 0.0, "queries": 1, "matched_queries": 0}], "totals": [], "infected": []});
    let outs_old = botscope_report::collect::from_dns_rate(&old).unwrap();
    let d2 = tempfile::tempdir().unwrap();
    botscope_report::collect::write_sections(d2.path(), &outs_old).unwrap();
    let t2: botscope_core::report::Table3 =
        serde_json::from_slice(&std::fs::read(d2.path().join("table3.json")).unwrap()).unwrap();
    assert_eq!(t2.rows[0].suspected, 0);
    let out = dir.path().join("r.md");
    botscope_report::render_report(dir.path(), &out, botscope_report::Format::Markdown).unwrap();
    let md = std::fs::read_to_string(&out).unwrap();
    let head = md
        .lines()
        .find(|l| l.contains("Suspected (generated names, unconfirmed)"))
        .expect("column");
    let row = md.lines().find(|l| l.starts_with("| ISP A")).expect("row");
    let col = |l: &str, name: &str| {
        let cells: Vec<&str> = l.split('|').map(str::trim).collect();
        let i = head
            .split('|')
            .map(str::trim)
            .position(|c| c == name)
            .unwrap();
        cells[i].to_string()
    };
    assert_eq!(col(row, "Suspected (generated names, unconfirmed)"), "7");
    assert_eq!(col(row, "Infected clients"), "24");
}
