//! The gdb harness shared by `gdb.rs` (x86-64 guests, `gdb`) and `gdb_a64.rs` (AArch64
//! guests, `gdb-multiarch`); included with `#[path = "common/gdb.rs"] mod harness;` next to
//! `mod common;`.
//!
//! A guest is a C program of tests/gdb_guests built once per test run with
//! `-static -O0 -g` (the ISA's gcc), recorded once per argument list with frequent
//! checkpoints (so a wrong snapshot restore shows up as a divergence), served with
//! `deja replay --gdb 127.0.0.1:0`, and driven by a gdb script in batch mode. Every gdb and
//! deja run is bounded by a timeout and deja is killed when its `Server` is dropped.
#![allow(dead_code)]

use crate::common::{deja_bin, scratch_root, skip_or_fail};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(180);

/// The guest ISA of a test, with its compiler and its gdb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    X86_64,
    Aarch64,
}

impl Isa {
    pub fn cc(self) -> &'static str {
        match self {
            Isa::X86_64 => "gcc",
            Isa::Aarch64 => "aarch64-linux-gnu-gcc",
        }
    }

    /// The gdb deja's connect hint names and the tests run.
    pub fn gdb(self) -> &'static str {
        match self {
            Isa::X86_64 => "gdb",
            Isa::Aarch64 => "gdb-multiarch",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Isa::X86_64 => "gdb",
            Isa::Aarch64 => "gdb_a64",
        }
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Run `cmd` to completion or kill it at the timeout; (exit code, stdout, stderr). With
/// `merged`, stdout and stderr are one stream (in the order written), returned as stdout.
pub fn run_with(mut cmd: Command, merged: bool) -> (Option<i32>, String, String) {
    cmd.stdin(Stdio::null());
    let (mut out, mut err): (Box<dyn std::io::Read + Send>, Box<dyn std::io::Read + Send>) = if merged {
        let (r, w) = std::io::pipe().expect("pipe");
        cmd.stdout(w.try_clone().expect("pipe")).stderr(w);
        (Box::new(r), Box::new(std::io::empty()))
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        (Box::new(std::io::empty()), Box::new(std::io::empty()))
    };
    let what = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    // The command keeps its own ends of a merged pipe; ours were moved into it.
    drop(cmd);
    if !merged {
        out = Box::new(child.stdout.take().unwrap());
        err = Box::new(child.stderr.take().unwrap());
    }
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let (o, e) = (o.join().unwrap(), e.join().unwrap());
            panic!("timed out after {TIMEOUT:?}: {what}\nstdout:\n{o}\nstderr:\n{e}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.code(), o.join().unwrap(), e.join().unwrap())
}

pub fn run(cmd: Command) -> (Option<i32>, String, String) {
    run_with(cmd, false)
}

type Cache<K> = Mutex<Vec<(K, Option<PathBuf>)>>;

/// tests/gdb_guests/`name`.c built for `isa` once per test run, or None when its compiler or
/// gdb is missing.
pub fn guest(isa: Isa, name: &'static str) -> Option<PathBuf> {
    static EXES: OnceLock<Cache<(Isa, &'static str)>> = OnceLock::new();
    let mut exes = EXES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = exes.iter().find(|(k, _)| *k == (isa, name)) {
        return p.clone();
    }
    let exe = (have(isa.cc()) && have(isa.gdb())).then(|| {
        let dir = scratch_root().join(isa.dir());
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join(name);
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/gdb_guests/{name}.c"));
        let mut cmd = Command::new(isa.cc());
        cmd.args(["-static", "-O0", "-g", "-o"]).arg(&exe).arg(&src);
        let (code, _, err) = run(cmd);
        assert_eq!(code, Some(0), "{} failed:\n{err}", isa.cc());
        exe
    });
    exes.push(((isa, name), exe.clone()));
    exe
}

/// A recorded run of a guest.
#[derive(Debug, Clone)]
pub struct Recording {
    pub isa: Isa,
    pub exe: PathBuf,
    pub log: PathBuf,
    /// What the guest wrote to stdout while being recorded.
    pub stdout: String,
}

impl AsRef<OsStr> for Recording {
    fn as_ref(&self) -> &OsStr {
        self.log.as_os_str()
    }
}

/// A recording of guest `name` with `args`, made once per test run; None (the test is
/// skipped, or fails under DEJA_REQUIRE_TOOLS) when the compiler or gdb is missing.
pub fn recording(isa: Isa, name: &'static str, args: &'static [&'static str]) -> Option<Recording> {
    type Key = (Isa, &'static str, &'static [&'static str]);
    static LOGS: OnceLock<Mutex<Vec<(Key, Recording)>>> = OnceLock::new();
    let Some(exe) = guest(isa, name) else {
        skip_or_fail(&format!("{} or {} is missing", isa.cc(), isa.gdb()));
        return None;
    };
    let mut logs = LOGS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, r)) = logs.iter().find(|(k, _)| *k == (isa, name, args)) {
        return Some(r.clone());
    }
    let log = exe.with_file_name(format!("{name}-{}.deja", args.join("-")));
    let mut cmd = Command::new(deja_bin());
    cmd.args(["record", "--checkpoint-every", "500", "-o"]).arg(&log).arg("--").arg(&exe).args(args);
    let (_, stdout, err) = run(cmd);
    assert!(log.exists(), "recording failed:\n{err}");
    let rec = Recording { isa, exe, log, stdout };
    logs.push(((isa, name, args), rec.clone()));
    Some(rec)
}

/// `deja replay LOG --gdb 127.0.0.1:0`, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
    pub isa: Isa,
    pub exe: PathBuf,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Server {
    /// Serve `rec` with a snapshot every `every` instructions.
    pub fn start(rec: &Recording, every: u64) -> Server {
        let mut child = Command::new(deja_bin())
            .arg("replay")
            .arg(&rec.log)
            .args(["--gdb", "127.0.0.1:0", "--snapshot-every", &every.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn deja");
        let (tx, rx) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // From here on, Drop kills deja whatever happens.
        let mut server = Server { child, addr: String::new(), isa: rec.isa, exe: rec.exe.clone(), stderr: rx };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = server.stderr.recv_timeout(left).unwrap_or_else(|_| panic!("deja did not say where it listens"));
            if let Some(i) = line.find("target remote ") {
                server.addr = line[i + "target remote ".len()..].trim_end_matches('\'').to_string();
                let hint = format!("connect with: {} ", rec.isa.gdb());
                assert!(line.contains(&hint), "connect hint names {}: {line}", rec.isa.gdb());
                return server;
            }
        }
    }

    /// What deja printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run the ISA's gdb in batch mode on `script` against the server; returns its stdout and
/// stderr as one stream.
pub fn gdb(server: &Server, script: &str) -> String {
    let file = server.exe.with_file_name(format!("script-{}-{}.gdb", std::process::id(), next_id()));
    std::fs::write(&file, script).unwrap();
    let mut cmd = Command::new(server.isa.gdb());
    cmd.args(["-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off"])
        .arg("-ex")
        .arg(format!("target remote {}", server.addr))
        .arg("-x")
        .arg(&file)
        .arg(&server.exe);
    let (_, out, _) = run_with(cmd, true);
    let _ = std::fs::remove_file(&file);
    out
}

fn next_id() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Values printed on lines `TAG value` (gdb `printf "TAG %…\n"` or `echo TAG ` + monitor).
pub fn tagged(out: &str, tag: &str) -> Vec<String> {
    out.lines().filter_map(|l| l.strip_prefix(tag)).map(|v| v.trim().to_string()).collect()
}

pub fn nums(out: &str, tag: &str) -> Vec<u64> {
    tagged(out, tag)
        .iter()
        .map(|v| match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => v.parse().unwrap_or_else(|_| panic!("not a number after {tag}: {v}")),
        })
        .collect()
}

pub fn check(cond: bool, what: &str, out: &str, server: &Server) {
    assert!(cond, "{what}\n--- gdb output:\n{out}\n--- deja stderr:\n{}", server.stderr());
}
