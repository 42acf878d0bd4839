//! Writes a synthetic field without the CLI (so a field can be generated
//! while other crates of the workspace do not build), e.g. to check that
//! a refactoring leaves the bytes alone:
//!
//! ```console
//! $ cargo run -p botscope-synth --example field -- OUT SEED [DAYS SCALE GRE]
//! ```

use botscope_synth::{generate, SynthConfig};
use std::path::Path;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: field OUT SEED [DAYS SCALE GRE]");
        std::process::exit(2);
    };
    let num = |i: usize, d: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let cfg = SynthConfig {
        seed: num(1, 1.0) as u64,
        days: num(2, 2.0) as u32,
        scale: num(3, 1.0),
        gre: args.get(4).is_some_and(|g| g == "gre"),
        ..SynthConfig::default()
    };
    let t = generate(&cfg, Path::new(out))?;
    println!("{} files", t.files.len());
    Ok(())
}
