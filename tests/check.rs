//! `deja check` (issue #5): replaying a log with two engines in lockstep reports agreement on
//! logs of the guest programs, for x86-64 and AArch64; and when one side is broken on
//! purpose, the report names exactly the instruction, icount, pc and registers.
//!
//! - `agree_*`: C guests (tests/guests/*.c) built with `gcc -static -O2` (x86-64) and
//!   `aarch64-linux-gnu-gcc -static -O2` (AArch64), recorded with `deja record`, then
//!   `deja check --engines interp,jit LOG` (`interp,interp` in a build without the JIT: a
//!   determinism check) must exit 0 over the recorded number of instructions.
//! - `fresh_*`: `deja check -- PROG ARGS` records and checks in one go.
//! - `broken_*`: through the library, one side wrapped so that it flips a flag after
//!   instruction N; the report must name instruction N-1 (icount, pc, disassembly) and the
//!   flag with both values.
//! - `usage_*`, `cut_short_*`: bad options, bad logs, a log that does not replay.
//!
//! Without the compilers the tests print a note and pass, unless `DEJA_REQUIRE_TOOLS` is set.

mod common;

use common::{Invocation, Memo, RunOutput, TempDir};
use deja::arch::Arch;
use deja::check::{self, CheckArch, Landing, Settings, Side, Verdict};
use deja::engine::EngineKind;
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::arch_x86_64::X86_64;
use deja::linux::process::{Advance, Options};
use deja::linux::Process;
use deja::replay::session::{self, ReplayOptions};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Isa {
    X86,
    A64,
}

impl Isa {
    fn compiler(self) -> &'static str {
        match self {
            Isa::X86 => "gcc",
            Isa::A64 => "aarch64-linux-gnu-gcc",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Isa::X86 => "x86_64",
            Isa::A64 => "aarch64",
        }
    }
}

static BUILDS: Memo<Result<PathBuf, String>> = Memo::new(BTreeMap::new());

/// Build tests/guests/<prog>.c for `isa` once per test run; `None` (skipped) without the
/// compiler.
fn guest(prog: &str, isa: Isa) -> Option<PathBuf> {
    if !common::have_tool(isa.compiler()) {
        common::skip_or_fail(&format!("{} not found: {prog} [{}] not checked", isa.compiler(), isa.name()));
        return None;
    }
    let cell = common::memo_cell(&BUILDS, &format!("{}/{prog}", isa.name()));
    match cell.get_or_init(|| compile(prog, isa)) {
        Ok(p) => Some(p.clone()),
        Err(e) => panic!("building {prog} [{}]: {e}", isa.name()),
    }
}

fn compile(prog: &str, isa: Isa) -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests").join(format!("{prog}.c"));
    let dir = common::scratch_root().join("check_guests").join(isa.name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let out = dir.join(prog);
    let tmp = dir.join(format!(".{prog}.{}", std::process::id()));
    let mut cmd = Command::new(isa.compiler());
    cmd.args(["-static", "-O2", "-w", "-o"]).arg(&tmp).arg(&src).arg("-lm");
    if isa == Isa::X86 {
        cmd.args(["-march=x86-64", "-mtune=generic"]);
    }
    let res = cmd.output().map_err(|e| format!("cannot run {}: {e}", isa.compiler()))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{} failed:\n{}", isa.compiler(), String::from_utf8_lossy(&res.stderr)));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("rename to {}: {e}", out.display()))?;
    Ok(out)
}

/// The engines to compare: the interpreter and the JIT, or the interpreter twice in a build
/// without the JIT.
fn engines() -> &'static str {
    if EngineKind::from_name("jit").is_some() {
        "interp,jit"
    } else {
        "interp,interp"
    }
}

fn deja<S: AsRef<std::ffi::OsStr>>(args: &[S], cwd: &Path) -> RunOutput {
    let mut inv = Invocation::new(common::deja_bin());
    inv.args = args.iter().map(|a| a.as_ref().to_owned()).collect();
    inv.cwd = Some(cwd.to_path_buf());
    inv.timeout = common::deja_timeout();
    common::run_native(&inv)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `deja record` the guest into `dir`; returns the log and the recorded instruction count.
fn record(bin: &Path, args: &[&str], dir: &Path, extra: &[&str]) -> (PathBuf, u64) {
    let log = dir.join("guest.deja");
    let mut a: Vec<OsString> = vec!["record".into(), "-o".into(), log.clone().into()];
    a.extend(extra.iter().map(OsString::from));
    a.push("--".into());
    a.push(bin.into());
    a.extend(args.iter().map(OsString::from));
    let o = deja(&a, dir);
    let err = text(&o.stderr);
    let n = err
        .lines()
        .find_map(|l| l.strip_prefix("deja: recorded "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'recorded N instructions' line:\n{err}"));
    (log, n)
}

/// The instruction count in "… agree over N instructions".
fn agreed_over(out: &str) -> u64 {
    out.split("agree over ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'agree over N instructions':\n{out}"))
}

/// Record `prog ARGS` for `isa` and check the log: the engines must agree over all of it.
fn agree(prog: &str, args: &[&str], isa: Isa) {
    let Some(bin) = guest(prog, isa) else { return };
    let dir = TempDir::new(&format!("check-{prog}"));
    let (log, n) = record(&bin, args, dir.path(), &["--checkpoint-every", "1000000"]);
    let o = deja(&[OsString::from("check"), "--engines".into(), engines().into(), log.into()], dir.path());
    let out = text(&o.stdout);
    assert_eq!(o.status.0, 0, "{prog} [{}]: exit status\n{out}{}", isa.name(), text(&o.stderr));
    assert!(out.starts_with("check ok: "), "{out}");
    assert_eq!(agreed_over(&out), n, "{out}");
}

macro_rules! agree_tests {
    ($($name:ident: $prog:literal $([$($arg:expr),*])?;)*) => {
        mod agree_x86_64 {
            $( #[test] fn $name() { super::agree($prog, &[$($($arg),*)?], super::Isa::X86); } )*
        }
        mod agree_aarch64 {
            $( #[test] fn $name() { super::agree($prog, &[$($($arg),*)?], super::Isa::A64); } )*
        }
    };
}

agree_tests! {
    int_math: "int_math";
    float_fmt: "float_fmt";
    hash: "hash";
    sort_search: "sort_search";
    sigsegv_recover: "sigsegv_recover";
    setjmp_longjmp: "setjmp_longjmp";
    die_null_write: "die_signal" ["null"];
}

fn fresh(isa: Isa) {
    let Some(bin) = guest("strings", isa) else { return };
    let dir = TempDir::new("check-fresh");
    let kept = dir.path().join("kept.deja");
    for keep in [false, true] {
        let mut a: Vec<OsString> = vec!["check".into(), "--engines".into(), engines().into()];
        if keep {
            a.extend(["-o".into(), kept.clone().into()]);
        }
        a.extend(["--".into(), bin.clone().into()]);
        let o = deja(&a, dir.path());
        let out = text(&o.stdout);
        assert_eq!(o.status.0, 0, "{out}{}", text(&o.stderr));
        // The guest's own output comes first (it ran for real while being recorded).
        assert!(out.contains("\ncheck ok: "), "{out}");
        let recorded: u64 = text(&o.stderr)
            .lines()
            .find_map(|l| l.strip_prefix("deja: recorded "))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .expect("a 'recorded N instructions' line");
        assert_eq!(agreed_over(&out), recorded);
        assert_eq!(kept.exists(), keep, "-o keeps the recording, and only -o");
    }
}

#[test]
fn fresh_recording_x86_64() {
    fresh(Isa::X86);
}

#[test]
fn fresh_recording_aarch64() {
    fresh(Isa::A64);
}

// ---------------------------------------------------------------------------------------
// A side broken on purpose

/// A side that goes wrong on purpose: every time execution passes icount `at`, `break_it`
/// changes its state (as if the instruction that ended there computed something else).
struct Broken<A: Arch> {
    p: Process<A>,
    at: u64,
    break_it: fn(&mut A::Cpu),
}

impl<A: Arch> Side<A> for Broken<A> {
    fn process(&self) -> &Process<A> {
        &self.p
    }
    fn process_mut(&mut self) -> &mut Process<A> {
        &mut self.p
    }
    fn advance(&mut self, until: u64) -> Advance {
        if self.p.m.icount < self.at && self.at <= until {
            match self.p.advance(self.at, &[]) {
                Advance::Reached => (self.break_it)(&mut self.p.m.cpu),
                other => return other,
            }
        }
        self.p.advance(until, &[])
    }
}

fn replay<A: Arch>(log: &Path) -> Process<A> {
    let opts = ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
    session::prepare_replay::<A>(log, opts).unwrap().process
}

/// Break side b after instruction `n - 1` with `break_it`, compare every `every`; the report
/// must name icount n-1, its pc and disassembly, and exactly register `reg` with the flag
/// bit `bit` flipped.
fn broken<A: CheckArch>(isa: Isa, n: u64, every: u64, break_it: fn(&mut A::Cpu), reg: &str, bit: &str) {
    let Some(bin) = guest("int_math", isa) else { return };
    let dir = TempDir::new("check-broken");
    let (log, _) = record(&bin, &[], dir.path(), &[]);
    let mut a = replay::<A>(&log);
    let mut b = Broken { p: replay::<A>(&log), at: n, break_it };
    let names = ["good".to_string(), "broken".to_string()];
    let r = check::check_sides::<A>(&mut a, &mut b, names, &Settings { every, limit: None }).unwrap();
    let text = r.to_string();
    println!("{text}");
    assert_eq!(r.exit_code(), 1, "{text}");
    let Verdict::Differ(d) = &r.verdict else { panic!("{text}") };
    // What the instruction at icount n-1 is, from a plain replay stopped there.
    let mut p = replay::<A>(&log);
    assert!(matches!(p.advance(n - 1, &[]), Advance::Reached));
    let pc = A::pc(&p.m.cpu);
    let disasm = A::disasm_at(&p.m.mem, pc);
    assert_eq!((d.icount, d.pc, &d.disasm), (n - 1, pc, &disasm), "{text}");
    assert_eq!(d.regs.len(), 1, "{text}");
    assert_eq!(d.regs[0].name, reg, "{text}");
    assert_eq!(d.regs[0].bits.len(), 1, "{text}");
    let (name, x, y) = d.regs[0].bits[0];
    assert_eq!((name, x, y), (bit, x, !x), "{text}");
    assert_eq!(d.mem.total_bytes, 0, "{text}");
    assert!(matches!(d.after, [Landing::At { icount: i, .. }, Landing::At { icount: j, .. }] if i == n && j == n));
    assert!(text.contains(&format!("first instruction whose effects differ: icount {} pc={pc:#x}: {disasm}", n - 1)));
    assert!(text.contains(&format!("{reg} ")) && text.contains(&format!("{bit} {} | {}", x as u8, y as u8)), "{text}");
}

#[test]
fn broken_flag_x86_64_at_a_boundary() {
    broken::<X86_64>(Isa::X86, 200_000, 50_000, |c| c.rflags ^= 1 << 6, "rflags", "ZF");
}

#[test]
fn broken_flag_x86_64_every_instruction() {
    broken::<X86_64>(Isa::X86, 123_457, 1, |c| c.rflags ^= 1, "rflags", "CF");
}

#[test]
fn broken_flag_aarch64_at_a_boundary() {
    broken::<Aarch64>(Isa::A64, 300_000, 100_000, |c| c.nzcv ^= 1 << 29, "nzcv", "C");
}

#[test]
fn broken_flag_aarch64_every_instruction() {
    broken::<Aarch64>(Isa::A64, 98_765, 1, |c| c.nzcv ^= 1 << 31, "nzcv", "N");
}

// ---------------------------------------------------------------------------------------
// Options and logs that do not replay

#[test]
fn usage_errors() {
    let dir = TempDir::new("check-usage");
    let d = dir.path();
    let o = deja(&["check", "--engines", "interp", "x.deja"], d);
    assert_eq!(o.status.0, 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("two engines"), "{}", text(&o.stderr));
    let o = deja(&["check", "--engines", "interp,warp", "x.deja"], d);
    assert_eq!(o.status.0, 2);
    assert!(text(&o.stderr).contains("unknown engine `warp`"), "{}", text(&o.stderr));
    let o = deja(&["check", "--engines", "interp,interp", "--every", "0", "x.deja"], d);
    assert_eq!(o.status.0, 2);
    let o = deja(&["check", "--engines", "interp,interp", "missing.deja"], d);
    assert_eq!(o.status.0, 127);
    assert!(text(&o.stderr).starts_with("deja: ") && text(&o.stderr).contains("missing.deja"));
    let o = deja(&["check"], d);
    assert_eq!(o.status.0, 2);
    if EngineKind::ALL.len() == 1 {
        // No default pair of engines in a build with one engine: say what to do instead.
        let o = deja(&["check", "x.deja"], d);
        assert_eq!(o.status.0, 2);
        assert!(text(&o.stderr).contains("--engines interp,interp"), "{}", text(&o.stderr));
    }
}

/// A log cut short at a chunk boundary: both replays stop where it stops, the same way; the
/// engines agree, but the log does not replay to an end (exit 124, as `deja replay`).
#[test]
fn cut_short_log_is_not_ok() {
    let Some(bin) = guest("hash", Isa::X86) else { return };
    let dir = TempDir::new("check-cut");
    let (log, _) = record(&bin, &[], dir.path(), &["--checkpoint-every", "100000"]);
    let data = std::fs::read(&log).unwrap();
    // Chunk frames: u32 length, u32 crc, payload; the first starts after magic and version.
    let mut frames = Vec::new();
    let mut pos = 12;
    while pos + 8 <= data.len() {
        frames.push(pos);
        pos += 8 + u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
    }
    assert!(frames.len() > 4, "expected several chunks");
    let cut = dir.path().join("cut.deja");
    std::fs::write(&cut, &data[..frames[frames.len() / 2]]).unwrap();
    let o = deja(&[OsString::from("check"), "--engines".into(), "interp,interp".into(), cut.into()], dir.path());
    let out = text(&o.stdout);
    assert_eq!(o.status.0, 124, "{out}{}", text(&o.stderr));
    assert!(out.contains("the engines agree, but the log does not replay"), "{out}");
    assert!(out.contains("the recording stops here"), "{out}");
}

/// A recording the emulator stopped (`--max-icount`): both replays stop where it stopped,
/// its end event matches, and that is agreement.
#[test]
fn stopped_recording_agrees() {
    let Some(bin) = guest("hash", Isa::X86) else { return };
    let dir = TempDir::new("check-stopped");
    let (log, n) = record(&bin, &[], dir.path(), &["--max-icount", "300001"]);
    assert_eq!(n, 300_001);
    let o = deja(&[OsString::from("check"), "--engines".into(), engines().into(), log.into()], dir.path());
    let out = text(&o.stdout);
    assert_eq!(o.status.0, 0, "{out}{}", text(&o.stderr));
    assert_eq!(agreed_over(&out), n, "{out}");
    assert!(out.contains("both stopped where the recording was stopped"), "{out}");
}
