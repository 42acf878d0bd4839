//! `botscope model` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope model`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope model`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope model` is not available in this build yet")
}
