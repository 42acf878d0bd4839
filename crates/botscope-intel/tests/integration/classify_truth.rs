//! Table 5 equals the truth for a synthetic name set with the paper's
//! distribution (68 names), built from the shipped lists' zones with random
//! host labels in front, plus unlisted names.

use botscope_intel::classify::{Category, Classifier, Table5, BUILTIN_LISTS};

fn zones_of(key: &str) -> Vec<String> {
    let (_, text) = BUILTIN_LISTS
        .iter()
        .find(|(f, _)| f.ends_with(&format!("/{key}.txt")))
        .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn table5_matches_synthetic_truth() {
    // The paper's Table 5.
    let truth = [
        (Category::DynamicDns, 19u64, 28u64),
        (Category::DnsService, 15, 22),
        (Category::Unknown, 13, 19),
        (Category::GameHosting, 7, 10),
        (Category::Hosting, 5, 7),
        (Category::Isp, 5, 7),
        (Category::IrcdShell, 4, 6),
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut names = vec![];
    for (cat, n, _) in truth {
        for i in 0..n {
            let host = format!("h{}-{}", rnd() % 100_000, i);
            let name = if cat == Category::Unknown {
                format!("{host}.unlisted-{}.example.com", rnd() % 1000)
            } else {
                let zones = zones_of(cat.key());
                let z = &zones[(rnd() as usize) % zones.len()];
                // one or two labels in front of the provider zone
                if rnd() % 2 == 0 {
                    format!("{host}.{z}")
                } else {
                    format!("irc.{host}.{z}")
                }
            };
            names.push((name.to_ascii_lowercase(), cat));
        }
    }
    let c = Classifier::builtin();
    let rows: Vec<_> = names.iter().map(|(n, _)| c.classify(n)).collect();
    for (row, (n, cat)) in rows.iter().zip(&names) {
        assert_eq!(row.category, *cat, "{n}");
    }
    let t = Table5::from_rows(&rows);
    assert_eq!(t.total, 68);
    for (cat, n, pct) in truth {
        assert_eq!(t.counts[&cat], n, "{cat}");
        assert_eq!(t.percent(cat).round() as u64, pct, "{cat}");
    }
    let text = t.render();
    assert!(text.contains("Dynamic DNS"), "{text}");
    assert!(
        text.lines().nth(1).unwrap().contains("19"),
        "rows sorted by count: {text}"
    );
}
