//! Tests of the x87 handlers (a child module of `x87`). Oracle: the host CPU running the very
//! same instruction bytes (encoded by iced from the `Code`, independent of the handlers' own
//! instruction table) from the same state, on an RWX trampoline page: fxrstor the state, popfq
//! the flags, the instruction with its memory operand at [rsi], pushfq, fxsave.

use super::*;
use crate::engine::Machine;
use crate::isa::x86_64::table::TABLE;
use crate::mem::{flags, Memory};
use crate::testrng::Rng;
use iced_x86::{Decoder, DecoderOptions, Encoder, MemoryOperand};
use std::sync::{LazyLock, Mutex};

const DATA: u64 = 0x10000;
const CODE: u64 = 0x1000;
/// Guest address of the memory operand.
const OPND: u64 = DATA + 0x100;
const BUF: usize = 128;

fn machine() -> M {
    let mut mem = Memory::new(1 << 24).expect("guest memory");
    assert!(mem.map(DATA, 0x1000, flags::R | flags::W));
    Machine { cpu: Default::default(), mem, icount: 0, limit: u64::MAX }
}

fn decode(bytes: &[u8]) -> Instruction {
    let ins = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE).decode();
    assert!(!ins.is_invalid(), "invalid bytes {bytes:02x?}");
    ins
}

/// Run every instruction in `bytes` (iced decodes `9B 66 D9 /6` as fwait + fnstenv).
fn exec(m: &mut M, bytes: &[u8]) -> Res {
    let mut d = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE);
    while d.can_decode() {
        let ins = d.decode();
        assert!(!ins.is_invalid(), "invalid bytes {bytes:02x?}");
        m.cpu.rip = ins.next_ip();
        TABLE.get(ins.mnemonic())(m, &ins)?;
    }
    Ok(())
}

/// What the native trampoline exchanges besides the image and the operand buffer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct Ctx {
    rflags: u64,
    rax: u64,
}

const SLOT: usize = 15;

struct Tramp {
    code: *mut u8,
    slot: usize,
}
// SAFETY: the page is only used under the mutex.
unsafe impl Send for Tramp {}

static TRAMP: LazyLock<Mutex<Tramp>> = LazyLock::new(|| {
    use iced_x86::code_asm::*;
    let asm = |f: &dyn Fn(&mut CodeAssembler) -> Result<(), iced_x86::IcedError>| {
        let mut a = CodeAssembler::new(64).unwrap();
        f(&mut a).unwrap();
        a.assemble(0).unwrap()
    };
    // extern "sysv64" fn(img: rdi, buf: rsi, ctx: rdx)
    let pro = asm(&|a| {
        a.fnstcw(word_ptr(rdi + 508))?;
        a.stmxcsr(dword_ptr(rdi + 24))?;
        a.fxrstor64(ptr(rdi))?;
        a.mov(rax, qword_ptr(rdx + 8))?;
        a.push(qword_ptr(rdx))?;
        a.popfq()
    });
    let epi = asm(&|a| {
        a.pushfq()?;
        a.pop(qword_ptr(rdx))?;
        a.mov(qword_ptr(rdx + 8), rax)?;
        a.fxsave64(ptr(rdi))?;
        a.fninit()?;
        a.fldcw(word_ptr(rdi + 508))?;
        a.ret()
    });
    // SAFETY: a fresh anonymous mapping that we own.
    unsafe {
        let code = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert!(code != libc::MAP_FAILED);
        let code = code as *mut u8;
        let mut bytes = pro.clone();
        let slot = bytes.len();
        bytes.extend_from_slice(&[0x90; SLOT]);
        bytes.extend_from_slice(&epi);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), code, bytes.len());
        Mutex::new(Tramp { code, slot })
    }
});

/// Run one x87 instruction natively. It must only touch rax, the flags, the x87 unit and
/// [rsi..rsi+BUF), and no unmasked exception may be pending in `img`.
fn native(bytes: &[u8], img: &mut Image, buf: &mut [u8; BUF], ctx: &mut Ctx) {
    assert!(bytes.len() <= SLOT);
    let t = TRAMP.lock().unwrap_or_else(|e| e.into_inner());
    ctx.rflags = (ctx.rflags & fl::STATUS) | fl::FIXED;
    // SAFETY: the trampoline loads/saves the x87 state from/to `img` (512 bytes, aligned),
    // runs the instruction (whose memory operand is [rsi] = `buf`) and restores the x87
    // unit; rax and the flags are caller-saved.
    unsafe {
        let slot = t.code.add(t.slot);
        std::ptr::write_bytes(slot, 0x90, SLOT);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), slot, bytes.len());
        let f: extern "sysv64" fn(*mut u8, *mut u8, *mut Ctx) = std::mem::transmute(t.code);
        f(img.0.as_mut_ptr(), buf.as_mut_ptr(), ctx);
    }
}

fn f80(sign: bool, exp: u16, mant: u64) -> [u8; 10] {
    let mut v = [0u8; 10];
    v[..8].copy_from_slice(&mant.to_le_bytes());
    v[8..].copy_from_slice(&((sign as u16) << 15 | exp).to_le_bytes());
    v
}

/// An interesting 80-bit value.
fn rand_f80(r: &mut Rng) -> [u8; 10] {
    let s = r.below(2) == 1;
    const J: u64 = 1 << 63;
    match r.below(24) {
        0 => f80(s, 0, 0),
        1 => f80(s, 0x3fff, J),
        2 => f80(s, 0x7fff, J),                                                     // inf
        3 => f80(s, 0x7fff, J | 1 << 62 | r.below(1 << 20)),                        // QNaN
        4 => f80(s, 0x7fff, J | (1 + r.below(1 << 40))),                            // SNaN
        5 => f80(true, 0x7fff, J | 1 << 62),                                        // indefinite
        6 => f80(s, 0x7fff, r.next_u64() >> 1),                                     // pseudo-NaN/inf
        7 => f80(s, 0, r.next_u64() >> (1 + r.below(63))),                          // denormal
        8 => f80(s, 0, J | r.next_u64()),                                           // pseudo-denormal
        9 => f80(s, 1 + r.below(0x7ffe) as u16, r.next_u64() >> 1),                 // unnormal
        10 => f80(s, 0x7ffe, u64::MAX),                                             // max
        11 => f80(s, 1, J),                                                         // min normal
        12 => f80(s, 0x3fff + r.below(64) as u16, J | r.next_u64() >> r.below(64)), // int-ish
        13 => f80(s, 0x3fff + 62, J | r.next_u64() >> 2),                           // near 2^63
        14 => f80(s, 0x3ffe + r.below(18) as u16, J | (r.below(4) << 60)),          // halves
        15 => f80(s, 0x3fff - 1022 + r.below(3) as u16 - 1, J | r.next_u64()),      // f64 edge
        16 => f80(s, 0x3fff + 1023, u64::MAX - r.below(4096)),                      // f64 overflow edge
        17 => f80(s, 0x3fff - 126 - r.below(30) as u16, J | r.next_u64()),          // f32 denormals
        18 => f80(s, r.below(0x7fff) as u16, J | r.next_u64()),                     // anything
        _ => f80(s, 0x3fff - 8 + r.below(16) as u16, J | r.next_u64()),             // ordinary
    }
}

/// A random guest x87 state with no unmasked exception pending.
fn rand_state(r: &mut Rng) -> X87 {
    let mut x = X87::default();
    for reg in x.regs.iter_mut() {
        reg[..10].copy_from_slice(&rand_f80(r));
    }
    x.top = r.below(8) as u8;
    x.ftw = match r.below(4) {
        0 => 0,
        1 => 0xff,
        _ => r.next_u64() as u8,
    };
    let masks = if r.below(4) == 0 { r.next_u64() as u16 & 0x3f } else { 0x3f };
    let rc = r.below(4) as u16;
    let pc = r.pick(&[3u16, 3, 2, 0, 1]);
    x.fcw = 0x40 | masks | pc << 8 | rc << 10 | ((r.below(8) == 0) as u16 * 0x1000);
    let flags = r.next_u64() as u16 & masks;
    x.fsw = flags | (r.next_u64() as u16 & (sw::C0 | sw::C1 | sw::C2 | sw::C3)) | ((r.below(4) == 0) as u16 * sw::SF);
    x
}

/// Random bytes for a memory operand of `n` bytes.
fn rand_mem(r: &mut Rng, code: Code, n: usize, buf: &mut [u8]) {
    for b in buf.iter_mut() {
        *b = r.next_u64() as u8;
    }
    let z = r.next_u64();
    let fp = format!("{code:?}").ends_with("fp");
    match n {
        2 => buf[..2].copy_from_slice(&r.pick(&[0i16, 1, -1, i16::MAX, i16::MIN, z as i16]).to_le_bytes()),
        4 if fp => buf[..4].copy_from_slice(
            &r.pick(&[
                0u32,
                0x8000_0000,
                0x3f80_0000,
                0x7f80_0000,
                0xff80_0000,
                0x7fc0_0000,
                0x7f80_0001,
                1,
                0x007f_ffff,
                0x7f7f_ffff,
                z as u32,
            ])
            .to_le_bytes(),
        ),
        4 => buf[..4].copy_from_slice(&r.pick(&[0i32, 1, -1, i32::MAX, i32::MIN, z as i32]).to_le_bytes()),
        8 if fp => buf[..8].copy_from_slice(
            &r.pick(&[
                0u64,
                1 << 63,
                0x3ff0_0000_0000_0000,
                0x7ff0_0000_0000_0000,
                0x7ff8_0000_0000_0000,
                0x7ff0_0000_0000_0001,
                1,
                0x000f_ffff_ffff_ffff,
                0x7fef_ffff_ffff_ffff,
                z,
                z >> 1,
            ])
            .to_le_bytes(),
        ),
        8 => buf[..8].copy_from_slice(&r.pick(&[0i64, 1, -1, i64::MAX, i64::MIN, z as i64]).to_le_bytes()),
        10 if code == Code::Fbld_m80bcd => {
            for b in buf[..9].iter_mut() {
                *b = (r.below(10) << 4 | r.below(10)) as u8;
            }
            buf[9] = r.pick(&[0u8, 0x80, z as u8]);
            if r.below(8) == 0 {
                buf[r.below(9) as usize] = 0xfa; // invalid digit
            }
        }
        10 => buf[..10].copy_from_slice(&rand_f80(r)),
        _ => {}
    }
}

/// The operands of `code`, from its name (`Fadd_st0_sti`, `Fld_m80fp`, `Fnstsw_AX`).
enum Opnd {
    St0,
    Sti,
    Mem,
    Ax,
}
fn operands(code: Code) -> Vec<Opnd> {
    format!("{code:?}")
        .split('_')
        .skip(1)
        .filter_map(|t| match t {
            "st0" => Some(Opnd::St0),
            "sti" => Some(Opnd::Sti),
            "AX" => Some(Opnd::Ax),
            _ if t.starts_with('m') && t[1..].starts_with(|c: char| c.is_ascii_digit()) => Some(Opnd::Mem),
            _ => None,
        })
        .collect()
}

/// Encode `code` with ST(i) for an ST(i) operand and [rsi] for a memory operand.
fn encode(code: Code, i: u32) -> Vec<u8> {
    let mem = MemoryOperand::with_base(Register::RSI);
    let reg = |o: &Opnd| match o {
        Opnd::St0 => Register::ST0,
        Opnd::Sti => Register::try_from(Register::ST0 as usize + i as usize).unwrap(),
        Opnd::Ax => Register::AX,
        Opnd::Mem => unreachable!(),
    };
    let ops = operands(code);
    let ins = match &ops[..] {
        [] => Instruction::with(code),
        [Opnd::Mem] => Instruction::with1(code, mem).unwrap(),
        [a] => Instruction::with1(code, reg(a)).unwrap(),
        [a, b] => Instruction::with2(code, reg(a), reg(b)).unwrap(),
        _ => panic!("{code:?}"),
    };
    let mut e = Encoder::new(64);
    e.encode(&ins, CODE).unwrap();
    e.take_buffer()
}

/// The x87 part of an image as compared: FCW, FSW, FTW, and ST0..ST7 (10 bytes each).
fn x87_part(img: &Image) -> Vec<u8> {
    let mut v = img.0[0..5].to_vec();
    for i in 0..8 {
        v.extend_from_slice(&img.0[32 + 16 * i..42 + 16 * i]);
    }
    v
}

/// Run `bytes` on the host and in the emulator from `x`/`rflags`/`mem` and compare the
/// x87 state, the status flags, rax and the operand buffer.
fn compare(m: &mut M, bytes: &[u8], x: &X87, rflags: u64, mem: &[u8; BUF]) -> Result<(), String> {
    compare_ignoring(m, bytes, x, rflags, mem, 0..0)
}

/// `compare`, but the operand bytes in `ignore` may differ (FIP/FDP/FOP in env images).
fn compare_ignoring(
    m: &mut M,
    bytes: &[u8],
    x: &X87,
    rflags: u64,
    mem: &[u8; BUF],
    ignore: std::ops::Range<usize>,
) -> Result<(), String> {
    let mut img = Image::from_state(x);
    let mut nbuf = *mem;
    let mut ctx = Ctx { rflags, rax: 0x1234_5678_9abc_def0 };
    native(bytes, &mut img, &mut nbuf, &mut ctx);

    m.cpu.x87 = *x;
    m.cpu.rflags = (rflags & fl::STATUS) | fl::FIXED;
    m.cpu.gpr = [0; 16];
    m.cpu.gpr[0] = 0x1234_5678_9abc_def0;
    m.cpu.gpr[6] = OPND;
    m.mem.write_bytes(OPND, mem).unwrap();
    if let Err(t) = exec(m, bytes) {
        return Err(format!("trapped {t:?}"));
    }
    let mut ebuf = [0u8; BUF];
    m.mem.read_bytes(OPND, &mut ebuf).unwrap();
    ebuf[ignore.clone()].fill(0);
    nbuf[ignore].fill(0);
    let eimg = Image::from_state(&m.cpu.x87);
    let mut diff = String::new();
    // Image::from_state clears a non-pending ES; compare the raw status word instead.
    let mut e = x87_part(&eimg);
    e[2..4].copy_from_slice(&status_word(&m.cpu.x87).to_le_bytes());
    let n = x87_part(&img);
    if e != n {
        diff += &format!("\n  x87 emu  {e:02x?}\n  x87 host {n:02x?}");
    }
    if m.cpu.rflags & fl::STATUS != ctx.rflags & fl::STATUS {
        diff += &format!("\n  flags emu {:#x} host {:#x}", m.cpu.rflags, ctx.rflags);
    }
    if m.cpu.gpr[0] != ctx.rax {
        diff += &format!("\n  rax emu {:#x} host {:#x}", m.cpu.gpr[0], ctx.rax);
    }
    if ebuf != nbuf {
        diff += &format!("\n  mem emu {:02x?}\n  mem host {:02x?}", &ebuf[..32], &nbuf[..32]);
    }
    if diff.is_empty() {
        Ok(())
    } else {
        Err(format!("`{}` {bytes:02x?} from {x:x?} flags {rflags:#x}{diff}", super::super::disasm(&decode(bytes))))
    }
}

/// Every code the compute handler owns, each with random states, ST(i) and operands.
#[test]
fn compute_matches_host() {
    let mut m = machine();
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut codes = 0;
    let mut fails = Vec::new();
    for code in Code::values() {
        if !COMPUTE.contains(&code.mnemonic()) {
            continue;
        }
        codes += 1;
        let regs = operands(code).iter().any(|o| matches!(o, Opnd::Sti));
        for i in 0..if regs { 8 } else { 1 } {
            let bytes = encode(code, i);
            for _ in 0..150 {
                let x = rand_state(&mut r);
                let mut mem = [0u8; BUF];
                let n = match mem_op(code) {
                    MemOp::Load(n) | MemOp::Store(n) => n,
                    MemOp::None => 0,
                };
                rand_mem(&mut r, code, n, &mut mem);
                if let Err(e) = compare(&mut m, &bytes, &x, r.next_u64(), &mem) {
                    fails.push(e);
                }
            }
        }
    }
    assert!(codes > 120, "only {codes} codes");
    assert!(fails.is_empty(), "{} failures, first:\n{}", fails.len(), fails[..fails.len().min(5)].join("\n"));
}

/// Encode a control instruction with [rsi] or AX.
fn control_codes() -> Vec<Code> {
    Code::values()
        .filter(|c| {
            let mn = c.mnemonic();
            // fxsave/fxrstor belong to sse_fp_state.rs and are tested there (their MXCSR_MASK
            // is deliberately fixed, not the host's).
            let sse_state = matches!(
                mn,
                iced_x86::Mnemonic::Fxsave
                    | iced_x86::Mnemonic::Fxsave64
                    | iced_x86::Mnemonic::Fxrstor
                    | iced_x86::Mnemonic::Fxrstor64
            );
            TABLE.is_implemented(mn) && !COMPUTE.contains(&mn) && format!("{mn:?}").starts_with('F') && !sse_state
        })
        .collect()
}

/// A random environment image (28 or 14 bytes) followed by 8 random registers.
fn rand_env(r: &mut Rng, long: bool, mem: &mut [u8; BUF]) {
    for b in mem.iter_mut() {
        *b = r.next_u64() as u8;
    }
    let fcw = match r.below(3) {
        0 => r.next_u64() as u16,
        1 => 0x037f,
        _ => 0x0340 | (r.next_u64() as u16 & 0x0f3f),
    };
    let fsw = if r.below(2) == 0 { r.next_u64() as u16 } else { r.next_u64() as u16 & !(sw::ES | sw::B) };
    let z = r.next_u64() as u16;
    let ftw = r.pick(&[0u16, 0xffff, z]);
    let (step, n) = if long { (4, 28) } else { (2, 14) };
    for (k, w) in [fcw, fsw, ftw].iter().enumerate() {
        mem[step * k..step * k + 2].copy_from_slice(&w.to_le_bytes());
    }
    for i in 0..8 {
        mem[n + 10 * i..n + 10 * i + 10].copy_from_slice(&rand_f80(r));
    }
}

/// fnstcw/fnstsw/fnclex/fninit/fldcw/fnstenv/fldenv/fnsave/frstor and their waiting
/// forms, from random states and operands, against the host; the instruction/data
/// pointers and the opcode in environment images are ignored (we store zero).
#[test]
fn control_matches_host() {
    let mut m = machine();
    let mut r = Rng(77);
    let codes = control_codes();
    assert!(codes.len() >= 20, "{codes:?}");
    for &code in &codes {
        let bytes = encode(code, 0);
        let long = long_env(code);
        let ignore = if long { 12..26 } else { 6..14 };
        for _ in 0..300 {
            let x = rand_state(&mut r);
            let mut mem = [0u8; BUF];
            rand_env(&mut r, long, &mut mem);
            if code == Code::Fldcw_m2byte && r.below(2) == 0 {
                mem[..2].copy_from_slice(&(0x0340 | (r.next_u64() as u16 & 0x0f3f)).to_le_bytes());
            }
            compare_ignoring(&mut m, &bytes, &x, r.next_u64(), &mem, ignore.clone()).unwrap();
        }
    }
}

fn run(m: &mut M, asm: impl Fn(&mut iced_x86::code_asm::CodeAssembler) -> Result<(), iced_x86::IcedError>) -> Res {
    let mut a = iced_x86::code_asm::CodeAssembler::new(64).unwrap();
    asm(&mut a).unwrap();
    let bytes = a.assemble(CODE).unwrap();
    let mut d = Decoder::with_ip(64, &bytes, CODE, DecoderOptions::NONE);
    while d.can_decode() {
        let ins = d.decode();
        m.cpu.rip = ins.next_ip();
        TABLE.get(ins.mnemonic())(m, &ins)?;
    }
    Ok(())
}

fn fpe_code(r: Res) -> (i32, u64, u64) {
    match r {
        Err(Trap::Fault(f)) if f.signo == sig::SIGFPE => (f.code, f.addr, f.trapno),
        other => panic!("expected SIGFPE, got {other:?}"),
    }
}

/// An unmasked exception completes its instruction (with the unmasked response) and
/// faults at the next waiting one, which does not retire; FN-forms run regardless.
#[test]
fn unmasked_exception_is_delayed() {
    use iced_x86::code_asm::*;
    let mut m = machine();
    m.cpu.gpr[6] = OPND;
    m.mem.write_u16(OPND, 0x037f & !0x04).unwrap(); // unmask ZE
    run(&mut m, |a| {
        a.fldcw(word_ptr(rsi))?;
        a.fld1()?;
        a.fldz()?;
        a.fdivp(st1, st0)
    })
    .unwrap();
    let x = m.cpu.x87;
    // Unmasked #Z: the destination is left alone, the pop still happens, ES/B are set.
    assert_eq!(x.fsw & (sw::EXC | sw::ES | sw::B), 0x04 | sw::ES | sw::B);
    // No pop either (measured on the host).
    assert_eq!(x.top, 6);
    assert_eq!(&x.regs[7][..10], &f80(false, 0x3fff, 1 << 63));
    // The next waiting instruction faults at its own address and changes nothing.
    let before = m.cpu;
    let (code, addr, trapno) = fpe_code(run(&mut m, |a| a.fld1()));
    assert_eq!((code, addr, trapno), (FPE_FLTDIV, CODE, 16));
    assert_eq!((m.cpu.x87, m.cpu.gpr), (before.x87, before.gpr));
    fpe_code(run(&mut m, |a| a.wait()));
    fpe_code(run(&mut m, |a| a.fstsw(ax)));
    fpe_code(run(&mut m, |a| a.fldcw(word_ptr(rsi))));
    // Non-waiting instructions run; fnclex clears it.
    run(&mut m, |a| {
        a.fnstsw(ax)?;
        a.fnstcw(word_ptr(rsi + 2))
    })
    .unwrap();
    assert_eq!(m.cpu.gpr[0] as u16, 0xb084);
    run(&mut m, |a| {
        a.fnclex()?;
        a.wait()?;
        a.fld1()
    })
    .unwrap();
    // Masking it in the control word also ends the pending state.
    m.cpu.x87.fsw |= 0x08;
    m.cpu.x87.fcw &= !0x08;
    assert_eq!(fpe_code(run(&mut m, |a| a.wait())).0, FPE_FLTOVF);
    m.mem.write_u16(OPND, 0x037f).unwrap();
    // fldcw waits first, so the pending overflow faults before the new mask is loaded...
    fpe_code(run(&mut m, |a| a.fldcw(word_ptr(rsi))));
    // ...while fnstenv stores and then masks everything.
    run(&mut m, |a| a.fnstenv(ptr(rsi))).unwrap();
    assert!(!pending(&m.cpu.x87));
    run(&mut m, |a| a.wait()).unwrap();
}

/// si_code priority as in Linux: invalid, zero-divide, overflow, underflow/denormal,
/// precision.
#[test]
fn sigfpe_codes() {
    let mut m = machine();
    for (flags, want) in [
        (0x3f, FPE_FLTINV),
        (0x3e, FPE_FLTDIV),
        (0x38, FPE_FLTOVF),
        (0x30, FPE_FLTUND),
        (0x02, FPE_FLTUND),
        (0x20, FPE_FLTRES),
    ] {
        m.cpu.x87.fcw = 0x0340;
        m.cpu.x87.fsw = flags | sw::ES | sw::B;
        assert_eq!(fpe_code(run(&mut m, |a| a.wait())).0, want);
    }
}

/// A faulting memory access leaves the x87 state alone; an unmasked exception on a store
/// leaves memory alone.
#[test]
fn faults_do_not_modify_state() {
    use iced_x86::code_asm::*;
    let mut m = machine();
    m.cpu.gpr[6] = OPND;
    run(&mut m, |a| {
        a.fldpi()?;
        a.fld1()
    })
    .unwrap();
    let before = m.cpu;
    for unmapped in [0x20000u64, DATA + 0x1000 - 4] {
        m.cpu.gpr[3] = unmapped;
        for r in [
            run(&mut m, |a| a.fstp(tword_ptr(rbx))),
            run(&mut m, |a| a.fstp(qword_ptr(rbx))),
            run(&mut m, |a| a.fistp(qword_ptr(rbx))),
            run(&mut m, |a| a.fld(tword_ptr(rbx))),
            run(&mut m, |a| a.fadd(qword_ptr(rbx))),
            run(&mut m, |a| a.fnstenv(ptr(rbx))),
            run(&mut m, |a| a.fnsave(ptr(rbx))),
        ] {
            assert!(matches!(r, Err(Trap::Fault(f)) if f.signo == sig::SIGSEGV));
            m.cpu.gpr[3] = before.gpr[3];
            assert_eq!(m.cpu.x87, before.x87);
        }
    }
    // Unmasked invalid on fistp (out of range): no store, ES pending, the pop happens
    // (as on hardware: the unmasked response of a store only suppresses the write).
    m.mem.write_u16(OPND, 0x037e).unwrap();
    m.mem.write_u64(OPND + 8, 0x1111).unwrap();
    m.mem.write(OPND + 16, f80(false, 0x3fff + 70, 1 << 63)).unwrap();
    run(&mut m, |a| {
        a.fldcw(word_ptr(rsi))?;
        a.fld(tword_ptr(rsi + 16))
    })
    .unwrap();
    run(&mut m, |a| a.fistp(word_ptr(rsi + 8))).unwrap();
    assert_eq!(m.mem.read_u64(OPND + 8).unwrap(), 0x1111);
    assert!(pending(&m.cpu.x87));
}

/// A glibc-style sequence (long double expl-like code) through the decoder, then every
/// register compared with the same code run natively.
#[test]
fn sequence_matches_host() {
    use iced_x86::code_asm::*;
    let prog = |a: &mut CodeAssembler| -> Result<(), iced_x86::IcedError> {
        a.fninit()?;
        a.fld(tword_ptr(rsi))?; // x
        a.fldl2e()?;
        a.fmul_2(st0, st1)?; // x*log2e
        a.fld(st0)?;
        a.frndint()?;
        a.fsub_2(st1, st0)?;
        a.fxch(st0, st1)?;
        a.f2xm1()?;
        a.fld1()?;
        a.faddp(st1, st0)?;
        a.fscale()?;
        a.fstp(st1)?;
        a.fld(st0)?;
        a.fstp(tword_ptr(rsi + 16))?;
        a.fist(dword_ptr(rsi + 32))?;
        a.fld(qword_ptr(rsi + 40))?;
        a.fucomip(st0, st1)?;
        a.fcmovnbe(st0, st1)?;
        a.fld(dword_ptr(rsi + 48))?;
        a.fpatan()?;
        a.fsqrt()?;
        a.fnstsw(ax)?;
        a.fstp(qword_ptr(rsi + 56))?;
        a.fnstcw(word_ptr(rsi + 64))?;
        a.fnstenv(ptr(rsi + 72))?;
        a.fldenv(ptr(rsi + 72))
    };
    let mut a = CodeAssembler::new(64).unwrap();
    prog(&mut a).unwrap();
    let bytes = a.assemble(CODE).unwrap();
    let mut mem = [0u8; BUF];
    mem[..10].copy_from_slice(&f80(false, 0x4000, 0xb8aa_3b29_5c17_f0bc));
    mem[40..48].copy_from_slice(&2.5f64.to_bits().to_le_bytes());
    mem[48..52].copy_from_slice(&0.75f32.to_bits().to_le_bytes());
    // Natively, one instruction at a time through the trampoline, and in the emulator.
    let mut img = Image::from_state(&X87::default());
    let mut nbuf = mem;
    let mut ctx = Ctx::default();
    let mut m = machine();
    m.cpu.gpr[6] = OPND;
    m.mem.write_bytes(OPND, &mem).unwrap();
    let mut d = Decoder::with_ip(64, &bytes, CODE, DecoderOptions::NONE);
    while d.can_decode() {
        let ins = d.decode();
        let off = (ins.ip() - CODE) as usize;
        native(&bytes[off..off + ins.len()], &mut img, &mut nbuf, &mut ctx);
        m.cpu.rip = ins.next_ip();
        TABLE.get(ins.mnemonic())(&mut m, &ins).unwrap();
    }
    let mut ebuf = [0u8; BUF];
    m.mem.read_bytes(OPND, &mut ebuf).unwrap();
    for b in [&mut ebuf, &mut nbuf] {
        b[72 + 12..72 + 26].fill(0);
    }
    assert_eq!(ebuf, nbuf);
    assert_eq!(m.cpu.gpr[0] as u16, ctx.rax as u16);
    assert_eq!(m.cpu.rflags & fl::STATUS, ctx.rflags & fl::STATUS);
    let mut e = x87_part(&Image::from_state(&m.cpu.x87));
    e[2..4].copy_from_slice(&status_word(&m.cpu.x87).to_le_bytes());
    assert_eq!(e, x87_part(&img));
}
