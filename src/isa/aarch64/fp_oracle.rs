//! Test oracle for the FP and Advanced SIMD handlers (design §8: qemu-aarch64 is the oracle
//! for AArch64 semantics).
//!
//! A batch of [`Case`]s (an instruction word plus V0-V7, X0-X7, NZCV and FPCR) becomes one
//! static AArch64 program (built with `aarch64-linux-gnu-gcc -nostdlib`): for each case it
//! loads the inputs, clears FPSR, executes the word (`.inst`), and stores V0-V7, X0-X7, NZCV
//! and FPSR; at the end it writes all records to stdout. The program runs under
//! `qemu-aarch64`, and every case runs through deja's handler on a small machine; the two
//! sets of records must be equal. Words must only name registers 0-7 (and 31 as zero
//! register). Without the tools the tests are skipped, unless `DEJA_REQUIRE_TOOLS` is set.

use super::table::TABLE;
use super::{Decoded, M};
use crate::engine::Machine;
use crate::mem::Memory;
use deja_decoders::aarch64::decode_word;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// One test case: inputs of the instruction `word`.
#[derive(Clone, Debug)]
pub struct Case {
    pub word: u32,
    pub v: [u128; 8],
    pub x: [u64; 8],
    pub nzcv: u64,
    pub fpcr: u64,
}

impl Case {
    pub fn new(word: u32) -> Case {
        Case { word, v: [0; 8], x: [0; 8], nzcv: 0, fpcr: 0 }
    }
}

/// The architectural results of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Out {
    pub v: [u128; 8],
    pub x: [u64; 8],
    pub nzcv: u64,
    pub fpsr: u64,
}

const REC: usize = 8 * 16 + 8 * 8 + 16;

fn tool(name: &str) -> bool {
    Command::new(name).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

/// Are gcc and qemu for AArch64 available? (Otherwise skip, or fail under DEJA_REQUIRE_TOOLS.)
pub fn tools() -> bool {
    let ok = tool("aarch64-linux-gnu-gcc") && tool("qemu-aarch64");
    if !ok {
        if std::env::var_os("DEJA_REQUIRE_TOOLS").is_some_and(|v| v != "0") {
            panic!("aarch64-linux-gnu-gcc / qemu-aarch64 missing and DEJA_REQUIRE_TOOLS is set");
        }
        eprintln!("SKIPPED: aarch64-linux-gnu-gcc or qemu-aarch64 not installed");
    }
    ok
}

fn scratch() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let d =
        std::env::temp_dir().join(format!("deja-a64fp-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Run the cases under qemu-aarch64.
pub fn qemu(cases: &[Case]) -> Vec<Out> {
    let mut s = String::new();
    s.push_str(".text\n.global _start\n_start:\n  adrp x20, inputs\n  add x20, x20, :lo12:inputs\n");
    s.push_str("  adrp x21, outputs\n  add x21, x21, :lo12:outputs\n");
    for c in cases {
        s.push_str(
            "  ldp q0, q1, [x20, #0]\n  ldp q2, q3, [x20, #32]\n  ldp q4, q5, [x20, #64]\n  ldp q6, q7, [x20, #96]\n",
        );
        s.push_str("  ldp x0, x1, [x20, #128]\n  ldp x2, x3, [x20, #144]\n  ldp x4, x5, [x20, #160]\n  ldp x6, x7, [x20, #176]\n");
        s.push_str("  ldr x9, [x20, #192]\n  msr nzcv, x9\n  ldr x9, [x20, #200]\n  msr fpcr, x9\n  msr fpsr, xzr\n");
        let _ = writeln!(s, "  .inst 0x{:08x}", c.word);
        s.push_str("  mrs x9, nzcv\n  mrs x10, fpsr\n  msr fpcr, xzr\n");
        s.push_str(
            "  stp q0, q1, [x21, #0]\n  stp q2, q3, [x21, #32]\n  stp q4, q5, [x21, #64]\n  stp q6, q7, [x21, #96]\n",
        );
        s.push_str("  stp x0, x1, [x21, #128]\n  stp x2, x3, [x21, #144]\n  stp x4, x5, [x21, #160]\n  stp x6, x7, [x21, #176]\n");
        s.push_str("  stp x9, x10, [x21, #192]\n  add x20, x20, #208\n  add x21, x21, #208\n");
    }
    let _ = writeln!(
        s,
        "  mov x0, #1\n  adrp x1, outputs\n  add x1, x1, :lo12:outputs\n  ldr x2, ={}\n  mov x8, #64\n  svc #0\n  mov x0, #0\n  mov x8, #93\n  svc #0\n  .ltorg",
        cases.len() * REC
    );
    s.push_str(".data\n.balign 16\ninputs:\n");
    for c in cases {
        for v in c.v {
            let _ = writeln!(s, "  .quad 0x{:x}, 0x{:x}", v as u64, (v >> 64) as u64);
        }
        for x in c.x {
            let _ = writeln!(s, "  .quad 0x{x:x}");
        }
        let _ = writeln!(s, "  .quad 0x{:x}, 0x{:x}", c.nzcv, c.fpcr);
    }
    let _ = writeln!(s, ".bss\n.balign 16\noutputs:\n  .skip {}", cases.len() * REC + 16);
    let dir = scratch();
    let src = dir.join("t.s");
    let bin = dir.join("t");
    std::fs::write(&src, s).unwrap();
    let o = Command::new("aarch64-linux-gnu-gcc")
        .args(["-static", "-nostdlib", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("run aarch64-linux-gnu-gcc");
    assert!(o.status.success(), "assembling failed: {}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("qemu-aarch64").arg(&bin).output().expect("run qemu-aarch64");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "qemu-aarch64 failed: {:?} {}", o.status, String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout.len(), cases.len() * REC, "qemu output length");
    o.stdout
        .chunks(REC)
        .map(|r| {
            let q = |i: usize| u64::from_le_bytes(r[i * 8..i * 8 + 8].try_into().unwrap());
            let mut v = [0u128; 8];
            for (i, vi) in v.iter_mut().enumerate() {
                *vi = q(2 * i) as u128 | (q(2 * i + 1) as u128) << 64;
            }
            let mut x = [0u64; 8];
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = q(16 + i);
            }
            Out { v, x, nzcv: q(24), fpsr: q(25) }
        })
        .collect()
}

/// A machine for running single instructions (no memory needed by FP/SIMD data processing).
pub fn machine() -> M {
    let mem = Memory::new(1 << 20).expect("guest memory");
    Machine { cpu: Default::default(), mem, icount: 0, limit: u64::MAX }
}

/// Run one case through deja's handler: `Err(message)` if it does not decode or traps.
pub fn deja(m: &mut M, c: &Case) -> Result<Out, String> {
    let ins = decode_word(c.word).ok_or_else(|| "yaxpeax does not decode it".to_string())?;
    let d = Decoded { pc: 0x1000, word: c.word, ins };
    m.cpu = Default::default();
    m.cpu.v[..8].copy_from_slice(&c.v);
    m.cpu.x[..8].copy_from_slice(&c.x);
    m.cpu.nzcv = c.nzcv;
    m.cpu.fpcr = c.fpcr;
    m.cpu.fpsr = 0;
    m.cpu.pc = d.pc + 4;
    TABLE.handler(&d.ins)(m, &d).map_err(|t| format!("{t:?} ({})", d.ins))?;
    let mut v = [0u128; 8];
    v.copy_from_slice(&m.cpu.v[..8]);
    let mut x = [0u64; 8];
    x.copy_from_slice(&m.cpu.x[..8]);
    Ok(Out { v, x, nzcv: m.cpu.nzcv, fpsr: m.cpu.fpsr })
}

/// Run `cases` under qemu and deja and panic with the first differences.
pub fn check(cases: &[Case]) {
    if !tools() {
        return;
    }
    let mut m = machine();
    let mut bad = 0;
    let mut report = String::new();
    for chunk in cases.chunks(4000) {
        let want = qemu(chunk);
        for (c, w) in chunk.iter().zip(want) {
            let got = deja(&mut m, c);
            if got.as_ref() != Ok(&w) {
                bad += 1;
                if bad <= 12 {
                    let dis = decode_word(c.word).map(|i| i.to_string()).unwrap_or_default();
                    let _ = writeln!(report, "{:08x} `{dis}` fpcr={:x} nzcv={:x}", c.word, c.fpcr, c.nzcv);
                    for i in 0..8 {
                        let g = got.as_ref().map(|o| o.v[i]).unwrap_or(0);
                        if w.v[i] != g || (1..4).contains(&i) {
                            let _ = writeln!(report, "   v{i}: in {:032x} qemu {:032x} deja {g:032x}", c.v[i], w.v[i]);
                        }
                    }
                    for i in 0..8 {
                        let g = got.as_ref().map(|o| o.x[i]).unwrap_or(0);
                        if w.x[i] != g {
                            let _ = writeln!(report, "   x{i}: in {:016x} qemu {:016x} deja {g:016x}", c.x[i], w.x[i]);
                        }
                    }
                    match &got {
                        Ok(g) => {
                            let _ = writeln!(
                                report,
                                "   nzcv qemu {:x} deja {:x}; fpsr qemu {:x} deja {:x}",
                                w.nzcv, g.nzcv, w.fpsr, g.fpsr
                            );
                        }
                        Err(e) => {
                            let _ = writeln!(report, "   deja: {e}; qemu nzcv {:x} fpsr {:x}", w.nzcv, w.fpsr);
                        }
                    }
                }
            }
        }
    }
    assert!(bad == 0, "{bad} of {} cases differ from qemu:\n{report}", cases.len());
}

// ---------------------------------------------------------------------------------------
// Value sets
// ---------------------------------------------------------------------------------------

/// Interesting doubles (bit patterns).
pub const D_VALUES: &[u64] = &[
    0x0000_0000_0000_0000, // +0
    0x8000_0000_0000_0000, // -0
    0x3ff0_0000_0000_0000, // 1
    0xbff0_0000_0000_0000, // -1
    0x3fe0_0000_0000_0000, // 0.5
    0x3ff8_0000_0000_0000, // 1.5
    0xc004_0000_0000_0000, // -2.5
    0x4005_5555_5555_5555, // 2.666..
    0x3fb9_9999_9999_999a, // 0.1
    0x7ff0_0000_0000_0000, // inf
    0xfff0_0000_0000_0000, // -inf
    0x7ff8_0000_0000_0000, // default NaN
    0x7ff8_0000_0000_0123, // qNaN payload
    0xfff4_0000_0000_0456, // -sNaN payload
    0x7ff0_0000_0000_0001, // sNaN
    0x0000_0000_0000_0001, // smallest denormal
    0x800f_ffff_ffff_ffff, // -largest denormal
    0x0010_0000_0000_0000, // smallest normal
    0x0010_0000_0000_0001,
    0x7fef_ffff_ffff_ffff, // max
    0xffef_ffff_ffff_ffff, // -max
    0x4330_0000_0000_0001, // 2^52 + 1
    0x4340_0000_0000_0000, // 2^53
    0x41df_ffff_ffc0_0000, // 2^31 - 1
    0x41e0_0000_0000_0000, // 2^31
    0xc1e0_0000_0000_0000, // -2^31
    0x43e0_0000_0000_0000, // 2^63
    0xc3e0_0000_0000_0000, // -2^63
    0x43f0_0000_0000_0000, // 2^64
    0x3ca0_0000_0000_0000, // 2^-53
    0x47ef_ffff_e000_0000, // FLT_MAX
    0x47ef_ffff_f000_0000, // FLT_MAX + half ulp
    0x3810_0000_0000_0000, // FLT_MIN
    0x380f_ffff_f000_0000, // just below FLT_MIN
    0x36a0_0000_0000_0000, // 2^-149 (smallest single denormal)
    0x3690_0000_0000_0000, // 2^-150
    0x4004_0000_0000_0000, // 2.5
    0xbfe8_0000_0000_0000, // -0.75
    0x400921fb54442d18,    // pi
    0xc37e_d82c_1a5c_0000, // -1.39e17 (integral, fits in 64 bits)
    0x4415_af1d_78b5_8c40, // 1e20 (integral, beyond 64 bits)
];

/// Interesting singles (bit patterns).
pub const S_VALUES: &[u32] = &[
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000, // 1
    0xbf80_0000,
    0x3f00_0000, // 0.5
    0x3fc0_0000, // 1.5
    0xc020_0000, // -2.5
    0x402a_aaab, // 2.666
    0x3dcc_cccd, // 0.1
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0x7fc0_0123,
    0xffa0_0456, // -sNaN
    0x7f80_0001, // sNaN
    0x0000_0001,
    0x807f_ffff,
    0x0080_0000, // min normal
    0x0080_0001,
    0x7f7f_ffff, // max
    0xff7f_ffff,
    0x4b00_0001, // 2^23 + 1
    0x4f00_0000, // 2^31
    0xcf00_0000, // -2^31
    0x4eff_ffff, // 2^31 - 128
    0x5f00_0000, // 2^63
    0x5f80_0000, // 2^64
    0x3380_0000, // 2^-24
    0x4020_0000, // 2.5
    0xbf40_0000, // -0.75
    0x4049_0fdb, // pi
    0x3f7f_ffff, // 1 - ulp
    0xdbf6_c15a, // -1.39e17 (integral, fits in 64 bits)
    0x60ad_78ec, // 1e20
];

/// FPCR values: the four rounding modes, FZ, DN, FZ|DN|RM.
pub const FPCRS: &[u64] = &[0, 1 << 22, 2 << 22, 3 << 22, 1 << 24, 1 << 25, (1 << 24) | (1 << 25) | (2 << 22)];

/// The special values of `fmt` as bit patterns (S: 32-bit, D: 64-bit; H: a short list).
pub fn values(fmt: super::fp_core::Fmt) -> Vec<u64> {
    use super::fp_core::Fmt;
    match fmt {
        Fmt::D => D_VALUES.to_vec(),
        Fmt::S => S_VALUES.iter().map(|&v| v as u64).collect(),
        Fmt::H => vec![
            0x0000, 0x8000, 0x3c00, 0xbc00, 0x3800, 0x3e00, 0xc100, 0x7c00, 0xfc00, 0x7e00, 0x7e12, 0xfd01, 0x0001,
            0x83ff, 0x0400, 0x7bff, 0xfbff, 0x6800, 0x4248,
        ],
    }
}

pub use crate::testrng::Rng;

/// Random FP operands.
pub trait FpRng {
    fn fp(&mut self, fmt: super::fp_core::Fmt) -> u64;
}

impl FpRng for Rng {
    /// A random FP value of `bits` bits, biased towards specials and small exponents.
    fn fp(&mut self, fmt: super::fp_core::Fmt) -> u64 {
        let r = self.next_u64();
        let vals = values(fmt);
        match r % 4 {
            0 => vals[(r >> 8) as usize % vals.len()],
            _ => {
                let f = fmt.frac_bits();
                let e = (r >> 8) % 8;
                let exp = match e {
                    0 => 0,
                    1 => 1,
                    2 => (1 << fmt.exp_bits()) - 2,
                    _ => (1 << (fmt.exp_bits() - 1)) - 4 + (r >> 16) % 8,
                };
                let frac = self.next_u64() & ((1 << f) - 1);
                ((r >> 40) & 1) << (fmt.bits() - 1) | exp << f | frac
            }
        }
    }
}

/// Random vectors biased towards element boundary values.
pub fn int_cases(words: &[u32], per: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng(seed);
    let special = [0u64, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000, u64::MAX, 1 << 63];
    let mut cases = Vec::new();
    for &w in words {
        for k in 0..per {
            let mut c = Case::new(w);
            for v in c.v.iter_mut() {
                *v = rng.v128();
                if k % 3 == 1 {
                    // Sprinkle special values in bytes/halves/words.
                    let s = special[(rng.next_u64() % special.len() as u64) as usize];
                    let sh = (rng.next_u64() % 4) * 32;
                    *v ^= (s as u128) << sh;
                }
                if k % 3 == 2 {
                    // Small shift counts in the low byte of each element.
                    let mut x = 0u128;
                    for i in 0..16 {
                        x |= (((rng.next_u64() % 140) as u8).wrapping_sub(70) as u128) << (8 * i);
                    }
                    *v = x;
                }
            }
            c.x = [rng.next_u64(); 8];
            cases.push(c);
        }
    }
    cases
}

/// Cases with FP elements of `es` bits (specials and random values) under every FPCR.
pub fn fp_vec_cases(words: &[u32], es: u32, per: usize, seed: u64) -> Vec<Case> {
    let fmt = super::simd_fp::fmt_of(es);
    let mut rng = Rng(seed);
    let mut cases = Vec::new();
    for &w in words {
        for &fpcr in FPCRS {
            for _ in 0..per {
                let mut c = Case::new(w);
                for v in c.v.iter_mut() {
                    let mut x = 0u128;
                    for e in 0..128 / es {
                        super::simd::put(&mut x, es, e, rng.fp(fmt));
                    }
                    *v = x;
                }
                c.fpcr = fpcr;
                cases.push(c);
            }
        }
    }
    cases
}

/// Which SIMD&FP words of a list (`DEJA_A64_WORDS`: lines "hexword<TAB>text", e.g. every
/// instruction of libc.a/libm.a from objdump) does deja not implement (or, with
/// `DEJA_A64_WORDS_UNDEFINED=1`, which unallocated words does it execute)? Run with
/// `cargo test --release --lib scan_words -- --ignored --nocapture`.
#[test]
#[ignore]
fn scan_words() {
    let Some(path) = std::env::var_os("DEJA_A64_WORDS") else { return };
    // DEJA_A64_WORDS_UNDEFINED=1: the words are unallocated; report the ones deja executes.
    let invert = std::env::var_os("DEJA_A64_WORDS_UNDEFINED").is_some();
    let text = std::fs::read_to_string(path).unwrap();
    let mut m = machine();
    let mut missing = std::collections::BTreeMap::<String, Vec<String>>::new();
    for line in text.lines() {
        let mut it = line.splitn(2, '\t');
        let w = u32::from_str_radix(it.next().unwrap_or("").trim(), 16).unwrap_or(0);
        let txt = it.next().unwrap_or("").to_string();
        let mut c = Case::new(w);
        let mut rng = Rng(w as u64 | 1);
        for v in c.v.iter_mut() {
            *v = rng.v128();
        }
        let r = deja(&mut m, &c);
        if invert {
            // Words that should be undefined: report those deja executes.
            if r.is_ok() {
                let key = decode_word(w).map(|i| format!("{:?}", i.opcode)).unwrap_or_default();
                missing.entry(key).or_default().push(format!("{w:08x} {txt}: executed"));
            }
        } else if let Err(e) = r {
            if e.contains("SIGSEGV") || e.contains("signo: 11") {
                continue;
            }
            let key = txt.split_whitespace().next().unwrap_or("?").to_string();
            missing.entry(key).or_default().push(format!("{w:08x} {txt}: {e}"));
        }
    }
    for (k, v) in &missing {
        println!("{k}: {}", v.len());
        for x in v.iter().take(3) {
            println!("    {x}");
        }
    }
}
