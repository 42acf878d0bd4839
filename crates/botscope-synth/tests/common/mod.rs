//! What the integration test binaries share.

use botscope_synth::SynthConfig;

/// The small field the tshark tests read: one day, 32 sensors, half
/// scale, no resolver logs, 4 flood packets a second, a 10-minute
/// background.
pub fn tshark_field(seed: u64) -> SynthConfig {
    SynthConfig {
        seed,
        days: 1,
        addresses: 32,
        scale: 0.5,
        resolver_logs: false,
        flood_pps: 4,
        background_minutes: Some(10),
        ..SynthConfig::default()
    }
}
