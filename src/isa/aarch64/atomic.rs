//! Ordered, exclusive and atomic memory accesses (Arm ARM C4.1.66: "Load/store exclusive",
//! "Load/store ordered", "Compare and swap", "Atomic memory operations", "LDAPR/STLR
//! (unscaled immediate)"), with single-threaded semantics: deja runs one guest thread, so
//! acquire/release ordering has no observable effect and every atomic is a plain
//! read-modify-write.
//!
//! - LDAR/STLR (+B/H), LDAPR (+B/H), LDAPUR*/STLUR*: a normal access that must be naturally
//!   aligned (deja implements no FEAT_LSE2, so misaligned ordered accesses take an alignment
//!   fault: SIGBUS/BUS_ADRALN with si_addr = the address, as Linux reports it).
//! - LDXR/STXR/LDAXR/STLXR (+B/H) and the pairs LDXP/STXP/LDAXP/STLXP: the exclusive monitor
//!   is `A64State::{excl_addr, excl_size}`. Policy (documented in docs/ and the report):
//!   an exclusive load sets it to (address, total size); an exclusive store succeeds (status
//!   0, memory written) iff the monitor holds exactly that address and size, and fails (status
//!   1, no memory access at all) otherwise; every exclusive store, CLREX (system.rs) and the
//!   delivery of a signal clear it. Ordinary stores do not clear it. Misaligned exclusives
//!   fault (alignment is checked before the monitor, as in the Arm ARM).
//! - LSE: LDADD/LDCLR/LDEOR/LDSET/LDSMAX/LDSMIN/LDUMAX/LDUMIN (and their ST* aliases, Rt =
//!   31), SWP, CAS, CASP, in every A/L/AL and B/H/W/X variant. The access is checked for
//!   write permission even when a CAS compare fails (the old value is written back), as the
//!   Arm ARM treats the access as a write; registers are written only after memory.
//!
//! As in `loadstore.rs`, fields are decoded from the instruction word, SP as a base gets the
//! EL0 stack alignment check, and addresses are untagged (top byte ignored) before use.

use super::loadstore::{base, f_rm, f_rn, f_rt, f_rt2, set_x, sext, tbi, xr};
use super::table::Table;
use super::{Decoded, Res, Trap, M};
use deja_decoders::aarch64::Opcode;

pub fn register(t: &mut Table) {
    use Opcode::*;
    t.add(
        &[
            LDXR,
            LDXRB,
            LDXRH,
            LDAXR,
            LDAXRB,
            LDAXRH,
            STXR,
            STXRB,
            STXRH,
            STLXR,
            STLXRB,
            STLXRH,
            LDXP,
            LDAXP,
            STXP,
            STLXP,
            LDAR,
            LDARB,
            LDARH,
            STLR,
            STLRB,
            STLRH,
            CAS(0),
            CASB(0),
            CASH(0),
            CASP(0),
        ],
        exclusive_class,
    );
    t.add(
        &[
            LDADD(0),
            LDCLR(0),
            LDEOR(0),
            LDSET(0),
            LDSMAX(0),
            LDSMIN(0),
            LDUMAX(0),
            LDUMIN(0),
            LDADDB(0),
            LDCLRB(0),
            LDEORB(0),
            LDSETB(0),
            LDSMAXB(0),
            LDSMINB(0),
            LDUMAXB(0),
            LDUMINB(0),
            LDADDH(0),
            LDCLRH(0),
            LDEORH(0),
            LDSETH(0),
            LDSMAXH(0),
            LDSMINH(0),
            LDUMAXH(0),
            LDUMINH(0),
            SWP(0),
            SWPB(0),
            SWPH(0),
            LDAPR,
            LDAPRB,
            LDAPRH,
        ],
        atomic_class,
    );
    t.add(&[LDAPUR, LDAPURB, LDAPURH, LDAPURSB, LDAPURSH, LDAPURSW, STLUR, STLURB, STLURH], rcpc_unscaled);
}

/// The (untagged) base address of an access that must be aligned to `bytes`.
#[inline(always)]
fn aligned_base(m: &M, n: u32, bytes: u64) -> Result<u64, Trap> {
    let a = tbi(base(m, n)?);
    if a & (bytes - 1) != 0 {
        return Err(super::alignment_fault(a));
    }
    Ok(a)
}

/// Zero-extend a loaded value to the register width: X for 64-bit accesses, W otherwise.
#[inline(always)]
fn mask_bytes(v: u64, bytes: u64) -> u64 {
    if bytes >= 8 {
        v
    } else {
        v & ((1u64 << (bytes * 8)) - 1)
    }
}

/// Load/store exclusive, load-acquire/store-release, CAS and CASP:
/// size 001000 o2 L o1 Rs o0 Rt2 Rn Rt.
fn exclusive_class(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if w & 0x3f00_0000 != 0x0800_0000 {
        return Err(super::undefined(d));
    }
    let size = w >> 30;
    let o2 = (w >> 23) & 1;
    let l = (w >> 22) & 1 == 1;
    let o1 = (w >> 21) & 1;
    let o0 = (w >> 15) & 1;
    let (s, t, t2, n) = (f_rm(w), f_rt(w), f_rt2(w), f_rn(w));
    match (o2, o1) {
        (0, 0) => {
            let bytes = 1u64 << size;
            if l {
                ldxr(m, n, t, None, bytes)
            } else {
                stxr(m, s, n, t, None, bytes)
            }
        }
        (0, 1) if size >= 2 => {
            let bytes = 1u64 << (size & 1 | 2);
            if l {
                ldxr(m, n, t, Some(t2), bytes)
            } else {
                stxr(m, s, n, t, Some(t2), bytes)
            }
        }
        (0, 1) => {
            if t2 != 31 || s & 1 == 1 || t & 1 == 1 {
                return Err(super::undefined(d));
            }
            casp(m, s, n, t, 4 << size)
        }
        (1, 0) => {
            // o0 = 0 is LDLAR/STLLR (FEAT_LOR), which deja does not implement.
            if o0 == 0 {
                return Err(super::undefined(d));
            }
            let bytes = 1u64 << size;
            let a = aligned_base(m, n, bytes)?;
            if l {
                let v = m.mem.read_sized(a, bytes as u32)?;
                set_x(m, t, v);
            } else {
                m.mem.write_sized(a, bytes as u32, xr(m, t))?;
            }
            Ok(())
        }
        _ => {
            if t2 != 31 {
                return Err(super::undefined(d));
            }
            cas(m, s, n, t, 1 << size)
        }
    }
}

/// LDXR/LDAXR (`t2 == None`) and LDXP/LDAXP: `bytes` per register.
fn ldxr(m: &mut M, n: u32, t: u32, t2: Option<u32>, bytes: u64) -> Res {
    let total = if t2.is_some() { 2 * bytes } else { bytes };
    let a = aligned_base(m, n, total)?;
    match t2 {
        None => {
            let v = m.mem.read_sized(a, bytes as u32)?;
            set_x(m, t, v);
        }
        Some(t2) => {
            let (lo, hi) = if bytes == 8 {
                let p = m.mem.read_u128(a)?;
                (p as u64, (p >> 64) as u64)
            } else {
                let p = m.mem.read_u64(a)?;
                (p as u32 as u64, p >> 32)
            };
            set_x(m, t, lo);
            set_x(m, t2, hi);
        }
    }
    m.cpu.excl_addr = a;
    m.cpu.excl_size = total;
    Ok(())
}

/// STXR/STLXR (`t2 == None`) and STXP/STLXP: status into W[s].
fn stxr(m: &mut M, s: u32, n: u32, t: u32, t2: Option<u32>, bytes: u64) -> Res {
    let total = if t2.is_some() { 2 * bytes } else { bytes };
    let a = aligned_base(m, n, total)?;
    let pass = m.cpu.excl_size == total && m.cpu.excl_addr == a;
    if pass {
        let lo = xr(m, t);
        match t2 {
            None => m.mem.write_sized(a, bytes as u32, lo)?,
            Some(t2) => {
                let hi = xr(m, t2);
                if bytes == 8 {
                    m.mem.write_u128(a, (lo as u128) | ((hi as u128) << 64))?
                } else {
                    m.mem.write_u64(a, (lo as u32 as u64) | ((hi as u32 as u64) << 32))?
                }
            }
        }
    }
    m.cpu.excl_size = 0;
    set_x(m, s, (!pass) as u64);
    Ok(())
}

/// CAS/CASA/CASL/CASAL (+B/H): compare X[s] with memory, store X[t] if equal; X[s] = old.
fn cas(m: &mut M, s: u32, n: u32, t: u32, bytes: u64) -> Res {
    let a = aligned_base(m, n, bytes)?;
    let old = m.mem.read_sized(a, bytes as u32)?;
    let cmp = mask_bytes(xr(m, s), bytes);
    let new = if old == cmp { xr(m, t) } else { old };
    m.mem.write_sized(a, bytes as u32, new)?;
    set_x(m, s, old);
    Ok(())
}

/// CASP/CASPA/CASPL/CASPAL: pairs of `bytes`-byte registers (s, s+1) and (t, t+1); the first
/// register of each pair holds the lower-addressed half.
fn casp(m: &mut M, s: u32, n: u32, t: u32, bytes: u64) -> Res {
    let a = aligned_base(m, n, 2 * bytes)?;
    if bytes == 8 {
        let old = m.mem.read_u128(a)?;
        let cmp = (xr(m, s) as u128) | ((xr(m, s + 1) as u128) << 64);
        let new = if old == cmp { (xr(m, t) as u128) | ((xr(m, t + 1) as u128) << 64) } else { old };
        m.mem.write_u128(a, new)?;
        set_x(m, s, old as u64);
        set_x(m, s + 1, (old >> 64) as u64);
    } else {
        let old = m.mem.read_u64(a)?;
        let cmp = (xr(m, s) as u32 as u64) | ((xr(m, s + 1) as u32 as u64) << 32);
        let new = if old == cmp { (xr(m, t) as u32 as u64) | ((xr(m, t + 1) as u32 as u64) << 32) } else { old };
        m.mem.write_u64(a, new)?;
        set_x(m, s, old as u32 as u64);
        set_x(m, s + 1, old >> 32);
    }
    Ok(())
}

/// Atomic memory operations and LDAPR: size 111 V 00 A R 1 Rs o3 opc 00 Rn Rt.
fn atomic_class(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if w & 0x3f20_0c00 != 0x3820_0000 {
        return Err(super::undefined(d));
    }
    let bytes = 1u64 << (w >> 30);
    let bits = bytes as u32 * 8;
    let a_bit = (w >> 23) & 1;
    let r_bit = (w >> 22) & 1;
    let o3 = (w >> 15) & 1;
    let opc = (w >> 12) & 7;
    let (s, t, n) = (f_rm(w), f_rt(w), f_rn(w));
    if o3 == 1 && opc == 4 {
        // LDAPR (+B/H): A = 1, R = 0, Rs = 11111.
        if a_bit != 1 || r_bit != 0 || s != 31 {
            return Err(super::undefined(d));
        }
        let a = aligned_base(m, n, bytes)?;
        let v = m.mem.read_sized(a, bytes as u32)?;
        set_x(m, t, v);
        return Ok(());
    }
    if o3 == 1 && opc != 0 {
        return Err(super::undefined(d));
    }
    let a = aligned_base(m, n, bytes)?;
    let old = m.mem.read_sized(a, bytes as u32)?;
    let val = mask_bytes(xr(m, s), bytes);
    let new = if o3 == 1 {
        val // SWP
    } else {
        match opc {
            0 => old.wrapping_add(val),
            1 => old & !val,
            2 => old ^ val,
            3 => old | val,
            4 => {
                if (sext(old, bits) as i64) >= (sext(val, bits) as i64) {
                    old
                } else {
                    val
                }
            }
            5 => {
                if (sext(old, bits) as i64) <= (sext(val, bits) as i64) {
                    old
                } else {
                    val
                }
            }
            6 => old.max(val),
            _ => old.min(val),
        }
    };
    m.mem.write_sized(a, bytes as u32, new)?;
    set_x(m, t, old);
    Ok(())
}

/// LDAPUR*/STLUR* (FEAT_LRCPC2): size 011001 opc 0 imm9 00 Rn Rt.
fn rcpc_unscaled(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if w & 0x3f20_0c00 != 0x1900_0000 {
        return Err(super::undefined(d));
    }
    let size = w >> 30;
    let bytes = 1u64 << size;
    let opc = (w >> 22) & 3;
    // (store, signed, 64-bit destination)
    let (store, signed, x) = match (opc, size) {
        (0, _) => (true, false, false),
        (1, _) => (false, false, size == 3),
        (2, 0..=2) => (false, true, true),
        (3, 0 | 1) => (false, true, false),
        _ => return Err(super::undefined(d)),
    };
    let (t, n) = (f_rt(w), f_rn(w));
    let imm = sext(((w >> 12) & 0x1ff) as u64, 9);
    let a = tbi(base(m, n)?.wrapping_add(imm));
    if a & (bytes - 1) != 0 {
        return Err(super::alignment_fault(a));
    }
    if store {
        m.mem.write_sized(a, bytes as u32, xr(m, t))?;
    } else {
        let mut v = m.mem.read_sized(a, bytes as u32)?;
        if signed {
            v = sext(v, bytes as u32 * 8);
        }
        set_x(m, t, if x { v } else { v as u32 as u64 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::loadstore::tests::{assert_no_effect, machine, run, segv, sig_of, sigbus_adraln, DATA};
    use crate::engine::Exit;
    use crate::mem::flags;

    const LDXR: u32 = 0xc85f_7c20; // ldxr x0, [x1]
    const STXR_X: u32 = 0xc802_7c23; // stxr w2, x3, [x1]
    const STXR_W: u32 = 0x8802_7c23; // stxr w2, w3, [x1]
    const STR: u32 = 0xf900_0025; // str x5, [x1]
    const CLREX: u32 = 0xd503_3f5f;

    /// The monitor policy: set by an exclusive load, cleared by every exclusive store and
    /// CLREX, matched on address and size; ordinary stores leave it alone.
    #[test]
    fn exclusive_monitor_policy() {
        let mut m = machine();
        m.cpu.x[1] = DATA + 0x10;
        m.cpu.x[3] = 0x3333;
        m.cpu.x[5] = 0x5555;
        assert_eq!(run(&mut m, &[LDXR, STR, STXR_X]), Exit::Budget);
        assert_eq!(m.cpu.x[2], 0);
        assert_eq!(m.mem.read_u64(DATA + 0x10).unwrap(), 0x3333);
        // The monitor is clear now: a second store-exclusive fails and writes nothing.
        m.cpu.x[3] = 0x4444;
        assert_eq!(run(&mut m, &[STXR_X]), Exit::Budget);
        assert_eq!(m.cpu.x[2], 1);
        assert_eq!(m.mem.read_u64(DATA + 0x10).unwrap(), 0x3333);
        // Size mismatch fails; CLREX clears.
        assert_eq!(run(&mut m, &[LDXR, STXR_W]), Exit::Budget);
        assert_eq!(m.cpu.x[2], 1);
        assert_eq!(run(&mut m, &[LDXR, CLREX, STXR_X]), Exit::Budget);
        assert_eq!(m.cpu.x[2], 1);
        assert_eq!(m.mem.read_u64(DATA + 0x10).unwrap(), 0x3333);
        // A failing store-exclusive does not access memory: no fault on an unmapped address.
        m.cpu.x[1] = 0x40_0000;
        assert_eq!(run(&mut m, &[STXR_X]), Exit::Budget);
        assert_eq!(m.cpu.x[2], 1);
        // Pairs: ldxp x4, x5, [x1]; stxp w6, x7, x8, [x1].
        m.cpu.x[1] = DATA + 0x20;
        m.cpu.x[7] = 7;
        m.cpu.x[8] = 8;
        assert_eq!(run(&mut m, &[0xc87f_1424, 0xc826_2027]), Exit::Budget);
        assert_eq!(m.cpu.x[6], 0);
        assert_eq!(m.mem.read_u128(DATA + 0x20).unwrap(), 7 | (8 << 64));
    }

    /// Alignment is checked before the monitor (Arm ARM ExclusiveMonitorsPass; qemu 7.2
    /// checks the monitor first), and LDAPR needs alignment without FEAT_LSE2 (qemu 7.2 does
    /// not check it).
    #[test]
    fn misaligned_ordered_and_exclusive_accesses() {
        let mut m = machine();
        for (word, addr) in [(STXR_X, DATA + 4), (LDXR, DATA + 1), (0xf8bf_c020, DATA + 8 + 2), (0xc87f_1424, DATA + 8)]
        {
            m.cpu.x[1] = addr;
            m.cpu.pc = super::super::loadstore::tests::CODE;
            let before = m.cpu;
            let e = run(&mut m, &[word]);
            assert_no_effect(&m, &before, &e, sigbus_adraln(addr));
        }
    }

    /// CAS checks write permission even when the compare fails; nothing changes on a fault.
    #[test]
    fn cas_on_read_only_memory_faults() {
        let mut m = machine();
        assert!(m.mem.map(DATA + 0x2000, 0x1000, flags::R));
        m.cpu.x[1] = DATA + 0x2000;
        m.cpu.x[4] = 1; // compare value differs from memory (0)
        m.cpu.pc = super::super::loadstore::tests::CODE;
        let before = m.cpu;
        let e = run(&mut m, &[0x88a4_fc25]); // casl w4, w5, [x1]
        assert_no_effect(&m, &before, &e, segv(DATA + 0x2000, true));
        assert_eq!(sig_of(&e).map(|s| s.1), Some(crate::engine::sig::SEGV_ACCERR));
    }
}
