//! Hostile ELF input: mutated and truncated executables must load with a clean error or run
//! to a clean end (guest signal, exit, or the instruction limit), never panic, hang or reach
//! host memory. Seeded (`DEJA_FUZZ_SEED`); the seed corpus is the embedded demo guest and,
//! when present, Debian's busybox-static and the C guest programs' binaries.

use deja::linux::arch_x86_64::X86_64;
use deja::linux::process::Options;
use deja::world::{Quiet, RealWorld};
use std::path::Path;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn seed() -> u64 {
    std::env::var("DEJA_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x00e1_f00d)
}

/// Load and (briefly) run an image; any outcome but a panic is acceptable.
fn try_image(image: &[u8]) {
    let argv = vec![b"fuzz".to_vec()];
    let opts = Options { max_icount: Some(50_000), ..Options::default() };
    let p = deja::linux::start_image::<X86_64>(
        "fuzz",
        image,
        Path::new("/fuzz"),
        &argv,
        &[],
        Box::new(Quiet(RealWorld)),
        opts,
    );
    if let Ok(mut p) = p {
        let _ = p.run();
    }
}

/// Mutations aimed at the headers: the ELF header, program headers, and the bytes right
/// after them, plus truncations.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    match rng.below(6) {
        0 => {
            let cut = rng.below(v.len() as u64 + 1) as usize;
            v.truncate(cut);
        }
        1 => {
            // Random bytes in the first 512 (headers).
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(512.min(v.len() as u64)) as usize;
                v[i] = rng.next() as u8;
            }
        }
        2 => {
            // A program header field set to an extreme value.
            let phoff = u64::from_le_bytes(v[32..40].try_into().unwrap()) as usize;
            let phnum = u16::from_le_bytes(v[56..58].try_into().unwrap()) as usize;
            if phnum > 0 && phoff + 56 <= v.len() {
                let ph = phoff + 56 * rng.below(phnum as u64) as usize;
                let field = 8 + 8 * rng.below(6) as usize; // offset vaddr paddr filesz memsz align
                let val = [0u64, u64::MAX, 1 << 63, 0xffff_ffff, 1 << 40, rng.next()][rng.below(6) as usize];
                if ph + field + 8 <= v.len() {
                    v[ph + field..ph + field + 8].copy_from_slice(&val.to_le_bytes());
                }
            }
        }
        3 => {
            // Entry point anywhere.
            let e = [0u64, 1, u64::MAX, 0x7fff_ffff_ffff, rng.next()][rng.below(5) as usize];
            v[24..32].copy_from_slice(&e.to_le_bytes());
        }
        4 => {
            // phnum / phentsize / e_type / e_machine lies.
            let i = [16usize, 18, 54, 56][rng.below(4) as usize];
            let val = [0u16, 1, 0xffff, 2, 3][rng.below(5) as usize];
            v[i..i + 2].copy_from_slice(&val.to_le_bytes());
        }
        _ => {
            // Random bytes anywhere (code included).
            for _ in 0..1 + rng.below(64) {
                let i = rng.below(v.len() as u64) as usize;
                v[i] = rng.next() as u8;
            }
        }
    }
    v
}

fn corpus() -> Vec<Vec<u8>> {
    let mut c = vec![deja::demo::demo_elf().expect("demo image")];
    if let Ok(b) = std::fs::read("/bin/busybox") {
        c.push(b);
    }
    c
}

#[test]
fn mutated_elfs_never_panic() {
    let mut rng = Rng(seed());
    let corpus = corpus();
    let n: usize = std::env::var("DEJA_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
    for i in 0..n {
        let base = &corpus[i % corpus.len()];
        let img = mutate(&mut rng, base);
        let r = std::panic::catch_unwind(|| try_image(&img));
        assert!(r.is_ok(), "seed {} case {i}: deja panicked on a mutated ELF", seed());
    }
}

#[test]
fn malformed_elfs_get_one_line_errors() {
    let bin = env!("CARGO_BIN_EXE_deja");
    let dir = std::env::temp_dir().join(format!("deja-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let demo = deja::demo::demo_elf().unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("not-elf", b"#!/bin/sh\necho hi\n".to_vec()),
        ("truncated-header", demo[..30].to_vec()),
        ("truncated-segments", demo[..200].to_vec()),
    ];
    let mut wrong_machine = demo.clone();
    wrong_machine[18..20].copy_from_slice(&3u16.to_le_bytes()); // EM_386
    cases.push(("wrong-machine", wrong_machine));
    let mut elf32 = demo.clone();
    elf32[4] = 1;
    cases.push(("elf32", elf32));
    let mut huge = demo.clone();
    huge[64 + 40..64 + 48].copy_from_slice(&(1u64 << 62).to_le_bytes()); // memsz of segment 0
    cases.push(("huge-segment", huge));
    for (name, bytes) in cases {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new(bin).arg("run").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}: accepted");
        assert!(!err.contains("panicked"), "{name}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: want one line, got {err:?}");
        assert!(lines[0].starts_with("deja: "), "{name}: {err}");
    }
    for (name, path) in [("missing", dir.join("does-not-exist")), ("directory", dir.clone())] {
        let out = std::process::Command::new(bin).arg("run").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.lines().count() == 1 && err.starts_with("deja: "), "{name}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Random bytes as code, with random registers: every run ends in a guest signal, an exit or
/// the instruction limit; the emulator never panics and never touches host memory (a wild
/// access is a guest SIGSEGV, checked by the guest memory's bounds).
#[test]
fn random_code_is_contained() {
    use deja::engine::interp_x86::InterpX86;
    use deja::engine::{Exit, Machine};
    use deja::isa::x86_64::X86State;
    use deja::mem::{flags, Memory};
    let mut rng = Rng(seed() ^ 0x5eed);
    let mut mem = Memory::new(1 << 32).unwrap();
    mem.map(0x10000, 0x10000, flags::R | flags::W | flags::X);
    let mut m = Machine { cpu: X86State::default(), mem, icount: 0, limit: 0 };
    let mut e = InterpX86::new();
    let mut faults = 0;
    for _ in 0..30_000 {
        let code: Vec<u8> = (0..256).map(|_| rng.next() as u8).collect();
        m.mem.poke(0x10000, &code).unwrap();
        for g in m.cpu.gpr.iter_mut() {
            *g = if rng.below(2) == 0 { rng.next() } else { 0x10000 + rng.below(0x10000) };
        }
        m.cpu.rip = 0x10000 + rng.below(64);
        match e.run(&mut m, 1000) {
            Exit::Fault(_) => faults += 1,
            Exit::Budget | Exit::Syscall | Exit::Env(_) => {}
        }
    }
    assert!(faults > 0, "random code should fault sometimes");
}

/// A guest that allocates without end is bounded by --max-memory: allocations fail with
/// ENOMEM and the guest sees NULL from malloc, as under RLIMIT_AS natively.
#[test]
fn max_memory_bounds_an_endless_allocator() {
    let dir = std::env::temp_dir().join(format!("deja-maxmem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("eat.c");
    std::fs::write(
        &src,
        r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    long n = 0;
    for (;;) {
        char *p = malloc(1 << 20);
        if (!p) break;
        memset(p, 1, 4096);
        n++;
    }
    printf("allocated %ld MiB before malloc failed\n", n);
    return n > 0 && n < 200 ? 0 : 1;
}
"#,
    )
    .unwrap();
    let exe = dir.join("eat");
    let ok = std::process::Command::new("gcc").args(["-static", "-O2", "-o"]).arg(&exe).arg(&src).status();
    if !matches!(ok, Ok(s) if s.success()) {
        assert!(std::env::var_os("DEJA_REQUIRE_TOOLS").is_none(), "gcc missing");
        return;
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deja"))
        .args(["run", "--max-memory", "128M", "--"])
        .arg(&exe)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout} {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("allocated "), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
