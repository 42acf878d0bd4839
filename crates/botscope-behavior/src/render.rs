//! Rendering of a [`Report`]: the study's tables as text, and JSON + CSV
//! files (one CSV per table).

use crate::analysis::{Report, Row};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

fn count_table(out: &mut String, title: &str, head: &str, rows: &[Row]) {
    let total: u64 = rows.iter().map(|r| r.count).sum();
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "  {head:<24} {:>10} {:>8}  evidence", "count", "%");
    for r in rows {
        let _ = writeln!(
            out,
            "  {:<24} {:>10} {:>7.2}%  {}",
            r.key,
            r.count,
            r.percent,
            r.evidence.join(" ")
        );
    }
    let _ = writeln!(out, "  {:<24} {:>10}\n", "total", total);
}

/// The report as text tables, in the study's form.
pub fn text(r: &Report) -> String {
    let mut o = String::new();
    if let Some(t1) = &r.table1 {
        let _ = writeln!(o, "{}", t1.render());
    }
    count_table(&mut o, "Table 7. Exploit vectors", "vector", &r.table7);
    count_table(
        &mut o,
        "Table 8. How the bot binary was copied",
        "method",
        &r.table8,
    );
    let _ = writeln!(o, "  successful: {:?}\n", r.table8_success);
    let _ = writeln!(o, "Fig. 3. Infection sequence per bot");
    for s in &r.sequences {
        let parts: Vec<String> = s
            .stages
            .iter()
            .map(|st| format!("{} (+{:.1}s, {})", st.stage, st.delta_s, st.uid))
            .collect();
        let _ = writeln!(o, "  {:<16} {}", s.bot.to_string(), parts.join(" -> "));
    }
    let _ = writeln!(o);
    count_table(&mut o, "Table 9. IRC C&C server ports", "port", &r.table9);
    let _ = writeln!(o, "IRC C&C sessions ({})", r.irc_sessions_cc);
    let session_line = |o: &mut String, s: &crate::analysis::SessionRow| {
        let _ = writeln!(
            o,
            "  {} {} -> {}:{} fqdn={} nick={} ({}) channels={} key={} role={}",
            s.uid,
            s.bot,
            s.server,
            s.port,
            s.fqdn.as_deref().unwrap_or("-"),
            s.nick.as_deref().unwrap_or("-"),
            s.nick_pattern.as_deref().unwrap_or("-"),
            s.channels.join(","),
            s.key.as_deref().unwrap_or("-"),
            s.role
        );
        let a = &s.attribution;
        let _ = writeln!(
            o,
            "    {}: {}; for: [{}]; against: [{}]",
            a.verdict,
            a.reason,
            a.evidence_for.join("; "),
            a.evidence_against.join("; ")
        );
    };
    for s in r.sessions.iter().filter(|s| s.attribution.is_cc()) {
        session_line(&mut o, s);
    }
    let _ = writeln!(
        o,
        "IRC sessions not attributed to a bot ({}; not in Table 9)",
        r.irc_sessions_unattributed
    );
    for s in r.sessions.iter().filter(|s| !s.attribution.is_cc()) {
        session_line(&mut o, s);
    }
    let _ = writeln!(o);
    channels_text(&mut o, r);
    orders_text(&mut o, r);
    floods_text(&mut o, r);
    let _ = writeln!(o);
    count_table(
        &mut o,
        "Table 11. Spam relay requests per redirect port",
        "port",
        &r.table11,
    );
    let _ = writeln!(
        o,
        "Fig. 5. Spam requests per source: {:?} (bins ≤ {:?}), {:.2}% of sources ≤ 100\n",
        r.fig5.sources, r.fig5.bin_upper, r.fig5.percent_le_100
    );
    let _ = writeln!(
        o,
        "Updates (§5.5): {} orders, {:.2} updates per bot per day over {} days, {} failed\n",
        r.updates.len(),
        r.updates_per_bot_per_day,
        r.days,
        r.updates_failed
    );
    let _ = writeln!(o, "Scans");
    for s in &r.scans {
        let _ = writeln!(
            o,
            "  {} port {} {} {} .. {} {} probes {} pps order {:?} fits {:?}",
            s.scan.source,
            s.scan.port,
            s.scan.range,
            s.scan.start,
            s.scan.end,
            s.scan.probes,
            s.rate_pps,
            s.order,
            s.fits_order
        );
    }
    let _ = writeln!(
        o,
        "\nIRC joins per local hour (UTC{:+}s): {:?}",
        r.tz_offset_s, r.joins_per_local_hour
    );
    o
}

/// Table 10 and the orders, one line each.
fn orders_text(o: &mut String, r: &Report) {
    count_table(
        o,
        "Table 10. DDoS orders per command",
        "command",
        &r.table10,
    );
    let _ = writeln!(o, "Orders ({} unknown)", r.unknown_orders);
    for (i, x) in r.orders.iter().enumerate() {
        let _ = writeln!(
            o,
            "  #{i} {} {} {} {} via {} to {} by {}: {}  replies={:?}",
            x.ts,
            x.uid,
            x.direction,
            x.bot_nick
                .as_deref()
                .map_or_else(|| x.bot.to_string(), String::from),
            x.via,
            x.target.as_deref().unwrap_or("-"),
            x.sender.as_deref().unwrap_or("-"),
            x.raw,
            x.replies
        );
    }
}

/// The floods, one line each (two for a spoofed one).
fn floods_text(o: &mut String, r: &Report) {
    let _ = writeln!(o, "\nFloods (§5.3)");
    for f in &r.floods {
        if f.flood.spoofed {
            let _ = writeln!(
                o,
                "  spoofed ({} sources) from {} [{}] ->",
                f.flood.sources,
                f.flood.source,
                f.flood.sender_mac.as_deref().unwrap_or("-")
            );
        }
        let _ = writeln!(
            o,
            "  {} -> {}:{} {} ({}) {} .. {} {} packets, {} pps, order {:?}",
            f.flood.source,
            f.flood.target,
            f.flood.port,
            f.flood.kind,
            f.command,
            f.flood.start,
            f.flood.end,
            f.flood.packets,
            f.rate_pps,
            f.order
        );
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(
    path: &Path,
    head: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<()> {
    let mut s = head.join(",");
    s.push('\n');
    for r in rows {
        s.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        s.push('\n');
    }
    std::fs::write(path, s)
}

fn rows_csv(path: &Path, rows: &[Row]) -> io::Result<()> {
    write_csv(
        path,
        &["key", "count", "percent", "evidence"],
        rows.iter().map(|r| {
            vec![
                r.key.clone(),
                r.count.to_string(),
                format!("{:.2}", r.percent),
                r.evidence.join(" "),
            ]
        }),
    )
}

/// Writes `report.json` and one CSV per table into `dir`.
pub fn write_dir(r: &Report, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_vec_pretty(r).map_err(io::Error::other)?;
    std::fs::write(dir.join("report.json"), json)?;
    rows_csv(&dir.join("table7_exploits.csv"), &r.table7)?;
    rows_csv(&dir.join("table8_copy.csv"), &r.table8)?;
    rows_csv(&dir.join("table9_irc_ports.csv"), &r.table9)?;
    rows_csv(&dir.join("table10_ddos.csv"), &r.table10)?;
    rows_csv(&dir.join("table11_relay_ports.csv"), &r.table11)?;
    exploit_csvs(r, dir)?;
    irc_csvs(r, dir)?;
    channel_csvs(r, dir)?;
    traffic_csvs(r, dir)
}

/// A channel's verdict with its evidence, under the channel's row.
fn attribution_line(o: &mut String, a: &crate::attribution::Attribution) {
    let _ = writeln!(
        o,
        "    {}: {}; for: [{}]; against: [{}]",
        a.verdict,
        a.reason,
        a.evidence_for.join("; "),
        a.evidence_against.join("; ")
    );
}

/// Table 9's HTTP rows, the unattributed pollers and the P2P hosts.
fn channels_text(o: &mut String, r: &Report) {
    let _ = writeln!(
        o,
        "Table 9 (HTTP). HTTP C&C servers ({})",
        r.table9_http.len()
    );
    let _ = writeln!(
        o,
        "  {:<22} {:>5} {:>5} {:>6} {:>10} {:>7}  uri shape",
        "host", "port", "bots", "polls", "interval s", "orders"
    );
    let http_line = |o: &mut String, h: &crate::http_cc::HttpCcRow| {
        let _ = writeln!(
            o,
            "  {:<22} {:>5} {:>5} {:>6} {:>10} {:>7}  {} {}",
            h.host.clone().unwrap_or_else(|| h.server.to_string()),
            h.port,
            h.bots.len(),
            h.polls,
            h.interval_s.map_or("-".into(), |i| format!("{i:.1}")),
            h.orders,
            h.uri_shape,
            h.order_commands.join(",")
        );
        attribution_line(o, &h.attribution);
    };
    for h in &r.table9_http {
        http_line(o, h);
    }
    let _ = writeln!(
        o,
        "Periodic HTTP pollers not attributed ({})",
        r.http_pollers.len()
    );
    for h in &r.http_pollers {
        http_line(o, h);
    }
    let _ = writeln!(
        o,
        "\nP2P hosts ({}; P2P-only C&C: {})",
        r.p2p_hosts.len(),
        r.p2p_only_hosts.len()
    );
    for h in &r.p2p_hosts {
        let _ = writeln!(
            o,
            "  {} {} links={} peers={} learnt={} p2p_only={} other_cc=[{}]",
            h.host,
            h.protocols.join(","),
            h.links,
            h.peers.len(),
            h.learnt_peers,
            h.p2p_only,
            h.other_cc.join("; ")
        );
        attribution_line(o, &h.attribution);
    }
    if !r.p2p_only_hosts.is_empty() {
        let _ = writeln!(
            o,
            "  {} infected hosts use only P2P C&C: counting by resolver logs (Table 3) misses them",
            r.p2p_only_hosts.len()
        );
    }
    let _ = writeln!(o);
}

/// `table9_http.csv` and `p2p_peers.csv`.
fn channel_csvs(r: &Report, dir: &Path) -> io::Result<()> {
    write_csv(
        &dir.join("table9_http.csv"),
        &[
            "host",
            "server",
            "port",
            "uri_shape",
            "bots",
            "polls",
            "interval_s",
            "spread",
            "orders",
            "commands",
            "verdict",
        ],
        r.table9_http.iter().chain(&r.http_pollers).map(|h| {
            vec![
                h.host.clone().unwrap_or_default(),
                h.server.to_string(),
                h.port.to_string(),
                h.uri_shape.clone(),
                h.bots.len().to_string(),
                h.polls.to_string(),
                h.interval_s.map_or(String::new(), |i| i.to_string()),
                h.interval_spread.map_or(String::new(), |i| i.to_string()),
                h.orders.to_string(),
                h.order_commands.join(" "),
                h.attribution.verdict.clone(),
            ]
        }),
    )?;
    write_csv(
        &dir.join("p2p_peers.csv"),
        &[
            "host",
            "verdict",
            "p2p_only",
            "peer",
            "port",
            "protocol",
            "links",
            "outbound",
            "bytes_out",
            "bytes_in",
            "longest_s",
            "uid",
        ],
        r.p2p_hosts.iter().flat_map(|h| {
            h.peers.iter().map(move |p| {
                vec![
                    h.host.to_string(),
                    h.attribution.verdict.clone(),
                    h.p2p_only.to_string(),
                    p.peer.to_string(),
                    p.port.to_string(),
                    p.protocol.clone(),
                    p.links.to_string(),
                    p.outbound.to_string(),
                    p.bytes_out.to_string(),
                    p.bytes_in.to_string(),
                    p.longest_s.to_string(),
                    p.uid.clone(),
                ]
            })
        }),
    )
}

/// `exploits.csv` and `copies.csv`.
fn exploit_csvs(r: &Report, dir: &Path) -> io::Result<()> {
    write_csv(
        &dir.join("exploits.csv"),
        &[
            "ts", "uid", "attacker", "victim", "port", "vector", "detail", "packets",
        ],
        r.exploits.iter().map(|e| {
            vec![
                e.ts.to_string(),
                e.uid.clone(),
                e.id.orig_h.to_string(),
                e.id.resp_h.to_string(),
                e.id.resp_p.to_string(),
                e.vector.name().into(),
                e.detail.clone(),
                format!("{:?}", e.evidence.packets),
            ]
        }),
    )?;
    write_csv(
        &dir.join("copies.csv"),
        &[
            "ts",
            "exploit_uid",
            "uid",
            "attacker",
            "victim",
            "method",
            "filename",
            "size",
            "sha256",
            "success",
        ],
        r.copies.iter().map(|c| {
            vec![
                c.ts.to_string(),
                c.exploit_uid.clone(),
                c.uid.clone(),
                c.attacker.to_string(),
                c.victim.to_string(),
                c.method.clone(),
                c.filename.clone().unwrap_or_default(),
                c.size.to_string(),
                c.sha256.clone().unwrap_or_default(),
                c.success.to_string(),
            ]
        }),
    )?;
    Ok(())
}

/// `sessions.csv` and `orders.csv`.
fn irc_csvs(r: &Report, dir: &Path) -> io::Result<()> {
    write_csv(
        &dir.join("sessions.csv"),
        &[
            "uid",
            "bot",
            "server",
            "port",
            "fqdn",
            "nick",
            "nick_pattern",
            "channels",
            "key",
            "start",
            "join",
            "role",
            "attribution",
            "reason",
            "evidence_for",
            "evidence_against",
        ],
        r.sessions.iter().map(|s| {
            vec![
                s.uid.clone(),
                s.bot.to_string(),
                s.server.to_string(),
                s.port.to_string(),
                s.fqdn.clone().unwrap_or_default(),
                s.nick.clone().unwrap_or_default(),
                s.nick_pattern.clone().unwrap_or_default(),
                s.channels.join(" "),
                s.key.clone().unwrap_or_default(),
                s.start.to_string(),
                s.join.map(|j| j.to_string()).unwrap_or_default(),
                s.role.clone(),
                s.attribution.verdict.clone(),
                s.attribution.reason.clone(),
                s.attribution.evidence_for.join("; "),
                s.attribution.evidence_against.join("; "),
            ]
        }),
    )?;
    write_csv(
        &dir.join("orders.csv"),
        &[
            "index",
            "ts",
            "uid",
            "bot",
            "via",
            "command",
            "raw",
            "replies",
            "packets",
            "direction",
            "kind",
            "sender",
            "target",
            "bot_nick",
            "bot_host",
        ],
        r.orders.iter().enumerate().map(|(i, o)| {
            vec![
                i.to_string(),
                o.ts.to_string(),
                o.uid.clone(),
                o.bot.to_string(),
                o.via.clone(),
                o.order.command.clone(),
                o.raw.clone(),
                format!("{:?}", o.replies),
                format!("{:?}", o.evidence.packets),
                o.direction.clone(),
                o.order.kind.name().to_string(),
                o.sender.clone().unwrap_or_default(),
                o.target.clone().unwrap_or_default(),
                o.bot_nick.clone().unwrap_or_default(),
                o.bot_host.clone().unwrap_or_default(),
            ]
        }),
    )?;
    Ok(())
}

/// `floods.csv`, `relays.csv`, `scans.csv` and `diurnal.csv`.
fn traffic_csvs(r: &Report, dir: &Path) -> io::Result<()> {
    write_csv(
        &dir.join("floods.csv"),
        &[
            "source",
            "target",
            "port",
            "kind",
            "command",
            "start",
            "end",
            "packets",
            "rate_pps",
            "order",
            "spoofed",
            "sources",
            "sender_mac",
        ],
        r.floods.iter().map(|f| {
            vec![
                f.flood.source.to_string(),
                f.flood.target.to_string(),
                f.flood.port.to_string(),
                f.flood.kind.clone(),
                f.command.clone(),
                f.flood.start.to_string(),
                f.flood.end.to_string(),
                f.flood.packets.to_string(),
                f.rate_pps.to_string(),
                f.order.map(|o| o.to_string()).unwrap_or_default(),
                f.flood.spoofed.to_string(),
                f.flood.sources.to_string(),
                f.flood.sender_mac.clone().unwrap_or_default(),
            ]
        }),
    )?;
    write_csv(
        &dir.join("relays.csv"),
        &[
            "bot", "port", "protocol", "spammer", "count", "first", "last", "evidence",
        ],
        r.relays.iter().map(|x| {
            vec![
                x.bot.to_string(),
                x.port.to_string(),
                x.protocol.clone(),
                x.spammer.to_string(),
                x.count.to_string(),
                x.first.to_string(),
                x.last.to_string(),
                x.evidence.join(" "),
            ]
        }),
    )?;
    write_csv(
        &dir.join("scans.csv"),
        &[
            "source",
            "port",
            "range",
            "start",
            "end",
            "probes",
            "rate_pps",
            "order",
            "fits_order",
        ],
        r.scans.iter().map(|s| {
            vec![
                s.scan.source.to_string(),
                s.scan.port.to_string(),
                s.scan.range.clone(),
                s.scan.start.to_string(),
                s.scan.end.to_string(),
                s.scan.probes.to_string(),
                s.rate_pps.to_string(),
                s.order.map(|o| o.to_string()).unwrap_or_default(),
                s.fits_order.map(|o| o.to_string()).unwrap_or_default(),
            ]
        }),
    )?;
    write_csv(
        &dir.join("diurnal.csv"),
        &["local_hour", "joins"],
        r.joins_per_local_hour
            .iter()
            .enumerate()
            .map(|(h, c)| vec![h.to_string(), c.to_string()]),
    )?;
    Ok(())
}
