//! Remote command shells (`cmd.exe` bind or connect-back shells opened by exploits): typed lines and the downloads they instruct.
pub mod parser;
pub mod state;
