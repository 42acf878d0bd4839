//! Background-traffic accounting (Table 1). The counter is shared with
//! `botscope analyze`, which computes the same table from a capture of the
//! sensor interface, so it lives in `botscope-behavior`.

pub use botscope_behavior::accounting::*;
