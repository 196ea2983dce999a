//! Data Processing -- Immediate (Arm ARM C4.1.86): ADD/ADDS/SUB/SUBS (immediate), logical
//! (immediate) AND/ORR/EOR/ANDS, move wide MOVN/MOVZ/MOVK, PC-relative ADR/ADRP, bitfield
//! SBFM/BFM/UBFM and extract EXTR.
//!
//! yaxpeax-arm uses one opcode for the immediate and the register forms of ADD, ADDS, SUB,
//! SUBS, AND, ORR, EOR and ANDS, so the handlers here also serve "Data Processing --
//! Register" (shifted and extended register operands come as `Operand::RegShift`); dp_reg.rs
//! registers BIC/ORN/EON/BICS with [`logical`]. Aliases need no handling of their own: they
//! are their base instruction with particular operands (CMP/CMN = SUBS/ADDS to XZR, MOV to or
//! from SP = ADD #0, MOV (bitmask immediate) = ORR with XZR, TST = ANDS to XZR, ASR/LSL/LSR
//! (immediate), SXTB/SXTH/SXTW, UXTB/UXTH, BFI, BFXIL, BFC, SBFX/UBFX, SBFIZ/UBFIZ = the
//! bitfield moves, ROR (immediate) = EXTR with Rn = Rm).
//!
//! W forms compute on 32 bits and zero-extend into the X register (`set_reg`).

use super::flags::{add_with_carry, logic};
use super::operands::{bits, mask, reg, set_reg, set_reg_sp, value};
use super::table::Table;
use super::{Decoded, Res, M};
use deja_decoders::aarch64::{Opcode, Operand, SizeCode};

pub fn register(t: &mut Table) {
    // Immediate, shifted-register and extended-register forms alike.
    t.add(&[Opcode::ADD, Opcode::SUB], add_sub);
    t.add(&[Opcode::ADDS, Opcode::SUBS], adds_subs);
    t.add(&[Opcode::AND, Opcode::ORR, Opcode::EOR, Opcode::ANDS], logical);
    t.add(&[Opcode::MOVZ], movz);
    t.add(&[Opcode::MOVN], movn);
    t.add(&[Opcode::MOVK], movk);
    t.add(&[Opcode::ADR], adr);
    t.add(&[Opcode::ADRP], adrp);
    t.add(&[Opcode::SBFM], sbfm);
    t.add(&[Opcode::BFM], bfm);
    t.add(&[Opcode::UBFM], ubfm);
    t.add(&[Opcode::EXTR], extr);
}

/// Operation width of a destination operand.
#[inline(always)]
pub(super) fn size_of(op: &Operand) -> SizeCode {
    match *op {
        Operand::Register(s, _) | Operand::RegisterOrSP(s, _) => s,
        _ => SizeCode::X,
    }
}

/// Write a destination operand: `Register` (31 = XZR, discarded) or `RegisterOrSP`
/// (31 = SP). W writes zero-extend.
#[inline(always)]
pub(super) fn write(m: &mut M, op: &Operand, v: u64) {
    match *op {
        Operand::Register(s, n) => set_reg(m, s, n, v),
        Operand::RegisterOrSP(s, n) => set_reg_sp(m, s, n, v),
        _ => {}
    }
}

/// Register number of a `Register`/`RegisterOrSP` operand.
#[inline(always)]
fn regno(op: &Operand) -> u16 {
    match *op {
        Operand::Register(_, n) | Operand::RegisterOrSP(_, n) => n,
        _ => 31,
    }
}

/// Immediate operand value (`Immediate`/`Imm16`/`Imm64`).
#[inline(always)]
fn imm(op: &Operand) -> u64 {
    match *op {
        Operand::Immediate(i) => i as u64,
        Operand::Imm16(i) => i as u64,
        Operand::Imm64(i) => i,
        _ => 0,
    }
}

/// ADD, SUB: `Rd|SP = Rn|SP ± imm` (immediate, extended register) or `Rd = Rn ± Rm shifted`.
fn add_sub(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let a = value(m, &ops[1], size);
    let b = value(m, &ops[2], size);
    let r = if d.ins.opcode == Opcode::ADD { a.wrapping_add(b) } else { a.wrapping_sub(b) };
    write(m, &ops[0], r);
    Ok(())
}

/// ADDS, SUBS (and CMN/CMP): AddWithCarry(Rn, imm/Rm, 0) or AddWithCarry(Rn, NOT(imm/Rm), 1).
fn adds_subs(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let a = value(m, &ops[1], size);
    let b = value(m, &ops[2], size);
    let (r, f) =
        if d.ins.opcode == Opcode::ADDS { add_with_carry(a, b, 0, size) } else { add_with_carry(a, !b, 1, size) };
    m.cpu.nzcv = f;
    write(m, &ops[0], r);
    Ok(())
}

/// AND ORR EOR ANDS (immediate or shifted register) and BIC ORN EON BICS (shifted register).
/// ANDS/BICS set N and Z from the result and clear C and V.
pub(super) fn logical(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let a = value(m, &ops[1], size);
    let b = value(m, &ops[2], size);
    let r = match d.ins.opcode {
        Opcode::AND | Opcode::ANDS => a & b,
        Opcode::ORR => a | b,
        Opcode::EOR => a ^ b,
        Opcode::BIC | Opcode::BICS => a & !b,
        Opcode::ORN => a | !b,
        Opcode::EON => a ^ !b,
        _ => return Err(super::undefined(d)),
    } & mask(size);
    if matches!(d.ins.opcode, Opcode::ANDS | Opcode::BICS) {
        m.cpu.nzcv = logic(r, size);
    }
    write(m, &ops[0], r);
    Ok(())
}

/// The shifted 16-bit immediate of a move-wide instruction: (value, shift).
#[inline(always)]
fn wide(op: &Operand) -> (u64, u32) {
    match *op {
        Operand::ImmShift(i, s) => (i as u64, s as u32 & 63),
        _ => (0, 0),
    }
}

fn movz(m: &mut M, d: &Decoded) -> Res {
    let (i, s) = wide(&d.ins.operands[1]);
    write(m, &d.ins.operands[0], i << s);
    Ok(())
}

fn movn(m: &mut M, d: &Decoded) -> Res {
    let (i, s) = wide(&d.ins.operands[1]);
    write(m, &d.ins.operands[0], !(i << s));
    Ok(())
}

/// MOVK: replace 16 bits of Rd, keep the rest (a W form then zero-extends).
fn movk(m: &mut M, d: &Decoded) -> Res {
    let (i, s) = wide(&d.ins.operands[1]);
    let dst = &d.ins.operands[0];
    let old = reg(m, size_of(dst), regno(dst));
    write(m, dst, (old & !(0xffff << s)) | (i << s));
    Ok(())
}

#[inline(always)]
fn pc_offset(op: &Operand) -> u64 {
    match *op {
        Operand::PCOffset(o) => o as u64,
        _ => 0,
    }
}

/// ADR: Rd = PC + imm21.
fn adr(m: &mut M, d: &Decoded) -> Res {
    write(m, &d.ins.operands[0], d.pc.wrapping_add(pc_offset(&d.ins.operands[1])));
    Ok(())
}

/// ADRP: Rd = (PC & ~0xfff) + imm21 << 12 (yaxpeax gives the offset already shifted).
fn adrp(m: &mut M, d: &Decoded) -> Res {
    write(m, &d.ins.operands[0], (d.pc & !0xfff).wrapping_add(pc_offset(&d.ins.operands[1])));
    Ok(())
}

/// `n` low bits set (n in 0..=64).
#[inline(always)]
fn ones(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Bitfield operands: (dest, width in bits, source value, immr, imms).
#[inline(always)]
fn bitfield_ops(m: &M, d: &Decoded) -> (Operand, u32, u64, u32, u32) {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let w = bits(size);
    let src = match ops[1] {
        Operand::Register(_, n) => reg(m, size, n),
        _ => 0,
    };
    // The decoder guarantees immr, imms < width (sf == N, and < 32 for W).
    let r = imm(&ops[2]) as u32 & (w - 1);
    let s = imm(&ops[3]) as u32 & (w - 1);
    (ops[0], w, src, r, s)
}

/// UBFM (LSL/LSR immediate, UBFX, UBFIZ, UXTB, UXTH): with imms >= immr, the field
/// src<imms:immr> moved to bit 0; otherwise src<imms:0> moved to bit (width - immr); all other
/// bits zero. Equivalent to the Arm ARM's `ROR(src, R) AND wmask AND tmask`.
fn ubfm(m: &mut M, d: &Decoded) -> Res {
    let (dst, w, src, r, s) = bitfield_ops(m, d);
    let v = if s >= r { (src >> r) & ones(s - r + 1) } else { (src & ones(s + 1)) << (w - r) };
    write(m, &dst, v);
    Ok(())
}

/// SBFM (ASR immediate, SBFX, SBFIZ, SXTB, SXTH, SXTW): as UBFM, with the bits above the
/// field copies of its top bit src<imms>.
fn sbfm(m: &mut M, d: &Decoded) -> Res {
    let (dst, w, src, r, s) = bitfield_ops(m, d);
    // src<s:0> sign-extended to 64 bits.
    let field = ((src << (63 - s)) as i64 >> (63 - s)) as u64;
    let v = if s >= r { ((field as i64) >> r) as u64 } else { field << (w - r) };
    write(m, &dst, v);
    Ok(())
}

/// BFM (BFI, BFXIL, BFC): insert the field into Rd, keeping Rd's other bits.
fn bfm(m: &mut M, d: &Decoded) -> Res {
    let (dst, w, src, r, s) = bitfield_ops(m, d);
    let old = reg(m, size_of(&dst), regno(&dst));
    let v = if s >= r {
        let fm = ones(s - r + 1);
        (old & !fm) | ((src >> r) & fm)
    } else {
        let fm = ones(s + 1) << (w - r);
        (old & !fm) | ((src << (w - r)) & fm)
    };
    write(m, &dst, v);
    Ok(())
}

/// EXTR (ROR immediate): Rd = (Rn:Rm)<lsb+width-1:lsb>.
fn extr(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let w = bits(size);
    let hi = value(m, &ops[1], size);
    let lo = value(m, &ops[2], size);
    let lsb = imm(&ops[3]) as u32 & (w - 1);
    let v = if lsb == 0 { lo } else { (lo >> lsb) | (hi << (w - lsb)) };
    write(m, &ops[0], v);
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::state::nzcv;
    use super::super::table::TABLE;
    use super::super::{Decoded, Res, M};
    use crate::engine::Machine;
    use crate::mem::Memory;
    use deja_decoders::aarch64::decode_word;

    pub const PC: u64 = 0x40_1234;

    pub fn machine() -> M {
        Machine {
            cpu: Default::default(),
            mem: Memory::new(1 << 20).expect("guest memory"),
            icount: 0,
            limit: u64::MAX,
        }
    }

    /// Decode `word` at [`PC`], check its disassembly starts with `text`, and run its handler.
    pub fn exec(m: &mut M, word: u32, text: &str) -> Res {
        let ins = decode_word(word).unwrap_or_else(|| panic!("{word:08x} does not decode"));
        assert_eq!(ins.to_string(), text, "{word:08x}");
        assert!(TABLE.is_implemented_ins(&ins), "{text}");
        let d = Decoded { pc: PC, word, ins };
        m.cpu.pc = PC + 4;
        TABLE.handler(&ins)(m, &d)
    }

    /// Run `word` with x1..x4 set and return x0 (and the flags).
    pub fn run(word: u32, text: &str, x: [u64; 4], flags: u64) -> (u64, u64) {
        let mut m = machine();
        m.cpu.x[0] = 0x5555_5555_5555_5555;
        m.cpu.x[1..5].copy_from_slice(&x);
        m.cpu.nzcv = flags;
        exec(&mut m, word, text).unwrap();
        (m.cpu.x[0], m.cpu.nzcv)
    }

    const N: u64 = nzcv::N;
    const Z: u64 = nzcv::Z;
    const C: u64 = nzcv::C;
    const V: u64 = nzcv::V;

    /// SIMD&FP instructions yaxpeax names with the same opcodes (`add v0.4s, …` is
    /// `Opcode::ADD`) never reach the integer handlers.
    #[test]
    fn simd_forms_of_shared_opcodes_are_not_integer() {
        use deja_decoders::aarch64::Opcode;
        for (w, op) in [
            (0x4ea28420u32, Opcode::ADD), // add v0.4s, v1.4s, v2.4s
            (0x6ea28420, Opcode::SUB),    // sub v0.4s, v1.4s, v2.4s
            (0x4e221c20, Opcode::AND),    // and v0.16b, v1.16b, v2.16b
            (0x6e204820, Opcode::CLZ),    // clz v0.16b, v1.16b
        ] {
            let ins = decode_word(w).unwrap();
            assert_eq!(ins.opcode, op, "{ins}");
            assert!(super::super::table::is_simd_operand(&ins.operands[0]), "{ins}");
            assert_ne!(TABLE.handler(&ins) as usize, TABLE.get(&op) as usize, "{ins}");
        }
    }

    #[test]
    fn add_sub_immediate_and_sp() {
        let mut m = machine();
        m.cpu.sp = 0x7fff_0000;
        m.cpu.x[3] = 0x1234;
        exec(&mut m, 0x914043ff, "add sp, sp, #0x10, lsl #12").unwrap();
        assert_eq!(m.cpu.sp, 0x7fff_0000 + 0x10000);
        exec(&mut m, 0x9100007f, "mov sp, x3").unwrap();
        assert_eq!(m.cpu.sp, 0x1234);
        // mov x0, sp
        exec(&mut m, 0x910003e0, "mov x0, sp").unwrap();
        assert_eq!(m.cpu.x[0], 0x1234);
        // sub wsp, wsp, #1 zero-extends into SP
        m.cpu.sp = 0xffff_ffff_0000_0000;
        exec(&mut m, 0x510007ff, "sub wsp, wsp, #0x1").unwrap();
        assert_eq!(m.cpu.sp, 0xffff_ffff);
        assert_eq!(run(0x91000420, "add x0, x1, #0x1", [u64::MAX, 0, 0, 0], 0).0, 0);
        assert_eq!(run(0x11000420, "add w0, w1, #0x1", [u64::MAX, 0, 0, 0], 0).0, 0);
        assert_eq!(run(0x51000420, "sub w0, w1, #0x1", [0, 0, 0, 0], 0).0, 0xffff_ffff);
    }

    #[test]
    fn adds_subs_flags() {
        // cmp x1, #4: x1 = 4 -> Z C
        assert_eq!(run(0xf100103f, "cmp x1, #0x4", [4, 0, 0, 0], 0).1, Z | C);
        // cmp x1, #4: x1 = 3 -> N (borrow: C clear)
        assert_eq!(run(0xf100103f, "cmp x1, #0x4", [3, 0, 0, 0], 0).1, N);
        // cmn w2, #1 with w2 = 0x7fffffff -> N V
        assert_eq!(run(0x3100045f, "cmn w2, #0x1", [0, 0x7fff_ffff, 0, 0], 0).1, N | V);
        // cmn w2, #1 with w2 = -1 -> Z C; x0 untouched (XZR destination)
        assert_eq!(run(0x3100045f, "cmn w2, #0x1", [0, 0xffff_ffff, 0, 0], 0), (0x5555_5555_5555_5555, Z | C));
        // subs x0, x1, x2, asr #63 ; INT_MIN - (-1)
        let (r, f) = run(0xeb82fc20, "subs x0, x1, x2, asr #63", [1 << 63, 1 << 63, 0, 0], 0);
        assert_eq!((r, f), ((1 << 63) + 1, N));
        // negs w0, w1: 0 - INT_MIN overflows
        assert_eq!(run(0x6b0103e0, "negs w0, w1", [0x8000_0000, 0, 0, 0], 0), (0x8000_0000, N | V));
    }

    #[test]
    fn extended_register() {
        // add x0, x1, w2, sxtb #2
        assert_eq!(run(0x8b228820, "add x0, x1, w2, sxtb #2", [10, 0xff, 0, 0], 0).0, 6);
        // adds w0, wsp, w3, uxth with sp = 0x1_0000_0001
        let mut m = machine();
        m.cpu.sp = 0x1_0000_0001;
        m.cpu.x[3] = 0xffff_ffff;
        exec(&mut m, 0x2b2323e0, "adds w0, wsp, w3, uxth").unwrap();
        assert_eq!(m.cpu.x[0], 0x1_0000);
        // sub x0, sp, x3 (sp as a source)
        m.cpu.sp = 100;
        m.cpu.x[3] = 1;
        exec(&mut m, 0xcb2363e0, "sub x0, sp, x3").unwrap();
        assert_eq!(m.cpu.x[0], 99);
        // subs x0, x1, w2, uxtw (yaxpeax shows it as LSL #0 of w2: w2 zero-extended)
        let (r, _) = run(0xeb224020, "subs x0, x1, w2", [0, u64::MAX, 0, 0], 0);
        assert_eq!(r, 0xffff_ffff_0000_0001);
        // add x0, x1, w2, sxtw #4
        assert_eq!(run(0x8b22d020, "add x0, x1, w2, sxtw #4", [0, 0xffff_ffff, 0, 0], 0).0, (-16i64) as u64);
    }

    #[test]
    fn logical_immediate_and_register() {
        assert_eq!(run(0x92401c20, "and x0, x1, #0xff", [0x1234, 0, 0, 0], 0).0, 0x34);
        assert_eq!(run(0xb200f3e0, "mov x0, #0x5555555555555555", [0, 0, 0, 0], 0).0, 0x5555_5555_5555_5555);
        assert_eq!(run(0x12010420, "and w0, w1, #0x80000001", [u64::MAX, 0, 0, 0], 0).0, 0x8000_0001);
        // tst x1, #3 -> flags only
        assert_eq!(run(0xf240043f, "tst x1, #0x3", [4, 0, 0, 0], C | V), (0x5555_5555_5555_5555, Z));
        assert_eq!(run(0x72010020, "ands w0, w1, #0x80000000", [u64::MAX, 0, 0, 0], 0), (0x8000_0000, N));
        // orr sp, x1, #0xff0
        let mut m = machine();
        m.cpu.x[1] = 0x1_0000;
        exec(&mut m, 0xb27c1c3f, "orr sp, x1, #0xff0").unwrap();
        assert_eq!(m.cpu.sp, 0x1_0ff0);
        // bics x0, x1, x2, ror #4
        assert_eq!(run(0xeae21020, "bics x0, x1, x2, ror #4", [u64::MAX, 0xf, 0, 0], 0), (0x0fff_ffff_ffff_ffff, 0));
        // mvn w0, w1
        assert_eq!(run(0x2a2103e0, "mvn w0, w1", [0xffff_0000_0000_ffff, 0, 0, 0], 0).0, 0xffff_0000);
        // eon x0, x1, x2, lsl #63
        assert_eq!(run(0xca22fc20, "eon x0, x1, x2, lsl #63", [0, 1, 0, 0], 0).0, 0x7fff_ffff_ffff_ffff);
        // orn w0, w1, w2, asr #31
        assert_eq!(run(0x2aa27c20, "orn w0, w1, w2, asr #31", [0, 0x8000_0000, 0, 0], 0).0, 0);
    }

    #[test]
    fn move_wide() {
        assert_eq!(run(0x52a00020, "mov w0, #0x10000", [0; 4], 0).0, 0x10000);
        assert_eq!(run(0x92e000a0, "mov x0, #0xfffaffffffffffff", [0; 4], 0).0, 0xfffa_ffff_ffff_ffff);
        assert_eq!(run(0x12800000, "mov w0, #0xffffffff", [0; 4], 0).0, 0xffff_ffff);
        // movk w0 keeps the other half, zeroes the top
        assert_eq!(run(0x72bfffe0, "movk w0, #0xffff, lsl #16", [0; 4], 0).0, 0xffff_5555);
        assert_eq!(run(0xf2c00020, "movk x0, #0x1, lsl #32", [0; 4], 0).0, 0x5555_0001_5555_5555);
        // movz w with hw >= 2 is unallocated (yaxpeax-arm accepts it; the decoder refuses)
        assert!(decode_word(0x52c00020).is_none());
    }

    #[test]
    fn pc_relative() {
        let mut m = machine();
        exec(&mut m, 0x10000040, "adr x0, $+0x8").unwrap();
        assert_eq!(m.cpu.x[0], PC + 8);
        exec(&mut m, 0xf0ffffe0, "adrp x0, $-0x1000").unwrap();
        assert_eq!(m.cpu.x[0], (PC & !0xfff) - 0x1000);
        exec(&mut m, 0x70fffff0, "adr x16, $-0x1").unwrap();
        assert_eq!(m.cpu.x[16], PC - 1);
    }

    #[test]
    fn bitfield_aliases() {
        let x = 0x8123_4567_89ab_cdefu64;
        assert_eq!(run(0x9345fc20, "asr x0, x1, #0x5", [x, 0, 0, 0], 0).0, ((x as i64) >> 5) as u64);
        assert_eq!(run(0x531d7020, "lsl w0, w1, #0x3", [x, 0, 0, 0], 0).0, (x as u32 as u64) << 3 & 0xffff_ffff);
        assert_eq!(run(0xd37ffc20, "lsr x0, x1, #0x3f", [x, 0, 0, 0], 0).0, 1);
        assert_eq!(run(0x93401c20, "sxtb x0, w1", [0x80, 0, 0, 0], 0).0, 0xffff_ffff_ffff_ff80);
        assert_eq!(run(0x13003c20, "sxth w0, w1", [0x8000, 0, 0, 0], 0).0, 0xffff_8000);
        assert_eq!(run(0x93407c20, "sxtw x0, w1", [x, 0, 0, 0], 0).0, 0xffff_ffff_89ab_cdef);
        assert_eq!(run(0x53001c20, "uxtb w0, w1", [x, 0, 0, 0], 0).0, 0xef);
        assert_eq!(run(0x53003c20, "uxth w0, w1", [x, 0, 0, 0], 0).0, 0xcdef);
        // bfi x0, x1, #4, #8
        assert_eq!(run(0xb37c1c20, "bfi x0, x1, #0x4, #0x8", [x, 0, 0, 0], 0).0, 0x5555_5555_5555_5ef5);
        // bfxil w0, w1, #3, #5
        assert_eq!(run(0x33031c20, "bfxil w0, w1, #0x3, #0x5", [x, 0, 0, 0], 0).0, 0x5555_5540 | ((x >> 3) & 0x1f));
        assert_eq!(run(0x93433020, "sbfx x0, x1, #0x3, #0xa", [0x1000, 0, 0, 0], 0).0, (-512i64) as u64);
        assert_eq!(run(0xd3433020, "ubfx x0, x1, #0x3, #0xa", [0x1000, 0, 0, 0], 0).0, 512);
        assert_eq!(run(0x937d2420, "sbfiz x0, x1, #0x3, #0xa", [0x200, 0, 0, 0], 0).0, (-4096i64) as u64);
        assert_eq!(run(0x531d2420, "ubfiz w0, w1, #0x3, #0xa", [0x3ff, 0, 0, 0], 0).0, 0x1ff8);
        // sbfm w0, w1, #31, #31 = asr w0, w1, #31
        assert_eq!(run(0x131f7c20, "asr w0, w1, #0x1f", [0x8000_0000, 0, 0, 0], 0).0, 0xffff_ffff);
    }

    /// The bitfield handlers against the Arm ARM pseudocode (DecodeBitMasks with
    /// immediate=FALSE, ROR, Replicate), for every immr/imms of both widths.
    #[test]
    fn bitfield_matches_pseudocode() {
        fn ror(v: u64, r: u32, w: u32) -> u64 {
            let mk = if w == 64 { u64::MAX } else { (1 << w) - 1 };
            if r == 0 {
                v & mk
            } else {
                ((v >> r) | (v << (w - r))) & mk
            }
        }
        fn ones(n: u32) -> u64 {
            if n == 64 {
                u64::MAX
            } else {
                (1 << n) - 1
            }
        }
        for sf in 0..2u32 {
            let w = if sf == 1 { 64 } else { 32 };
            let mk = ones(w);
            for immr in 0..w {
                for imms in 0..w {
                    // DecodeBitMasks(N=sf, imms, immr, FALSE, w): esize = w
                    let wmask = ror(ones(imms + 1), immr, w);
                    let tmask = ones(((imms.wrapping_sub(immr)) & (w - 1)) + 1);
                    for (opc, name) in [(0u32, "sbfm"), (1, "bfm"), (2, "ubfm")] {
                        let word = (sf << 31)
                            | (opc << 29)
                            | (0b100110 << 23)
                            | (sf << 22)
                            | (immr << 16)
                            | (imms << 10)
                            | (1 << 5);
                        let ins = decode_word(word).unwrap();
                        for (src, dst) in
                            [(0x8123_4567_89ab_cdefu64, 0x5a5a_5a5a_a5a5_a5a5u64), (0x7fff_0000_ffff_0001, 0)]
                        {
                            let mut m = machine();
                            m.cpu.x[0] = dst;
                            m.cpu.x[1] = src;
                            let d = Decoded { pc: PC, word, ins };
                            TABLE.handler(&ins)(&mut m, &d).unwrap();
                            let (s, dd) = (src & mk, dst & mk);
                            let want = match opc {
                                0 => {
                                    let bot = ror(s, immr, w) & wmask;
                                    let top = if (s >> imms) & 1 == 1 { mk } else { 0 };
                                    (top & !tmask) | (bot & tmask)
                                }
                                1 => {
                                    let bot = (dd & !wmask) | (ror(s, immr, w) & wmask);
                                    (dd & !tmask) | (bot & tmask)
                                }
                                _ => ror(s, immr, w) & wmask & tmask,
                            } & mk;
                            assert_eq!(m.cpu.x[0], want, "{name} sf={sf} immr={immr} imms={imms} src={src:x}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn extract() {
        let (a, b) = (0x0123_4567_89ab_cdefu64, 0xfedc_ba98_7654_3210u64);
        assert_eq!(run(0x93c23020, "extr x0, x1, x2, #0xc", [a, b, 0, 0], 0).0, (b >> 12) | (a << 52));
        assert_eq!(run(0x93c20020, "extr x0, x1, x2, #0x0", [a, b, 0, 0], 0).0, b);
        assert_eq!(run(0x13811c20, "ror w0, w1, #0x7", [a, 0, 0, 0], 0).0, (a as u32).rotate_right(7) as u64);
        assert_eq!(
            run(0x13827c20, "extr w0, w1, w2, #0x1f", [a, b, 0, 0], 0).0,
            ((b as u32 >> 31) | ((a as u32) << 1)) as u64
        );
    }
}
