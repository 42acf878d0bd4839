//! `botscope report` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope report`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope report`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope report` is not available in this build yet")
}
