//! User-facing one-line reports: how a guest ended, and run statistics.

use crate::linux::{Outcome, Process};
use std::time::Duration;

/// Name of a signal, e.g. "SIGSEGV".
/// Bytes from untrusted input (an ELF, a log header) for a one-line message: control
/// characters and quotes escaped, so no newline or terminal escape sequence reaches the
/// user's terminal, and cut to 256 characters.
pub fn untrusted(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim_end_matches('\0');
    let mut e: String = s.chars().take(256).flat_map(char::escape_debug).collect();
    if s.chars().nth(256).is_some() {
        e.push_str("...");
    }
    e
}

pub fn signal_name(signo: i32) -> String {
    let names = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match names.get(signo as usize) {
        Some(n) if signo > 0 => n.to_string(),
        _ => format!("SIGRT{}", signo - 34),
    }
}

/// Print the one line for a guest killed by a signal (nothing for a normal exit).
pub fn print_outcome(out: &Outcome) {
    if let Outcome::Killed { signo, pc, icount, addr, detail } = out {
        let mut line = format!("deja: guest killed by {} at pc={pc:#x} icount={icount}", signal_name(*signo));
        if let Some(a) = addr {
            line.push_str(&format!(" addr={a:#x}"));
        }
        if let Some(d) = detail {
            line.push_str(&format!(": {d}"));
        }
        eprintln!("{line}");
    }
}

/// Peak resident set size of the deja process, in KiB.
pub fn peak_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub fn print_stats<A: crate::arch::Arch>(p: &Process<A>, dt: Duration) {
    let secs = dt.as_secs_f64().max(1e-9);
    eprintln!(
        "deja: {} instructions in {:.3} s ({:.1} MIPS), peak guest memory {} KiB, peak RSS {} KiB",
        p.m.icount,
        secs,
        p.m.icount as f64 / secs / 1e6,
        p.peak_mapped / 1024,
        peak_rss_kib()
    );
}

/// Disassembly of the guest instruction at `pc` (for reports).
pub fn disasm_at<A: crate::arch::Arch>(p: &Process<A>, pc: u64) -> String {
    A::disasm_at(&p.m.mem, pc)
}
