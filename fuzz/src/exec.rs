//! `exec_x86` and `exec_a64`: random code on the engines.
//!
//! Input: a register header (fixed size, zero-padded when the input is shorter), then up to
//! one page of code. The machine has one RWX code page at `CODE` followed by `DATA_PAGES`
//! RW pages; a bit mask in the header turns chosen registers into pointers inside that region
//! (the stack pointer always is one), the others keep their raw (usually wild) values.
//!
//! Oracle, for every input:
//! - every `Exit` is clean: `Budget` only once the whole budget retired, never more retired
//!   than the budget, faults are SIGSEGV/SIGILL/SIGBUS/SIGFPE/SIGTRAP;
//! - the budget does not matter (design §2: budgets are how replay lands on an icount and the
//!   debugger steps): one run with the whole budget and one split into small random budgets,
//!   some through `run_stops` with breakpoint addresses, end in the same registers, memory,
//!   icount and sequence of exits;
//! - the engine does not matter: every `EngineKind::ALL` (the interpreter today; the JIT as
//!   soon as it is listed there and `Arch::new_engine` builds it) runs each input whole and
//!   split, and must end in the interpreter's state. Nothing here needs to change for it.
//!
//! Syscalls return -ENOSYS and retire; instructions that ask the platform for a value (rdtsc,
//! rdrand, cntvct_el0, rndr) get one from the sealed world and retire, as the platform does.

use crate::{Rng, Sealed};
use deja::arch::Arch;
use deja::engine::{sig, EngineKind, Exit, Machine};
use deja::isa::aarch64::A64State;
use deja::isa::x86_64::X86State;
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::arch_x86_64::X86_64;
use deja::mem::{flags, Memory};

/// The code page.
pub const CODE: u64 = 0x10000;
/// RW pages after the code page (data and stack).
pub const DATA_PAGES: u64 = 8;
const REGION_LEN: u64 = (1 + DATA_PAGES) * 0x1000;
/// The guest address space (wild pointers above it are outside the window). Small: a large
/// window costs time to reserve and release for every run (a lot of it under ASan).
const WINDOW: u64 = 1 << 24;
/// Instructions per run.
pub const BUDGET: u64 = 10_000;
/// -ENOSYS, what every syscall returns.
const ENOSYS: u64 = -38i64 as u64;

/// The ISA side of the harness: how the register header becomes a CPU state.
pub trait ExecIsa: Arch {
    /// Size of the register header.
    const HEADER: usize;
    fn init(cpu: &mut Self::Cpu, hdr: &[u8]);
}

/// `len` bytes at `at` of the header as a little-endian integer.
fn le(hdr: &[u8], at: usize, len: usize) -> u128 {
    let mut b = [0u8; 16];
    b[..len].copy_from_slice(&hdr[at..at + len]);
    u128::from_le_bytes(b)
}

/// A pointer into the code/data region derived from `v`.
fn pointer(v: u64) -> u64 {
    CODE + v % REGION_LEN
}

/// A stack pointer in the data pages, 16-byte aligned, with room on both sides.
fn stack_pointer(v: u64) -> u64 {
    (CODE + 0x1000 + 0x1000 + v % ((DATA_PAGES - 2) * 0x1000)) & !15
}

impl ExecIsa for X86_64 {
    /// 16 GPRs, a 16-bit pointer mask, a flags byte, xmm0 and xmm1.
    const HEADER: usize = 16 * 8 + 2 + 1 + 32;

    fn init(c: &mut X86State, hdr: &[u8]) {
        let mask = le(hdr, 128, 2) as u16;
        for i in 0..16 {
            let v = le(hdr, i * 8, 8) as u64;
            c.gpr[i] = if mask & (1 << i) != 0 { pointer(v) } else { v };
        }
        c.gpr[4] = stack_pointer(c.gpr[4]);
        // CF PF AF ZF SF DF OF from the flags byte.
        let f = hdr[130] as u64;
        let bits = [0u64, 2, 4, 6, 7, 10, 11];
        c.rflags = X86State::default().rflags;
        for (k, b) in bits.iter().enumerate() {
            c.rflags |= ((f >> k) & 1) << b;
        }
        c.xmm[0] = le(hdr, 131, 16);
        c.xmm[1] = le(hdr, 147, 16);
        for i in 2..16 {
            c.xmm[i] = (c.gpr[i] as u128) | ((c.gpr[(i + 1) % 16] as u128) << 64);
        }
        c.rip = CODE;
    }
}

impl ExecIsa for Aarch64 {
    /// X0..X30, SP, a 32-bit pointer mask, an NZCV/FPCR byte pair, V0 and V1.
    const HEADER: usize = 31 * 8 + 8 + 4 + 2 + 32;

    fn init(c: &mut A64State, hdr: &[u8]) {
        let mask = le(hdr, 256, 4) as u32;
        for i in 0..31 {
            let v = le(hdr, i * 8, 8) as u64;
            c.x[i] = if mask & (1 << i) != 0 { pointer(v) } else { v };
        }
        c.sp = stack_pointer(le(hdr, 248, 8) as u64);
        c.nzcv = ((hdr[260] & 0xf) as u64) << 28;
        // FPCR: AHP, DN, FZ, RMode, FZ16.
        let b = hdr[261] as u64;
        c.fpcr =
            (b & 1) << 26 | ((b >> 1) & 1) << 25 | ((b >> 2) & 1) << 24 | ((b >> 3) & 3) << 22 | ((b >> 5) & 1) << 19;
        c.v[0] = le(hdr, 262, 16);
        c.v[1] = le(hdr, 278, 16);
        for i in 2..32 {
            c.v[i] = (c.x[i - 1] as u128) | ((c.x[i % 31] as u128) << 64);
        }
        c.pc = CODE;
    }
}

/// Random x86-64 code on every engine (`EngineKind::ALL`).
pub fn exec_x86(data: &[u8]) {
    exec::<X86_64>(data);
}

/// Random AArch64 code on every engine (`EngineKind::ALL`).
pub fn exec_a64(data: &[u8]) {
    exec::<Aarch64>(data);
}

/// How a run ended, compared between runs.
#[derive(Debug, PartialEq, Eq)]
struct Final {
    /// Every exit but `Budget`, with the icount it happened at.
    exits: Vec<String>,
    icount: u64,
    regs: Vec<u8>,
    mem: Vec<u8>,
}

fn machine<A: ExecIsa>(hdr: &[u8], code: &[u8]) -> Machine<A::Cpu> {
    let mut mem = Memory::new(WINDOW).expect("reserve the guest window");
    assert!(mem.map(CODE, 0x1000, flags::R | flags::W | flags::X));
    assert!(mem.map(CODE + 0x1000, DATA_PAGES * 0x1000, flags::R | flags::W));
    mem.poke(CODE, code).expect("code fits the code page");
    // Recognisable data, so loads do not all read zero.
    let fill: Vec<u8> = (0..DATA_PAGES * 0x1000).map(|i| (i as u8).wrapping_mul(0x9d) ^ (i >> 8) as u8).collect();
    mem.poke(CODE + 0x1000, &fill).unwrap();
    let mut cpu = A::Cpu::default();
    A::init(&mut cpu, hdr);
    Machine { cpu, mem, icount: 0, limit: 0 }
}

/// How each `run` call's budget is chosen.
enum Plan {
    /// Everything that is left.
    Whole,
    /// Small random budgets; sometimes through `run_stops` with these breakpoints (sorted).
    Split(Rng, Vec<u64>),
}

fn run<A: ExecIsa>(kind: EngineKind, hdr: &[u8], code: &[u8], mut plan: Plan) -> Final {
    let mut m = machine::<A>(hdr, code);
    let mut e = A::new_engine(kind, false);
    let mut world = Sealed;
    let mut exits = Vec::new();
    while m.icount < BUDGET {
        let left = BUDGET - m.icount;
        let before = m.icount;
        let (budget, exit, stopping) = match &mut plan {
            Plan::Whole => (left, A::run(&mut e, &mut m, left), false),
            Plan::Split(rng, stops) => {
                let b = match rng.below(4) {
                    0 => 1,
                    1 => 1 + rng.below(8),
                    _ => 1 + rng.below(200),
                }
                .min(left);
                let pc = A::pc(&m.cpu);
                if rng.below(3) == 0 && stops.binary_search(&pc).is_err() {
                    (b, A::run_stops(&mut e, &mut m, b, stops), true)
                } else {
                    (b, A::run(&mut e, &mut m, b), false)
                }
            }
        };
        let ran = m.icount - before;
        assert!(ran <= budget, "{kind:?}: retired {ran} instructions on a budget of {budget}");
        match exit {
            Exit::Budget => {
                // run_stops may stop early at a breakpoint, but not before the first
                // instruction (it was not started on one).
                if stopping {
                    assert!(ran > 0 || budget == 0, "{kind:?}: run_stops made no progress");
                } else {
                    assert_eq!(ran, budget, "{kind:?}: Exit::Budget after {ran} of {budget} instructions");
                }
            }
            Exit::Syscall => {
                exits.push(format!("syscall at {}", m.icount));
                A::enter_syscall(&mut m.cpu);
                A::set_syscall_result(&mut m.cpu, ENOSYS);
                m.icount += 1;
            }
            Exit::Env(req) => {
                exits.push(format!("{req:?} at {}", m.icount));
                A::complete_env(&mut m.cpu, req, &mut world, m.icount);
                m.icount += 1;
            }
            Exit::Fault(f) => {
                assert!(
                    [sig::SIGSEGV, sig::SIGILL, sig::SIGBUS, sig::SIGFPE, sig::SIGTRAP].contains(&f.signo),
                    "{kind:?}: unexpected fault signal {f:?}"
                );
                exits.push(format!(
                    "fault {} code {} addr {:#x} at {} pc {:#x}",
                    f.signo,
                    f.code,
                    f.addr,
                    m.icount,
                    A::pc(&m.cpu)
                ));
                break;
            }
        }
    }
    let mut mem = vec![0u8; REGION_LEN as usize];
    m.mem.peek(CODE, &mut mem).expect("the region stays mapped");
    Final { exits, icount: m.icount, regs: A::state_bytes(&m.cpu), mem }
}

fn exec<A: ExecIsa>(data: &[u8]) {
    let mut hdr = vec![0u8; A::HEADER];
    let n = data.len().min(A::HEADER);
    hdr[..n].copy_from_slice(&data[..n]);
    let code = &data[n..data.len().min(n + 0x1000)];
    let seed = xxhash_rust::xxh3::xxh3_64(data);
    let mut rng = Rng::new(seed);
    let stops: Vec<u64> = {
        let mut s: Vec<u64> = (0..rng.below(4)).map(|_| CODE + rng.below(code.len().max(1) as u64)).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    // The reference: the first engine (the interpreter) with the whole budget. Every engine
    // (the JIT too, once it is in `EngineKind::ALL`) must end in the same state, with the
    // whole budget and with split budgets.
    let reference_kind = EngineKind::ALL[0];
    let reference = run::<A>(reference_kind, &hdr, code, Plan::Whole);
    for &kind in EngineKind::ALL {
        for (split, plan) in [(false, Plan::Whole), (true, Plan::Split(Rng::new(seed ^ 0x5711), stops.clone()))] {
            if kind == reference_kind && !split {
                continue;
            }
            let got = run::<A>(kind, &hdr, code, plan);
            if got != reference {
                panic!("{}", mismatch(kind, split, &reference, &got));
            }
        }
    }
}

fn mismatch(kind: EngineKind, split: bool, want: &Final, got: &Final) -> String {
    let mut s = format!(
        "{kind:?} ({}) differs from the interpreter's whole run:",
        if split { "split budgets" } else { "whole budget" }
    );
    if want.exits != got.exits {
        s += &format!("\n  exits: want {:?}\n         got  {:?}", want.exits, got.exits);
    }
    if want.icount != got.icount {
        s += &format!("\n  icount: want {}, got {}", want.icount, got.icount);
    }
    if let Some(i) = (0..want.regs.len().min(got.regs.len())).find(|&i| want.regs[i] != got.regs[i]) {
        s += &format!("\n  registers: first difference at byte {i} of the state serialisation");
    }
    if let Some(i) = (0..want.mem.len()).find(|&i| want.mem[i] != got.mem[i]) {
        s += &format!(
            "\n  memory: first difference at {:#x}: want {:#04x}, got {:#04x}",
            CODE + i as u64,
            want.mem[i],
            got.mem[i]
        );
    }
    s
}
