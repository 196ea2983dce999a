//! Native translation of the hot x86-64 instructions (x86 on x86: the host instruction
//! computes the guest result and flags), for the JIT (`jit_x86.rs`). Everything else is a
//! call to the interpreter's handler.

use super::jit_x86::off;
use crate::isa::x86_64::predecode::Op;
use deja_jit::dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};
use deja_jit::emit::Asm;
use std::cell::Cell;

/// Translation state within one block.
pub struct Translator {
    /// Inlined instructions retired since the icount in memory was last brought up to date.
    pending: i32,
}

impl Translator {
    pub fn new() -> Translator {
        Translator { pending: 0 }
    }

    /// Bring the icount in memory up to date.
    pub fn sync_icount(&mut self, a: &mut Asm) {
        a.add_icount(self.pending);
        self.pending = 0;
    }

    /// Emit `op` natively if it is one of the inlined forms; false leaves it to a helper.
    pub fn inline(&mut self, _a: &mut Asm, _op: &Op) -> bool {
        false
    }
}

/// Leave the block for the guest pc in guest state: through slot `i` when it is `succ[i]`,
/// else through the lookup table. The icount must be up to date.
pub fn exit_to(a: &mut Asm, succ: &[u64], slots: &[Cell<usize>]) {
    dynasm!(a.ops ; .arch x64 ; mov rax, QWORD [rbx + off::RIP]);
    for (pc, slot) in succ.iter().zip(slots) {
        let next = a.label();
        dynasm!(a.ops
            ; .arch x64
            ; mov rcx, QWORD *pc as i64
            ; cmp rax, rcx
            ; jne =>next
        );
        a.jump_slot(slot.as_ptr());
        a.bind(next);
    }
    a.jump_lookup();
}
