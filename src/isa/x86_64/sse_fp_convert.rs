//! SSE/SSE2 conversions, legacy encodings: cvtsi2ss/sd, cvtss2sd, cvtsd2ss, cvt(t)ss2si,
//! cvt(t)sd2si, cvtdq2ps, cvtps2dq, cvttps2dq, cvtdq2pd, cvtpd2dq, cvttpd2dq, cvtps2pd,
//! cvtpd2ps. Executed as the host instruction under the guest's MXCSR, exactly like the
//! arithmetic in `sse_fp.rs` (see its module comment for the MXCSR and SIGFPE rules). An
//! invalid float→integer conversion gives the integer indefinite (0x80000000 or
//! 0x8000000000000000) and IE, as the host does.

use super::operands::{op_size, read_op, read_xmm_op, set_reg, xmm_index};
use super::sse_fp::{fp, xmm_binary, Ou};
use super::table::Table;
use super::{ud, Res, M};
use core::arch::asm;
use iced_x86::{Instruction, Mnemonic as Mn};

pub fn register(t: &mut Table) {
    use native as n;
    t.add(&[Mn::Cvtss2sd], |m, i| xmm_binary(m, i, n::cvtss2sd, None));
    t.add(&[Mn::Cvtsd2ss], |m, i| xmm_binary(m, i, n::cvtsd2ss, Some((Ou::Cvt, true, 1))));
    t.add(&[Mn::Cvtpd2ps], |m, i| xmm_binary(m, i, n::cvtpd2ps, Some((Ou::Cvt, true, 2))));
    t.add(&[Mn::Cvtps2pd], |m, i| xmm_binary(m, i, n::cvtps2pd, None));
    t.add(&[Mn::Cvtdq2ps], |m, i| xmm_binary(m, i, n::cvtdq2ps, None));
    t.add(&[Mn::Cvtps2dq], |m, i| xmm_binary(m, i, n::cvtps2dq, None));
    t.add(&[Mn::Cvttps2dq], |m, i| xmm_binary(m, i, n::cvttps2dq, None));
    t.add(&[Mn::Cvtdq2pd], |m, i| xmm_binary(m, i, n::cvtdq2pd, None));
    t.add(&[Mn::Cvtpd2dq], |m, i| xmm_binary(m, i, n::cvtpd2dq, None));
    t.add(&[Mn::Cvttpd2dq], |m, i| xmm_binary(m, i, n::cvttpd2dq, None));
    t.add(&[Mn::Cvtsi2ss], |m, i| int_to_fp(m, i, n::cvtsi2ss32, n::cvtsi2ss64));
    t.add(&[Mn::Cvtsi2sd], |m, i| int_to_fp(m, i, n::cvtsi2sd32, n::cvtsi2sd64));
    t.add(&[Mn::Cvtss2si], |m, i| fp_to_int(m, i, n::cvtss2si32, n::cvtss2si64));
    t.add(&[Mn::Cvttss2si], |m, i| fp_to_int(m, i, n::cvttss2si32, n::cvttss2si64));
    t.add(&[Mn::Cvtsd2si], |m, i| fp_to_int(m, i, n::cvtsd2si32, n::cvtsd2si64));
    t.add(&[Mn::Cvttsd2si], |m, i| fp_to_int(m, i, n::cvttsd2si32, n::cvttsd2si64));
}

/// Host wrappers (see `sse_fp::asm_xx`).
pub(super) mod native {
    use super::super::sse_fp::{asm_xx, from_v, mx, to_v};
    use super::*;

    macro_rules! natives {
        ($($name:ident),* $(,)?) => {$(
            pub fn $name(a: u128, b: u128, ctl: u32) -> (u128, u32) {
                asm_xx!($name; a, b, ctl)
            }
        )*};
    }
    natives!(cvtss2sd, cvtsd2ss, cvtpd2ps, cvtps2pd, cvtdq2ps, cvtps2dq, cvttps2dq, cvtdq2pd, cvtpd2dq, cvttpd2dq);

    /// `insn xmm, r32/r64`: (xmm after, flags).
    macro_rules! int_to_fp {
        ($($name:ident = $insn:ident $m:literal),* $(,)?) => {$(
            pub fn $name(a: u128, src: u64, ctl: u32) -> (u128, u32) {
                let mut x = to_v(a);
                let mut csr: [u32; 2] = [ctl, 0];
                // SAFETY: touches only the named registers and `csr`; restores the host MXCSR.
                unsafe {
                    asm!(
                        "stmxcsr [{p} + 4]",
                        "ldmxcsr [{p}]",
                        concat!(stringify!($insn), " {x}, {g:", $m, "}"),
                        "stmxcsr [{p}]",
                        "ldmxcsr [{p} + 4]",
                        p = in(reg) csr.as_mut_ptr(),
                        x = inout(xmm_reg) x,
                        g = in(reg) src,
                        options(nostack, preserves_flags),
                    );
                }
                (from_v(x), csr[0] & mx::FLAGS)
            }
        )*};
    }
    int_to_fp!(
        cvtsi2ss32 = cvtsi2ss "e",
        cvtsi2ss64 = cvtsi2ss "r",
        cvtsi2sd32 = cvtsi2sd "e",
        cvtsi2sd64 = cvtsi2sd "r",
    );

    /// `insn r32/r64, xmm`: (integer zero-extended to 64 bits, flags).
    macro_rules! fp_to_int {
        ($($name:ident = $insn:ident $m:literal),* $(,)?) => {$(
            pub fn $name(b: u128, ctl: u32) -> (u64, u32) {
                let r: u64;
                let mut csr: [u32; 2] = [ctl, 0];
                // SAFETY: touches only the named registers and `csr`; restores the host MXCSR.
                // A 32-bit destination zero-extends into the 64-bit register.
                unsafe {
                    asm!(
                        "stmxcsr [{p} + 4]",
                        "ldmxcsr [{p}]",
                        concat!(stringify!($insn), " {g:", $m, "}, {y}"),
                        "stmxcsr [{p}]",
                        "ldmxcsr [{p} + 4]",
                        p = in(reg) csr.as_mut_ptr(),
                        y = in(xmm_reg) to_v(b),
                        g = out(reg) r,
                        options(nostack, preserves_flags),
                    );
                }
                (r, csr[0] & mx::FLAGS)
            }
        )*};
    }
    fp_to_int!(
        cvtss2si32 = cvtss2si "e",
        cvtss2si64 = cvtss2si "r",
        cvttss2si32 = cvttss2si "e",
        cvttss2si64 = cvttss2si "r",
        cvtsd2si32 = cvtsd2si "e",
        cvtsd2si64 = cvtsd2si "r",
        cvttsd2si32 = cvttsd2si "e",
        cvttsd2si64 = cvttsd2si "r",
    );
}

type IntToFp = fn(u128, u64, u32) -> (u128, u32);
type FpToInt = fn(u128, u32) -> (u64, u32);

/// cvtsi2ss/cvtsi2sd xmm, r/m32 or r/m64: the upper elements of xmm are kept.
fn int_to_fp(m: &mut M, ins: &Instruction, f32: IntToFp, f64: IntToFp) -> Res {
    let d = xmm_index(ins.op0_register());
    let a = m.cpu.xmm[d];
    let src = read_op(m, ins, 1)?;
    let f = if op_size(ins, 1) == 8 { f64 } else { f32 };
    m.cpu.xmm[d] = fp(m, ins, None, |ctl| f(a, src, ctl))?;
    Ok(())
}

/// cvt(t)ss2si/cvt(t)sd2si r32/r64, xmm/m32/m64.
fn fp_to_int(m: &mut M, ins: &Instruction, f32: FpToInt, f64: FpToInt) -> Res {
    let r = ins.op0_register();
    if !r.is_gpr() {
        return Err(ud(ins));
    }
    let b = read_xmm_op(m, ins, 1)?;
    let f = if r.size() == 8 { f64 } else { f32 };
    let v = fp(m, ins, None, |ctl| f(b, ctl))?;
    set_reg(m, r, v);
    Ok(())
}
