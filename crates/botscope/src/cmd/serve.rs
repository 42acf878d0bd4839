//! `botscope serve`: the live dashboard over a data folder.

use botscope_report::serve::{serve_blocking, ServeConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `botscope serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Data folder to watch (default: the store folder).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on; anything but loopback needs --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Access token (`?token=T` once, then a cookie; or `Authorization:
    /// Bearer T`). Default: `$BOTSCOPE_TOKEN`.
    #[arg(long)]
    token: Option<String>,
}

/// Runs `botscope serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data = args
        .data
        .unwrap_or_else(|| botscope_core::store::store_dir(None));
    let cfg = ServeConfig {
        data: data.clone(),
        token: args.token,
    };
    serve_blocking(cfg, args.bind, |addr| {
        eprintln!("botscope: serving {} on http://{addr}/", data.display());
    })?;
    Ok(ExitCode::SUCCESS)
}
