//! The crate graph is the one `docs/design.md` draws (issue 18): every
//! botscope crate's normal dependencies on other botscope crates are among
//! those its row of the "Layout" table allows, and every crate has a row.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The allowed graph from the design table: crate name → the botscope
/// crates it may depend on (`None`: any, the CLI's `all`).
fn allowed_from_design() -> BTreeMap<String, Option<BTreeSet<String>>> {
    let text = std::fs::read_to_string(repo().join("docs/design.md")).unwrap();
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| `crate` (note) | room | may depend on |`
        if cells.len() != 5 || !cells[1].starts_with("`botscope") {
            continue;
        }
        let name = cells[1].split('`').nth(1).unwrap().to_string();
        let deps = match cells[3] {
            "all" => None,
            "—" | "-" | "" => Some(BTreeSet::new()),
            list => Some(
                list.split(',')
                    .map(|d| format!("botscope-{}", d.trim()))
                    .collect(),
            ),
        };
        out.insert(name, deps);
    }
    out
}

/// Each workspace member's normal (not dev, not build) dependencies on
/// other workspace members, from `cargo metadata`.
fn normal_workspace_deps() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let members: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .filter(|n| members.contains(n))
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

#[test]
fn crates_depend_only_on_the_layers_the_design_allows() {
    let allowed = allowed_from_design();
    let actual = normal_workspace_deps();
    assert!(actual.len() >= 12, "{actual:?}");
    let mut wrong = Vec::new();
    for (krate, deps) in &actual {
        let Some(rule) = allowed.get(krate) else {
            wrong.push(format!("{krate}: no row in docs/design.md"));
            continue;
        };
        let Some(rule) = rule else { continue };
        for d in deps.difference(rule) {
            wrong.push(format!(
                "{krate} depends on {d}, which its row does not allow"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Rows for crates that do not exist would let the table drift.
    for krate in allowed.keys() {
        assert!(actual.contains_key(krate), "docs/design.md lists {krate}");
    }
}

#[test]
fn the_design_table_is_read_as_written() {
    // The parser itself: rows this test relies on, read back exactly.
    let allowed = allowed_from_design();
    assert_eq!(allowed["botscope-core"], Some(BTreeSet::new()));
    assert_eq!(allowed["botscope"], None);
    assert_eq!(
        allowed["botscope-sensor"],
        Some(
            ["core", "capture", "dissect", "specimen", "deobf"]
                .map(|c| format!("botscope-{c}"))
                .into()
        )
    );
}
