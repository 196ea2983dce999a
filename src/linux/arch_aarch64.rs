//! Linux on AArch64: the ABI facts the shared platform needs (syscall registers and the
//! asm-generic numbering, entry state, HWCAP, signal frames) bound to the A64 interpreter.

use super::abi::Abi;
use super::process::Process;
use super::signal::SignalState;
use super::syscall::{SysFn, SysResult, SysTable};
use super::sysno::Sys;
use crate::arch::Arch;
use crate::engine::a64::EngineA64;
use crate::engine::{EnvRequest, Exit, GuestFault, Machine};
use crate::isa::aarch64::state::nzcv;
use crate::isa::aarch64::A64State;
use crate::mem::{MemFault, Memory};
use crate::world::World;
use std::sync::LazyLock;

/// The AArch64 guest ISA.
pub struct Aarch64;

static SYS_TABLE: LazyLock<Vec<Option<SysFn<Aarch64>>>> = LazyLock::new(super::syscall::build_table::<Aarch64>);

/// AT_HWCAP bits deja implements (arch/arm64/include/uapi/asm/hwcap.h): FP, ASIMD,
/// CPUID (EL0 reads of ID registers are emulated). Others are added as they are implemented
/// and tested against qemu-aarch64.
pub const HWCAP_FP: u64 = 1 << 0;
pub const HWCAP_ASIMD: u64 = 1 << 1;
/// CRC32B…CRC32CX (src/isa/aarch64/dp_reg.rs, tested against qemu-aarch64).
pub const HWCAP_CRC32: u64 = 1 << 7;
pub const HWCAP_CPUID: u64 = 1 << 11;
/// LSE atomics (LDADD…, SWP, CAS, CASP) and RCpc loads (LDAPR, LDAPUR/STLUR).
pub const HWCAP_ATOMICS: u64 = 1 << 8;
pub const HWCAP_LRCPC: u64 = 1 << 15;
pub const HWCAP_ILRCPC: u64 = 1 << 26;
pub const HWCAP: u64 = HWCAP_FP | HWCAP_ASIMD | HWCAP_CRC32 | HWCAP_CPUID | HWCAP_ATOMICS | HWCAP_LRCPC | HWCAP_ILRCPC;

impl Arch for Aarch64 {
    type Cpu = A64State;
    type Engine = EngineA64;

    const LOG_ISA: u8 = crate::replay::log::ISA_AARCH64;
    const PLATFORM: &'static str = "aarch64";
    const ELF_MACHINE: u16 = object::elf::EM_AARCH64;
    const SYSCALL_LEN: u64 = 4;
    const ABI: Abi = Abi::Arm64;

    fn new_engine(kind: crate::engine::EngineKind, trace: bool) -> EngineA64 {
        EngineA64::new(kind, trace)
    }

    fn run(engine: &mut EngineA64, m: &mut Machine<A64State>, budget: u64) -> Exit {
        engine.run(m, budget)
    }

    fn pc(c: &A64State) -> u64 {
        c.pc
    }

    fn sp(c: &A64State) -> u64 {
        c.sp
    }

    fn set_pc(c: &mut A64State, pc: u64) {
        c.pc = pc;
    }

    /// Linux's arm64 ELF entry: sp at argc, x0..x30 zero, NZCV clear, FPCR 0.
    fn init_regs(c: &mut A64State, entry: u64, sp: u64) {
        c.sp = sp;
        c.pc = entry;
    }

    fn hwcap() -> (u64, u64) {
        (HWCAP, 0)
    }

    fn syscall_args(c: &A64State) -> (u64, [u64; 6]) {
        (c.x[8], [c.x[0], c.x[1], c.x[2], c.x[3], c.x[4], c.x[5]])
    }

    /// Taking the exception clears the exclusive monitor (as every exception return does;
    /// qemu-user clears it on every return to guest code too).
    fn enter_syscall(c: &mut A64State) {
        c.excl_size = 0;
    }

    fn set_syscall_result(c: &mut A64State, v: u64) {
        c.x[0] = v;
    }

    /// The kernel keeps the original x0 to restart a syscall whose result overwrote it.
    fn restart_syscall(c: &mut A64State, nr: u64, args: &[u64; 6]) {
        c.pc = c.pc.wrapping_sub(Self::SYSCALL_LEN);
        c.x[8] = nr;
        c.x[0] = args[0];
    }

    fn sys_from_nr(nr: u64) -> Option<Sys> {
        Sys::from_aarch64(nr)
    }

    fn sys_nr(s: Sys) -> Option<u64> {
        s.aarch64()
    }

    fn sys_table() -> &'static [Option<SysFn<Aarch64>>] {
        &SYS_TABLE
    }

    fn register_arch_syscalls(_t: &mut SysTable<Aarch64>) {}

    fn complete_env(c: &mut A64State, req: EnvRequest, world: &mut dyn World, icount: u64) {
        match req {
            EnvRequest::Counter { reg } => {
                let v = world.tsc(icount);
                if (reg as usize) < 31 {
                    c.x[reg as usize] = v;
                }
            }
            EnvRequest::Rndr { reg } => {
                let mut b = [0u8; 8];
                world.random(icount, &mut b);
                if (reg as usize) < 31 {
                    c.x[reg as usize] = u64::from_le_bytes(b);
                }
                c.nzcv &= !nzcv::MASK;
            }
            // x86-64 requests never come from the A64 engine.
            EnvRequest::Rdtsc | EnvRequest::Rdtscp | EnvRequest::Random { .. } => {}
        }
    }

    /// The vDSO's signal return trampoline (see `signal_frame_a64`).
    fn init_process(p: &mut Process<Aarch64>) {
        super::signal_frame_a64::map_sigtramp(&mut p.m.mem);
    }

    /// The thread's fault_address and fault_code (ESR), as the arm64 fault handlers set them.
    fn note_fault(sig: &mut SignalState, f: &GuestFault) {
        super::signal_frame_a64::note_fault(sig, f)
    }

    fn setup_frame(p: &mut Process<Aarch64>, signo: i32, f: &GuestFault) -> Result<(), MemFault> {
        // Taking a signal clears the exclusive monitor (deja's policy, isa/aarch64/atomic.rs):
        // an LDXR/STXR sequence interrupted by a handler fails its store and retries.
        p.m.cpu.excl_size = 0;
        super::signal_frame_a64::setup_frame(p, signo, f)
    }

    fn sigreturn(p: &mut Process<Aarch64>) -> SysResult {
        super::signal_frame_a64::sigreturn(p)
    }

    fn state_bytes(c: &A64State) -> Vec<u8> {
        let mut b = Vec::with_capacity(31 * 8 + 32 * 16 + 64);
        for x in c.x {
            b.extend_from_slice(&x.to_le_bytes());
        }
        for v in [c.sp, c.pc, c.nzcv, c.fpcr, c.fpsr, c.tpidr, c.excl_addr, c.excl_size] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in c.v {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn disasm_at(mem: &Memory, pc: u64) -> String {
        let mut w = [0u8; 4];
        if mem.fetch(pc, &mut w) < 4 {
            return "(no instruction there)".into();
        }
        let word = u32::from_le_bytes(w);
        match deja_decoders::aarch64::decode_word(word) {
            Some(i) => format!("{i}"),
            None => format!("(undefined {word:08x})"),
        }
    }
}
