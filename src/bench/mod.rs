//! `deja bench`: record each built-in workload, and measure plain runs, recordings and replays
//! per engine and guest ISA (with `--compare`, also native and qemu-user runs of the same
//! program), all in the same invocation so that ratios are meaningful on a noisy machine.
//!
//! Every measurement is a child process of `deja bench` (`deja run`, `deja record`,
//! `deja replay --quiet`, the native executable, `qemu-<isa>`): its wall time is measured from
//! spawn to reap, its peak RSS is that process's own `ru_maxrss` (from `wait4`), and each
//! phase starts from a fresh process, so no phase inherits another's memory high-water mark.
//! The best (lowest) wall time over `--reps` repetitions is reported; repetitions interleave the
//! phases, so a burst of load from a neighbour hits all of them alike.
//!
//! `targets()` is the engine list: one `Target` per (ISA, engine) this build can execute, with
//! in-process entry points that `cargo bench` (benches/replay.rs, benches/run.rs) uses. A JIT
//! becomes part of every benchmark by adding its line there (and its `--engine` value on the
//! command line).

pub mod host;
pub mod report;
pub mod workloads;
pub mod workloads_a64;

use crate::arch::Arch;
use crate::linux::arch_aarch64::Aarch64;
use crate::linux::arch_x86_64::X86_64;
use crate::linux::loader::Isa;
use crate::linux::process::Options;
use crate::linux::Outcome;
use crate::replay::session::{self, RecordOptions, ReplayOptions};
use crate::world::{Quiet, RealWorld};
use report::{Failure, LogStats, Other, Phase, Report, Row, Unavailable};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use workloads::{Size, Workload};

/// Every engine deja knows of, whether or not this build has it.
pub const ENGINES: &[&str] = &["interp", "jit"];
/// Every guest ISA deja knows of, whether or not this build has it.
pub const ISAS: &[Isa] = &[Isa::X86_64, Isa::Aarch64];

/// What a run, a recording or a replay of one workload returns: retired instructions.
pub type PhaseResult = Result<u64, String>;

/// An (ISA, engine) pair this build can execute, with in-process entry points. Each runs the
/// guest to its end and fails unless it exits with status 0.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub isa: Isa,
    pub engine: &'static str,
    /// Plain run of `exe` with `argv`, guest stdout/stderr swallowed.
    pub run: fn(exe: &Path, argv: &[Vec<u8>]) -> PhaseResult,
    /// Record a run into `log` (default checkpoint interval, executable embedded).
    pub record: fn(exe: &Path, argv: &[Vec<u8>], log: &Path) -> PhaseResult,
    /// Replay `log` quietly.
    pub replay: fn(log: &Path) -> PhaseResult,
}

impl Target {
    /// The entry points for an `Arch` whose engine is `engine`.
    pub fn of<A: Arch>(isa: Isa, engine: &'static str) -> Target {
        Target { isa, engine, run: run_with::<A>, record: record_with::<A>, replay: replay_with::<A> }
    }
}

/// The engine list: every (ISA, engine) pair this build can execute.
///
/// Still to join: the JIT, as `Target::of::<…>(Isa::X86_64, "jit")` with the `Arch` (or
/// engine option) it runs under.
pub fn targets() -> Vec<Target> {
    vec![Target::of::<X86_64>(Isa::X86_64, "interp"), Target::of::<Aarch64>(Isa::Aarch64, "interp")]
}

fn ended_ok(what: &str, r: Result<Outcome, crate::linux::process::RunError>) -> Result<(), String> {
    match r {
        Ok(Outcome::Exited(0)) => Ok(()),
        Ok(o) => Err(format!("{what}: the guest ended with {o:?}")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn run_with<A: Arch>(exe: &Path, argv: &[Vec<u8>]) -> PhaseResult {
    let world = Box::new(Quiet(RealWorld));
    let mut p = crate::linux::start::<A>(exe, argv, &[], world, Options::default()).map_err(|e| e.to_string())?;
    ended_ok("run", p.run())?;
    Ok(p.m.icount)
}

fn record_with<A: Arch>(exe: &Path, argv: &[Vec<u8>], log: &Path) -> PhaseResult {
    let opts = RecordOptions {
        out: log.to_path_buf(),
        checkpoint_every: session::DEFAULT_CHECKPOINT_EVERY,
        embed_exe: true,
        run: Options::default(),
    };
    let rec = session::record::<A>(exe, argv, &[], opts).map_err(|e| e.to_string())?;
    ended_ok("record", rec.result)?;
    Ok(rec.process.m.icount)
}

fn replay_with<A: Arch>(log: &Path) -> PhaseResult {
    let opts = ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
    let rep = session::replay::<A>(log, opts).map_err(|e| e.to_string())?;
    ended_ok("replay", rep.result)?;
    Ok(rep.process.m.icount)
}

/// The workloads for `isa`: the embedded ones, and with `c` the C ones built with gcc into
/// `dir` (when gcc is missing or fails, a line in `notes` says so).
pub fn workloads_for(
    isa: Isa,
    size: Size,
    dir: &Path,
    c: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<Workload>, String> {
    let mut all = workloads::embedded(isa, size)?;
    if all.is_empty() {
        notes.push(format!(
            "no embedded workloads for {} yet{}",
            host::isa_name(isa),
            if c { "" } else { " (--compare adds the C ones, built with gcc)" }
        ));
    }
    if c {
        let (c, why) = host::c_workloads(isa, size, dir);
        if let Some(why) = why {
            notes.push(format!("C workloads for {} skipped: {why}", host::isa_name(isa)));
        }
        all.extend(c);
    }
    Ok(all)
}

/// `deja bench` options.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Engine names asked for (empty: every engine deja knows of).
    pub engines: Vec<String>,
    /// ISA names asked for (empty: every ISA deja knows of).
    pub isas: Vec<String>,
    pub json: Option<PathBuf>,
    pub compare: bool,
    pub quick: bool,
    /// Repetitions (default 3, 1 with `--quick`).
    pub reps: Option<u32>,
    /// The deja executable whose `run`/`record`/`replay` are measured.
    pub deja: PathBuf,
    /// Only write the workload executables into this directory (for profiling them by hand).
    pub save_workloads: Option<PathBuf>,
}

/// `deja bench`: measure, print the tables to stdout, write the JSON report if asked.
pub fn main(opts: &BenchOptions) -> ExitCode {
    if let Some(dir) = &opts.save_workloads {
        return match save_workloads(opts, dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("deja: bench: {e}");
                ExitCode::from(2)
            }
        };
    }
    let report = match bench(opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("deja: bench: {e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", report::table(&report));
    if let Some(path) = &opts.json {
        let text = serde_json::to_string_pretty(&report).expect("the report serialises");
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("deja: bench: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--save-workloads DIR`: write the workloads of the selected ISAs and print how to run them.
fn save_workloads(opts: &BenchOptions, dir: &Path) -> Result<(), String> {
    let (targets, _) = select(opts)?;
    let size = if opts.quick { Size::Quick } else { Size::Full };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut isas: Vec<Isa> = targets.iter().map(|t| t.isa).collect();
    isas.dedup();
    let mut notes = Vec::new();
    for isa in isas {
        for w in workloads_for(isa, size, dir, opts.compare, &mut notes)? {
            let exe = w.write_to(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            println!("{}", format!("{} {}", exe.display(), w.args.join(" ")).trim_end());
        }
    }
    for n in notes {
        eprintln!("deja: bench: {n}");
    }
    Ok(())
}

fn parse_isa(s: &str) -> Option<Isa> {
    match s {
        "x86_64" | "x86-64" | "amd64" => Some(Isa::X86_64),
        "aarch64" | "arm64" => Some(Isa::Aarch64),
        _ => None,
    }
}

/// The (ISA, engine) pairs to measure, and those asked for that this build lacks.
fn select(opts: &BenchOptions) -> Result<(Vec<Target>, Vec<Unavailable>), String> {
    let mut engines: Vec<&str> = Vec::new();
    for e in &opts.engines {
        let Some(&known) = ENGINES.iter().find(|&&k| k == e) else {
            return Err(format!("unknown engine `{e}` (known: {})", ENGINES.join(", ")));
        };
        if !engines.contains(&known) {
            engines.push(known);
        }
    }
    if engines.is_empty() {
        engines = ENGINES.to_vec();
    }
    let mut isas: Vec<Isa> = Vec::new();
    for s in &opts.isas {
        let isa = parse_isa(s).ok_or_else(|| format!("unknown ISA `{s}` (known: x86_64, aarch64)"))?;
        if !isas.contains(&isa) {
            isas.push(isa);
        }
    }
    if isas.is_empty() {
        isas = ISAS.to_vec();
    }
    let all = targets();
    let mut chosen = Vec::new();
    let mut missing = Vec::new();
    for &isa in &isas {
        for &engine in &engines {
            match all.iter().find(|t| t.isa == isa && t.engine == engine) {
                Some(t) => chosen.push(*t),
                None => missing.push(Unavailable {
                    isa: host::isa_name(isa).into(),
                    engine: engine.into(),
                    reason: "not available in this build".into(),
                }),
            }
        }
    }
    if chosen.is_empty() {
        let what: Vec<String> = missing.iter().map(|m| format!("{} on {}", m.engine, m.isa)).collect();
        return Err(format!("{} not available in this build", what.join(", ")));
    }
    Ok((chosen, missing))
}

/// A per-invocation scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Best (lowest) wall time and highest peak RSS over repetitions.
#[derive(Default, Clone)]
struct Best {
    wall: Option<f64>,
    rss: u64,
}

impl Best {
    /// A native or qemu run: only its wall time (its `ru_maxrss` would include the RSS of
    /// `deja bench` itself, which Linux carries into a child across fork and exec).
    fn add_wall(&mut self, m: &host::Measured) {
        let w = m.wall.as_secs_f64();
        self.wall = Some(self.wall.map_or(w, |b| b.min(w)));
    }

    /// A deja phase: wall time, and the peak RSS the child reports for itself (`VmHWM` of its
    /// own address space, from the `--stats` line).
    fn add(&mut self, m: &host::Measured) {
        self.add_wall(m);
        self.rss = self.rss.max(stats_rss_kib(&m.stderr).unwrap_or(m.max_rss_kib));
    }
}

/// Instructions from the `--stats` line (`deja: N instructions in …`).
fn stats_icount(stderr: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(stderr).lines().find_map(|l| {
        let rest = l.strip_prefix("deja: ")?;
        let (n, tail) = rest.split_once(' ')?;
        if tail.starts_with("instructions in ") {
            n.parse().ok()
        } else {
            None
        }
    })
}

/// Peak RSS from the `--stats` line (`…, peak RSS N KiB`).
fn stats_rss_kib(stderr: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(stderr).lines().find_map(|l| {
        let rest = l.strip_prefix("deja: ")?.split_once("peak RSS ")?.1;
        rest.strip_suffix(" KiB")?.parse().ok()
    })
}

/// Why a child's run does not count, if it does not.
fn check(what: &str, m: &host::Measured) -> Result<(), String> {
    if m.status == 0 {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&m.stderr);
    let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    Err(format!("{what} exited with status {}: {last}", m.status))
}

/// Everything measured for one workload.
struct Measure<'a> {
    w: &'a Workload,
    exe: PathBuf,
    native: Best,
    qemu: Option<(PathBuf, Best)>,
    engines: Vec<EngineMeasure>,
    /// stdout of the first run, natively when measured, else under deja.
    reference: Option<Vec<u8>>,
    outputs_match: bool,
}

struct EngineMeasure {
    target: Target,
    run: Best,
    record: Best,
    replay: Best,
    /// Instructions of the last recording (and its replay).
    icount: Option<u64>,
    /// Instructions of the last plain run.
    run_icount: u64,
    log: PathBuf,
    failure: Option<String>,
}

fn bench(opts: &BenchOptions) -> Result<Report, String> {
    use std::io::IsTerminal;
    let (targets, unavailable) = select(opts)?;
    let size = if opts.quick { Size::Quick } else { Size::Full };
    let reps = opts.reps.unwrap_or(if opts.quick { 1 } else { 3 }).max(1);
    let dir = std::env::temp_dir().join(format!("deja-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let scratch = Scratch(dir);
    let dir = &scratch.0;

    // The workloads of every ISA we measure.
    let mut isas: Vec<Isa> = targets.iter().map(|t| t.isa).collect();
    isas.dedup();
    let mut all: Vec<Workload> = Vec::new();
    let mut notes = Vec::new();
    for &isa in &isas {
        all.extend(workloads_for(isa, size, dir, opts.compare, &mut notes)?);
    }
    let mut ms: Vec<Measure> = Vec::new();
    for w in &all {
        let exe = w.write_to(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let qemu = if opts.compare { host::qemu_for(w.isa).map(|q| (q, Best::default())) } else { None };
        let engines = targets
            .iter()
            .filter(|t| t.isa == w.isa)
            .map(|t| EngineMeasure {
                target: *t,
                run: Best::default(),
                record: Best::default(),
                replay: Best::default(),
                icount: None,
                run_icount: 0,
                log: dir.join(format!("{}-{}.deja", w.file_name(), t.engine)),
                failure: None,
            })
            .collect();
        ms.push(Measure { w, exe, native: Best::default(), qemu, engines, reference: None, outputs_match: true });
    }
    if opts.compare {
        for &isa in &isas {
            if !host::runs_natively(isa) {
                notes.push(format!("{} programs do not run natively on this host", host::isa_name(isa)));
            }
            if host::qemu_for(isa).is_none() {
                notes.push(format!("qemu-user for {} is not installed", host::isa_name(isa)));
            }
        }
    }

    let native_on = |w: &Workload| opts.compare && host::runs_natively(w.isa);
    let steps: u64 =
        ms.iter().map(|m| 3 * m.engines.len() as u64 + native_on(m.w) as u64 + m.qemu.is_some() as u64).sum::<u64>()
            * reps as u64;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(steps),
        if std::io::stderr().is_terminal() {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template("deja bench [{bar:30}] {pos}/{len} {elapsed} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }

    for rep in 0..reps {
        for m in ms.iter_mut() {
            let w = m.w;
            let args = &w.args;
            let mut outputs: Vec<Vec<u8>> = Vec::new();
            if native_on(w) {
                bar.set_message(format!("{} native (rep {})", w.name, rep + 1));
                let r = host::measure(Command::new(&m.exe).args(args).current_dir(dir).env_clear())?;
                check(&format!("{} natively", w.name), &r)?;
                m.native.add_wall(&r);
                outputs.push(r.stdout);
                bar.inc(1);
            }
            if let Some((q, best)) = &mut m.qemu {
                bar.set_message(format!("{} {} (rep {})", w.name, q.display(), rep + 1));
                let r = host::measure(Command::new(&*q).arg(&m.exe).args(args).current_dir(dir).env_clear())?;
                check(&format!("{} under {}", w.name, q.display()), &r)?;
                best.add_wall(&r);
                outputs.push(r.stdout);
                bar.inc(1);
            }
            for e in m.engines.iter_mut() {
                if e.failure.is_some() {
                    bar.inc(3);
                    continue;
                }
                let engine = e.target.engine;
                let deja = |phase: &str, pre: &[&str], post: &[&std::ffi::OsStr]| {
                    bar.set_message(format!("{} {engine} {phase} (rep {})", w.name, rep + 1));
                    let mut c = Command::new(&opts.deja);
                    c.arg(phase).args(["--engine", engine, "--stats"]).args(pre).args(post);
                    let r = host::measure(c.current_dir(dir).env_clear());
                    bar.inc(1);
                    r
                };
                let mut prog: Vec<&std::ffi::OsStr> = vec!["--".as_ref(), m.exe.as_os_str()];
                prog.extend(args.iter().map(std::ffi::OsStr::new));
                let log = e.log.as_os_str();
                let run = deja("run", &[], &prog);
                let rec = deja("record", &["-o"], &[&[log], &prog[..]].concat());
                let rep_ = deja("replay", &["--quiet"], &[log]);
                let phases = [("run", run), ("record", rec), ("replay", rep_)];
                let mut got = Vec::new();
                for (name, r) in phases {
                    let r = r.and_then(|r| {
                        check(&format!("deja {name} of {}", w.name), &r)?;
                        let n = stats_icount(&r.stderr)
                            .ok_or_else(|| format!("deja {name} of {}: no statistics line on stderr", w.name))?;
                        Ok((n, r))
                    });
                    match r {
                        Ok(x) => got.push(x),
                        Err(err) => {
                            e.failure = Some(err);
                            break;
                        }
                    }
                }
                if e.failure.is_some() {
                    continue;
                }
                // A replay retires exactly what its recording did. A plain run may differ when
                // the program's control flow depends on what it observes (clock values), so
                // each phase's MIPS uses its own count.
                let (run_n, rec_n, rep_n) = (got[0].0, got[1].0, got[2].0);
                if rec_n != rep_n {
                    e.failure =
                        Some(format!("{}: the replay retired {rep_n} instructions, the recording {rec_n}", w.name));
                    continue;
                }
                e.icount = Some(rec_n);
                e.run_icount = run_n;
                e.run.add(&got[0].1);
                e.record.add(&got[1].1);
                e.replay.add(&got[2].1);
                outputs.push(got[0].1.stdout.clone());
                outputs.push(got[1].1.stdout.clone());
            }
            for o in outputs {
                match &m.reference {
                    None => m.reference = Some(o),
                    Some(r) if *r != o => m.outputs_match = false,
                    Some(_) => {}
                }
            }
        }
    }
    bar.finish_and_clear();

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for m in &ms {
        for e in &m.engines {
            let base = (m.w.name.clone(), host::isa_name(m.w.isa).to_string(), e.target.engine.to_string());
            if let Some(f) = &e.failure {
                failures.push(Failure { workload: base.0, isa: base.1, engine: base.2, error: f.clone() });
                continue;
            }
            let icount = e.icount.unwrap_or(0);
            let log = log_stats(&e.log, icount, e.record.wall.unwrap_or(0.0))
                .map_err(|err| format!("{}: reading the recorded log {}: {err}", m.w.name, e.log.display()))?;
            let phase = |b: &Best, n: u64| {
                let s = b.wall.unwrap_or(0.0);
                Phase { wall_s: s, mips: report::mips(n, s), peak_rss_kib: b.rss }
            };
            let run = phase(&e.run, e.run_icount);
            let (record, replay) = (phase(&e.record, icount), phase(&e.replay, icount));
            let other = |tool: String, b: &Best| {
                let s = b.wall.unwrap_or(0.0);
                Other {
                    tool,
                    wall_s: s,
                    run_ratio: report::ratio(run.wall_s, s),
                    replay_ratio: report::ratio(replay.wall_s, s),
                }
            };
            rows.push(Row {
                workload: base.0,
                kind: m.w.kind.into(),
                origin: m.w.origin.into(),
                isa: base.1,
                engine: base.2,
                args: m.w.args.clone(),
                instructions: icount,
                record_overhead: report::ratio(record.wall_s, run.wall_s),
                replay_overhead: report::ratio(replay.wall_s, run.wall_s),
                run,
                record,
                replay,
                log,
                native: native_on(m.w).then(|| other("native".into(), &m.native)),
                qemu: m.qemu.as_ref().map(|(q, b)| {
                    let name = q.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                    other(name, b)
                }),
                outputs_match: m.outputs_match,
            });
        }
    }
    for m in &ms {
        if !m.outputs_match {
            failures.push(Failure {
                workload: m.w.name.clone(),
                isa: host::isa_name(m.w.isa).into(),
                engine: String::new(),
                error: "the runs printed different output (native, qemu, deja run and record must agree)".into(),
            });
        }
    }
    Ok(Report {
        deja_version: env!("CARGO_PKG_VERSION").into(),
        host: report::Host {
            cpu: host::cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            kernel: host::kernel(),
        },
        quick: opts.quick,
        compare: opts.compare,
        reps,
        method: "wall time of each child process (spawn to reap), best of `reps`; peak RSS is the process's \
                 ru_maxrss from wait4; deja phases are `deja run`, `deja record`, `deja replay --quiet`"
            .into(),
        rows,
        unavailable,
        failures,
        notes,
    })
}

/// Size and contents of a recorded log.
fn log_stats(path: &Path, icount: u64, record_s: f64) -> Result<LogStats, String> {
    use crate::replay::event::Event;
    let log = crate::replay::log::Log::open(path).map_err(|e| e.to_string())?;
    let syscalls = log.events().filter(|e| matches!(e.event, Event::Syscall { .. })).count() as u64;
    let bytes = log.file_size;
    let header = header_bytes(path).map_err(|e| e.to_string())?.min(bytes);
    let events = bytes - header;
    Ok(LogStats {
        bytes,
        header_bytes: header,
        event_bytes: events,
        events: log.event_count,
        syscalls,
        event_bytes_per_minstr: if icount > 0 { events as f64 / (icount as f64 / 1e6) } else { 0.0 },
        event_bytes_per_syscall: (syscalls > 0).then(|| events as f64 / syscalls as f64),
        event_bytes_per_s: if record_s > 0.0 { events as f64 / record_s } else { 0.0 },
    })
}

/// Bytes before the first event chunk: magic, version and the header chunk (which holds the
/// embedded executable), per docs/replay-format.md.
fn header_bytes(path: &Path) -> std::io::Result<u64> {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)?.read_exact(&mut head)?;
    let len = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    Ok(12 + 8 + len as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(engines: &[&str], isas: &[&str]) -> BenchOptions {
        BenchOptions {
            engines: engines.iter().map(|s| s.to_string()).collect(),
            isas: isas.iter().map(|s| s.to_string()).collect(),
            json: None,
            compare: false,
            quick: true,
            reps: None,
            deja: PathBuf::new(),
            save_workloads: None,
        }
    }

    #[test]
    fn missing_engines_and_isas_are_notes_unless_nothing_is_left() {
        let (t, missing) = select(&opts(&[], &[])).unwrap();
        assert!(t.iter().any(|t| t.isa == Isa::X86_64 && t.engine == "interp"));
        assert_eq!(t.len() + missing.len(), ENGINES.len() * ISAS.len());
        let (t, _) = select(&opts(&["interp"], &["x86_64"])).unwrap();
        assert_eq!(t.len(), 1);
        if !targets().iter().any(|t| t.engine == "jit") {
            let (_, missing) = select(&opts(&["interp", "jit"], &["x86_64"])).unwrap();
            assert_eq!(missing[0].engine, "jit");
            let e = select(&opts(&["jit"], &["x86_64"])).err().unwrap();
            assert!(e.contains("not available in this build"), "{e}");
        }
        let (t, _) = select(&opts(&["interp"], &["aarch64"])).unwrap();
        assert!(t.len() == 1 && t[0].isa == Isa::Aarch64, "{t:?}");
        assert!(select(&opts(&["turbo"], &[])).unwrap_err().contains("unknown engine"));
        assert!(select(&opts(&[], &["mips"])).unwrap_err().contains("unknown ISA"));
    }

    #[test]
    fn the_stats_line_gives_the_instruction_count_and_peak_rss() {
        let err = b"hello\ndeja: 1234 instructions in 0.010 s (0.1 MIPS), peak guest memory 1 KiB, peak RSS 9524 KiB\n";
        assert_eq!(stats_icount(err), Some(1234));
        assert_eq!(stats_rss_kib(err), Some(9524));
        assert_eq!(stats_icount(b"deja: recorded 5 instructions to x\n"), None);
    }
}
