//! From a data folder to report sections. The folder holds one file per
//! section of the contract ([`botscope_core::report`], `<id>.json`); each
//! is deserialised into its type and laid out as the study printed it,
//! with the study's published figures beside the measured ones
//! ([`crate::study`]). Only the files named in [`SECTIONS`] are read:
//! anything else in the folder (`truth.json` included) is never an input.

mod data;
mod figures;
mod format;
mod layout;
mod models;
mod tables;

pub use data::*;
pub use format::*;
pub use layout::*;

use botscope_core::report::*;
use figures::*;
use models::*;
use serde::de::DeserializeOwned;
use tables::*;

/// Section ids, titles, the study's finding, and the command that fills it.
pub const CATALOGUE: [(&str, &str, &str, &str); 16] = [
    (
        "table1",
        "Table 1 — Background traffic per honeypot address",
        "192 honeypot addresses received 0.28 kbps each on average and 2.58 kbps at peak; over Japan's ~30 M addresses that is 8.4 Gbps on average and 77.4 Gbps at peak.",
        "botscope analyze --background SENSOR.pcap CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table2",
        "Table 2 — Specimens caught: known and unknown to antivirus",
        "Over 42 days (2005-04-21 – 05-12): 31,846 detections of 3,705 kinds; about 90 % of detections were known to antivirus, but about 80 % of kinds were not.",
        "botscope specimen --json table2 --from DAY --to DAY > t2.json; botscope report collect --table2 t2.json --data DATA",
    ),
    (
        "table3",
        "Table 3 — Deemed infection rate of ISP customers",
        "Clients resolving a bot FQDN over clients querying the resolver: ISP A 2.64 % (2005-05-11) and 2.10 % (2005-06-07), ISP B 2.44 % (2005-05-11).",
        "botscope dns rate --watchlist W LOGS --json > rate.json; botscope report collect --dns-rate rate.json --data DATA",
    ),
    (
        "table4",
        "Table 4 — Bots carrying more than one IRC server",
        "Of the 100 most-caught bots, 19 (19 %) carry more than one IRC server FQDN.",
        "botscope specimen --json table4 > t4.json; botscope report collect --table4 t4.json --data DATA",
    ),
    (
        "table5",
        "Table 5 — C&C FQDNs by kind of domain",
        "68 C&C FQDNs: dynamic DNS 28 %, DNS services 22 %, unknown 19 %, game hosting 10 %, hosting 7 %, ISPs 7 %, IRCd/shell hosting 6 %.",
        "botscope intel classify WATCHLIST --table-json > t5.json; botscope report collect --table5 t5.json --data DATA",
    ),
    (
        "table6",
        "Table 6 — DNS state of the C&C FQDNs",
        "Of 68 FQDNs: 22 % serve several bots, 19 % have several addresses (up to 5), 34 % do not resolve, 15 % resolve to an unreachable address, 32 % have forward and reverse lookups that disagree.",
        "botscope intel probe WATCHLIST --store S; botscope report collect --probes S --watchlist WATCHLIST --data DATA",
    ),
    (
        "table7",
        "Table 7 — Exploit vectors against the honeypots",
        "1,177,067 attempts; four vectors make up 99.9 %: MS03-026 31.5 %, MS04-011 26.7 %, weak SMB shares 23.7 %, MS03-039 18.1 %.",
        "botscope analyze --honeypot-net NET CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table8",
        "Table 8 — How the bot binary is copied",
        "6,792 copies (5/19–5/24): TFTP GET to the infecting host 81.9 %, TCP connection from it 17.9 %, reverse connection 0.2 %.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table9",
        "Table 9 — IRC server ports of the C&C sessions",
        "1,986 sessions on 28 ports; only 48 % on 6667 — C&C must be found by content, not by port.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table10",
        "Table 10 — DDoS commands (Phatbot)",
        "Phatbot offers eight ddos.* commands; every attack observed was a SYN flood of a few minutes against rival botnets' IRC servers.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "table11",
        "Table 11 — Spam redirect ports opened on the bots",
        "Spam is relayed through a port the bot opens: 3186 37 %, 6329 36 %, 3104 13 %, 24853 6 %, 47257 4 %, 7430 3 %, 78 other ports 1 %.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "fig3",
        "Fig. 3 — What happens after infection",
        "exploit → copy the binary → scan nearby addresses at once → connect to IRC → update the binary right after joining.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "fig5",
        "Fig. 5 — Spam requests per source",
        "Over 6 days, 73 % of spam sources sent at most 100 requests — kept low to stay under anti-spam thresholds.",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "orders",
        "Fig. 6–7 — Orders the herders gave",
        "Observed orders: .advscan dcom135 260 5 0 -b -r -s, .advscan dclass 400 3 999 -r -s, ntscan 200 2000 -a -b -s, ipscan r.r.r dcom2 86400 256 8000 -s; advscan <scanner> <threads> <delay s> <minutes> [-a] [-b] [-r] [-s].",
        "botscope analyze CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
    (
        "rate_series",
        "Deemed infection rate over time, with equation 1 fitted",
        "The study models worm spread with the logistic equation 1, dM/dt = (1/θ)·M·(θp − M), and bot spread as command-driven linear bursts.",
        "botscope dns rate --watchlist W --window 1h LOGS --json > series.json; botscope report collect --rate-series series.json --data DATA",
    ),
    (
        "diurnal",
        "Bots joining their channel, by local hour",
        "Bots join their botnet mostly in the daytime of the victims' time zone: home and office PCs.",
        "botscope analyze --tz ZONE CAPTURES... --out analysis; botscope report collect --analysis analysis/report.json --data DATA",
    ),
];

/// Builds every section from the data folder.
pub fn build_report(data: &DataFolder) -> Report {
    let mut sections = Vec::new();
    for (id, title, finding, command) in CATALOGUE {
        let mut sec = Section::new(id, title, finding, command);
        let status = match id {
            "table1" => run(data, id, &mut sec, table1),
            "table2" => run(data, id, &mut sec, table2),
            "table3" => run(data, id, &mut sec, table3),
            "table4" => run(data, id, &mut sec, table4),
            "table6" => run(data, id, &mut sec, table6),
            "table10" => run(data, id, &mut sec, table10),
            "table9" => run(data, id, &mut sec, |s, t: ShareTable| {
                share_section(s, &t);
                if let Loaded::Data(c) = load(data, "table9_channels") {
                    tables::channels(s, &c);
                }
            }),
            "table11" => run(data, id, &mut sec, |s, t: Table11| {
                let st = ShareTable {
                    schema_version: t.schema_version,
                    total: t.total,
                    rows: t.rows,
                };
                share_section(s, &st)
            }),
            "fig3" => run(data, id, &mut sec, fig3),
            "fig5" => run(data, id, &mut sec, fig5),
            "orders" => run(data, id, &mut sec, orders),
            "rate_series" => run(data, id, &mut sec, rate_series),
            "diurnal" => run(data, id, &mut sec, diurnal),
            _ => run(data, id, &mut sec, |s, t: ShareTable| share_section(s, &t)),
        };
        sec.status = status;
        sections.push(sec);
    }
    sections.push(model_section(data));
    Report {
        data_dir: data.dir.display().to_string(),
        sections,
        unreadable: data
            .unreadable
            .iter()
            .map(|(n, e)| format!("{n}: {e}"))
            .collect(),
    }
}

fn run<T: DeserializeOwned>(
    data: &DataFolder,
    id: &str,
    sec: &mut Section,
    fill: impl FnOnce(&mut Section, T),
) -> Status {
    match load::<T>(data, id) {
        Loaded::Data(t) => {
            fill(sec, t);
            Status::Data
        }
        Loaded::Not(s) => s,
    }
}
