//! `botscope serve`: the report's views served live from the data folder.
//!
//! Every page load re-reads what changed (by modification time and size):
//! JSON files are re-parsed, and a JSON file that no longer parses (a
//! writer is half-way through rewriting it) keeps its last good version.
//! JSON Lines files (`*.jsonl`) are tailed from the last complete line: a
//! partial last line waits until its newline arrives, and a file that got
//! shorter (the writer restarted) is read again from the start. The page
//! polls `/api/version` and reloads itself when the folder changed.
//!
//! Access: on a loopback bind every request must name the server by a
//! loopback `Host` (`localhost`, `127.0.0.1` or `[::1]`, with the port), so
//! a page on another site cannot reach it through DNS rebinding (421
//! otherwise). With a token (`--token` or `$BOTSCOPE_TOKEN`), requests need
//! `Authorization: Bearer T` or the `botscope_token` cookie; `/?token=T` is
//! only a login that sets the cookie and redirects to `/` without it.
//! Tokens are compared in constant time.

use crate::build::{
    build_report, parse_file, Cell, DataFolder, Row, Section, Status, Table, TableKind,
};
use crate::html::report_html_with;
use crate::val::Val;
use crate::ReportError;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Most bytes read from one JSON Lines file per refresh (the rest waits).
pub const TAIL_CHUNK: u64 = 64 << 20;
/// Longest JSON line accepted; longer ones are counted as malformed.
pub const MAX_LINE: usize = 1 << 20;
/// Recent events listed on the dashboard.
pub const RECENT: usize = 20;

/// Environment variable read for the token when none is given.
pub const TOKEN_ENV: &str = "BOTSCOPE_TOKEN";
/// Cookie holding the token after a `/?token=T` login.
pub const TOKEN_COOKIE: &str = "botscope_token";

/// Dashboard settings.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The data folder.
    pub data: PathBuf,
    /// Access token; required when bound to a non-loopback address. When
    /// `None` (or empty), [`serve`] and [`serve_blocking`] use
    /// `$BOTSCOPE_TOKEN` if it is set and not empty.
    pub token: Option<String>,
}

/// The token in force: `given` unless empty, else `$BOTSCOPE_TOKEN` unless
/// unset or empty.
pub fn effective_token(given: Option<String>) -> Option<String> {
    given
        .filter(|t| !t.is_empty())
        .or_else(|| std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty()))
}

/// Compares a presented token with the expected one in time that depends
/// only on the expected token's length.
pub fn token_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        diff |= given.get(i).copied().unwrap_or(0) ^ e;
    }
    std::hint::black_box(diff) == 0
}

/// Whether `host` (a `Host` header) names a server bound at `bound`: on a
/// loopback bind only `localhost`, `127.0.0.1` or `[::1]` with the bound
/// port (the port may be left out only when it is 80); any host otherwise.
pub fn host_allowed(bound: &SocketAddr, host: Option<&str>) -> bool {
    if !bound.ip().is_loopback() {
        return true;
    }
    let Some(host) = host else {
        return false;
    };
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !p.contains(']') => (n, Some(p)),
        _ => (host, None),
    };
    let port_ok = match port {
        Some(p) => p.parse::<u16>().ok() == Some(bound.port()),
        None => bound.port() == 80,
    };
    let name_ok = name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "[::1]";
    port_ok && name_ok
}

/// Refuses a non-loopback bind without a token.
pub fn check_bind(bind: &SocketAddr, token: Option<&str>) -> Result<(), ReportError> {
    if !bind.ip().is_loopback() && token.is_none_or(str::is_empty) {
        return Err(ReportError::BindNeedsToken(*bind));
    }
    Ok(())
}

#[derive(Default)]
struct JsonFile {
    stamp: (Option<SystemTime>, u64),
    good: Option<Arc<[u8]>>,
    error: Option<String>,
}

/// The dashboard's running view of one JSON Lines file: counts per event
/// kind, malformed lines and the most recent events, fed the bytes appended
/// since the last read.
#[derive(Default)]
pub struct Tail {
    offset: u64,
    by_kind: BTreeMap<String, u64>,
    malformed: u64,
    first_malformed: Vec<u64>,
    lines: u64,
    recent: VecDeque<(u64, String, String, String)>,
}

#[derive(Default)]
struct Live {
    json: HashMap<String, JsonFile>,
    tails: BTreeMap<String, Tail>,
}

struct AppState {
    cfg: ServeConfig,
    bound: SocketAddr,
    live: Mutex<Live>,
}

/// The router for a server listening at `bound` (its `Host` check needs
/// the address). `cfg.token` is used as given; see [`effective_token`].
pub fn router(cfg: ServeConfig, bound: SocketAddr) -> Router {
    let state = Arc::new(AppState {
        cfg,
        bound,
        live: Mutex::new(Live::default()),
    });
    Router::new()
        .route("/", get(page))
        .route("/api/version", get(version))
        .route("/api/report.json", get(report_json))
        .route("/data/{file}", get(data_file))
        .with_state(state)
}

/// Binds `bind` (refusing a non-loopback address without a token, given
/// or from `$BOTSCOPE_TOKEN`) and serves on a runtime of its own until the
/// process ends; `on_ready` is called with the bound address (port 0 picks
/// a free port).
pub fn serve_blocking(
    mut cfg: ServeConfig,
    bind: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    cfg.token = effective_token(cfg.token);
    check_bind(&bind, cfg.token.as_deref())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        on_ready(listener.local_addr()?);
        serve(cfg, listener).await
    })
}

/// Serves until the listener fails (token: given or `$BOTSCOPE_TOKEN`).
pub async fn serve(mut cfg: ServeConfig, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    cfg.token = effective_token(cfg.token);
    let bound = listener.local_addr()?;
    axum::serve(listener, router(cfg, bound)).await
}

fn token(st: &AppState) -> Option<&str> {
    st.cfg.token.as_deref().filter(|t| !t.is_empty())
}

/// Token from `Authorization: Bearer` or the cookie (never the query).
fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(tok) = token(st) else {
        return true;
    };
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|b| b.strip_prefix("Bearer "))
        .any(|b| token_eq(b.trim().as_bytes(), tok.as_bytes()));
    if bearer {
        return true;
    }
    let prefix = format!("{TOKEN_COOKIE}=");
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix(prefix.as_str()))
        .any(|v| token_eq(v.as_bytes(), tok.as_bytes()))
}

fn misdirected(st: &AppState, headers: &HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    (!host_allowed(&st.bound, host)).then(|| {
        (
            StatusCode::MISDIRECTED_REQUEST,
            "Host must be localhost, 127.0.0.1 or [::1] with the port\n",
        )
            .into_response()
    })
}

/// The checks every request passes: a loopback `Host` on a loopback bind
/// (421), then the token (401).
fn gate(st: &AppState, headers: &HeaderMap) -> Option<Response> {
    if let Some(r) = misdirected(st, headers) {
        return Some(r);
    }
    if !authorized(st, headers) {
        return Some((StatusCode::UNAUTHORIZED, "token required\n").into_response());
    }
    None
}

fn stamp(p: &Path) -> (Option<SystemTime>, u64) {
    std::fs::metadata(p)
        .map(|m| (m.modified().ok(), m.len()))
        .unwrap_or((None, 0))
}

impl Live {
    /// Brings the cached view of the folder up to date.
    fn refresh(&mut self, dir: &Path) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let Ok(name) = e.file_name().into_string() else {
                continue;
            };
            let path = e.path();
            // Only the report contract's files are report inputs.
            let contract = botscope_core::report::SECTIONS
                .iter()
                .any(|id| crate::build::file_of(id) == name);
            if contract {
                let st = stamp(&path);
                let f = self.json.entry(name).or_default();
                if f.stamp != st {
                    f.stamp = st;
                    match parse_file(&path) {
                        Ok(v) => {
                            f.good = Some(v);
                            f.error = None;
                        }
                        // Keep the last good version while a writer rewrites it.
                        Err(e) => f.error = Some(e.to_string()),
                    }
                }
            } else if name.ends_with(".jsonl") {
                let t = self.tails.entry(name).or_default();
                t.read_more(&path);
            }
        }
    }

    fn folder(&self, dir: &Path) -> DataFolder {
        let mut files: Vec<(String, Arc<[u8]>)> = self
            .json
            .iter()
            .filter_map(|(n, f)| Some((n.clone(), f.good.clone()?)))
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let unreadable = self
            .json
            .iter()
            .filter(|(_, f)| f.good.is_none())
            .filter_map(|(n, f)| Some((n.clone(), f.error.clone()?)))
            .collect();
        DataFolder {
            dir: dir.to_path_buf(),
            files,
            unreadable,
        }
    }

    fn live_sections(&self) -> Vec<Section> {
        tail_sections(&self.tails)
    }
}

/// The dashboard's "live" and "recent" sections for the tailed files (by
/// file name).
pub fn tail_sections(tails: &BTreeMap<String, Tail>) -> Vec<Section> {
    let mut facts = Table {
        kind: TableKind::Facts,
        caption: String::new(),
        columns: vec![Cell::text("Quantity"), Cell::text("Now")],
        rows: vec![],
        rows_more: 0,
    };
    let mut counts = Table {
        kind: TableKind::Data,
        caption: "Events per file and kind".into(),
        columns: vec![Cell::text("File"), Cell::text("Kind"), Cell::text("Events")],
        rows: vec![],
        rows_more: 0,
    };
    let mut recent = Table {
        kind: TableKind::Data,
        caption: String::new(),
        columns: vec![
            Cell::text("File"),
            Cell::text("Line"),
            Cell::text("Kind"),
            Cell::text("Time"),
            Cell::text("Summary"),
        ],
        rows: vec![],
        rows_more: 0,
    };
    let mut total = 0;
    let mut malformed = 0;
    for (name, t) in tails {
        for (k, n) in &t.by_kind {
            total += n;
            counts.rows.push(Row::with_evidence(
                vec![
                    Cell::text(name.clone()),
                    Cell::keyed(k.clone(), k.clone()),
                    Cell::count(*n),
                ],
                2,
                &[format!("{name} lines 1–{}", t.lines)],
                0,
            ));
        }
        malformed += t.malformed;
        for (line, kind, ts, summary) in t.recent.iter().rev() {
            recent.rows.push(Row::plain(vec![
                Cell::text(name.clone()),
                Cell::count(*line),
                Cell::text(kind.clone()),
                Cell::keyed(crate::build::fmt_time(ts), ts.clone()),
                Cell::text(summary.clone()),
            ]));
        }
        if t.malformed > 0 {
            facts.rows.push(Row::plain(vec![
                Cell::keyed(
                    format!("{name}: malformed lines"),
                    format!("{name} malformed lines"),
                ),
                Cell::text(format!(
                    "{} (first at line {})",
                    t.malformed,
                    t.first_malformed
                        .iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ]));
        }
    }
    facts.rows.insert(
        0,
        Row::plain(vec![
            Cell::keyed("Events read", "events"),
            Cell::count(total),
        ]),
    );
    facts.rows.insert(
        1,
        Row::plain(vec![
            Cell::keyed("Malformed lines", "malformed lines"),
            Cell::count(malformed),
        ]),
    );
    recent.rows.truncate(RECENT);
    let live = Section {
        id: "live".into(),
        title: "Live — events in the data folder's JSON Lines files".into(),
        study: String::new(),
        status: Status::Data,
        command: "botscope capture ... --jsonl DATA/events.jsonl".into(),
        tables: vec![facts, counts],
        charts: vec![],
        remarks: vec![],
    };
    let recent = Section {
        id: "recent".into(),
        title: "Recent — the last events read from the JSON Lines files".into(),
        tables: vec![recent],
        ..live.clone()
    };
    vec![live, recent]
}

impl Tail {
    fn read_more(&mut self, path: &Path) {
        let Ok(mut f) = std::fs::File::open(path) else {
            return;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.offset {
            // The writer restarted and truncated the file: start over.
            *self = Tail::default();
        }
        if len == self.offset || f.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.take(TAIL_CHUNK).read_to_end(&mut buf).is_err() {
            return;
        }
        self.feed(&buf);
    }

    /// Reads the complete lines at the start of `buf` (the bytes after the
    /// ones already consumed) and returns how many bytes it consumed; the
    /// rest, a partial last line, is to be offered again with what follows.
    pub fn feed(&mut self, buf: &[u8]) -> usize {
        // Only complete lines: a partial last line is read again next time,
        // unless it is already too long to ever be accepted.
        let end = match buf.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if buf.len() > MAX_LINE => buf.len(),
            None => return 0,
        };
        let body = buf[..end].strip_suffix(b"\n").unwrap_or(&buf[..end]);
        for line in body.split(|&b| b == b'\n') {
            self.lines += 1;
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            let parsed = (trimmed.len() <= MAX_LINE)
                .then(|| serde_json::from_slice::<Val>(trimmed).ok())
                .flatten();
            match parsed {
                Some(v @ Val::Obj(..)) => {
                    let kind = v
                        .get("kind")
                        .and_then(Val::as_str)
                        .unwrap_or("event")
                        .to_string();
                    *self.by_kind.entry(kind.clone()).or_default() += 1;
                    let ts = v.get("ts").map(Val::cell).unwrap_or_default();
                    let summary = ["uid", "query", "command", "fname", "uri", "id"]
                        .iter()
                        .filter_map(|k| v.get(k).map(|x| format!("{k} {}", x.cell())))
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" · ");
                    self.recent.push_back((self.lines, kind, ts, summary));
                    if self.recent.len() > RECENT {
                        self.recent.pop_front();
                    }
                }
                _ => {
                    self.malformed += 1;
                    if self.first_malformed.len() < 5 {
                        self.first_malformed.push(self.lines);
                    }
                }
            }
        }
        self.offset += end as u64;
        end
    }

    /// Lines read so far (blank ones included).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Lines that were not a JSON object (or longer than [`MAX_LINE`]).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Events read, by `kind` (`event` when the object has none).
    pub fn by_kind(&self) -> &BTreeMap<String, u64> {
        &self.by_kind
    }

    /// The last [`RECENT`] events: line number, kind, time and summary.
    pub fn recent(&self) -> impl Iterator<Item = &(u64, String, String, String)> {
        self.recent.iter()
    }

    /// Bytes of the file consumed.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

fn folder_version(dir: &Path) -> String {
    let mut parts: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().into_string().ok()?;
                    let (t, l) = stamp(&e.path());
                    let t = t
                        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                        .map(|d| d.as_nanos())
                        .unwrap_or(0);
                    Some(format!("{n}:{t}:{l}"))
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    // FNV-1a: a short, stable fingerprint of names, times and sizes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.join("|").bytes() {
        h = (h ^ b as u64).wrapping_mul(0x1000_0000_01b3);
    }
    format!("{h:016x}")
}

const REFRESH_JS: &str = r#"<script>
(function(){var v=null;function poll(){fetch('api/version',{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){if(v!==null&&t!==v){location.reload();}v=t;}).catch(function(){});}
poll();setInterval(poll,1500);})();
</script>"#;

fn build_live(st: &AppState) -> crate::build::Report {
    let mut live = st.live.lock().unwrap_or_else(|p| p.into_inner());
    live.refresh(&st.cfg.data);
    let mut report = build_report(&live.folder(&st.cfg.data));
    let extra = live.live_sections();
    report.sections.splice(0..0, extra);
    report
}

/// `/?token=T` logs in: the cookie is set (`HttpOnly; SameSite=Strict`,
/// plus `Secure` when a TLS proxy in front says `X-Forwarded-Proto:
/// https`; this server speaks no TLS itself) and the browser is sent to `/`,
/// so the token does not stay in the address bar or history.
fn login(st: &AppState, headers: &HeaderMap, given: &str) -> Response {
    if let Some(r) = misdirected(st, headers) {
        return r;
    }
    let Some(tok) = token(st) else {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    };
    if !token_eq(given.as_bytes(), tok.as_bytes()) {
        return (StatusCode::UNAUTHORIZED, "token required\n").into_response();
    }
    let tls = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let cookie = format!(
        "{TOKEN_COOKIE}={tok}; HttpOnly; SameSite=Strict; Path=/{}",
        if tls { "; Secure" } else { "" }
    );
    let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
    match HeaderValue::from_str(&cookie) {
        Ok(v) => {
            resp.headers_mut().insert(header::SET_COOKIE, v);
            resp
        }
        Err(_) => (StatusCode::BAD_REQUEST, "token not usable in a cookie\n").into_response(),
    }
}

async fn page(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(given) = q.get("token") {
        return login(&st, &headers, given);
    }
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    let st2 = st.clone();
    let report = match tokio::task::spawn_blocking(move || build_live(&st2)).await {
        Ok(r) => r,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "report failed\n").into_response(),
    };
    // Data links point at the served copies.
    let html = report_html_with(&report, Some(REFRESH_JS), "data/");
    Html(html).into_response()
}

async fn version(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    let dir = st.cfg.data.clone();
    tokio::task::spawn_blocking(move || folder_version(&dir))
        .await
        .unwrap_or_default()
        .into_response()
}

async fn report_json(State(st): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    let st2 = st.clone();
    match tokio::task::spawn_blocking(move || build_live(&st2).to_json()).await {
        Ok(j) => ([(header::CONTENT_TYPE, "application/json")], j.to_string()).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "report failed\n").into_response(),
    }
}

async fn data_file(
    State(st): State<Arc<AppState>>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    // Plain file names only: no separators, no dot-dot.
    let ok = !file.contains(['/', '\\'])
        && !file.starts_with('.')
        && (file.ends_with(".json") || file.ends_with(".jsonl"));
    if !ok {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    match tokio::fs::read(st.cfg.data.join(&file)).await {
        Ok(b) => ([(header::CONTENT_TYPE, "application/json")], b).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "not found\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_needed_off_loopback() {
        assert!(check_bind(&"127.0.0.1:8080".parse().unwrap(), None).is_ok());
        assert!(check_bind(&"[::1]:8080".parse().unwrap(), None).is_ok());
        assert!(check_bind(&"0.0.0.0:8080".parse().unwrap(), None).is_err());
        assert!(check_bind(&"0.0.0.0:8080".parse().unwrap(), Some("")).is_err());
        assert!(check_bind(&"0.0.0.0:8080".parse().unwrap(), Some("s3cret")).is_ok());
    }

    /// The crate's errors are typed and say what went wrong and where.
    #[test]
    fn errors_are_typed() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let e = check_bind(&any, None).unwrap_err();
        assert!(matches!(e, ReportError::BindNeedsToken(a) if a == any));
        assert_eq!(
            e.to_string(),
            "binding to 0.0.0.0:8080 (not loopback) needs --token"
        );
        // A half-written data file.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("table7.json");
        std::fs::write(&p, "{\"schema_version\": 1, \"rows\": [").unwrap();
        match parse_file(&p) {
            Err(ReportError::Json(j)) => assert!(j.is_eof(), "{j}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
        // `specimen --json table2` output without its period.
        let e = crate::collect::from_table2(&serde_json::json!({"as_of": 0})).unwrap_err();
        assert!(
            matches!(&e, ReportError::Field { what, field } if what == "specimen table2" && field == "from"),
            "{e}"
        );
        let missing = dir.path().join("nope.json");
        assert!(matches!(
            crate::collect::read_json(&missing),
            Err(ReportError::InputRead { path, source })
                if path == missing && source.kind() == std::io::ErrorKind::NotFound
        ));
    }

    #[test]
    fn host_must_be_loopback_with_the_port() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        for bound in [v4, v6] {
            for ok in [
                "localhost:8080",
                "LocalHost:8080",
                "127.0.0.1:8080",
                "[::1]:8080",
            ] {
                assert!(host_allowed(&bound, Some(ok)), "{ok}");
            }
            for bad in [
                "evil.example",
                "evil.example:8080",
                "localhost",
                "localhost:8081",
                "127.0.0.1",
                "[::1]",
                "127.0.0.2:8080",
                "localhost.evil.example:8080",
                "localhost:8080:8080",
                "",
            ] {
                assert!(!host_allowed(&bound, Some(bad)), "{bad}");
            }
            assert!(!host_allowed(&bound, None));
        }
        // Port 80 may be left out, as browsers do.
        let p80: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert!(host_allowed(&p80, Some("localhost")));
        assert!(!host_allowed(&p80, Some("evil.example")));
        // Off loopback the token guards the server, whatever the name.
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(host_allowed(&any, Some("dash.example.org:8080")));
    }

    #[test]
    fn token_comparison() {
        assert!(token_eq(b"s3cret", b"s3cret"));
        assert!(!token_eq(b"s3cre", b"s3cret"));
        assert!(!token_eq(b"s3cretX", b"s3cret"));
        assert!(!token_eq(b"s3creT", b"s3cret"));
        assert!(!token_eq(b"", b"s3cret"));
        // A prefix padded with NULs is still a different token.
        assert!(!token_eq(b"s3cre\0", b"s3cret"));
        assert!(!token_eq(b"s3cret\0", b"s3cret"));
    }

    #[test]
    fn tail_waits_for_complete_lines_and_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        std::fs::write(&p, "{\"kind\":\"irc\",\"uid\":\"C1\"}\n{\"kind\":\"dns\"").unwrap();
        let mut t = Tail::default();
        t.read_more(&p);
        assert_eq!(t.by_kind.get("irc"), Some(&1));
        assert_eq!(t.by_kind.get("dns"), None);
        std::fs::write(
            &p,
            "{\"kind\":\"irc\",\"uid\":\"C1\"}\n{\"kind\":\"dns\"}\nnot json\n",
        )
        .unwrap();
        t.read_more(&p);
        assert_eq!(
            (
                t.by_kind["irc"],
                t.by_kind["dns"],
                t.malformed,
                t.first_malformed.clone()
            ),
            (1, 1, 1, vec![3])
        );
        // Writer restarted with a fresh, shorter file.
        std::fs::write(&p, "{\"kind\":\"tftp\"}\n").unwrap();
        t.read_more(&p);
        assert_eq!((t.by_kind.len(), t.by_kind["tftp"], t.lines), (1, 1, 1));
    }
}
