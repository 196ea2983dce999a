//! What the platform needs from a guest ISA. Everything above the engines (the Linux process,
//! syscalls, signals, record/replay) is written once, generic over `Arch`; each ISA provides
//! its CPU state, its engine, and the handful of ABI facts below (design: share, don't fork).

use crate::engine::{EngineKind, EnvRequest, Exit, GuestFault, Machine};
use crate::linux::abi::Abi;
use crate::linux::process::Process;
use crate::linux::signal::SignalState;
use crate::linux::syscall::{SysResult, SysTable};
use crate::linux::sysno::Sys;
use crate::mem::{MemFault, Memory};
use crate::world::World;

pub trait Arch: Sized + 'static {
    /// Architectural state (`#[repr(C)]`, addressed by the JIT by field offset).
    type Cpu: Default + Clone + Send + 'static;
    /// This ISA's engines behind one type (`new_engine` picks one).
    type Engine: Send;

    /// ISA code in the replay log header.
    const LOG_ISA: u8;
    /// AT_PLATFORM string.
    const PLATFORM: &'static str;
    /// ELF e_machine.
    const ELF_MACHINE: u16;
    /// Length of the syscall instruction (to name its pc and to restart it).
    const SYSCALL_LEN: u64;
    /// The guest's data layouts and flag values where they differ from the host's
    /// (`struct stat`, open flags, MINSIGSTKSZ…).
    const ABI: Abi;

    fn new_engine(kind: EngineKind, trace: bool) -> Self::Engine;
    /// Run at most `budget` instructions (design §2).
    fn run(engine: &mut Self::Engine, m: &mut Machine<Self::Cpu>, budget: u64) -> Exit;
    /// Like `run`, but also return `Exit::Budget` early at an instruction boundary whose pc
    /// is in `stops` (sorted), before that instruction executes, the first one included (the
    /// debugger's breakpoints, which are never written into guest memory). This default
    /// steps one instruction at a time; an engine may check once per block instead.
    fn run_stops(engine: &mut Self::Engine, m: &mut Machine<Self::Cpu>, budget: u64, stops: &[u64]) -> Exit {
        let end = m.icount.saturating_add(budget);
        while m.icount < end {
            if stops.binary_search(&Self::pc(&m.cpu)).is_ok() {
                break;
            }
            match Self::run(engine, m, 1) {
                Exit::Budget => {}
                other => return other,
            }
        }
        Exit::Budget
    }

    fn pc(c: &Self::Cpu) -> u64;
    fn sp(c: &Self::Cpu) -> u64;
    fn set_pc(c: &mut Self::Cpu, pc: u64);
    /// Initial register state at the ELF entry point with the stack at `sp`.
    fn init_regs(c: &mut Self::Cpu, entry: u64, sp: u64);
    /// AT_HWCAP and AT_HWCAP2.
    fn hwcap() -> (u64, u64);

    /// Syscall number and its six argument registers.
    fn syscall_args(c: &Self::Cpu) -> (u64, [u64; 6]);
    /// Effects of entering the kernel (x86-64: rcx and r11 are clobbered).
    fn enter_syscall(c: &mut Self::Cpu);
    fn set_syscall_result(c: &mut Self::Cpu, v: u64);
    /// Make the syscall execute again (pc back on it, number and first argument restored).
    fn restart_syscall(c: &mut Self::Cpu, nr: u64, args: &[u64; 6]);
    /// The ISA's syscall numbering.
    fn sys_from_nr(nr: u64) -> Option<Sys>;
    fn sys_nr(s: Sys) -> Option<u64>;
    /// Dense syscall dispatch table for this ISA (built once from the shared families).
    fn sys_table() -> &'static [Option<crate::linux::syscall::SysFn<Self>>];
    /// Register this ISA's own syscalls (x86-64: arch_prctl).
    fn register_arch_syscalls(t: &mut SysTable<Self>);

    /// Complete an instruction that asked for an outside value.
    fn complete_env(c: &mut Self::Cpu, req: EnvRequest, world: &mut dyn World, icount: u64);

    /// Map what the kernel would provide besides the ELF image (arm64: the vDSO's signal
    /// return trampoline). Called once, after loading, before the first instruction.
    fn init_process(p: &mut Process<Self>);
    /// Record a synchronous fault in the thread's trap state before it is delivered (what
    /// the next signal frames report: x86-64 trapno/err/cr2, arm64 fault_address/ESR).
    fn note_fault(sig: &mut SignalState, f: &GuestFault);
    /// Push a signal frame and enter the handler.
    fn setup_frame(p: &mut Process<Self>, signo: i32, f: &GuestFault) -> Result<(), MemFault>;
    /// rt_sigreturn.
    fn sigreturn(p: &mut Process<Self>) -> SysResult;

    /// Registers serialised for state digests.
    fn state_bytes(c: &Self::Cpu) -> Vec<u8>;
    /// Disassembly of the instruction at `pc`, for reports.
    fn disasm_at(mem: &Memory, pc: u64) -> String;
}
