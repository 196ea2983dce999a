//! x86-64 guest: state, operand access, flags, and the interpreter's handlers, one file per
//! instruction group. Every handler has the signature [`Handler`]; [`table`] maps each iced
//! `Mnemonic` to its handler and is the one list that dispatch, the JIT and tests read.

pub mod flags;
pub mod operands;
pub mod predecode;
pub mod state;
pub mod table;
#[cfg(test)]
pub mod testutil;

// Instruction groups (named after the SDM's chapters where possible).
pub mod alu;
pub mod atomic;
pub mod bit;
pub mod control;
pub mod data_move;
pub mod muldiv;
pub mod shift_rotate;
pub mod sse_fp;
pub mod sse_fp_convert;
pub mod sse_fp_state;
#[cfg(test)]
mod sse_fp_tests;
pub mod sse_int;
pub mod sse_move;
pub mod stack;
pub mod string;
pub mod system;
pub mod x87;
pub mod x87_host;

pub use state::X86State;

use crate::engine::{GuestFault, Machine};
use iced_x86::Instruction;

/// The x86-64 machine.
pub type M = Machine<X86State>;

pub use crate::engine::Trap;

pub type Res = Result<(), Trap>;

/// The one handler signature. On entry `m.cpu.rip` is already the address of the next
/// instruction (so rip-relative operands, calls and branches see the architectural value);
/// a handler that branches sets `m.cpu.rip`.
pub type Handler = fn(&mut M, &Instruction) -> Res;

/// SIGILL for an instruction the interpreter does not implement, with a diagnostic.
#[cold]
pub fn unimplemented(_m: &mut M, ins: &Instruction) -> Res {
    Err(Trap::Fault(sigill(ins, "unimplemented instruction")))
}

pub fn sigill(ins: &Instruction, why: &str) -> GuestFault {
    let mut f = GuestFault::new(crate::engine::sig::SIGILL, crate::engine::sig::ILL_ILLOPN, ins.ip());
    f.trapno = 6;
    f.detail = Some(format!("{why} `{}`", disasm(ins)));
    f
}

/// #GP in user mode: Linux reports SIGSEGV with si_code SI_KERNEL and si_addr 0.
pub fn gp_fault() -> Trap {
    let mut f = GuestFault::new(crate::engine::sig::SIGSEGV, crate::engine::sig::SI_KERNEL, 0);
    f.trapno = 13;
    Trap::Fault(f)
}

/// #UD.
pub fn ud(ins: &Instruction) -> Trap {
    Trap::Fault(sigill(ins, "invalid opcode"))
}

/// Intel-syntax disassembly of one instruction (diagnostics, --trace).
pub fn disasm(ins: &Instruction) -> String {
    use iced_x86::{Formatter, IntelFormatter};
    let mut f = IntelFormatter::new();
    f.options_mut().set_first_operand_char_index(0);
    let mut s = String::new();
    f.format(ins, &mut s);
    s
}
