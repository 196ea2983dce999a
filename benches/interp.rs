//! Interpreter throughput on guest programs, in guest instructions per second (criterion's
//! "elements" are retired guest instructions, so its thrpt column reads as guest MIPS), next
//! to the same program run natively in the same benchmark run.
//!
//! Workloads: the embedded demo guest (always); the C programs in benches/workloads/ built
//! with `gcc -static -O2` and, as `<name>-musl`, with `musl-gcc -static -O2`, when those are
//! available; and the small assembly loops there (`*.S`, `gcc -nostdlib -static`).

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
    for src in names {
        let stem = src.file_stem().unwrap().to_string_lossy().to_string();
        let builds: &[(&str, &str, &[&str])] = match src.extension().and_then(|e| e.to_str()) {
            Some("c") => &[("gcc", "", &["-static", "-O2"]), ("musl-gcc", "-musl", &["-static", "-O2"])],
            Some("S") => &[("gcc", "", &["-nostdlib", "-static"])],
            _ => &[],
        };
        for (cc, suffix, flags) in builds {
            let name = format!("{stem}{suffix}");
            let bin = out.join(&name);
            let mut cmd = Command::new(cc);
            cmd.args(*flags).arg("-o").arg(&bin).arg(&src);
            if src.extension().is_some_and(|e| e == "c") {
                cmd.arg("-lm");
            }
            if !cmd.status().map(|s| s.success()).unwrap_or(false) {
                eprintln!("bench: skipping {name}: {cc} failed or is missing");
                continue;
            }
            w.push(Workload { name, image: std::fs::read(&bin).unwrap(), native: Some(bin) });
        }
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
