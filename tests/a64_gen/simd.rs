//! Encoding templates of the Advanced SIMD classes (Arm ARM C4.1.96), vector and scalar,
//! bit by bit from the encoding diagrams: three same (integer, logical, FP), two-register
//! miscellaneous (integer, FP), across lanes, three different, shift by immediate, modified
//! immediate, copy, permute, EXT, table lookup, by element, the three-register extension
//! (SQRDMLAH, SDOT, FCMLA, FCADD), scalar pairwise, and the AES/SHA1/SHA256 instructions.
//!
//! Each template only produces allocated encodings (reserved size/Q combinations, e.g. a
//! 64-bit element in a 64-bit vector, are split into templates of their own or left out), and
//! no FP16 forms (FEAT_FP16 is not implemented), so neither qemu nor deja raises SIGILL.

use super::Class::Simd;
use super::Field::{Imm, OneOf, R, V};
use super::Template;

const BHS: &[u32] = &[0, 1, 2];
const HS: &[u32] = &[1, 2];
/// imm5 of the copy class for B, H, S and D elements.
const IMM5_BHS: &[u32] = &[1, 3, 5, 7, 9, 13, 17, 31, 2, 6, 10, 14, 22, 30, 4, 12, 20, 28];
const IMM5_BH: &[u32] = &[1, 3, 5, 7, 9, 13, 17, 31, 2, 6, 10, 14, 22, 30];
const IMM5_ALL: &[u32] = &[1, 3, 5, 7, 9, 13, 17, 31, 2, 6, 10, 14, 22, 30, 4, 12, 20, 28, 8, 24];
const IMM5_D: &[u32] = &[8, 24];
/// immh of shifts by immediate: 8-, 16-, 32-bit elements, and 64-bit ones.
const IMMH_BHS: &[u32] = &[1, 2, 3, 4, 5, 6, 7];
const IMMH_D: &[u32] = &[8, 9, 10, 11, 12, 13, 14, 15];
const IMMH_ALL: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const IMMH_SD: &[u32] = &[4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const IMMH_S: &[u32] = &[4, 5, 6, 7];

/// `0 Q U 01110 size 1 Rm opcode 1 Rn Rd`
const THREE_SAME: u32 = 0x0e20_0400;
/// `01 U 11110 size 1 Rm opcode 1 Rn Rd`
const SCALAR_THREE_SAME: u32 = 0x5e20_0400;
/// `0 Q U 01110 size 10000 opcode 10 Rn Rd`
const TWO_MISC: u32 = 0x0e20_0800;
/// `01 U 11110 size 10000 opcode 10 Rn Rd`
const SCALAR_TWO_MISC: u32 = 0x5e20_0800;

pub static TEMPLATES: &[Template] = &[
    // ---- Three same ----
    Template {
        name: "three same (integer, B/H/S)",
        class: Simd,
        base: THREE_SAME,
        fields: &[
            Imm(30, 1),
            Imm(29, 1),
            OneOf(22, 2, BHS),
            V(16),
            OneOf(11, 5, &[0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21]),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "three same (integer, 2D)",
        class: Simd,
        base: THREE_SAME | 1 << 30 | 3 << 22,
        fields: &[Imm(29, 1), V(16), OneOf(11, 5, &[1, 5, 6, 7, 8, 9, 10, 11, 16, 17]), V(5), V(0)],
    },
    Template {
        name: "MUL/ADDP (vector)",
        class: Simd,
        base: THREE_SAME,
        fields: &[Imm(30, 1), OneOf(22, 2, BHS), V(16), OneOf(11, 5, &[19, 23]), V(5), V(0)],
    },
    Template { name: "ADDP (2D)", class: Simd, base: 0x4ee0_bc00, fields: &[V(16), V(5), V(0)] },
    Template { name: "PMUL", class: Simd, base: 0x2e20_9c00, fields: &[Imm(30, 1), V(16), V(5), V(0)] },
    Template {
        name: "SQDMULH/SQRDMULH (vector)",
        class: Simd,
        base: THREE_SAME | 22 << 11,
        fields: &[Imm(30, 1), Imm(29, 1), OneOf(22, 2, HS), V(16), V(5), V(0)],
    },
    Template {
        name: "AND/BIC/ORR/ORN/EOR/BSL/BIT/BIF",
        class: Simd,
        base: THREE_SAME | 3 << 11,
        fields: &[Imm(30, 1), Imm(29, 1), Imm(22, 2), V(16), V(5), V(0)],
    },
    Template {
        name: "three same (scalar, any size)",
        class: Simd,
        base: SCALAR_THREE_SAME,
        fields: &[Imm(29, 1), Imm(22, 2), V(16), OneOf(11, 5, &[1, 5, 9, 11]), V(5), V(0)],
    },
    Template {
        name: "three same (scalar, D)",
        class: Simd,
        base: SCALAR_THREE_SAME | 3 << 22,
        fields: &[Imm(29, 1), V(16), OneOf(11, 5, &[6, 7, 8, 10, 16, 17]), V(5), V(0)],
    },
    Template {
        name: "SQDMULH/SQRDMULH (scalar)",
        class: Simd,
        base: SCALAR_THREE_SAME | 22 << 11,
        fields: &[Imm(29, 1), OneOf(22, 2, HS), V(16), V(5), V(0)],
    },
    // FP three same: opcode 11xxx; key U:a:opcode<2:0>.
    Template {
        name: "FMAXNM/FMLA/FADD/FMULX/FCMEQ/FMAX/FRECPS (vector, S)",
        class: Simd,
        base: THREE_SAME | 0b11000 << 11,
        fields: &[Imm(30, 1), V(16), OneOf(11, 3, &[0, 1, 2, 3, 4, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "FMAXNM/FMLA/FADD/FMULX/FCMEQ/FMAX/FRECPS (vector, 2D)",
        class: Simd,
        base: THREE_SAME | 0b11000 << 11 | 1 << 30 | 1 << 22,
        fields: &[V(16), OneOf(11, 3, &[0, 1, 2, 3, 4, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "FMINNM/FMLS/FSUB/FMIN/FRSQRTS (vector, S)",
        class: Simd,
        base: THREE_SAME | 1 << 23 | 0b11000 << 11,
        fields: &[Imm(30, 1), V(16), OneOf(11, 3, &[0, 1, 2, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "FMINNM/FMLS/FSUB/FMIN/FRSQRTS (vector, 2D)",
        class: Simd,
        base: THREE_SAME | 1 << 23 | 0b11000 << 11 | 1 << 30 | 1 << 22,
        fields: &[V(16), OneOf(11, 3, &[0, 1, 2, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "FMAXNMP/FADDP/FMUL/FCMGE/FACGE/FMAXP/FDIV (vector, S)",
        class: Simd,
        base: THREE_SAME | 1 << 29 | 0b11000 << 11,
        fields: &[Imm(30, 1), V(16), OneOf(11, 3, &[0, 2, 3, 4, 5, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "FMAXNMP/FADDP/FMUL/FCMGE/FACGE/FMAXP/FDIV (vector, 2D)",
        class: Simd,
        base: THREE_SAME | 1 << 29 | 0b11000 << 11 | 1 << 30 | 1 << 22,
        fields: &[V(16), OneOf(11, 3, &[0, 2, 3, 4, 5, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "FMINNMP/FABD/FCMGT/FACGT/FMINP (vector, S)",
        class: Simd,
        base: THREE_SAME | 1 << 29 | 1 << 23 | 0b11000 << 11,
        fields: &[Imm(30, 1), V(16), OneOf(11, 3, &[0, 2, 4, 5, 6]), V(5), V(0)],
    },
    Template {
        name: "FMINNMP/FABD/FCMGT/FACGT/FMINP (vector, 2D)",
        class: Simd,
        base: THREE_SAME | 1 << 29 | 1 << 23 | 0b11000 << 11 | 1 << 30 | 1 << 22,
        fields: &[V(16), OneOf(11, 3, &[0, 2, 4, 5, 6]), V(5), V(0)],
    },
    Template {
        name: "FMULX/FCMEQ/FRECPS (scalar)",
        class: Simd,
        base: SCALAR_THREE_SAME | 0b11000 << 11,
        fields: &[Imm(22, 1), V(16), OneOf(11, 3, &[3, 4, 7]), V(5), V(0)],
    },
    Template {
        name: "FRSQRTS (scalar)",
        class: Simd,
        base: SCALAR_THREE_SAME | 1 << 23 | 0b11111 << 11,
        fields: &[Imm(22, 1), V(16), V(5), V(0)],
    },
    Template {
        name: "FCMGE/FACGE/FABD/FCMGT/FACGT (scalar)",
        class: Simd,
        base: SCALAR_THREE_SAME | 1 << 29 | 0b11000 << 11,
        fields: &[Imm(23, 1), Imm(22, 1), V(16), OneOf(11, 3, &[4, 5]), V(5), V(0)],
    },
    Template {
        name: "FABD (scalar)",
        class: Simd,
        base: SCALAR_THREE_SAME | 1 << 29 | 1 << 23 | 0b11010 << 11,
        fields: &[Imm(22, 1), V(16), V(5), V(0)],
    },
    // ---- Two-register miscellaneous ----
    Template {
        name: "two-reg misc (integer, B/H/S)",
        class: Simd,
        base: TWO_MISC,
        fields: &[
            Imm(30, 1),
            Imm(29, 1),
            OneOf(22, 2, BHS),
            OneOf(12, 5, &[2, 3, 4, 6, 7, 8, 9, 11, 18, 20]),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "two-reg misc (integer, 2D)",
        class: Simd,
        base: TWO_MISC | 1 << 30 | 3 << 22,
        fields: &[Imm(29, 1), OneOf(12, 5, &[3, 7, 8, 9, 11]), V(5), V(0)],
    },
    Template {
        name: "CMLT (zero)",
        class: Simd,
        base: TWO_MISC | 10 << 12,
        fields: &[Imm(30, 1), OneOf(22, 2, BHS), V(5), V(0)],
    },
    Template { name: "REV64", class: Simd, base: TWO_MISC, fields: &[Imm(30, 1), OneOf(22, 2, BHS), V(5), V(0)] },
    Template { name: "REV32", class: Simd, base: TWO_MISC | 1 << 29, fields: &[Imm(30, 1), Imm(22, 1), V(5), V(0)] },
    Template {
        name: "REV16/CNT",
        class: Simd,
        base: TWO_MISC,
        fields: &[Imm(30, 1), OneOf(12, 5, &[1, 5]), V(5), V(0)],
    },
    Template {
        name: "NOT/RBIT",
        class: Simd,
        base: TWO_MISC | 1 << 29 | 5 << 12,
        fields: &[Imm(30, 1), Imm(22, 1), V(5), V(0)],
    },
    Template {
        name: "SHLL",
        class: Simd,
        base: TWO_MISC | 1 << 29 | 19 << 12,
        fields: &[Imm(30, 1), OneOf(22, 2, BHS), V(5), V(0)],
    },
    Template {
        name: "SUQADD/USQADD/SQABS/SQNEG (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC,
        fields: &[Imm(29, 1), Imm(22, 2), OneOf(12, 5, &[3, 7]), V(5), V(0)],
    },
    Template {
        name: "SQXTN/UQXTN/SQXTUN (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC | 1 << 29,
        fields: &[OneOf(22, 2, BHS), OneOf(12, 5, &[18, 20]), V(5), V(0)],
    },
    Template {
        name: "SQXTN (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC | 20 << 12,
        fields: &[OneOf(22, 2, BHS), V(5), V(0)],
    },
    Template {
        name: "CMGT/CMGE/CMEQ/CMLE (zero)/ABS/NEG (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC | 3 << 22,
        fields: &[Imm(29, 1), OneOf(12, 5, &[8, 9, 11]), V(5), V(0)],
    },
    Template {
        name: "CMLT (zero, scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC | 3 << 22 | 10 << 12,
        fields: &[V(5), V(0)],
    },
    // FP two-register miscellaneous: key U:a:opcode.
    Template {
        name: "FRINTN/FRINTM/FCVTNS/FCVTMS/FCVTAS/SCVTF/FRINT32Z/FRINT64Z (vector, S)",
        class: Simd,
        base: TWO_MISC,
        fields: &[Imm(30, 1), OneOf(12, 5, &[24, 25, 26, 27, 28, 29, 30, 31]), V(5), V(0)],
    },
    Template {
        name: "FRINTN/FRINTM/FCVTNS/FCVTMS/FCVTAS/SCVTF/FRINT32Z/FRINT64Z (vector, 2D)",
        class: Simd,
        base: TWO_MISC | 1 << 30 | 1 << 22,
        fields: &[OneOf(12, 5, &[24, 25, 26, 27, 28, 29, 30, 31]), V(5), V(0)],
    },
    Template {
        name: "FCM*0/FABS/FRINTP/FRINTZ/FCVTPS/FCVTZS/FRECPE (vector, S)",
        class: Simd,
        base: TWO_MISC | 1 << 23,
        fields: &[Imm(30, 1), OneOf(12, 5, &[12, 13, 14, 15, 24, 25, 26, 27, 29]), V(5), V(0)],
    },
    Template {
        name: "FCM*0/FABS/FRINTP/FRINTZ/FCVTPS/FCVTZS/FRECPE (vector, 2D)",
        class: Simd,
        base: TWO_MISC | 1 << 23 | 1 << 30 | 1 << 22,
        fields: &[OneOf(12, 5, &[12, 13, 14, 15, 24, 25, 26, 27, 29]), V(5), V(0)],
    },
    Template {
        name: "FRINTA/FRINTX/FCVTNU/FCVTMU/FCVTAU/UCVTF/FRINT32X/FRINT64X (vector, S)",
        class: Simd,
        base: TWO_MISC | 1 << 29,
        fields: &[Imm(30, 1), OneOf(12, 5, &[24, 25, 26, 27, 28, 29, 30, 31]), V(5), V(0)],
    },
    Template {
        name: "FRINTA/FRINTX/FCVTNU/FCVTMU/FCVTAU/UCVTF/FRINT32X/FRINT64X (vector, 2D)",
        class: Simd,
        base: TWO_MISC | 1 << 29 | 1 << 30 | 1 << 22,
        fields: &[OneOf(12, 5, &[24, 25, 26, 27, 28, 29, 30, 31]), V(5), V(0)],
    },
    Template {
        name: "FCMGE0/FCMLE0/FNEG/FRINTI/FCVTPU/FCVTZU/FRSQRTE/FSQRT (vector, S)",
        class: Simd,
        base: TWO_MISC | 1 << 29 | 1 << 23,
        fields: &[Imm(30, 1), OneOf(12, 5, &[12, 13, 15, 25, 26, 27, 29, 31]), V(5), V(0)],
    },
    Template {
        name: "FCMGE0/FCMLE0/FNEG/FRINTI/FCVTPU/FCVTZU/FRSQRTE/FSQRT (vector, 2D)",
        class: Simd,
        base: TWO_MISC | 1 << 29 | 1 << 23 | 1 << 30 | 1 << 22,
        fields: &[OneOf(12, 5, &[12, 13, 15, 25, 26, 27, 29, 31]), V(5), V(0)],
    },
    Template {
        name: "URECPE/URSQRTE",
        class: Simd,
        base: TWO_MISC | 1 << 23 | 28 << 12,
        fields: &[Imm(30, 1), Imm(29, 1), V(5), V(0)],
    },
    Template {
        name: "FCVTN(2)/FCVTL(2)",
        class: Simd,
        base: TWO_MISC | 22 << 12,
        fields: &[Imm(30, 1), Imm(22, 1), Imm(12, 1), V(5), V(0)],
    },
    Template {
        name: "FCVTXN(2)",
        class: Simd,
        base: TWO_MISC | 1 << 29 | 1 << 22 | 22 << 12,
        fields: &[Imm(30, 1), V(5), V(0)],
    },
    Template {
        name: "FCVT[NMA][SU]/[SU]CVTF (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC,
        fields: &[Imm(29, 1), Imm(22, 1), OneOf(12, 5, &[26, 27, 28, 29]), V(5), V(0)],
    },
    Template {
        name: "FCM*0/FCVTP*/FCVTZ*/FRECPE/FRSQRTE (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC | 1 << 23,
        fields: &[Imm(29, 1), Imm(22, 1), OneOf(12, 5, &[12, 13, 26, 27, 29]), V(5), V(0)],
    },
    Template {
        name: "FCMLT0/FRECPX (scalar)",
        class: Simd,
        base: SCALAR_TWO_MISC | 1 << 23,
        fields: &[Imm(22, 1), OneOf(12, 5, &[14, 31]), V(5), V(0)],
    },
    Template { name: "FCVTXN (scalar)", class: Simd, base: 0x7e61_6800, fields: &[V(5), V(0)] },
    // ---- Across lanes, scalar pairwise ----
    Template {
        name: "[SU]ADDLV/[SU]MAXV/[SU]MINV (B/H)",
        class: Simd,
        base: 0x0e30_0800,
        fields: &[Imm(30, 1), Imm(29, 1), Imm(22, 1), OneOf(12, 5, &[3, 10, 26]), V(5), V(0)],
    },
    Template {
        name: "[SU]ADDLV/[SU]MAXV/[SU]MINV (4S)",
        class: Simd,
        base: 0x4eb0_0800,
        fields: &[Imm(29, 1), OneOf(12, 5, &[3, 10, 26]), V(5), V(0)],
    },
    Template { name: "ADDV", class: Simd, base: 0x0e31_b800, fields: &[Imm(30, 1), Imm(22, 1), V(5), V(0)] },
    Template { name: "ADDV (4S)", class: Simd, base: 0x4eb1_b800, fields: &[V(5), V(0)] },
    Template {
        name: "FMAXNMV/FMINNMV/FMAXV/FMINV",
        class: Simd,
        base: 0x6e30_0800,
        fields: &[Imm(23, 1), OneOf(12, 5, &[12, 15]), V(5), V(0)],
    },
    Template {
        name: "FMAXNMP/FMINNMP/FMAXP/FMINP (scalar)",
        class: Simd,
        base: 0x7e30_0800,
        fields: &[Imm(23, 1), Imm(22, 1), OneOf(12, 5, &[12, 15]), V(5), V(0)],
    },
    Template { name: "FADDP (scalar)", class: Simd, base: 0x7e30_d800, fields: &[Imm(22, 1), V(5), V(0)] },
    Template { name: "ADDP (scalar)", class: Simd, base: 0x5ef1_b800, fields: &[V(5), V(0)] },
    // ---- Three different ----
    Template {
        name: "three different (long, wide, narrow-high)",
        class: Simd,
        base: 0x0e20_0000,
        fields: &[
            Imm(30, 1),
            Imm(29, 1),
            OneOf(22, 2, BHS),
            V(16),
            OneOf(12, 4, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12]),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "SQDMLAL/SQDMLSL/SQDMULL (vector)",
        class: Simd,
        base: 0x0e20_0000,
        fields: &[Imm(30, 1), OneOf(22, 2, HS), V(16), OneOf(12, 4, &[9, 11, 13]), V(5), V(0)],
    },
    Template {
        name: "PMULL (8-bit, 64-bit)",
        class: Simd,
        base: 0x0e20_e000,
        fields: &[Imm(30, 1), OneOf(22, 2, &[0, 3]), V(16), V(5), V(0)],
    },
    Template {
        name: "SQDMLAL/SQDMLSL/SQDMULL (scalar)",
        class: Simd,
        base: 0x5e20_0000,
        fields: &[OneOf(22, 2, HS), V(16), OneOf(12, 4, &[9, 11, 13]), V(5), V(0)],
    },
    // ---- Shift by immediate: 0 Q U 011110 immh immb opcode 1 Rn Rd ----
    Template {
        name: "shift by immediate (B/H/S)",
        class: Simd,
        base: 0x0f00_0400,
        fields: &[
            Imm(30, 1),
            Imm(29, 1),
            OneOf(19, 4, IMMH_BHS),
            Imm(16, 3),
            OneOf(11, 5, &[0, 2, 4, 6, 10, 14]),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "shift by immediate (2D)",
        class: Simd,
        base: 0x4f00_0400,
        fields: &[Imm(29, 1), OneOf(19, 4, IMMH_D), Imm(16, 3), OneOf(11, 5, &[0, 2, 4, 6, 10, 14]), V(5), V(0)],
    },
    Template {
        name: "SRI/SQSHLU",
        class: Simd,
        base: 0x2f00_0400,
        fields: &[Imm(30, 1), OneOf(19, 4, IMMH_BHS), Imm(16, 3), OneOf(11, 5, &[8, 12]), V(5), V(0)],
    },
    Template {
        name: "SRI/SQSHLU (2D)",
        class: Simd,
        base: 0x6f00_0400,
        fields: &[OneOf(19, 4, IMMH_D), Imm(16, 3), OneOf(11, 5, &[8, 12]), V(5), V(0)],
    },
    Template {
        name: "narrowing shifts (vector)",
        class: Simd,
        base: 0x0f00_0400,
        fields: &[
            Imm(30, 1),
            Imm(29, 1),
            OneOf(19, 4, IMMH_BHS),
            Imm(16, 3),
            OneOf(11, 5, &[16, 17, 18, 19]),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "SSHLL/USHLL",
        class: Simd,
        base: 0x0f00_a400,
        fields: &[Imm(30, 1), Imm(29, 1), OneOf(19, 4, IMMH_BHS), Imm(16, 3), V(5), V(0)],
    },
    Template {
        name: "[SU]CVTF/FCVTZ[SU] (vector, fixed point, S)",
        class: Simd,
        base: 0x0f00_0400,
        fields: &[Imm(30, 1), Imm(29, 1), OneOf(19, 4, IMMH_S), Imm(16, 3), OneOf(11, 5, &[28, 31]), V(5), V(0)],
    },
    Template {
        name: "[SU]CVTF/FCVTZ[SU] (vector, fixed point, 2D)",
        class: Simd,
        base: 0x4f00_0400,
        fields: &[Imm(29, 1), OneOf(19, 4, IMMH_D), Imm(16, 3), OneOf(11, 5, &[28, 31]), V(5), V(0)],
    },
    Template {
        name: "shift by immediate (scalar, D)",
        class: Simd,
        base: 0x5f00_0400,
        fields: &[Imm(29, 1), OneOf(19, 4, IMMH_D), Imm(16, 3), OneOf(11, 5, &[0, 2, 4, 6, 10]), V(5), V(0)],
    },
    Template {
        name: "SRI (scalar)",
        class: Simd,
        base: 0x7f00_4400,
        fields: &[OneOf(19, 4, IMMH_D), Imm(16, 3), V(5), V(0)],
    },
    Template {
        name: "SQSHL/UQSHL/SQSHLU (scalar, immediate)",
        class: Simd,
        base: 0x5f00_0400,
        fields: &[Imm(29, 1), OneOf(19, 4, IMMH_ALL), Imm(16, 3), OneOf(11, 5, &[14]), V(5), V(0)],
    },
    Template {
        name: "SQSHLU (scalar)",
        class: Simd,
        base: 0x7f00_6400,
        fields: &[OneOf(19, 4, IMMH_ALL), Imm(16, 3), V(5), V(0)],
    },
    Template {
        name: "narrowing shifts (scalar)",
        class: Simd,
        base: 0x5f00_0400,
        fields: &[Imm(29, 1), OneOf(19, 4, IMMH_BHS), Imm(16, 3), OneOf(11, 5, &[18, 19]), V(5), V(0)],
    },
    Template {
        name: "SQSHRUN/SQRSHRUN (scalar)",
        class: Simd,
        base: 0x7f00_0400,
        fields: &[OneOf(19, 4, IMMH_BHS), Imm(16, 3), OneOf(11, 5, &[16, 17]), V(5), V(0)],
    },
    Template {
        name: "[SU]CVTF/FCVTZ[SU] (scalar, fixed point)",
        class: Simd,
        base: 0x5f00_0400,
        fields: &[Imm(29, 1), OneOf(19, 4, IMMH_SD), Imm(16, 3), OneOf(11, 5, &[28, 31]), V(5), V(0)],
    },
    // ---- Modified immediate: 0 Q op 0111100000 a b c cmode o2 1 d e f g h Rd ----
    Template {
        name: "MOVI/MVNI/ORR/BIC (vector, immediate)",
        class: Simd,
        base: 0x0f00_0400,
        fields: &[
            Imm(30, 1),
            Imm(29, 1),
            Imm(16, 3),
            OneOf(12, 4, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]),
            Imm(5, 5),
            V(0),
        ],
    },
    Template {
        name: "FMOV (vector, single)",
        class: Simd,
        base: 0x0f00_f400,
        fields: &[Imm(30, 1), Imm(16, 3), Imm(5, 5), V(0)],
    },
    Template { name: "FMOV (vector, double)", class: Simd, base: 0x6f00_f400, fields: &[Imm(16, 3), Imm(5, 5), V(0)] },
    // ---- Copy: 0 Q op 01110000 imm5 0 imm4 1 Rn Rd ----
    Template {
        name: "DUP (element)",
        class: Simd,
        base: 0x0e00_0400,
        fields: &[Imm(30, 1), OneOf(16, 5, IMM5_BHS), V(5), V(0)],
    },
    Template { name: "DUP (element, 2D)", class: Simd, base: 0x4e00_0400, fields: &[OneOf(16, 5, IMM5_D), V(5), V(0)] },
    Template {
        name: "DUP (general)",
        class: Simd,
        base: 0x0e00_0c00,
        fields: &[Imm(30, 1), OneOf(16, 5, IMM5_BHS), R(5), V(0)],
    },
    Template { name: "DUP (general, 2D)", class: Simd, base: 0x4e00_0c00, fields: &[OneOf(16, 5, IMM5_D), R(5), V(0)] },
    Template { name: "SMOV (W)", class: Simd, base: 0x0e00_2c00, fields: &[OneOf(16, 5, IMM5_BH), V(5), R(0)] },
    Template { name: "SMOV (X)", class: Simd, base: 0x4e00_2c00, fields: &[OneOf(16, 5, IMM5_BHS), V(5), R(0)] },
    Template { name: "UMOV (W)", class: Simd, base: 0x0e00_3c00, fields: &[OneOf(16, 5, IMM5_BHS), V(5), R(0)] },
    Template { name: "UMOV (X)", class: Simd, base: 0x4e00_3c00, fields: &[OneOf(16, 5, IMM5_D), V(5), R(0)] },
    Template { name: "INS (general)", class: Simd, base: 0x4e00_1c00, fields: &[OneOf(16, 5, IMM5_ALL), R(5), V(0)] },
    Template {
        name: "INS (element)",
        class: Simd,
        base: 0x6e00_0400,
        fields: &[OneOf(16, 5, IMM5_ALL), Imm(11, 4), V(5), V(0)],
    },
    Template {
        name: "DUP (element, scalar)",
        class: Simd,
        base: 0x5e00_0400,
        fields: &[OneOf(16, 5, IMM5_ALL), V(5), V(0)],
    },
    // ---- Permute, EXT, TBL/TBX ----
    Template {
        name: "UZP1/TRN1/ZIP1/UZP2/TRN2/ZIP2",
        class: Simd,
        base: 0x0e00_0800,
        fields: &[Imm(30, 1), OneOf(22, 2, BHS), V(16), OneOf(12, 3, &[1, 2, 3, 5, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "UZP/TRN/ZIP (2D)",
        class: Simd,
        base: 0x4ec0_0800,
        fields: &[V(16), OneOf(12, 3, &[1, 2, 3, 5, 6, 7]), V(5), V(0)],
    },
    Template { name: "EXT (16B)", class: Simd, base: 0x6e00_0000, fields: &[V(16), Imm(11, 4), V(5), V(0)] },
    Template { name: "EXT (8B)", class: Simd, base: 0x2e00_0000, fields: &[V(16), Imm(11, 3), V(5), V(0)] },
    Template {
        name: "TBL/TBX",
        class: Simd,
        base: 0x0e00_0000,
        fields: &[Imm(30, 1), V(16), Imm(13, 2), Imm(12, 1), V(5), V(0)],
    },
    // ---- By element: 0 Q U 01111 size L M Rm H opcode 0 Rn Rd ----
    Template {
        name: "MUL/[SU]MULL/[SU]MLAL/SQDMULH… (by element)",
        class: Simd,
        base: 0x0f00_0000,
        fields: &[
            Imm(30, 1),
            OneOf(22, 2, HS),
            Imm(21, 1),
            V(16),
            OneOf(12, 4, &[2, 3, 6, 7, 8, 10, 11, 12, 13]),
            Imm(11, 1),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "MLA/MLS/UMULL/UMLAL/SQRDMLAH… (by element)",
        class: Simd,
        base: 0x2f00_0000,
        fields: &[
            Imm(30, 1),
            OneOf(22, 2, HS),
            Imm(21, 1),
            V(16),
            OneOf(12, 4, &[0, 2, 4, 6, 10, 13, 15]),
            Imm(11, 1),
            V(5),
            V(0),
        ],
    },
    Template {
        name: "SQDMLAL/SQDMULH/SQRDMULH… (scalar, by element)",
        class: Simd,
        base: 0x5f00_0000,
        fields: &[OneOf(22, 2, HS), Imm(21, 1), V(16), OneOf(12, 4, &[3, 7, 11, 12, 13]), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "SQRDMLAH/SQRDMLSH (scalar, by element)",
        class: Simd,
        base: 0x7f00_d000,
        fields: &[OneOf(22, 2, HS), Imm(21, 1), V(16), Imm(13, 1), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "SDOT/UDOT (by element)",
        class: Simd,
        base: 0x0f80_e000,
        fields: &[Imm(30, 1), Imm(29, 1), Imm(21, 1), V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMLA/FMLS/FMUL (by element, S)",
        class: Simd,
        base: 0x0f80_0000,
        fields: &[Imm(30, 1), Imm(21, 1), V(16), OneOf(12, 4, &[1, 5, 9]), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMULX (by element, S)",
        class: Simd,
        base: 0x2f80_9000,
        fields: &[Imm(30, 1), Imm(21, 1), V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMLA/FMLS/FMUL (by element, D)",
        class: Simd,
        base: 0x4fc0_0000,
        fields: &[V(16), OneOf(12, 4, &[1, 5, 9]), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMULX (by element, D)",
        class: Simd,
        base: 0x6fc0_9000,
        fields: &[V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMLA/FMLS/FMUL (scalar, by element)",
        class: Simd,
        base: 0x5f80_0000,
        fields: &[Imm(21, 1), V(16), OneOf(12, 4, &[1, 5, 9]), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMULX (scalar, by element)",
        class: Simd,
        base: 0x7f80_9000,
        fields: &[Imm(21, 1), V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMLA/FMLS/FMUL (scalar, by element, D)",
        class: Simd,
        base: 0x5fc0_0000,
        fields: &[V(16), OneOf(12, 4, &[1, 5, 9]), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FMULX (scalar, by element, D)",
        class: Simd,
        base: 0x7fc0_9000,
        fields: &[V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "FCMLA (by element, 4S)",
        class: Simd,
        base: 0x6f80_1000,
        fields: &[V(16), Imm(13, 2), Imm(11, 1), V(5), V(0)],
    },
    // ---- Three-register extension ----
    Template {
        name: "SQRDMLAH/SQRDMLSH (vector)",
        class: Simd,
        base: 0x2e00_8400,
        fields: &[Imm(30, 1), OneOf(22, 2, HS), V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "SQRDMLAH/SQRDMLSH (scalar)",
        class: Simd,
        base: 0x7e00_8400,
        fields: &[OneOf(22, 2, HS), V(16), Imm(11, 1), V(5), V(0)],
    },
    Template {
        name: "SDOT/UDOT (vector)",
        class: Simd,
        base: 0x0e80_9400,
        fields: &[Imm(30, 1), Imm(29, 1), V(16), V(5), V(0)],
    },
    Template {
        name: "FCMLA/FCADD (S)",
        class: Simd,
        base: 0x2e80_8400,
        fields: &[Imm(30, 1), V(16), OneOf(11, 4, &[8, 9, 10, 11, 12, 14]), V(5), V(0)],
    },
    Template {
        name: "FCMLA/FCADD (2D)",
        class: Simd,
        base: 0x6ec0_8400,
        fields: &[V(16), OneOf(11, 4, &[8, 9, 10, 11, 12, 14]), V(5), V(0)],
    },
    // ---- Crypto: AES, SHA1, SHA256 ----
    Template {
        name: "AESE/AESD/AESMC/AESIMC",
        class: Simd,
        base: 0x4e28_0800,
        fields: &[OneOf(12, 5, &[4, 5, 6, 7]), V(5), V(0)],
    },
    Template {
        name: "SHA1C/SHA1P/SHA1M/SHA1SU0/SHA256H/SHA256H2/SHA256SU1",
        class: Simd,
        base: 0x5e00_0000,
        fields: &[V(16), OneOf(12, 3, &[0, 1, 2, 3, 4, 5, 6]), V(5), V(0)],
    },
    Template {
        name: "SHA1H/SHA1SU1/SHA256SU0",
        class: Simd,
        base: 0x5e28_0800,
        fields: &[OneOf(12, 5, &[0, 1, 2]), V(5), V(0)],
    },
];
