//! The exported RPZ loaded by real `named` (response-policy) and real
//! `unbound` (rpz:), each resolving through forward zones to an
//! authoritative `named`: listed names get the chosen action, subdomains
//! too with wildcards, allow-listed and ordinary names resolve normally.

use crate::servers::{bin, dig, named, unbound, Server};
use botscope_core::Ts;
use botscope_intel::export::{rpz_zone, select, RpzAction, RpzOptions, SerialMode};
use botscope_intel::names::{parse_name_list, AllowList};
use std::path::Path;
use std::process::Command;

const AUTH_ZONE: &str = "$TTL 60\n@ IN SOA ns.botnet.test. root.botnet.test. ( 1 3600 600 86400 60 )\n@ IN NS ns.botnet.test.\n\
    ns IN A 127.0.0.1\ncc1 IN A 10.9.0.1\nsub.cc1 IN A 10.9.0.5\ncc2 IN A 10.9.0.2\nok IN A 10.9.0.3\n";
const LIBERA_ZONE: &str = "$TTL 60\n@ IN SOA ns.libera.chat. root.libera.chat. ( 1 3600 600 86400 60 )\n@ IN NS ns.libera.chat.\n\
    ns IN A 127.0.0.1\nirc IN A 10.9.0.4\n";

fn start_auth(dir: &Path) -> Server {
    std::fs::write(dir.join("botnet.test.zone"), AUTH_ZONE).unwrap();
    std::fs::write(dir.join("libera.chat.zone"), LIBERA_ZONE).unwrap();
    named(
        dir,
        "recursion no;",
        "zone \"botnet.test\" { type primary; file \"botnet.test.zone\"; };\n\
         zone \"libera.chat\" { type primary; file \"libera.chat.zone\"; };",
        "botnet.test",
    )
}

/// The export path as the CLI runs it: parse the list, select, render.
fn export_zone(action: RpzAction, serial: u32) -> (String, Vec<String>) {
    let list = "cc1.botnet.test\ncc2.botnet.test\nirc.libera.chat\n";
    let l = parse_name_list("names.txt", list);
    let sel = select(&l.names, &AllowList::builtin(), &opts(action.clone()));
    let excluded = sel.excluded.iter().map(|e| e.name.clone()).collect();
    (rpz_zone(&sel.names, &opts(action), serial, Ts(0)), excluded)
}

fn opts(action: RpzAction) -> RpzOptions {
    RpzOptions {
        origin: "rpz.botscope".into(),
        action,
        wildcard: true,
        ttl: 60,
        serial_mode: SerialMode::Increment,
    }
}

fn check_zone(path: &Path) {
    let out = Command::new(bin("named-checkzone"))
        .arg("rpz.botscope")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "named-checkzone refused the export: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Asserts the policy per name on a resolver at `port`.
fn assert_policy(server: &str, port: u16, action: &RpzAction) {
    for listed in ["cc1.botnet.test", "sub.cc1.botnet.test", "cc2.botnet.test"] {
        let (st, ans) = dig(port, listed, "A");
        match action {
            RpzAction::Nxdomain => assert_eq!(
                (st.as_str(), ans.len()),
                ("NXDOMAIN", 0),
                "{server} {listed}"
            ),
            RpzAction::Nodata => assert_eq!(
                (st.as_str(), ans.len()),
                ("NOERROR", 0),
                "{server} {listed}: {ans:?}"
            ),
            RpzAction::SinkholeAddr(a) => {
                assert_eq!(st, "NOERROR", "{server} {listed}");
                assert_eq!(ans, vec![format!("A {a}")], "{server} {listed}");
            }
            RpzAction::SinkholeCname(_) => unreachable!(),
        }
    }
    // Allow-listed (left out of the zone) and ordinary names resolve normally.
    assert_eq!(
        dig(port, "irc.libera.chat", "A"),
        ("NOERROR".into(), vec!["A 10.9.0.4".into()]),
        "{server}"
    );
    assert_eq!(
        dig(port, "ok.botnet.test", "A"),
        ("NOERROR".into(), vec!["A 10.9.0.3".into()]),
        "{server}"
    );
}

#[test]
fn rpz_export_enforced_by_named_and_unbound() {
    let auth_dir = tempfile::tempdir().unwrap();
    let auth = start_auth(auth_dir.path());
    // Sanity: without policy the listed names resolve.
    assert_eq!(
        dig(auth.port, "cc1.botnet.test", "A").1,
        vec!["A 10.9.0.1".to_string()]
    );
    for (i, action) in [
        RpzAction::Nxdomain,
        RpzAction::Nodata,
        RpzAction::SinkholeAddr("10.99.0.1".parse().unwrap()),
    ]
    .into_iter()
    .enumerate()
    {
        let (zone, excluded) = export_zone(action.clone(), i as u32 + 1);
        assert_eq!(excluded, vec!["irc.libera.chat"]);
        // named as an RPZ resolver
        let nd = tempfile::tempdir().unwrap();
        let zpath = nd.path().join("rpz.zone");
        std::fs::write(&zpath, &zone).unwrap();
        check_zone(&zpath);
        let ap = auth.port;
        let resolver = named(
            nd.path(),
            "recursion yes;\n  allow-recursion { any; };\n  response-policy { zone \"rpz.botscope\"; };",
            &format!(
                "zone \"rpz.botscope\" {{ type primary; file \"rpz.zone\"; allow-query {{ none; }}; }};\n\
                 zone \"botnet.test\" {{ type forward; forward only; forwarders {{ 127.0.0.1 port {ap}; }}; }};\n\
                 zone \"libera.chat\" {{ type forward; forward only; forwarders {{ 127.0.0.1 port {ap}; }}; }};"
            ),
            "ok.botnet.test",
        );
        let log = std::fs::read_to_string(&resolver.log).unwrap_or_default();
        assert!(
            log.contains("rpz.botscope"),
            "named did not load the policy zone:\n{log}"
        );
        assert_policy("named", resolver.port, &action);
        drop(resolver);

        // unbound with the respip module
        let ud = tempfile::tempdir().unwrap();
        let upath = ud.path().join("rpz.zone");
        std::fs::write(&upath, &zone).unwrap();
        let ub = unbound(
            ud.path(),
            "  local-zone: \"test.\" nodefault\n  domain-insecure: \"botnet.test\"\n  domain-insecure: \"libera.chat\"\n",
            &format!(
                "rpz:\n  name: \"rpz.botscope\"\n  zonefile: \"{}\"\n\
                 forward-zone:\n  name: \"botnet.test\"\n  forward-addr: 127.0.0.1@{ap}\n\
                 forward-zone:\n  name: \"libera.chat\"\n  forward-addr: 127.0.0.1@{ap}\n",
                upath.display()
            ),
            "ok.botnet.test",
        );
        assert_policy("unbound", ub.port, &action);
    }
}

#[test]
fn hostile_names_never_break_the_zone() {
    let list = format!(
        "ok.evil.test\n{}.evil.test\n*.wild.evil.test\nbad;name.test\n{}\nIRC.LIBERA.CHAT\nevil.test.\n",
        "a".repeat(64),
        vec!["b".repeat(63); 3].join(".") + ".evil.test" // 201 chars: fits alone, not with the origin + wildcard
    );
    let l = parse_name_list("hostile.txt", &list);
    let reasons: Vec<(u64, String)> = l
        .errors
        .iter()
        .map(|e| (e.location.line.unwrap(), e.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (2, "label longer than 63 octets".to_string()),
            (3, "wildcard in input name".to_string()),
            (4, "invalid character in name".to_string()),
        ]
    );
    let mut o = opts(RpzAction::Nxdomain);
    o.origin = format!("{}.rpz.botscope", "o".repeat(40));
    let sel = select(&l.names, &AllowList::builtin(), &o);
    assert_eq!(sel.names, vec!["ok.evil.test", "evil.test"]);
    assert_eq!(sel.excluded.len(), 2);
    assert!(sel.excluded[0].reason.contains("exceed 255"));
    assert!(sel.excluded[1].reason.contains("allow-list"));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("z");
    std::fs::write(&p, rpz_zone(&sel.names, &o, 1, Ts(0))).unwrap();
    let out = Command::new(bin("named-checkzone"))
        .arg(&o.origin)
        .arg(&p)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
