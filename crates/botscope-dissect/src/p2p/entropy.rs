//! Byte histograms and their Shannon entropy, over a bounded sample.

/// Bytes sampled per direction.
pub const SAMPLE: usize = 4096;

/// A histogram of the first [`SAMPLE`] bytes of one direction.
#[derive(Clone, Debug)]
pub struct ByteTally {
    counts: [u16; 256],
    n: u16,
}

impl Default for ByteTally {
    fn default() -> Self {
        ByteTally {
            counts: [0; 256],
            n: 0,
        }
    }
}

impl ByteTally {
    /// Counts bytes of `data` until the sample is full.
    pub fn add(&mut self, data: &[u8]) {
        let room = SAMPLE - usize::from(self.n);
        for &b in &data[..room.min(data.len())] {
            self.counts[usize::from(b)] += 1;
        }
        self.n += room.min(data.len()) as u16;
    }

    /// Whether the sample is full.
    pub fn full(&self) -> bool {
        usize::from(self.n) >= SAMPLE
    }

    /// Bytes counted.
    pub fn len(&self) -> usize {
        usize::from(self.n)
    }

    /// Whether no byte was counted.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Shannon entropy of the sample, bits per byte (0 when empty).
    pub fn entropy(&self) -> f64 {
        let n = f64::from(self.n);
        if self.n == 0 {
            return 0.0;
        }
        self.counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = f64::from(c) / n;
                -p * p.log2()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_low_and_uniform_bytes_are_high() {
        let mut t = ByteTally::default();
        t.add(b"GNUTELLA CONNECT/0.6\r\nUser-Agent: x\r\n\r\n");
        assert!(t.entropy() < 5.0, "{}", t.entropy());
        let mut u = ByteTally::default();
        let all: Vec<u8> = (0..SAMPLE + 100).map(|i| (i % 256) as u8).collect();
        u.add(&all);
        assert!(u.full());
        assert_eq!(u.len(), SAMPLE);
        assert!((u.entropy() - 8.0).abs() < 1e-9);
        assert_eq!(ByteTally::default().entropy(), 0.0);
    }
}
