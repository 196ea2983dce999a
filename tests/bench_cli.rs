//! Smoke tests of `deja bench`: it runs with `--quick`, and its `--json` report has every
//! documented field with the right type (docs/cli.md). Speed is not checked: CI machines are
//! shared and noisy. The report is parsed with serde_json, the same crate that writes it.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn deja() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deja"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("deja-bench-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `v[path]`, failing with the path when it is missing.
fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| v.get(k).unwrap_or_else(|| panic!("missing field `{path}` in {v}")))
}

fn u64_of(v: &Value, path: &str) -> u64 {
    get(v, path).as_u64().unwrap_or_else(|| panic!("`{path}` is not an unsigned integer: {}", get(v, path)))
}

fn f64_of(v: &Value, path: &str) -> f64 {
    let x = get(v, path);
    assert!(x.is_number(), "`{path}` is not a number: {x}");
    x.as_f64().unwrap()
}

fn str_of<'a>(v: &'a Value, path: &str) -> &'a str {
    get(v, path).as_str().unwrap_or_else(|| panic!("`{path}` is not a string: {}", get(v, path)))
}

fn bool_of(v: &Value, path: &str) -> bool {
    get(v, path).as_bool().unwrap_or_else(|| panic!("`{path}` is not a boolean: {}", get(v, path)))
}

fn array_of<'a>(v: &'a Value, path: &str) -> &'a Vec<Value> {
    get(v, path).as_array().unwrap_or_else(|| panic!("`{path}` is not an array: {}", get(v, path)))
}

/// Run `deja bench ARGS --json FILE` and return its exit status output and the parsed report.
fn bench(name: &str, args: &[&str]) -> (Output, Value) {
    let dir = scratch(name);
    let json = dir.join("report.json");
    let out = deja().arg("bench").args(args).arg("--json").arg(&json).output().unwrap();
    assert!(out.status.success(), "deja bench failed\n{}", show(&out));
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("no JSON report: {e}\n{}", show(&out)));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("the report is not JSON: {e}\n{text}"));
    let _ = std::fs::remove_dir_all(&dir);
    (out, v)
}

/// Every documented field of a report, with its type and sane values.
fn check_report(v: &Value, quick: bool, compare: bool) {
    assert!(!str_of(v, "deja_version").is_empty());
    str_of(v, "host.cpu");
    assert!(u64_of(v, "host.cores") >= 1);
    str_of(v, "host.kernel");
    assert_eq!(bool_of(v, "quick"), quick);
    assert_eq!(bool_of(v, "compare"), compare);
    assert!(u64_of(v, "reps") >= 1);
    assert!(!str_of(v, "method").is_empty());
    assert!(array_of(v, "failures").is_empty(), "failures: {}", get(v, "failures"));
    for n in array_of(v, "notes") {
        assert!(n.is_string(), "note {n}");
    }
    for u in array_of(v, "unavailable") {
        str_of(u, "isa");
        str_of(u, "engine");
        assert_eq!(str_of(u, "reason"), "not available in this build");
    }
    let rows = array_of(v, "rows");
    assert!(!rows.is_empty());
    for r in rows {
        let name = str_of(r, "workload");
        assert!(["integer", "float", "memory", "syscall"].contains(&str_of(r, "kind")), "{name}");
        assert!(["embedded", "c"].contains(&str_of(r, "origin")), "{name}");
        str_of(r, "isa");
        str_of(r, "engine");
        for a in array_of(r, "args") {
            assert!(a.is_string());
        }
        let icount = u64_of(r, "instructions");
        assert!(icount > 1000, "{name}: {icount} instructions");
        for phase in ["run", "record", "replay"] {
            assert!(f64_of(r, &format!("{phase}.wall_s")) > 0.0, "{name} {phase}");
            assert!(f64_of(r, &format!("{phase}.mips")) > 0.0, "{name} {phase}");
            assert!(u64_of(r, &format!("{phase}.peak_rss_kib")) > 0, "{name} {phase}");
        }
        assert!(f64_of(r, "record_overhead") > 0.0);
        assert!(f64_of(r, "replay_overhead") > 0.0);
        let bytes = u64_of(r, "log.bytes");
        assert_eq!(u64_of(r, "log.header_bytes") + u64_of(r, "log.event_bytes"), bytes, "{name}");
        assert!(u64_of(r, "log.events") >= 1);
        let syscalls = u64_of(r, "log.syscalls");
        assert!(syscalls >= 1, "{name}: every workload at least exits");
        assert!(f64_of(r, "log.event_bytes_per_minstr") > 0.0);
        assert!(f64_of(r, "log.event_bytes_per_syscall") > 0.0);
        assert!(f64_of(r, "log.event_bytes_per_s") >= 0.0);
        assert!(bool_of(r, "outputs_match"), "{name}");
        for other in ["native", "qemu"] {
            let o = get(r, other);
            if !compare {
                assert!(o.is_null(), "{name}: {other} without --compare");
            } else if !o.is_null() {
                assert!(!str_of(o, "tool").is_empty());
                assert!(f64_of(o, "wall_s") > 0.0);
                assert!(f64_of(o, "run_ratio") > 0.0);
                assert!(f64_of(o, "replay_ratio") > 0.0);
            }
        }
    }
}

#[test]
fn quick_bench_writes_a_complete_json_report() {
    let (out, v) = bench("quick", &["--quick", "--engines", "interp", "--isa", "x86_64"]);
    check_report(&v, true, false);
    let rows = array_of(&v, "rows");
    let mut kinds: Vec<&str> = rows.iter().map(|r| str_of(r, "kind")).collect();
    kinds.sort();
    assert_eq!(kinds, ["float", "integer", "memory", "syscall"], "one embedded workload per kind");
    assert!(rows.iter().all(|r| str_of(r, "engine") == "interp" && str_of(r, "isa") == "x86_64"));
    assert!(array_of(&v, "unavailable").is_empty(), "nothing unavailable was asked for");
    // The syscall workload makes thousands of syscalls, each logged.
    let sys = rows.iter().find(|r| str_of(r, "kind") == "syscall").unwrap();
    assert!(u64_of(sys, "log.syscalls") >= 2000);
    // The table names every workload.
    let table = String::from_utf8_lossy(&out.stdout);
    for r in rows {
        assert!(table.contains(str_of(r, "workload")), "{table}");
    }
}

/// `--isa aarch64`: the embedded AArch64 workloads (one per kind, assembled by deja, no
/// toolchain needed) under the A64 interpreter, with the same report fields.
#[test]
fn quick_aarch64_bench_writes_a_complete_json_report() {
    let (out, v) = bench("quick-a64", &["--isa", "aarch64", "--quick", "--engines", "interp"]);
    check_report(&v, true, false);
    let rows = array_of(&v, "rows");
    let mut kinds: Vec<&str> = rows.iter().map(|r| str_of(r, "kind")).collect();
    kinds.sort();
    assert_eq!(kinds, ["float", "integer", "memory", "syscall"], "one embedded workload per kind");
    for r in rows {
        assert_eq!(str_of(r, "isa"), "aarch64");
        assert_eq!(str_of(r, "engine"), "interp");
        assert_eq!(str_of(r, "origin"), "embedded");
    }
    assert!(array_of(&v, "unavailable").is_empty(), "nothing unavailable was asked for");
    // Thousands of write + clock_gettime pairs, each logged.
    let sys = rows.iter().find(|r| str_of(r, "kind") == "syscall").unwrap();
    assert!(u64_of(sys, "log.syscalls") >= 2000);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(rows.iter().all(|r| table.contains(str_of(r, "workload"))), "{table}");
    assert!(table.contains("aarch64"), "{table}");
}

#[test]
fn quick_compare_bench_covers_every_known_engine_and_isa() {
    let (_, v) = bench("compare", &["--quick", "--compare"]);
    check_report(&v, true, true);
    // Every engine and ISA deja knows of is either measured or reported as not available.
    for isa in ["x86_64", "aarch64"] {
        for engine in ["interp", "jit"] {
            let measured =
                array_of(&v, "rows").iter().any(|r| str_of(r, "isa") == isa && str_of(r, "engine") == engine);
            let missing =
                array_of(&v, "unavailable").iter().any(|u| str_of(u, "isa") == isa && str_of(u, "engine") == engine);
            assert!(measured != missing, "{engine} on {isa}: measured {measured}, unavailable {missing}");
        }
    }
    // This host runs x86-64 natively, so every x86-64 row has a native time.
    #[cfg(target_arch = "x86_64")]
    for r in array_of(&v, "rows").iter().filter(|r| str_of(r, "isa") == "x86_64") {
        assert!(get(r, "native").is_object(), "{}", str_of(r, "workload"));
    }
    // An engine this build lacks is an error only when it is the only one asked for.
    if let Some(u) = array_of(&v, "unavailable").first() {
        let out = deja()
            .args(["bench", "--quick", "--engines", str_of(u, "engine"), "--isa", str_of(u, "isa")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("not available in this build"), "{}", show(&out));
    }
}

#[test]
fn unknown_engines_and_isas_are_refused() {
    for args in [["--engines", "turbo"], ["--isa", "mips"]] {
        let out = deja().args(["bench", "--quick"]).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("unknown"), "{}", show(&out));
    }
}
