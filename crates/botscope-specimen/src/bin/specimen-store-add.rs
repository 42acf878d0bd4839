//! Test helper: adds files to a store from a separate process, optionally
//! pausing between the synced temp file and its rename so a test can kill
//! it there. Usage: `specimen-store-add STORE SEEN PAUSE_MS FILE...`.

use botscope_specimen::store::{AddOptions, Source, Store};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: specimen-store-add STORE SEEN PAUSE_MS FILE...");
        return ExitCode::from(2);
    }
    let (Ok(seen), Ok(pause)) = (args[2].parse::<i64>(), args[3].parse::<u64>()) else {
        eprintln!("SEEN and PAUSE_MS must be integers");
        return ExitCode::from(2);
    };
    let mut store = match Store::open(std::path::Path::new(&args[1])) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = AddOptions {
        pause_before_rename: (pause > 0).then(|| Duration::from_millis(pause)),
    };
    for f in &args[4..] {
        let data = match std::fs::read(f) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{f}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = store.add(&data, seen, Source::Sensor, &opts) {
            eprintln!("{f}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
