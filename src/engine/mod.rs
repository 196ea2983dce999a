//! The engine contract (design §2): every engine implements `run(machine, budget) -> Exit`,
//! retiring at most `budget` instructions and advancing `machine.icount` by exactly what
//! retired.

pub mod block_cache;
pub mod interp_a64;
pub mod interp_x86;

use crate::mem::{Access, MemFault, Memory};

/// Which engine executes guest code (`--engine`). Every kind obeys the same contract
/// (design §2); the interpreter is the reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// The reference interpreter.
    #[default]
    Interp,
}

impl EngineKind {
    /// Every engine this build has, reference first.
    pub const ALL: &'static [EngineKind] = &[EngineKind::Interp];

    /// The name used on the command line, in reports and in bench output.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Interp => "interp",
        }
    }

    /// The engine called `name`, if this build has it.
    pub fn from_name(name: &str) -> Option<EngineKind> {
        EngineKind::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// A guest machine: ISA state, memory and the instruction count.
pub struct Machine<C> {
    pub cpu: C,
    pub mem: Memory,
    /// Instructions retired since the program's first instruction (design §1).
    pub icount: u64,
    /// The icount at which the current `run` must stop. Handlers that retire more than once
    /// (REP string instructions) read it to know how many iterations they may perform.
    pub limit: u64,
}

/// Why `run` returned. Every way an engine run ends is one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// `budget` instructions retired.
    Budget,
    /// The guest executed a syscall instruction. The pc is already past it; it retires when
    /// the platform has written the result (the platform increments icount).
    Syscall,
    /// The instruction at pc needs a value from outside the guest (rdtsc, rdrand, …). The pc
    /// is already past it; it retires when the platform completes it with the value.
    Env(EnvRequest),
    /// A synchronous exception. The faulting instruction did not retire (except traps such as
    /// int3, which retire first: see `GuestFault::retired`); pc is as Linux reports it.
    Fault(GuestFault),
}

/// Why an instruction handler stopped the normal flow (every ISA's handlers return it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trap {
    /// Synchronous exception; the instruction does not retire.
    Fault(GuestFault),
    /// A syscall instruction; it retires after the platform writes the result.
    Syscall,
    /// An instruction that needs an outside value (rdtsc, cntvct_el0, …).
    Env(EnvRequest),
    /// A trap that retires the instruction first (x86 int3): the signal is delivered with pc
    /// after it.
    TrapAfter(GuestFault),
}

impl From<MemFault> for Trap {
    #[inline]
    fn from(f: MemFault) -> Trap {
        Trap::Fault(GuestFault::from_mem(f))
    }
}

/// A non-deterministic value an instruction asks the platform for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvRequest {
    /// rdtsc: EDX:EAX = tsc.
    Rdtsc,
    /// rdtscp: EDX:EAX = tsc, ECX = TSC_AUX.
    Rdtscp,
    /// rdrand/rdseed into a register of `size` bytes (gpr index).
    Random { gpr: u8, size: u8 },
    /// AArch64 `mrs xt, cntvct_el0` (or cntvctss): the virtual counter into register `reg`.
    Counter { reg: u8 },
    /// AArch64 `mrs xt, rndr/rndrrs`: 8 random bytes into register `reg`, NZCV = 0000.
    Rndr { reg: u8 },
}

/// Linux signal numbers used by faults.
pub mod sig {
    pub const SIGILL: i32 = 4;
    pub const SIGTRAP: i32 = 5;
    pub const SIGBUS: i32 = 7;
    pub const SIGFPE: i32 = 8;
    pub const SIGSEGV: i32 = 11;
    pub const SEGV_MAPERR: i32 = 1;
    pub const SEGV_ACCERR: i32 = 2;
    /// Illegal opcode: what Linux arm64 reports for an undefined instruction
    /// (arch/arm64/kernel/traps.c, `do_undefinstr` → `force_signal_inject(SIGILL, ILL_ILLOPC…)`).
    pub const ILL_ILLOPC: i32 = 1;
    /// Illegal operand: what Linux x86-64 reports for #UD (`do_error_trap(…, ILL_ILLOPN…)`).
    pub const ILL_ILLOPN: i32 = 2;
    pub const FPE_INTDIV: i32 = 1;
    pub const TRAP_BRKPT: i32 = 1;
    /// si_code for faults raised by the kernel (e.g. #GP).
    pub const SI_KERNEL: i32 = 0x80;
}

/// A synchronous exception, described the way Linux reports it to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestFault {
    pub signo: i32,
    pub code: i32,
    /// si_addr.
    pub addr: u64,
    /// x86 trap number and error code for the signal frame's ucontext (0 on other ISAs).
    pub trapno: u64,
    pub err: u64,
    /// For messages: why, when it is not obvious from the signal (e.g. an unimplemented
    /// instruction with its mnemonic and bytes).
    pub detail: Option<String>,
}

impl GuestFault {
    pub fn new(signo: i32, code: i32, addr: u64) -> GuestFault {
        GuestFault { signo, code, addr, trapno: 0, err: 0, detail: None }
    }

    /// SIGSEGV for a memory fault, with the x86 page-fault trap number and error code.
    pub fn from_mem(f: MemFault) -> GuestFault {
        let code = if f.mapped { sig::SEGV_ACCERR } else { sig::SEGV_MAPERR };
        // x86 #PF error code: bit0 present, bit1 write, bit2 user, bit4 instruction fetch.
        let err = (f.mapped as u64)
            | 4
            | match f.access {
                Access::Read => 0,
                Access::Write => 2,
                Access::Exec => 16,
            };
        GuestFault { signo: sig::SIGSEGV, code, addr: f.addr, trapno: 14, err, detail: None }
    }
}

impl From<MemFault> for GuestFault {
    fn from(f: MemFault) -> GuestFault {
        GuestFault::from_mem(f)
    }
}
