//! Seeded synthetic field data (captures, resolver logs, specimens) with a
//! ground-truth file.

pub mod resolver;
pub mod specimen;
