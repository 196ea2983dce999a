//! Interpreter throughput on guest programs, in guest instructions per second (criterion's
//! "elements" are retired guest instructions, so its thrpt column reads as guest MIPS), next
//! to the same program run natively in the same benchmark run.
//!
//! Workloads: the embedded demo guest (always), and the C programs in benches/workloads/ built
//! with `gcc -static -O2` when gcc is available.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use deja::linux::process::Options;
use deja::world::{Quiet, RealWorld};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Workload {
    name: String,
    image: Vec<u8>,
    /// Host path of a native build, when there is one.
    native: Option<PathBuf>,
}

fn workloads() -> Vec<Workload> {
    let mut w = vec![Workload { name: "demo-sieve".into(), image: deja::demo::demo_elf().unwrap(), native: None }];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/workloads");
    let out = std::env::temp_dir().join("deja-bench-workloads");
    let _ = std::fs::create_dir_all(&out);
    let mut names: Vec<_> = std::fs::read_dir(&src).unwrap().flatten().map(|e| e.path()).collect();
    names.sort();
    for c in names.into_iter().filter(|p| p.extension().is_some_and(|e| e == "c")) {
        let stem = c.file_stem().unwrap().to_string_lossy().to_string();
        let bin = out.join(&stem);
        let ok = Command::new("gcc")
            .args(["-static", "-O2", "-o"])
            .arg(&bin)
            .arg(&c)
            .arg("-lm")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("bench: skipping {stem}: gcc -static failed or is missing");
            continue;
        }
        w.push(Workload { name: stem, image: std::fs::read(&bin).unwrap(), native: Some(bin) });
    }
    w
}

/// Run a workload to its end under the interpreter; returns retired instructions.
fn run_interp(w: &Workload) -> u64 {
    let argv = vec![w.name.as_bytes().to_vec()];
    let mut p = deja::linux::start_image::<deja::linux::arch_x86_64::X86_64>(
        &w.name,
        &w.image,
        Path::new("/bench"),
        &argv,
        &[],
        Box::new(Quiet(RealWorld)),
        Options::default(),
    )
    .expect("workload loads");
    let out = p.run().expect("workload runs");
    assert_eq!(out.exit_code(), 0, "{} failed under deja: {out:?}", w.name);
    p.m.icount
}

fn bench(c: &mut Criterion) {
    for w in workloads() {
        let icount = run_interp(&w);
        let mut g = c.benchmark_group(&w.name);
        g.sample_size(10);
        g.throughput(Throughput::Elements(icount));
        g.bench_function("interp", |b| b.iter(|| run_interp(&w)));
        if let Some(native) = &w.native {
            g.bench_function("native", |b| {
                b.iter(|| Command::new(native).stdout(Stdio::null()).status().unwrap());
            });
        }
        g.finish();
        eprintln!("bench: {}: {icount} guest instructions per run", w.name);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
