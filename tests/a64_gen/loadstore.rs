//! Encoding templates of the load/store classes (Arm ARM C4.1.88 "Loads and Stores"), bit by
//! bit from the encoding diagrams, constrained so that every access of a case stays inside
//! its data buffer and stays naturally aligned for the instructions that need it.
//!
//! The bounds: the base register ([`Field::Base`], x28) starts 16-byte aligned in the middle
//! of a 512-byte buffer. Writeback moves it by -8, 0 or +8 only (pre/post-index imm9, pair
//! writeback, SIMD post-index by the 8-byte transfer size), so after at most 24 instructions
//! it is within ±192 bytes of the middle and still 8-byte aligned (which the exclusive,
//! ordered and atomic accesses of up to 8 bytes need). Accesses without writeback start at
//! most 64 bytes below and end at most 64 bytes above the base. Index registers are XZR (the
//! random registers could point anywhere). The 16-byte aligned forms (LDXP/CASP of X pairs),
//! store-exclusives (deja's monitor policy and qemu's value-comparing one differ when a store
//! intervenes), DC ZVA (qemu's `max` CPU zeroes 512-byte blocks, deja 64) and the
//! post-index-by-register forms are covered by `tests/a64_loadstore.rs` instead, which also
//! tests faults, SP bases, tagged pointers and literals.

use super::Class::LoadStore;
use super::Field::{Base, Imm, OneOf, R, V};
use super::Template;

/// imm9 offsets of non-writeback accesses (two's complement in 9 bits): -64..=32.
const OFF9: &[u32] = &[0x1c0, 0x1df, 0x1ef, 0x1f7, 0x1f8, 0x1fb, 0x1ff, 0, 1, 3, 7, 8, 15, 16, 31, 32];
/// imm9 offsets that keep 8-byte alignment: -64..=32 in steps of 8.
const OFF9_ALIGNED: &[u32] = &[0x1c0, 0x1c8, 0x1d0, 0x1d8, 0x1e0, 0x1e8, 0x1f0, 0x1f8, 0, 8, 16, 24, 32];
/// imm9 writeback amounts: -8, 0, +8.
const WB9: &[u32] = &[0x1f8, 0, 8];
/// imm7 pair offsets (scaled by the register size, at most 16): -2..=2.
const OFF7: &[u32] = &[0x7e, 0x7f, 0, 1, 2];
/// imm7 writeback of ±8 bytes for 4-byte and 8-byte registers, and 0.
const WB7_4: &[u32] = &[0x7e, 0, 2];
const WB7_8: &[u32] = &[0x7f, 0, 1];
/// Register-offset extend options (UXTW, LSL/UXTX, SXTW, SXTX).
const EXTEND: &[u32] = &[2, 3, 6, 7];
/// Even registers for CASP's Rs (written: never the pair holding x28) and Rt (read).
const EVEN_NO_BASE: &[u32] = &[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 30];
const EVEN: &[u32] = &[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];

pub static TEMPLATES: &[Template] = &[
    // ---- Load/store register (unsigned immediate): size 111 V 01 opc imm12 Rn Rt ----
    Template {
        name: "LDR/STR/LDRB/STRB/LDRH/STRH (unsigned offset)",
        class: LoadStore,
        base: 0x3900_0000,
        fields: &[Imm(30, 2), OneOf(22, 2, &[0, 1]), OneOf(10, 12, &[0, 1, 2]), Base(5), R(0)],
    },
    Template {
        name: "LDRSB/LDRSH/LDRSW (unsigned offset)",
        class: LoadStore,
        base: 0x3900_0000,
        fields: &[OneOf(30, 2, &[0, 1, 2]), OneOf(22, 2, &[2]), OneOf(10, 12, &[0, 1, 2]), Base(5), R(0)],
    },
    Template {
        name: "LDRSB/LDRSH to W (unsigned offset)",
        class: LoadStore,
        base: 0x39c0_0000,
        fields: &[OneOf(30, 2, &[0, 1]), OneOf(10, 12, &[0, 1, 2]), Base(5), R(0)],
    },
    Template {
        name: "LDR/STR B/H/S/D (unsigned offset)",
        class: LoadStore,
        base: 0x3d00_0000,
        fields: &[Imm(30, 2), Imm(22, 1), OneOf(10, 12, &[0, 1, 2]), Base(5), V(0)],
    },
    Template {
        name: "LDR/STR Q (unsigned offset)",
        class: LoadStore,
        base: 0x3d80_0000,
        fields: &[Imm(22, 1), OneOf(10, 12, &[0, 1, 2]), Base(5), V(0)],
    },
    // ---- imm9 classes: size 111 V 00 opc 0 imm9 mode Rn Rt (mode 00 unscaled, 01 post,
    // 10 unprivileged, 11 pre) ----
    Template {
        name: "LDUR/STUR (general)",
        class: LoadStore,
        base: 0x3800_0000,
        fields: &[Imm(30, 2), OneOf(22, 2, &[0, 1]), OneOf(12, 9, OFF9), Base(5), R(0)],
    },
    Template {
        name: "LDURSB/LDURSH/LDURSW",
        class: LoadStore,
        base: 0x3880_0000,
        fields: &[OneOf(30, 2, &[0, 1, 2]), OneOf(12, 9, OFF9), Base(5), R(0)],
    },
    Template {
        name: "LDURSB/LDURSH to W",
        class: LoadStore,
        base: 0x38c0_0000,
        fields: &[OneOf(30, 2, &[0, 1]), OneOf(12, 9, OFF9), Base(5), R(0)],
    },
    Template {
        name: "LDUR/STUR B/H/S/D",
        class: LoadStore,
        base: 0x3c00_0000,
        fields: &[Imm(30, 2), Imm(22, 1), OneOf(12, 9, OFF9), Base(5), V(0)],
    },
    Template {
        name: "LDUR/STUR Q",
        class: LoadStore,
        base: 0x3c80_0000,
        fields: &[Imm(22, 1), OneOf(12, 9, OFF9), Base(5), V(0)],
    },
    Template {
        name: "LDTR/STTR (unprivileged)",
        class: LoadStore,
        base: 0x3800_0800,
        fields: &[Imm(30, 2), OneOf(22, 2, &[0, 1]), OneOf(12, 9, OFF9), Base(5), R(0)],
    },
    Template {
        name: "LDTRSB/LDTRSH/LDTRSW",
        class: LoadStore,
        base: 0x3880_0800,
        fields: &[OneOf(30, 2, &[0, 1, 2]), OneOf(12, 9, OFF9), Base(5), R(0)],
    },
    Template {
        name: "LDTRSB/LDTRSH to W",
        class: LoadStore,
        base: 0x38c0_0800,
        fields: &[OneOf(30, 2, &[0, 1]), OneOf(12, 9, OFF9), Base(5), R(0)],
    },
    Template {
        name: "LDR/STR (pre/post-index, general)",
        class: LoadStore,
        base: 0x3800_0400,
        fields: &[Imm(30, 2), OneOf(22, 2, &[0, 1]), OneOf(12, 9, WB9), Imm(11, 1), Base(5), R(0)],
    },
    Template {
        name: "LDRSB/LDRSH/LDRSW (pre/post-index)",
        class: LoadStore,
        base: 0x3880_0400,
        fields: &[OneOf(30, 2, &[0, 1, 2]), OneOf(12, 9, WB9), Imm(11, 1), Base(5), R(0)],
    },
    Template {
        name: "LDRSB/LDRSH to W (pre/post-index)",
        class: LoadStore,
        base: 0x38c0_0400,
        fields: &[OneOf(30, 2, &[0, 1]), OneOf(12, 9, WB9), Imm(11, 1), Base(5), R(0)],
    },
    Template {
        name: "LDR/STR B/H/S/D (pre/post-index)",
        class: LoadStore,
        base: 0x3c00_0400,
        fields: &[Imm(30, 2), Imm(22, 1), OneOf(12, 9, WB9), Imm(11, 1), Base(5), V(0)],
    },
    Template {
        name: "LDR/STR Q (pre/post-index)",
        class: LoadStore,
        base: 0x3c80_0400,
        fields: &[Imm(22, 1), OneOf(12, 9, WB9), Imm(11, 1), Base(5), V(0)],
    },
    // ---- Register offset with XZR/WZR as the index: size 111 V 00 opc 1 Rm option S 10 ----
    Template {
        name: "LDR/STR (register offset, general)",
        class: LoadStore,
        base: 0x383f_0800,
        fields: &[Imm(30, 2), Imm(22, 1), OneOf(13, 3, EXTEND), Imm(12, 1), Base(5), R(0)],
    },
    Template {
        name: "LDRSB/LDRSH/LDRSW (register offset)",
        class: LoadStore,
        base: 0x38bf_0800,
        fields: &[OneOf(30, 2, &[0, 1, 2]), OneOf(13, 3, EXTEND), Imm(12, 1), Base(5), R(0)],
    },
    Template {
        name: "LDRSB/LDRSH to W (register offset)",
        class: LoadStore,
        base: 0x38ff_0800,
        fields: &[OneOf(30, 2, &[0, 1]), OneOf(13, 3, EXTEND), Imm(12, 1), Base(5), R(0)],
    },
    Template {
        name: "LDR/STR B/H/S/D (register offset)",
        class: LoadStore,
        base: 0x3c3f_0800,
        fields: &[Imm(30, 2), Imm(22, 1), OneOf(13, 3, EXTEND), Imm(12, 1), Base(5), V(0)],
    },
    Template {
        name: "LDR/STR Q (register offset)",
        class: LoadStore,
        base: 0x3cbf_0800,
        fields: &[Imm(22, 1), OneOf(13, 3, EXTEND), Imm(12, 1), Base(5), V(0)],
    },
    // ---- Prefetch: no access, any address ----
    Template { name: "PRFM (immediate)", class: LoadStore, base: 0xf980_0000, fields: &[Imm(10, 12), R(5), Imm(0, 5)] },
    Template {
        name: "PRFM (register)",
        class: LoadStore,
        base: 0xf8a0_0800,
        fields: &[R(16), OneOf(13, 3, EXTEND), Imm(12, 1), R(5), Imm(0, 5)],
    },
    Template { name: "PRFUM", class: LoadStore, base: 0xf880_0000, fields: &[Imm(12, 9), R(5), Imm(0, 5)] },
    Template { name: "PRFM (literal)", class: LoadStore, base: 0xd800_0000, fields: &[Imm(5, 19), Imm(0, 5)] },
    // ---- Pairs: opc 101 V 0 idx L imm7 Rt2 Rn Rt ----
    Template {
        name: "LDP/STP/LDNP/STNP W/X (offset)",
        class: LoadStore,
        base: 0x2800_0000,
        fields: &[OneOf(30, 2, &[0, 2]), Imm(24, 1), Imm(22, 1), OneOf(15, 7, OFF7), R(10), Base(5), R(0)],
    },
    Template {
        name: "LDPSW (offset)",
        class: LoadStore,
        base: 0x6940_0000,
        fields: &[OneOf(15, 7, OFF7), R(10), Base(5), R(0)],
    },
    Template {
        name: "LDP/STP/LDNP/STNP S/D/Q (offset)",
        class: LoadStore,
        base: 0x2c00_0000,
        fields: &[OneOf(30, 2, &[0, 1, 2]), Imm(24, 1), Imm(22, 1), OneOf(15, 7, OFF7), V(10), Base(5), V(0)],
    },
    Template {
        name: "LDP/STP W (pre/post-index)",
        class: LoadStore,
        base: 0x2880_0000,
        fields: &[Imm(24, 1), Imm(22, 1), OneOf(15, 7, WB7_4), R(10), Base(5), R(0)],
    },
    Template {
        name: "LDP/STP X (pre/post-index)",
        class: LoadStore,
        base: 0xa880_0000,
        fields: &[Imm(24, 1), Imm(22, 1), OneOf(15, 7, WB7_8), R(10), Base(5), R(0)],
    },
    Template {
        name: "LDPSW (pre/post-index)",
        class: LoadStore,
        base: 0x68c0_0000,
        fields: &[Imm(24, 1), OneOf(15, 7, WB7_4), R(10), Base(5), R(0)],
    },
    Template {
        name: "LDP/STP S (pre/post-index)",
        class: LoadStore,
        base: 0x2c80_0000,
        fields: &[Imm(24, 1), Imm(22, 1), OneOf(15, 7, WB7_4), V(10), Base(5), V(0)],
    },
    Template {
        name: "LDP/STP D (pre/post-index)",
        class: LoadStore,
        base: 0x6c80_0000,
        fields: &[Imm(24, 1), Imm(22, 1), OneOf(15, 7, WB7_8), V(10), Base(5), V(0)],
    },
    Template {
        name: "LDP/STP Q (post-index #0, pre-index #0)",
        class: LoadStore,
        base: 0xac80_0000,
        fields: &[Imm(24, 1), Imm(22, 1), V(10), Base(5), V(0)],
    },
    // ---- Exclusive loads, load-acquire/store-release, CAS: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt ----
    Template {
        name: "LDXR/LDAXR (B/H/W/X)",
        class: LoadStore,
        base: 0x085f_7c00,
        fields: &[Imm(30, 2), Imm(15, 1), Base(5), R(0)],
    },
    Template {
        name: "LDXP/LDAXP (W)",
        class: LoadStore,
        base: 0x887f_0000,
        fields: &[Imm(15, 1), R(10), Base(5), R(0)],
    },
    Template {
        name: "LDAR/STLR (B/H/W/X)",
        class: LoadStore,
        base: 0x089f_fc00,
        fields: &[Imm(30, 2), Imm(22, 1), Base(5), R(0)],
    },
    Template {
        name: "CAS/CASA/CASL/CASAL (B/H/W/X)",
        class: LoadStore,
        base: 0x08a0_7c00,
        fields: &[Imm(30, 2), Imm(22, 1), R(16), Imm(15, 1), Base(5), R(0)],
    },
    Template {
        name: "CASP/CASPA/CASPL/CASPAL (W)",
        class: LoadStore,
        base: 0x0820_7c00,
        fields: &[Imm(22, 1), OneOf(16, 5, EVEN_NO_BASE), Imm(15, 1), Base(5), OneOf(0, 5, EVEN)],
    },
    // ---- Atomic memory operations: size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt ----
    Template {
        name: "LDADD/LDCLR/LDEOR/LDSET/LDSMAX/LDSMIN/LDUMAX/LDUMIN/SWP (+A/L, B/H/W/X)",
        class: LoadStore,
        base: 0x3820_0000,
        fields: &[Imm(30, 2), Imm(23, 1), Imm(22, 1), R(16), OneOf(12, 4, &[0, 1, 2, 3, 4, 5, 6, 7, 8]), Base(5), R(0)],
    },
    Template { name: "LDAPR (B/H/W/X)", class: LoadStore, base: 0x38bf_c000, fields: &[Imm(30, 2), Base(5), R(0)] },
    // ---- LDAPUR/STLUR: size 011001 opc 0 imm9 00 Rn Rt ----
    Template {
        name: "STLUR/LDAPUR (B/H/W/X)",
        class: LoadStore,
        base: 0x1900_0000,
        fields: &[Imm(30, 2), OneOf(22, 2, &[0, 1]), OneOf(12, 9, OFF9_ALIGNED), Base(5), R(0)],
    },
    Template {
        name: "LDAPURSB/LDAPURSH/LDAPURSW",
        class: LoadStore,
        base: 0x1980_0000,
        fields: &[OneOf(30, 2, &[0, 1, 2]), OneOf(12, 9, OFF9_ALIGNED), Base(5), R(0)],
    },
    Template {
        name: "LDAPURSB/LDAPURSH to W",
        class: LoadStore,
        base: 0x19c0_0000,
        fields: &[OneOf(30, 2, &[0, 1]), OneOf(12, 9, OFF9_ALIGNED), Base(5), R(0)],
    },
    // ---- Advanced SIMD multiple structures: 0 Q 0011000 L 000000 opcode size Rn Rt ----
    Template {
        name: "LD1/ST1 (multiple structures, 1-4 registers)",
        class: LoadStore,
        base: 0x0c00_0000,
        fields: &[Imm(30, 1), Imm(22, 1), OneOf(12, 4, &[2, 6, 7, 10]), Imm(10, 2), Base(5), V(0)],
    },
    Template {
        name: "LD2/LD3/LD4/ST2/ST3/ST4 (multiple structures)",
        class: LoadStore,
        base: 0x0c00_0000,
        fields: &[Imm(30, 1), Imm(22, 1), OneOf(12, 4, &[0, 4, 8]), OneOf(10, 2, &[0, 1, 2]), Base(5), V(0)],
    },
    Template {
        name: "LD2/LD3/LD4/ST2/ST3/ST4 (multiple structures, .2d)",
        class: LoadStore,
        base: 0x4c00_0c00,
        fields: &[Imm(22, 1), OneOf(12, 4, &[0, 4, 8]), Base(5), V(0)],
    },
    Template {
        name: "LD1/ST1 (one D register, post-index #8)",
        class: LoadStore,
        base: 0x0c9f_7000,
        fields: &[Imm(22, 1), Imm(10, 2), Base(5), V(0)],
    },
    // ---- Advanced SIMD single structure: 0 Q 0011010 L R 00000 opcode S size Rn Rt ----
    Template {
        name: "LD1-LD4/ST1-ST4 (single structure, B lanes)",
        class: LoadStore,
        base: 0x0d00_0000,
        fields: &[Imm(30, 1), Imm(22, 1), Imm(21, 1), OneOf(13, 3, &[0, 1]), Imm(12, 1), Imm(10, 2), Base(5), V(0)],
    },
    Template {
        name: "LD1-LD4/ST1-ST4 (single structure, H lanes)",
        class: LoadStore,
        base: 0x0d00_0000,
        fields: &[
            Imm(30, 1),
            Imm(22, 1),
            Imm(21, 1),
            OneOf(13, 3, &[2, 3]),
            Imm(12, 1),
            OneOf(10, 2, &[0, 2]),
            Base(5),
            V(0),
        ],
    },
    Template {
        name: "LD1-LD4/ST1-ST4 (single structure, S lanes)",
        class: LoadStore,
        base: 0x0d00_8000,
        fields: &[Imm(30, 1), Imm(22, 1), Imm(21, 1), Imm(13, 1), Imm(12, 1), Base(5), V(0)],
    },
    Template {
        name: "LD1-LD4/ST1-ST4 (single structure, D lanes)",
        class: LoadStore,
        base: 0x0d00_8400,
        fields: &[Imm(30, 1), Imm(22, 1), Imm(21, 1), Imm(13, 1), Base(5), V(0)],
    },
    Template {
        name: "LD1R-LD4R",
        class: LoadStore,
        base: 0x0d40_c000,
        fields: &[Imm(30, 1), Imm(21, 1), Imm(13, 1), Imm(10, 2), Base(5), V(0)],
    },
    // Post-index by the transfer size where that is 8 bytes.
    Template {
        name: "LD1/ST1 (D lane, post-index #8)",
        class: LoadStore,
        base: 0x0d9f_8400,
        fields: &[Imm(30, 1), Imm(22, 1), Base(5), V(0)],
    },
    Template {
        name: "LD2/ST2 (S lane, post-index #8)",
        class: LoadStore,
        base: 0x0dbf_8000,
        fields: &[Imm(30, 1), Imm(22, 1), Imm(12, 1), Base(5), V(0)],
    },
    Template {
        name: "LD4/ST4 (H lane, post-index #8)",
        class: LoadStore,
        base: 0x0dbf_6000,
        fields: &[Imm(30, 1), Imm(22, 1), Imm(12, 1), OneOf(10, 2, &[0, 2]), Base(5), V(0)],
    },
    Template {
        name: "LD1R (D, post-index #8)",
        class: LoadStore,
        base: 0x0ddf_cc00,
        fields: &[Imm(30, 1), Base(5), V(0)],
    },
    Template {
        name: "LD2R (S, post-index #8)",
        class: LoadStore,
        base: 0x0dff_c800,
        fields: &[Imm(30, 1), Base(5), V(0)],
    },
    Template {
        name: "LD4R (H, post-index #8)",
        class: LoadStore,
        base: 0x0dff_e400,
        fields: &[Imm(30, 1), Base(5), V(0)],
    },
];
