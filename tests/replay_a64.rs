//! Record and replay of AArch64 guests, end to end through the `deja` binary (design §3, §8:
//! the oracle is the recorded run itself).
//!
//! - `rr_inputs_*`: tests/replay_guests_a64/rr_inputs.c, built with `aarch64-linux-gnu-gcc
//!   -static -O2`, prints clocks (clock_gettime, gettimeofday), the virtual counter (`mrs
//!   cntvct_el0`), getrandom and AT_RANDOM bytes, a checksum of stdin, and (mode `alarm`)
//!   where a SIGALRM from setitimer interrupted its busy loop. Recorded once, replayed three
//!   times: stdout, exit status, final icount and digest must equal the recording's; a second
//!   recording must differ (the test cannot pass trivially).
//! - `rr_raw_*`: the same without libc (tests/replay_guests_a64/rr_raw.c, raw syscalls and
//!   integer code only, built `-nostdlib -mgeneral-regs-only`), so it runs as soon as the
//!   integer, branch, load/store and system classes do.
//! - `killed_at_start`: an AArch64 program that deja stops at once (today: at its first
//!   unimplemented instruction) still records and replays exactly (the AArch64 log header,
//!   AT_RANDOM, the exception and end events).
//!
//! - `busybox_*`: recordings of Debian's arm64 busybox (`common::arm64_busybox`) reading the
//!   clock and stdin replay exactly.
//!
//! Without the cross compiler (or busybox) the tests print a note and pass, unless
//! `DEJA_REQUIRE_TOOLS` is set.

mod common;

use common::{Invocation, Memo, RunOutput, TempDir};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const CC: &str = "aarch64-linux-gnu-gcc";

static BUILDS: Memo<Result<PathBuf, String>> = Memo::new(BTreeMap::new());

/// Build `prog` (tests/replay_guests_a64/, or tests/guests/) once per test run; programs
/// named `*_raw` are freestanding (no libc). `None`: the cross compiler is missing and the
/// test should return (skipped).
fn guest(prog: &str) -> Option<PathBuf> {
    if !common::have_tool(CC) {
        common::skip_or_fail(&format!("{CC} not found: {prog} not tested"));
        return None;
    }
    let cell = common::memo_cell(&BUILDS, prog);
    match cell.get_or_init(|| compile(prog)) {
        Ok(p) => Some(p.clone()),
        Err(e) => panic!("building {prog}: {e}"),
    }
}

/// Flags for a freestanding program (as guests_a64.rs).
const FREESTANDING: &[&str] =
    &["-nostdlib", "-ffreestanding", "-fno-builtin", "-mgeneral-regs-only", "-fno-stack-protector", "-O1"];

fn compile(prog: &str) -> Result<PathBuf, String> {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut src = tests.join("replay_guests_a64").join(format!("{prog}.c"));
    if !src.exists() {
        src = tests.join("guests").join(format!("{prog}.c"));
    }
    let dir = common::scratch_root().join("replay_guests_a64");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(prog);
    let tmp = dir.join(format!(".{prog}.{}", std::process::id()));
    let flags: &[&str] = if prog.ends_with("_raw") { FREESTANDING } else { &["-O2"] };
    let res = Command::new(CC)
        .arg("-static")
        .args(flags)
        .args(["-w", "-o"])
        .arg(&tmp)
        .arg(&src)
        .output()
        .map_err(|e| format!("cannot run {CC}: {e}"))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{CC} failed on {}:\n{}", src.display(), String::from_utf8_lossy(&res.stderr)));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("rename to {}: {e}", out.display()))?;
    Ok(out)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run `deja ARGS…` with `stdin`.
fn deja(args: &[OsString], stdin: &[u8]) -> RunOutput {
    let mut inv = Invocation::new(common::deja_bin());
    inv.args = args.to_vec();
    inv.stdin = stdin.to_vec();
    inv.timeout = common::deja_timeout();
    let o = common::run_native(&inv);
    let err = text(&o.stderr);
    assert!(!o.timed_out, "deja {args:?} timed out\nstderr:\n{err}");
    assert!(o.host_signal.is_none(), "deja {args:?} was killed by host signal {:?}\nstderr:\n{err}", o.host_signal);
    assert!(!err.contains("panicked"), "deja {args:?} panicked\nstderr:\n{err}");
    o
}

fn record(log: &Path, bin: &Path, args: &[&str], stdin: &[u8]) -> RunOutput {
    let mut a: Vec<OsString> =
        vec!["record".into(), "--checkpoint-every".into(), "100000".into(), "-o".into(), log.into(), "--".into()];
    a.push(bin.into());
    a.extend(args.iter().map(OsString::from));
    deja(&a, stdin)
}

/// The guest's own stderr: without deja's lines and the replay verdict.
fn guest_stderr(o: &RunOutput) -> String {
    text(&common::strip_deja_lines(&o.stderr)).lines().filter(|l| !l.starts_with("replay ok: ")).collect()
}

/// Replay `log` (with unrelated stdin, to show it is not read) and check it reproduces the
/// recording `rec`; returns the verdict line after "replay ok: " (icount, how, digest).
fn assert_replays(what: &str, log: &Path, rec: &RunOutput) -> String {
    let rep = deja(&["replay".into(), log.into()], b"not the recorded stdin\n");
    let err = text(&rep.stderr);
    let verdict = err
        .lines()
        .find_map(|l| l.strip_prefix("replay ok: "))
        .unwrap_or_else(|| panic!("{what}: no `replay ok` line (status {})\nstderr:\n{err}", rep.status))
        .to_string();
    assert_eq!(text(&rec.stdout), text(&rep.stdout), "{what}: stdout differs from the recording's");
    assert_eq!(guest_stderr(rec), guest_stderr(&rep), "{what}: the guest's stderr differs");
    assert_eq!(rec.status, rep.status, "{what}: exit status differs (recorded vs replayed)");
    // `deja info` names the ISA and the same end.
    let info = deja(&["info".into(), log.into()], b"");
    let out = text(&info.stdout);
    assert!(out.lines().any(|l| l.starts_with("isa:") && l.ends_with("aarch64")), "{what}: deja info:\n{out}");
    let digest = verdict.rsplit("digest ").next().unwrap_or_default();
    assert!(out.contains(&format!("digest {digest}")), "{what}: end digest {digest} not in deja info:\n{out}");
    verdict
}

fn stdin_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// What a guest prints that the test checks: (stdin line for 100000 bytes, getrandom
/// result line, SIGALRM line).
struct Expect {
    stdin: &'static str,
    getrandom: &'static str,
    alarm: &'static str,
}

const RR_INPUTS: Expect =
    Expect { stdin: "stdin: 100000 bytes", getrandom: "getrandom returned 16", alarm: "SIGALRM caught 1 time(s)" };
const RR_RAW: Expect = Expect {
    stdin: "stdin bytes 00000000000186a0",
    getrandom: "getrandom returned 0000000000000010",
    alarm: "SIGALRM caught 0000000000000001",
};

fn rr_inputs(prog: &str, e: &Expect, mode: &str) {
    let Some(bin) = guest(prog) else { return };
    let what = format!("{prog} {mode}");
    let dir = TempDir::new("rr-a64");
    let log = dir.path().join("a.deja");
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let stdin = stdin_bytes(seed, 100_000);
    let rec = record(&log, &bin, &[mode], &stdin);
    let out = text(&rec.stdout);
    assert_eq!(rec.status.0, 0, "{what}: recording failed\nstdout:\n{out}\nstderr:\n{}", text(&rec.stderr));
    assert!(out.contains(e.stdin), "{what}: stdin not read whole:\n{out}");
    assert!(out.contains(e.getrandom), "{what}: getrandom failed:\n{out}");
    if mode == "alarm" {
        assert!(out.contains(e.alarm), "{what}: no SIGALRM:\n{out}");
    }
    let first = assert_replays(&format!("{what}: replay 1"), &log, &rec);
    for i in 2..=3 {
        assert_eq!(first, assert_replays(&format!("{what}: replay {i}"), &log, &rec), "{what}: replays disagree");
    }
    // A second recording sees other times, counters and random bytes.
    let rec2 = record(&dir.path().join("b.deja"), &bin, &[mode], &stdin);
    let out2 = text(&rec2.stdout);
    for key in ["realtime:", "monotonic:", "cntvct:", "getrandom:", "at_random:"] {
        let line = |s: &str| s.lines().find(|l| l.starts_with(key)).map(str::to_string);
        assert!(line(&out).is_some(), "{what}: no {key} line");
        assert_ne!(line(&out), line(&out2), "{what}: two recordings agree on {key}");
    }
}

#[test]
fn rr_inputs_clocks_counter_random_stdin() {
    rr_inputs("rr_inputs", &RR_INPUTS, "none");
}

#[test]
#[ignore = "needs setitimer (the timers land with h-rtests)"]
fn rr_inputs_sigalrm_mid_loop() {
    rr_inputs("rr_inputs", &RR_INPUTS, "alarm");
}

#[test]
fn rr_raw_clocks_counter_random_stdin() {
    rr_inputs("rr_raw", &RR_RAW, "none");
}

#[test]
#[ignore = "needs setitimer (the timers land with h-rtests)"]
fn rr_raw_sigalrm_mid_loop() {
    rr_inputs("rr_raw", &RR_RAW, "alarm");
}

/// An AArch64 recording that ends at once (at the first instruction deja cannot run yet, or
/// at the program's exit once it can) replays exactly, three times.
#[test]
fn killed_at_start() {
    let Some(bin) = guest("exit_codes") else { return };
    let dir = TempDir::new("rr-a64-start");
    let log = dir.path().join("s.deja");
    let rec = record(&log, &bin, &["exit42"], b"");
    let err = text(&rec.stderr);
    assert!(
        rec.status.0 == 42 || err.contains("unimplemented instruction"),
        "recording: status {} stderr:\n{err}",
        rec.status
    );
    let first = assert_replays("killed_at_start: replay 1", &log, &rec);
    for i in 2..=3 {
        assert_eq!(first, assert_replays(&format!("killed_at_start: replay {i}"), &log, &rec), "replays disagree");
    }
}

/// Debian's arm64 busybox reading the clock, files and stdin: the recording replays exactly.
#[test]
fn busybox_date_and_checksums() {
    let Some(bb) = common::arm64_busybox() else {
        common::skip_or_fail("arm64 busybox not found (scripts/fetch-busybox-arm64.sh)");
        return;
    };
    let dir = TempDir::new("rr-a64-bb");
    let stdin = stdin_bytes(7, 50_000);
    for (i, args) in [vec!["date", "+%s.%N %A %Y-%m-%d"], vec!["sha256sum"], vec!["ls", "-l", "/"]].iter().enumerate() {
        let log = dir.path().join(format!("bb{i}.deja"));
        let rec = record(&log, &bb, args, &stdin);
        assert_eq!(rec.status.0, 0, "busybox {args:?}: recording failed\n{}", text(&rec.stderr));
        assert!(!rec.stdout.is_empty(), "busybox {args:?}: no output");
        let first = assert_replays(&format!("busybox {args:?}: replay 1"), &log, &rec);
        for k in 2..=3 {
            assert_eq!(first, assert_replays(&format!("busybox {args:?}: replay {k}"), &log, &rec));
        }
    }
}
