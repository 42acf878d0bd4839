//! `botscope specimen` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope specimen`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope specimen`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope specimen` is not available in this build yet")
}
