//! Encoding templates of the scalar floating-point classes (Arm ARM C4.1.96, "Data
//! Processing -- Scalar Floating-Point and Advanced SIMD": FP data-processing 1/2/3 source,
//! compare, conditional compare, conditional select, immediate, and the conversions between
//! FP and integer / fixed point), bit by bit from the encoding diagrams.
//!
//! Only allocated encodings that deja implements are generated (a SIGILL would end a batch
//! under qemu): single and double precision for arithmetic (FP16 arithmetic is FEAT_FP16,
//! which deja does not implement), half precision only for FMOV, FCSEL and FCVT. The random
//! register state (`gen_state`) has FP specials in the vector registers and random FPCR
//! rounding modes, FZ, DN and AHP, so NaN propagation, flush-to-zero, rounding and the FPSR
//! flags are all exercised. FJCVTZS runs only with FPCR.FZ clear (`super::fz_clear`: a qemu 7.2
//! bug with flushed denormals).

use super::Class::Fp;
use super::Field::{Imm, OneOf, R, V};
use super::Template;

/// ftype values of single and double precision.
const SD: &[u32] = &[0, 1];

pub static TEMPLATES: &[Template] = &[
    // FP data-processing (1 source): M 0 S 11110 ftype 1 opcode 10000 Rn Rd
    Template {
        name: "FMOV/FABS/FNEG/FSQRT/FRINT*/FRINT32*/FRINT64* (scalar)",
        class: Fp,
        base: 0x1e20_4000,
        fields: &[OneOf(22, 2, SD), OneOf(15, 6, &[0, 1, 2, 3, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19]), V(5), V(0)],
    },
    Template {
        name: "FMOV/FABS/FNEG (half)",
        class: Fp,
        base: 0x1ee0_4000,
        fields: &[OneOf(15, 6, &[0, 1, 2]), V(5), V(0)],
    },
    Template { name: "FCVT (from single)", class: Fp, base: 0x1e20_4000, fields: &[OneOf(15, 6, &[5, 7]), V(5), V(0)] },
    Template { name: "FCVT (from double)", class: Fp, base: 0x1e60_4000, fields: &[OneOf(15, 6, &[4, 7]), V(5), V(0)] },
    Template { name: "FCVT (from half)", class: Fp, base: 0x1ee0_4000, fields: &[OneOf(15, 6, &[4, 5]), V(5), V(0)] },
    // FP data-processing (2 source): M 0 S 11110 ftype 1 Rm opcode 10 Rn Rd
    Template {
        name: "FMUL/FDIV/FADD/FSUB/FMAX/FMIN/FMAXNM/FMINNM/FNMUL",
        class: Fp,
        base: 0x1e20_0800,
        fields: &[OneOf(22, 2, SD), V(16), OneOf(12, 4, &[0, 1, 2, 3, 4, 5, 6, 7, 8]), V(5), V(0)],
    },
    // FP data-processing (3 source): M 0 S 11111 ftype o1 Rm o0 Ra Rn Rd
    Template {
        name: "FMADD/FMSUB/FNMADD/FNMSUB",
        class: Fp,
        base: 0x1f00_0000,
        fields: &[OneOf(22, 2, SD), Imm(21, 1), V(16), Imm(15, 1), V(10), V(5), V(0)],
    },
    // FP compare: M 0 S 11110 ftype 1 Rm op 1000 Rn opcode2
    Template {
        name: "FCMP/FCMPE",
        class: Fp,
        base: 0x1e20_2000,
        fields: &[OneOf(22, 2, SD), V(16), V(5), OneOf(0, 5, &[0, 8, 16, 24])],
    },
    // FP conditional compare: M 0 S 11110 ftype 1 Rm cond 01 Rn op nzcv
    Template {
        name: "FCCMP/FCCMPE",
        class: Fp,
        base: 0x1e20_0400,
        fields: &[OneOf(22, 2, SD), V(16), Imm(12, 4), V(5), Imm(4, 1), Imm(0, 4)],
    },
    // FP conditional select: M 0 S 11110 ftype 1 Rm cond 11 Rn Rd
    Template {
        name: "FCSEL",
        class: Fp,
        base: 0x1e20_0c00,
        fields: &[OneOf(22, 2, &[0, 1, 3]), V(16), Imm(12, 4), V(5), V(0)],
    },
    // FP immediate: M 0 S 11110 ftype 1 imm8 100 imm5 Rd
    Template {
        name: "FMOV (immediate)",
        class: Fp,
        base: 0x1e20_1000,
        fields: &[OneOf(22, 2, &[0, 1, 3]), Imm(13, 8), V(0)],
    },
    // Conversion between FP and integer: sf 0 S 11110 ftype 1 rmode opcode 000000 Rn Rd
    Template {
        name: "FCVT[NPMZ][SU] (to general)",
        class: Fp,
        base: 0x1e20_0000,
        fields: &[Imm(31, 1), OneOf(22, 2, SD), Imm(19, 2), OneOf(16, 3, &[0, 1]), V(5), R(0)],
    },
    Template {
        name: "FCVTA[SU] (to general)",
        class: Fp,
        base: 0x1e24_0000,
        fields: &[Imm(31, 1), OneOf(22, 2, SD), Imm(16, 1), V(5), R(0)],
    },
    Template {
        name: "SCVTF/UCVTF (general)",
        class: Fp,
        base: 0x1e22_0000,
        fields: &[Imm(31, 1), OneOf(22, 2, SD), Imm(16, 1), R(5), V(0)],
    },
    Template { name: "FMOV W<->S", class: Fp, base: 0x1e26_0000, fields: &[Imm(16, 1), R(5), R(0)] },
    Template { name: "FMOV X<->D", class: Fp, base: 0x9e66_0000, fields: &[Imm(16, 1), R(5), R(0)] },
    Template { name: "FMOV W/X<->H", class: Fp, base: 0x1ee6_0000, fields: &[Imm(31, 1), Imm(16, 1), R(5), R(0)] },
    Template { name: "FMOV X<->V.D[1]", class: Fp, base: 0x9eae_0000, fields: &[Imm(16, 1), R(5), R(0)] },
    // FJCVTZS Wd, Dn (FEAT_JSCVT): cases holding it run with FPCR.FZ clear (`super::fz_clear`).
    Template { name: "FJCVTZS", class: Fp, base: 0x1e7e_0000, fields: &[V(5), R(0)] },
    // Conversion between FP and fixed point: sf 0 S 11110 ftype 0 rmode opcode scale Rn Rd
    // (rmode:opcode = 11:000 FCVTZS, 11:001 FCVTZU, 00:010 SCVTF, 00:011 UCVTF).
    Template {
        name: "FCVTZ[SU]/[SU]CVTF (fixed point, 64-bit)",
        class: Fp,
        base: 0x9e00_0000,
        fields: &[OneOf(22, 2, SD), OneOf(16, 5, &[0b11000, 0b11001, 0b00010, 0b00011]), Imm(10, 6), R(5), R(0)],
    },
    Template {
        name: "FCVTZ[SU]/[SU]CVTF (fixed point, 32-bit)",
        class: Fp,
        base: 0x1e00_8000,
        fields: &[OneOf(22, 2, SD), OneOf(16, 5, &[0b11000, 0b11001, 0b00010, 0b00011]), Imm(10, 5), R(5), R(0)],
    },
];
