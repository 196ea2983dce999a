//! Instruction-level differential testing of the x86-64 interpreter against the host CPU.
//!
//! Random instruction sequences are drawn from every encoding (iced `Code`) whose mnemonic the
//! interpreter implements, minus a do-not-test list with reasons. Each case runs natively in a
//! forked child (from a prepared register, flag, XMM, MXCSR and memory state) and under the
//! interpreter from the same state; all GPRs, RFLAGS (minus the flags the SDM leaves undefined
//! for the instructions that last wrote them), XMM registers, MXCSR and the data buffer must
//! match.
//!
//! Seeded: `DEJA_DIFF_SEED=N` replays a run (`random` picks one); `DEJA_DIFF_CASES=N` sets
//! the number of cases. A failure prints the seed and the case.

use deja::engine::x86::EngineX86;
use deja::engine::{EngineKind, Exit, Machine};
use deja::isa::x86_64::table::TABLE;
use deja::isa::x86_64::X86State;
use deja::mem::{flags, Memory};
use iced_x86::{
    BlockEncoderOptions, Code, Decoder, DecoderOptions, Encoder, FlowControl, Instruction, InstructionInfoFactory,
    Mnemonic, OpCodeOperandKind as K, OpKind, Register, RflagsBits,
};
use std::collections::BTreeSet;

// ---- fixed addresses shared by the native child and the emulator (below 2 GiB so the
// harness can use absolute 32-bit addressing without a base register) ----
const HARNESS: u64 = 0x3000_0000; // native prologue/epilogue code
const CASES_CODE: u64 = 0x3100_0000; // case code, CASE_STRIDE bytes each
const STATE: u64 = 0x3800_0000; // input and output state slots + scratch
const DATA: u64 = 0x3900_0000; // the data buffer memory operands address
const RESULTS: u64 = 0x4000_0000; // per-case results (shared with the parent)

const CASE_STRIDE: u64 = 128;
/// Ends each case's block in the emulator (see `run_emulated`).
const UD2: [u8; 2] = [0x0f, 0x0b];
const DATA_SIZE: usize = 512;
const MAX_SEQ: usize = 4;

/// Register state exchanged with the native harness.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct St {
    gpr: [u64; 16],
    rflags: u64,
    mxcsr: u32,
    _pad: u32,
    xmm: [u128; 16],
    /// Emulator only: rip when the run stopped (the faulting instruction for faults).
    rip_at_fault: u64,
}

const ST_IN: u64 = STATE;
const ST_OUT: u64 = STATE + 0x400;
const SAVE_RSP: u64 = STATE + 0x800;
const TARGET_SLOT: u64 = STATE + 0x808;
const EPILOGUE_SLOT: u64 = STATE + 0x810;
const FAULT_SIG: u64 = STATE + 0x840;
const FAULT_RIP: u64 = STATE + 0x848;
const FAULT_RETURN_SLOT: u64 = STATE + 0x850;
const OFF_RFLAGS: u64 = 128;
const OFF_MXCSR: u64 = 136;
const OFF_XMM: u64 = 144;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A value biased towards edge cases.
    fn interesting(&mut self) -> u64 {
        match self.below(8) {
            0 => [0, 1, u64::MAX, 0x8000_0000_0000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000, 0x7fff_ffff, 0xffff_ffff]
                [self.below(8) as usize],
            1 => self.below(64),
            2 => 0x80u64 << (8 * self.below(8)),
            3 => self.next() & 0xff,
            4 => (self.next() as i8) as i64 as u64,
            _ => self.next(),
        }
    }
}

// ---- the do-not-test list: mnemonics the interpreter implements that random testing against
// the host cannot check, with the reason ----
fn skip_reason(mn: Mnemonic) -> Option<&'static str> {
    use Mnemonic as M;
    Some(match mn {
        M::Syscall => "leaves the emulated CPU for the platform",
        M::Cpuid => "deja's CPUID is deliberately not the host's (design §6)",
        M::Rdtsc | M::Rdtscp | M::Rdrand | M::Rdseed => "non-deterministic: a recorded input",
        M::Push | M::Pop | M::Pushf | M::Pushfq | M::Popf | M::Popfq | M::Enter | M::Leave | M::Call | M::Ret => {
            "uses the native stack the harness runs on; covered by guest programs"
        }
        M::Jmp | M::Loop | M::Loope | M::Loopne | M::Jrcxz | M::Jecxz => "control flow; covered by guest programs",
        M::Movsb
        | M::Movsw
        | M::Movsd
        | M::Movsq
        | M::Stosb
        | M::Stosw
        | M::Stosd
        | M::Stosq
        | M::Lodsb
        | M::Lodsw
        | M::Lodsd
        | M::Lodsq
        | M::Cmpsb
        | M::Cmpsw
        | M::Cmpsd
        | M::Cmpsq
        | M::Scasb
        | M::Scasw
        | M::Scasd
        | M::Scasq => "string instructions address memory through rsi/rdi; tested in string.rs against the host",
        M::Int3 | M::Ud0 | M::Ud1 | M::Ud2 | M::Hlt | M::Int | M::Into | M::In | M::Out | M::Cli | M::Sti => "faults",
        M::Ldmxcsr | M::Fxrstor | M::Fxrstor64 | M::Xrstor | M::Xrstor64 => "random state faults; tested in sse_fp.rs",
        M::Fxsave | M::Fxsave64 | M::Xsave | M::Xsave64 | M::Xsaveopt | M::Xsavec => {
            "writes 512+ bytes incl. host-specific fields"
        }
        M::Cmpxchg16b | M::Cmpxchg8b => "needs aligned memory; tested in atomic.rs",
        M::Maskmovdqu => "writes through rdi",
        M::Rcpss | M::Rcpps | M::Rsqrtss | M::Rsqrtps => "approximations are implementation-specific",
        M::Bsf | M::Bsr => "destination undefined on zero input differs between vendors",
        _ => return None,
    })
}

/// Encodings excluded individually (beyond whole mnemonics).
fn skip_code(code: Code) -> bool {
    let mn = code.mnemonic();
    // x87 is tested in x87.rs; its state is not part of St.
    let s = format!("{code:?}");
    s.contains("_st") || s.starts_with("F") && mn != Mnemonic::Fxsave
}

/// Operand generation. Returns None when the operand kind is not supported by the generator.
fn gen_operand(rng: &mut Rng, ins: &mut Instruction, i: u32, k: K, mem_size: usize, idx: u64) -> Option<()> {
    // r15 (the data base) and r14 (an index register holding `idx`) are never operands.
    const GPR64: [Register; 13] = [
        Register::RAX,
        Register::RCX,
        Register::RDX,
        Register::RBX,
        Register::RBP,
        Register::RSI,
        Register::RDI,
        Register::R8,
        Register::R9,
        Register::R10,
        Register::R11,
        Register::R12,
        Register::R13,
    ];
    let gpr = |rng: &mut Rng, size: u32| -> Register {
        let r = GPR64[rng.below(GPR64.len() as u64) as usize];
        let n = r as u32 - Register::RAX as u32;
        let reg_of = |base: Register| -> Register {
            let v = base as u32 + n;
            // SAFETY-free conversion: iced registers are contiguous per size.
            Register::values().nth(v as usize).unwrap()
        };
        match size {
            8 => r,
            4 => reg_of(Register::EAX),
            2 => reg_of(Register::AX),
            _ => {
                // 8-bit: low bytes of the same registers (spl is excluded with rsp; sil etc.
                // need REX) plus occasionally ah..bh.
                if n < 4 && rng.below(4) == 0 {
                    Register::values().nth(Register::AH as usize + n as usize).unwrap()
                } else if n < 4 {
                    Register::values().nth(Register::AL as usize + n as usize).unwrap()
                } else {
                    // rbp/rsi/rdi/r8.. -> bpl/sil/dil/r8l..: iced numbers SPL=9, BPL=10 ...
                    Register::values().nth(Register::SPL as usize + (n as usize - 4)).unwrap()
                }
            }
        }
    };
    let xmm = |rng: &mut Rng| Register::values().nth(Register::XMM0 as usize + rng.below(16) as usize).unwrap();
    let set_reg = |ins: &mut Instruction, r: Register| {
        ins.set_op_kind(i, OpKind::Register);
        ins.set_op_register(i, r);
    };
    let set_mem = |rng: &mut Rng, ins: &mut Instruction| {
        ins.set_op_kind(i, OpKind::Memory);
        ins.set_memory_base(Register::R15);
        ins.set_memory_index(Register::None);
        ins.set_memory_index_scale(1);
        let size = mem_size.max(1);
        let disp =
            if size >= 16 { rng.below((DATA_SIZE / 16) as u64) * 16 } else { rng.below((DATA_SIZE - size) as u64 + 1) };
        let disp = disp.min((DATA_SIZE - size) as u64);
        ins.set_memory_displacement64(disp);
        ins.set_memory_displ_size(if disp < 128 { 1 } else { 4 });
        // Sometimes address through the index register r14 (= idx): [r15 + r14*scale + disp]
        // or, without a base, [r14*scale + DATA + disp].
        let form = rng.below(4);
        if size < 16 && form >= 2 {
            let scale = 1u64 << rng.below(4);
            let room = (DATA_SIZE - size) as u64 - idx * scale;
            let disp = rng.below(room + 1);
            ins.set_memory_index(Register::R14);
            ins.set_memory_index_scale(scale as u32);
            if form == 2 {
                ins.set_memory_displacement64(disp);
                ins.set_memory_displ_size(if disp < 128 { 1 } else { 4 });
            } else {
                ins.set_memory_base(Register::None);
                ins.set_memory_displacement64(DATA + disp);
                ins.set_memory_displ_size(4);
            }
        }
    };
    let reg_or_mem = |rng: &mut Rng, ins: &mut Instruction, r: Register| {
        if rng.below(3) == 0 {
            set_mem(rng, ins)
        } else {
            set_reg(ins, r)
        }
    };
    match k {
        K::r8_reg | K::r8_opcode => set_reg(ins, gpr(rng, 1)),
        K::r16_reg | K::r16_opcode | K::r16_rm => set_reg(ins, gpr(rng, 2)),
        K::r32_reg | K::r32_opcode | K::r32_rm => set_reg(ins, gpr(rng, 4)),
        K::r64_reg | K::r64_opcode | K::r64_rm => set_reg(ins, gpr(rng, 8)),
        K::r8_or_mem => {
            let r = gpr(rng, 1);
            reg_or_mem(rng, ins, r)
        }
        K::r16_or_mem => {
            let r = gpr(rng, 2);
            reg_or_mem(rng, ins, r)
        }
        K::r32_or_mem => {
            let r = gpr(rng, 4);
            reg_or_mem(rng, ins, r)
        }
        K::r64_or_mem => {
            let r = gpr(rng, 8);
            reg_or_mem(rng, ins, r)
        }
        K::xmm_reg | K::xmm_rm => set_reg(ins, xmm(rng)),
        K::xmm_or_mem => {
            let r = xmm(rng);
            reg_or_mem(rng, ins, r)
        }
        K::mem => set_mem(rng, ins),
        K::al => set_reg(ins, Register::AL),
        K::cl => set_reg(ins, Register::CL),
        K::ax => set_reg(ins, Register::AX),
        K::eax => set_reg(ins, Register::EAX),
        K::rax => set_reg(ins, Register::RAX),
        K::imm8 => {
            ins.set_op_kind(i, OpKind::Immediate8);
            ins.set_immediate8(rng.interesting() as u8);
        }
        K::imm8_const_1 => {
            ins.set_op_kind(i, OpKind::Immediate8);
            ins.set_immediate8(1);
        }
        K::imm8sex16 => {
            ins.set_op_kind(i, OpKind::Immediate8to16);
            ins.set_immediate8to16(rng.interesting() as i8 as i16);
        }
        K::imm8sex32 => {
            ins.set_op_kind(i, OpKind::Immediate8to32);
            ins.set_immediate8to32(rng.interesting() as i8 as i32);
        }
        K::imm8sex64 => {
            ins.set_op_kind(i, OpKind::Immediate8to64);
            ins.set_immediate8to64(rng.interesting() as i8 as i64);
        }
        K::imm16 => {
            ins.set_op_kind(i, OpKind::Immediate16);
            ins.set_immediate16(rng.interesting() as u16);
        }
        K::imm32 => {
            ins.set_op_kind(i, OpKind::Immediate32);
            ins.set_immediate32(rng.interesting() as u32);
        }
        K::imm32sex64 => {
            ins.set_op_kind(i, OpKind::Immediate32to64);
            ins.set_immediate32to64(rng.interesting() as i32 as i64);
        }
        K::imm64 => {
            ins.set_op_kind(i, OpKind::Immediate64);
            ins.set_immediate64(rng.interesting());
        }
        _ => return None,
    }
    Some(())
}

/// Is a CPUID feature advertised by deja's (fixed) CPUID? Instructions whose features are not
/// advertised are not expected to work, so they are not generated.
fn advertised(f: iced_x86::CpuidFeature) -> bool {
    use deja::isa::x86_64::system::cpuid_values;
    use iced_x86::CpuidFeature as F;
    let bit = |leaf: u32, reg: usize, b: u32| cpuid_values(leaf, 0)[reg] & (1 << b) != 0;
    match f {
        F::INTEL8086 | F::INTEL186 | F::INTEL286 | F::INTEL386 | F::INTEL486 | F::X64 | F::MULTIBYTENOP | F::PAUSE => {
            true
        }
        F::CMOV => bit(1, 3, 15),
        F::CX8 => bit(1, 3, 8),
        F::FXSR => bit(1, 3, 24),
        F::SSE => bit(1, 3, 25),
        F::SSE2 => bit(1, 3, 26),
        F::SSE3 => bit(1, 2, 0),
        F::SSSE3 => bit(1, 2, 9),
        F::CMPXCHG16B => bit(1, 2, 13),
        F::SSE4_1 => bit(1, 2, 19),
        F::SSE4_2 => bit(1, 2, 20),
        F::MOVBE => bit(1, 2, 22),
        F::POPCNT => bit(1, 2, 23),
        F::LZCNT => bit(0x8000_0001, 2, 5),
        F::BMI1 => bit(7, 1, 3),
        _ => false,
    }
}

/// Encodings eligible for random testing.
fn candidate_codes() -> Vec<Code> {
    Code::values()
        .filter(|&c| {
            let oc = c.op_code();
            oc.is_instruction()
                && oc.mode64()
                && oc.encoding() == iced_x86::EncodingKind::Legacy
                && !oc.is_privileged()
                && TABLE.is_implemented(c.mnemonic())
                && c.cpuid_features().iter().all(|&f| advertised(f))
                && skip_reason(c.mnemonic()).is_none()
                && !skip_code(c)
                && !matches!(c.flow_control(), FlowControl::ConditionalBranch | FlowControl::UnconditionalBranch)
        })
        .collect()
}

/// Build one random instruction of `code`, or None if it cannot be generated or encoded.
fn gen_insn(rng: &mut Rng, code: Code, idx: u64) -> Option<(Instruction, Vec<u8>)> {
    let oc = code.op_code();
    // Not Instruction::with(): it debug-asserts an operand count of zero.
    let mut ins = Instruction::default();
    ins.set_code(code);
    ins.set_code_size(iced_x86::CodeSize::Code64);
    let mem_size = ins.memory_size().size();
    for (i, &k) in oc.op_kinds().iter().enumerate() {
        gen_operand(rng, &mut ins, i as u32, k, mem_size, idx)?;
    }
    // bt/bts/btr/btc with a memory operand and a register bit offset address up to ±2^60
    // bytes away: natively they could hit the harness itself. Tested in bit.rs instead.
    if matches!(code.mnemonic(), Mnemonic::Bt | Mnemonic::Bts | Mnemonic::Btr | Mnemonic::Btc)
        && ins.op0_kind() == OpKind::Memory
        && ins.op1_kind() == OpKind::Register
    {
        return None;
    }
    // Operands the harness depends on must not be written: rsp and the data base r15 are
    // excluded by construction; reject anything else touching rsp.
    let mut enc = Encoder::new(64);
    enc.encode(&ins, CASES_CODE).ok()?;
    let bytes = enc.take_buffer();
    // Re-decode to get exactly what the CPU will see.
    let mut dec = Decoder::with_ip(64, &bytes, CASES_CODE, DecoderOptions::NONE);
    let d = dec.decode();
    if d.is_invalid() || d.code() != code {
        return None;
    }
    let mut info = InstructionInfoFactory::new();
    let used = info.info(&d);
    if used.used_memory().iter().any(|m| {
        !matches!(
            (m.base(), m.index()),
            (Register::R15, Register::None | Register::R14) | (Register::None, Register::R14)
        )
    }) {
        return None; // implicit memory operands (xlat, …) would address outside the buffer
    }
    for r in used.used_registers() {
        let full = r.register().full_register();
        if full == Register::RSP
            || (matches!(full, Register::R15 | Register::R14) && r.access() != iced_x86::OpAccess::Read)
        {
            return None;
        }
    }
    Some((d, bytes))
}

/// iced RflagsBits -> x86 RFLAGS bits.
fn rflags_mask(bits: u32) -> u64 {
    let mut m = 0;
    for (ib, xb) in [
        (RflagsBits::OF, 1u64 << 11),
        (RflagsBits::SF, 1 << 7),
        (RflagsBits::ZF, 1 << 6),
        (RflagsBits::AF, 1 << 4),
        (RflagsBits::CF, 1 << 0),
        (RflagsBits::PF, 1 << 2),
        (RflagsBits::DF, 1 << 10),
    ] {
        if bits & ib != 0 {
            m |= xb;
        }
    }
    m
}

struct Case {
    code: Vec<u8>,
    insns: Vec<Instruction>,
    init: St,
    data: [u8; DATA_SIZE],
    /// RFLAGS bits undefined at the end of the sequence.
    undef: u64,
}

fn gen_case(rng: &mut Rng, codes: &[Code]) -> Case {
    loop {
        let n = 1 + rng.below(MAX_SEQ as u64) as usize;
        let mut code = Vec::new();
        let mut insns = Vec::new();
        let mut undef = 0u64;
        let mut ok = true;
        let idx = rng.below(16);
        for _ in 0..n {
            let c = codes[rng.below(codes.len() as u64) as usize];
            let Some((ins, bytes)) = gen_insn(rng, c, idx) else {
                ok = false;
                break;
            };
            // An instruction must not read a flag a previous one left undefined.
            let read = rflags_mask(ins.rflags_read());
            if read & undef != 0 {
                ok = false;
                break;
            }
            let written = rflags_mask(ins.rflags_modified());
            undef = (undef & !written) | rflags_mask(ins.rflags_undefined());
            code.extend_from_slice(&bytes);
            insns.push(ins);
        }
        if !ok || code.len() + 16 > CASE_STRIDE as usize {
            continue;
        }
        let mut init = St::default();
        for g in init.gpr.iter_mut() {
            *g = rng.interesting();
        }
        init.gpr[4] = 0; // rsp: the harness's own
        init.gpr[15] = DATA;
        init.gpr[14] = idx;
        // CF PF AF ZF SF OF random, DF clear (string ops excluded), bit 1 set, IF set.
        init.rflags = (rng.next() & 0x8d5) | 0x202;
        init.mxcsr = 0x1f80 | ((rng.below(4) as u32) << 13);
        for x in init.xmm.iter_mut() {
            *x = ((rng.interesting() as u128) << 64) | rng.interesting() as u128;
            if rng.below(4) == 0 {
                // Floating-point-shaped lanes: small doubles and floats.
                let d = (rng.below(2000) as f64 - 1000.0) / 7.0;
                let f = (rng.below(2000) as f32 - 1000.0) / 3.0;
                *x = (d.to_bits() as u128) | ((f.to_bits() as u128) << 64);
            }
        }
        let mut data = [0u8; DATA_SIZE];
        for chunk in data.chunks_mut(8) {
            let v = rng.interesting().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        return Case { code, insns, init, data, undef };
    }
}

// ---- native execution ----

fn assemble_harness() -> (Vec<u8>, u64, u64) {
    // Hand-assembled with iced's encoder: prologue at HARNESS, epilogue after it.
    use iced_x86::code_asm::*;
    let mut a = CodeAssembler::new(64).unwrap();
    for r in [rbx, rbp, r12, r13, r14, r15] {
        a.push(r).unwrap();
    }
    a.mov(qword_ptr(SAVE_RSP), rsp).unwrap();
    let xmms = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
    for (i, x) in xmms.iter().enumerate() {
        a.movdqu(*x, xmmword_ptr(ST_IN + OFF_XMM + 16 * i as u64)).unwrap();
    }
    a.ldmxcsr(dword_ptr(ST_IN + OFF_MXCSR)).unwrap();
    a.push(qword_ptr(ST_IN + OFF_RFLAGS)).unwrap();
    a.popfq().unwrap();
    let gprs = [rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15];
    for (i, g) in gprs.iter().enumerate() {
        if i != 4 {
            a.mov(*g, qword_ptr(ST_IN + 8 * i as u64)).unwrap();
        }
    }
    a.jmp(qword_ptr(TARGET_SLOT)).unwrap();
    let mut epi = a.create_label();
    a.set_label(&mut epi).unwrap();
    for (i, g) in gprs.iter().enumerate() {
        if i != 4 {
            a.mov(qword_ptr(ST_OUT + 8 * i as u64), *g).unwrap();
        }
    }
    a.pushfq().unwrap();
    a.pop(qword_ptr(ST_OUT + OFF_RFLAGS)).unwrap();
    a.stmxcsr(dword_ptr(ST_OUT + OFF_MXCSR)).unwrap();
    for (i, x) in xmms.iter().enumerate() {
        a.movdqu(xmmword_ptr(ST_OUT + OFF_XMM + 16 * i as u64), *x).unwrap();
    }
    // A faulting case resumes here from the child's signal handler (state is not saved).
    let mut fault_return = a.create_label();
    a.set_label(&mut fault_return).unwrap();
    // Restore a sane MXCSR for the rest of the child.
    a.mov(dword_ptr(SAVE_RSP + 0x20), 0x1f80u32).unwrap();
    a.ldmxcsr(dword_ptr(SAVE_RSP + 0x20)).unwrap();
    a.mov(rsp, qword_ptr(SAVE_RSP)).unwrap();
    for r in [r15, r14, r13, r12, rbp, rbx] {
        a.pop(r).unwrap();
    }
    a.cld().unwrap();
    a.ret().unwrap();
    let r = a.assemble_options(HARNESS, BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS).unwrap();
    let epi_addr = r.label_ip(&epi).unwrap();
    let fault_addr = r.label_ip(&fault_return).unwrap();
    (r.inner.code_buffer, epi_addr, fault_addr)
}

fn map_fixed(addr: u64, len: usize, prot: i32, shared: bool) {
    let fl =
        libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE | if shared { libc::MAP_SHARED } else { libc::MAP_PRIVATE };
    // SAFETY: fixed mapping at an address range this test owns (NOREPLACE refuses clashes).
    let p = unsafe { libc::mmap(addr as *mut _, len, prot, fl, -1, 0) };
    assert_eq!(p as u64, addr, "cannot map the differential-test harness at {addr:#x}");
}

/// Per-case native results stored in the shared RESULTS area.
#[repr(C)]
#[derive(Clone, Copy)]
struct NativeOut {
    st: St,
    data: [u8; DATA_SIZE],
    /// Signal the case raised natively (0 if none) and the faulting rip.
    fault_sig: u64,
    fault_rip: u64,
}

/// Child-side handler for a faulting case: note the signal and rip, and resume at the
/// harness's fault-return code (which restores the harness stack and returns).
extern "C" fn fault_handler(sig: i32, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: called by the kernel with a valid ucontext; the slots are our fixed mappings.
    unsafe {
        let uc = ctx as *mut libc::ucontext_t;
        *(FAULT_SIG as *mut u64) = sig as u64;
        *(FAULT_RIP as *mut u64) = (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as u64;
        (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] = *(FAULT_RETURN_SLOT as *const u64) as i64;
    }
}

/// Run all cases natively in a forked child; returns their outputs.
fn run_native(cases: &[Case]) -> Vec<NativeOut> {
    let (harness, epilogue, fault_return) = assemble_harness();
    let code_len = (cases.len() as u64 * CASE_STRIDE).next_multiple_of(4096) as usize;
    let res_len = (cases.len() * std::mem::size_of::<NativeOut>()).next_multiple_of(4096);
    let rwx = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    map_fixed(HARNESS, 0x10000, rwx, false);
    map_fixed(CASES_CODE, code_len, rwx, false);
    map_fixed(STATE, 0x1000, rw, false);
    map_fixed(DATA, 0x1000, rw, false);
    map_fixed(RESULTS, res_len, rw, true);
    // SAFETY: all writes below go to the fixed mappings just created, sized for them.
    unsafe {
        std::ptr::copy_nonoverlapping(harness.as_ptr(), HARNESS as *mut u8, harness.len());
        for (i, c) in cases.iter().enumerate() {
            let at = (CASES_CODE + i as u64 * CASE_STRIDE) as *mut u8;
            std::ptr::copy_nonoverlapping(c.code.as_ptr(), at, c.code.len());
            // jmp qword ptr [EPILOGUE_SLOT]: ff 24 25 disp32
            let tail = [0xff, 0x24, 0x25];
            std::ptr::copy_nonoverlapping(tail.as_ptr(), at.add(c.code.len()), 3);
            std::ptr::copy_nonoverlapping((EPILOGUE_SLOT as u32).to_le_bytes().as_ptr(), at.add(c.code.len() + 3), 4);
        }
        *(EPILOGUE_SLOT as *mut u64) = epilogue;
        *(FAULT_RETURN_SLOT as *mut u64) = fault_return;
    }
    // SAFETY: the child only runs pre-built code and copies memory (no allocation, no locks),
    // then _exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        unsafe {
            for sig in [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL] {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = fault_handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
            for (i, c) in cases.iter().enumerate() {
                *(FAULT_SIG as *mut u64) = 0;
                std::ptr::copy_nonoverlapping(&c.init as *const St, ST_IN as *mut St, 1);
                std::ptr::copy_nonoverlapping(c.data.as_ptr(), DATA as *mut u8, DATA_SIZE);
                *(TARGET_SLOT as *mut u64) = CASES_CODE + i as u64 * CASE_STRIDE;
                let f: extern "C" fn() = std::mem::transmute(HARNESS as usize);
                f();
                let out = (RESULTS as *mut NativeOut).add(i);
                (*out).fault_sig = *(FAULT_SIG as *const u64);
                (*out).fault_rip = *(FAULT_RIP as *const u64);
                std::ptr::copy_nonoverlapping(ST_OUT as *const St, &mut (*out).st, 1);
                std::ptr::copy_nonoverlapping(DATA as *const u8, (*out).data.as_mut_ptr(), DATA_SIZE);
            }
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let outs = (0..cases.len())
        // SAFETY: RESULTS holds cases.len() NativeOut records written by the child.
        .map(|i| unsafe { *(RESULTS as *const NativeOut).add(i) })
        .collect();
    // SAFETY: unmapping what map_fixed created.
    unsafe {
        libc::munmap(HARNESS as *mut _, 0x10000);
        libc::munmap(CASES_CODE as *mut _, code_len);
        libc::munmap(STATE as *mut _, 0x1000);
        libc::munmap(DATA as *mut _, 0x1000);
        libc::munmap(RESULTS as *mut _, res_len);
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "native child died (status {status:#x}): a generated instruction faulted natively"
    );
    outs
}

// ---- emulated execution ----

/// Run every case under the engine `kind` (the JIT translates from the interpreter's ops, so
/// `specialize` applies to both); `specialize` picks the specialised handlers (the
/// default) or the reference table handlers only. Each case's code is followed by a `ud2`,
/// which ends its block. With `whole_block`, the budget covers the `ud2` too, so the block
/// runs to its end (the interpreter may then skip flag writes it proves dead) and stops at
/// the `ud2`'s #UD, which is reported as `Exit::Budget`; otherwise the budget stops right
/// before the `ud2`.
fn run_emulated(
    cases: &[Case],
    kind: EngineKind,
    specialize: bool,
    whole_block: bool,
) -> Vec<(St, [u8; DATA_SIZE], Exit)> {
    let mut mem = Memory::new(1 << 32).unwrap();
    let code_len = (cases.len() as u64 * CASE_STRIDE).next_multiple_of(4096);
    mem.map(CASES_CODE, code_len, flags::R | flags::X);
    mem.map(DATA, 0x1000, flags::R | flags::W);
    for (i, c) in cases.iter().enumerate() {
        mem.poke(CASES_CODE + i as u64 * CASE_STRIDE, &c.code).unwrap();
        mem.poke(CASES_CODE + i as u64 * CASE_STRIDE + c.code.len() as u64, &UD2).unwrap();
    }
    let mut m = Machine { cpu: X86State::default(), mem, icount: 0, limit: 0 };
    let mut engine = EngineX86::new(kind, false);
    engine.set_specialize(specialize);
    let mut outs = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        m.cpu = X86State::default();
        m.cpu.gpr = c.init.gpr;
        m.cpu.rflags = c.init.rflags;
        m.cpu.mxcsr = c.init.mxcsr;
        m.cpu.xmm = c.init.xmm;
        m.cpu.rip = CASES_CODE + i as u64 * CASE_STRIDE;
        m.mem.poke(DATA, &c.data).unwrap();
        let start = m.cpu.rip;
        let mut exit = engine.run(&mut m, c.insns.len() as u64 + whole_block as u64);
        if whole_block {
            let ud2 = start + c.code.len() as u64;
            if matches!(&exit, Exit::Fault(f) if f.signo == libc::SIGILL && m.cpu.rip == ud2) {
                exit = Exit::Budget;
            }
        }
        let mut data = [0u8; DATA_SIZE];
        m.mem.peek(DATA, &mut data).unwrap();
        let st = St {
            gpr: m.cpu.gpr,
            rflags: m.cpu.rflags,
            mxcsr: m.cpu.mxcsr,
            _pad: 0,
            xmm: m.cpu.xmm,
            rip_at_fault: m.cpu.rip,
        };
        outs.push((st, data, exit));
    }
    outs
}

fn describe(c: &Case) -> String {
    let mut s = String::new();
    for ins in &c.insns {
        s.push_str(&format!("    {}   ({:?})\n", deja::isa::x86_64::disasm(ins), ins.code()));
    }
    s
}

fn compare(
    seed: u64,
    idx: usize,
    c: &Case,
    native: &NativeOut,
    emu: &(St, [u8; DATA_SIZE], Exit),
) -> Result<(), String> {
    let (est, edata, exit) = emu;
    let mut diffs = Vec::new();
    if native.fault_sig != 0 {
        // The case faulted natively: deja must raise the same signal at the same instruction.
        match exit {
            Exit::Fault(f) if f.signo as u64 == native.fault_sig && est.rip_at_fault == native.fault_rip => {
                return Ok(())
            }
            _ => {
                return Err(format!(
                    "seed {seed} case {idx}:\n{}  native raised signal {} at {:#x}; deja: {exit:?} at {:#x}",
                    describe(c),
                    native.fault_sig,
                    native.fault_rip,
                    est.rip_at_fault
                ))
            }
        }
    }
    if *exit != Exit::Budget {
        diffs.push(format!("emulator exit {exit:?} (expected all {} instructions to retire)", c.insns.len()));
    }
    let names =
        ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
    for (i, name) in names.iter().enumerate() {
        if i != 4 && native.st.gpr[i] != est.gpr[i] {
            diffs.push(format!(
                "{name}: native {:#x} deja {:#x} (initial {:#x})",
                native.st.gpr[i], est.gpr[i], c.init.gpr[i]
            ));
        }
    }
    let fmask = 0x8d5 & !c.undef;
    if native.st.rflags & fmask != est.rflags & fmask {
        diffs.push(format!(
            "rflags: native {:#x} deja {:#x} (compared bits {fmask:#x}, initial {:#x})",
            native.st.rflags, est.rflags, c.init.rflags
        ));
    }
    if native.st.mxcsr != est.mxcsr {
        diffs.push(format!("mxcsr: native {:#x} deja {:#x} (initial {:#x})", native.st.mxcsr, est.mxcsr, c.init.mxcsr));
    }
    for i in 0..16 {
        if native.st.xmm[i] != est.xmm[i] {
            diffs.push(format!(
                "xmm{i}: native {:#034x} deja {:#034x} (initial {:#034x})",
                native.st.xmm[i], est.xmm[i], c.init.xmm[i]
            ));
        }
    }
    if native.data[..] != edata[..] {
        let off = (0..DATA_SIZE).find(|&o| native.data[o] != edata[o]).unwrap();
        diffs.push(format!(
            "memory at data+{off}: native {:02x?} deja {:02x?}",
            &native.data[off..(off + 8).min(DATA_SIZE)],
            &edata[off..(off + 8).min(DATA_SIZE)]
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!("seed {seed} case {idx}:\n{}  differences:\n    {}", describe(c), diffs.join("\n    ")))
    }
}

fn seed() -> u64 {
    match std::env::var("DEJA_DIFF_SEED") {
        Ok(s) if s == "random" => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        }
        Ok(s) => s.parse().expect("DEJA_DIFF_SEED must be a number or 'random'"),
        Err(_) => 0x5eed_dea1_2026,
    }
}

type Runs = Option<Vec<(St, [u8; DATA_SIZE], Exit)>>;

/// The cases under the JIT, whole blocks and cut by the budget (None without the JIT).
fn jit_runs(cases: &[Case]) -> (Runs, Runs) {
    #[cfg(feature = "jit")]
    {
        (
            Some(run_emulated(cases, EngineKind::Jit, true, true)),
            Some(run_emulated(cases, EngineKind::Jit, true, false)),
        )
    }
    #[cfg(not(feature = "jit"))]
    {
        let _ = cases;
        (None, None)
    }
}

#[test]
fn random_sequences_match_host_cpu() {
    let seed = seed();
    let total: usize = std::env::var("DEJA_DIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let codes = candidate_codes();
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    let mut mnemonics = BTreeSet::new();
    let mut instructions = 0usize;
    let batch = 10_000;
    let mut done = 0;
    while done < total {
        let n = batch.min(total - done);
        let cases: Vec<Case> = (0..n).map(|_| gen_case(&mut rng, &codes)).collect();
        let native = run_native(&cases);
        let emu = run_emulated(&cases, EngineKind::Interp, true, true);
        let cut = run_emulated(&cases, EngineKind::Interp, true, false);
        let reference = run_emulated(&cases, EngineKind::Interp, false, false);
        let jit = jit_runs(&cases);
        for (i, c) in cases.iter().enumerate() {
            instructions += c.insns.len();
            for ins in &c.insns {
                mnemonics.insert(ins.mnemonic());
            }
            if let Err(e) = compare(seed, done + i, c, &native[i], &emu[i]) {
                failures.push(e);
            }
            // The specialised handlers must agree with the reference ones bit for bit, the
            // flags the SDM leaves undefined included.
            if emu[i] != reference[i] || cut[i] != reference[i] {
                failures.push(format!(
                    "seed {seed} case {}:\n{}  specialised handlers {:?}\n  the same, budget before the block end {:?}\n  reference handlers  {:?}",
                    done + i,
                    describe(c),
                    emu[i],
                    cut[i],
                    reference[i]
                ));
            }
            // The JIT must leave exactly the interpreter's state (design §2), whole blocks
            // and blocks the budget cuts alike.
            for (what, runs, interp) in [("whole block", &jit.0, &emu), ("budget before the block end", &jit.1, &cut)] {
                if let Some(runs) = runs {
                    if runs[i] != interp[i] {
                        failures.push(format!(
                            "seed {seed} case {}:\n{}  jit ({what}) {:?}\n  interpreter      {:?}",
                            done + i,
                            describe(c),
                            runs[i],
                            interp[i]
                        ));
                    }
                }
            }
        }
        done += n;
    }
    eprintln!(
        "differential: seed {seed}, {total} cases, {instructions} instructions, {} distinct mnemonics, {} failures",
        mnemonics.len(),
        failures.len()
    );
    if !failures.is_empty() {
        let shown: Vec<_> = failures.iter().take(15).cloned().collect();
        panic!(
            "{} of {total} cases differ from the host CPU (replay with DEJA_DIFF_SEED={seed}):\n{}",
            failures.len(),
            shown.join("\n")
        );
    }
    assert!(instructions >= 100_000 || total < 50_000, "too few instructions: {instructions}");
    let min_mn: usize = std::env::var("DEJA_DIFF_MIN_MNEMONICS").ok().and_then(|s| s.parse().ok()).unwrap_or(150);
    assert!(
        mnemonics.len() >= min_mn,
        "only {} distinct mnemonics covered (want {min_mn}): {:?}",
        mnemonics.len(),
        mnemonics
    );
}
