//! Budget equivalence for AArch64 engines (design §2): for every machine state and every
//! budget, every engine leaves the same registers, flags, memory, icount and `Exit` as the
//! reference interpreter.
//!
//! Two engines run the same guest side by side as sequences of `run(budget)` calls with
//! seeded random budgets (1, 2, 3, … up to thousands), and after **every** call the full state
//! is compared: X0–X30, SP, PC, NZCV, V0–V31, FPCR, FPSR, TPIDR, the exclusive monitor, a
//! digest of every mapped page, icount and the `Exit`.
//!
//! - `random_programs_*`: loops over random instructions of every class from `a64_gen`
//!   (integer, loads/stores and atomics, FP, SIMD), mixed with forward branches (B.cond, CBZ,
//!   CBNZ, TBZ, TBNZ), calls to a subroutine (BL/RET), syscalls (`svc #0`, completed by the
//!   harness), counter reads (`mrs cntvct_el0`), accesses that fault (page-crossing, read-only
//!   and unmapped pages; the harness skips the faulting instruction) and a rewrite of an
//!   instruction of the loop itself (self-modifying code: the same word stored back).
//! - `guest_programs_*`: C programs from tests/guests (cross-compiled for AArch64) run as two
//!   processes advanced to the same random icounts (`Process::advance`), comparing registers,
//!   icount and the memory digest at each.
//!
//! The engine under test is every `EngineKind` besides the interpreter; when the build has no
//! other engine the interpreter is compared with itself single-stepped (budget 1 per call),
//! which checks the interpreter's own budget exactness. `DEJA_BUDGET_SEED=N` (or `random`)
//! replays a run; `DEJA_BUDGET_PROGRAMS=N` sets the number of random programs.

mod a64_gen;
mod common;

use a64_gen::{fill, gen_state, templates, Rng, Template};
use deja::arch::Arch;
use deja::engine::{EngineKind, EnvRequest, Exit, Machine};
use deja::isa::aarch64::A64State;
use deja::linux::arch_aarch64::Aarch64;
use deja::mem::{flags, Memory, PAGE_SIZE};
use deja_decoders::aarch64::{decode_word, Instruction, Operand};

type M = Machine<A64State>;

fn seed() -> u64 {
    match std::env::var("DEJA_BUDGET_SEED") {
        Ok(s) if s == "random" => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        }
        Ok(s) => s.parse().expect("DEJA_BUDGET_SEED must be a number or 'random'"),
        Err(_) => 0xb0d6_e7a6_4001,
    }
}

/// An engine as the tests drive it.
enum Eng {
    /// An engine of the build, called with the whole budget.
    Whole(<Aarch64 as Arch>::Engine),
    /// The interpreter called once per instruction (when the build has no second engine).
    Stepped(<Aarch64 as Arch>::Engine),
}

impl Eng {
    fn run(&mut self, m: &mut M, budget: u64) -> Exit {
        match self {
            Eng::Whole(e) => Aarch64::run(e, m, budget),
            Eng::Stepped(e) => {
                let end = m.icount + budget;
                while m.icount < end {
                    match Aarch64::run(e, m, 1) {
                        Exit::Budget => {}
                        other => return other,
                    }
                }
                Exit::Budget
            }
        }
    }
}

/// The engines compared with the interpreter: every other kind of this build, or the
/// single-stepped interpreter.
fn engines_under_test() -> Vec<(String, Box<dyn Fn() -> Eng>)> {
    let others: Vec<EngineKind> = EngineKind::ALL.iter().copied().filter(|&k| k != EngineKind::Interp).collect();
    if others.is_empty() {
        return vec![(
            "interp (stepped)".into(),
            Box::new(|| Eng::Stepped(Aarch64::new_engine(EngineKind::Interp, false))),
        )];
    }
    others
        .into_iter()
        .map(|k| {
            let f: Box<dyn Fn() -> Eng> = Box::new(move || Eng::Whole(Aarch64::new_engine(k, false)));
            (k.name().to_string(), f)
        })
        .collect()
}

/// A budget: mostly small (so the splits fall everywhere inside blocks), sometimes large.
fn budget(rng: &mut Rng) -> u64 {
    match rng.below(10) {
        0..=3 => 1 + rng.below(3),
        4..=6 => 4 + rng.below(17),
        7..=8 => 21 + rng.below(280),
        _ => 301 + rng.below(5000),
    }
}

// ---- the random programs ----

const CODE: u64 = 0x10_0000;
const CODE_LEN: u64 = 0x4000;
/// Read-write data: two pages, then a read-only page, then nothing.
const DATA: u64 = 0x10_8000;
const RO: u64 = DATA + 0x2000;
/// The case buffer ends where the read-only page starts, so accesses near its end cross.
const BUF: u64 = RO - a64_gen::BUF_SIZE as u64;
const STACK: u64 = 0x7ffe_f000;
const STACK_LEN: u64 = 0x3000;

/// Registers the random instructions never mention: the loop counter, the self-modifying
/// code's address and scratch, the link register.
const RESERVED: [u16; 4] = [25, 26, 27, 30];

fn regs_of(o: &Operand) -> [u16; 2] {
    match *o {
        Operand::Register(_, n) | Operand::RegisterOrSP(_, n) => [n, n],
        Operand::RegisterPair(_, n) => [n, n + 1],
        Operand::RegPreIndex(n, _, _) | Operand::RegPostIndex(n, _) => [n, n],
        Operand::RegPostIndexReg(n, m) | Operand::RegRegOffset(n, m, ..) => [n, m],
        _ => [u16::MAX; 2],
    }
}

fn mentions_reserved(ins: &Instruction) -> bool {
    ins.operands.iter().any(|o| regs_of(o).iter().any(|r| RESERVED.contains(r)))
}

/// One item of a loop body: its words, with branches resolved after layout.
enum Item {
    Words(Vec<u32>),
    /// A forward conditional branch (word with a zero offset field) over `skip` items.
    Skip {
        word: u32,
        kind: BranchKind,
        skip: usize,
    },
    /// `bl` to the subroutine.
    Call,
}

#[derive(Clone, Copy)]
enum BranchKind {
    /// imm19 at bit 5 (B.cond, CBZ, CBNZ).
    Imm19,
    /// imm14 at bit 5 (TBZ, TBNZ).
    Imm14,
}

fn random_word(rng: &mut Rng, pool: &[&'static Template]) -> u32 {
    loop {
        let t = pool[rng.below(pool.len() as u64) as usize];
        if let Some((w, ins)) = fill(rng, t, true) {
            if !mentions_reserved(&ins) {
                return w;
            }
        }
    }
}

fn scratch_reg(rng: &mut Rng) -> u32 {
    rng.below(25) as u32
}

fn gen_item(rng: &mut Rng, pool: &[&'static Template]) -> Item {
    match rng.below(40) {
        0..=2 => {
            let cond = rng.below(15) as u32;
            Item::Skip { word: 0x5400_0000 | cond, kind: BranchKind::Imm19, skip: 1 + rng.below(3) as usize }
        }
        3 => {
            let op = if rng.below(2) == 0 { 0x3400_0000 } else { 0x3500_0000 };
            let sf = (rng.below(2) as u32) << 31;
            Item::Skip { word: op | sf | scratch_reg(rng), kind: BranchKind::Imm19, skip: 1 + rng.below(3) as usize }
        }
        4 => {
            let op = if rng.below(2) == 0 { 0x3600_0000 } else { 0x3700_0000 };
            let bit = rng.below(64) as u32;
            let w = op | ((bit >> 5) << 31) | ((bit & 31) << 19) | scratch_reg(rng);
            Item::Skip { word: w, kind: BranchKind::Imm14, skip: 1 + rng.below(3) as usize }
        }
        5 => Item::Call,
        6 => Item::Words(vec![0xd400_0001]),                    // svc #0
        7 => Item::Words(vec![0xd53b_e040 | scratch_reg(rng)]), // mrs xN, cntvct_el0
        8 => {
            // Self-modifying code: store an instruction of this loop back unchanged
            // (ldr w25, [x26]; str w25, [x26]): the translations of the page must go.
            Item::Words(vec![0xb940_0000 | (26 << 5) | 25, 0xb900_0000 | (26 << 5) | 25])
        }
        9 => {
            // An access at the end of the buffer that crosses into the read-only page (a
            // store faults, after nothing of it was written), or a whole page beyond it
            // into nothing.
            let rt = scratch_reg(rng);
            let opc = rng.below(2) as u32; // store, load
            if rng.below(2) == 0 {
                let size = 1 + rng.below(3) as u32;
                let off = 257 - (1u32 << size) + rng.below((1 << size) - 1) as u32;
                Item::Words(vec![(size << 30) | 0x3800_0000 | (opc << 22) | (off << 12) | (28 << 5) | rt])
            } else {
                // ldr/str xN, [x28, #imm12 * 8]: +8 into the read-only page, or +0x1000 beyond.
                let imm12 = rng.pick(&[33u32, 0x240]);
                Item::Words(vec![0xf900_0000 | (opc << 22) | (imm12 << 10) | (28 << 5) | rt])
            }
        }
        _ => Item::Words(vec![random_word(rng, pool)]),
    }
}

struct Program {
    words: Vec<u32>,
    /// The `udf` the loop falls into when done.
    end: u64,
    /// Address of an instruction of the loop (the self-modifying store's target).
    smc_target: u64,
}

fn adr(rd: u32, from: u64, to: u64) -> u32 {
    let off = (to as i64 - from as i64) as u32 & 0x1f_ffff;
    0x1000_0000 | ((off & 3) << 29) | ((off >> 2) << 5) | rd
}

fn gen_program(rng: &mut Rng, pool: &[&'static Template]) -> Program {
    let n = 8 + rng.below(30) as usize;
    let items: Vec<Item> = (0..n).map(|_| gen_item(rng, pool)).collect();
    // Layout: adr x28, BUF+256; items; subs x27, x27, #1; b.ne top; udf; sub: k words; ret.
    let mut starts = Vec::with_capacity(n + 1);
    let mut pc = CODE + 4;
    for it in &items {
        starts.push(pc);
        pc += 4 * match it {
            Item::Words(w) => w.len() as u64,
            _ => 1,
        };
    }
    let body_end = pc;
    starts.push(body_end);
    let end = body_end + 8;
    let sub = end + 4;
    let mut words = vec![adr(28, CODE, BUF + a64_gen::BASE_OFFSET)];
    for (i, it) in items.iter().enumerate() {
        let at = starts[i];
        match *it {
            Item::Words(ref w) => words.extend_from_slice(w),
            Item::Skip { word, kind, skip } => {
                let to = starts[(i + 1 + skip).min(n)];
                let rel = ((to - at) / 4) as u32;
                words.push(match kind {
                    BranchKind::Imm19 => word | (rel << 5),
                    BranchKind::Imm14 => word | (rel << 5),
                });
            }
            Item::Call => words.push(0x9400_0000 | (((sub - at) / 4) as u32 & 0x3ff_ffff)),
        }
    }
    words.push(0xf100_077b); // subs x27, x27, #1
    let back = ((CODE as i64 - (body_end + 4) as i64) / 4) as u32 & 0x7ffff;
    words.push(0x5400_0001 | (back << 5)); // b.ne top
    words.push(0); // udf #0
    for _ in 0..1 + rng.below(6) {
        words.push(random_word(rng, pool));
    }
    words.push(0xd65f_03c0); // ret
    assert!(words.len() as u64 * 4 <= CODE_LEN);
    let smc_target = CODE + 4 * rng.below(words.len() as u64);
    Program { words, end, smc_target }
}

fn new_machine(p: &Program, rng: &mut Rng) -> M {
    let mut mem = Memory::new(1 << 32).expect("guest memory");
    assert!(mem.map(CODE, CODE_LEN, flags::R | flags::W | flags::X));
    assert!(mem.map(DATA, RO - DATA, flags::R | flags::W));
    assert!(mem.map(RO, PAGE_SIZE, flags::R));
    assert!(mem.map(STACK, STACK_LEN, flags::R | flags::W));
    let code: Vec<u8> = p.words.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.poke(CODE, &code).unwrap();
    let data: Vec<u8> = (0..RO + PAGE_SIZE - DATA).map(|_| rng.next() as u8).collect();
    mem.poke(DATA, &data).unwrap();
    let s = gen_state(rng);
    let mut cpu =
        A64State { x: s.x, sp: s.sp, nzcv: s.nzcv, fpcr: s.fpcr, fpsr: s.fpsr, v: s.v, ..A64State::default() };
    cpu.pc = CODE;
    cpu.x[27] = 5 + rng.below(60);
    cpu.x[26] = p.smc_target;
    cpu.tpidr = rng.next();
    Machine { cpu, mem, icount: 0, limit: 0 }
}

/// A digest of every mapped page (contents and flags' protection bits).
fn mem_digest(m: &M) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (start, len) in [(CODE, CODE_LEN), (DATA, RO + PAGE_SIZE - DATA), (STACK, STACK_LEN)] {
        let mut a = start;
        while a < start + len {
            if let Some(b) = m.mem.page_bytes(a) {
                for c in b.chunks_exact(8) {
                    h = (h ^ u64::from_le_bytes(c.try_into().unwrap())).wrapping_mul(0x100_0000_01b3);
                }
            }
            h = (h ^ m.mem.prot_of(a).map_or(0xff, u64::from)).wrapping_mul(0x100_0000_01b3);
            a += PAGE_SIZE;
        }
    }
    h
}

/// What the harness does with an exit that is not the end: complete a syscall or counter
/// read (retiring it), or skip a faulting instruction. Returns false at the end.
fn complete(m: &mut M, exit: &Exit, end: u64) -> bool {
    match exit {
        Exit::Budget => {}
        Exit::Syscall => {
            m.cpu.x[0] = m.icount.wrapping_mul(0x9e37_79b9) ^ m.cpu.x[8];
            m.cpu.excl_size = 0;
            m.icount += 1;
        }
        Exit::Env(EnvRequest::Counter { reg }) => {
            if *reg < 31 {
                m.cpu.x[*reg as usize] = m.icount * 3;
            }
            m.icount += 1;
        }
        Exit::Env(other) => panic!("unexpected request {other:?}"),
        Exit::Fault(_) => {
            if m.cpu.pc == end {
                return false;
            }
            m.cpu.pc += 4;
        }
    }
    true
}

fn describe(m: &M) -> String {
    format!("pc {:#x} icount {}", m.cpu.pc, m.icount)
}

fn first_difference(a: &A64State, b: &A64State) -> String {
    let mut d = Vec::new();
    for i in 0..31 {
        if a.x[i] != b.x[i] {
            d.push(format!("x{i}: {:#x} vs {:#x}", a.x[i], b.x[i]));
        }
    }
    for i in 0..32 {
        if a.v[i] != b.v[i] {
            d.push(format!("v{i}: {:#x} vs {:#x}", a.v[i], b.v[i]));
        }
    }
    for (n, x, y) in [
        ("sp", a.sp, b.sp),
        ("pc", a.pc, b.pc),
        ("nzcv", a.nzcv, b.nzcv),
        ("fpcr", a.fpcr, b.fpcr),
        ("fpsr", a.fpsr, b.fpsr),
        ("tpidr", a.tpidr, b.tpidr),
        ("excl_addr", a.excl_addr, b.excl_addr),
        ("excl_size", a.excl_size, b.excl_size),
    ] {
        if x != y {
            d.push(format!("{n}: {x:#x} vs {y:#x}"));
        }
    }
    d.join(", ")
}

/// Run one program on the reference and the engine under test with the same budgets;
/// returns the number of `run` calls, or a report of the first difference.
fn check_program(p: &Program, init_seed: u64, rng: &mut Rng, make: &dyn Fn() -> Eng) -> Result<usize, String> {
    let mut ra = Rng::new(init_seed);
    let mut rb = Rng::new(init_seed);
    let mut a = new_machine(p, &mut ra);
    let mut b = new_machine(p, &mut rb);
    let mut ea = Eng::Whole(Aarch64::new_engine(EngineKind::Interp, false));
    let mut eb = make();
    let mut calls = 0;
    let mut history: Vec<(u64, Exit)> = Vec::new();
    loop {
        let n = budget(rng);
        let before = describe(&a);
        let xa = ea.run(&mut a, n);
        let xb = eb.run(&mut b, n);
        calls += 1;
        history.push((n, xa.clone()));
        let ctx = || {
            let h: Vec<String> = history.iter().rev().take(8).map(|(n, x)| format!("run({n}) -> {x:?}")).collect();
            format!("call #{calls}: run({n}) from {before}; last calls (newest first): {}", h.join("; "))
        };
        if xa != xb {
            return Err(format!("{}: exit {xa:?} vs {xb:?}", ctx()));
        }
        if a.icount != b.icount {
            return Err(format!("{}: icount {} vs {}", ctx(), a.icount, b.icount));
        }
        if a.cpu != b.cpu {
            return Err(format!("{}: {}", ctx(), first_difference(&a.cpu, &b.cpu)));
        }
        if mem_digest(&a) != mem_digest(&b) {
            return Err(format!("{}: memory differs", ctx()));
        }
        let go_a = complete(&mut a, &xa, p.end);
        let go_b = complete(&mut b, &xb, p.end);
        assert_eq!(go_a, go_b);
        if !go_a {
            #[cfg(feature = "jit")]
            if let Eng::Whole(e) = &eb {
                if let Some(j) = &e.jit {
                    assert!(j.translated > 0, "the JIT translated nothing");
                }
            }
            return Ok(calls);
        }
        if a.icount > 2_000_000 {
            return Err(format!("runaway program ({})", describe(&a)));
        }
    }
}

fn disasm_program(p: &Program) -> String {
    p.words
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let t = decode_word(w).map_or_else(|| "(undefined)".to_string(), |i| i.to_string());
            format!("  {:#x}: {w:08x}  {t}", CODE + 4 * i as u64)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn random_programs(programs: usize, salt: u64, min_calls: usize) {
    let base = seed();
    let pool: Vec<&'static Template> = templates();
    for (name, make) in engines_under_test() {
        let mut rng = Rng::new(base ^ salt);
        let mut calls = 0;
        for i in 0..programs {
            let p = gen_program(&mut rng, &pool);
            let init_seed = rng.next();
            match check_program(&p, init_seed, &mut rng, make.as_ref()) {
                Ok(c) => calls += c,
                Err(e) => panic!(
                    "{name} differs from the interpreter on program {i} (DEJA_BUDGET_SEED={base}): {e}\nprogram:\n{}",
                    disasm_program(&p)
                ),
            }
        }
        eprintln!("budget equivalence ({name}): {programs} programs, {calls} budget splits, DEJA_BUDGET_SEED={base}");
        assert!(calls >= min_calls, "only {calls} budget splits");
    }
}

fn programs() -> usize {
    std::env::var("DEJA_BUDGET_PROGRAMS").ok().and_then(|s| s.parse().ok()).unwrap_or(150)
}

/// ≥ 10,000 budget splits over random programs of every instruction class.
#[test]
fn random_programs_budget_equivalence() {
    random_programs(programs(), 0, 10_000.min(programs() * 60));
}

// ---- guest programs ----

mod guests {
    use super::*;
    use deja::linux::process::{Advance, Options, Process};
    use deja::world::{Quiet, RealWorld, Virtual};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const CC: &str = "aarch64-linux-gnu-gcc";

    fn build(prog: &str) -> Option<PathBuf> {
        if !common::have_tool(CC) {
            common::skip_or_fail(&format!("{CC} is not installed"));
            return None;
        }
        let dir = common::scratch_root().join("budget_a64");
        std::fs::create_dir_all(&dir).unwrap();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guests").join(format!("{prog}.c"));
        let out = dir.join(prog);
        let st = Command::new(CC)
            .args(["-static", "-O2", "-w", "-o"])
            .arg(&out)
            .arg(&src)
            .arg("-lm")
            .status()
            .expect("run the cross compiler");
        assert!(st.success(), "{CC} failed on {}", src.display());
        Some(out)
    }

    fn start(bin: &Path, engine: EngineKind) -> Process<Aarch64> {
        let argv = vec![bin.display().to_string().into_bytes()];
        let env = vec![b"PATH=/usr/bin:/bin".to_vec(), b"LC_ALL=C".to_vec()];
        let world = Box::new(Quiet(Virtual::new(RealWorld, 0, 42)));
        deja::linux::start::<Aarch64>(bin, &argv, &env, world, Options { engine, ..Options::default() })
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()))
    }

    /// The engine variants compared with the interpreter on guest programs: every other
    /// kind of the build, and the JIT with the smallest code cache (flushed again and again).
    /// Starts a process of the program at the path on some engine.
    type Starter = Box<dyn Fn(&Path) -> Process<Aarch64>>;

    fn variants() -> Vec<(String, Starter)> {
        let mut v: Vec<(String, Starter)> = Vec::new();
        for k in EngineKind::ALL.iter().copied().filter(|&k| k != EngineKind::Interp) {
            v.push((k.name().into(), Box::new(move |bin| start(bin, k))));
        }
        #[cfg(feature = "jit")]
        v.push((
            "jit (64 KiB code cache)".into(),
            Box::new(|bin| {
                let mut p = start(bin, EngineKind::Jit);
                p.engine = deja::engine::a64::EngineA64::jit_with_cache_size(0);
                p
            }),
        ));
        if v.is_empty() {
            v.push(("interp".into(), Box::new(|bin| start(bin, EngineKind::Interp))));
        }
        v
    }

    /// Advance two processes (the interpreter and an engine variant) to the same random
    /// icounts, to the end of the program, and compare them at each.
    fn check(prog: &str, salt: u64) {
        let Some(bin) = build(prog) else { return };
        for (name, make) in variants() {
            let mut rng = Rng::new(seed() ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut a = start(&bin, EngineKind::Interp);
            let mut b = make(&bin);
            let mut splits = 0u64;
            loop {
                let step = if rng.below(2) == 0 { budget(&mut rng) } else { 1000 + rng.below(100_000) };
                let until = a.m.icount + step;
                let ra = a.advance(until, &[]);
                let rb = b.advance(until, &[]);
                splits += 1;
                let (sa, sb) = (format!("{ra:?}"), format!("{rb:?}"));
                assert_eq!(sa, sb, "{prog} ({name}): advance to {until}");
                assert_eq!(a.m.icount, b.m.icount, "{prog} ({name}): icount");
                assert!(
                    a.m.cpu == b.m.cpu,
                    "{prog} ({name}) at icount {}: {}",
                    a.m.icount,
                    first_difference(&a.m.cpu, &b.m.cpu)
                );
                assert_eq!(a.digest(), b.digest(), "{prog} ({name}) at icount {}: memory digest", a.m.icount);
                if !matches!(ra, Advance::Reached) {
                    break;
                }
                assert!(splits < 100_000, "{prog}: does not end");
            }
            #[cfg(feature = "jit")]
            if let Some(j) = &b.engine.jit {
                assert!(j.translated > 0, "{prog} ({name}): the JIT translated nothing");
                if name.contains("KiB") {
                    assert!(j.flushes() > 0, "{prog} ({name}): the small code cache was never flushed");
                }
            }
            eprintln!("{prog}: {name} ({splits} budget splits, icount {})", a.m.icount);
        }
    }

    #[test]
    fn guest_programs_budget_equivalence() {
        for (i, prog) in ["int_math", "hash", "sort_search", "bits"].iter().enumerate() {
            check(prog, i as u64 + 1);
        }
    }
}

// ---- the JIT's own cases ----

/// A small machine: code at CODE (read/write/execute), data at DATA (read/write), a
/// read-only page after it, nothing after that.
fn small_machine(words: &[u32]) -> M {
    let mut mem = Memory::new(1 << 32).expect("guest memory");
    assert!(mem.map(CODE, CODE_LEN, flags::R | flags::W | flags::X));
    assert!(mem.map(DATA, RO - DATA, flags::R | flags::W));
    assert!(mem.map(RO, PAGE_SIZE, flags::R));
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    mem.poke(CODE, &code).unwrap();
    let mut cpu = A64State { pc: CODE, sp: DATA + 0x100, ..A64State::default() };
    cpu.x[2] = RO + PAGE_SIZE + 8; // unmapped
    cpu.x[3] = RO + 16; // read-only
    cpu.x[4] = DATA + 64; // read-write
    Machine { cpu, mem, icount: 0, limit: 0 }
}

/// Run `words` from CODE on the interpreter and on every other engine with the same
/// budgets, comparing after every call; the other engines first run the code once with a
/// large budget (so its blocks are translated) from a copy of the initial state.
fn compare_on_engines(words: &[u32], setup: impl Fn(&mut M), budgets: &[u64]) -> Vec<Exit> {
    let mut exits = Vec::new();
    for (name, make) in engines_under_test() {
        let mut a = small_machine(words);
        let mut b = small_machine(words);
        setup(&mut a);
        setup(&mut b);
        let mut ea = Eng::Whole(Aarch64::new_engine(EngineKind::Interp, false));
        let mut eb = make();
        // Warm the engine up on a throwaway copy of the state (translations are kept).
        let mut warm = small_machine(words);
        setup(&mut warm);
        let _ = eb.run(&mut warm, 1000);
        for &n in budgets {
            let xa = ea.run(&mut a, n);
            let xb = eb.run(&mut b, n);
            assert_eq!(xa, xb, "{name}: run({n})");
            assert_eq!(a.icount, b.icount, "{name}: run({n}): icount");
            assert!(a.cpu == b.cpu, "{name}: run({n}): {}", first_difference(&a.cpu, &b.cpu));
            assert_eq!(mem_digest(&a), mem_digest(&b), "{name}: run({n}): memory");
            exits.push(xa);
            if !matches!(exits.last(), Some(Exit::Budget)) {
                break;
            }
        }
    }
    exits
}

const ADD_X0_1: u32 = 0x9100_0400; // add x0, x0, #1

/// A fault in the middle of a translated block reports the faulting instruction's pc and
/// the icount before it, with the instructions before it retired and nothing of it done.
#[test]
fn fault_in_the_middle_of_a_block() {
    for (what, fault, sig) in [
        ("load from an unmapped page", 0xf940_0041u32, 11),   // ldr x1, [x2]
        ("store to a read-only page", 0xf900_0061, 11),       // str x1, [x3]
        ("pair load from an unmapped page", 0xa940_0c41, 11), // ldp x1, x3, [x2]
        ("load with a misaligned SP", 0xf940_03e1, 7),        // ldr x1, [sp]
    ] {
        let mut words = vec![ADD_X0_1; 5];
        words.push(0xf900_0080); // str x0, [x4]
        words.push(fault);
        words.extend_from_slice(&[ADD_X0_1; 3]);
        words.push(0xd65f_03c0); // ret
        let exits = compare_on_engines(
            &words,
            |m| {
                m.cpu.sp = DATA + 0x108; // misaligned for the SP case
                m.cpu.x[30] = CODE;
            },
            &[1000],
        );
        match exits.first() {
            Some(Exit::Fault(f)) => assert_eq!(f.signo, sig, "{what}: {f:?}"),
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// A store into the instruction right after it, in its own block: the block ends after the
/// store and the new instruction runs (both engines; qemu runs the old one, which the Arm
/// ARM allows without an ISB, so this is checked between engines only).
#[test]
fn store_into_own_block() {
    let movz_x0_7: u32 = 0xd280_00e0; // movz x0, #7
    let words = [
        0xb900_0041, // str w1, [x2]
        0xd280_0020, // movz x0, #1 (overwritten with movz x0, #7)
        ADD_X0_1,
        0xb900_0085, // str w5, [x4] (restore the original word for the next run)
        0xd65f_03c0, // ret
    ];
    for budgets in [&[1000u64][..], &[1, 1, 1, 1, 1], &[2, 3], &[1, 4]] {
        let exits = compare_on_engines(
            &words,
            |m| {
                m.cpu.x[1] = movz_x0_7 as u64;
                m.cpu.x[2] = CODE + 4;
                m.cpu.x[4] = CODE + 4;
                m.cpu.x[5] = 0xd280_0020;
                m.cpu.x[30] = CODE; // loops
            },
            budgets,
        );
        assert!(exits.iter().all(|e| matches!(e, Exit::Budget)), "{exits:?}");
    }
}

/// The JIT flushes its whole code cache when it is full (a 64 KiB cache, many blocks) and
/// goes on translating, with the interpreter's results.
#[cfg(feature = "jit")]
#[test]
fn code_cache_flush_on_a_tiny_cache() {
    // 2,000 blocks of `add x0, x0, #1; b next` in a row, run twice.
    let mut words = Vec::new();
    for _ in 0..2000 {
        words.push(ADD_X0_1);
        words.push(0x1400_0001); // b .+4
    }
    words.push(0xd65f_03c0);
    let mut a = small_machine(&[]);
    a.mem.map(CODE, 0x10000, flags::R | flags::W | flags::X);
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    a.mem.poke(CODE, &code).unwrap();
    a.cpu.x[30] = CODE;
    let mut b = Machine { cpu: a.cpu, mem: Memory::new(1 << 32).unwrap(), icount: 0, limit: 0 };
    b.mem.map(CODE, 0x10000, flags::R | flags::W | flags::X);
    b.mem.poke(CODE, &code).unwrap();
    let mut ea = Aarch64::new_engine(EngineKind::Interp, false);
    let mut eb = deja::engine::a64::EngineA64::jit_with_cache_size(0);
    let mut rng = Rng::new(seed());
    while a.icount < 12_000 {
        let n = budget(&mut rng);
        let xa = Aarch64::run(&mut ea, &mut a, n);
        let xb = Aarch64::run(&mut eb, &mut b, n);
        assert_eq!(xa, xb);
        assert_eq!((a.icount, a.cpu), (b.icount, b.cpu));
    }
    let j = eb.jit.as_ref().unwrap();
    assert!(j.flushes() > 0, "never flushed ({} blocks translated)", j.translated);
    assert!(j.translated > 2000, "{} blocks translated", j.translated);
}

/// Scalar FP at the edges of the JIT's fast path (it runs on the host only for finite
/// results above the minimum normal with FPCR 0 and FPSR.IXC set): every operation of both
/// sizes on pairs of specials (zeros, subnormals, the minimum normal and values whose
/// product lands just below it, overflowing values, infinities, NaNs), with IXC clear and
/// set, and with a non-zero FPCR: registers and FPSR equal the interpreter's.
#[test]
fn fp_fast_path_edges() {
    // D operations read v1 v2 v3, S operations v5 v6 v7; results go to v8 upwards.
    // FADD FSUB FMUL FDIV, FMADD FMSUB FNMADD FNMSUB, FCMP; then ret (to CODE: it loops).
    let mut words = Vec::new();
    let mut d = 8;
    for (ftype, base) in [(0u32, 5u32), (1, 1)] {
        let (n, m, ra) = (base, base + 1, base + 2);
        for op in [0b0010u32, 0b0011, 0b0000, 0b0001] {
            words.push(0x1e20_0800 | (ftype << 22) | (m << 16) | (op << 12) | (n << 5) | d);
            d += 1;
        }
        for (o1, o0) in [(0u32, 0u32), (0, 1), (1, 0), (1, 1)] {
            words.push(0x1f00_0000 | (ftype << 22) | (o1 << 21) | (m << 16) | (o0 << 15) | (ra << 10) | (n << 5) | d);
            d += 1;
        }
        words.push(0x1e20_2000 | (ftype << 22) | (m << 16) | (n << 5)); // fcmp
    }
    let f64s: [u64; 13] = [
        0,
        0x8000_0000_0000_0000,
        0x0000_0000_0000_0001, // smallest subnormal
        0x0010_0000_0000_0000, // minimum normal
        0x0010_0000_0000_0001, // just above it
        0x3ff0_0000_0000_0001, // 1 + ulp
        0x3fef_ffff_ffff_ffff, // 1 - ulp/2: times the minimum normal rounds up to it
        0x7fef_ffff_ffff_ffff, // max
        0x7ff0_0000_0000_0000, // inf
        0x7ff8_0000_0000_0001, // qNaN
        0x7ff0_0000_0000_0001, // sNaN
        0x3fd5_5555_5555_5555, // 1/3
        0x4000_0000_0000_0000, // 2
    ];
    let f32s: [u32; 13] = [
        0,
        0x8000_0000,
        1,
        0x0080_0000,
        0x0080_0001,
        0x3f80_0001,
        0x3f7f_ffff,
        0x7f7f_ffff,
        0x7f80_0000,
        0x7fc0_0001,
        0x7f80_0001,
        0x3eaa_aaab,
        0x4000_0000,
    ];
    // Each operation alone (FPSR is cumulative: one operation's flags would hide
    // another's), first executed by the engine under test (one budget covering the loop).
    for &w in &words {
        for i in 0..13 {
            for j in 0..13 {
                for (fpsr, fpcr) in [(0x10u64, 0u64), (0, 0), (0x10, 1 << 24)] {
                    let k = (i * 7 + j) % 13;
                    compare_on_engines(
                        &[w, 0xd65f_03c0],
                        |m| {
                            m.cpu.v[1] = f64s[i] as u128;
                            m.cpu.v[2] = f64s[j] as u128;
                            m.cpu.v[3] = f64s[k] as u128;
                            m.cpu.v[5] = f32s[i] as u128;
                            m.cpu.v[6] = f32s[j] as u128;
                            m.cpu.v[7] = f32s[k] as u128;
                            m.cpu.fpsr = fpsr;
                            m.cpu.fpcr = fpcr;
                            m.cpu.x[30] = CODE;
                        },
                        &[1000],
                    );
                }
            }
        }
    }
}
