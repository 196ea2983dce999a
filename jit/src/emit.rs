//! Building blocks of translated code, independent of the guest ISA: the trampolines, the
//! budget check at a block's entry, instruction-count updates, helper calls, exits, chaining
//! through slots, the inline lookup of indirect targets, and the inline guest-memory check.
//!
//! Every sequence is position-independent (jumps inside a block are relative; helpers, slots
//! and tables are reached through absolute addresses in registers; the exit trampoline
//! through [`Ctx::exit`]), so a block assembled here can be copied anywhere in the cache.
//!
//! Register conventions inside translated code (all callee-saved, so they survive helper
//! calls): see [`STATE`], [`HOST_BASE`], [`FLAGS_BASE`], [`CTX`], [`BUDGET`], [`GUEST`].
//! `rax`, `rcx`, `rdx`, `rsi`, `rdi`, `r8`-`r11` are scratch and clobbered by helper calls.
//! The host stack is 16-byte aligned at every point of translated code, so helpers are
//! called directly.
//!
//! Guest state cached in registers: the instruction count lives in [`BUDGET`] (as `icount -
//! limit`, so the entry check is one compare) and the translator may keep more in
//! [`GUEST`] (x86-64 guests: the flags). Both are written back to the guest state before
//! every helper call and at every exit, and read again after every helper call and at
//! entry ([`Guest::spill`], [`Guest::reload`]), so helpers and the dispatcher always see
//! the exact state.

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
/// `rbp`: `icount - limit` (≤ 0 while the budget lasts); the icount in the guest state is
/// brought up to date from it at every helper call and exit.
pub const BUDGET: u8 = 5;
/// `r15`: the translator's own (x86-64 guests: the guest rflags).
pub const GUEST: u8 = 15;

const CTX_EXIT: i32 = offset_of!(Ctx, exit) as i32;
const CTX_MEM_SIZE: i32 = offset_of!(Ctx, mem_size) as i32;
const CTX_LOOKUP: i32 = offset_of!(Ctx, lookup) as i32;
const CTX_LINK: i32 = offset_of!(Ctx, link) as i32;

/// Where the guest's instruction count, the icount at which the run must stop and the
/// guest pc live, as byte offsets from the state pointer (all `u64`).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub icount: i32,
    pub limit: i32,
    pub pc: i32,
}

/// What the backend needs to know of a guest ISA's translator.
#[derive(Clone, Copy)]
pub struct Guest {
    pub layout: Layout,
    /// Emit code that writes the guest state the translator keeps in registers ([`GUEST`])
    /// back to the guest state. May use rcx, rdx, r8; must keep rax.
    pub spill: fn(&mut Asm),
    /// Emit code that loads it from the guest state. May use rcx, rdx, r8; must keep rax.
    pub reload: fn(&mut Asm),
}

fn spill_all(a: &mut Asm) {
    let Layout { icount, limit, .. } = a.guest.layout;
    dynasm!(a.ops
        ; .arch x64
        ; mov rcx, QWORD [rbx + limit]
        ; add rcx, rbp
        ; mov QWORD [rbx + icount], rcx
    );
    (a.guest.spill)(a);
}

fn reload_all(a: &mut Asm) {
    let Layout { icount, limit, .. } = a.guest.layout;
    dynasm!(a.ops
        ; .arch x64
        ; mov rbp, QWORD [rbx + icount]
        ; sub rbp, QWORD [rbx + limit]
    );
    (a.guest.reload)(a);
}

/// The entry and exit trampolines: the code, and the offset of the exit trampoline in it.
///
/// Entry: `extern "sysv64" fn(state, ctx, entry) -> u32` saves the callee-saved registers,
/// loads the pinned ones and the guest state kept in registers, and jumps to `entry`. Exit
/// (reached by `jmp [ctx.exit]` with the status in `eax`): writes that state back, restores
/// the registers and returns the status.
pub fn trampolines(guest: &Guest) -> (Vec<u8>, usize) {
    let mut a = Asm::new(guest);
    dynasm!(a.ops
        ; .arch x64
        ; push rbx
        ; push rbp
        ; push r12
        ; push r13
        ; push r14
        ; push r15
        // 6 pushes + the return address: 56 bytes; 8 more keep rsp 16-byte aligned.
        ; sub rsp, 8
        ; mov rbx, rdi
        ; mov r14, rsi
        ; mov r12, QWORD [r14 + offset_of!(Ctx, host_base) as i32]
        ; mov r13, QWORD [r14 + offset_of!(Ctx, flags_base) as i32]
        ; mov rax, rdx
    );
    reload_all(&mut a);
    dynasm!(a.ops ; .arch x64 ; jmp rax);
    let exit = a.offset();
    spill_all(&mut a);
    dynasm!(a.ops
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
    (a.ops.finalize().expect("trampolines assemble"), exit)
}

/// An assembler for one block, with the common sequences.
pub struct Asm {
    pub ops: VecAssembler<X64Relocation>,
    guest: Guest,
    /// Shared stub: leave translated code with the status already in `eax`.
    exit_eax: DynamicLabel,
    /// Entry-check failures to emit at the end: (label, guest pc of the block).
    deferred: Vec<(DynamicLabel, u64)>,
}

impl Asm {
    pub fn new(guest: &Guest) -> Asm {
        let mut ops = VecAssembler::new(0);
        let exit_eax = ops.new_dynamic_label();
        Asm { ops, guest: *guest, exit_eax, deferred: Vec::new() }
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
    /// otherwise set the guest pc to `start` (the block) and exit with [`EXIT_DISPATCH`]
    /// (the dispatcher lets the interpreter run the tail).
    pub fn entry_check(&mut self, n: u32, start: u64) {
        let fail = self.label();
        self.deferred.push((fail, start));
        dynasm!(self.ops
            ; .arch x64
            ; cmp rbp, -(n as i32)
            ; jg =>fail
        );
    }

    /// `icount += k` (k may be negative). Leaves the host flags alone.
    pub fn add_icount(&mut self, k: i32) {
        if k != 0 {
            dynasm!(self.ops ; .arch x64 ; lea rbp, [rbp + k]);
        }
    }

    /// Call `f(state, arg, ctx) -> u32` (SysV) with the guest state up to date; a non-zero
    /// result leaves translated code with that status. Clobbers every scratch register.
    pub fn call_helper(&mut self, f: usize, arg: u64) {
        let exit = self.exit_eax;
        spill_all(self);
        dynasm!(self.ops
            ; .arch x64
            ; mov rdi, rbx
            ; mov rsi, QWORD arg as i64
            ; mov rdx, r14
            ; mov rax, QWORD f as i64
            ; call rax
        );
        reload_all(self);
        dynasm!(self.ops
            ; .arch x64
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

    /// The stub a slot holds until its successor is chained: sets the guest pc to
    /// `target` and leaves translated code with [`EXIT_DISPATCH`], telling the dispatcher
    /// (through [`Ctx::link`]) which slot to chain once it has found the block for that pc.
    /// Reached only from [`Asm::jump_slot`] (which leaves the slot's address in `rax`).
    /// Returns the stub's offset in the block.
    pub fn link_stub(&mut self, target: u64) -> usize {
        let at = self.offset();
        let pc = self.guest.layout.pc;
        dynasm!(self.ops
            ; .arch x64
            ; mov QWORD [r14 + CTX_LINK], rax
            ; mov rax, QWORD target as i64
            ; mov QWORD [rbx + pc], rax
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
            ; cmp rax, QWORD [r14 + CTX_MEM_SIZE]
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
        let pc = self.guest.layout.pc;
        for (l, start) in std::mem::take(&mut self.deferred) {
            dynasm!(self.ops
                ; .arch x64
                ; =>l
                ; mov rax, QWORD start as i64
                ; mov QWORD [rbx + pc], rax
                ; mov eax, EXIT_DISPATCH as i32
                ; jmp QWORD [r14 + CTX_EXIT]
            );
        }
        dynasm!(self.ops
            ; .arch x64
            ; =>exit
            ; jmp QWORD [r14 + CTX_EXIT]
        );
        self.ops.finalize().expect("a translated block assembles")
    }
}
