//! The first messages of the sessions `bench/sensor.sh` opens, shared by
//! the load generator (`examples/sensor_load.rs`) and the micro-benchmarks
//! (`benches/hot_loops.rs`), so both time the same bytes.

/// An SMB negotiate request in NetBIOS framing.
pub fn smb_negotiate() -> Vec<u8> {
    let mut smb = b"\xffSMB\x72".to_vec();
    smb.resize(32, 0);
    smb.push(0);
    let d = b"\x02NT LM 0.12\0";
    smb.extend_from_slice(&(d.len() as u16).to_le_bytes());
    smb.extend_from_slice(d);
    let mut f = vec![0, 0, 0, smb.len() as u8];
    f.extend_from_slice(&smb);
    f
}

/// A DCE-RPC bind with one NDR context.
pub fn dce_bind() -> Vec<u8> {
    let mut b = vec![5, 0, 11, 3, 0x10, 0, 0, 0, 72, 0, 0, 0, 1, 0, 0, 0];
    b.extend_from_slice(&[0xb8, 0x10, 0xb8, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
    b.extend_from_slice(&[0xa0; 16]);
    b.extend_from_slice(&[0, 0, 0, 0]);
    b.extend_from_slice(&[
        0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48,
        0x60, 2, 0, 0, 0,
    ]);
    b
}
