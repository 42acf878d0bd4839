//! UPX's reversible transforms: the NRV2B/D/E decompressors ([`nrv`])
//! and the x86 branch filters ([`unfilter`]). The PE walk that finds the
//! pack header and sections is `botscope_specimen::pe`; it records its
//! unpack in the de-obfuscation record ([`crate::Finding`] `upx`).

pub mod nrv;
pub mod unfilter;
