//! Drawing helpers shared by the scenario and the other writers: weighted
//! picks, public addresses, ports no tshark dissector owns, flows, words.

use botscope_core::{FlowKey, Proto};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::net::{IpAddr, Ipv4Addr};

/// The ISP /16s of the field: the sensors' addresses and the customers of
/// the channels beyond IRC are drawn in them.
pub(crate) const ISP_PREFIXES: [(u8, u8); 8] = [
    (61, 193),
    (210, 150),
    (219, 110),
    (220, 108),
    (59, 135),
    (124, 86),
    (202, 221),
    (218, 44),
];

/// Index drawn with probability proportional to its weight.
pub(crate) fn pick(rng: &mut ChaCha8Rng, w: &[f64]) -> usize {
    let total: f64 = w.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, v) in w.iter().enumerate() {
        if x < *v {
            return i;
        }
        x -= v;
    }
    w.len() - 1
}

/// A random unicast public IPv4 address (no private, loopback, link-local,
/// CGN, test-net or multicast first octets).
pub(crate) fn public_ip(rng: &mut ChaCha8Rng) -> Ipv4Addr {
    loop {
        let a: u8 = rng.random_range(12..=222);
        if [100, 127, 169, 172, 192, 198, 203].contains(&a) {
            continue;
        }
        return Ipv4Addr::new(a, rng.random(), rng.random(), rng.random_range(1..=254));
    }
}

/// A random port in `lo..hi` that no tshark dissector owns.
pub(crate) fn free_port(r: &mut ChaCha8Rng, lo: u16, hi: u16) -> u16 {
    loop {
        let p = r.random_range(lo..hi);
        if !crate::ports::is_registered(p) {
            return p;
        }
    }
}

/// An IPv4 5-tuple, originator first.
pub(crate) fn flow(a: Ipv4Addr, ap: u16, b: Ipv4Addr, bp: u16, proto: Proto) -> FlowKey {
    FlowKey {
        orig_h: IpAddr::V4(a),
        orig_p: ap,
        resp_h: IpAddr::V4(b),
        resp_p: bp,
        proto,
    }
}

/// `n` random lower-case letters.
pub(crate) fn word(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect()
}
