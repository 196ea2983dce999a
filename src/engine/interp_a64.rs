//! The AArch64 reference interpreter: blocks from `deja_decoders::aarch64` (the block rule
//! shared with the JIT), each instruction stored with its handler, and the same dispatch and
//! icount contract as the x86-64 interpreter (design §2).

use super::block_cache::BlockCache;
use super::{Exit, GuestFault};
use crate::isa::aarch64::table::TABLE;
use crate::isa::aarch64::{Decoded, Handler, Trap, M};
use deja_decoders::aarch64::decode_block;
use deja_decoders::DecodeError;

struct Op {
    d: Decoded,
    handler: Handler,
}

#[derive(Default)]
pub struct InterpA64 {
    cache: BlockCache<Op>,
    /// Print each retired instruction to stderr.
    pub trace: bool,
}

impl InterpA64 {
    pub fn new() -> InterpA64 {
        InterpA64::default()
    }

    #[cold]
    fn translate(&mut self, m: &mut M, pc: u64) -> Result<u32, GuestFault> {
        let block = match decode_block(pc, |a, buf| m.mem.fetch(a, buf)) {
            Ok(b) => b,
            Err(DecodeError::Fetch { addr, .. }) => {
                return Err(GuestFault::from_mem(crate::mem::MemFault {
                    addr,
                    access: crate::mem::Access::Exec,
                    mapped: m.mem.page_flags(addr) & crate::mem::flags::MAPPED != 0,
                }))
            }
            Err(DecodeError::Invalid { pc }) => {
                let mut w = [0u8; 4];
                m.mem.fetch(pc, &mut w);
                // ILL_ILLOPC, as Linux arm64 (see `isa::aarch64::sigill`).
                let mut f = GuestFault::new(super::sig::SIGILL, super::sig::ILL_ILLOPC, pc);
                f.detail = Some(format!("undefined or unsupported instruction {:08x}", u32::from_le_bytes(w)));
                return Err(f);
            }
        };
        let ops = block.insns.iter().map(|d| Op { d: *d, handler: TABLE.handler(&d.ins) }).collect();
        Ok(self.cache.insert(&mut m.mem, block.start, block.end, ops))
    }

    /// Run at most `budget` instructions (design §2).
    pub fn run(&mut self, m: &mut M, budget: u64) -> Exit {
        m.limit = m.icount.saturating_add(budget);
        loop {
            if m.icount >= m.limit {
                return Exit::Budget;
            }
            if m.mem.has_code_writes() {
                let pages = m.mem.take_code_writes();
                self.cache.invalidate_pages(&pages);
            }
            let pc = m.cpu.pc;
            let id = match self.cache.lookup(pc) {
                Some(id) => id,
                None => match self.translate(m, pc) {
                    Ok(id) => id,
                    Err(f) => return Exit::Fault(f),
                },
            };
            let ops = self.cache.ops(id);
            let room = (m.limit - m.icount).min(ops.len() as u64) as usize;
            for op in &ops[..room] {
                if self.trace {
                    eprintln!("{:>10} {:#014x}  {}", m.icount, op.d.pc, op.d.ins);
                }
                m.cpu.pc = op.d.pc + 4;
                match (op.handler)(m, &op.d) {
                    Ok(()) => m.icount += 1,
                    Err(t) => return finish_trap(m, &op.d, t),
                }
                if m.mem.has_code_writes() {
                    break;
                }
            }
        }
    }
}

#[cold]
fn finish_trap(m: &mut M, d: &Decoded, t: Trap) -> Exit {
    match t {
        Trap::Fault(f) => {
            m.cpu.pc = d.pc;
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
