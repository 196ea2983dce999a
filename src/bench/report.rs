//! The `deja bench` report: what `--json` writes (field by field in docs/cli.md) and the
//! tables printed to stdout.

use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub deja_version: String,
    pub host: Host,
    pub quick: bool,
    pub compare: bool,
    /// Repetitions of every measurement; the best wall time is kept.
    pub reps: u32,
    /// How the numbers were measured, in words.
    pub method: String,
    /// One per workload and engine that completed.
    pub rows: Vec<Row>,
    /// Engines and ISAs asked for that this build does not have.
    pub unavailable: Vec<Unavailable>,
    /// Workloads that failed (the exit status is then 1).
    pub failures: Vec<Failure>,
    /// Anything skipped, and why (no gcc, no qemu-user…).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Host {
    pub cpu: String,
    pub cores: u32,
    pub kernel: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: String,
    /// integer, float, memory, syscall.
    pub kind: String,
    /// embedded (assembled by deja) or c (built with gcc).
    pub origin: String,
    pub isa: String,
    pub engine: String,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// Retired guest instructions of the recording (and so of its replay). A plain run can
    /// differ slightly when the program branches on what it observes (clock values).
    pub instructions: u64,
    pub run: Phase,
    pub record: Phase,
    pub replay: Phase,
    /// record wall time / run wall time.
    pub record_overhead: f64,
    /// replay wall time / run wall time.
    pub replay_overhead: f64,
    pub log: LogStats,
    /// The same executable run natively (`--compare`, when the host runs this ISA).
    pub native: Option<Other>,
    /// The same executable under qemu-user (`--compare`, when installed).
    pub qemu: Option<Other>,
    /// Every run printed the same output (natively, under qemu, deja run and deja record).
    pub outputs_match: bool,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Phase {
    pub wall_s: f64,
    /// Guest instructions per second of wall time, millions.
    pub mips: f64,
    pub peak_rss_kib: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogStats {
    /// Size of the log file.
    pub bytes: u64,
    /// Of which the header (argv, environment and the embedded executable).
    pub header_bytes: u64,
    /// Of which the event chunks: what grows with the run. The rates below are of these.
    pub event_bytes: u64,
    pub events: u64,
    /// Guest syscalls in the log.
    pub syscalls: u64,
    pub event_bytes_per_minstr: f64,
    /// None when the guest made no syscall.
    pub event_bytes_per_syscall: Option<f64>,
    /// Event bytes per second of recording.
    pub event_bytes_per_s: f64,
}

/// Another way to run the same executable (native, qemu-user).
#[derive(Debug, Clone, Serialize)]
pub struct Other {
    pub tool: String,
    pub wall_s: f64,
    /// deja run wall time / this wall time.
    pub run_ratio: f64,
    /// deja replay wall time / this wall time.
    pub replay_ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unavailable {
    pub isa: String,
    pub engine: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub workload: String,
    pub isa: String,
    pub engine: String,
    pub error: String,
}

pub fn mips(icount: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        icount as f64 / secs / 1e6
    } else {
        0.0
    }
}

pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// 12345678 → "12,345,678".
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// The tables `deja bench` prints.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "deja {} on {} ({} cores, Linux {}); wall time of whole processes, best of {}{}",
        r.deja_version,
        r.host.cpu,
        r.host.cores,
        r.host.kernel,
        r.reps,
        if r.quick { ", --quick (sizes for smoke tests: do not quote these numbers)" } else { "" }
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<20} {:<7} {:<6} {:>13} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>20}",
        "workload",
        "isa",
        "engine",
        "instructions",
        "run s",
        "run",
        "record",
        "replay",
        "replay",
        "event B/",
        "peak RSS MiB"
    );
    let _ = writeln!(
        s,
        "{:<20} {:<7} {:<6} {:>13} {:>8} {:>7} {:>8} {:>8} {:>7} {:>8} {:>20}",
        "", "", "", "", "", "MIPS", "/ run", "/ run", "MIPS", "Minstr", "run / record / replay"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:<20} {:<7} {:<6} {:>13} {:>8.3} {:>7.1} {:>7.2}x {:>7.2}x {:>7.1} {:>8.0} {:>20}",
            row.workload,
            row.isa,
            row.engine,
            grouped(row.instructions),
            row.run.wall_s,
            row.run.mips,
            row.record_overhead,
            row.replay_overhead,
            row.replay.mips,
            row.log.event_bytes_per_minstr,
            format!(
                "{} / {} / {}",
                mib(row.run.peak_rss_kib),
                mib(row.record.peak_rss_kib),
                mib(row.replay.peak_rss_kib)
            ),
        );
    }
    if r.compare && r.rows.iter().any(|x| x.native.is_some() || x.qemu.is_some()) {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<20} {:<7} {:<6} {:>9} {:>9} {:>11} {:>11} {:>11} {:>9}",
            "workload", "isa", "engine", "native s", "qemu s", "deja run", "deja replay", "qemu", "deja run"
        );
        let _ = writeln!(
            s,
            "{:<20} {:<7} {:<6} {:>9} {:>9} {:>11} {:>11} {:>11} {:>9}",
            "", "", "", "", "", "/ native", "/ native", "/ native", "/ qemu"
        );
        let opt = |v: Option<f64>, prec: usize, suffix: &str| match v {
            Some(v) => format!("{v:.prec$}{suffix}"),
            None => "-".into(),
        };
        for row in &r.rows {
            let native = row.native.as_ref();
            let qemu = row.qemu.as_ref();
            let _ = writeln!(
                s,
                "{:<20} {:<7} {:<6} {:>9} {:>9} {:>11} {:>11} {:>11} {:>9}",
                row.workload,
                row.isa,
                row.engine,
                opt(native.map(|n| n.wall_s), 3, ""),
                opt(qemu.map(|q| q.wall_s), 3, ""),
                opt(native.map(|n| n.run_ratio), 1, "x"),
                opt(native.map(|n| n.replay_ratio), 1, "x"),
                opt(native.and_then(|n| qemu.map(|q| ratio(q.wall_s, n.wall_s))), 1, "x"),
                opt(qemu.map(|q| q.run_ratio), 2, "x"),
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<20} {:<7} {:<6} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10}",
        "log", "isa", "engine", "file B", "event B", "events", "syscalls", "event B/", "event KiB/"
    );
    let _ = writeln!(
        s,
        "{:<20} {:<7} {:<6} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10}",
        "", "", "", "", "", "", "", "syscall", "s recorded"
    );
    for row in &r.rows {
        let _ = writeln!(
            s,
            "{:<20} {:<7} {:<6} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10.0}",
            row.workload,
            row.isa,
            row.engine,
            grouped(row.log.bytes),
            grouped(row.log.event_bytes),
            grouped(row.log.events),
            grouped(row.log.syscalls),
            row.log.event_bytes_per_syscall.map_or("-".into(), |b| format!("{b:.1}")),
            row.log.event_bytes_per_s / 1024.0,
        );
    }
    if !r.unavailable.is_empty() || !r.notes.is_empty() || !r.failures.is_empty() {
        let _ = writeln!(s);
    }
    for u in &r.unavailable {
        let _ = writeln!(s, "note: engine {} on {}: {}", u.engine, u.isa, u.reason);
    }
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    for f in &r.failures {
        let who = if f.engine.is_empty() { f.isa.clone() } else { format!("{} {}", f.isa, f.engine) };
        let _ = writeln!(s, "FAILED: {} ({who}): {}", f.workload, f.error);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1000), "1,000");
        assert_eq!(super::grouped(12345678), "12,345,678");
    }
}
