//! The deja command line.

use clap::{Parser, Subcommand};
use deja::arch::Arch;
use deja::engine::EngineKind;
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::arch_x86_64::X86_64;
use deja::linux::loader::Isa;
use deja::linux::process::{Options, RunError};
use deja::linux::{Outcome, Process};
use deja::replay::session::{self, RecordOptions, ReplayOptions};
use deja::world::{RealWorld, Virtual, World};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "deja", version, about = "Deterministic record/replay emulator for Linux user-space programs")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Options shared by the commands that execute a guest.
#[derive(clap::Args, Clone)]
struct ExecArgs {
    /// Execution engine: `interp` (the reference interpreter) or `jit` when built with it.
    #[arg(long, value_parser = parse_engine, default_value = "interp")]
    engine: EngineKind,
    /// Print retired instructions, MIPS and peak memory to stderr at exit.
    #[arg(long)]
    stats: bool,
    /// Print every retired instruction (icount, pc, disassembly) to stderr.
    #[arg(long)]
    trace: bool,
    /// Stop the guest after this many instructions.
    #[arg(long, value_name = "N")]
    max_icount: Option<u64>,
    /// Limit the guest's mapped memory (bytes; suffixes K, M, G): beyond it, allocation
    /// fails with ENOMEM.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
}

impl ExecArgs {
    fn options(&self) -> Options {
        Options { max_icount: self.max_icount, trace: self.trace, max_memory: self.max_memory, engine: self.engine }
    }
}

fn parse_engine(s: &str) -> Result<EngineKind, String> {
    EngineKind::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = EngineKind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown engine `{s}` (this build has: {})", names.join(", "))
    })
}

/// `123`, `64K`, `512M`, `2G`.
fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mul) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().and_then(|n| n.checked_mul(mul)).ok_or_else(|| format!("bad size `{s}`"))
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a static x86-64 Linux program under the emulator.
    Run {
        #[command(flatten)]
        exec: ExecArgs,
        /// `real` (default), or `virtual[,shift=S]`: guest time derived from the instruction
        /// count (ns = icount << S, S defaults to 0) and seeded random bytes: a deterministic
        /// run without a log.
        #[arg(long, value_name = "CLOCK", default_value = "real")]
        clock: String,
        /// Seed for random bytes under --clock=virtual.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        prog: Vec<OsString>,
    },
    /// Run a program for real and record everything non-deterministic it observes.
    Record {
        /// The log to write (default: PROG.deja in the current directory).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Digest the architectural state every N instructions (0: only at the end).
        #[arg(long, value_name = "N", default_value_t = session::DEFAULT_CHECKPOINT_EVERY)]
        checkpoint_every: u64,
        /// Do not embed the executable in the log (replay then needs it at its path or --exe).
        #[arg(long)]
        no_embed_exe: bool,
        #[command(flatten)]
        exec: ExecArgs,
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        prog: Vec<OsString>,
    },
    /// Re-execute a recorded run exactly, with no outside effects.
    Replay {
        /// The log.
        log: PathBuf,
        /// Do not re-emit the guest's output.
        #[arg(short, long)]
        quiet: bool,
        /// Stop at this instruction count.
        #[arg(long, value_name = "N")]
        to_icount: Option<u64>,
        /// The executable, when the log does not embed it and it moved.
        #[arg(long, value_name = "PATH")]
        exe: Option<PathBuf>,
        /// Serve the replay to gdb on this address (e.g. 127.0.0.1:1234; port 0 picks a free
        /// one), stopped before the first instruction, with reverse execution.
        #[arg(long, value_name = "ADDR")]
        gdb: Option<String>,
        /// With --gdb: take a snapshot every N instructions (reverse execution re-executes
        /// at most this many).
        #[arg(long, value_name = "N", default_value_t = deja::debug::snapshot::DEFAULT_EVERY)]
        snapshot_every: u64,
        /// With --gdb: memory budget for snapshots in MiB (over it, every other old snapshot
        /// is dropped).
        #[arg(long, value_name = "MIB", default_value_t = deja::debug::snapshot::DEFAULT_BUDGET >> 20)]
        snapshot_budget: usize,
        #[command(flatten)]
        exec: ExecArgs,
    },
    /// Replay a log with two engines in lockstep; if they disagree, find the first
    /// instruction whose effects differ (exit 0 only when they agree).
    Check {
        /// The log to check (or record a fresh one: `-- PROG ARGS…`).
        #[arg(value_name = "FILE", required_unless_present = "prog", conflicts_with = "prog")]
        log: Option<PathBuf>,
        /// The two engines to compare, comma-separated (default: interp,jit). The same
        /// engine twice (`interp,interp`) checks that replay is deterministic.
        #[arg(long, value_delimiter = ',', value_name = "A,B")]
        engines: Vec<String>,
        /// Compare the two states every N instructions (keep it above the engines' block
        /// length: shorter runs leave the JIT's work to the interpreter).
        #[arg(long, value_name = "N", default_value_t = deja::check::DEFAULT_EVERY,
              value_parser = clap::value_parser!(u64).range(1..))]
        every: u64,
        /// The executable, when the log does not embed it and it moved.
        #[arg(long, value_name = "PATH")]
        exe: Option<PathBuf>,
        /// With `-- PROG`: keep the recording in FILE (default: a temporary file, removed).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Record this program (with the first engine) and check the recording.
        #[arg(last = true, value_name = "PROG")]
        prog: Vec<OsString>,
    },
    /// Summarise a log.
    Info { log: PathBuf },
    /// Print a log's events, one per line.
    Dump {
        log: PathBuf,
        /// First icount to show.
        #[arg(long, value_name = "N")]
        from: Option<u64>,
        /// Last icount to show.
        #[arg(long, value_name = "M")]
        to: Option<u64>,
    },
    /// Measure run, record and replay throughput on built-in workloads (see docs/performance.md).
    Bench {
        /// Engines to measure, comma-separated (default: every engine deja knows of; those
        /// not in this build are reported as such).
        #[arg(long, value_delimiter = ',', value_name = "interp,jit")]
        engines: Vec<String>,
        /// Guest ISAs to measure, comma-separated (default: every ISA deja knows of).
        #[arg(long, value_delimiter = ',', value_name = "x86_64,aarch64")]
        isa: Vec<String>,
        /// Also write the results as JSON to FILE.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also run the same programs natively and under qemu-user (when installed), and the C
        /// workloads (when gcc is installed).
        #[arg(long)]
        compare: bool,
        /// Small workloads, one repetition (smoke tests; the numbers mean little).
        #[arg(long)]
        quick: bool,
        /// Repetitions of each measurement, best kept (default 3; 1 with --quick).
        #[arg(long, value_name = "N")]
        reps: Option<u32>,
        /// Only write the workload executables into DIR (with --compare also the C ones) and
        /// print their command lines, e.g. to profile one with perf.
        #[arg(long, value_name = "DIR")]
        save_workloads: Option<PathBuf>,
    },
    /// Run the embedded demo guest (needs no toolchain) and show what deja does.
    Demo {
        /// Print statistics at exit.
        #[arg(long)]
        stats: bool,
    },
}

/// Exit status for a replay that diverged from its log.
const EXIT_DIVERGED: u8 = 124;
/// Exit status when the emulator stopped the guest (limit, internal error).
const EXIT_STOPPED: u8 = 125;
/// Exit status when nothing could be run (bad program, bad log, bad arguments).
const EXIT_CANNOT_START: u8 = 127;
/// Exit status for bad command-line options (as clap's own).
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { exec, clock, seed, prog } => {
            let world: Box<dyn World> = match parse_clock(&clock) {
                Ok(None) => Box::new(RealWorld),
                Ok(Some(shift)) => Box::new(Virtual::new(RealWorld, shift, seed)),
                Err(e) => {
                    eprintln!("deja: {e}");
                    return ExitCode::from(EXIT_CANNOT_START);
                }
            };
            deja::world::catch_host_signals();
            let exe = PathBuf::from(&prog[0]);
            match guest_isa(&exe) {
                Ok(Isa::X86_64) => cmd_run::<X86_64>(&exe, &prog, world, &exec),
                Ok(Isa::Aarch64) => cmd_run::<Aarch64>(&exe, &prog, world, &exec),
                Err(code) => code,
            }
        }
        Cmd::Record { output, checkpoint_every, no_embed_exe, exec, prog } => {
            let exe = PathBuf::from(&prog[0]);
            let out = output.unwrap_or_else(|| {
                let stem = exe.file_name().map(|s| s.to_os_string()).unwrap_or_else(|| "prog".into());
                let mut n = stem;
                n.push(".deja");
                PathBuf::from(n)
            });
            let opts =
                RecordOptions { out: out.clone(), checkpoint_every, embed_exe: !no_embed_exe, run: exec.options() };
            match guest_isa(&exe) {
                Ok(Isa::X86_64) => cmd_record::<X86_64>(&exe, &prog, opts, &exec, &out),
                Ok(Isa::Aarch64) => cmd_record::<Aarch64>(&exe, &prog, opts, &exec, &out),
                Err(code) => code,
            }
        }
        Cmd::Replay { log, quiet, to_icount, exe, gdb, snapshot_every, snapshot_budget, exec } => {
            let opts = ReplayOptions { quiet, to_icount, exe, run: exec.options() };
            match (deja::replay::log::Log::open(&log).map(|l| l.header.isa), gdb) {
                (Ok(isa), Some(listen)) => {
                    let budget = snapshot_budget.saturating_mul(1 << 20);
                    let d = deja::debug::DebugOptions { listen, snapshot_every, snapshot_budget: budget, replay: opts };
                    match isa {
                        deja::replay::log::ISA_AARCH64 => cmd_debug::<Aarch64>(&log, d),
                        _ => cmd_debug::<X86_64>(&log, d),
                    }
                }
                (Ok(deja::replay::log::ISA_AARCH64), None) => cmd_replay::<Aarch64>(&log, opts, &exec),
                (Ok(_), None) => cmd_replay::<X86_64>(&log, opts, &exec),
                (Err(e), _) => {
                    eprintln!("deja: {e}");
                    ExitCode::from(EXIT_CANNOT_START)
                }
            }
        }
        Cmd::Check { log, engines, every, exe, output, prog } => {
            let engines = match check_engines(&engines) {
                Ok(e) => e,
                Err(msg) => {
                    eprintln!("deja: check: {msg}");
                    return ExitCode::from(EXIT_USAGE);
                }
            };
            let opts = deja::check::CheckOptions { engines, every, exe };
            match log {
                Some(log) => cmd_check(&log, &opts),
                None => cmd_record_check(&prog, output, &opts),
            }
        }
        Cmd::Info { log } => match session::info(&log) {
            Ok(s) => {
                print!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("deja: {e}");
                ExitCode::from(EXIT_CANNOT_START)
            }
        },
        Cmd::Dump { log, from, to } => match session::dump(&log, from, to, &mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("deja: {e}");
                ExitCode::from(EXIT_CANNOT_START)
            }
        },
        Cmd::Demo { stats } => deja::demo::run_demo(stats),
        Cmd::Bench { engines, isa, json, compare, quick, reps, save_workloads } => {
            let deja = match std::env::current_exe() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("deja: bench: cannot find deja's own executable: {e}");
                    return ExitCode::from(EXIT_CANNOT_START);
                }
            };
            let opts =
                deja::bench::BenchOptions { engines, isas: isa, json, compare, quick, reps, deja, save_workloads };
            deja::bench::main(&opts)
        }
    }
}

/// The guest ISA of an executable, or the exit status after reporting why it has none.
fn guest_isa(exe: &std::path::Path) -> Result<Isa, ExitCode> {
    let name = exe.display().to_string();
    let head = std::fs::File::open(exe).and_then(|f| {
        use std::io::Read;
        let mut b = Vec::new();
        f.take(64).read_to_end(&mut b).map(|_| b)
    });
    let r = match head {
        Ok(b) => deja::linux::loader::elf_isa(&name, &b),
        Err(e) => Err(deja::linux::loader::LoadError::Io(name, e)),
    };
    r.map_err(|e| {
        eprintln!("deja: {e}");
        ExitCode::from(EXIT_CANNOT_START)
    })
}

fn cmd_run<A: Arch>(exe: &std::path::Path, prog: &[OsString], world: Box<dyn World>, exec: &ExecArgs) -> ExitCode {
    let argv = args_of(prog);
    let mut p = match deja::linux::start::<A>(exe, &argv, &host_env(), world, exec.options()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("deja: {e}");
            return ExitCode::from(EXIT_CANNOT_START);
        }
    };
    let t0 = Instant::now();
    let r = p.run();
    finish(&p, r, exec.stats, t0)
}

fn cmd_record<A: Arch>(
    exe: &std::path::Path,
    prog: &[OsString],
    opts: RecordOptions,
    exec: &ExecArgs,
    out: &std::path::Path,
) -> ExitCode {
    let t0 = Instant::now();
    match session::record::<A>(exe, &args_of(prog), &host_env(), opts) {
        Ok(rec) => {
            let code = finish(&rec.process, rec.result, exec.stats, t0);
            let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
            if let Some(e) = rec.log_error {
                eprintln!("deja: {}: writing the log failed: {e}; it is cut short ({size} bytes)", out.display());
                return ExitCode::from(EXIT_STOPPED);
            }
            eprintln!("deja: recorded {} instructions to {} ({size} bytes)", rec.process.m.icount, out.display());
            code
        }
        Err(e) => {
            eprintln!("deja: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
    }
}

/// `deja replay --gdb`: serve the replay to gdb.
fn cmd_debug<A: deja::debug::DebugArch>(log: &std::path::Path, opts: deja::debug::DebugOptions) -> ExitCode {
    match deja::debug::serve::<A>(log, opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ (deja::debug::DebugError::Session(_) | deja::debug::DebugError::Listen(..))) => {
            eprintln!("deja: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
        Err(e) => {
            eprintln!("deja: {e}");
            ExitCode::from(EXIT_STOPPED)
        }
    }
}

fn cmd_replay<A: Arch>(log: &std::path::Path, opts: ReplayOptions, exec: &ExecArgs) -> ExitCode {
    let t0 = Instant::now();
    let to_icount = opts.to_icount;
    match session::replay::<A>(log, opts) {
        Ok(mut rep) => {
            if exec.stats {
                deja::report::print_stats(&rep.process, t0.elapsed());
            }
            replay_report(&mut rep.process, rep.result, to_icount)
        }
        Err(e) => {
            eprintln!("deja: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
    }
}

/// `real` → None; `virtual[,shift=S]` → Some(S).
fn parse_clock(s: &str) -> Result<Option<u32>, String> {
    let mut parts = s.split(',');
    match parts.next() {
        Some("real") if parts.clone().next().is_none() => Ok(None),
        Some("virtual") => {
            let mut shift = 0;
            for p in parts {
                match p.strip_prefix("shift=").and_then(|v| v.parse::<u32>().ok()) {
                    Some(v) if v < 64 => shift = v,
                    _ => return Err(format!("bad --clock option `{p}` (expected shift=0..63)")),
                }
            }
            Ok(Some(shift))
        }
        _ => Err(format!("bad --clock `{s}` (expected real or virtual[,shift=S])")),
    }
}

fn args_of(prog: &[OsString]) -> Vec<Vec<u8>> {
    prog.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn host_env() -> Vec<Vec<u8>> {
    std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect()
}

/// Report how a run ended and turn it into deja's exit status.
fn finish<A: Arch>(p: &Process<A>, r: Result<Outcome, RunError>, stats: bool, t0: Instant) -> ExitCode {
    if stats {
        deja::report::print_stats(p, t0.elapsed());
    }
    match r {
        Ok(out) => {
            deja::report::print_outcome(&out);
            ExitCode::from(out.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("deja: {e} at pc={:#x} icount={}", A::pc(&p.m.cpu), p.m.icount);
            ExitCode::from(EXIT_STOPPED)
        }
    }
}

/// The one-line replay verdict, or the divergence report.
fn replay_report<A: Arch>(p: &mut Process<A>, r: Result<Outcome, RunError>, to_icount: Option<u64>) -> ExitCode {
    match r {
        Ok(out) => {
            deja::report::print_outcome(&out);
            let how = match &out {
                Outcome::Exited(c) => format!("exit {c}"),
                Outcome::Killed { signo, .. } => format!("killed by {}", deja::report::signal_name(*signo)),
            };
            let d = p.digest();
            eprintln!("replay ok: {} instructions, {how}, digest {d:016x}", p.m.icount);
            ExitCode::from(out.exit_code() as u8)
        }
        Err(RunError::IcountLimit(n)) if to_icount == Some(n) => {
            let d = p.digest();
            eprintln!("replay stopped at icount {n} as asked (pc={:#x}), digest {d:016x}", A::pc(&p.m.cpu));
            ExitCode::SUCCESS
        }
        Err(RunError::IcountLimit(n)) => {
            // The recording itself was stopped by the emulator here.
            let d = p.digest();
            eprintln!("replay ok: {n} instructions, stopped where the recording stopped, digest {d:016x}");
            ExitCode::from(EXIT_STOPPED)
        }
        Err(RunError::Divergence { div, pc }) => {
            eprintln!("deja: replay diverged at icount {} pc={pc:#x}: {}", div.icount, deja::report::disasm_at(p, pc));
            eprintln!("  expected: {}", div.expected);
            eprintln!("  actual:   {}", div.actual);
            match div.last_good {
                Some((id, at)) => eprintln!("  last agreeing checkpoint: #{id} at icount {at}"),
                None => eprintln!("  no earlier checkpoint agreed (divergence before the first one)"),
            }
            ExitCode::from(EXIT_DIVERGED)
        }
        Err(e) => {
            eprintln!("deja: {e} at pc={:#x} icount={}", A::pc(&p.m.cpu), p.m.icount);
            ExitCode::from(EXIT_STOPPED)
        }
    }
}

/// The two engines of `deja check --engines A,B`; without the option, the reference and the
/// first other engine this build has.
fn check_engines(names: &[String]) -> Result<[EngineKind; 2], String> {
    match names {
        [] => match EngineKind::ALL {
            [a, b, ..] => Ok([*a, *b]),
            _ => Err(format!(
                "this build has only one engine ({}): pass --engines {0},{0} to check that replay is \
                 deterministic, or build deja with the jit",
                EngineKind::ALL[0].name()
            )),
        },
        [a, b] => Ok([parse_engine(a)?, parse_engine(b)?]),
        _ => Err(format!("--engines takes two engines, A,B (got {})", names.join(","))),
    }
}

/// `deja check FILE`.
fn cmd_check(log: &std::path::Path, opts: &deja::check::CheckOptions) -> ExitCode {
    let r = match deja::replay::log::Log::open(log).map(|l| l.header.isa) {
        Ok(deja::replay::log::ISA_AARCH64) => deja::check::check_log::<Aarch64>(log, opts),
        Ok(_) => deja::check::check_log::<X86_64>(log, opts),
        Err(e) => {
            eprintln!("deja: {e}");
            return ExitCode::from(EXIT_CANNOT_START);
        }
    };
    match r {
        Ok(report) => {
            use std::io::Write;
            // A closed pipe (`| head`) must not turn the verdict into a panic.
            let _ = write!(std::io::stdout().lock(), "{report}");
            ExitCode::from(report.exit_code())
        }
        Err(e @ deja::check::CheckError::Session(_)) => {
            eprintln!("deja: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
        Err(e) => {
            eprintln!("deja: check: {e}");
            ExitCode::from(EXIT_STOPPED)
        }
    }
}

/// `deja check -- PROG ARGS…`: record PROG with the first engine, then check the recording.
fn cmd_record_check(prog: &[OsString], output: Option<PathBuf>, opts: &deja::check::CheckOptions) -> ExitCode {
    let exe = PathBuf::from(&prog[0]);
    let keep = output.is_some();
    let out = output.unwrap_or_else(|| std::env::temp_dir().join(format!("deja-check-{}.deja", std::process::id())));
    let run = Options { engine: opts.engines[0], ..Options::default() };
    let rec =
        RecordOptions { out: out.clone(), checkpoint_every: session::DEFAULT_CHECKPOINT_EVERY, embed_exe: true, run };
    let recorded = match guest_isa(&exe) {
        Ok(Isa::X86_64) => {
            session::record::<X86_64>(&exe, &args_of(prog), &host_env(), rec).map(|r| r.process.m.icount)
        }
        Ok(Isa::Aarch64) => {
            session::record::<Aarch64>(&exe, &args_of(prog), &host_env(), rec).map(|r| r.process.m.icount)
        }
        Err(code) => return code,
    };
    let code = match recorded {
        Ok(n) => {
            eprintln!("deja: recorded {n} instructions with {}; checking", opts.engines[0].name());
            cmd_check(&out, opts)
        }
        Err(e) => {
            eprintln!("deja: {e}");
            ExitCode::from(EXIT_CANNOT_START)
        }
    };
    if !keep {
        let _ = std::fs::remove_file(&out);
    }
    code
}
