//! `botscope synth` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope synth`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope synth`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope synth` is not available in this build yet")
}
