//! `docs/study.md` names the file that computes each table and figure
//! (issue 18): every file it names exists, and every behaviour table of
//! the report is computed in the file its row names.

use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The "computed in" cell of each row, by the row's first cell.
fn rows() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("docs/study.md")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| study"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            assert_eq!(cells.len(), 6, "four columns: {l}");
            (cells[1].to_string(), cells[4].to_string())
        })
        .collect()
}

#[test]
fn every_file_docs_study_names_exists() {
    let rows = rows();
    assert!(rows.len() >= 19, "{rows:?}");
    for (what, cell) in &rows {
        // `crates/x/src/a.rs` (1), `b.rs` (2): a bare name is beside the first.
        let mut dir = PathBuf::new();
        for (i, path) in cell.split('`').enumerate().filter(|(i, _)| i % 2 == 1) {
            let p = if path.contains('/') {
                repo().join(path)
            } else {
                dir.join(path)
            };
            assert!(p.exists(), "{what}: {} does not exist", p.display());
            if i == 1 {
                dir = p.parent().unwrap().to_path_buf();
            }
        }
    }
}

#[test]
fn behaviour_tables_are_computed_where_docs_study_says() {
    // The row, and what its file must assign in the report.
    let want = [
        ("Table 7", "r.table7 ="),
        ("Table 8", "r.table8 ="),
        ("Table 9", "r.table9 ="),
        ("diurnal", "r.joins_per_local_hour ="),
        ("Table 10, Fig. 6–7", "r.table10 ="),
        ("§5.3", "r.floods.push("),
        ("Table 11, Fig. 4–5", "r.fig5 ="),
        ("§5.5", "r.updates.push("),
        ("scans", "r.scans.push("),
        ("Fig. 3", "r.sequences.push("),
    ];
    let rows = rows();
    for (row, assignment) in want {
        let cell = &rows.iter().find(|r| r.0 == row).expect(row).1;
        let file = cell.split('`').nth(1).unwrap();
        let src = std::fs::read_to_string(repo().join(file)).unwrap();
        assert!(
            src.contains(assignment),
            "{row}: {file} has no {assignment}"
        );
    }
}
