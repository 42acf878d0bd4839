//! Integration tests (one binary): peer captures from the corpus (`tests/corpus`)
//! checked against tshark and the corpus' documented contents, and
//! synthetic fields from `botscope-synth` checked table by table against
//! their `truth.json`.

mod channels;
mod corpus;
mod field;
mod tz_dst;
