//! The floating-point engine shared by the scalar FP and Advanced SIMD handlers: the Arm ARM
//! pseudocode (FPUnpack, FPProcessNaNs, FPRound, FPCompare, FPMax/FPMin, FPRoundInt,
//! FPToFixed, FixedToFP, FPConvert, FPMulAdd) on raw bit patterns of half, single and double
//! precision values.
//!
//! ## How results are computed
//! - Add, subtract, multiply, divide, square root and fused multiply-add of singles and
//!   doubles (`fp_arith.rs`) run as *the same IEEE 754 operation on the host*
//!   (`addss`/`addsd`…, `vfmadd231s?`). IEEE 754 fixes the rounded result of these
//!   operations, so it is the same on every x86-64 host. In round-to-nearest with operands
//!   and result safely inside the normal range the native operation runs directly and an
//!   error-free transformation (TwoSum, the FMA residual) decides IXC, the only flag
//!   possible there. Otherwise one `asm!` block loads the guest's rounding mode into MXCSR
//!   (all exceptions masked, FTZ/DAZ off), executes, reads the flags and restores the host
//!   MXCSR, so no Rust code ever runs under guest settings. What IEEE leaves to the
//!   architecture is done in software, the Arm way, around the host operation:
//!   * NaN operands never reach the host: FPProcessNaNs picks the result (first signalling
//!     NaN in operand order, else the first quiet NaN; quietened; FPCR.DN gives the default
//!     NaN 0x7fc00000 / 0x7ff8000000000000) and sets IOC for a signalling NaN.
//!   * An invalid operation (inf - inf, 0 * inf, 0/0, sqrt(-x)…) gives the Arm default NaN
//!     instead of x86's negative "indefinite".
//!   * FPCR.FZ: denormal inputs are replaced by a zero of the same sign (IDC) before the
//!     operation; a result whose exact value is below the smallest normal becomes a zero of
//!     the same sign with UFC and *without* IXC.
//!   * Underflow: Arm detects tininess *before* rounding, x86 after. They differ only when
//!     the host result is exactly ± the smallest normal and inexact; then the operation is
//!     repeated rounding toward zero, and the exact value was tiny iff that result is below
//!     the smallest normal.
//! - Everything else (conversions, rounding to integral, compares, min/max) is integer code
//!   written from the pseudocode; [`round_pack`] is FPRound.
//!
//! Flags are collected in an [`Env`] and OR-ed into FPSR by the handler once the instruction
//! has completed. Floating-point exception traps are not supported (Linux on the cores deja
//! models does not implement them: FPCR trap-enable bits are RAZ/WI, see system.rs).

use super::M;

pub use super::fp_arith::{arith, has_fma, muladd, mulx, soft_muladd, soft_muladd_scaled, sqrt, Arith};

/// FPSR cumulative exception bits.
pub mod fpsr {
    pub const IOC: u32 = 1 << 0;
    pub const DZC: u32 = 1 << 1;
    pub const OFC: u32 = 1 << 2;
    pub const UFC: u32 = 1 << 3;
    pub const IXC: u32 = 1 << 4;
    pub const IDC: u32 = 1 << 7;
    /// Cumulative saturation (Advanced SIMD saturating integer instructions).
    pub const QC: u32 = 1 << 27;
}

/// FPCR control bits.
pub mod fpcr {
    pub const AHP: u32 = 1 << 26;
    pub const DN: u32 = 1 << 25;
    pub const FZ: u32 = 1 << 24;
    pub const RMODE_SHIFT: u32 = 22;
    pub const FZ16: u32 = 1 << 19;
}

/// A floating-point format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fmt {
    H,
    S,
    D,
}

impl Fmt {
    /// The format of the A64 `ftype` field (bits 23:22 of the scalar FP encodings).
    #[inline(always)]
    pub fn from_ftype(ftype: u32) -> Option<Fmt> {
        match ftype {
            0 => Some(Fmt::S),
            1 => Some(Fmt::D),
            3 => Some(Fmt::H),
            _ => None,
        }
    }

    #[inline(always)]
    pub const fn bits(self) -> u32 {
        match self {
            Fmt::H => 16,
            Fmt::S => 32,
            Fmt::D => 64,
        }
    }

    /// Fraction (trailing significand) bits.
    #[inline(always)]
    pub const fn frac_bits(self) -> u32 {
        match self {
            Fmt::H => 10,
            Fmt::S => 23,
            Fmt::D => 52,
        }
    }

    #[inline(always)]
    pub const fn exp_bits(self) -> u32 {
        match self {
            Fmt::H => 5,
            Fmt::S => 8,
            Fmt::D => 11,
        }
    }

    #[inline(always)]
    pub const fn mask(self) -> u64 {
        match self {
            Fmt::D => u64::MAX,
            _ => (1u64 << self.bits()) - 1,
        }
    }

    #[inline(always)]
    pub const fn sign_bit(self) -> u64 {
        1u64 << (self.bits() - 1)
    }

    #[inline(always)]
    const fn exp_max(self) -> u64 {
        (1u64 << self.exp_bits()) - 1
    }

    #[inline(always)]
    const fn frac_mask(self) -> u64 {
        (1u64 << self.frac_bits()) - 1
    }

    #[inline(always)]
    const fn quiet_bit(self) -> u64 {
        1u64 << (self.frac_bits() - 1)
    }

    /// Unbiased exponent of the smallest normal number.
    #[inline(always)]
    const fn min_exp(self) -> i32 {
        2 - (1i32 << (self.exp_bits() - 1))
    }

    #[inline(always)]
    pub const fn exp_field(self, x: u64) -> u64 {
        (x >> self.frac_bits()) & self.exp_max()
    }

    #[inline(always)]
    pub const fn frac_field(self, x: u64) -> u64 {
        x & self.frac_mask()
    }

    #[inline(always)]
    pub const fn sign(self, x: u64) -> bool {
        x & self.sign_bit() != 0
    }

    #[inline(always)]
    pub const fn is_nan(self, x: u64) -> bool {
        self.exp_field(x) == self.exp_max() && self.frac_field(x) != 0
    }

    #[inline(always)]
    pub const fn is_snan(self, x: u64) -> bool {
        self.is_nan(x) && x & self.quiet_bit() == 0
    }

    #[inline(always)]
    pub const fn is_inf(self, x: u64) -> bool {
        x & !self.sign_bit() & self.mask() == self.exp_max() << self.frac_bits()
    }

    #[inline(always)]
    pub const fn is_zero(self, x: u64) -> bool {
        x & !self.sign_bit() & self.mask() == 0
    }

    #[inline(always)]
    pub const fn is_denormal(self, x: u64) -> bool {
        self.exp_field(x) == 0 && self.frac_field(x) != 0
    }

    #[inline(always)]
    pub const fn default_nan(self) -> u64 {
        (self.exp_max() << self.frac_bits()) | self.quiet_bit()
    }

    #[inline(always)]
    pub const fn inf(self, sign: bool) -> u64 {
        (self.exp_max() << self.frac_bits()) | if sign { self.sign_bit() } else { 0 }
    }

    #[inline(always)]
    pub const fn zero(self, sign: bool) -> u64 {
        if sign {
            self.sign_bit()
        } else {
            0
        }
    }

    #[inline(always)]
    pub const fn max_normal(self, sign: bool) -> u64 {
        (((self.exp_max() - 1) << self.frac_bits()) | self.frac_mask()) | if sign { self.sign_bit() } else { 0 }
    }

    /// The smallest normal number (positive).
    #[inline(always)]
    pub const fn min_normal(self) -> u64 {
        1u64 << self.frac_bits()
    }

    /// 1.0, 2.0… : `sign * 2^e` (e within the normal range).
    #[inline(always)]
    pub const fn pow2(self, sign: bool, e: i32) -> u64 {
        let biased = (e + (1i32 << (self.exp_bits() - 1)) - 1) as u64;
        (biased << self.frac_bits()) | if sign { self.sign_bit() } else { 0 }
    }

    #[inline(always)]
    pub const fn neg(self, x: u64) -> u64 {
        x ^ self.sign_bit()
    }

    #[inline(always)]
    pub const fn abs(self, x: u64) -> u64 {
        x & !self.sign_bit() & self.mask()
    }

    /// (sign, exponent of the least significant bit, integer significand) of a finite
    /// nonzero value: value = ±mant * 2^exp. (AHP half: exponent 31 is a normal exponent.)
    #[inline(always)]
    pub fn decompose(self, x: u64) -> (bool, i32, u64) {
        let e = self.exp_field(x) as i32;
        let f = self.frac_field(x);
        let bias = (1i32 << (self.exp_bits() - 1)) - 1;
        if e == 0 {
            (self.sign(x), 1 - bias - self.frac_bits() as i32, f)
        } else {
            (self.sign(x), e - bias - self.frac_bits() as i32, f | (1u64 << self.frac_bits()))
        }
    }
}

/// Rounding modes of the pseudocode (FPRounding).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rounding {
    TieEven,
    PosInf,
    NegInf,
    Zero,
    TieAway,
    /// Round to odd (FCVTXN).
    Odd,
}

impl Rounding {
    /// The rounding of an FPCR.RMode value.
    #[inline(always)]
    pub fn from_rmode(rmode: u32) -> Rounding {
        match rmode & 3 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            _ => Rounding::Zero,
        }
    }

    /// The rounding of the 3-bit `rmode` of `FRINT<x>` (FPDecodeRounding of `opcode<2:0>`).
    #[inline(always)]
    pub fn from_frint(rmode: u32) -> Option<Rounding> {
        Some(match rmode {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            3 => Rounding::Zero,
            4 => Rounding::TieAway,
            _ => return None,
        })
    }
}

/// The FPCR an instruction runs under and the FPSR flags it raises. (The flags are a byte,
/// written and read as a byte: a wider read of a byte-wide `or` is a store-forwarding stall
/// on the hot path.)
#[derive(Clone, Copy, Debug)]
pub struct Env {
    pub fpcr: u32,
    pub(super) bits: u8,
}

impl Env {
    #[inline(always)]
    pub fn new(m: &M) -> Env {
        Env { fpcr: m.cpu.fpcr as u32, bits: 0 }
    }

    /// An environment with FPCR = `fpcr` (tests, and callers that force a mode).
    #[inline(always)]
    pub fn with_fpcr(fpcr: u32) -> Env {
        Env { fpcr, bits: 0 }
    }

    /// OR the collected flags into FPSR (the instruction has completed).
    #[inline(always)]
    pub fn commit(self, m: &mut M) {
        m.cpu.fpsr |= self.bits as u64;
    }

    /// The FPSR cumulative flags raised so far.
    #[inline(always)]
    pub fn flags(&self) -> u32 {
        self.bits as u32
    }

    #[inline(always)]
    pub fn rounding(&self) -> Rounding {
        Rounding::from_rmode(self.fpcr >> fpcr::RMODE_SHIFT)
    }

    #[inline(always)]
    pub fn dn(&self) -> bool {
        self.fpcr & fpcr::DN != 0
    }

    #[inline(always)]
    pub fn ahp(&self) -> bool {
        self.fpcr & fpcr::AHP != 0
    }

    /// Does flush-to-zero apply to values of `fmt` (FZ for single/double, FZ16 for half)?
    #[inline(always)]
    pub fn fz(&self, fmt: Fmt) -> bool {
        match fmt {
            Fmt::H => self.fpcr & fpcr::FZ16 != 0,
            _ => self.fpcr & fpcr::FZ != 0,
        }
    }

    /// Raise FPSR cumulative flags (IOC..IDC, bits 7:0).
    #[inline(always)]
    pub fn raise(&mut self, f: u32) {
        self.bits |= f as u8;
    }
}

// ---------------------------------------------------------------------------------------
// FPUnpack's flush and FPProcessNaN(s)
// ---------------------------------------------------------------------------------------

/// FPUnpack's input flush: under FZ (FZ16 for half) a denormal becomes a zero of the same
/// sign and IDC is raised (for half, FPUnpack raises nothing).
#[inline(always)]
pub fn flush_in(env: &mut Env, fmt: Fmt, x: u64) -> u64 {
    if fmt.is_denormal(x) && env.fz(fmt) {
        if fmt != Fmt::H {
            env.raise(fpsr::IDC);
        }
        return x & fmt.sign_bit();
    }
    x
}

/// FPProcessNaN: the quietened NaN (or the default NaN under DN); IOC for a signalling NaN.
#[inline(always)]
pub fn process_nan(env: &mut Env, fmt: Fmt, x: u64) -> u64 {
    if fmt.is_snan(x) {
        env.raise(fpsr::IOC);
    }
    if env.dn() {
        fmt.default_nan()
    } else {
        x | fmt.quiet_bit()
    }
}

/// FPProcessNaNs: `Some(result)` if `a` or `b` is a NaN.
#[inline(always)]
pub fn process_nans2(env: &mut Env, fmt: Fmt, a: u64, b: u64) -> Option<u64> {
    if !fmt.is_nan(a) && !fmt.is_nan(b) {
        return None;
    }
    Some(if fmt.is_snan(a) {
        process_nan(env, fmt, a)
    } else if fmt.is_snan(b) {
        process_nan(env, fmt, b)
    } else if fmt.is_nan(a) {
        process_nan(env, fmt, a)
    } else {
        process_nan(env, fmt, b)
    })
}

/// FPProcessNaNs3 (operand order a, b, c).
#[inline(always)]
pub fn process_nans3(env: &mut Env, fmt: Fmt, a: u64, b: u64, c: u64) -> Option<u64> {
    if !fmt.is_nan(a) && !fmt.is_nan(b) && !fmt.is_nan(c) {
        return None;
    }
    for x in [a, b, c] {
        if fmt.is_snan(x) {
            return Some(process_nan(env, fmt, x));
        }
    }
    for x in [a, b, c] {
        if fmt.is_nan(x) {
            return Some(process_nan(env, fmt, x));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// FPRound
// ---------------------------------------------------------------------------------------

/// FPRound of the nonzero value `±mant * 2^exp` to `fmt`: flush-to-zero (if `fz`),
/// tininess before rounding, overflow to infinity or the largest normal by rounding mode,
/// the alternative half-precision format when `ahp` (half only), and the flags.
#[allow(clippy::too_many_arguments)]
pub fn round_pack(
    env: &mut Env,
    fmt: Fmt,
    sign: bool,
    exp: i32,
    mant: u128,
    rounding: Rounding,
    fz: bool,
    ahp: bool,
) -> u64 {
    debug_assert!(mant != 0);
    let sbit = if sign { fmt.sign_bit() } else { 0 };
    let top = 127 - mant.leading_zeros() as i32;
    let e = exp + top;
    let min_exp = fmt.min_exp();
    let f = fmt.frac_bits() as i32;
    if fz && e < min_exp {
        env.raise(fpsr::UFC);
        return sbit;
    }
    let (mut biased, lsb_exp) = if e < min_exp { (0i64, min_exp - f) } else { ((e - min_exp + 1) as i64, e - f) };
    let shift = lsb_exp - exp;
    let (mut int_mant, round, sticky): (u64, bool, bool) = if shift <= 0 {
        // Fits: the value has at most f + 1 significant bits here.
        ((mant << (-shift) as u32) as u64, false, false)
    } else if shift > 128 {
        (0, false, true)
    } else {
        let s = shift as u32;
        let im = if s >= 128 { 0 } else { (mant >> s) as u64 };
        let round = (mant >> (s - 1)) & 1 != 0;
        let sticky = if s == 1 { false } else { mant & ((1u128 << (s - 1)) - 1) != 0 };
        (im, round, sticky)
    };
    let mut inexact = round || sticky;
    if biased == 0 && inexact {
        env.raise(fpsr::UFC);
    }
    let up = match rounding {
        Rounding::TieEven => round && (sticky || int_mant & 1 != 0),
        Rounding::TieAway => round,
        Rounding::PosInf => inexact && !sign,
        Rounding::NegInf => inexact && sign,
        Rounding::Zero | Rounding::Odd => false,
    };
    if up {
        int_mant += 1;
        if biased == 0 && int_mant == 1u64 << f {
            biased = 1;
        }
        if int_mant == 1u64 << (f + 1) {
            biased += 1;
            int_mant >>= 1;
        }
    }
    if rounding == Rounding::Odd && inexact {
        int_mant |= 1;
    }
    let result;
    if !(ahp && fmt == Fmt::H) {
        if biased >= fmt.exp_max() as i64 {
            let to_inf = match rounding {
                Rounding::TieEven | Rounding::TieAway => true,
                Rounding::PosInf => !sign,
                Rounding::NegInf => sign,
                Rounding::Zero | Rounding::Odd => false,
            };
            result = if to_inf { fmt.inf(sign) } else { fmt.max_normal(sign) };
            env.raise(fpsr::OFC);
            inexact = true;
        } else {
            result = sbit | ((biased as u64) << f) | (int_mant & fmt.frac_mask());
        }
    } else if biased >= 1 << fmt.exp_bits() {
        env.raise(fpsr::IOC);
        return sbit | 0x7fff;
    } else {
        result = sbit | ((biased as u64) << f) | (int_mant & fmt.frac_mask());
    }
    if inexact {
        env.raise(fpsr::IXC);
    }
    result
}

/// The exact integer `n` (|n| < 2^frac_bits+1 or otherwise exactly representable) as `fmt`.
fn pack_exact(fmt: Fmt, sign: bool, n: u64) -> u64 {
    if n == 0 {
        return fmt.zero(sign);
    }
    let mut scratch = Env::with_fpcr(0);
    round_pack(&mut scratch, fmt, sign, 0, n as u128, Rounding::Zero, false, false)
}

// ---------------------------------------------------------------------------------------
// Compare, min/max
// ---------------------------------------------------------------------------------------

/// Total order key of a non-NaN value (both zeros map to 0).
#[inline(always)]
fn key(fmt: Fmt, x: u64) -> i64 {
    let mag = fmt.abs(x) as i64;
    if fmt.sign(x) {
        -mag
    } else {
        mag
    }
}

/// FPCompare: NZCV (bits 31:28) of comparing `a` with `b`. `signal_all`: FCMPE (IOC for any
/// NaN; FCMP only for signalling NaNs).
#[inline]
pub fn compare(env: &mut Env, fmt: Fmt, a: u64, b: u64, signal_all: bool) -> u64 {
    let a = flush_in(env, fmt, a);
    let b = flush_in(env, fmt, b);
    if fmt.is_nan(a) || fmt.is_nan(b) {
        if signal_all || fmt.is_snan(a) || fmt.is_snan(b) {
            env.raise(fpsr::IOC);
        }
        return 0b0011 << 28;
    }
    match key(fmt, a).cmp(&key(fmt, b)) {
        core::cmp::Ordering::Equal => 0b0110 << 28,
        core::cmp::Ordering::Less => 0b1000 << 28,
        core::cmp::Ordering::Greater => 0b0010 << 28,
    }
}

/// The vector/scalar compare conditions (FCMEQ FCMGE FCMGT FACGE FACGT).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmp {
    Eq,
    Ge,
    Gt,
}

/// FPCompareEQ / FPCompareGE / FPCompareGT: true or false; IOC for a signalling NaN (EQ) or
/// any NaN (GE, GT).
#[inline]
pub fn compare_cond(env: &mut Env, fmt: Fmt, a: u64, b: u64, c: Cmp) -> bool {
    let a = flush_in(env, fmt, a);
    let b = flush_in(env, fmt, b);
    if fmt.is_nan(a) || fmt.is_nan(b) {
        if c != Cmp::Eq || fmt.is_snan(a) || fmt.is_snan(b) {
            env.raise(fpsr::IOC);
        }
        return false;
    }
    let (ka, kb) = (key(fmt, a), key(fmt, b));
    match c {
        Cmp::Eq => ka == kb,
        Cmp::Ge => ka >= kb,
        Cmp::Gt => ka > kb,
    }
}

/// The min/max family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MinMax {
    Max,
    Min,
    MaxNum,
    MinNum,
}

/// FPMax / FPMin / FPMaxNum / FPMinNum.
#[inline]
pub fn minmax(env: &mut Env, fmt: Fmt, kind: MinMax, a: u64, b: u64) -> u64 {
    let mut a = flush_in(env, fmt, a);
    let mut b = flush_in(env, fmt, b);
    let is_max = matches!(kind, MinMax::Max | MinMax::MaxNum);
    if matches!(kind, MinMax::MaxNum | MinMax::MinNum) {
        // A single quiet NaN is treated as -inf (max) / +inf (min).
        let qa = fmt.is_nan(a) && !fmt.is_snan(a);
        let qb = fmt.is_nan(b) && !fmt.is_snan(b);
        if qa && !qb {
            a = fmt.inf(is_max);
        } else if !qa && qb {
            b = fmt.inf(is_max);
        }
    }
    if let Some(r) = process_nans2(env, fmt, a, b) {
        return r;
    }
    let (ka, kb) = (key(fmt, a), key(fmt, b));
    if fmt.is_zero(a) && fmt.is_zero(b) {
        let s = if is_max { fmt.sign(a) && fmt.sign(b) } else { fmt.sign(a) || fmt.sign(b) };
        return fmt.zero(s);
    }
    let pick_a = if is_max { ka > kb } else { ka < kb };
    let r = if pick_a { a } else { b };
    // FPRound of the chosen value: exact; under FZ inputs were already flushed.
    r & fmt.mask()
}

// ---------------------------------------------------------------------------------------
// Rounding to integral, conversions
// ---------------------------------------------------------------------------------------

/// Round the magnitude `mant * 2^exp` (exp < 0) to an integer: (integer, inexact).
#[inline(always)]
fn round_mag(sign: bool, exp: i32, mant: u64, rounding: Rounding) -> (u128, bool) {
    if exp >= 0 {
        debug_assert!(exp <= 74);
        return ((mant as u128) << exp, false);
    }
    let s = (-exp) as u32;
    let (int, round, sticky) = if s > 64 {
        (0u64, false, mant != 0)
    } else if s == 64 {
        (0, mant >> 63 != 0, mant & (u64::MAX >> 1) != 0)
    } else {
        (mant >> s, (mant >> (s - 1)) & 1 != 0, mant & ((1u64 << (s - 1)) - 1) != 0)
    };
    let inexact = round || sticky;
    let up = match rounding {
        Rounding::TieEven => round && (sticky || int & 1 != 0),
        Rounding::TieAway => round,
        Rounding::PosInf => inexact && !sign,
        Rounding::NegInf => inexact && sign,
        Rounding::Zero => false,
        Rounding::Odd => inexact && int & 1 == 0,
    };
    (int as u128 + up as u128, inexact)
}

/// FPRoundInt: round to an integral value in `fmt`; `exact` (FRINTX) raises IXC when the
/// result differs from the operand.
pub fn round_int(env: &mut Env, fmt: Fmt, x: u64, rounding: Rounding, exact: bool) -> u64 {
    let x = flush_in(env, fmt, x);
    if fmt.is_nan(x) {
        return process_nan(env, fmt, x);
    }
    if fmt.is_inf(x) || fmt.is_zero(x) {
        return x;
    }
    let (sign, exp, mant) = fmt.decompose(x);
    if exp >= 0 {
        return x;
    }
    let (int, inexact) = round_mag(sign, exp, mant, rounding);
    if inexact && exact {
        env.raise(fpsr::IXC);
    }
    pack_exact(fmt, sign, int as u64)
}

/// FPRoundIntN (FRINT32Z/X, FRINT64Z/X): round to an integral value that fits a signed
/// `intsize`-bit integer; NaN, infinity and out-of-range values give -2^(intsize-1) with IOC.
/// IXC when the result differs from the operand (for the Z and the X forms alike).
pub fn round_int_n(env: &mut Env, fmt: Fmt, x: u64, rounding: Rounding, intsize: u32) -> u64 {
    let x = flush_in(env, fmt, x);
    let most_negative = fmt.pow2(true, intsize as i32 - 1);
    if fmt.is_nan(x) || fmt.is_inf(x) {
        env.raise(fpsr::IOC);
        return most_negative;
    }
    if fmt.is_zero(x) {
        return x;
    }
    let (sign, exp, mant) = fmt.decompose(x);
    let (int, inexact) = if exp >= 0 {
        if exp > 70 {
            // At least 2^70: out of range of any integer size.
            env.raise(fpsr::IOC);
            return most_negative;
        }
        ((mant as u128) << exp, false)
    } else {
        round_mag(sign, exp, mant, rounding)
    };
    let limit = 1u128 << (intsize - 1);
    if (!sign && int >= limit) || (sign && int > limit) {
        env.raise(fpsr::IOC);
        return most_negative;
    }
    if inexact {
        env.raise(fpsr::IXC);
    }
    pack_exact(fmt, sign, int as u64)
}

/// FPToFixed: `x * 2^fbits` rounded to a `bits`-bit signed or unsigned integer, saturating
/// with IOC; IXC if inexact and in range; NaN gives 0 with IOC.
pub fn to_fixed(env: &mut Env, fmt: Fmt, x: u64, fbits: u32, unsigned: bool, rounding: Rounding, bits: u32) -> u64 {
    let x = flush_in(env, fmt, x);
    let (max, min): (i128, i128) =
        if unsigned { ((1i128 << bits) - 1, 0) } else { ((1i128 << (bits - 1)) - 1, -(1i128 << (bits - 1))) };
    let sat = |v: i128| -> u64 { (v as u64) & if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 } };
    if fmt.is_nan(x) {
        env.raise(fpsr::IOC);
        return 0;
    }
    if fmt.is_inf(x) {
        env.raise(fpsr::IOC);
        return sat(if fmt.sign(x) { min } else { max });
    }
    if fmt.is_zero(x) {
        return 0;
    }
    let (sign, exp, mant) = fmt.decompose(x);
    let e = exp + fbits as i32;
    if e > 70 {
        env.raise(fpsr::IOC);
        return sat(if sign { min } else { max });
    }
    let (mag, inexact) = round_mag(sign, e, mant, rounding);
    let v = if sign { -(mag as i128) } else { mag as i128 };
    if v > max {
        env.raise(fpsr::IOC);
        return sat(max);
    }
    if v < min {
        env.raise(fpsr::IOC);
        return sat(min);
    }
    if inexact {
        env.raise(fpsr::IXC);
    }
    sat(v)
}

/// FixedToFP: the `bits`-bit integer `v` (signed or not) divided by 2^fbits, rounded to `fmt`.
pub fn from_fixed(env: &mut Env, fmt: Fmt, v: u64, bits: u32, signed: bool, fbits: u32, rounding: Rounding) -> u64 {
    let v = if bits == 64 { v } else { v & ((1u64 << bits) - 1) };
    let (sign, mag) = if signed && (v >> (bits - 1)) & 1 != 0 {
        (true, if bits == 64 { (v as i64).unsigned_abs() } else { (1u64 << bits) - v })
    } else {
        (false, v)
    };
    if mag == 0 {
        return fmt.zero(false);
    }
    let fz = env.fz(fmt) && fmt != Fmt::H;
    round_pack(env, fmt, sign, -(fbits as i32), mag as u128, rounding, fz, false)
}

/// FPConvertNaN: the NaN `x` of format `from` as a NaN of format `to` (payload kept from
/// the top, quiet bit set).
#[inline(always)]
fn convert_nan(from: Fmt, to: Fmt, x: u64) -> u64 {
    let sign = from.sign(x);
    let frac = from.frac_field(x);
    let (fb, tb) = (from.frac_bits(), to.frac_bits());
    let f = if tb >= fb { frac << (tb - fb) } else { frac >> (fb - tb) };
    to.inf(sign) | f | to.quiet_bit()
}

/// FPConvert (FCVT, FCVTL, FCVTN, FCVTXN): `x` from format `from` to format `to`, rounded
/// with `rounding`. Half precision honours FPCR.AHP and ignores FZ16.
pub fn convert(env: &mut Env, from: Fmt, to: Fmt, x: u64, rounding: Rounding) -> u64 {
    let ahp = env.ahp();
    let x = if from == Fmt::H { x } else { flush_in(env, from, x) };
    let alt_in = from == Fmt::H && ahp;
    let alt_out = to == Fmt::H && ahp;
    if !alt_in && from.exp_field(x) == from.exp_max() {
        if from.is_nan(x) {
            if alt_out {
                env.raise(fpsr::IOC);
                return to.zero(from.sign(x));
            }
            if from.is_snan(x) {
                env.raise(fpsr::IOC);
            }
            return if env.dn() { to.default_nan() } else { convert_nan(from, to, x) };
        }
        if alt_out {
            env.raise(fpsr::IOC);
            return to.zero(from.sign(x)) | 0x7fff;
        }
        return to.inf(from.sign(x));
    }
    if from.is_zero(x) {
        return to.zero(from.sign(x));
    }
    let (sign, exp, mant) = from.decompose(x);
    let fz = to != Fmt::H && env.fz(to);
    round_pack(env, to, sign, exp, mant as u128, rounding, fz, alt_out)
}

// ---------------------------------------------------------------------------------------
// Reciprocal and reciprocal square root estimates (FRECPE, FRSQRTE, URECPE, URSQRTE)
// ---------------------------------------------------------------------------------------

/// RecipEstimate: `a` in 256..512 (0.5 <= x < 1 in steps of 1/512) to 256..512 (1..2).
#[inline(always)]
pub fn recip_estimate(a: u32) -> u32 {
    let a = a * 2 + 1;
    let b = (1u32 << 19) / a;
    b.div_ceil(2)
}

/// RecipSqrtEstimate: `a` in 128..512 (0.25 <= x < 1 in steps of 1/512) to 256..512.
#[inline(always)]
pub fn recip_sqrt_estimate(a: u32) -> u32 {
    let a = if a < 256 {
        // 0.25 .. 0.5: units of 1/512, rounded to nearest.
        a as u64 * 2 + 1
    } else {
        // 0.5 .. 1.0: drop the bottom bit, units of 1/256 rounded to nearest.
        (((a >> 1) << 1) as u64 + 1) * 2
    };
    // b = the largest b with b < 2^14 / sqrt(a), starting from 512.
    let mut b = 512u64;
    while a * (b + 1) * (b + 1) < (1 << 28) {
        b += 1;
    }
    b.div_ceil(2) as u32
}

/// The fraction of a finite nonzero value left-aligned in 52 bits, and its exponent field.
#[inline(always)]
fn frac52(fmt: Fmt, x: u64) -> (u64, i32) {
    (fmt.frac_field(x) << (52 - fmt.frac_bits()), fmt.exp_field(x) as i32)
}

/// FPRecipEstimate (FRECPE).
pub fn recip_est(env: &mut Env, fmt: Fmt, x: u64) -> u64 {
    let x = flush_in(env, fmt, x);
    let sign = fmt.sign(x);
    if fmt.is_nan(x) {
        return process_nan(env, fmt, x);
    }
    if fmt.is_inf(x) {
        return fmt.zero(sign);
    }
    if fmt.is_zero(x) {
        env.raise(fpsr::DZC);
        return fmt.inf(sign);
    }
    // |x| < 2^-(bias+1)... : the reciprocal overflows.
    let bias = (1i32 << (fmt.exp_bits() - 1)) - 1;
    let (mut fraction, mut exp) = frac52(fmt, x);
    let tiny = exp == 0 && fraction >> 50 == 0; // |x| < 2^(-bias - 1)
    if tiny {
        let to_inf = match env.rounding() {
            Rounding::PosInf => !sign,
            Rounding::NegInf => sign,
            Rounding::Zero => false,
            _ => true,
        };
        env.raise(fpsr::OFC | fpsr::IXC);
        return if to_inf { fmt.inf(sign) } else { fmt.max_normal(sign) };
    }
    if env.fz(fmt) && exp >= 2 * bias - 1 {
        // The result would be tiny: flushed.
        env.raise(fpsr::UFC);
        return fmt.zero(sign);
    }
    if exp == 0 {
        if fraction >> 51 == 0 {
            exp = -1;
            fraction = (fraction << 2) & ((1 << 52) - 1);
        } else {
            fraction = (fraction << 1) & ((1 << 52) - 1);
        }
    }
    let scaled = 256 | (fraction >> 44) as u32;
    let mut result_exp = 2 * bias - 1 - exp;
    let est = recip_estimate(scaled) as u64;
    let mut fraction = (est & 0xff) << 44;
    if result_exp == 0 {
        fraction = (1 << 51) | (fraction >> 1);
    } else if result_exp == -1 {
        fraction = (1 << 50) | (fraction >> 2);
        result_exp = 0;
    }
    let f = fmt.frac_bits();
    (if sign { fmt.sign_bit() } else { 0 }) | ((result_exp as u64) << f) | (fraction >> (52 - f))
}

/// FPRSqrtEstimate (FRSQRTE).
pub fn rsqrt_est(env: &mut Env, fmt: Fmt, x: u64) -> u64 {
    let x = flush_in(env, fmt, x);
    if fmt.is_nan(x) {
        return process_nan(env, fmt, x);
    }
    if fmt.is_zero(x) {
        env.raise(fpsr::DZC);
        return fmt.inf(fmt.sign(x));
    }
    if fmt.sign(x) {
        env.raise(fpsr::IOC);
        return fmt.default_nan();
    }
    if fmt.is_inf(x) {
        return 0;
    }
    let (mut fraction, mut exp) = frac52(fmt, x);
    if exp == 0 {
        while fraction >> 51 == 0 {
            fraction <<= 1;
            exp -= 1;
        }
        fraction = (fraction << 1) & ((1 << 52) - 1);
    }
    let scaled = if exp & 1 == 0 { 256 | (fraction >> 44) as u32 } else { 128 | (fraction >> 45) as u32 };
    let bias = (1i32 << (fmt.exp_bits() - 1)) - 1;
    let result_exp = (3 * bias - 1 - exp).div_euclid(2);
    let est = recip_sqrt_estimate(scaled) as u64;
    let f = fmt.frac_bits();
    ((result_exp as u64) << f) | ((est & 0xff) << (f - 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(fpcr: u32) -> Env {
        Env::with_fpcr(fpcr)
    }

    #[test]
    fn round_pack_overflow_and_subnormal() {
        let mut e = env(0);
        // 2^128 to single overflows to inf in RN, to max normal in RZ.
        assert_eq!(round_pack(&mut e, Fmt::S, false, 128, 1, Rounding::TieEven, false, false), 0x7f80_0000);
        assert_eq!(e.flags(), fpsr::OFC | fpsr::IXC);
        let mut e = env(0);
        assert_eq!(round_pack(&mut e, Fmt::S, false, 128, 1, Rounding::Zero, false, false), 0x7f7f_ffff);
        // 2^-149 exactly: smallest single subnormal, exact.
        let mut e = env(0);
        assert_eq!(round_pack(&mut e, Fmt::S, false, -149, 1, Rounding::TieEven, false, false), 1);
        assert_eq!(e.flags(), 0);
        // 2^-150: a tie between 0 and the smallest subnormal: to even (0) with UFC|IXC.
        assert_eq!(round_pack(&mut e, Fmt::S, true, -150, 1, Rounding::TieEven, false, false), 0x8000_0000);
        assert_eq!(e.flags(), fpsr::UFC | fpsr::IXC);
    }

    #[test]
    fn to_fixed_saturates() {
        let mut e = env(0);
        assert_eq!(to_fixed(&mut e, Fmt::D, (-1.0f64).to_bits(), 0, true, Rounding::Zero, 32), 0);
        assert_eq!(e.flags(), fpsr::IOC);
        let mut e = env(0);
        assert_eq!(to_fixed(&mut e, Fmt::D, (-0.5f64).to_bits(), 0, true, Rounding::Zero, 32), 0);
        assert_eq!(e.flags(), fpsr::IXC);
        let mut e = env(0);
        assert_eq!(to_fixed(&mut e, Fmt::D, 3e9f64.to_bits(), 0, false, Rounding::Zero, 32), 0x7fff_ffff);
        assert_eq!(e.flags(), fpsr::IOC);
        let mut e = env(0);
        assert_eq!(to_fixed(&mut e, Fmt::D, 2.5f64.to_bits(), 0, false, Rounding::TieEven, 64), 2);
        assert_eq!(to_fixed(&mut e, Fmt::D, 2.5f64.to_bits(), 0, false, Rounding::TieAway, 64), 3);
        assert_eq!(to_fixed(&mut e, Fmt::D, (-2.5f64).to_bits(), 0, false, Rounding::NegInf, 64), (-3i64) as u64);
    }
}
