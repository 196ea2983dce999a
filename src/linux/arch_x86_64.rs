//! Linux on x86-64: the ABI facts the shared platform needs (syscall registers and numbers,
//! entry state, signal frames, arch_prctl) bound to the x86-64 interpreter.

use super::abi::Abi;
use super::process::Process;
use super::signal::SignalState;
use super::syscall::{err, SysErr, SysFn, SysResult, SysTable};
use super::sysno::Sys;
use crate::arch::Arch;
use crate::engine::interp_x86::InterpX86;
use crate::engine::{EnvRequest, Exit, GuestFault, Machine};
use crate::isa::x86_64::state::{fl, reg};
use crate::isa::x86_64::X86State;
use crate::mem::{MemFault, Memory};
use crate::world::World;
use std::sync::LazyLock;

/// The x86-64 guest ISA.
pub struct X86_64;

static SYS_TABLE: LazyLock<Vec<Option<SysFn<X86_64>>>> = LazyLock::new(super::syscall::build_table::<X86_64>);

impl Arch for X86_64 {
    type Cpu = X86State;
    type Engine = InterpX86;

    const LOG_ISA: u8 = crate::replay::log::ISA_X86_64;
    const PLATFORM: &'static str = "x86_64";
    const ELF_MACHINE: u16 = object::elf::EM_X86_64;
    const SYSCALL_LEN: u64 = 2;
    const ABI: Abi = Abi::X86_64;

    fn new_engine(kind: crate::engine::EngineKind, trace: bool) -> InterpX86 {
        let crate::engine::EngineKind::Interp = kind;
        let mut e = InterpX86::new();
        e.trace = trace;
        e
    }

    fn run(engine: &mut InterpX86, m: &mut Machine<X86State>, budget: u64) -> Exit {
        engine.run(m, budget)
    }

    fn run_stops(engine: &mut InterpX86, m: &mut Machine<X86State>, budget: u64, stops: &[u64]) -> Exit {
        engine.run_stops(m, budget, stops)
    }

    fn pc(c: &X86State) -> u64 {
        c.rip
    }

    fn sp(c: &X86State) -> u64 {
        c.gpr[reg::RSP]
    }

    fn set_pc(c: &mut X86State, pc: u64) {
        c.rip = pc;
    }

    /// Linux's x86-64 ELF entry state: rsp at argc, all other GPRs zero (rdx = 0: no rtld
    /// fini function), rflags with only IF and the fixed bit.
    fn init_regs(c: &mut X86State, entry: u64, sp: u64) {
        c.gpr[reg::RSP] = sp;
        c.rip = entry;
    }

    fn hwcap() -> (u64, u64) {
        (crate::isa::x86_64::system::HWCAP, 0)
    }

    fn syscall_args(c: &X86State) -> (u64, [u64; 6]) {
        let g = &c.gpr;
        (g[reg::RAX], [g[reg::RDI], g[reg::RSI], g[reg::RDX], g[reg::R10], g[reg::R8], g[reg::R9]])
    }

    /// The syscall instruction clobbers rcx (return rip) and r11 (rflags).
    fn enter_syscall(c: &mut X86State) {
        c.gpr[reg::RCX] = c.rip;
        c.gpr[reg::R11] = (c.rflags | fl::FIXED) & 0x3f_7fd7;
    }

    fn set_syscall_result(c: &mut X86State, v: u64) {
        c.gpr[reg::RAX] = v;
    }

    fn restart_syscall(c: &mut X86State, nr: u64, _args: &[u64; 6]) {
        c.rip = c.rip.wrapping_sub(Self::SYSCALL_LEN);
        c.gpr[reg::RAX] = nr;
    }

    fn sys_from_nr(nr: u64) -> Option<Sys> {
        Sys::from_x86_64(nr)
    }

    fn sys_nr(s: Sys) -> Option<u64> {
        Some(s.x86_64())
    }

    fn sys_table() -> &'static [Option<SysFn<X86_64>>] {
        &SYS_TABLE
    }

    fn register_arch_syscalls(t: &mut SysTable<X86_64>) {
        t.add(Sys::ArchPrctl, arch_prctl);
    }

    fn complete_env(c: &mut X86State, req: EnvRequest, world: &mut dyn World, icount: u64) {
        match req {
            EnvRequest::Rdtsc | EnvRequest::Rdtscp => {
                let t = world.tsc(icount);
                c.gpr[reg::RAX] = t & 0xffff_ffff;
                c.gpr[reg::RDX] = t >> 32;
                if req == EnvRequest::Rdtscp {
                    c.gpr[reg::RCX] = 0; // TSC_AUX: cpu 0
                }
            }
            EnvRequest::Random { gpr, size } => {
                let mut b = [0u8; 8];
                world.random(icount, &mut b[..size as usize]);
                let v = u64::from_le_bytes(b);
                let r = &mut c.gpr[gpr as usize];
                *r = match size {
                    2 => (*r & !0xffff) | (v & 0xffff),
                    4 => v & 0xffff_ffff,
                    _ => v,
                };
                // CF=1: a random value is available; OF SF ZF AF PF cleared.
                c.rflags = (c.rflags & !fl::STATUS) | fl::CF;
            }
            // AArch64 requests never come from the x86-64 engine.
            EnvRequest::Counter { .. } | EnvRequest::Rndr { .. } => {}
        }
    }

    /// Nothing besides the image: x86-64 signal frames need the guest's own SA_RESTORER.
    fn init_process(_p: &mut Process<X86_64>) {}

    /// The kernel's `thread.trap_nr`, `error_code` and, for page faults, `cr2`.
    fn note_fault(sig: &mut SignalState, f: &GuestFault) {
        sig.trapno = f.trapno;
        sig.err = f.err;
        if f.trapno == 14 {
            sig.cr2 = f.addr;
        }
    }

    fn setup_frame(p: &mut Process<X86_64>, signo: i32, f: &GuestFault) -> Result<(), MemFault> {
        super::signal_frame::setup_frame(p, signo, f)
    }

    /// Everything comes from the frame, rax included, so the run loop must not write a
    /// result. A bad frame forces SIGSEGV and returns 0, as Linux does.
    fn sigreturn(p: &mut Process<X86_64>) -> SysResult {
        if super::signal_frame::restore_frame(p) {
            Err(SysErr::NoResult)
        } else {
            Ok(0)
        }
    }

    fn state_bytes(c: &X86State) -> Vec<u8> {
        crate::replay::digest::x86_state_bytes(c)
    }

    fn disasm_at(mem: &Memory, pc: u64) -> String {
        let mut b = [0u8; 15];
        let n = mem.fetch(pc, &mut b);
        let ins = iced_x86::Decoder::with_ip(64, &b[..n], pc, iced_x86::DecoderOptions::NONE).decode();
        if ins.is_invalid() {
            return "(no decodable instruction there)".into();
        }
        crate::isa::x86_64::disasm(&ins)
    }
}

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

fn arch_prctl(p: &mut Process<X86_64>, a: [u64; 6]) -> SysResult {
    match a[0] {
        ARCH_SET_FS => p.m.cpu.fs_base = a[1],
        ARCH_SET_GS => p.m.cpu.gs_base = a[1],
        ARCH_GET_FS => p.m.mem.write_u64(a[1], p.m.cpu.fs_base)?,
        ARCH_GET_GS => p.m.mem.write_u64(a[1], p.m.cpu.gs_base)?,
        _ => return err(libc::EINVAL),
    }
    Ok(0)
}
