//! `botscope capture` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope capture`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope capture`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope capture` is not available in this build yet")
}
