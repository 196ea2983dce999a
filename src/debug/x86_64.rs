//! x86-64 for the debugger: the register file gdb sees (its `amd64-linux` target
//! description: the core registers with x87, SSE, `orig_rax`, and `fs_base`/`gs_base`), how
//! it maps onto `X86State`, and which memory an instruction touches (for read watchpoints).
//!
//! gdbstub_arch's `X86_64_SSE` lays out the core and SSE registers (`X86_64CoreRegs`) but
//! names no `orig_rax`, `fs_base` or `gs_base`; this file extends it with those and its own
//! target description, so gdb shows `$fs_base` (thread-local storage) and treats the target
//! as GNU/Linux.

use super::{DebugArch, MemAccess};
use crate::isa::x86_64::state::{reg, X87};
use crate::isa::x86_64::X86State;
use crate::linux::arch_x86_64::X86_64;
use crate::mem::Memory;
use gdbstub::arch::{RegId, Registers};
use gdbstub_arch::x86::reg::id::X86_64CoreRegId;
use gdbstub_arch::x86::reg::X86_64CoreRegs;
use iced_x86::{Decoder, DecoderOptions, InstructionInfoFactory, OpAccess, Register};
use std::num::NonZeroUsize;

/// gdb's register order for rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8…r15, as indices into
/// `X86State::gpr` (hardware encoding order).
const GDB_GPR: [usize; 16] =
    [reg::RAX, reg::RBX, reg::RCX, reg::RDX, reg::RSI, reg::RDI, reg::RBP, reg::RSP, 8, 9, 10, 11, 12, 13, 14, 15];

/// Linux's user-mode selectors: cs, ss, ds, es, fs, gs.
const SELECTORS: [u32; 6] = [0x33, 0x2b, 0, 0, 0, 0];

/// The gdbstub architecture of an x86-64 Linux guest.
pub enum GdbX86_64 {}

/// The register file in gdb's order: core and SSE (gdbstub_arch's layout, register numbers
/// 0…56), then orig_rax (57), fs_base (58), gs_base (59).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Regs {
    pub core: X86_64CoreRegs,
    pub orig_rax: u64,
    pub fs_base: u64,
    pub gs_base: u64,
}

impl Registers for Regs {
    type ProgramCounter = u64;

    fn pc(&self) -> u64 {
        self.core.rip
    }

    fn gdb_serialize(&self, mut write_byte: impl FnMut(Option<u8>)) {
        self.core.gdb_serialize(&mut write_byte);
        for v in [self.orig_rax, self.fs_base, self.gs_base] {
            for b in v.to_le_bytes() {
                write_byte(Some(b));
            }
        }
    }

    fn gdb_deserialize(&mut self, bytes: &[u8]) -> Result<(), ()> {
        // Writes are refused before they get here (see `SingleThreadBase::write_registers`);
        // parse anyway so the type is complete.
        const CORE: usize = 0x218;
        if bytes.len() < CORE + 24 {
            return Err(());
        }
        self.core.gdb_deserialize(&bytes[..CORE])?;
        let word = |i: usize| u64::from_le_bytes(bytes[CORE + 8 * i..CORE + 8 * i + 8].try_into().unwrap_or([0; 8]));
        self.orig_rax = word(0);
        self.fs_base = word(1);
        self.gs_base = word(2);
        Ok(())
    }
}

/// Register numbers of the target description.
#[derive(Debug, Clone, Copy)]
pub enum RegIdX86 {
    Core(X86_64CoreRegId),
    OrigRax,
    FsBase,
    GsBase,
}

impl RegId for RegIdX86 {
    fn from_raw_id(id: usize) -> Option<(Self, Option<NonZeroUsize>)> {
        let r = match id {
            57 => RegIdX86::OrigRax,
            58 => RegIdX86::FsBase,
            59 => RegIdX86::GsBase,
            _ => {
                let (core, size) = X86_64CoreRegId::from_raw_id(id)?;
                return Some((RegIdX86::Core(core), size));
            }
        };
        Some((r, NonZeroUsize::new(8)))
    }
}

impl gdbstub::arch::Arch for GdbX86_64 {
    type Usize = u64;
    type Registers = Regs;
    type RegId = RegIdX86;
    type BreakpointKind = usize;

    fn target_description_xml() -> Option<&'static str> {
        Some(TARGET_XML)
    }
}

/// The full x86-64 GNU/Linux target description (gdb's features/i386/64bit-core.xml,
/// 64bit-sse.xml, 64bit-linux.xml and 64bit-segments.xml, inlined).
const TARGET_XML: &str = r#"<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
<architecture>i386:x86-64</architecture>
<osabi>GNU/Linux</osabi>
<feature name="org.gnu.gdb.i386.core">
  <flags id="i386_eflags" size="4">
    <field name="" start="22" end="31"/>
    <field name="CF" start="0" end="0"/>
    <field name="" start="1" end="1"/>
    <field name="PF" start="2" end="2"/>
    <field name="AF" start="4" end="4"/>
    <field name="ZF" start="6" end="6"/>
    <field name="SF" start="7" end="7"/>
    <field name="TF" start="8" end="8"/>
    <field name="IF" start="9" end="9"/>
    <field name="DF" start="10" end="10"/>
    <field name="OF" start="11" end="11"/>
    <field name="NT" start="14" end="14"/>
    <field name="RF" start="16" end="16"/>
    <field name="VM" start="17" end="17"/>
    <field name="AC" start="18" end="18"/>
    <field name="VIF" start="19" end="19"/>
    <field name="VIP" start="20" end="20"/>
    <field name="ID" start="21" end="21"/>
  </flags>
  <reg name="rax" bitsize="64" type="int64" regnum="0"/>
  <reg name="rbx" bitsize="64" type="int64"/>
  <reg name="rcx" bitsize="64" type="int64"/>
  <reg name="rdx" bitsize="64" type="int64"/>
  <reg name="rsi" bitsize="64" type="int64"/>
  <reg name="rdi" bitsize="64" type="int64"/>
  <reg name="rbp" bitsize="64" type="data_ptr"/>
  <reg name="rsp" bitsize="64" type="data_ptr"/>
  <reg name="r8" bitsize="64" type="int64"/>
  <reg name="r9" bitsize="64" type="int64"/>
  <reg name="r10" bitsize="64" type="int64"/>
  <reg name="r11" bitsize="64" type="int64"/>
  <reg name="r12" bitsize="64" type="int64"/>
  <reg name="r13" bitsize="64" type="int64"/>
  <reg name="r14" bitsize="64" type="int64"/>
  <reg name="r15" bitsize="64" type="int64"/>
  <reg name="rip" bitsize="64" type="code_ptr"/>
  <reg name="eflags" bitsize="32" type="i386_eflags"/>
  <reg name="cs" bitsize="32" type="int32"/>
  <reg name="ss" bitsize="32" type="int32"/>
  <reg name="ds" bitsize="32" type="int32"/>
  <reg name="es" bitsize="32" type="int32"/>
  <reg name="fs" bitsize="32" type="int32"/>
  <reg name="gs" bitsize="32" type="int32"/>
  <reg name="st0" bitsize="80" type="i387_ext"/>
  <reg name="st1" bitsize="80" type="i387_ext"/>
  <reg name="st2" bitsize="80" type="i387_ext"/>
  <reg name="st3" bitsize="80" type="i387_ext"/>
  <reg name="st4" bitsize="80" type="i387_ext"/>
  <reg name="st5" bitsize="80" type="i387_ext"/>
  <reg name="st6" bitsize="80" type="i387_ext"/>
  <reg name="st7" bitsize="80" type="i387_ext"/>
  <reg name="fctrl" bitsize="32" type="int" group="float"/>
  <reg name="fstat" bitsize="32" type="int" group="float"/>
  <reg name="ftag" bitsize="32" type="int" group="float"/>
  <reg name="fiseg" bitsize="32" type="int" group="float"/>
  <reg name="fioff" bitsize="32" type="int" group="float"/>
  <reg name="foseg" bitsize="32" type="int" group="float"/>
  <reg name="fooff" bitsize="32" type="int" group="float"/>
  <reg name="fop" bitsize="32" type="int" group="float"/>
</feature>
<feature name="org.gnu.gdb.i386.sse">
  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>
  <flags id="i386_mxcsr" size="4">
    <field name="IE" start="0" end="0"/>
    <field name="DE" start="1" end="1"/>
    <field name="ZE" start="2" end="2"/>
    <field name="OE" start="3" end="3"/>
    <field name="UE" start="4" end="4"/>
    <field name="PE" start="5" end="5"/>
    <field name="DAZ" start="6" end="6"/>
    <field name="IM" start="7" end="7"/>
    <field name="DM" start="8" end="8"/>
    <field name="ZM" start="9" end="9"/>
    <field name="OM" start="10" end="10"/>
    <field name="UM" start="11" end="11"/>
    <field name="PM" start="12" end="12"/>
    <field name="FZ" start="15" end="15"/>
  </flags>
  <reg name="xmm0" bitsize="128" type="vec128" regnum="40"/>
  <reg name="xmm1" bitsize="128" type="vec128"/>
  <reg name="xmm2" bitsize="128" type="vec128"/>
  <reg name="xmm3" bitsize="128" type="vec128"/>
  <reg name="xmm4" bitsize="128" type="vec128"/>
  <reg name="xmm5" bitsize="128" type="vec128"/>
  <reg name="xmm6" bitsize="128" type="vec128"/>
  <reg name="xmm7" bitsize="128" type="vec128"/>
  <reg name="xmm8" bitsize="128" type="vec128"/>
  <reg name="xmm9" bitsize="128" type="vec128"/>
  <reg name="xmm10" bitsize="128" type="vec128"/>
  <reg name="xmm11" bitsize="128" type="vec128"/>
  <reg name="xmm12" bitsize="128" type="vec128"/>
  <reg name="xmm13" bitsize="128" type="vec128"/>
  <reg name="xmm14" bitsize="128" type="vec128"/>
  <reg name="xmm15" bitsize="128" type="vec128"/>
  <reg name="mxcsr" bitsize="32" type="i386_mxcsr" group="vector"/>
</feature>
<feature name="org.gnu.gdb.i386.linux">
  <reg name="orig_rax" bitsize="64" type="int" regnum="57"/>
</feature>
<feature name="org.gnu.gdb.i386.segments">
  <reg name="fs_base" bitsize="64" type="int" regnum="58"/>
  <reg name="gs_base" bitsize="64" type="int" regnum="59"/>
</feature>
</target>
"#;

/// The full x87 tag word (two bits per physical register: 0 valid, 1 zero, 2 special,
/// 3 empty) from the abridged one FXSAVE keeps, classifying each valid register by its
/// contents as the hardware does (what gdb's `ftag` shows).
pub fn full_tag_word(x: &X87) -> u32 {
    let mut tag = 0u32;
    for i in 0..8 {
        let t = if x.ftw & (1 << i) == 0 {
            3
        } else {
            let r = &x.regs[i];
            let mant = u64::from_le_bytes(r[..8].try_into().unwrap_or([0; 8]));
            let exp = u16::from_le_bytes([r[8], r[9]]) & 0x7fff;
            match exp {
                0x7fff => 2,
                0 if mant == 0 => 1,
                0 => 2,
                _ if mant >> 63 == 1 => 0,
                _ => 2,
            }
        };
        tag |= t << (2 * i);
    }
    tag
}

/// The register file as gdb sees it.
pub fn regs_of(c: &X86State) -> Regs {
    let mut r = Regs::default();
    for (i, &g) in GDB_GPR.iter().enumerate() {
        r.core.regs[i] = c.gpr[g];
    }
    r.core.rip = c.rip;
    r.core.eflags = c.rflags as u32;
    let s = &mut r.core.segments;
    [s.cs, s.ss, s.ds, s.es, s.fs, s.gs] = SELECTORS;
    // gdb's st(i) is stack-relative: physical register (top + i) mod 8.
    for i in 0..8 {
        let phys = (c.x87.top as usize + i) & 7;
        r.core.st[i].copy_from_slice(&c.x87.regs[phys][..10]);
    }
    r.core.fpu.fctrl = c.x87.fcw as u32;
    r.core.fpu.fstat = ((c.x87.fsw & !0x3800) | ((c.x87.top as u16 & 7) << 11)) as u32;
    r.core.fpu.ftag = full_tag_word(&c.x87);
    // The interpreter does not keep the x87 last-instruction/operand pointers or opcode
    // (fiseg, fioff, foseg, fooff, fop): they read as 0.
    r.core.xmm = c.xmm;
    r.core.mxcsr = c.mxcsr;
    // Not inside a syscall: Linux reports -1.
    r.orig_rax = u64::MAX;
    r.fs_base = c.fs_base;
    r.gs_base = c.gs_base;
    r
}

/// Bytes of one register, in gdb's encoding, into `buf`; returns how many.
pub fn reg_bytes(c: &X86State, id: RegIdX86, buf: &mut [u8]) -> usize {
    let r = regs_of(c);
    let mut bytes = Vec::with_capacity(16);
    match id {
        RegIdX86::OrigRax => bytes.extend_from_slice(&r.orig_rax.to_le_bytes()),
        RegIdX86::FsBase => bytes.extend_from_slice(&r.fs_base.to_le_bytes()),
        RegIdX86::GsBase => bytes.extend_from_slice(&r.gs_base.to_le_bytes()),
        RegIdX86::Core(core) => {
            let seg = &r.core.segments;
            let fpu = &r.core.fpu;
            use gdbstub_arch::x86::reg::id::{X86SegmentRegId as S, X87FpuInternalRegId as F};
            match core {
                X86_64CoreRegId::Gpr(i) => bytes.extend_from_slice(&r.core.regs[i as usize & 15].to_le_bytes()),
                X86_64CoreRegId::Rip => bytes.extend_from_slice(&r.core.rip.to_le_bytes()),
                X86_64CoreRegId::Eflags => bytes.extend_from_slice(&r.core.eflags.to_le_bytes()),
                X86_64CoreRegId::Segment(s) => {
                    let v = match s {
                        S::CS => seg.cs,
                        S::SS => seg.ss,
                        S::DS => seg.ds,
                        S::ES => seg.es,
                        S::FS => seg.fs,
                        S::GS => seg.gs,
                    };
                    bytes.extend_from_slice(&v.to_le_bytes())
                }
                X86_64CoreRegId::St(i) => bytes.extend_from_slice(&r.core.st[i as usize & 7]),
                X86_64CoreRegId::Fpu(f) => {
                    let v = match f {
                        F::Fctrl => fpu.fctrl,
                        F::Fstat => fpu.fstat,
                        F::Ftag => fpu.ftag,
                        F::Fiseg => fpu.fiseg,
                        F::Fioff => fpu.fioff,
                        F::Foseg => fpu.foseg,
                        F::Fooff => fpu.fooff,
                        F::Fop => fpu.fop,
                    };
                    bytes.extend_from_slice(&v.to_le_bytes())
                }
                X86_64CoreRegId::Xmm(i) => bytes.extend_from_slice(&r.core.xmm[i as usize & 15].to_le_bytes()),
                X86_64CoreRegId::Mxcsr => bytes.extend_from_slice(&r.core.mxcsr.to_le_bytes()),
                _ => {}
            }
        }
    }
    let n = bytes.len().min(buf.len());
    buf[..n].copy_from_slice(&bytes[..n]);
    n
}

/// Value of an iced register (any width) in `c`, for address computation.
fn reg_value(c: &X86State, r: Register) -> Option<u64> {
    match r {
        Register::FS => return Some(c.fs_base),
        Register::GS => return Some(c.gs_base),
        Register::ES | Register::CS | Register::SS | Register::DS => return Some(0),
        Register::RIP => return Some(c.rip),
        _ => {}
    }
    if !r.is_gpr() {
        return None;
    }
    let full = r.full_register();
    let idx = (full as u32).checked_sub(Register::RAX as u32)? as usize;
    let v = *c.gpr.get(idx)?;
    Some(match r.size() {
        1 if r.is_gpr8() && (Register::AH..=Register::BH).contains(&r) => (c.gpr[idx] >> 8) & 0xff,
        1 => v & 0xff,
        2 => v & 0xffff,
        4 => v & 0xffff_ffff,
        _ => v,
    })
}

/// The memory the instruction at the pc reads and writes (address, length, read, write),
/// from iced's instruction info (explicit operands and implicit ones: stack, string
/// instructions' rsi/rdi).
pub fn accesses(mem: &Memory, c: &X86State, out: &mut Vec<MemAccess>) {
    out.clear();
    let mut b = [0u8; 15];
    let n = mem.fetch(c.rip, &mut b);
    let ins = Decoder::with_ip(64, &b[..n], c.rip, DecoderOptions::NONE).decode();
    if ins.is_invalid() {
        return;
    }
    let mut factory = InstructionInfoFactory::new();
    for m in factory.info(&ins).used_memory() {
        let (read, write) = match m.access() {
            OpAccess::Read | OpAccess::CondRead => (true, false),
            OpAccess::Write | OpAccess::CondWrite => (false, true),
            OpAccess::ReadWrite | OpAccess::ReadCondWrite => (true, true),
            _ => continue,
        };
        let len = m.memory_size().size() as u64;
        if len == 0 {
            continue;
        }
        if let Some(addr) = m.virtual_address(0, |r, _, _| reg_value(c, r)) {
            out.push(MemAccess { addr, len, read, write });
        }
    }
}

impl DebugArch for X86_64 {
    type Gdb = GdbX86_64;
    const GDB: &'static str = "gdb";

    fn gdb_regs(c: &X86State) -> Regs {
        regs_of(c)
    }

    fn gdb_reg(c: &X86State, id: RegIdX86, buf: &mut [u8]) -> usize {
        reg_bytes(c, id, buf)
    }

    fn mem_accesses(mem: &Memory, c: &X86State, out: &mut Vec<MemAccess>) {
        accesses(mem, c, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::flags;

    #[test]
    fn register_order_and_size() {
        let mut c = X86State::default();
        for i in 0..16 {
            c.gpr[i] = 0x100 + i as u64;
        }
        c.rip = 0x401000;
        c.fs_base = 0x4c0000;
        let r = regs_of(&c);
        assert_eq!(r.core.regs[1], 0x100 + reg::RBX as u64); // gdb's second register is rbx
        assert_eq!(r.core.regs[7], 0x100 + reg::RSP as u64);
        let mut bytes = Vec::new();
        r.gdb_serialize(|b| bytes.push(b.unwrap_or(0)));
        // 57 core/SSE registers in 0x218 bytes, then orig_rax, fs_base, gs_base.
        assert_eq!(bytes.len(), 0x218 + 24);
        assert_eq!(u64::from_le_bytes(bytes[0x218 + 8..0x218 + 16].try_into().unwrap()), 0x4c0000);
        let mut buf = [0u8; 16];
        let (id, size) = RegIdX86::from_raw_id(58).unwrap();
        assert_eq!(size.unwrap().get(), 8);
        assert_eq!(reg_bytes(&c, id, &mut buf), 8);
        assert_eq!(u64::from_le_bytes(buf[..8].try_into().unwrap()), 0x4c0000);
        let (id, _) = RegIdX86::from_raw_id(16).unwrap();
        reg_bytes(&c, id, &mut buf);
        assert_eq!(u64::from_le_bytes(buf[..8].try_into().unwrap()), 0x401000);
    }

    #[test]
    fn x87_tags() {
        let mut x = X87::default();
        assert_eq!(full_tag_word(&x), 0xffff);
        x.ftw = 0b11;
        x.regs[0][7] = 0x80; // integer bit set, exponent 0x3fff: valid
        x.regs[0][8] = 0xff;
        x.regs[0][9] = 0x3f;
        // register 1 all zero: zero
        assert_eq!(full_tag_word(&x), 0xfff4);
    }

    #[test]
    fn memory_operands() {
        let mut mem = Memory::new(1 << 24).unwrap();
        mem.map(0x1000, 0x1000, flags::R | flags::X);
        // mov [rbx+8], eax ; push rax ; movsb (rsi -> rdi)
        mem.poke(0x1000, &[0x89, 0x43, 0x08, 0x50, 0xa4]).unwrap();
        let mut c = X86State::default();
        c.gpr[reg::RBX] = 0x5000;
        c.gpr[reg::RSP] = 0x8000;
        c.gpr[reg::RSI] = 0x6000;
        c.gpr[reg::RDI] = 0x7000;
        let mut v = Vec::new();
        c.rip = 0x1000;
        accesses(&mem, &c, &mut v);
        assert_eq!(v, vec![MemAccess { addr: 0x5008, len: 4, read: false, write: true }]);
        c.rip = 0x1003;
        accesses(&mem, &c, &mut v);
        assert_eq!(v, vec![MemAccess { addr: 0x7ff8, len: 8, read: false, write: true }]);
        c.rip = 0x1004;
        accesses(&mem, &c, &mut v);
        assert!(v.contains(&MemAccess { addr: 0x6000, len: 1, read: true, write: false }));
        assert!(v.contains(&MemAccess { addr: 0x7000, len: 1, read: false, write: true }));
    }
}
