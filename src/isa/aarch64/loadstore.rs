//! Loads and stores of one register or a register pair, general and SIMD&FP (Arm ARM C4.1.66
//! "Loads and Stores"): LDR/STR and their byte, halfword and sign-extending forms in every
//! addressing mode (unsigned offset, unscaled LDUR/STUR, pre/post-index, register offset,
//! PC-relative literal, unprivileged LDTR/STTR which behave as normal accesses at EL0),
//! LDP/STP/LDPSW/LDNP/STNP, and PRFM/PRFUM (no-ops). The Advanced SIMD structure loads and
//! stores live in `loadstore_simd.rs`; ordered, exclusive and atomic accesses in `atomic.rs`.
//!
//! The handlers decode the Arm ARM fields from the instruction word (`d.word`): the yaxpeax
//! opcode only routes to the handler, so one handler serves a whole encoding class and
//! unallocated encodings inside a class are rejected here exactly as the Arm ARM says.
//!
//! Rules every handler here follows:
//! - Register 31 is SP as a base and XZR as data.
//! - A load/store whose base is SP checks that SP is 16-byte aligned first: Linux enables the
//!   EL0 stack alignment check (SCTLR_EL1.SA0) and reports a misaligned SP as SIGBUS/BUS_ADRALN
//!   with si_addr = SP (arch/arm64 `do_sp_pc_abort`). PRFM is exempt, as in the Arm ARM.
//!   qemu-user omits this check; real hardware and Linux do not.
//! - No partial effect on a fault: every byte the instruction reads is read before any
//!   register is written, and every byte it writes is written by one checked memory call (the
//!   whole range is checked before anything is stored), so an STP that crosses into an
//!   unmapped page writes nothing, an LDP whose second half faults loads nothing, and the base
//!   register is written back only after the access succeeded.
//! - Addresses are untagged (top byte ignored, as Linux configures EL0) before they reach
//!   memory; writeback keeps the tag.
//! - Writeback with the base also a transfer register (CONSTRAINED UNPREDICTABLE in the Arm
//!   ARM) does what qemu does: a load writes the loaded value and then the written-back
//!   address (the writeback wins); a store stores the register's value from before the
//!   writeback.

use super::table::Table;
use super::{Decoded, Res, Trap, M};
use deja_decoders::aarch64::Opcode;

pub fn register(t: &mut Table) {
    use Opcode::*;
    t.add(
        &[
            LDR, LDRB, LDRH, LDRSB, LDRSH, LDRSW, STR, STRB, STRH, LDUR, LDURB, LDURH, LDURSB, LDURSH, LDURSW, STUR,
            STURB, STURH, LDTR, LDTRB, LDTRH, LDTRSB, LDTRSH, LDTRSW, STTR, STTRB, STTRH, PRFM, PRFUM,
        ],
        single,
    );
    t.add(&[LDP, STP, LDPSW, LDNP, STNP], pair);
    super::loadstore_simd::register(t);
}

// ---- instruction fields ----

#[inline(always)]
pub(crate) fn f_rt(w: u32) -> u32 {
    w & 31
}
#[inline(always)]
pub(crate) fn f_rn(w: u32) -> u32 {
    (w >> 5) & 31
}
#[inline(always)]
pub(crate) fn f_rt2(w: u32) -> u32 {
    (w >> 10) & 31
}
#[inline(always)]
pub(crate) fn f_rm(w: u32) -> u32 {
    (w >> 16) & 31
}

/// Sign-extend the low `bits` bits of `v`.
#[inline(always)]
pub(crate) fn sext(v: u64, bits: u32) -> u64 {
    let s = 64 - bits;
    (((v << s) as i64) >> s) as u64
}

// ---- register access by raw register number ----

/// X[n] with 31 = XZR.
#[inline(always)]
pub(crate) fn xr(m: &M, n: u32) -> u64 {
    if n < 31 {
        m.cpu.x[n as usize]
    } else {
        0
    }
}

/// X[n] = v with 31 = XZR (discarded).
#[inline(always)]
pub(crate) fn set_x(m: &mut M, n: u32, v: u64) {
    if n < 31 {
        m.cpu.x[n as usize] = v;
    }
}

/// X[n] = v with 31 = SP (base-register writeback).
#[inline(always)]
pub(crate) fn set_xsp(m: &mut M, n: u32, v: u64) {
    if n < 31 {
        m.cpu.x[n as usize] = v;
    } else {
        m.cpu.sp = v;
    }
}

/// Linux runs EL0 with top-byte-ignore (TCR_EL1.TBI0, Documentation/arch/arm64/
/// tagged-pointers.rst): data accesses ignore address bits 63:56. The untagged address is
/// what reaches memory, the exclusive monitor, and si_addr (Linux clears the tag bits of
/// si_addr unless SA_EXPOSETAGBITS). Writeback keeps the tag.
pub(crate) const TBI_MASK: u64 = (1 << 56) - 1;

#[inline(always)]
pub(crate) fn tbi(a: u64) -> u64 {
    a & TBI_MASK
}

/// The base address register X[n] with 31 = SP, after the EL0 stack alignment check Linux
/// enables (SCTLR_EL1.SA0): SP not 16-byte aligned is SIGBUS/BUS_ADRALN at SP.
#[inline(always)]
pub(crate) fn base(m: &M, n: u32) -> Result<u64, Trap> {
    if n < 31 {
        Ok(m.cpu.x[n as usize])
    } else if m.cpu.sp & 15 == 0 {
        Ok(m.cpu.sp)
    } else {
        Err(super::alignment_fault(m.cpu.sp))
    }
}

// ---- single-register accesses ----

/// What one single-register load/store transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Store the low `bytes` of X[t].
    Store,
    /// Load `bytes`, sign- or zero-extended, into W[t] (`x == false`) or X[t].
    Load { signed: bool, x: bool },
    /// PRFM/PRFUM: a hint, no access and no fault.
    Prefetch,
    /// Store the low `bytes` of V[t].
    VStore,
    /// Load `bytes` into V[t], zeroing the rest of the register.
    VLoad,
}

#[derive(Clone, Copy, Debug)]
struct Acc {
    op: Op,
    /// log2 of the access size in bytes (0..=4).
    scale: u32,
}

/// Which addressing form an encoding comes from (they allocate slightly different sets).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Unsigned offset, register offset, unscaled (PRFM/PRFUM allocated).
    Plain,
    /// Pre/post-index (no PRFM).
    Index,
    /// Unprivileged LDTR/STTR (no PRFM, no SIMD&FP).
    Unpriv,
}

/// Decode size:V:opc of the single-register classes (Arm ARM C4.1.66, "Load/store register").
#[inline(always)]
fn decode_single(size: u32, v: bool, opc: u32, form: Form) -> Option<Acc> {
    let op = if !v {
        match (opc, size) {
            (0, _) => Op::Store,
            (1, _) => Op::Load { signed: false, x: size == 3 },
            (2, 3) => {
                if form != Form::Plain {
                    return None;
                }
                Op::Prefetch
            }
            (2, _) => Op::Load { signed: true, x: true },
            (3, 0 | 1) => Op::Load { signed: true, x: false },
            _ => return None,
        }
    } else {
        if form == Form::Unpriv {
            return None;
        }
        match (opc, size) {
            (0, _) => Op::VStore,
            (1, _) => Op::VLoad,
            (2, 0) => return Some(Acc { op: Op::VStore, scale: 4 }),
            (3, 0) => return Some(Acc { op: Op::VLoad, scale: 4 }),
            _ => return None,
        }
    };
    Some(Acc { op, scale: size })
}

/// Perform a single-register access at `addr`. Memory first, then the register, so a fault
/// leaves the register untouched.
#[inline(always)]
fn access(m: &mut M, acc: Acc, t: u32, addr: u64) -> Res {
    let bytes = 1u32 << acc.scale;
    let addr = tbi(addr);
    match acc.op {
        Op::Store => m.mem.write_sized(addr, bytes, xr(m, t))?,
        Op::Load { signed, x } => {
            let mut v = m.mem.read_sized(addr, bytes)?;
            if signed {
                v = sext(v, bytes * 8);
            }
            set_x(m, t, if x { v } else { v as u32 as u64 });
        }
        Op::Prefetch => {}
        Op::VStore => {
            let v = m.cpu.v[t as usize];
            if bytes == 16 {
                m.mem.write_u128(addr, v)?
            } else {
                m.mem.write_sized(addr, bytes, v as u64)?
            }
        }
        Op::VLoad => {
            m.cpu.v[t as usize] =
                if bytes == 16 { m.mem.read_u128(addr)? } else { m.mem.read_sized(addr, bytes)? as u128 };
        }
    }
    Ok(())
}

/// ExtendReg for the register-offset form: option 010 UXTW, 011 LSL/UXTX, 110 SXTW,
/// 111 SXTX (option<1> == 0 is unallocated and rejected before), then `<< shift`.
#[inline(always)]
fn extend_index(v: u64, option: u32, shift: u32) -> u64 {
    let e = match option {
        2 => v as u32 as u64,
        6 => v as u32 as i32 as i64 as u64,
        _ => v,
    };
    e << shift
}

/// Every single-register load/store class: literal, unsigned offset, the imm9 classes
/// (unscaled, post-index, unprivileged, pre-index) and register offset.
fn single(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let t = f_rt(w);
    let n = f_rn(w);
    let size = w >> 30;
    let v = (w >> 26) & 1 == 1;
    let opc = (w >> 22) & 3;

    // Load register (literal): opc 011 V 00 imm19 Rt.
    if w & 0x3b00_0000 == 0x1800_0000 {
        let acc = match (v, size) {
            (false, 0) => Acc { op: Op::Load { signed: false, x: false }, scale: 2 },
            (false, 1) => Acc { op: Op::Load { signed: false, x: true }, scale: 3 },
            (false, 2) => Acc { op: Op::Load { signed: true, x: true }, scale: 2 },
            (false, _) => return Ok(()), // PRFM (literal)
            (true, 0) => Acc { op: Op::VLoad, scale: 2 },
            (true, 1) => Acc { op: Op::VLoad, scale: 3 },
            (true, 2) => Acc { op: Op::VLoad, scale: 4 },
            (true, _) => return Err(super::undefined(d)),
        };
        let off = sext(((w >> 5) & 0x7ffff) as u64, 19) << 2;
        return access(m, acc, t, d.pc.wrapping_add(off));
    }

    // Unsigned offset: size 111 V 01 opc imm12 Rn Rt.
    if w & 0x3b00_0000 == 0x3900_0000 {
        let Some(acc) = decode_single(size, v, opc, Form::Plain) else { return Err(super::undefined(d)) };
        if acc.op == Op::Prefetch {
            return Ok(());
        }
        let imm = (((w >> 10) & 0xfff) as u64) << acc.scale;
        let addr = base(m, n)?.wrapping_add(imm);
        return access(m, acc, t, addr);
    }

    // imm9 classes: size 111 V 00 opc 0 imm9 xx Rn Rt.
    if w & 0x3b20_0000 == 0x3800_0000 {
        let mode = (w >> 10) & 3;
        let form = match mode {
            0 => Form::Plain,
            2 => Form::Unpriv,
            _ => Form::Index,
        };
        let Some(acc) = decode_single(size, v, opc, form) else { return Err(super::undefined(d)) };
        if acc.op == Op::Prefetch {
            return Ok(());
        }
        let imm = sext(((w >> 12) & 0x1ff) as u64, 9);
        let b = base(m, n)?;
        let addr = if mode == 1 { b } else { b.wrapping_add(imm) };
        access(m, acc, t, addr)?;
        if mode & 1 == 1 {
            set_xsp(m, n, b.wrapping_add(imm));
        }
        return Ok(());
    }

    // Register offset: size 111 V 00 opc 1 Rm option S 10 Rn Rt.
    if w & 0x3b20_0c00 == 0x3820_0800 {
        let option = (w >> 13) & 7;
        if option & 2 == 0 {
            return Err(super::undefined(d));
        }
        let Some(acc) = decode_single(size, v, opc, Form::Plain) else { return Err(super::undefined(d)) };
        if acc.op == Op::Prefetch {
            return Ok(());
        }
        let shift = if (w >> 12) & 1 == 1 { acc.scale } else { 0 };
        let idx = extend_index(xr(m, f_rm(w)), option, shift);
        let addr = base(m, n)?.wrapping_add(idx);
        return access(m, acc, t, addr);
    }

    // Atomic memory operations, PAC loads (LDRAA/LDRAB) and anything else yaxpeax routed here.
    Err(super::undefined(d))
}

// ---- register pairs ----

/// LDP/STP/LDPSW/LDNP/STNP, general and SIMD&FP:
/// opc 101 V 0 idx L imm7 Rt2 Rn Rt (idx 00 no-allocate, 01 post, 10 offset, 11 pre).
fn pair(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if w & 0x3a00_0000 != 0x2800_0000 {
        return Err(super::undefined(d));
    }
    let opc = w >> 30;
    let v = (w >> 26) & 1 == 1;
    let idx = (w >> 23) & 3;
    let load = (w >> 22) & 1 == 1;
    let (scale, signed) = match (v, opc) {
        (false, 0) => (2, false),
        (false, 2) => (3, false),
        // LDPSW (no store and no non-temporal form: those encodings are STGP or unallocated).
        (false, 1) if load && idx != 0 => (2, true),
        (true, 0) => (2, false),
        (true, 1) => (3, false),
        (true, 2) => (4, false),
        _ => return Err(super::undefined(d)),
    };
    let (t, t2, n) = (f_rt(w), f_rt2(w), f_rn(w));
    let off = sext(((w >> 15) & 0x7f) as u64, 7) << scale;
    let b = base(m, n)?;
    let addr = tbi(if idx == 1 { b } else { b.wrapping_add(off) });
    let bytes = 1usize << scale;

    if load {
        if v {
            let (lo, hi) = match scale {
                2 => {
                    let p = m.mem.read_u64(addr)?;
                    (p as u32 as u128, (p >> 32) as u128)
                }
                3 => {
                    let p = m.mem.read_u128(addr)?;
                    (p as u64 as u128, p >> 64)
                }
                _ => {
                    let mut buf = [0u8; 32];
                    m.mem.read_bytes(addr, &mut buf)?;
                    let mut a = [0u8; 16];
                    let mut c = [0u8; 16];
                    a.copy_from_slice(&buf[..16]);
                    c.copy_from_slice(&buf[16..]);
                    (u128::from_le_bytes(a), u128::from_le_bytes(c))
                }
            };
            // qemu writes Rt then Rt2 (Rt == Rt2 is CONSTRAINED UNPREDICTABLE).
            m.cpu.v[t as usize] = lo;
            m.cpu.v[t2 as usize] = hi;
        } else {
            let (mut lo, mut hi) = if bytes == 8 {
                let p = m.mem.read_u128(addr)?;
                (p as u64, (p >> 64) as u64)
            } else {
                let p = m.mem.read_u64(addr)?;
                (p as u32 as u64, p >> 32)
            };
            if signed {
                lo = sext(lo, 32);
                hi = sext(hi, 32);
            }
            // qemu writes Rt2 then Rt (Rt == Rt2 is CONSTRAINED UNPREDICTABLE).
            set_x(m, t2, hi);
            set_x(m, t, lo);
        }
    } else if v {
        let (lo, hi) = (m.cpu.v[t as usize], m.cpu.v[t2 as usize]);
        match scale {
            2 => m.mem.write_u64(addr, (lo as u32 as u64) | ((hi as u32 as u64) << 32))?,
            3 => m.mem.write_u128(addr, (lo as u64 as u128) | ((hi as u64 as u128) << 64))?,
            _ => {
                let mut buf = [0u8; 32];
                buf[..16].copy_from_slice(&lo.to_le_bytes());
                buf[16..].copy_from_slice(&hi.to_le_bytes());
                m.mem.write_bytes(addr, &buf)?
            }
        }
    } else {
        let (lo, hi) = (xr(m, t), xr(m, t2));
        if bytes == 8 {
            m.mem.write_u128(addr, (lo as u128) | ((hi as u128) << 64))?
        } else {
            m.mem.write_u64(addr, (lo as u32 as u64) | ((hi as u32 as u64) << 32))?
        }
    }
    if idx & 1 == 1 {
        set_xsp(m, n, b.wrapping_add(off));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::A64State;
    use super::M;
    use crate::engine::interp_a64::InterpA64;
    use crate::engine::{Exit, Machine};
    use crate::mem::{flags, Memory};

    pub const CODE: u64 = 0x10_0000;
    pub const DATA: u64 = 0x20_0000;

    /// A machine with a code page at CODE and 2 read-write pages at DATA (then unmapped).
    pub fn machine() -> M {
        let mut mem = Memory::new(1 << 24).unwrap();
        assert!(mem.map(CODE, 0x1000, flags::R | flags::X));
        assert!(mem.map(DATA, 0x2000, flags::R | flags::W));
        Machine { cpu: A64State::default(), mem, icount: 0, limit: 0 }
    }

    /// Run `words` from CODE (fresh decode cache) until they all retired or one faulted.
    pub fn run(m: &mut M, words: &[u32]) -> Exit {
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        m.mem.poke(CODE, &code).unwrap();
        m.cpu.pc = CODE;
        InterpA64::new().run(m, words.len() as u64)
    }

    #[test]
    fn dc_zva_zeroes_block() {
        let mut m = machine();
        m.mem.write_bytes(DATA, &[0xaa; 256]).unwrap();
        m.cpu.x[3] = DATA + 0x45;
        assert_eq!(run(&mut m, &[0xd50b_7423]), Exit::Budget); // dc zva, x3
        let mut b = [0u8; 256];
        m.mem.read_bytes(DATA, &mut b).unwrap();
        assert!(b[..0x40].iter().all(|&x| x == 0xaa));
        assert!(b[0x40..0x80].iter().all(|&x| x == 0));
        assert!(b[0x80..].iter().all(|&x| x == 0xaa));
    }
}
