//! HTML and Markdown renderings of a [`Report`]. The HTML is one
//! self-contained file: inline CSS, inline SVG, no script, nothing fetched.

use crate::build::{Report, Section};
use botscope_model::svg::esc;
use std::fmt::Write;

const CSS: &str = r#"
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em;color:#222}
h1{margin-bottom:.2em} nav a{margin-right:.8em;white-space:nowrap}
table.data{border-collapse:collapse;margin:.5em 0} table.data td,table.data th{border:1px solid #bbb;padding:2px 8px}
table.data th{background:#eee} td.num{text-align:right}
.fig{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}
.nodata{color:#888;font-style:italic} .src{color:#666;font-size:.85em}
.ev{border-left:3px solid #ccc;padding:.2em .8em;margin:.4em 0;font-size:.9em}
.ev:target{border-left-color:#e67e00;background:#fff4e0}
.more{color:#666} .notes td{padding:0 8px}
"#;

/// The report as a self-contained HTML page. `extra_head` (the dashboard's
/// refresh script) is inserted as-is into `<head>`.
pub fn report_html(report: &Report, extra_head: Option<&str>) -> String {
    report_html_with(report, extra_head, "")
}

/// As [`report_html`], with `link_prefix` put before links to data files
/// (the dashboard serves them under `data/`).
pub fn report_html_with(report: &Report, extra_head: Option<&str>, link_prefix: &str) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>botscope field report</title><style>{CSS}</style>{}</head><body>",
        extra_head.unwrap_or("")
    );
    let _ = write!(
        o,
        "<h1>botscope field report</h1><p class=\"src\">Data folder: <code>{}</code></p>",
        esc(&report.data_dir)
    );
    if !report.unreadable.is_empty() {
        o.push_str("<p class=\"nodata\" id=\"unreadable\">Unreadable data files (skipped): ");
        o.push_str(
            &report
                .unreadable
                .iter()
                .map(|u| esc(u))
                .collect::<Vec<_>>()
                .join("; "),
        );
        o.push_str("</p>");
    }
    o.push_str("<nav>");
    for s in &report.sections {
        let _ = write!(
            o,
            "<a href=\"#{}\">{}</a>",
            esc(&s.id),
            esc(s.title.split(" — ").next().unwrap_or(&s.title))
        );
    }
    o.push_str("<a href=\"#evidence\">Evidence</a></nav>");
    for s in &report.sections {
        section_html(&mut o, s, link_prefix);
    }
    o.push_str("<section id=\"evidence\"><h2>Evidence</h2><p class=\"src\">Each count above links here: event ids, flow uids, packet numbers and log lines behind it.</p>");
    for s in &report.sections {
        for (i, r) in s.rows.iter().enumerate() {
            if r.evidence.is_empty() && r.evidence_more == 0 {
                continue;
            }
            let count = s.count_col.map(|c| r.cells[c].as_str()).unwrap_or("");
            let _ = write!(
                o,
                "<div class=\"ev\" id=\"{}\"><b>{} — {} = {}</b><ul>",
                esc(&s.evidence_id(i)),
                esc(s.title.split(" — ").next().unwrap_or(&s.title)),
                esc(r.cells.first().map(String::as_str).unwrap_or("")),
                esc(count)
            );
            for e in &r.evidence {
                let _ = write!(o, "<li><code>{}</code></li>", esc(e));
            }
            o.push_str("</ul>");
            if r.evidence_more > 0 {
                let (file, pointer) = s.source.clone().unwrap_or_default();
                let _ = write!(
                    o,
                    "<p class=\"more\"><a href=\"{lp}{f}\">{n} more</a> in <code>{f}</code> at <code>{p}/{i}/evidence</code></p>",
                    lp = esc(link_prefix),
                    f = esc(&file),
                    n = r.evidence_more,
                    p = esc(&pointer)
                );
            }
            o.push_str("</div>");
        }
    }
    o.push_str("</section></body></html>");
    o
}

fn section_html(o: &mut String, s: &Section, link_prefix: &str) {
    let _ = write!(
        o,
        "<section id=\"{}\"><h2>{}</h2>",
        esc(&s.id),
        esc(&s.title)
    );
    if let Some((f, p)) = &s.source {
        let _ = write!(
            o,
            "<p class=\"src\">from <code>{}{}</code></p>",
            esc(f),
            esc(p)
        );
    }
    if !s.has_data() {
        o.push_str("<p class=\"nodata\">no data</p></section>");
        return;
    }
    o.push_str("<div class=\"fig\"><div>");
    if !s.notes.is_empty() {
        let _ = write!(o, "<table class=\"notes\" data-notes=\"{}\">", esc(&s.id));
        for (k, v) in &s.notes {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(k),
                esc(v)
            );
        }
        o.push_str("</table>");
    }
    if !s.rows.is_empty() {
        let _ = write!(
            o,
            "<table class=\"data\" data-section=\"{}\"><thead><tr>",
            esc(&s.id)
        );
        for c in &s.columns {
            let _ = write!(o, "<th>{}</th>", esc(c));
        }
        o.push_str("</tr></thead><tbody>");
        for (i, r) in s.rows.iter().enumerate() {
            o.push_str("<tr>");
            for (ci, c) in r.cells.iter().enumerate() {
                let num = c.parse::<f64>().is_ok();
                let cls = if num { " class=\"num\"" } else { "" };
                let linked =
                    Some(ci) == s.count_col && (!r.evidence.is_empty() || r.evidence_more > 0);
                if linked {
                    let _ = write!(
                        o,
                        "<td{cls}><a href=\"#{}\">{}</a></td>",
                        esc(&s.evidence_id(i)),
                        esc(c)
                    );
                } else {
                    let _ = write!(o, "<td{cls}>{}</td>", esc(c));
                }
            }
            o.push_str("</tr>");
        }
        o.push_str("</tbody></table>");
        if s.rows_more > 0 {
            let (f, p) = s.source.clone().unwrap_or_default();
            let _ = write!(
                o,
                "<p class=\"more\">{} more rows in <a href=\"{lp}{f}\">{f}</a> at <code>{}</code></p>",
                s.rows_more,
                esc(&p),
                lp = esc(link_prefix),
                f = esc(&f)
            );
        }
    }
    o.push_str("</div>");
    if let Some(svg) = &s.chart {
        let _ = write!(o, "<div class=\"chart\">{svg}</div>");
    }
    o.push_str("</div></section>");
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The report as Markdown: one pipe table per section, evidence beneath.
pub fn report_markdown(report: &Report) -> String {
    let mut o = format!(
        "# botscope field report\n\nData folder: `{}`\n\n",
        report.data_dir
    );
    if !report.unreadable.is_empty() {
        let _ = writeln!(
            o,
            "Unreadable data files (skipped): {}\n",
            md_cell(&report.unreadable.join("; "))
        );
    }
    for s in &report.sections {
        let _ = writeln!(o, "## {}\n", md_cell(&s.title));
        if let Some((f, p)) = &s.source {
            let _ = writeln!(o, "_from `{f}{p}`_\n");
        }
        if !s.has_data() {
            o.push_str("no data\n\n");
            continue;
        }
        for (k, v) in &s.notes {
            let _ = writeln!(o, "- {}: {}", md_cell(k), md_cell(v));
        }
        if !s.notes.is_empty() {
            o.push('\n');
        }
        if s.rows.is_empty() {
            continue;
        }
        let _ = writeln!(
            o,
            "| {} |",
            s.columns
                .iter()
                .map(|c| md_cell(c))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(o, "|{}", "---|".repeat(s.columns.len()));
        for r in &s.rows {
            let _ = writeln!(
                o,
                "| {} |",
                r.cells
                    .iter()
                    .map(|c| md_cell(c))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        if s.rows_more > 0 {
            let _ = writeln!(o, "\n… {} more rows in the data file.", s.rows_more);
        }
        let mut ev = String::new();
        for r in &s.rows {
            if r.evidence.is_empty() && r.evidence_more == 0 {
                continue;
            }
            let _ = write!(
                ev,
                "- **{}**: {}",
                md_cell(r.cells.first().map(String::as_str).unwrap_or("")),
                r.evidence
                    .iter()
                    .map(|e| format!("`{}`", e.replace('`', "'")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if r.evidence_more > 0 {
                let _ = write!(ev, " … {} more", r.evidence_more);
            }
            ev.push('\n');
        }
        if !ev.is_empty() {
            let _ = write!(o, "\nEvidence:\n\n{ev}");
        }
        o.push('\n');
    }
    o
}
