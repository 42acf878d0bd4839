//! The IRC bot configuration a specimen embeds: written by the synthetic
//! specimen builder, recovered by static extraction, compared in tests.

use serde::{Deserialize, Serialize};

/// One C&C server a specimen names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotServer {
    /// FQDN or dotted IPv4 address.
    pub host: String,
    /// IRC port.
    pub port: u16,
}

/// The IRC bot configuration embedded in a specimen: the record static
/// extraction must recover exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotConfig {
    /// C&C servers, in the order the bot tries them.
    pub servers: Vec<BotServer>,
    /// Channel joined, with its `#`.
    pub channel: String,
    /// Channel key, if any.
    pub key: Option<String>,
    /// Prefix of generated nicks.
    pub nick_prefix: String,
}
