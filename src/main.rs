//! The deja command line.

use clap::{Parser, Subcommand, ValueEnum};
use deja::linux::process::Options;
use deja::linux::Outcome;
use deja::world::RealWorld;
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

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Engine {
    /// The reference interpreter.
    Interp,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a static x86-64 Linux program under the emulator.
    Run {
        /// Execution engine.
        #[arg(long, value_enum, default_value_t = Engine::Interp)]
        engine: Engine,
        /// Print retired instructions, MIPS and peak guest memory to stderr at exit.
        #[arg(long)]
        stats: bool,
        /// Print every retired instruction (icount, pc, disassembly) to stderr.
        #[arg(long)]
        trace: bool,
        /// Stop the guest after this many instructions.
        #[arg(long, value_name = "N")]
        max_icount: Option<u64>,
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        prog: Vec<OsString>,
    },
    /// Run the embedded demo guest (needs no toolchain) and show what deja does.
    Demo {
        /// Print statistics at exit.
        #[arg(long)]
        stats: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { engine: _, stats, trace, max_icount, prog } => {
            let exe = PathBuf::from(&prog[0]);
            let argv: Vec<Vec<u8>> = prog.iter().map(|a| a.as_bytes().to_vec()).collect();
            run(exe, argv, Options { max_icount, trace }, stats)
        }
        Cmd::Demo { stats } => deja::demo::run_demo(stats),
    }
}

/// Run a guest to its end and exit as it did.
fn run(exe: PathBuf, argv: Vec<Vec<u8>>, opts: Options, stats: bool) -> ExitCode {
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_bytes());
            e
        })
        .collect();
    let mut p = match deja::linux::start(&exe, &argv, &envp, Box::new(RealWorld), opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("deja: {e}");
            return ExitCode::from(127);
        }
    };
    let t0 = Instant::now();
    let r = p.run();
    let dt = t0.elapsed();
    if stats {
        deja::report::print_stats(&p, dt);
    }
    match r {
        Ok(out) => {
            report_outcome(&out);
            ExitCode::from(out.exit_code() as u8)
        }
        Err(e) => {
            eprintln!("deja: {e} at pc={:#x} icount={}", p.m.cpu.rip, p.m.icount);
            ExitCode::from(125)
        }
    }
}

fn report_outcome(out: &Outcome) {
    deja::report::print_outcome(out);
}
