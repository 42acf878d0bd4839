//! `botscope intel` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope intel`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope intel`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope intel` is not available in this build yet")
}
