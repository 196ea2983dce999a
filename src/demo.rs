//! The embedded demo guest: a small static x86-64 Linux program assembled at run time with
//! iced's code assembler, so `deja demo` needs no toolchain. It exercises what deja is about:
//! deterministic computation (a prime sieve), and inputs from outside the guest (the clock,
//! random bytes, the time stamp counter) which record/replay captures.

use crate::linux::arch_x86_64::X86_64;
use crate::linux::process::Options;
use iced_x86::code_asm::*;
use std::process::ExitCode;

/// Guest address of the code segment and the data (bss) segment.
const TEXT: u64 = 0x40_0000;
const DATA: u64 = 0x60_0000;
/// Primes below this bound are sieved.
pub const SIEVE_N: u64 = 2_000_000;
const BUF: u64 = DATA; // 64-byte output buffer
const TS: u64 = DATA + 64; // struct timespec
const RND: u64 = DATA + 96; // 8 random bytes
const SIEVE: u64 = DATA + 4096;

fn asm_err(e: IcedError) -> String {
    format!("assembling the demo guest: {e}")
}

/// Assemble the guest's code at `TEXT`.
fn guest_code() -> Result<Vec<u8>, IcedError> {
    let mut a = CodeAssembler::new(64)?;
    let mut print_str = a.create_label();
    let mut print_u64 = a.create_label();
    let mut print_hex = a.create_label();
    let mut s_banner = a.create_label();
    let mut s_primes = a.create_label();
    let mut s_sum = a.create_label();
    let mut s_clock = a.create_label();
    let mut s_random = a.create_label();
    let mut s_tsc = a.create_label();
    let mut s_nl = a.create_label();

    // _start: print the banner.
    a.lea(rsi, ptr(s_banner))?;
    a.mov(edx, BANNER.len() as u32)?;
    a.call(print_str)?;

    // Sieve of Eratosthenes over SIEVE_N bytes (bss is zero: 0 = prime candidate).
    let mut outer = a.create_label();
    let mut inner = a.create_label();
    let mut next = a.create_label();
    let mut count = a.create_label();
    let mut count_skip = a.create_label();
    a.mov(rbx, SIEVE)?;
    a.mov(ecx, 2u32)?;
    a.set_label(&mut outer)?;
    a.mov(rax, rcx)?;
    a.imul_2(rax, rcx)?;
    a.cmp(rax, SIEVE_N as i32)?;
    a.jae(count)?;
    a.cmp(byte_ptr(rbx + rcx), 0)?;
    a.jne(next)?;
    a.set_label(&mut inner)?;
    a.mov(byte_ptr(rbx + rax), 1)?;
    a.add(rax, rcx)?;
    a.cmp(rax, SIEVE_N as i32)?;
    a.jb(inner)?;
    a.set_label(&mut next)?;
    a.inc(rcx)?;
    a.jmp(outer)?;
    // Count the primes and sum them: r12 = count, r13 = sum.
    a.set_label(&mut count)?;
    a.xor(r12d, r12d)?;
    a.xor(r13d, r13d)?;
    a.mov(ecx, 2u32)?;
    let mut count_loop = a.create_label();
    a.set_label(&mut count_loop)?;
    a.cmp(byte_ptr(rbx + rcx), 0)?;
    a.jne(count_skip)?;
    a.inc(r12)?;
    a.add(r13, rcx)?;
    a.set_label(&mut count_skip)?;
    a.inc(rcx)?;
    a.cmp(rcx, SIEVE_N as i32)?;
    a.jb(count_loop)?;

    a.lea(rsi, ptr(s_primes))?;
    a.mov(edx, S_PRIMES.len() as u32)?;
    a.call(print_str)?;
    a.mov(rax, r12)?;
    a.call(print_u64)?;
    a.lea(rsi, ptr(s_sum))?;
    a.mov(edx, S_SUM.len() as u32)?;
    a.call(print_str)?;
    a.mov(rax, r13)?;
    a.call(print_u64)?;

    // clock_gettime(CLOCK_REALTIME, &ts): an outside input.
    a.mov(eax, 228u32)?;
    a.xor(edi, edi)?;
    a.mov(rsi, TS)?;
    a.syscall()?;
    a.lea(rsi, ptr(s_clock))?;
    a.mov(edx, S_CLOCK.len() as u32)?;
    a.call(print_str)?;
    a.mov(rax, qword_ptr(TS))?;
    a.call(print_u64)?;

    // getrandom(&rnd, 8, 0): an outside input.
    a.mov(eax, 318u32)?;
    a.mov(rdi, RND)?;
    a.mov(esi, 8u32)?;
    a.xor(edx, edx)?;
    a.syscall()?;
    a.lea(rsi, ptr(s_random))?;
    a.mov(edx, S_RANDOM.len() as u32)?;
    a.call(print_str)?;
    a.mov(rax, qword_ptr(RND))?;
    a.call(print_hex)?;

    // rdtsc: an outside input read by an instruction, not a syscall.
    a.rdtsc()?;
    a.shl(rdx, 32)?;
    a.or(rax, rdx)?;
    a.push(rax)?;
    a.lea(rsi, ptr(s_tsc))?;
    a.mov(edx, S_TSC.len() as u32)?;
    a.call(print_str)?;
    a.pop(rax)?;
    a.call(print_u64)?;

    // exit_group(0)
    a.mov(eax, 231u32)?;
    a.xor(edi, edi)?;
    a.syscall()?;

    // print_str(rsi = string, rdx = length)
    a.set_label(&mut print_str)?;
    a.mov(eax, 1u32)?;
    a.mov(edi, 1u32)?;
    a.syscall()?;
    a.ret()?;

    // print_u64(rax): decimal and a newline.
    let mut digit = a.create_label();
    a.set_label(&mut print_u64)?;
    a.mov(rdi, BUF + 63)?;
    a.mov(byte_ptr(rdi), b'\n' as u32)?;
    a.mov(ecx, 10u32)?;
    a.set_label(&mut digit)?;
    a.xor(edx, edx)?;
    a.div(rcx)?;
    a.add(dl, b'0' as u32)?;
    a.dec(rdi)?;
    a.mov(byte_ptr(rdi), dl)?;
    a.test(rax, rax)?;
    a.jnz(digit)?;
    a.mov(rsi, rdi)?;
    a.mov(rdx, BUF + 64)?;
    a.sub(rdx, rdi)?;
    a.jmp(print_str)?;

    // print_hex(rax): 16 hex digits and a newline.
    let mut hexloop = a.create_label();
    let mut is_digit = a.create_label();
    a.set_label(&mut print_hex)?;
    a.mov(rdi, BUF + 63)?;
    a.mov(byte_ptr(rdi), b'\n' as u32)?;
    a.mov(ecx, 16u32)?;
    a.set_label(&mut hexloop)?;
    a.mov(edx, eax)?;
    a.and(edx, 15)?;
    a.add(edx, b'0' as i32)?;
    a.cmp(edx, b'9' as i32)?;
    a.jbe(is_digit)?;
    a.add(edx, (b'a' - b'9' - 1) as i32)?;
    a.set_label(&mut is_digit)?;
    a.dec(rdi)?;
    a.mov(byte_ptr(rdi), dl)?;
    a.shr(rax, 4)?;
    a.dec(ecx)?;
    a.jnz(hexloop)?;
    a.mov(rsi, rdi)?;
    a.mov(edx, 17u32)?;
    a.jmp(print_str)?;

    for (label, s) in [
        (&mut s_banner, BANNER),
        (&mut s_primes, S_PRIMES),
        (&mut s_sum, S_SUM),
        (&mut s_clock, S_CLOCK),
        (&mut s_random, S_RANDOM),
        (&mut s_tsc, S_TSC),
        (&mut s_nl, "\n"),
    ] {
        a.set_label(label)?;
        a.db(s.as_bytes())?;
    }
    a.assemble(TEXT + 0x1000)
}

const BANNER: &str = "hello from a guest program running inside deja\n";
const S_PRIMES: &str = "primes below 2000000: ";
const S_SUM: &str = "their sum: ";
const S_CLOCK: &str = "clock_gettime seconds: ";
const S_RANDOM: &str = "getrandom bytes: ";
const S_TSC: &str = "rdtsc: ";

/// Wrap code into a static ELF for `machine` (e_machine): one RX segment (headers + code)
/// at TEXT and a zeroed RW segment of `bss` bytes at DATA.
pub fn elf(machine: u16, code: &[u8], bss: u64) -> Vec<u8> {
    let mut f = Vec::new();
    let entry = TEXT + 0x1000;
    // ELF header
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&machine.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&entry.to_le_bytes());
    f.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f.extend_from_slice(&2u16.to_le_bytes()); // e_phnum
    f.extend_from_slice(&[0; 6]);
    let phdr = |f: &mut Vec<u8>, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64| {
        f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        f.extend_from_slice(&flags.to_le_bytes());
        f.extend_from_slice(&off.to_le_bytes());
        f.extend_from_slice(&vaddr.to_le_bytes());
        f.extend_from_slice(&vaddr.to_le_bytes());
        f.extend_from_slice(&filesz.to_le_bytes());
        f.extend_from_slice(&memsz.to_le_bytes());
        f.extend_from_slice(&0x1000u64.to_le_bytes());
    };
    let text_size = 0x1000 + code.len() as u64;
    phdr(&mut f, 5, 0, TEXT, text_size, text_size);
    phdr(&mut f, 6, 0, DATA, 0, bss);
    f.resize(0x1000, 0);
    f.extend_from_slice(code);
    f
}

/// The demo guest as an ELF image.
pub fn demo_elf() -> Result<Vec<u8>, String> {
    let code = guest_code().map_err(asm_err)?;
    Ok(elf(62, &code, SIEVE - DATA + SIEVE_N))
}

/// `deja demo`: record the embedded guest, then replay the recording twice, and show that the
/// replays reproduce the recorded run exactly (the same output, clock, random bytes and
/// rdtsc values, instruction count and final state digest).
pub fn run_demo(stats: bool) -> ExitCode {
    match demo(stats) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("deja: demo: {e}");
            ExitCode::from(125)
        }
    }
}

fn demo(stats: bool) -> Result<ExitCode, String> {
    use crate::replay::session::{self, RecordOptions, ReplayOptions};
    let image = demo_elf()?;
    let dir = std::env::temp_dir().join(format!("deja-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let exe = dir.join("deja-demo");
    let log = dir.join("deja-demo.deja");
    std::fs::write(&exe, &image).map_err(|e| e.to_string())?;
    let argv = vec![b"deja-demo".to_vec()];
    let envp: Vec<Vec<u8>> = Vec::new();
    say(&format!(
        "1. recording an embedded static x86-64 guest ({} bytes): it sieves primes (deterministic",
        image.len()
    ));
    say("   work), then reads the clock, random bytes and rdtsc (inputs from outside the guest)");
    let t0 = std::time::Instant::now();
    let opts =
        RecordOptions { out: log.clone(), checkpoint_every: 1_000_000, embed_exe: true, run: Options::default() };
    let rec = session::record::<X86_64>(&exe, &argv, &envp, opts).map_err(|e| e.to_string())?;
    let rec_time = t0.elapsed();
    let out = rec.result.map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    say(&format!(
        "   recorded {} instructions, exit status {}, log {} bytes",
        rec.process.m.icount,
        out.exit_code(),
        size
    ));
    if stats {
        crate::report::print_stats(&rec.process, rec_time);
    }
    let mut rec_p = rec.process;
    let want = rec_p.digest();
    let _ = std::fs::remove_file(&exe); // replay needs nothing but the log
    for round in 1..=2 {
        say(&format!("{}. replaying the log (round {round}): the same output, from the log, not the host", round + 1));
        let t0 = std::time::Instant::now();
        let opts = ReplayOptions { quiet: false, to_icount: None, exe: None, run: Options::default() };
        let mut rep = session::replay::<X86_64>(&log, opts).map_err(|e| e.to_string())?;
        let dt = t0.elapsed();
        match rep.result {
            Ok(o) => {
                let d = rep.process.digest();
                let same = d == want && rep.process.m.icount == rec_p.m.icount && o == out;
                say(&format!(
                    "   replay {}: {} instructions, exit status {}, digest {d:016x}",
                    if same { "ok" } else { "DIFFERS" },
                    rep.process.m.icount,
                    o.exit_code()
                ));
                if stats {
                    crate::report::print_stats(&rep.process, dt);
                }
                if !same {
                    return Ok(ExitCode::from(124));
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    say("every replay retired the same instructions and reached the same state as the recording");
    Ok(ExitCode::SUCCESS)
}

fn say(s: &str) {
    eprintln!("deja demo: {s}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_image_is_a_loadable_elf() {
        let img = super::demo_elf().unwrap();
        assert_eq!(crate::linux::loader::elf_isa("demo", &img).unwrap(), crate::linux::loader::Isa::X86_64);
    }
}
