//! Record and replay, end to end, through the `deja` binary (design §3, §8: the oracle is the
//! recorded run itself, never canned output of ours).
//!
//! Guest programs are `tests/replay_guests/*.c`, built at test time with `gcc -static -O2`
//! (and `musl-gcc -static -O2` where noted) into `target/tmp/replay_guests/<libc>/`.
//!
//! - `time_random_*`: a guest that prints clocks, rdtsc, getrandom and AT_RANDOM bytes,
//!   checksums of stdin and of a file, and where a SIGALRM from a timer interrupted its busy
//!   loop. Recorded once, replayed three times (and again after its inputs changed or
//!   vanished): the output, exit status and final digest must equal the recording's.
//! - `async_sigusr1_*`: SIGUSR1 sent to deja at random moments while the guest spins.
//! - `ends_*`: recordings of a guest that segfaults, and of guests killed by SIGINT/SIGTERM.
//! - `bad_log_*`: truncated, corrupt, wrong-version, wrong-ISA logs, a changed executable,
//!   and paths that are not logs: one clear `deja: ` line, never a panic.
//! - `fuzz_*`: seeded random mutations of a real log (`DEJA_FUZZ_SEED`, `DEJA_FUZZ_SECS`).
//! - `busybox_*`: record/replay of real programs (Debian's busybox-static).
//! - `virtual_clock_*`: `deja run --clock=virtual` is deterministic without a log, timers
//!   included.
//! - `a64_*`: AArch64 guests (tests/replay_guests_a64/*.c, built with `aarch64-linux-gnu-gcc`):
//!   clocks, CNTVCT_EL0, getrandom, AT_RANDOM, stdin, SIGALRM in a busy loop, exits and
//!   crashes, and Debian's arm64 busybox.
//!
//! Without gcc (or busybox) the tests print a note and pass, unless `DEJA_REQUIRE_TOOLS` is set.

mod common;

use common::{Invocation, Memo, RunOutput, TempDir};
use deja::replay::event::{Cursor, Event};
use deja::replay::log::Log;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Building guests

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Libc {
    Glibc,
    Musl,
}

impl Libc {
    fn compiler(self) -> &'static str {
        match self {
            Libc::Glibc => "gcc",
            Libc::Musl => "musl-gcc",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
        }
    }
}

static BUILDS: Memo<Result<PathBuf, String>> = Memo::new(BTreeMap::new());

/// Build `tests/replay_guests/<prog>.c` once per test run. `None`: the compiler is missing
/// and the test should return (skipped), unless `DEJA_REQUIRE_TOOLS` made that a failure.
fn guest(prog: &str, libc: Libc) -> Option<PathBuf> {
    if !common::have_tool(libc.compiler()) {
        common::skip_or_fail(&format!("{} not found: {prog} [{}] not tested", libc.compiler(), libc.name()));
        return None;
    }
    let cell = common::memo_cell(&BUILDS, &format!("{}/{prog}", libc.name()));
    match cell.get_or_init(|| compile(prog, libc)) {
        Ok(p) => Some(p.clone()),
        Err(e) => panic!("building {prog} [{}]: {e}", libc.name()),
    }
}

fn compile(prog: &str, libc: Libc) -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replay_guests").join(format!("{prog}.c"));
    let dir = common::scratch_root().join("replay_guests").join(libc.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(prog);
    let tmp = dir.join(format!(".{prog}.{}", std::process::id()));
    let res = Command::new(libc.compiler())
        .args(["-static", "-O2", "-march=x86-64", "-mtune=generic", "-w", "-o"])
        .arg(&tmp)
        .arg(&src)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", libc.compiler()))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "{} failed on {}:\n{}",
            libc.compiler(),
            src.display(),
            String::from_utf8_lossy(&res.stderr)
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("rename to {}: {e}", out.display()))?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Running deja

/// Run `deja ARGS…` to completion with `stdin`, in `cwd`.
fn deja<S: AsRef<std::ffi::OsStr>>(args: &[S], stdin: &[u8], cwd: Option<&Path>) -> RunOutput {
    let mut inv = Invocation::new(common::deja_bin());
    inv.args = args.iter().map(|a| a.as_ref().to_owned()).collect();
    inv.stdin = stdin.to_vec();
    inv.cwd = cwd.map(Path::to_path_buf);
    inv.timeout = common::deja_timeout();
    common::run_native(&inv)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// deja neither crashed, hung nor panicked.
fn assert_clean(what: &str, o: &RunOutput) {
    let err = text(&o.stderr);
    assert!(!o.timed_out, "{what}: deja timed out\nstderr:\n{err}");
    assert!(o.host_signal.is_none(), "{what}: deja was killed by host signal {:?}\nstderr:\n{err}", o.host_signal);
    assert!(!err.contains("panicked"), "{what}: deja panicked\nstderr:\n{err}");
}

/// The guest's own stderr: without deja's diagnostics and the replay verdict.
fn guest_stderr(o: &RunOutput) -> String {
    text(&common::strip_deja_lines(&o.stderr))
        .lines()
        .filter(|l| !l.starts_with("replay ok: "))
        .map(|l| l.to_string() + "\n")
        .collect()
}

/// `replay ok: N instructions, HOW, digest D` → (N, HOW, D).
fn replay_ok(what: &str, o: &RunOutput) -> (u64, String, String) {
    let err = text(&o.stderr);
    let line = err
        .lines()
        .find_map(|l| l.strip_prefix("replay ok: "))
        .unwrap_or_else(|| panic!("{what}: no `replay ok` line (status {})\nstderr:\n{err}", o.status));
    let parts: Vec<&str> = line.split(", ").collect();
    assert!(parts.len() == 3, "{what}: odd verdict line {line:?}");
    let n = parts[0].strip_suffix(" instructions").and_then(|s| s.parse().ok()).expect("icount in verdict");
    let d = parts[2].strip_prefix("digest ").expect("digest in verdict").to_string();
    (n, parts[1].to_string(), d)
}

/// `deja info`'s end line: (how, icount, digest).
fn info_end(log: &Path) -> (String, u64, String) {
    let o = deja(&[OsString::from("info"), log.into()], b"", None);
    assert_clean("deja info", &o);
    assert_eq!(o.status.0, 0, "deja info failed: {}", text(&o.stderr));
    let out = text(&o.stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("end:"))
        .unwrap_or_else(|| panic!("no end line in deja info:\n{out}"))
        .trim()
        .to_string();
    // "exit 0 at icount N, digest D" / "killed by SIGSEGV at icount N, digest D"
    let (how, rest) = line.split_once(" at icount ").unwrap_or_else(|| panic!("odd end line {line:?}"));
    let (n, d) = rest.split_once(", digest ").unwrap_or_else(|| panic!("odd end line {line:?}"));
    (how.to_string(), n.parse().expect("icount"), d.to_string())
}

/// `deja dump` lines.
fn dump(log: &Path) -> Vec<String> {
    let o = deja(&[OsString::from("dump"), log.into()], b"", None);
    assert_clean("deja dump", &o);
    assert_eq!(o.status.0, 0, "deja dump failed: {}", text(&o.stderr));
    text(&o.stdout).lines().map(str::to_string).collect()
}

/// Kind column of a dump line.
fn dump_kind(line: &str) -> &str {
    line.split_whitespace().nth(1).unwrap_or("")
}

/// Replay `log` (output re-emitted), with some unrelated stdin to show it is not read.
fn replay(log: &Path, cwd: Option<&Path>) -> RunOutput {
    let o = deja(&[OsString::from("replay"), log.into()], b"this is not the recorded stdin\n", cwd);
    assert_clean(&format!("deja replay {}", log.display()), &o);
    o
}

/// Replay `log` and check it reproduces the recorded run `rec` exactly: stdout, the guest's
/// stderr, exit status, final icount and digest (against `deja info` and `deja dump`).
/// Returns the verdict (icount, how, digest).
fn assert_replays(what: &str, log: &Path, rec: &RunOutput, cwd: Option<&Path>) -> (u64, String, String) {
    let rep = replay(log, cwd);
    let verdict = replay_ok(what, &rep);
    if let Some(d) = first_diff(&rec.stdout, &rep.stdout) {
        panic!("{what}: replay stdout differs from the recorded run's: {d}\nreplay stderr:\n{}", text(&rep.stderr));
    }
    assert_eq!(guest_stderr(rec), guest_stderr(&rep), "{what}: the guest's stderr differs");
    assert_eq!(rec.status, rep.status, "{what}: exit status differs (recorded vs replayed)");
    let (how, n, d) = info_end(log);
    assert_eq!((verdict.0, &verdict.2), (n, &d), "{what}: replay verdict vs `deja info` end ({how})");
    let last = dump(log).pop().unwrap_or_default();
    assert_eq!(dump_kind(&last), "end", "{what}: the last dumped event is not the end: {last}");
    assert!(last.ends_with(&format!("digest {d}")), "{what}: dump end {last:?} vs digest {d}");
    verdict
}

fn first_diff(a: &[u8], b: &[u8]) -> Option<String> {
    if a == b {
        return None;
    }
    let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let line = a[..i].iter().filter(|&&c| c == b'\n').count() + 1;
    let show = |s: &[u8]| {
        let start = s[..i.min(s.len())].iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
        let end = s[start..].iter().position(|&c| c == b'\n').map_or(s.len(), |p| start + p);
        text(&s[start..end])
    };
    Some(format!(
        "{} vs {} bytes, first difference at byte {i} (line {line}):\n  recorded: {:?}\n  replayed: {:?}",
        a.len(),
        b.len(),
        show(a),
        show(b)
    ))
}

/// A small deterministic generator (splitmix64) for test inputs and fuzzing.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A seed from the clock (printed, so a failure can be reproduced with `var`).
fn time_seed(var: &str) -> u64 {
    let s = std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
    });
    eprintln!("{var}={s}");
    s
}

// ---------------------------------------------------------------------------------------
// a. Time, randomness, inputs and a timer signal

fn time_random(libc: Libc, mode: &str) {
    let Some(bin) = guest("timerand", libc) else { return };
    let what = format!("timerand {mode} [{}]", libc.name());
    let dir = TempDir::new("rr-timerand");
    let log = dir.path().join("t.deja");
    let input = dir.path().join("input.bin");
    let mut rng = Rng::new(time_seed("DEJA_TEST_SEED"));
    std::fs::write(&input, rng.bytes(70_000)).unwrap();
    let stdin = rng.bytes(150_000);
    let record = |log: &Path| {
        let args: Vec<OsString> = vec![
            "record".into(),
            "--checkpoint-every".into(),
            "1000000".into(),
            "-o".into(),
            log.into(),
            "--".into(),
            bin.clone().into(),
            input.clone().into(),
            mode.into(),
        ];
        let o = deja(&args, &stdin, Some(dir.path()));
        assert_clean(&format!("{what}: record"), &o);
        o
    };
    let rec = record(&log);
    let out = text(&rec.stdout);
    assert_eq!(rec.status.0, 0, "{what}: recording failed\nstdout:\n{out}\nstderr:\n{}", text(&rec.stderr));
    assert!(out.contains("stdin: 150000 bytes"), "{what}: stdin not read whole:\n{out}");
    assert!(out.contains("file: 70000 bytes"), "{what}: file not read:\n{out}");
    assert!(out.contains("getrandom returned 16"), "{what}: getrandom failed:\n{out}");
    let expect = match mode {
        "alarm0" => "alarm left: 100",
        "pause" => "pause 3 returned -1, handler ran 3 time(s)",
        _ => "SIGALRM caught 1 time(s)",
    };
    assert!(out.contains(expect), "{what}: no {expect:?} in the output:\n{out}");
    let dumped = dump(&log);
    let kinds = |k: &str| dumped.iter().filter(|l| dump_kind(l) == k).count();
    assert!(kinds("tsc") >= 1 && kinds("random") >= 1 && kinds("checkpoint") >= 1, "{what}: events missing");
    if mode != "alarm0" {
        assert!(dumped.iter().any(|l| l.contains("asynchronous SIGALRM")), "{what}: no SIGALRM event in the log");
    }

    let first = assert_replays(&format!("{what}: replay 1"), &log, &rec, Some(dir.path()));
    // Stopping a replay at a checkpoint shows the state digest the recording logged there
    // (at a checkpoint where nothing else happens: a replay stops after delivering a signal
    // due at its stopping point, the checkpoint digest is taken before).
    let icount_of = |l: &String| l.split_whitespace().next().unwrap_or("").to_string();
    let cp = dumped
        .iter()
        .rev()
        .find(|l| dump_kind(l) == "checkpoint" && dumped.iter().filter(|m| icount_of(m) == icount_of(l)).count() == 1)
        .expect("a checkpoint");
    let at = icount_of(cp);
    let want = cp.rsplit(' ').next().unwrap();
    let o = deja(
        &[OsString::from("replay"), "-q".into(), "--to-icount".into(), at.clone().into(), log.clone().into()],
        b"",
        None,
    );
    assert_clean("replay --to-icount", &o);
    assert_eq!(o.status.0, 0, "{what}: replay --to-icount {at}: {}", text(&o.stderr));
    let said = text(&o.stderr);
    assert!(said.contains(&format!("replay stopped at icount {at} as asked")), "{said}");
    assert!(said.trim_end().ends_with(&format!("digest {want}")), "{what}: checkpoint {cp:?} vs {said}");
    for i in 2..=3 {
        let again = assert_replays(&format!("{what}: replay {i}"), &log, &rec, Some(dir.path()));
        assert_eq!(first, again, "{what}: replays disagree");
    }
    // The inputs change or disappear: replay does not look at them.
    std::fs::write(&input, b"different content").unwrap();
    assert_eq!(first, assert_replays(&format!("{what}: replay, file changed"), &log, &rec, Some(dir.path())));
    std::fs::remove_file(&input).unwrap();
    assert_eq!(first, assert_replays(&format!("{what}: replay, file deleted"), &log, &rec, Some(dir.path())));

    // A second recording sees other times and random bytes: the test cannot pass trivially.
    let rec2 = record(&dir.path().join("t2.deja"));
    let out2 = text(&rec2.stdout);
    for key in ["realtime:", "monotonic:", "rdtsc:", "getrandom:", "at_random:"] {
        let line = |s: &str| s.lines().find(|l| l.starts_with(key)).map(str::to_string);
        assert!(line(&out).is_some(), "{what}: no {key} line");
        assert_ne!(line(&out), line(&out2), "{what}: two recordings agree on {key}");
    }
}

#[test]
fn time_random_itimer_glibc() {
    time_random(Libc::Glibc, "itimer");
}

#[test]
fn time_random_posix_timer_glibc() {
    time_random(Libc::Glibc, "posix");
}

#[test]
fn time_random_itimer_musl() {
    time_random(Libc::Musl, "itimer");
}

#[test]
fn time_random_posix_timer_musl() {
    time_random(Libc::Musl, "posix");
}

#[test]
fn time_random_alarm_cancelled_glibc() {
    time_random(Libc::Glibc, "alarm0");
}

#[test]
fn time_random_periodic_itimer_and_pause_glibc() {
    time_random(Libc::Glibc, "pause");
}

#[test]
fn time_random_periodic_itimer_and_pause_musl() {
    time_random(Libc::Musl, "pause");
}

/// SIGALRM with no handler kills the guest, as natively (exit status 128+14), and that
/// recording replays.
#[test]
fn timer_signal_without_handler_kills() {
    let Some(bin) = guest("timerand", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-alrm");
    let log = dir.path().join("a.deja");
    let args = [OsString::from("/dev/null"), "nohandler".into()];
    let native = common::run_native(&Invocation { args: args.to_vec(), ..Invocation::new(&bin) });
    assert_eq!(native.status.0, 128 + libc::SIGALRM, "native run");
    let mut a = record_args(&log, &bin, &[]);
    a.extend(args);
    let rec = deja(&a, b"", None);
    assert_clean("record", &rec);
    assert_eq!(rec.status, native.status, "recorded vs native status\n{}", text(&rec.stderr));
    assert!(text(&rec.stderr).contains("deja: guest killed by SIGALRM"), "{}", text(&rec.stderr));
    let v = assert_replays("SIGALRM without handler", &log, &rec, None);
    assert_eq!(v.1, "killed by SIGALRM");
}

// ---------------------------------------------------------------------------------------
// b, d. Asynchronous signals sent to deja while recording

/// A running `deja record`, with its stdout lines arriving on a channel.
struct Live {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    err: std::thread::JoinHandle<Vec<u8>>,
}

impl Live {
    /// Start `deja ARGS…`.
    fn start(args: &[OsString]) -> Live {
        Live::spawn(Path::new(common::deja_bin()), args)
    }

    /// Start `program ARGS…` (stdin is a pipe: see `feed`).
    fn spawn(program: &Path, args: &[OsString]) -> Live {
        let mut child = Command::new(program)
            .args(args)
            .env_clear()
            .envs(common::base_env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn deja");
        let (tx, rx) = mpsc::channel();
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let pout = child.stdout.take().unwrap();
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(pout);
            let mut line = Vec::new();
            while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                sink.lock().unwrap().extend_from_slice(&line);
                let _ = tx.send(text(&line));
                line.clear();
            }
        });
        let mut perr = child.stderr.take().unwrap();
        let err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = perr.read_to_end(&mut v);
            v
        });
        Live { child, lines: rx, out, err }
    }

    /// Wait for a stdout line starting with `prefix`.
    fn wait_line(&mut self, prefix: &str) {
        let deadline = Instant::now() + common::deja_timeout();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line {prefix:?} from the guest; stdout so far:\n{}", text(&self.out.lock().unwrap()));
                }
            }
        }
    }

    /// Write to the program's stdin (`None`: close it).
    fn feed(&mut self, data: Option<&[u8]>) {
        match data {
            // A guest that already died shows up in the next wait_line.
            Some(d) => {
                let _ = self.child.stdin.as_mut().expect("stdin open").write_all(d);
            }
            None => drop(self.child.stdin.take()),
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: plain kill(2) on our own child's pid.
        let r = unsafe { libc::kill(self.child.id() as i32, sig) };
        assert_eq!(r, 0, "kill");
    }

    fn finish(mut self) -> RunOutput {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + common::deja_timeout();
        let mut timed_out = false;
        let st = loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                break st;
            }
            if Instant::now() > deadline {
                timed_out = true;
                let _ = self.child.kill();
                break self.child.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stderr = self.err.join().unwrap_or_default();
        // The reader thread ends at EOF, which came with the exit.
        std::thread::sleep(Duration::from_millis(20));
        let stdout = self.out.lock().unwrap().clone();
        let (code, host_signal) = match (st.code(), st.signal()) {
            (Some(c), _) => (c, None),
            (None, s) => (128 + s.unwrap_or(0), s),
        };
        RunOutput { stdout, stderr, status: common::Status(code), host_signal, timed_out }
    }
}

fn record_args(log: &Path, bin: &Path, rest: &[&str]) -> Vec<OsString> {
    let mut v: Vec<OsString> = vec!["record".into(), "-o".into(), log.into(), "--".into(), bin.into()];
    v.extend(rest.iter().map(OsString::from));
    v
}

fn async_sigusr1(libc: Libc) {
    let Some(bin) = guest("spin_sig", libc) else { return };
    let what = format!("spin_sig SIGUSR1 [{}]", libc.name());
    let dir = TempDir::new("rr-usr1");
    let log = dir.path().join("u.deja");
    let mut rng = Rng::new(time_seed("DEJA_TEST_SEED"));
    const N: usize = 4;
    let mut live = Live::start(&record_args(&log, &bin, &["handler", &N.to_string()]));
    live.wait_line("ready");
    for k in 0..N {
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        live.signal(libc::SIGUSR1);
        live.wait_line(&format!("signal {k}:"));
    }
    let rec = live.finish();
    assert_clean(&format!("{what}: record"), &rec);
    assert_eq!(rec.status.0, 0, "{what}: recording failed: {}", text(&rec.stderr));
    let out = text(&rec.stdout);
    assert!(out.contains(&format!("done: {N} signals")), "{what}:\n{out}");
    let sigs = dump(&log).iter().filter(|l| l.contains("asynchronous SIGUSR1")).count();
    assert_eq!(sigs, N, "{what}: SIGUSR1 events in the log");
    let first = assert_replays(&format!("{what}: replay"), &log, &rec, None);
    assert_eq!(first, assert_replays(&format!("{what}: replay 2"), &log, &rec, None));
}

#[test]
fn async_sigusr1_glibc() {
    async_sigusr1(Libc::Glibc);
}

#[test]
fn async_sigusr1_musl() {
    async_sigusr1(Libc::Musl);
}

#[test]
fn ends_segfault() {
    let Some(bin) = guest("segv", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-segv");
    let log = dir.path().join("s.deja");
    let rec = deja(&record_args(&log, &bin, &[]), b"", None);
    assert_clean("segv: record", &rec);
    assert_eq!(rec.status.0, 139, "segv: recording status\n{}", text(&rec.stderr));
    let d = dump(&log);
    assert!(d.iter().any(|l| dump_kind(l) == "exception" && l.contains("SIGSEGV")), "no exception event");
    let last = d.last().cloned().unwrap_or_default();
    assert!(last.contains("end: Killed 11"), "last event {last:?}");
    assert_eq!(info_end(&log).0, "killed by SIGSEGV");
    let v = assert_replays("segv: replay", &log, &rec, None);
    assert_eq!(v.1, "killed by SIGSEGV");
}

/// A recording the emulator stopped (`--max-icount`) replays to the same instruction; and
/// `--to-icount` stops a replay early, as asked.
#[test]
fn ends_stopped_by_the_emulator_and_to_icount() {
    let Some(bin) = guest("spin_sig", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-stop");
    let log = dir.path().join("m.deja");
    let mut a = record_args(&log, &bin, &["forever"]);
    a.insert(1, "--max-icount".into());
    a.insert(2, "300000".into());
    let rec = deja(&a, b"", None);
    assert_clean("record --max-icount", &rec);
    assert_eq!(rec.status.0, 125, "{}", text(&rec.stderr));
    assert_eq!(text(&rec.stdout), "ready\n");
    let (how, n, _) = info_end(&log);
    assert_eq!((how.as_str(), n), ("stopped by the emulator", 300_000));
    let v = assert_replays("stopped recording", &log, &rec, None);
    assert_eq!(v.1, "stopped where the recording stopped");
    let o = deja(&[OsString::from("replay"), "--to-icount".into(), "100000".into(), log.clone().into()], b"", None);
    assert_clean("replay --to-icount", &o);
    assert_eq!(o.status.0, 0, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("replay stopped at icount 100000 as asked"), "{}", text(&o.stderr));
}

fn killed_while_busy(sig: i32, name: &str) {
    let Some(bin) = guest("spin_sig", Libc::Glibc) else { return };
    let what = format!("spin_sig forever, {name}");
    let dir = TempDir::new("rr-kill");
    let log = dir.path().join("k.deja");
    let mut rng = Rng::new(time_seed("DEJA_TEST_SEED"));
    let mut live = Live::start(&record_args(&log, &bin, &["forever"]));
    live.wait_line("ready");
    std::thread::sleep(Duration::from_millis(rng.below(200)));
    live.signal(sig);
    let rec = live.finish();
    assert_clean(&format!("{what}: record"), &rec);
    assert_eq!(rec.status.0, 128 + sig, "{what}: recording status\n{}", text(&rec.stderr));
    let d = dump(&log);
    let n = d.len();
    assert!(n >= 2, "{what}: log too short");
    assert_eq!(dump_kind(&d[n - 2]), "shutdown", "{what}: {}", d[n - 2]);
    assert!(d[n - 2].contains(name), "{what}: {}", d[n - 2]);
    assert!(d[n - 1].contains(&format!("end: Killed {sig}")), "{what}: {}", d[n - 1]);
    let v = assert_replays(&format!("{what}: replay"), &log, &rec, None);
    assert_eq!(v.1, format!("killed by {name}"));
}

/// deja itself killed outright (SIGKILL) while recording: the log was pushed to the OS at
/// least once a second with a progress marker, so it replays as far as it goes.
#[test]
fn killed_recorder_leaves_a_replayable_prefix() {
    let Some(bin) = guest("spin_sig", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-sigkill");
    let log = dir.path().join("k.deja");
    let mut a = record_args(&log, &bin, &["forever"]);
    a.insert(1, "--checkpoint-every".into());
    a.insert(2, "0".into());
    let mut live = Live::start(&a);
    live.wait_line("ready");
    std::thread::sleep(Duration::from_millis(2500));
    live.signal(libc::SIGKILL);
    let rec = live.finish();
    assert_eq!(rec.host_signal, Some(libc::SIGKILL));
    let parsed = Log::open(&log).expect("the log of a killed recorder is readable");
    assert!(!parsed.is_complete());
    let markers: Vec<u64> = parsed.events().filter(|e| e.event == Event::Icount).map(|e| e.icount).collect();
    assert!(!markers.is_empty(), "no progress marker in {} events", parsed.event_count);
    let o = deja(&[OsString::from("replay"), log.clone().into()], b"", None);
    assert_clean("replay of a killed recording", &o);
    let err = text(&o.stderr);
    assert_eq!(o.status.0, 124, "{err}");
    assert!(err.contains("the recording stops here"), "{err}");
    assert_eq!(text(&o.stdout), "ready\n");
    let at: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("deja: replay diverged at icount "))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no divergence line:\n{err}"));
    assert!(at >= *markers.last().unwrap(), "replay stopped at {at}, before the last marker {markers:?}");
}

#[test]
fn ends_sigint_while_busy() {
    killed_while_busy(libc::SIGINT, "SIGINT");
}

#[test]
fn ends_sigterm_while_busy() {
    killed_while_busy(libc::SIGTERM, "SIGTERM");
}

/// Signals that arrive while the guest is blocked in read(): an ignored one (SIGWINCH by
/// default, SIGUSR2 set to SIG_IGN) must not interrupt it, a handler with SA_RESTART runs and
/// the read goes on. The native run is the oracle for that; the recording must then replay.
#[test]
fn blocking_read_survives_signals() {
    let Some(bin) = guest("spin_sig", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-read");
    let log = dir.path().join("r.deja");
    let drive = |mut live: Live| {
        live.wait_line("ready");
        for sig in [libc::SIGWINCH, libc::SIGUSR2, libc::SIGUSR1] {
            std::thread::sleep(Duration::from_millis(60));
            live.signal(sig);
        }
        std::thread::sleep(Duration::from_millis(60));
        live.feed(Some(b"hello"));
        live.wait_line("read 5 bytes: hello");
        live.signal(libc::SIGWINCH);
        std::thread::sleep(Duration::from_millis(60));
        live.feed(Some(b"world"));
        live.wait_line("read 5 bytes: world");
        live.feed(None);
        live.finish()
    };
    let native = drive(Live::spawn(&bin, &["read".into()]));
    assert_eq!(native.status.0, 0, "native run: {}", text(&native.stdout));
    let rec = drive(Live::start(&record_args(&log, &bin, &["read"])));
    assert_clean("record", &rec);
    if let Some(d) = first_diff(&native.stdout, &rec.stdout) {
        panic!(
            "deja record vs native: {d}
stderr:
{}",
            text(&rec.stderr)
        );
    }
    assert_eq!(native.status, rec.status);
    let sigs = dump(&log).iter().filter(|l| l.contains("asynchronous SIG")).count();
    assert_eq!(sigs, 4, "signal events in the log");
    assert_replays("blocking read", &log, &rec, None);
}

/// Writes that failed while recording (stdout on /dev/full) wrote nothing, so a replay re-emits
/// nothing for them.
#[test]
fn failed_writes_are_not_reemitted() {
    let Some(bin) = guest("failed_writes", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-full");
    let log = dir.path().join("f.deja");
    let rec = Command::new(common::deja_bin())
        .args(record_args(&log, &bin, &[]))
        .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
        .stderr(Stdio::piped())
        .output()
        .expect("run deja record");
    let err = text(&rec.stderr);
    assert_eq!(rec.status.code(), Some(0), "{err}");
    assert!(err.contains("write: -1 (No space left on device)") && err.contains("writev: -1"), "{err}");
    let rep = replay(&log, None);
    let (_, how, _) = replay_ok("failed writes", &rep);
    assert_eq!(how, "exit 0");
    assert_eq!(text(&rep.stdout), "", "the replay re-emitted writes that had failed");
    assert_eq!(guest_stderr(&rep), text(&common::strip_deja_lines(&rec.stderr)));
}

/// Output the guest redirected away from stdout (dup2 onto a file, an fcntl alias) is not
/// re-emitted on replay, and output through duplicates of stdout/stderr is, to the right
/// stream. Oracle: the same program run natively.
#[test]
fn redirected_output_is_reemitted_where_it_went() {
    let Some(bin) = guest("redirect", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-redirect");
    let native = Command::new(&bin).arg(dir.path().join("native.txt")).output().expect("run natively");
    assert_eq!(native.status.code(), Some(0));
    let log = dir.path().join("r.deja");
    let file = dir.path().join("deja.txt");
    let rec = deja(&record_args(&log, &bin, &[file.to_str().unwrap()]), b"", None);
    assert_eq!(rec.status.0, 0, "record: {}", text(&rec.stderr));
    assert_eq!(text(&rec.stdout), text(&native.stdout), "recorded stdout vs native");
    assert_eq!(guest_stderr(&rec), text(&native.stderr), "recorded stderr vs native");
    assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(dir.path().join("native.txt")).unwrap());
    std::fs::remove_file(&file).unwrap();
    assert_replays("redirect", &log, &rec, None);
    assert!(!file.exists(), "the replay wrote the file");
}

// ---------------------------------------------------------------------------------------
// c. Logs that are not (entirely) right

/// A recorded log of `tiny` (small, several chunks: a checkpoint every 2,000 instructions).
fn small_log(dir: &Path, name: &str, extra: &[&str]) -> Option<(PathBuf, PathBuf, RunOutput)> {
    let libc = if common::have_tool("musl-gcc") { Libc::Musl } else { Libc::Glibc };
    let bin = guest("tiny", libc)?;
    // A private copy of the executable, so tests may replace it.
    let exe = dir.join(format!("{name}-exe"));
    std::fs::copy(&bin, &exe).unwrap();
    let log = dir.join(format!("{name}.deja"));
    let mut args: Vec<OsString> =
        vec!["record".into(), "--checkpoint-every".into(), "2000".into(), "-o".into(), log.clone().into()];
    args.extend(extra.iter().map(OsString::from));
    args.push("--".into());
    args.push(exe.clone().into());
    let rec = deja(&args, b"some input for tiny\n", None);
    assert_clean("tiny: record", &rec);
    assert_eq!(rec.status.0, 3, "tiny: recording failed: {}", text(&rec.stderr));
    Some((log, exe, rec))
}

/// Chunk frames of a log: (frame offset, payload length).
fn chunks(data: &[u8]) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut pos = 12;
    while pos + 8 <= data.len() {
        let len = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        if pos + 8 + len > data.len() {
            break;
        }
        v.push((pos, len));
        pos += 8 + len;
    }
    v
}

/// Recompute the crc of the chunk framed at `frame`.
fn fix_crc(data: &mut [u8], frame: usize) {
    let len = u32::from_le_bytes(data[frame..frame + 4].try_into().unwrap()) as usize;
    let crc = crc32fast::hash(&data[frame + 8..frame + 8 + len]);
    data[frame + 4..frame + 8].copy_from_slice(&crc.to_le_bytes());
}

/// `deja replay`, `deja info` and `deja dump` on `path` all fail with one `deja: ` line
/// containing all of `needles`.
fn assert_refused(what: &str, path: &Path, needles: &[&str]) {
    for cmd in ["replay", "info", "dump"] {
        let o = deja(&[OsString::from(cmd), path.into()], b"", None);
        assert_refused_output(&format!("{what} ({cmd})"), &o, needles);
    }
}

fn assert_refused_output(what: &str, o: &RunOutput, needles: &[&str]) {
    assert_clean(what, o);
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(o.status.0 != 0, "{what}: exit status 0\nstderr:\n{err}");
    assert_eq!(lines.len(), 1, "{what}: expected exactly one line on stderr, got:\n{err}");
    assert!(lines[0].starts_with("deja: "), "{what}: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "{what}: {:?} does not mention {n:?}", lines[0]);
    }
}

#[test]
fn bad_log_truncated_and_corrupt() {
    let dir = TempDir::new("rr-bad");
    let Some((log, _, _)) = small_log(dir.path(), "t", &[]) else { return };
    let data = std::fs::read(&log).unwrap();
    let cs = chunks(&data);
    assert!(cs.len() >= 4, "expected several chunks, got {}", cs.len());
    let (h, hlen) = cs[0];
    let (e, elen) = cs[cs.len() / 2];
    let at_e = format!("byte {e}");
    let cuts: [(usize, &[&str]); 6] = [
        (3, &["not a deja log"]),
        (10, &["truncated"]),
        (16, &["truncated", "chunk 0"]),
        (h + 8 + hlen / 2, &["truncated", "chunk 0"]),
        (e + 4, &["truncated", &at_e]),
        (e + 8 + elen / 2, &["truncated", &at_e]),
    ];
    for (cut, needles) in cuts {
        let p = dir.path().join(format!("cut{cut}.deja"));
        std::fs::write(&p, &data[..cut]).unwrap();
        assert_refused(&format!("log cut at byte {cut}"), &p, needles);
    }
    // A flipped byte in the middle of a chunk's payload.
    let mut x = data.clone();
    x[e + 8 + elen / 2] ^= 0x20;
    let p = dir.path().join("flip.deja");
    std::fs::write(&p, &x).unwrap();
    assert_refused("flipped byte", &p, &["corrupt", "checksum", &format!("byte {e}")]);
    // Another format version.
    let mut x = data.clone();
    x[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&p, &x).unwrap();
    assert_refused("version 7", &p, &["version 7", "version 1"]);
    // Not a log at all.
    std::fs::write(&p, b"#!/bin/sh\necho hello\n").unwrap();
    assert_refused("a shell script", &p, &["not a deja log"]);
}

#[test]
fn bad_log_wrong_isa() {
    let dir = TempDir::new("rr-isa");
    let Some((log, _, _)) = small_log(dir.path(), "t", &[]) else { return };
    let data = std::fs::read(&log).unwrap();
    let (h, _) = chunks(&data)[0];
    for (isa, needle) in [(2u8, "AArch64"), (9u8, "unknown guest ISA code 9")] {
        let mut x = data.clone();
        x[h + 8] = isa;
        fix_crc(&mut x, h);
        let p = dir.path().join(format!("isa{isa}.deja"));
        std::fs::write(&p, &x).unwrap();
        let o = deja(&[OsString::from("replay"), p.clone().into()], b"", None);
        let needles: &[&str] = if isa == 2 { &[needle, "x86-64"] } else { &[needle] };
        assert_refused_output(&format!("isa {isa} (replay)"), &o, needles);
        // The log itself is fine: `deja info` describes it.
        let o = deja(&[OsString::from("info"), p.into()], b"", None);
        assert_clean("info", &o);
        assert_eq!(o.status.0, 0);
        let want = if isa == 2 { "isa:          aarch64" } else { "isa:          unknown" };
        assert!(text(&o.stdout).contains(want), "{}", text(&o.stdout));
    }
    // The embedded executable altered (and the header's crc fixed): its hash no longer matches.
    let mut x = data.clone();
    let (_, hl) = chunks(&data)[0];
    let elf = x[h + 8..h + 8 + hl].windows(4).position(|w| w == b"\x7fELF").expect("embedded ELF") + h + 8;
    x[elf + 0x400] ^= 0xff;
    fix_crc(&mut x, h);
    let p = dir.path().join("exe-altered.deja");
    std::fs::write(&p, &x).unwrap();
    let o = deja(&[OsString::from("replay"), p.into()], b"", None);
    assert_refused_output("embedded executable altered", &o, &["differs from the recorded one"]);
}

#[test]
fn bad_log_executable_replaced_or_gone() {
    let dir = TempDir::new("rr-exe");
    let Some((log, exe, rec)) = small_log(dir.path(), "t", &["--no-embed-exe"]) else { return };
    // Unchanged: replays.
    assert_replays("no-embed-exe", &log, &rec, None);
    // Replaced by another executable.
    let other = guest("segv", Libc::Glibc).expect("gcc is there");
    std::fs::copy(&other, &exe).unwrap();
    let o = deja(&[OsString::from("replay"), log.clone().into()], b"", None);
    assert_refused_output("executable replaced", &o, &["differs from the recorded one", &exe.display().to_string()]);
    // Gone.
    std::fs::remove_file(&exe).unwrap();
    let o = deja(&[OsString::from("replay"), log.clone().into()], b"", None);
    assert_refused_output("executable deleted", &o, &["cannot read the recorded executable"]);
    // `deja info` does not need the executable.
    let (how, _, _) = info_end(&log);
    assert_eq!(how, "exit 3");
}

#[test]
fn bad_log_not_a_file() {
    let dir = TempDir::new("rr-nf");
    let empty = dir.path().join("empty.deja");
    std::fs::write(&empty, b"").unwrap();
    assert_refused("empty file", &empty, &["empty"]);
    assert_refused("a directory", dir.path(), &["is a directory"]);
    assert_refused("no such file", &dir.path().join("nope.deja"), &["nope.deja", "cannot read"]);
}

/// A log that cannot be written to its end (here: the file size limit) is reported, not left
/// silently short; the guest itself is not disturbed.
#[test]
fn log_write_failure_is_reported() {
    let libc_ = if common::have_tool("musl-gcc") { Libc::Musl } else { Libc::Glibc };
    let Some(bin) = guest("tiny", libc_) else { return };
    let dir = TempDir::new("rr-fsize");
    let log = dir.path().join("big.deja");
    let input = Rng::new(3).bytes(400_000);
    let mut cmd = Command::new(common::deja_bin());
    cmd.args(["record", "--no-embed-exe", "-o"]).arg(&log).arg("--").arg(&bin);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: only setrlimit (async-signal-safe) runs in the child before exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let lim = libc::rlimit { rlim_cur: 100_000, rlim_max: 100_000 };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn deja");
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    feeder.join().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let fails: Vec<&str> = err.lines().filter(|l| l.contains("writing the log failed")).collect();
    assert_eq!(fails.len(), 1, "{err}");
    assert!(fails[0].starts_with("deja: ") && fails[0].contains("File too large"), "{err}");
    assert!(text(&out.stdout).starts_with("400000 "), "the guest was disturbed: {}", text(&out.stdout));
    assert_refused("the short log", &log, &["truncated"]);
}

#[test]
fn truncated_at_chunk_boundary_replays_to_its_end() {
    let dir = TempDir::new("rr-prefix");
    let Some((log, _, rec)) = small_log(dir.path(), "t", &[]) else { return };
    let data = std::fs::read(&log).unwrap();
    let cs = chunks(&data);
    assert!(cs.len() >= 4, "expected several chunks, got {}", cs.len());
    for keep in [1, 2, cs.len() / 2, cs.len() - 1] {
        let cut = cs[keep].0;
        let p = dir.path().join(format!("prefix{keep}.deja"));
        std::fs::write(&p, &data[..cut]).unwrap();
        let parsed = Log::parse("prefix", &data[..cut]).expect("a prefix at a chunk boundary is a valid log");
        assert!(!parsed.is_complete());
        let o = deja(&[OsString::from("replay"), p.clone().into()], b"", None);
        assert_clean("prefix replay", &o);
        let err = text(&o.stderr);
        assert_eq!(o.status.0, 124, "prefix of {keep} chunks: status\n{err}");
        assert!(err.contains("the recording stops here"), "prefix of {keep} chunks:\n{err}");
        // It got as far as the log goes: at least the last recorded event's icount.
        let last = parsed.last.as_ref().map_or(0, |e| e.icount);
        let at: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("deja: replay diverged at icount "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no divergence line:\n{err}"));
        assert!(at >= last, "stopped at {at}, before the last event at {last}");
        // What it re-emitted is a prefix of the recorded output.
        assert!(rec.stdout.starts_with(&o.stdout), "output is not a prefix of the recorded output");
        let o = deja(&[OsString::from("info"), p.into()], b"", None);
        assert_clean("prefix info", &o);
        assert!(text(&o.stdout).contains("cut short"), "{}", text(&o.stdout));
    }
}

// ---------------------------------------------------------------------------------------
// e. Fuzzing the reader and the replayer

fn fuzz_seed() -> u64 {
    std::env::var("DEJA_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed_dea1)
}

/// One random raw mutation of `d`: bit flips, truncation, insertion, chunk duplication,
/// deletion or swap. Returns a description.
fn mutate_raw(rng: &mut Rng, d: &mut Vec<u8>) -> String {
    if d.is_empty() {
        d.push(rng.next() as u8);
        return "empty: add a byte".into();
    }
    let cs = chunks(d);
    match rng.below(7) {
        0 => {
            let n = 1 + rng.below(4);
            let mut at = Vec::new();
            for _ in 0..n {
                let i = rng.below(d.len() as u64) as usize;
                d[i] ^= 1 << rng.below(8);
                at.push(i);
            }
            format!("bit flips at {at:?}")
        }
        1 => {
            let n = rng.below(d.len() as u64) as usize;
            d.truncate(n);
            format!("truncate to {n}")
        }
        2 => {
            let i = rng.below(d.len() as u64 + 1) as usize;
            let k = 1 + rng.below(9) as usize;
            let b = rng.bytes(k);
            let s = format!("insert {b:?} at {i}");
            d.splice(i..i, b);
            s
        }
        3 if cs.len() > 1 => {
            let (f, l) = cs[1 + rng.below(cs.len() as u64 - 1) as usize];
            let c = d[f..f + 8 + l].to_vec();
            let at = if rng.below(2) == 0 { f + 8 + l } else { d.len() };
            d.splice(at..at, c);
            format!("duplicate chunk at {f} to {at}")
        }
        4 if cs.len() > 1 => {
            let (f, l) = cs[1 + rng.below(cs.len() as u64 - 1) as usize];
            d.drain(f..f + 8 + l);
            format!("delete chunk at {f}")
        }
        5 if cs.len() > 2 => {
            let i = 1 + rng.below(cs.len() as u64 - 2) as usize;
            let (a, al) = cs[i];
            let (b, bl) = cs[i + 1];
            let ca = d[a..a + 8 + al].to_vec();
            let cb = d[b..b + 8 + bl].to_vec();
            d.splice(a..b + 8 + bl, cb.into_iter().chain(ca));
            format!("swap chunks at {a} and {b}")
        }
        _ => {
            // Overwrite a few bytes with "interesting" values.
            let i = rng.below(d.len() as u64) as usize;
            let v = [0u8, 0xff, 0x7f, 0x80, 1][rng.below(5) as usize];
            let n = (1 + rng.below(8) as usize).min(d.len() - i);
            d[i..i + n].fill(v);
            format!("fill {n} bytes at {i} with {v:#x}")
        }
    }
}

/// One random mutation that keeps the log parseable: events are decoded, changed, and
/// re-encoded into checksummed chunks. Returns a description.
fn mutate_events(rng: &mut Rng, d: &mut Vec<u8>) -> String {
    let cs = chunks(d);
    if cs.is_empty() {
        return "no header".into();
    }
    let (h, hl) = cs[0];
    let mut evs: Vec<(u64, Event)> = Vec::new();
    // (A previous raw mutation may have left undecodable bytes: keep what decodes.)
    'chunks: for &(f, l) in cs.iter().skip(1) {
        let mut c = Cursor::new(&d[f + 8..f + 8 + l]);
        while !c.at_end() {
            match c.event() {
                Ok(e) => evs.push(e),
                Err(_) => break 'chunks,
            }
        }
    }
    if evs.is_empty() {
        return "no events to mutate".into();
    }
    let n = evs.len() as u64;
    let i = rng.below(n) as usize;
    let what = match rng.below(10) {
        0 => {
            evs.remove(i);
            format!("delete event {i}")
        }
        1 => {
            let e = evs[i].clone();
            evs.insert(i, (0, e.1));
            format!("duplicate event {i}")
        }
        2 if i + 1 < evs.len() => {
            evs.swap(i, i + 1);
            format!("swap events {i} and {}", i + 1)
        }
        3 => {
            let old = evs[i].0;
            evs[i].0 = match rng.below(3) {
                0 => old.saturating_sub(1 + rng.below(3)),
                1 => old + 1 + rng.below(3),
                _ => rng.below(100_000),
            };
            format!("delta of event {i}: {old} -> {}", evs[i].0)
        }
        4 => {
            let signo = [2, 10, 14, 15, 11, 9, 19, 17][rng.below(8) as usize];
            evs.insert(i, (rng.below(5000), Event::Signal { signo }));
            format!("insert signal {signo} before event {i}")
        }
        5 => {
            evs.truncate(i);
            format!("keep the first {i} events")
        }
        _ => {
            // Change a field of the event.
            let e = &mut evs[i].1;
            let s = format!("{e:?}");
            match e {
                Event::Syscall { nr, args } => {
                    if rng.below(2) == 0 {
                        *nr = rng.below(340);
                    } else {
                        args[rng.below(6) as usize] ^= 1 << rng.below(64);
                    }
                }
                Event::HostCall { nr, ret, outs, input } => match rng.below(5) {
                    0 => *ret = [-4, -1, 0, 1, 7, 4096, -38, i64::MAX][rng.below(8) as usize],
                    1 if !outs.is_empty() => {
                        let j = rng.below(outs.len() as u64) as usize;
                        let o = &mut outs[j];
                        if o.is_empty() || rng.below(3) == 0 {
                            o.push(rng.next() as u8);
                        } else {
                            let j = rng.below(o.len() as u64) as usize;
                            o[j] ^= 1 + rng.below(255) as u8;
                        }
                    }
                    2 => {
                        let k = rng.below(40) as usize;
                        outs.push(rng.bytes(k))
                    }
                    3 => *input = input.map(|v| v ^ 1).or(Some(rng.next())),
                    _ => *nr = rng.below(340),
                },
                Event::Tsc { value } => *value = rng.next(),
                Event::Random { bytes } => {
                    if rng.below(2) == 0 {
                        bytes.pop();
                    } else if let Some(b) = bytes.first_mut() {
                        *b ^= 0x55;
                    }
                }
                Event::Signal { signo } | Event::Shutdown { signo } => *signo = 1 + rng.below(64) as i32,
                Event::Checkpoint { id, digest } => {
                    if rng.below(2) == 0 {
                        *digest ^= 1;
                    } else {
                        *id += 1;
                    }
                }
                Event::Exception { signo, code, addr } => {
                    *signo = 1 + rng.below(64) as i32;
                    *code ^= 1;
                    *addr ^= 8;
                }
                Event::End { value, digest, .. } => {
                    if rng.below(2) == 0 {
                        *value ^= 1;
                    } else {
                        *digest ^= 1 << 40;
                    }
                }
                Event::Icount => {}
            }
            format!("change event {i} {s} to {e:?}")
        }
    };
    // Re-encode in chunks of a random size.
    let per = 1 + rng.below(64) as usize;
    let mut out = d[..h + 8 + hl].to_vec();
    for group in evs.chunks(per) {
        let mut payload = Vec::new();
        for (delta, e) in group {
            e.encode(*delta, &mut payload);
        }
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
    }
    *d = out;
    what
}

/// `Log::parse` never panics, whatever the bytes; mutated event payloads with fixed crcs
/// still parse or are named.
#[test]
fn fuzz_log_parse() {
    let dir = TempDir::new("rr-fuzzp");
    let Some((log, _, _)) = small_log(dir.path(), "t", &["--no-embed-exe"]) else { return };
    let data = std::fs::read(&log).unwrap();
    Log::parse("orig", &data).expect("the recorded log parses");
    let seed = fuzz_seed();
    let mut rng = Rng::new(seed);
    let iters = std::env::var("DEJA_FUZZ_PARSE_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let (mut ok, mut refused) = (0, 0);
    for it in 0..iters {
        let mut d = data.clone();
        let rounds = 1 + rng.below(3);
        let mut whats = Vec::new();
        for _ in 0..rounds {
            whats.push(mutate_raw(&mut rng, &mut d));
            // Sometimes make a mutated payload pass the checksum, to reach the decoder.
            if rng.below(2) == 0 {
                let cs = chunks(&d);
                if !cs.is_empty() {
                    let (f, _) = cs[rng.below(cs.len() as u64) as usize];
                    fix_crc(&mut d, f);
                    whats.push(format!("fix crc at {f}"));
                }
            }
        }
        let r = std::panic::catch_unwind(|| Log::parse("fuzz", &d).map(|l| l.events().count()));
        match r {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(e)) => {
                let s = e.to_string();
                assert!(!s.is_empty() && !s.contains('\n'), "iteration {it}: bad message {s:?}");
                refused += 1;
            }
            Err(_) => panic!("Log::parse panicked (DEJA_FUZZ_SEED={seed}, iteration {it}): {whats:?}"),
        }
    }
    eprintln!("fuzz_log_parse: {iters} mutations (seed {seed}): {ok} parsed, {refused} refused");
    assert!(refused > 0 && ok > 0);
}

/// Replaying mutated-but-parseable logs ends in a clean verdict: a divergence, a refusal, or
/// the guest's own end; never a panic, a hang or a crash of deja.
#[test]
fn fuzz_replay_mutated_logs() {
    let dir = TempDir::new("rr-fuzzr");
    let Some((log, _, _)) = small_log(dir.path(), "t", &["--no-embed-exe"]) else { return };
    // Targets: `tiny`, and (a quarter of the runs) the time/random guest with its SIGALRM
    // handler, so mutated signal events reach signal delivery.
    let mut targets = vec![std::fs::read(&log).unwrap()];
    let libc_ = if common::have_tool("musl-gcc") { Libc::Musl } else { Libc::Glibc };
    if let Some(bin) = guest("timerand", libc_) {
        let log2 = dir.path().join("timerand.deja");
        let args: Vec<OsString> = vec![
            "record".into(),
            "--no-embed-exe".into(),
            "--checkpoint-every".into(),
            "500000".into(),
            "-o".into(),
            log2.clone().into(),
            "--".into(),
            bin.into(),
            "/dev/null".into(),
            "itimer".into(),
        ];
        let rec2 = deja(&args, b"fuzz", None);
        assert_clean("timerand: record", &rec2);
        assert_eq!(rec2.status.0, 0, "{}", text(&rec2.stderr));
        targets.push(std::fs::read(&log2).unwrap());
    }
    let seed = fuzz_seed();
    let mut rng = Rng::new(seed ^ 0xabcdef);
    let secs = std::env::var("DEJA_FUZZ_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20u64);
    let start = Instant::now();
    let p = dir.path().join("m.deja");
    let mut verdicts = BTreeMap::<i32, u64>::new();
    let mut runs = 0u64;
    while start.elapsed() < Duration::from_secs(secs) && runs < 5000 {
        let target = if targets.len() > 1 && rng.below(4) == 0 { 1 } else { 0 };
        let mut d = targets[target].clone();
        let mut whats = vec![format!("target {target}")];
        for _ in 0..1 + rng.below(2) {
            if rng.below(5) == 0 {
                whats.push(mutate_raw(&mut rng, &mut d));
            } else {
                whats.push(mutate_events(&mut rng, &mut d));
            }
        }
        if Log::parse("m", &d).is_err() {
            continue;
        }
        std::fs::write(&p, &d).unwrap();
        let mut inv = Invocation::new(common::deja_bin());
        inv.args = vec!["replay".into(), "--quiet".into(), p.clone().into()];
        inv.timeout = Duration::from_secs(30);
        let o = common::run_native(&inv);
        runs += 1;
        let ctx = || format!("DEJA_FUZZ_SEED={seed}, run {runs}: {whats:?}\nstderr:\n{}", text(&o.stderr));
        assert!(!o.timed_out, "replay hung: {}", ctx());
        assert!(o.host_signal.is_none(), "deja crashed (signal {:?}): {}", o.host_signal, ctx());
        assert!(!text(&o.stderr).contains("panicked"), "deja panicked: {}", ctx());
        let st = o.status.0;
        let clean_end = text(&o.stderr).lines().any(|l| l.starts_with("replay ok: "));
        assert!(
            [124, 125, 127].contains(&st) || clean_end,
            "unexpected status {st} without a `replay ok` verdict: {}",
            ctx()
        );
        if clean_end && std::env::var_os("DEJA_FUZZ_VERBOSE").is_some() {
            eprintln!("replayed to the end despite {whats:?}");
        }
        assert!(o.stdout.is_empty(), "--quiet replay wrote to stdout: {}", ctx());
        *verdicts.entry(st).or_default() += 1;
    }
    eprintln!("fuzz_replay_mutated_logs: {runs} replays in {:?} (seed {seed}): statuses {verdicts:?}", start.elapsed());
    assert!(runs >= 20, "too few replays ran ({runs})");
    assert!(verdicts.get(&124).copied().unwrap_or(0) > 0, "no mutation was detected as a divergence");
}

// ---------------------------------------------------------------------------------------
// f. Real programs: busybox

const BUSYBOX: &str = "/bin/busybox";

fn have_busybox() -> bool {
    if Path::new(BUSYBOX).is_file() {
        return true;
    }
    common::skip_or_fail("/bin/busybox not found (apt-get install busybox-static)");
    false
}

/// Record `busybox ARGS…` in `cwd` with `stdin`, check the recording against a native run
/// when `native` is set, then replay it and return (recorded run, log path).
fn busybox_record(dir: &Path, name: &str, args: &[&str], stdin: &[u8]) -> (RunOutput, PathBuf) {
    let log = dir.join(format!("{name}.deja"));
    let mut a = record_args(&log, Path::new(BUSYBOX), args);
    a.insert(1, "--checkpoint-every".into());
    a.insert(2, "100000".into());
    let rec = deja(&a, stdin, Some(dir));
    assert_clean(&format!("busybox {name}: record"), &rec);
    assert_eq!(rec.status.0, 0, "busybox {name}: recording failed: {}", text(&rec.stderr));
    (rec, log)
}

#[test]
fn busybox_sort_random_stdin() {
    if !have_busybox() {
        return;
    }
    let dir = TempDir::new("rr-bb-sort");
    let mut rng = Rng::new(time_seed("DEJA_TEST_SEED"));
    let mut input = String::new();
    for _ in 0..3000 {
        input += &format!("{:x} {}\n", rng.next(), rng.below(1000));
    }
    let (rec, log) = busybox_record(dir.path(), "sort", &["sort"], input.as_bytes());
    let mut want: Vec<&str> = input.lines().collect();
    want.sort();
    assert_eq!(text(&rec.stdout), want.join("\n") + "\n", "the recorded sort is wrong");
    assert_replays("busybox sort", &log, &rec, Some(dir.path()));
}

#[test]
fn busybox_date() {
    if !have_busybox() {
        return;
    }
    let dir = TempDir::new("rr-bb-date");
    let (rec, log) = busybox_record(dir.path(), "date", &["date", "+%s.%N"], b"");
    std::thread::sleep(Duration::from_millis(1100));
    let v = assert_replays("busybox date", &log, &rec, Some(dir.path()));
    // Natively, time has moved on since.
    let now =
        common::run_native(&Invocation { args: vec!["date".into(), "+%s.%N".into()], ..Invocation::new(BUSYBOX) });
    assert_ne!(now.stdout, rec.stdout, "date did not change?");
    assert_eq!(v.1, "exit 0");
}

#[test]
fn busybox_od_urandom() {
    if !have_busybox() {
        return;
    }
    let dir = TempDir::new("rr-bb-od");
    let (rec, log) = busybox_record(dir.path(), "od", &["od", "-An", "-tx1", "-N16", "/dev/urandom"], b"");
    assert!(rec.stdout.len() > 40, "od printed {:?}", text(&rec.stdout));
    assert_replays("busybox od", &log, &rec, Some(dir.path()));
    let (rec2, _) = busybox_record(dir.path(), "od2", &["od", "-An", "-tx1", "-N16", "/dev/urandom"], b"");
    assert_ne!(rec.stdout, rec2.stdout, "two reads of /dev/urandom agree");
}

#[test]
fn busybox_ls_of_a_changing_directory() {
    if !have_busybox() {
        return;
    }
    let dir = TempDir::new("rr-bb-ls");
    let listed = dir.path().join("listed");
    std::fs::create_dir(&listed).unwrap();
    for i in 0..40 {
        std::fs::write(listed.join(format!("file-{i:03}")), format!("{i}")).unwrap();
    }
    let (rec, log) = busybox_record(dir.path(), "ls", &["ls", "-1", "listed"], b"");
    assert_eq!(text(&rec.stdout).lines().count(), 40, "{}", text(&rec.stdout));
    // The directory changes, then vanishes; the replay still lists what was recorded.
    for i in 0..20 {
        std::fs::remove_file(listed.join(format!("file-{i:03}"))).unwrap();
    }
    std::fs::write(listed.join("new-file"), b"x").unwrap();
    let native = common::run_native(&Invocation {
        args: vec!["ls".into(), "-1".into(), listed.clone().into()],
        ..Invocation::new(BUSYBOX)
    });
    assert_ne!(native.stdout, rec.stdout);
    assert_replays("busybox ls, directory changed", &log, &rec, Some(dir.path()));
    std::fs::remove_dir_all(&listed).unwrap();
    assert_replays("busybox ls, directory gone", &log, &rec, Some(dir.path()));
}

// ---------------------------------------------------------------------------------------
// g. Deterministic runs without a log

#[test]
fn virtual_clock_is_deterministic_and_seeded() {
    let Some(bin) = guest("timerand", Libc::Glibc) else { return };
    let dir = TempDir::new("rr-virtual");
    let input = dir.path().join("in.txt");
    std::fs::write(&input, b"virtual clock input\n").unwrap();
    let run_clock = |clock: &str, extra: &[&str], mode: &str| {
        let mut args: Vec<OsString> = vec!["run".into(), format!("--clock={clock}").into()];
        args.extend(extra.iter().map(OsString::from));
        args.extend(["--".into(), bin.clone().into(), input.clone().into(), mode.into()]);
        let o = deja(&args, b"same stdin\n", Some(dir.path()));
        assert_clean("run --clock=virtual", &o);
        assert_eq!(o.status.0, 0, "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let run = |extra: &[&str], mode: &str| run_clock("virtual", extra, mode);
    let line = |s: &str, key: &str| s.lines().find(|l| l.starts_with(key)).map(str::to_string);
    let a = run(&[], "none");
    let b = run(&[], "none");
    assert_eq!(a, b, "two virtual-clock runs differ");
    let s1 = run(&["--seed", "1"], "none");
    let s2 = run(&["--seed", "2"], "none");
    assert_eq!(s1, run(&["--seed", "1"], "none"));
    for key in ["getrandom:", "at_random:"] {
        assert!(line(&s1, key).is_some(), "no {key} line:\n{s1}");
        assert_ne!(line(&s1, key), line(&s2, key), "--seed does not change {key}");
    }
    for key in ["realtime:", "monotonic:", "rdtsc:", "stdin:", "file:"] {
        assert_eq!(line(&s1, key), line(&s2, key), "--seed changed {key}");
    }
    // A shift makes time pass faster.
    let shifted = run_clock("virtual,shift=3", &[], "none");
    assert_ne!(line(&a, "monotonic:"), line(&shifted, "monotonic:"));
    // Timers run on virtual time: their signals land at the same instruction every run.
    for mode in ["itimer", "posix", "pause"] {
        let a = run(&[], mode);
        assert_eq!(a, run(&[], mode), "{mode}: two virtual-clock runs differ");
        let want =
            if mode == "pause" { "pause 3 returned -1, handler ran 3 time(s)" } else { "SIGALRM caught 1 time(s)" };
        assert!(a.contains(want), "{mode}: {a}");
        let fast = run_clock("virtual,shift=2", &[], mode);
        assert_eq!(fast, run_clock("virtual,shift=2", &[], mode));
        if mode != "pause" {
            assert_ne!(line(&a, "SIGALRM"), line(&fast, "SIGALRM"), "{mode}: shift does not move the signal");
        }
    }
    let _ = std::io::stderr().flush();
}

// ---------------------------------------------------------------------------------------
// AArch64 guests: the same guarantees for programs of the other ISA (tests/replay_guests_a64/,
// built with aarch64-linux-gnu-gcc; `*_raw` ones are freestanding: raw syscalls, integer
// code only), and for Debian's arm64 busybox.

const A64_CC: &str = "aarch64-linux-gnu-gcc";

/// Build an AArch64 guest (tests/replay_guests_a64/PROG.c, or tests/guests/PROG.c) once per
/// test run. `None`: the cross compiler is missing (skipped).
fn a64_guest(prog: &str) -> Option<PathBuf> {
    if !common::have_tool(A64_CC) {
        common::skip_or_fail(&format!("{A64_CC} not found: {prog} [aarch64] not tested"));
        return None;
    }
    let cell = common::memo_cell(&BUILDS, &format!("aarch64/{prog}"));
    match cell.get_or_init(|| a64_compile(prog)) {
        Ok(p) => Some(p.clone()),
        Err(e) => panic!("building {prog} [aarch64]: {e}"),
    }
}

fn a64_compile(prog: &str) -> Result<PathBuf, String> {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut src = tests.join("replay_guests_a64").join(format!("{prog}.c"));
    if !src.exists() {
        src = tests.join("guests").join(format!("{prog}.c"));
    }
    let dir = common::scratch_root().join("replay_guests").join("aarch64");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(prog);
    let tmp = dir.join(format!(".{prog}.{}", std::process::id()));
    let flags: &[&str] = if prog.ends_with("_raw") {
        &["-nostdlib", "-ffreestanding", "-fno-builtin", "-mgeneral-regs-only", "-fno-stack-protector", "-O1"]
    } else {
        &["-O2"]
    };
    let res = Command::new(A64_CC)
        .arg("-static")
        .args(flags)
        .args(["-w", "-o"])
        .arg(&tmp)
        .arg(&src)
        .output()
        .map_err(|e| format!("cannot run {A64_CC}: {e}"))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{A64_CC} failed on {}:\n{}", src.display(), text(&res.stderr)));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("rename to {}: {e}", out.display()))?;
    Ok(out)
}

/// What an AArch64 input guest prints that the test checks: (stdin line for 100000 bytes,
/// getrandom result line, SIGALRM line).
struct A64Expect {
    stdin: &'static str,
    getrandom: &'static str,
    alarm: &'static str,
}

/// tests/replay_guests_a64/rr_inputs.c (glibc).
const RR_INPUTS: A64Expect =
    A64Expect { stdin: "stdin: 100000 bytes", getrandom: "getrandom returned 16", alarm: "SIGALRM caught 1 time(s)" };
/// tests/replay_guests_a64/rr_raw.c (freestanding, hexadecimal output).
const RR_RAW: A64Expect = A64Expect {
    stdin: "stdin bytes 00000000000186a0",
    getrandom: "getrandom returned 0000000000000010",
    alarm: "SIGALRM caught 0000000000000001",
};

/// Record an AArch64 guest that prints clocks, CNTVCT_EL0 (`mrs`), getrandom and AT_RANDOM
/// bytes and a checksum of stdin, and (mode `alarm`) where a SIGALRM from setitimer
/// interrupted its busy loop; replay it three times; a second recording must differ.
fn a64_inputs(prog: &str, e: &A64Expect, mode: &str) {
    let Some(bin) = a64_guest(prog) else { return };
    let what = format!("{prog} {mode} [aarch64]");
    let dir = TempDir::new("rr-a64");
    let log = dir.path().join("a.deja");
    let stdin = Rng::new(time_seed("DEJA_TEST_SEED")).bytes(100_000);
    let record = |log: &Path| {
        let o = deja(&record_args(log, &bin, &[mode]), &stdin, Some(dir.path()));
        assert_clean(&format!("{what}: record"), &o);
        o
    };
    let rec = record(&log);
    let out = text(&rec.stdout);
    assert_eq!(rec.status.0, 0, "{what}: recording failed\nstdout:\n{out}\nstderr:\n{}", text(&rec.stderr));
    assert!(out.contains(e.stdin), "{what}: stdin not read whole:\n{out}");
    assert!(out.contains(e.getrandom), "{what}: getrandom failed:\n{out}");
    let dumped = dump(&log);
    assert!(dumped.iter().any(|l| dump_kind(l) == "tsc"), "{what}: no counter (tsc) event for cntvct_el0");
    if mode == "alarm" {
        assert!(out.contains(e.alarm), "{what}: no SIGALRM:\n{out}");
        assert!(dumped.iter().any(|l| l.contains("asynchronous SIGALRM")), "{what}: no SIGALRM event in the log");
    }
    let first = assert_replays(&format!("{what}: replay 1"), &log, &rec, Some(dir.path()));
    for i in 2..=3 {
        assert_eq!(first, assert_replays(&format!("{what}: replay {i}"), &log, &rec, Some(dir.path())));
    }
    let rec2 = record(&dir.path().join("b.deja"));
    let out2 = text(&rec2.stdout);
    for key in ["realtime:", "monotonic:", "cntvct:", "getrandom:", "at_random:"] {
        let line = |s: &str| s.lines().find(|l| l.starts_with(key)).map(str::to_string);
        assert!(line(&out).is_some(), "{what}: no {key} line");
        assert_ne!(line(&out), line(&out2), "{what}: two recordings agree on {key}");
    }
}

#[test]
fn a64_inputs_glibc() {
    a64_inputs("rr_inputs", &RR_INPUTS, "none");
}

#[test]
fn a64_sigalrm_mid_loop_glibc() {
    a64_inputs("rr_inputs", &RR_INPUTS, "alarm");
}

#[test]
fn a64_inputs_freestanding() {
    a64_inputs("rr_raw", &RR_RAW, "none");
}

#[test]
fn a64_sigalrm_mid_loop_freestanding() {
    a64_inputs("rr_raw", &RR_RAW, "alarm");
}

/// `deja dump` and `deja info` name an AArch64 log's syscalls in arm64's (asm-generic)
/// numbering, not x86-64's. Oracle: tests/replay_guests_a64/rr_raw.c makes exactly these
/// syscalls (raw `svc`, by its source): clock_gettime twice, gettimeofday, getrandom, reads of
/// stdin, writes to stdout, exit_group. (In x86-64 numbering 113, 169, 278, 63, 64 and 94 are
/// setreuid, reboot, vmsplice, uname, semget and lchown.)
#[test]
fn a64_dump_and_info_name_syscalls_by_the_logs_isa() {
    let Some(bin) = a64_guest("rr_raw") else { return };
    let dir = TempDir::new("rr-a64-names");
    let log = dir.path().join("names.deja");
    let rec = deja(&record_args(&log, &bin, &["none"]), b"some stdin\n", None);
    assert_clean("rr_raw: record", &rec);
    assert_eq!(rec.status.0, 0, "rr_raw: {}", text(&rec.stderr));
    let dumped = dump(&log);
    let names: Vec<&str> = dumped
        .iter()
        .filter(|l| dump_kind(l) == "syscall")
        .map(|l| l.split_whitespace().nth(3).unwrap_or(""))
        .collect();
    let mut set: Vec<&str> = names.clone();
    set.sort();
    set.dedup();
    assert_eq!(
        set,
        ["clock_gettime", "exit_group", "getrandom", "gettimeofday", "read", "write"],
        "guest syscalls in the dump: {names:?}"
    );
    assert_eq!(names.first(), Some(&"clock_gettime"), "{names:?}");
    assert_eq!(names.last(), Some(&"exit_group"), "{names:?}");
    assert_eq!(names.iter().filter(|n| **n == "clock_gettime").count(), 2, "{names:?}");
    // The counter reads are named as the instruction that made them.
    assert!(dumped.iter().any(|l| dump_kind(l) == "tsc" && l.contains("cntvct_el0 = ")), "{dumped:#?}");
    let info = deja(&[OsString::from("info"), log.into()], b"", None);
    let info = text(&info.stdout);
    let line = info.lines().find_map(|l| l.strip_prefix("syscalls:")).unwrap_or_else(|| panic!("{info}"));
    for want in ["write ", "exit_group 1", "clock_gettime 2", "getrandom 1", "gettimeofday 1", "read "] {
        assert!(line.contains(want), "no `{want}` in deja info's syscalls line: {line}");
    }
    for x86 in ["semget", "lchown", "setreuid", "vmsplice", "uname", "reboot"] {
        assert!(!line.contains(x86), "x86-64 name {x86} in deja info: {line}");
        assert!(!names.contains(&x86), "x86-64 name {x86} in deja dump: {names:?}");
    }
}

/// A divergence report on an AArch64 log names both syscalls in arm64's numbering: the log's
/// first guest syscall (clock_gettime, 113 on arm64) is rewritten to gettimeofday (169), and
/// the replay must stop saying it expected gettimeofday and got clock_gettime.
#[test]
fn a64_divergence_report_names_syscalls_by_the_logs_isa() {
    let Some(bin) = a64_guest("rr_raw") else { return };
    let dir = TempDir::new("rr-a64-div");
    let log = dir.path().join("div.deja");
    let rec = deja(&record_args(&log, &bin, &["none"]), b"", None);
    assert_eq!(rec.status.0, 0, "rr_raw: {}", text(&rec.stderr));
    let mut d = std::fs::read(&log).unwrap();
    let cs = chunks(&d);
    let (h, hl) = cs[0];
    let mut evs: Vec<(u64, Event)> = Vec::new();
    for &(f, l) in cs.iter().skip(1) {
        let mut c = Cursor::new(&d[f + 8..f + 8 + l]);
        while !c.at_end() {
            evs.push(c.event().expect("the recorded log decodes"));
        }
    }
    let first = evs.iter_mut().find_map(|(_, e)| match e {
        Event::Syscall { nr, .. } => Some(nr),
        _ => None,
    });
    let nr = first.expect("a syscall event");
    assert_eq!(*nr, 113, "rr_raw's first syscall is clock_gettime");
    *nr = 169;
    let mut payload = Vec::new();
    for (delta, e) in &evs {
        e.encode(*delta, &mut payload);
    }
    d.truncate(h + 8 + hl);
    d.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    d.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    d.extend_from_slice(&payload);
    std::fs::write(&log, &d).unwrap();
    let o = deja(&[OsString::from("replay"), log.into()], b"", None);
    let err = text(&o.stderr);
    assert_eq!(o.status.0, 124, "not a divergence:\n{err}");
    assert!(err.contains("syscall gettimeofday"), "expected syscall not named in arm64 numbering:\n{err}");
    assert!(err.contains("syscall clock_gettime"), "actual syscall not named in arm64 numbering:\n{err}");
    assert!(!err.contains("reboot") && !err.contains("setreuid"), "x86-64 names:\n{err}");
}

/// An AArch64 program's exit status and a fault that kills it replay exactly.
#[test]
fn a64_exit_and_crash() {
    let Some(bin) = a64_guest("die_signal") else { return };
    let dir = TempDir::new("rr-a64-die");
    for (mode, status) in [("none", 0), ("null", 128 + libc::SIGSEGV), ("abort", 128 + libc::SIGABRT)] {
        let log = dir.path().join(format!("{mode}.deja"));
        let rec = deja(&record_args(&log, &bin, &[mode]), b"", None);
        assert_clean(&format!("die_signal {mode}: record"), &rec);
        assert_eq!(rec.status.0, status, "die_signal {mode}: {}", text(&rec.stderr));
        let v = assert_replays(&format!("die_signal {mode} [aarch64]"), &log, &rec, None);
        for _ in 2..=3 {
            assert_eq!(v, assert_replays(&format!("die_signal {mode} [aarch64] again"), &log, &rec, None));
        }
    }
}

/// Debian's arm64 busybox reading the clock, stdin and a directory: the recordings replay.
#[test]
fn a64_busybox() {
    let Some(bb) = common::arm64_busybox() else {
        common::skip_or_fail("arm64 busybox not found (scripts/fetch-busybox-arm64.sh)");
        return;
    };
    let dir = TempDir::new("rr-a64-bb");
    let stdin = Rng::new(7).bytes(50_000);
    for (i, args) in [&["date", "+%s.%N %A %Y-%m-%d"][..], &["sha256sum"], &["ls", "-l", "/"]].iter().enumerate() {
        let log = dir.path().join(format!("bb{i}.deja"));
        let rec = deja(&record_args(&log, &bb, args), &stdin, None);
        assert_clean(&format!("busybox {args:?}: record"), &rec);
        assert_eq!(rec.status.0, 0, "busybox {args:?}: recording failed\n{}", text(&rec.stderr));
        let v = assert_replays(&format!("busybox {args:?} [aarch64]"), &log, &rec, None);
        for _ in 2..=3 {
            assert_eq!(v, assert_replays(&format!("busybox {args:?} [aarch64] again"), &log, &rec, None));
        }
        let info = deja(&[OsString::from("info"), log.clone().into()], b"", None);
        assert!(text(&info.stdout).contains("isa:          aarch64"), "{}", text(&info.stdout));
    }
}
