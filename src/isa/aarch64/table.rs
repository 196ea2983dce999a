//! The AArch64 instruction table: yaxpeax `Opcode` tag → handler. Each class file registers
//! its opcodes; anything unregistered raises SIGILL with a diagnostic.

use super::{unimplemented, Handler};
use deja_decoders::aarch64::{opcode_tag, Opcode};
use std::sync::LazyLock;

/// Room for every yaxpeax-arm opcode tag.
pub const OPCODES: usize = 1024;

pub struct Table {
    handlers: Vec<Handler>,
    implemented: Vec<bool>,
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

    #[inline]
    pub fn get(&self, op: &Opcode) -> Handler {
        self.handlers.get(opcode_tag(op) as usize).copied().unwrap_or(unimplemented)
    }

    pub fn is_implemented(&self, op: &Opcode) -> bool {
        self.implemented.get(opcode_tag(op) as usize).copied().unwrap_or(false)
    }
}

fn build() -> Table {
    let mut t = Table { handlers: vec![unimplemented as Handler; OPCODES], implemented: vec![false; OPCODES] };
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
