//! Table 6 against a real authoritative `named`: every row has names that
//! fall in it, results asserted per name, and re-probing after re-pointing
//! a name shows up as history.

use crate::servers::{free_port, named};
use botscope_intel::configs::BotConfigs;
use botscope_intel::probe::{probe_blocking, DnsStatus, ProbeOptions, PtrStatus, Table6};
use botscope_intel::store::Store;
use std::collections::BTreeMap;
use std::time::Duration;

fn zone(agree_addr: &str) -> String {
    format!(
        "$TTL 60\n@ IN SOA ns.botnet.test. root.botnet.test. ( 1 3600 600 86400 60 )\n@ IN NS ns.botnet.test.\n\
         ns IN A 127.0.0.1\n\
         multi IN A 10.1.0.1\nmulti IN A 10.1.0.2\nmulti IN A 10.1.0.3\n\
         agree IN A {agree_addr}\n\
         differs IN A 10.3.0.1\n\
         nodata IN TXT \"no address here\"\n\
         v6 IN AAAA fd00::1\n\
         open IN A 127.0.0.2\n\
         closed IN A 127.0.0.3\n"
    )
}

const REVERSE: &str = "$TTL 60\n@ IN SOA ns.botnet.test. root.botnet.test. ( 1 3600 600 86400 60 )\n@ IN NS ns.botnet.test.\n\
    1.0.1 IN PTR multi.botnet.test.\n\
    2.0.1 IN PTR adsl-2.dsl.isp.test.\n\
    1.0.2 IN PTR agree.botnet.test.\n\
    9.0.2 IN PTR agree.botnet.test.\n\
    1.0.3 IN PTR p3.dsl.isp.test.\n";

fn start_auth(dir: &std::path::Path, agree_addr: &str) -> crate::servers::Server {
    std::fs::write(dir.join("botnet.test.zone"), zone(agree_addr)).unwrap();
    std::fs::write(dir.join("10.rev.zone"), REVERSE).unwrap();
    named(
        dir,
        "recursion no;",
        "zone \"botnet.test\" { type primary; file \"botnet.test.zone\"; };\n\
         zone \"10.in-addr.arpa\" { type primary; file \"10.rev.zone\"; };",
        "botnet.test",
    )
}

fn names() -> Vec<String> {
    [
        "multi", "agree", "differs", "nx", "nodata", "v6", "open", "closed",
    ]
    .iter()
    .map(|n| format!("{n}.botnet.test"))
    .chain(["www.not-served.example".to_string()])
    .collect()
}

fn configs(port: u16) -> BotConfigs {
    let h = |c: char| c.to_string().repeat(64);
    let j = format!(
        r#"[{{"sha256":"{a}","servers":[{{"host":"multi.botnet.test","port":6667}},{{"host":"agree.botnet.test","port":5562}},{{"host":"open.botnet.test","port":{port}}}]}},
            {{"sha256":"{b}","servers":[{{"host":"multi.botnet.test","port":6667}},{{"host":"agree.botnet.test","port":5562}},{{"host":"closed.botnet.test","port":{port}}}]}},
            {{"sha256":"{c}","servers":[{{"host":"multi.botnet.test","port":6667}},{{"host":"differs.botnet.test","port":6667}}]}}]"#,
        a = h('a'),
        b = h('b'),
        c = h('c')
    );
    BotConfigs::parse("configs.json", &j).unwrap()
}

#[test]
fn table6_rows_per_name_against_named() {
    let dir = tempfile::tempdir().unwrap();
    let auth = start_auth(dir.path(), "10.2.0.1");
    let cc_port = free_port();
    let listener = std::net::TcpListener::bind(("127.0.0.2", cc_port)).unwrap();
    let opts = ProbeOptions {
        resolver: Some(format!("127.0.0.1:{}", auth.port).parse().unwrap()),
        timeout: Duration::from_secs(2),
        concurrency: 4,
        connect_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let cfg = configs(cc_port);
    let rs = probe_blocking(&names(), &cfg, &opts).unwrap();
    let by: BTreeMap<&str, _> = rs.iter().map(|r| (r.name.as_str(), r)).collect();

    let m = by["multi.botnet.test"];
    assert_eq!(m.status, DnsStatus::Resolved);
    assert_eq!(m.addr_set(), "10.1.0.1,10.1.0.2,10.1.0.3");
    assert_eq!(
        m.addrs.iter().map(|a| a.ptr_status).collect::<Vec<_>>(),
        vec![PtrStatus::Agrees, PtrStatus::Differs, PtrStatus::Missing]
    );
    assert_eq!(m.addrs[1].ptr, vec!["adsl-2.dsl.isp.test"]);
    assert_eq!(m.bots, 3);
    assert!(m.several_bots() && m.several_addrs() && m.fwd_rev_disagree());

    let a = by["agree.botnet.test"];
    assert_eq!(
        (a.status, a.addr_set(), a.bots),
        (DnsStatus::Resolved, "10.2.0.1".into(), 2)
    );
    assert_eq!(a.addrs[0].ptr_status, PtrStatus::Agrees);
    assert!(!a.fwd_rev_disagree());

    let d = by["differs.botnet.test"];
    assert_eq!(d.addrs[0].ptr, vec!["p3.dsl.isp.test"]);
    assert!(d.fwd_rev_disagree() && !d.several_bots());

    assert_eq!(by["nx.botnet.test"].status, DnsStatus::Nxdomain);
    assert_eq!(by["nodata.botnet.test"].status, DnsStatus::Nodata);
    // An authoritative-only server refuses names outside its zones.
    assert_eq!(by["www.not-served.example"].status, DnsStatus::Refused);
    let v6 = by["v6.botnet.test"];
    assert_eq!(v6.addr_set(), "fd00::1");
    assert_eq!(v6.addrs[0].ptr_status, PtrStatus::Missing);
    assert_eq!(
        by["open.botnet.test"].addrs[0].ptr_status,
        PtrStatus::NotChecked
    );

    let t = Table6::from_results(&rs);
    assert_eq!(
        t,
        Table6 {
            total: 9,
            several_bots: 2,
            several_addrs: 1,
            max_addrs: 3,
            not_resolvable: 3,
            unreachable: None,
            fwd_rev_disagree: 3,
        }
    );

    // --active, only on the loopback names: 127.0.0.2 listens, 127.0.0.3 does not.
    // Loopback targets need the lab opt-in (non-global addresses are
    // never connected to by default: private_targets.rs).
    let active = ProbeOptions {
        active: true,
        allow_private_targets: true,
        ..opts.clone()
    };
    let loop_names = vec![
        "open.botnet.test".to_string(),
        "closed.botnet.test".to_string(),
    ];
    let ra = probe_blocking(&loop_names, &cfg, &active).unwrap();
    assert_eq!(ra[0].addrs[0].ports[0].port, cc_port);
    assert_eq!(ra[0].unreachable(), Some(false));
    assert_eq!(ra[1].unreachable(), Some(true));
    assert_eq!(Table6::from_results(&ra).unreachable, Some(1));
    drop(listener);
}

#[test]
fn reprobe_after_repointing_is_history() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let name = vec!["agree.botnet.test".to_string()];
    let cfg = BotConfigs::default();
    let mut store = Store::open(store_dir.path()).unwrap();
    for addr in ["10.2.0.1", "10.2.0.1", "10.2.0.9"] {
        let auth = start_auth(dir.path(), addr);
        let opts = ProbeOptions {
            resolver: Some(format!("127.0.0.1:{}", auth.port).parse().unwrap()),
            ..Default::default()
        };
        let rs = probe_blocking(&name, &cfg, &opts).unwrap();
        store.record(&rs).unwrap();
        drop(auth);
    }
    let h = store.history("agree.botnet.test").unwrap();
    let seen: Vec<(String, bool)> = h
        .iter()
        .map(|r| (r.probe.addr_set(), r.repointed))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("10.2.0.1".to_string(), false),
            ("10.2.0.1".to_string(), false),
            ("10.2.0.9".to_string(), true)
        ]
    );
    assert!(h[0].probe.ts < h[2].probe.ts);
}

#[test]
fn silent_resolver_is_timeout() {
    // A UDP socket that never answers (and no TCP listener on its port).
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let opts = ProbeOptions {
        resolver: Some(sock.local_addr().unwrap()),
        timeout: Duration::from_millis(300),
        attempts: 1,
        ..Default::default()
    };
    let rs = probe_blocking(
        &["cc.botnet.test".to_string()],
        &BotConfigs::default(),
        &opts,
    )
    .unwrap();
    assert_eq!(rs[0].status, DnsStatus::Timeout, "{:?}", rs[0]);
}
