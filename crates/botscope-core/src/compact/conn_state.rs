//! Zeek's connection states as an enum (no string per flow).

use super::{text_traits, CompactStr};

/// Zeek's `conn_state` (see Zeek's `conn.log` documentation), with an
/// escape for any other text read from a log.
#[allow(clippy::upper_case_acronyms)] // the names are the text Zeek writes
#[derive(Clone)]
pub enum ConnState {
    /// Connection attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Connection attempt rejected.
    REJ,
    /// Established, close attempt by originator seen (no reply).
    S2,
    /// Established, close attempt by responder seen (no reply).
    S3,
    /// Established, originator aborted (RST).
    RSTO,
    /// Responder sent a RST.
    RSTR,
    /// Originator sent a SYN then a RST; no SYN-ACK seen.
    RSTOS0,
    /// Responder sent a SYN-ACK then a RST; no SYN seen from the originator.
    RSTRH,
    /// Originator sent a SYN then a FIN; no SYN-ACK seen ("half open").
    SH,
    /// Responder sent a SYN-ACK then a FIN; no SYN seen from the originator.
    SHR,
    /// No SYN seen, just midstream traffic.
    OTH,
    /// Any other text (read from a log; the empty text for no state).
    Other(CompactStr),
}

/// The named states and their text.
const NAMED: [(ConnState, &str); 13] = [
    (ConnState::S0, "S0"),
    (ConnState::S1, "S1"),
    (ConnState::SF, "SF"),
    (ConnState::REJ, "REJ"),
    (ConnState::S2, "S2"),
    (ConnState::S3, "S3"),
    (ConnState::RSTO, "RSTO"),
    (ConnState::RSTR, "RSTR"),
    (ConnState::RSTOS0, "RSTOS0"),
    (ConnState::RSTRH, "RSTRH"),
    (ConnState::SH, "SH"),
    (ConnState::SHR, "SHR"),
    (ConnState::OTH, "OTH"),
];

impl ConnState {
    /// The state's text as Zeek writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
            ConnState::Other(s) => s.as_str(),
        }
    }
}

impl Default for ConnState {
    /// The empty text (no state known).
    fn default() -> Self {
        ConnState::Other(CompactStr::new())
    }
}

impl From<&str> for ConnState {
    /// A named state when the text is one, else [`ConnState::Other`].
    fn from(s: &str) -> Self {
        NAMED
            .iter()
            .find(|(_, t)| *t == s)
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| ConnState::Other(CompactStr::from(s)))
    }
}

impl From<String> for ConnState {
    fn from(s: String) -> Self {
        ConnState::from(s.as_str())
    }
}

text_traits!(ConnState);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_and_write_as_zeek_text() {
        for (c, t) in NAMED.iter() {
            assert_eq!(c.as_str(), *t);
            let back = ConnState::from(*t);
            assert!(!matches!(back, ConnState::Other(_)), "{t}");
            assert_eq!(back, *t);
            assert_eq!(serde_json::to_string(c).unwrap(), format!("\"{t}\""));
        }
        let odd = ConnState::from("S0X");
        assert!(matches!(odd, ConnState::Other(_)));
        assert_eq!(odd, "S0X");
        let back: ConnState = serde_json::from_str("\"weird,\\tstate\"").unwrap();
        assert_eq!(back, "weird,\tstate");
        assert_eq!(ConnState::default(), "");
        assert_eq!(format!("{:?}", ConnState::SF), "\"SF\"");
    }
}
