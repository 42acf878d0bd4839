#![no_main]
//! The de-obfuscation stage on arbitrary bytes (a payload, or a specimen
//! cut into a mapped and an unmapped region): no panic, and the record
//! bounded by the limits the stage promises — findings per decoder,
//! revealed strings per finding and their length, bytes read per decoder,
//! and every finding's offset inside its region.
use botscope_deobf::record::MAX_REVEALED_LEN;
use botscope_deobf::{Input, Limits, Registry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (head, tail) = data.split_at(split);
    let inputs = [
        Input::new(".data", head, true),
        Input::new("overlay", tail, false),
    ];
    let limits = Limits {
        max_bytes: 32 << 10,
        max_findings: 8,
        max_revealed: 4,
        ..Limits::default()
    };
    let registry = Registry::shared();
    let out = registry.run(&inputs, limits, &|h: &str| h.contains('.'));
    let record = out.record;
    let decoders = registry.names().len();
    assert_eq!(record.ran.len(), decoders);
    assert!(record.findings.len() <= decoders * limits.max_findings);
    assert!(record.bytes_examined <= (decoders * limits.max_bytes) as u64);
    for f in &record.findings {
        assert!(f.revealed.len() <= limits.max_revealed, "{f:?}");
        assert!(
            f.revealed
                .iter()
                .all(|r| r.chars().count() <= MAX_REVEALED_LEN),
            "{f:?}"
        );
        let region = inputs.iter().find(|i| i.name == f.region);
        let len = region.map_or(data.len(), |i| i.bytes.len());
        assert!(f.offset <= len, "{f:?} beyond {len}");
    }
});
