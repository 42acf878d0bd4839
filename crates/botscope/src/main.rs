//! The `botscope` command. Subcommands only wire crates together: each
//! lives in `cmd/<name>.rs` with its clap arguments and a `run` function.

use clap::{Parser, Subcommand};

mod cmd;

/// Botnet field research and ISP countermeasures: captures, resolver logs
/// and specimens in; infected customers, C&C servers, orders and block
/// lists out.
#[derive(Parser)]
#[command(name = "botscope", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read captures (or a live interface) into conn/dns/irc/tftp/http logs.
    Capture(cmd::capture::Args),
    /// Generate a seeded synthetic field with its ground truth.
    Synth(cmd::synth::Args),
    /// Bot behaviour tables (exploits, copy, C&C, orders, floods, spam) from captures.
    Analyze(cmd::analyze::Args),
    /// Resolver logs: deemed infection rate, infected customers, Parquet lake.
    Dns(cmd::dns::Args),
    /// Specimen store: add, scan, show, export.
    Specimen(cmd::specimen::Args),
    /// C&C name intelligence: classify, probe, export countermeasures.
    Intel(cmd::intel::Args),
    /// Run the honeypot sensor.
    Sensor(cmd::sensor::Args),
    /// Growth and impact models: simulate and fit.
    Model(cmd::model::Args),
    /// Render the field report (HTML, Markdown, JSON).
    Report(cmd::report::Args),
    /// Serve the live dashboard.
    Serve(cmd::serve::Args),
    /// Generate a field and run the whole study on it.
    Demo(cmd::demo::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Capture(a) => cmd::capture::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Dns(a) => cmd::dns::run(a),
        Command::Specimen(a) => cmd::specimen::run(a),
        Command::Intel(a) => cmd::intel::run(a),
        Command::Sensor(a) => cmd::sensor::run(a),
        Command::Model(a) => cmd::model::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Demo(a) => cmd::demo::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("botscope: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
