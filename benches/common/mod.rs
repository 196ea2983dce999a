//! What both benchmarks share: the workloads of each target ISA, written to a scratch
//! directory, and criterion group settings that keep long iterations affordable.

use criterion::{BenchmarkGroup, SamplingMode};
use deja::bench::workloads::{Size, Workload};
use deja::linux::loader::Isa;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A scratch directory for executables and logs, removed at the end.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(what: &str) -> Scratch {
        let d = std::env::temp_dir().join(format!("deja-cargo-bench-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch directory");
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The full-size workloads for `isa` (embedded, and the C ones when gcc is there), each
/// written to `dir` as an executable.
pub fn workloads(isa: Isa, dir: &Path) -> Vec<(Workload, PathBuf)> {
    let mut notes = Vec::new();
    let ws = deja::bench::workloads_for(isa, Size::Full, dir, true, &mut notes).expect("workloads assemble");
    for n in notes {
        eprintln!("bench: {n}");
    }
    ws.into_iter()
        .map(|w| {
            let exe = w.write_to(dir).expect("workload written");
            (w, exe)
        })
        .collect()
}

/// Ten samples of whole runs, one iteration each, with enough measurement time for them
/// (`one`: the time of one iteration, measured beforehand).
pub fn configure<M: criterion::measurement::Measurement>(g: &mut BenchmarkGroup<M>, one: Duration) {
    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time((one * 10).max(Duration::from_secs(1)));
}
