//! Eager RFLAGS computation. The interpreter materialises the six status flags after every
//! instruction that writes them; these helpers are the one place their formulas live.
//!
//! Flags Intel documents as undefined are given a fixed, deterministic value (noted at each
//! helper) so a log replays identically on any host; the differential tests mask them.

use super::operands::{mask, sign_bit};
use super::state::fl;
use super::M;

/// PF: set when the low byte of the result has an even number of set bits.
#[inline]
pub fn parity(res: u64) -> u64 {
    if (res as u8).count_ones().is_multiple_of(2) {
        fl::PF
    } else {
        0
    }
}

/// ZF, SF and PF of a `size`-byte result.
#[inline]
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
#[inline]
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
#[inline]
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
#[inline]
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

/// Evaluate condition code `cc` (the low nibble of jcc/setcc/cmovcc opcodes).
#[inline]
pub fn cond(rflags: u64, cc: iced_x86::ConditionCode) -> bool {
    use iced_x86::ConditionCode as C;
    let f = |b: u64| rflags & b != 0;
    match cc {
        C::o => f(fl::OF),
        C::no => !f(fl::OF),
        C::b => f(fl::CF),
        C::ae => !f(fl::CF),
        C::e => f(fl::ZF),
        C::ne => !f(fl::ZF),
        C::be => f(fl::CF) || f(fl::ZF),
        C::a => !f(fl::CF) && !f(fl::ZF),
        C::s => f(fl::SF),
        C::ns => !f(fl::SF),
        C::p => f(fl::PF),
        C::np => !f(fl::PF),
        C::l => f(fl::SF) != f(fl::OF),
        C::ge => f(fl::SF) == f(fl::OF),
        C::le => f(fl::ZF) || f(fl::SF) != f(fl::OF),
        C::g => !f(fl::ZF) && f(fl::SF) == f(fl::OF),
        C::None => true,
    }
}
