//! Integer multiply and divide (SDM "Binary Arithmetic Instructions"): mul imul div idiv.
//!
//! Undefined flags, chosen to match the AMD Zen host this was tested on (family 1Ah) so that
//! native and emulated runs agree bit for bit:
//! - mul/imul: CF = OF = "the result does not fit the destination"; SF ZF AF PF are left
//!   unchanged (the host preserves them).
//! - div/idiv: CF and OF are left unchanged; SF = ZF = PF = 0 and AF = 1 (the host writes
//!   these constants whatever the operands).

use super::operands::{get_reg, set_reg, sext, Args};
use super::state::{fl, reg};
use super::table::Table;
use super::{Res, Trap, M};
use crate::engine::{sig, GuestFault};
use crate::{reference, specializer, unary_forms};
use iced_x86::{Instruction, Mnemonic as Mn, Register};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Mul], reference!(mul));
    t.add(&[Mn::Imul], reference!(imul));
    t.add(&[Mn::Div], reference!(div));
    t.add(&[Mn::Idiv], reference!(idiv));
    t.specialize(&[Mn::Mul], unary_forms!(mul));
    t.specialize(&[Mn::Div], unary_forms!(div));
    t.specialize(&[Mn::Idiv], unary_forms!(idiv));
    t.specialize(
        &[Mn::Imul],
        specializer!(flags imul; R8, R4, M8, M4, RR8, RR4, RR2, RM8, RM4, RM2, RRI8, RRI4, RRI2, RMI8, RMI4, RMI2),
    );
}

/// Set CF = OF = `overflow`, leaving the other status flags as they are.
#[inline]
fn set_cf_of<A: Args>(m: &mut M, x: A, overflow: bool) {
    x.set_flags(m, fl::CF | fl::OF, if overflow { fl::CF | fl::OF } else { 0 });
}

/// Write the double-width result `hi:lo` of a one-operand multiply or divide: AX for bytes,
/// rDX:rAX otherwise (32-bit writes zero-extend).
#[inline]
fn write_acc_pair(m: &mut M, size: u32, lo: u64, hi: u64) {
    match size {
        1 => set_reg(m, Register::AX, (lo & 0xff) | (hi & 0xff) << 8),
        2 => {
            set_reg(m, Register::AX, lo);
            set_reg(m, Register::DX, hi);
        }
        4 => {
            set_reg(m, Register::EAX, lo);
            set_reg(m, Register::EDX, hi);
        }
        _ => {
            m.cpu.gpr[reg::RAX] = lo;
            m.cpu.gpr[reg::RDX] = hi;
        }
    }
}

/// The accumulator operand of one-operand forms, zero-extended: AL, AX, EAX or RAX.
#[inline]
fn acc(m: &M, size: u32) -> u64 {
    m.cpu.gpr[reg::RAX] & super::operands::mask(size)
}

/// The double-width dividend: AX for bytes, rDX:rAX otherwise, as an unsigned 128-bit value.
#[inline]
fn dividend(m: &M, size: u32) -> u128 {
    let bits = size * 8;
    if size == 1 {
        get_reg(m, Register::AX) as u128
    } else {
        let mk = super::operands::mask(size) as u128;
        ((m.cpu.gpr[reg::RDX] as u128 & mk) << bits) | (m.cpu.gpr[reg::RAX] as u128 & mk)
    }
}

/// `mul r/m`: unsigned rDX:rAX = rAX * r/m.
#[inline(always)]
pub fn mul<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let src = x.read(m, 0)?;
    let p = acc(m, size) as u128 * src as u128;
    let bits = size * 8;
    let lo = p as u64;
    let hi = (p >> bits) as u64;
    write_acc_pair(m, size, lo, hi);
    set_cf_of(m, x, hi & super::operands::mask(size) != 0);
    Ok(())
}

/// `imul`: one operand (signed rDX:rAX = rAX * r/m), two (reg *= r/m) or three
/// (reg = r/m * imm).
#[inline(always)]
pub fn imul<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let bits = size * 8;
    match x.op_count() {
        1 => {
            let src = sext(x.read(m, 0)?, size) as i64;
            let a = sext(acc(m, size), size) as i64;
            let p = a as i128 * src as i128;
            let lo = p as u64;
            let hi = (p >> bits) as u64;
            write_acc_pair(m, size, lo, hi);
            set_cf_of(m, x, p != sext(lo, size) as i64 as i128);
        }
        n => {
            let (a, b) = if n == 2 { (x.read(m, 0)?, x.read(m, 1)?) } else { (x.read(m, 1)?, x.read(m, 2)?) };
            let p = sext(a, size) as i64 as i128 * sext(b, size) as i64 as i128;
            let lo = p as u64;
            x.write(m, 0, lo)?;
            set_cf_of(m, x, p != sext(lo, size) as i64 as i128);
        }
    }
    Ok(())
}

/// #DE: SIGFPE/FPE_INTDIV at the instruction, trap number 0, nothing changed.
#[cold]
fn divide_error(ins: &Instruction) -> Trap {
    let mut f = GuestFault::new(sig::SIGFPE, sig::FPE_INTDIV, ins.ip());
    f.trapno = 0;
    Trap::Fault(f)
}

/// Flags after div/idiv on the host: CF, OF kept; SF = ZF = PF = 0; AF = 1.
#[inline]
fn div_flags<A: Args>(m: &mut M, x: A) {
    x.set_flags(m, fl::SF | fl::ZF | fl::PF | fl::AF, fl::AF);
}

/// `div r/m`: unsigned rAX = rDX:rAX / r/m, rDX = remainder.
#[inline(always)]
pub fn div<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let d = x.read(m, 0)? as u128;
    let n = dividend(m, size);
    if d == 0 {
        return Err(divide_error(x.insn()));
    }
    let q = n / d;
    if q > super::operands::mask(size) as u128 {
        return Err(divide_error(x.insn()));
    }
    write_acc_pair(m, size, q as u64, (n % d) as u64);
    div_flags(m, x);
    Ok(())
}

/// `idiv r/m`: signed rAX = rDX:rAX / r/m (truncating), rDX = remainder (sign of the dividend).
#[inline(always)]
pub fn idiv<A: Args>(m: &mut M, x: A) -> Res {
    let size = x.size(0);
    let bits = size * 8;
    let d = sext(x.read(m, 0)?, size) as i64 as i128;
    // Sign-extend the 2*bits-wide dividend.
    let sh = 128 - 2 * bits;
    let n = ((dividend(m, size) << sh) as i128) >> sh;
    if d == 0 {
        return Err(divide_error(x.insn()));
    }
    // checked_div fails only for i128::MIN / -1, itself a quotient overflow.
    let Some(q) = n.checked_div(d) else { return Err(divide_error(x.insn())) };
    let min = -(1i128 << (bits - 1));
    if q < min || q > -min - 1 {
        return Err(divide_error(x.insn()));
    }
    write_acc_pair(m, size, q as u64, (n % d) as u64);
    div_flags(m, x);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    const SIZES: [u32; 4] = [1, 2, 4, 8];

    /// mul/imul (one operand), div/idiv: every size, register and memory sources.
    fn one_operand(ext: u8, iters: usize) {
        let mut rng = Rng(0x5eed ^ ext as u64);
        for i in 0..iters {
            let size = SIZES[i % 4];
            let (pre, w, lo) = size_enc(size);
            let (r, rex) = pick_regs(&mut rng, 1, size == 1);
            let rm = pick_rm(&mut rng, r[0]);
            let b = encode(pre, w, rex, &[0xf6 | lo], ext, rm, &[]);
            let mut ctx = random_ctx(&mut rng, 6);
            let data = random_data(&mut rng);
            if ext >= 6 && rng.below(2) == 0 {
                // Make most divisions representable: a small high half of the dividend.
                ctx.gpr[reg::RDX] = if ext == 7 && rng.below(2) == 0 { u64::MAX } else { rng.below(4) };
            }
            let (res, e, edata) = emulate(&b, &ctx, &data);
            match res {
                Ok(()) => compare(&b, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}")),
                Err(Trap::Fault(f)) => {
                    assert!(ext >= 6, "{b:02x?}");
                    assert_eq!((f.signo, f.code, f.addr, f.trapno), (sig::SIGFPE, sig::FPE_INTDIV, CODE, 0));
                    assert_eq!((e, edata), (Ctx { rflags: ctx.rflags | fl::FIXED | fl::IF, ..ctx }, data));
                    let rex = rex || w || matches!(rm, Rm::Reg(8..));
                    let d = rm_value(rm, size, rex, &ctx, &data);
                    assert!(must_fault(ext == 7, size, d, &ctx), "spurious #DE {b:02x?} {ctx:x?}");
                }
                Err(t) => panic!("{t:?}"),
            }
        }
    }

    /// The value of the r/m operand `rm` of `size` bytes (`rex`: a REX prefix is present, so
    /// byte registers 4-7 are spl..dil rather than ah..bh).
    fn rm_value(rm: Rm, size: u32, rex: bool, ctx: &Ctx, data: &[u8; 4096]) -> u64 {
        let mk = super::super::operands::mask(size);
        match rm {
            Rm::Reg(r) if size == 1 && !rex && (4..8).contains(&r) => (ctx.gpr[r as usize - 4] >> 8) & 0xff,
            Rm::Reg(r) => ctx.gpr[r as usize] & mk,
            Rm::Mem(_, d) => {
                let at = (0x800 + d as i64) as usize;
                u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) & mk
            }
        }
    }

    /// Independent #DE predicate: the divisor `d` is zero or the quotient does not fit.
    fn must_fault(signed: bool, size: u32, d: u64, ctx: &Ctx) -> bool {
        let bits = size * 8;
        let mk = super::super::operands::mask(size) as u128;
        let d = d as u128 & mk;
        let (hi, lo) = if size == 1 {
            ((ctx.gpr[0] >> 8) as u128 & 0xff, ctx.gpr[0] as u128 & 0xff)
        } else {
            (ctx.gpr[2] as u128 & mk, ctx.gpr[0] as u128 & mk)
        };
        if d == 0 {
            return true;
        }
        if !signed {
            return hi >= d;
        }
        // Signed: magnitudes, then the sign of the quotient.
        let neg_n = hi >> (bits - 1) & 1 == 1;
        let neg_d = d >> (bits - 1) & 1 == 1;
        let n = (hi << bits) | lo;
        let width_mask = if bits == 64 { u128::MAX } else { (1u128 << (2 * bits)) - 1 };
        let mag_n = if neg_n { n.wrapping_neg() & width_mask } else { n };
        let mag_d = if neg_d { d.wrapping_neg() & mk } else { d };
        let q = mag_n / mag_d;
        let limit = 1u128 << (bits - 1);
        if neg_n != neg_d {
            q > limit
        } else {
            q >= limit
        }
    }

    #[test]
    fn mul_matches_host() {
        one_operand(4, 4000);
    }

    #[test]
    fn imul_one_operand_matches_host() {
        one_operand(5, 4000);
    }

    #[test]
    fn div_matches_host() {
        one_operand(6, 6000);
    }

    #[test]
    fn idiv_matches_host() {
        one_operand(7, 6000);
    }

    #[test]
    fn imul_two_and_three_operands_match_host() {
        let mut rng = Rng(77);
        for i in 0..6000 {
            let size = SIZES[1 + i % 3];
            let (pre, w, _) = size_enc(size);
            let (r, _) = pick_regs(&mut rng, 2, false);
            let rm = pick_rm(&mut rng, r[1]);
            let b = match rng.below(3) {
                0 => encode(pre, w, false, &[0x0f, 0xaf], r[0], rm, &[]),
                1 => encode(pre, w, false, &[0x6b], r[0], rm, &[rng.next_u64() as u8]),
                _ if size == 2 => encode(pre, w, false, &[0x69], r[0], rm, &(rng.edgy() as u16).to_le_bytes()),
                _ => encode(pre, w, false, &[0x69], r[0], rm, &(rng.edgy() as u32).to_le_bytes()),
            };
            let ctx = random_ctx(&mut rng, 6);
            let data = random_data(&mut rng);
            compare(&b, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Edge operands for every size: min/max/±1/0 pairs.
    #[test]
    fn edge_values_match_host() {
        let vals = [0u64, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];
        let vals: Vec<u64> = vals.iter().flat_map(|&v| [v, v | 0xffff_ffff_0000_0000, v << 32, !v]).collect();
        let data = [0u8; 4096];
        for size in SIZES {
            let (pre, w, lo) = size_enc(size);
            for &a in &vals {
                for &b in &vals {
                    for &d in &[0, u64::MAX, 1] {
                        let mut ctx = Ctx { gpr: [0; 16], rflags: 0 };
                        ctx.gpr[0] = a;
                        ctx.gpr[3] = b;
                        ctx.gpr[2] = d;
                        ctx.gpr[6] = DATA;
                        for ext in 4..8 {
                            let code = encode(pre, w, false, &[0xf6 | lo], ext, Rm::Reg(3), &[]);
                            if ext >= 6 && must_fault(ext == 7, size, b, &ctx) {
                                let (r, e, _) = emulate(&code, &ctx, &data);
                                assert!(matches!(r, Err(Trap::Fault(ref f)) if f.signo == sig::SIGFPE), "{code:02x?}");
                                assert_eq!(e.gpr, ctx.gpr);
                                continue;
                            }
                            compare(&code, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
                        }
                        if size > 1 {
                            let code = encode(pre, w, false, &[0x0f, 0xaf], 0, Rm::Reg(3), &[]);
                            compare(&code, &ctx, &data, fl::STATUS).unwrap_or_else(|e| panic!("{e}"));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn divide_error_leaves_state_alone() {
        let mut m = machine();
        m.cpu.gpr[reg::RAX] = 5;
        m.cpu.gpr[reg::RDX] = 7;
        m.cpu.rflags |= fl::CF | fl::ZF;
        let before = m.cpu;
        // div ecx (ecx = 0), idiv rcx with rdx:rax = i128::MIN and rcx = -1.
        let r = exec(&mut m, &[0xf7, 0xf1]);
        let Err(Trap::Fault(f)) = r else { panic!("{r:?}") };
        assert_eq!((f.signo, f.code, f.addr, f.trapno), (sig::SIGFPE, sig::FPE_INTDIV, CODE, 0));
        m.cpu.rip = before.rip;
        assert_eq!(m.cpu, before);
        m.cpu.gpr[reg::RAX] = 0;
        m.cpu.gpr[reg::RDX] = 1 << 63;
        m.cpu.gpr[reg::RCX] = u64::MAX;
        assert!(matches!(exec(&mut m, &[0x48, 0xf7, 0xf9]), Err(Trap::Fault(ref f)) if f.signo == sig::SIGFPE));
        // A faulting memory operand is a SIGSEGV, not a #DE.
        m.cpu.gpr[reg::RBX] = 0x9000;
        assert!(matches!(exec(&mut m, &[0xf7, 0x33]), Err(Trap::Fault(ref f)) if f.signo == sig::SIGSEGV));
    }
}
