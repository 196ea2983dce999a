//! NZCV computation and condition codes. The one place these formulas live.

use super::operands::{bits, mask};
use super::state::nzcv;
use deja_decoders::aarch64::SizeCode;

/// NZCV of `a + b + carry` (AddWithCarry in the Arm ARM) of width `size`; returns
/// (result, nzcv bits).
#[inline(always)]
pub fn add_with_carry(a: u64, b: u64, carry: u64, size: SizeCode) -> (u64, u64) {
    let mk = mask(size);
    let (a, b) = (a & mk, b & mk);
    let w = bits(size);
    let r_full = (a as u128) + (b as u128) + (carry as u128);
    let r = (r_full as u64) & mk;
    let sign = 1u64 << (w - 1);
    let mut f = 0;
    if r & sign != 0 {
        f |= nzcv::N;
    }
    if r == 0 {
        f |= nzcv::Z;
    }
    if r_full >> w != 0 {
        f |= nzcv::C;
    }
    if (!(a ^ b) & (a ^ r)) & sign != 0 {
        f |= nzcv::V;
    }
    (r, f)
}

/// NZCV of a logical result (C = V = 0).
#[inline(always)]
pub fn logic(r: u64, size: SizeCode) -> u64 {
    let r = r & mask(size);
    let mut f = 0;
    if r & (1u64 << (bits(size) - 1)) != 0 {
        f |= nzcv::N;
    }
    if r == 0 {
        f |= nzcv::Z;
    }
    f
}

/// Evaluate condition `cond` (0..15: EQ NE CS CC MI PL VS VC HI LS GE LT GT LE AL NV).
#[inline(always)]
pub fn cond(nz: u64, cond: u8) -> bool {
    let n = nz & nzcv::N != 0;
    let z = nz & nzcv::Z != 0;
    let c = nz & nzcv::C != 0;
    let v = nz & nzcv::V != 0;
    let r = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    if cond & 1 == 1 && cond != 15 {
        !r
    } else {
        r
    }
}
