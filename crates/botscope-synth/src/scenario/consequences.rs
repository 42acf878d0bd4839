//! What an order makes a bot do: scans, floods, downloads and spam relays,
//! planned as jobs with their truth, and the reply the bot sends.

use super::*;
use crate::draw::public_ip;
use crate::orders::{parse_flood_args, scan_reply, scan_target};
use crate::truth::*;
use botscope_core::Ts;
use rand::Rng;
use std::net::Ipv4Addr;

/// An order being carried out: its index, the bot, its time, its command
/// word and arguments.
#[derive(Clone, Copy)]
struct Order<'a> {
    oid: u32,
    bot: Ipv4Addr,
    t: i64,
    command: &'a str,
    args: &'a [String],
}

impl Gen {
    /// Plans what an order makes the bot do; returns the bot's reply.
    pub(super) fn execute_order(
        &mut self,
        oid: u32,
        bot: Ipv4Addr,
        t: i64,
        command: &str,
        args: &[String],
    ) -> Option<String> {
        let o = Order {
            oid,
            bot,
            t,
            command,
            args,
        };
        match command {
            "advscan" | "ntscan" | "ipscan" => Some(self.order_scan(&o)),
            c if c.starts_with("ddos.") && c != "ddos.stop" => self.order_flood(&o),
            "ddos.stop" => Some("[DDoS]: Stopped flooding.".into()),
            "update" | "download" => self.order_fetch(&o),
            "redirect.socks" | "redirect.http" | "redirect.tcp" => self.order_redirect(&o),
            _ => None,
        }
    }

    /// A scan order: the scan wave it starts (its range from the flags)
    /// and the bot's reply.
    fn order_scan(&mut self, o: &Order) -> String {
        let Order {
            oid,
            bot,
            t,
            command,
            args,
        } = *o;
        let (range, port, _) = scan_target(command, args, bot);
        let count = self.rng.random_range(80..300u32);
        let st = t + 2_000_000;
        let step = 250_000;
        let idx = self.t.scans.len() as u32;
        self.t.scans.push(ScanTruth {
            order: Some(oid),
            source: bot,
            range: range.clone(),
            port,
            start: Ts(st),
            end: Ts(st + (count as i64 - 1) * step),
            count,
        });
        self.jobs.push((st, Cap::Infected, Job::Scan { idx }));
        scan_reply(command, args, bot)
    }

    /// A `ddos.*` order: the flood it starts (forged sources for every
    /// other SYN-type flood) and the bot's reply.
    fn order_flood(&mut self, o: &Order) -> Option<String> {
        let Order {
            oid,
            bot,
            t,
            command: c,
            args,
        } = *o;
        let a = parse_flood_args(c, args)?;
        // Orders without a port (targa3) leave it to the bot.
        let port = match a.port {
            Some(p) => p,
            None if c == "ddos.targa3" => [6667u16, 6667, 7000, 5562][self.rng.random_range(0..4)],
            None => 0,
        };
        let (target, secs) = (a.target, a.secs as i64);
        let st = t + 2_000_000;
        // Phatbot's SYN variants forge their sources: every other
        // SYN-type flood of the field does (no draw from the seed's
        // stream, so the rest of the field is unchanged).
        let spoofed = matches!(c, "ddos.synflood" | "ddos.phatsyn" | "ddos.phatwolk")
            && self.t.floods.len().is_multiple_of(2);
        let mac = crate::pcap::host_mac(bot);
        self.t.floods.push(FloodTruth {
            spoofed,
            sources: 1,
            sender_mac: Some(format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
            )),
            order: oid,
            kind: c.to_string(),
            source: bot,
            target,
            port,
            order_port: a.port,
            duration_s: a.secs,
            delay_ms: a.delay_ms,
            start: Ts(st),
            end: Ts(st + secs * 1_000_000),
            packets: 0,
        });
        let idx = self.t.floods.len() as u32 - 1;
        self.jobs.push((st, Cap::Infected, Job::Flood { idx }));
        Some(format!(
            "[DDoS]: Flooding: ({target}:{port}) for {secs} seconds."
        ))
    }

    /// An `update`/`download` order: the HTTP fetch it starts (85 %
    /// succeed; half the failures are refused) and the bot's reply.
    fn order_fetch(&mut self, o: &Order) -> Option<String> {
        let Order {
            oid,
            bot,
            t,
            command,
            args,
        } = *o;
        let url = args.first().cloned()?;
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let server: Ipv4Addr = host.parse().ok()?;
        let success = self.rng.random_bool(0.85);
        let refused = !success && self.rng.random_bool(0.5);
        let n_spec = self.n(10.0).clamp(4, 400) as u32;
        let spec = if success {
            Some(self.rng.random_range(0..n_spec))
        } else {
            None
        };
        let st = t + 3_000_000;
        let sha = spec.map(|s| self.specs[s as usize].truth.sha256.clone());
        let idx = self.t.updates.len() as u32;
        self.t.updates.push(UpdateTruth {
            order: oid,
            bot,
            url: url.clone(),
            kind: command.into(),
            ts: Ts(st),
            success,
            sha256: sha,
        });
        self.http.push((server, format!("/{path}"), spec, refused));
        self.jobs.push((st, Cap::Infected, Job::Http { idx }));
        Some(if command == "update" {
            format!("[UPDATE]: Downloading update from: {url}.")
        } else {
            format!(
                "[DOWNLOAD]: Downloading URL: {url} to: {}.",
                args.get(1).cloned().unwrap_or_default()
            )
        })
    }

    /// A redirect order: the spammers that use the opened port until the
    /// field's end (Fig. 5 counts) and the bot's reply.
    fn order_redirect(&mut self, o: &Order) -> Option<String> {
        let Order {
            oid,
            bot,
            t,
            command,
            args,
        } = *o;
        let port: u16 = args.first().and_then(|a| a.parse().ok())?;
        let fixed_mx: Option<Ipv4Addr> = args.get(1).and_then(|a| a.parse().ok());
        let n_src = self.rng.random_range(2..=5);
        let window_end = self.end_us() - 120_000_000;
        let st = t + 60_000_000;
        if window_end <= st {
            return None;
        }
        for _ in 0..if self.cfg.spam { n_src } else { 0 } {
            let spammer = public_ip(&mut self.rng);
            let protocol = match command {
                "redirect.socks" => {
                    if self.rng.random_bool(0.5) {
                        "socks4"
                    } else {
                        "socks5"
                    }
                }
                "redirect.http" => "http_connect",
                _ => "redirect",
            };
            // Fig. 5: 73 % of sources send ≤ 100 requests.
            let count: u32 = if self.rng.random_bool(0.73) {
                self.rng.random_range(1..=100)
            } else {
                self.rng.random_range(101..=600)
            };
            let mut times: Vec<i64> = (0..count)
                .map(|_| self.rng.random_range(st..window_end))
                .collect();
            times.sort();
            let mx = fixed_mx.unwrap_or_else(|| public_ip(&mut self.rng));
            let rid = self.t.spam_relays.len() as u32;
            self.t.spam_relays.push(SpamRelayTruth {
                order: oid,
                bot,
                port,
                protocol: protocol.into(),
                spammer,
                mail_server: mx,
                count,
                first: Ts(times[0]),
                last: Ts(*times.last().unwrap_or(&st)),
            });
            for (n, tt) in times.iter().enumerate() {
                self.jobs.push((
                    *tt,
                    Cap::Infected,
                    Job::Spam {
                        relay: rid,
                        n: n as u32,
                        t: *tt,
                    },
                ));
            }
            self.spam_times.push(times);
        }
        Some(match command {
            "redirect.socks" => format!("[SOCKS4]: Server started on: {bot}:{port}."),
            "redirect.http" => format!("[HTTPD]: Proxy started on: {bot}:{port}."),
            _ => format!(
                "[REDIRECT]: TCP redirect created from: {bot}:{port} to: {}:25.",
                args.get(1).cloned().unwrap_or_default()
            ),
        })
    }
}
