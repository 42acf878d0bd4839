//! One log, one thread, through the readers into a [`RateEngine`] (exact
//! mode, one-day windows): what each `botscope dns rate` thread does,
//! without building the whole CLI. For `perf record` or
//! `valgrind --tool=callgrind` when tuning the hot loop (issue 19).
//!
//! usage: `cargo run --release -p botscope-dnslog --example rate_profile -- WATCHLIST LOG`
//! (`NO_SUSPECT=1` turns the suspected tier's name scoring off).

use botscope_dnslog::{NameSet, RateConfig, RateEngine, ReadOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, watch, log] = &args[..] else {
        return Err("usage: rate_profile WATCHLIST LOG".into());
    };
    let watch = NameSet::from_file(std::path::Path::new(watch))?;
    let allow = NameSet::new();
    let mut cfg = RateConfig::default();
    cfg.suspect.enabled = std::env::var_os("NO_SUSPECT").is_none();
    let mut e = RateEngine::new(cfg, &watch, &allow);
    e.read(log, &ReadOptions::default());
    let r = e.report();
    for t in &r.totals {
        println!(
            "{} clients {} infected {} queries {}",
            t.group, t.clients, t.infected, t.queries
        );
        println!("suspected {}", t.suspected);
    }
    Ok(())
}
