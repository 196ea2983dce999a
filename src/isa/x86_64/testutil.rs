//! Test helpers shared by the instruction-group tests: a small machine, running one
//! instruction through its handler, and running the same bytes natively on the host CPU (the
//! oracle for x86-64 semantics, design §8).

use super::state::fl;
use super::table::TABLE;
use super::{Res, M};
use crate::engine::Machine;
use crate::mem::{flags, Memory};
use iced_x86::{Decoder, DecoderOptions};
use std::sync::{LazyLock, Mutex};

/// Guest (and native) address of the read-write data page.
pub const DATA: u64 = 0x10000;
/// Address instructions are decoded at.
pub const CODE: u64 = 0x1000;

/// A machine with 16 MiB of address space and one RW data page at [`DATA`].
pub fn machine() -> M {
    let mut mem = Memory::new(1 << 24).expect("guest memory");
    assert!(mem.map(DATA, 0x1000, flags::R | flags::W));
    Machine { cpu: Default::default(), mem, icount: 0, limit: u64::MAX }
}

/// Length of the data area of [`big_machine`].
pub const DATA_LEN: u64 = 0x10000;

/// A machine with one R+X code page at [`CODE`] and RW data at `DATA..DATA+DATA_LEN`.
pub fn big_machine() -> M {
    let mut mem = Memory::new(1 << 24).expect("reserve guest memory");
    assert!(mem.map(CODE, 0x1000, flags::R | flags::X));
    assert!(mem.map(DATA, DATA_LEN, flags::R | flags::W));
    Machine { cpu: Default::default(), mem, icount: 0, limit: u64::MAX }
}

/// Decode one 64-bit instruction from `bytes` as if it were at [`CODE`].
pub fn decode(bytes: &[u8]) -> iced_x86::Instruction {
    let ins = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE).decode();
    assert!(!ins.is_invalid(), "undecodable {bytes:02x?}");
    ins
}

/// Decode one instruction from `bytes` at [`CODE`] and run its handler.
///
/// When the table has a specialised handler for the instruction's operand form, both run
/// from the same state, and their results, registers and memory must be identical; so every
/// test that goes through `exec` checks the specialised handlers too.
pub fn exec(m: &mut M, bytes: &[u8]) -> Res {
    let mut d = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE);
    let ins = d.decode();
    assert!(!ins.is_invalid(), "invalid instruction bytes {bytes:02x?}");
    m.cpu.rip = ins.next_ip();
    let handler = TABLE.get(ins.mnemonic());
    let op = super::predecode::predecode(&ins, handler);
    let Some(spec) = TABLE.specializer(ins.mnemonic()).and_then(|s| s(&op)) else {
        return handler(m, &ins);
    };
    let (cpu0, mem0) = (m.cpu, snapshot(m));
    let r_ref = handler(m, &ins);
    let (cpu_ref, mem_ref) = (m.cpu, snapshot(m));
    let what = super::disasm(&ins);
    if let Some(nf) = spec.no_flags {
        // The flag-less variant: everything but the status flags as the reference.
        m.cpu = cpu0;
        restore(m, &mem0);
        let r = nf(m, &op).map_err(|t| *t);
        assert_eq!(r, r_ref, "flag-less vs reference result of `{what}`");
        assert_eq!(m.cpu.rflags, cpu0.rflags, "flag-less variant of `{what}` wrote flags");
        m.cpu.rflags = cpu_ref.rflags;
        assert_eq!(m.cpu, cpu_ref, "flag-less vs reference registers after `{what}`");
        assert!(snapshot(m) == mem_ref, "flag-less vs reference memory after `{what}`");
    }
    m.cpu = cpu0;
    restore(m, &mem0);
    let r_fast = (spec.exact)(m, &op).map_err(|t| *t);
    assert_eq!(r_fast, r_ref, "specialised vs reference result of `{what}`");
    assert_eq!(m.cpu, cpu_ref, "specialised vs reference registers after `{what}`");
    assert!(snapshot(m) == mem_ref, "specialised vs reference memory after `{what}`");
    r_fast
}

/// Contents of every mapped page of the test machines' code and data areas.
fn snapshot(m: &M) -> Vec<(u64, Vec<u8>)> {
    (CODE..DATA + DATA_LEN)
        .step_by(0x1000)
        .filter(|&p| m.mem.is_mapped(p, 0x1000))
        .map(|p| {
            let mut b = vec![0; 0x1000];
            m.mem.peek(p, &mut b).unwrap();
            (p, b)
        })
        .collect()
}

fn restore(m: &mut M, snap: &[(u64, Vec<u8>)]) {
    for (p, b) in snap {
        m.mem.poke(*p, b).unwrap();
    }
}

/// Register file and flags exchanged with the native trampoline.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    /// RAX..R15; RSP (index 4) is neither loaded nor stored.
    pub gpr: [u64; 16],
    pub rflags: u64,
}

/// Longest instruction the native slot holds.
const SLOT: usize = 15;

struct Native {
    /// RWX page: prologue, instruction slot (NOP padded), epilogue.
    code: *mut u8,
    slot: usize,
    /// The native data page, mapped at [`DATA`].
    data: *mut u8,
}

// SAFETY: the pointers are private mappings only ever used under the NATIVE mutex.
unsafe impl Send for Native {}

static NATIVE: LazyLock<Mutex<Native>> = LazyLock::new(|| Mutex::new(Native::new()));

impl Native {
    fn new() -> Native {
        use iced_x86::code_asm::*;
        let asm = |f: &dyn Fn(&mut CodeAssembler) -> Result<(), iced_x86::IcedError>| {
            let mut a = CodeAssembler::new(64).unwrap();
            f(&mut a).unwrap();
            a.assemble(0).unwrap()
        };
        const GPRS: [AsmRegister64; 16] =
            [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
        // In: rdi = *mut Ctx (System V). Save callee-saved registers and the Ctx pointer, load
        // flags and every GPR but rsp, rdi last.
        let pro = asm(&|a| {
            for r in [rbx, rbp, r12, r13, r14, r15, rdi] {
                a.push(r)?;
            }
            a.push(qword_ptr(rdi + 128))?;
            a.popfq()?;
            for (i, &r) in GPRS.iter().enumerate() {
                if i != 4 && i != 7 {
                    a.mov(r, qword_ptr(rdi + 8 * i))?;
                }
            }
            a.mov(rdi, qword_ptr(rdi + 56))
        });
        // Out: store everything back; mov/push/pop leave the flags alone until pushfq.
        let epi = asm(&|a| {
            a.push(rdi)?;
            a.mov(rdi, qword_ptr(rsp + 8))?;
            for (i, &r) in GPRS.iter().enumerate() {
                if i != 4 && i != 7 {
                    a.mov(qword_ptr(rdi + 8 * i), r)?;
                }
            }
            a.pushfq()?;
            a.pop(rax)?;
            a.mov(qword_ptr(rdi + 128), rax)?;
            a.pop(rax)?;
            a.mov(qword_ptr(rdi + 56), rax)?;
            for r in [rdi, r15, r14, r13, r12, rbp, rbx] {
                a.pop(r)?;
            }
            a.ret()
        });
        // SAFETY: fresh anonymous mappings; the data page is placed at DATA only if nothing is
        // mapped there (MAP_FIXED_NOREPLACE), so no existing host memory is touched.
        unsafe {
            let code = libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert!(code != libc::MAP_FAILED, "mmap rwx");
            let data = libc::mmap(
                DATA as *mut libc::c_void,
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            );
            assert!(data as u64 == DATA, "cannot map the native data page at {DATA:#x}");
            let code = code as *mut u8;
            let mut bytes = pro.clone();
            let slot = bytes.len();
            bytes.extend_from_slice(&[0x90; SLOT]);
            bytes.extend_from_slice(&epi);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), code, bytes.len());
            Native { code, slot, data: data as *mut u8 }
        }
    }
}

/// Run the instruction `bytes` natively with `ctx` and the 4 KiB at [`DATA`] set to `data`;
/// both are updated with the results. The instruction must not use rsp, rip-relative
/// operands or branches, must not touch memory outside the data page, and must not fault.
pub fn native(bytes: &[u8], ctx: &mut Ctx, data: &mut [u8; 4096]) {
    assert!(bytes.len() <= SLOT);
    let n = NATIVE.lock().unwrap_or_else(|e| e.into_inner());
    ctx.rflags = (ctx.rflags & fl::STATUS) | fl::FIXED | fl::IF;
    // SAFETY: the code page holds the trampoline built in Native::new with the instruction
    // copied into its NOP-padded slot; the instruction obeys the contract above, so it only
    // touches the registers the trampoline restores and the data page we own under the lock.
    unsafe {
        let slot = n.code.add(n.slot);
        std::ptr::write_bytes(slot, 0x90, SLOT);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), slot, bytes.len());
        std::ptr::copy_nonoverlapping(data.as_ptr(), n.data, 4096);
        let f: extern "sysv64" fn(*mut Ctx) = std::mem::transmute(n.code);
        f(ctx);
        std::ptr::copy_nonoverlapping(n.data, data.as_mut_ptr(), 4096);
    }
}

/// Run `bytes` through the interpreter from `ctx`/`data`; returns the handler's result and
/// the resulting state.
pub fn emulate(bytes: &[u8], ctx: &Ctx, data: &[u8; 4096]) -> (Res, Ctx, [u8; 4096]) {
    thread_local! {
        // One machine per test thread: creating the address space is most of the cost of a
        // comparison. Only the data page is ever mapped, and it is re-mapped fresh each time.
        static MACHINE: std::cell::RefCell<Option<M>> = const { std::cell::RefCell::new(None) };
    }
    MACHINE.with(|c| {
        let mut c = c.borrow_mut();
        let m = c.get_or_insert_with(machine);
        assert!(m.mem.map(DATA, 0x1000, flags::R | flags::W));
        m.cpu = Default::default();
        m.icount = 0;
        emulate_on(m, bytes, ctx, data)
    })
}

fn emulate_on(m: &mut M, bytes: &[u8], ctx: &Ctx, data: &[u8; 4096]) -> (Res, Ctx, [u8; 4096]) {
    m.cpu.gpr = ctx.gpr;
    m.cpu.rflags = (ctx.rflags & fl::STATUS) | fl::FIXED | fl::IF;
    m.mem.write_bytes(DATA, data).unwrap();
    let r = exec(m, bytes);
    let mut out = [0u8; 4096];
    m.mem.read_bytes(DATA, &mut out).unwrap();
    (r, Ctx { gpr: m.cpu.gpr, rflags: m.cpu.rflags }, out)
}

/// Run `bytes` both ways and describe any difference in GPRs (but rsp), the status flags
/// selected by `flag_mask`, or the data page.
pub fn compare(bytes: &[u8], ctx: &Ctx, data: &[u8; 4096], flag_mask: u64) -> Result<(), String> {
    let (r, e, edata) = emulate(bytes, ctx, data);
    if let Err(t) = r {
        return Err(format!("{bytes:02x?}: interpreter trapped: {t:?}"));
    }
    let mut n = *ctx;
    let mut ndata = *data;
    native(bytes, &mut n, &mut ndata);
    let mut diff = String::new();
    for i in (0..16).filter(|&i| i != 4) {
        if e.gpr[i] != n.gpr[i] {
            diff += &format!(" gpr{i}: emu {:#x} host {:#x};", e.gpr[i], n.gpr[i]);
        }
    }
    let fm = flag_mask & fl::STATUS;
    if e.rflags & fm != n.rflags & fm {
        diff += &format!(" flags: emu {:#x} host {:#x};", e.rflags & fm, n.rflags & fm);
    }
    if let Some(i) = (0..4096).find(|&i| edata[i] != ndata[i]) {
        diff += &format!(" mem[{i:#x}]: emu {:#x} host {:#x};", edata[i], ndata[i]);
    }
    if diff.is_empty() {
        Ok(())
    } else {
        let ins = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE).decode();
        Err(format!("`{}` {bytes:02x?} in {:x?} flags {:#x}:{diff}", super::disasm(&ins), ctx.gpr, ctx.rflags))
    }
}

pub use crate::testrng::Rng;

/// The r/m operand of a ModRM encoding: a register number (0-15), or memory at
/// `[base + disp8]` (base not rsp/r12, which need a SIB byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rm {
    Reg(u8),
    Mem(u8, i8),
}

/// Encode `pre` (legacy/mandatory prefixes), a REX prefix when needed (`w` = REX.W;
/// `force_rex` makes byte registers 4-7 mean spl..dil instead of ah..bh), the opcode bytes,
/// a ModRM byte with `reg` (a register number or an opcode extension) and `rm`, and `imm`.
pub fn encode(pre: &[u8], w: bool, force_rex: bool, op: &[u8], reg: u8, rm: Rm, imm: &[u8]) -> Vec<u8> {
    let (md, rmn, disp) = match rm {
        Rm::Reg(r) => (3u8, r, None),
        Rm::Mem(b, d) => {
            assert!(b & 7 != 4, "base needs a SIB byte");
            (1, b, Some(d as u8))
        }
    };
    let rex = 0x40 | (w as u8) << 3 | (reg >> 3 & 1) << 2 | (rmn >> 3 & 1);
    let mut v = pre.to_vec();
    if rex != 0x40 || force_rex {
        v.push(rex);
    }
    v.extend_from_slice(op);
    v.push(md << 6 | (reg & 7) << 3 | (rmn & 7));
    v.extend(disp);
    v.extend_from_slice(imm);
    v
}

/// A random register file (edge-biased values, rsp untouched) with random status flags, and
/// the base register `base` pointing into the middle of the data page.
pub fn random_ctx(rng: &mut Rng, base: usize) -> Ctx {
    let mut ctx = Ctx { gpr: [0; 16], rflags: rng.next_u64() & fl::STATUS };
    for g in ctx.gpr.iter_mut() {
        *g = rng.edgy();
    }
    ctx.gpr[base] = DATA + 0x800;
    ctx
}

/// A data page of edge-biased random qwords.
pub fn random_data(rng: &mut Rng) -> [u8; 4096] {
    let mut d = [0u8; 4096];
    for c in d.chunks_mut(8) {
        c.copy_from_slice(&rng.edgy().to_le_bytes());
    }
    d
}

/// Pick `n` register numbers for ModRM operands, never rsp or rsi (the memory base). For
/// byte-sized operands also decide whether to force a REX prefix; AH (4 without REX) is only
/// picked when no REX prefix will be emitted. Returns (registers, force_rex).
pub fn pick_regs(rng: &mut Rng, n: usize, byte: bool) -> (Vec<u8>, bool) {
    let force_rex = byte && rng.below(2) == 0;
    loop {
        let v: Vec<u8> = (0..n).map(|_| rng.below(16) as u8).filter(|&r| r != 6).collect();
        if v.len() < n || (v.contains(&4) && (!byte || force_rex || v.iter().any(|&r| r >= 8))) {
            continue;
        }
        return (v, force_rex);
    }
}

/// Operand-size encoding for `size` bytes: (prefixes, REX.W, low opcode bit for
/// byte/non-byte pairs such as f6/f7).
pub fn size_enc(size: u32) -> (&'static [u8], bool, u8) {
    match size {
        1 => (&[], false, 0),
        2 => (&[0x66], false, 1),
        4 => (&[], false, 1),
        _ => (&[], true, 1),
    }
}

/// A random r/m: a register from `reg`, or memory at the base rsi plus a small displacement.
pub fn pick_rm(rng: &mut Rng, reg: u8) -> Rm {
    if rng.below(3) == 0 {
        Rm::Mem(6, (rng.below(128) as i64 - 64) as i8)
    } else {
        Rm::Reg(reg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_matches_interpreter_on_add() {
        let mut rng = Rng(1);
        for _ in 0..200 {
            let ctx = random_ctx(&mut rng, 6);
            let data = random_data(&mut rng);
            // add eax, ebx ; add r9, rdi ; adc cl, dh ; add [rsi-8], r10 ; add sil, r9b
            for b in [
                encode(&[], false, false, &[0x01], 3, Rm::Reg(0), &[]),
                encode(&[], true, false, &[0x01], 7, Rm::Reg(9), &[]),
                encode(&[], false, false, &[0x10], 6, Rm::Reg(1), &[]),
                encode(&[], true, false, &[0x01], 10, Rm::Mem(6, -8), &[]),
                encode(&[], false, true, &[0x00], 9, Rm::Reg(6), &[]),
            ] {
                compare(&b, &ctx, &data, fl::STATUS).unwrap();
            }
        }
    }
}
