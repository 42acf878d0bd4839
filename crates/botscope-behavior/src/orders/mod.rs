//! Herders' orders: the grammar of bot commands ([`grammar`]: orders and
//! replies of SDBot, rbot/rxbot, Agobot/Phatbot, Spybot and kin, parsed
//! from IRC texts) and Table 10 (`ddos.*` orders per command) with the
//! count of every order per command. Which IRC lines are orders, on the
//! bot's side or the herder's, is [`crate::herd`]'s job.

pub mod grammar;

pub use grammar::*;

use crate::analysis::{bump, table, Report};
use botscope_core::events::Evidence;
use botscope_core::Ts;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A herder order (Table 10, Fig. 6), received by a bot or sent by a
/// herder (see [`crate::herd`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OrderRow {
    /// Session uid.
    pub uid: String,
    /// Bot: the session's client for a received order; for a sent order
    /// the address in the bot's reply prefix, `0.0.0.0` when the prefix
    /// names a host instead (see `bot_nick`, `bot_host`).
    pub bot: IpAddr,
    /// Time.
    pub ts: Ts,
    /// `topic` or `privmsg` (or `notice`).
    pub via: String,
    /// Channel or target.
    pub target: Option<String>,
    /// Raw text.
    pub raw: String,
    /// Parsed order.
    pub order: Order,
    /// Indexes of the replies linked to it.
    pub replies: Vec<usize>,
    /// Evidence.
    pub evidence: Evidence,
    /// `received` (the capture holds the bot) or `sent` (the capture holds
    /// the herder's client).
    pub direction: String,
    /// Who gave it: the line's prefix (`nick!user@host`), a `332` topic's
    /// setter from the following `333`, or the herder's own nick.
    pub sender: Option<String>,
    /// The bot's nick: the session's for a received order, the PRIVMSG
    /// target for one sent to a nick (none for one sent to a channel).
    pub bot_nick: Option<String>,
    /// The bot's `user@host`, from the prefix of its relayed replies.
    pub bot_host: Option<String>,
}

/// A bot reply.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReplyRow {
    /// Session uid.
    pub uid: String,
    /// Time.
    pub ts: Ts,
    /// Raw text.
    pub raw: String,
    /// Parsed reply.
    pub reply: Reply,
    /// Index of the order it answers.
    pub order: Option<usize>,
    /// Evidence.
    pub evidence: Evidence,
    /// The bot that replied: its own nick (bot side) or the prefix of the
    /// relayed line (`nick!user@host`, herder side).
    pub from: Option<String>,
}

/// Table 10, the orders per command and the uninterpreted orders, from
/// `r.orders`.
pub(crate) fn table10(r: &mut Report) {
    let mut t10 = BTreeMap::new();
    let mut cmds = BTreeMap::new();
    for o in &r.orders {
        bump(&mut cmds, o.order.command.clone(), &o.uid, 1);
        if matches!(o.order.kind, OrderKind::Ddos { .. }) {
            bump(&mut t10, o.order.command.clone(), &o.uid, 1);
        }
        if o.order.kind == OrderKind::Unknown {
            r.unknown_orders += 1;
        }
    }
    r.table10 = table(&t10);
    r.order_commands = table(&cmds);
}
