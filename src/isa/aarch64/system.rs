//! System instructions reachable from EL0: SVC, hints (NOP, YIELD, BTI, PAC hints…),
//! barriers, MRS/MSR of the EL0-visible registers (TPIDR_EL0, NZCV, FPCR, FPSR,
//! CNTVCT_EL0 — an outside input —, CNTFRQ_EL0, CTR_EL0, DCZID_EL0, MIDR_EL1/ID registers as
//! Linux emulates them), DC ZVA, BRK, UDF.

use super::operands::{reg, set_reg};
use super::state::nzcv;
use super::table::Table;
use super::{Decoded, Res, Trap, M};
use crate::engine::{sig, EnvRequest, GuestFault};
use deja_decoders::aarch64::{Opcode, Operand, SizeCode};

/// SystemReg value as yaxpeax-arm encodes it: (op0-2)<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2.
pub const fn sysreg(op0: u16, op1: u16, crn: u16, crm: u16, op2: u16) -> u16 {
    ((op0 - 2) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

pub const TPIDR_EL0: u16 = sysreg(3, 3, 13, 0, 2);
pub const TPIDRRO_EL0: u16 = sysreg(3, 3, 13, 0, 3);
pub const NZCV: u16 = sysreg(3, 3, 4, 2, 0);
pub const FPCR: u16 = sysreg(3, 3, 4, 4, 0);
pub const FPSR: u16 = sysreg(3, 3, 4, 4, 1);
pub const CNTVCT_EL0: u16 = sysreg(3, 3, 14, 0, 2);
pub const CNTVCTSS_EL0: u16 = sysreg(3, 3, 14, 0, 6);
pub const CNTFRQ_EL0: u16 = sysreg(3, 3, 14, 0, 0);
pub const CTR_EL0: u16 = sysreg(3, 3, 0, 0, 1);
pub const DCZID_EL0: u16 = sysreg(3, 3, 0, 0, 7);
pub const MIDR_EL1: u16 = sysreg(3, 0, 0, 0, 0);
pub const MPIDR_EL1: u16 = sysreg(3, 0, 0, 0, 5);
pub const REVIDR_EL1: u16 = sysreg(3, 0, 0, 0, 6);
pub const RNDR: u16 = sysreg(3, 3, 2, 4, 0);
pub const RNDRRS: u16 = sysreg(3, 3, 2, 4, 1);

/// The virtual counter frequency deja reports (Hz), fixed so guests compute the same
/// durations everywhere. The counter itself (CNTVCT_EL0) is a recorded input.
pub const CNTFRQ: u64 = 1_000_000_000;
/// CTR_EL0: 64-byte I and D cache lines (IminLine = DminLine = 4), DIC/IDC clear.
pub const CTR: u64 = 0x8444_c004;
/// DC ZVA block size: 2^(4+2) = 64 bytes (DZP = 0, BS = 4).
pub const DCZID: u64 = 4;
pub const ZVA_BYTES: u64 = 64;
/// MIDR_EL1 as Linux's EL0 emulation reports it: fixed to an Arm Cortex-A72 r0p3, a core
/// for which glibc picks its generic string routines.
pub const MIDR: u64 = 0x410f_d083;

pub fn register(t: &mut Table) {
    t.add(&[Opcode::SVC], svc);
    t.add(&[Opcode::HINT], |_, _| Ok(()));
    t.add(&[Opcode::DMB(0), Opcode::DSB(0), Opcode::ISB, Opcode::CLREX], barrier);
    t.add(&[Opcode::MRS], mrs);
    t.add(&[Opcode::MSR], msr);
    t.add(&[Opcode::BRK], brk);
    t.add(&[Opcode::UDF], |_, d| Err(super::undefined(d)));
    // SYS carries a payload (op1/op2); any instance registers the tag.
    if let Some(ins) = deja_decoders::aarch64::decode_word(0xd50b_7420) {
        t.add(&[ins.opcode], sys);
    }
}

/// SYS at EL0 (1101010100 0 01 op1 CRn CRm op2 Rt): the cache maintenance operations Linux
/// lets EL0 execute (SCTLR_EL1.DZE and UCI set). DC ZVA zeroes the naturally aligned 64-byte
/// block (DCZID_EL0.BS = 4) holding X[t], checked for write as one access, so a fault writes
/// nothing and reports the block's address (as qemu does). DC CVAU/CVAC/CIVAC and
/// IC IVAU are no-ops: deja has no caches, and a write to a code page already invalidates
/// decoded code. Any other SYS operation is undefined at EL0.
fn sys(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let op1 = (w >> 16) & 7;
    let crn = (w >> 12) & 15;
    let crm = (w >> 8) & 15;
    let op2 = (w >> 5) & 7;
    if w & 0xfff8_0000 != 0xd508_0000 || op1 != 3 || crn != 7 || op2 != 1 {
        return Err(super::undefined(d));
    }
    match crm {
        // DC ZVA
        4 => {
            let rt = (w & 31) as u16;
            let a = super::loadstore::tbi(reg(m, SizeCode::X, rt)) & !(ZVA_BYTES - 1);
            m.mem.write_bytes(a, &[0u8; ZVA_BYTES as usize])?;
            Ok(())
        }
        // DC CVAU, DC CVAC, DC CIVAC, IC IVAU. (DC CVAP is FEAT_DPB, which deja does not
        // advertise (HWCAP_DCPOP clear): undefined, as under qemu 7.2 on every CPU model.)
        11 | 10 | 14 | 5 => Ok(()),
        _ => Err(super::undefined(d)),
    }
}

fn svc(_m: &mut M, d: &Decoded) -> Res {
    match d.ins.operands[0] {
        Operand::Imm16(0) => Err(Trap::Syscall),
        // Linux treats any SVC immediate the same, but only #0 is ever used.
        _ => Err(Trap::Syscall),
    }
}

fn barrier(m: &mut M, d: &Decoded) -> Res {
    if d.ins.opcode == Opcode::CLREX {
        m.cpu.excl_size = 0;
    }
    Ok(())
}

fn brk(_m: &mut M, d: &Decoded) -> Res {
    // Linux: SIGTRAP with TRAP_BRKPT, pc at the brk (it does not retire).
    let mut f = GuestFault::new(sig::SIGTRAP, sig::TRAP_BRKPT, d.pc);
    f.detail = None;
    Err(Trap::Fault(f))
}

fn dest(d: &Decoded) -> u16 {
    match d.ins.operands[0] {
        Operand::Register(_, n) => n,
        _ => 31,
    }
}

fn mrs(m: &mut M, d: &Decoded) -> Res {
    let Operand::SystemReg(r) = d.ins.operands[1] else { return Err(super::undefined(d)) };
    let rt = dest(d);
    let v = match r {
        TPIDR_EL0 => m.cpu.tpidr,
        TPIDRRO_EL0 => 0,
        NZCV => m.cpu.nzcv & nzcv::MASK,
        FPCR => m.cpu.fpcr,
        FPSR => m.cpu.fpsr,
        CNTVCT_EL0 | CNTVCTSS_EL0 => return Err(Trap::Env(EnvRequest::Counter { reg: rt as u8 })),
        RNDR | RNDRRS => return Err(Trap::Env(EnvRequest::Rndr { reg: rt as u8 })),
        CNTFRQ_EL0 => CNTFRQ,
        CTR_EL0 => CTR,
        DCZID_EL0 => DCZID,
        MIDR_EL1 => MIDR,
        MPIDR_EL1 => 0x8000_0000,
        REVIDR_EL1 => 0,
        // Linux emulates the ID register space (op0=3, op1=0, CRn=0, CRm=0..7) for EL0 and
        // reports what the kernel exposes; deja exposes none of the optional features there.
        _ if r >> 7 == sysreg(3, 0, 0, 0, 0) >> 7 => 0,
        _ => return Err(super::undefined(d)),
    };
    set_reg(m, SizeCode::X, rt, v);
    Ok(())
}

fn msr(m: &mut M, d: &Decoded) -> Res {
    let v = match d.ins.operands[1] {
        Operand::Register(s, n) => reg(m, s, n),
        _ => return Err(super::unimplemented(m, d).unwrap_err()),
    };
    match d.ins.operands[0] {
        Operand::SystemReg(TPIDR_EL0) => m.cpu.tpidr = v,
        Operand::SystemReg(NZCV) => m.cpu.nzcv = v & nzcv::MASK,
        // FPCR: keep the architected fields (AHP DN FZ RMode, and FZ16); trap enables are
        // RAZ/WI on Linux's cores.
        Operand::SystemReg(FPCR) => m.cpu.fpcr = v & 0x07c0_0000 | (v & (1 << 19)),
        Operand::SystemReg(FPSR) => m.cpu.fpsr = v & 0xf800_009f,
        _ => return Err(super::undefined(d)),
    }
    Ok(())
}
