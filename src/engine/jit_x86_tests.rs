//! The JIT against the interpreter (design §2's equivalence invariant) and the host CPU:
//! whole guest programs split into random budgets with the full state compared after every
//! split, self-modifying code, faults in the middle of a block, a code cache too small to
//! hold the program.

use super::jit_x86::JitX86;
use super::x86::EngineX86;
use super::{EngineKind, Exit, Machine};
use crate::bench::workloads::{embedded, Size};
use crate::isa::x86_64::X86State;
use crate::linux::arch_x86_64::X86_64;
use crate::linux::loader::Isa;
use crate::linux::process::{Advance, Options, Process};
use crate::mem::{flags, Memory};
use crate::world::{Quiet, RealWorld, Virtual};
use iced_x86::code_asm::*;
use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A budget: often tiny (cuts inside blocks, single steps), sometimes long.
    fn budget(&mut self) -> u64 {
        match self.below(20) {
            0..=11 => 1 + self.below(8),
            12..=18 => 1 + self.below(300),
            _ => 1 + self.below(20_000),
        }
    }
}

fn seed() -> u64 {
    std::env::var("DEJA_JIT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x0d1f_f5ee_d5ee_d001)
}

fn start(image: &[u8], args: &[&str], kind: EngineKind) -> Process<X86_64> {
    let world = Box::new(Quiet(Virtual::new(RealWorld, 0, 7)));
    let argv: Vec<Vec<u8>> =
        std::iter::once("/guest").chain(args.iter().copied()).map(|s| s.as_bytes().to_vec()).collect();
    let opts = Options { engine: kind, ..Options::default() };
    crate::linux::start_image::<X86_64>("guest", image, Path::new("/guest"), &argv, &[], world, opts).unwrap()
}

/// Run `image` under the interpreter and under `jit` side by side, in random budgets, and
/// require the same registers, flags, vectors, icount and memory after every budget, and
/// the same end. At most `max_icount` instructions. Returns the number of budgets.
fn lockstep(name: &str, image: &[u8], args: &[&str], seed: u64, max_icount: u64, jit: Option<JitX86>) -> usize {
    let mut p = start(image, args, EngineKind::Interp);
    let mut q = start(image, args, EngineKind::Jit);
    if let Some(j) = jit {
        q.engine.jit = Some(Box::new(j));
    }
    let mut rng = Rng(seed | 1);
    let mut n = 0;
    loop {
        let until = p.m.icount + rng.budget();
        let (a, b) = (p.advance(until, &[]), q.advance(until, &[]));
        n += 1;
        assert_eq!(
            (p.m.icount, &p.m.cpu),
            (q.m.icount, &q.m.cpu),
            "{name}: state after budget {n} (seed {seed}), interp then jit"
        );
        assert_eq!(p.digest(), q.digest(), "{name}: memory after budget {n} (seed {seed}) at icount {}", p.m.icount);
        match (a, b) {
            (Advance::Reached, Advance::Reached) if p.m.icount < max_icount => {}
            (Advance::Reached, Advance::Reached) => return n,
            (Advance::Ended(x), Advance::Ended(y)) => {
                assert_eq!(format!("{x:?}"), format!("{y:?}"), "{name}: ends");
                return n;
            }
            (a, b) => panic!("{name}: after budget {n}: interp {a:?}, jit {b:?}"),
        }
    }
}

#[test]
fn guest_programs_split_into_random_budgets() {
    let seed = seed();
    let mut splits = 0;
    let demo = crate::demo::demo_elf().unwrap();
    splits += lockstep("demo", &demo, &[], seed, 3_000_000, None);
    for (i, w) in embedded(Isa::X86_64, Size::Quick).unwrap().iter().enumerate() {
        if w.kind == "syscall" {
            // Its guest fds are host fds: two processes alive in one host process get
            // different ones (tests/replay.rs and tests/guests.rs run it with both engines).
            continue;
        }
        let args: Vec<&str> = w.args.iter().map(|s| s.as_str()).collect();
        splits += lockstep(&w.name, &w.image, &args, seed ^ i as u64, 3_000_000, None);
    }
    splits += lockstep("smc", &smc_elf(), &[], seed, u64::MAX, None);
    eprintln!("{splits} budgets compared");
    assert!(splits >= 10_000, "only {splits} budgets");
}

/// A guest that rewrites code and runs it again: a function in an RWX mapping whose
/// immediate changes every iteration, and one that patches the very next instruction of
/// its own block. Exits with the low byte of the sum of what the functions returned.
fn smc_elf() -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut lp = a.create_label();
    // mmap(0, 4096, PROT_READ|WRITE|EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
    a.mov(eax, 9).unwrap();
    a.xor(edi, edi).unwrap();
    a.mov(esi, 4096).unwrap();
    a.mov(edx, 7).unwrap();
    a.mov(r10d, 0x22).unwrap();
    a.mov(r8, -1i64).unwrap();
    a.xor(r9d, r9d).unwrap();
    a.syscall().unwrap();
    a.mov(rbx, rax).unwrap();
    a.xor(r12d, r12d).unwrap();
    a.xor(r13d, r13d).unwrap();
    // At rbx+64: mov byte [rip+1], imm8 (the low byte of the next instruction's immediate);
    // mov eax, 0; ret.
    for (k, b) in [0xc6u8, 0x05, 0x01, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0xc3].iter().enumerate() {
        a.mov(byte_ptr(rbx + 64 + k as i32), *b as u32).unwrap();
    }
    a.set_label(&mut lp).unwrap();
    // rbx+0: mov eax, 3*i+7; ret
    a.mov(byte_ptr(rbx), 0xb8u32).unwrap();
    a.lea(eax, dword_ptr(r13 + r13 * 2 + 7)).unwrap();
    a.mov(dword_ptr(rbx + 1), eax).unwrap();
    a.mov(byte_ptr(rbx + 5), 0xc3u32).unwrap();
    a.call(rbx).unwrap();
    a.add(r12, rax).unwrap();
    // The same-block patch: imm8 = i & 0x7f.
    a.mov(eax, r13d).unwrap();
    a.and(eax, 0x7f).unwrap();
    a.mov(byte_ptr(rbx + 64 + 6), al).unwrap();
    a.lea(rcx, qword_ptr(rbx + 64)).unwrap();
    a.call(rcx).unwrap();
    a.add(r12, rax).unwrap();
    a.inc(r13).unwrap();
    a.cmp(r13, 1000).unwrap();
    a.jb(lp).unwrap();
    a.mov(eax, 231).unwrap();
    a.mov(rdi, r12).unwrap();
    a.and(edi, 0xff).unwrap();
    a.syscall().unwrap();
    let code = a.assemble(0x40_1000).unwrap();
    crate::demo::elf(62, &code, 4096)
}

fn smc_expected() -> i32 {
    let sum: u64 = (0..1000u64).map(|i| 3 * i + 7 + (i & 0x7f)).sum();
    (sum & 0xff) as i32
}

#[test]
fn self_modifying_code_matches_the_interpreter_and_the_host() {
    let image = smc_elf();
    let mut codes = Vec::new();
    for kind in [EngineKind::Interp, EngineKind::Jit] {
        let mut p = start(&image, &[], kind);
        codes.push(p.run().unwrap().exit_code());
    }
    let dir = std::env::temp_dir().join(format!("deja-smc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("smc");
    std::fs::write(&exe, &image).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let native = std::process::Command::new(&exe).status().unwrap().code().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(native, smc_expected());
    assert_eq!(codes, [native, native], "interp, jit");
}

/// A machine with `code` at 0x1000 (RX) and a RW page at 0x2000.
fn machine(code: &[u8]) -> Machine<X86State> {
    let mut mem = Memory::new(1 << 24).unwrap();
    mem.map(0x1000, 0x1000, flags::R | flags::X);
    mem.map(0x2000, 0x1000, flags::R | flags::W);
    mem.poke(0x1000, code).unwrap();
    let mut m = Machine { cpu: X86State::default(), mem, icount: 0, limit: 0 };
    m.cpu.rip = 0x1000;
    m
}

#[test]
fn a_fault_inside_a_block_names_its_instruction() {
    // mov eax,1; mov ebx,2; mov rcx,[0x3000] (unmapped); mov edx,3; ud2
    let load =
        [0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0, 0x48, 0x8b, 0x0c, 0x25, 0, 0x30, 0, 0, 0xba, 3, 0, 0, 0, 0x0f, 0x0b];
    // mov eax,1; mov ebx,2; xor ecx,ecx; div rcx; mov edx,3; ud2
    let div = [0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0, 0x31, 0xc9, 0x48, 0xf7, 0xf1, 0xba, 3, 0, 0, 0, 0x0f, 0x0b];
    // mov eax,1; mov [0x1000],al (read-only page); mov edx,3; ud2
    let store = [0xb8, 1, 0, 0, 0, 0x88, 0x04, 0x25, 0, 0x10, 0, 0, 0xba, 3, 0, 0, 0, 0x0f, 0x0b];
    for (code, fault_at, icount, signo) in [
        (&load[..], 0x100a, 2, libc::SIGSEGV),
        (&div[..], 0x100c, 3, libc::SIGFPE),
        (&store[..], 0x1005, 1, libc::SIGSEGV),
    ] {
        let mut got = Vec::new();
        for kind in [EngineKind::Interp, EngineKind::Jit] {
            let mut m = machine(code);
            let mut e = EngineX86::new(kind, false);
            let exit = e.run(&mut m, 1000);
            assert!(matches!(&exit, Exit::Fault(f) if f.signo == signo), "{kind:?}: {exit:?}");
            assert_eq!((m.cpu.rip, m.icount), (fault_at, icount), "{kind:?}");
            assert_eq!(m.cpu.gpr[2], 0, "{kind:?}: the instruction after the fault ran");
            got.push((exit, m.cpu));
        }
        assert_eq!(got[0], got[1]);
    }
}

#[test]
fn a_tiny_code_cache_is_flushed_and_changes_nothing() {
    let demo = crate::demo::demo_elf().unwrap();
    let jit = JitX86::with_cache_size(0);
    assert_eq!(jit.capacity(), super::jit_x86::MIN_CACHE_SIZE);
    let n = lockstep("demo, tiny cache", &demo, &[], seed(), 2_000_000, Some(jit));
    assert!(n > 0);
    // The same through a whole run: the cache is flushed many times, the result is the same.
    let mut p = start(&demo, &[], EngineKind::Jit);
    p.engine.jit = Some(Box::new(JitX86::with_cache_size(0)));
    let mut r = start(&demo, &[], EngineKind::Interp);
    let (a, b) = (p.run().unwrap(), r.run().unwrap());
    assert_eq!(a, b);
    assert_eq!((p.m.icount, p.m.cpu), (r.m.icount, r.m.cpu));
    let j = p.engine.jit.as_ref().unwrap();
    assert!(j.flushes() > 0, "the cache was never flushed ({} blocks translated)", j.translated);
}

/// Every flag-writing inlined operation (every size, interesting values, both CF values
/// in) followed by a branch on every condition, then setcc and cmovcc on the flags it left:
/// the JIT (which branches on the host flags right after the host instruction) against the
/// interpreter.
#[test]
fn flag_writers_then_every_condition() {
    type Op2 = fn(&mut CodeAssembler, u32) -> Result<(), IcedError>;
    let ops: Vec<(&str, Op2)> = vec![
        ("add", |a, s| match s {
            8 => a.add(rax, rcx),
            4 => a.add(eax, ecx),
            2 => a.add(ax, cx),
            _ => a.add(al, cl),
        }),
        ("sub", |a, s| match s {
            8 => a.sub(rax, rcx),
            4 => a.sub(eax, ecx),
            2 => a.sub(ax, cx),
            _ => a.sub(al, cl),
        }),
        ("adc", |a, s| match s {
            8 => a.adc(rax, rcx),
            4 => a.adc(eax, ecx),
            2 => a.adc(ax, cx),
            _ => a.adc(al, cl),
        }),
        ("sbb", |a, s| match s {
            8 => a.sbb(rax, rcx),
            4 => a.sbb(eax, ecx),
            2 => a.sbb(ax, cx),
            _ => a.sbb(al, cl),
        }),
        ("cmp", |a, s| match s {
            8 => a.cmp(rax, rcx),
            4 => a.cmp(eax, ecx),
            2 => a.cmp(ax, cx),
            _ => a.cmp(al, cl),
        }),
        ("and", |a, s| match s {
            8 => a.and(rax, rcx),
            4 => a.and(eax, ecx),
            2 => a.and(ax, cx),
            _ => a.and(al, cl),
        }),
        ("or", |a, s| match s {
            8 => a.or(rax, rcx),
            4 => a.or(eax, ecx),
            2 => a.or(ax, cx),
            _ => a.or(al, cl),
        }),
        ("xor", |a, s| match s {
            8 => a.xor(rax, rcx),
            4 => a.xor(eax, ecx),
            2 => a.xor(ax, cx),
            _ => a.xor(al, cl),
        }),
        ("test", |a, s| match s {
            8 => a.test(rax, rcx),
            4 => a.test(eax, ecx),
            2 => a.test(ax, cx),
            _ => a.test(al, cl),
        }),
        ("cmpi", |a, s| match s {
            8 => a.cmp(rax, -5),
            4 => a.cmp(eax, 7),
            2 => a.cmp(ax, 0x7fff),
            _ => a.cmp(al, -128),
        }),
        ("inc", |a, s| match s {
            8 => a.inc(rax),
            4 => a.inc(eax),
            2 => a.inc(ax),
            _ => a.inc(al),
        }),
        ("dec", |a, s| match s {
            8 => a.dec(rax),
            4 => a.dec(eax),
            2 => a.dec(ax),
            _ => a.dec(al),
        }),
        ("neg", |a, s| match s {
            8 => a.neg(rax),
            4 => a.neg(eax),
            2 => a.neg(ax),
            _ => a.neg(al),
        }),
        ("shl1", |a, s| match s {
            8 => a.shl(rax, 1),
            4 => a.shl(eax, 1),
            2 => a.shl(ax, 1),
            _ => a.shl(al, 1),
        }),
        ("shl3", |a, s| match s {
            8 => a.shl(rax, 3),
            4 => a.shl(eax, 3),
            2 => a.shl(ax, 3),
            _ => a.shl(al, 3),
        }),
        ("shr1", |a, s| match s {
            8 => a.shr(rax, 1),
            4 => a.shr(eax, 1),
            2 => a.shr(ax, 1),
            _ => a.shr(al, 1),
        }),
        ("shr5", |a, s| match s {
            8 => a.shr(rax, 5),
            4 => a.shr(eax, 5),
            2 => a.shr(ax, 5),
            _ => a.shr(al, 5),
        }),
        ("sar1", |a, s| match s {
            8 => a.sar(rax, 1),
            4 => a.sar(eax, 1),
            2 => a.sar(ax, 1),
            _ => a.sar(al, 1),
        }),
        ("sar6", |a, s| match s {
            8 => a.sar(rax, 6),
            4 => a.sar(eax, 6),
            2 => a.sar(ax, 6),
            _ => a.sar(al, 6),
        }),
    ];
    let values: [u64; 8] = [0, 1, 0x7f, 0x80, 0x7fff_ffff, 0x8000_0000, u64::MAX, 0x8000_0000_0000_0000];
    let mut cases = 0;
    for (name, op) in &ops {
        for size in [8, 4, 2, 1] {
            for cc in 0..16u8 {
                let mut a = CodeAssembler::new(64).unwrap();
                let mut skip = a.create_label();
                op(&mut a, size).unwrap();
                // jcc by hardware condition code: 0x70 + cc, rel8 over the 5-byte mov.
                a.db(&[0x70 + cc, 5]).unwrap();
                a.mov(edx, 1).unwrap();
                a.set_label(&mut skip).unwrap();
                a.db(&[0x0f, 0x90 + cc, 0xc3]).unwrap(); // setcc bl
                a.db(&[0x48, 0x0f, 0x40 + cc, 0xf1]).unwrap(); // cmovcc rsi, rcx
                a.ud2().unwrap();
                let code = a.assemble(0x1000).unwrap();
                let mut engines =
                    [EngineKind::Interp, EngineKind::Jit].map(|k| (EngineX86::new(k, false), machine(&code)));
                for &x in &values {
                    for &y in &values {
                        for cf in [0, 1] {
                            let mut got = Vec::new();
                            for (e, m) in engines.iter_mut() {
                                m.cpu = X86State::default();
                                m.cpu.rip = 0x1000;
                                m.icount = 0;
                                m.cpu.gpr[0] = x;
                                m.cpu.gpr[1] = y;
                                m.cpu.rflags |= cf;
                                let exit = e.run(m, 100);
                                got.push((exit, m.icount, m.cpu));
                            }
                            assert_eq!(got[0], got[1], "{name} size {size} cc {cc} x {x:#x} y {y:#x} cf {cf}");
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(cases > 70_000, "{cases}");
}
