//! Bot behaviour analytics over events: exploit vectors, copy method, infection sequence, IRC C&C, orders, floods, spam relays, updates, scans.
