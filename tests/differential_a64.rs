//! Instruction-level differential testing of the AArch64 interpreter against qemu-aarch64
//! (design §8).
//!
//! Random straight-line sequences are drawn per instruction class from encoding templates
//! (`a64_gen/*.rs`: built bit by bit, kept only if yaxpeax-arm decodes them, deja implements
//! them and they are not on the do-not-test list), wrapped in a small static AArch64 ELF that
//! loads a random register state (X0–X30, SP, NZCV, FPCR, FPSR, V0–V31), runs the sequence and
//! dumps the state and a data buffer to stdout. The ELF runs under qemu-aarch64 and under
//! deja's interpreter; any difference is reported with the seed, the sequence (disassembled)
//! and the first instruction after which the two disagree.
//!
//! Knobs: `DEJA_A64_SEED=N` replays a run (`random` picks one); `DEJA_A64_INSNS=N` sets the
//! number of instructions per test (default 60,000); `DEJA_A64_MODE=elf|step` (see
//! `a64_gen/harness.rs`); `DEJA_A64_KEEP=1` keeps the ELFs qemu ran (under target/tmp/a64diff).

mod a64_gen;
mod common;

use a64_gen::harness::{self, Mode};
use a64_gen::{gen_case, templates, Case, Class, Rng, Template};
use deja_decoders::aarch64::{decode_word, opcode_tag};
use std::collections::{BTreeMap, BTreeSet};

fn seed() -> u64 {
    match std::env::var("DEJA_A64_SEED") {
        Ok(s) if s == "random" => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        }
        Ok(s) => s.parse().expect("DEJA_A64_SEED must be a number or 'random'"),
        Err(_) => 0xa64_dea1_2026,
    }
}

fn total_insns() -> usize {
    std::env::var("DEJA_A64_INSNS").ok().and_then(|s| s.parse().ok()).unwrap_or(60_000)
}

/// Cases per ELF (qemu starts once per batch).
const BATCH: usize = 400;

/// Coverage of one run.
#[derive(Default)]
struct Stats {
    insns: usize,
    cases: usize,
    per_template: BTreeMap<&'static str, usize>,
    opcodes: BTreeSet<String>,
}

/// Generate about `total` instructions from the templates of `classes` (`salt` varies the
/// seed between tests) (cases of 8..24
/// instructions: mostly one class each, some mixing all the given classes), run them under
/// qemu and deja, and panic with a report on any difference.
fn run_classes(classes: &[Class], total: usize, salt: u64) -> Stats {
    let base_seed = seed();
    let seed = base_seed ^ classes.iter().fold(salt, |a, &c| a.wrapping_mul(31).wrapping_add(c as u64 + 1));
    let all = templates();
    let per_class: Vec<Vec<&'static Template>> =
        classes.iter().map(|&c| all.iter().copied().filter(|t| t.class == c).collect()).collect();
    let mixed: Vec<&'static Template> = per_class.concat();
    assert!(!mixed.is_empty(), "no templates for {classes:?}");
    let mode = harness::mode();
    let missing = harness::missing_harness_instructions();
    if mode == Mode::Step && !missing.is_empty() {
        eprintln!(
            "note: running case bodies with injected state (step mode); harness instructions not implemented yet: {}",
            missing.join(", ")
        );
    }
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    let mut failures = Vec::new();
    let mut batch_no = 0;
    while stats.insns < total {
        let mut cases: Vec<Case> = Vec::with_capacity(BATCH);
        while cases.len() < BATCH && stats.insns < total {
            let pool = if rng.below(10) < 3 { &mixed } else { &per_class[rng.below(per_class.len() as u64) as usize] };
            let len = 8 + rng.below(17) as usize;
            let c = gen_case(&mut rng, pool, len);
            stats.insns += c.words.len();
            stats.cases += 1;
            for (&w, &t) in c.words.iter().zip(&c.from) {
                *stats.per_template.entry(t).or_default() += 1;
                if let Some(i) = decode_word(w) {
                    stats.opcodes.insert(format!("{:?}", i.opcode).split('(').next().unwrap_or("").to_string());
                }
            }
            cases.push(c);
        }
        if let Err(e) = harness::check_batch(mode, base_seed, batch_no, &cases) {
            failures.push(e);
            if failures.len() >= 3 {
                break;
            }
        }
        batch_no += 1;
    }
    eprintln!(
        "a64 differential {classes:?} ({mode:?} mode): DEJA_A64_SEED={base_seed}, {} cases, {} instructions, {} opcodes, {} templates",
        stats.cases,
        stats.insns,
        stats.opcodes.len(),
        stats.per_template.len()
    );
    if !failures.is_empty() {
        panic!("deja differs from qemu-aarch64 (replay with DEJA_A64_SEED={base_seed}):\n{}", failures.join("\n"));
    }
    // Every template of these classes contributed.
    for pc in &per_class {
        for t in pc {
            assert!(stats.per_template.contains_key(t.name), "template {:?} never produced an instruction", t.name);
        }
    }
    stats
}

fn need_qemu() -> bool {
    if harness::have_qemu() {
        true
    } else {
        common::skip_or_fail("qemu-aarch64 is not installed (Debian package qemu-user)");
        false
    }
}

/// Integer data processing, immediate and register classes (dp_imm.rs, dp_reg.rs).
#[test]
fn integer_data_processing_matches_qemu() {
    if !need_qemu() {
        return;
    }
    let total = total_insns();
    let s = run_classes(&[Class::IntImm, Class::IntReg], total, 0);
    assert!(s.insns >= total.min(50_000), "too few instructions: {}", s.insns);
    // Every integer opcode deja implements shows up.
    let want = [
        "ADD", "ADDS", "SUB", "SUBS", "AND", "ORR", "EOR", "ANDS", "BIC", "BICS", "ORN", "EON", "MOVN", "MOVZ", "MOVK",
        "ADR", "ADRP", "SBFM", "BFM", "UBFM", "EXTR", "ADC", "ADCS", "SBC", "SBCS", "CCMN", "CCMP", "CSEL", "CSINC",
        "CSINV", "CSNEG", "RBIT", "REV16", "REV32", "REV", "CLZ", "CLS", "UDIV", "SDIV", "LSLV", "LSRV", "ASRV",
        "RORV", "MADD", "MSUB", "SMADDL", "SMSUBL", "UMADDL", "UMSUBL", "SMULH", "UMULH", "CRC32B", "CRC32H", "CRC32W",
        "CRC32X", "CRC32CB", "CRC32CH", "CRC32CW", "CRC32CX",
    ];
    let missing: Vec<_> = want.iter().filter(|o| !s.opcodes.contains(**o)).collect();
    assert!(missing.is_empty(), "opcodes never generated: {missing:?}");
}

/// Loads and stores of every addressing mode, pairs, prefetch, exclusive loads, ordered
/// accesses, LSE atomics and CAS, SIMD structure accesses (loadstore*.rs, atomic.rs): see
/// `a64_gen/loadstore.rs` for how the templates keep accesses inside the case's buffer.
#[test]
fn loads_and_stores_match_qemu() {
    if !need_qemu() {
        return;
    }
    let total = total_insns();
    let s = run_classes(&[Class::LoadStore], total, 0);
    assert!(s.insns >= total.min(50_000), "too few instructions: {}", s.insns);
    let want = [
        "LDR", "STR", "LDRB", "STRB", "LDRH", "STRH", "LDRSB", "LDRSH", "LDRSW", "LDUR", "STUR", "LDTR", "STTR", "LDP",
        "STP", "LDNP", "STNP", "LDPSW", "PRFM", "PRFUM", "LDXR", "LDAXR", "LDXP", "LDAR", "STLR", "LDAPR", "LDAPUR",
        "STLUR", "CAS", "CASP", "SWP", "LDADD", "LDCLR", "LDEOR", "LDSET", "LDSMAX", "LDSMIN", "LDUMAX", "LDUMIN",
        "LD1", "LD2", "LD3", "LD4", "ST1", "ST2", "ST3", "ST4", "LD1R", "LD2R", "LD3R", "LD4R",
    ];
    let missing: Vec<_> = want.iter().filter(|o| !s.opcodes.contains(**o)).collect();
    assert!(missing.is_empty(), "opcodes never generated: {missing:?}");
}

/// Scalar floating point and Advanced SIMD (fp*.rs, simd*.rs): every template of both
/// classes, with random FPCR modes (rounding, FZ, DN, AHP) and FP specials in the registers.
#[test]
fn fp_and_simd_match_qemu() {
    if !need_qemu() {
        return;
    }
    let total = total_insns();
    let s = run_classes(&[Class::Fp, Class::Simd], total, 0);
    assert!(s.insns >= total.min(50_000), "too few instructions: {}", s.insns);
    let want = [
        "FMOV", "FADD", "FSUB", "FMUL", "FDIV", "FMADD", "FNMSUB", "FCMP", "FCCMP", "FCSEL", "FCVT", "FRINTA",
        "FCVTZS", "FCVTZU", "SCVTF", "UCVTF", "FCVTNS", "FSQRT", "FMAXNM", "ADD", "CMEQ", "CMHS", "UMAXP", "UMINV",
        "ADDV", "TBL", "EXT", "ZIP1", "UZP2", "DUP", "INS", "UMOV", "SMOV", "MOVI", "SHRN", "USHLL", "XTN", "UADDLV",
        "CNT", "FMLA", "FADDP", "FCVTL", "FCVTN", "SQRDMLAH", "SDOT", "FCMLA", "FRECPE", "BSL", "NOT", "REV64",
        "UMULL", "SQDMULH",
    ];
    // The instructions behind HWCAP AES PMULL SHA1 SHA2 ASIMDRDM JSCVT FCMA ASIMDDP and
    // HWCAP2 FRINT (linux/arch_aarch64.rs advertises them because they are checked here).
    let advertised = "AESE AESD AESMC AESIMC PMULL PMULL2 SHA1C SHA1H SHA1SU1 SHA256H SHA256SU0 SHA256SU1 SQRDMLSH \
                      FJCVTZS FCADD UDOT FRINT32Z FRINT32X FRINT64Z FRINT64X";
    let missing: Vec<_> =
        want.into_iter().chain(advertised.split_whitespace()).filter(|o| !s.opcodes.contains(*o)).collect();
    assert!(missing.is_empty(), "opcodes never generated: {missing:?}");
}

/// Every class the generator knows, mixed (classes added to `a64_gen::templates()` join
/// automatically).
#[test]
fn all_classes_mixed_match_qemu() {
    if !need_qemu() {
        return;
    }
    let classes: BTreeSet<Class> = templates().iter().map(|t| t.class).collect();
    let classes: Vec<Class> = classes.into_iter().collect();
    run_classes(&classes, total_insns() / 3, 0x5a17);
}

/// Every template yields candidates (else it is mis-encoded, or names instructions deja does
/// not implement), and no two templates' fixed bits say different things about a word.
#[test]
fn templates_yield_candidates() {
    let mut rng = Rng::new(7);
    for t in templates() {
        assert!(
            a64_gen::draw(&mut rng, t, false).is_some(),
            "template {:?} yields no decodable, implemented word",
            t.name
        );
        for f in t.fields {
            let (lo, w) = match *f {
                a64_gen::Field::R(lo)
                | a64_gen::Field::V(lo)
                | a64_gen::Field::Base(lo)
                | a64_gen::Field::Same(lo, _) => (lo, 5),
                a64_gen::Field::Imm(lo, w) | a64_gen::Field::OneOf(lo, w, _) => (lo, w),
            };
            let m = (((1u64 << w) - 1) << lo) as u32;
            assert_eq!(t.base & m, 0, "template {:?}: field at bit {lo} overlaps fixed bits", t.name);
        }
    }
}

/// The harness's register-state layout and the do-not-test list behave.
#[test]
fn harness_basics() {
    assert!(harness::layout_ok());
    // svc #0 and mrs cntvct_el0 are decodable and implemented but never generated.
    for w in [0xd400_0001u32, 0xd53b_e040] {
        let i = decode_word(w).unwrap();
        assert!(a64_gen::skip_reason(&i).is_some(), "{i}");
    }
    // Each integer opcode tag appears in some template.
    let mut rng = Rng::new(3);
    let tags: BTreeSet<u16> = templates()
        .iter()
        .flat_map(|t| (0..50).filter_map(|_| a64_gen::draw(&mut rng, t, false)).collect::<Vec<_>>())
        .filter_map(decode_word)
        .map(|i| opcode_tag(&i.opcode))
        .collect();
    assert!(tags.len() >= 50, "only {} opcodes", tags.len());
}
