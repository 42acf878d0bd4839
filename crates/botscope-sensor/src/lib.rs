//! Low-interaction honeypot sensor: listeners, SMB/DCE-RPC emulation, contained downloads, background-traffic accounting.
