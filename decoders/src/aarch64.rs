//! AArch64 (A64) decoding through yaxpeax-arm.

use crate::{DecodeError, MAX_BLOCK_INSNS, PAGE_SIZE};
use yaxpeax_arch::{Decoder, U8Reader};
pub use yaxpeax_arm::armv8::a64::{
    InstDecoder, Instruction, Opcode, Operand, SIMDSizeCode, ShiftStyle, SizeCode, SysOps,
};

/// One decoded A64 instruction with its address and encoding.
#[derive(Debug, Clone, Copy)]
pub struct Decoded {
    pub pc: u64,
    pub word: u32,
    pub ins: Instruction,
}

/// A decoded block of A64 instructions.
#[derive(Debug, Clone, Default)]
pub struct Block {
    pub start: u64,
    pub end: u64,
    pub insns: Vec<Decoded>,
}

/// The table key of an opcode: its enum tag, ignoring payloads (e.g. `Bcc(cond)`).
#[inline]
pub fn opcode_tag(op: &Opcode) -> u16 {
    // SAFETY: `Opcode` is `#[repr(u16)]`; per the Rust reference a primitive-repr enum,
    // with or without fields, starts with its u16 discriminant.
    unsafe { *(op as *const Opcode as *const u16) }
}

/// Does this instruction end its block? Control transfers, exception-generating and
/// system instructions that leave the engine (svc), and anything that may fault by design.
pub fn ends_block(ins: &Instruction) -> bool {
    use Opcode::*;
    matches!(
        ins.opcode,
        B | BL
            | BR
            | BLR
            | RET
            | Bcc(_)
            | CBZ
            | CBNZ
            | TBZ
            | TBNZ
            | SVC
            | HVC
            | SMC
            | BRK
            | HLT
            | UDF
            | BRAA
            | BRAAZ
            | BRAB
            | BRABZ
            | BLRAA
            | BLRAAZ
            | BLRAB
            | BLRABZ
            | RETAA
            | RETAB
            | ERET
            | ERETAA
            | ERETAB
    )
}

/// Decode one instruction from its 32-bit word.
pub fn decode_word(word: u32) -> Option<Instruction> {
    let bytes = word.to_le_bytes();
    let mut reader = U8Reader::new(&bytes);
    let mut ins = Instruction::default();
    InstDecoder::default().decode_into(&mut ins, &mut reader).ok()?;
    if ins.opcode == Opcode::Invalid {
        return None;
    }
    Some(ins)
}

/// Decode the block starting at `pc`. `fetch(addr, buf)` fills `buf` with executable guest
/// bytes at `addr` and returns how many it could read.
pub fn decode_block(pc: u64, mut fetch: impl FnMut(u64, &mut [u8]) -> usize) -> Result<Block, DecodeError> {
    let mut block = Block { start: pc, end: pc, insns: Vec::with_capacity(8) };
    let page_end = (pc & !(PAGE_SIZE - 1)) + PAGE_SIZE;
    let mut addr = pc;
    loop {
        let mut b = [0u8; 4];
        if fetch(addr, &mut b) < 4 {
            if block.insns.is_empty() {
                return Err(DecodeError::Fetch { pc: addr, addr });
            }
            break;
        }
        let word = u32::from_le_bytes(b);
        let Some(ins) = decode_word(word) else {
            if block.insns.is_empty() {
                return Err(DecodeError::Invalid { pc: addr });
            }
            break;
        };
        block.insns.push(Decoded { pc: addr, word, ins });
        addr += 4;
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

    #[test]
    fn decodes_and_ends_at_branch() {
        // add x0, x1, x2 ; b .+8 ; nop
        let code: [u32; 3] = [0x8b020020, 0x14000002, 0xd503201f];
        let bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
        let b = decode_block(0x1000, |a, buf| {
            let off = (a - 0x1000) as usize;
            let n = buf.len().min(bytes.len().saturating_sub(off));
            buf[..n].copy_from_slice(&bytes[off..off + n]);
            n
        })
        .unwrap();
        assert_eq!(b.insns.len(), 2);
        assert_eq!(b.insns[0].ins.opcode, Opcode::ADD);
        assert_eq!(b.end, 0x1008);
    }

    #[test]
    fn tags_ignore_payloads() {
        let a = decode_word(0x54000040).unwrap(); // b.eq
        let c = decode_word(0x54000041).unwrap(); // b.ne
        assert_eq!(opcode_tag(&a.opcode), opcode_tag(&c.opcode));
    }
}
