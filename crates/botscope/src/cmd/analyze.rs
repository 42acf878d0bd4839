//! `botscope analyze` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope analyze`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope analyze`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope analyze` is not available in this build yet")
}
