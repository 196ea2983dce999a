//! The built-in benchmark workloads: small static Linux guests assembled at run time with
//! iced's code assembler (like `deja demo`), so `deja bench` needs no toolchain (the AArch64
//! ones, of the same names and kinds, are in `workloads_a64.rs`). One per kind of work an
//! emulator can be slow at:
//!
//! | name | what it does |
//! | --- | --- |
//! | `int-hash-sort` | xorshift64 fill + FNV-1a hash of a 4096-entry u32 array, comb sort, fold |
//! | `fp-mandelbrot` | Mandelbrot escape counts on a zooming 64x48 grid in SSE2 scalar doubles, with `sqrtsd`/`divsd` per pixel |
//! | `mem-string` | `rep stosb`, `rep movsb`, `repne scasb`, `repe cmpsb`, `rep movsq` and byte-scan loops over 16 KiB buffers |
//! | `syscall-write-clock` | many 64-byte `write()`s to /dev/null and `clock_gettime(CLOCK_MONOTONIC)`s |
//!
//! Each prints one deterministic line (`name checksum…`) to stdout and exits 0, natively (the
//! images are ordinary static ELF executables the host can run) and under deja alike.

use crate::linux::loader::Isa;
use iced_x86::code_asm::*;

/// Guest address of the headers + code segment and of the zeroed data segment.
const TEXT: u64 = 0x40_0000;
pub(super) const DATA: u64 = 0x60_0000;
/// A scratch buffer for printing, at the start of the data segment.
pub(super) const OUT: u64 = DATA;
/// Where each workload's own data starts.
pub(super) const HEAP: u64 = DATA + 0x1000;

/// How much work each workload does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// About a million instructions each (`deja bench --quick`, CI smoke tests).
    Quick,
    /// Tens of millions of instructions each (a fraction of a second under the interpreter).
    Full,
}

/// A benchmark workload: a static executable image for one ISA.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    /// `integer`, `float`, `memory`, `syscall`.
    pub kind: &'static str,
    pub isa: Isa,
    /// Where it comes from: `embedded` (assembled by deja) or `c` (built with gcc).
    pub origin: &'static str,
    pub image: Vec<u8>,
    /// Arguments after argv[0].
    pub args: Vec<String>,
}

impl Workload {
    /// The executable's file name: the workload's name, with `-aarch64` appended for an
    /// AArch64 guest (both ISAs have workloads of the same names, and share directories).
    pub fn file_name(&self) -> String {
        match self.isa {
            Isa::X86_64 => self.name.clone(),
            Isa::Aarch64 => format!("{}-aarch64", self.name),
        }
    }

    /// Write the image to `dir` as an executable file (`file_name`).
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(self.file_name());
        std::fs::write(&path, &self.image)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        Ok(path)
    }

    /// argv for a run of the executable at `exe`.
    pub fn argv(&self, exe: &std::path::Path) -> Vec<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt;
        let mut v = vec![exe.as_os_str().as_bytes().to_vec()];
        v.extend(self.args.iter().map(|a| a.as_bytes().to_vec()));
        v
    }
}

/// The embedded workloads for `isa` (the AArch64 ones are in `workloads_a64.rs`).
pub fn embedded(isa: Isa, size: Size) -> Result<Vec<Workload>, String> {
    match isa {
        Isa::X86_64 => x86_64(size).map_err(|e| format!("assembling the benchmark workloads: {e}")),
        Isa::Aarch64 => Ok(super::workloads_a64::workloads(size)),
    }
}

fn x86_64(size: Size) -> Result<Vec<Workload>, IcedError> {
    let q = size == Size::Quick;
    let mk = |name: &str, kind, code: Vec<u8>, bss| Workload {
        name: name.into(),
        kind,
        isa: Isa::X86_64,
        origin: "embedded",
        image: elf(62, &code, bss),
        args: Vec::new(),
    };
    Ok(vec![
        mk("int-hash-sort", "integer", int_hash_sort(if q { 1 } else { 48 })?, 0x1000 + INT_N * 4),
        mk("fp-mandelbrot", "float", fp_mandelbrot(if q { 1 } else { 24 })?, 0x1000),
        mk("mem-string", "memory", mem_string(if q { 6 } else { 280 })?, 0x1000 + 2 * MEM_S),
        mk("syscall-write-clock", "syscall", syscall_write_clock(if q { 1000 } else { 200_000 })?, 0x1000 + 0x100),
    ])
}

/// Shared tail of every x86-64 workload: `print_hex` (rsi = prefix, edx = its length,
/// rax = value: writes `prefix` + 16 hex digits + '\n' to stdout) and `exit0`.
struct Tail {
    print_hex: CodeLabel,
    exit0: CodeLabel,
}

impl Tail {
    fn new(a: &mut CodeAssembler) -> Tail {
        Tail { print_hex: a.create_label(), exit0: a.create_label() }
    }

    /// Print `prefix` and the value in rax.
    fn print(&self, a: &mut CodeAssembler, prefix: CodeLabel, len: usize) -> Result<(), IcedError> {
        a.lea(rsi, ptr(prefix))?;
        a.mov(edx, len as u32)?;
        a.call(self.print_hex)
    }

    fn emit(mut self, a: &mut CodeAssembler) -> Result<(), IcedError> {
        // print_hex: copy the prefix to OUT, append the digits, write(1, OUT, n).
        let mut digits = a.create_label();
        let mut is_digit = a.create_label();
        a.set_label(&mut self.print_hex)?;
        a.mov(rdi, OUT)?;
        a.mov(ecx, edx)?;
        a.rep().movsb()?;
        a.lea(rdi, ptr(rdi + 15))?;
        a.mov(ecx, 16u32)?;
        a.set_label(&mut digits)?;
        a.mov(r8d, eax)?;
        a.and(r8d, 15)?;
        a.add(r8d, b'0' as i32)?;
        a.cmp(r8d, b'9' as i32)?;
        a.jbe(is_digit)?;
        a.add(r8d, (b'a' - b'9' - 1) as i32)?;
        a.set_label(&mut is_digit)?;
        a.mov(byte_ptr(rdi), r8b)?;
        a.dec(rdi)?;
        a.shr(rax, 4)?;
        a.dec(ecx)?;
        a.jnz(digits)?;
        a.mov(byte_ptr(rdi + 17), b'\n' as u32)?;
        a.lea(rdx, ptr(rdi + 18))?;
        a.mov(rsi, OUT)?;
        a.sub(rdx, rsi)?;
        a.mov(eax, 1u32)?; // write
        a.mov(edi, 1u32)?;
        a.syscall()?;
        a.ret()?;
        // exit_group(0)
        a.set_label(&mut self.exit0)?;
        a.mov(eax, 231u32)?;
        a.xor(edi, edi)?;
        a.syscall()
    }
}

/// Entries in the integer workload's array (a power of two).
pub(super) const INT_N: u64 = 4096;

/// Integer: per round, fill the array from a xorshift64 generator while hashing its low bytes
/// (FNV-1a), comb-sort it (compare, conditional swap), and fold one sorted entry into the hash.
fn int_hash_sort(rounds: u32) -> Result<Vec<u8>, IcedError> {
    let mut a = CodeAssembler::new(64)?;
    let tail = Tail::new(&mut a);
    let mut round = a.create_label();
    let mut fill = a.create_label();
    let mut comb_outer = a.create_label();
    let mut gap_ok = a.create_label();
    let mut comb_inner = a.create_label();
    let mut no_swap = a.create_label();
    let mut comb_check = a.create_label();
    let arr = HEAP;
    a.mov(rbx, arr)?;
    a.mov(r15d, rounds)?;
    a.mov(r14, 0x9e37_79b9_7f4a_7c15u64)?; // xorshift state
    a.mov(r13, 0xcbf2_9ce4_8422_2325u64)?; // FNV offset basis
    a.mov(r12, 0x100_0000_01b3u64)?; // FNV prime
    a.set_label(&mut round)?;
    // Fill.
    a.xor(ecx, ecx)?;
    a.set_label(&mut fill)?;
    for (shl, sh) in [(true, 13), (false, 7), (true, 17)] {
        a.mov(rax, r14)?;
        if shl {
            a.shl(rax, sh)?;
        } else {
            a.shr(rax, sh)?;
        }
        a.xor(r14, rax)?;
    }
    a.mov(dword_ptr(rbx + rcx * 4), r14d)?;
    a.movzx(eax, r14b)?;
    a.xor(r13, rax)?;
    a.imul_2(r13, r12)?;
    a.inc(ecx)?;
    a.cmp(ecx, INT_N as i32)?;
    a.jb(fill)?;
    // Comb sort, gap shrinking by 10/13.
    a.mov(esi, INT_N as u32)?;
    a.set_label(&mut comb_outer)?;
    a.imul_3(eax, esi, 10)?;
    a.xor(edx, edx)?;
    a.mov(r8d, 13u32)?;
    a.div(r8d)?;
    a.mov(esi, eax)?;
    a.test(esi, esi)?;
    a.jnz(gap_ok)?;
    a.mov(esi, 1u32)?;
    a.set_label(&mut gap_ok)?;
    a.xor(r9d, r9d)?; // swapped
    a.xor(ecx, ecx)?;
    a.mov(r10d, INT_N as u32)?;
    a.sub(r10d, esi)?;
    a.set_label(&mut comb_inner)?;
    a.cmp(ecx, r10d)?;
    a.jae(comb_check)?;
    a.lea(edx, ptr(rcx + rsi))?;
    a.mov(eax, dword_ptr(rbx + rcx * 4))?;
    a.mov(r8d, dword_ptr(rbx + rdx * 4))?;
    a.cmp(eax, r8d)?;
    a.jbe(no_swap)?;
    a.mov(dword_ptr(rbx + rcx * 4), r8d)?;
    a.mov(dword_ptr(rbx + rdx * 4), eax)?;
    a.mov(r9d, 1u32)?;
    a.set_label(&mut no_swap)?;
    a.inc(ecx)?;
    a.jmp(comb_inner)?;
    a.set_label(&mut comb_check)?;
    a.cmp(esi, 1)?;
    a.jne(comb_outer)?;
    a.test(r9d, r9d)?;
    a.jnz(comb_outer)?;
    // Fold a sorted entry.
    a.imul_3(eax, r15d, 17)?;
    a.and(eax, (INT_N - 1) as i32)?;
    a.mov(eax, dword_ptr(rbx + rax * 4))?;
    a.xor(r13, rax)?;
    a.imul_2(r13, r12)?;
    a.dec(r15d)?;
    a.jnz(round)?;
    let prefix = "int-hash-sort ";
    let mut s = a.create_label();
    a.mov(rax, r13)?;
    tail.print(&mut a, s, prefix.len())?;
    a.jmp(tail.exit0)?;
    tail.emit(&mut a)?;
    a.set_label(&mut s)?;
    a.db(prefix.as_bytes())?;
    a.assemble(TEXT + 0x1000)
}

/// Grid of the floating-point workload and its iteration cap.
const FP_W: u32 = 64;
const FP_H: u32 = 48;
const FP_MAXIT: u32 = 64;

/// Floating point: Mandelbrot escape iterations over a grid around (-0.74, 0.12), zooming in
/// by 0.97 per frame; per pixel, accumulate sqrt(|z|^2) / (1 + iterations).
fn fp_mandelbrot(frames: u32) -> Result<Vec<u8>, IcedError> {
    let mut a = CodeAssembler::new(64)?;
    let tail = Tail::new(&mut a);
    // Constants (a label each: iced labels cannot take a displacement).
    let mut k: Vec<CodeLabel> = (0..7).map(|_| a.create_label()).collect();
    let [c_four, c_one, c_cx, c_cy, c_step, c_zoom, c_1e6] = [k[0], k[1], k[2], k[3], k[4], k[5], k[6]];
    let mut frame = a.create_label();
    let mut row = a.create_label();
    let mut col = a.create_label();
    let mut iterate = a.create_label();
    let mut escaped = a.create_label();
    // xmm8 = accumulator, xmm9 = step, r12 = total iterations, r15 = frames left.
    a.movsd_2(xmm9, qword_ptr(c_step))?;
    a.xorps(xmm8, xmm8)?;
    a.xor(r12d, r12d)?;
    a.mov(r15d, frames)?;
    a.set_label(&mut frame)?;
    a.xor(r14d, r14d)?; // py
    a.set_label(&mut row)?;
    // ci = cy + (py - H/2) * step
    a.lea(eax, ptr(r14 - (FP_H / 2) as i32))?;
    a.cvtsi2sd(xmm7, eax)?;
    a.mulsd(xmm7, xmm9)?;
    a.addsd(xmm7, qword_ptr(c_cy))?;
    a.xor(r13d, r13d)?; // px
    a.set_label(&mut col)?;
    // cr = cx + (px - W/2) * step
    a.lea(eax, ptr(r13 - (FP_W / 2) as i32))?;
    a.cvtsi2sd(xmm6, eax)?;
    a.mulsd(xmm6, xmm9)?;
    a.addsd(xmm6, qword_ptr(c_cx))?;
    a.xorps(xmm0, xmm0)?; // zr
    a.xorps(xmm1, xmm1)?; // zi
    a.xor(ecx, ecx)?;
    a.set_label(&mut iterate)?;
    a.movsd_2(xmm2, xmm0)?;
    a.mulsd(xmm2, xmm0)?; // zr^2
    a.movsd_2(xmm3, xmm1)?;
    a.mulsd(xmm3, xmm1)?; // zi^2
    a.movsd_2(xmm4, xmm2)?;
    a.addsd(xmm4, xmm3)?; // |z|^2
    a.comisd(xmm4, qword_ptr(c_four))?;
    a.ja(escaped)?;
    a.mulsd(xmm1, xmm0)?;
    a.addsd(xmm1, xmm1)?;
    a.addsd(xmm1, xmm7)?; // zi = 2 zr zi + ci
    a.movsd_2(xmm0, xmm2)?;
    a.subsd(xmm0, xmm3)?;
    a.addsd(xmm0, xmm6)?; // zr = zr^2 - zi^2 + cr
    a.inc(ecx)?;
    a.cmp(ecx, FP_MAXIT as i32)?;
    a.jb(iterate)?;
    a.set_label(&mut escaped)?;
    a.sqrtsd(xmm4, xmm4)?;
    a.cvtsi2sd(xmm5, ecx)?;
    a.addsd(xmm5, qword_ptr(c_one))?;
    a.divsd(xmm4, xmm5)?;
    a.addsd(xmm8, xmm4)?;
    a.add(r12, rcx)?;
    a.inc(r13d)?;
    a.cmp(r13d, FP_W as i32)?;
    a.jb(col)?;
    a.inc(r14d)?;
    a.cmp(r14d, FP_H as i32)?;
    a.jb(row)?;
    a.mulsd(xmm9, qword_ptr(c_zoom))?;
    a.dec(r15d)?;
    a.jnz(frame)?;
    let p_iter = "fp-mandelbrot iterations ";
    let p_sum = "fp-mandelbrot sum*1e6 ";
    let mut s_iter = a.create_label();
    let mut s_sum = a.create_label();
    a.mov(rax, r12)?;
    tail.print(&mut a, s_iter, p_iter.len())?;
    a.mulsd(xmm8, qword_ptr(c_1e6))?;
    a.cvttsd2si(rax, xmm8)?;
    tail.print(&mut a, s_sum, p_sum.len())?;
    a.jmp(tail.exit0)?;
    tail.emit(&mut a)?;
    for (l, v) in k.iter_mut().zip([4.0, 1.0, -0.74, 0.12, 3.0 / FP_W as f64, 0.97, 1e6]) {
        a.set_label(l)?;
        a.dq_f64(&[v])?;
    }
    a.set_label(&mut s_iter)?;
    a.db(p_iter.as_bytes())?;
    a.set_label(&mut s_sum)?;
    a.db(p_sum.as_bytes())?;
    a.assemble(TEXT + 0x1000)
}

/// Size of each buffer of the memory workload (a power of two).
pub(super) const MEM_S: u64 = 16384;

/// Memory and strings: per round, fill A (`rep stosb`), drop a NUL at a round-dependent
/// place, copy A to B (`rep movsb`), find the NUL (`repne scasb`) and measure it again with a
/// byte loop (strlen), sum every byte of B, compare A and B after changing one byte of B
/// (`repe cmpsb`), and copy B back to A by quadwords (`rep movsq`).
fn mem_string(rounds: u32) -> Result<Vec<u8>, IcedError> {
    let mut a = CodeAssembler::new(64)?;
    let tail = Tail::new(&mut a);
    let buf_a = HEAP;
    let buf_b = HEAP + MEM_S;
    let mut round = a.create_label();
    let mut strlen = a.create_label();
    let mut sum = a.create_label();
    a.mov(rbx, buf_a)?;
    a.mov(rbp, buf_b)?;
    a.mov(r15d, rounds)?;
    a.xor(r13d, r13d)?; // checksum
    a.mov(r12, 0x100_0000_01b3u64)?;
    a.set_label(&mut round)?;
    // rep stosb: A = 'A' + round % 64
    a.mov(rdi, rbx)?;
    a.mov(ecx, MEM_S as u32)?;
    a.mov(eax, r15d)?;
    a.and(eax, 63)?;
    a.add(eax, b'A' as i32)?;
    a.rep().stosb()?;
    // A[round * 997 % S] = 0
    a.imul_3(eax, r15d, 997)?;
    a.and(eax, (MEM_S - 1) as i32)?;
    a.mov(byte_ptr(rbx + rax), 0)?;
    // rep movsb: B = A
    a.mov(rsi, rbx)?;
    a.mov(rdi, rbp)?;
    a.mov(ecx, MEM_S as u32)?;
    a.rep().movsb()?;
    // repne scasb: where is the NUL in B
    a.mov(rdi, rbp)?;
    a.mov(ecx, MEM_S as u32)?;
    a.xor(eax, eax)?;
    a.repne().scasb()?;
    a.add(r13, rcx)?;
    // strlen(A) with a byte loop
    a.mov(rsi, rbx)?;
    a.set_label(&mut strlen)?;
    a.movzx(eax, byte_ptr(rsi))?;
    a.inc(rsi)?;
    a.test(eax, eax)?;
    a.jnz(strlen)?;
    a.sub(rsi, rbx)?;
    a.add(r13, rsi)?;
    // sum of the bytes of B
    a.xor(ecx, ecx)?;
    a.set_label(&mut sum)?;
    a.movzx(eax, byte_ptr(rbp + rcx))?;
    a.add(r13, rax)?;
    a.inc(ecx)?;
    a.cmp(ecx, MEM_S as i32)?;
    a.jb(sum)?;
    // B[(round * 61) % S] ^= 1, then repe cmpsb A, B: where they first differ
    a.imul_3(eax, r15d, 61)?;
    a.and(eax, (MEM_S - 1) as i32)?;
    a.xor(byte_ptr(rbp + rax), 1)?;
    a.mov(rsi, rbx)?;
    a.mov(rdi, rbp)?;
    a.mov(ecx, MEM_S as u32)?;
    a.repe().cmpsb()?;
    a.add(r13, rcx)?;
    // rep movsq: A = B
    a.mov(rsi, rbp)?;
    a.mov(rdi, rbx)?;
    a.mov(ecx, (MEM_S / 8) as u32)?;
    a.rep().movsq()?;
    a.imul_2(r13, r12)?;
    a.dec(r15d)?;
    a.jnz(round)?;
    let prefix = "mem-string ";
    let mut s = a.create_label();
    a.mov(rax, r13)?;
    tail.print(&mut a, s, prefix.len())?;
    a.jmp(tail.exit0)?;
    tail.emit(&mut a)?;
    a.set_label(&mut s)?;
    a.db(prefix.as_bytes())?;
    a.assemble(TEXT + 0x1000)
}

/// Syscalls: open /dev/null, then per iteration write 64 bytes to it and read
/// CLOCK_MONOTONIC; prints the bytes written and how many clock reads did not go backwards
/// (deterministic: every one).
fn syscall_write_clock(iterations: u32) -> Result<Vec<u8>, IcedError> {
    let mut a = CodeAssembler::new(64)?;
    let tail = Tail::new(&mut a);
    let ts = HEAP;
    let buf = HEAP + 0x40;
    let mut path = a.create_label();
    let mut lp = a.create_label();
    let mut backwards = a.create_label();
    let mut fail = a.create_label();
    // fd = open("/dev/null", O_WRONLY)
    a.mov(eax, 2u32)?;
    a.lea(rdi, ptr(path))?;
    a.mov(esi, 1u32)?;
    a.xor(edx, edx)?;
    a.syscall()?;
    a.test(rax, rax)?;
    a.js(fail)?;
    a.mov(rbx, rax)?;
    a.mov(r15d, iterations)?;
    a.xor(r13d, r13d)?; // bytes written
    a.xor(r14d, r14d)?; // monotonic reads
    a.xor(ebp, ebp)?; // previous time, ns
    a.set_label(&mut lp)?;
    a.mov(eax, 1u32)?; // write(fd, buf, 64)
    a.mov(rdi, rbx)?;
    a.mov(rsi, buf)?;
    a.mov(edx, 64u32)?;
    a.syscall()?;
    a.add(r13, rax)?;
    a.mov(eax, 228u32)?; // clock_gettime(CLOCK_MONOTONIC, &ts)
    a.mov(edi, 1u32)?;
    a.mov(rsi, ts)?;
    a.syscall()?;
    a.mov(rsi, ts)?;
    a.imul_3(rax, qword_ptr(rsi), 1_000_000_000)?;
    a.add(rax, qword_ptr(rsi + 8))?;
    a.cmp(rax, rbp)?;
    a.jb(backwards)?;
    a.inc(r14)?;
    a.set_label(&mut backwards)?;
    a.mov(rbp, rax)?;
    a.dec(r15d)?;
    a.jnz(lp)?;
    let p_bytes = "syscall-write-clock bytes ";
    let p_mono = "syscall-write-clock monotonic ";
    let mut s_bytes = a.create_label();
    let mut s_mono = a.create_label();
    a.mov(rax, r13)?;
    tail.print(&mut a, s_bytes, p_bytes.len())?;
    a.mov(rax, r14)?;
    tail.print(&mut a, s_mono, p_mono.len())?;
    a.jmp(tail.exit0)?;
    a.set_label(&mut fail)?;
    a.mov(eax, 231u32)?;
    a.mov(edi, 1u32)?;
    a.syscall()?;
    tail.emit(&mut a)?;
    a.set_label(&mut path)?;
    a.db(b"/dev/null\0")?;
    a.set_label(&mut s_bytes)?;
    a.db(p_bytes.as_bytes())?;
    a.set_label(&mut s_mono)?;
    a.db(p_mono.as_bytes())?;
    a.assemble(TEXT + 0x1000)
}

/// The same static ELF layout as the demo guest (TEXT/DATA above match it).
fn elf(machine: u16, code: &[u8], bss: u64) -> Vec<u8> {
    crate::demo::elf(machine, code, bss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::arch_x86_64::X86_64;
    use crate::linux::process::Options;
    use crate::world::{Quiet, RealWorld};

    #[test]
    fn every_workload_loads_runs_and_exits_0_under_the_interpreter() {
        for w in embedded(Isa::X86_64, Size::Quick).unwrap() {
            let argv = vec![w.name.as_bytes().to_vec()];
            let mut p = crate::linux::start_image::<X86_64>(
                &w.name,
                &w.image,
                std::path::Path::new("/bench"),
                &argv,
                &[],
                Box::new(Quiet(RealWorld)),
                Options { max_icount: Some(50_000_000), ..Options::default() },
            )
            .unwrap();
            let out = p.run().unwrap();
            assert_eq!(out, crate::linux::Outcome::Exited(0), "{}", w.name);
            assert!(p.m.icount > 10_000, "{}: only {} instructions", w.name, p.m.icount);
        }
    }
}
