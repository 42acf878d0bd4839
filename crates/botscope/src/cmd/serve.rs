//! `botscope serve` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope serve`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope serve`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope serve` is not available in this build yet")
}
