//! The diurnal table in a zone with daylight saving: a synthetic field in
//! Europe/Berlin across the change of 26 March 2023 (01:00 UTC, CET +01:00
//! to CEST +02:00), analysed with `--tz Europe/Berlin`.

use botscope_behavior::analysis::Options;
use botscope_behavior::{pipeline, Limits};
use botscope_capture::EngineConfig;
use botscope_core::tz::Zone;
use botscope_core::Ts;
use botscope_synth::SynthConfig;

#[test]
fn diurnal_hours_follow_daylight_saving() {
    let berlin = Zone::parse("Europe/Berlin").expect("tzdata must be installed (scripts/setup.sh)");
    let start = Ts::parse_rfc3339("2023-03-25T00:00:00Z").unwrap();
    let change = Ts::parse_rfc3339("2023-03-26T01:00:00Z").unwrap().secs();
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        seed: 5,
        days: 3,
        tz: "Europe/Berlin".into(),
        zone: berlin.clone(),
        start_us: start.secs() * 1_000_000,
        resolver_logs: false,
        ..Default::default()
    };
    let truth = botscope_synth::generate(&cfg, dir.path()).expect("synth");
    assert_eq!(truth.tz_offset_s, 3600, "CET at the start");

    // The local hour of every join by the published rule, not by the zone
    // reader: +01:00 before the change, +02:00 from it on.
    let mut want = vec![0u64; 24];
    let (mut before, mut after) = (0, 0);
    for s in &truth.irc_sessions {
        let t = s.join.secs();
        let off = if t >= change { 7200 } else { 3600 };
        if t >= change {
            after += 1;
        } else {
            before += 1;
        }
        want[((t + off).rem_euclid(86_400) / 3600) as usize] += 1;
    }
    assert!(
        before > 0 && after > 0,
        "joins on both sides: {before}/{after}"
    );
    assert_eq!(truth.tables.joins_per_local_hour, want);

    let run = |zone: Zone| {
        let opt = Options {
            zone,
            ..Default::default()
        };
        let paths = [dir.path().join("pcap/infected.pcap")];
        pipeline::run(&paths, &EngineConfig::default(), Limits::default(), &opt)
            .expect("reads")
            .0
    };
    let r = run(berlin);
    assert_eq!(r.joins_per_local_hour, want);
    assert_eq!(r.tz_offset_s, 3600);
    // Standard time all along puts the joins after the change an hour
    // early: a different table.
    let fixed = run(Zone::Fixed(3600));
    assert_ne!(fixed.joins_per_local_hour, want);
    assert_eq!(
        fixed.joins_per_local_hour.iter().sum::<u64>(),
        want.iter().sum::<u64>()
    );
}
