//! Advanced SIMD: the element helpers every simd*.rs file uses, and the data-movement
//! classes (Arm ARM C4.1.96): copy (DUP element/general, INS element/general, UMOV, SMOV,
//! scalar DUP), modified immediate (MOVI MVNI ORR BIC FMOV), permute (UZP1/2 TRN1/2
//! ZIP1/2), EXT and table lookup (TBL/TBX with 1-4 registers).
//!
//! The other classes: integer arithmetic in `simd_int.rs`, shifts by immediate in
//! `simd_shift.rs`, floating point in `simd_fp.rs`, by-element in `simd_elem.rs`; the class
//! decode in `simd_decode.rs`. A 64-bit (Q = 0) vector result zeroes bits 127:64.

use super::fp::{rd, rm, rn};
use super::operands::{reg, set_reg};
use super::table::Table;
use super::{Decoded, Res, M};
use deja_decoders::aarch64::SizeCode;

pub fn register(t: &mut Table) {
    super::simd_decode::register(t);
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The Q bit (bit 30): 128-bit vector.
#[inline(always)]
pub fn q(w: u32) -> bool {
    (w >> 30) & 1 != 0
}

/// The U bit (bit 29).
#[inline(always)]
pub fn u(w: u32) -> bool {
    (w >> 29) & 1 != 0
}

/// The size field (bits 23:22).
#[inline(always)]
pub fn size(w: u32) -> u32 {
    (w >> 22) & 3
}

#[inline(always)]
pub fn vr(m: &M, n: usize) -> u128 {
    m.cpu.v[n]
}

/// Write a vector result: a 64-bit vector (`!q`) zeroes the upper half.
#[inline(always)]
pub fn set_v(m: &mut M, n: usize, v: u128, q: bool) {
    m.cpu.v[n] = if q { v } else { v & u64::MAX as u128 };
}

/// Mask of an element of `es` bits.
#[inline(always)]
pub const fn emask(es: u32) -> u64 {
    if es >= 64 {
        u64::MAX
    } else {
        (1u64 << es) - 1
    }
}

/// Element `i` of `es` bits.
#[inline(always)]
pub fn get(v: u128, es: u32, i: u32) -> u64 {
    (v >> (i * es)) as u64 & emask(es)
}

/// Set element `i` of `es` bits.
#[inline(always)]
pub fn put(v: &mut u128, es: u32, i: u32, x: u64) {
    let mk = (emask(es) as u128) << (i * es);
    *v = (*v & !mk) | (((x & emask(es)) as u128) << (i * es));
}

/// Sign-extend an `es`-bit value.
#[inline(always)]
pub fn sext(x: u64, es: u32) -> i64 {
    if es >= 64 {
        x as i64
    } else {
        ((x << (64 - es)) as i64) >> (64 - es)
    }
}

/// Number of `es`-bit elements in a 64- or 128-bit vector.
#[inline(always)]
pub fn lanes(es: u32, q: bool) -> u32 {
    if q {
        128 / es
    } else {
        64 / es
    }
}

/// `es`-bit elements `0..n` of `a` and `b` through `f`.
#[inline(always)]
fn map2_c<const ES: u32>(a: u128, b: u128, n: u32, mut f: impl FnMut(u64, u64) -> u64) -> u128 {
    let mut r = 0u128;
    for i in 0..n {
        let s = i * ES;
        let x = f((a >> s) as u64 & emask(ES), (b >> s) as u64 & emask(ES)) & emask(ES);
        r |= (x as u128) << s;
    }
    r
}

/// Element-wise binary map over `n` elements of `es` bits.
#[inline(always)]
pub fn map2(a: u128, b: u128, es: u32, n: u32, f: impl FnMut(u64, u64) -> u64) -> u128 {
    match es {
        8 => map2_c::<8>(a, b, n, f),
        16 => map2_c::<16>(a, b, n, f),
        32 => map2_c::<32>(a, b, n, f),
        _ => map2_c::<64>(a, b, n, f),
    }
}

/// Element-wise unary map.
#[inline(always)]
pub fn map1(a: u128, es: u32, n: u32, mut f: impl FnMut(u64) -> u64) -> u128 {
    map2(a, 0, es, n, |x, _| f(x))
}

/// Replicate the `es`-bit value `x` over 128 bits.
#[inline(always)]
pub fn replicate(x: u64, es: u32) -> u128 {
    let mut r = 0u128;
    for i in 0..128 / es {
        r |= ((x & emask(es)) as u128) << (i * es);
    }
    r
}

/// Element size and index of a copy-class `imm5` (lowest set bit gives the size).
#[inline(always)]
fn imm5_elem(imm5: u32) -> Option<(u32, u32)> {
    let sz = imm5.trailing_zeros();
    if sz > 3 {
        return None;
    }
    Some((8 << sz, imm5 >> (sz + 1)))
}

// ---------------------------------------------------------------------------------------
// Copy
// ---------------------------------------------------------------------------------------

/// Advanced SIMD copy: DUP (element), DUP (general), SMOV, UMOV, INS (general), INS (element).
pub fn copy(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    let op = u(w);
    let imm5 = (w >> 16) & 31;
    let imm4 = (w >> 11) & 15;
    let Some((es, idx)) = imm5_elem(imm5) else { return Err(super::undefined(d)) };
    let (n, dd) = (rn(w), rd(w));
    match (op, imm4) {
        (false, 0) => {
            // DUP (element)
            if es == 64 && !qq {
                return Err(super::undefined(d));
            }
            let x = get(vr(m, n), es, idx);
            set_v(m, dd, replicate(x, es), qq);
        }
        (false, 1) => {
            // DUP (general)
            if es == 64 && !qq {
                return Err(super::undefined(d));
            }
            let x = reg(m, SizeCode::X, n as u16);
            set_v(m, dd, replicate(x, es), qq);
        }
        (false, 5) => {
            // SMOV
            if es == 64 || (es == 32 && !qq) {
                return Err(super::undefined(d));
            }
            let x = sext(get(vr(m, n), es, idx), es) as u64;
            set_reg(m, if qq { SizeCode::X } else { SizeCode::W }, dd as u16, x);
        }
        (false, 7) => {
            // UMOV
            if (es == 64) != qq {
                return Err(super::undefined(d));
            }
            let x = get(vr(m, n), es, idx);
            set_reg(m, if qq { SizeCode::X } else { SizeCode::W }, dd as u16, x);
        }
        (false, 3) if qq => {
            // INS (general)
            let x = reg(m, SizeCode::X, n as u16);
            let mut v = vr(m, dd);
            put(&mut v, es, idx, x);
            m.cpu.v[dd] = v;
        }
        (true, _) if qq => {
            // INS (element)
            let src = imm4 >> (es.trailing_zeros() - 3);
            let x = get(vr(m, n), es, src);
            let mut v = vr(m, dd);
            put(&mut v, es, idx, x);
            m.cpu.v[dd] = v;
        }
        _ => return Err(super::undefined(d)),
    }
    Ok(())
}

/// Advanced SIMD scalar copy: DUP (element) to a scalar.
pub fn scalar_copy(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let imm4 = (w >> 11) & 15;
    if u(w) || imm4 != 0 {
        return Err(super::undefined(d));
    }
    let Some((es, idx)) = imm5_elem((w >> 16) & 31) else { return Err(super::undefined(d)) };
    let x = get(vr(m, rn(w)), es, idx);
    m.cpu.v[rd(w)] = x as u128;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Modified immediate
// ---------------------------------------------------------------------------------------

/// AdvSIMDExpandImm: the 64-bit immediate of op, cmode and imm8.
pub fn expand_imm(op: bool, cmode: u32, imm8: u32) -> u64 {
    let i = imm8 as u64;
    let r2 = |x: u64| x | (x << 32);
    let r4 = |x: u64| x | (x << 16) | (x << 32) | (x << 48);
    match cmode >> 1 {
        0 => r2(i),
        1 => r2(i << 8),
        2 => r2(i << 16),
        3 => r2(i << 24),
        4 => r4(i),
        5 => r4(i << 8),
        6 => {
            if cmode & 1 == 0 {
                r2((i << 8) | 0xff)
            } else {
                r2((i << 16) | 0xffff)
            }
        }
        _ => match (cmode & 1, op) {
            (0, false) => i * 0x0101_0101_0101_0101,
            (0, true) => (0..8).fold(0u64, |acc, b| acc | if (i >> b) & 1 != 0 { 0xffu64 << (8 * b) } else { 0 }),
            (_, false) => {
                let b6 = (i >> 6) & 1;
                let f =
                    ((i >> 7) << 31) | ((b6 ^ 1) << 30) | (if b6 == 1 { 0x1f << 25 } else { 0 }) | ((i & 0x3f) << 19);
                r2(f)
            }
            (_, true) => {
                let b6 = (i >> 6) & 1;
                ((i >> 7) << 63) | ((b6 ^ 1) << 62) | (if b6 == 1 { 0xff << 54 } else { 0 }) | ((i & 0x3f) << 48)
            }
        },
    }
}

/// Advanced SIMD modified immediate: MOVI, MVNI, ORR, BIC (vector, immediate) and FMOV
/// (vector, immediate).
pub fn modified_imm(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    let op = u(w);
    let cmode = (w >> 12) & 15;
    let o2 = (w >> 11) & 1;
    let imm8 = (((w >> 16) & 7) << 5) | ((w >> 5) & 31);
    let dd = rd(w);
    if o2 != 0 {
        // FMOV (vector, half-precision immediate): FEAT_FP16.
        if cmode == 15 && !op {
            return super::unimplemented(m, d);
        }
        return Err(super::undefined(d));
    }
    if cmode == 15 && op && !qq {
        return Err(super::undefined(d));
    }
    let imm = expand_imm(op, cmode, imm8);
    let imm128 = imm as u128 | (imm as u128) << 64;
    // ORR / BIC: cmode 0xx1 or 10x1.
    let logical = cmode < 12 && cmode & 1 == 1;
    let r = if logical {
        if op {
            vr(m, dd) & !imm128
        } else {
            vr(m, dd) | imm128
        }
    } else if op && cmode < 14 {
        // MVNI
        !imm128
    } else {
        imm128
    };
    set_v(m, dd, r, qq);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Permute, extract, table lookup
// ---------------------------------------------------------------------------------------

/// Advanced SIMD permute: UZP1 TRN1 ZIP1 UZP2 TRN2 ZIP2.
pub fn permute(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    let sz = size(w);
    let opcode = (w >> 12) & 7;
    if sz == 3 && !qq || opcode & 3 == 0 {
        return Err(super::undefined(d));
    }
    let es = 8 << sz;
    let n = lanes(es, qq);
    let a = vr(m, rn(w));
    let b = vr(m, rm(w));
    let part = opcode >> 2;
    let mut r = 0u128;
    match opcode & 3 {
        1 => {
            // UZP: even (part 0) or odd (part 1) elements of a, then of b.
            for e in 0..n {
                let src = 2 * e + part;
                let x = if src < n { get(a, es, src) } else { get(b, es, src - n) };
                put(&mut r, es, e, x);
            }
        }
        2 => {
            // TRN
            for p in 0..n / 2 {
                put(&mut r, es, 2 * p, get(a, es, 2 * p + part));
                put(&mut r, es, 2 * p + 1, get(b, es, 2 * p + part));
            }
        }
        _ => {
            // ZIP
            let base = part * n / 2;
            for p in 0..n / 2 {
                put(&mut r, es, 2 * p, get(a, es, base + p));
                put(&mut r, es, 2 * p + 1, get(b, es, base + p));
            }
        }
    }
    set_v(m, rd(w), r, qq);
    Ok(())
}

/// EXT.
pub fn extract(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    let imm4 = (w >> 11) & 15;
    if (w >> 22) & 3 != 0 || (!qq && imm4 >= 8) {
        return Err(super::undefined(d));
    }
    let lo = vr(m, rn(w));
    let hi = vr(m, rm(w));
    let sh = imm4 * 8;
    let r = if qq {
        if sh == 0 {
            lo
        } else {
            (lo >> sh) | (hi << (128 - sh))
        }
    } else {
        let cat = (lo & u64::MAX as u128) | (hi << 64);
        cat >> sh
    };
    set_v(m, rd(w), r, qq);
    Ok(())
}

/// TBL / TBX with one to four table registers.
pub fn table_lookup(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let qq = q(w);
    if (w >> 22) & 3 != 0 {
        return Err(super::undefined(d));
    }
    let regs = ((w >> 13) & 3) as usize + 1;
    let tbx = (w >> 12) & 1 != 0;
    let n = rn(w);
    let mut table = [0u8; 64];
    for i in 0..regs {
        table[i * 16..i * 16 + 16].copy_from_slice(&vr(m, (n + i) % 32).to_le_bytes());
    }
    let idx = vr(m, rm(w)).to_le_bytes();
    let dd = rd(w);
    let mut out = vr(m, dd).to_le_bytes();
    let count = if qq { 16 } else { 8 };
    for i in 0..count {
        let x = idx[i] as usize;
        if x < regs * 16 {
            out[i] = table[x];
        } else if !tbx {
            out[i] = 0;
        }
    }
    set_v(m, dd, u128::from_le_bytes(out), qq);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, Case, Rng};

    /// Random register contents for each word.
    pub fn random_cases(words: &[u32], per: usize, seed: u64) -> Vec<Case> {
        let mut rng = Rng(seed);
        let mut cases = Vec::new();
        for &w in words {
            for _ in 0..per {
                let mut c = Case::new(w);
                for v in c.v.iter_mut() {
                    *v = rng.v128();
                }
                for x in c.x.iter_mut() {
                    *x = rng.next_u64();
                }
                cases.push(c);
            }
        }
        cases
    }

    #[test]
    fn copy_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for imm5 in 1..32u32 {
                for imm4 in [0u32, 1, 3, 5, 7] {
                    words.push(0x0e00_0400 | q << 30 | imm5 << 16 | imm4 << 11 | 1 << 5 | 2);
                }
            }
        }
        for imm5 in 1..32u32 {
            for imm4 in [0u32, 1, 5, 9, 15] {
                words.push(0x6e00_0400 | imm5 << 16 | imm4 << 11 | 1 << 5 | 2);
            }
            words.push(0x5e00_0400 | imm5 << 16 | 1 << 5 | 2);
        }
        // Keep only allocated encodings (qemu would raise SIGILL on the others).
        let ok = |w: u32| {
            let q = w >> 30 & 1 == 1;
            let imm5 = (w >> 16) & 31;
            let sz = imm5.trailing_zeros();
            if sz > 3 {
                return false;
            }
            if w >> 28 == 5 {
                return true;
            }
            if w >> 29 & 1 == 1 {
                return q;
            }
            match (w >> 11) & 15 {
                0 | 1 => sz != 3 || q,
                3 => q,
                5 => sz < 2 || (sz == 2 && q),
                7 => (sz == 3) == q,
                _ => false,
            }
        };
        let words: Vec<u32> = words.into_iter().filter(|&w| ok(w)).collect();
        check(&random_cases(&words, 3, 1));
    }

    #[test]
    fn modified_imm_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for op in [0u32, 1] {
                for cmode in 0..16u32 {
                    if cmode == 15 && op == 1 && q == 0 {
                        continue;
                    }
                    for imm8 in [0u32, 0x41, 0x80, 0xff, 0x3c, 0x96] {
                        words.push(
                            0x0f00_0400 | q << 30 | op << 29 | (imm8 >> 5) << 16 | cmode << 12 | (imm8 & 31) << 5 | 3,
                        );
                    }
                }
            }
        }
        check(&random_cases(&words, 1, 2));
    }

    #[test]
    fn permute_ext_tbl_vs_qemu() {
        let mut words = Vec::new();
        for q in [0u32, 1] {
            for size in 0..4u32 {
                if size == 3 && q == 0 {
                    continue;
                }
                for opc in [1u32, 2, 3, 5, 6, 7] {
                    words.push(0x0e00_0800 | q << 30 | size << 22 | 2 << 16 | opc << 12 | 1 << 5);
                }
            }
            for imm4 in 0..16u32 {
                if q == 0 && imm4 >= 8 {
                    continue;
                }
                words.push(0x2e00_0000 | q << 30 | 2 << 16 | imm4 << 11 | 1 << 5);
            }
            for len in 0..4u32 {
                for op in [0u32, 1] {
                    words.push(0x0e00_0000 | q << 30 | 6 << 16 | len << 13 | op << 12 | 1 << 5);
                    // Table registers wrapping from v31 to v0 cannot be loaded by the
                    // harness (v0-v7 only), so use v3..v6.
                    words.push(0x0e00_0000 | q << 30 | 7 << 16 | len << 13 | op << 12 | 3 << 5);
                }
            }
        }
        let mut cases = random_cases(&words, 4, 3);
        // Small indices so that lookups hit the table.
        let mut rng = Rng(77);
        for c in cases.iter_mut() {
            if c.word & 0x3f20_8c00 == 0x0e00_0000 {
                let mut v = 0u128;
                for i in 0..16 {
                    v |= ((rng.next_u64() % 72) as u128) << (8 * i);
                }
                c.v[6] = v;
                c.v[7] = v.rotate_left(40);
            }
        }
        check(&cases);
    }
}
