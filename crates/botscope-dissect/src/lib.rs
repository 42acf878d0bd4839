//! Protocol dissectors found by content: IRC, DNS, TFTP, HTTP, SMB/DCE-RPC, proxies; pure parsers plus per-flow state.
