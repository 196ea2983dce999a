//! Eager RFLAGS computation. The interpreter materialises the six status flags after every
//! instruction that writes them; these helpers are the one place their formulas live.
//!
//! Flags Intel documents as undefined are given a fixed, deterministic value (noted at each
//! helper) so a log replays identically on any host; the differential tests mask them.

use super::operands::{mask, sign_bit};
use super::state::fl;
use super::M;

/// PF: set when the low byte of the result has an even number of set bits.
#[inline(always)]
pub fn parity(res: u64) -> u64 {
    // Fold the byte to a nibble; bit n of 0x6996 is the parity (1 = odd) of n.
    let n = (res ^ (res >> 4)) & 0xf;
    (!(0x6996u64 >> n) & 1) << 2
}

/// ZF, SF and PF of a `size`-byte result.
#[inline(always)]
pub fn szp(res: u64, size: u32) -> u64 {
    let r = res & mask(size);
    let mut f = parity(r);
    if r == 0 {
        f |= fl::ZF;
    }
    if r & sign_bit(size) != 0 {
        f |= fl::SF;
    }
    f
}

/// Flags of `a + b + carry` = `res` (all `size` bytes).
#[inline(always)]
pub fn add(a: u64, b: u64, carry: u64, res: u64, size: u32) -> u64 {
    let mk = mask(size);
    let (a, b, r) = (a & mk, b & mk, res & mk);
    let mut f = szp(r, size);
    // Carry out: the result wrapped, or it equals a with a carry-in of 1 and b all ones.
    if r < a || (carry != 0 && r == a) {
        f |= fl::CF;
    }
    if ((a ^ r) & (b ^ r)) & sign_bit(size) != 0 {
        f |= fl::OF;
    }
    f | ((a ^ b ^ r) & fl::AF)
}

/// Flags of `a - b - borrow` = `res`.
#[inline(always)]
pub fn sub(a: u64, b: u64, borrow: u64, res: u64, size: u32) -> u64 {
    let mk = mask(size);
    let (a, b, r) = (a & mk, b & mk, res & mk);
    let mut f = szp(r, size);
    if a < b || (borrow != 0 && a == b) {
        f |= fl::CF;
    }
    if ((a ^ b) & (a ^ r)) & sign_bit(size) != 0 {
        f |= fl::OF;
    }
    f | ((a ^ b ^ r) & fl::AF)
}

/// Flags of a logical operation: CF = OF = 0; AF (undefined) = 0 as on current hardware.
#[inline(always)]
pub fn logic(res: u64, size: u32) -> u64 {
    szp(res, size)
}

/// Replace the status flags selected by `which` with those in `f`.
#[inline]
pub fn set(m: &mut M, which: u64, f: u64) {
    m.cpu.rflags = (m.cpu.rflags & !which) | (f & which);
}

/// Replace all six status flags.
#[inline]
pub fn set_status(m: &mut M, f: u64) {
    m.cpu.rflags = (m.cpu.rflags & !fl::STATUS) | (f & fl::STATUS);
}

#[inline]
pub fn cf(m: &M) -> u64 {
    m.cpu.rflags & fl::CF
}

/// Evaluate condition code `cc` (jcc/setcc/cmovcc); `None` is always true.
#[inline]
pub fn cond(rflags: u64, cc: iced_x86::ConditionCode) -> bool {
    match cc {
        iced_x86::ConditionCode::None => true,
        c => cond_hw(rflags, c as u8 - 1),
    }
}

/// Evaluate a condition in its hardware encoding (the low nibble of the jcc/setcc/cmovcc
/// opcode: 0 = o, 1 = no, 2 = b, … 15 = g). Even codes test a predicate, odd codes its
/// negation; the eight predicates are o, b, e, be, s, p, l, le.
#[inline(always)]
pub fn cond_hw(rflags: u64, cc: u8) -> bool {
    let f = |b: u64| (rflags & b != 0) as u32;
    let (of, cf, zf, sf, pf) = (f(fl::OF), f(fl::CF), f(fl::ZF), f(fl::SF), f(fl::PF));
    let l = sf ^ of;
    let preds = of | cf << 1 | zf << 2 | (cf | zf) << 3 | sf << 4 | pf << 5 | l << 6 | (zf | l) << 7;
    ((preds >> ((cc >> 1) & 7)) ^ cc as u32) & 1 != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::ConditionCode as C;

    /// The conditions as the SDM states them, against `cond_hw`, for every status-flag
    /// combination.
    #[test]
    fn conditions_match_the_sdm() {
        for bits in 0..32u64 {
            let pick = [fl::OF, fl::CF, fl::ZF, fl::SF, fl::PF];
            let rf = (0..5).filter(|i| bits >> i & 1 != 0).fold(fl::FIXED, |a, i| a | pick[i]);
            let f = |b: u64| rf & b != 0;
            let want = [
                (C::o, f(fl::OF)),
                (C::no, !f(fl::OF)),
                (C::b, f(fl::CF)),
                (C::ae, !f(fl::CF)),
                (C::e, f(fl::ZF)),
                (C::ne, !f(fl::ZF)),
                (C::be, f(fl::CF) || f(fl::ZF)),
                (C::a, !f(fl::CF) && !f(fl::ZF)),
                (C::s, f(fl::SF)),
                (C::ns, !f(fl::SF)),
                (C::p, f(fl::PF)),
                (C::np, !f(fl::PF)),
                (C::l, f(fl::SF) != f(fl::OF)),
                (C::ge, f(fl::SF) == f(fl::OF)),
                (C::le, f(fl::ZF) || f(fl::SF) != f(fl::OF)),
                (C::g, !f(fl::ZF) && f(fl::SF) == f(fl::OF)),
                (C::None, true),
            ];
            for (c, w) in want {
                assert_eq!(cond(rf, c), w, "{c:?} with rflags {rf:#x}");
            }
        }
    }

    #[test]
    fn parity_of_every_byte() {
        for v in 0..1024u64 {
            let even = (v as u8).count_ones().is_multiple_of(2);
            assert_eq!(parity(v), if even { fl::PF } else { 0 }, "{v:#x}");
        }
    }
}
