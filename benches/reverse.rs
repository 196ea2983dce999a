//! Reverse-execution latency (the debugger's `reverse-stepi` and `monitor seek`) on a long
//! replay log. Not a timed test: it prints a table (numbers go to docs/performance.md).
//!
//!     cargo bench --bench reverse                          # ~1e9-instruction log
//!     DEJA_BENCH_ROUNDS=40 cargo bench --bench reverse     # ~1e8, quicker
//!     DEJA_BENCH_SNAPSHOT_EVERY=N                          # snapshot interval to measure
//!     DEJA_BENCH_ISA=aarch64 (or all; default x86_64)      # guest ISA(s)
//!
//! Steps: build benches/reverse/churn.c with `gcc -static -O0` (`aarch64-linux-gnu-gcc` for an
//! AArch64 guest), record it, then on a
//! `Timeline` (what `deja replay --gdb` drives): replay forward to the end once (taking
//! snapshots), time reverse-stepi at random icounts, and time seeks to the middle of the log,
//! cold (no snapshots there yet: a plain forward replay) and warm (from the end).

use deja::debug::reverse::{Stop, Timeline};
use deja::debug::{snapshot, DebugArch};
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::arch_x86_64::X86_64;
use deja::linux::process::Options;
use deja::replay::session::{self, RecordOptions, ReplayOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn timeline<A: DebugArch>(log: &Path, every: u64) -> Timeline<A> {
    let opts = ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
    let prep = session::prepare_replay::<A>(log, opts).expect("log replays");
    Timeline::new(prep.process, every, snapshot::DEFAULT_BUDGET, None)
}

/// This thread's CPU time: the machine is shared, so wall time alone overstates latency
/// when other work competes for the cores.
fn cpu_now() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Wall and CPU time of `f`, in ms.
fn timed<R>(f: impl FnOnce() -> R) -> (R, f64, f64) {
    let (w, c) = (Instant::now(), cpu_now());
    let r = f();
    (r, w.elapsed().as_secs_f64() * 1e3, (cpu_now() - c).as_secs_f64() * 1e3)
}

/// One line per measured operation: wall and CPU time, ms.
fn stats(name: &str, v: &[(f64, f64)]) {
    for (i, kind) in ["wall", "cpu"].iter().enumerate() {
        let mut x: Vec<f64> = v.iter().map(|p| if i == 0 { p.0 } else { p.1 }).collect();
        x.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| x[((x.len() - 1) as f64 * p).round() as usize];
        println!(
            "{name:<34} {kind:<4} n={:<3} min {:>7.2}  median {:>7.2}  p90 {:>7.2}  max {:>7.2} ms",
            x.len(),
            x[0],
            pct(0.5),
            pct(0.9),
            x[x.len() - 1]
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs us with no args: stay quick.
    if !std::env::args().any(|a| a == "--bench") {
        println!("reverse bench: run with `cargo bench --bench reverse`");
        return;
    }
    let isa = std::env::var("DEJA_BENCH_ISA").unwrap_or_else(|_| "x86_64".into());
    if isa == "x86_64" || isa == "all" {
        bench::<X86_64>("gcc");
    }
    if isa == "aarch64" || isa == "all" {
        bench::<Aarch64>("aarch64-linux-gnu-gcc");
    }
}

/// The whole measurement for one guest ISA, its program built by `cc`.
fn bench<A: DebugArch>(cc: &str) {
    let rounds = env_u64("DEJA_BENCH_ROUNDS", 400);
    let every = env_u64("DEJA_BENCH_SNAPSHOT_EVERY", snapshot::DEFAULT_EVERY);
    let dir = std::env::temp_dir().join(format!("deja-bench-reverse-{}-{}", A::PLATFORM, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/reverse/churn.c");
    let exe = dir.join("churn");
    let ok = Command::new(cc).args(["-static", "-O0", "-o"]).arg(&exe).arg(&src).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("reverse bench: {cc} -static failed or is missing; {} skipped", A::PLATFORM);
        return;
    }
    let log: PathBuf = dir.join("churn.deja");
    let argv = vec![b"churn".to_vec(), rounds.to_string().into_bytes()];
    let t0 = Instant::now();
    let opts = RecordOptions {
        out: log.clone(),
        checkpoint_every: session::DEFAULT_CHECKPOINT_EVERY,
        embed_exe: true,
        run: Options::default(),
    };
    let rec = session::record::<A>(&exe, &argv, &[], opts).expect("records");
    let total = rec.process.m.icount;
    println!(
        "workload: churn {rounds} ({}): {total} instructions, recorded in {:.2} s",
        A::PLATFORM,
        t0.elapsed().as_secs_f64()
    );
    println!("snapshot every {every} instructions");

    // Cold seek to the middle: nothing snapshotted past the start yet.
    let mid = total / 2;
    let mut tl = timeline::<A>(&log, every);
    let (stop, cold_w, cold_c) = timed(|| tl.goto(mid));
    assert_eq!(stop, Stop::Done);
    // The rest of the forward pass, to the end.
    let (stop, rest_w, rest_c) = timed(|| tl.goto(total));
    assert_eq!(stop, Stop::End);
    let (w, c) = ((cold_w + rest_w) / 1e3, (cold_c + rest_c) / 1e3);
    println!(
        "forward replay taking snapshots: {w:.2} s wall, {c:.2} s cpu ({:.1} MIPS cpu); {} snapshots, {} MiB",
        total as f64 / c / 1e6,
        tl.snaps.len(),
        tl.snaps.bytes() >> 20
    );
    stats("monitor seek to middle (cold)", &[(cold_w, cold_c)]);

    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut random = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };

    // Warm seeks (snapshots all along the log) to random icounts, and to the middle.
    let mut warm = Vec::new();
    for _ in 0..20 {
        let at = random() % total;
        let (stop, w, c) = timed(|| tl.goto(at));
        assert_eq!(stop, Stop::Done);
        warm.push((w, c));
    }
    stats("monitor seek N (warm, random N)", &warm);
    assert_eq!(tl.goto(total), Stop::End);
    let (stop, w, c) = timed(|| tl.goto(mid));
    assert_eq!(stop, Stop::Done);
    stats("monitor seek end -> middle (warm)", &[(w, c)]);

    // reverse-stepi where a forward run (a continue to a breakpoint) arrived: the first one
    // re-executes from the scheduled snapshot before; it leaves fine snapshots behind it, so
    // the next ones (gdb's reverse-next is a series of them) are cheap.
    let mut first = Vec::new();
    let mut next = Vec::new();
    for _ in 0..30 {
        let at = 3 * every + random() % (total - 3 * every);
        assert_eq!(tl.goto(at - 3 * every), Stop::Done);
        assert_eq!(tl.forward_to(at), Stop::Done);
        let (stop, w, c) = timed(|| tl.reverse_step());
        assert_eq!(stop, Stop::Done);
        assert_eq!(tl.icount(), at - 1);
        first.push((w, c));
        for _ in 0..10 {
            let (stop, w, c) = timed(|| tl.reverse_step());
            assert_eq!(stop, Stop::Done);
            next.push((w, c));
        }
    }
    stats("reverse-stepi after a forward run", &first);
    stats("reverse-stepi, the next ten", &next);
    println!("snapshots at the end: {} ({} MiB)", tl.snaps.len(), tl.snaps.bytes() >> 20);
    let _ = std::fs::remove_dir_all(&dir);
}
