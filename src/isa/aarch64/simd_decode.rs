//! Decoding of the top-level group "Data Processing -- Scalar Floating-Point and Advanced
//! SIMD" (Arm ARM C4.1.96, op0 = bits 28:25 = x111) into its encoding classes.
//!
//! yaxpeax names many instructions of this group with one opcode across several classes
//! (`FADD` is scalar FP, vector and FP16; `ADD` is vector and scalar SIMD…), so every
//! opcode of the group that deja implements is registered with the one handler
//! [`dispatch`], which finds the class from the encoding bits exactly as the manual's
//! decode table does, and calls that class's handler. (Only words of this group reach it:
//! the opcodes shared with general-register instructions are registered with
//! `Table::add_simd`, which the table selects when the first operand is a SIMD&FP
//! register.) The class handlers decode their own fields (bits, not yaxpeax operands)
//! and return SIGILL for any encoding they do not implement ("unimplemented") or that is
//! unallocated ("undefined").

use super::table::Table;
use super::{fp, fp_convert, simd, simd_crypto, simd_elem, simd_ext, simd_fp, simd_int, simd_shift};
use super::{Decoded, Res, M};
use deja_decoders::aarch64::Opcode;

/// The encoding classes of the group.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    CryptoAes,
    CryptoSha3,
    CryptoSha2,
    ScalarCopy,
    ScalarThreeSameFp16,
    ScalarTwoRegMiscFp16,
    ScalarThreeSameExtra,
    ScalarTwoRegMisc,
    ScalarPairwise,
    ScalarThreeDifferent,
    ScalarThreeSame,
    ScalarShiftImm,
    ScalarIndexed,
    TableLookup,
    Permute,
    Extract,
    Copy,
    ThreeSameFp16,
    TwoRegMiscFp16,
    ThreeRegExtension,
    TwoRegMisc,
    AcrossLanes,
    ThreeDifferent,
    ThreeSame,
    ModifiedImm,
    ShiftImm,
    VectorIndexed,
    /// SM3/SHA512/XAR/EOR3/BCAX and friends.
    CryptoOther,
    FpFixedConv,
    FpIntConv,
    FpDp1,
    FpCompare,
    FpImm,
    FpCondCompare,
    FpDp2,
    FpCondSelect,
    FpDp3,
    Unallocated,
}

#[inline(always)]
fn m(v: u32, mask: u32, val: u32) -> bool {
    v & mask == val
}

/// The class of `w` (which must be in the group: bits 27:25 = 111, bit 28 any).
#[inline(always)]
pub fn classify(w: u32) -> Class {
    let op0 = w >> 28;
    let op1 = (w >> 23) & 3;
    let op2 = (w >> 19) & 0xf;
    let op3 = (w >> 10) & 0x1ff;
    use Class::*;
    // Scalar floating point first (bit 30 = 0, bit 28 = 1): the hottest classes.
    if m(op0, 0b0101, 0b0001) {
        if op1 & 2 == 2 {
            return FpDp3;
        }
        if op2 & 0b0100 == 0 {
            return FpFixedConv;
        }
        if op3 & 0b11_1111 == 0 {
            return FpIntConv;
        }
        if op3 & 0b1_1111 == 0b1_0000 {
            return FpDp1;
        }
        if op3 & 0b1111 == 0b1000 {
            return FpCompare;
        }
        if op3 & 0b111 == 0b100 {
            return FpImm;
        }
        return match op3 & 3 {
            1 => FpCondCompare,
            2 => FpDp2,
            3 => FpCondSelect,
            _ => Unallocated,
        };
    }
    if op0 == 0b0100 && op1 & 2 == 0 && m(op2, 0b0111, 0b0101) && m(op3, 0b1_1000_0011, 0b10) {
        return CryptoAes;
    }
    if op0 == 0b0101 && op1 & 2 == 0 && m(op2, 0b0100, 0) && m(op3, 0b0010_0011, 0) {
        return CryptoSha3;
    }
    if op0 == 0b0101 && op1 & 2 == 0 && m(op2, 0b0111, 0b0101) && m(op3, 0b1_1000_0011, 0b10) {
        return CryptoSha2;
    }
    if m(op0, 0b1101, 0b0101) {
        // Advanced SIMD scalar.
        if op1 == 0 && m(op2, 0b1100, 0) && m(op3, 0b0010_0001, 1) {
            return ScalarCopy;
        }
        if op1 & 2 == 0 && m(op2, 0b1100, 0b1000) && m(op3, 0b0011_0001, 1) {
            return ScalarThreeSameFp16;
        }
        if op1 & 2 == 0 && op2 == 0b1111 && m(op3, 0b11, 0b10) {
            return ScalarTwoRegMiscFp16;
        }
        if op1 & 2 == 0 && m(op2, 0b0100, 0) && m(op3, 0b0010_0001, 0b0010_0001) {
            return ScalarThreeSameExtra;
        }
        if op1 & 2 == 0 && m(op2, 0b0111, 0b0100) && m(op3, 0b11, 0b10) {
            return ScalarTwoRegMisc;
        }
        if op1 & 2 == 0 && m(op2, 0b0111, 0b0110) && m(op3, 0b11, 0b10) {
            return ScalarPairwise;
        }
        if op1 & 2 == 0 && m(op2, 0b0100, 0b0100) && m(op3, 0b11, 0) {
            return ScalarThreeDifferent;
        }
        if op1 & 2 == 0 && m(op2, 0b0100, 0b0100) && m(op3, 1, 1) {
            return ScalarThreeSame;
        }
        if op1 == 0b10 && m(op3, 1, 1) {
            return ScalarShiftImm;
        }
        if op1 & 2 == 2 && m(op3, 1, 0) {
            return ScalarIndexed;
        }
        return Unallocated;
    }
    if m(op0, 0b1011, 0) && op1 & 2 == 0 && m(op2, 0b0100, 0) && m(op3, 0b0010_0011, 0) {
        return TableLookup;
    }
    if m(op0, 0b1011, 0) && op1 & 2 == 0 && m(op2, 0b0100, 0) && m(op3, 0b0010_0011, 0b10) {
        return Permute;
    }
    if m(op0, 0b1011, 0b0010) && op1 & 2 == 0 && m(op2, 0b0100, 0) && m(op3, 0b0010_0001, 0) {
        return Extract;
    }
    if m(op0, 0b1001, 0) {
        // Advanced SIMD vector.
        if op1 == 0 && m(op2, 0b1100, 0) && m(op3, 0b0010_0001, 1) {
            return Copy;
        }
        if op1 & 2 == 0 && m(op2, 0b1100, 0b1000) && m(op3, 0b0011_0001, 1) {
            return ThreeSameFp16;
        }
        if op1 & 2 == 0 && op2 == 0b1111 && m(op3, 0b11, 0b10) {
            return TwoRegMiscFp16;
        }
        if op1 & 2 == 0 && m(op2, 0b0100, 0) && m(op3, 0b0010_0001, 0b0010_0001) {
            return ThreeRegExtension;
        }
        if op1 & 2 == 0 && m(op2, 0b0111, 0b0100) && m(op3, 0b11, 0b10) {
            return TwoRegMisc;
        }
        if op1 & 2 == 0 && m(op2, 0b0111, 0b0110) && m(op3, 0b11, 0b10) {
            return AcrossLanes;
        }
        if op1 & 2 == 0 && m(op2, 0b0100, 0b0100) && m(op3, 0b11, 0) {
            return ThreeDifferent;
        }
        if op1 & 2 == 0 && m(op2, 0b0100, 0b0100) && m(op3, 1, 1) {
            return ThreeSame;
        }
        if op1 == 0b10 && op2 == 0 && m(op3, 1, 1) {
            return ModifiedImm;
        }
        if op1 == 0b10 && op2 != 0 && m(op3, 1, 1) {
            return ShiftImm;
        }
        if op1 & 2 == 2 && m(op3, 1, 0) {
            return VectorIndexed;
        }
        return Unallocated;
    }
    if op0 == 0b1100 {
        return CryptoOther;
    }
    Unallocated
}

/// The handler of every implemented opcode of the group.
pub fn dispatch(m: &mut M, d: &Decoded) -> Res {
    use Class::*;
    if (d.word >> 25) & 7 != 7 {
        // Not in this group: an opcode yaxpeax also uses elsewhere that nobody implements.
        return super::unimplemented(m, d);
    }
    match classify(d.word) {
        FpDp1 => fp::dp1(m, d),
        FpDp2 => fp::dp2(m, d),
        FpDp3 => fp::dp3(m, d),
        FpCompare => fp::compare(m, d),
        FpCondCompare => fp::cond_compare(m, d),
        FpCondSelect => fp::cond_select(m, d),
        FpImm => fp::imm(m, d),
        FpIntConv => fp_convert::int_conv(m, d),
        FpFixedConv => fp_convert::fixed_conv(m, d),
        Copy => simd::copy(m, d),
        ScalarCopy => simd::scalar_copy(m, d),
        ModifiedImm => simd::modified_imm(m, d),
        Permute => simd::permute(m, d),
        Extract => simd::extract(m, d),
        TableLookup => simd::table_lookup(m, d),
        ThreeSame => simd_int::three_same(m, d, false),
        ScalarThreeSame => simd_int::three_same(m, d, true),
        ThreeDifferent => simd_int::three_different(m, d),
        ScalarThreeDifferent => simd_int::scalar_three_different(m, d),
        ThreeRegExtension => simd_ext::three_reg_extension(m, d),
        ScalarThreeSameExtra => simd_ext::scalar_three_same_extra(m, d),
        TwoRegMisc => simd_int::two_reg_misc(m, d, false),
        ScalarTwoRegMisc => simd_int::two_reg_misc(m, d, true),
        AcrossLanes => simd_int::across_lanes(m, d),
        ScalarPairwise => simd_fp::scalar_pairwise(m, d),
        ShiftImm => simd_shift::shift_imm(m, d, false),
        ScalarShiftImm => simd_shift::shift_imm(m, d, true),
        VectorIndexed => simd_elem::indexed(m, d, false),
        ScalarIndexed => simd_elem::indexed(m, d, true),
        CryptoAes => simd_crypto::aes(m, d),
        CryptoSha3 => simd_crypto::sha3reg(m, d),
        CryptoSha2 => simd_crypto::sha2reg(m, d),
        Unallocated => Err(super::undefined(d)),
        _ => super::unimplemented(m, d),
    }
}

/// Register the implemented opcodes of the group (each with [`dispatch`]). The opcodes
/// yaxpeax also gives to general-register instructions (see table.rs) go in with
/// `add_simd`, the others with `add`.
pub fn register(t: &mut Table) {
    t.add_simd(SHARED, dispatch);
    t.add(OWN, dispatch);
}

/// The implemented opcodes that yaxpeax also gives to general-register instructions.
pub const SHARED: &[Opcode] = {
    use Opcode::*;
    &[ADD, SUB, AND, ORR, EOR, ORN, BIC, CLZ, CLS, RBIT, REV16, REV32]
};

/// The other implemented opcodes of the group.
#[rustfmt::skip]
pub const OWN: &[Opcode] = {
    use Opcode::*;
    &[
        // Scalar FP.
        FMOV, FABS, FNEG, FSQRT, FCVT, FRINTN, FRINTP, FRINTM, FRINTZ, FRINTA, FRINTX, FRINTI, FADD, FSUB, FMUL, FDIV,
        FRINT32Z, FRINT32X, FRINT64Z, FRINT64X,
        FNMUL, FMAX, FMIN, FMAXNM, FMINNM, FMADD, FMSUB, FNMADD, FNMSUB, FCMP, FCMPE, FCCMP, FCCMPE, FCSEL,
        // Conversions.
        FCVTZS, FCVTZU, FCVTNS, FCVTNU, FCVTPS, FCVTPU, FCVTMS, FCVTMU, FCVTAS, FCVTAU, SCVTF, UCVTF, FJCVTZS,
        // Copy, modified immediate, permute, extract, table lookup.
        DUP, INS, UMOV, SMOV, MOVI, MVNI, UZP1, UZP2, TRN1, TRN2, ZIP1, ZIP2, EXT, TBL, TBX,
        // Integer three same.
        SHADD, UHADD, SQADD, UQADD, SRHADD, URHADD, SHSUB, UHSUB, SQSUB, UQSUB, CMGT, CMHI, CMGE, CMHS, SSHL, USHL,
        SQSHL, UQSHL, SRSHL, URSHL, SQRSHL, UQRSHL, SMAX, UMAX, SMIN, UMIN, SABD, UABD, SABA, UABA, CMTST, CMEQ, MLA,
        MLS, MUL, PMUL, SMAXP, UMAXP, SMINP, UMINP, SQDMULH, SQRDMULH, ADDP, BSL, BIT, BIF,
        // Integer two-register miscellaneous, across lanes.
        REV64, SADDLP, UADDLP, SADALP, UADALP, SUQADD, USQADD, CNT, NOT, SQABS, SQNEG, CMLE, CMLT, ABS, NEG, XTN,
        XTN2, SQXTN, SQXTN2, UQXTN, UQXTN2, SQXTUN, SQXTUN2, SHLL, SHLL2, SADDLV, UADDLV, SMAXV, UMAXV, SMINV, UMINV,
        ADDV,
        // Three different.
        SADDL, SADDL2, UADDL, UADDL2, SADDW, SADDW2, UADDW, UADDW2, SSUBL, SSUBL2, USUBL, USUBL2, SSUBW, SSUBW2,
        USUBW, USUBW2, ADDHN, ADDHN2, RADDHN, RADDHN2, SUBHN, SUBHN2, RSUBHN, RSUBHN2, SABAL, SABAL2, UABAL, UABAL2,
        SABDL, SABDL2, UABDL, UABDL2, SMLAL, SMLAL2, UMLAL, UMLAL2, SMLSL, SMLSL2, UMLSL, UMLSL2, SMULL, SMULL2,
        UMULL, UMULL2, SQDMLAL, SQDMLAL2, SQDMLSL, SQDMLSL2, SQDMULL, SQDMULL2, PMULL, PMULL2,
        // Shift by immediate.
        SSHR, USHR, SSRA, USRA, SRSHR, URSHR, SRSRA, URSRA, SRI, SHL, SLI, SQSHLU, SHRN, SHRN2, RSHRN, RSHRN2, SQSHRN,
        SQSHRN2, UQSHRN, UQSHRN2, SQRSHRN, SQRSHRN2, UQRSHRN, UQRSHRN2, SQSHRUN, SQSHRUN2, SQRSHRUN, SQRSHRUN2, SSHLL,
        SSHLL2, USHLL, USHLL2,
        // Floating point (vector and scalar SIMD forms not listed above).
        FMLA, FMLS, FMULX, FCMEQ, FCMGE, FCMGT, FCMLE, FCMLT, FACGE, FACGT, FRECPS, FRSQRTS, FMAXNMP, FMINNMP,
        FMINMNP, FADDP, FMAXP, FMINP, FABD, FCVTN, FCVTN2, FCVTXN, FCVTXN2, FCVTL, FCVTL2, FRECPX, FMAXNMV, FMINNMV,
        FMAXV, FMINV, FRECPE, FRSQRTE, URECPE, URSQRTE,
        // ARMv8.1-8.3: RDM, DotProd, FCMA.
        SQRDMLAH, SQRDMLSH, SDOT, UDOT, FCMLA, FCADD,
        // Crypto: AES, SHA1, SHA256.
        AESE, AESD, AESMC, AESIMC, SHA1C, SHA1P, SHA1M, SHA1H, SHA1SU0, SHA1SU1, SHA256H, SHA256H2, SHA256SU0,
        SHA256SU1,
    ]
};

#[cfg(test)]
mod tests {
    use super::super::table::is_shared;
    use super::*;

    #[test]
    fn shared_and_own_opcodes_are_disjoint() {
        for op in SHARED {
            assert!(is_shared(op), "{op:?}");
        }
        for op in OWN {
            assert!(!is_shared(op), "{op:?} must be registered with add_simd");
        }
    }

    #[test]
    fn classify_examples() {
        use Class::*;
        for (w, c) in [
            (0x1e22_2820u32, FpDp2),       // fadd s0, s1, s2
            (0x1f42_0c20, FpDp3),          // fmadd
            (0x1e61_2000, FpCompare),      // fcmp d0, d1
            (0x9e66_0020, FpIntConv),      // fmov x0, d1
            (0x1e58_f420, FpFixedConv),    // fcvtzs w0, d1, #3
            (0x4e22_8420, ThreeSame),      // add v0.16b
            (0x4e07_0420, Copy),           // dup v0.16b, v1.b[3]
            (0x4f02_e420, ModifiedImm),    // movi
            (0x4f23_5420, ShiftImm),       // shl
            (0x6e02_1820, Extract),        // ext
            (0x4e02_0020, TableLookup),    // tbl
            (0x4e02_3820, Permute),        // zip1
            (0x4fa2_1020, VectorIndexed),  // fmla by element
            (0x5ef1_b820, ScalarPairwise), // addp d0, v1.2d
            (0x4e28_4820, CryptoAes),      // aese
        ] {
            assert_eq!(classify(w), c, "{w:08x}");
        }
    }
}
