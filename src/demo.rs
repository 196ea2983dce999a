//! The embedded demo guest. (to be written)

use std::process::ExitCode;

pub fn run_demo(_stats: bool) -> ExitCode {
    eprintln!("deja: demo not built yet");
    ExitCode::from(1)
}
