//! The x86-64 reference interpreter: a pre-decoded block cache and a dispatch loop.
//!
//! Blocks come from `deja_decoders::x86::decode_block` (the block rule shared with the JIT).
//! Each decoded instruction carries its handler, so the hot loop is: look the block up in a
//! direct-mapped cache, then for each instruction set rip to its successor, call the handler,
//! count it retired.

use super::{Exit, GuestFault};
use crate::isa::x86_64::table::TABLE;
use crate::isa::x86_64::{sigill, Handler, Trap, M};
use crate::mem::PAGE_SIZE;
use ahash::AHashMap;
use deja_decoders::x86::{decode_block, Block};
use deja_decoders::DecodeError;
use iced_x86::Instruction;

/// One pre-decoded instruction.
#[derive(Clone)]
struct Op {
    ins: Instruction,
    handler: Handler,
}

struct CachedBlock {
    start: u64,
    ops: Vec<Op>,
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
    /// Print each retired instruction to stderr.
    pub trace: bool,
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
            trace: false,
        }
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
        let ops = block.insns.iter().map(|ins| Op { ins: *ins, handler: TABLE.get(ins.mnemonic()) }).collect();
        let id = self.blocks.len() as u32;
        let first_page = block.start & !(PAGE_SIZE - 1);
        let last_page = (block.end.max(block.start + 1) - 1) & !(PAGE_SIZE - 1);
        let mut p = first_page;
        loop {
            m.mem.mark_code(p);
            self.by_page.entry(p).or_default().push(id);
            if p >= last_page {
                break;
            }
            p += PAGE_SIZE;
        }
        // An undecodable instruction after the block is found again (and reported) when
        // execution reaches it and a block is decoded starting there.
        self.blocks.push(CachedBlock { start: pc, ops });
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
        loop {
            if m.icount >= m.limit {
                return Exit::Budget;
            }
            if m.mem.has_code_writes() {
                let pages = m.mem.take_code_writes();
                self.invalidate_pages(&pages);
            }
            let pc = m.cpu.rip;
            let id = match self.lookup(m, pc) {
                Ok(id) => id,
                Err(f) => return Exit::Fault(f),
            };
            let block = &self.blocks[id as usize];
            let mut room = (m.limit - m.icount).min(block.ops.len() as u64) as usize;
            if STOPS {
                // Run only up to the first instruction of the block at a stop address.
                let end = block.ops[room - 1].ins.next_ip();
                for &stop in stops[stops.partition_point(|&a| a < pc)..].iter().take_while(|&&a| a < end) {
                    if let Some(k) = block.ops[..room].iter().position(|op| op.ins.ip() == stop) {
                        if k == 0 {
                            return Exit::Budget;
                        }
                        room = k;
                        break;
                    }
                }
            }
            for op in &block.ops[..room] {
                if self.trace {
                    trace_insn(m, &op.ins);
                }
                m.cpu.rip = op.ins.next_ip();
                match (op.handler)(m, &op.ins) {
                    Ok(()) => m.icount += 1,
                    Err(t) => return finish_trap(m, &op.ins, t),
                }
                // A write to a code page (possibly this very block) ends the block: the next
                // instruction must be decoded afresh.
                if m.mem.has_code_writes() {
                    break;
                }
            }
        }
    }
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
fn finish_trap(m: &mut M, ins: &Instruction, t: Trap) -> Exit {
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
