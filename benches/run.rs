//! Plain-run throughput (no recording), in guest instructions per second, for every engine
//! this build has (`deja::bench::targets()`), next to the same executable run natively and
//! under qemu-user (when installed) in the same benchmark run. Criterion's elements are
//! retired guest instructions, so the thrpt column of an engine reads as guest MIPS, and the
//! native/qemu lines read as "MIPS-equivalent" for comparison.
//!
//! Benchmark ids: `run/<isa>/<workload>/<engine | native | qemu-…>`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deja::bench::host;
use std::process::{Command, Stdio};
use std::time::Instant;

fn bench(c: &mut Criterion) {
    let scratch = common::Scratch::new("run");
    let targets = deja::bench::targets();
    let mut isas: Vec<_> = targets.iter().map(|t| t.isa).collect();
    isas.dedup();
    for isa in isas {
        let qemu = host::qemu_for(isa);
        for (w, exe) in common::workloads(isa, &scratch.0) {
            let argv = w.argv(&exe);
            let mut icount = 0;
            let t0 = Instant::now();
            for t in targets.iter().filter(|t| t.isa == isa) {
                icount = (t.run)(&exe, &argv).unwrap_or_else(|e| panic!("running {} with {}: {e}", w.name, t.engine));
            }
            let one = t0.elapsed();
            let mut g = c.benchmark_group(format!("run/{}/{}", host::isa_name(isa), w.name));
            common::configure(&mut g, one);
            g.throughput(Throughput::Elements(icount));
            for t in targets.iter().filter(|t| t.isa == isa) {
                g.bench_function(t.engine, |b| b.iter(|| (t.run)(&exe, &argv).unwrap()));
            }
            let spawn = |cmd: &mut Command| {
                let ok = cmd.stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false);
                assert!(ok, "{}: {cmd:?} failed", w.name);
            };
            if host::runs_natively(isa) {
                g.bench_function("native", |b| b.iter(|| spawn(Command::new(&exe).args(&w.args))));
            }
            if let Some(q) = &qemu {
                let name = q.file_name().unwrap().to_string_lossy().to_string();
                g.bench_function(name, |b| b.iter(|| spawn(Command::new(q).arg(&exe).args(&w.args))));
            }
            g.finish();
            eprintln!("bench: {}: {icount} guest instructions per run", w.name);
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
