//! The AArch64 instruction table: yaxpeax `Opcode` tag → handler. Each class file registers
//! its opcodes; anything unregistered raises SIGILL with a diagnostic.
//!
//! yaxpeax gives several opcodes to both an integer and a vector instruction (`ADD`, `AND`,
//! `ORR`, `EOR`, `BIC`, `ORN`, `MUL`, `NEG`, `REV16`, `CLZ`…), so the table has two halves:
//! the top-level encoding group "Data Processing -- Scalar Floating-Point and Advanced SIMD"
//! (bits 28:25 = x111, see [`is_simd_fp`]) has its own map, filled with [`Table::add_simd_fp`]
//! by the fp*/simd* files; every other instruction uses the map filled with [`Table::add`].
//! (SIMD&FP loads and stores are in the load/store group and use the general map.)

use super::{unimplemented, Decoded, Handler};
use deja_decoders::aarch64::{opcode_tag, Opcode};
use std::sync::LazyLock;

/// Room for every yaxpeax-arm opcode tag.
pub const OPCODES: usize = 1024;

pub struct Table {
    handlers: Vec<Handler>,
    implemented: Vec<bool>,
    simd_fp_handlers: Vec<Handler>,
    simd_fp_implemented: Vec<bool>,
}

/// Is `word` in the top-level group "Data Processing -- Scalar Floating-Point and Advanced
/// SIMD" (op0 = bits 28:25 = x111)?
#[inline(always)]
pub fn is_simd_fp(word: u32) -> bool {
    (word >> 25) & 7 == 7
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

    /// Register `h` for each opcode of the SIMD&FP data-processing group (see the module doc).
    pub fn add_simd_fp(&mut self, ops: &[Opcode], h: Handler) {
        for op in ops {
            let i = opcode_tag(op) as usize;
            assert!(i < OPCODES, "opcode tag {i} out of range");
            assert!(!self.simd_fp_implemented[i], "SIMD&FP opcode {op:?} registered twice");
            self.simd_fp_handlers[i] = h;
            self.simd_fp_implemented[i] = true;
        }
    }

    /// The handler of a decoded instruction (the dispatch loop's lookup).
    #[inline]
    pub fn handler(&self, d: &Decoded) -> Handler {
        if is_simd_fp(d.word) {
            self.simd_fp_handlers.get(opcode_tag(&d.ins.opcode) as usize).copied().unwrap_or(unimplemented)
        } else {
            self.get(&d.ins.opcode)
        }
    }

    /// Is the instruction `word`, decoded as opcode `op`, implemented?
    pub fn implements(&self, word: u32, op: &Opcode) -> bool {
        if is_simd_fp(word) {
            self.simd_fp_implemented.get(opcode_tag(op) as usize).copied().unwrap_or(false)
        } else {
            self.is_implemented(op)
        }
    }

    /// The handler of `op` outside the SIMD&FP data-processing group.
    #[inline]
    pub fn get(&self, op: &Opcode) -> Handler {
        self.handlers.get(opcode_tag(op) as usize).copied().unwrap_or(unimplemented)
    }

    /// Is `op` implemented outside the SIMD&FP data-processing group?
    pub fn is_implemented(&self, op: &Opcode) -> bool {
        self.implemented.get(opcode_tag(op) as usize).copied().unwrap_or(false)
    }
}

fn build() -> Table {
    let mut t = Table {
        handlers: vec![unimplemented as Handler; OPCODES],
        implemented: vec![false; OPCODES],
        simd_fp_handlers: vec![unimplemented as Handler; OPCODES],
        simd_fp_implemented: vec![false; OPCODES],
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
