//! The x86-64 reference interpreter: a pre-decoded block cache and a dispatch loop.
//!
//! Blocks come from `deja_decoders::x86::decode_block` (the block rule shared with the JIT).
//! Each decoded instruction is pre-decoded into an [`Op`] carrying its handler (specialised
//! for its operand form when the table has a specializer for it), so the hot loop is: look
//! the block up in a direct-mapped cache, then for each instruction set rip to its successor,
//! call the handler, count it retired.

use super::{Exit, GuestFault};
use crate::isa::x86_64::predecode::{elide_dead_flags, predecode, FastHandler, Op};
use crate::isa::x86_64::table::TABLE;
use crate::isa::x86_64::{sigill, Trap, M};
use crate::mem::PAGE_SIZE;
use ahash::AHashMap;
use deja_decoders::x86::{decode_block, Block};
use deja_decoders::DecodeError;
use iced_x86::Instruction;

struct CachedBlock {
    start: u64,
    ops: Vec<Op>,
    /// The last two distinct successors seen: (pc, block id, epoch made in). A link is
    /// followed only while `epoch` is current: every invalidation or flush starts a new one.
    links: [(u64, u32, u32); 2],
}

/// Direct-mapped lookup in front of the hash map: no hashing on the hot path.
const FAST_SLOTS: usize = 4096;

/// The interpreter engine for x86-64 guests.
pub struct InterpX86 {
    blocks: Vec<CachedBlock>,
    by_pc: AHashMap<u64, u32>,
    /// Blocks by the guest pages they were decoded from, for invalidation.
    by_page: AHashMap<u64, Vec<u32>>,
    fast: Box<[(u64, u32)]>,
    /// Bumped whenever blocks are dropped, which invalidates every block link.
    epoch: u32,
    /// Print each retired instruction to stderr.
    pub trace: bool,
    /// Keep the pages of code writes this engine drained (in `drained`), for another engine
    /// sharing the memory (the JIT) to invalidate its own translations of them.
    pub keep_drained: bool,
    pub drained: Vec<u64>,
    /// Use the table's specialised handlers (the default). Off, every instruction runs its
    /// reference table handler: a debugging and testing switch (`DEJA_INTERP_GENERIC=1`)
    /// that must not change any result.
    specialize: bool,
}

impl Default for InterpX86 {
    fn default() -> Self {
        Self::new()
    }
}

const NO_BLOCK: u32 = u32::MAX;

impl InterpX86 {
    pub fn new() -> InterpX86 {
        InterpX86 {
            blocks: Vec::new(),
            by_pc: AHashMap::new(),
            by_page: AHashMap::new(),
            fast: vec![(u64::MAX, NO_BLOCK); FAST_SLOTS].into_boxed_slice(),
            epoch: 0,
            trace: false,
            keep_drained: false,
            drained: Vec::new(),
            specialize: std::env::var_os("DEJA_INTERP_GENERIC").is_none_or(|v| v.is_empty() || v == "0"),
        }
    }

    /// Turn specialised handlers on or off (see [`InterpX86::specialized`]); drops every
    /// decoded block.
    pub fn set_specialize(&mut self, on: bool) {
        self.specialize = on;
        self.flush();
    }

    /// Are specialised handlers in use?
    pub fn specialized(&self) -> bool {
        self.specialize
    }

    /// Drop every cached block decoded from the given guest pages.
    pub fn invalidate_pages(&mut self, pages: &[u64]) {
        for &p in pages {
            if let Some(ids) = self.by_page.remove(&(p & !(PAGE_SIZE - 1))) {
                for id in ids {
                    let start = self.blocks[id as usize].start;
                    if self.by_pc.get(&start) == Some(&id) {
                        self.by_pc.remove(&start);
                    }
                }
            }
        }
        self.fast.fill((u64::MAX, NO_BLOCK));
        self.epoch = self.epoch.wrapping_add(1);
        if self.by_pc.is_empty() {
            self.blocks.clear();
            self.by_page.clear();
        }
    }

    /// Forget every decoded block.
    pub fn flush(&mut self) {
        self.blocks.clear();
        self.by_pc.clear();
        self.by_page.clear();
        self.fast.fill((u64::MAX, NO_BLOCK));
        self.epoch = self.epoch.wrapping_add(1);
    }

    #[inline]
    fn lookup(&mut self, m: &mut M, pc: u64) -> Result<u32, GuestFault> {
        let slot = (pc as usize ^ (pc as usize >> 12)) & (FAST_SLOTS - 1);
        let (tag, id) = self.fast[slot];
        if tag == pc && id != NO_BLOCK {
            return Ok(id);
        }
        let id = match self.by_pc.get(&pc) {
            Some(&id) => id,
            None => self.translate(m, pc)?,
        };
        self.fast[slot] = (pc, id);
        Ok(id)
    }

    #[cold]
    fn translate(&mut self, m: &mut M, pc: u64) -> Result<u32, GuestFault> {
        if self.blocks.len() > 1 << 20 {
            self.flush(); // bound memory for guests that generate endless code
        }
        let block = decode_ops(m, pc, self.specialize)?;
        let id = self.blocks.len() as u32;
        for p in block.pages() {
            m.mem.mark_code(p);
            self.by_page.entry(p).or_default().push(id);
        }
        // An undecodable instruction after the block is found again (and reported) when
        // execution reaches it and a block is decoded starting there.
        self.blocks.push(CachedBlock { start: pc, ops: block.ops, links: [(u64::MAX, NO_BLOCK, 0); 2] });
        self.by_pc.insert(pc, id);
        Ok(id)
    }

    /// Run at most `budget` instructions (design §2).
    pub fn run(&mut self, m: &mut M, budget: u64) -> Exit {
        self.run_inner::<false>(m, budget, &[])
    }

    /// Like `run`, but return `Exit::Budget` before executing an instruction whose address
    /// is in `stops` (sorted), the first one included: the debugger's breakpoints, checked
    /// once per block (a block holding a stop address runs only up to it).
    pub fn run_stops(&mut self, m: &mut M, budget: u64, stops: &[u64]) -> Exit {
        self.run_inner::<true>(m, budget, stops)
    }

    #[inline(always)]
    fn run_inner<const STOPS: bool>(&mut self, m: &mut M, budget: u64, stops: &[u64]) -> Exit {
        m.limit = m.icount.saturating_add(budget);
        if self.trace {
            self.run_blocks::<true, STOPS>(m, stops)
        } else {
            self.run_blocks::<false, STOPS>(m, stops)
        }
    }

    #[inline(always)]
    fn run_blocks<const TRACE: bool, const STOPS: bool>(&mut self, m: &mut M, stops: &[u64]) -> Exit {
        // The block that ran last (to follow or make its link to the next) and its epoch.
        let (mut prev, mut prev_epoch) = (NO_BLOCK, self.epoch);
        loop {
            if m.icount >= m.limit {
                return Exit::Budget;
            }
            if m.mem.has_code_writes() {
                let pages = m.mem.take_code_writes();
                self.invalidate_pages(&pages);
                if self.keep_drained {
                    self.drained.extend_from_slice(&pages);
                }
            }
            let pc = m.cpu.rip;
            let id = match self.follow(prev, prev_epoch, pc) {
                Some(id) => id,
                None => match self.lookup(m, pc) {
                    Ok(id) => {
                        self.link(prev, prev_epoch, pc, id);
                        id
                    }
                    Err(f) => return Exit::Fault(f),
                },
            };
            let ops = &self.blocks[id as usize].ops[..];
            let mut room = (m.limit - m.icount).min(ops.len() as u64) as usize;
            if STOPS {
                // Run only up to the first instruction of the block at a stop address.
                let end = ops[room - 1].ins.next_ip();
                for &stop in stops[stops.partition_point(|&a| a < pc)..].iter().take_while(|&&a| a < end) {
                    if let Some(k) = ops[..room].iter().position(|op| op.ins.ip() == stop) {
                        if k == 0 {
                            return Exit::Budget;
                        }
                        room = k;
                        break;
                    }
                }
            }
            // A block that runs to its end may skip flag writes proven dead within it
            // (`Op::lite`); one cut short (budget, stop address) runs every write (`Op::fast`).
            let r = if room == ops.len() && !TRACE {
                run_ops::<false>(m, ops, |op| op.lite)
            } else {
                run_ops::<TRACE>(m, &ops[..room], |op| op.fast)
            };
            if let Err(exit) = r {
                return exit;
            }
            (prev, prev_epoch) = (id, self.epoch);
        }
    }

    /// The block linked from `prev` for `pc`, if `prev` has a current link to it.
    #[inline(always)]
    fn follow(&self, prev: u32, prev_epoch: u32, pc: u64) -> Option<u32> {
        if prev == NO_BLOCK || prev_epoch != self.epoch {
            return None;
        }
        let links = &self.blocks[prev as usize].links;
        for &(lpc, id, epoch) in links {
            // An empty slot is (u64::MAX, NO_BLOCK, 0): a jump to rip u64::MAX in epoch 0
            // matches it (found by the elf_load fuzz target).
            if lpc == pc && epoch == self.epoch && id != NO_BLOCK {
                return Some(id);
            }
        }
        None
    }

    /// Remember that `id` (at `pc`) followed `prev`, if `prev` is still a current block.
    #[inline]
    fn link(&mut self, prev: u32, prev_epoch: u32, pc: u64, id: u32) {
        if prev != NO_BLOCK && prev_epoch == self.epoch {
            let links = &mut self.blocks[prev as usize].links;
            links[1] = links[0];
            links[0] = (pc, id, self.epoch);
        }
    }
}

/// Run `ops` in order (calling `pick(op)`), retiring each, until one traps or writes to a
/// code page.
#[inline(always)]
fn run_ops<const TRACE: bool>(m: &mut M, ops: &[Op], pick: impl Fn(&Op) -> FastHandler) -> Result<(), Exit> {
    for op in ops {
        if TRACE {
            trace_insn(m, &op.ins);
        }
        m.cpu.rip = op.next_ip;
        match pick(op)(m, op) {
            Ok(()) => m.icount += 1,
            Err(t) => return Err(finish_trap(m, &op.ins, *t)),
        }
        // A write to a code page (possibly this very block) ends the block: the next
        // instruction must be decoded afresh.
        if m.mem.has_code_writes() {
            break;
        }
    }
    Ok(())
}

/// A guest block decoded and pre-decoded into ops, as both x86-64 engines run it.
pub struct DecodedOps {
    /// Guest bytes `[start, end)` the block was decoded from.
    pub start: u64,
    pub end: u64,
    pub ops: Vec<Op>,
}

impl DecodedOps {
    /// The guest pages (page addresses) the block's bytes lie on.
    pub fn pages(&self) -> impl Iterator<Item = u64> {
        let first = self.start & !(PAGE_SIZE - 1);
        let last = (self.end.max(self.start + 1) - 1) & !(PAGE_SIZE - 1);
        (first..=last).step_by(PAGE_SIZE as usize)
    }
}

/// Decode the block at `pc` (the shared block rule, design §5) and pre-decode its
/// instructions: each op gets its table handler, its specialised handler when `specialize`
/// and the table has one for its form, and its flag-less twin where the block proves its
/// flags dead. The caller marks the pages as code.
pub fn decode_ops(m: &M, pc: u64, specialize: bool) -> Result<DecodedOps, GuestFault> {
    let block: Block = match decode_block(pc, |a, buf| m.mem.fetch(a, buf)) {
        Ok(b) => b,
        Err(DecodeError::Fetch { addr, .. }) => {
            let mut f = GuestFault::from_mem(crate::mem::MemFault {
                addr,
                access: crate::mem::Access::Exec,
                mapped: m.mem.page_flags(addr) & crate::mem::flags::MAPPED != 0,
            });
            // A fetch fault reports the faulting instruction's pc as si_addr when the
            // instruction itself starts on the bad page, as Linux does.
            f.addr = addr;
            return Err(f);
        }
        Err(DecodeError::Invalid { pc }) => return Err(invalid_opcode(m, pc)),
    };
    let mut ops = Vec::with_capacity(block.insns.len());
    let mut specs = Vec::with_capacity(block.insns.len());
    for ins in &block.insns {
        let mut op = predecode(ins, TABLE.get(ins.mnemonic()));
        let spec = if specialize { TABLE.specializer(ins.mnemonic()).and_then(|s| s(&op)) } else { None };
        if let Some(spec) = spec {
            op.fast = spec.exact;
        }
        specs.push(spec);
        ops.push(op);
    }
    elide_dead_flags(&mut ops, &specs);
    Ok(DecodedOps { start: block.start, end: block.end, ops })
}

/// SIGILL for bytes the decoder rejects, naming them.
fn invalid_opcode(m: &M, pc: u64) -> GuestFault {
    let mut bytes = [0u8; 15];
    let n = m.mem.fetch(pc, &mut bytes);
    let hex: Vec<String> = bytes[..n.min(8)].iter().map(|b| format!("{b:02x}")).collect();
    let mut f = GuestFault::new(super::sig::SIGILL, super::sig::ILL_ILLOPN, pc);
    f.trapno = 6;
    f.detail = Some(format!("invalid or unsupported instruction bytes [{}]", hex.join(" ")));
    f
}

/// Turn a handler's trap into an exit, fixing up rip and icount per design §1.
#[cold]
pub fn finish_trap(m: &mut M, ins: &Instruction, t: Trap) -> Exit {
    match t {
        Trap::Fault(mut f) => {
            m.cpu.rip = ins.ip();
            if f.signo == super::sig::SIGILL && f.detail.is_none() {
                f = sigill(ins, "invalid instruction");
            }
            if let Some(d) = f.detail.take() {
                f.detail = Some(format!("{d} (bytes {})", insn_bytes(m, ins)));
            }
            Exit::Fault(f)
        }
        Trap::Syscall => Exit::Syscall,
        Trap::Env(e) => Exit::Env(e),
        Trap::TrapAfter(f) => {
            m.icount += 1;
            Exit::Fault(f)
        }
    }
}

fn insn_bytes(m: &M, ins: &Instruction) -> String {
    let mut b = [0u8; 15];
    let n = m.mem.fetch(ins.ip(), &mut b).min(ins.len());
    b[..n].iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

fn trace_insn(m: &M, ins: &Instruction) {
    eprintln!("{:>10} {:#014x}  {}", m.icount, ins.ip(), crate::isa::x86_64::disasm(ins));
}

#[cfg(test)]
mod tests {
    use crate::linux::process::Options;
    use crate::world::{EndStatus, HostCall, Quiet, RealWorld, Virtual, World};
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    /// A deterministic world that asks for a checkpoint every `every` instructions and keeps
    /// the (icount, state digest) of each, and of the end.
    struct Checkpoints {
        inner: Quiet<Virtual<RealWorld>>,
        every: u64,
        seen: Arc<Mutex<Vec<(u64, u64)>>>,
    }

    impl World for Checkpoints {
        fn syscall(&mut self, icount: u64, call: &HostCall) -> i64 {
            self.inner.syscall(icount, call)
        }
        fn tsc(&mut self, icount: u64) -> u64 {
            self.inner.tsc(icount)
        }
        fn random(&mut self, icount: u64, buf: &mut [u8]) {
            self.inner.random(icount, buf)
        }
        fn pending_signal(&mut self, icount: u64) -> Option<i32> {
            self.inner.pending_signal(icount)
        }
        fn checkpoint(&mut self, icount: u64, digest: u64) {
            self.seen.lock().unwrap().push((icount, digest));
        }
        fn checkpoint_every(&self) -> Option<u64> {
            Some(self.every)
        }
        fn end(&mut self, icount: u64, _status: EndStatus, digest: u64) {
            self.seen.lock().unwrap().push((icount, digest));
        }
    }

    /// Run the demo guest to its end with or without specialised handlers, stopping every
    /// `every` instructions for a state digest; returns the exit code and the digests.
    fn run_demo(specialize: bool, every: u64) -> (i32, Vec<(u64, u64)>) {
        let image = crate::demo::demo_elf().unwrap();
        let argv = vec![b"demo".to_vec()];
        let seen = Arc::new(Mutex::new(Vec::new()));
        let world = Box::new(Checkpoints { inner: Quiet(Virtual::new(RealWorld, 0, 7)), every, seen: seen.clone() });
        let mut p = crate::linux::start_image::<crate::linux::arch_x86_64::X86_64>(
            "demo",
            &image,
            Path::new("/demo"),
            &argv,
            &[],
            world,
            Options::default(),
        )
        .unwrap();
        p.engine.set_specialize(specialize);
        let out = p.run().unwrap();
        let seen = seen.lock().unwrap().clone();
        (out.exit_code(), seen)
    }

    /// Stop addresses inside blocks: every stop is reached in the same state (registers and
    /// icount) with specialised handlers as with the reference ones, although the blocks that
    /// hold them otherwise run with skipped flag writes.
    #[test]
    fn stops_inside_blocks_see_the_same_state() {
        use crate::linux::process::Advance;
        let image = crate::demo::demo_elf().unwrap();
        let start = |specialize: bool| {
            let world = Box::new(Quiet(Virtual::new(RealWorld, 0, 7)));
            let mut p = crate::linux::start_image::<crate::linux::arch_x86_64::X86_64>(
                "demo",
                &image,
                Path::new("/demo"),
                &[b"demo".to_vec()],
                &[],
                world,
                Options::default(),
            )
            .unwrap();
            p.engine.set_specialize(specialize);
            p
        };
        // Stop at each cmp/test that follows a flag-writing instruction in the first 400
        // from the entry point: the flags of that instruction are dead when its block runs to
        // its end, and observable at the stop.
        let mut p = start(true);
        let mut code = vec![0u8; 4096];
        let entry = p.m.cpu.rip;
        p.m.mem.peek(entry, &mut code).unwrap();
        let insns: Vec<_> = iced_x86::Decoder::with_ip(64, &code, entry, iced_x86::DecoderOptions::NONE)
            .into_iter()
            .take(400)
            .collect();
        use iced_x86::Mnemonic as Mn;
        let mut stops: Vec<u64> = insns
            .windows(2)
            .filter(|w| {
                matches!(w[1].mnemonic(), Mn::Cmp | Mn::Test)
                    && matches!(w[0].mnemonic(), Mn::Add | Mn::Sub | Mn::Inc | Mn::Dec | Mn::And | Mn::Or | Mn::Xor)
            })
            .map(|w| w[1].ip())
            .collect();
        assert!(!stops.is_empty());
        stops.sort_unstable();
        let mut r = start(false);
        for n in 0..20_000 {
            let (a, b) = (p.advance(u64::MAX, &stops), r.advance(u64::MAX, &stops));
            assert_eq!((p.m.icount, p.m.cpu), (r.m.icount, r.m.cpu), "state at stop {n}");
            match (a, b) {
                (Advance::Stop, Advance::Stop) => {}
                (Advance::Ended(x), Advance::Ended(y)) => {
                    assert_eq!(x.unwrap(), y.unwrap());
                    assert!(n > 100, "only {n} stops");
                    return;
                }
                _ => panic!("runs disagree at stop {n}"),
            }
        }
        assert!(p.m.icount > 50_000, "stopped at icount {}", p.m.icount);
    }

    /// Specialised handlers (and the flag writes they skip) are an optimisation only: a whole
    /// guest run passes through the same states, at every budget boundary, with them and
    /// without them. The checkpoint interval, a prime, makes budgets end at every position
    /// inside blocks.
    #[test]
    fn specialised_and_reference_handlers_agree_at_every_budget_boundary() {
        let (code, fast) = run_demo(true, 9973);
        let (_, reference) = run_demo(false, 9973);
        assert_eq!(code, 0);
        assert!(fast.len() > 1000, "{} checkpoints", fast.len());
        assert_eq!(fast.len(), reference.len());
        for (f, r) in fast.iter().zip(&reference) {
            assert_eq!(f, r, "state digest at icount {} differs", r.0);
        }
    }
}
