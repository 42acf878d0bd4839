//! Table 4's de-obfuscation summary against the synthetic collection's
//! ground truth (`botscope_synth::specimen::collection`): how many
//! specimens each decoder matched, and how many indicators only decoding
//! revealed.

use botscope_specimen::store::AddOptions;
use botscope_specimen::{analyze, tables, Source, Store};
use botscope_synth::specimen::collection::synthetic_item;
use botscope_synth::specimen::{
    build_specimen_with, expected_config, expected_encoding, ConfigEncoding, Packer,
};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn table4_deobfuscation_counts_equal_the_collections_truth() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("st")).unwrap();
    let opts = AddOptions::default();
    let day = 1_114_041_600; // 2005-04-21
    let mut shas = BTreeSet::new();
    // Truth from the generator: specimens XOR-family encoded, UTF-16
    // written, UPX packed; the hosts hidden by an XOR-family encoding.
    let (mut xor, mut utf16, mut upx) = (0u64, 0u64, 0u64);
    let mut xor_hosts = 0u64;
    // Counts from each specimen's own record (analysed apart from the store).
    let mut per_decoder: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let (mut matched, mut revealed) = (0u64, 0u64);
    for i in 0..48u32 {
        let (spec, layout) = synthetic_item(i);
        let bytes = build_specimen_with(&spec, layout);
        let (sha, new) = store.add(&bytes, day, Source::Sensor, &opts).unwrap();
        if !new || !shas.insert(sha) {
            continue;
        }
        let enc = expected_encoding(&spec, layout);
        match enc {
            ConfigEncoding::Plain => {}
            ConfigEncoding::Utf16 => utf16 += 1,
            _ => {
                xor += 1;
                let host = &expected_config(&spec, layout).servers[0].host;
                if host.parse::<std::net::Ipv4Addr>().is_err() {
                    xor_hosts += 1;
                }
            }
        }
        if spec.packer != Packer::None {
            upx += 1;
        }
        let rec = analyze(&bytes).deobf;
        matched += u64::from(rec.matched());
        revealed += rec.revealed_iocs().len() as u64;
        for d in rec.matched_decoders() {
            let iocs: BTreeSet<&String> = rec
                .findings
                .iter()
                .filter(|f| f.decoder == d)
                .flat_map(|f| &f.iocs)
                .collect();
            let e = per_decoder.entry(d.to_string()).or_default();
            e.0 += 1;
            e.1 += iocs.len() as u64;
        }
    }
    let n = shas.len() as u64;
    assert!(xor > 10 && upx > 5 && utf16 > 0, "{xor} {upx} {utf16}");

    let t = tables::table4(&store, 1000).unwrap();
    let d = &t.deobfuscation;
    assert_eq!(d.specimens, n);
    assert_eq!(t.examined, n);
    assert_eq!(d.matched, matched);
    assert_eq!(d.revealed_iocs, revealed);
    let got: BTreeMap<String, (u64, u64)> = d
        .decoders
        .iter()
        .map(|m| (m.decoder.clone(), (m.specimens, m.revealed_iocs)))
        .collect();
    assert_eq!(got, per_decoder);
    // Against the generator's truth.
    assert_eq!(got["xor_strings"].0, xor);
    assert_eq!(got["upx"].0, upx);
    assert_eq!(got["utf16le"].0, utf16);
    // Every XOR-hidden host name is revealed only by decoding.
    assert!(got["xor_strings"].1 >= xor_hosts, "{got:?} {xor_hosts}");
    // Specimens a decoder matched in: at least the encoded or packed ones.
    assert!(d.matched >= xor.max(upx), "{d:?}");

    // The JSON `specimen --json table4` prints carries it.
    let v = serde_json::to_value(&t).unwrap();
    assert_eq!(
        v.pointer("/deobfuscation/specimens")
            .and_then(|x| x.as_u64()),
        Some(n)
    );
    // Table 4 over fewer specimens sums fewer records.
    let t2 = tables::table4(&store, 5).unwrap();
    assert_eq!(t2.deobfuscation.specimens, 5);
}
