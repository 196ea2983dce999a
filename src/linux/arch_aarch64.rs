//! Linux on AArch64: the ABI facts the shared platform needs (syscall registers and the
//! asm-generic numbering, entry state, HWCAP, signal frames) bound to the A64 interpreter.

use super::abi::Abi;
use super::process::Process;
use super::signal::SignalState;
use super::syscall::{SysFn, SysResult, SysTable};
use super::sysno::Sys;
use crate::arch::Arch;
use crate::engine::interp_a64::InterpA64;
use crate::engine::{EnvRequest, Exit, GuestFault, Machine};
use crate::isa::aarch64::state::nzcv;
use crate::isa::aarch64::A64State;
use crate::mem::{MemFault, Memory};
use crate::world::World;
use std::sync::LazyLock;

/// The AArch64 guest ISA.
pub struct Aarch64;

static SYS_TABLE: LazyLock<Vec<Option<SysFn<Aarch64>>>> = LazyLock::new(super::syscall::build_table::<Aarch64>);

/// AT_HWCAP and AT_HWCAP2 bits (arch/arm64/include/uapi/asm/hwcap.h).
pub mod hwcap {
    pub const FP: u64 = 1 << 0;
    pub const ASIMD: u64 = 1 << 1;
    pub const AES: u64 = 1 << 3;
    pub const PMULL: u64 = 1 << 4;
    pub const SHA1: u64 = 1 << 5;
    pub const SHA2: u64 = 1 << 6;
    pub const CRC32: u64 = 1 << 7;
    pub const ATOMICS: u64 = 1 << 8;
    pub const FPHP: u64 = 1 << 9;
    pub const ASIMDHP: u64 = 1 << 10;
    pub const CPUID: u64 = 1 << 11;
    pub const ASIMDRDM: u64 = 1 << 12;
    pub const JSCVT: u64 = 1 << 13;
    pub const FCMA: u64 = 1 << 14;
    pub const LRCPC: u64 = 1 << 15;
    pub const DCPOP: u64 = 1 << 16;
    pub const SHA3: u64 = 1 << 17;
    pub const SM3: u64 = 1 << 18;
    pub const SM4: u64 = 1 << 19;
    pub const ASIMDDP: u64 = 1 << 20;
    pub const SHA512: u64 = 1 << 21;
    pub const SVE: u64 = 1 << 22;
    pub const ASIMDFHM: u64 = 1 << 23;
    pub const DIT: u64 = 1 << 24;
    pub const USCAT: u64 = 1 << 25;
    pub const ILRCPC: u64 = 1 << 26;
    pub const FLAGM: u64 = 1 << 27;
    pub const SSBS: u64 = 1 << 28;
    pub const SB: u64 = 1 << 29;
    pub const PACA: u64 = 1 << 30;
    pub const PACG: u64 = 1 << 31;
    // AT_HWCAP2
    pub const HWCAP2_DCPODP: u64 = 1 << 0;
    pub const HWCAP2_FLAGM2: u64 = 1 << 7;
    pub const HWCAP2_FRINT: u64 = 1 << 8;
    pub const HWCAP2_I8MM: u64 = 1 << 13;
    pub const HWCAP2_BF16: u64 = 1 << 14;
    pub const HWCAP2_DGH: u64 = 1 << 15;
    pub const HWCAP2_RNG: u64 = 1 << 16;
    pub const HWCAP2_BTI: u64 = 1 << 17;
    pub const HWCAP2_MTE: u64 = 1 << 18;
}

/// One line of the kernel's `arm64_elf_hwcaps` (arch/arm64/kernel/cpufeature.c): the HWCAP
/// (word 1 or 2, bit) that a sanitised ID register field at or above `min` gives.
struct HwcapFromId {
    word: u8,
    bit: u64,
    reg: u64,
    shift: u32,
    signed: bool,
    min: i64,
}

const fn cap(word: u8, bit: u64, reg: u64, shift: u32, min: i64) -> HwcapFromId {
    HwcapFromId { word, bit, reg, shift, signed: false, min }
}

/// The kernel's table for every HWCAP whose ID field deja's registers could hold (FP and
/// AdvSIMD are signed fields: 0xf is "not implemented").
const HWCAP_TABLE: &[HwcapFromId] = {
    use crate::isa::aarch64::system::id::{f, ISAR0, ISAR1, PFR0};
    use hwcap::*;
    const PFR1: u64 = 0;
    const MMFR2: u64 = 0;
    &[
        HwcapFromId { word: 1, bit: FP, reg: PFR0, shift: f::PFR0_FP, signed: true, min: 0 },
        HwcapFromId { word: 1, bit: FPHP, reg: PFR0, shift: f::PFR0_FP, signed: true, min: 1 },
        HwcapFromId { word: 1, bit: ASIMD, reg: PFR0, shift: f::PFR0_ADVSIMD, signed: true, min: 0 },
        HwcapFromId { word: 1, bit: ASIMDHP, reg: PFR0, shift: f::PFR0_ADVSIMD, signed: true, min: 1 },
        cap(1, DIT, PFR0, f::PFR0_DIT, 1),
        cap(1, SVE, PFR0, f::PFR0_SVE, 1),
        cap(1, PMULL, ISAR0, f::ISAR0_AES, 2),
        cap(1, AES, ISAR0, f::ISAR0_AES, 1),
        cap(1, SHA1, ISAR0, f::ISAR0_SHA1, 1),
        cap(1, SHA2, ISAR0, f::ISAR0_SHA2, 1),
        cap(1, SHA512, ISAR0, f::ISAR0_SHA2, 2),
        cap(1, CRC32, ISAR0, f::ISAR0_CRC32, 1),
        cap(1, ATOMICS, ISAR0, f::ISAR0_ATOMIC, 2),
        cap(1, ASIMDRDM, ISAR0, f::ISAR0_RDM, 1),
        cap(1, SHA3, ISAR0, f::ISAR0_SHA3, 1),
        cap(1, SM3, ISAR0, f::ISAR0_SM3, 1),
        cap(1, SM4, ISAR0, f::ISAR0_SM4, 1),
        cap(1, ASIMDDP, ISAR0, f::ISAR0_DP, 1),
        cap(1, ASIMDFHM, ISAR0, f::ISAR0_FHM, 1),
        cap(1, FLAGM, ISAR0, f::ISAR0_TS, 1),
        cap(2, HWCAP2_FLAGM2, ISAR0, f::ISAR0_TS, 2),
        cap(2, HWCAP2_RNG, ISAR0, f::ISAR0_RNDR, 1),
        cap(1, DCPOP, ISAR1, f::ISAR1_DPB, 1),
        cap(2, HWCAP2_DCPODP, ISAR1, f::ISAR1_DPB, 2),
        cap(1, JSCVT, ISAR1, f::ISAR1_JSCVT, 1),
        cap(1, FCMA, ISAR1, f::ISAR1_FCMA, 1),
        cap(1, LRCPC, ISAR1, f::ISAR1_LRCPC, 1),
        cap(1, ILRCPC, ISAR1, f::ISAR1_LRCPC, 2),
        cap(2, HWCAP2_FRINT, ISAR1, f::ISAR1_FRINTTS, 1),
        cap(1, SB, ISAR1, f::ISAR1_SB, 1),
        cap(2, HWCAP2_BF16, ISAR1, f::ISAR1_BF16, 1),
        cap(2, HWCAP2_DGH, ISAR1, f::ISAR1_DGH, 1),
        cap(2, HWCAP2_I8MM, ISAR1, f::ISAR1_I8MM, 1),
        cap(1, PACA, ISAR1, f::ISAR1_APA, 1),
        cap(1, PACA, ISAR1, f::ISAR1_API, 1),
        cap(1, PACG, ISAR1, f::ISAR1_GPA, 1),
        cap(1, PACG, ISAR1, f::ISAR1_GPI, 1),
        cap(1, USCAT, MMFR2, f::MMFR2_AT, 1),
        cap(1, SSBS, PFR1, f::PFR1_SSBS, 2),
        cap(2, HWCAP2_BTI, PFR1, f::PFR1_BT, 1),
        cap(2, HWCAP2_MTE, PFR1, f::PFR1_MTE, 2),
    ]
};

/// (AT_HWCAP, AT_HWCAP2) from the ID registers, as the kernel computes them; HWCAP_CPUID
/// always (EL0 reads of the ID registers are emulated, `system::id::read`).
const fn hwcaps_from_id_regs() -> (u64, u64) {
    let (mut h1, mut h2) = (hwcap::CPUID, 0);
    let mut i = 0;
    while i < HWCAP_TABLE.len() {
        let c = &HWCAP_TABLE[i];
        let raw = (c.reg >> c.shift) & 15;
        let v = if c.signed && raw >= 8 { raw as i64 - 16 } else { raw as i64 };
        if v >= c.min {
            if c.word == 1 {
                h1 |= c.bit;
            } else {
                h2 |= c.bit;
            }
        }
        i += 1;
    }
    (h1, h2)
}

/// AT_HWCAP: FP ASIMD AES PMULL SHA1 SHA2 CRC32 ATOMICS CPUID ASIMDRDM JSCVT FCMA LRCPC
/// ASIMDDP ILRCPC, from the ID registers (`system::id`), where each feature is described once
/// it is implemented and tested against qemu-aarch64.
pub const HWCAP: u64 = hwcaps_from_id_regs().0;
/// AT_HWCAP2: FRINT.
pub const HWCAP2: u64 = hwcaps_from_id_regs().1;

impl Arch for Aarch64 {
    type Cpu = A64State;
    type Engine = InterpA64;

    const LOG_ISA: u8 = crate::replay::log::ISA_AARCH64;
    const PLATFORM: &'static str = "aarch64";
    const ELF_MACHINE: u16 = object::elf::EM_AARCH64;
    const SYSCALL_LEN: u64 = 4;
    const ABI: Abi = Abi::Arm64;

    fn new_engine(kind: crate::engine::EngineKind, trace: bool) -> InterpA64 {
        let crate::engine::EngineKind::Interp = kind;
        let mut e = InterpA64::new();
        e.trace = trace;
        e
    }

    fn run(engine: &mut InterpA64, m: &mut Machine<A64State>, budget: u64) -> Exit {
        engine.run(m, budget)
    }

    fn pc(c: &A64State) -> u64 {
        c.pc
    }

    fn sp(c: &A64State) -> u64 {
        c.sp
    }

    fn set_pc(c: &mut A64State, pc: u64) {
        c.pc = pc;
    }

    /// Linux's arm64 ELF entry: sp at argc, x0..x30 zero, NZCV clear, FPCR 0.
    fn init_regs(c: &mut A64State, entry: u64, sp: u64) {
        c.sp = sp;
        c.pc = entry;
    }

    fn hwcap() -> (u64, u64) {
        (HWCAP, HWCAP2)
    }

    fn syscall_args(c: &A64State) -> (u64, [u64; 6]) {
        (c.x[8], [c.x[0], c.x[1], c.x[2], c.x[3], c.x[4], c.x[5]])
    }

    /// Taking the exception clears the exclusive monitor (as every exception return does;
    /// qemu-user clears it on every return to guest code too).
    fn enter_syscall(c: &mut A64State) {
        c.excl_size = 0;
    }

    fn set_syscall_result(c: &mut A64State, v: u64) {
        c.x[0] = v;
    }

    /// The kernel keeps the original x0 to restart a syscall whose result overwrote it.
    fn restart_syscall(c: &mut A64State, nr: u64, args: &[u64; 6]) {
        c.pc = c.pc.wrapping_sub(Self::SYSCALL_LEN);
        c.x[8] = nr;
        c.x[0] = args[0];
    }

    fn sys_from_nr(nr: u64) -> Option<Sys> {
        Sys::from_aarch64(nr)
    }

    fn sys_nr(s: Sys) -> Option<u64> {
        s.aarch64()
    }

    fn sys_table() -> &'static [Option<SysFn<Aarch64>>] {
        &SYS_TABLE
    }

    fn register_arch_syscalls(_t: &mut SysTable<Aarch64>) {}

    fn complete_env(c: &mut A64State, req: EnvRequest, world: &mut dyn World, icount: u64) {
        match req {
            // CNTVCT_EL0 ticks at the CNTFRQ_EL0 deja advertises (1 GHz): nanoseconds.
            EnvRequest::Counter { reg } => {
                const _: () = assert!(crate::isa::aarch64::system::CNTFRQ == 1_000_000_000);
                let v = world.counter_ns(icount);
                if (reg as usize) < 31 {
                    c.x[reg as usize] = v;
                }
            }
            EnvRequest::Rndr { reg } => {
                let mut b = [0u8; 8];
                world.random(icount, &mut b);
                if (reg as usize) < 31 {
                    c.x[reg as usize] = u64::from_le_bytes(b);
                }
                c.nzcv &= !nzcv::MASK;
            }
            // x86-64 requests never come from the A64 engine.
            EnvRequest::Rdtsc | EnvRequest::Rdtscp | EnvRequest::Random { .. } => {}
        }
    }

    /// The vDSO's signal return trampoline (see `signal_frame_a64`).
    fn init_process(p: &mut Process<Aarch64>) {
        super::signal_frame_a64::map_sigtramp(&mut p.m.mem);
    }

    /// The thread's fault_address and fault_code (ESR), as the arm64 fault handlers set them.
    fn note_fault(sig: &mut SignalState, f: &GuestFault) {
        super::signal_frame_a64::note_fault(sig, f)
    }

    fn setup_frame(p: &mut Process<Aarch64>, signo: i32, f: &GuestFault) -> Result<(), MemFault> {
        // Taking a signal clears the exclusive monitor (deja's policy, isa/aarch64/atomic.rs):
        // an LDXR/STXR sequence interrupted by a handler fails its store and retries.
        p.m.cpu.excl_size = 0;
        super::signal_frame_a64::setup_frame(p, signo, f)
    }

    fn sigreturn(p: &mut Process<Aarch64>) -> SysResult {
        super::signal_frame_a64::sigreturn(p)
    }

    fn state_bytes(c: &A64State) -> Vec<u8> {
        let mut b = Vec::with_capacity(31 * 8 + 32 * 16 + 64);
        for x in c.x {
            b.extend_from_slice(&x.to_le_bytes());
        }
        for v in [c.sp, c.pc, c.nzcv, c.fpcr, c.fpsr, c.tpidr, c.excl_addr, c.excl_size] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in c.v {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn disasm_at(mem: &Memory, pc: u64) -> String {
        let mut w = [0u8; 4];
        if mem.fetch(pc, &mut w) < 4 {
            return "(no instruction there)".into();
        }
        let word = u32::from_le_bytes(w);
        match deja_decoders::aarch64::decode_word(word) {
            Some(i) => format!("{i}"),
            None => format!("(undefined {word:08x})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::aarch64::system::{self, id};

    /// The advertised set, spelled out: a change to the ID registers that changes it must
    /// change this test too (and docs/isa-aarch64.md).
    #[test]
    fn hwcaps_are_the_implemented_features() {
        use hwcap::*;
        let want = FP
            | ASIMD
            | AES
            | PMULL
            | SHA1
            | SHA2
            | CRC32
            | ATOMICS
            | CPUID
            | ASIMDRDM
            | JSCVT
            | FCMA
            | LRCPC
            | ASIMDDP
            | ILRCPC;
        assert_eq!(HWCAP, want, "{HWCAP:#x} vs {want:#x}");
        assert_eq!(HWCAP2, HWCAP2_FRINT);
        assert_eq!(Aarch64::hwcap(), (HWCAP, HWCAP2));
        // Nothing deja does not implement: half precision, SVE, SHA3/SHA512/SM*, FHM, flag
        // manipulation, RNG (RNDR is recorded but FEAT_RNG is not advertised), BTI, PAC, MTE.
        for not in
            [FPHP, ASIMDHP, SVE, SHA3, SHA512, SM3, SM4, ASIMDFHM, FLAGM, DCPOP, SB, PACA, PACG, USCAT, SSBS, DIT]
        {
            assert_eq!(HWCAP & not, 0, "{not:#x}");
        }
    }

    /// The kernel's rules on the fields: a signed field of 0xf is "not implemented", levels
    /// count (PMULL needs AES = 2, ILRCPC LRCPC = 2, ATOMICS ATOMIC = 2).
    #[test]
    fn hwcaps_follow_the_kernels_field_rules() {
        let field = |reg: u64, shift: u32| (reg >> shift) & 15;
        assert_eq!(field(id::PFR0, id::f::PFR0_FP), 0);
        assert_eq!(field(id::ISAR0, id::f::ISAR0_AES), 2);
        assert_eq!(field(id::ISAR0, id::f::ISAR0_ATOMIC), 2);
        assert_eq!(field(id::ISAR1, id::f::ISAR1_LRCPC), 2);
        // EL0 and EL1: AArch64 only, as Linux shows them.
        assert_eq!(id::PFR0 & 0xff, 0x11);
        // The ID registers read through the emulated `mrs` path are the ones the HWCAPs come from.
        assert_eq!(id::read(id::AA64ISAR0_EL1), Some(id::ISAR0));
        assert_eq!(id::read(id::AA64ISAR1_EL1), Some(id::ISAR1));
        assert_eq!(id::read(id::AA64PFR0_EL1), Some(id::PFR0));
        assert_eq!(id::read(system::MIDR_EL1), Some(system::MIDR));
    }
}
