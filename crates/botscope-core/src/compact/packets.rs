//! Packet numbers of a flow record's evidence, inline (no heap
//! allocation per flow).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Packet numbers held inline before spilling to the heap: a flow
/// record names its first and last packet.
const INLINE_PACKETS: usize = 2;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, v: [u64; INLINE_PACKETS] },
    Heap(Vec<u64>),
}

/// A short list of packet numbers: up to two inline (a flow's first and
/// last packet), more (read from a JSON record) on the heap. Reads as a
/// `[u64]`; serialised as a plain sequence, like `Vec<u64>`.
#[derive(Clone)]
pub struct PacketNumbers(Repr);

impl PacketNumbers {
    /// No packets.
    pub const fn new() -> Self {
        PacketNumbers(Repr::Inline {
            len: 0,
            v: [0; INLINE_PACKETS],
        })
    }

    /// The first packet, and `last` when it differs (a flow's evidence).
    pub fn first_last(first: u64, last: u64) -> Self {
        PacketNumbers(Repr::Inline {
            len: if last != first { 2 } else { 1 },
            v: [first, last],
        })
    }

    /// The numbers.
    pub fn as_slice(&self) -> &[u64] {
        match &self.0 {
            Repr::Inline { len, v } => &v[..*len as usize],
            Repr::Heap(v) => v,
        }
    }

    /// Appends a number (spills to the heap past two).
    pub fn push(&mut self, n: u64) {
        match &mut self.0 {
            Repr::Inline { len, v } if (*len as usize) < INLINE_PACKETS => {
                v[*len as usize] = n;
                *len += 1;
            }
            Repr::Inline { len, v } => {
                let mut h = v[..*len as usize].to_vec();
                h.push(n);
                self.0 = Repr::Heap(h);
            }
            Repr::Heap(v) => v.push(n),
        }
    }

    /// Whether the numbers are held inline.
    pub fn is_inline(&self) -> bool {
        matches!(self.0, Repr::Inline { .. })
    }
}

impl Default for PacketNumbers {
    fn default() -> Self {
        Self::new()
    }
}

impl std::ops::Deref for PacketNumbers {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        self.as_slice()
    }
}

impl From<&[u64]> for PacketNumbers {
    fn from(s: &[u64]) -> Self {
        if s.len() <= INLINE_PACKETS {
            let mut v = [0; INLINE_PACKETS];
            v[..s.len()].copy_from_slice(s);
            PacketNumbers(Repr::Inline {
                len: s.len() as u8,
                v,
            })
        } else {
            PacketNumbers(Repr::Heap(s.to_vec()))
        }
    }
}

impl From<Vec<u64>> for PacketNumbers {
    fn from(v: Vec<u64>) -> Self {
        if v.len() <= INLINE_PACKETS {
            PacketNumbers::from(v.as_slice())
        } else {
            PacketNumbers(Repr::Heap(v))
        }
    }
}

impl From<PacketNumbers> for Vec<u64> {
    fn from(p: PacketNumbers) -> Vec<u64> {
        match p.0 {
            Repr::Heap(v) => v,
            Repr::Inline { .. } => p.as_slice().to_vec(),
        }
    }
}

impl std::fmt::Debug for PacketNumbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl PartialEq for PacketNumbers {
    fn eq(&self, o: &Self) -> bool {
        self.as_slice() == o.as_slice()
    }
}
impl Eq for PacketNumbers {}

impl PartialEq<Vec<u64>> for PacketNumbers {
    fn eq(&self, o: &Vec<u64>) -> bool {
        self.as_slice() == o.as_slice()
    }
}

impl PartialEq<[u64]> for PacketNumbers {
    fn eq(&self, o: &[u64]) -> bool {
        self.as_slice() == o
    }
}

impl<const N: usize> PartialEq<[u64; N]> for PacketNumbers {
    fn eq(&self, o: &[u64; N]) -> bool {
        self.as_slice() == o.as_slice()
    }
}

impl Serialize for PacketNumbers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for PacketNumbers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<u64>::deserialize(d).map(PacketNumbers::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_numbers_read_and_serialise_as_a_vec() {
        assert_eq!(PacketNumbers::first_last(3, 3), vec![3]);
        assert_eq!(PacketNumbers::first_last(3, 9), vec![3, 9]);
        for v in [vec![], vec![7], vec![1, 2], vec![1, 2, 3, 4, 5]] {
            let p = PacketNumbers::from(v.clone());
            assert_eq!(p.is_inline(), v.len() <= 2);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, serde_json::to_string(&v).unwrap());
            let back: PacketNumbers = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v);
            assert_eq!(format!("{p:?}"), format!("{v:?}"));
        }
        let mut p = PacketNumbers::new();
        for n in 1..=4 {
            p.push(n);
        }
        assert_eq!(p, [1, 2, 3, 4]);
        assert!(!p.is_inline());
        assert_eq!(Vec::from(p), vec![1, 2, 3, 4]);
    }
}
