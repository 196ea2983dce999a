//! Differential tests of the C guest programs as AArch64 programs: tests/guests/*.c (the
//! same sources as `guests.rs`) and the AArch64-only tests/guests_a64/*.c (signal frames,
//! system registers), cross-compiled at test time with `aarch64-linux-gnu-gcc -static -O2`
//! (glibc; and `-static-pie` for some), run under `qemu-aarch64 -cpu cortex-a72` (the oracle,
//! design §8; `DEJA_QEMU_CPU` picks another cpu) and
//! under `deja run -- PROG ARGS…` with the same arguments, environment and a fresh working
//! directory. stdout, stderr (minus deja's "deja: " lines and qemu's "qemu: uncaught target
//! signal" line) and the exit status must be identical; a guest death by signal N is exit
//! status 128+N both ways.
//!
//! One `#[test]` per program and arguments: `cargo test --release --test guests_a64 int_math`.
//! Builds are cached per test run under `target/tmp/guests_a64/<variant>/`, where the binaries
//! stay for re-running by hand. Without the cross compiler or qemu-aarch64 the tests print a
//! note and pass, unless `DEJA_REQUIRE_TOOLS` is set.
//!
//! Tests that deja cannot pass yet because an A64 instruction class is missing (its stderr
//! names an unimplemented instruction) are `#[ignore = "needs A64 <class>"]`; run them with
//! `--ignored` to see how far they get.

mod common;

use common::{Invocation, Memo, Oracle, TempDir};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

const CC: &str = "aarch64-linux-gnu-gcc";

/// How a guest is built.
#[derive(Clone, Copy, Debug)]
enum Build {
    /// `-static`: glibc, ET_EXEC.
    Static,
    /// `-static-pie`: glibc, ET_DYN without interpreter, loaded at the emulator's PIE base.
    StaticPie,
    /// `-nostdlib -ffreestanding -mgeneral-regs-only`: no libc, raw syscalls, integer code
    /// (tests/guests_a64/freestanding/), so they run as soon as the integer, branch,
    /// load/store and system classes do.
    Freestanding,
}

impl Build {
    fn flags(self) -> &'static [&'static str] {
        match self {
            Build::Static => &["-static", "-O2", "-g", "-w"],
            Build::StaticPie => &["-static-pie", "-O2", "-g", "-w"],
            Build::Freestanding => &[
                "-static",
                "-nostdlib",
                "-ffreestanding",
                "-fno-builtin",
                "-mgeneral-regs-only",
                "-fno-stack-protector",
                "-O1",
                "-g",
                "-w",
            ],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Build::Static => "glibc",
            Build::StaticPie => "glibc-static-pie",
            Build::Freestanding => "freestanding",
        }
    }
}

/// Placeholder argument replaced by the run's own fresh temporary directory.
const TMPDIR: &str = "{tmpdir}";

/// Environment variables the guests see in addition to `common::base_env()` (as guests.rs).
const EXTRA_ENV: &[(&str, &str)] =
    &[("DEJA_TEST_ALPHA", "first value"), ("DEJA_TEST_BETA", "b=c=d"), ("DEJA_TEST_EMPTY", "")];

/// Where a program's source is: the shared guests, or the AArch64-only ones.
fn source(prog: &str, build: Build) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    if let Build::Freestanding = build {
        return root.join("guests_a64").join("freestanding").join(format!("{prog}.c"));
    }
    let shared = root.join("guests").join(format!("{prog}.c"));
    if shared.exists() {
        shared
    } else {
        root.join("guests_a64").join(format!("{prog}.c"))
    }
}

static BUILDS: Memo<Result<PathBuf, String>> = Memo::new(BTreeMap::new());

/// Compile `prog` for `build` once per test run; returns the binary path.
fn build(prog: &str, build: Build) -> Result<PathBuf, String> {
    let cell = common::memo_cell(&BUILDS, &format!("{}/{prog}", build.name()));
    cell.get_or_init(|| compile(prog, build)).clone()
}

fn compile(prog: &str, build: Build) -> Result<PathBuf, String> {
    let src = source(prog, build);
    let dir = common::scratch_root().join("guests_a64").join(build.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(prog);
    // Build under a private name, then rename: concurrent test processes never see a partial file.
    let tmp = dir.join(format!(".{prog}.{}", std::process::id()));
    let mut cmd = Command::new(CC);
    cmd.args(build.flags()).arg("-o").arg(&tmp).arg(&src);
    if !matches!(build, Build::Freestanding) {
        cmd.arg("-lm");
    }
    let res = cmd.output().map_err(|e| format!("cannot run {CC}: {e}"))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{CC} failed on {}:\n{}", src.display(), String::from_utf8_lossy(&res.stderr)));
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

/// Are the cross compiler and qemu-aarch64 here? (Skip with a note, or fail under
/// DEJA_REQUIRE_TOOLS.)
fn have_tools(test: &str) -> bool {
    for (ok, what) in [(common::have_tool(CC), CC), (Oracle::QemuAarch64.available(), "qemu-aarch64")] {
        if !ok {
            common::skip_or_fail(&format!("{test}: {what} not found (scripts/install-deps.sh installs it)"));
            return false;
        }
    }
    true
}

/// Build, run under qemu-aarch64 and under deja, compare.
fn check(test: &str, prog: &str, args: &[&str], b: Build) {
    if !have_tools(test) {
        return;
    }
    let bin = match build(prog, b) {
        Ok(p) => p,
        Err(e) => panic!("{test} [{}]: build failed: {e}", b.name()),
    };
    let oracle_dir = TempDir::new(&format!("{prog}-qemu"));
    let deja_dir = TempDir::new(&format!("{prog}-deja"));
    let oracle = common::run_qemu_aarch64(&invocation(&bin, args, &oracle_dir));
    let deja = common::run_deja(&invocation(&bin, args, &deja_dir));
    let shown: Vec<OsString> = args.iter().map(|a| OsString::from(if *a == TMPDIR { "DIR" } else { a })).collect();
    let shown = common::shell_words(&shown);
    let detail = format!(
        "program: {prog} {shown} [{} aarch64]\n  rerun:   {} run -- {} {shown}\n  oracle:  qemu-aarch64 -cpu {} {} {shown}",
        b.name(),
        common::deja_bin(),
        bin.display(),
        common::qemu_cpu(),
        bin.display(),
    );
    common::assert_same_as(Oracle::QemuAarch64, test, &detail, &oracle, &deja);
}

/// `[attrs] name: "program" [args…];` → `mod name { #[test] fn glibc(); }` (attributes such as
/// `#[ignore = "…"]` apply to it), and for the tests named in the leading
/// `static_pie: [...]` also `static_pie::name::glibc`.
macro_rules! guest_tests {
    (static_pie: [$($pie:ident),* $(,)?];
     $($(#[$attr:meta])* $test:ident: $prog:literal $([$($arg:expr),* $(,)?])?;)*) => {
        /// `static_pie::NAME::glibc`: the program built with `-static-pie`.
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
                    return check(stringify!($test), $prog, &[$($($arg),*)?], Build::StaticPie);
                }
            )*
            panic!("static_pie names unknown test {test}");
        }

        $(
            mod $test {
                #[allow(unused_imports)]
                use super::*;

                #[test]
                $(#[$attr])*
                fn glibc() {
                    super::check(stringify!($test), $prog, &[$($($arg),*)?], super::Build::Static);
                }
            }
        )*

        /// Every program in tests/guests/ and tests/guests_a64/ is exercised by a test above.
        #[test]
        fn every_guest_source_has_a_test() {
            let tested: Vec<&str> = [$($prog),*].into_iter().chain(FREESTANDING_PROGS.iter().copied()).collect();
            let mut missing = Vec::new();
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
            for dir in ["guests", "guests_a64", "guests_a64/freestanding"] {
                for entry in std::fs::read_dir(root.join(dir)).expect("guest source directory") {
                    let path = entry.expect("dir entry").path();
                    if path.extension().is_some_and(|e| e == "c") {
                        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                        if !tested.contains(&stem.as_str()) {
                            missing.push(format!("{dir}/{stem}"));
                        }
                    }
                }
            }
            assert!(missing.is_empty(), "guest programs without a test in tests/guests_a64.rs: {missing:?}");
        }
    };
}

guest_tests! {
    static_pie: [int_math, strings, hash, malloc_churn, stdio_files, args_env, sigsegv_recover, die_abort, vm, sigframe];
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
    // AArch64 integer division by zero gives 0, no signal: the program prints "still alive".
    die_div_zero: "die_signal" ["fpe"];
    // __builtin_trap is `brk #0x3e8` on AArch64: SIGTRAP.
    die_trap: "die_signal" ["ill"];
    die_none: "die_signal" ["none"];
    bits: "bits";
    vm: "vm";
    hash: "hash";
    scanf_roundtrip: "scanf_roundtrip";
    wchar_ctype: "wchar_ctype";
    struct_switch: "struct_switch";
    clock: "clock";
    procmaps: "procmaps";
    // AArch64-only programs (tests/guests_a64/).
    sigframe: "sigframe";
    sigframe_altstack: "sigframe" ["altstack"];
    sigframe_restorer: "sigframe" ["restorer"];
    sigframe_nested: "sigframe" ["nested"];
    sigframe_bad_return: "sigframe" ["badframe"];
    sysregs: "sysregs";
    // Every HWCAP bit agrees with its ID register field, and each advertised feature runs.
    sysregs_idregs: "sysregs" ["idregs"];
    // CNTVCT_EL0 ticks at CNTFRQ_EL0 in a live run (deja: CLOCK_MONOTONIC nanoseconds).
    sysregs_counter: "sysregs" ["counter"];
    fs_structs: "fs_structs" [TMPDIR];
}

/// `[attrs] name: "program" [args…];` → `#[test] fn name()` building the program freestanding.
macro_rules! freestanding_tests {
    ($($(#[$attr:meta])* $test:ident: $prog:literal $([$($arg:expr),* $(,)?])?;)*) => {
        const FREESTANDING_PROGS: &[&str] = &[$($prog),*];

        /// Programs without libc (tests/guests_a64/freestanding/).
        mod freestanding {
            $(
                #[test]
                $(#[$attr])*
                fn $test() {
                    super::check(stringify!($test), $prog, &[$($($arg),*)?], super::Build::Freestanding);
                }
            )*
        }
    };
}

freestanding_tests! {
    sigframe_raw_basic: "sigframe_raw" ["basic"];
    sigframe_raw_segv: "sigframe_raw" ["segv"];
    sigframe_raw_restorer: "sigframe_raw" ["restorer"];
    sigframe_raw_altstack: "sigframe_raw" ["altstack"];
    sigframe_raw_nested: "sigframe_raw" ["nested"];
    sigframe_raw_bad_return: "sigframe_raw" ["badframe"];
    fs_raw: "fs_raw" [super::TMPDIR];
}

/// The toolchain works and qemu-aarch64 is a usable oracle (the other tests depend on both).
#[test]
fn toolchain_and_oracle_work() {
    if !have_tools("toolchain_and_oracle_work") {
        return;
    }
    let bin = build("exit_codes", Build::Static).unwrap_or_else(|e| panic!("{e}"));
    let dir = TempDir::new("a64-oracle");
    let out = common::run_qemu_aarch64(&invocation(&bin, &["exit42"], &dir));
    assert_eq!(out.status.0, 42, "qemu-aarch64 exit_codes exit42: {out:?}");
    let out = common::run_qemu_aarch64(&invocation(&bin, &["bogus"], &dir));
    assert_ne!(out.status.0, 0);
}

/// deja loads the AArch64 program and runs it (until the instruction classes land, to the
/// first unimplemented instruction, reported as SIGILL with a diagnostic, never a crash).
#[test]
fn deja_loads_aarch64_programs() {
    if !have_tools("deja_loads_aarch64_programs") {
        return;
    }
    for b in [Build::Static, Build::StaticPie] {
        let bin = build("exit_codes", b).unwrap_or_else(|e| panic!("{e}"));
        let dir = TempDir::new("a64-load");
        let out = common::run_deja(&invocation(&bin, &["exit42"], &dir));
        assert!(out.host_signal.is_none() && !out.timed_out, "deja crashed or hung: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.0 == 42 || err.contains("unimplemented instruction") || err.contains("unsupported instruction"),
            "[{}] exit status {} and no unimplemented-instruction report:\n{err}",
            b.name(),
            out.status
        );
    }
}
