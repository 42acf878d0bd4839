//! Fig. 3: the infection sequence of each bot — first exploit on it,
//! first line typed into its shell, the copy, its first scan, its first
//! lookup of a C&C name it connected to, its first JOIN, its first update
//! order — in time order with seconds since the first stage.

use crate::analysis::Report;
use crate::inputs::Inputs;
use crate::orders::OrderKind;
use botscope_core::Ts;
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// One stage of Fig. 3.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stage {
    /// `exploit`, `shell`, `copy`, `scan`, `dns`, `irc_join`, `update`.
    pub stage: String,
    /// Time.
    pub ts: Ts,
    /// Seconds since the first stage.
    pub delta_s: f64,
    /// Evidence uid.
    pub uid: String,
}

/// Fig. 3 for one bot.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Sequence {
    /// Bot.
    pub bot: IpAddr,
    /// Stages in time order.
    pub stages: Vec<Stage>,
}

/// The first stage of each kind for `bot`, unsorted.
fn stages(inp: &Inputs, r: &Report, bot: &IpAddr) -> Vec<(String, Ts, String)> {
    let mut st: Vec<(String, Ts, String)> = Vec::new();
    if let Some(e) = inp
        .exploits
        .iter()
        .filter(|e| e.id.resp_h == *bot)
        .min_by_key(|e| e.ts)
    {
        st.push(("exploit".into(), e.ts, e.uid.clone()));
    }
    // The exploit's shell: the first line typed into a shell this bot ran.
    if let Some(s) = inp
        .shell
        .iter()
        .filter(|s| s.shell_host == *bot)
        .min_by_key(|s| s.ts)
    {
        st.push(("shell".into(), s.ts, s.uid.clone()));
    }
    if let Some(c) = r
        .copies
        .iter()
        .filter(|c| c.victim == *bot)
        .min_by_key(|c| c.ts)
    {
        st.push(("copy".into(), c.ts, c.uid.clone()));
    }
    if let Some(s) = inp
        .scans
        .iter()
        .filter(|s| s.source == *bot)
        .min_by_key(|s| s.start)
    {
        st.push((
            "scan".into(),
            s.start,
            format!("pkt {}", s.evidence.packets.first().unwrap_or(&0)),
        ));
    }
    let names: BTreeSet<String> = r
        .sessions
        .iter()
        .filter(|s| s.bot == *bot)
        .filter_map(|s| s.fqdn.as_ref().map(|f| f.to_ascii_lowercase()))
        .collect();
    if let Some(d) = inp
        .dns
        .iter()
        .filter(|d| {
            d.id.orig_h == *bot
                && d.query
                    .as_ref()
                    .is_some_and(|q| names.contains(&q.to_ascii_lowercase()))
        })
        .min_by_key(|d| d.ts)
    {
        st.push(("dns".into(), d.ts, d.uid.clone()));
    }
    if let Some(s) = r
        .sessions
        .iter()
        .filter(|s| s.bot == *bot && s.join.is_some())
        .min_by_key(|s| s.join)
    {
        st.push(("irc_join".into(), s.join.unwrap_or(s.start), s.uid.clone()));
    }
    if let Some(o) = r
        .orders
        .iter()
        .filter(|o| {
            o.bot == *bot && matches!(o.order.kind, OrderKind::Download { update: true, .. })
        })
        .min_by_key(|o| o.ts)
    {
        st.push(("update".into(), o.ts, o.uid.clone()));
    }
    st
}

/// Fig. 3 for every bot in `bots`.
pub(crate) fn sequences(inp: &Inputs, bots: &BTreeSet<IpAddr>, r: &mut Report) {
    for bot in bots {
        let mut st = stages(inp, r, bot);
        st.sort_by_key(|s| s.1);
        let t0 = st.first().map(|s| s.1 .0).unwrap_or(0);
        r.sequences.push(Sequence {
            bot: *bot,
            stages: st
                .into_iter()
                .map(|(stage, ts, uid)| Stage {
                    stage,
                    ts,
                    delta_s: (ts.0 - t0) as f64 / 1e6,
                    uid,
                })
                .collect(),
        });
    }
}
