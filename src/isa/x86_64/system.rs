//! System and miscellaneous instructions: syscall, cpuid, rdtsc/rdtscp, rdrand/rdseed, nop
//! and hints, fences, flag-bit instructions (clc stc cmc cld std lahf sahf), int3, ud2, hlt.

use super::operands::{get_reg, set_reg};
use super::state::{fl, reg};
use super::table::Table;
use super::{gp_fault, ud, Res, Trap, M};
use crate::engine::{sig, EnvRequest, GuestFault};
use iced_x86::{Instruction, Mnemonic as Mn, Register};

/// CPUID(1).EDX bits deja implements: FPU TSC CX8 CMOV FXSR SSE SSE2 (no MMX). Bit numbers
/// from the SDM, CPUID leaf 1.
pub const CPUID1_EDX: u32 = (1 << 0) | (1 << 4) | (1 << 8) | (1 << 15) | (1 << 24) | (1 << 25) | (1 << 26);
/// CPUID(1).ECX: CX16 (bit 13), POPCNT (bit 23). Other groups add their bits here when they
/// are implemented and tested against the host.
pub const CPUID1_ECX: u32 = (1 << 13) | (1 << 23);
/// CPUID(0x80000001).EDX: SYSCALL (11), NX (20), LM (29).
pub const CPUID_EXT1_EDX: u32 = (1 << 11) | (1 << 20) | (1 << 29);
/// CPUID(0x80000001).ECX: LAHF/SAHF in 64-bit mode (0), ABM/LZCNT (5).
pub const CPUID_EXT1_ECX: u32 = 1 | (1 << 5);

/// AT_HWCAP for x86-64 is CPUID(1).EDX.
pub const HWCAP: u64 = CPUID1_EDX as u64;

/// Vendor string: deja is its own CPU, so guest libraries take their generic paths.
const VENDOR: &[u8; 12] = b"DejaDejaDeja";

pub fn register(t: &mut Table) {
    t.add(&[Mn::Syscall], syscall);
    t.add(&[Mn::Cpuid], cpuid);
    t.add(&[Mn::Rdtsc], |_, _| Err(Trap::Env(EnvRequest::Rdtsc)));
    t.add(&[Mn::Rdtscp], |_, _| Err(Trap::Env(EnvRequest::Rdtscp)));
    const NOPS: [Mn; 11] = [
        Mn::Nop,
        Mn::Pause,
        Mn::Endbr64,
        Mn::Lfence,
        Mn::Mfence,
        Mn::Sfence,
        Mn::Prefetchnta,
        Mn::Prefetcht0,
        Mn::Prefetcht1,
        Mn::Prefetcht2,
        Mn::Prefetchw,
    ];
    t.add(&NOPS, crate::reference!(nop));
    t.specialize(&NOPS, crate::specializer!(nop; NOARGS, M1, M2, M4, M8));
    t.add(&[Mn::Clc, Mn::Stc, Mn::Cmc, Mn::Cld, Mn::Std], flag_bit);
    t.add(&[Mn::Lahf], lahf);
    t.add(&[Mn::Sahf], sahf);
    t.add(&[Mn::Int3], int3);
    t.add(&[Mn::Ud2, Mn::Ud0, Mn::Ud1], |_, ins| Err(ud(ins)));
    t.add(&[Mn::Hlt, Mn::Cli, Mn::Sti, Mn::Int, Mn::Into, Mn::In, Mn::Out], |_, _| Err(gp_fault()));
}

fn nop<A: super::operands::Args>(_m: &mut M, _x: A) -> Res {
    Ok(())
}

fn syscall(_m: &mut M, _ins: &Instruction) -> Res {
    Err(Trap::Syscall)
}

/// Deterministic CPUID: the same answers on every host, advertising exactly what deja
/// implements (design §6).
pub fn cpuid_values(leaf: u32, sub: u32) -> [u32; 4] {
    let v = |i: usize| u32::from_le_bytes(VENDOR[i * 4..i * 4 + 4].try_into().unwrap());
    let _ = sub;
    match leaf {
        // max basic leaf, vendor in ebx edx ecx.
        0 => [1, v(0), v(2), v(1)],
        // family 6 model 0 stepping 0; ebx: clflush line size 8 (×8 = 64 bytes), 1 logical cpu.
        1 => [0x0000_0600, (8 << 8) | (1 << 16), CPUID1_ECX, CPUID1_EDX],
        0x8000_0000 => [0x8000_0001, 0, 0, 0],
        0x8000_0001 => [0, 0, CPUID_EXT1_ECX, CPUID_EXT1_EDX],
        _ => [0, 0, 0, 0],
    }
}

fn cpuid(m: &mut M, _ins: &Instruction) -> Res {
    let r = cpuid_values(m.cpu.gpr[reg::RAX] as u32, m.cpu.gpr[reg::RCX] as u32);
    m.cpu.gpr[reg::RAX] = r[0] as u64;
    m.cpu.gpr[reg::RBX] = r[1] as u64;
    m.cpu.gpr[reg::RCX] = r[2] as u64;
    m.cpu.gpr[reg::RDX] = r[3] as u64;
    Ok(())
}

fn flag_bit(m: &mut M, ins: &Instruction) -> Res {
    let f = &mut m.cpu.rflags;
    match ins.mnemonic() {
        Mn::Clc => *f &= !fl::CF,
        Mn::Stc => *f |= fl::CF,
        Mn::Cmc => *f ^= fl::CF,
        Mn::Cld => *f &= !fl::DF,
        _ => *f |= fl::DF,
    }
    Ok(())
}

fn lahf(m: &mut M, _ins: &Instruction) -> Res {
    let v = (m.cpu.rflags & (fl::SF | fl::ZF | fl::AF | fl::PF | fl::CF)) | fl::FIXED;
    set_reg(m, Register::AH, v);
    Ok(())
}

fn sahf(m: &mut M, _ins: &Instruction) -> Res {
    let ah = get_reg(m, Register::AH);
    let which = fl::SF | fl::ZF | fl::AF | fl::PF | fl::CF;
    m.cpu.rflags = (m.cpu.rflags & !which) | (ah & which);
    Ok(())
}

/// int3 is a trap: it retires, and SIGTRAP is delivered with rip after it (as on Linux).
fn int3(m: &mut M, _ins: &Instruction) -> Res {
    let mut f = GuestFault::new(sig::SIGTRAP, sig::SI_KERNEL, 0);
    f.trapno = 3;
    let _ = m;
    Err(Trap::TrapAfter(f))
}
