//! Bounded NRV2B / NRV2D / NRV2E decompressors (UCL's `*_le32` bit-stream
//! formats that UPX's win32/pe stubs use): 32-bit little-endian control
//! words read most significant bit first, interleaved with literal and
//! offset bytes.
//!
//! Hostile input is expected: every read is bounds-checked, the output never
//! grows past `max_out`, gamma codes are capped at 32 bits, and a match may
//! not reach before the start of the output.

/// NRV variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// NRV2B.
    Nrv2b,
    /// NRV2D.
    Nrv2d,
    /// NRV2E.
    Nrv2e,
}

impl Method {
    /// Maps a UPX method number (le32, 8-bit and le16 variants share the
    /// stream grammar apart from the bit buffer; only le32 is accepted).
    pub fn from_upx(m: u8) -> Option<Method> {
        match m {
            2 => Some(Method::Nrv2b),
            5 => Some(Method::Nrv2d),
            8 => Some(Method::Nrv2e),
            _ => None,
        }
    }
}

/// Why a stream could not be decompressed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NrvError {
    /// The input ended inside the stream.
    #[error("compressed stream truncated at input offset {0}")]
    Truncated(usize),
    /// A match pointed before the start of the output.
    #[error("match offset {offset} before output start at output offset {at}")]
    BadOffset {
        /// The match offset.
        offset: u64,
        /// Output length when it was met.
        at: usize,
    },
    /// A gamma code grew past 32 bits.
    #[error("overlong gamma code at input offset {0}")]
    Overlong(usize),
    /// The output would pass its bound.
    #[error("output exceeds the bound of {0} bytes")]
    TooLarge(usize),
}

struct Bits<'a> {
    src: &'a [u8],
    pos: usize,
    word: u32,
    left: u32,
}

impl<'a> Bits<'a> {
    fn bit(&mut self) -> Result<u32, NrvError> {
        if self.left == 0 {
            let w = self
                .src
                .get(self.pos..self.pos + 4)
                .ok_or(NrvError::Truncated(self.pos))?;
            self.word = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            self.pos += 4;
            self.left = 32;
        }
        self.left -= 1;
        Ok((self.word >> self.left) & 1)
    }

    fn byte(&mut self) -> Result<u8, NrvError> {
        let b = *self
            .src
            .get(self.pos)
            .ok_or(NrvError::Truncated(self.pos))?;
        self.pos += 1;
        Ok(b)
    }

    /// `v = 1; do v = 2v + bit while !bit` (UCL `ss11`), capped.
    fn gamma11(&mut self) -> Result<u64, NrvError> {
        let mut v: u64 = 1;
        loop {
            v = v * 2 + u64::from(self.bit()?);
            if v > 0xFFFF_FFFF {
                return Err(NrvError::Overlong(self.pos));
            }
            if self.bit()? == 1 {
                return Ok(v);
            }
        }
    }

    /// NRV2D/E offset prefix (UCL `ss12`), capped.
    fn gamma12(&mut self) -> Result<u64, NrvError> {
        let mut v: u64 = 1;
        loop {
            v = v * 2 + u64::from(self.bit()?);
            if v > 0xFFFF_FFFF {
                return Err(NrvError::Overlong(self.pos));
            }
            if self.bit()? == 1 {
                return Ok(v);
            }
            v = (v - 1) * 2 + u64::from(self.bit()?);
        }
    }
}

/// Decompresses `src` into at most `max_out` bytes. Returns the output and
/// the number of input bytes consumed.
pub fn decompress(
    src: &[u8],
    method: Method,
    max_out: usize,
) -> Result<(Vec<u8>, usize), NrvError> {
    let mut bits = Bits {
        src,
        pos: 0,
        word: 0,
        left: 0,
    };
    // The bound is also the allocation cap; start small and grow as needed.
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(1 << 20));
    let mut last_off: u64 = 1;
    let far = match method {
        Method::Nrv2b => 0xd00,
        _ => 0x500,
    };
    loop {
        while bits.bit()? == 1 {
            if out.len() >= max_out {
                return Err(NrvError::TooLarge(max_out));
            }
            out.push(bits.byte()?);
        }
        let off;
        let mut len: u64;
        match method {
            Method::Nrv2b => {
                let v = bits.gamma11()?;
                if v == 2 {
                    off = last_off;
                } else {
                    let b = bits.byte()?;
                    let raw = (v - 3) * 256 + u64::from(b);
                    if raw == 0xFFFF_FFFF {
                        break;
                    }
                    off = raw + 1;
                    last_off = off;
                }
                len = u64::from(bits.bit()?);
                len = len * 2 + u64::from(bits.bit()?);
                if len == 0 {
                    len = bits.gamma11()? + 2;
                }
            }
            Method::Nrv2d | Method::Nrv2e => {
                let v = bits.gamma12()?;
                let first;
                if v == 2 {
                    off = last_off;
                    first = u64::from(bits.bit()?);
                } else {
                    let b = bits.byte()?;
                    let raw = (v - 3) * 256 + u64::from(b);
                    if raw == 0xFFFF_FFFF {
                        break;
                    }
                    first = (raw ^ 1) & 1;
                    off = (raw >> 1) + 1;
                    last_off = off;
                }
                if method == Method::Nrv2d {
                    len = first * 2 + u64::from(bits.bit()?);
                    if len == 0 {
                        len = bits.gamma11()? + 2;
                    }
                } else if first == 1 {
                    len = 1 + u64::from(bits.bit()?);
                } else if bits.bit()? == 1 {
                    len = 3 + u64::from(bits.bit()?);
                } else {
                    len = bits.gamma11()? + 3;
                }
            }
        }
        len += u64::from(off > far) + 1;
        if off as usize > out.len() || off == 0 {
            return Err(NrvError::BadOffset {
                offset: off,
                at: out.len(),
            });
        }
        if out.len() as u64 + len > max_out as u64 {
            return Err(NrvError::TooLarge(max_out));
        }
        let start = out.len() - off as usize;
        for k in 0..len as usize {
            let b = out[start + k];
            out.push(b);
        }
    }
    Ok((out, bits.pos))
}

/// Adler-32 as UPX records it (one definition, in `botscope-core`).
pub use botscope_core::checksum::adler32;
