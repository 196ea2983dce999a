//! Encoding templates of the integer data-processing classes (Arm ARM C4.1.86 "Data
//! Processing -- Immediate" and C4.1.87 "Data Processing -- Register"), bit by bit from the
//! encoding diagrams. Fields the templates leave random also produce unallocated encodings
//! (e.g. a W form with imm6 >= 32); the generator drops what yaxpeax-arm (with deja's
//! corrections in decoders/src/aarch64.rs) does not decode.

use super::Class::{IntImm, IntReg};
use super::Field::{Imm, OneOf, Same, R};
use super::Template;

/// immr:imms (immr in bits 11..6) of LSL #sh for sh in 0..W, as UBFM encodes it.
const fn lsl_pairs<const W: usize>() -> [u32; W] {
    let mut a = [0u32; W];
    let mut sh = 0;
    while sh < W {
        let immr = ((W - sh) % W) as u32;
        let imms = (W - 1 - sh) as u32;
        a[sh] = (immr << 6) | imms;
        sh += 1;
    }
    a
}
static LSL_X: [u32; 64] = lsl_pairs::<64>();
static LSL_W: [u32; 32] = lsl_pairs::<32>();

pub static TEMPLATES: &[Template] = &[
    // ---- Data Processing -- Immediate ----
    // PC-rel. addressing: op immlo 10000 immhi Rd
    Template { name: "ADR", class: IntImm, base: 0x1000_0000, fields: &[Imm(29, 2), Imm(5, 19), R(0)] },
    Template { name: "ADRP", class: IntImm, base: 0x9000_0000, fields: &[Imm(29, 2), Imm(5, 19), R(0)] },
    // Add/subtract (immediate): sf op S 100010 sh imm12 Rn Rd
    Template {
        name: "ADD/ADDS/SUB/SUBS (immediate)",
        class: IntImm,
        base: 0x1100_0000,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(29, 1), Imm(22, 1), Imm(10, 12), R(5), R(0)],
    },
    // Logical (immediate): sf opc 100100 N immr imms Rn Rd
    Template {
        name: "AND/ORR/EOR/ANDS (immediate)",
        class: IntImm,
        base: 0x1200_0000,
        fields: &[Imm(31, 1), Imm(29, 2), Imm(22, 1), Imm(16, 6), Imm(10, 6), R(5), R(0)],
    },
    // Move wide (immediate): sf opc 100101 hw imm16 Rd (opc 01 unallocated)
    Template {
        name: "MOVN/MOVZ/MOVK",
        class: IntImm,
        base: 0x1280_0000,
        fields: &[Imm(31, 1), OneOf(29, 2, &[0, 2, 3]), Imm(21, 2), Imm(5, 16), R(0)],
    },
    // Bitfield: sf opc 100110 N immr imms Rn Rd (N = sf; opc 11 unallocated)
    Template {
        name: "SBFM/BFM/UBFM (32-bit)",
        class: IntImm,
        base: 0x1300_0000,
        fields: &[OneOf(29, 2, &[0, 1, 2]), Imm(16, 5), Imm(10, 5), R(5), R(0)],
    },
    Template {
        name: "SBFM/BFM/UBFM (64-bit)",
        class: IntImm,
        base: 0x9340_0000,
        fields: &[OneOf(29, 2, &[0, 1, 2]), Imm(16, 6), Imm(10, 6), R(5), R(0)],
    },
    // Aliases: SXTB/SXTH/SXTW, UXTB/UXTH (immr = 0, imms = 7/15/31).
    Template {
        name: "SXT*/UXT* (32-bit)",
        class: IntImm,
        base: 0x1300_0000,
        fields: &[OneOf(29, 2, &[0, 2]), OneOf(10, 6, &[7, 15]), R(5), R(0)],
    },
    Template {
        name: "SXT*/UXT* (64-bit)",
        class: IntImm,
        base: 0x9340_0000,
        fields: &[OneOf(29, 2, &[0, 2]), OneOf(10, 6, &[7, 15, 31]), R(5), R(0)],
    },
    // ASR/LSR (immediate): imms = width - 1.
    Template {
        name: "ASR/LSR (immediate, 64-bit)",
        class: IntImm,
        base: 0x9340_fc00,
        fields: &[OneOf(29, 2, &[0, 2]), Imm(16, 6), R(5), R(0)],
    },
    Template {
        name: "ASR/LSR (immediate, 32-bit)",
        class: IntImm,
        base: 0x1300_7c00,
        fields: &[OneOf(29, 2, &[0, 2]), Imm(16, 5), R(5), R(0)],
    },
    // LSL (immediate): UBFM with immr = -sh MOD width, imms = width - 1 - sh.
    Template {
        name: "LSL (immediate, 64-bit)",
        class: IntImm,
        base: 0xd340_0000,
        fields: &[OneOf(10, 12, &LSL_X), R(5), R(0)],
    },
    Template {
        name: "LSL (immediate, 32-bit)",
        class: IntImm,
        base: 0x5300_0000,
        fields: &[OneOf(10, 12, &LSL_W), R(5), R(0)],
    },
    // Extract: sf op21 100111 N o0 Rm imms Rn Rd
    Template { name: "EXTR (32-bit)", class: IntImm, base: 0x1380_0000, fields: &[R(16), Imm(10, 5), R(5), R(0)] },
    Template { name: "EXTR (64-bit)", class: IntImm, base: 0x93c0_0000, fields: &[R(16), Imm(10, 6), R(5), R(0)] },
    Template {
        name: "ROR (immediate, 32-bit)",
        class: IntImm,
        base: 0x1380_0000,
        fields: &[Imm(10, 5), R(5), Same(16, 5), R(0)],
    },
    Template {
        name: "ROR (immediate, 64-bit)",
        class: IntImm,
        base: 0x93c0_0000,
        fields: &[Imm(10, 6), R(5), Same(16, 5), R(0)],
    },
    // ---- Data Processing -- Register ----
    // Logical (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd
    Template {
        name: "AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register)",
        class: IntReg,
        base: 0x0a00_0000,
        fields: &[Imm(31, 1), Imm(29, 2), Imm(22, 2), Imm(21, 1), R(16), Imm(10, 6), R(5), R(0)],
    },
    // Add/subtract (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd (shift 11 reserved)
    Template {
        name: "ADD/ADDS/SUB/SUBS (shifted register)",
        class: IntReg,
        base: 0x0b00_0000,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(29, 1), OneOf(22, 2, &[0, 1, 2]), R(16), Imm(10, 6), R(5), R(0)],
    },
    // Add/subtract (extended register): sf op S 01011 00 1 Rm option imm3 Rn Rd (imm3 <= 4)
    Template {
        name: "ADD/ADDS/SUB/SUBS (extended register)",
        class: IntReg,
        base: 0x0b20_0000,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(29, 1), R(16), Imm(13, 3), OneOf(10, 3, &[0, 1, 2, 3, 4]), R(5), R(0)],
    },
    // Add/subtract (with carry): sf op S 11010000 Rm 000000 Rn Rd
    Template {
        name: "ADC/ADCS/SBC/SBCS",
        class: IntReg,
        base: 0x1a00_0000,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(29, 1), R(16), R(5), R(0)],
    },
    // Conditional compare (register): sf op 1 11010010 Rm cond 0 0 Rn 0 nzcv
    Template {
        name: "CCMN/CCMP (register)",
        class: IntReg,
        base: 0x3a40_0000,
        fields: &[Imm(31, 1), Imm(30, 1), R(16), Imm(12, 4), R(5), Imm(0, 4)],
    },
    // Conditional compare (immediate): sf op 1 11010010 imm5 cond 1 0 Rn 0 nzcv
    Template {
        name: "CCMN/CCMP (immediate)",
        class: IntReg,
        base: 0x3a40_0800,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(16, 5), Imm(12, 4), R(5), Imm(0, 4)],
    },
    // Conditional select: sf op 0 11010100 Rm cond 0 o2 Rn Rd
    Template {
        name: "CSEL/CSINC/CSINV/CSNEG",
        class: IntReg,
        base: 0x1a80_0000,
        fields: &[Imm(31, 1), Imm(30, 1), R(16), Imm(12, 4), Imm(10, 1), R(5), R(0)],
    },
    Template {
        name: "CINC/CINV/CNEG (Rm = Rn)",
        class: IntReg,
        base: 0x1a80_0000,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(12, 4), Imm(10, 1), R(5), Same(16, 5), R(0)],
    },
    Template {
        name: "CSET/CSETM (Rn = Rm = ZR)",
        class: IntReg,
        base: 0x1a9f_03e0,
        fields: &[Imm(31, 1), Imm(30, 1), Imm(12, 4), Imm(10, 1), R(0)],
    },
    // Data-processing (1 source): sf 1 0 11010110 00000 opcode Rn Rd
    Template {
        name: "RBIT/REV16/REV/REV32/CLZ/CLS",
        class: IntReg,
        base: 0x5ac0_0000,
        fields: &[Imm(31, 1), OneOf(10, 6, &[0, 1, 2, 3, 4, 5]), R(5), R(0)],
    },
    // Data-processing (2 source): sf 0 0 11010110 Rm opcode Rn Rd
    Template {
        name: "UDIV/SDIV/LSLV/LSRV/ASRV/RORV",
        class: IntReg,
        base: 0x1ac0_0000,
        fields: &[Imm(31, 1), R(16), OneOf(10, 6, &[2, 3, 8, 9, 10, 11]), R(5), R(0)],
    },
    Template {
        name: "CRC32B/H/W/X, CRC32CB/H/W/X",
        class: IntReg,
        base: 0x1ac0_0000,
        fields: &[Imm(31, 1), R(16), OneOf(10, 6, &[16, 17, 18, 19, 20, 21, 22, 23]), R(5), R(0)],
    },
    // Data-processing (3 source): sf op54 11011 op31 Rm o0 Ra Rn Rd
    Template {
        name: "MADD/MSUB",
        class: IntReg,
        base: 0x1b00_0000,
        fields: &[Imm(31, 1), R(16), Imm(15, 1), R(10), R(5), R(0)],
    },
    Template {
        name: "MUL/MNEG (Ra = ZR)",
        class: IntReg,
        base: 0x1b00_7c00,
        fields: &[Imm(31, 1), R(16), Imm(15, 1), R(5), R(0)],
    },
    Template {
        name: "SMADDL/SMSUBL/UMADDL/UMSUBL",
        class: IntReg,
        base: 0x9b20_0000,
        fields: &[Imm(23, 1), R(16), Imm(15, 1), R(10), R(5), R(0)],
    },
    // SMULH/UMULH: Ra is (1)(1)(1)(1)(1): should-be-one, so always 31 here.
    Template { name: "SMULH/UMULH", class: IntReg, base: 0x9b40_7c00, fields: &[Imm(23, 1), R(16), R(5), R(0)] },
];
