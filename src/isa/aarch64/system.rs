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
/// MPIDR_EL1 as Linux reports it to EL0 (`SYS_MPIDR_SAFE_VAL`: only the RES1 bit 31).
pub const MPIDR: u64 = 0x8000_0000;

/// The ID registers of the CPU deja emulates, as Linux's EL0 emulation of `mrs` shows them
/// (Documentation/arch/arm64/cpu-feature-registers.rst; the field tables `ftr_id_aa64*` of
/// arch/arm64/kernel/cpufeature.c): a visible field holds the implemented level of its
/// feature, a hidden field the kernel's safe value, and a register the kernel does not track
/// reads 0. The HWCAPs (`linux::arch_aarch64::HWCAP`) are computed from these registers with
/// the kernel's own table (`arm64_elf_hwcaps`), so the two always agree. A feature is
/// described here only once it is implemented and checked against qemu-aarch64
/// (tests/differential_a64.rs).
pub mod id {
    use super::sysreg;

    pub const AA64PFR0_EL1: u16 = sysreg(3, 0, 0, 4, 0);
    pub const AA64PFR1_EL1: u16 = sysreg(3, 0, 0, 4, 1);
    pub const AA64ZFR0_EL1: u16 = sysreg(3, 0, 0, 4, 4);
    pub const AA64DFR0_EL1: u16 = sysreg(3, 0, 0, 5, 0);
    pub const AA64ISAR0_EL1: u16 = sysreg(3, 0, 0, 6, 0);
    pub const AA64ISAR1_EL1: u16 = sysreg(3, 0, 0, 6, 1);
    pub const AA64ISAR2_EL1: u16 = sysreg(3, 0, 0, 6, 2);
    pub const AA64MMFR0_EL1: u16 = sysreg(3, 0, 0, 7, 0);
    pub const AA64MMFR1_EL1: u16 = sysreg(3, 0, 0, 7, 1);
    pub const AA64MMFR2_EL1: u16 = sysreg(3, 0, 0, 7, 2);

    /// Field positions (the Arm ARM's register descriptions; 4 bits each).
    pub mod f {
        pub const PFR0_EL0: u32 = 0;
        pub const PFR0_EL1: u32 = 4;
        pub const PFR0_FP: u32 = 16;
        pub const PFR0_ADVSIMD: u32 = 20;
        pub const PFR0_SVE: u32 = 32;
        pub const PFR0_DIT: u32 = 48;
        pub const PFR1_BT: u32 = 0;
        pub const PFR1_SSBS: u32 = 4;
        pub const PFR1_MTE: u32 = 8;
        pub const ISAR0_AES: u32 = 4;
        pub const ISAR0_SHA1: u32 = 8;
        pub const ISAR0_SHA2: u32 = 12;
        pub const ISAR0_CRC32: u32 = 16;
        pub const ISAR0_ATOMIC: u32 = 20;
        pub const ISAR0_RDM: u32 = 28;
        pub const ISAR0_SHA3: u32 = 32;
        pub const ISAR0_SM3: u32 = 36;
        pub const ISAR0_SM4: u32 = 40;
        pub const ISAR0_DP: u32 = 44;
        pub const ISAR0_FHM: u32 = 48;
        pub const ISAR0_TS: u32 = 52;
        pub const ISAR0_RNDR: u32 = 60;
        pub const ISAR1_DPB: u32 = 0;
        pub const ISAR1_APA: u32 = 4;
        pub const ISAR1_API: u32 = 8;
        pub const ISAR1_JSCVT: u32 = 12;
        pub const ISAR1_FCMA: u32 = 16;
        pub const ISAR1_LRCPC: u32 = 20;
        pub const ISAR1_GPA: u32 = 24;
        pub const ISAR1_GPI: u32 = 28;
        pub const ISAR1_FRINTTS: u32 = 32;
        pub const ISAR1_SB: u32 = 36;
        pub const ISAR1_BF16: u32 = 44;
        pub const ISAR1_DGH: u32 = 48;
        pub const ISAR1_I8MM: u32 = 52;
        pub const MMFR2_AT: u32 = 32;
    }

    /// ID_AA64PFR0_EL1: EL0 and EL1 AArch64 only (1, hidden, the kernel's safe value); FP and
    /// AdvSIMD 0 (implemented, without half-precision arithmetic); EL2, EL3, SVE, DIT… 0.
    pub const PFR0: u64 = 1 << f::PFR0_EL0 | 1 << f::PFR0_EL1;
    /// ID_AA64ISAR0_EL1: AES 2 (AESE AESD AESMC AESIMC, and PMULL/PMULL2 of 64-bit elements),
    /// SHA1 1, SHA2 1 (SHA256 only), CRC32 1, ATOMIC 2 (LSE), RDM 1 (SQRDMLAH/SQRDMLSH),
    /// DP 1 (SDOT/UDOT).
    pub const ISAR0: u64 = 2 << f::ISAR0_AES
        | 1 << f::ISAR0_SHA1
        | 1 << f::ISAR0_SHA2
        | 1 << f::ISAR0_CRC32
        | 2 << f::ISAR0_ATOMIC
        | 1 << f::ISAR0_RDM
        | 1 << f::ISAR0_DP;
    /// ID_AA64ISAR1_EL1: JSCVT 1 (FJCVTZS), FCMA 1 (FCMLA/FCADD), LRCPC 2 (LDAPR, and
    /// LDAPUR/STLUR), FRINTTS 1 (FRINT32Z/X, FRINT64Z/X).
    pub const ISAR1: u64 = 1 << f::ISAR1_JSCVT | 1 << f::ISAR1_FCMA | 2 << f::ISAR1_LRCPC | 1 << f::ISAR1_FRINTTS;
    /// ID_AA64MMFR0_EL1: only hidden fields, at the kernel's safe values: TGran4_2,
    /// TGran64_2, TGran16_2 = 1, TGran4 = TGran64 = 0xf, TGran16 = 0.
    pub const MMFR0: u64 = 0x111 << 32 | 0xf << 28 | 0xf << 24;
    /// ID_AA64DFR0_EL1: DebugVer 6 (hidden, the kernel's safe value).
    pub const DFR0: u64 = 6;

    /// The value of a register of the emulated ID space (op0=3, op1=0, CRn=0), or None where
    /// Linux does not emulate the access (SIGILL): CRm=0 is only MIDR_EL1, MPIDR_EL1 and
    /// REVIDR_EL1 (`emulate_id_reg`), CRm=1 is not emulated (`is_emulated`: CRm 0 and 2..7;
    /// older kernels also refused 2..3, as qemu-user 7.2 does), the AArch32 registers of
    /// CRm=2..3 read 0 on a CPU without AArch32 EL0 (the kernel never initialises them), and
    /// every register the kernel does not track reads 0.
    pub fn read(r: u16) -> Option<u64> {
        let crm = (r >> 3) & 15;
        Some(match r {
            super::MIDR_EL1 => super::MIDR,
            super::MPIDR_EL1 => super::MPIDR,
            super::REVIDR_EL1 => 0,
            _ if crm <= 1 => return None,
            AA64PFR0_EL1 => PFR0,
            AA64DFR0_EL1 => DFR0,
            AA64ISAR0_EL1 => ISAR0,
            AA64ISAR1_EL1 => ISAR1,
            AA64MMFR0_EL1 => MMFR0,
            _ => 0,
        })
    }

    /// Is `r` in the ID register space Linux emulates for EL0 (op0=3, op1=0, CRn=0)?
    pub fn in_space(r: u16) -> bool {
        r >> 7 == sysreg(3, 0, 0, 0, 0) >> 7
    }
}

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
        // MIDR_EL1, MPIDR_EL1, REVIDR_EL1 and the ID registers, as Linux emulates them.
        _ if id::in_space(r) => id::read(r).ok_or_else(|| super::undefined(d))?,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Which `mrs` of the ID space Linux emulates (arch/arm64/kernel/cpufeature.c,
    /// `is_emulated` and `emulate_id_reg`) and what untracked registers read.
    #[test]
    fn id_space_as_linux_emulates_it() {
        assert_eq!(id::read(MIDR_EL1), Some(MIDR));
        assert_eq!(id::read(MPIDR_EL1), Some(0x8000_0000));
        assert_eq!(id::read(REVIDR_EL1), Some(0));
        // CRm=0, other op2: not emulated (SIGILL).
        for op2 in [1, 2, 3, 4, 7] {
            assert_eq!(id::read(sysreg(3, 0, 0, 0, op2)), None, "op2 {op2}");
        }
        // CRm=1 (ID_PFR0_EL1…): not emulated.
        for op2 in 0..8 {
            assert_eq!(id::read(sysreg(3, 0, 0, 1, op2)), None, "CRm=1 op2 {op2}");
        }
        // AArch32 registers (ID_ISAR0_EL1, MVFR0_EL1): 0 on an AArch64-only CPU.
        assert_eq!(id::read(sysreg(3, 0, 0, 2, 0)), Some(0));
        assert_eq!(id::read(sysreg(3, 0, 0, 3, 0)), Some(0));
        // Tracked and untracked AArch64 registers.
        assert_eq!(id::read(id::AA64PFR0_EL1), Some(0x11));
        assert_eq!(id::read(id::AA64DFR0_EL1), Some(6));
        assert_eq!(id::read(id::AA64MMFR0_EL1), Some(0x0000_0111_ff00_0000));
        for r in [id::AA64PFR1_EL1, id::AA64ZFR0_EL1, id::AA64ISAR2_EL1, id::AA64MMFR1_EL1, id::AA64MMFR2_EL1] {
            assert_eq!(id::read(r), Some(0), "{r:#x}");
        }
        assert_eq!(id::read(sysreg(3, 0, 0, 7, 7)), Some(0));
        assert!(id::in_space(sysreg(3, 0, 0, 7, 7)));
        assert!(!id::in_space(sysreg(3, 0, 1, 0, 0)));
        assert!(!id::in_space(CTR_EL0));
    }
}
