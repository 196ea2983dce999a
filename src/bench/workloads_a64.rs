//! The built-in benchmark workloads for AArch64 guests: the same four kinds of work as the
//! x86-64 ones (`workloads.rs`), written with a small A64 encoder below (deja has no A64
//! assembler dependency) into static ELF executables, so `deja bench --isa aarch64` needs no
//! toolchain:
//!
//! | name | what it does |
//! | --- | --- |
//! | `int-hash-sort` | the x86-64 workload's algorithm: xorshift64 fill + FNV-1a of a 4096-entry u32 array, comb sort, fold (same checksum) |
//! | `fp-mandelbrot` | the x86-64 workload's Mandelbrot in scalar doubles (`fmul`, `fadd`, `fcmp`, `fsqrt`, `fdiv`, `scvtf`: same output) |
//! | `mem-string` | per round over 16 KiB buffers: `dup` + `stp q` fill, `ldp/stp q` copy, byte-scan loops (memchr, strlen, sum), a doubleword compare and copy |
//! | `syscall-write-clock` | the x86-64 workload's loop: 64-byte `write()`s to /dev/null and `clock_gettime(CLOCK_MONOTONIC)` (same output) |
//!
//! Each prints deterministic `name checksum` lines and exits 0, under qemu-aarch64 and deja
//! alike.

use super::workloads::{Size, Workload, HEAP, OUT};
use crate::linux::loader::Isa;
use asm::*;

/// The AArch64 workloads.
pub fn workloads(size: Size) -> Vec<Workload> {
    let q = size == Size::Quick;
    let mk = |name: &str, kind, code: Vec<u8>, bss| Workload {
        name: name.into(),
        kind,
        isa: Isa::Aarch64,
        origin: "embedded",
        image: crate::demo::elf(object::elf::EM_AARCH64, &code, bss),
        args: Vec::new(),
    };
    vec![
        mk("int-hash-sort", "integer", int_hash_sort(if q { 1 } else { 48 }), 0x1000 + INT_N * 4),
        mk("fp-mandelbrot", "float", fp_mandelbrot(if q { 1 } else { 24 }), 0x1000),
        mk("mem-string", "memory", mem_string(if q { 6 } else { 280 }), 0x1000 + 2 * MEM_S),
        mk("syscall-write-clock", "syscall", syscall_write_clock(if q { 1000 } else { 200_000 }), 0x1000 + 0x100),
    ]
}

/// A minimal A64 assembler: the instructions the workloads use, labels and branch fixups.
mod asm {
    /// Register 31: XZR/WZR in the instructions below (none of them takes SP).
    pub const ZR: u32 = 31;

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Cond {
        Eq = 0,
        Ne = 1,
        Hs = 2,
        Lo = 3,
        Ls = 9,
        Lt = 11,
        Gt = 12,
    }

    #[derive(Clone, Copy)]
    pub struct Label(usize);

    enum Fix {
        /// B, BL: imm26.
        B26,
        /// B.cond, CBZ, CBNZ: imm19 at bit 5.
        Imm19,
        /// ADR: immhi:immlo.
        Adr,
    }

    #[derive(Default)]
    pub struct Asm {
        words: Vec<u32>,
        labels: Vec<Option<usize>>,
        fixups: Vec<(usize, Label, Fix)>,
        /// Byte strings placed after the code, with the labels that name them.
        data: Vec<(Label, Vec<u8>)>,
    }

    /// The imm12 field (and shift bit 22) of an add/sub immediate: `imm` below 4096, or a
    /// multiple of 4096 below 2^24 (LSL #12). The workloads' constants are fixed, so another
    /// value is a bug in this file.
    fn imm12(imm: u32) -> u32 {
        if imm < 4096 {
            imm << 10
        } else {
            assert!(imm.is_multiple_of(4096) && imm < 1 << 24, "add/sub immediate {imm} is not encodable");
            1 << 22 | (imm >> 12) << 10
        }
    }

    /// `sf`: 64-bit (X registers) or 32-bit (W registers).
    fn sf(x: bool, x_base: u32, w_base: u32) -> u32 {
        if x {
            x_base
        } else {
            w_base
        }
    }

    impl Asm {
        pub fn label(&mut self) -> Label {
            self.labels.push(None);
            Label(self.labels.len() - 1)
        }

        pub fn bind(&mut self, l: Label) {
            self.labels[l.0] = Some(self.words.len());
        }

        /// A label bound here.
        pub fn here(&mut self) -> Label {
            let l = self.label();
            self.bind(l);
            l
        }

        pub fn emit(&mut self, w: u32) {
            self.words.push(w);
        }

        /// Bytes after the code, addressed with `adr`.
        pub fn bytes(&mut self, b: &[u8]) -> Label {
            let l = self.label();
            self.data.push((l, b.to_vec()));
            l
        }

        fn fix(&mut self, l: Label, f: Fix, w: u32) {
            self.fixups.push((self.words.len(), l, f));
            self.emit(w);
        }

        // ---- moves and arithmetic ----

        /// MOVZ/MOVK sequence for a 64-bit constant.
        pub fn mov_imm(&mut self, rd: u32, v: u64) {
            self.emit(0xd280_0000 | ((v & 0xffff) as u32) << 5 | rd);
            for hw in 1..4 {
                let part = ((v >> (16 * hw)) & 0xffff) as u32;
                if part != 0 {
                    self.emit(0xf280_0000 | hw << 21 | part << 5 | rd);
                }
            }
        }

        /// MOV (register): ORR rd, zr, rm.
        pub fn mov(&mut self, x: bool, rd: u32, rm: u32) {
            self.emit(sf(x, 0xaa00_0000, 0x2a00_0000) | rm << 16 | ZR << 5 | rd);
        }

        pub fn add_imm(&mut self, x: bool, rd: u32, rn: u32, imm: u32) {
            self.emit(sf(x, 0x9100_0000, 0x1100_0000) | imm12(imm) | rn << 5 | rd);
        }

        pub fn sub_imm(&mut self, x: bool, rd: u32, rn: u32, imm: u32) {
            self.emit(sf(x, 0xd100_0000, 0x5100_0000) | imm12(imm) | rn << 5 | rd);
        }

        pub fn subs_imm(&mut self, x: bool, rd: u32, rn: u32, imm: u32) {
            self.emit(sf(x, 0xf100_0000, 0x7100_0000) | imm12(imm) | rn << 5 | rd);
        }

        pub fn cmp_imm(&mut self, x: bool, rn: u32, imm: u32) {
            self.subs_imm(x, ZR, rn, imm);
        }

        pub fn add(&mut self, x: bool, rd: u32, rn: u32, rm: u32) {
            self.emit(sf(x, 0x8b00_0000, 0x0b00_0000) | rm << 16 | rn << 5 | rd);
        }

        pub fn sub(&mut self, x: bool, rd: u32, rn: u32, rm: u32) {
            self.emit(sf(x, 0xcb00_0000, 0x4b00_0000) | rm << 16 | rn << 5 | rd);
        }

        pub fn cmp(&mut self, x: bool, rn: u32, rm: u32) {
            self.emit(sf(x, 0xeb00_0000, 0x6b00_0000) | rm << 16 | rn << 5 | ZR);
        }

        pub fn eor(&mut self, x: bool, rd: u32, rn: u32, rm: u32) {
            self.emit(sf(x, 0xca00_0000, 0x4a00_0000) | rm << 16 | rn << 5 | rd);
        }

        /// EOR rd, rn, rm, LSL/LSR #s (`lsr`: shift type 01).
        pub fn eor_shifted(&mut self, x: bool, rd: u32, rn: u32, rm: u32, lsr: bool, s: u32) {
            self.emit(sf(x, 0xca00_0000, 0x4a00_0000) | (lsr as u32) << 22 | rm << 16 | s << 10 | rn << 5 | rd);
        }

        pub fn ubfm(&mut self, x: bool, rd: u32, rn: u32, immr: u32, imms: u32) {
            self.emit(sf(x, 0xd340_0000, 0x5300_0000) | immr << 16 | imms << 10 | rn << 5 | rd);
        }

        pub fn lsr(&mut self, x: bool, rd: u32, rn: u32, s: u32) {
            let w = if x { 64 } else { 32 };
            self.ubfm(x, rd, rn, s, w - 1);
        }

        /// UBFX rd, rn, #lsb, #width.
        pub fn ubfx(&mut self, x: bool, rd: u32, rn: u32, lsb: u32, width: u32) {
            self.ubfm(x, rd, rn, lsb, lsb + width - 1);
        }

        pub fn mul(&mut self, x: bool, rd: u32, rn: u32, rm: u32) {
            self.emit(sf(x, 0x9b00_0000, 0x1b00_0000) | rm << 16 | ZR << 10 | rn << 5 | rd);
        }

        pub fn udiv(&mut self, x: bool, rd: u32, rn: u32, rm: u32) {
            self.emit(sf(x, 0x9ac0_0800, 0x1ac0_0800) | rm << 16 | rn << 5 | rd);
        }

        // ---- loads and stores ----

        /// LDR/STR Wt, [Xn, Wm, UXTW #2].
        pub fn ldr_w_idx(&mut self, rt: u32, rn: u32, rm: u32) {
            self.emit(0xb860_5800 | rm << 16 | rn << 5 | rt);
        }

        pub fn str_w_idx(&mut self, rt: u32, rn: u32, rm: u32) {
            self.emit(0xb820_5800 | rm << 16 | rn << 5 | rt);
        }

        /// LDRB/STRB Wt, [Xn, Xm].
        pub fn ldrb_idx(&mut self, rt: u32, rn: u32, rm: u32) {
            self.emit(0x3860_6800 | rm << 16 | rn << 5 | rt);
        }

        pub fn strb_idx(&mut self, rt: u32, rn: u32, rm: u32) {
            self.emit(0x3820_6800 | rm << 16 | rn << 5 | rt);
        }

        /// LDRB Wt, [Xn], #imm (post-index).
        pub fn ldrb_post(&mut self, rt: u32, rn: u32, imm: i32) {
            self.emit(0x3840_0400 | ((imm as u32) & 0x1ff) << 12 | rn << 5 | rt);
        }

        pub fn strb_post(&mut self, rt: u32, rn: u32, imm: i32) {
            self.emit(0x3800_0400 | ((imm as u32) & 0x1ff) << 12 | rn << 5 | rt);
        }

        /// LDR/STR Xt, [Xn], #imm (post-index).
        pub fn ldr_x_post(&mut self, rt: u32, rn: u32, imm: i32) {
            self.emit(0xf840_0400 | ((imm as u32) & 0x1ff) << 12 | rn << 5 | rt);
        }

        pub fn str_x_post(&mut self, rt: u32, rn: u32, imm: i32) {
            self.emit(0xf800_0400 | ((imm as u32) & 0x1ff) << 12 | rn << 5 | rt);
        }

        /// LDR/STR Xt, [Xn, #off] (unsigned offset, a multiple of 8).
        pub fn ldr_x(&mut self, rt: u32, rn: u32, off: u32) {
            self.emit(0xf940_0000 | (off / 8) << 10 | rn << 5 | rt);
        }

        /// LDP/STP Qt, Qt2, [Xn], #imm (post-index, a multiple of 16).
        pub fn ldp_q_post(&mut self, rt: u32, rt2: u32, rn: u32, imm: i32) {
            self.emit(0xacc0_0000 | (((imm / 16) as u32) & 0x7f) << 15 | rt2 << 10 | rn << 5 | rt);
        }

        pub fn stp_q_post(&mut self, rt: u32, rt2: u32, rn: u32, imm: i32) {
            self.emit(0xac80_0000 | (((imm / 16) as u32) & 0x7f) << 15 | rt2 << 10 | rn << 5 | rt);
        }

        /// DUP Vd.16B, Wn.
        pub fn dup_16b(&mut self, vd: u32, rn: u32) {
            self.emit(0x4e01_0c00 | rn << 5 | vd);
        }

        // ---- branches ----

        pub fn b(&mut self, l: Label) {
            self.fix(l, Fix::B26, 0x1400_0000);
        }

        pub fn bl(&mut self, l: Label) {
            self.fix(l, Fix::B26, 0x9400_0000);
        }

        pub fn b_cond(&mut self, c: Cond, l: Label) {
            self.fix(l, Fix::Imm19, 0x5400_0000 | c as u32);
        }

        pub fn cbnz(&mut self, x: bool, rt: u32, l: Label) {
            self.fix(l, Fix::Imm19, sf(x, 0xb500_0000, 0x3500_0000) | rt);
        }

        pub fn adr(&mut self, rd: u32, l: Label) {
            self.fix(l, Fix::Adr, 0x1000_0000 | rd);
        }

        pub fn ret(&mut self) {
            self.emit(0xd65f_03c0);
        }

        pub fn svc0(&mut self) {
            self.emit(0xd400_0001);
        }

        // ---- scalar double precision ----

        pub fn fmul(&mut self, d: u32, n: u32, m: u32) {
            self.emit(0x1e60_0800 | m << 16 | n << 5 | d);
        }

        pub fn fdiv(&mut self, d: u32, n: u32, m: u32) {
            self.emit(0x1e60_1800 | m << 16 | n << 5 | d);
        }

        pub fn fadd(&mut self, d: u32, n: u32, m: u32) {
            self.emit(0x1e60_2800 | m << 16 | n << 5 | d);
        }

        pub fn fsub(&mut self, d: u32, n: u32, m: u32) {
            self.emit(0x1e60_3800 | m << 16 | n << 5 | d);
        }

        pub fn fsqrt(&mut self, d: u32, n: u32) {
            self.emit(0x1e61_c000 | n << 5 | d);
        }

        pub fn fcmp(&mut self, n: u32, m: u32) {
            self.emit(0x1e60_2000 | m << 16 | n << 5);
        }

        /// SCVTF Dd, Wn (signed 32-bit).
        pub fn scvtf_w(&mut self, d: u32, rn: u32) {
            self.emit(0x1e62_0000 | rn << 5 | d);
        }

        /// FCVTZS Xd, Dn.
        pub fn fcvtzs_x(&mut self, rd: u32, n: u32) {
            self.emit(0x9e78_0000 | n << 5 | rd);
        }

        /// FMOV Dd, Xn.
        pub fn fmov_from_x(&mut self, d: u32, rn: u32) {
            self.emit(0x9e67_0000 | rn << 5 | d);
        }

        /// Dd = the double `v` (through `tmp`).
        pub fn fmov_const(&mut self, d: u32, v: f64, tmp: u32) {
            self.mov_imm(tmp, v.to_bits());
            self.fmov_from_x(d, tmp);
        }

        /// The code followed by its data (position-independent: every reference is relative).
        pub fn finish(mut self) -> Result<Vec<u8>, String> {
            let mut data_at = self.words.len() * 4;
            let mut data = Vec::new();
            for (l, b) in std::mem::take(&mut self.data) {
                self.labels[l.0] = Some(data_at / 4);
                // Keep byte strings at word boundaries so `labels` (word indices) name them.
                let padded = b.len().div_ceil(4) * 4;
                data.extend_from_slice(&b);
                data.resize(data.len() + padded - b.len(), 0);
                data_at += padded;
            }
            for (at, l, f) in &self.fixups {
                let target = self.labels[l.0].ok_or("unbound label")?;
                let off = (target as i64 - *at as i64) * 4;
                let w = &mut self.words[*at];
                match f {
                    Fix::B26 => *w |= ((off / 4) as u32) & 0x3ff_ffff,
                    Fix::Imm19 => *w |= (((off / 4) as u32) & 0x7_ffff) << 5,
                    Fix::Adr => *w |= ((off as u32) & 3) << 29 | (((off >> 2) as u32) & 0x7_ffff) << 5,
                }
            }
            let mut out: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
            out.extend_from_slice(&data);
            Ok(out)
        }
    }
}

/// Registers of the shared tail: `print_hex` takes x0 = value, x1 = prefix, x2 = its length.
struct Tail {
    print_hex: Label,
    exit0: Label,
}

impl Tail {
    fn new(a: &mut Asm) -> Tail {
        Tail { print_hex: a.label(), exit0: a.label() }
    }

    /// Print `prefix` and the value in x0 (clobbers x0-x8, x30).
    fn print(&self, a: &mut Asm, prefix: &str) {
        let s = a.bytes(prefix.as_bytes());
        a.adr(1, s);
        a.mov_imm(2, prefix.len() as u64);
        a.bl(self.print_hex);
    }

    fn emit(self, a: &mut Asm) {
        // print_hex: copy the prefix to OUT, append 16 hex digits and '\n', write(1, OUT, n).
        a.bind(self.print_hex);
        a.mov_imm(3, OUT);
        a.mov_imm(4, 0);
        let copy = a.here();
        a.ldrb_idx(5, 1, 4);
        a.strb_idx(5, 3, 4);
        a.add_imm(true, 4, 4, 1);
        a.cmp(true, 4, 2);
        a.b_cond(Cond::Lo, copy);
        // x3 = end of the digits; write them from the last one backwards.
        a.add(true, 3, 3, 2);
        a.mov_imm(4, 16);
        let digit = a.here();
        a.ubfx(true, 5, 0, 0, 4);
        a.add_imm(false, 5, 5, b'0' as u32);
        a.cmp_imm(false, 5, b'9' as u32);
        let is_digit = a.label();
        a.b_cond(Cond::Ls, is_digit);
        a.add_imm(false, 5, 5, (b'a' - b'9' - 1) as u32);
        a.bind(is_digit);
        a.sub_imm(true, 4, 4, 1);
        a.strb_idx(5, 3, 4);
        a.lsr(true, 0, 0, 4);
        a.cbnz(true, 4, digit);
        a.mov_imm(5, b'\n' as u64);
        a.add_imm(true, 6, 3, 16);
        a.strb_post(5, 6, 1);
        // write(1, OUT, x6 - OUT)
        a.mov_imm(1, OUT);
        a.sub(true, 2, 6, 1);
        a.mov_imm(0, 1);
        a.mov_imm(8, 64);
        a.svc0();
        a.ret();
        // exit_group(0)
        a.bind(self.exit0);
        a.mov_imm(0, 0);
        a.mov_imm(8, 94);
        a.svc0();
    }
}

/// Entries in the integer workload's array (as the x86-64 one).
const INT_N: u64 = super::workloads::INT_N;

/// Integer: the x86-64 workload's algorithm, instruction for instruction where A64 has one:
/// per round, fill the array from a xorshift64 generator while hashing its low bytes
/// (FNV-1a), comb-sort it, fold one sorted entry into the hash.
fn int_hash_sort(rounds: u32) -> Vec<u8> {
    let mut a = Asm::default();
    let tail = Tail::new(&mut a);
    // x19 = array, w20 = rounds left, x21 = xorshift state, x22 = hash, x23 = FNV prime.
    a.mov_imm(19, HEAP);
    a.mov_imm(20, rounds as u64);
    a.mov_imm(21, 0x9e37_79b9_7f4a_7c15);
    a.mov_imm(22, 0xcbf2_9ce4_8422_2325);
    a.mov_imm(23, 0x100_0000_01b3);
    let round = a.here();
    // Fill: w9 = i.
    a.mov_imm(9, 0);
    let fill = a.here();
    a.eor_shifted(true, 21, 21, 21, false, 13);
    a.eor_shifted(true, 21, 21, 21, true, 7);
    a.eor_shifted(true, 21, 21, 21, false, 17);
    a.str_w_idx(21, 19, 9);
    a.ubfx(true, 10, 21, 0, 8);
    a.eor(true, 22, 22, 10);
    a.mul(true, 22, 22, 23);
    a.add_imm(false, 9, 9, 1);
    a.cmp_imm(false, 9, INT_N as u32);
    a.b_cond(Cond::Lo, fill);
    // Comb sort, gap shrinking by 10/13: w11 = gap, w13 = swapped, w14 = N - gap.
    a.mov_imm(11, INT_N);
    a.mov_imm(24, 10);
    a.mov_imm(25, 13);
    let outer = a.here();
    a.mul(false, 11, 11, 24);
    a.udiv(false, 11, 11, 25);
    let gap_ok = a.label();
    a.cbnz(false, 11, gap_ok);
    a.mov_imm(11, 1);
    a.bind(gap_ok);
    a.mov_imm(13, 0);
    a.mov_imm(9, 0);
    a.mov_imm(14, INT_N);
    a.sub(false, 14, 14, 11);
    let inner = a.here();
    let check = a.label();
    a.cmp(false, 9, 14);
    a.b_cond(Cond::Hs, check);
    a.add(false, 15, 9, 11);
    a.ldr_w_idx(16, 19, 9);
    a.ldr_w_idx(17, 19, 15);
    a.cmp(false, 16, 17);
    let no_swap = a.label();
    a.b_cond(Cond::Ls, no_swap);
    a.str_w_idx(17, 19, 9);
    a.str_w_idx(16, 19, 15);
    a.mov_imm(13, 1);
    a.bind(no_swap);
    a.add_imm(false, 9, 9, 1);
    a.b(inner);
    a.bind(check);
    a.cmp_imm(false, 11, 1);
    a.b_cond(Cond::Ne, outer);
    a.cbnz(false, 13, outer);
    // Fold a sorted entry: array[(rounds * 17) % N].
    a.mov_imm(10, 17);
    a.mul(false, 10, 20, 10);
    a.ubfx(false, 10, 10, 0, INT_N.trailing_zeros());
    a.ldr_w_idx(10, 19, 10);
    a.eor(true, 22, 22, 10);
    a.mul(true, 22, 22, 23);
    a.subs_imm(false, 20, 20, 1);
    a.b_cond(Cond::Ne, round);
    a.mov(true, 0, 22);
    tail.print(&mut a, "int-hash-sort ");
    a.b(tail.exit0);
    tail.emit(&mut a);
    finish(a)
}

/// Grid and iteration cap of the floating-point workload (as the x86-64 one).
const FP_W: u32 = 64;
const FP_H: u32 = 48;
const FP_MAXIT: u32 = 64;

/// Floating point: the x86-64 workload's Mandelbrot (same operations in the same order, so
/// the same output): escape iterations over a grid around (-0.74, 0.12), zooming by 0.97 per
/// frame; per pixel, accumulate sqrt(|z|^2) / (1 + iterations).
fn fp_mandelbrot(frames: u32) -> Vec<u8> {
    let mut a = Asm::default();
    let tail = Tail::new(&mut a);
    // Constants: d16 = 4, d17 = 1, d18 = cx, d19 = cy, d21 = zoom, d22 = 1e6; d9 = step.
    for (d, v) in [(16, 4.0), (17, 1.0), (18, -0.74), (19, 0.12), (9, 3.0 / FP_W as f64), (21, 0.97), (22, 1e6)] {
        a.fmov_const(d, v, 9);
    }
    // d8 = accumulator, x12 = total iterations, w15 = frames left.
    a.fmov_from_x(8, asm::ZR);
    a.mov_imm(12, 0);
    a.mov_imm(15, frames as u64);
    let frame = a.here();
    a.mov_imm(14, 0); // py
    let row = a.here();
    // ci = cy + (py - H/2) * step
    a.sub_imm(false, 0, 14, FP_H / 2);
    a.scvtf_w(7, 0);
    a.fmul(7, 7, 9);
    a.fadd(7, 7, 19);
    a.mov_imm(13, 0); // px
    let col = a.here();
    // cr = cx + (px - W/2) * step
    a.sub_imm(false, 0, 13, FP_W / 2);
    a.scvtf_w(6, 0);
    a.fmul(6, 6, 9);
    a.fadd(6, 6, 18);
    a.fmov_from_x(0, asm::ZR); // zr
    a.fmov_from_x(1, asm::ZR); // zi
    a.mov_imm(1, 0);
    let iterate = a.here();
    let escaped = a.label();
    a.fmul(2, 0, 0); // zr^2
    a.fmul(3, 1, 1); // zi^2
    a.fadd(4, 2, 3); // |z|^2
    a.fcmp(4, 16);
    a.b_cond(Cond::Gt, escaped);
    a.fmul(1, 1, 0);
    a.fadd(1, 1, 1);
    a.fadd(1, 1, 7); // zi = 2 zr zi + ci
    a.fsub(0, 2, 3);
    a.fadd(0, 0, 6); // zr = zr^2 - zi^2 + cr
    a.add_imm(false, 1, 1, 1);
    a.cmp_imm(false, 1, FP_MAXIT);
    a.b_cond(Cond::Lo, iterate);
    a.bind(escaped);
    a.fsqrt(4, 4);
    a.scvtf_w(5, 1);
    a.fadd(5, 5, 17);
    a.fdiv(4, 4, 5);
    a.fadd(8, 8, 4);
    a.add(true, 12, 12, 1);
    a.add_imm(false, 13, 13, 1);
    a.cmp_imm(false, 13, FP_W);
    a.b_cond(Cond::Lo, col);
    a.add_imm(false, 14, 14, 1);
    a.cmp_imm(false, 14, FP_H);
    a.b_cond(Cond::Lo, row);
    a.fmul(9, 9, 21);
    a.subs_imm(false, 15, 15, 1);
    a.b_cond(Cond::Ne, frame);
    a.mov(true, 0, 12);
    tail.print(&mut a, "fp-mandelbrot iterations ");
    a.fmul(8, 8, 22);
    a.fcvtzs_x(0, 8);
    tail.print(&mut a, "fp-mandelbrot sum*1e6 ");
    a.b(tail.exit0);
    tail.emit(&mut a);
    finish(a)
}

/// Size of each buffer of the memory workload (as the x86-64 one).
const MEM_S: u64 = super::workloads::MEM_S;

/// Memory and strings, the way A64 code does them (no string instructions): per round, fill
/// A with a round-dependent byte (`dup` + `stp q`, 32 bytes a step), drop a NUL at a
/// round-dependent place, copy A to B (`ldp q`/`stp q`), find the NUL in B and measure A with
/// byte loops (memchr, strlen), sum every byte of B, flip one byte of B and find the first
/// differing doubleword of A and B, and copy B back to A by doublewords.
fn mem_string(rounds: u32) -> Vec<u8> {
    let mut a = Asm::default();
    let tail = Tail::new(&mut a);
    // x19 = A, x20 = B, w21 = rounds left, x22 = checksum, x23 = FNV prime.
    a.mov_imm(19, HEAP);
    a.mov_imm(20, HEAP + MEM_S);
    a.mov_imm(21, rounds as u64);
    a.mov_imm(22, 0);
    a.mov_imm(23, 0x100_0000_01b3);
    let round = a.here();
    // Fill A with 'A' + round % 64.
    a.ubfx(false, 9, 21, 0, 6);
    a.add_imm(false, 9, 9, b'A' as u32);
    a.dup_16b(0, 9);
    a.mov(true, 10, 19);
    a.mov_imm(11, MEM_S / 32);
    let fill = a.here();
    a.stp_q_post(0, 0, 10, 32);
    a.subs_imm(true, 11, 11, 1);
    a.b_cond(Cond::Ne, fill);
    // A[(round * 997) % S] = 0
    a.mov_imm(9, 997);
    a.mul(false, 9, 21, 9);
    a.ubfx(false, 9, 9, 0, MEM_S.trailing_zeros());
    a.strb_idx(asm::ZR, 19, 9);
    // Copy A to B, 32 bytes a step.
    a.mov(true, 10, 19);
    a.mov(true, 12, 20);
    a.mov_imm(11, MEM_S / 32);
    let copy = a.here();
    a.ldp_q_post(0, 1, 10, 32);
    a.stp_q_post(0, 1, 12, 32);
    a.subs_imm(true, 11, 11, 1);
    a.b_cond(Cond::Ne, copy);
    // memchr(B, 0): bytes before the NUL.
    a.mov(true, 10, 20);
    let scan = a.here();
    a.ldrb_post(9, 10, 1);
    a.cbnz(false, 9, scan);
    a.sub(true, 10, 10, 20);
    a.add(true, 22, 22, 10);
    // strlen(A) + 1, the same way.
    a.mov(true, 10, 19);
    let strlen = a.here();
    a.ldrb_post(9, 10, 1);
    a.cbnz(false, 9, strlen);
    a.sub(true, 10, 10, 19);
    a.add(true, 22, 22, 10);
    // Sum of the bytes of B.
    a.mov(true, 10, 20);
    a.mov_imm(11, MEM_S);
    let sum = a.here();
    a.ldrb_post(9, 10, 1);
    a.add(true, 22, 22, 9);
    a.subs_imm(true, 11, 11, 1);
    a.b_cond(Cond::Ne, sum);
    // B[(round * 61) % S] ^= 1, then the index of the first differing doubleword.
    a.mov_imm(9, 61);
    a.mul(false, 9, 21, 9);
    a.ubfx(false, 9, 9, 0, MEM_S.trailing_zeros());
    a.ldrb_idx(10, 20, 9);
    a.mov_imm(11, 1);
    a.eor(false, 10, 10, 11);
    a.strb_idx(10, 20, 9);
    a.mov(true, 10, 19);
    a.mov(true, 12, 20);
    let cmp = a.here();
    a.ldr_x_post(13, 10, 8);
    a.ldr_x_post(14, 12, 8);
    a.cmp(true, 13, 14);
    a.b_cond(Cond::Eq, cmp);
    a.sub(true, 10, 10, 19);
    a.add(true, 22, 22, 10);
    // Copy B back to A by doublewords.
    a.mov(true, 10, 20);
    a.mov(true, 12, 19);
    a.mov_imm(11, MEM_S / 8);
    let back = a.here();
    a.ldr_x_post(13, 10, 8);
    a.str_x_post(13, 12, 8);
    a.subs_imm(true, 11, 11, 1);
    a.b_cond(Cond::Ne, back);
    a.mul(true, 22, 22, 23);
    a.subs_imm(false, 21, 21, 1);
    a.b_cond(Cond::Ne, round);
    a.mov(true, 0, 22);
    tail.print(&mut a, "mem-string ");
    a.b(tail.exit0);
    tail.emit(&mut a);
    finish(a)
}

/// Syscalls: the x86-64 workload's loop (same output): open /dev/null (openat), then per
/// iteration write 64 bytes to it and read CLOCK_MONOTONIC; print the bytes written and how
/// many clock reads did not go backwards.
fn syscall_write_clock(iterations: u32) -> Vec<u8> {
    let mut a = Asm::default();
    let tail = Tail::new(&mut a);
    let ts = HEAP;
    let buf = HEAP + 0x40;
    let fail = a.label();
    let path = a.bytes(b"/dev/null\0");
    // fd = openat(AT_FDCWD, "/dev/null", O_WRONLY)
    a.mov_imm(0, (-100i64) as u64);
    a.adr(1, path);
    a.mov_imm(2, 1);
    a.mov_imm(3, 0);
    a.mov_imm(8, 56);
    a.svc0();
    a.cmp_imm(true, 0, 0);
    a.b_cond(Cond::Lt, fail);
    a.mov(true, 19, 0);
    a.mov_imm(20, iterations as u64);
    a.mov_imm(21, 0); // bytes written
    a.mov_imm(22, 0); // monotonic reads
    a.mov_imm(23, 0); // previous time, ns
    a.mov_imm(24, 1_000_000_000);
    a.mov_imm(25, ts);
    let lp = a.here();
    a.mov(true, 0, 19); // write(fd, buf, 64)
    a.mov_imm(1, buf);
    a.mov_imm(2, 64);
    a.mov_imm(8, 64);
    a.svc0();
    a.add(true, 21, 21, 0);
    a.mov_imm(0, 1); // clock_gettime(CLOCK_MONOTONIC, &ts)
    a.mov(true, 1, 25);
    a.mov_imm(8, 113);
    a.svc0();
    a.ldr_x(0, 25, 0);
    a.ldr_x(1, 25, 8);
    a.mul(true, 0, 0, 24);
    a.add(true, 0, 0, 1);
    a.cmp(true, 0, 23);
    let backwards = a.label();
    a.b_cond(Cond::Lo, backwards);
    a.add_imm(true, 22, 22, 1);
    a.bind(backwards);
    a.mov(true, 23, 0);
    a.subs_imm(false, 20, 20, 1);
    a.b_cond(Cond::Ne, lp);
    a.mov(true, 0, 21);
    tail.print(&mut a, "syscall-write-clock bytes ");
    a.mov(true, 0, 22);
    tail.print(&mut a, "syscall-write-clock monotonic ");
    a.b(tail.exit0);
    a.bind(fail);
    a.mov_imm(0, 1);
    a.mov_imm(8, 94);
    a.svc0();
    tail.emit(&mut a);
    finish(a)
}

fn finish(a: Asm) -> Vec<u8> {
    // Every label is bound by construction; an unbound one is a bug in this file.
    a.finish().expect("the AArch64 workloads bind every label")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::arch_aarch64::Aarch64;
    use crate::linux::process::Options;
    use crate::world::{HostCall, Quiet, RealWorld, World};

    /// A world that keeps what the guest writes to stdout.
    struct Capture(Quiet<RealWorld>, std::rc::Rc<std::cell::RefCell<Vec<u8>>>);
    impl World for Capture {
        fn syscall(&mut self, icount: u64, call: &HostCall) -> i64 {
            let r = self.0.syscall(icount, call);
            if call.nr == libc::SYS_write && call.args[0] == 1 && r > 0 {
                // SAFETY: a write's second argument is a live buffer of args[2] bytes.
                let b = unsafe { std::slice::from_raw_parts(call.args[1] as *const u8, r as usize) };
                self.1.borrow_mut().extend_from_slice(b);
            }
            r
        }
        fn tsc(&mut self, icount: u64) -> u64 {
            self.0.tsc(icount)
        }
        fn random(&mut self, icount: u64, buf: &mut [u8]) {
            self.0.random(icount, buf)
        }
        fn pending_signal(&mut self, icount: u64) -> Option<i32> {
            self.0.pending_signal(icount)
        }
    }

    fn run(w: &Workload, isa: Isa) -> (String, u64) {
        let out = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let world = Box::new(Capture(Quiet(RealWorld), out.clone()));
        let argv = vec![w.name.as_bytes().to_vec()];
        let opts = Options { max_icount: Some(80_000_000), ..Options::default() };
        let path = std::path::Path::new("/bench");
        let (outcome, icount) = match isa {
            Isa::Aarch64 => {
                let mut p =
                    crate::linux::start_image::<Aarch64>(&w.name, &w.image, path, &argv, &[], world, opts).unwrap();
                (p.run().unwrap(), p.m.icount)
            }
            Isa::X86_64 => {
                let mut p = crate::linux::start_image::<crate::linux::arch_x86_64::X86_64>(
                    &w.name,
                    &w.image,
                    path,
                    &argv,
                    &[],
                    world,
                    opts,
                )
                .unwrap();
                (p.run().unwrap(), p.m.icount)
            }
        };
        assert_eq!(outcome, crate::linux::Outcome::Exited(0), "{}", w.name);
        let text = String::from_utf8(out.borrow().clone()).unwrap();
        (text, icount)
    }

    /// Each workload runs to exit 0 under the interpreter; the integer, floating-point and
    /// syscall ones print exactly what their x86-64 counterparts print (the same algorithm:
    /// the x86-64 ones are the oracle), at both sizes for the first two.
    #[test]
    fn workloads_run_and_agree_with_the_x86_64_ones() {
        let x86 = super::super::workloads::embedded(Isa::X86_64, Size::Quick).unwrap();
        for w in workloads(Size::Quick) {
            let (out, icount) = run(&w, Isa::Aarch64);
            assert!(icount > 10_000, "{}: only {icount} instructions", w.name);
            assert!(out.starts_with(&format!("{} ", w.name)), "{}: {out:?}", w.name);
            if w.name != "mem-string" {
                let x = x86.iter().find(|x| x.name == w.name).unwrap();
                let (want, _) = run(x, Isa::X86_64);
                assert_eq!(out, want, "{}: AArch64 and x86-64 outputs differ", w.name);
            }
        }
    }

    /// mem-string's checksum, computed in Rust from the description (the oracle).
    #[test]
    fn mem_string_prints_its_reference_checksum() {
        let rounds = 6u32;
        let s = MEM_S as usize;
        let (mut a, mut b) = (vec![0u8; s], vec![0u8; s]);
        let mut h = 0u64;
        for r in (1..=rounds).rev() {
            a.iter_mut().for_each(|x| *x = b'A' + (r % 64) as u8);
            a[(r as usize * 997) % s] = 0;
            b.copy_from_slice(&a);
            let nul = b.iter().position(|&x| x == 0).unwrap() as u64 + 1;
            h = h.wrapping_add(nul);
            h = h.wrapping_add(a.iter().position(|&x| x == 0).unwrap() as u64 + 1);
            h = b.iter().fold(h, |h, &x| h.wrapping_add(x as u64));
            b[(r as usize * 61) % s] ^= 1;
            let first = (0..s / 8).find(|&i| a[8 * i..8 * i + 8] != b[8 * i..8 * i + 8]).unwrap() as u64;
            h = h.wrapping_add(8 * (first + 1));
            a.copy_from_slice(&b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        let w = workloads(Size::Quick).into_iter().find(|w| w.name == "mem-string").unwrap();
        assert_eq!(run(&w, Isa::Aarch64).0, format!("mem-string {h:016x}\n"));
    }

    /// Encodings checked against yaxpeax-arm's disassembly.
    #[test]
    fn encodings_disassemble_as_intended() {
        let mut a = Asm::default();
        a.add_imm(true, 1, 2, 3);
        a.eor_shifted(true, 21, 21, 21, true, 7);
        a.ldr_w_idx(16, 19, 9);
        a.str_w_idx(17, 19, 9);
        a.ldrb_idx(5, 1, 4);
        a.ldrb_post(9, 10, 1);
        a.ldp_q_post(0, 1, 10, 32);
        a.stp_q_post(0, 1, 12, 32);
        a.ldr_x_post(13, 10, 8);
        a.dup_16b(0, 9);
        a.fcmp(4, 16);
        a.scvtf_w(7, 0);
        a.fcvtzs_x(0, 8);
        a.fmov_from_x(8, asm::ZR);
        a.ubfx(false, 10, 10, 0, 12);
        a.udiv(false, 11, 11, 25);
        a.cmp_imm(false, 9, 4096);
        let code = a.finish().unwrap();
        let got: Vec<String> = code
            .chunks(4)
            .map(|c| {
                let w = u32::from_le_bytes(c.try_into().unwrap());
                deja_decoders::aarch64::decode_word(w).map_or(format!("{w:08x}?"), |i| i.to_string())
            })
            .collect();
        let want = [
            "add x1, x2, #0x3",
            "eor x21, x21, x21, lsr #7",
            "ldr w16, [x19, w9, uxtw #2]",
            "str w17, [x19, w9, uxtw #2]",
            "ldrb w5, [x1, x4]",
            "ldrb w9, [x10], #0x1",
            "ldp q0, q1, [x10], #0x20",
            "stp q0, q1, [x12], #0x20",
            "ldr x13, [x10], #0x8",
            "dup v0.16b, w9",
            "fcmp d4, d16",
            "scvtf d7, w0",
            "fcvtzs x0, d8",
            "fmov d8, xzr",
            "ubfx w10, w10, #0x0, #0xc",
            "udiv w11, w11, w25",
            "cmp w9, #0x1, lsl #12",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn data_starts_after_the_code() {
        let mut a = Asm::default();
        let s = a.bytes(b"abc");
        a.adr(1, s);
        a.ret();
        let code = a.finish().unwrap();
        assert_eq!(&code[8..11], b"abc");
        // adr x1, +8
        assert_eq!(u32::from_le_bytes(code[0..4].try_into().unwrap()), 0x1000_0041);
    }
}
