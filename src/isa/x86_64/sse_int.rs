//! Legacy-SSE-encoded (not VEX) packed integer instructions on XMM registers (SDM "SSE2 128-Bit
//! SIMD Integer Instructions" and SSSE3), plus the bitwise SSE/SSE2 logic instructions
//! (andps…xorpd), which are pure bit operations:
//!
//! - logic: pand pandn por pxor andps andnps orps xorps andpd andnpd orpd xorpd
//! - arithmetic: padd{b,w,d,q} psub{b,w,d,q} padds{b,w} paddus{b,w} psubs{b,w} psubus{b,w}
//!   pmullw pmulhw pmulhuw pmuludq pmaddwd psadbw pavg{b,w} pminub pmaxub pminsw pmaxsw
//!   pcmpeq{b,w,d} pcmpgt{b,w,d}
//! - shifts: psll{w,d,q} psrl{w,d,q} psra{w,d} (xmm/m128 and imm8 counts), pslldq psrldq
//! - shuffles/packs: pshufd pshuflw pshufhw punpck{l,h}{bw,wd,dq,qdq} packsswb packssdw
//!   packuswb
//! - SSSE3: pshufb palignr phadd{w,d,sw} phsub{w,d,sw} pabs{b,w,d} psign{b,w,d} pmulhrsw
//!   pmaddubsw
//!
//! Every 16-byte memory operand of these legacy encodings must be 16-byte aligned (#GP →
//! SIGSEGV). The MMX-register forms of the same mnemonics are not implemented (SIGILL).
//! Data moves (movd/movq/movdqa/…, pinsrw/pextrw, pmovmskb) are in `sse_move`.

use super::operands::{read_xmm_op_aligned, xmm_index};
use super::table::Table;
use super::{Res, M};
use iced_x86::{Instruction, Mnemonic as Mn, OpKind};

pub fn register(t: &mut Table) {
    t.add(
        &[
            // logic
            Mn::Pand,
            Mn::Pandn,
            Mn::Por,
            Mn::Pxor,
            Mn::Andps,
            Mn::Andnps,
            Mn::Orps,
            Mn::Xorps,
            Mn::Andpd,
            Mn::Andnpd,
            Mn::Orpd,
            Mn::Xorpd,
            // add/sub
            Mn::Paddb,
            Mn::Paddw,
            Mn::Paddd,
            Mn::Paddq,
            Mn::Psubb,
            Mn::Psubw,
            Mn::Psubd,
            Mn::Psubq,
            Mn::Paddsb,
            Mn::Paddsw,
            Mn::Paddusb,
            Mn::Paddusw,
            Mn::Psubsb,
            Mn::Psubsw,
            Mn::Psubusb,
            Mn::Psubusw,
            // multiply
            Mn::Pmullw,
            Mn::Pmulhw,
            Mn::Pmulhuw,
            Mn::Pmuludq,
            Mn::Pmaddwd,
            // misc arithmetic
            Mn::Psadbw,
            Mn::Pavgb,
            Mn::Pavgw,
            Mn::Pminub,
            Mn::Pmaxub,
            Mn::Pminsw,
            Mn::Pmaxsw,
            // compare
            Mn::Pcmpeqb,
            Mn::Pcmpeqw,
            Mn::Pcmpeqd,
            Mn::Pcmpgtb,
            Mn::Pcmpgtw,
            Mn::Pcmpgtd,
            // interleave/pack
            Mn::Punpcklbw,
            Mn::Punpcklwd,
            Mn::Punpckldq,
            Mn::Punpcklqdq,
            Mn::Punpckhbw,
            Mn::Punpckhwd,
            Mn::Punpckhdq,
            Mn::Punpckhqdq,
            Mn::Packsswb,
            Mn::Packssdw,
            Mn::Packuswb,
            // shuffles with an immediate
            Mn::Pshufd,
            Mn::Pshuflw,
            Mn::Pshufhw,
            // SSSE3
            Mn::Pshufb,
            Mn::Palignr,
            Mn::Phaddw,
            Mn::Phaddd,
            Mn::Phaddsw,
            Mn::Phsubw,
            Mn::Phsubd,
            Mn::Phsubsw,
            Mn::Pabsb,
            Mn::Pabsw,
            Mn::Pabsd,
            Mn::Psignb,
            Mn::Psignw,
            Mn::Psignd,
            Mn::Pmulhrsw,
            Mn::Pmaddubsw,
        ],
        binop,
    );
    t.add(&[Mn::Psllw, Mn::Pslld, Mn::Psllq, Mn::Psrlw, Mn::Psrld, Mn::Psrlq, Mn::Psraw, Mn::Psrad], shift);
    t.add(&[Mn::Pslldq, Mn::Psrldq], shift_bytes);
}

/// Does the instruction name an MMX register (the MMX form of an SSE mnemonic)?
#[inline]
pub fn has_mm(ins: &Instruction) -> bool {
    (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Register && ins.op_register(i).is_mm())
}

// ---- lane views of a 128-bit value (little-endian lanes) ----

#[inline]
pub fn bytes(v: u128) -> [u8; 16] {
    v.to_le_bytes()
}

#[inline]
pub fn words(v: u128) -> [u16; 8] {
    core::array::from_fn(|i| (v >> (16 * i)) as u16)
}

#[inline]
pub fn dwords(v: u128) -> [u32; 4] {
    core::array::from_fn(|i| (v >> (32 * i)) as u32)
}

#[inline]
pub fn qwords(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

#[inline]
pub fn from_bytes(b: [u8; 16]) -> u128 {
    u128::from_le_bytes(b)
}

#[inline]
pub fn from_words(w: [u16; 8]) -> u128 {
    w.iter().enumerate().fold(0, |r, (i, &x)| r | (x as u128) << (16 * i))
}

#[inline]
pub fn from_dwords(d: [u32; 4]) -> u128 {
    d.iter().enumerate().fold(0, |r, (i, &x)| r | (x as u128) << (32 * i))
}

#[inline]
pub fn from_qwords(q: [u64; 2]) -> u128 {
    q[0] as u128 | (q[1] as u128) << 64
}

#[inline]
fn zip_b(a: u128, b: u128, f: impl Fn(u8, u8) -> u8) -> u128 {
    let (x, y) = (bytes(a), bytes(b));
    from_bytes(core::array::from_fn(|i| f(x[i], y[i])))
}

#[inline]
fn zip_w(a: u128, b: u128, f: impl Fn(u16, u16) -> u16) -> u128 {
    let (x, y) = (words(a), words(b));
    from_words(core::array::from_fn(|i| f(x[i], y[i])))
}

#[inline]
fn zip_d(a: u128, b: u128, f: impl Fn(u32, u32) -> u32) -> u128 {
    let (x, y) = (dwords(a), dwords(b));
    from_dwords(core::array::from_fn(|i| f(x[i], y[i])))
}

#[inline]
fn zip_q(a: u128, b: u128, f: impl Fn(u64, u64) -> u64) -> u128 {
    let (x, y) = (qwords(a), qwords(b));
    from_qwords([f(x[0], y[0]), f(x[1], y[1])])
}

/// All-ones lane mask from a condition.
#[inline]
fn ones<T: From<u8> + core::ops::Not<Output = T>>(c: bool) -> T {
    if c {
        !T::from(0)
    } else {
        T::from(0)
    }
}

#[inline]
fn sat_i8(x: i32) -> u8 {
    x.clamp(i8::MIN as i32, i8::MAX as i32) as i8 as u8
}

#[inline]
fn sat_u8(x: i32) -> u8 {
    x.clamp(0, u8::MAX as i32) as u8
}

#[inline]
fn sat_i16(x: i32) -> u16 {
    x.clamp(i16::MIN as i32, i16::MAX as i32) as i16 as u16
}

/// Interleave the low (`hi == false`) or high halves of `a` and `b`, `bytes` per element:
/// a0 b0 a1 b1 …
#[inline]
fn unpack(a: u128, b: u128, size: usize, hi: bool) -> u128 {
    let (x, y) = (bytes(a), bytes(b));
    let base = if hi { 8 } else { 0 };
    let mut r = [0u8; 16];
    for i in 0..8 / size {
        let s = base + i * size;
        r[2 * i * size..2 * i * size + size].copy_from_slice(&x[s..s + size]);
        r[(2 * i + 1) * size..(2 * i + 2) * size].copy_from_slice(&y[s..s + size]);
    }
    from_bytes(r)
}

/// Horizontal word op: pairs of `a` give lanes 0..3, pairs of `b` lanes 4..7.
#[inline]
fn horiz_w(a: u128, b: u128, f: impl Fn(u16, u16) -> u16) -> u128 {
    let (x, y) = (words(a), words(b));
    from_words(core::array::from_fn(|i| {
        let s = if i < 4 { &x } else { &y };
        let j = (i % 4) * 2;
        f(s[j], s[j + 1])
    }))
}

#[inline]
fn horiz_d(a: u128, b: u128, f: impl Fn(u32, u32) -> u32) -> u128 {
    let (x, y) = (dwords(a), dwords(b));
    from_dwords([f(x[0], x[1]), f(x[2], x[3]), f(y[0], y[1]), f(y[2], y[3])])
}

/// psign: negate, zero or keep `x` by the sign of `s`.
macro_rules! psign {
    ($x:expr, $s:expr, $t:ty) => {{
        let s = $s as $t;
        if s < 0 {
            ($x as $t).wrapping_neg() as _
        } else if s == 0 {
            0
        } else {
            $x
        }
    }};
}

/// The value of a two-operand (plus optional imm8) packed-integer operation with destination
/// `a`, source `b`. `None` for a mnemonic this function does not know.
pub fn compute(mn: Mn, a: u128, b: u128, imm: u8) -> Option<u128> {
    Some(match mn {
        Mn::Pand | Mn::Andps | Mn::Andpd => a & b,
        Mn::Pandn | Mn::Andnps | Mn::Andnpd => !a & b,
        Mn::Por | Mn::Orps | Mn::Orpd => a | b,
        Mn::Pxor | Mn::Xorps | Mn::Xorpd => a ^ b,

        Mn::Paddb => zip_b(a, b, u8::wrapping_add),
        Mn::Paddw => zip_w(a, b, u16::wrapping_add),
        Mn::Paddd => zip_d(a, b, u32::wrapping_add),
        Mn::Paddq => zip_q(a, b, u64::wrapping_add),
        Mn::Psubb => zip_b(a, b, u8::wrapping_sub),
        Mn::Psubw => zip_w(a, b, u16::wrapping_sub),
        Mn::Psubd => zip_d(a, b, u32::wrapping_sub),
        Mn::Psubq => zip_q(a, b, u64::wrapping_sub),
        Mn::Paddsb => zip_b(a, b, |x, y| (x as i8).saturating_add(y as i8) as u8),
        Mn::Paddsw => zip_w(a, b, |x, y| (x as i16).saturating_add(y as i16) as u16),
        Mn::Paddusb => zip_b(a, b, u8::saturating_add),
        Mn::Paddusw => zip_w(a, b, u16::saturating_add),
        Mn::Psubsb => zip_b(a, b, |x, y| (x as i8).saturating_sub(y as i8) as u8),
        Mn::Psubsw => zip_w(a, b, |x, y| (x as i16).saturating_sub(y as i16) as u16),
        Mn::Psubusb => zip_b(a, b, u8::saturating_sub),
        Mn::Psubusw => zip_w(a, b, u16::saturating_sub),

        Mn::Pmullw => zip_w(a, b, u16::wrapping_mul),
        Mn::Pmulhw => zip_w(a, b, |x, y| ((x as i16 as i32 * y as i16 as i32) >> 16) as u16),
        Mn::Pmulhuw => zip_w(a, b, |x, y| ((x as u32 * y as u32) >> 16) as u16),
        Mn::Pmuludq => zip_q(a, b, |x, y| (x as u32 as u64) * (y as u32 as u64)),
        Mn::Pmaddwd => {
            let (x, y) = (words(a), words(b));
            from_dwords(core::array::from_fn(|i| {
                let p = |j: usize| x[j] as i16 as i32 * y[j] as i16 as i32;
                // Only -32768*-32768 twice overflows; hardware wraps to 0x80000000.
                p(2 * i).wrapping_add(p(2 * i + 1)) as u32
            }))
        }
        Mn::Pmulhrsw => zip_w(a, b, |x, y| ((((x as i16 as i32 * y as i16 as i32) >> 14) + 1) >> 1) as u16),
        Mn::Pmaddubsw => {
            let (x, y) = (bytes(a), bytes(b));
            from_words(core::array::from_fn(|i| {
                let p = |j: usize| x[j] as i32 * y[j] as i8 as i32;
                sat_i16(p(2 * i) + p(2 * i + 1))
            }))
        }

        Mn::Psadbw => {
            let (x, y) = (bytes(a), bytes(b));
            let sad = |h: usize| (0..8).map(|i| x[h + i].abs_diff(y[h + i]) as u64).sum::<u64>();
            from_qwords([sad(0), sad(8)])
        }
        Mn::Pavgb => zip_b(a, b, |x, y| ((x as u16 + y as u16 + 1) >> 1) as u8),
        Mn::Pavgw => zip_w(a, b, |x, y| ((x as u32 + y as u32 + 1) >> 1) as u16),
        Mn::Pminub => zip_b(a, b, u8::min),
        Mn::Pmaxub => zip_b(a, b, u8::max),
        Mn::Pminsw => zip_w(a, b, |x, y| (x as i16).min(y as i16) as u16),
        Mn::Pmaxsw => zip_w(a, b, |x, y| (x as i16).max(y as i16) as u16),

        Mn::Pcmpeqb => zip_b(a, b, |x, y| ones(x == y)),
        Mn::Pcmpeqw => zip_w(a, b, |x, y| ones(x == y)),
        Mn::Pcmpeqd => zip_d(a, b, |x, y| if x == y { u32::MAX } else { 0 }),
        Mn::Pcmpgtb => zip_b(a, b, |x, y| ones((x as i8) > (y as i8))),
        Mn::Pcmpgtw => zip_w(a, b, |x, y| ones((x as i16) > (y as i16))),
        Mn::Pcmpgtd => zip_d(a, b, |x, y| if (x as i32) > (y as i32) { u32::MAX } else { 0 }),

        Mn::Punpcklbw => unpack(a, b, 1, false),
        Mn::Punpcklwd => unpack(a, b, 2, false),
        Mn::Punpckldq => unpack(a, b, 4, false),
        Mn::Punpcklqdq => unpack(a, b, 8, false),
        Mn::Punpckhbw => unpack(a, b, 1, true),
        Mn::Punpckhwd => unpack(a, b, 2, true),
        Mn::Punpckhdq => unpack(a, b, 4, true),
        Mn::Punpckhqdq => unpack(a, b, 8, true),
        Mn::Packsswb => {
            let (x, y) = (words(a), words(b));
            from_bytes(core::array::from_fn(|i| sat_i8(if i < 8 { x[i] } else { y[i - 8] } as i16 as i32)))
        }
        Mn::Packuswb => {
            let (x, y) = (words(a), words(b));
            from_bytes(core::array::from_fn(|i| sat_u8(if i < 8 { x[i] } else { y[i - 8] } as i16 as i32)))
        }
        Mn::Packssdw => {
            let (x, y) = (dwords(a), dwords(b));
            from_words(core::array::from_fn(|i| {
                let v = if i < 4 { x[i] } else { y[i - 4] } as i32;
                v.clamp(i16::MIN as i32, i16::MAX as i32) as i16 as u16
            }))
        }

        Mn::Pshufd => {
            let s = dwords(b);
            from_dwords(core::array::from_fn(|i| s[(imm as usize >> (2 * i)) & 3]))
        }
        Mn::Pshuflw => {
            let s = words(b);
            from_words(core::array::from_fn(|i| if i < 4 { s[(imm as usize >> (2 * i)) & 3] } else { s[i] }))
        }
        Mn::Pshufhw => {
            let s = words(b);
            from_words(core::array::from_fn(
                |i| if i < 4 { s[i] } else { s[4 + ((imm as usize >> (2 * (i - 4))) & 3)] },
            ))
        }

        Mn::Pshufb => {
            let (x, y) = (bytes(a), bytes(b));
            from_bytes(core::array::from_fn(|i| if y[i] & 0x80 != 0 { 0 } else { x[(y[i] & 15) as usize] }))
        }
        Mn::Palignr => {
            // (a:b) as a 32-byte value, shifted right by imm bytes; the low 16 bytes remain.
            let mut cat = [0u8; 32];
            cat[..16].copy_from_slice(&bytes(b));
            cat[16..].copy_from_slice(&bytes(a));
            let s = imm as usize;
            from_bytes(core::array::from_fn(|i| cat.get(s + i).copied().unwrap_or(0)))
        }
        Mn::Phaddw => horiz_w(a, b, u16::wrapping_add),
        Mn::Phaddd => horiz_d(a, b, u32::wrapping_add),
        Mn::Phaddsw => horiz_w(a, b, |x, y| (x as i16).saturating_add(y as i16) as u16),
        Mn::Phsubw => horiz_w(a, b, u16::wrapping_sub),
        Mn::Phsubd => horiz_d(a, b, u32::wrapping_sub),
        Mn::Phsubsw => horiz_w(a, b, |x, y| (x as i16).saturating_sub(y as i16) as u16),
        // pabs reads only the source.
        Mn::Pabsb => zip_b(a, b, |_, y| (y as i8).unsigned_abs()),
        Mn::Pabsw => zip_w(a, b, |_, y| (y as i16).unsigned_abs()),
        Mn::Pabsd => zip_d(a, b, |_, y| (y as i32).unsigned_abs()),
        Mn::Psignb => zip_b(a, b, |x, y| psign!(x, y, i8)),
        Mn::Psignw => zip_w(a, b, |x, y| psign!(x, y, i16)),
        Mn::Psignd => zip_d(a, b, |x, y| psign!(x, y, i32)),
        _ => return None,
    })
}

/// `xmm ← op(xmm, xmm/m128 [, imm8])` for every mnemonic `compute` knows.
pub fn binop(m: &mut M, ins: &Instruction) -> Res {
    if has_mm(ins) {
        return super::unimplemented(m, ins);
    }
    let b = read_xmm_op_aligned(m, ins, 1)?;
    let d = xmm_index(ins.op0_register());
    let imm = if ins.op_count() > 2 { ins.immediate8() } else { 0 };
    match compute(ins.mnemonic(), m.cpu.xmm[d], b, imm) {
        Some(r) => {
            m.cpu.xmm[d] = r;
            Ok(())
        }
        None => super::unimplemented(m, ins),
    }
}

/// Shift every lane of `a` by `count` (psll/psrl/psra). Logical shifts by ≥ the lane width give
/// 0; arithmetic ones fill with the sign.
pub fn shift_lanes(mn: Mn, a: u128, count: u64) -> Option<u128> {
    let c = count.min(64) as u32;
    Some(match mn {
        Mn::Psllw => zip_w(a, 0, |x, _| if c < 16 { x << c } else { 0 }),
        Mn::Pslld => zip_d(a, 0, |x, _| if c < 32 { x << c } else { 0 }),
        Mn::Psllq => zip_q(a, 0, |x, _| if c < 64 { x << c } else { 0 }),
        Mn::Psrlw => zip_w(a, 0, |x, _| if c < 16 { x >> c } else { 0 }),
        Mn::Psrld => zip_d(a, 0, |x, _| if c < 32 { x >> c } else { 0 }),
        Mn::Psrlq => zip_q(a, 0, |x, _| if c < 64 { x >> c } else { 0 }),
        Mn::Psraw => zip_w(a, 0, |x, _| ((x as i16) >> c.min(15)) as u16),
        Mn::Psrad => zip_d(a, 0, |x, _| ((x as i32) >> c.min(31)) as u32),
        _ => return None,
    })
}

/// psll/psrl/psra with an imm8 count or the low 64 bits of xmm/m128 as count.
pub fn shift(m: &mut M, ins: &Instruction) -> Res {
    if has_mm(ins) {
        return super::unimplemented(m, ins);
    }
    let count = match ins.op1_kind() {
        OpKind::Immediate8 => ins.immediate8() as u64,
        _ => read_xmm_op_aligned(m, ins, 1)? as u64,
    };
    let d = xmm_index(ins.op0_register());
    match shift_lanes(ins.mnemonic(), m.cpu.xmm[d], count) {
        Some(r) => {
            m.cpu.xmm[d] = r;
            Ok(())
        }
        None => super::unimplemented(m, ins),
    }
}

/// pslldq/psrldq: shift the whole register by imm8 bytes (≥ 16 gives 0).
pub fn shift_bytes(m: &mut M, ins: &Instruction) -> Res {
    let d = xmm_index(ins.op0_register());
    let n = ins.immediate8() as u32;
    let a = m.cpu.xmm[d];
    m.cpu.xmm[d] = match (n, ins.mnemonic()) {
        (16.., _) => 0,
        (_, Mn::Pslldq) => a << (8 * n),
        _ => a >> (8 * n),
    };
    Ok(())
}

/// Host-oracle test harness shared with `sse_move`'s tests: run one instruction natively on
/// xmm0-xmm3, rax/rcx/rdx and a 64-byte buffer at [rsi] (= [rdi]), then the same bytes
/// through the handler, and compare everything. Self-contained (its own small test machine)
/// so it does not depend on a shared test-helper module.
#[cfg(test)]
pub(crate) mod harness {
    use crate::engine::Machine;
    use crate::isa::x86_64::state::reg;
    use crate::isa::x86_64::table::TABLE;
    use crate::isa::x86_64::{gp_fault, Res, M};
    use crate::mem::{flags, Memory};
    use iced_x86::{Decoder, DecoderOptions, Instruction};

    /// Guest address of the read-write data area of a test machine.
    pub const DATA: u64 = 0x10000;
    /// Size of the data area; the page after it is unmapped.
    pub const DATA_LEN: u64 = 0x1000;
    /// Address the test instructions are decoded at.
    pub const CODE: u64 = 0x1000;

    /// A machine with `DATA_LEN` bytes of zeroed read-write memory at `DATA`.
    pub fn machine() -> M {
        let mut mem = Memory::new(1 << 24).expect("reserve guest memory");
        assert!(mem.map(DATA, DATA_LEN, flags::R | flags::W));
        Machine { cpu: Default::default(), mem, icount: 0, limit: u64::MAX }
    }

    /// Decode one 64-bit instruction from `bytes` at `CODE`.
    pub fn decode(bytes: &[u8]) -> Instruction {
        let ins = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE).decode();
        assert!(!ins.is_invalid(), "invalid instruction bytes {bytes:02x?}");
        ins
    }

    /// Decode one instruction from `bytes` and run its handler on `m` (rip set past it first).
    pub fn exec(m: &mut M, bytes: &[u8]) -> Res {
        let ins = decode(bytes);
        m.cpu.rip = ins.next_ip();
        TABLE.get(ins.mnemonic())(m, &ins)
    }

    /// Inputs and outputs of one run.
    #[repr(C, align(16))]
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub struct St {
        pub x: [u128; 4],
        pub mem: [u8; 64],
        pub rax: u64,
        pub rcx: u64,
        pub rdx: u64,
    }

    /// Runs the instruction natively on `St` and returns its machine code.
    pub type Native = fn(&mut St) -> &'static [u8];

    /// `native!("paddb xmm0, xmm1")`: a [`Native`] executing that one instruction on the host.
    /// The text may use xmm0-xmm3, rax/rcx/rdx (and their sub-registers), [rsi]/[rdi].
    macro_rules! native {
        ($text:expr) => {{
            fn run(s: &mut $crate::isa::x86_64::sse_int::harness::St) -> &'static [u8] {
                let (start, end): (usize, usize);
                let xp = s.x.as_mut_ptr();
                let mp = s.mem.as_mut_ptr();
                // SAFETY: the asm loads/stores the 64 bytes at `xp` (s.x) and the instruction
                // under test only touches xmm0-3, rax/rcx/rdx (declared) and the 64 bytes of
                // s.mem at rsi/rdi. The labels 2/3 delimit its bytes in this function's code,
                // which stays mapped and readable for the program's life.
                unsafe {
                    core::arch::asm!(
                        "movdqu xmm0, [r8]",
                        "movdqu xmm1, [r8 + 16]",
                        "movdqu xmm2, [r8 + 32]",
                        "movdqu xmm3, [r8 + 48]",
                        "lea {st}, [rip + 2f]",
                        "lea {en}, [rip + 3f]",
                        "2:",
                        $text,
                        "3:",
                        "movdqu [r8], xmm0",
                        "movdqu [r8 + 16], xmm1",
                        "movdqu [r8 + 32], xmm2",
                        "movdqu [r8 + 48], xmm3",
                        st = out(reg) start,
                        en = out(reg) end,
                        in("r8") xp,
                        in("rsi") mp,
                        in("rdi") mp,
                        inout("rax") s.rax,
                        inout("rcx") s.rcx,
                        inout("rdx") s.rdx,
                        out("xmm0") _,
                        out("xmm1") _,
                        out("xmm2") _,
                        out("xmm3") _,
                        options(nostack),
                    );
                    core::slice::from_raw_parts(start as *const u8, end - start)
                }
            }
            (
                $text,
                run as $crate::isa::x86_64::sse_int::harness::Native,
            )
        }};
    }
    pub(crate) use native;

    /// `imms!("pshufd xmm0, xmm1, "; "0", "0x1b")`: one case per immediate.
    macro_rules! imms {
        ($pre:literal; $($i:literal),* $(,)?) => {
            [$($crate::isa::x86_64::sse_int::harness::native!(concat!($pre, $i))),*]
        };
    }
    pub(crate) use imms;

    /// `rm!("paddb")`: the register and the memory form `xmm0, xmm1` / `xmm0, [rsi]`.
    macro_rules! rm {
        ($($mn:literal),* $(,)?) => {
            [$(
                $crate::isa::x86_64::sse_int::harness::native!(concat!($mn, " xmm0, xmm1")),
                $crate::isa::x86_64::sse_int::harness::native!(concat!($mn, " xmm0, [rsi]")),
            )*]
        };
    }
    pub(crate) use rm;

    /// The tests' generator, with values biased towards lane boundaries.
    pub struct Rng(crate::testrng::Rng);

    impl Rng {
        pub fn new(seed: u64) -> Rng {
            Rng(crate::testrng::Rng::new(seed))
        }

        pub fn next(&mut self) -> u64 {
            self.0.next_u64()
        }

        pub fn below(&mut self, n: u64) -> u64 {
            self.0.below(n)
        }

        /// A 16-bit chunk: half the time random, otherwise a signed/unsigned boundary.
        fn chunk(&mut self) -> u16 {
            const SPECIAL: [u16; 16] = [
                0, 1, 0xffff, 0x8000, 0x7fff, 0x8001, 0xfffe, 0x0080, 0x007f, 0x00ff, 0xff00, 0x8080, 0x7f7f, 0x80ff,
                0x7f80, 0xff7f,
            ];
            if self.next() & 1 == 0 {
                self.next() as u16
            } else {
                SPECIAL[self.below(16) as usize]
            }
        }

        pub fn xmm(&mut self) -> u128 {
            (0..8).fold(0, |r, i| r | (self.chunk() as u128) << (16 * i))
        }

        /// A random state; xmm1 and the buffer share some lanes with xmm0 so equality
        /// comparisons see both outcomes.
        pub fn state(&mut self) -> St {
            let mut s = St { x: [0; 4], mem: [0; 64], rax: self.next(), rcx: self.next(), rdx: self.next() };
            for x in &mut s.x {
                *x = self.xmm();
            }
            for c in s.mem.chunks_mut(16) {
                c.copy_from_slice(&self.xmm().to_le_bytes());
            }
            for i in 0..8 {
                if self.below(4) == 0 {
                    let m = 0xffffu128 << (16 * i);
                    s.x[1] = (s.x[1] & !m) | (s.x[0] & m);
                    let (a, b) = (s.x[0].to_le_bytes(), 2 * i);
                    s.mem[b..b + 2].copy_from_slice(&a[b..b + 2]);
                }
            }
            s
        }

        /// A shift count: mostly around the lane widths, sometimes huge.
        pub fn count(&mut self) -> u64 {
            const C: [u64; 14] = [0, 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65];
            match self.below(8) {
                0 => self.next(),
                1 => 1 << 32 | self.below(16),
                2 => 255 + self.below(3),
                _ => C[self.below(C.len() as u64) as usize],
            }
        }
    }

    /// Guest address of the buffer the emulated [rsi]/[rdi] point at (16-byte aligned).
    pub const BUF: u64 = DATA + 0x100;

    /// Run `bytes` through the handler on `m` with state `s`, [rsi] = [rdi] = BUF + `off`.
    /// Checks that nothing outside `St` changed.
    pub fn emulate(m: &mut M, bytes: &[u8], s: &St, off: u64) -> (Res, St) {
        let ins = decode(bytes);
        assert_eq!(ins.len(), bytes.len(), "expected exactly one instruction: {bytes:02x?}");
        m.cpu = Default::default();
        m.cpu.xmm[..4].copy_from_slice(&s.x);
        m.cpu.gpr[reg::RAX] = s.rax;
        m.cpu.gpr[reg::RCX] = s.rcx;
        m.cpu.gpr[reg::RDX] = s.rdx;
        m.cpu.gpr[reg::RSI] = BUF + off;
        m.cpu.gpr[reg::RDI] = BUF + off;
        m.mem.write_bytes(BUF, &s.mem).unwrap();
        let before = m.cpu;
        m.cpu.rip = ins.next_ip();
        let r = TABLE.get(ins.mnemonic())(m, &ins);
        let mut out = St {
            x: [0; 4],
            mem: [0; 64],
            rax: m.cpu.gpr[reg::RAX],
            rcx: m.cpu.gpr[reg::RCX],
            rdx: m.cpu.gpr[reg::RDX],
        };
        out.x.copy_from_slice(&m.cpu.xmm[..4]);
        m.mem.read_bytes(BUF, &mut out.mem).unwrap();
        let mut rest = m.cpu;
        rest.xmm[..4].copy_from_slice(&before.xmm[..4]);
        for r in [reg::RAX, reg::RCX, reg::RDX] {
            rest.gpr[r] = before.gpr[r];
        }
        rest.rip = before.rip;
        assert_eq!(rest, before, "state outside xmm0-3/rax/rcx/rdx changed by {ins}");
        assert_eq!(m.cpu.rip, ins.next_ip());
        (r, out)
    }

    /// What `prep` does to a random state before a case runs.
    pub type Prep = fn(&mut St, &mut Rng);

    pub fn no_prep(_: &mut St, _: &mut Rng) {}

    /// Compare host and handler on random states for each case. With `aligned`, memory forms
    /// must also raise #GP (and change nothing) when the buffer is misaligned.
    pub fn check(cases: &[(&str, Native)], prep: Prep, aligned: bool) {
        let mut m = machine();
        for (k, &(text, f)) in cases.iter().enumerate() {
            let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15 ^ (k as u64 + 1).wrapping_mul(0x1234_5678_9abc_def1));
            if std::env::var_os("SSE_TEST_LIST").is_some() {
                eprintln!("{text:40} {}", crate::isa::x86_64::disasm(&decode(f(&mut rng.state()))));
            }
            for _ in 0..300 {
                let mut s = rng.state();
                prep(&mut s, &mut rng);
                let mut want = s;
                let bytes = f(&mut want);
                let (r, got) = emulate(&mut m, bytes, &s, 0);
                assert_eq!(r, Ok(()), "{text}");
                assert_eq!(got, want, "{text} ({bytes:02x?}) on {s:x?}");
                if aligned && text.contains("[rsi]") {
                    for off in [1, 8] {
                        let (r, got) = emulate(&mut m, bytes, &s, off);
                        assert_eq!(r, Err(gp_fault()), "{text} misaligned by {off}");
                        assert_eq!(got, s, "{text} misaligned changed state");
                    }
                }
            }
        }
    }

    /// The handler for `bytes` must raise SIGILL (unimplemented form).
    pub fn check_sigill(bytes: &[u8]) {
        let mut m = machine();
        let s = Rng::new(1).state();
        let (r, got) = emulate(&mut m, bytes, &s, 0);
        match r {
            Err(crate::isa::x86_64::Trap::Fault(f)) => assert_eq!(f.signo, crate::engine::sig::SIGILL, "{bytes:02x?}"),
            other => panic!("{bytes:02x?}: expected SIGILL, got {other:?}"),
        }
        assert_eq!(got, s);
    }
}

#[cfg(test)]
mod tests {
    use super::harness::{check, check_sigill, imms, no_prep, rm, Rng, St};

    #[test]
    fn logic() {
        check(
            &rm!(
                "pand", "pandn", "por", "pxor", "andps", "andnps", "orps", "xorps", "andpd", "andnpd", "orpd", "xorpd"
            ),
            no_prep,
            true,
        );
    }

    #[test]
    fn add_sub() {
        check(
            &rm!(
                "paddb", "paddw", "paddd", "paddq", "psubb", "psubw", "psubd", "psubq", "paddsb", "paddsw", "paddusb",
                "paddusw", "psubsb", "psubsw", "psubusb", "psubusw"
            ),
            no_prep,
            true,
        );
    }

    #[test]
    fn multiply_average_minmax() {
        check(
            &rm!(
                "pmullw", "pmulhw", "pmulhuw", "pmuludq", "pmaddwd", "psadbw", "pavgb", "pavgw", "pminub", "pmaxub",
                "pminsw", "pmaxsw"
            ),
            no_prep,
            true,
        );
    }

    #[test]
    fn compare() {
        check(&rm!("pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd"), no_prep, true);
    }

    #[test]
    fn unpack_pack() {
        check(
            &rm!(
                "punpcklbw",
                "punpcklwd",
                "punpckldq",
                "punpcklqdq",
                "punpckhbw",
                "punpckhwd",
                "punpckhdq",
                "punpckhqdq",
                "packsswb",
                "packssdw",
                "packuswb"
            ),
            no_prep,
            true,
        );
    }

    /// Shift counts from xmm1 / the buffer: mostly small or around the lane widths.
    fn counts(s: &mut St, r: &mut Rng) {
        s.x[1] = (s.x[1] >> 64 << 64) | r.count() as u128;
        s.mem[..8].copy_from_slice(&r.count().to_le_bytes());
    }

    #[test]
    fn shifts_by_xmm() {
        check(&rm!("psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"), counts, true);
        // Also with a count that has bits only above 63 (ignored: count is bits 63:0).
        check(&rm!("psllw", "psrad"), |s, _| s.x[1] = 1u128 << 64 | 3, true);
    }

    #[test]
    fn shifts_by_imm() {
        macro_rules! all {
            ($($mn:literal),*) => {
                [$(imms!($mn; "0", "1", "7", "8", "15", "16", "17", "31", "32", "63", "64", "200", "255")),*].concat()
            };
        }
        check(
            &all!(
                "psllw xmm0, ",
                "pslld xmm0, ",
                "psllq xmm0, ",
                "psrlw xmm0, ",
                "psrld xmm0, ",
                "psrlq xmm0, ",
                "psraw xmm0, ",
                "psrad xmm0, ",
                "pslldq xmm0, ",
                "psrldq xmm0, "
            ),
            no_prep,
            true,
        );
    }

    #[test]
    fn shuffles() {
        macro_rules! all {
            ($($mn:literal),*) => {
                [$(imms!($mn; "0", "0x1b", "0xe4", "0x4e", "0xb1", "0x39", "0xff", "0x93", "0x5a")),*].concat()
            };
        }
        check(
            &all!(
                "pshufd xmm0, xmm1, ",
                "pshufd xmm0, [rsi], ",
                "pshuflw xmm0, xmm1, ",
                "pshuflw xmm0, [rsi], ",
                "pshufhw xmm0, xmm1, ",
                "pshufhw xmm0, [rsi], ",
                // Source and destination the same register.
                "pshufd xmm2, xmm2, "
            ),
            no_prep,
            true,
        );
    }

    #[test]
    fn ssse3() {
        check(
            &rm!(
                "pshufb",
                "phaddw",
                "phaddd",
                "phaddsw",
                "phsubw",
                "phsubd",
                "phsubsw",
                "pabsb",
                "pabsw",
                "pabsd",
                "psignb",
                "psignw",
                "psignd",
                "pmulhrsw",
                "pmaddubsw"
            ),
            no_prep,
            true,
        );
        macro_rules! all {
            ($($mn:literal),*) => {
                [$(imms!($mn; "0", "1", "4", "7", "8", "15", "16", "17", "24", "31", "32", "33", "128", "255")),*].concat()
            };
        }
        check(&all!("palignr xmm0, xmm1, ", "palignr xmm0, [rsi], ", "palignr xmm3, xmm3, "), no_prep, true);
    }

    #[test]
    fn same_register_operands() {
        check(
            &rm!("pxor", "pcmpeqb", "psubb", "pcmpgtw", "punpcklbw", "packuswb", "pmaddwd").map(|c| c),
            no_prep,
            true,
        );
        check(
            &[
                super::harness::native!("pxor xmm1, xmm1"),
                super::harness::native!("pcmpeqd xmm2, xmm2"),
                super::harness::native!("psubq xmm3, xmm3"),
                super::harness::native!("punpckhqdq xmm1, xmm1"),
                super::harness::native!("psadbw xmm2, xmm2"),
                super::harness::native!("pshufb xmm3, xmm3"),
            ],
            no_prep,
            true,
        );
    }

    #[test]
    fn mmx_forms_are_sigill() {
        for b in [
            &[0x0f, 0xfc, 0xc1][..],         // paddb mm0, mm1
            &[0x0f, 0xef, 0xc0],             // pxor mm0, mm0
            &[0x0f, 0xd4, 0xc1],             // paddq mm0, mm1
            &[0x0f, 0xf4, 0xc1],             // pmuludq mm0, mm1
            &[0x0f, 0x60, 0x06],             // punpcklbw mm0, [rsi]
            &[0x0f, 0x71, 0xf0, 0x03],       // psllw mm0, 3
            &[0x0f, 0xf1, 0xc1],             // psllw mm0, mm1
            &[0x0f, 0x38, 0x00, 0xc1],       // pshufb mm0, mm1
            &[0x0f, 0x3a, 0x0f, 0xc1, 0x03], // palignr mm0, mm1, 3
            &[0x0f, 0x38, 0x1c, 0xc1],       // pabsb mm0, mm1
        ] {
            check_sigill(b);
        }
    }
}
