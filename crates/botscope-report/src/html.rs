//! HTML and Markdown renderings of a [`Report`]. The HTML is one
//! self-contained file: inline CSS and SVG, no script, nothing fetched.
//! Measured values are set in ink, the study's published values in amber
//! beside them; every count with evidence links to a panel holding that
//! evidence, shown (CSS `:target`, no script) when the count is clicked. Print CSS lays it out on A4 for the PDF export.

use crate::build::{fmt_int, Cell, Report, Section, Table, TableKind};
use botscope_model::svg::esc;
use std::fmt::Write;

const CSS: &str = r#"
:root{--ink:#1d2433;--muted:#5b6475;--study:#9a5b12;--studybg:#fdf4e7;--line:#d5d9e0;--accent:#1f5fa8}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1120px;padding:1em 1.5em;color:var(--ink);line-height:1.4}
h1{margin:.2em 0 .1em;font-size:1.7em} h2{margin:1.6em 0 .3em;font-size:1.3em;border-bottom:2px solid var(--ink);padding-bottom:.15em}
header p{margin:.2em 0;color:var(--muted)}
nav{columns:3;column-gap:2em;font-size:.92em;margin:.8em 0 1em;padding:.6em 1em;background:#f5f6f8;border-radius:6px}
nav a{display:block;color:var(--accent);text-decoration:none;padding:1px 0} nav a.empty{color:#98a0ad}
.legend span{display:inline-block;padding:0 .5em;border-radius:3px;margin-right:.6em}
.legend .m{border:1px solid var(--line)} .legend .s{background:var(--studybg);color:var(--study)}
p.study{margin:.3em 0 .6em;padding:.4em .8em;background:var(--studybg);border-left:4px solid #d9a35b;color:#5a3a0c}
p.study b{color:var(--study)}
table{border-collapse:collapse;margin:.5em 0 .8em;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;color:var(--muted);font-size:.9em;padding-bottom:.2em}
th,td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:left;vertical-align:top}
th{border-bottom:2px solid var(--ink);font-weight:600;font-size:.92em}
td.num,th.num{text-align:right;white-space:nowrap}
.study-v{color:var(--study);background:var(--studybg)}
table.facts td:first-child{color:var(--muted)} table.facts td:nth-child(2){text-align:right}
.body{display:flex;flex-wrap:wrap;gap:.4em 2em;align-items:flex-start} .body .tables{max-width:100%;overflow-x:auto}
td a{color:var(--accent);text-decoration:none;border-bottom:1px dotted var(--accent)}
.nodata{color:var(--muted);font-style:italic;padding:.5em .8em;border:1px dashed var(--line);border-radius:4px}
.nodata code{font-style:normal;background:#f3f4f6;padding:1px 4px}
.charts{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start;margin:.4em 0}
.charts svg{max-width:100%;height:auto;border:1px solid #eceef2;border-radius:4px;background:#fff}
ul.remarks{margin:.3em 0;padding-left:1.2em} ul.remarks li{margin:.15em 0}
.evidence{margin:.3em 0 .6em}
div.ev{display:none;border-left:3px solid #e67e00;background:#fff4e0;padding:.2em .8em;margin:.25em 0;font-size:.9em}
div.ev:target{display:block}
div.ev .evh{color:var(--muted)} div.ev .close{float:right;font-size:.85em}
div.ev ul{margin:.3em 0;padding-left:1.2em} div.ev code{font-size:.92em;word-break:break-all}
.more{color:var(--muted)} .src{color:var(--muted);font-size:.85em}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{max-width:none;padding:0;font-size:10pt}
 nav,.evidence,.noprint{display:none}
 h2{break-after:avoid;page-break-after:avoid}
 table,.charts svg,p.study{break-inside:avoid;page-break-inside:avoid}
 section{break-before:auto}
 td a{color:inherit;border:0}
 .charts svg{border:0}
 p.study,.study-v{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// The report as a self-contained HTML page. `extra_head` (the dashboard's
/// refresh script) is inserted as-is into `<head>`.
pub fn report_html(report: &Report, extra_head: Option<&str>) -> String {
    report_html_with(report, extra_head, "")
}

/// As [`report_html`], with `link_prefix` put before links to data files
/// (the dashboard serves them under `data/`).
pub fn report_html_with(report: &Report, extra_head: Option<&str>, link_prefix: &str) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>botscope field report</title><style>{CSS}</style>{}</head><body>",
        extra_head.unwrap_or("")
    );
    let with = report.sections.iter().filter(|s| s.has_data()).count();
    let _ = write!(
        o,
        "<header><h1>botscope field report</h1><p>The tables and figures of the 2005 botnet field study (Takahashi et al., IPSJ Journal 2006), measured on this field. {with} of {} sections have data.</p><p class=\"legend\"><span class=\"m\">measured here</span><span class=\"s\">published by the study (2005)</span>Click a linked number to see its evidence.</p><p class=\"src\">Data folder: <code>{}</code></p></header>",
        report.sections.len(),
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
            "<a href=\"#{}\"{}>{}</a>",
            esc(&s.id),
            if s.has_data() { "" } else { " class=\"empty\"" },
            esc(&s.title)
        );
    }
    o.push_str("</nav>");
    for s in &report.sections {
        section_html(&mut o, s, link_prefix);
    }
    o.push_str("</body></html>");
    o
}

fn cell_attrs(c: &Cell) -> String {
    let mut cls = Vec::new();
    if c.num {
        cls.push("num");
    }
    if c.study {
        cls.push("study-v");
    }
    let mut a = String::new();
    if !cls.is_empty() {
        let _ = write!(a, " class=\"{}\"", cls.join(" "));
    }
    if let Some(v) = &c.value {
        let _ = write!(a, " data-value=\"{}\"", esc(v));
    }
    a
}

fn table_html(o: &mut String, s: &Section, t: &Table, ev_base: &mut usize, link_prefix: &str) {
    let (attr, cls) = match t.kind {
        TableKind::Data => ("data-section", "data"),
        TableKind::Facts => ("data-notes", "facts"),
        TableKind::Study => ("data-study", "studytab"),
        TableKind::Extra => ("data-extra", "extra"),
    };
    let _ = write!(o, "<table class=\"{cls}\" {attr}=\"{}\">", esc(&s.id));
    if !t.caption.is_empty() {
        let _ = write!(o, "<caption>{}</caption>", esc(&t.caption));
    }
    o.push_str("<thead><tr>");
    for c in &t.columns {
        let _ = write!(o, "<th{}>{}</th>", cell_attrs(c), esc(&c.text));
    }
    o.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        o.push_str("<tr>");
        for (ci, c) in r.cells.iter().enumerate() {
            if Some(ci) == r.link {
                let _ = write!(
                    o,
                    "<td{}><a href=\"#ev-{}-{}\">{}</a></td>",
                    cell_attrs(c),
                    esc(&s.id),
                    *ev_base,
                    esc(&c.text)
                );
            } else {
                let _ = write!(o, "<td{}>{}</td>", cell_attrs(c), esc(&c.text));
            }
        }
        o.push_str("</tr>");
        if r.link.is_some() {
            *ev_base += 1;
        }
    }
    o.push_str("</tbody></table>");
    if t.rows_more > 0 {
        let _ = write!(
            o,
            "<p class=\"more\">{} more rows in <a href=\"{lp}{f}\">{f}</a></p>",
            fmt_int(t.rows_more as i64),
            lp = esc(link_prefix),
            f = esc(&s.file())
        );
    }
}

fn section_html(o: &mut String, s: &Section, link_prefix: &str) {
    let _ = write!(
        o,
        "<section id=\"{}\"><h2>{}</h2>",
        esc(&s.id),
        esc(&s.title)
    );
    if !s.study.is_empty() {
        let _ = write!(
            o,
            "<p class=\"study\"><b>Study (2005):</b> {}</p>",
            esc(&s.study)
        );
    }
    if !s.has_data() {
        let _ = write!(
            o,
            "<p class=\"nodata\" data-nodata=\"{}\">{} Fill it with: <code>{}</code></p></section>",
            esc(&s.id),
            esc(&s.no_data_text()),
            esc(&s.command)
        );
        return;
    }
    if !s.remarks.is_empty() {
        o.push_str("<ul class=\"remarks\">");
        for r in &s.remarks {
            let _ = write!(o, "<li>{}</li>", esc(r));
        }
        o.push_str("</ul>");
    }
    // Tables, with the charts beside them where the page is wide enough.
    o.push_str("<div class=\"body\"><div class=\"tables\">");
    let mut n = 0;
    for t in &s.tables {
        table_html(o, s, t, &mut n, link_prefix);
    }
    o.push_str("</div>");
    if !s.charts.is_empty() {
        o.push_str("<div class=\"charts\">");
        for c in &s.charts {
            o.push_str(c);
        }
        o.push_str("</div>");
    }
    o.push_str("</div>");
    // Evidence panels, in the order of the links above.
    let mut n = 0;
    let mut ev = String::new();
    for t in &s.tables {
        for r in &t.rows {
            let Some(link) = r.link else { continue };
            let label = r.cells.first().map(|c| c.text.as_str()).unwrap_or("");
            let count = r.cells.get(link).map(|c| c.text.as_str()).unwrap_or("");
            let _ = write!(
                ev,
                "<div class=\"ev\" id=\"ev-{}-{n}\"><a class=\"close\" href=\"#{}\">close</a><div class=\"evh\">Evidence for {} — {} ({} item{})</div><ul>",
                esc(&s.id),
                esc(&s.id),
                esc(label),
                esc(count),
                r.evidence.len() as u64 + r.evidence_more,
                if r.evidence.len() as u64 + r.evidence_more == 1 { "" } else { "s" }
            );
            for e in &r.evidence {
                let _ = write!(ev, "<li><code>{}</code></li>", esc(e));
            }
            ev.push_str("</ul>");
            if r.evidence_more > 0 {
                let _ = write!(
                    ev,
                    "<p class=\"more\">{} more not listed by the producer (<a href=\"{lp}{f}\">{f}</a> lists the first ones)</p>",
                    fmt_int(r.evidence_more as i64),
                    lp = esc(link_prefix),
                    f = esc(&s.file())
                );
            }
            ev.push_str("</div>");
            n += 1;
        }
    }
    if !ev.is_empty() {
        let _ = write!(o, "<div class=\"evidence\">{ev}</div>");
    }
    if botscope_core::report::SECTIONS.contains(&s.id.as_str()) {
        let _ = write!(
            o,
            "<p class=\"src\">from <a href=\"{}{f}\">{f}</a></p>",
            esc(link_prefix),
            f = esc(&s.file())
        );
    }
    o.push_str("</section>");
}

fn md_cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The report as Markdown: the same tables, evidence beneath each.
pub fn report_markdown(report: &Report) -> String {
    let mut o = format!(
        "# botscope field report\n\nData folder: `{}`. Study (2005) values are marked †.\n\n",
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
        let _ = writeln!(
            o,
            "## {}\n\n> Study (2005): {}\n",
            md_cell(&s.title),
            s.study
        );
        if !s.has_data() {
            let _ = writeln!(o, "{} Fill it with: `{}`\n", s.no_data_text(), s.command);
            continue;
        }
        for r in &s.remarks {
            let _ = writeln!(o, "- {}", md_cell(r));
        }
        if !s.remarks.is_empty() {
            o.push('\n');
        }
        for t in &s.tables {
            if !t.caption.is_empty() {
                let _ = writeln!(o, "_{}_\n", md_cell(&t.caption));
            }
            let text = |c: &Cell| {
                if c.study {
                    format!("{} †", md_cell(&c.text))
                } else {
                    md_cell(&c.text)
                }
            };
            let _ = writeln!(
                o,
                "| {} |",
                t.columns.iter().map(text).collect::<Vec<_>>().join(" | ")
            );
            let _ = writeln!(o, "|{}", "---|".repeat(t.columns.len().max(1)));
            for r in &t.rows {
                let _ = writeln!(
                    o,
                    "| {} |",
                    r.cells.iter().map(text).collect::<Vec<_>>().join(" | ")
                );
            }
            if t.rows_more > 0 {
                let _ = writeln!(o, "\n… {} more rows in `{}`.", t.rows_more, s.file());
            }
            let mut ev = String::new();
            for r in &t.rows {
                if r.link.is_none() {
                    continue;
                }
                let _ = write!(
                    ev,
                    "- **{}**: {}",
                    md_cell(r.cells.first().map(|c| c.text.as_str()).unwrap_or("")),
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
    }
    o
}
