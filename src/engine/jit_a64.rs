//! The JIT for AArch64 guests (`--engine=jit`): translates the interpreter's blocks (the same
//! decoded instructions with the same handlers, design §5) into host code with the
//! `deja-jit` backend, as `jit_x86.rs` does for x86-64 guests.
//!
//! Each instruction is either inlined as host code (`jit_a64_inline.rs`: moves, add/sub,
//! logical, compares, conditional selects, bitfield moves, shifts, multiply-add, PC-relative
//! addresses, branches, and the general-register loads and stores with the inline memory
//! check of design §6) or a call to [`helper_op`], which runs the instruction's interpreter
//! handler exactly as the interpreter's loop does. An inlined load or store whose access is
//! not on the fast path (outside the window, crossing a page, a page without the read or
//! fast-write bit, SP misaligned, a tagged address) calls the same helper, which performs the
//! whole instruction as the interpreter does and may fault.
//!
//! A block is entered only when the budget covers it (the check is at its entry); otherwise
//! the interpreter runs the tail. The instruction count in memory lags behind by the number
//! of inlined instructions since it was last brought up to date, a number known at
//! translation time: it is added before every helper call and every exit, so helpers, traps
//! and exits see exactly the interpreter's icount. The guest pc in memory is written only
//! where something can observe it: by helpers (as the interpreter's loop does) and at exits.

use super::interp_a64::{decode_ops, finish_trap, InterpA64, Op};
use super::jit_a64_inline as inline;
use super::jit_x86::{cache_size, MIN_CACHE_SIZE};
use super::{Exit, GuestFault};
use crate::isa::aarch64::{A64State, M};
use crate::mem::PAGE_SIZE;
use deja_jit::emit::{Asm, Guest, Layout};
use deja_jit::{new_slots, Block, Blocks, CodeCache, Ctx, Lookup, EXIT_DISPATCH, EXIT_TRAP};
use std::mem::offset_of;

/// Blocks kept before everything is flushed (bounds the ops' memory too).
const MAX_BLOCKS: usize = 1 << 17;

/// Byte offsets of guest state in `M`, for translated code.
pub(super) mod off {
    use super::*;
    pub const ICOUNT: i32 = offset_of!(M, icount) as i32;
    pub const LIMIT: i32 = offset_of!(M, limit) as i32;
    const CPU: usize = offset_of!(M, cpu);
    pub const PC: i32 = (CPU + offset_of!(A64State, pc)) as i32;
    pub const SP: i32 = (CPU + offset_of!(A64State, sp)) as i32;
    pub const NZCV: i32 = (CPU + offset_of!(A64State, nzcv)) as i32;
    pub const FPCR: i32 = (CPU + offset_of!(A64State, fpcr)) as i32;
    pub const FPSR: i32 = (CPU + offset_of!(A64State, fpsr)) as i32;
    /// V register `n` (0..=31).
    pub const fn v(n: u32) -> i32 {
        (CPU + offset_of!(A64State, v) + 16 * (n as usize % 32)) as i32
    }
    /// X register `n` (0..=30).
    pub const fn x(n: u32) -> i32 {
        (CPU + offset_of!(A64State, x) + 8 * (n as usize % 31)) as i32
    }
}

/// What the backend needs of this translator: where icount, limit and pc live. No guest
/// state is kept in the backend's `GUEST` register (NZCV lives in the guest state).
pub(super) const GUEST: Guest =
    Guest { layout: Layout { icount: off::ICOUNT, limit: off::LIMIT, pc: off::PC }, spill: nothing, reload: nothing };

fn nothing(_: &mut Asm) {}

/// The run's context: the backend's [`Ctx`] first (translated code's `r14` points here),
/// then what the helpers need.
#[repr(C)]
struct RunCtx {
    ctx: Ctx,
    /// Why a helper stopped the run ([`EXIT_TRAP`]).
    trap: Option<Exit>,
}

/// What a translated block keeps alive: the ops its code points to.
type Meta = Box<[Op]>;

pub struct JitA64 {
    cache: CodeCache,
    blocks: Blocks<Meta>,
    lookup: Lookup,
    rc: Box<RunCtx>,
    /// Blocks translated since the engine was made (statistics).
    pub translated: u64,
}

// SAFETY: the raw pointers a JitA64 holds (block entries, slots, the ops its code refers to)
// point into memory it owns exclusively (its code cache, its blocks); nothing is shared
// with another thread, and the engine is only ever used by one thread at a time.
unsafe impl Send for JitA64 {}

impl Default for JitA64 {
    fn default() -> Self {
        Self::new()
    }
}

impl JitA64 {
    pub fn new() -> JitA64 {
        Self::with_cache_size(cache_size())
    }

    /// A JIT whose code cache holds `bytes` (at least [`MIN_CACHE_SIZE`]).
    pub fn with_cache_size(bytes: usize) -> JitA64 {
        let cache = CodeCache::new(bytes.max(MIN_CACHE_SIZE), &GUEST).expect("map the JIT code cache");
        let mut lookup = Lookup::new();
        let ctx = Ctx {
            host_base: 0,
            flags_base: 0,
            mem_size: 0,
            exit: cache.exit_addr(),
            lookup: lookup.as_ptr(),
            link: 0,
            user: 0,
        };
        JitA64 { cache, blocks: Blocks::new(), lookup, rc: Box::new(RunCtx { ctx, trap: None }), translated: 0 }
    }

    /// Times the code cache was flushed because it was full (or too many blocks).
    pub fn flushes(&self) -> u64 {
        self.cache.flushes
    }

    /// Drop every translation.
    pub fn flush(&mut self) {
        self.blocks.clear();
        self.lookup.clear();
        self.rc.ctx.link = 0;
        self.cache.flush();
    }

    fn invalidate(&mut self, pages: &[u64]) {
        self.blocks.invalidate_pages(pages, PAGE_SIZE);
        // Translated code may hold a dropped block's entry in the lookup table, and the
        // pending link may name a dropped block's slot.
        self.lookup.clear();
        self.rc.ctx.link = 0;
    }

    /// Run at most `budget` instructions (design §2), with the interpreter for what the
    /// budget does not cover.
    pub fn run(&mut self, interp: &mut InterpA64, m: &mut M, budget: u64) -> Exit {
        if !interp.drained.is_empty() {
            let pages = std::mem::take(&mut interp.drained);
            self.invalidate(&pages);
        }
        m.limit = m.icount.saturating_add(budget);
        self.rc.ctx.host_base = m.mem.host_base() as usize;
        self.rc.ctx.flags_base = m.mem.flags_base() as usize;
        self.rc.ctx.mem_size = m.mem.size();
        self.rc.ctx.link = 0;
        loop {
            if m.icount >= m.limit {
                return Exit::Budget;
            }
            if m.mem.has_code_writes() {
                let pages = m.mem.take_code_writes();
                interp.invalidate_pages(&pages);
                self.invalidate(&pages);
            }
            let pc = m.cpu.pc;
            let (entry, len) = match self.blocks.get(pc) {
                Some(b) => (b.entry, b.len),
                None => match self.translate(m, pc) {
                    Ok(x) => x,
                    Err(f) => return Exit::Fault(f),
                },
            };
            if self.rc.ctx.link != 0 {
                // SAFETY: `link` is the address of a slot of a live block (it is reset
                // whenever blocks are dropped), and slots are `Cell`s.
                unsafe { (*(self.rc.ctx.link as *const std::cell::Cell<usize>)).set(entry as usize) };
                self.rc.ctx.link = 0;
            }
            if m.limit - m.icount < len as u64 {
                // The budget does not cover the block: the interpreter runs the tail.
                let r = interp.run(m, m.limit - m.icount);
                if !interp.drained.is_empty() {
                    let pages = std::mem::take(&mut interp.drained);
                    self.invalidate(&pages);
                }
                return r;
            }
            self.lookup.insert(pc, entry);
            let state = m as *mut M as *mut u8;
            // SAFETY: `entry` is a block installed since the last flush, translated for
            // this state layout; `rc` lives (boxed) across the call; every op, slot and
            // table the code refers to is owned by `self.blocks`/`self.lookup` and none is
            // dropped while translated code runs (only the dispatcher drops them).
            let status = unsafe { self.cache.enter(state, &mut self.rc.ctx, entry) };
            match status {
                EXIT_DISPATCH => {}
                EXIT_TRAP => return self.rc.trap.take().expect("a helper stashed the trap"),
                s => unreachable!("translated code exited with status {s}"),
            }
        }
    }

    #[cold]
    fn translate(&mut self, m: &mut M, pc: u64) -> Result<(*const u8, u32), GuestFault> {
        if self.blocks.len() >= MAX_BLOCKS {
            self.flush();
        }
        let d = decode_ops(m, pc)?;
        for p in d.pages() {
            m.mem.mark_code(p);
        }
        let pages: Vec<u64> = d.pages().collect();
        let ops: Meta = d.ops.into_boxed_slice();
        let slots = new_slots(2);
        let (code, stubs) = translate_block(pc, &ops, &slots);
        let entry = match self.cache.install(&code) {
            Some(e) => e,
            None => {
                self.flush();
                self.cache.install(&code).expect("a block fits in an empty code cache")
            }
        };
        let stubs: Box<[usize]> = stubs.iter().map(|&o| entry as usize + o).collect();
        let len = ops.len() as u32;
        let b = Block { start: pc, entry, len, slots, stubs, meta: ops };
        b.unchain();
        self.blocks.insert(b, pages);
        self.translated += 1;
        Ok((entry, len))
    }
}

/// Translate one block: returns its code and the offsets of its slots' stubs.
fn translate_block(pc: u64, ops: &[Op], slots: &[std::cell::Cell<usize>]) -> (Vec<u8>, Vec<usize>) {
    let mut a = Asm::new(&GUEST);
    a.entry_check(ops.len() as u32, pc);
    let mut t = inline::Translator::new(slots, helper_op as *const () as usize);
    for op in ops.iter() {
        if !t.inline(&mut a, op) {
            t.call(&mut a, op);
        }
    }
    if !t.ended() {
        // The last instruction was not an inlined branch: the pc in guest state is its
        // successor or a helper's branch target.
        let last = ops.last().expect("a block has an instruction");
        t.exit_to_state_pc(&mut a, last.d.pc + 4);
    }
    t.slow_paths(&mut a);
    let succ = t.successors();
    let stubs = (0..slots.len()).map(|i| a.link_stub(succ[i])).collect();
    (a.finish(), stubs)
}

/// Run one instruction through its interpreter handler, exactly as the interpreter's loop
/// does. Returns 0 to go on, [`EXIT_DISPATCH`] after a write to a code page (the instruction
/// retired; the block must end), or [`EXIT_TRAP`] with the exit stashed in the context.
extern "sysv64" fn helper_op(m: *mut M, op: *const Op, ctx: *mut Ctx) -> u32 {
    // SAFETY: translated code passes the state pointer the dispatcher gave it (a live
    // `&mut M` not otherwise used during the call), an op owned by the running block, and
    // the run's context, which is the `ctx` field at offset 0 of a `RunCtx`.
    let (m, op, rc) = unsafe { (&mut *m, &*op, &mut *(ctx as *mut RunCtx)) };
    m.cpu.pc = op.d.pc + 4;
    match (op.handler)(m, &op.d) {
        Ok(()) => {
            m.icount += 1;
            if m.mem.has_code_writes() {
                EXIT_DISPATCH
            } else {
                0
            }
        }
        Err(t) => {
            rc.trap = Some(finish_trap(m, &op.d, t));
            EXIT_TRAP
        }
    }
}
