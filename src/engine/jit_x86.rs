//! The JIT for x86-64 guests (`--engine=jit`): translates the interpreter's blocks (the same
//! decoded and pre-decoded ops, design §5) into host code with the `deja-jit` backend.
//!
//! Each instruction is either inlined as host code (`jit_x86_inline.rs`: the hot integer
//! set) or a call to [`helper_op`], which runs the op's interpreter handler exactly as the
//! interpreter's loop does. A block is entered only when the budget covers it (the check is
//! at its entry); otherwise the interpreter runs the tail. The instruction count in memory
//! lags behind by the number of inlined instructions since it was last brought up to date,
//! a number known at translation time: it is added before every helper call and every exit,
//! so helpers, traps and exits see exactly the interpreter's icount.

use super::interp_x86::{decode_ops, finish_trap, InterpX86};
use super::jit_x86_inline as inline;
use super::{Exit, GuestFault};
use crate::isa::x86_64::predecode::Op;
use crate::isa::x86_64::{X86State, M};
use crate::mem::PAGE_SIZE;
use deja_jit::dynasmrt::{dynasm, DynasmApi};
use deja_jit::emit::{Asm, Guest, Layout};
use deja_jit::{new_slots, Block, Blocks, CodeCache, Ctx, Lookup, EXIT_DISPATCH, EXIT_TRAP};
use iced_x86::{FlowControl, OpKind};
use std::mem::offset_of;

/// Default size of the code cache (`DEJA_JIT_CACHE_SIZE` overrides it, in bytes, with an
/// optional `k`/`m` suffix).
pub const DEFAULT_CACHE_SIZE: usize = 32 << 20;
/// Smallest code cache (a block of the longest kind must fit).
pub const MIN_CACHE_SIZE: usize = 12 << 10;
/// Blocks kept before everything is flushed (bounds the ops' memory too).
const MAX_BLOCKS: usize = 1 << 17;

/// Byte offsets of guest state in `M`, for translated code.
pub(super) mod off {
    use super::*;
    pub const ICOUNT: i32 = offset_of!(M, icount) as i32;
    pub const LIMIT: i32 = offset_of!(M, limit) as i32;
    const CPU: usize = offset_of!(M, cpu);
    pub const RIP: i32 = (CPU + offset_of!(X86State, rip)) as i32;
    pub const RFLAGS: i32 = (CPU + offset_of!(X86State, rflags)) as i32;
    /// Guest GPR `n`.
    pub const fn gpr(n: u8) -> i32 {
        (CPU + offset_of!(X86State, gpr) + 8 * (n as usize & 15)) as i32
    }
    /// Guest XMM register `n`.
    pub const fn xmm(n: usize) -> i32 {
        (CPU + offset_of!(X86State, xmm) + 16 * (n & 15)) as i32
    }
}

/// What the backend needs of this translator: where icount, limit and rip live, and the
/// guest flags kept in `r15` (see `jit_x86_inline.rs`).
pub(super) const GUEST: Guest = Guest {
    layout: Layout { icount: off::ICOUNT, limit: off::LIMIT, pc: off::RIP },
    spill: spill_flags,
    reload: reload_flags,
};

/// r15 holds the guest status flags in `lahf`/`seto` layout (`jit_x86_inline::F_*`): merge
/// them into the guest rflags.
fn spill_flags(a: &mut Asm) {
    use crate::isa::x86_64::state::fl::{OF, STATUS};
    dynasm!(a.ops
        ; .arch x64
        ; mov ecx, r15d
        ; shr ecx, 8
        ; and ecx, (STATUS & !OF) as i32
        ; mov edx, r15d
        ; and edx, 1
        ; shl edx, OF.trailing_zeros() as i8
        ; or ecx, edx
        ; mov rdx, QWORD [rbx + off::RFLAGS]
        ; and rdx, !(STATUS as i32)
        ; or rdx, rcx
        ; mov QWORD [rbx + off::RFLAGS], rdx
    );
}

/// The guest status flags into r15, in `lahf`/`seto` layout.
fn reload_flags(a: &mut Asm) {
    use crate::isa::x86_64::state::fl::{OF, STATUS};
    dynasm!(a.ops
        ; .arch x64
        ; mov rcx, QWORD [rbx + off::RFLAGS]
        ; mov edx, ecx
        ; and edx, (STATUS & !OF) as i32
        ; shl edx, 8
        ; shr ecx, OF.trailing_zeros() as i8
        ; and ecx, 1
        ; or edx, ecx
        ; mov r15d, edx
    );
}

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

pub struct JitX86 {
    cache: CodeCache,
    blocks: Blocks<Meta>,
    lookup: Lookup,
    rc: Box<RunCtx>,
    /// `DEJA_JIT_PERFMAP` set: where each block's host code is, for `perf report`
    /// (`/tmp/perf-PID.map`).
    perf_map: Option<std::fs::File>,
    /// Blocks translated since the engine was made (statistics).
    pub translated: u64,
}

// SAFETY: the JIT owns its code cache, blocks (with the raw entry pointers into the cache)
// and context exclusively; nothing in it is shared with another thread, and it moves between
// threads only as a whole, with the process that owns it.
unsafe impl Send for JitX86 {}

impl Default for JitX86 {
    fn default() -> Self {
        Self::new()
    }
}

/// The code cache size from `DEJA_JIT_CACHE_SIZE`, or the default.
pub(super) fn cache_size() -> usize {
    let Some(v) = std::env::var_os("DEJA_JIT_CACHE_SIZE") else { return DEFAULT_CACHE_SIZE };
    let s = v.to_string_lossy().trim().to_ascii_lowercase();
    let (num, mul) = match s.as_bytes().last() {
        Some(b'k') => (&s[..s.len() - 1], 1 << 10),
        Some(b'm') => (&s[..s.len() - 1], 1 << 20),
        _ => (&s[..], 1),
    };
    num.parse::<usize>().map(|n| n.saturating_mul(mul)).unwrap_or(DEFAULT_CACHE_SIZE).max(MIN_CACHE_SIZE)
}

impl JitX86 {
    pub fn new() -> JitX86 {
        Self::with_cache_size(cache_size())
    }

    /// A JIT whose code cache holds `bytes` (at least [`MIN_CACHE_SIZE`]).
    pub fn with_cache_size(bytes: usize) -> JitX86 {
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
        let perf_map = std::env::var_os("DEJA_JIT_PERFMAP").filter(|v| !v.is_empty() && v != "0").and_then(|_| {
            let path = format!("/tmp/perf-{}.map", std::process::id());
            std::fs::OpenOptions::new().create(true).append(true).open(path).ok()
        });
        JitX86 {
            cache,
            blocks: Blocks::new(),
            lookup,
            rc: Box::new(RunCtx { ctx, trap: None }),
            perf_map,
            translated: 0,
        }
    }

    /// Times the code cache was flushed because it was full (or too many blocks).
    pub fn flushes(&self) -> u64 {
        self.cache.flushes
    }

    /// Size of the code cache in bytes.
    pub fn capacity(&self) -> usize {
        self.cache.capacity()
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
        // Translated code may hold a dropped block's entry in the lookup table or the
        // pending link may name a dropped block's slot.
        self.lookup.clear();
        self.rc.ctx.link = 0;
    }

    /// Run at most `budget` instructions (design §2), with the interpreter for what the
    /// budget does not cover.
    pub fn run(&mut self, interp: &mut InterpX86, m: &mut M, budget: u64) -> Exit {
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
            let pc = m.cpu.rip;
            let (entry, len) = match self.blocks.get(pc) {
                Some(b) => (b.entry, b.len),
                None => match self.translate(m, pc, interp.specialized()) {
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
    fn translate(&mut self, m: &mut M, pc: u64, specialize: bool) -> Result<(*const u8, u32), GuestFault> {
        if self.blocks.len() >= MAX_BLOCKS {
            self.flush();
        }
        let d = decode_ops(m, pc, specialize)?;
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
        if let Some(f) = &mut self.perf_map {
            use std::io::Write;
            let _ = writeln!(f, "{:x} {:x} guest_{pc:x}", entry as usize, code.len());
        }
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
    let mut t = inline::Translator::new(&mut a, ops);
    let (last, body) = ops.split_last().expect("a block has an instruction");
    for op in body {
        if !t.inline(&mut a, op) {
            t.helper(&mut a, op);
        }
    }
    let native_branch = inline::Translator::is_inline_branch(last);
    if !native_branch && !t.inline(&mut a, last) {
        t.helper(&mut a, last);
    }
    // The block's successors when its last instruction is not a native branch: rip is in
    // guest state. Direct branches chain to their targets, anything else to the next
    // instruction, and every other pc goes through the lookup table.
    let ins = &last.ins;
    let direct = matches!(ins.op0_kind(), OpKind::NearBranch16 | OpKind::NearBranch32 | OpKind::NearBranch64);
    let succ: Vec<u64> = match ins.flow_control() {
        FlowControl::ConditionalBranch if direct => vec![ins.near_branch_target(), ins.next_ip()],
        FlowControl::UnconditionalBranch | FlowControl::Call if direct => vec![ins.near_branch_target()],
        FlowControl::Next | FlowControl::Exception | FlowControl::Interrupt => vec![ins.next_ip()],
        _ => vec![],
    };
    t.end(&mut a, last, !native_branch, slots, &succ);
    let stubs = (0..slots.len()).map(|i| a.link_stub(succ.get(i).copied().unwrap_or(0))).collect();
    (a.finish(), stubs)
}

/// Run one op through its interpreter handler, exactly as the interpreter's loop does for a
/// block that runs to its end (`Op::lite`: flag writes the block proves dead are skipped).
/// Returns 0 to go on, [`EXIT_DISPATCH`] after a write to a code page (the instruction
/// retired; the block must end), or [`EXIT_TRAP`] with the exit stashed in the context.
pub(super) extern "sysv64" fn helper_op(m: *mut M, op: *const Op, ctx: *mut Ctx) -> u32 {
    // SAFETY: translated code passes the state pointer the dispatcher gave it (a live
    // `&mut M` not otherwise used during the call), an op owned by the running block, and
    // the run's context, which is the `ctx` field at offset 0 of a `RunCtx`.
    let (m, op, rc) = unsafe { (&mut *m, &*op, &mut *(ctx as *mut RunCtx)) };
    m.cpu.rip = op.next_ip;
    match (op.lite)(m, op) {
        Ok(()) => {
            m.icount += 1;
            if m.mem.has_code_writes() {
                EXIT_DISPATCH
            } else {
                0
            }
        }
        Err(t) => {
            rc.trap = Some(finish_trap(m, &op.ins, *t));
            EXIT_TRAP
        }
    }
}
