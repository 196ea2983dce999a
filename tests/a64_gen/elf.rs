//! A tiny static AArch64 ELF around a batch of cases, built in Rust (no cross toolchain):
//! for each case, a prologue loads the case's input [`State`] (X0–X30, SP, NZCV, FPCR, FPSR,
//! V0–V31) from the data area, the case's instructions run, and an epilogue stores the same
//! state to the case's output slot (using TPIDR_EL0 as the one scratch register). After the
//! last case the program writes every output slot and every case's data buffer to stdout
//! and exits with status 0.

use super::{off, Case, State, BASE_OFFSET, BASE_REG, BUF_SIZE};

/// Guest address of the ELF headers; code follows at `TEXT + 0x1000`.
pub const TEXT: u64 = 0x40_0000;
/// Guest address of the data segment: input states, then output states, then buffers.
pub const DATA: u64 = 0x1000_0000;
const SEG_ALIGN: u64 = 0x1_0000;

/// Where things are in a built ELF.
#[derive(Clone, Debug)]
pub struct Layout {
    pub n: usize,
    /// Address of each case's first instruction, and one past its last.
    pub body: Vec<(u64, u64)>,
    pub inputs: u64,
    pub outputs: u64,
    pub bufs: u64,
    /// Bytes the program writes to stdout: outputs and buffers, from `outputs`.
    pub out_len: usize,
}

impl Layout {
    pub fn input(&self, i: usize) -> u64 {
        self.inputs + (i * off::SIZE) as u64
    }
    pub fn output(&self, i: usize) -> u64 {
        self.outputs + (i * off::SIZE) as u64
    }
    pub fn buf(&self, i: usize) -> u64 {
        self.bufs + (i * BUF_SIZE) as u64
    }
    /// (case, instruction index) of a guest pc inside a case body.
    pub fn locate(&self, pc: u64) -> Option<(usize, usize)> {
        self.body.iter().position(|&(s, e)| pc >= s && pc < e).map(|i| (i, ((pc - self.body[i].0) / 4) as usize))
    }
}

/// The input state of a case as the ELF loads it (the buffer base filled in).
pub fn input_state(c: &Case, buf_addr: u64) -> State {
    let mut s = c.init;
    if c.memory {
        s.x[BASE_REG as usize] = buf_addr + BASE_OFFSET;
    }
    s
}

// ---- encoders for the handful of instructions the harness itself uses ----

pub fn movz(rd: u32, imm16: u32, hw: u32) -> u32 {
    0xd280_0000 | (hw << 21) | ((imm16 & 0xffff) << 5) | rd
}
pub fn movk(rd: u32, imm16: u32, hw: u32) -> u32 {
    0xf280_0000 | (hw << 21) | ((imm16 & 0xffff) << 5) | rd
}
/// LDP/STP Qt1, Qt2, [Xn, #imm] (signed offset, imm a multiple of 16).
pub fn ldp_q(rt: u32, rt2: u32, rn: u32, imm: u32) -> u32 {
    0xad40_0000 | (((imm / 16) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt
}
pub fn stp_q(rt: u32, rt2: u32, rn: u32, imm: u32) -> u32 {
    0xad00_0000 | (((imm / 16) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt
}
/// LDP/STP Xt1, Xt2, [Xn, #imm] (signed offset, imm a multiple of 8).
pub fn ldp_x(rt: u32, rt2: u32, rn: u32, imm: u32) -> u32 {
    0xa940_0000 | (((imm / 8) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt
}
pub fn stp_x(rt: u32, rt2: u32, rn: u32, imm: u32) -> u32 {
    0xa900_0000 | (((imm / 8) & 0x7f) << 15) | (rt2 << 10) | (rn << 5) | rt
}
/// LDR/STR Xt, [Xn, #imm] (unsigned offset, imm a multiple of 8).
pub fn ldr_x(rt: u32, rn: u32, imm: u32) -> u32 {
    0xf940_0000 | ((imm / 8) << 10) | (rn << 5) | rt
}
pub fn str_x(rt: u32, rn: u32, imm: u32) -> u32 {
    0xf900_0000 | ((imm / 8) << 10) | (rn << 5) | rt
}
/// A system register as MSR/MRS encode it: op0<0>:op1:CRn:CRm:op2 (bits 19..5).
pub const fn sr(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    ((op0 & 1) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}
pub const SR_NZCV: u32 = sr(3, 3, 4, 2, 0);
pub const SR_FPCR: u32 = sr(3, 3, 4, 4, 0);
pub const SR_FPSR: u32 = sr(3, 3, 4, 4, 1);
pub const SR_TPIDR_EL0: u32 = sr(3, 3, 13, 0, 2);
pub fn msr(sr: u32, rt: u32) -> u32 {
    0xd510_0000 | ((sr & 0x7fff) << 5) | rt
}
pub fn mrs(rt: u32, sr: u32) -> u32 {
    0xd530_0000 | ((sr & 0x7fff) << 5) | rt
}
/// ADD Xd|SP, Xn|SP, #0 (MOV to/from SP).
pub fn mov_sp(rd: u32, rn: u32) -> u32 {
    0x9100_0000 | (rn << 5) | rd
}
pub const SVC0: u32 = 0xd400_0001;
/// ADD/SUB Xd, Xn, Xm.
pub fn add_x(rd: u32, rn: u32, rm: u32) -> u32 {
    0x8b00_0000 | (rm << 16) | (rn << 5) | rd
}
pub fn sub_x(rd: u32, rn: u32, rm: u32) -> u32 {
    0xcb00_0000 | (rm << 16) | (rn << 5) | rd
}
/// CMP Xn, #0.
pub fn cmp0(rn: u32) -> u32 {
    0xf100_001f | (rn << 5)
}
/// B.cond / CBNZ Xt to a word offset (relative, in instructions).
pub fn b_cond(cond: u32, rel: i32) -> u32 {
    0x5400_0000 | (((rel as u32) & 0x7ffff) << 5) | cond
}
pub fn cbnz(rt: u32, rel: i32) -> u32 {
    0xb500_0000 | (((rel as u32) & 0x7ffff) << 5) | rt
}

/// Load a 32-bit address into Xd.
fn mov_addr(code: &mut Vec<u32>, rd: u32, a: u64) {
    assert!(a < 1 << 32);
    code.push(movz(rd, a as u32 & 0xffff, 0));
    code.push(movk(rd, (a >> 16) as u32 & 0xffff, 1));
}

/// Load every register of the state at `addr` (x30 is the base and is loaded last).
fn prologue(code: &mut Vec<u32>, addr: u64) {
    mov_addr(code, 30, addr);
    for i in (0..32).step_by(2) {
        code.push(ldp_q(i, i + 1, 30, (off::V + 16 * i as usize) as u32));
    }
    for (sr, o) in [(SR_FPCR, off::FPCR), (SR_FPSR, off::FPSR), (SR_NZCV, off::NZCV)] {
        code.push(ldr_x(0, 30, o as u32));
        code.push(msr(sr, 0));
    }
    code.push(ldr_x(0, 30, off::SP as u32));
    code.push(mov_sp(31, 0));
    for i in (0..30).step_by(2) {
        code.push(ldp_x(i, i + 1, 30, (off::X + 8 * i as usize) as u32));
    }
    code.push(ldr_x(30, 30, (off::X + 8 * 30) as u32));
}

/// Store every register to the state at `addr`, with TPIDR_EL0 holding x0 meanwhile.
fn epilogue(code: &mut Vec<u32>, addr: u64) {
    code.push(msr(SR_TPIDR_EL0, 0));
    mov_addr(code, 0, addr);
    code.push(str_x(1, 0, 8));
    for i in (2..30).step_by(2) {
        code.push(stp_x(i, i + 1, 0, 8 * i));
    }
    code.push(str_x(30, 0, 8 * 30));
    code.push(mrs(1, SR_TPIDR_EL0));
    code.push(str_x(1, 0, 0));
    code.push(mov_sp(1, 31));
    code.push(str_x(1, 0, off::SP as u32));
    for (sr, o) in [(SR_NZCV, off::NZCV), (SR_FPCR, off::FPCR), (SR_FPSR, off::FPSR)] {
        code.push(mrs(1, sr));
        code.push(str_x(1, 0, o as u32));
    }
    for i in (0..32).step_by(2) {
        code.push(stp_q(i, i + 1, 0, (off::V + 16 * i as usize) as u32));
    }
}

/// write(1, out, len) until done, then exit_group(0).
fn finish(code: &mut Vec<u32>, out: u64, len: usize) {
    mov_addr(code, 1, out);
    mov_addr(code, 2, len as u64);
    let top = code.len();
    code.push(movz(0, 1, 0));
    code.push(movz(8, 64, 0)); // write
    code.push(SVC0);
    code.push(cmp0(0));
    code.push(b_cond(13, 4)); // b.le exit (error or nothing written)
    code.push(add_x(1, 1, 0));
    code.push(sub_x(2, 2, 0));
    code.push(cbnz(2, top as i32 - code.len() as i32));
    // exit_group(0); a short or failed write shows as missing output
    code.push(movz(0, 0, 0));
    code.push(movz(8, 94, 0)); // exit_group
    code.push(SVC0);
}

/// Build the ELF for `cases`.
pub fn build(cases: &[Case]) -> (Vec<u8>, Layout) {
    let n = cases.len();
    let inputs = DATA;
    let outputs = inputs + (n * off::SIZE) as u64;
    let bufs = outputs + (n * off::SIZE) as u64;
    let out_len = n * off::SIZE + n * BUF_SIZE;
    let code_addr = TEXT + 0x1000;
    let mut code = Vec::new();
    let mut body = Vec::with_capacity(n);
    for (i, c) in cases.iter().enumerate() {
        prologue(&mut code, inputs + (i * off::SIZE) as u64);
        let start = code_addr + 4 * code.len() as u64;
        code.extend_from_slice(&c.words);
        body.push((start, start + 4 * c.words.len() as u64));
        epilogue(&mut code, outputs + (i * off::SIZE) as u64);
    }
    finish(&mut code, outputs, out_len);
    let layout = Layout { n, body, inputs, outputs, bufs, out_len };

    let mut data = Vec::with_capacity(2 * n * off::SIZE + n * BUF_SIZE);
    for (i, c) in cases.iter().enumerate() {
        data.extend_from_slice(&input_state(c, layout.buf(i)).to_bytes());
    }
    data.resize(2 * n * off::SIZE, 0);
    for c in cases {
        data.extend_from_slice(&c.buf);
    }

    let code_bytes: Vec<u8> = code.iter().flat_map(|w| w.to_le_bytes()).collect();
    let text_size = 0x1000 + code_bytes.len() as u64;
    let data_off = text_size.div_ceil(SEG_ALIGN) * SEG_ALIGN;
    assert!(TEXT + data_off <= DATA, "code too large for the layout");

    let mut f = Vec::with_capacity(data_off as usize + data.len());
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&code_addr.to_le_bytes()); // e_entry
    f.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    f.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f.extend_from_slice(&2u16.to_le_bytes()); // e_phnum
    f.extend_from_slice(&[0; 6]); // e_shentsize, e_shnum, e_shstrndx
    let phdr = |f: &mut Vec<u8>, flags: u32, off: u64, vaddr: u64, size: u64| {
        f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f.extend_from_slice(&flags.to_le_bytes());
        f.extend_from_slice(&off.to_le_bytes());
        f.extend_from_slice(&vaddr.to_le_bytes());
        f.extend_from_slice(&vaddr.to_le_bytes());
        f.extend_from_slice(&size.to_le_bytes());
        f.extend_from_slice(&size.to_le_bytes());
        f.extend_from_slice(&SEG_ALIGN.to_le_bytes());
    };
    phdr(&mut f, 5, 0, TEXT, text_size); // R X
    phdr(&mut f, 6, data_off, DATA, data.len() as u64); // R W
    f.resize(0x1000, 0);
    f.extend_from_slice(&code_bytes);
    f.resize(data_off as usize, 0);
    f.extend_from_slice(&data);
    (f, layout)
}

/// Split a program's stdout into (output state, buffer) per case.
pub fn parse_output(out: &[u8], layout: &Layout) -> Result<Vec<(State, Vec<u8>)>, String> {
    if out.len() != layout.out_len {
        return Err(format!("expected {} bytes of output, got {}", layout.out_len, out.len()));
    }
    let n = layout.n;
    Ok((0..n)
        .map(|i| {
            let s = State::from_bytes(&out[i * off::SIZE..][..off::SIZE]);
            let b = out[n * off::SIZE + i * BUF_SIZE..][..BUF_SIZE].to_vec();
            (s, b)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness's own instructions are what we mean them to be.
    #[test]
    fn harness_encodings() {
        for (w, text) in [
            (movz(30, 0x1234, 0), "mov x30, #0x1234"),
            (movk(30, 0x1000, 1), "movk x30, #0x1000, lsl #16"),
            (ldp_q(2, 3, 30, 320), "ldp q2, q3, [x30, #0x140]"),
            (stp_q(30, 31, 0, 768), "stp q30, q31, [x0, #0x300]"),
            (ldp_x(28, 29, 30, 224), "ldp x28, x29, [x30, #0xe0]"),
            (stp_x(2, 3, 0, 16), "stp x2, x3, [x0, #0x10]"),
            (ldr_x(30, 30, 240), "ldr x30, [x30, #0xf0]"),
            (str_x(1, 0, 8), "str x1, [x0, #0x8]"),
            (msr(SR_NZCV, 0), "msr s3_3_c4_c2_0, x0"),
            (mrs(1, SR_FPCR), "mrs x1, s3_3_c4_c4_0"),
            (msr(SR_FPSR, 0), "msr s3_3_c4_c4_1, x0"),
            (msr(SR_TPIDR_EL0, 0), "msr tpidr_el0, x0"),
            (mov_sp(31, 0), "mov sp, x0"),
            (mov_sp(1, 31), "mov x1, sp"),
            (SVC0, "svc #0x0"),
            (add_x(1, 1, 0), "add x1, x1, x0"),
            (sub_x(2, 2, 0), "sub x2, x2, x0"),
            (cmp0(0), "cmp x0, #0x0"),
            (b_cond(13, 4), "b.le $+0x10"),
            (cbnz(2, -7), "cbnz x2, $-0x1c"),
        ] {
            assert_eq!(super::super::disasm(w), text, "{w:08x}");
        }
    }
}
