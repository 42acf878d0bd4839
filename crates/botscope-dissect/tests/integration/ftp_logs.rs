//! Helpers shared by the `ftp_irc` and `integration` test binaries: our
//! ftp.log rows and FTP events, Zeek TSV baselines, nDPI result lines.
#![allow(dead_code)]

use botscope_core::events::{Event, FtpEvent};
use botscope_dissect::logs::{zeek_rows, FTP};
use botscope_dissect::Record;
use std::collections::HashMap;
use std::path::Path;

/// Our FTP events in command order.
pub fn ftp_events(records: &[Record]) -> Vec<&FtpEvent> {
    let mut v: Vec<&FtpEvent> = records
        .iter()
        .filter_map(|r| match &r.event {
            Event::Ftp(f) => Some(f),
            _ => None,
        })
        .collect();
    v.sort_by_key(|f| f.ts);
    v
}

/// A Zeek TSV baseline: field names and rows (as maps).
pub fn baseline(p: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(p).expect("baseline");
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for l in text.lines() {
        if let Some(f) = l.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
        } else if !l.starts_with('#') && !fields.is_empty() {
            rows.push(
                fields
                    .iter()
                    .cloned()
                    .zip(l.split('\t').map(str::to_string))
                    .collect(),
            );
        }
    }
    rows
}

/// Our ftp.log rows in command order, as maps.
pub fn our_ftp_rows(records: &[Record]) -> Vec<HashMap<String, String>> {
    let fields = FTP.fields();
    let mut rows: Vec<(i64, HashMap<String, String>)> = Vec::new();
    for r in records {
        if let Event::Ftp(f) = &r.event {
            for (_, row) in zeek_rows(r) {
                rows.push((
                    f.ts.0,
                    fields.iter().map(|s| s.to_string()).zip(row).collect(),
                ));
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    rows.into_iter().map(|r| r.1).collect()
}

/// The columns compared with Zeek (`mime_type` and `fuid` need Zeek's
/// file analysis framework; `ts` is masked in the baselines).
pub const COMPARED: &[&str] = &[
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "user",
    "password",
    "command",
    "arg",
    "file_size",
    "reply_code",
    "reply_msg",
    "data_channel.passive",
    "data_channel.orig_h",
    "data_channel.resp_h",
    "data_channel.resp_p",
];

/// nDPI's per-flow lines (`TCP a:p <-> b:p [proto: N/NAME]...`) of a
/// result file: (client port, server port, protocol name, rest).
pub fn ndpi_flows(out: &str) -> Vec<(u16, u16, String, String)> {
    out.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.split_once("TCP ")?.1;
            let (a, rest) = rest.split_once(" <-> ")?;
            let (b, rest) = rest.split_once(" [proto: ")?;
            let proto = rest.split(']').next()?.split('/').nth(1)?.to_string();
            let port = |s: &str| s.rsplit(':').next()?.parse::<u16>().ok();
            Some((port(a)?, port(b)?, proto, rest.to_string()))
        })
        .collect()
}
