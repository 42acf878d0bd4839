//! Reading a rendered report back as a person sees it: headless Chromium
//! loads the page (scripts run), and the tables are taken from the DOM it
//! dumps. Used by the tests that check the report and the demo against
//! ground truth, and usable as a smoke check after `botscope report`.

use crate::ReportError;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's Chromium, installed by `scripts/setup.sh`.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long one Chromium run may take before it is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// Runs headless Chromium on `url` with `extra` flags and returns its
/// standard output. Background networking is off: this machine has no
/// internet, and Chromium's own lookups would only be refused.
pub fn chromium(url: &str, extra: &[&str]) -> Result<String, ReportError> {
    let step = |what| move |source| ReportError::Browser { what, source };
    if !Path::new(CHROMIUM).exists() {
        return Err(ReportError::NoBrowser(CHROMIUM));
    }
    let profile = tempfile::tempdir().map_err(step("profile folder"))?;
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(step("starting chromium"))?;
    let mut out = child
        .stdout
        .take()
        .ok_or(ReportError::BrowserOutput("no standard output"))?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > CHROMIUM_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ReportError::BrowserTimeout(url.to_string()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(step("waiting for chromium")(e)),
        }
    }
    reader
        .join()
        .map_err(|_| ReportError::BrowserOutput("reader thread panicked"))
}

/// The DOM of `url` after its scripts ran (3 s of virtual time).
pub fn dump_dom(url: &str) -> Result<String, ReportError> {
    let dom = chromium(url, &["--dump-dom", "--virtual-time-budget=3000"])?;
    if dom.contains("</html>") {
        Ok(dom)
    } else {
        Err(ReportError::NoDom {
            url: url.to_string(),
            start: dom.chars().take(200).collect(),
        })
    }
}

/// A `file://` URL for a local path.
pub fn file_url(p: &Path) -> String {
    let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    format!("file://{}", abs.display())
}

/// Text of an HTML fragment: tags dropped, the report's escapes undone.
pub fn strip_tags(s: &str) -> String {
    let mut o = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => o.push(c),
            _ => {}
        }
    }
    o.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The element that starts at attribute `attr` and ends at `close`.
fn element<'a>(dom: &'a str, attr: &str, close: &str) -> Option<&'a str> {
    let start = dom.find(attr)?;
    let rest = &dom[start..];
    Some(&rest[..rest.find(close)?])
}

/// The `data-value` attribute of an opening tag, unescaped.
fn data_value(open_tag: &str) -> Option<String> {
    let i = open_tag.find("data-value=\"")? + "data-value=\"".len();
    let rest = &open_tag[i..];
    Some(strip_tags(&rest[..rest.find('"')?]))
}

/// One cell: its `data-value` (the exact value behind the shown text)
/// where it has one, else its text.
fn cell_of(td: &str, close: &str) -> String {
    let open_end = td.find('>').unwrap_or(0);
    data_value(&td[..open_end]).unwrap_or_else(|| strip_tags(td.split(close).next().unwrap_or("")))
}

/// Cells of each `<tr>` in an HTML fragment (see [`cell_of`]).
fn rows_of(fragment: &str) -> Vec<Vec<String>> {
    fragment
        .split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| cell_of(&format!("<td{td}"), "</td>"))
                .collect()
        })
        .collect()
}

/// Visible text of each `<tr>` in an HTML fragment.
fn texts_of(fragment: &str) -> Vec<Vec<String>> {
    fragment
        .split("<tr>")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| strip_tags(&format!("<td{}", td.split("</td>").next().unwrap_or(""))))
                .collect()
        })
        .collect()
}

/// Rows of table `attr="id"` as column → cell (keys and cells are
/// `data-value`s where present, else texts).
fn named(dom: &str, attr: &str, id: &str) -> Option<Vec<HashMap<String, String>>> {
    let table = element(dom, &format!("{attr}=\"{id}\""), "</table>")?;
    let head = &table[table.find("<thead>")?..table.find("</thead>")?];
    let names: Vec<String> = head
        .split("<th")
        .skip(1)
        // `<thead>` starts with `<th` too.
        .filter(|h| h.starts_with(['>', ' ']))
        .map(|h| cell_of(&format!("<th{h}"), "</th>"))
        .collect();
    let body = &table[table.find("<tbody>")?..];
    Some(
        rows_of(body)
            .into_iter()
            .map(|r| names.iter().cloned().zip(r).collect())
            .collect(),
    )
}

/// The shown texts of the data table of section `id`.
pub fn data_table_text(dom: &str, id: &str) -> Option<Vec<Vec<String>>> {
    let table = element(dom, &format!("data-section=\"{id}\""), "</table>")?;
    let body = &table[table.find("<tbody>")?..];
    Some(texts_of(body))
}

/// The "no data" sentence of section `id`, if it has no data.
pub fn no_data(dom: &str, id: &str) -> Option<String> {
    element(dom, &format!("data-nodata=\"{id}\""), "</p>").map(|p| {
        let open_end = p.find('>').unwrap_or(0);
        strip_tags(&p[open_end + 1..])
    })
}

/// Rows of the data table of section `id` (`<table data-section="ID">`),
/// as cell texts; `None` when the section has no data table.
pub fn data_table(dom: &str, id: &str) -> Option<Vec<Vec<String>>> {
    let table = element(dom, &format!("data-section=\"{id}\""), "</table>")?;
    let body = &table[table.find("<tbody>")?..];
    Some(rows_of(body))
}

/// Rows of the data table of section `id` as column → cell
/// (`data-value`s where present: keys and exact numbers).
pub fn data_table_named(dom: &str, id: &str) -> Option<Vec<HashMap<String, String>>> {
    named(dom, "data-section", id)
}

/// Rows of another table of section `id`: `data-notes` (facts),
/// `data-study` (the study's rows), `data-extra` (listings).
pub fn table_named(dom: &str, attr: &str, id: &str) -> Option<Vec<HashMap<String, String>>> {
    named(dom, attr, id)
}

/// The facts of section `id` (`<table data-notes="ID">`) as quantity key →
/// measured value; `None` when the section has none.
pub fn notes(dom: &str, id: &str) -> Option<HashMap<String, String>> {
    let table = element(dom, &format!("data-notes=\"{id}\""), "</table>")?;
    let body = &table[table.find("<tbody>")?..];
    Some(
        rows_of(body)
            .into_iter()
            .filter_map(|r| match r.as_slice() {
                [k, v, ..] => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect(),
    )
}

/// Prints `url` to a PDF file with headless Chromium (print CSS applies).
pub fn print_to_pdf(url: &str, pdf: &Path) -> Result<(), ReportError> {
    chromium(
        url,
        &[
            &format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer",
            "--virtual-time-budget=3000",
        ],
    )?;
    match std::fs::metadata(pdf) {
        Ok(m) if m.len() > 0 => Ok(()),
        _ => Err(ReportError::NoBrowserFile {
            what: "PDF",
            path: pdf.to_path_buf(),
        }),
    }
}

/// A PNG screenshot of `url` in a `width`×`height` window.
pub fn screenshot(url: &str, png: &Path, width: u32, height: u32) -> Result<(), ReportError> {
    chromium(
        url,
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={width},{height}"),
            "--virtual-time-budget=3000",
        ],
    )?;
    match std::fs::metadata(png) {
        Ok(m) if m.len() > 0 => Ok(()),
        _ => Err(ReportError::NoBrowserFile {
            what: "screenshot",
            path: png.to_path_buf(),
        }),
    }
}
