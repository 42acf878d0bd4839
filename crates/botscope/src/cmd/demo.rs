//! `botscope demo` (not wired yet: its crate is under construction).

use std::process::ExitCode;

/// Arguments of `botscope demo`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `botscope demo`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`botscope demo` is not available in this build yet")
}
