//! AArch64 guest: state, operand access, flags, and the interpreter's handlers, one file per
//! instruction class (named after the Arm ARM's top-level encoding groups). Every handler has
//! the signature [`Handler`]; [`table`] maps each yaxpeax `Opcode` to its handler.

pub mod flags;
pub mod operands;
pub mod state;
pub mod table;

// Instruction classes.
pub mod atomic;
pub mod branch;
pub mod dp_imm;
pub mod dp_reg;
pub mod fp;
pub mod fp_arith;
pub mod fp_convert;
pub mod fp_core;
#[cfg(test)]
pub mod fp_oracle;
pub mod loadstore;
pub mod loadstore_simd;
pub mod simd;
pub mod simd_crypto;
pub mod simd_decode;
pub mod simd_elem;
pub mod simd_ext;
pub mod simd_fp;
pub mod simd_int;
pub mod simd_shift;
pub mod system;

pub use crate::engine::Trap;
pub use deja_decoders::aarch64::Decoded;
pub use state::A64State;

use crate::engine::{GuestFault, Machine};

/// The AArch64 machine.
pub type M = Machine<A64State>;

pub type Res = Result<(), Trap>;

/// The one handler signature. On entry `m.cpu.pc` is already the address of the next
/// instruction (`d.pc + 4`); PC-relative operands use `d.pc`; a branch sets `m.cpu.pc`.
pub type Handler = fn(&mut M, &Decoded) -> Res;

/// SIGILL for an instruction the interpreter does not implement, with a diagnostic.
#[cold]
pub fn unimplemented(_m: &mut M, d: &Decoded) -> Res {
    Err(Trap::Fault(sigill(d, "unimplemented instruction")))
}

/// SIGILL with ILL_ILLOPC, as Linux arm64 reports an undefined instruction (qemu-user reports
/// ILL_ILLOPN; deja follows the kernel).
pub fn sigill(d: &Decoded, why: &str) -> GuestFault {
    let mut f = GuestFault::new(crate::engine::sig::SIGILL, crate::engine::sig::ILL_ILLOPC, d.pc);
    f.detail = Some(format!("{why} `{}` ({:08x})", d.ins, d.word));
    f
}

/// SIGILL for an unallocated/undefined encoding.
pub fn undefined(d: &Decoded) -> Trap {
    Trap::Fault(sigill(d, "undefined instruction"))
}

/// SIGBUS with BUS_ADRALN for a misaligned access that A64 requires aligned (exclusives,
/// ordered accesses, atomics), and for an SP-based access with SP not 16-byte aligned (Linux
/// sets SCTLR_EL1.SA0; si_addr is then SP).
pub fn alignment_fault(addr: u64) -> Trap {
    let f = GuestFault::new(crate::engine::sig::SIGBUS, 1 /* BUS_ADRALN */, addr);
    Trap::Fault(f)
}

/// Disassembly of one instruction (diagnostics, --trace).
pub fn disasm(d: &Decoded) -> String {
    d.ins.to_string()
}
