//! Prints what the XOR-family key search finds in each file given, so a
//! change to the search can be checked against the output before it
//! (`diff`): each file as one mapped segment, then cut into 16 KiB
//! mapped segments (the stored-key index sees those).
//!
//! ```sh
//! cargo run --release -p botscope-deobf --example xorstr_dump -- FILE... > found.txt
//! ```

use botscope_deobf::xorstr::{find_in_segments, plausible_host};

fn main() -> std::io::Result<()> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let whole = find_in_segments(&[(&bytes[..], true)], &plausible_host);
        let pieces: Vec<(&[u8], bool)> = bytes.chunks(16 << 10).map(|c| (c, true)).collect();
        let cut = find_in_segments(&pieces, &plausible_host);
        let show = |f: &[(botscope_deobf::xorstr::Transform, usize, usize)]| {
            f.iter()
                .map(|(t, s, o)| format!("{}@{s}:{o}", t.label()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!("{path}\twhole [{}]\tcut [{}]", show(&whole), show(&cut));
    }
    Ok(())
}
