//! One module per subcommand. Each exposes `Args` (clap) and
//! `run(Args) -> anyhow::Result<ExitCode>`.

pub mod analyze;
pub mod capture;
pub mod demo;
pub mod dns;
pub mod intel;
pub mod model;
pub mod report;
pub mod sensor;
pub mod serve;
pub mod specimen;
pub mod synth;
