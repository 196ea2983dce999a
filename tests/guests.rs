//! Differential tests on our own C guest programs (tests/guests/*.c).
//!
//! Each program is built at test time twice, `gcc -static -O2` (glibc) and
//! `musl-gcc -static -O2` (musl), both for baseline x86-64, then run natively and under
//! `deja run -- PROG ARGS…` with the same arguments, environment and a fresh working directory.
//! stdout, stderr (minus the emulator's "deja: " lines) and the exit status must be identical;
//! a native death by signal N must be deja exit status 128+N.
//!
//! One `#[test]` per program, arguments and libc: `cargo test --release --test guests int_math`.
//! Builds are cached per test run (one compiler run per program and libc, shared by the tests
//! that need it) under `target/tmp/guests/<libc>/`, where the binaries stay for re-running by hand.
//! Without musl-gcc the musl tests print a note and pass, unless `DEJA_REQUIRE_TOOLS` is set.

mod common;

use common::{Invocation, Memo, TempDir};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How a guest is built: C library and kind of static executable.
#[derive(Clone, Copy, Debug)]
enum Libc {
    /// `gcc -static`: glibc, ET_EXEC at a fixed address.
    Glibc,
    /// `musl-gcc -static`: musl, ET_EXEC.
    Musl,
    /// `gcc -static-pie`: glibc, ET_DYN without interpreter, relocating itself (loaded at the
    /// emulator's PIE base). (musl-gcc's -static-pie still asks for the dynamic loader on Debian.)
    GlibcStaticPie,
}

impl Libc {
    fn compiler(self) -> &'static str {
        match self {
            Libc::Glibc | Libc::GlibcStaticPie => "gcc",
            Libc::Musl => "musl-gcc",
        }
    }

    fn link_flag(self) -> &'static str {
        match self {
            Libc::Glibc | Libc::Musl => "-static",
            Libc::GlibcStaticPie => "-static-pie",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Libc::Glibc => "glibc",
            Libc::Musl => "musl",
            Libc::GlibcStaticPie => "glibc-static-pie",
        }
    }
}

/// Placeholder argument replaced by the run's own fresh temporary directory.
const TMPDIR: &str = "{tmpdir}";

/// Environment variables the guests see in addition to `common::base_env()`
/// (printed by `args_env`).
const EXTRA_ENV: &[(&str, &str)] =
    &[("DEJA_TEST_ALPHA", "first value"), ("DEJA_TEST_BETA", "b=c=d"), ("DEJA_TEST_EMPTY", "")];

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("guests")
}

static BUILDS: Memo<Result<PathBuf, String>> = Memo::new(BTreeMap::new());

/// Compile `tests/guests/<prog>.c` for `libc` once per test run; returns the binary path.
fn build(prog: &str, libc: Libc) -> Result<PathBuf, String> {
    let cell = common::memo_cell(&BUILDS, &format!("{}/{prog}", libc.name()));
    cell.get_or_init(|| compile(prog, libc)).clone()
}

fn compile(prog: &str, libc: Libc) -> Result<PathBuf, String> {
    let src = source_dir().join(format!("{prog}.c"));
    let dir = common::scratch_root().join("guests").join(libc.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(prog);
    // Build under a private name, then rename: concurrent test processes never see a partial file.
    let tmp = dir.join(format!(".{prog}.{}", std::process::id()));
    let res = Command::new(libc.compiler())
        .arg(libc.link_flag())
        .args(["-O2", "-march=x86-64", "-mtune=generic", "-g", "-w", "-o"])
        .arg(&tmp)
        .arg(&src)
        .arg("-lm")
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

fn invocation(bin: &Path, args: &[&str], dir: &TempDir) -> Invocation {
    let mut inv = Invocation::new(bin);
    inv.args =
        args.iter().map(|a| if *a == TMPDIR { dir.path().as_os_str().to_owned() } else { OsString::from(a) }).collect();
    inv.env.extend(EXTRA_ENV.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    inv.cwd = Some(dir.path().to_path_buf());
    inv
}

/// Build, run natively and under deja, compare.
fn check(test: &str, prog: &str, args: &[&str], libc: Libc) {
    if !common::have_tool(libc.compiler()) {
        common::skip_or_fail(&format!("{}: {} not found, {} variant not tested", test, libc.compiler(), libc.name()));
        return;
    }
    let bin = match build(prog, libc) {
        Ok(b) => b,
        Err(e) => panic!("{test} [{}]: build failed: {e}", libc.name()),
    };
    // Each run gets its own scratch directory (cwd, and argv wherever TMPDIR appears), so
    // programs that create files see the same empty directory both times.
    let native_dir = TempDir::new(&format!("{prog}-native"));
    let deja_dir = TempDir::new(&format!("{prog}-deja"));
    let native = common::run_native(&invocation(&bin, args, &native_dir));
    let deja = common::run_deja(&invocation(&bin, args, &deja_dir));
    let shown: Vec<OsString> = args.iter().map(|a| OsString::from(if *a == TMPDIR { "DIR" } else { a })).collect();
    let shown = common::shell_words(&shown);
    let detail = format!(
        "program: {prog} {shown} [{}]\n  rerun:   {} run -- {} {shown}",
        libc.name(),
        common::deja_bin(),
        bin.display(),
    );
    common::assert_same(test, &detail, &native, &deja);
}

/// `name: "program" [args…];` → `mod name { #[test] fn glibc(); #[test] fn musl(); }`, and
/// for the tests named in the leading `static_pie: [...]` also `static_pie::name::glibc`.
macro_rules! guest_tests {
    (static_pie: [$($pie:ident),* $(,)?]; $($test:ident: $prog:literal $([$($arg:expr),* $(,)?])?;)*) => {
        /// `static_pie::NAME::glibc`: the program built with `gcc -static-pie`.
        mod static_pie {
            $(
                mod $pie {
                    #[test]
                    fn glibc() {
                        super::super::check_named_as_static_pie(stringify!($pie));
                    }
                }
            )*
        }
        /// The static-PIE variants re-use the argument lists of the tests they name.
        fn check_named_as_static_pie(test: &str) {
            $(
                if test == stringify!($test) {
                    return check(stringify!($test), $prog, &[$($($arg),*)?], Libc::GlibcStaticPie);
                }
            )*
            panic!("static_pie names unknown test {test}");
        }

        $(
            mod $test {
                #[allow(unused_imports)]
                use super::*;

                #[test]
                fn glibc() {
                    super::check(stringify!($test), $prog, &[$($($arg),*)?], super::Libc::Glibc);
                }
                #[test]
                fn musl() {
                    super::check(stringify!($test), $prog, &[$($($arg),*)?], super::Libc::Musl);
                }
            }
        )*

        /// Every program in tests/guests/ is exercised by at least one test above.
        #[test]
        fn every_guest_source_has_a_test() {
            let tested = [$($prog),*];
            let mut missing = Vec::new();
            for entry in std::fs::read_dir(source_dir()).expect("tests/guests") {
                let path = entry.expect("dir entry").path();
                if path.extension().is_some_and(|e| e == "c") {
                    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                    if !tested.contains(&stem.as_str()) {
                        missing.push(stem);
                    }
                }
            }
            assert!(missing.is_empty(), "guest programs without a test in tests/guests.rs: {missing:?}");
        }
    };
}

guest_tests! {
    static_pie: [int_math, strings, hash, malloc_churn, stdio_files, args_env, sigsegv_recover, die_abort, vm, procmaps];
    int_math: "int_math";
    float_fmt: "float_fmt";
    libm: "libm";
    strings: "strings";
    malloc_churn: "malloc_churn";
    stdio_files: "stdio_files" [TMPDIR];
    stdio_files_no_dir: "stdio_files";
    sort_search: "sort_search";
    setjmp_longjmp: "setjmp_longjmp";
    sigsegv_recover: "sigsegv_recover";
    recursion: "recursion";
    args_env: "args_env" ["one", "two words", "", "-x", "--", "ünï", "last"];
    args_env_none: "args_env";
    exit_ret0: "exit_codes" ["ret0"];
    exit_ret7: "exit_codes" ["ret7"];
    exit_42: "exit_codes" ["exit42"];
    exit_255: "exit_codes" ["exit255"];
    exit_256: "exit_codes" ["exit256"];
    exit_300: "exit_codes" ["exit300"];
    exit_neg: "exit_codes" ["exitneg"];
    exit_underscore: "exit_codes" ["_exit3"];
    exit_failure: "exit_codes" ["failure"];
    exit_unknown: "exit_codes" ["bogus"];
    die_abort: "die_signal" ["abort"];
    die_null_write: "die_signal" ["null"];
    die_sigterm: "die_signal" ["term"];
    die_div_zero: "die_signal" ["fpe"];
    die_ud2: "die_signal" ["ill"];
    die_none: "die_signal" ["none"];
    bits: "bits";
    vm: "vm";
    hash: "hash";
    scanf_roundtrip: "scanf_roundtrip";
    wchar_ctype: "wchar_ctype";
    struct_switch: "struct_switch";
    clock: "clock";
    procmaps: "procmaps";
}
