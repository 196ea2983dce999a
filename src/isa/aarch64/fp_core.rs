//! The floating-point engine shared by the scalar FP and Advanced SIMD handlers: the Arm ARM
//! pseudocode (FPUnpack, FPProcessNaNs, FPRound, FPCompare, FPMax/FPMin, FPRoundInt,
//! FPToFixed, FixedToFP, FPConvert, FPMulAdd) on raw bit patterns of half, single and double
//! precision values.
//!
//! ## How results are computed
//! - Add, subtract, multiply, divide, square root and fused multiply-add of singles and
//!   doubles run as *the same IEEE 754 operation on the host* (`addss`/`addsd`…, `vfmadd231s?`),
//!   inside one `asm!` block that loads the guest's rounding mode into MXCSR (all exceptions
//!   masked, FTZ/DAZ off), executes, reads the flags and restores the host MXCSR, so no Rust
//!   code ever runs under guest settings. IEEE 754 fixes the rounded result of these
//!   operations, so it is the same on every x86-64 host. What IEEE leaves to the architecture
//!   is done here in software, the Arm way, around the host operation:
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
use core::arch::asm;

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
    const fn min_normal(self) -> u64 {
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

    /// The rounding of the 3-bit `rmode` of FRINT<x> (FPDecodeRounding of opcode<2:0>).
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
    bits: u8,
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
// Host arithmetic
// ---------------------------------------------------------------------------------------

/// MXCSR bits.
mod mx {
    pub const IE: u32 = 1 << 0;
    pub const ZE: u32 = 1 << 2;
    pub const OE: u32 = 1 << 3;
    pub const PE: u32 = 1 << 5;
    /// All six exceptions masked, flags clear, FTZ/DAZ off.
    pub const BASE: u32 = 0x3f << 7;
    pub const RC_SHIFT: u32 = 13;
}

/// The binary arithmetic operations executed on the host.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

macro_rules! host_binop {
    ($name:ident, $t:ty, $add:literal, $sub:literal, $mul:literal, $div:literal) => {
        #[inline(always)]
        fn $name(op: Arith, a: $t, b: $t, csr_in: u32) -> ($t, u32) {
            let mut x = a;
            let mut csr = [csr_in, 0u32];
            macro_rules! run {
                                                                        ($insn:literal) => {
                                                                            // SAFETY: the block only touches `x`, `b` and the two words of `csr`; MXCSR
                                                                            // is saved and restored around the one instruction executed under the
                                                                            // guest's settings.
                                                                            unsafe {
                                                                                asm!(
                                                                                    "stmxcsr [{p} + 4]",
                                                                                    "ldmxcsr [{p}]",
                                                                                    concat!($insn, " {x}, {y}"),
                                                                                    "stmxcsr [{p}]",
                                                                                    "ldmxcsr [{p} + 4]",
                                                                                    p = in(reg) csr.as_mut_ptr(),
                                                                                    x = inout(xmm_reg) x,
                                                                                    y = in(xmm_reg) b,
                                                                                    options(nostack, preserves_flags),
                                                                                )
                                                                            }
                                                                        };
                                                                    }
            match op {
                Arith::Add => run!($add),
                Arith::Sub => run!($sub),
                Arith::Mul => run!($mul),
                Arith::Div => run!($div),
            }
            (x, csr[0])
        }
    };
}

host_binop!(host_binop_s, f32, "addss", "subss", "mulss", "divss");
host_binop!(host_binop_d, f64, "addsd", "subsd", "mulsd", "divsd");

macro_rules! host_unop {
    ($name:ident, $t:ty, $insn:literal) => {
        #[inline(always)]
        fn $name(a: $t, csr_in: u32) -> ($t, u32) {
            let mut x = a;
            let mut csr = [csr_in, 0u32];
            // SAFETY: as in `host_binop`.
            unsafe {
                asm!(
                    "stmxcsr [{p} + 4]",
                    "ldmxcsr [{p}]",
                    concat!($insn, " {x}, {x}"),
                    "stmxcsr [{p}]",
                    "ldmxcsr [{p} + 4]",
                    p = in(reg) csr.as_mut_ptr(),
                    x = inout(xmm_reg) x,
                    options(nostack, preserves_flags),
                )
            }
            (x, csr[0])
        }
    };
}

host_unop!(host_sqrt_s, f32, "sqrtss");
host_unop!(host_sqrt_d, f64, "sqrtsd");

macro_rules! host_fma {
    ($name:ident, $t:ty, $insn:literal) => {
        /// `acc + n * m` with one rounding (the host must have FMA: see [`has_fma`]).
        #[inline(always)]
        fn $name(acc: $t, n: $t, m: $t, csr_in: u32) -> ($t, u32) {
            let mut x = acc;
            let mut csr = [csr_in, 0u32];
            // SAFETY: as in `host_binop`; only called when the host CPU has FMA.
            unsafe {
                asm!(
                    "stmxcsr [{p} + 4]",
                    "ldmxcsr [{p}]",
                    concat!($insn, " {x}, {n}, {m}"),
                    "stmxcsr [{p}]",
                    "ldmxcsr [{p} + 4]",
                    p = in(reg) csr.as_mut_ptr(),
                    x = inout(xmm_reg) x,
                    n = in(xmm_reg) n,
                    m = in(xmm_reg) m,
                    options(nostack, preserves_flags),
                )
            }
            (x, csr[0])
        }
    };
}

host_fma!(host_fma_s, f32, "vfmadd231ss");
host_fma!(host_fma_d, f64, "vfmadd231sd");

/// Does the host have the FMA instructions? (Checked once; without them fused
/// multiply-add uses the software path, [`soft_muladd`].)
#[inline(always)]
pub fn has_fma() -> bool {
    use std::sync::OnceLock;
    static FMA: OnceLock<bool> = OnceLock::new();
    *FMA.get_or_init(|| std::arch::is_x86_feature_detected!("fma"))
}

/// The MXCSR for rounding `r` (TieEven/PosInf/NegInf/Zero only).
#[inline(always)]
fn mxcsr_for(r: Rounding) -> u32 {
    let rc = match r {
        Rounding::PosInf => 2,
        Rounding::NegInf => 1,
        Rounding::Zero => 3,
        _ => 0,
    };
    mx::BASE | (rc << mx::RC_SHIFT)
}

/// One host operation on the bit patterns of `fmt` (S or D) values.
#[derive(Clone, Copy, Debug)]
enum HostOp {
    Bin(Arith, u64, u64),
    Sqrt(u64),
    Fma(u64, u64, u64),
}

#[inline(always)]
fn host_exec(fmt: Fmt, op: HostOp, csr: u32) -> (u64, u32) {
    match fmt {
        Fmt::D => {
            let f = f64::from_bits;
            let (r, c) = match op {
                HostOp::Bin(o, a, b) => host_binop_d(o, f(a), f(b), csr),
                HostOp::Sqrt(a) => host_sqrt_d(f(a), csr),
                HostOp::Fma(a, n, m) => host_fma_d(f(a), f(n), f(m), csr),
            };
            (r.to_bits(), c)
        }
        _ => {
            let f = |x: u64| f32::from_bits(x as u32);
            let (r, c) = match op {
                HostOp::Bin(o, a, b) => host_binop_s(o, f(a), f(b), csr),
                HostOp::Sqrt(a) => host_sqrt_s(f(a), csr),
                HostOp::Fma(a, n, m) => host_fma_s(f(a), f(n), f(m), csr),
            };
            (r.to_bits() as u64, c)
        }
    }
}

/// `n * m + a` with one rounding under the host's default MXCSR (round to nearest).
#[inline(always)]
fn fma_d(a: f64, n: f64, m: f64) -> f64 {
    let mut x = a;
    // SAFETY: register-only FMA instruction; only called when the host has FMA.
    unsafe {
        asm!("vfmadd231sd {x}, {n}, {m}", x = inout(xmm_reg) x, n = in(xmm_reg) n, m = in(xmm_reg) m, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

#[inline(always)]
fn fma_s(a: f32, n: f32, m: f32) -> f32 {
    let mut x = a;
    // SAFETY: as in `fma_d`.
    unsafe {
        asm!("vfmadd231ss {x}, {n}, {m}", x = inout(xmm_reg) x, n = in(xmm_reg) n, m = in(xmm_reg) m, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

macro_rules! fast_rn {
    ($name:ident, $t:ty, $fma:ident, $lo:expr, $hi:expr) => {
        /// Round-to-nearest fast path without touching MXCSR: the native operation plus an
        /// error-free transformation that decides exactness (TwoSum for add/sub, the FMA
        /// residual for mul/div/sqrt, TwoProd vs TwoSum(r, -c) for fused multiply-add).
        /// Those are exact when every operand and the result lie in [$lo, $hi] (or are
        /// zero where noted), so no underflow, overflow or invalid operation can occur and
        /// IXC is the only possible flag. `None`: take the MXCSR path.
        #[inline(always)]
        fn $name(op: HostOp, bits: impl Fn(u64) -> $t) -> Option<($t, bool)> {
            let safe = |x: $t| {
                let a = x.abs();
                ($lo..=$hi).contains(&a)
            };
            match op {
                HostOp::Bin(o, a, b) => {
                    let (a, b) = (bits(a), bits(b));
                    match o {
                        Arith::Add | Arith::Sub => {
                            let b = if o == Arith::Sub { -b } else { b };
                            if !(safe(a) || a == 0.0) || !(safe(b) || b == 0.0) {
                                return None;
                            }
                            let s = a + b;
                            if s != 0.0 && !safe(s) {
                                return None;
                            }
                            let bb = s - a;
                            let err = (a - (s - bb)) + (b - bb);
                            Some((s, err != 0.0))
                        }
                        Arith::Mul => {
                            if !safe(a) || !safe(b) {
                                return None;
                            }
                            let r = a * b;
                            Some((r, $fma(-r, a, b) != 0.0))
                        }
                        Arith::Div => {
                            if !safe(a) || !safe(b) {
                                return None;
                            }
                            let r = a / b;
                            if !safe(r) {
                                return None;
                            }
                            Some((r, $fma(a, -r, b) != 0.0))
                        }
                    }
                }
                HostOp::Sqrt(a) => {
                    let a = bits(a);
                    if !safe(a) || a < 0.0 {
                        return None;
                    }
                    let r = a.sqrt();
                    Some((r, $fma(a, -r, r) != 0.0))
                }
                HostOp::Fma(c, a, b) => {
                    let (c, a, b) = (bits(c), bits(a), bits(b));
                    if !safe(a) || !safe(b) || !(safe(c) || c == 0.0) {
                        return None;
                    }
                    let r = $fma(c, a, b);
                    if !safe(r) {
                        return None;
                    }
                    // a*b = u1 + u2 exactly; r - c = d1 + d2 exactly; both pairs are
                    // (RN(x), x - RN(x)), so the values are equal iff the pairs are.
                    let u1 = a * b;
                    let u2 = $fma(-u1, a, b);
                    let d1 = r - c;
                    let bb = d1 - r;
                    let d2 = (r - (d1 - bb)) + (-c - bb);
                    Some((r, !(u1 == d1 && u2 == d2)))
                }
            }
        }
    };
}

fast_rn!(fast_rn_d, f64, fma_d, 1.0e-120, 1.0e120);
fast_rn!(fast_rn_s, f32, fma_s, 1.0e-12, 1.0e12);

/// Run `op` on the host (operands already flushed, no NaNs) and turn the x86 outcome into
/// the Arm one (see the module documentation). The round-to-nearest fast path is inlined
/// into the callers; everything else is [`host_round_slow`].
#[inline(always)]
fn host_round(env: &mut Env, fmt: Fmt, op: HostOp) -> u64 {
    if env.rounding() == Rounding::TieEven && has_fma() {
        let fast = match fmt {
            Fmt::D => fast_rn_d(op, f64::from_bits).map(|(r, x)| (r.to_bits(), x)),
            _ => fast_rn_s(op, |x| f32::from_bits(x as u32)).map(|(r, x)| (r.to_bits() as u64, x)),
        };
        if let Some((r, inexact)) = fast {
            if inexact {
                env.raise(fpsr::IXC);
            }
            return r;
        }
    }
    host_round_slow(env, fmt, op)
}

#[inline(never)]
fn host_round_slow(env: &mut Env, fmt: Fmt, op: HostOp) -> u64 {
    let rounding = env.rounding();
    let (r, hf) = host_exec(fmt, op, mxcsr_for(rounding));
    if hf & mx::IE != 0 {
        env.raise(fpsr::IOC);
        return fmt.default_nan();
    }
    let mut flags = 0;
    if hf & mx::ZE != 0 {
        flags |= fpsr::DZC;
    }
    if hf & mx::OE != 0 {
        flags |= fpsr::OFC;
    }
    if hf & mx::PE != 0 {
        flags |= fpsr::IXC;
    }
    let mag = fmt.abs(r);
    let tiny = if mag < fmt.min_normal() {
        // Zero or denormal result: the exact value was tiny unless it was an exact zero.
        mag != 0 || hf & mx::PE != 0
    } else if mag == fmt.min_normal() && hf & mx::PE != 0 {
        let (rz, _) = host_exec(fmt, op, mxcsr_for(Rounding::Zero));
        fmt.abs(rz) < fmt.min_normal()
    } else {
        false
    };
    if tiny {
        if env.fz(fmt) {
            env.raise(fpsr::UFC);
            return r & fmt.sign_bit();
        }
        if hf & mx::PE != 0 {
            flags |= fpsr::UFC;
        }
    }
    env.raise(flags);
    r
}

// ---------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------

/// FPAdd / FPSub / FPMul / FPDiv. Half precision is not supported (callers reject it).
#[inline(always)]
pub fn arith(env: &mut Env, fmt: Fmt, op: Arith, a: u64, b: u64) -> u64 {
    debug_assert!(fmt != Fmt::H);
    let a = flush_in(env, fmt, a);
    let b = flush_in(env, fmt, b);
    if let Some(r) = process_nans2(env, fmt, a, b) {
        return r;
    }
    host_round(env, fmt, HostOp::Bin(op, a, b))
}

/// FPMulX: FPMul except that infinity times zero is 2.0 with the product's sign.
pub fn mulx(env: &mut Env, fmt: Fmt, a: u64, b: u64) -> u64 {
    let a = flush_in(env, fmt, a);
    let b = flush_in(env, fmt, b);
    if let Some(r) = process_nans2(env, fmt, a, b) {
        return r;
    }
    if (fmt.is_inf(a) && fmt.is_zero(b)) || (fmt.is_zero(a) && fmt.is_inf(b)) {
        return fmt.pow2(fmt.sign(a) != fmt.sign(b), 1);
    }
    host_round(env, fmt, HostOp::Bin(Arith::Mul, a, b))
}

/// FPSqrt.
#[inline(always)]
pub fn sqrt(env: &mut Env, fmt: Fmt, a: u64) -> u64 {
    let a = flush_in(env, fmt, a);
    if fmt.is_nan(a) {
        return process_nan(env, fmt, a);
    }
    host_round(env, fmt, HostOp::Sqrt(a))
}

/// FPMulAdd: `addend + op1 * op2` with a single rounding.
#[inline(always)]
pub fn muladd(env: &mut Env, fmt: Fmt, addend: u64, op1: u64, op2: u64) -> u64 {
    let a = flush_in(env, fmt, addend);
    let n = flush_in(env, fmt, op1);
    let m = flush_in(env, fmt, op2);
    let inf_zero = (fmt.is_inf(n) && fmt.is_zero(m)) || (fmt.is_zero(n) && fmt.is_inf(m));
    if let Some(r) = process_nans3(env, fmt, a, n, m) {
        if fmt.is_nan(a) && !fmt.is_snan(a) && !fmt.is_nan(n) && !fmt.is_nan(m) && inf_zero {
            env.raise(fpsr::IOC);
            return fmt.default_nan();
        }
        return r;
    }
    if has_fma() {
        host_round(env, fmt, HostOp::Fma(a, n, m))
    } else {
        soft_muladd(env, fmt, a, n, m)
    }
}

/// Software FPMulAdd for hosts without FMA (operands flushed, no NaNs): exact product and
/// sum in 256-bit fixed point, then [`round_pack`].
pub fn soft_muladd(env: &mut Env, fmt: Fmt, a: u64, n: u64, m: u64) -> u64 {
    soft_muladd_scaled(env, fmt, a, n, m, 0)
}

/// `(a + n * m) * 2^scale` with a single rounding (operands flushed, no NaNs; `scale` = -1
/// is FRSQRTS's halving).
pub fn soft_muladd_scaled(env: &mut Env, fmt: Fmt, a: u64, n: u64, m: u64, scale: i32) -> u64 {
    let sign_p = fmt.sign(n) != fmt.sign(m);
    let inf_p = fmt.is_inf(n) || fmt.is_inf(m);
    let zero_p = fmt.is_zero(n) || fmt.is_zero(m);
    if (fmt.is_inf(n) && fmt.is_zero(m))
        || (fmt.is_zero(n) && fmt.is_inf(m))
        || (fmt.is_inf(a) && inf_p && fmt.sign(a) != sign_p)
    {
        env.raise(fpsr::IOC);
        return fmt.default_nan();
    }
    if fmt.is_inf(a) {
        return a;
    }
    if inf_p {
        return fmt.inf(sign_p);
    }
    let zero_a = fmt.is_zero(a);
    let rounding = env.rounding();
    if zero_a && zero_p {
        return if fmt.sign(a) == sign_p { a } else { fmt.zero(rounding == Rounding::NegInf) };
    }
    if zero_p {
        if scale == 0 {
            return a;
        }
        let (sa, ea, ma) = fmt.decompose(a);
        return round_pack(env, fmt, sa, ea + scale, ma as u128, rounding, env.fz(fmt), false);
    }
    let (_, pe, pm) = {
        let (_, e1, m1) = fmt.decompose(n);
        let (_, e2, m2) = fmt.decompose(m);
        (sign_p, e1 + e2, m1 as u128 * m2 as u128)
    };
    let fz = env.fz(fmt);
    if zero_a {
        return round_pack(env, fmt, sign_p, pe + scale, pm, rounding, fz, false);
    }
    let (sa, ae, am) = fmt.decompose(a);
    // Align both on the smaller exponent, capped so the sum fits in 256 bits; a value
    // shifted below the cap only contributes a sticky bit, which cannot change the
    // rounding because the other value then has at least 100 more significant bits.
    let lo = pe.min(ae).max(pe.max(ae) - 130);
    let to_wide = |e: i32, mm: u128| -> (u128, u128, bool) {
        // Returns (high, low) of mm * 2^(e - lo) and whether bits were lost.
        let sh = e - lo;
        if sh >= 0 {
            let sh = sh as u32;
            if sh == 0 {
                (0, mm, false)
            } else if sh < 128 {
                (mm >> (128 - sh), mm << sh, false)
            } else {
                (mm << (sh - 128), 0, false)
            }
        } else {
            let s = (-sh) as u32;
            if s >= 128 {
                (0, 0, mm != 0)
            } else {
                (0, mm >> s, mm & ((1u128 << s) - 1) != 0)
            }
        }
    };
    let (ph, pl, pst) = to_wide(pe, pm);
    let (ah, al, ast) = to_wide(ae, am as u128);
    let sticky = pst || ast;
    // Magnitudes as 256-bit integers; add or subtract. Only the smaller operand can have
    // lost bits (see above), so a subtraction with lost bits is one grid unit lower
    // (borrow) plus a sticky bit.
    let (mut rh, mut rl, sign) = if sa == sign_p {
        let (l, c) = pl.overflowing_add(al);
        (ph + ah + c as u128, l, sign_p)
    } else if (ph, pl) >= (ah, al) {
        let (l, b) = pl.overflowing_sub(al);
        (ph - ah - b as u128, l, sign_p)
    } else {
        let (l, b) = al.overflowing_sub(pl);
        (ah - ph - b as u128, l, sa)
    };
    if sticky && sa != sign_p {
        let (l, b) = rl.overflowing_sub(1);
        rl = l;
        rh -= b as u128;
    }
    if rh == 0 && rl == 0 && !sticky {
        return fmt.zero(rounding == Rounding::NegInf);
    }
    // Compress to at most 126 bits plus a sticky bit below them.
    let len = if rh != 0 { 256 - rh.leading_zeros() } else { 128 - rl.leading_zeros() };
    let k = len.saturating_sub(126);
    let (v, lost) = if k == 0 {
        (rl, false)
    } else if k < 128 {
        ((rh << (128 - k)) | (rl >> k), rl & ((1u128 << k) - 1) != 0)
    } else if k == 128 {
        (rh, rl != 0)
    } else {
        (rh >> (k - 128), rl != 0 || rh & ((1u128 << (k - 128)) - 1) != 0)
    };
    let mant = (v << 1) | (lost || sticky) as u128;
    let exp = lo + k as i32 - 1 + scale;
    round_pack(env, fmt, sign, exp, mant, rounding, fz, false)
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
    fn host_add_matches_native_and_default_nan() {
        let mut e = env(0);
        let r = arith(&mut e, Fmt::D, Arith::Add, 1.5f64.to_bits(), 2.25f64.to_bits());
        assert_eq!(f64::from_bits(r), 3.75);
        assert_eq!(e.flags(), 0);
        let r = arith(&mut e, Fmt::D, Arith::Sub, f64::INFINITY.to_bits(), f64::INFINITY.to_bits());
        assert_eq!(r, 0x7ff8_0000_0000_0000);
        assert_eq!(e.flags(), fpsr::IOC);
        let mut e = env(0);
        let r = arith(&mut e, Fmt::S, Arith::Div, 1.0f32.to_bits() as u64, 3.0f32.to_bits() as u64);
        assert_eq!(r, (1.0f32 / 3.0).to_bits() as u64);
        assert_eq!(e.flags(), fpsr::IXC);
    }

    #[test]
    fn nan_propagation_order() {
        let q1 = 0x7ff8_0000_0000_0001;
        let s2 = 0x7ff0_0000_0000_0002;
        let mut e = env(0);
        assert_eq!(arith(&mut e, Fmt::D, Arith::Add, q1, s2), 0x7ff8_0000_0000_0002);
        assert_eq!(e.flags(), fpsr::IOC);
        let mut e = env(fpcr::DN);
        assert_eq!(arith(&mut e, Fmt::D, Arith::Add, q1, 0), 0x7ff8_0000_0000_0000);
        assert_eq!(e.flags(), 0);
    }

    #[test]
    fn tininess_before_rounding() {
        // min_normal * (1 - 2^-53) rounds to min_normal but is tiny before rounding.
        let mut e = env(0);
        let a = f64::from_bits(0x0010_0000_0000_0000); // 2^-1022
        let b = 1.0 - f64::EPSILON / 2.0; // 1 - 2^-53
        let r = arith(&mut e, Fmt::D, Arith::Mul, a.to_bits(), b.to_bits());
        assert_eq!(r, 0x0010_0000_0000_0000);
        assert_eq!(e.flags(), fpsr::UFC | fpsr::IXC);
        let mut e = env(fpcr::FZ);
        let r = arith(&mut e, Fmt::D, Arith::Mul, a.to_bits(), b.to_bits());
        assert_eq!(r, 0);
        assert_eq!(e.flags(), fpsr::UFC);
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
    fn soft_fma_matches_host() {
        let vals: [f64; 12] = [
            1.0,
            -1.0,
            3.0,
            1e308,
            -1e-308,
            f64::MIN_POSITIVE,
            5e-324,
            1.0 + f64::EPSILON,
            0.1,
            -7.5e15,
            123456.789,
            2.0f64.powi(-1060),
        ];
        for fp in [0, 1 << 22, 2 << 22, 3 << 22, fpcr::FZ] {
            for &a in &vals {
                for &b in &vals {
                    for &c in &vals {
                        let mut e1 = env(fp);
                        let mut e2 = env(fp);
                        let (a, b, c) = (a.to_bits(), b.to_bits(), c.to_bits());
                        let (fa, fb, fc) =
                            (flush_in(&mut e1, Fmt::D, a), flush_in(&mut e1, Fmt::D, b), flush_in(&mut e1, Fmt::D, c));
                        e2.bits = e1.bits;
                        let h = host_round(&mut e1, Fmt::D, HostOp::Fma(fa, fb, fc));
                        let s = soft_muladd(&mut e2, Fmt::D, fa, fb, fc);
                        assert_eq!((h, e1.flags()), (s, e2.flags()), "fma {a:x} {b:x} {c:x} fpcr {fp:x}");
                    }
                }
            }
        }
    }

    #[test]
    fn fast_path_matches_mxcsr_path() {
        if !has_fma() {
            return;
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut fast_hits = 0;
        for fmt in [Fmt::S, Fmt::D] {
            for i in 0..200_000u32 {
                let mut val = || {
                    let r = next();
                    // Exponents around the fast path's limits, around 1.0, and anywhere.
                    let bias = (1u64 << (fmt.exp_bits() - 1)) - 1;
                    let lim = if fmt == Fmt::D { 400 } else { 40 };
                    let e = match r % 4 {
                        0 => bias + lim - 4 + (r >> 8) % 8,
                        1 => bias - lim - 4 + (r >> 8) % 8,
                        2 => bias - 8 + (r >> 8) % 16,
                        _ => (r >> 8) % ((1 << fmt.exp_bits()) - 1),
                    };
                    // Few significant bits half of the time, so exact results happen.
                    let frac = if r & (1 << 40) != 0 { next() & (0xff << (fmt.frac_bits() - 8)) } else { next() };
                    ((r >> 50) & 1) << (fmt.bits() - 1) | e << fmt.frac_bits() | (frac & ((1 << fmt.frac_bits()) - 1))
                };
                let (a, b, c) = (val(), val(), val());
                let op = match i % 6 {
                    0 => HostOp::Bin(Arith::Add, a, b),
                    1 => HostOp::Bin(Arith::Sub, a, b),
                    2 => HostOp::Bin(Arith::Mul, a, b),
                    3 => HostOp::Bin(Arith::Div, a, b),
                    4 => HostOp::Sqrt(a & !fmt.sign_bit()),
                    _ => HostOp::Fma(c, a, b),
                };
                let fast = match fmt {
                    Fmt::D => fast_rn_d(op, f64::from_bits).map(|(r, x)| (r.to_bits(), x)),
                    _ => fast_rn_s(op, |x| f32::from_bits(x as u32)).map(|(r, x)| (r.to_bits() as u64, x)),
                };
                if let Some((r, inexact)) = fast {
                    fast_hits += 1;
                    let (want, hf) = host_exec(fmt, op, mxcsr_for(Rounding::TieEven));
                    assert_eq!(r, want, "{fmt:?} {op:?}");
                    assert_eq!(hf & 0x3f & !2, if inexact { mx::PE } else { 0 }, "{fmt:?} {op:?} flags");
                }
            }
        }
        assert!(fast_hits > 100_000);
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
