//! The figures the 2005–2006 field study published, shown beside the
//! measured ones so a reader sees at once where their field differs.
//!
//! Source: Takahashi, Murakami, Sudou, Hirahara, Sasaki, "Behavioural
//! Analysis of Botnet Based on Field Research", IPSJ Journal (2006); the
//! English digest is `papers/botnet-field-research.md`. Each constant names
//! the table or figure it copies. They are compiled in: the report never
//! reads the paper at run time.

/// One published row: the key the measured data uses for it, the study's
/// wording, its count (when published) and its share in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudyRow {
    /// Key in the measured data (`MS03-026`, `tftp_get`, `6667`...).
    pub key: &'static str,
    /// The study's row name.
    pub label: &'static str,
    /// Published count, if the study gave one.
    pub count: Option<u64>,
    /// Published share, percent.
    pub percent: Option<f64>,
}

const fn r(key: &'static str, label: &'static str, count: u64, percent: f64) -> StudyRow {
    StudyRow {
        key,
        label,
        count: Some(count),
        percent: Some(percent),
    }
}

const fn p(key: &'static str, label: &'static str, percent: f64) -> StudyRow {
    StudyRow {
        key,
        label,
        count: None,
        percent: Some(percent),
    }
}

const fn named(key: &'static str, label: &'static str) -> StudyRow {
    StudyRow {
        key,
        label,
        count: None,
        percent: None,
    }
}

/// Table 1 (§4.1): background traffic per honeypot address, 192 addresses:
/// average 0.28 kbps, peak 2.58 kbps; × 30 M addresses (Japan): 8.4 Gbps
/// average, 77.4 Gbps peak.
pub mod table1 {
    /// Honeypot addresses.
    pub const ADDRESSES: u64 = 192;
    /// Average per address, kbps.
    pub const AVG_KBPS: f64 = 0.28;
    /// Peak per address, kbps.
    pub const PEAK_KBPS: f64 = 2.58;
    /// Addresses extrapolated to.
    pub const EXTRAPOLATE_TO: u64 = 30_000_000;
    /// Extrapolated average, Gbps.
    pub const AVG_GBPS: f64 = 8.4;
    /// Extrapolated peak, Gbps.
    pub const PEAK_GBPS: f64 = 77.4;
}

/// Table 2 (§4.1): 2005-04-21 to 2005-05-12, 42 days, 192 addresses.
/// (detections, kinds, detections per day, kinds per day).
pub mod table2 {
    /// Period.
    pub const PERIOD: &str = "2005-04-21 – 2005-05-12";
    /// Days.
    pub const DAYS: u64 = 42;
    /// All specimens.
    pub const TOTAL: (u64, u64, f64, f64) = (31_846, 3_705, 758.2, 88.2);
    /// Known to antivirus.
    pub const KNOWN: (u64, u64, f64, f64) = (28_309, 767, 674.0, 18.3);
    /// Unknown to antivirus.
    pub const UNKNOWN: (u64, u64, f64, f64) = (3_537, 2_938, 84.2, 70.0);
}

/// Table 3 (§4.2): deemed infection rate from ISP resolver logs
/// (ISP, day, rate in percent).
pub const TABLE3: [(&str, &str, f64); 3] = [
    ("ISP A", "2005-05-11", 2.64),
    ("ISP A", "2005-06-07", 2.10),
    ("ISP B", "2005-05-11", 2.44),
];

/// Table 4 (§4.3): of 100 bots, 19 (19 %) carry more than one IRC server FQDN.
pub const TABLE4: (u64, u64, f64) = (100, 19, 19.0);

/// Table 5 (§4.3): 68 C&C FQDNs by the kind of domain they sit in.
pub const TABLE5: [StudyRow; 7] = [
    r("dynamic-dns", "Dynamic DNS", 19, 28.0),
    r("dns-service", "DNS service", 15, 22.0),
    r("unknown", "Unknown", 13, 19.0),
    r("game-hosting", "Game server hosting", 7, 10.0),
    r("hosting", "Hosting", 5, 7.0),
    r("isp", "ISP", 5, 7.0),
    r("ircd-shell", "IRCd / Unix shell hosting", 4, 6.0),
];
/// Table 5's total.
pub const TABLE5_TOTAL: u64 = 68;

/// Table 6 (§4.3): DNS state of the 68 FQDNs (a name can be in several rows).
pub const TABLE6: [StudyRow; 5] = [
    r(
        "several_bots",
        "IRC server referenced by several bots",
        15,
        22.0,
    ),
    r("several_addrs", "Several IP addresses (up to 5)", 13, 19.0),
    r("not_resolvable", "Not resolvable", 23, 34.0),
    r(
        "unreachable",
        "Resolves to an unreachable address",
        10,
        15.0,
    ),
    r(
        "fwd_rev_disagree",
        "Forward and reverse lookup disagree",
        22,
        32.0,
    ),
];
/// Table 6's total.
pub const TABLE6_TOTAL: u64 = 68;

/// Table 7 (§5.1): exploit attempts on the honeypots per vector.
pub const TABLE7: [StudyRow; 7] = [
    r("MS03-026", "MS03-026 RPC DCOM BO", 371_142, 31.5),
    r("MS04-011", "MS04-011 LSASS BO", 313_754, 26.7),
    r(
        "Share Access",
        "Share access (weak SMB config)",
        278_586,
        23.7,
    ),
    r("MS03-039", "MS03-039 RPCSS BO", 212_503, 18.1),
    r("MS04-007", "MS04-007 ASN.1 BO", 1_046, 0.1),
    r("MS02-045", "MS02-045 SMB BO", 24, 0.0),
    r("MS03-043", "MS03-043 Messenger BO", 12, 0.0),
];
/// Table 7's total.
pub const TABLE7_TOTAL: u64 = 1_177_067;

/// Table 8 (§5.2, 5/19–5/24): how the bot binary is copied.
pub const TABLE8: [StudyRow; 3] = [
    r("tftp_get", "TFTP GET to the infecting host", 5_566, 81.9),
    r(
        "tcp_push",
        "TCP connection from the infecting host",
        1_214,
        17.9,
    ),
    r(
        "reverse_connect",
        "Reverse connection to the infecting host",
        12,
        0.2,
    ),
];
/// Table 8's total.
pub const TABLE8_TOTAL: u64 = 6_792;

/// Table 9 (§5.3): IRC server ports of 1,986 sessions on 28 ports
/// (percent only; "19 others" 3 %).
pub const TABLE9: [StudyRow; 10] = [
    p("6667", "6667", 48.0),
    p("5562", "5562", 29.0),
    p("5122", "5122", 8.0),
    p("65348", "65348", 6.0),
    p("4150", "4150", 2.0),
    p("6663", "6663", 1.0),
    p("65267", "65267", 1.0),
    p("10362", "10362", 1.0),
    p("31337", "31337", 1.0),
    p("others", "19 other ports", 3.0),
];
/// Table 9's sessions.
pub const TABLE9_TOTAL: u64 = 1_986;

/// Table 10 (§5.3): Phatbot's DDoS commands (the study lists them; the
/// attacks it observed were all SYN floods lasting minutes).
pub const TABLE10: [StudyRow; 8] = [
    named("ddos.httpflood", "HTTP GET flood"),
    named("ddos.phaticmp", "ICMP flood"),
    named("ddos.phatsyn", "SYN+URG flood"),
    named("ddos.phatwolk", "SYN+ACK to open ports"),
    named("ddos.stop", "stop flooding"),
    named("ddos.synflood", "SYN flood (the only one observed)"),
    named("ddos.targa3", "IP fragment flood"),
    named("ddos.udpflood", "UDP flood"),
];

/// Table 11 (§5.4): spam redirect/proxy ports opened on the bots
/// (percent only; "78 others" 1 %).
pub const TABLE11: [StudyRow; 7] = [
    p("3186", "3186", 37.0),
    p("6329", "6329", 36.0),
    p("3104", "3104", 13.0),
    p("24853", "24853", 6.0),
    p("47257", "47257", 4.0),
    p("7430", "7430", 3.0),
    p("others", "78 other ports", 1.0),
];

/// Fig. 3 (§5.2): the order of events after infection.
pub const FIG3: [&str; 5] = ["exploit", "copy", "scan", "irc_join", "update"];

/// Fig. 5 (§5.4): 73 % of spam sources sent at most 100 requests in 6 days.
pub const FIG5_PERCENT_LE_100: f64 = 73.0;
/// Fig. 5's observation, days.
pub const FIG5_DAYS: f64 = 6.0;

/// Fig. 6 (§5.3): orders the study observed.
pub const FIG6: [&str; 4] = [
    ".advscan dcom135 260 5 0 -b -r -s",
    ".advscan dclass 400 3 999 -r -s",
    "ntscan 200 2000 -a -b -s",
    "ipscan r.r.r dcom2 86400 256 8000 -s",
];

/// §5.5: updates per infected address per day (average; up to 6).
pub const UPDATES_PER_DAY: f64 = 3.4;

/// The study's own words for a measured key of `section`, if it has some.
pub fn label_of(section: &str, key: &str) -> Option<&'static str> {
    let rows: &[StudyRow] = match section {
        "table5" => &TABLE5,
        "table6" => &TABLE6,
        "table7" => &TABLE7,
        "table8" => &TABLE8,
        "table10" => &TABLE10,
        _ => return None,
    };
    rows.iter().find(|r| r.key == key).map(|r| r.label)
}

/// The published rows of a share table.
pub fn rows_of(section: &str) -> &'static [StudyRow] {
    match section {
        "table5" => &TABLE5,
        "table6" => &TABLE6,
        "table7" => &TABLE7,
        "table8" => &TABLE8,
        "table9" => &TABLE9,
        "table10" => &TABLE10,
        "table11" => &TABLE11,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_shares_add_up_as_printed() {
        // The study rounds each share; the sums stay within rounding.
        for (id, rows) in [
            ("table5", &TABLE5[..]),
            ("table7", &TABLE7[..]),
            ("table8", &TABLE8[..]),
            ("table9", &TABLE9[..]),
            ("table11", &TABLE11[..]),
        ] {
            let s: f64 = rows.iter().filter_map(|r| r.percent).sum();
            assert!((s - 100.0).abs() <= 1.5, "{id}: {s}");
        }
        let t7: u64 = TABLE7.iter().filter_map(|r| r.count).sum();
        assert_eq!(t7, TABLE7_TOTAL);
        let t8: u64 = TABLE8.iter().filter_map(|r| r.count).sum();
        assert_eq!(t8, TABLE8_TOTAL);
        let t5: u64 = TABLE5.iter().filter_map(|r| r.count).sum();
        assert_eq!(t5, TABLE5_TOTAL);
    }
}
