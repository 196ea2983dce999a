//! x86-64 decoding through iced-x86.

use crate::{DecodeError, MAX_BLOCK_INSNS, PAGE_SIZE};
use iced_x86::{Code, Decoder, DecoderOptions, FlowControl, Instruction};

/// Longest x86 instruction in bytes.
pub const MAX_INSN_LEN: usize = 15;

/// A decoded block of x86-64 instructions.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Guest address of the first instruction.
    pub start: u64,
    /// Guest address just past the last instruction.
    pub end: u64,
    pub insns: Vec<Instruction>,
    /// Set when the block stopped at an undecodable instruction: executing up to it is fine,
    /// reaching it raises SIGILL (design §5). Holds its pc.
    pub invalid_at: Option<u64>,
}

/// Is this instruction the last of its block?
pub fn ends_block(ins: &Instruction) -> bool {
    match ins.flow_control() {
        FlowControl::Next => is_rep_string(ins),
        // Calls, returns, jumps, syscalls, interrupts, exceptions: all end a block.
        _ => true,
    }
}

/// REP/REPE/REPNE string instructions retire once per iteration (design §1) and so must end
/// a block: their next pc depends on the iteration count.
pub fn is_rep_string(ins: &Instruction) -> bool {
    (ins.has_rep_prefix() || ins.has_repne_prefix()) && ins.is_string_instruction()
}

/// Decode the block starting at `pc`. `fetch(addr, buf)` fills `buf` with the guest bytes at
/// `addr` and returns how many it could read (0 when `addr` is not executable).
pub fn decode_block(pc: u64, mut fetch: impl FnMut(u64, &mut [u8]) -> usize) -> Result<Block, DecodeError> {
    let mut block = Block { start: pc, end: pc, insns: Vec::with_capacity(8), invalid_at: None };
    let mut addr = pc;
    // The end of pc's page; 0 (wrapped) in the last page of the 64-bit space, where a wild
    // branch may land (no guest memory is there: the first fetch fails).
    let page_end = (pc & !(PAGE_SIZE - 1)).wrapping_add(PAGE_SIZE);
    loop {
        let mut buf = [0u8; MAX_INSN_LEN];
        let n = fetch(addr, &mut buf);
        if n == 0 {
            if block.insns.is_empty() {
                return Err(DecodeError::Fetch { pc: addr, addr });
            }
            break;
        }
        // Decode from a zero-padded buffer: if the instruction needs bytes past what could be
        // fetched, that is a fetch fault at the first unreadable byte, not an invalid opcode.
        let mut dec = Decoder::with_ip(64, &buf, addr, DecoderOptions::NONE);
        let ins = dec.decode();
        if !ins.is_invalid() && ins.len() > n {
            if block.insns.is_empty() {
                return Err(DecodeError::Fetch { pc: addr, addr: addr + n as u64 });
            }
            break;
        }
        if ins.is_invalid() {
            if block.insns.is_empty() {
                return Err(DecodeError::Invalid { pc: addr });
            }
            block.invalid_at = Some(addr);
            break;
        }
        debug_assert_ne!(ins.code(), Code::INVALID);
        addr = ins.next_ip();
        block.insns.push(ins);
        if ends_block(&ins) || block.insns.len() >= MAX_BLOCK_INSNS || addr >= page_end {
            break;
        }
    }
    block.end = addr;
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch_from(code: &'static [u8], base: u64) -> impl FnMut(u64, &mut [u8]) -> usize {
        move |addr, buf| {
            let off = (addr - base) as usize;
            if off >= code.len() {
                return 0;
            }
            let n = buf.len().min(code.len() - off);
            buf[..n].copy_from_slice(&code[off..off + n]);
            n
        }
    }

    #[test]
    fn block_ends_at_branch() {
        // add rax, rbx ; jmp +0 ; nop
        let b = decode_block(0x1000, fetch_from(&[0x48, 0x01, 0xd8, 0xeb, 0x00, 0x90], 0x1000)).unwrap();
        assert_eq!(b.insns.len(), 2);
        assert_eq!(b.end, 0x1005);
    }

    #[test]
    fn block_ends_at_rep_string() {
        // rep movsb ; nop
        let b = decode_block(0x1000, fetch_from(&[0xf3, 0xa4, 0x90], 0x1000)).unwrap();
        assert_eq!(b.insns.len(), 1);
    }

    #[test]
    fn invalid_first_instruction() {
        // ud0-ish invalid: 0x0f 0xff with no modrm
        let e = decode_block(0x1000, fetch_from(&[0x06], 0x1000)).unwrap_err();
        assert_eq!(e, DecodeError::Invalid { pc: 0x1000 });
    }

    #[test]
    fn truncated_is_fetch_fault() {
        let e = decode_block(0x1000, fetch_from(&[0x48, 0x01], 0x1000)).unwrap_err();
        assert!(matches!(e, DecodeError::Fetch { .. }));
    }
}
