//! Deterministic record and replay (design §3): the log format, the recording and replaying
//! `World`s, and state digests for checkpoints.

pub mod digest;
pub mod event;
pub mod log;
pub mod recorder;
pub mod replayer;
pub mod session;
