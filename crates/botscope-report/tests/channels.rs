//! Issue 20: Table 9's HTTP C&C rows and the P2P C&C hosts go from
//! `botscope analyze`'s report.json through `report collect` into the
//! rendered report (HTML and Markdown), beside the IRC port table.

use serde_json::json;

#[test]
fn table9_shows_http_rows_and_p2p_hosts() {
    // The fields `botscope analyze` writes (trimmed), with one HTTP C&C
    // row, one unattributed P2P host and one P2P-only C&C host.
    let analysis = json!({
        "table7": [], "table8": [], "table8_success": {},
        "table9": [{"key": "6667", "count": 2, "percent": 100.0, "evidence": ["C1"]}],
        "table10": [], "table11": [], "floods": [], "order_commands": [], "orders": [],
        "relays": [], "sequences": [],
        "fig5": {"bin_upper": [100], "sources": [0], "percent_le_100": 0.0},
        "joins_per_local_hour": vec![0; 24], "sessions": [], "tz_offset_s": 0, "days": 1.0,
        "table9_http": [{"server": "10.8.0.1", "port": 8080, "host": "gate.example",
                         "uri_shape": "/gate.php?id=*&v=*", "bots": ["10.1.0.1", "10.1.0.2"],
                         "polls": 57, "interval_s": 300.5, "interval_spread": 0.04,
                         "orders": 3, "order_commands": ["ddos.synflood", "update"],
                         "attribution": {"verdict": "cc", "reason": "responses carry orders"}}],
        "p2p_hosts": [
            {"host": "10.2.0.9", "protocols": ["opaque"], "peers": [{"peer": "10.2.0.10"}, {"peer": "10.2.0.11"}],
             "p2p_only": true, "attribution": {"verdict": "cc", "reason": "a member of a botnet-shaped P2P mesh"}},
            {"host": "10.3.0.1", "protocols": ["gnutella"], "peers": [{"peer": "10.4.0.1"}],
             "p2p_only": false, "attribution": {"verdict": "unattributed", "reason": "file sharing"}}],
        "p2p_only_hosts": ["10.2.0.9"]
    });
    let outs = botscope_report::collect::from_analyze(&analysis).unwrap();
    let dir = tempfile::tempdir().unwrap();
    botscope_report::collect::write_sections(dir.path(), &outs).unwrap();
    let c: botscope_core::report::CommandChannels =
        serde_json::from_slice(&std::fs::read(dir.path().join("table9_channels.json")).unwrap())
            .unwrap();
    assert_eq!(c.http.len(), 1);
    assert_eq!(
        (c.http[0].host.as_str(), c.http[0].port, c.http[0].bots),
        ("gate.example", 8080, 2)
    );
    // Only the C&C host is listed.
    assert_eq!(c.p2p.len(), 1);
    assert!(c.p2p[0].p2p_only);
    for (name, format) in [
        ("r.html", botscope_report::Format::Html),
        ("r.md", botscope_report::Format::Markdown),
    ] {
        let out = dir.path().join(name);
        botscope_report::render_report(dir.path(), &out, format).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        for want in [
            "HTTP C&amp;C servers",
            "gate.example",
            "/gate.php?id=*&amp;v=*",
            "ddos.synflood, update",
            "P2P C&amp;C hosts",
            "10.2.0.10 10.2.0.11",
            "1 of them with no other C&amp;C",
        ] {
            let want = if name.ends_with(".md") {
                want.replace("&amp;", "&")
            } else {
                want.to_string()
            };
            assert!(text.contains(&want), "{name} lacks {want:?}");
        }
        assert!(
            !text.contains("10.3.0.1"),
            "{name}: the unattributed host is not C&C"
        );
    }
}
