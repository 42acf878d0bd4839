//! `botscope dns` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope dns`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope dns`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope dns` is not available in this build yet")
}
