//! Syscall integration tests: small C programs from tests/guests_sys/ are built static,
//! run natively and under `deja run`, and must produce the same stdout, stderr and exit
//! status (the native run is the oracle). Each run gets its own fresh scratch directory as
//! argv[1].
//!
//! - `freestanding/*.c` use no libc and only instructions the base interpreter implements,
//!   so they run today.
//! - `*.c` use glibc/musl (stdio, opendir…), which need SSE and string instructions being
//!   written on other branches: those tests are `#[ignore]`d until they are merged.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const DEJA: &str = env!("CARGO_BIN_EXE_deja");

fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests_sys")
}

/// A scratch directory removed on drop; its path is canonical (no symlinks), so programs
/// comparing getcwd() with it agree.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("deja-sys-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(std::fs::canonicalize(&dir).expect("canonicalize scratch dir"))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Flags for the libc-free programs: nothing beyond the base integer instructions.
const FREESTANDING: &[&str] = &[
    "-static",
    "-nostdlib",
    "-ffreestanding",
    "-fno-builtin",
    "-O1",
    "-fno-tree-vectorize",
    "-fno-tree-loop-distribute-patterns",
    "-mgeneral-regs-only",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-no-pie",
];

/// Build `src` (relative to tests/guests_sys) with `cc` into `dir/name`.
fn build(cc: &str, flags: &[&str], src: &str, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let o = Command::new(cc)
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(sources().join(src))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
    assert!(o.status.success(), "{cc} {src} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn native(prog: &Path, args: &[&Path]) -> Output {
    Command::new(prog).args(args).output().expect("run natively")
}

fn deja(prog: &Path, args: &[&Path]) -> Output {
    Command::new(DEJA).arg("run").arg("--").arg(prog).args(args).output().expect("run deja")
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// deja's diagnostics that a libc program triggers by design: glibc registers rseq at
/// startup, which deja leaves unimplemented (-ENOSYS, reported once); glibc copes.
fn strip_expected_diagnostics(stderr: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(stderr);
    s.split_inclusive('\n')
        .filter(|l| !l.starts_with("deja: unimplemented syscall rseq "))
        .collect::<String>()
        .into_bytes()
}

/// Run `prog` natively and under deja, each with a fresh scratch dir, and compare.
/// Returns deja's output for further checks.
fn same_as_native(prog: &Path, tag: &str) -> Output {
    let d1 = Scratch::new(tag);
    let n = native(prog, &[&d1.0]);
    let d2 = Scratch::new(tag);
    let mut e = deja(prog, &[&d2.0]);
    e.stderr = strip_expected_diagnostics(&e.stderr);
    assert!(
        n.stdout == e.stdout && n.stderr == e.stderr && n.status.code() == e.status.code(),
        "{} differs.\n=== native\n{}\n=== deja\n{}",
        prog.display(),
        show(&n),
        show(&e)
    );
    e
}

fn freestanding(src: &str, name: &str) -> (Scratch, PathBuf) {
    let dir = Scratch::new("bin");
    let prog = build("gcc", FREESTANDING, src, &dir.0, name);
    (dir, prog)
}

#[test]
fn freestanding_runtime_works() {
    let (_d, prog) = freestanding("freestanding/hello.c", "hello");
    let o = same_as_native(&prog, "hello");
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout).contains("argc=2\n"));
}

#[test]
fn file_syscalls_match_native() {
    let (_d, prog) = freestanding("freestanding/files.c", "files");
    let o = same_as_native(&prog, "files");
    let out = String::from_utf8_lossy(&o.stdout);
    // A few anchors, so a program that silently stopped early cannot pass.
    for line in ["read=[hello]", "rv2=[lo W]", "dir64: . .. hard hard2 link link2 sub x y", "readlink=[../a.txt]"] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    assert!(out.ends_with("open_efault=-14\n"), "{out}");
}

#[test]
fn pipes_clocks_identity_match_native() {
    let (_d, prog) = freestanding("freestanding/misc.c", "misc");
    let o = same_as_native(&prog, "misc");
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "tcgets_pipe=-25",
        "sysname=Linux",
        "machine=x86_64",
        "monotonic=1",
        "getrandom=32",
        "slept_2ms=1",
        "exe_same=1",
        "name=deja-test-name-",
        "futex_wait_timeout=-110",
    ] {
        assert!(out.contains(&format!("{line}\n")), "missing {line:?} in\n{out}");
    }
}

#[test]
fn stdio_is_the_real_stdio() {
    use std::io::Write;
    use std::process::Stdio;
    let (_d, prog) = freestanding("freestanding/cat.c", "cat");
    let input: Vec<u8> = (0..20000).map(|i| b"hello world\n"[i % 12]).collect();
    let mut child = Command::new(DEJA)
        .arg("run")
        .arg("--")
        .arg(&prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run deja");
    let mut stdin = child.stdin.take().unwrap();
    let feed = input.clone();
    let writer = std::thread::spawn(move || stdin.write_all(&feed));
    let o = child.wait_with_output().expect("wait for deja");
    writer.join().unwrap().unwrap();
    let mut expected = input.to_ascii_uppercase();
    expected.extend_from_slice(b"total=20000\n");
    assert_eq!(o.stdout, expected, "{}", show(&o));
    assert_eq!(o.stderr, b"done\n");
    assert_eq!(o.status.code(), Some(0));
}

/// What the emulator decides itself has a fixed expected output (no native oracle: a
/// native run has a real pid and all the host's cpus).
#[test]
fn emulator_decided_values() {
    let (_d, prog) = freestanding("freestanding/emu.c", "emu");
    let o = deja(&prog, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let expected = "\
getpid=1000
gettid=1000
getaffinity=8
mask0=1
mask1=7
getaffinity_small=-22
getaffinity_self=8
setaffinity=0
setaffinity_none=-22
getcpu=0
cpu=0
node=0
getrlimit_stack=0
stack_cur=8388608
stack_max=8388608
setrlimit_stack=0
old_cur=8388608
prlimit_stack=0
new_cur=1048576
raise_hard=-1
get_name=0
name=emu
personality_query=0
personality_set=0
personality_now=262144
set_robust_list=0
set_robust_list_bad=-22
get_robust_list=0
head=4660
len=24
proc_pid_exe=1
lock_pi=0
lock_word=1000
lock_pi_again=-35
trylock_pi=-11
unlock_pi=0
unlock_word=0
unlock_pi_notowner=-1
wake_op=0
wake_op_word=4
sched_yield=0
membarrier_query=0
";
    assert_eq!(String::from_utf8_lossy(&o.stdout), expected, "{}", show(&o));
    assert!(o.stderr.is_empty(), "{}", show(&o));
}

/// A libc program (glibc, and musl when installed) against its native run.
fn libc_program(src: &str, name: &str) {
    let dir = Scratch::new("bin");
    let mut progs = vec![build("gcc", &["-static", "-O2"], src, &dir.0, name)];
    if have("musl-gcc") {
        progs.push(build("musl-gcc", &["-static", "-O2"], src, &dir.0, &format!("{name}-musl")));
    }
    for prog in progs {
        same_as_native(&prog, name);
    }
}

// The libc tests pass with h-sys merged with h-alu2, h-string and h-x87 (checked in a trial
// merge); on this branch alone glibc/musl stop at their first SSE or string instruction.

#[test]

fn libc_files_match_native() {
    libc_program("libc_files.c", "libc_files");
}

#[test]

fn libc_misc_match_native() {
    libc_program("libc_misc.c", "libc_misc");
}
