//! Integration tests against real servers: BIND `named` (authoritative and
//! RPZ resolver), `unbound` (RPZ), `named-checkzone`, `dig`, `nft`, and the
//! `stix2` Python library. Missing binaries fail the test: CI installs them
//! (scripts/setup.sh).

mod servers;

mod classify_truth;
mod export_checks;
mod private_targets;
mod probe_named;
mod realworld_dyndns;
mod rpz_servers;
