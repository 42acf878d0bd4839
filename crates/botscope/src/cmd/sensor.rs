//! `botscope sensor` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope sensor`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope sensor`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope sensor` is not available in this build yet")
}
