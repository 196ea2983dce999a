//! The AArch64 instruction table: yaxpeax `Opcode` tag → handler. Each class file registers
//! its opcodes; anything unregistered raises SIGILL with a diagnostic.
//!
//! yaxpeax-arm names some general-register and Advanced SIMD instructions with the same
//! opcode (ADD SUB AND ORR EOR ORN BIC CLZ CLS RBIT REV16 REV32: `add x0, x1, x2` and
//! `add v0.4s, v1.4s, v2.4s` are both `Opcode::ADD`). The integer class registers those with
//! [`Table::add`], the SIMD class with [`Table::add_simd`]; [`Table::handler`] picks the SIMD
//! one when the first operand is a SIMD&FP register.

use super::{unimplemented, Handler};
use deja_decoders::aarch64::{opcode_tag, Instruction, Opcode, Operand};
use std::sync::LazyLock;

/// Room for every yaxpeax-arm opcode tag.
pub const OPCODES: usize = 1024;

pub struct Table {
    handlers: Vec<Handler>,
    implemented: Vec<bool>,
    /// Handlers of the SIMD&FP forms of opcodes shared with general-register forms.
    simd: Vec<Option<Handler>>,
}

/// Opcodes yaxpeax-arm 0.3 uses for both general-register and SIMD&FP instructions.
#[inline]
pub fn is_shared(op: &Opcode) -> bool {
    use Opcode::*;
    matches!(op, ADD | SUB | AND | ORR | EOR | ORN | BIC | CLZ | CLS | RBIT | REV16 | REV32)
}

/// Is this operand a SIMD&FP register (scalar, vector, lane or list)?
#[inline]
pub fn is_simd_operand(op: &Operand) -> bool {
    matches!(
        op,
        Operand::SIMDRegister(..)
            | Operand::SIMDRegisterElements(..)
            | Operand::SIMDRegisterElementsLane(..)
            | Operand::SIMDRegisterElementsMultipleLane(..)
            | Operand::SIMDRegisterGroup(..)
            | Operand::SIMDRegisterGroupLane(..)
    )
}

impl Table {
    /// Register `h` for each opcode (payloads such as `Bcc(cond)` are ignored: the tag is
    /// the key). Registering one twice is a bug.
    pub fn add(&mut self, ops: &[Opcode], h: Handler) {
        for op in ops {
            let i = opcode_tag(op) as usize;
            assert!(i < OPCODES, "opcode tag {i} out of range");
            assert!(!self.implemented[i], "opcode {op:?} registered twice");
            self.handlers[i] = h;
            self.implemented[i] = true;
        }
    }

    /// Register `h` for the SIMD&FP forms (first operand a SIMD&FP register) of opcodes that
    /// also name general-register instructions. Registering one twice is a bug.
    pub fn add_simd(&mut self, ops: &[Opcode], h: Handler) {
        for op in ops {
            let i = opcode_tag(op) as usize;
            assert!(i < OPCODES, "opcode tag {i} out of range");
            assert!(self.simd[i].is_none(), "SIMD form of {op:?} registered twice");
            self.simd[i] = Some(h);
        }
    }

    /// The handler of a decoded instruction (what the engines use).
    #[inline]
    pub fn handler(&self, ins: &Instruction) -> Handler {
        if is_simd_operand(&ins.operands[0]) && is_shared(&ins.opcode) {
            return self.simd.get(opcode_tag(&ins.opcode) as usize).copied().flatten().unwrap_or(unimplemented);
        }
        self.get(&ins.opcode)
    }

    /// Is the instruction implemented (its form: general-register or SIMD&FP)?
    pub fn is_implemented_ins(&self, ins: &Instruction) -> bool {
        if is_simd_operand(&ins.operands[0]) && is_shared(&ins.opcode) {
            return self.simd.get(opcode_tag(&ins.opcode) as usize).is_some_and(|h| h.is_some());
        }
        self.is_implemented(&ins.opcode)
    }

    /// The handler registered for an opcode with [`Table::add`] (engines use
    /// [`Table::handler`], which also knows the SIMD&FP forms of shared opcodes).
    #[inline]
    pub fn get(&self, op: &Opcode) -> Handler {
        self.handlers.get(opcode_tag(op) as usize).copied().unwrap_or(unimplemented)
    }

    pub fn is_implemented(&self, op: &Opcode) -> bool {
        self.implemented.get(opcode_tag(op) as usize).copied().unwrap_or(false)
    }
}

fn build() -> Table {
    let mut t = Table {
        handlers: vec![unimplemented as Handler; OPCODES],
        implemented: vec![false; OPCODES],
        simd: vec![None; OPCODES],
    };
    super::branch::register(&mut t);
    super::dp_imm::register(&mut t);
    super::dp_reg::register(&mut t);
    super::loadstore::register(&mut t);
    super::atomic::register(&mut t);
    super::system::register(&mut t);
    super::fp::register(&mut t);
    super::simd::register(&mut t);
    t
}

/// The table, built once.
pub static TABLE: LazyLock<Table> = LazyLock::new(build);
