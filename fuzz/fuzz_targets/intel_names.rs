#![no_main]
//! Name lists, allow-lists, overrides, bot configs and notification CSVs
//! from hostile input: never panic, and every accepted name stays within
//! DNS limits and renders into an RPZ line.

use botscope_intel::classify::Classifier;
use botscope_intel::configs::BotConfigs;
use botscope_intel::export::{notify_passthrough, rpz_zone, select, RpzOptions};
use botscope_intel::names::{parse_name_list, AllowList, MAX_LABEL, MAX_NAME};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The shipped provider lists, parsed once: building them costs ~45 ms,
/// which held this target to 11 executions a second.
fn builtin() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(Classifier::builtin)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let list = parse_name_list("fuzz", &text);
    for n in &list.names {
        assert!(n.len() <= MAX_NAME);
        assert!(n.split('.').all(|l| !l.is_empty() && l.len() <= MAX_LABEL));
        assert!(!n.contains('*'));
    }
    let (allow, _) = AllowList::parse("fuzz", &text);
    let opts = RpzOptions {
        wildcard: true,
        ..Default::default()
    };
    let sel = select(&list.names, &allow, &opts);
    let zone = rpz_zone(&sel.names, &opts, 1, botscope_core::Ts(0));
    assert!(zone.lines().count() >= 4 + sel.names.len());
    let c = builtin();
    for n in &sel.names {
        let _ = c.classify(n);
    }
    let mut c2 = builtin().clone();
    let _ = c2.add_overrides("fuzz", &text);
    let _ = c2.add_list("fuzz", &text);
    let _ = BotConfigs::parse("fuzz", &text);
    let _ = notify_passthrough("fuzz", &text);
});
