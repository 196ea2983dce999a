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
    if unallocated_dp(word) {
        return None;
    }
    let bytes = word.to_le_bytes();
    let mut reader = U8Reader::new(&bytes);
    let mut ins = Instruction::default();
    if InstDecoder::default().decode_into(&mut ins, &mut reader).is_err() || ins.opcode == Opcode::Invalid {
        return decode_missing(word);
    }
    // yaxpeax-arm 0.3.1 takes only 4 bits of Rt for MSR (register): `msr tpidr_el0, x19`
    // decodes as `msr tpidr_el0, x3`. Rt is bits 4..0.
    if ins.opcode == Opcode::MSR && word & 0xfff0_0000 == 0xd510_0000 {
        ins.operands[1] = Operand::Register(SizeCode::X, (word & 31) as u16);
    }
    Some(ins)
}

/// Integer data-processing encodings that the Arm ARM marks unallocated (UNDEFINED) but
/// yaxpeax-arm 0.3.1 decodes anyway (found by sweeping random words of these classes against
/// GNU objdump; each rule has a test below):
/// - MOVN/MOVZ/MOVK with sf=0 and hw=1x (yaxpeax compares the 2-bit hw with 0x10);
/// - logical (immediate): sf=0 with N=1, and the reserved bitmask patterns of DecodeBitMasks
///   (len < 1, or an all-ones element `imms & levels == levels`), which yaxpeax expands into
///   some value instead of rejecting;
/// - logical (shifted register) with sf=0 and imm6 >= 32;
/// - add/sub (extended register) with imm3 > 4;
/// - op1=1, op2=0xx1 of "Data Processing -- Register" (bit 21 set in the add/sub-with-carry,
///   conditional compare, conditional select and 1/2-source groups): yaxpeax ignores bit 21.
pub fn unallocated_dp(word: u32) -> bool {
    let sf = word >> 31 == 1;
    if (word >> 26) & 0b111 == 0b100 {
        // Data Processing -- Immediate
        match (word >> 23) & 0b111 {
            // Move wide (immediate)
            0b101 => !sf && (word >> 22) & 1 == 1,
            // Logical (immediate)
            0b100 => {
                let n = (word >> 22) & 1;
                let imms = (word >> 10) & 0x3f;
                if !sf && n == 1 {
                    return true;
                }
                let v = (n << 6) | (!imms & 0x3f);
                if v <= 1 {
                    return true; // len < 1
                }
                let len = 31 - v.leading_zeros();
                let levels = (1u32 << len) - 1;
                imms & levels == levels
            }
            _ => false,
        }
    } else if (word >> 25) & 0b111 == 0b101 {
        // Data Processing -- Register
        let bit21 = (word >> 21) & 1 == 1;
        let bit24 = (word >> 24) & 1 == 1;
        if (word >> 28) & 1 == 0 {
            if !bit24 {
                // Logical (shifted register)
                !sf && (word >> 15) & 1 == 1
            } else {
                // Add/subtract (extended register): imm3 > 4
                bit21 && (word >> 10) & 0b111 > 4
            }
        } else {
            !bit24 && bit21
        }
    } else {
        false
    }
}

/// Encodings yaxpeax-arm 0.3.1 does not decode at all, decoded here by hand:
/// - FRINT32X/FRINT64X (vector), `0 Q 1 01110 0 sz 10000 1111 op 10 Rn Rd` (FEAT_FRINTTS;
///   yaxpeax decodes the Z forms, with U = 0, and the scalar forms, but not these).
fn decode_missing(word: u32) -> Option<Instruction> {
    if word & 0xbfbf_ec00 == 0x2e21_e800 {
        let q = (word >> 30) & 1 == 1;
        let d = (word >> 22) & 1 == 1;
        if d && !q {
            return None;
        }
        let vec = if q { SIMDSizeCode::Q } else { SIMDSizeCode::D };
        let el = if d { SIMDSizeCode::D } else { SIMDSizeCode::S };
        let opcode = if (word >> 12) & 1 == 0 { Opcode::FRINT32X } else { Opcode::FRINT64X };
        let mut operands = Instruction::default().operands;
        operands[0] = Operand::SIMDRegisterElements(vec, (word & 31) as u16, el);
        operands[1] = Operand::SIMDRegisterElements(vec, ((word >> 5) & 31) as u16, el);
        return Some(Instruction { opcode, operands });
    }
    None
}

/// Decode the block starting at `pc`. `fetch(addr, buf)` fills `buf` with executable guest
/// bytes at `addr` and returns how many it could read.
pub fn decode_block(pc: u64, mut fetch: impl FnMut(u64, &mut [u8]) -> usize) -> Result<Block, DecodeError> {
    let mut block = Block { start: pc, end: pc, insns: Vec::with_capacity(8) };
    // The end of pc's page; 0 (wrapped) in the last page of the 64-bit space, where a wild
    // branch may land (no guest memory is there: the first fetch fails).
    let page_end = (pc & !(PAGE_SIZE - 1)).wrapping_add(PAGE_SIZE);
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
        addr = addr.wrapping_add(4);
        if ends_block(&ins) || block.insns.len() >= MAX_BLOCK_INSNS || addr >= page_end {
            break;
        }
    }
    block.end = addr;
    Ok(block)
}

#[cfg(test)]
mod msr_tests {
    use super::*;

    #[test]
    fn msr_register_takes_all_five_rt_bits() {
        // msr tpidr_el0, x19 ; msr nzcv, x30 ; msr fpcr, x3; then mrs x20, tpidr_el0.
        for (w, rt) in [(0xd51bd053u32, 19u16), (0xd51b421e, 30), (0xd51b4403, 3)] {
            let ins = decode_word(w).unwrap();
            assert_eq!(ins.opcode, Opcode::MSR);
            assert!(matches!(ins.operands[1], Operand::Register(SizeCode::X, r) if r == rt), "{w:08x}: {ins:?}");
        }
        let mrs = decode_word(0xd53bd054).unwrap();
        assert!(matches!(mrs.operands[0], Operand::Register(SizeCode::X, 20)));
    }
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
    fn frint32x_frint64x_vector_decode() {
        // yaxpeax-arm 0.3.1 rejects these; decode_missing supplies them.
        let mut ins = Instruction::default();
        let bytes = 0x2e21_e820u32.to_le_bytes();
        let raw = InstDecoder::default().decode_into(&mut ins, &mut U8Reader::new(&bytes));
        assert!(
            raw.is_err() || ins.opcode == Opcode::Invalid,
            "yaxpeax now decodes FRINT32X (vector): drop the workaround"
        );
        for (w, op, text) in [
            (0x2e21_e820u32, Opcode::FRINT32X, "frint32x v0.2s, v1.2s"),
            (0x6e61_f862, Opcode::FRINT64X, "frint64x v2.2d, v3.2d"),
            (0x6e21_e8a4, Opcode::FRINT32X, "frint32x v4.4s, v5.4s"),
        ] {
            let i = decode_word(w).unwrap();
            assert_eq!(i.opcode, op);
            assert_eq!(i.to_string(), text);
        }
        assert!(decode_word(0x2e61_e820).is_none(), "2D in a 64-bit vector is reserved");
        // The Z forms come from yaxpeax itself.
        assert_eq!(decode_word(0x0e21_e820).unwrap().opcode, Opcode::FRINT32Z);
    }

    #[test]
    fn tags_ignore_payloads() {
        let a = decode_word(0x54000040).unwrap(); // b.eq
        let c = decode_word(0x54000041).unwrap(); // b.ne
        assert_eq!(opcode_tag(&a.opcode), opcode_tag(&c.opcode));
    }

    /// Each rule of `unallocated_dp`: encodings yaxpeax-arm 0.3.1 accepts but the Arm ARM
    /// (and GNU objdump) call unallocated.
    #[test]
    fn yaxpeax_accepts_unallocated_dp() {
        let yax = |w: u32| {
            let mut ins = Instruction::default();
            InstDecoder::default().decode_into(&mut ins, &mut U8Reader::new(&w.to_le_bytes())).ok()?;
            (ins.opcode != Opcode::Invalid).then_some(ins)
        };
        for w in [
            0x52c00020u32, // movz w0, #1, lsl #32
            0x12e3466c,    // movn w12, #.., lsl #48
            0x72cad016,    // movk w22, #.., lsl #32
            0x12400020,    // and w0, w1, #imm with N=1
            0x32582f25,    // orr w5, w25, #imm with N=1
            0x9240fc20,    // and x0, x1: N=1 imms=111111 (all-ones element)
            0x9200f820,    // and x0, x1: N=0 imms=111110 (len 0)
            0x9200f420,    // and x0, x1: N=0 imms=111101 (all-ones 2-bit element)
            0x0a038041,    // and w1, w2, w3, lsl #32
            0x2aa6e032,    // orn w18, w1, w6, asr #56
            0x8b239441,    // add x1, x2, w3, sxtb #5
            0x4b369e87,    // sub w7, w20, w22, sxtb #7
            0x9a230041,    // adc with bit 21 set
            0xfa620025,    // ccmp with bit 21 set
            0x9aa31041,    // csel with bit 21 set
            0x9ae30841,    // udiv with bit 21 set
            0xdae00219,    // rbit with bit 21 set
        ] {
            assert!(yax(w).is_some(), "{w:08x}: yaxpeax-arm now rejects it; the workaround can go");
            assert!(unallocated_dp(w), "{w:08x}");
            assert!(decode_word(w).is_none(), "{w:08x}");
        }
        // Neighbours that are allocated stay decodable.
        for w in [0x52a00020u32, 0x9200f020, 0x12010420, 0x8b238841, 0x9a030041, 0xfa420025, 0x9ac30841, 0x0a037c41] {
            assert!(!unallocated_dp(w), "{w:08x}");
            assert!(decode_word(w).is_some(), "{w:08x}");
        }
    }

    /// The Arm ARM's DecodeBitMasks(immN, imms, immr, immediate=TRUE), written independently.
    fn decode_bit_masks(n: u32, imms: u32, immr: u32, width: u32) -> Option<u64> {
        let v = (n << 6) | (!imms & 0x3f);
        if v <= 1 {
            return None;
        }
        let len = 31 - v.leading_zeros();
        let esize = 1u32 << len;
        let levels = esize - 1;
        let (s, r) = (imms & levels, immr & levels);
        if s == levels {
            return None;
        }
        let emask = if esize == 64 { u64::MAX } else { (1u64 << esize) - 1 };
        let welem = (1u64 << (s + 1)) - 1;
        let rot = if r == 0 { welem } else { ((welem >> r) | (welem << (esize - r))) & emask };
        let mut out = 0u64;
        let mut i = 0;
        while i < width {
            out |= rot << i;
            i += esize;
        }
        Some(if width == 64 { out } else { out & 0xffff_ffff })
    }

    /// yaxpeax-arm's expansion of every logical-immediate bitmask (both widths) matches the
    /// Arm ARM's DecodeBitMasks, and exactly the reserved patterns are rejected.
    #[test]
    fn logical_immediates_exhaustive() {
        for sf in 0..2u32 {
            for n in 0..2u32 {
                for immr in 0..64u32 {
                    for imms in 0..64u32 {
                        // and Rd=0, Rn=1
                        let w = (sf << 31) | (0b00100100 << 23) | (n << 22) | (immr << 16) | (imms << 10) | (1 << 5);
                        let want = if sf == 0 && n == 1 {
                            None
                        } else {
                            decode_bit_masks(n, imms, immr, if sf == 1 { 64 } else { 32 })
                        };
                        let got = decode_word(w).map(|i| match i.operands[2] {
                            Operand::Immediate(v) => v as u64,
                            Operand::Imm64(v) => v,
                            o => panic!("{w:08x}: {o:?}"),
                        });
                        assert_eq!(got, want, "{w:08x}");
                    }
                }
            }
        }
    }

    #[test]
    fn msr_register_has_all_five_bits_of_rt() {
        // msr tpidr_el0, x19 ; msr fpcr, x30 ; msr nzcv, xzr
        for (w, rt) in [(0xd51b_d053u32, 19u16), (0xd51b_441e, 30), (0xd51b_421f, 31)] {
            let i = decode_word(w).unwrap();
            assert_eq!(i.opcode, Opcode::MSR);
            assert_eq!(i.operands[1], Operand::Register(SizeCode::X, rt), "{w:08x}: {i}");
        }
    }
}
