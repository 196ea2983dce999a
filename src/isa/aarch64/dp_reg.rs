//! Data Processing -- Register (Arm ARM C4.1.87): logical (shifted register), add/subtract
//! (shifted and extended register), add/subtract with carry, conditional compare, conditional
//! select, data-processing (1 source, 2 source, 3 source), CRC32.
//!
//! ADD/ADDS/SUB/SUBS and AND/ORR/EOR/ANDS share their opcode with the immediate forms and are
//! registered (and handled) in dp_imm.rs; BIC/ORN/EON/BICS use its `logical` handler. Aliases
//! are their base instruction with particular operands: NEG/NEGS/CMP/CMN/TST/MVN/MOV
//! (register), NGC/NGCS, CSET/CSETM/CINC/CINV/CNEG, LSL/LSR/ASR/ROR (register) = the *V
//! forms, MUL/MNEG/SMULL/SMNEGL/UMULL/UMNEGL = the multiply-adds with XZR.
//!
//! Flags follow the Arm ARM pseudocode (AddWithCarry); W forms zero-extend into X. Division
//! never traps: x/0 = 0 and INT_MIN/-1 = INT_MIN.

use super::dp_imm::{logical, size_of, write};
use super::flags::{add_with_carry, cond};
use super::operands::{bits, mask, reg};
use super::state::nzcv;
use super::table::Table;
use super::{Decoded, Res, M};
use deja_decoders::aarch64::{Opcode, Operand, SizeCode};

pub fn register(t: &mut Table) {
    t.add(&[Opcode::BIC, Opcode::BICS, Opcode::ORN, Opcode::EON], logical);
    t.add(&[Opcode::ADC, Opcode::ADCS, Opcode::SBC, Opcode::SBCS], adc_sbc);
    t.add(&[Opcode::CCMN, Opcode::CCMP], ccmp);
    t.add(&[Opcode::CSEL, Opcode::CSINC, Opcode::CSINV, Opcode::CSNEG], csel);
    t.add(&[Opcode::RBIT, Opcode::REV16, Opcode::REV32, Opcode::REV, Opcode::CLZ, Opcode::CLS], one_source);
    t.add(&[Opcode::UDIV], udiv);
    t.add(&[Opcode::SDIV], sdiv);
    t.add(&[Opcode::LSLV, Opcode::LSRV, Opcode::ASRV, Opcode::RORV], shift_var);
    t.add(&[Opcode::MADD, Opcode::MSUB], madd);
    t.add(&[Opcode::SMADDL, Opcode::SMSUBL, Opcode::UMADDL, Opcode::UMSUBL], maddl);
    t.add(&[Opcode::SMULH, Opcode::UMULH], mulh);
    t.add(
        &[
            Opcode::CRC32B,
            Opcode::CRC32H,
            Opcode::CRC32W,
            Opcode::CRC32X,
            Opcode::CRC32CB,
            Opcode::CRC32CH,
            Opcode::CRC32CW,
            Opcode::CRC32CX,
        ],
        crc32,
    );
}

/// Value of a general register operand (31 = zero register), at the operand's own width.
#[inline(always)]
fn rv(m: &M, op: &Operand) -> u64 {
    match *op {
        Operand::Register(s, n) => reg(m, s, n),
        _ => 0,
    }
}

/// ADC ADCS SBC SBCS (NGC NGCS): AddWithCarry(Rn, Rm or NOT(Rm), C).
fn adc_sbc(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let a = rv(m, &ops[1]);
    let mut b = rv(m, &ops[2]);
    if matches!(d.ins.opcode, Opcode::SBC | Opcode::SBCS) {
        b = !b;
    }
    let c = (m.cpu.nzcv & nzcv::C != 0) as u64;
    let (r, f) = add_with_carry(a, b, c, size);
    if matches!(d.ins.opcode, Opcode::ADCS | Opcode::SBCS) {
        m.cpu.nzcv = f;
    }
    write(m, &ops[0], r);
    Ok(())
}

/// CCMN CCMP (register or 5-bit immediate): if cond holds, the flags of Rn + op / Rn - op,
/// else the instruction's #nzcv.
fn ccmp(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let Operand::ConditionCode(c) = ops[3] else { return Err(super::undefined(d)) };
    if cond(m.cpu.nzcv, c) {
        let a = rv(m, &ops[0]);
        let b = match ops[1] {
            Operand::Immediate(i) => i as u64,
            ref o => rv(m, o),
        };
        let (_, f) =
            if d.ins.opcode == Opcode::CCMP { add_with_carry(a, !b, 1, size) } else { add_with_carry(a, b, 0, size) };
        m.cpu.nzcv = f;
    } else {
        let Operand::Immediate(f) = ops[2] else { return Err(super::undefined(d)) };
        m.cpu.nzcv = ((f as u64) & 0xf) << 28;
    }
    Ok(())
}

/// CSEL CSINC CSINV CSNEG: Rd = cond ? Rn : f(Rm).
fn csel(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let Operand::ConditionCode(c) = ops[3] else { return Err(super::undefined(d)) };
    let v = if cond(m.cpu.nzcv, c) {
        rv(m, &ops[1])
    } else {
        let b = rv(m, &ops[2]);
        match d.ins.opcode {
            Opcode::CSINC => b.wrapping_add(1),
            Opcode::CSINV => !b,
            Opcode::CSNEG => b.wrapping_neg(),
            _ => b,
        }
    };
    write(m, &ops[0], v);
    Ok(())
}

/// RBIT REV16 REV32 REV CLZ CLS.
fn one_source(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let x = rv(m, &ops[1]);
    let w32 = size == SizeCode::W;
    let v = match d.ins.opcode {
        Opcode::RBIT if w32 => (x as u32).reverse_bits() as u64,
        Opcode::RBIT => x.reverse_bits(),
        // Swap the bytes of each halfword.
        Opcode::REV16 => ((x >> 8) & 0x00ff_00ff_00ff_00ff) | ((x & 0x00ff_00ff_00ff_00ff) << 8),
        // Reverse the bytes of each word (X only).
        Opcode::REV32 => {
            let lo = (x as u32).swap_bytes() as u64;
            let hi = ((x >> 32) as u32).swap_bytes() as u64;
            (hi << 32) | lo
        }
        Opcode::REV if w32 => (x as u32).swap_bytes() as u64,
        Opcode::REV => x.swap_bytes(),
        Opcode::CLZ if w32 => (x as u32).leading_zeros() as u64,
        Opcode::CLZ => x.leading_zeros() as u64,
        // CountLeadingSignBits: leading bits below the top one that equal it.
        Opcode::CLS if w32 => {
            let s = x as u32 as i32 as i64;
            ((s ^ (s >> 1)) as u64).leading_zeros() as u64 - 33
        }
        Opcode::CLS => (x ^ ((x as i64 >> 1) as u64)).leading_zeros() as u64 - 1,
        _ => return Err(super::undefined(d)),
    };
    write(m, &ops[0], v);
    Ok(())
}

/// UDIV: unsigned, rounding towards zero; division by zero gives 0.
fn udiv(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let (a, b) = (rv(m, &ops[1]), rv(m, &ops[2]));
    write(m, &ops[0], a.checked_div(b).unwrap_or(0));
    Ok(())
}

/// SDIV: signed, rounding towards zero; division by zero gives 0, INT_MIN / -1 gives INT_MIN.
fn sdiv(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let (a, b) = (rv(m, &ops[1]), rv(m, &ops[2]));
    let v = if size_of(&ops[0]) == SizeCode::W {
        let (a, b) = (a as u32 as i32, b as u32 as i32);
        if b == 0 {
            0
        } else {
            a.wrapping_div(b) as u32 as u64
        }
    } else {
        let (a, b) = (a as i64, b as i64);
        if b == 0 {
            0
        } else {
            a.wrapping_div(b) as u64
        }
    };
    write(m, &ops[0], v);
    Ok(())
}

/// LSLV LSRV ASRV RORV: shift by Rm modulo the width.
fn shift_var(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let size = size_of(&ops[0]);
    let w = bits(size);
    let x = rv(m, &ops[1]);
    let n = (rv(m, &ops[2]) as u32) & (w - 1);
    let v = match d.ins.opcode {
        Opcode::LSLV => x << n,
        Opcode::LSRV => x >> n,
        Opcode::ASRV if w == 32 => ((x as u32 as i32) >> n) as u32 as u64,
        Opcode::ASRV => ((x as i64) >> n) as u64,
        Opcode::RORV if w == 32 => (x as u32).rotate_right(n) as u64,
        Opcode::RORV => x.rotate_right(n),
        _ => return Err(super::undefined(d)),
    } & mask(size);
    write(m, &ops[0], v);
    Ok(())
}

/// MADD MSUB (MUL MNEG): Rd = Ra ± Rn * Rm.
fn madd(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let p = rv(m, &ops[1]).wrapping_mul(rv(m, &ops[2]));
    let a = rv(m, &ops[3]);
    write(m, &ops[0], if d.ins.opcode == Opcode::MADD { a.wrapping_add(p) } else { a.wrapping_sub(p) });
    Ok(())
}

/// SMADDL SMSUBL UMADDL UMSUBL (SMULL SMNEGL UMULL UMNEGL): Xd = Xa ± Wn * Wm, with the W
/// sources sign- or zero-extended to 64 bits.
fn maddl(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let (n, mm) = (rv(m, &ops[1]), rv(m, &ops[2]));
    let p = match d.ins.opcode {
        Opcode::SMADDL | Opcode::SMSUBL => (n as u32 as i32 as i64).wrapping_mul(mm as u32 as i32 as i64) as u64,
        _ => (n as u32 as u64) * (mm as u32 as u64),
    };
    let a = rv(m, &ops[3]);
    let v = if matches!(d.ins.opcode, Opcode::SMADDL | Opcode::UMADDL) { a.wrapping_add(p) } else { a.wrapping_sub(p) };
    write(m, &ops[0], v);
    Ok(())
}

/// SMULH UMULH: the high 64 bits of the 128-bit product.
fn mulh(m: &mut M, d: &Decoded) -> Res {
    let ops = &d.ins.operands;
    let (a, b) = (rv(m, &ops[1]), rv(m, &ops[2]));
    let v = if d.ins.opcode == Opcode::SMULH {
        (((a as i64 as i128) * (b as i64 as i128)) >> 64) as u64
    } else {
        (((a as u128) * (b as u128)) >> 64) as u64
    };
    write(m, &ops[0], v);
    Ok(())
}

/// Byte-at-a-time table of a reflected CRC-32 polynomial.
const fn crc_table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// CRC-32 (0x04C11DB7) and CRC-32C (0x1EDC6F41), bit-reflected.
static CRC32: [u32; 256] = crc_table(0xedb8_8320);
static CRC32C: [u32; 256] = crc_table(0x82f6_3b78);

/// CRC32B/H/W/X, CRC32CB/H/W/X: Wd = CRC of the low 8/16/32/64 bits of Rm (little-endian
/// byte order, least significant bit first) into the accumulator Wn, with no pre- or
/// post-inversion (the Arm ARM's BitReverse/Poly32Mod2 formulation).
fn crc32(m: &mut M, d: &Decoded) -> Res {
    use Opcode::*;
    let ops = &d.ins.operands;
    let (table, nbytes) = match d.ins.opcode {
        CRC32B => (&CRC32, 1),
        CRC32H => (&CRC32, 2),
        CRC32W => (&CRC32, 4),
        CRC32X => (&CRC32, 8),
        CRC32CB => (&CRC32C, 1),
        CRC32CH => (&CRC32C, 2),
        CRC32CW => (&CRC32C, 4),
        CRC32CX => (&CRC32C, 8),
        _ => return Err(super::undefined(d)),
    };
    let mut acc = rv(m, &ops[1]) as u32;
    let val = rv(m, &ops[2]);
    for i in 0..nbytes {
        let b = (val >> (8 * i)) as u8;
        acc = (acc >> 8) ^ table[((acc as u8) ^ b) as usize];
    }
    write(m, &ops[0], acc as u64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::dp_imm::tests::{exec, machine, run};
    use super::super::state::nzcv::{C, N, V, Z};

    const X: u64 = 0x5555_5555_5555_5555; // x0 before each `run`

    #[test]
    fn carry_forms() {
        assert_eq!(run(0x9a020020, "adc x0, x1, x2", [u64::MAX, 0, 0, 0], C), (0, C));
        assert_eq!(run(0xba020020, "adcs x0, x1, x2", [u64::MAX, 0, 0, 0], C), (0, Z | C));
        assert_eq!(run(0x3a020020, "adcs w0, w1, w2", [0x7fff_ffff, 0, 0, 0], C), (0x8000_0000, N | V));
        // sbc: a - b - !C
        assert_eq!(run(0xda020020, "sbc x0, x1, x2", [5, 3, 0, 0], 0), (1, 0));
        assert_eq!(run(0xfa020020, "sbcs x0, x1, x2", [5, 3, 0, 0], C), (2, C));
        assert_eq!(run(0x7a020020, "sbcs w0, w1, w2", [0, 0, 0, 0], 0), (0xffff_ffff, N));
        // ngc x0, x1 = sbc x0, xzr, x1
        assert_eq!(run(0xda0103e0, "ngc x0, x1", [1, 0, 0, 0], C), ((-1i64) as u64, C));
    }

    #[test]
    fn conditional_compare() {
        // ccmp x1, x2, #5, eq: Z set -> compare; 3 - 3 -> Z C
        assert_eq!(run(0xfa420025, "ccmp x1, x2, #0x5, eq", [3, 3, 0, 0], Z).1, Z | C);
        // Z clear -> flags = #5 = 0b0101 (N=0 Z=1 C=0 V=1)
        assert_eq!(run(0xfa420025, "ccmp x1, x2, #0x5, eq", [3, 3, 0, 0], 0).1, Z | V);
        // ccmn w1, #31, #15, lt: N != V -> compare w1 + 31
        assert_eq!(run(0x3a5fb82f, "ccmn w1, #0x1f, #0xf, lt", [(-31i64) as u64, 0, 0, 0], N).1, Z | C);
        assert_eq!(run(0x3a5fb82f, "ccmn w1, #0x1f, #0xf, lt", [0, 0, 0, 0], 0).1, N | Z | C | V);
        // al and nv always compare
        assert_eq!(run(0xfa42e820, "ccmp x1, #0x2, #0x0, al", [2, 0, 0, 0], 0).1, Z | C);
        assert_eq!(run(0xfa42f820, "ccmp x1, #0x2, #0x0, nv", [2, 0, 0, 0], 0).1, Z | C);
    }

    #[test]
    fn conditional_select() {
        assert_eq!(run(0x9a831040, "csel x0, x2, x3, ne", [0, 7, 9, 0], 0).0, 7);
        assert_eq!(run(0x9a831040, "csel x0, x2, x3, ne", [0, 7, 9, 0], Z).0, 9);
        assert_eq!(run(0x1a9f97e0, "cset w0, hi", [0; 4], C).0, 1);
        assert_eq!(run(0x1a9f97e0, "cset w0, hi", [0; 4], C | Z).0, 0);
        assert_eq!(run(0xda9f23e0, "csetm x0, lo", [0; 4], 0).0, u64::MAX);
        assert_eq!(run(0x9a81b420, "cinc x0, x1, ge", [u64::MAX, 0, 0, 0], 0).0, 0);
        assert_eq!(run(0x5a81c020, "cinv w0, w1, le", [0xffff_ffff_0000_0000, 0, 0, 0], Z).0, 0xffff_ffff);
        assert_eq!(run(0xda815420, "cneg x0, x1, mi", [1 << 63, 0, 0, 0], 0).0, 1 << 63);
        assert_eq!(run(0x5a815420, "cneg w0, w1, mi", [5, 0, 0, 0], N).0, 0xffff_fffb);
    }

    #[test]
    fn one_source() {
        let x = 0x0102_0304_0506_0780u64;
        assert_eq!(run(0x5ac00020, "rbit w0, w1", [x, 0, 0, 0], 0).0, 0x01e0_60a0);
        assert_eq!(run(0xdac00020, "rbit x0, x1", [1, 0, 0, 0], 0).0, 1 << 63);
        assert_eq!(run(0xdac00420, "rev16 x0, x1", [x, 0, 0, 0], 0).0, 0x0201_0403_0605_8007);
        assert_eq!(run(0x5ac00420, "rev16 w0, w1", [x, 0, 0, 0], 0).0, 0x0605_8007);
        assert_eq!(run(0xdac00820, "rev32 x0, x1", [x, 0, 0, 0], 0).0, 0x0403_0201_8007_0605);
        assert_eq!(run(0xdac00c20, "rev x0, x1", [x, 0, 0, 0], 0).0, 0x8007_0605_0403_0201);
        assert_eq!(run(0x5ac00820, "rev w0, w1", [x, 0, 0, 0], 0).0, 0x8007_0605);
        for (v, z64, z32, s64, s32) in [
            (0u64, 64, 32, 63, 31),
            (u64::MAX, 0, 0, 63, 31),
            (1, 63, 31, 62, 30),
            (1 << 63, 0, 32, 0, 31),
            (0x8000_0000, 32, 0, 31, 0),
            (0x4000_0000, 33, 1, 32, 0),
            (0xffff_ffff_c000_0000, 0, 0, 33, 1),
        ] {
            assert_eq!(run(0xdac01020, "clz x0, x1", [v, 0, 0, 0], 0).0, z64, "clz {v:x}");
            assert_eq!(run(0x5ac01020, "clz w0, w1", [v, 0, 0, 0], 0).0, z32, "clz w {v:x}");
            assert_eq!(run(0xdac01420, "cls x0, x1", [v, 0, 0, 0], 0).0, s64, "cls {v:x}");
            assert_eq!(run(0x5ac01420, "cls w0, w1", [v, 0, 0, 0], 0).0, s32, "cls w {v:x}");
        }
    }

    #[test]
    fn division() {
        assert_eq!(run(0x9ac20820, "udiv x0, x1, x2", [7, 2, 0, 0], 0).0, 3);
        assert_eq!(run(0x9ac20820, "udiv x0, x1, x2", [7, 0, 0, 0], 0).0, 0);
        assert_eq!(run(0x1ac20820, "udiv w0, w1, w2", [0x1_0000_0007, 0x1_0000_0002, 0, 0], 0).0, 3);
        assert_eq!(run(0x1ac20820, "udiv w0, w1, w2", [7, 0x1_0000_0000, 0, 0], 0).0, 0);
        assert_eq!(run(0x9ac20c20, "sdiv x0, x1, x2", [(-7i64) as u64, 2, 0, 0], 0).0, (-3i64) as u64);
        assert_eq!(run(0x9ac20c20, "sdiv x0, x1, x2", [1 << 63, u64::MAX, 0, 0], 0).0, 1 << 63);
        assert_eq!(run(0x9ac20c20, "sdiv x0, x1, x2", [1 << 63, 0, 0, 0], 0).0, 0);
        assert_eq!(run(0x1ac20c20, "sdiv w0, w1, w2", [0x8000_0000, 0xffff_ffff, 0, 0], 0).0, 0x8000_0000);
        assert_eq!(run(0x1ac20c20, "sdiv w0, w1, w2", [(-7i64) as u64, 2, 0, 0], 0).0, 0xffff_fffd);
    }

    #[test]
    fn variable_shifts() {
        let x = 0x8000_0000_8000_0001u64;
        assert_eq!(run(0x9ac22020, "lsl x0, x1, x2", [x, 65, 0, 0], 0).0, x << 1);
        assert_eq!(run(0x1ac22020, "lsl w0, w1, w2", [x, 33, 0, 0], 0).0, 2);
        assert_eq!(run(0x9ac22420, "lsr x0, x1, x2", [x, 63, 0, 0], 0).0, 1);
        assert_eq!(run(0x1ac22420, "lsr w0, w1, w2", [x, 31, 0, 0], 0).0, 1);
        assert_eq!(run(0x9ac22820, "asr x0, x1, x2", [x, 127, 0, 0], 0).0, u64::MAX);
        assert_eq!(run(0x1ac22820, "asr w0, w1, w2", [x, 31, 0, 0], 0).0, 0xffff_ffff);
        assert_eq!(run(0x9ac22c20, "ror x0, x1, x2", [x, 1, 0, 0], 0).0, x.rotate_right(1));
        assert_eq!(run(0x1ac22c20, "ror w0, w1, w2", [x, 32, 0, 0], 0).0, 0x8000_0001);
    }

    #[test]
    fn multiply() {
        assert_eq!(run(0x9b020c20, "madd x0, x1, x2, x3", [3, 4, 5, 0], 0).0, 17);
        assert_eq!(run(0x1b028c20, "msub w0, w1, w2, w3", [3, 4, 5, 0], 0).0, 0xffff_fff9);
        assert_eq!(run(0x9b027c20, "mul x0, x1, x2", [u64::MAX, u64::MAX, 0, 0], 0).0, 1);
        assert_eq!(run(0x1b02fc20, "mneg w0, w1, w2", [3, 4, 0, 0], 0).0, 0xffff_fff4);
        assert_eq!(run(0x9b220c20, "smaddl x0, w1, w2, x3", [u64::MAX, 2, 1, 0], 0).0, u64::MAX);
        assert_eq!(
            run(0x9b228c20, "smsubl x0, w1, w2, x3", [0x8000_0000, 0x8000_0000, 0, 0], 0).0,
            (-(1i64 << 62)) as u64
        );
        assert_eq!(run(0x9ba20c20, "umaddl x0, w1, w2, x3", [u64::MAX, u64::MAX, 1, 0], 0).0, 0xffff_fffe_0000_0002);
        assert_eq!(run(0x9ba28c20, "umsubl x0, w1, w2, x3", [2, 3, 0, 0], 0).0, (-6i64) as u64);
        assert_eq!(run(0x9b227c20, "smull x0, w1, w2", [0xffff_ffff, 0xffff_ffff, 0, 0], 0).0, 1);
        assert_eq!(run(0x9b427c20, "smulh x0, x1, x2", [u64::MAX, u64::MAX, 0, 0], 0).0, 0);
        assert_eq!(run(0x9b427c20, "smulh x0, x1, x2", [1 << 63, 1 << 63, 0, 0], 0).0, 1 << 62);
        assert_eq!(run(0x9bc27c20, "umulh x0, x1, x2", [u64::MAX, u64::MAX, 0, 0], 0).0, u64::MAX - 1);
    }

    /// Aliases decode as their base instruction and run as such.
    #[test]
    fn more_aliases() {
        assert_eq!(run(0xb3780fe0, "bfc x0, #0x8, #0x4", [0; 4], 0).0, 0x5555_5555_5555_5055);
        assert_eq!(run(0x33040fe0, "bfc w0, #0x1c, #0x4", [0; 4], 0).0, 0x0555_5555);
        assert_eq!(run(0x9ba27c20, "umull x0, w1, w2", [0xffff_ffff_0000_0003, 5, 0, 0], 0).0, 15);
        assert_eq!(run(0x9b22fc20, "smnegl x0, w1, w2", [0xffff_ffff, 5, 0, 0], 0).0, 5);
        assert_eq!(run(0x9ba2fc20, "umnegl x0, w1, w2", [2, 3, 0, 0], 0).0, (-6i64) as u64);
        assert_eq!(run(0x7a0103e0, "ngcs w0, w1", [0, 0, 0, 0], C), (0, Z | C));
        assert_eq!(run(0xeb810fe0, "negs x0, x1, asr #3", [8, 0, 0, 0], 0), (u64::MAX, N));
        assert_eq!(run(0x6a02103f, "tst w1, w2, lsl #4", [0x10, 1, 0, 0], Z | C | V), (X, 0));
        assert_eq!(run(0xeb22c83f, "cmp x1, w2, sxtw #2", [(-4i64) as u64, 0xffff_ffff, 0, 0], 0), (X, Z | C));
        let mut m = machine();
        m.cpu.sp = u64::MAX;
        exec(&mut m, 0xb10007ff, "cmn sp, #0x1").unwrap();
        assert_eq!(m.cpu.nzcv, Z | C);
        m.cpu.sp = 0x1_2345_6789;
        exec(&mut m, 0x110003e0, "mov w0, wsp").unwrap();
        assert_eq!(m.cpu.x[0], 0x2345_6789);
    }

    #[test]
    fn crc32() {
        // Standard check values ("123456789", init and final inversion done here).
        let data = b"123456789";
        for (word, text, want) in
            [(0x1ac24020u32, "crc32b w0, w1, w2", 0xcbf4_3926u64), (0x1ac25020, "crc32cb w0, w1, w2", 0xe306_9283)]
        {
            let mut m = machine();
            m.cpu.x[1] = 0xffff_ffff;
            for &b in data {
                m.cpu.x[2] = b as u64 | 0xffff_ff00; // upper bits of Rm are ignored
                exec(&mut m, word, text).unwrap();
                m.cpu.x[1] = m.cpu.x[0];
            }
            assert_eq!(m.cpu.x[0] ^ 0xffff_ffff, want, "{text}");
        }
        // The wide forms equal a sequence of byte steps.
        let v = 0x0123_4567_89ab_cdefu64;
        let (x, _) = run(0x9ac24c20, "crc32x w0, w1, x2", [0x1234_5678, v, 0, 0], 0);
        let mut acc = 0x1234_5678u64;
        for i in 0..8 {
            acc = run(0x1ac24020, "crc32b w0, w1, w2", [acc, v >> (8 * i), 0, 0], 0).0;
        }
        assert_eq!(x, acc);
        let (h, _) = run(0x1ac25420, "crc32ch w0, w1, w2", [7, 0xabcd, 0, 0], 0);
        let b0 = run(0x1ac25020, "crc32cb w0, w1, w2", [7, 0xcd, 0, 0], 0).0;
        assert_eq!(h, run(0x1ac25020, "crc32cb w0, w1, w2", [b0, 0xab, 0, 0], 0).0);
    }
}
