//! C&C name classification, DNS state probing and countermeasure export (RPZ, nftables, MISP, STIX).
