//! Table 6: the DNS state of each C&C name, asked of a resolver the user
//! names (or the system's), with bounded concurrency.
//!
//! Per name: A and AAAA sets (or NXDOMAIN / NODATA / SERVFAIL / REFUSED /
//! timeout), PTR of each address compared with the name, how many bots
//! reference it, and — only with `--active` — whether the C&C port accepts
//! a TCP connection.

use crate::configs::BotConfigs;
use botscope_core::Ts;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::TokioResolver;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Most addresses kept (and PTR-checked, connected to) per name: an
/// attacker's zone can return hundreds.
pub const MAX_ADDRS: usize = 32;
/// Most PTR names kept per address.
pub const MAX_PTRS: usize = 8;

/// The resolver's answer for a name, A and AAAA together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsStatus {
    /// At least one address.
    Resolved,
    /// The name does not exist.
    Nxdomain,
    /// The name exists without A/AAAA.
    Nodata,
    /// The resolver failed (SERVFAIL).
    Servfail,
    /// The resolver refused.
    Refused,
    /// No answer in time.
    Timeout,
    /// Anything else (network error, other RCODE).
    Error,
}

/// How the PTR of an address relates to the probed name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PtrStatus {
    /// A PTR names the probed name.
    Agrees,
    /// PTR records exist, none names the probed name.
    Differs,
    /// No PTR record.
    Missing,
    /// Not asked: loopback addresses are answered locally by the resolver
    /// library (RFC 6761), so a check would say nothing about the C&C.
    NotChecked,
}

/// One port connect attempt (only with `--active`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortCheck {
    /// TCP port.
    pub port: u16,
    /// True when the connect completed within the timeout.
    pub open: bool,
}

/// One address of a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrCheck {
    /// The address.
    pub addr: IpAddr,
    /// PTR names (lower case, no trailing dot).
    pub ptr: Vec<String>,
    /// PTR vs the probed name.
    pub ptr_status: PtrStatus,
    /// Connect results (empty unless `--active`).
    pub ports: Vec<PortCheck>,
}

/// Everything learnt about one name in one probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// The name.
    pub name: String,
    /// When it was probed.
    pub ts: Ts,
    /// The resolver asked (`system` for resolv.conf).
    pub resolver: String,
    /// Overall DNS status.
    pub status: DnsStatus,
    /// Addresses, sorted, at most [`MAX_ADDRS`].
    pub addrs: Vec<AddrCheck>,
    /// Distinct bots referencing the name (from `--configs`; 0 without).
    pub bots: u64,
    /// Whether `--active` connect checks ran.
    pub active: bool,
}

impl ProbeResult {
    /// Table 6 row: referenced by several bots.
    pub fn several_bots(&self) -> bool {
        self.bots >= 2
    }
    /// Table 6 row: several IP addresses.
    pub fn several_addrs(&self) -> bool {
        self.addrs.len() >= 2
    }
    /// Table 6 row: not resolvable (no address for any reason).
    pub fn not_resolvable(&self) -> bool {
        self.status != DnsStatus::Resolved
    }
    /// Table 6 row: resolves, but no address accepted a connection on any
    /// C&C port. Only known with `--active`. Non-global addresses that were
    /// not connected to (see [`skipped_connects`]) count as not accepting.
    pub fn unreachable(&self) -> Option<bool> {
        if !self.active || self.status != DnsStatus::Resolved {
            return None;
        }
        Some(!self.addrs.iter().any(|a| a.ports.iter().any(|p| p.open)))
    }
    /// Table 6 row: forward and reverse disagree — some address has no PTR
    /// or a PTR naming another host.
    pub fn fwd_rev_disagree(&self) -> bool {
        self.addrs
            .iter()
            .any(|a| matches!(a.ptr_status, PtrStatus::Differs | PtrStatus::Missing))
    }
    /// The sorted address set as text, for history comparisons.
    pub fn addr_set(&self) -> String {
        let v: Vec<String> = self.addrs.iter().map(|a| a.addr.to_string()).collect();
        v.join(",")
    }
}

/// Probe settings.
#[derive(Clone, Debug)]
pub struct ProbeOptions {
    /// Resolver to ask; `None` reads /etc/resolv.conf.
    pub resolver: Option<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Tries per query.
    pub attempts: usize,
    /// Names probed at once.
    pub concurrency: usize,
    /// Connect to C&C ports.
    pub active: bool,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Ports tried when the configs name none for a host.
    pub default_ports: Vec<u16>,
    /// Lab use only: also connect to non-global addresses (loopback,
    /// RFC 1918, link-local, ...). Off by default: a C&C zone is written by
    /// the herder, and would otherwise point `--active` at the operator's
    /// own network. Tests against servers on 127.0.0.1 set it.
    pub allow_private_targets: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            resolver: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
            concurrency: 64,
            active: false,
            connect_timeout: Duration::from_secs(3),
            default_ports: vec![6667],
            allow_private_targets: false,
        }
    }
}

/// Errors that stop a probe run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The resolver could not be configured.
    #[error("resolver setup: {0}")]
    Resolver(String),
}

fn build_resolver(opts: &ProbeOptions) -> Result<TokioResolver, ProbeError> {
    let mut builder = match opts.resolver {
        Some(sa) => {
            let mut ns = NameServerConfig::udp_and_tcp(sa.ip());
            for c in &mut ns.connections {
                c.port = sa.port();
            }
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(|e| ProbeError::Resolver(e.to_string()))?,
    };
    let o: &mut ResolverOpts = builder.options_mut();
    o.timeout = opts.timeout;
    o.attempts = opts.attempts.max(1);
    o.use_hosts_file = ResolveHosts::Never;
    // Each probe must see the resolver's current answer, not our cache.
    o.cache_size = 0;
    o.ndots = 0;
    builder
        .build()
        .map_err(|e| ProbeError::Resolver(e.to_string()))
}

/// Outcome of one record-type query.
enum Q<T> {
    Records(Vec<T>),
    Status(DnsStatus),
}

fn status_of(e: &NetError) -> DnsStatus {
    match e {
        NetError::Timeout => DnsStatus::Timeout,
        NetError::Dns(DnsError::NoRecordsFound(nr)) => match nr.response_code {
            ResponseCode::NXDomain => DnsStatus::Nxdomain,
            ResponseCode::NoError => DnsStatus::Nodata,
            ResponseCode::ServFail => DnsStatus::Servfail,
            ResponseCode::Refused => DnsStatus::Refused,
            _ => DnsStatus::Error,
        },
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => DnsStatus::Servfail,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => DnsStatus::Refused,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::NXDomain)) => DnsStatus::Nxdomain,
        other => {
            // Some timeouts arrive wrapped (e.g. as I/O errors).
            if other.to_string().contains("timed out") {
                DnsStatus::Timeout
            } else {
                DnsStatus::Error
            }
        }
    }
}

async fn query(r: &TokioResolver, name: &Name, rt: RecordType) -> Q<RData> {
    match r.lookup(name.clone(), rt).await {
        Ok(l) => Q::Records(
            l.answers()
                .iter()
                .filter(|rec| rec.data.record_type() == rt)
                .map(|rec| rec.data.clone())
                .collect(),
        ),
        Err(e) => Q::Status(status_of(&e)),
    }
}

fn name_text(n: &Name) -> String {
    let s = n.to_ascii().to_ascii_lowercase();
    s.strip_suffix('.').map(str::to_string).unwrap_or(s)
}

/// Merges the A and AAAA outcomes into one status: an address wins; then
/// the more telling failure (NXDOMAIN over NODATA over errors).
fn merge(a: &Q<RData>, aaaa: &Q<RData>) -> DnsStatus {
    let st = |q: &Q<RData>| match q {
        Q::Records(v) if !v.is_empty() => DnsStatus::Resolved,
        Q::Records(_) => DnsStatus::Nodata,
        Q::Status(s) => *s,
    };
    let (x, y) = (st(a), st(aaaa));
    for want in [
        DnsStatus::Resolved,
        DnsStatus::Nxdomain,
        DnsStatus::Servfail,
        DnsStatus::Refused,
        DnsStatus::Timeout,
        DnsStatus::Error,
    ] {
        if x == want || y == want {
            // NODATA on one type with an error on the other: the name exists
            // but the resolver failed; report the failure.
            return want;
        }
    }
    DnsStatus::Nodata
}

async fn probe_one(
    r: Arc<TokioResolver>,
    name: String,
    resolver_label: String,
    bots: u64,
    ports: Vec<u16>,
    opts: Arc<ProbeOptions>,
) -> ProbeResult {
    let ts = now();
    let mut out = ProbeResult {
        name: name.clone(),
        ts,
        resolver: resolver_label,
        status: DnsStatus::Error,
        addrs: vec![],
        bots,
        active: opts.active,
    };
    let Ok(fqdn) = Name::from_ascii(format!("{name}.")) else {
        return out;
    };
    let (a, aaaa) = tokio::join!(
        query(&r, &fqdn, RecordType::A),
        query(&r, &fqdn, RecordType::AAAA)
    );
    out.status = merge(&a, &aaaa);
    let mut ips: Vec<IpAddr> = [&a, &aaaa]
        .into_iter()
        .flat_map(|q| match q {
            Q::Records(v) => v.clone(),
            Q::Status(_) => vec![],
        })
        .filter_map(|d| match d {
            RData::A(x) => Some(IpAddr::V4(x.0)),
            RData::AAAA(x) => Some(IpAddr::V6(x.0)),
            _ => None,
        })
        .collect();
    ips.sort();
    ips.dedup();
    ips.truncate(MAX_ADDRS);
    for ip in ips {
        let (ptr, ptr_status) = if ip.is_loopback() {
            (vec![], PtrStatus::NotChecked)
        } else {
            match query(&r, &Name::from(ip), RecordType::PTR).await {
                Q::Records(v) => {
                    let mut names: Vec<String> = v
                        .into_iter()
                        .filter_map(|d| match d {
                            RData::PTR(p) => Some(name_text(&p.0)),
                            _ => None,
                        })
                        .collect();
                    names.sort();
                    names.dedup();
                    names.truncate(MAX_PTRS);
                    let st = if names.is_empty() {
                        PtrStatus::Missing
                    } else if names.contains(&name) {
                        PtrStatus::Agrees
                    } else {
                        PtrStatus::Differs
                    };
                    (names, st)
                }
                Q::Status(_) => (vec![], PtrStatus::Missing),
            }
        };
        let mut checks = vec![];
        // Non-global addresses are never connected to (no port checks:
        // see [`skipped_connects`]) unless the lab opt-in is set.
        let allowed = opts.allow_private_targets || crate::targets::non_global(ip).is_none();
        if opts.active && allowed {
            for &port in &ports {
                let open = matches!(
                    tokio::time::timeout(
                        opts.connect_timeout,
                        tokio::net::TcpStream::connect(SocketAddr::new(ip, port))
                    )
                    .await,
                    Ok(Ok(_))
                );
                checks.push(PortCheck { port, open });
            }
        }
        out.addrs.push(AddrCheck {
            addr: ip,
            ptr,
            ptr_status,
            ports: checks,
        });
    }
    out
}

/// Addresses of active probes that were not connected to (no port checks),
/// with the reason: non-global addresses when
/// [`ProbeOptions::allow_private_targets`] is off. Such an address counts
/// as not accepting connections in [`ProbeResult::unreachable`]: no bot
/// outside that network can reach it either.
pub fn skipped_connects(results: &[ProbeResult]) -> Vec<crate::targets::SkippedAddr> {
    let mut v = vec![];
    for r in results.iter().filter(|r| r.active) {
        for a in r.addrs.iter().filter(|a| a.ports.is_empty()) {
            v.push(crate::targets::SkippedAddr {
                name: r.name.clone(),
                addr: a.addr,
                reason: crate::targets::non_global(a.addr)
                    .map(|w| format!("not global: {w}"))
                    .unwrap_or_else(|| "no port to try".into()),
            });
        }
    }
    v
}

/// Every non-global address any name resolved to (whether or not the probe
/// was active): these never go into a firewall export.
pub fn non_global_addrs(results: &[ProbeResult]) -> Vec<crate::targets::SkippedAddr> {
    let mut v = vec![];
    for r in results {
        for a in &r.addrs {
            if let Some(w) = crate::targets::non_global(a.addr) {
                v.push(crate::targets::SkippedAddr {
                    name: r.name.clone(),
                    addr: a.addr,
                    reason: format!("not global: {w}"),
                });
            }
        }
    }
    v
}

/// The current time as a [`Ts`].
pub fn now() -> Ts {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Ts::from_secs_micros(d.as_secs() as i64, d.subsec_micros() as i64)
}

/// Probes every name with at most `opts.concurrency` in flight; results come
/// back in input order. `configs` gives bots per name and C&C ports.
pub async fn probe_names(
    names: &[String],
    configs: &BotConfigs,
    opts: &ProbeOptions,
) -> Result<Vec<ProbeResult>, ProbeError> {
    let resolver = Arc::new(build_resolver(opts)?);
    let label = opts
        .resolver
        .map(|s| s.to_string())
        .unwrap_or_else(|| "system".to_string());
    let opts = Arc::new(opts.clone());
    let limit = opts.concurrency.max(1);
    let mut set = tokio::task::JoinSet::new();
    let mut results: BTreeMap<usize, ProbeResult> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        while set.len() >= limit {
            if let Some(Ok((j, r))) = set.join_next().await {
                results.insert(j, r);
            }
        }
        let mut ports = configs.ports(name);
        if ports.is_empty() {
            ports = opts.default_ports.clone();
        }
        let fut = probe_one(
            resolver.clone(),
            name.clone(),
            label.clone(),
            configs.bots(name),
            ports,
            opts.clone(),
        );
        set.spawn(async move { (i, fut.await) });
    }
    while let Some(res) = set.join_next().await {
        if let Ok((j, r)) = res {
            results.insert(j, r);
        }
    }
    Ok(results.into_values().collect())
}

/// Blocking wrapper: runs [`probe_names`] on its own runtime.
pub fn probe_blocking(
    names: &[String],
    configs: &BotConfigs,
    opts: &ProbeOptions,
) -> Result<Vec<ProbeResult>, ProbeError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ProbeError::Resolver(e.to_string()))?;
    rt.block_on(probe_names(names, configs, opts))
}

/// Table 6 counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Table6 {
    /// Names probed.
    pub total: u64,
    /// Referenced by several bots.
    pub several_bots: u64,
    /// Several addresses.
    pub several_addrs: u64,
    /// Largest address count seen.
    pub max_addrs: u64,
    /// Not resolvable.
    pub not_resolvable: u64,
    /// Resolves to an unreachable address (`None` without `--active`).
    pub unreachable: Option<u64>,
    /// Forward and reverse lookup disagree.
    pub fwd_rev_disagree: u64,
}

impl Table6 {
    /// Counts probe results.
    pub fn from_results(rs: &[ProbeResult]) -> Table6 {
        let mut t = Table6 {
            total: rs.len() as u64,
            ..Default::default()
        };
        for r in rs {
            t.several_bots += r.several_bots() as u64;
            t.several_addrs += r.several_addrs() as u64;
            t.max_addrs = t.max_addrs.max(r.addrs.len() as u64);
            t.not_resolvable += r.not_resolvable() as u64;
            t.fwd_rev_disagree += r.fwd_rev_disagree() as u64;
            if r.active {
                *t.unreachable.get_or_insert(0) += r.unreachable().unwrap_or(false) as u64;
            }
        }
        t
    }

    /// Text rendering in the paper's row order.
    pub fn render(&self) -> String {
        let row = |label: &str, n: u64, extra: &str| {
            let pct = if self.total == 0 {
                0.0
            } else {
                n as f64 * 100.0 / self.total as f64
            };
            format!("  {label:<44} {n:>6} {pct:>5.0} %{extra}\n")
        };
        let mut s = format!("Table 6: DNS state of C&C names ({} FQDNs)\n", self.total);
        s += &row(
            "IRC server referenced by several bots",
            self.several_bots,
            "",
        );
        s += &row(
            "several IP addresses",
            self.several_addrs,
            &format!("  (up to {})", self.max_addrs),
        );
        s += &row("not resolvable", self.not_resolvable, "");
        match self.unreachable {
            Some(n) => s += &row("resolves to unreachable IP", n, ""),
            None => {
                s += &format!(
                    "  {:<44} (not probed: use --active)\n",
                    "resolves to unreachable IP"
                )
            }
        }
        s += &row(
            "forward and reverse lookup disagree",
            self.fwd_rev_disagree,
            "",
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(
        status: DnsStatus,
        addrs: &[(&str, PtrStatus, Option<bool>)],
        bots: u64,
    ) -> ProbeResult {
        ProbeResult {
            name: "n.example".into(),
            ts: Ts(0),
            resolver: "t".into(),
            status,
            addrs: addrs
                .iter()
                .map(|(a, p, open)| AddrCheck {
                    addr: a.parse().unwrap(),
                    ptr: vec![],
                    ptr_status: *p,
                    ports: open
                        .map(|o| {
                            vec![PortCheck {
                                port: 6667,
                                open: o,
                            }]
                        })
                        .unwrap_or_default(),
                })
                .collect(),
            bots,
            active: addrs.iter().any(|a| a.2.is_some()),
        }
    }

    #[test]
    fn table6_rows_follow_definitions() {
        let rs = vec![
            result(DnsStatus::Nxdomain, &[], 3),
            result(
                DnsStatus::Resolved,
                &[
                    ("10.0.0.1", PtrStatus::Agrees, Some(false)),
                    ("10.0.0.2", PtrStatus::Differs, Some(false)),
                ],
                1,
            ),
            result(
                DnsStatus::Resolved,
                &[("10.0.0.3", PtrStatus::Agrees, Some(true))],
                2,
            ),
        ];
        let t = Table6::from_results(&rs);
        assert_eq!(
            t,
            Table6 {
                total: 3,
                several_bots: 2,
                several_addrs: 1,
                max_addrs: 2,
                not_resolvable: 1,
                unreachable: Some(1),
                fwd_rev_disagree: 1
            }
        );
    }

    #[test]
    fn merge_prefers_address_then_nxdomain() {
        let rec = Q::Records(vec![RData::A(hickory_resolver::proto::rr::rdata::A::new(
            10, 0, 0, 1,
        ))]);
        assert_eq!(
            merge(&rec, &Q::Status(DnsStatus::Nodata)),
            DnsStatus::Resolved
        );
        assert_eq!(
            merge(
                &Q::Status(DnsStatus::Nxdomain),
                &Q::Status(DnsStatus::Nxdomain)
            ),
            DnsStatus::Nxdomain
        );
        assert_eq!(
            merge(&Q::Records(vec![]), &Q::Status(DnsStatus::Nodata)),
            DnsStatus::Nodata
        );
        assert_eq!(
            merge(
                &Q::Status(DnsStatus::Nodata),
                &Q::Status(DnsStatus::Timeout)
            ),
            DnsStatus::Timeout
        );
    }
}
