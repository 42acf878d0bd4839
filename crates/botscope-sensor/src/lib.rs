//! Low-interaction honeypot sensor: listeners on many addresses, enough
//! SMB/DCE-RPC emulation to draw the exploit payload, contained downloads
//! of the bot binary from the attacking address only, and background
//! traffic accounting (the study's Table 1).

#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod analysis;
pub mod config;
pub mod containment;
pub mod daemon;
pub mod deobf;
pub mod download;
pub mod emulate;
pub mod instructions;
pub mod server;
pub mod shell;
pub mod shell_session;
pub mod shellcode;
