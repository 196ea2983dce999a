//! SSE state management: ldmxcsr, stmxcsr, fxsave/fxsave64, fxrstor/fxrstor64.
//!
//! MXCSR_MASK is 0xffff on every host (`sse_fp::mx::MXCSR_MASK`): loading a value with a bit
//! outside it raises #GP (SIGSEGV, SI_KERNEL), as on hardware. XSAVE/XRSTOR are not
//! implemented (CPUID does not advertise XSAVE/OSXSAVE, so libcs use FXSAVE or nothing).

use super::operands::ea;
use super::sse_fp::mx;
use super::state::X86State;
use super::table::Table;
use super::{gp_fault, Res, M};
use iced_x86::{Instruction, Mnemonic as Mn};

pub fn register(t: &mut Table) {
    t.add(&[Mn::Ldmxcsr], ldmxcsr);
    t.add(&[Mn::Stmxcsr], stmxcsr);
    t.add(&[Mn::Fxsave, Mn::Fxsave64], fxsave);
    t.add(&[Mn::Fxrstor, Mn::Fxrstor64], fxrstor);
}

fn ldmxcsr(m: &mut M, ins: &Instruction) -> Res {
    let v = m.mem.read_u32(ea(m, ins))?;
    if v & !mx::MXCSR_MASK != 0 {
        return Err(gp_fault());
    }
    // Setting a flag whose exception is unmasked does not trap by itself (SSE has no pending
    // exceptions); the next instruction that raises any exception does.
    m.cpu.mxcsr = v;
    Ok(())
}

fn stmxcsr(m: &mut M, ins: &Instruction) -> Res {
    let a = ea(m, ins);
    Ok(m.mem.write_u32(a, m.cpu.mxcsr)?)
}

/// Size of the FXSAVE area; the processor writes its first 416 bytes (the rest is reserved
/// or available to software and is left untouched, as the host does).
pub const FXSAVE_SIZE: usize = 512;
const FXSAVE_WRITTEN: usize = 416;

/// FCW bits that exist; bit 6 reads as 1 (FXRSTOR normalises the loaded value like this).
const FCW_BITS: u16 = 0x1f3f;
const FCW_ONE: u16 = 0x0040;

/// The FXSAVE image of the x87, MXCSR and XMM state (the 416 bytes FXSAVE writes; the
/// 64-bit and legacy forms are identical here because deja does not track FIP/FDP/FOP, which
/// it stores as zero, as AMD does whenever no x87 exception is pending).
pub fn fxsave_image(cpu: &X86State) -> [u8; FXSAVE_WRITTEN] {
    let mut b = [0u8; FXSAVE_WRITTEN];
    let x = &cpu.x87;
    b[0..2].copy_from_slice(&x.fcw.to_le_bytes());
    let fsw = (x.fsw & !0x3800) | ((x.top as u16 & 7) << 11);
    b[2..4].copy_from_slice(&fsw.to_le_bytes());
    b[4] = x.ftw;
    // 6..24: FOP, FIP, FDP (zero).
    b[24..28].copy_from_slice(&cpu.mxcsr.to_le_bytes());
    b[28..32].copy_from_slice(&mx::MXCSR_MASK.to_le_bytes());
    // ST0..ST7 in stack order: 10 bytes of each 80-bit register, then 6 zero bytes.
    for i in 0..8 {
        let phys = (x.top as usize + i) & 7;
        let o = 32 + 16 * i;
        b[o..o + 10].copy_from_slice(&x.regs[phys][..10]);
    }
    for (i, v) in cpu.xmm.iter().enumerate() {
        b[160 + 16 * i..176 + 16 * i].copy_from_slice(&v.to_le_bytes());
    }
    b
}

/// The MXCSR field of an FXSAVE image has bits outside MXCSR_MASK set (#GP for FXRSTOR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservedMxcsr;

/// Load an FXSAVE image into `cpu`; nothing is changed when the MXCSR field is invalid.
pub fn fxrstor_image(cpu: &mut X86State, b: &[u8; FXSAVE_SIZE]) -> Result<(), ReservedMxcsr> {
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let mxcsr = u32::from_le_bytes([b[24], b[25], b[26], b[27]]);
    if mxcsr & !mx::MXCSR_MASK != 0 {
        return Err(ReservedMxcsr);
    }
    let x = &mut cpu.x87;
    x.fcw = (u16_at(0) & FCW_BITS) | FCW_ONE;
    let fsw = u16_at(2);
    x.top = ((fsw >> 11) & 7) as u8;
    // ES (bit 7) and B (bit 15) summarise the unmasked exception flags; they are recomputed.
    let es = if fsw & !x.fcw & 0x3f != 0 { 0x8080 } else { 0 };
    x.fsw = (fsw & 0x477f) | es;
    x.ftw = b[4];
    for i in 0..8 {
        let phys = (x.top as usize + i) & 7;
        let o = 32 + 16 * i;
        let mut r = [0u8; 16];
        r[..10].copy_from_slice(&b[o..o + 10]);
        x.regs[phys] = r;
    }
    cpu.mxcsr = mxcsr;
    for (i, v) in cpu.xmm.iter_mut().enumerate() {
        let o = 160 + 16 * i;
        *v = u128::from_le_bytes(b[o..o + 16].try_into().expect("16 bytes"));
    }
    Ok(())
}

fn fxsave(m: &mut M, ins: &Instruction) -> Res {
    let a = ea(m, ins);
    if a & 15 != 0 {
        return Err(gp_fault());
    }
    let img = fxsave_image(&m.cpu);
    // The whole 512-byte operand must be writable, though only the first 416 bytes change.
    let dst = m.mem.slice_mut(a, FXSAVE_SIZE as u64)?;
    dst[..FXSAVE_WRITTEN].copy_from_slice(&img);
    Ok(())
}

fn fxrstor(m: &mut M, ins: &Instruction) -> Res {
    let a = ea(m, ins);
    if a & 15 != 0 {
        return Err(gp_fault());
    }
    let mut b = [0u8; FXSAVE_SIZE];
    m.mem.read_bytes(a, &mut b)?;
    fxrstor_image(&mut m.cpu, &b).map_err(|_| gp_fault())
}
