//! Replay throughput, in guest instructions per second: each workload is recorded once per
//! engine (`deja::bench::targets()`: every ISA and engine this build has), then its log is
//! replayed quietly in the benchmark loop. Criterion's elements are retired guest
//! instructions, so its thrpt column reads as guest MIPS.
//!
//! Workloads: the embedded guests of `deja bench` (src/bench/workloads.rs) at full size, and
//! the C programs in benches/workloads/ built with `gcc -static -O2` when gcc is installed.
//! Benchmark ids: `replay/<isa>/<workload>/<engine>`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deja::bench::host::isa_name;
use std::time::Instant;

fn bench(c: &mut Criterion) {
    let scratch = common::Scratch::new("replay");
    for t in deja::bench::targets() {
        for (w, exe) in common::workloads(t.isa, &scratch.0) {
            let log = scratch.0.join(format!("{}-{}.deja", w.name, t.engine));
            let t0 = Instant::now();
            let icount = (t.record)(&exe, &w.argv(&exe), &log)
                .unwrap_or_else(|e| panic!("recording {} with {}: {e}", w.name, t.engine));
            let one = t0.elapsed();
            let mut g = c.benchmark_group(format!("replay/{}/{}", isa_name(t.isa), w.name));
            common::configure(&mut g, one);
            g.throughput(Throughput::Elements(icount));
            g.bench_function(t.engine, |b| {
                b.iter(|| {
                    let n = (t.replay)(&log).unwrap_or_else(|e| panic!("replaying {}: {e}", w.name));
                    assert_eq!(n, icount, "{}: replay retired another number of instructions", w.name);
                })
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
