//! The sensor as `botscope sensor --config FILE --store DIR --json` runs
//! it (same `daemon::run`, same specimen-store sink, same multi-threaded
//! runtime), without the rest of the CLI: `bench/sensor.sh` builds this
//! instead of the whole `botscope` binary, which is much cheaper on a
//! shared machine and does not depend on the other crates building.
//!
//! Usage: sensor_daemon CONFIG STORE_DIR   (stops on SIGINT, then prints
//! the run summary as JSON)

use botscope_sensor::config::SensorConfig;
use botscope_sensor::server::StoreSink;
use std::sync::{Arc, Mutex};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, config, store] = args.as_slice() else {
        eprintln!("usage: sensor_daemon CONFIG STORE_DIR");
        std::process::exit(2);
    };
    let cfg = SensorConfig::parse(&std::fs::read_to_string(config)?)?;
    let store = botscope_specimen::Store::open(std::path::Path::new(store))?;
    let sink = Arc::new(StoreSink(Mutex::new(store)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(botscope_sensor::daemon::run(cfg, sink, |_| {}, async {
        let _ = tokio::signal::ctrl_c().await;
    }))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
