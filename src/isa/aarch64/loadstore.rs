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
    use crate::engine::{sig, Exit, GuestFault, Machine};
    use crate::mem::{flags, Access, MemFault, Memory};

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

    pub fn sigbus_adraln(addr: u64) -> Exit {
        Exit::Fault(GuestFault::new(sig::SIGBUS, 1, addr))
    }

    pub fn segv(addr: u64, mapped: bool) -> Exit {
        Exit::Fault(GuestFault::from_mem(MemFault { addr, access: Access::Read, mapped }))
    }

    /// The fault's signal, code and address (the x86 page-fault fields do not matter here).
    pub fn sig_of(e: &Exit) -> Option<(i32, i32, u64)> {
        match e {
            Exit::Fault(f) => Some((f.signo, f.code, f.addr)),
            _ => None,
        }
    }

    /// A fault with no architectural effect: registers as before, pc at the instruction.
    pub fn assert_no_effect(m: &M, before: &A64State, e: &Exit, want: Exit) {
        assert_eq!(sig_of(e), sig_of(&want), "{e:?}");
        let mut after = m.cpu;
        after.pc = before.pc;
        assert_eq!(&after, before);
        assert_eq!(m.cpu.pc, CODE);
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
        // Tagged pointer; then a block in an unmapped page: SIGSEGV at the block, nothing
        // written.
        m.cpu.x[3] = (0x7e << 56) | (DATA + 0x80);
        assert_eq!(run(&mut m, &[0xd50b_7423]), Exit::Budget);
        assert_eq!(m.mem.read_u8(DATA + 0x80).unwrap(), 0);
        m.cpu.x[3] = DATA + 0x2010;
        let e = run(&mut m, &[0xd50b_7423]);
        assert_eq!(sig_of(&e), sig_of(&segv(DATA + 0x2000, false)));
        // dc cvap is undefined (no FEAT_DPB advertised); dc civac is a no-op.
        assert_eq!(sig_of(&run(&mut m, &[0xd50b_7c23])).map(|s| s.0), Some(sig::SIGILL));
        assert_eq!(run(&mut m, &[0xd50b_7e23]), Exit::Budget);
    }

    /// Linux sets SCTLR_EL1.SA0: an SP-based access with SP not 16-byte aligned is
    /// SIGBUS/BUS_ADRALN at SP, before any access or writeback (qemu-user does not check).
    /// PRFM is exempt.
    #[test]
    fn sp_alignment_check() {
        let mut m = machine();
        m.cpu.sp = DATA + 0x108;
        m.cpu.x[29] = 1;
        m.cpu.pc = CODE;
        let before = m.cpu;
        let e = run(&mut m, &[0xf940_03e0]); // ldr x0, [sp]
        assert_no_effect(&m, &before, &e, sigbus_adraln(DATA + 0x108));
        let e = run(&mut m, &[0xa9bf_7bfd]); // stp x29, x30, [sp, #-16]!
        assert_no_effect(&m, &before, &e, sigbus_adraln(DATA + 0x108));
        assert_eq!(m.mem.read_u64(DATA + 0xf8).unwrap(), 0);
        assert_eq!(run(&mut m, &[0xf980_03e0]), Exit::Budget); // prfm pldl1keep, [sp]
        m.cpu.sp = DATA + 0x110;
        assert_eq!(run(&mut m, &[0xa9bf_7bfd]), Exit::Budget);
        assert_eq!(m.cpu.sp, DATA + 0x100);
        assert_eq!(m.mem.read_u64(DATA + 0x100).unwrap(), 1);
    }

    /// A faulting multi-byte store writes nothing; a faulting load loads nothing; no
    /// writeback (qemu 7.2 splits these into element accesses and can leave part done).
    #[test]
    fn no_partial_effect() {
        let mut m = machine();
        let end = DATA + 0x2000; // first unmapped byte
        m.cpu.v[0] = u128::MAX;
        m.cpu.v[1] = 0x1111;
        m.cpu.x[2] = 0x2222;
        m.cpu.x[3] = 0x3333;
        for (word, base) in [
            (0xa881_0c22, end - 8),  // stp x2, x3, [x1], #16
            (0xa9c0_8c22, end - 16), // ldp x2, x3, [x1, #8]!
            (0x3d80_0020, end - 8),  // str q0, [x1]
            (0x4c9f_0020, end - 48), // st4 {v0.16b-v3.16b}, [x1], #64
            (0x0c40_a020, end - 12), // ld1 {v0.8b, v1.8b}, [x1]
        ] {
            m.cpu.x[1] = base;
            m.cpu.pc = CODE;
            let before = m.cpu;
            let e = run(&mut m, &[word]);
            assert_no_effect(&m, &before, &e, segv(end, false));
            let mut b = vec![0u8; 64];
            m.mem.read_bytes(end - 64, &mut b).unwrap();
            assert!(b.iter().all(|&x| x == 0), "{word:08x} wrote before faulting");
        }
    }

    #[test]
    fn tagged_base_and_scalar_fp_loads() {
        let mut m = machine();
        m.mem.write_u64(DATA + 8, 0x1122_3344_5566_7788).unwrap();
        let tag = 0x5au64 << 56;
        m.cpu.x[1] = tag | DATA;
        assert_eq!(run(&mut m, &[0xf840_8c20]), Exit::Budget); // ldr x0, [x1, #8]!
        assert_eq!(m.cpu.x[0], 0x1122_3344_5566_7788);
        assert_eq!(m.cpu.x[1], tag | (DATA + 8));
        m.cpu.v[0] = u128::MAX;
        assert_eq!(run(&mut m, &[0xbd40_0020]), Exit::Budget); // ldr s0, [x1]
        assert_eq!(m.cpu.v[0], 0x5566_7788);
        // ld1 {v0.8b, v1.8b}: D-register forms zero bits 127:64.
        m.cpu.v[1] = u128::MAX;
        m.cpu.x[1] = DATA;
        assert_eq!(run(&mut m, &[0x0c40_a020]), Exit::Budget);
        assert_eq!(m.cpu.v[0], 0);
        assert_eq!(m.cpu.v[1], 0x1122_3344_5566_7788);
    }

    /// Register offset with a 32-bit signed index and the Q-register scale.
    #[test]
    fn register_offset_extends() {
        let mut m = machine();
        m.mem.write_u128(DATA + 0x100, 0xabcd).unwrap();
        m.cpu.x[1] = DATA + 0x110;
        m.cpu.x[2] = 0xdead_beef_ffff_fff0; // w2 = -16
        assert_eq!(run(&mut m, &[0x3c62_c820]), Exit::Budget); // ldr b0, [x1, w2, sxtw]
        assert_eq!(m.cpu.v[0], 0xcd);
        m.cpu.x[1] = DATA;
        m.cpu.x[2] = 0x10;
        assert_eq!(run(&mut m, &[0x3ce2_7820]), Exit::Budget); // ldr q0, [x1, x2, lsl #4]
        assert_eq!(m.cpu.v[0], 0xabcd);
    }
}

#[cfg(test)]
mod yaxpeax_coverage {
    use super::super::table::TABLE;
    use deja_decoders::aarch64::decode_word;

    /// Every word of the load/store encoding space that yaxpeax decodes routes to a handler
    /// of this group (or is a feature deja does not implement), so no other class can claim a
    /// load/store encoding.
    #[test]
    fn loadstore_space_routes_here() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut missing = std::collections::BTreeMap::new();
        for _ in 0..400_000 {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            let w = ((x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32 & !0x0a00_0000) | 0x0800_0000;
            if let Some(i) = decode_word(w) {
                if !TABLE.is_implemented(&i.opcode) {
                    missing.entry(format!("{:?}", i.opcode)).or_insert(w);
                }
            }
        }
        // Deliberately unimplemented (features deja does not advertise): MTE tag accesses,
        // LORegions, pointer-authenticated loads.
        let unimplemented = [
            "LDG", "LDGM", "STG", "STZG", "ST2G", "STZ2G", "STGM", "STZGM", "LDLAR", "LDLARB", "LDLARH", "STLLR",
            "STLLRB", "STLLRH", "LDRAA", "LDRAB",
        ];
        missing.retain(|op, _| !unimplemented.contains(&op.as_str()));
        assert!(missing.is_empty(), "load/store words decoded to opcodes without a handler: {missing:x?}");
    }
}

#[cfg(test)]
mod yaxpeax_operands {
    use super::*;
    use deja_decoders::aarch64::{decode_word, Operand, ShiftStyle, SizeCode};

    fn words(mask: u32, val: u32, n: usize) -> impl Iterator<Item = u32> {
        let mut x = 0x1234_5678_9abc_def1u64 ^ val as u64;
        (0..n).map(move |_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            ((x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32 & !mask) | val
        })
    }

    /// yaxpeax's memory operand for the single-register and pair classes agrees with the
    /// fields the handlers decode (base, offset, writeback, index register and extend), so
    /// disassembly (traces, diagnostics, the debugger) shows what executes.
    #[test]
    fn memory_operands_match_fields() {
        let mut bad = Vec::new();
        let mut checked = 0;
        let classes = [
            (0x3b00_0000u32, 0x3900_0000u32),
            (0x3b20_0000, 0x3800_0000),
            (0x3b20_0c00, 0x3820_0800),
            (0x3a00_0000, 0x2800_0000),
        ];
        for (mask, val) in classes {
            for w in words(mask, val, 50_000) {
                let Some(ins) = decode_word(w) else { continue };
                if matches!(ins.opcode, Opcode::PRFM | Opcode::PRFUM) {
                    continue;
                }
                let n = f_rn(w) as u16;
                let size = w >> 30;
                let v = (w >> 26) & 1 == 1;
                let opc = (w >> 22) & 3;
                let expect = if val == 0x3900_0000 {
                    let Some(acc) = decode_single(size, v, opc, Form::Plain) else { continue };
                    Operand::RegPreIndex(n, ((((w >> 10) & 0xfff) as u64) << acc.scale) as i32, false)
                } else if val == 0x3800_0000 {
                    let imm = sext(((w >> 12) & 0x1ff) as u64, 9) as i32;
                    match (w >> 10) & 3 {
                        1 => Operand::RegPostIndex(n, imm),
                        3 => Operand::RegPreIndex(n, imm, true),
                        _ => Operand::RegPreIndex(n, imm, false),
                    }
                } else if val == 0x3820_0800 {
                    let Some(acc) = decode_single(size, v, opc, Form::Plain) else { continue };
                    let option = (w >> 13) & 7;
                    if option & 2 == 0 {
                        continue;
                    }
                    let (sz, style) = match option {
                        2 => (SizeCode::W, ShiftStyle::UXTW),
                        3 => (SizeCode::X, ShiftStyle::LSL),
                        6 => (SizeCode::W, ShiftStyle::SXTW),
                        _ => (SizeCode::X, ShiftStyle::SXTX),
                    };
                    let amount = if (w >> 12) & 1 == 1 { acc.scale } else { 0 };
                    Operand::RegRegOffset(n, f_rm(w) as u16, sz, style, amount as u8)
                } else {
                    let scale = if v { 2 + (w >> 30) } else { 2 + (w >> 31) };
                    let imm = (sext(((w >> 15) & 0x7f) as u64, 7) << scale) as i32;
                    match (w >> 23) & 3 {
                        1 => Operand::RegPostIndex(n, imm),
                        3 => Operand::RegPreIndex(n, imm, true),
                        _ => Operand::RegPreIndex(n, imm, false),
                    }
                };
                checked += 1;
                let got = ins.operands.iter().find(|o| {
                    matches!(o, Operand::RegPreIndex(..) | Operand::RegPostIndex(..) | Operand::RegRegOffset(..))
                });
                if got != Some(&expect) {
                    bad.push(format!("{w:08x} `{ins}`: yaxpeax {got:?}, fields {expect:?}"));
                }
            }
        }
        assert!(checked > 100_000, "only {checked} words checked");
        bad.sort();
        bad.dedup_by(|a, b| a[9..20] == b[9..20]);
        assert!(bad.is_empty(), "{} mismatches, e.g.:\n{}", bad.len(), bad[..bad.len().min(30)].join("\n"));
    }
}
