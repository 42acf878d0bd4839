//! HTTP polling C&C (issue 20): bots that ask their server for orders at a
//! regular interval with a small jitter, one TCP connection a poll, the
//! same request shape on every bot of a server; most answers are empty or
//! `ok`, a few carry an order in the IRC order grammar. Beside them, benign
//! clients that poll a web service just as regularly with a constant
//! answer and no order.

use super::{Host, Lookup};
use crate::draw::{flow, free_port, word};
use crate::orders::{flood_order, parse_order, SCAN_ORDERS};
use crate::pcap::PcapFile;
use crate::tcp::Tcp;
use crate::truth::{HttpBenignTruth, HttpBotTruth, HttpCcTruth, HttpDeliveryTruth, HttpOrderTruth};
use botscope_core::{Proto, Ts};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::net::Ipv4Addr;

/// The request shape of one HTTP C&C server.
struct Shape {
    method: &'static str,
    port: u16,
    path: &'static str,
    /// The rest of the URI (`GET`) or the form body (`POST`), with `{id}`.
    rest: &'static str,
    /// Nominal poll interval, seconds.
    interval: u32,
    /// Jitter, ± seconds.
    jitter: u32,
    /// Answer to a poll without an order.
    idle: &'static str,
    /// Whether the bots resolve the server by name.
    named: bool,
}

/// The field's HTTP C&C servers.
const SHAPES: [Shape; 3] = [
    Shape {
        method: "GET",
        port: 80,
        path: "/gate.php",
        rest: "?id={id}&v=2.1&os=5.1",
        interval: 300,
        jitter: 15,
        idle: "",
        named: true,
    },
    Shape {
        method: "POST",
        port: 8080,
        path: "/panel/gate.php",
        rest: "id={id}&ver=1.4&st=idle",
        interval: 600,
        jitter: 30,
        idle: "ok",
        named: true,
    },
    Shape {
        method: "GET",
        port: 80,
        path: "/images/logo.php",
        rest: "?uid={id}&b=1",
        interval: 180,
        jitter: 10,
        idle: "ok",
        named: false,
    },
];

/// Dynamic-DNS suffixes of the HTTP C&C names.
const SUFFIXES: [&str; 4] = ["dyndns.info", "no-ip.biz", "servebeer.com", "3322.org"];

/// What the user agent of every bot and benign client says.
const BOT_AGENT: &str = "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)";

/// One bot's planned polls.
#[derive(Clone, Debug)]
pub(crate) struct BotPlan {
    pub host: Host,
    pub bot_id: String,
    /// Request time of every poll, µs.
    pub polls: Vec<i64>,
    /// Poll index → order index (in the server's list).
    pub orders_at: Vec<Option<usize>>,
}

/// One HTTP C&C server with its bots.
#[derive(Clone, Debug)]
pub(crate) struct ServerPlan {
    pub truth: HttpCcTruth,
    pub bots: Vec<BotPlan>,
}

/// One benign periodic client.
#[derive(Clone, Debug)]
pub(crate) struct BenignPlan {
    pub truth: HttpBenignTruth,
    pub polls: Vec<i64>,
}

/// Poll times from `first` to `end` at `interval` ± `jitter` seconds.
fn poll_times(r: &mut ChaCha8Rng, first: i64, end: i64, interval: u32, jitter: u32) -> Vec<i64> {
    let mut t = first;
    let mut v = Vec::new();
    while t < end {
        v.push(t);
        let j = i64::from(jitter) * 1_000_000;
        t += i64::from(interval) * 1_000_000 + r.random_range(-j..=j);
    }
    v
}

/// An order as an HTTP C&C server hands it out: the IRC grammar (a scan
/// of Fig. 6, a flood in its Agobot layout, a download or an update).
fn draw_order(r: &mut ChaCha8Rng, flood_delay_ms: u32, web: Ipv4Addr) -> String {
    match r.random_range(0..4) {
        0 => SCAN_ORDERS[r.random_range(0..SCAN_ORDERS.len())].to_string(),
        1 => {
            let target = crate::draw::public_ip(r);
            let secs = r.random_range(60..600);
            flood_order("ddos.synflood", target, 80, secs, flood_delay_ms)
        }
        2 => {
            let f = word(r, 6);
            format!(".download http://{web}/{f}.exe c:\\{f}.exe 1")
        }
        _ => format!(
            ".update http://{web}/{}.exe {}",
            word(r, 5),
            r.random_range(1000..99999)
        ),
    }
}

/// Plans the HTTP C&C servers: `bots_per_server` bots each, polling from
/// a time in the field's first two hours to its end.
pub(crate) fn plan_servers(
    r: &mut ChaCha8Rng,
    hosts: &mut dyn FnMut(&mut ChaCha8Rng) -> Host,
    (start, end): (i64, i64),
    bots_per_server: usize,
    flood_delay_ms: u32,
) -> Vec<ServerPlan> {
    let mut out = Vec::new();
    for (id, sh) in SHAPES.iter().enumerate() {
        let Shape {
            method,
            port,
            path,
            rest,
            interval,
            jitter,
            idle,
            named,
        } = *sh;
        let server = crate::draw::public_ip(r);
        let name = named.then(|| {
            format!(
                "{}{}.{}",
                word(r, 6),
                r.random_range(1..99),
                SUFFIXES[r.random_range(0..SUFFIXES.len())]
            )
        });
        let uri_pattern = if method == "GET" {
            format!("{path}{rest}")
        } else {
            format!("{path} {rest}")
        };
        // Orders: queued at random times after the first hour.
        let n_orders = r.random_range(3..=6);
        let web = crate::draw::public_ip(r);
        let mut orders: Vec<HttpOrderTruth> = (0..n_orders)
            .map(|_| {
                let raw = draw_order(r, flood_delay_ms, web);
                let (command, args) = parse_order(&raw);
                HttpOrderTruth {
                    issued: Ts(r.random_range(start + 3_600_000_000..end - 3_600_000_000)),
                    raw,
                    command,
                    args,
                    deliveries: Vec::new(),
                }
            })
            .collect();
        orders.sort_by_key(|o| o.issued);
        let mut bots = Vec::new();
        for _ in 0..bots_per_server {
            let host = hosts(r);
            let bot_id = format!("{:08X}", r.random::<u32>());
            let first = start + r.random_range(60_000_000..7_200_000_000);
            let polls = poll_times(r, first, end - 120_000_000, interval, jitter);
            // Each order goes out on the bot's first poll after it was
            // queued; a poll carries at most one.
            let mut orders_at = vec![None; polls.len()];
            let mut next = 0;
            for (oi, o) in orders.iter().enumerate() {
                while next < polls.len() && polls[next] < o.issued.0 {
                    next += 1;
                }
                if next < polls.len() {
                    orders_at[next] = Some(oi);
                    next += 1;
                }
            }
            bots.push(BotPlan {
                host,
                bot_id,
                polls,
                orders_at,
            });
        }
        out.push(ServerPlan {
            truth: HttpCcTruth {
                id: id as u32,
                file: super::HTTP_PCAP.into(),
                server,
                name,
                port,
                method: method.into(),
                path: path.into(),
                uri_pattern,
                poll_interval_s: interval,
                jitter_s: jitter,
                idle_body: idle.into(),
                bots: Vec::new(),
                orders,
            },
            bots,
        });
    }
    out
}

/// A benign poller.
struct Benign {
    kind: &'static str,
    name: &'static str,
    method: &'static str,
    uri: &'static str,
    request_body: Option<&'static str>,
    response_body: &'static str,
    /// Poll interval, seconds.
    interval: u32,
    /// Jitter, ± seconds.
    jitter: u32,
}

/// The field's benign pollers.
const BENIGN: [Benign; 3] = [
    Benign {
        kind: "update-check",
        name: "update.photoview-soft.example",
        method: "GET",
        uri: "/update/check?product=photoview&ver=3.2.1",
        request_body: None,
        response_body: r#"{"update":false,"latest":"3.2.1"}"#,
        interval: 3600,
        jitter: 2,
    },
    Benign {
        kind: "status-api",
        name: "api.nas-monitor.example",
        method: "POST",
        uri: "/api/v1/heartbeat",
        request_body: Some(r#"{"device":"nas-01","status":"ok"}"#),
        response_body: r#"{"ok":true}"#,
        interval: 300,
        jitter: 1,
    },
    Benign {
        kind: "time-api",
        name: "worldtime.example",
        method: "GET",
        uri: "/api/timezone/Asia/Tokyo",
        request_body: None,
        response_body: r#"{"timezone":"Asia/Tokyo","utc_offset":"+09:00","dst":false}"#,
        interval: 900,
        jitter: 3,
    },
];

/// Plans the benign periodic clients.
pub(crate) fn plan_benign(
    r: &mut ChaCha8Rng,
    hosts: &mut dyn FnMut(&mut ChaCha8Rng) -> Host,
    (start, end): (i64, i64),
) -> Vec<BenignPlan> {
    BENIGN
        .iter()
        .map(|b| {
            let Benign {
                kind,
                name,
                method,
                uri,
                request_body: req,
                response_body: resp,
                interval,
                jitter,
            } = *b;
            let host = hosts(r);
            let server = crate::draw::public_ip(r);
            let first = start + r.random_range(10_000_000..3_600_000_000);
            let polls = poll_times(r, first, end - 120_000_000, interval, jitter);
            BenignPlan {
                truth: HttpBenignTruth {
                    kind: kind.into(),
                    file: super::HTTP_PCAP.into(),
                    client: host.ip,
                    server,
                    name: name.into(),
                    port: 80,
                    method: method.into(),
                    uri: uri.into(),
                    request_body: req.map(String::from),
                    response_body: resp.into(),
                    poll_interval_s: interval,
                    jitter_s: jitter,
                    polls: polls.len() as u32,
                    first: Ts(polls.first().copied().unwrap_or(first)),
                    last: Ts(polls.last().copied().unwrap_or(first)),
                },
                polls,
            }
        })
        .collect()
}

/// An HTTP/1.1 request with `Connection: close`.
fn request(method: &str, host: &str, uri: &str, body: Option<(&str, &str)>) -> Vec<u8> {
    let mut s = format!(
        "{method} {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {BOT_AGENT}\r\nAccept: */*\r\nConnection: close\r\n"
    );
    if let Some((ctype, b)) = body {
        s.push_str(&format!(
            "Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        s.push_str("\r\n");
    }
    s.into_bytes()
}

/// A 200 answer with `body`.
fn response(ctype: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nServer: Apache/2.2.3 (Unix)\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One poll: connect, request, answer, the server closes. Returns the
/// request and response packet times.
fn poll(
    f: &mut PcapFile,
    r: &mut ChaCha8Rng,
    (client, server, port): (Ipv4Addr, Ipv4Addr, u16),
    t: i64,
    req: &[u8],
    resp: &[u8],
) -> (u16, i64, i64) {
    let cport = free_port(r, 1025, 5000);
    let mut c = Tcp::new(client, cport, server, port, t, r.random());
    c.delay = 40_000;
    c.handshake(f);
    let t_req = c.t;
    c.c_send(f, req);
    // The server script takes a moment to answer.
    c.t += r.random_range(2_000..30_000);
    let t_resp = c.t;
    c.s_send(f, resp);
    c.close(f, false);
    (cport, t_req, t_resp)
}

/// Writes one bot's polls (its DNS lookup of the server's name first) and
/// fills its truth and the orders' deliveries.
pub(crate) fn render_bot(
    f: &mut PcapFile,
    r: &mut ChaCha8Rng,
    srv: &mut HttpCcTruth,
    bot: &BotPlan,
    lookup: &mut Lookup,
) {
    let host_header = srv.name.clone().unwrap_or_else(|| srv.server.to_string());
    let mut dns = None;
    if let Some(name) = &srv.name {
        let t = bot.polls.first().copied().unwrap_or_default() - 1_500_000;
        lookup.render(f, r, bot.host.ip, name, &[srv.server], t);
        dns = Some(Ts(t));
    }
    let mut with_order = 0u32;
    for (k, &t) in bot.polls.iter().enumerate() {
        let fill = if srv.method == "GET" {
            srv.uri_pattern.replace("{id}", &bot.bot_id)
        } else {
            srv.uri_pattern
                .split_once(' ')
                .map(|(_, b)| b)
                .unwrap_or("")
                .replace("{id}", &bot.bot_id)
        };
        let req = if srv.method == "GET" {
            request("GET", &host_header, &fill, None)
        } else {
            let ctype = "application/x-www-form-urlencoded";
            request("POST", &host_header, &srv.path, Some((ctype, &fill)))
        };
        let order = bot.orders_at[k];
        let body = match order {
            Some(oi) => format!("{}\r\n", srv.orders[oi].raw),
            None => srv.idle_body.clone(),
        };
        let resp = response("text/html", &body);
        let (cport, t_req, t_resp) =
            poll(f, r, (bot.host.ip, srv.server, srv.port), t, &req, &resp);
        if let Some(oi) = order {
            with_order += 1;
            srv.orders[oi].deliveries.push(HttpDeliveryTruth {
                bot: bot.host.ip,
                request: Ts(t_req),
                response: Ts(t_resp),
                flow: flow(bot.host.ip, cport, srv.server, srv.port, Proto::Tcp),
            });
        }
    }
    srv.bots.push(HttpBotTruth {
        ip: bot.host.ip,
        bot_id: bot.bot_id.clone(),
        dns,
        polls: bot.polls.len() as u32,
        polls_with_order: with_order,
        first: Ts(bot.polls.first().copied().unwrap_or_default()),
        last: Ts(bot.polls.last().copied().unwrap_or_default()),
    });
}

/// Writes one benign client's polls (its DNS lookup first).
pub(crate) fn render_benign(
    f: &mut PcapFile,
    r: &mut ChaCha8Rng,
    b: &BenignPlan,
    lookup: &mut Lookup,
) {
    let t = &b.truth;
    let first = b.polls.first().copied().unwrap_or_default();
    lookup.render(f, r, t.client, &t.name, &[t.server], first - 800_000);
    let body = t.request_body.as_deref().map(|x| ("application/json", x));
    let req = request(&t.method, &t.name, &t.uri, body);
    let resp = response("application/json", &t.response_body);
    for &p in &b.polls {
        poll(f, r, (t.client, t.server, t.port), p, &req, &resp);
    }
}
