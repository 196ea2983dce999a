//! Shared helpers for the differential integration tests (`guests.rs`, `guests_a64.rs`,
//! `busybox.rs`): run a program under its oracle and under `deja run`, with the same
//! arguments, stdin, environment and working directory, and compare stdout, stderr and exit
//! status (design §8: the host is the oracle for x86-64 programs, `qemu-aarch64` for AArch64
//! programs).
//!
//! Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The emulator binary built by cargo for this test run, or `$DEJA_BIN` if set (to test
/// another build with the same harness).
pub fn deja_bin() -> &'static str {
    static BIN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BIN.get_or_init(|| std::env::var("DEJA_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_deja").to_string()))
}

/// Set (to anything but "0") by `scripts/test.sh` and CI: a missing tool (gcc, musl-gcc,
/// busybox) is then a failure instead of a skipped test.
pub fn tools_required() -> bool {
    std::env::var_os("DEJA_REQUIRE_TOOLS").is_some_and(|v| v != "0")
}

/// Skip the calling test (by returning early) with a note, or fail under `DEJA_REQUIRE_TOOLS`.
pub fn skip_or_fail(what: &str) {
    if tools_required() {
        panic!("{what} (DEJA_REQUIRE_TOOLS is set, so this is a failure, not a skip)");
    }
    eprintln!("SKIPPED: {what}");
}

/// Per-run scratch area under cargo's target tmpdir.
pub fn scratch_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A directory removed (with its contents) when dropped.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A fresh, empty directory whose name starts with `prefix`.
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let root = scratch_root().join("tmp");
        std::fs::create_dir_all(&root).expect("create scratch root");
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = root.join(format!("{prefix}-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("create {}: {e}", path.display()),
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// How a process ended, in the shell's convention: exit status, or 128+N when killed by
/// signal N. This is exactly what `deja run` exits with for a guest killed by signal N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub i32);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 > 128 && self.0 < 128 + 65 {
            write!(f, "{} (killed by signal {})", self.0, self.0 - 128)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// Everything we compare about one run.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: Status,
    /// The process itself (not a guest) was killed by this signal (only meaningful for deja:
    /// the emulator crashing is never a match).
    pub host_signal: Option<i32>,
    pub timed_out: bool,
}

/// One program invocation: what to run and in which surroundings.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<PathBuf>,
    pub stdin: Vec<u8>,
    /// For the native run; runs under deja use `deja_timeout()`.
    pub timeout: Duration,
}

impl Invocation {
    pub fn new(program: impl Into<PathBuf>) -> Invocation {
        Invocation {
            program: program.into(),
            args: Vec::new(),
            env: base_env(),
            cwd: None,
            stdin: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The fixed environment every program gets, natively and under deja (which forwards its
/// own environment to the guest).
pub fn base_env() -> Vec<(String, String)> {
    vec![("PATH".into(), "/usr/bin:/bin".into()), ("LC_ALL".into(), "C".into()), ("TZ".into(), "UTC".into())]
}

/// Timeout for runs under the emulator: `DEJA_TEST_TIMEOUT` seconds, default 120 (the guests
/// take well under 0.5 s natively; a hung emulator must not eat the CI budget).
pub fn deja_timeout() -> Duration {
    let secs = std::env::var("DEJA_TEST_TIMEOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(120);
    Duration::from_secs(secs)
}

/// Run `cmd` to completion (or kill it at `timeout`), feeding `stdin` and collecting output.
fn run_command(mut cmd: Command, stdin: &[u8], timeout: Duration) -> RunOutput {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Own process group, so a timeout kills everything it started (whose open pipe ends would
    // otherwise keep our readers waiting).
    cmd.process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only calls setrlimit,
    // which is async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            // No core files from the guests that are meant to die by a signal.
            let lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &lim);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let mut pin = child.stdin.take().expect("stdin pipe");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The program may exit without reading everything (EPIPE): that is fine.
        let _ = pin.write_all(&data);
    });
    let mut pout = child.stdout.take().expect("stdout pipe");
    let mut perr = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = pout.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = perr.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(st) => break st,
            None if start.elapsed() > timeout => {
                timed_out = true;
                // SAFETY: plain syscall; the negative pid names the child's own process group
                // (created by process_group(0) above), which contains nothing of ours.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                let _ = child.kill();
                break child.wait().expect("wait after kill");
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    let _ = writer.join();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let (code, host_signal) = match (status.code(), status.signal()) {
        (Some(c), _) => (c, None),
        (None, Some(s)) => (128 + s, Some(s)),
        (None, None) => (-1, None),
    };
    RunOutput { stdout, stderr, status: Status(code), host_signal, timed_out }
}

fn configure(cmd: &mut Command, inv: &Invocation) {
    cmd.env_clear();
    for (k, v) in &inv.env {
        cmd.env(k, v);
    }
    if let Some(d) = &inv.cwd {
        cmd.current_dir(d);
    }
}

/// Run the program directly on the host.
pub fn run_native(inv: &Invocation) -> RunOutput {
    let mut cmd = Command::new(&inv.program);
    cmd.args(&inv.args);
    configure(&mut cmd, inv);
    run_command(cmd, &inv.stdin, inv.timeout)
}

/// What a program is compared against (design §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oracle {
    /// The host runs the (x86-64) program itself.
    Native,
    /// Debian's qemu-user runs the AArch64 program (`qemu-aarch64 PROG ARGS…`).
    QemuAarch64,
}

impl Oracle {
    /// For messages: "native", "qemu-aarch64".
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Native => "native",
            Oracle::QemuAarch64 => "qemu-aarch64",
        }
    }

    /// Whether the oracle can run here (qemu-aarch64 on PATH).
    pub fn available(self) -> bool {
        match self {
            Oracle::Native => true,
            Oracle::QemuAarch64 => have_tool("qemu-aarch64"),
        }
    }

    /// Run the program under the oracle.
    pub fn run(self, inv: &Invocation) -> RunOutput {
        match self {
            Oracle::Native => run_native(inv),
            Oracle::QemuAarch64 => run_qemu_aarch64(inv),
        }
    }
}

/// The CPU qemu-aarch64 models for the oracle runs: `$DEJA_QEMU_CPU`, default `cortex-a72`,
/// an Armv8.0 core with FP/SIMD and no SVE/SME, like the CPU deja presents (qemu's default
/// `max` cpu writes SVE, TPIDR2 and ZA records into signal frames, and its SVE record
/// overrides the FP/SIMD registers a handler edits in the fpsimd record).
pub fn qemu_cpu() -> String {
    std::env::var("DEJA_QEMU_CPU").unwrap_or_else(|_| "cortex-a72".to_string())
}

/// Run the program under `qemu-aarch64 -cpu CPU PROG ARGS…`. When the guest dies of a signal, qemu
/// prints its own report ("qemu: uncaught target signal 11 (Segmentation fault) - core
/// dumped", the counterpart of deja's "deja: guest killed by …" line) and kills itself with
/// that signal: its report line is removed from stderr, and the status is 128+N as for a
/// native death.
pub fn run_qemu_aarch64(inv: &Invocation) -> RunOutput {
    let mut cmd = Command::new("qemu-aarch64");
    cmd.arg("-cpu").arg(qemu_cpu()).arg(&inv.program).args(&inv.args);
    configure(&mut cmd, inv);
    let mut out = run_command(cmd, &inv.stdin, inv.timeout);
    let mut err = Vec::with_capacity(out.stderr.len());
    for line in out.stderr.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b"qemu: uncaught target signal") {
            err.extend_from_slice(line);
        }
    }
    out.stderr = err;
    out
}

/// Debian's arm64 busybox-static: `$DEJA_BUSYBOX_ARM64`, or the one
/// `scripts/fetch-busybox-arm64.sh` keeps in its cache, fetched now if it is not there yet
/// (None if that fails or qemu-aarch64, its oracle, is missing).
pub fn arm64_busybox() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DEJA_BUSYBOX_ARM64") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    if !Oracle::QemuAarch64.available() {
        return None;
    }
    static FOUND: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fetch-busybox-arm64.sh");
            let out = Command::new(&script).stderr(Stdio::inherit()).output().ok()?;
            let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            (out.status.success() && path.is_file()).then_some(path)
        })
        .clone()
}

/// The engines every x86-64 guest test runs under: the interpreter, and the JIT when this
/// build has it (cargo feature `jit`). `DEJA_TEST_ENGINES` (comma-separated) overrides.
pub fn engines() -> Vec<String> {
    if let Ok(v) = std::env::var("DEJA_TEST_ENGINES") {
        return v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    }
    let mut v = vec!["interp".to_string()];
    if cfg!(feature = "jit") {
        v.push("jit".to_string());
    }
    v
}

/// Run the program under `deja run -- PROG ARGS…`.
pub fn run_deja(inv: &Invocation) -> RunOutput {
    run_deja_with(inv, "interp")
}

/// Run the program under `deja run --engine ENGINE -- PROG ARGS…`.
pub fn run_deja_with(inv: &Invocation, engine: &str) -> RunOutput {
    let mut cmd = Command::new(deja_bin());
    cmd.arg("run").args(["--engine", engine]).arg("--").arg(&inv.program).args(&inv.args);
    configure(&mut cmd, inv);
    let timeout = deja_timeout();
    // A guest killed by a signal shows up as deja's exit code 128+N; `host_signal` set here
    // means the emulator process itself was killed.
    run_command(cmd, &inv.stdin, timeout)
}

/// Stderr without the emulator's own diagnostic lines (those start with "deja: ").
pub fn strip_deja_lines(stderr: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stderr.len());
    for line in stderr.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b"deja: ") {
            out.extend_from_slice(line);
        }
    }
    out
}

/// The emulator's diagnostic lines, for failure messages.
pub fn deja_lines(stderr: &[u8]) -> Vec<String> {
    stderr
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"deja: "))
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect()
}

fn show_line(l: Option<&[u8]>) -> String {
    match l {
        Some(l) => format!("{:?}", String::from_utf8_lossy(l)),
        None => "<end of output>".to_string(),
    }
}

fn first_difference(oracle: &str, what: &str, native: &[u8], deja: &[u8]) -> Option<String> {
    if native == deja {
        return None;
    }
    // Lines keep their '\n', so a missing final newline shows up as a difference.
    let a: Vec<&[u8]> = native.split_inclusive(|&b| b == b'\n').collect();
    let b: Vec<&[u8]> = deja.split_inclusive(|&b| b == b'\n').collect();
    let mut i = 0;
    while i < a.len() && i < b.len() && a[i] == b[i] {
        i += 1;
    }
    let byte_off = a[..i].iter().map(|l| l.len()).sum::<usize>();
    let mut msg = format!(
        "{what} differs ({} bytes {oracle}, {} bytes deja); first difference at line {} (byte offset {byte_off}):\n",
        native.len(),
        deja.len(),
        i + 1
    );
    if i > 0 {
        msg += &format!("    context: {}\n", show_line(Some(a[i - 1])));
    }
    msg += &format!("    {:<8} {}\n", format!("{oracle}:"), show_line(a.get(i).copied()));
    msg += &format!("    deja:    {}\n", show_line(b.get(i).copied()));
    Some(msg)
}

/// Compare a native run with a deja run; panic with a readable report on any difference.
pub fn assert_same(name: &str, detail: &str, native: &RunOutput, deja: &RunOutput) {
    assert_same_as(Oracle::Native, name, detail, native, deja)
}

/// Compare the oracle's run with a deja run; panic with a readable report on any difference.
pub fn assert_same_as(oracle: Oracle, name: &str, detail: &str, native: &RunOutput, deja: &RunOutput) {
    let what = oracle.name();
    let mut problems = Vec::new();
    if native.timed_out {
        problems.push(format!("the {} run timed out (the test itself is broken)", what.to_uppercase()));
    }
    if deja.timed_out {
        problems.push(format!("the deja run timed out after {:?}", deja_timeout()));
    }
    if let (Some(s), false) = (deja.host_signal, deja.timed_out) {
        problems.push(format!("the deja process itself was killed by host signal {s} (emulator crash)"));
    }
    if let Some(d) = first_difference(what, "stdout", &native.stdout, &deja.stdout) {
        problems.push(d);
    }
    let nerr = strip_deja_lines(&native.stderr);
    let derr = strip_deja_lines(&deja.stderr);
    if let Some(d) = first_difference(what, "stderr (without \"deja: \" lines)", &nerr, &derr) {
        problems.push(d);
    }
    if native.status != deja.status {
        problems.push(format!("exit status differs: {what} {}, deja {}", native.status, deja.status));
    }
    if problems.is_empty() {
        return;
    }
    let mut msg = format!("{name}: {what} and deja runs differ\n  {detail}\n");
    let diags = deja_lines(&deja.stderr);
    if !diags.is_empty() {
        msg += "  deja said:\n";
        for d in diags.iter().take(10) {
            msg += &format!("    {d}\n");
        }
    }
    for p in problems {
        msg += &format!("  {p}\n");
    }
    panic!("{msg}");
}

/// Run an invocation both ways and assert they agree. Returns (native, deja) outputs.
pub fn differential(name: &str, inv: &Invocation) -> (RunOutput, RunOutput) {
    let native = run_native(inv);
    let deja = run_deja(inv);
    let detail = format!(
        "program: {} {}\n  rerun:   {} run -- {} {}",
        inv.program.display(),
        shell_words(&inv.args),
        deja_bin(),
        inv.program.display(),
        shell_words(&inv.args)
    );
    assert_same(name, &detail, &native, &deja);
    (native, deja)
}

/// `args` joined for pasting into a shell.
pub fn shell_words(args: &[OsString]) -> String {
    args.iter()
        .map(|a| {
            let s = a.to_string_lossy();
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%".contains(c)) {
                s.into_owned()
            } else {
                format!("'{}'", s.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an executable named `name` is on PATH (or is an existing path).
pub fn have_tool(name: &str) -> bool {
    if name.contains('/') {
        return Path::new(name).is_file();
    }
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file())).unwrap_or(false)
}

/// A tiny memo table keyed by string, shared by all tests of a crate (tests run on threads).
/// Declare one as `static M: Memo<T> = Memo::new(BTreeMap::new());`.
pub type Memo<T> = std::sync::Mutex<BTreeMap<String, std::sync::Arc<std::sync::OnceLock<T>>>>;

/// Get the cell for `key`, creating it if needed; the caller initialises it with `get_or_init`
/// (so two tests needing the same build wait for one compiler run).
pub fn memo_cell<T>(memo: &Memo<T>, key: &str) -> std::sync::Arc<std::sync::OnceLock<T>> {
    let mut m = memo.lock().unwrap_or_else(|e| e.into_inner());
    m.entry(key.to_string()).or_default().clone()
}
