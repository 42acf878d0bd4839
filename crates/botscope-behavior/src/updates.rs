//! Updates and downloads (§5.5): each download/update order a bot
//! received, matched to its next HTTP request to the URL's host within
//! 10 minutes; success is status 200 with an executable body.

use crate::analysis::{round2, Report};
use crate::inputs::Inputs;
use crate::orders::{url_host, OrderKind};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// A download or update (§5.5).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct UpdateRow {
    /// Bot.
    pub bot: IpAddr,
    /// Index of the order.
    pub order: usize,
    /// `update` or `download`.
    pub kind: String,
    /// URL.
    pub url: String,
    /// HTTP flow uid, when a response was seen.
    pub uid: Option<String>,
    /// Status code.
    pub status: Option<u16>,
    /// SHA-256 of the executable.
    pub sha256: Option<String>,
    /// Success: 200 and an executable body.
    pub success: bool,
}

/// The update rows, update orders per bot per day over `bots` and
/// `r.days`, and the failed updates.
pub(crate) fn updates(inp: &Inputs, bots: &BTreeSet<IpAddr>, r: &mut Report) {
    let mut used_http = BTreeSet::new();
    for (oi, o) in r.orders.iter().enumerate() {
        if o.direction != crate::herd::RECEIVED {
            continue; // rates are per bot; a herder's orders are not the bot's requests
        }
        let OrderKind::Download {
            update,
            url: Some(url),
            ..
        } = &o.order.kind
        else {
            continue;
        };
        let host = url_host(url).unwrap_or("");
        let hit = inp
            .http
            .iter()
            .enumerate()
            .filter(|(i, h)| {
                !used_http.contains(i)
                    && h.id.orig_h == o.bot
                    && h.ts >= o.ts
                    && h.ts.0 - o.ts.0 <= 600_000_000
            })
            .find(|(_, h)| {
                h.id.resp_h.to_string() == host
                    || h.host
                        .as_deref()
                        .is_some_and(|x| x.eq_ignore_ascii_case(host))
            });
        let row = match hit {
            Some((i, h)) => {
                used_http.insert(i);
                UpdateRow {
                    bot: o.bot,
                    order: oi,
                    kind: if *update { "update" } else { "download" }.into(),
                    url: url.clone(),
                    uid: Some(h.uid.clone()),
                    status: h.status_code,
                    sha256: h.sha256.clone(),
                    success: h.status_code == Some(200) && h.is_executable,
                }
            }
            None => UpdateRow {
                bot: o.bot,
                order: oi,
                kind: if *update { "update" } else { "download" }.into(),
                url: url.clone(),
                uid: None,
                status: None,
                sha256: None,
                success: false,
            },
        };
        r.updates.push(row);
    }
    let days = r.days;
    let ups = r.updates.iter().filter(|u| u.kind == "update").count() as f64;
    r.updates_per_bot_per_day = round2(ups / (bots.len().max(1) as f64 * days.max(1e-9)));
    r.updates_failed = r
        .updates
        .iter()
        .filter(|u| u.kind == "update" && !u.success)
        .count() as u64;
}
