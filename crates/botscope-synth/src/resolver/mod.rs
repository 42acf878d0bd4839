//! Synthetic resolver logs (BIND query log, Unbound log-queries, Zeek
//! dns.log, dnstap) for a client population with a known infected
//! fraction.
