//! The interpreter's specialised handlers (pre-decoded operand forms, skipped dead flag
//! writes) against its reference table handlers, on real guest programs: each program is
//! recorded (`deja record`) with the default interpreter and a state digest every 9,973
//! instructions (a prime, so the budget boundaries fall everywhere inside blocks), then
//! replayed with `DEJA_INTERP_GENERIC=1` (reference handlers only). The replay checks every
//! syscall and checkpoint digest against the recording, so any difference in registers,
//! flags, memory or icount at any of those boundaries fails it.
//!
//! Programs: some of tests/guests/*.c, built with `gcc -static -O2` and `musl-gcc -static -O2`
//! (skipped with a note when a compiler is missing, unless `DEJA_REQUIRE_TOOLS` is set).

mod common;

use common::TempDir;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROGRAMS: &[&str] = &["int_math", "hash", "sort_search", "strings", "bits", "struct_switch"];

fn build(dir: &Path, prog: &str, cc: &str) -> Option<PathBuf> {
    if !common::have_tool(cc) {
        common::skip_or_fail(&format!("{cc} is not installed"));
        return None;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests").join(format!("{prog}.c"));
    let out = dir.join(format!("{prog}-{cc}"));
    let st = Command::new(cc)
        .args(["-static", "-O2", "-w", "-o"])
        .arg(&out)
        .arg(&src)
        .arg("-lm")
        .status()
        .expect("run the compiler");
    assert!(st.success(), "{cc} failed on {}", src.display());
    Some(out)
}

fn record_then_replay_with_reference_handlers(cc: &str) {
    let dir = TempDir::new("interp-modes");
    for prog in PROGRAMS {
        let Some(bin) = build(dir.path(), prog, cc) else { return };
        let log = dir.path().join(format!("{prog}.deja"));
        let rec = Command::new(common::deja_bin())
            .args(["record", "--checkpoint-every", "9973", "-o"])
            .arg(&log)
            .arg(&bin)
            .current_dir(dir.path())
            .env_remove("DEJA_INTERP_GENERIC")
            .output()
            .expect("run deja record");
        assert!(rec.status.success(), "deja record {prog} ({cc}): {}", String::from_utf8_lossy(&rec.stderr));
        let rep = Command::new(common::deja_bin())
            .arg("replay")
            .arg(&log)
            .current_dir(dir.path())
            .env("DEJA_INTERP_GENERIC", "1")
            .output()
            .expect("run deja replay");
        assert!(
            rep.status.success(),
            "{prog} ({cc}) recorded with specialised handlers does not replay with the reference ones:\n{}",
            String::from_utf8_lossy(&rep.stderr)
        );
    }
}

#[test]
fn glibc_guests_replay_with_reference_handlers() {
    record_then_replay_with_reference_handlers("gcc");
}

#[test]
fn musl_guests_replay_with_reference_handlers() {
    record_then_replay_with_reference_handlers("musl-gcc");
}
