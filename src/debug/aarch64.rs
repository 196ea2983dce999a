//! AArch64 for the debugger: the register file gdb sees (`org.gnu.gdb.aarch64.core`,
//! `.fpu` and `.tls`: x0–x30, sp, pc, cpsr, v0–v31, fpsr, fpcr, tpidr), how it maps onto
//! `A64State`, and which memory an instruction touches (for watchpoints).
//!
//! gdbstub_arch 0.3's `AArch64` is not used: it has no `tpidr` (so gdb could not find
//! thread-local variables), it advertises some 900 EL1/EL2 system registers an EL0 replay has
//! no values for, and its `g` packet puts fpcr before fpsr while its target description (like
//! gdb's) numbers fpsr 66 and fpcr 67. This file has its own `Arch` with gdb's own layout
//! (gdb/features/aarch64-core.xml, aarch64-fpu.xml, aarch64-tls.xml).
//!
//! gdb treats AArch64 watchpoints as *non-steppable* (`have_nonsteppable_watchpoint`: the
//! hardware reports the access before the instruction executes, and gdb steps over it
//! itself), so `DebugArch::WATCH_BEFORE` is set: see `reverse.rs`.

use super::{DebugArch, MemAccess};
use crate::isa::aarch64::table::TABLE;
use crate::isa::aarch64::A64State;
use crate::linux::arch_aarch64::Aarch64;
use crate::mem::Memory;
use deja_decoders::aarch64::decode_word;
use gdbstub::arch::{RegId, Registers};
use std::num::NonZeroUsize;

/// The gdbstub architecture of an AArch64 Linux guest.
pub enum GdbAarch64 {}

/// The register file in gdb's order (register numbers): x0–x30 (0–30), sp (31), pc (32),
/// cpsr (33, 32 bits), v0–v31 (34–65, 128 bits), fpsr (66), fpcr (67) (32 bits each),
/// tpidr (68).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Regs {
    pub x: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub cpsr: u32,
    pub v: [u128; 32],
    pub fpsr: u32,
    pub fpcr: u32,
    pub tpidr: u64,
}

/// Size in bytes of the `g` packet's register block.
const G_BYTES: usize = 33 * 8 + 4 + 32 * 16 + 4 + 4 + 8;

impl Registers for Regs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.pc
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        let mut put = |b: &[u8]| b.iter().for_each(|&b| write_byte(Some(b)));
        for r in &self.x {
            put(&r.to_le_bytes());
        }
        put(&self.sp.to_le_bytes());
        put(&self.pc.to_le_bytes());
        put(&self.cpsr.to_le_bytes());
        for v in &self.v {
            put(&v.to_le_bytes());
        }
        put(&self.fpsr.to_le_bytes());
        put(&self.fpcr.to_le_bytes());
        put(&self.tpidr.to_le_bytes());
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        // Writes are refused before they get here (see `SingleThreadBase::write_registers`);
        // parse anyway so the type is complete.
        if bytes.len() < G_BYTES {
            return Err(());
        }
        let mut at = 0;
        let mut take = |n: usize| {
            let mut b = [0u8; 16];
            b[..n].copy_from_slice(&bytes[at..at + n]);
            at += n;
            u128::from_le_bytes(b)
        };
        for r in &mut self.x {
            *r = take(8) as u64;
        }
        self.sp = take(8) as u64;
        self.pc = take(8) as u64;
        self.cpsr = take(4) as u32;
        for v in &mut self.v {
            *v = take(16);
        }
        self.fpsr = take(4) as u32;
        self.fpcr = take(4) as u32;
        self.tpidr = take(8) as u64;
        Ok(())
    }
}

/// Register numbers of the target description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegIdA64 {
    X(u8),
    Sp,
    Pc,
    Cpsr,
    V(u8),
    Fpsr,
    Fpcr,
    Tpidr,
}

impl RegId for RegIdA64 {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let (r, size) = match id {
            0..=30 => (RegIdA64::X(id as u8), 8),
            31 => (RegIdA64::Sp, 8),
            32 => (RegIdA64::Pc, 8),
            33 => (RegIdA64::Cpsr, 4),
            34..=65 => (RegIdA64::V((id - 34) as u8), 16),
            66 => (RegIdA64::Fpsr, 4),
            67 => (RegIdA64::Fpcr, 4),
            68 => (RegIdA64::Tpidr, 8),
            _ => return None,
        };
        Some((r, NonZeroUsize::new(size)))
    }
}

impl gdbstub::arch::Arch for GdbAarch64 {
    type Usize = u64;
    type Registers = Regs;
    type RegId = RegIdA64;
    type BreakpointKind = usize;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// The AArch64 GNU/Linux target description: gdb's features/aarch64-core.xml,
/// aarch64-fpu.xml and aarch64-tls.xml, inlined (regnums as gdb numbers them).
const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>aarch64</architecture>
<osabi>GNU/Linux</osabi>
<feature name="org.gnu.gdb.aarch64.core">
  <reg name="x0" bitsize="64" regnum="0"/>
  <reg name="x1" bitsize="64"/>
  <reg name="x2" bitsize="64"/>
  <reg name="x3" bitsize="64"/>
  <reg name="x4" bitsize="64"/>
  <reg name="x5" bitsize="64"/>
  <reg name="x6" bitsize="64"/>
  <reg name="x7" bitsize="64"/>
  <reg name="x8" bitsize="64"/>
  <reg name="x9" bitsize="64"/>
  <reg name="x10" bitsize="64"/>
  <reg name="x11" bitsize="64"/>
  <reg name="x12" bitsize="64"/>
  <reg name="x13" bitsize="64"/>
  <reg name="x14" bitsize="64"/>
  <reg name="x15" bitsize="64"/>
  <reg name="x16" bitsize="64"/>
  <reg name="x17" bitsize="64"/>
  <reg name="x18" bitsize="64"/>
  <reg name="x19" bitsize="64"/>
  <reg name="x20" bitsize="64"/>
  <reg name="x21" bitsize="64"/>
  <reg name="x22" bitsize="64"/>
  <reg name="x23" bitsize="64"/>
  <reg name="x24" bitsize="64"/>
  <reg name="x25" bitsize="64"/>
  <reg name="x26" bitsize="64"/>
  <reg name="x27" bitsize="64"/>
  <reg name="x28" bitsize="64"/>
  <reg name="x29" bitsize="64"/>
  <reg name="x30" bitsize="64"/>
  <reg name="sp" bitsize="64" type="data_ptr"/>
  <reg name="pc" bitsize="64" type="code_ptr"/>
  <flags id="cpsr_flags" size="4">
    <field name="SP" start="0" end="0"/>
    <field name="EL" start="2" end="3"/>
    <field name="nRW" start="4" end="4"/>
    <field name="F" start="6" end="6"/>
    <field name="I" start="7" end="7"/>
    <field name="A" start="8" end="8"/>
    <field name="D" start="9" end="9"/>
    <field name="BTYPE" start="10" end="11"/>
    <field name="SSBS" start="12" end="12"/>
    <field name="IL" start="20" end="20"/>
    <field name="SS" start="21" end="21"/>
    <field name="PAN" start="22" end="22"/>
    <field name="UAO" start="23" end="23"/>
    <field name="DIT" start="24" end="24"/>
    <field name="TCO" start="25" end="25"/>
    <field name="V" start="28" end="28"/>
    <field name="C" start="29" end="29"/>
    <field name="Z" start="30" end="30"/>
    <field name="N" start="31" end="31"/>
  </flags>
  <reg name="cpsr" bitsize="32" type="cpsr_flags"/>
</feature>
<feature name="org.gnu.gdb.aarch64.fpu">
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v2u" type="uint64" count="2"/>
  <vector id="v2i" type="int64" count="2"/>
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v4u" type="uint32" count="4"/>
  <vector id="v4i" type="int32" count="4"/>
  <vector id="v8f" type="ieee_half" count="8"/>
  <vector id="v8u" type="uint16" count="8"/>
  <vector id="v8i" type="int16" count="8"/>
  <vector id="v8bf16" type="bfloat16" count="8"/>
  <vector id="v16u" type="uint8" count="16"/>
  <vector id="v16i" type="int8" count="16"/>
  <vector id="v1u" type="uint128" count="1"/>
  <vector id="v1i" type="int128" count="1"/>
  <union id="vnd">
    <field name="f" type="v2d"/>
    <field name="u" type="v2u"/>
    <field name="s" type="v2i"/>
  </union>
  <union id="vns">
    <field name="f" type="v4f"/>
    <field name="u" type="v4u"/>
    <field name="s" type="v4i"/>
  </union>
  <union id="vnh">
    <field name="bf" type="v8bf16"/>
    <field name="f" type="v8f"/>
    <field name="u" type="v8u"/>
    <field name="s" type="v8i"/>
  </union>
  <union id="vnb">
    <field name="u" type="v16u"/>
    <field name="s" type="v16i"/>
  </union>
  <union id="vnq">
    <field name="u" type="v1u"/>
    <field name="s" type="v1i"/>
  </union>
  <union id="aarch64v">
    <field name="d" type="vnd"/>
    <field name="s" type="vns"/>
    <field name="h" type="vnh"/>
    <field name="b" type="vnb"/>
    <field name="q" type="vnq"/>
  </union>
  <reg name="v0" bitsize="128" type="aarch64v" regnum="34"/>
  <reg name="v1" bitsize="128" type="aarch64v"/>
  <reg name="v2" bitsize="128" type="aarch64v"/>
  <reg name="v3" bitsize="128" type="aarch64v"/>
  <reg name="v4" bitsize="128" type="aarch64v"/>
  <reg name="v5" bitsize="128" type="aarch64v"/>
  <reg name="v6" bitsize="128" type="aarch64v"/>
  <reg name="v7" bitsize="128" type="aarch64v"/>
  <reg name="v8" bitsize="128" type="aarch64v"/>
  <reg name="v9" bitsize="128" type="aarch64v"/>
  <reg name="v10" bitsize="128" type="aarch64v"/>
  <reg name="v11" bitsize="128" type="aarch64v"/>
  <reg name="v12" bitsize="128" type="aarch64v"/>
  <reg name="v13" bitsize="128" type="aarch64v"/>
  <reg name="v14" bitsize="128" type="aarch64v"/>
  <reg name="v15" bitsize="128" type="aarch64v"/>
  <reg name="v16" bitsize="128" type="aarch64v"/>
  <reg name="v17" bitsize="128" type="aarch64v"/>
  <reg name="v18" bitsize="128" type="aarch64v"/>
  <reg name="v19" bitsize="128" type="aarch64v"/>
  <reg name="v20" bitsize="128" type="aarch64v"/>
  <reg name="v21" bitsize="128" type="aarch64v"/>
  <reg name="v22" bitsize="128" type="aarch64v"/>
  <reg name="v23" bitsize="128" type="aarch64v"/>
  <reg name="v24" bitsize="128" type="aarch64v"/>
  <reg name="v25" bitsize="128" type="aarch64v"/>
  <reg name="v26" bitsize="128" type="aarch64v"/>
  <reg name="v27" bitsize="128" type="aarch64v"/>
  <reg name="v28" bitsize="128" type="aarch64v"/>
  <reg name="v29" bitsize="128" type="aarch64v"/>
  <reg name="v30" bitsize="128" type="aarch64v"/>
  <reg name="v31" bitsize="128" type="aarch64v"/>
  <flags id="fpsr_flags" size="4">
    <field name="IOC" start="0" end="0"/>
    <field name="DZC" start="1" end="1"/>
    <field name="OFC" start="2" end="2"/>
    <field name="UFC" start="3" end="3"/>
    <field name="IXC" start="4" end="4"/>
    <field name="IDC" start="7" end="7"/>
    <field name="QC" start="27" end="27"/>
    <field name="V" start="28" end="28"/>
    <field name="C" start="29" end="29"/>
    <field name="Z" start="30" end="30"/>
    <field name="N" start="31" end="31"/>
  </flags>
  <reg name="fpsr" bitsize="32" type="fpsr_flags" regnum="66"/>
  <flags id="fpcr_flags" size="4">
    <field name="FIZ" start="0" end="0"/>
    <field name="AH" start="1" end="1"/>
    <field name="NEP" start="2" end="2"/>
    <field name="IOE" start="8" end="8"/>
    <field name="DZE" start="9" end="9"/>
    <field name="OFE" start="10" end="10"/>
    <field name="UFE" start="11" end="11"/>
    <field name="IXE" start="12" end="12"/>
    <field name="IDE" start="15" end="15"/>
    <field name="FZ16" start="19" end="19"/>
    <field name="RMode" start="22" end="23"/>
    <field name="FZ" start="24" end="24"/>
    <field name="DN" start="25" end="25"/>
    <field name="AHP" start="26" end="26"/>
  </flags>
  <reg name="fpcr" bitsize="32" type="fpcr_flags" regnum="67"/>
</feature>
<feature name="org.gnu.gdb.aarch64.tls">
  <reg name="tpidr" bitsize="64" type="data_ptr" regnum="68"/>
</feature>
</target>
"#;

/// The register file as gdb sees it. cpsr is PSTATE as EL0 code sees it: NZCV, everything
/// else (EL0, SP_EL0, interrupts unmasked) zero.
pub fn regs_of(c: &A64State) -> Regs {
    Regs {
        x: c.x,
        sp: c.sp,
        pc: c.pc,
        cpsr: (c.nzcv & crate::isa::aarch64::state::nzcv::MASK) as u32,
        v: c.v,
        fpsr: c.fpsr as u32,
        fpcr: c.fpcr as u32,
        tpidr: c.tpidr,
    }
}

/// Bytes of one register, in gdb's encoding (little-endian), into `buf`; returns how many.
pub fn reg_bytes(c: &A64State, id: RegIdA64, buf: &mut [u8]) -> usize {
    let r = regs_of(c);
    let mut put = |b: &[u8]| {
        let n = b.len().min(buf.len());
        buf[..n].copy_from_slice(&b[..n]);
        n
    };
    match id {
        RegIdA64::X(i) => r.x.get(i as usize).map_or(0, |v| put(&v.to_le_bytes())),
        RegIdA64::Sp => put(&r.sp.to_le_bytes()),
        RegIdA64::Pc => put(&r.pc.to_le_bytes()),
        RegIdA64::Cpsr => put(&r.cpsr.to_le_bytes()),
        RegIdA64::V(i) => r.v.get(i as usize).map_or(0, |v| put(&v.to_le_bytes())),
        RegIdA64::Fpsr => put(&r.fpsr.to_le_bytes()),
        RegIdA64::Fpcr => put(&r.fpcr.to_le_bytes()),
        RegIdA64::Tpidr => put(&r.tpidr.to_le_bytes()),
    }
}

// ---- memory accesses, for watchpoints ----
//
// The fields come from the instruction word exactly as the interpreter's handlers decode
// them (src/isa/aarch64/{loadstore,loadstore_simd,atomic,system}.rs), so the range is the one
// the handler reads or writes: register 31 is SP as a base, addresses are untagged (top byte
// ignored), a post-indexed access uses the base before the writeback. An access the handler
// would refuse with a fault (SP or an exclusive/atomic address misaligned) touches nothing,
// and neither does an exclusive store whose monitor does not match (it fails without access).

/// DC ZVA block size in bytes (DCZID_EL0.BS = 4).
const ZVA_BYTES: u64 = crate::isa::aarch64::system::ZVA_BYTES;

#[inline]
fn tbi(a: u64) -> u64 {
    a & ((1 << 56) - 1)
}

fn sext(v: u64, bits: u32) -> u64 {
    let s = 64 - bits;
    (((v << s) as i64) >> s) as u64
}

/// X[n] with 31 = XZR.
fn xr(c: &A64State, n: u32) -> u64 {
    if n < 31 {
        c.x[n as usize]
    } else {
        0
    }
}

/// The base register X[n] with 31 = SP; None if SP is not 16-byte aligned (the access
/// faults: Linux enables the EL0 stack alignment check).
fn base(c: &A64State, n: u32) -> Option<u64> {
    match n {
        0..=30 => Some(c.x[n as usize]),
        _ if c.sp & 15 == 0 => Some(c.sp),
        _ => None,
    }
}

fn acc(addr: u64, len: u64, read: bool, write: bool) -> Option<MemAccess> {
    Some(MemAccess { addr: tbi(addr), len, read, write })
}

/// An access that must be naturally aligned to `align` bytes (ordered, exclusive, atomic).
fn aligned(addr: u64, align: u64, len: u64, read: bool, write: bool) -> Option<MemAccess> {
    if tbi(addr) & (align - 1) != 0 {
        return None;
    }
    acc(addr, len, read, write)
}

/// size:V:opc of the single-register classes: (is a load, log2 bytes), None for PRFM/PRFUM
/// and unallocated combinations.
fn single_kind(size: u32, v: bool, opc: u32) -> Option<(bool, u32)> {
    match (v, opc, size) {
        (false, 0, _) => Some((false, size)),
        (false, 1, _) => Some((true, size)),
        (false, 2, 3) => None, // PRFM
        (false, 2, _) | (false, 3, 0 | 1) => Some((true, size)),
        (true, 0, _) => Some((false, size)),
        (true, 1, _) => Some((true, size)),
        (true, 2, 0) => Some((false, 4)),
        (true, 3, 0) => Some((true, 4)),
        _ => None,
    }
}

/// The memory access of the instruction `w` at `pc` in state `c`, if it has one.
pub fn access_of(c: &A64State, pc: u64, w: u32) -> Option<MemAccess> {
    let ins = decode_word(w)?;
    if !TABLE.is_implemented_ins(&ins) {
        return None;
    }
    let (t, n, m) = (w & 31, (w >> 5) & 31, (w >> 16) & 31);
    let size = w >> 30;
    let v = (w >> 26) & 1 == 1;
    let opc = (w >> 22) & 3;
    let load = (w >> 22) & 1 == 1;

    // DC ZVA, Xt: the naturally aligned block holding X[t].
    if w & 0xffff_ffe0 == 0xd50b_7420 {
        return acc(tbi(xr(c, t)) & !(ZVA_BYTES - 1), ZVA_BYTES, false, true);
    }
    // Advanced SIMD structures: 0 Q 00110 single post L R Rm opcode S size Rn Rt.
    if w >> 31 == 0 && (w >> 25) & 0x1f == 0b00110 {
        let q = (w >> 30) & 1;
        let sz = (w >> 10) & 3;
        let total = if (w >> 24) & 1 == 0 {
            let regs = match (w >> 12) & 15 {
                0b0000 | 0b0010 => 4,
                0b0100 | 0b0110 => 3,
                0b0111 => 1,
                0b1000 | 0b1010 => 2,
                _ => return None,
            };
            regs * (8u64 << q)
        } else {
            let opcode = (w >> 13) & 7;
            let selem = ((((opcode & 1) << 1) | ((w >> 21) & 1)) + 1) as u64;
            let scale = match opcode >> 1 {
                3 => sz,
                0 => 0,
                1 => 1,
                _ if sz & 1 == 0 => 2,
                _ => 3,
            };
            selem << scale
        };
        return acc(base(c, n)?, total, load, !load);
    }
    // Exclusive, ordered, compare-and-swap: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt.
    if w & 0x3f00_0000 == 0x0800_0000 {
        let (o2, o1) = ((w >> 23) & 1, (w >> 21) & 1);
        let b = base(c, n)?;
        return match (o2, o1) {
            // LDXR/STXR and the pairs LDXP/STXP.
            (0, _) if o1 == 0 || size >= 2 => {
                let total = if o1 == 0 { 1u64 << size } else { 2u64 << (size & 1 | 2) };
                let a = tbi(b);
                // An exclusive store whose monitor fails accesses no memory.
                let pass = c.excl_size == total && c.excl_addr == a;
                match load {
                    true => aligned(b, total, total, true, false),
                    false if pass => aligned(b, total, total, false, true),
                    false => None,
                }
            }
            // CASP: two registers of 4 << size bytes.
            (0, _) => aligned(b, 8 << size, 8 << size, true, true),
            // LDAR/STLR.
            (1, 0) => aligned(b, 1 << size, 1 << size, load, !load),
            // CAS: the old value is written back when the compare fails.
            _ => aligned(b, 1 << size, 1 << size, true, true),
        };
    }
    // LDAPUR/STLUR: size 011001 opc 0 imm9 00 Rn Rt.
    if w & 0x3f20_0c00 == 0x1900_0000 {
        let a = base(c, n)?.wrapping_add(sext(((w >> 12) & 0x1ff) as u64, 9));
        return aligned(a, 1 << size, 1 << size, opc != 0, opc == 0);
    }
    // Load register (literal): opc 011 V 00 imm19 Rt.
    if w & 0x3b00_0000 == 0x1800_0000 {
        let bytes = match (v, size) {
            (false, 0 | 2) | (true, 0) => 4,
            (false, 1) | (true, 1) => 8,
            (true, 2) => 16,
            _ => return None, // PRFM (literal)
        };
        let off = sext(((w >> 5) & 0x7ffff) as u64, 19) << 2;
        return acc(pc.wrapping_add(off), bytes, true, false);
    }
    // Pairs: opc 101 V 0 idx L imm7 Rt2 Rn Rt.
    if w & 0x3a00_0000 == 0x2800_0000 {
        let idx = (w >> 23) & 3;
        let scale = match (v, size) {
            (false, 0) | (true, 0) => 2,
            (false, 2) | (true, 1) => 3,
            (false, 1) if load && idx != 0 => 2, // LDPSW
            (true, 2) => 4,
            _ => return None,
        };
        let b = base(c, n)?;
        let off = sext(((w >> 15) & 0x7f) as u64, 7) << scale;
        let a = if idx == 1 { b } else { b.wrapping_add(off) };
        return acc(a, 2 << scale, load, !load);
    }
    // Atomic memory operations (LDADD…, SWP, LDAPR): size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt.
    if w & 0x3f20_0c00 == 0x3820_0000 {
        let ldapr = (w >> 15) & 1 == 1 && (w >> 12) & 7 == 4;
        return aligned(base(c, n)?, 1 << size, 1 << size, true, !ldapr);
    }
    // Single register, unsigned offset: size 111 V 01 opc imm12 Rn Rt.
    if w & 0x3b00_0000 == 0x3900_0000 {
        let (ld, scale) = single_kind(size, v, opc)?;
        let a = base(c, n)?.wrapping_add((((w >> 10) & 0xfff) as u64) << scale);
        return acc(a, 1 << scale, ld, !ld);
    }
    // Single register, imm9 (unscaled, post-index, unprivileged, pre-index):
    // size 111 V 00 opc 0 imm9 mode Rn Rt.
    if w & 0x3b20_0000 == 0x3800_0000 {
        let (ld, scale) = single_kind(size, v, opc)?;
        let b = base(c, n)?;
        let a = if (w >> 10) & 3 == 1 { b } else { b.wrapping_add(sext(((w >> 12) & 0x1ff) as u64, 9)) };
        return acc(a, 1 << scale, ld, !ld);
    }
    // Single register, register offset: size 111 V 00 opc 1 Rm option S 10 Rn Rt.
    if w & 0x3b20_0c00 == 0x3820_0800 {
        let option = (w >> 13) & 7;
        if option & 2 == 0 {
            return None;
        }
        let (ld, scale) = single_kind(size, v, opc)?;
        let shift = if (w >> 12) & 1 == 1 { scale } else { 0 };
        let rm = xr(c, m);
        let idx = match option {
            2 => rm as u32 as u64,
            6 => rm as u32 as i32 as i64 as u64,
            _ => rm,
        } << shift;
        return acc(base(c, n)?.wrapping_add(idx), 1 << scale, ld, !ld);
    }
    None
}

/// The memory the instruction at the pc reads and writes (for watchpoints).
pub fn accesses(mem: &Memory, c: &A64State, out: &mut Vec<MemAccess>) {
    out.clear();
    let mut b = [0u8; 4];
    if mem.fetch(c.pc, &mut b) < 4 {
        return;
    }
    out.extend(access_of(c, c.pc, u32::from_le_bytes(b)));
}

impl DebugArch for Aarch64 {
    type Gdb = GdbAarch64;
    const GDB: &'static str = "gdb-multiarch";
    const WATCH_BEFORE: bool = true;

    fn gdb_regs(c: &A64State) -> Regs {
        regs_of(c)
    }

    fn gdb_reg(c: &A64State, id: RegIdA64, buf: &mut [u8]) -> usize {
        reg_bytes(c, id, buf)
    }

    fn mem_accesses(mem: &Memory, c: &A64State, out: &mut Vec<MemAccess>) {
        accesses(mem, c, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Exit;
    use crate::isa::aarch64::loadstore::tests::{machine, run, CODE, DATA};

    #[test]
    fn register_layout() {
        let mut c = A64State::default();
        for i in 0..31 {
            c.x[i] = 0x100 + i as u64;
        }
        c.sp = 0x7ff0;
        c.pc = 0x400000;
        c.nzcv = 0x6000_0000;
        c.v[0] = 0x3ff0_0000_0000_0000;
        c.v[31] = u128::MAX - 1;
        c.fpsr = 0x10;
        c.fpcr = 0xc0_0000;
        c.tpidr = 0x49_8740;
        let r = regs_of(&c);
        let mut bytes = Vec::new();
        r.gdb_serialize(|b| bytes.push(b.unwrap_or(0)));
        assert_eq!(bytes.len(), G_BYTES);
        let word = |at: usize, n: usize| {
            let mut b = [0u8; 16];
            b[..n].copy_from_slice(&bytes[at..at + n]);
            u128::from_le_bytes(b)
        };
        assert_eq!(word(30 * 8, 8), 0x100 + 30);
        assert_eq!(word(31 * 8, 8), 0x7ff0);
        assert_eq!(word(32 * 8, 8), 0x400000);
        assert_eq!(word(33 * 8, 4), 0x6000_0000);
        let v0 = 33 * 8 + 4;
        assert_eq!(word(v0, 16), 0x3ff0_0000_0000_0000);
        assert_eq!(word(v0 + 31 * 16, 16), u128::MAX - 1);
        // gdb numbers fpsr 66 and fpcr 67: that order in the `g` packet too.
        assert_eq!(word(v0 + 32 * 16, 4), 0x10);
        assert_eq!(word(v0 + 32 * 16 + 4, 4), 0xc0_0000);
        assert_eq!(word(v0 + 32 * 16 + 8, 8), 0x49_8740);
        let mut back = Regs::default();
        back.gdb_deserialize(&bytes).unwrap();
        assert_eq!(back, r);
        // Single registers (`p` packets) by gdb's numbers, with their sizes.
        let mut buf = [0u8; 16];
        for (id, size, want) in [
            (0, 8, 0x100u128),
            (31, 8, 0x7ff0),
            (32, 8, 0x400000),
            (33, 4, 0x6000_0000),
            (34, 16, 0x3ff0_0000_0000_0000),
            (65, 16, u128::MAX - 1),
            (66, 4, 0x10),
            (67, 4, 0xc0_0000),
            (68, 8, 0x49_8740),
        ] {
            let (reg, n) = RegIdA64::from_raw_id(id).unwrap();
            assert_eq!(n.unwrap().get(), size, "register {id}");
            assert_eq!(reg_bytes(&c, reg, &mut buf), size, "register {id}");
            let mut b = [0u8; 16];
            b[..size].copy_from_slice(&buf[..size]);
            assert_eq!(u128::from_le_bytes(b), want, "register {id}");
        }
        assert!(RegIdA64::from_raw_id(69).is_none());
        // The description names 69 registers, numbered as above.
        assert_eq!(TARGET_XML.matches("<reg ").count(), 69);
        for n in ["regnum=\"34\"", "regnum=\"66\"", "regnum=\"67\"", "regnum=\"68\"", "org.gnu.gdb.aarch64.tls"] {
            assert!(TARGET_XML.contains(n), "{n}");
        }
    }

    // ---- memory accesses against the interpreter ----

    const SPAN: u64 = 0x2000;

    fn byte(seed: u64, a: u64) -> u8 {
        ((a ^ (seed << 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
    }

    /// Registers for the test words: x1 = a base in the data pages, x2 = a small index, SP
    /// aligned in the data pages, every other register (and V register) some pattern.
    fn cpu() -> A64State {
        let mut c = A64State::default();
        for i in 0..31 {
            c.x[i] = 0x0123_4567_89ab_cdefu64.wrapping_mul(i as u64 + 3) ^ 0x5a5a;
        }
        for i in 0..32 {
            c.v[i] = ((c.x[(i + 5) % 31] as u128) << 64) | !c.x[i % 31] as u128;
        }
        c.x[1] = DATA + 0x800;
        c.x[2] = 0x10;
        c.sp = DATA + 0x1000;
        c.pc = CODE;
        c
    }

    /// Run `w` once from `c` with the data pages filled by `fill`: registers and data after.
    fn exec(w: u32, c: &A64State, fill: impl Fn(u64) -> u8) -> (A64State, Vec<u8>) {
        let mut m = machine();
        let data: Vec<u8> = (DATA..DATA + SPAN).map(fill).collect();
        m.mem.poke(DATA, &data).unwrap();
        m.cpu = *c;
        assert_eq!(run(&mut m, &[w]), Exit::Budget, "{w:08x} did not retire");
        let mut after = vec![0; SPAN as usize];
        m.mem.peek(DATA, &mut after).unwrap();
        (m.cpu, after)
    }

    /// The interpreter is the oracle: the instruction's results do not depend on memory
    /// outside the predicted range and it writes nothing there; a predicted read makes the
    /// results depend on the range, a predicted write changes it, no prediction means no
    /// access at all.
    fn check(w: u32, c: &A64State) -> Option<MemAccess> {
        let got = access_of(c, CODE, w);
        let inside = |x: u64| got.is_some_and(|a| x >= a.addr && x < a.addr + a.len);
        let (s1, m1) = exec(w, c, |x| byte(1, x));
        let (s2, m2) = exec(w, c, |x| if inside(x) { byte(1, x) } else { byte(2, x) });
        assert_eq!(s1, s2, "{w:08x} ({got:x?}): results depend on memory outside the range");
        for (i, x) in (DATA..DATA + SPAN).enumerate() {
            if !inside(x) {
                assert_eq!((m1[i], m2[i]), (byte(1, x), byte(2, x)), "{w:08x} ({got:x?}) wrote {x:#x}");
            } else if !got.unwrap().write {
                assert_eq!(m1[i], byte(1, x), "{w:08x} ({got:x?}) wrote {x:#x}");
            }
        }
        if let Some(a) = got {
            assert!(a.len > 0 && a.addr >= DATA && a.addr + a.len <= DATA + SPAN, "{w:08x}: {a:x?}");
            if a.read {
                // (An atomic into XZR shows what it read only in what it writes back.)
                let (s3, m3) = exec(w, c, |x| if inside(x) { byte(3, x) } else { byte(1, x) });
                assert!(s1 != s3 || (a.write && m1 != m3), "{w:08x} ({a:x?}): results do not depend on the bytes read");
            }
            if a.write {
                let off = (a.addr - DATA) as usize;
                let changed = (off..off + a.len as usize).filter(|&i| m1[i] != byte(1, DATA + i as u64)).count();
                assert!(changed > 0, "{w:08x} ({a:x?}): nothing written");
            }
        }
        got
    }

    fn a(addr: u64, len: u64, read: bool, write: bool) -> Option<MemAccess> {
        Some(MemAccess { addr, len, read, write })
    }

    #[test]
    fn accesses_match_the_interpreter() {
        let c = cpu();
        let x1 = DATA + 0x800;
        let sp = DATA + 0x1000;
        let (r, w, rw) = ((true, false), (false, true), (true, true));
        #[rustfmt::skip]
        let cases: &[(u32, &str, Option<MemAccess>)] = &[
            (0xf940_0420, "ldr x0, [x1, #8]", a(x1 + 8, 8, r.0, r.1)),
            (0x3940_0c20, "ldrb w0, [x1, #3]", a(x1 + 3, 1, r.0, r.1)),
            (0x789f_ac20, "ldrsh x0, [x1, #-6]!", a(x1 - 6, 2, r.0, r.1)),
            (0xb81f_c422, "str w2, [x1], #-4", a(x1, 4, w.0, w.1)),
            (0x3ce2_7820, "ldr q0, [x1, x2, lsl #4]", a(x1 + 0x100, 16, r.0, r.1)),
            (0xfc62_d820, "ldr d0, [x1, w2, sxtw #3]", a(x1 + 0x80, 8, r.0, r.1)),
            (0x7822_4820, "strh w0, [x1, w2, uxtw]", a(x1 + 0x10, 2, w.0, w.1)),
            (0xf980_0020, "prfm pldl1keep, [x1]", None),
            (0xa941_0c22, "ldp x2, x3, [x1, #16]", a(x1 + 16, 16, r.0, r.1)),
            (0xadbf_07e0, "stp q0, q1, [sp, #-32]!", a(sp - 32, 32, w.0, w.1)),
            (0x68c1_0c22, "ldpsw x2, x3, [x1], #8", a(x1, 8, r.0, r.1)),
            (0x293f_0c22, "stp w2, w3, [x1, #-8]", a(x1 - 8, 8, w.0, w.1)),
            (0x4cdf_2020, "ld1 {v0.16b-v3.16b}, [x1], #64", a(x1, 64, r.0, r.1)),
            (0x0c00_a020, "st1 {v0.8b, v1.8b}, [x1]", a(x1, 16, w.0, w.1)),
            (0x4cc2_0820, "ld4 {v0.4s-v3.4s}, [x1], x2", a(x1, 64, r.0, r.1)),
            (0x0d00_7820, "st3 {v0.h-v2.h}[3], [x1]", a(x1, 6, w.0, w.1)),
            (0x4ddf_cc20, "ld1r {v0.2d}, [x1], #8", a(x1, 8, r.0, r.1)),
            (0x0dff_9020, "ld2 {v0.s, v1.s}[1], [x1], #8", a(x1, 8, r.0, r.1)),
            (0xc85f_7c20, "ldxr x0, [x1]", a(x1, 8, r.0, r.1)),
            (0xc802_7c23, "stxr w2, x3, [x1] (monitor not set: fails)", None),
            (0x887f_8c20, "ldaxp w0, w3, [x1]", a(x1, 8, r.0, r.1)),
            (0xb822_0023, "ldadd w2, w3, [x1]", a(x1, 4, rw.0, rw.1)),
            (0x7862_103f, "stclrlh w2, [x1]", a(x1, 2, rw.0, rw.1)),
            (0x3822_8023, "swpb w2, w3, [x1]", a(x1, 1, rw.0, rw.1)),
            (0xf8bf_c020, "ldapr x0, [x1]", a(x1, 8, r.0, r.1)),
            (0x88df_fc20, "ldar w0, [x1]", a(x1, 4, r.0, r.1)),
            (0x089f_fc20, "stlrb w0, [x1]", a(x1, 1, w.0, w.1)),
            (0xd95f_8020, "ldapur x0, [x1, #-8]", a(x1 - 8, 8, r.0, r.1)),
            (0x5900_6020, "stlurh w0, [x1, #6]", a(x1 + 6, 2, w.0, w.1)),
            (0xd50b_7421, "dc zva, x1", a(x1, 64, w.0, w.1)),
            (0xbc5f_d020, "ldur s0, [x1, #-3]", a(x1 - 3, 4, r.0, r.1)),
            (0xf800_5820, "sttr x0, [x1, #5]", a(x1 + 5, 8, w.0, w.1)),
            (0x8b02_0020, "add x0, x1, x2", None),
        ];
        for &(word, text, want) in cases {
            assert_eq!(check(word, &c), want, "{word:08x} {text}");
        }
        // An exclusive store whose monitor holds its address and size writes.
        let mut c2 = c;
        c2.excl_addr = x1;
        c2.excl_size = 8;
        assert_eq!(check(0xc802_7c23, &c2), a(x1, 8, false, true), "stxr w2, x3, [x1] (monitor set)");
        c2.excl_size = 16;
        assert_eq!(check(0xc824_8c22, &c2), a(x1, 16, false, true), "stlxp w4, x2, x3, [x1]");
        // CAS/CASP: a read and a write, whether the compare succeeds (checked here, with the
        // compare registers holding the memory's value) or not (the old value is written back).
        let mem = |at: u64| u64::from_le_bytes(std::array::from_fn(|i| byte(1, at + i as u64)));
        assert_eq!(access_of(&c, CODE, 0xc8e2_fc23), a(x1, 8, true, true), "casal x2, x3, [x1]");
        let mut c3 = c;
        c3.x[2] = mem(x1);
        c3.x[3] = mem(x1 + 8);
        assert_eq!(check(0xc8e2_fc23, &c3), a(x1, 8, true, true), "casal x2, x3, [x1]");
        assert_eq!(check(0x4862_fc24, &c3), a(x1, 16, true, true), "caspal x2, x3, x4, x5, [x1]");
    }

    #[test]
    fn accesses_special_cases() {
        let mut c = cpu();
        // PC-relative literals.
        assert_eq!(access_of(&c, 0x40_1000, 0x5800_0080), a(0x40_1010, 8, true, false)); // ldr x0, .+16
        assert_eq!(access_of(&c, 0x40_1000, 0x9cff_ffc1), a(0x40_0ff8, 16, true, false)); // ldr q1, .-8
                                                                                          // A tagged base: the access is untagged.
        c.x[1] = (0x5a << 56) | (DATA + 0x800);
        assert_eq!(access_of(&c, CODE, 0xf940_0420), a(DATA + 0x808, 8, true, false));
        // Faulting accesses touch nothing: misaligned SP base, misaligned exclusive.
        c.sp = DATA + 0x1008;
        assert_eq!(access_of(&c, CODE, 0xadbf_07e0), None); // stp q0, q1, [sp, #-32]!
        c.x[1] = DATA + 0x804;
        assert_eq!(access_of(&c, CODE, 0xc85f_7c20), None); // ldxr x0, [x1]
                                                            // Read through the memory: the instruction at the pc.
        let mut m = machine();
        m.mem.poke(CODE, &0xf940_0420u32.to_le_bytes()).unwrap();
        m.cpu = cpu();
        m.cpu.pc = CODE;
        let mut out = vec![MemAccess { addr: 0, len: 0, read: false, write: false }];
        accesses(&m.mem, &m.cpu, &mut out);
        assert_eq!(out, vec![MemAccess { addr: DATA + 0x808, len: 8, read: true, write: false }]);
        m.cpu.pc = 0x10; // unmapped: nothing
        accesses(&m.mem, &m.cpu, &mut out);
        assert!(out.is_empty());
    }
}
