//! Time zones for log stamps that carry none (`--log-tz`): the one zone
//! parser and TZif reader of `botscope_core::tz`, re-exported here so the
//! readers keep their `super::tz` paths.

pub use botscope_core::tz::{parse_fixed, LocalClock, TzRules, Zone, ZoneError};
