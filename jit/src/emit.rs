//! Building blocks of translated code, independent of the guest ISA: the trampolines, the
//! budget check at a block's entry, instruction-count updates, helper calls, exits, chaining
//! through slots, the inline lookup of indirect targets, and the inline guest-memory check.
//!
//! Every sequence is position-independent (jumps inside a block are relative; helpers, slots
//! and tables are reached through absolute addresses in registers; the exit trampoline
//! through [`Ctx::exit`]), so a block assembled here can be copied anywhere in the cache.
//!
//! Register conventions inside translated code (all callee-saved, so they survive helper
//! calls): see [`STATE`], [`HOST_BASE`], [`FLAGS_BASE`], [`CTX`], [`MEM_SIZE`]. `rax`, `rcx`,
//! `rdx`, `rsi`, `rdi`, `r8`-`r11` are scratch and clobbered by helper calls. The host stack
//! is 16-byte aligned at every point of translated code, so helpers are called directly.

use crate::{Ctx, EXIT_DISPATCH, LOOKUP_SLOTS};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use std::mem::offset_of;

/// `rbx`: the guest state (the pointer given to [`crate::CodeCache::enter`]); guest fields
/// are addressed by their offset from it.
pub const STATE: u8 = 3;
/// `r12`: host address of guest address 0 (`Ctx::host_base`).
pub const HOST_BASE: u8 = 12;
/// `r13`: host address of the guest page-flags table (`Ctx::flags_base`).
pub const FLAGS_BASE: u8 = 13;
/// `r14`: the [`Ctx`] of the run.
pub const CTX: u8 = 14;
/// `r15`: size of the guest address window (`Ctx::mem_size`).
pub const MEM_SIZE: u8 = 15;
/// `[rsp + SCRATCH]`: 8 bytes translated code may use as scratch between helper calls (the
/// entry trampoline's alignment pad; helpers are called below it). E.g. for `stmxcsr`.
pub const SCRATCH: i32 = 0;

const CTX_EXIT: i32 = offset_of!(Ctx, exit) as i32;
const CTX_LOOKUP: i32 = offset_of!(Ctx, lookup) as i32;
const CTX_LINK: i32 = offset_of!(Ctx, link) as i32;

/// Where the guest's instruction count and the icount at which the run must stop live,
/// as byte offsets from the state pointer (both `u64`).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub icount: i32,
    pub limit: i32,
}

/// The entry and exit trampolines: the code, and the offset of the exit trampoline in it.
///
/// Entry: `extern "sysv64" fn(state, ctx, entry) -> u32` saves the callee-saved registers,
/// loads the pinned ones and jumps to `entry`. Exit (reached by `jmp [ctx.exit]` with the
/// status in `eax`): restores them and returns the status.
pub fn trampolines() -> (Vec<u8>, usize) {
    let mut a = VecAssembler::<X64Relocation>::new(0);
    dynasm!(a
        ; .arch x64
        ; push rbx
        ; push rbp
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        // 6 pushes + the return address: 56 bytes; 8 more keep rsp 16-byte aligned (and
        // are the translated code's scratch slot, `SCRATCH`).
        ; sub rsp, 8
        ; mov rbx, rdi
        ; mov r14, rsi
        ; mov r12, QWORD [r14 + offset_of!(Ctx, host_base) as i32]
        ; mov r13, QWORD [r14 + offset_of!(Ctx, flags_base) as i32]
        ; mov r15, QWORD [r14 + offset_of!(Ctx, mem_size) as i32]
        ; jmp rdx
    );
    let exit = a.offset().0;
    dynasm!(a
        ; .arch x64
        ; add rsp, 8
        ; pop r15
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbp
        ; pop rbx
        ; ret
    );
    (a.finalize().expect("trampolines assemble"), exit)
}

/// An assembler for one block, with the common sequences.
pub struct Asm {
    pub ops: VecAssembler<X64Relocation>,
    layout: Layout,
    /// Shared stub: leave translated code with the status already in `eax`.
    exit_eax: DynamicLabel,
}

impl Asm {
    pub fn new(layout: Layout) -> Asm {
        let mut ops = VecAssembler::new(0);
        let exit_eax = ops.new_dynamic_label();
        Asm { ops, layout, exit_eax }
    }

    pub fn label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    pub fn bind(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; =>l);
    }

    /// Current offset in the block (for slot stubs: the caller turns it into an address
    /// once the block is installed).
    pub fn offset(&self) -> usize {
        self.ops.offset().0
    }

    /// The budget check at a block's entry: continue only if `limit - icount >= n`,
    /// otherwise exit with [`EXIT_DISPATCH`] (the dispatcher lets the interpreter run the
    /// tail). The guest pc must already name the block.
    pub fn entry_check(&mut self, n: u32) {
        let Layout { icount, limit } = self.layout;
        let ok = self.label();
        dynasm!(self.ops
            ; .arch x64
            ; mov rax, QWORD [rbx + limit]
            ; sub rax, QWORD [rbx + icount]
            ; cmp rax, n as i32
            ; jae =>ok
            ; mov eax, EXIT_DISPATCH as i32
            ; jmp QWORD [r14 + CTX_EXIT]
            ; =>ok
        );
    }

    /// `icount += k` (k may be negative).
    pub fn add_icount(&mut self, k: i32) {
        if k != 0 {
            let off = self.layout.icount;
            dynasm!(self.ops ; .arch x64 ; add QWORD [rbx + off], k);
        }
    }

    /// Call `f(state, arg, ctx) -> u32` (SysV); a non-zero result leaves translated code with
    /// that status. Clobbers every scratch register.
    pub fn call_helper(&mut self, f: usize, arg: u64) {
        let exit = self.exit_eax;
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, rbx
            ; mov rsi, QWORD arg as i64
            ; mov rdx, r14
            ; mov rax, QWORD f as i64
            ; call rax
            ; test eax, eax
            ; jnz =>exit
        );
    }

    /// Leave translated code with `status`.
    pub fn exit(&mut self, status: u32) {
        dynasm!(self.ops
            ; .arch x64
            ; mov eax, status as i32
            ; jmp QWORD [r14 + CTX_EXIT]
        );
    }

    /// Jump to the address held in the slot at host address `slot` (a chained successor's
    /// entry, or a stub that exits to the dispatcher). Slots are plain data: chaining and
    /// unchaining write them, never the code.
    pub fn jump_slot(&mut self, slot: *const usize) {
        dynasm!(self.ops
            ; .arch x64
            ; mov rax, QWORD slot as i64
            ; jmp QWORD [rax]
        );
    }

    /// The stub a slot holds until its successor is chained: leaves translated code with
    /// [`EXIT_DISPATCH`], telling the dispatcher (through [`Ctx::link`]) which slot to chain
    /// once it has found the block for the guest pc. Reached only from [`Asm::jump_slot`]
    /// (which leaves the slot's address in `rax`). Returns the stub's offset in the block.
    pub fn link_stub(&mut self) -> usize {
        let at = self.offset();
        dynasm!(self.ops
            ; .arch x64
            ; mov QWORD [r14 + CTX_LINK], rax
            ; mov eax, EXIT_DISPATCH as i32
            ; jmp QWORD [r14 + CTX_EXIT]
        );
        at
    }

    /// Jump to the block for the guest pc in `rax` through the lookup table in
    /// [`Ctx::lookup`] (see [`crate::Lookup`]), or exit with [`EXIT_DISPATCH`] on a miss.
    /// The guest pc must already be stored in the guest state. Clobbers rcx, rdx.
    pub fn jump_lookup(&mut self) {
        let miss = self.label();
        dynasm!(self.ops
            ; .arch x64
            ; mov rdx, QWORD [r14 + CTX_LOOKUP]
            ; mov rcx, rax
            ; shr rcx, 12
            ; xor rcx, rax
            ; and ecx, (LOOKUP_SLOTS - 1) as i32
            ; shl ecx, 4
            ; cmp QWORD [rdx + rcx], rax
            ; jne =>miss
            ; jmp QWORD [rdx + rcx + 8]
            ; =>miss
            ; mov eax, EXIT_DISPATCH as i32
            ; jmp QWORD [r14 + CTX_EXIT]
        );
    }

    /// The inline guest-memory check (design §6) for an access of `size` bytes at the guest
    /// address in `rax`: inside the window, not crossing a page, and the page's flags byte
    /// has every bit of `need` (the read bit for loads, the fast-write bit for stores).
    /// Jumps to `slow` otherwise. On the fast path, the host address is `[r12 + rax]`.
    /// Clobbers rcx.
    pub fn check_access(&mut self, size: u32, need: u8, slow: DynamicLabel) {
        dynasm!(self.ops
            ; .arch x64
            ; cmp rax, r15
            ; jae =>slow
            ; mov ecx, eax
            ; and ecx, 0xfff
            ; cmp ecx, (0x1000 - size) as i32
            ; ja =>slow
            ; mov rcx, rax
            ; shr rcx, 12
            ; test BYTE [r13 + rcx], need as i8
            ; jz =>slow
        );
    }

    /// Finish the block: the shared stubs, then the machine code.
    pub fn finish(mut self) -> Vec<u8> {
        let exit = self.exit_eax;
        dynasm!(self.ops
            ; .arch x64
            ; =>exit
            ; jmp QWORD [r14 + CTX_EXIT]
        );
        self.ops.finalize().expect("a translated block assembles")
    }
}
