//! The de-obfuscation stage (`botscope_deobf`) on exploit payloads: the
//! record a session or datagram event carries, with what each decoding
//! revealed as the sensor reads it (download commands, shells offered).

use crate::instructions::{find_text_instructions_with_work, DownloadInstruction};
use crate::shellcode::{find_shellcode, ShellAction};
use botscope_deobf::shellcode::MAX_SCAN;
use botscope_deobf::{Input, Limits, Record, Registry};
// The host check specimens use: a decoded C&C name under a known public
// suffix, lowercase, three labels or more.
use botscope_specimen::config::decoded_host_ok;

/// The stage's budget per payload: each decoder reads at most the
/// shellcode search's [`MAX_SCAN`] bytes.
pub fn payload_limits() -> Limits {
    Limits {
        max_bytes: MAX_SCAN,
        ..Limits::default()
    }
}

/// A download instruction as one indicator string.
pub fn instruction_label(i: &DownloadInstruction) -> String {
    match i {
        DownloadInstruction::Tftp { host, file } => format!("tftp://{host}/{file}"),
        DownloadInstruction::Ftp {
            host, port, file, ..
        } => format!("ftp://{host}:{port}/{file}"),
        DownloadInstruction::Http { host, port, path } => format!("http://{host}:{port}{path}"),
        DownloadInstruction::FtpUrl {
            host, port, path, ..
        } => format!("ftp://{host}:{port}{path}"),
        DownloadInstruction::Push { port } => format!("push:{port}"),
        DownloadInstruction::BindPort { port } => format!("bindport:{port}"),
    }
}

/// A shell action as one indicator string.
fn action_label(a: &ShellAction) -> String {
    match a {
        ShellAction::BindShell { port } => format!("bind_shell:{port}"),
        ShellAction::ConnectBack { addr, port } => format!("connect_back:{addr}:{port}"),
        ShellAction::Download(i) => instruction_label(i),
    }
}

/// Runs the stage over `payload`; each finding's `iocs` are the download
/// commands its revealed text carries that the plain payload does not,
/// and, for decoded shellcode, the shells and downloads its body asks for.
pub fn payload_record(payload: &[u8]) -> Record {
    let inputs = [Input::new("payload", payload, false)];
    let mut rec = Registry::shared()
        .run(&inputs, payload_limits(), &decoded_host_ok)
        .record;
    if rec.findings.is_empty() {
        return rec;
    }
    let plain = find_text_instructions_with_work(payload).0;
    let shells = if rec
        .findings
        .iter()
        .any(|f| f.decoder.starts_with("shellcode"))
    {
        find_shellcode(payload)
    } else {
        Vec::new()
    };
    for f in &mut rec.findings {
        let mut add = |s: String| {
            if !f.iocs.contains(&s) {
                f.iocs.push(s);
            }
        };
        if let Some(sc) = shells
            .iter()
            .find(|s| s.offset == f.offset && s.decoder.name() == f.method)
        {
            for a in &sc.actions {
                add(action_label(a));
            }
        }
        let text = f.revealed.join("\n");
        for i in find_text_instructions_with_work(text.as_bytes()).0 {
            if !plain.contains(&i) {
                add(instruction_label(&i));
            }
        }
    }
    rec
}
