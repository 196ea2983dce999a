//! Differential tests for `sse_fp`, `sse_fp_convert` and `sse_fp_state`, with the host CPU as
//! the oracle: every legacy-encoded form of every implemented mnemonic (enumerated from iced's
//! `Code` list) is encoded with random registers, memory operands, special and random values,
//! rounding modes, FTZ/DAZ and sticky flags, then run natively (the same bytes inside a small
//! generated stub) and on the interpreter, and the XMM registers, rax/rcx/rdx, MXCSR, RFLAGS,
//! the data page and any fault are compared. Cases that can trap (unmasked exceptions,
//! misaligned operands, reserved MXCSR bits) run natively in a forked child whose SIGFPE /
//! SIGSEGV handler records the signal, trapno and the trap-time registers and MXCSR.

use super::sse_fp::mx;
use super::state::reg;
use super::table::TABLE;
use super::testutil::{machine, CODE, DATA};
use super::{disasm, Trap, M};
use crate::testrng::Rng;
use iced_x86::{Code, Decoder, DecoderOptions, Encoder, Instruction, MemoryOperand, Mnemonic as Mn, Register};

// ---- the state a case starts from and ends with ----

const PAGE: usize = 4096;

/// Registers and outcome. `#[repr(C)]`: the native stub addresses the fields by offset.
#[repr(C, align(64))]
#[derive(Clone, Copy, PartialEq, Eq)]
struct Ctx {
    xmm: [u128; 16], // 0
    gpr: [u64; 3],   // 256: rax rcx rdx
    mxcsr: u32,      // 280
    _pad: u32,
    rflags: u64, // 288
    signo: i32,  // 296
    code: i32,   // 300
    trapno: u64, // 304
    _pad2: [u64; 25],
    host: [u8; 512], // 512: host FXSAVE area
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, x) in self.xmm.iter().enumerate() {
            writeln!(f, "  xmm{i:<2} {x:032x}")?;
        }
        writeln!(f, "  rax {:016x} rcx {:016x} rdx {:016x}", self.gpr[0], self.gpr[1], self.gpr[2])?;
        write!(
            f,
            "  mxcsr {:04x} rflags {:03x} signal {} code {} trapno {}",
            self.mxcsr, self.rflags, self.signo, self.code, self.trapno
        )
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx {
            xmm: [0; 16],
            gpr: [0; 3],
            mxcsr: mx::DEFAULT,
            _pad: 0,
            rflags: 0x202,
            signo: 0,
            code: 0,
            trapno: 0,
            _pad2: [0; 25],
            host: [0; 512],
        }
    }
}

/// A shared anonymous mapping (visible to a forked child's writes).
struct Shared {
    p: *mut u8,
    len: usize,
}

impl Shared {
    fn new(len: usize, exec: bool) -> Shared {
        let prot = libc::PROT_READ | libc::PROT_WRITE | if exec { libc::PROT_EXEC } else { 0 };
        // SAFETY: a fresh anonymous mapping; checked below.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED | libc::MAP_ANONYMOUS, -1, 0) };
        assert!(p != libc::MAP_FAILED, "mmap");
        Shared { p: p as *mut u8, len }
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is `len` bytes and owned by self.
        unsafe { std::slice::from_raw_parts_mut(self.p, self.len) }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping.
        unsafe { libc::munmap(self.p as *mut libc::c_void, self.len) };
    }
}

// ---- native execution ----

/// Stub: `fn(ctx: *mut Ctx /*rdi*/, data: *mut u8 /*rsi*/)` that loads the registers, RFLAGS
/// and MXCSR from ctx, runs `bytes`, stores them back, and restores the host FPU/SSE state.
fn stub(bytes: &[u8]) -> Vec<u8> {
    use iced_x86::code_asm::*;
    let xr = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
    let mut a = CodeAssembler::new(64).unwrap();
    a.fxsave64(ptr(rdi + 512)).unwrap();
    for (i, &x) in xr.iter().enumerate() {
        a.movdqu(x, xmmword_ptr(rdi + 16 * i as i32)).unwrap();
    }
    a.mov(rax, qword_ptr(rdi + 256)).unwrap();
    a.mov(rcx, qword_ptr(rdi + 264)).unwrap();
    a.mov(rdx, qword_ptr(rdi + 272)).unwrap();
    a.push(qword_ptr(rdi + 288)).unwrap();
    a.popfq().unwrap();
    a.ldmxcsr(dword_ptr(rdi + 280)).unwrap();
    a.db(bytes).unwrap();
    a.pushfq().unwrap();
    a.pop(r8).unwrap();
    a.stmxcsr(dword_ptr(rdi + 280)).unwrap();
    a.mov(qword_ptr(rdi + 288), r8).unwrap();
    for (i, &x) in xr.iter().enumerate() {
        a.movdqu(xmmword_ptr(rdi + 16 * i as i32), x).unwrap();
    }
    a.mov(qword_ptr(rdi + 256), rax).unwrap();
    a.mov(qword_ptr(rdi + 264), rcx).unwrap();
    a.mov(qword_ptr(rdi + 272), rdx).unwrap();
    a.fxrstor64(ptr(rdi + 512)).unwrap();
    a.ret().unwrap();
    a.assemble(0).unwrap()
}

static mut CHILD_CTX: *mut Ctx = std::ptr::null_mut();

extern "C" fn on_signal(signo: libc::c_int, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: runs in the forked child only, on a synchronous fault, with CHILD_CTX pointing
    // at the shared Ctx; reads the kernel-provided siginfo/ucontext and exits.
    unsafe {
        let c = &mut *CHILD_CTX;
        let uc = &*(uc as *const libc::ucontext_t);
        c.signo = signo;
        c.code = (*info).si_code;
        c.trapno = uc.uc_mcontext.gregs[libc::REG_TRAPNO as usize] as u64;
        c.rflags = uc.uc_mcontext.gregs[libc::REG_EFL as usize] as u64;
        c.gpr = [
            uc.uc_mcontext.gregs[libc::REG_RAX as usize] as u64,
            uc.uc_mcontext.gregs[libc::REG_RCX as usize] as u64,
            uc.uc_mcontext.gregs[libc::REG_RDX as usize] as u64,
        ];
        let fp = &*uc.uc_mcontext.fpregs;
        c.mxcsr = fp.mxcsr;
        for i in 0..16 {
            let e = fp._xmm[i].element;
            c.xmm[i] = e[0] as u128 | (e[1] as u128) << 32 | (e[2] as u128) << 64 | (e[3] as u128) << 96;
        }
        libc::_exit(0);
    }
}

/// Run `bytes` natively on `ctx` and `data` (both shared mappings). With `fork`, in a child
/// process that reports a SIGFPE/SIGSEGV instead of dying.
fn native(ctx: &mut Shared, data: &mut Shared, bytes: &[u8], fork: bool) {
    let code = stub(bytes);
    let mut page = Shared::new(PAGE, true);
    page.bytes()[..code.len()].copy_from_slice(&code);
    // SAFETY: the page holds the complete stub just assembled; it follows the C ABI, touches
    // only ctx, data (rsi) and caller-saved registers, and restores the host FPU/SSE state.
    let f: extern "C" fn(*mut Ctx, *mut u8) = unsafe { std::mem::transmute(page.p) };
    let c = ctx.p as *mut Ctx;
    if !fork {
        f(c, data.p);
        return;
    }
    // SAFETY: the child only installs handlers, runs the stub and exits (async-signal-safe).
    unsafe {
        let pid = libc::fork();
        assert!(pid >= 0, "fork");
        if pid == 0 {
            CHILD_CTX = c;
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigaction(libc::SIGFPE, &sa, std::ptr::null_mut());
            libc::sigaction(libc::SIGSEGV, &sa, std::ptr::null_mut());
            f(c, data.p);
            libc::_exit(0);
        }
        let mut st = 0;
        assert_eq!(libc::waitpid(pid, &mut st, 0), pid);
        assert!(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0, "child died: status {st:#x}");
    }
}

// ---- emulated execution ----

/// Run `bytes` on the interpreter from `ctx`/`data`; returns the final Ctx and data page.
fn emulate(ctx: &Ctx, data: &[u8], bytes: &[u8]) -> (Ctx, Vec<u8>) {
    let mut m: M = machine();
    m.mem.write_bytes(DATA, data).unwrap();
    m.cpu.xmm = ctx.xmm;
    m.cpu.gpr[reg::RAX] = ctx.gpr[0];
    m.cpu.gpr[reg::RCX] = ctx.gpr[1];
    m.cpu.gpr[reg::RDX] = ctx.gpr[2];
    m.cpu.gpr[reg::RSI] = DATA;
    m.cpu.mxcsr = ctx.mxcsr;
    m.cpu.rflags = ctx.rflags;
    let mut out = *ctx;
    let mut dec = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE);
    while dec.can_decode() {
        let ins = dec.decode();
        m.cpu.rip = ins.next_ip();
        // Movsd/Cmpsd go through string.rs, which forwards the SSE forms to sse_fp.
        assert!(TABLE.is_implemented(ins.mnemonic()), "{} not implemented", disasm(&ins));
        let r = TABLE.get(ins.mnemonic())(&mut m, &ins);
        match r {
            Ok(()) => {}
            Err(Trap::Fault(f)) => {
                out.signo = f.signo;
                out.code = f.code;
                out.trapno = f.trapno;
                break;
            }
            Err(t) => panic!("unexpected trap {t:?}"),
        }
    }
    out.xmm = m.cpu.xmm;
    out.gpr = [m.cpu.gpr[reg::RAX], m.cpu.gpr[reg::RCX], m.cpu.gpr[reg::RDX]];
    out.mxcsr = m.cpu.mxcsr;
    out.rflags = m.cpu.rflags;
    let mut d = vec![0u8; data.len()];
    m.mem.read_bytes(DATA, &mut d).unwrap();
    (out, d)
}

// ---- random values ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    F32,
    F64,
    I32,
}

const F32_SPECIAL: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0xffc0_0000,
    0x7fa0_0001,
    0xff80_0001,
    0x7fff_ffff,
    0x0000_0001,
    0x807f_ffff,
    0x0040_0000,
    0x0080_0000,
    0x8080_0000,
    0x7f7f_ffff,
    0xff7f_ffff,
    0x4f00_0000,
    0xcf00_0000,
    0x4eff_ffff,
    0xcf00_0001,
    0x5f00_0000,
    0xdf00_0000,
    0x5eff_ffff,
    0xdf00_0001,
    0x3f00_0000,
    0x3fc0_0000,
    0x4020_0000,
    0xbfc0_0000,
    0xc020_0000,
    0x3f80_0001,
    0x3f7f_ffff,
    0x1f80_0000,
    0x2000_0000,
    0x1f80_0001,
    0x5f80_0000,
    0x7e80_0000,
    0x7f00_0000,
    0x0100_0000,
    0x4b80_0001,
    0x4000_0000,
    0x4040_0000,
    0x3eaa_aaab,
    0x4f7f_ffff,
    0xcf7f_ffff,
    0x3400_0000,
    0x0080_0001,
];

const F64_SPECIAL: &[u64] = &[
    0,
    1 << 63,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0xfff8_0000_0000_0000,
    0x7ff4_0000_0000_0001,
    0xfff0_0000_0000_0001,
    0x7fff_ffff_ffff_ffff,
    1,
    0x800f_ffff_ffff_ffff,
    0x0010_0000_0000_0000,
    0x8010_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0xffef_ffff_ffff_ffff,
    0x41e0_0000_0000_0000, // 2^31
    0xc1e0_0000_0000_0000, // -2^31
    0x41df_ffff_ffe0_0000, // 2^31 - 1
    0xc1e0_0000_0020_0000, // -2^31 - 1
    0x41df_ffff_fff0_0000, // 2^31 - 0.5
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
    0x43df_ffff_ffff_ffff, // largest below 2^63
    0x3fe0_0000_0000_0000, // 0.5
    0x3ff8_0000_0000_0000, // 1.5
    0x4004_0000_0000_0000, // 2.5
    0xbff8_0000_0000_0000, // -1.5
    0x3ff0_0000_0000_0001, // 1 + ulp
    0x3fef_ffff_ffff_ffff, // 1 - ulp/2
    0x47ef_ffff_e000_0000, // f32::MAX
    0x47ef_ffff_f000_0000, // f32::MAX + half ulp
    0x47f0_0000_0000_0000, // 2^128
    0x3810_0000_0000_0000, // 2^-126
    0x380f_ffff_f000_0000, // just below 2^-126
    0x36a0_0000_0000_0000, // 2^-149
    0x3690_0000_0000_0000, // 2^-150
    0x3690_0000_0000_0001, // just above 2^-150
    0x2000_0000_0000_0000, // 2^-511
    0x5fe0_0000_0000_0000, // 2^511
    0x3fd5_5555_5555_5555, // 1/3
    0x4330_0000_0000_0001, // 2^52 + 1
    0x3ff0_0000_1000_0000, // 1 + 2^-24 (ties for cvtsd2ss)
];

fn rand_f32(r: &mut Rng) -> u32 {
    match r.below(10) {
        0..=3 => r.pick(F32_SPECIAL),
        4..=5 => r.next_u64() as u32,
        // Values near 1 (rounding, exactness) and small integers.
        6..=7 => (r.next_u64() as u32 & 0x807f_ffff) | ((120 + r.below(16) as u32) << 23),
        8 => ((r.below(2000) as i32 - 1000) as f32).to_bits(),
        // Tiny and huge magnitudes (underflow / overflow).
        _ => {
            (r.next_u64() as u32 & 0x807f_ffff)
                | ((if r.chance(50) { r.below(70) } else { 190 + r.below(64) } as u32) << 23)
        }
    }
}

fn rand_f64(r: &mut Rng) -> u64 {
    match r.below(10) {
        0..=3 => r.pick(F64_SPECIAL),
        4..=5 => r.next_u64(),
        6..=7 => (r.next_u64() & 0x800f_ffff_ffff_ffff) | ((1016 + r.below(16)) << 52),
        8 => ((r.below(2000) as i64 - 1000) as f64).to_bits(),
        _ => {
            (r.next_u64() & 0x800f_ffff_ffff_ffff)
                | ((if r.chance(50) { r.below(200) } else { 1800 + r.below(247) }) << 52)
        }
    }
}

fn rand_i64(r: &mut Rng) -> u64 {
    match r.below(6) {
        0 => r.pick(&[
            0,
            1,
            u64::MAX,
            i64::MIN as u64,
            i64::MAX as u64,
            i32::MIN as i64 as u64,
            i32::MAX as u64,
            (1 << 24) + 1,
            (1 << 53) + 1,
            (-(1i64 << 53) - 1) as u64,
            0xffff_ffff,
            0x8000_0000,
        ]),
        1 => r.below(2000).wrapping_sub(1000),
        2 => r.next_u64() as i32 as i64 as u64,
        _ => r.next_u64() >> r.below(64),
    }
}

fn rand_lanes(r: &mut Rng, k: Kind) -> u128 {
    let mut v = 0u128;
    match k {
        Kind::F32 | Kind::I32 => {
            for i in 0..4 {
                let x = if k == Kind::F32 { rand_f32(r) } else { rand_i64(r) as u32 };
                v |= (x as u128) << (32 * i);
            }
        }
        Kind::F64 => {
            for i in 0..2 {
                v |= (rand_f64(r) as u128) << (64 * i);
            }
        }
    }
    v
}

/// The element type an instruction's xmm/memory source holds.
fn kind_of(mn: Mn) -> Kind {
    let s = format!("{mn:?}").to_lowercase();
    let src = match s.find('2') {
        Some(i) => s[i - 2..i].to_string(),
        None => s[s.len() - 2..].to_string(),
    };
    match src.as_str() {
        "ss" | "ps" => Kind::F32,
        "dq" => Kind::I32,
        "si" if s.ends_with("ss") => Kind::F32,
        _ => Kind::F64,
    }
}

/// Every mnemonic the SSE FP files implement (Movsd/Cmpsd: the SSE forms only).
const MNEMONICS: &[Mn] = &[
    Mn::Addss,
    Mn::Addsd,
    Mn::Addps,
    Mn::Addpd,
    Mn::Subss,
    Mn::Subsd,
    Mn::Subps,
    Mn::Subpd,
    Mn::Mulss,
    Mn::Mulsd,
    Mn::Mulps,
    Mn::Mulpd,
    Mn::Divss,
    Mn::Divsd,
    Mn::Divps,
    Mn::Divpd,
    Mn::Sqrtss,
    Mn::Sqrtsd,
    Mn::Sqrtps,
    Mn::Sqrtpd,
    Mn::Minss,
    Mn::Minsd,
    Mn::Minps,
    Mn::Minpd,
    Mn::Maxss,
    Mn::Maxsd,
    Mn::Maxps,
    Mn::Maxpd,
    Mn::Cmpss,
    Mn::Cmpsd,
    Mn::Cmpps,
    Mn::Cmppd,
    Mn::Ucomiss,
    Mn::Ucomisd,
    Mn::Comiss,
    Mn::Comisd,
    Mn::Movss,
    Mn::Movsd,
    Mn::Shufps,
    Mn::Shufpd,
    Mn::Unpcklps,
    Mn::Unpckhps,
    Mn::Unpcklpd,
    Mn::Unpckhpd,
    Mn::Cvtsi2ss,
    Mn::Cvtsi2sd,
    Mn::Cvtss2sd,
    Mn::Cvtsd2ss,
    Mn::Cvtss2si,
    Mn::Cvttss2si,
    Mn::Cvtsd2si,
    Mn::Cvttsd2si,
    Mn::Cvtdq2ps,
    Mn::Cvtps2dq,
    Mn::Cvttps2dq,
    Mn::Cvtdq2pd,
    Mn::Cvtpd2dq,
    Mn::Cvttpd2dq,
    Mn::Cvtps2pd,
    Mn::Cvtpd2ps,
    Mn::Ldmxcsr,
    Mn::Stmxcsr,
    Mn::Fxsave,
    Mn::Fxsave64,
    Mn::Fxrstor,
    Mn::Fxrstor64,
];

/// All legacy-encoded forms (iced `Code`s) of `MNEMONICS`, without the string movsd/cmpsd.
fn forms() -> Vec<Code> {
    Code::values()
        .filter(|c| MNEMONICS.contains(&c.mnemonic()))
        .filter(|c| {
            let n = format!("{c:?}");
            !n.starts_with("VEX_") && !n.starts_with("EVEX_") && !n.contains("_m32_m32")
        })
        .collect()
}

enum Op {
    R(Register),
    M(MemoryOperand),
    I(u32),
}

fn build(code: Code, ops: &[Op]) -> Instruction {
    use Op::*;
    let r = match ops {
        [M(a)] => Instruction::with1(code, *a),
        [R(a), R(b)] => Instruction::with2(code, *a, *b),
        [R(a), M(b)] => Instruction::with2(code, *a, *b),
        [M(a), R(b)] => Instruction::with2(code, *a, *b),
        [R(a), R(b), I(c)] => Instruction::with3(code, *a, *b, *c),
        [R(a), M(b), I(c)] => Instruction::with3(code, *a, *b, *c),
        _ => panic!("operand combination for {code:?}"),
    };
    r.unwrap()
}

fn encode(ins: &Instruction) -> Vec<u8> {
    let mut e = Encoder::new(64);
    e.encode(ins, CODE).unwrap_or_else(|err| panic!("encode {ins:?}: {err}"));
    e.take_buffer()
}

fn xmm(i: u64) -> Register {
    Register::try_from(Register::XMM0 as usize + i as usize).unwrap()
}

/// A random instance of `code` plus the initial state. `trappy` allows cases that can fault
/// (unmasked exceptions, misaligned operands, reserved MXCSR bits).
fn gen_case(r: &mut Rng, code: Code, trappy: bool) -> Case {
    let mn = code.mnemonic();
    let kind = kind_of(mn);
    let name = format!("{code:?}");
    let toks: Vec<&str> = name.split('_').skip(1).collect();
    let mut ctx = Ctx::default();
    for x in ctx.xmm.iter_mut() {
        *x = rand_lanes(r, kind);
    }
    for g in ctx.gpr.iter_mut() {
        *g = rand_i64(r);
    }
    let mut data = vec![0u8; PAGE];
    for c in data.chunks_mut(16) {
        c.copy_from_slice(&rand_lanes(r, kind).to_le_bytes());
    }
    // Memory operand: 16-aligned, or (when trappy) anywhere in the first half of the page.
    let disp = if trappy && r.chance(30) { r.below(2048) } else { 16 * r.below(128) };
    let mem = MemoryOperand::with_base_displ(Register::RSI, disp as i64);
    let gprs = |r: &mut Rng, w: &str| {
        let i = r.below(3) as usize;
        if w == "64" {
            [Register::RAX, Register::RCX, Register::RDX][i]
        } else {
            [Register::EAX, Register::ECX, Register::EDX][i]
        }
    };
    let mut ops = Vec::new();
    let use_mem = r.chance(40);
    for t in &toks {
        ops.push(match *t {
            "xmm" => Op::R(xmm(r.below(16))),
            "xmmm32" | "xmmm64" | "xmmm128" => {
                if use_mem {
                    Op::M(mem)
                } else {
                    Op::R(xmm(r.below(16)))
                }
            }
            "rm32" | "rm64" => {
                if use_mem {
                    Op::M(mem)
                } else {
                    Op::R(gprs(r, &t[2..]))
                }
            }
            "r32" | "r64" => Op::R(gprs(r, &t[1..])),
            "imm8" => Op::I(r.below(256) as u32),
            "m32" | "m512byte" => Op::M(mem),
            _ => panic!("operand token {t} in {name}"),
        });
    }
    // Instruction-specific memory contents.
    let d = disp as usize;
    match mn {
        Mn::Ldmxcsr => {
            let mut v = (r.next_u64() as u32 & 0xffff) | if r.chance(50) { mx::MASKS } else { 0 };
            if trappy && r.chance(20) {
                v |= reserved_bit(r);
            }
            data[d..d + 4].copy_from_slice(&v.to_le_bytes());
        }
        Mn::Fxrstor | Mn::Fxrstor64 | Mn::Fxsave | Mn::Fxsave64 => {
            let img = &mut data[if mn == Mn::Fxrstor || mn == Mn::Fxrstor64 { d } else { 2048 }..][..512];
            for b in img.iter_mut() {
                *b = r.next_u64() as u8;
            }
            // FCW masks every x87 exception (so FIP/FDP/FOP, which deja does not track, are
            // not saved by the host); MXCSR valid unless trappy.
            img[0] |= 0x3f;
            let mut csr = r.next_u64() as u32 & 0xffff;
            if trappy && r.chance(20) {
                csr |= reserved_bit(r);
            }
            img[24..28].copy_from_slice(&csr.to_le_bytes());
        }
        _ => {}
    }
    let ins = build(code, &ops);
    let mut bytes = match mn {
        // fxsave needs a defined x87 state: load one first.
        Mn::Fxsave | Mn::Fxsave64 => {
            encode(&build(Code::Fxrstor64_m512byte, &[Op::M(MemoryOperand::with_base_displ(Register::RSI, 2048))]))
        }
        _ => Vec::new(),
    };
    bytes.extend(encode(&ins));
    if mn == Mn::Fxrstor || mn == Mn::Fxrstor64 {
        // Observe the loaded x87 state.
        bytes.extend(encode(&build(
            Code::Fxsave64_m512byte,
            &[Op::M(MemoryOperand::with_base_displ(Register::RSI, 2048 + 512))],
        )));
    }
    // MXCSR: random rounding, FTZ, DAZ and sticky flags; masks all set unless trappy.
    let mut csr = (r.next_u64() as u32) & (mx::CONTROL | mx::FLAGS);
    if r.chance(60) {
        csr &= !mx::FLAGS;
    }
    csr |= if trappy { (r.next_u64() as u32) & mx::MASKS } else { mx::MASKS };
    ctx.mxcsr = csr;
    ctx.rflags = 0x202 | (r.next_u64() & 0x8d5);
    let fx = match mn {
        Mn::Fxsave | Mn::Fxsave64 => vec![d],
        Mn::Fxrstor | Mn::Fxrstor64 => vec![2048 + 512],
        _ => vec![],
    };
    Case { bytes, ctx, data, fx }
}

/// One test: instruction bytes, initial registers and data page, and the offsets of FXSAVE
/// images written (see `normalize_fxsave`).
struct Case {
    bytes: Vec<u8>,
    ctx: Ctx,
    data: Vec<u8>,
    fx: Vec<usize>,
}

/// A reserved MXCSR bit. Not bit 17: AMD hosts implement it (misaligned-SSE mode) and deja,
/// like Intel, does not, so the host would accept it.
fn reserved_bit(r: &mut Rng) -> u32 {
    1u32 << r.pick(&[16u32, 18, 19, 20, 24, 31])
}

/// Host-only differences: the host's MXCSR_MASK (bytes 28..32 of an FXSAVE image) may have bits
/// deja does not implement (AMD's MM bit 17), and FOP/FIP/FDP (6..24) are not tracked.
fn normalize_fxsave(data: &mut [u8], off: usize) {
    data[off + 6..off + 24].fill(0);
    data[off + 28..off + 32].copy_from_slice(&mx::MXCSR_MASK.to_le_bytes());
}

fn run_case(c: &Case, fork: bool) {
    let mut sc = Shared::new(std::mem::size_of::<Ctx>().next_multiple_of(PAGE), false);
    let mut sd = Shared::new(PAGE, false);
    // SAFETY: the shared mapping is large enough and suitably aligned (page) for a Ctx.
    unsafe { std::ptr::write(sc.p as *mut Ctx, c.ctx) };
    sd.bytes().copy_from_slice(&c.data);
    native(&mut sc, &mut sd, &c.bytes, fork);
    // SAFETY: as above; the stub or the child wrote a complete Ctx.
    let mut want = unsafe { std::ptr::read(sc.p as *const Ctx) };
    let mut want_data = sd.bytes().to_vec();
    let (mut got, mut got_data) = emulate(&c.ctx, &c.data, &c.bytes);
    want.host = [0; 512];
    got.host = [0; 512];
    for &off in &c.fx {
        normalize_fxsave(&mut want_data, off);
        normalize_fxsave(&mut got_data, off);
    }
    // RFLAGS: the status flags and DF; a trapped native run reports the full RFLAGS (RF etc.).
    let fl_mask = 0x8d5 | 0x400;
    want.rflags &= fl_mask;
    got.rflags &= fl_mask;
    if want != got || want_data != got_data {
        let diff: Vec<String> = (0..PAGE)
            .filter(|&i| want_data[i] != got_data[i])
            .take(16)
            .map(|i| format!("{i:#x}: host {:02x} deja {:02x}", want_data[i], got_data[i]))
            .collect();
        let ins: Vec<String> =
            Decoder::with_ip(64, &c.bytes, CODE, DecoderOptions::NONE).iter().map(|i| disasm(&i)).collect();
        panic!(
            "{ins:?} (bytes {:02x?}, fork {fork})\ninitial:\n{:?}\nhost:\n{want:?}\ndeja:\n{got:?}\ndata diffs: {diff:?}",
            c.bytes, c.ctx
        );
    }
}

fn differential(seed: u64, cases: usize, trappy_cases: usize, filter: impl Fn(Mn) -> bool) {
    let mut r = Rng(seed);
    let forms = forms();
    assert!(forms.len() > 60, "found only {} forms", forms.len());
    for &code in forms.iter().filter(|c| filter(c.mnemonic())) {
        for _ in 0..cases {
            run_case(&gen_case(&mut r, code, false), false);
        }
        for _ in 0..trappy_cases {
            run_case(&gen_case(&mut r, code, true), true);
        }
    }
}

fn is_convert(mn: Mn) -> bool {
    format!("{mn:?}").starts_with("Cvt")
}

fn is_state(mn: Mn) -> bool {
    matches!(mn, Mn::Ldmxcsr | Mn::Stmxcsr | Mn::Fxsave | Mn::Fxsave64 | Mn::Fxrstor | Mn::Fxrstor64)
}

#[test]
fn every_form_is_registered() {
    for c in forms() {
        let mn = c.mnemonic();
        assert!(TABLE.is_implemented(mn), "{c:?}");
    }
    // Host-defined approximations stay unimplemented (not deterministic across CPUs).
    for mn in [Mn::Rcpss, Mn::Rcpps, Mn::Rsqrtss, Mn::Rsqrtps] {
        assert!(!TABLE.is_implemented(mn));
    }
}

#[test]
fn differential_arith_compare_move() {
    differential(0x5eed_0001, 400, 40, |mn| !is_convert(mn) && !is_state(mn));
}

#[test]
fn differential_convert() {
    differential(0x5eed_0002, 400, 40, is_convert);
}

#[test]
fn differential_state() {
    differential(0x5eed_0003, 100, 30, is_state);
}

/// Directed cases for the exception rules (overflow/underflow with OE/UE unmasked, packed
/// mixes of pre- and post-computation conditions, tininess after rounding), forked.
#[test]
fn unmasked_exceptions_directed() {
    let big = 3e38f32.to_bits() as u128;
    let tiny = 2f32.powi(-65).to_bits() as u128;
    let t13 = (1.3f32 * 2f32.powi(-65)).to_bits() as u128;
    let t15 = (1.5f32 * 2f32.powi(-65)).to_bits() as u128;
    let one = 1f32.to_bits() as u128;
    let inf = f32::INFINITY.to_bits() as u128;
    let den = 2f32.powi(-140).to_bits() as u128;
    let third = 0.1f32.to_bits() as u128;
    let bp = (1.0f32 + f32::EPSILON).to_bits() as u128 - (63 << 23);
    let bm = (1.0f32 - f32::EPSILON).to_bits() as u128 - (63 << 23);
    let lanes = |a: u128, b: u128| a | b << 32;
    let unmask = |bits: u32| mx::DEFAULT & !(bits << 7);
    let cases: &[(Code, u128, u128, u32)] = &[
        (Code::Addss_xmm_xmmm32, big, big, unmask(mx::OE)),
        (Code::Addss_xmm_xmmm32, big, big, unmask(mx::OE | mx::PE)),
        (Code::Addss_xmm_xmmm32, big, big, unmask(mx::PE)),
        (Code::Mulss_xmm_xmmm32, tiny, tiny, unmask(mx::UE)),
        (Code::Mulss_xmm_xmmm32, t15, t13, unmask(mx::UE)),
        (Code::Mulss_xmm_xmmm32, t15, t13, unmask(mx::UE) | mx::FTZ),
        (Code::Mulss_xmm_xmmm32, tiny, tiny, unmask(mx::UE) | mx::FTZ),
        (Code::Addps_xmm_xmmm128, lanes(inf, big), lanes(inf | 1 << 31, big), unmask(mx::OE)),
        (Code::Addps_xmm_xmmm128, lanes(inf, big), lanes(inf | 1 << 31, big), unmask(mx::IE)),
        (Code::Divps_xmm_xmmm128, lanes(one, den) | one << 64 | one << 96, lanes(0, one), unmask(mx::ZE)),
        (Code::Divps_xmm_xmmm128, lanes(one, den) | one << 64 | one << 96, lanes(one, one), unmask(mx::DE)),
        (Code::Divps_xmm_xmmm128, lanes(one, den), lanes(one, one), unmask(mx::DE) | mx::DAZ),
        (Code::Mulps_xmm_xmmm128, lanes(one, tiny), lanes(3f32.to_bits() as u128, t13), unmask(mx::PE | mx::UE)),
        (Code::Mulps_xmm_xmmm128, lanes(big, t13), lanes(big, t15), unmask(mx::OE)),
        (Code::Mulps_xmm_xmmm128, lanes(big, t13), lanes(big, t15), unmask(mx::UE)),
        (Code::Mulps_xmm_xmmm128, lanes(big, t13), lanes(big, t15), unmask(mx::UE | mx::OE)),
        (Code::Mulps_xmm_xmmm128, lanes(tiny, one), lanes(tiny, third), unmask(mx::UE)),
        (Code::Addps_xmm_xmmm128, lanes(big, one), lanes(big, 0x2f80_0000), unmask(mx::OE)),
        (Code::Mulss_xmm_xmmm32, den, 0.5f32.to_bits() as u128, unmask(mx::UE)),
        (Code::Addss_xmm_xmmm32, den, den, unmask(mx::UE)),
        (Code::Subss_xmm_xmmm32, den, den, unmask(mx::UE)),
        (Code::Mulss_xmm_xmmm32, bp, bm, unmask(mx::UE)),
        (Code::Mulss_xmm_xmmm32, bp, bm, unmask(mx::UE) | 0x2000),
        (Code::Mulss_xmm_xmmm32, bp, bm, unmask(mx::UE) | 0x4000),
        (Code::Mulss_xmm_xmmm32, bp, bm, unmask(mx::UE) | 0x6000),
        // Overflow only by rounding up (RU): MAX + a denormal; exact-unbounded is false.
        (Code::Addss_xmm_xmmm32, 0x7f7f_ffff, 1, unmask(mx::OE) | 0x4000),
        (Code::Addss_xmm_xmmm32, 0x7f7f_ffff, 1, unmask(mx::OE) | 0x4000 | mx::DAZ),
        (Code::Addsd_xmm_xmmm64, 0x7fef_ffff_ffff_ffff, 1, unmask(mx::OE) | 0x4000),
        (Code::Subsd_xmm_xmmm64, 0xffef_ffff_ffff_ffff, 0x0000_0000_0000_0003, unmask(mx::OE | mx::PE) | 0x2000),
        (Code::Mulsd_xmm_xmmm64, 0x7fe0_0000_0000_0001, 0x4000_0000_0000_0001, unmask(mx::OE)),
        (Code::Mulsd_xmm_xmmm64, 0x7fe0_0000_0000_0000, 0x4000_0000_0000_0000, unmask(mx::OE)),
        (Code::Divsd_xmm_xmmm64, 0x0010_0000_0000_0000, 0x4008_0000_0000_0000, unmask(mx::UE)),
        (Code::Divsd_xmm_xmmm64, 0x0010_0000_0000_0000, 0x4000_0000_0000_0000, unmask(mx::UE)),
        (Code::Subsd_xmm_xmmm64, 0x0010_0000_0000_0003, 0x0010_0000_0000_0000, unmask(mx::UE)),
        (Code::Cvtsd2ss_xmm_xmmm64, 0, 0x47f0_0000_0000_0000, unmask(mx::OE)),
        (Code::Cvtsd2ss_xmm_xmmm64, 0, 0x47ef_ffff_f000_0000, unmask(mx::OE)),
        (Code::Cvtsd2ss_xmm_xmmm64, 0, 0x3690_0000_0000_0000, unmask(mx::UE)),
        (Code::Cvtsd2ss_xmm_xmmm64, 0, 0x3690_0000_0000_0001, unmask(mx::UE | mx::PE)),
        (Code::Cvtpd2ps_xmm_xmmm128, 0, 0x47f0_0000_0000_0000 | 0x3fd5_5555_5555_5555 << 64, unmask(mx::OE)),
        (Code::Cvttss2si_r32_xmmm32, 0, inf, unmask(mx::IE)),
        (Code::Cvtss2si_r64_xmmm32, 0, 0x3f80_0001 - (10 << 23), unmask(mx::PE)),
        (Code::Sqrtss_xmm_xmmm32, 0, 0xbf80_0000, unmask(mx::IE)),
        (Code::Comiss_xmm_xmmm32, 0x7fc0_0000, one, unmask(mx::IE)),
        (Code::Ucomiss_xmm_xmmm32, 0x7fc0_0000, one, unmask(mx::IE)),
        (Code::Ucomiss_xmm_xmmm32, 0x7fa0_0000, one, unmask(mx::IE)),
    ];
    for &(code, a, b, csr) in cases {
        let ins = if code.mnemonic() == Mn::Cvttss2si || code.mnemonic() == Mn::Cvtss2si {
            let dst = if format!("{code:?}").contains("r64") { Register::RAX } else { Register::EAX };
            build(code, &[Op::R(dst), Op::R(Register::XMM1)])
        } else {
            build(code, &[Op::R(Register::XMM0), Op::R(Register::XMM1)])
        };
        let bytes = encode(&ins);
        for sticky in [0, mx::PE] {
            let mut ctx = Ctx { mxcsr: csr | sticky, ..Ctx::default() };
            ctx.xmm[0] = a;
            ctx.xmm[1] = b;
            run_case(&Case { bytes: bytes.clone(), ctx, data: vec![0; PAGE], fx: vec![] }, true);
        }
    }
}

/// The interpreter does not run Rust code under the guest's MXCSR: after exotic guest settings
/// the host's MXCSR is unchanged.
#[test]
fn host_mxcsr_is_restored() {
    let mut m = machine();
    m.cpu.mxcsr = 0xffc0;
    m.cpu.xmm[0] = 1f32.to_bits() as u128;
    m.cpu.xmm[1] = 3f32.to_bits() as u128;
    let before = host_mxcsr();
    let ins = build(Code::Divss_xmm_xmmm32, &[Op::R(Register::XMM0), Op::R(Register::XMM1)]);
    TABLE.get(ins.mnemonic())(&mut m, &ins).unwrap();
    let after = host_mxcsr();
    assert_eq!(before, after);
    assert_eq!(m.cpu.mxcsr, 0xffc0 | mx::PE);
    // Round toward zero: 1/3 rounds down.
    assert_eq!(m.cpu.xmm[0] as u32, 0x3eaa_aaaa);
}

fn host_mxcsr() -> u32 {
    let mut v = 0u32;
    // SAFETY: stores the host MXCSR into `v`.
    unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack, preserves_flags)) };
    v
}
