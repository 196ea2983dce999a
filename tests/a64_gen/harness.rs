//! Running a batch of cases under qemu-aarch64 (the oracle, design §8) and under deja's
//! interpreter, comparing, and explaining a difference: the seed, the case, its sequence
//! disassembled, and the first instruction after which the two disagree (found by running
//! every prefix of the failing sequence).
//!
//! deja runs in-process (`deja::linux::start_image::<Aarch64>`) in one of two modes:
//! - `elf` (default): the whole ELF runs as a guest process whose stdout a capturing world
//!   collects; it needs the harness's own loads/stores and MSR/MRS to be implemented.
//! - `step`: each case's input state is put into the CPU directly and exactly the case's
//!   instructions run under an instruction budget (design §2); registers and the buffer are
//!   read back from the machine. Used when the harness instructions are not implemented yet
//!   (or forced with `DEJA_A64_MODE=step`).

use super::elf::{self, Layout};
use super::{disasm, off, Case, State, BASE_REG, BUF_SIZE};
use deja::engine::{EngineKind, Exit};
use deja::isa::aarch64::table::TABLE;
use deja::isa::aarch64::A64State;
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::process::{Options, Outcome, Process};
use deja::world::{HostCall, World};
use deja_decoders::aarch64::{decode_word, Operand};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Elf,
    Step,
}

/// The instructions the ELF's prologue, epilogue and exit code use.
pub fn harness_words() -> Vec<u32> {
    use elf::*;
    vec![
        movz(0, 1, 0),
        movk(0, 1, 1),
        ldp_q(0, 1, 30, 288),
        stp_q(0, 1, 0, 288),
        ldp_x(0, 1, 30, 0),
        stp_x(2, 3, 0, 16),
        ldr_x(0, 30, 8),
        str_x(1, 0, 8),
        msr(SR_NZCV, 0),
        msr(SR_FPCR, 0),
        msr(SR_FPSR, 0),
        msr(SR_TPIDR_EL0, 0),
        mrs(1, SR_NZCV),
        mrs(1, SR_FPCR),
        mrs(1, SR_FPSR),
        mrs(1, SR_TPIDR_EL0),
        mov_sp(31, 0),
        mov_sp(1, 31),
        SVC0,
        add_x(1, 1, 0),
        sub_x(2, 2, 0),
        cmp0(0),
        b_cond(13, 4),
        cbnz(2, -7),
    ]
}

/// Harness instructions deja does not implement yet (disassembled).
pub fn missing_harness_instructions() -> Vec<String> {
    harness_words()
        .into_iter()
        .filter(|&w| decode_word(w).is_none_or(|i| !TABLE.is_implemented_ins(&i)))
        .map(disasm)
        .collect()
}

/// `DEJA_A64_MODE` (elf|step), else `elf` when deja implements the harness instructions.
pub fn mode() -> Mode {
    match std::env::var("DEJA_A64_MODE").as_deref() {
        Ok("step") => Mode::Step,
        Ok("elf") => Mode::Elf,
        Ok(m) => panic!("DEJA_A64_MODE must be elf or step, not {m}"),
        Err(_) if missing_harness_instructions().is_empty() => Mode::Elf,
        Err(_) => Mode::Step,
    }
}

/// Is qemu-aarch64 there?
pub fn have_qemu() -> bool {
    Command::new("qemu-aarch64").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn scratch_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("a64diff");
    std::fs::create_dir_all(&d).expect("create scratch dir");
    d
}

/// Run an ELF under qemu-aarch64; its stdout on exit status 0.
pub fn run_qemu(image: &[u8]) -> Result<Vec<u8>, String> {
    static N: AtomicU64 = AtomicU64::new(0);
    let path = scratch_dir().join(format!("case-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, image).map_err(|e| format!("write {}: {e}", path.display()))?;
    // qemu-aarch64 refuses (silently, exit status 1) a file without execute permission.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    let out = Command::new("qemu-aarch64").arg(&path).output();
    let keep = std::env::var_os("DEJA_A64_KEEP").is_some();
    if !keep {
        let _ = std::fs::remove_file(&path);
    }
    let out = out.map_err(|e| format!("cannot run qemu-aarch64: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "qemu-aarch64 {}failed ({}): {}",
            if keep { format!("{} ", path.display()) } else { String::new() },
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// A world that keeps what the guest writes to stdout and refuses everything else.
struct Capture(Rc<RefCell<Vec<u8>>>);

impl World for Capture {
    fn syscall(&mut self, _icount: u64, call: &HostCall) -> i64 {
        if call.nr == libc::SYS_write && call.args[0] == 1 {
            let len = call.args[2] as usize;
            // SAFETY: the platform passes a host pointer to `len` checked bytes of guest
            // memory for write(2).
            let data = unsafe { std::slice::from_raw_parts(call.args[1] as *const u8, len) };
            self.0.borrow_mut().extend_from_slice(data);
            return len as i64;
        }
        -(libc::ENOSYS as i64)
    }
    fn tsc(&mut self, _icount: u64) -> u64 {
        0
    }
    fn random(&mut self, _icount: u64, buf: &mut [u8]) {
        buf.fill(0);
    }
    fn pending_signal(&mut self, _icount: u64) -> Option<i32> {
        None
    }
}

/// The engines deja runs each batch on: every engine of the build (`common::engines()`).
pub fn engines() -> Vec<EngineKind> {
    crate::common::engines().iter().filter_map(|e| EngineKind::from_name(e)).collect()
}

fn start(image: &[u8], world: Box<dyn World>, engine: EngineKind) -> Result<Process<Aarch64>, String> {
    let name = "a64-differential";
    deja::linux::start_image::<Aarch64>(
        name,
        image,
        Path::new(name),
        &[name.as_bytes().to_vec()],
        &[],
        world,
        Options { engine, ..Options::default() },
    )
    .map_err(|e| format!("deja cannot start the ELF: {e}"))
}

/// Where a guest pc is, for reports.
fn where_is(layout: &Layout, pc: u64) -> String {
    match layout.locate(pc) {
        Some((c, i)) => format!("case {c} instruction #{i}"),
        None => "harness code".into(),
    }
}

/// Run the ELF as a guest process under deja; its stdout.
pub fn run_deja_elf(image: &[u8], layout: &Layout, engine: EngineKind) -> Result<Vec<u8>, String> {
    let out = Rc::new(RefCell::new(Vec::new()));
    let mut p = start(image, Box::new(Capture(out.clone())), engine)?;
    match p.run() {
        Ok(Outcome::Exited(0)) => Ok(out.take()),
        Ok(Outcome::Killed { signo, pc, detail, .. }) => Err(format!(
            "deja: guest killed by signal {signo} at pc {pc:#x} ({}){}",
            where_is(layout, pc),
            detail.map(|d| format!(": {d}")).unwrap_or_default()
        )),
        Ok(o) => Err(format!("deja: guest ended with {o:?}")),
        Err(e) => Err(format!("deja: {e}")),
    }
}

fn set_cpu(c: &mut A64State, s: &State) {
    c.x = s.x;
    c.sp = s.sp;
    c.nzcv = s.nzcv;
    c.fpcr = s.fpcr;
    c.fpsr = s.fpsr;
    c.v = s.v;
}

fn get_cpu(c: &A64State) -> State {
    State { x: c.x, sp: c.sp, nzcv: c.nzcv, fpcr: c.fpcr, fpsr: c.fpsr, v: c.v }
}

/// Run each case's instructions (only) under deja with the input state injected; the same
/// bytes the ELF would print.
pub fn run_deja_step(image: &[u8], layout: &Layout, cases: &[Case], engine: EngineKind) -> Result<Vec<u8>, String> {
    let mut p = start(image, Box::new(Capture(Rc::new(RefCell::new(Vec::new())))), engine)?;
    let mut states = Vec::with_capacity(layout.out_len);
    let mut bufs = Vec::with_capacity(cases.len() * BUF_SIZE);
    for (i, c) in cases.iter().enumerate() {
        set_cpu(&mut p.m.cpu, &elf::input_state(c, layout.buf(i)));
        let (start, end) = layout.body[i];
        p.m.cpu.pc = start;
        let n = c.words.len() as u64;
        let before = p.m.icount;
        let exit = p.engine.run(&mut p.m, n);
        match exit {
            Exit::Budget if p.m.cpu.pc == end && p.m.icount - before == n => {}
            Exit::Fault(f) => {
                return Err(format!(
                    "deja: fault (signal {}) at pc {:#x} ({}){}",
                    f.signo,
                    p.m.cpu.pc,
                    where_is(layout, p.m.cpu.pc),
                    f.detail.map(|d| format!(": {d}")).unwrap_or_default()
                ))
            }
            e => {
                return Err(format!(
                    "deja: case {i} ended with {e:?} at pc {:#x} after {} of {n} instructions",
                    p.m.cpu.pc,
                    p.m.icount - before
                ))
            }
        }
        states.extend_from_slice(&get_cpu(&p.m.cpu).to_bytes());
        let mut b = vec![0u8; BUF_SIZE];
        p.m.mem.read_bytes(layout.buf(i), &mut b).map_err(|e| format!("reading buffer {i}: {e:?}"))?;
        bufs.extend_from_slice(&b);
    }
    states.extend_from_slice(&bufs);
    Ok(states)
}

/// Run the cases under deja in `mode`.
pub fn run_deja(
    mode: Mode,
    image: &[u8],
    layout: &Layout,
    cases: &[Case],
    engine: EngineKind,
) -> Result<Vec<u8>, String> {
    match mode {
        Mode::Elf => run_deja_elf(image, layout, engine),
        Mode::Step => run_deja_step(image, layout, cases, engine),
    }
}

/// Differences between two results of one case, one line each.
pub fn diff(q: &(State, Vec<u8>), d: &(State, Vec<u8>)) -> Vec<String> {
    let mut out: Vec<String> =
        q.0.fields()
            .into_iter()
            .zip(d.0.fields())
            .filter(|(a, b)| a.1 != b.1)
            .map(|(a, b)| format!("{}: qemu {:#x}, deja {:#x}", a.0, a.1, b.1))
            .collect();
    for (i, (a, b)) in q.1.iter().zip(&d.1).enumerate() {
        if a != b {
            out.push(format!("buf[{i}]: qemu {a:#04x}, deja {b:#04x}"));
        }
    }
    out
}

/// The registers an instruction names, for showing its inputs.
fn operand_regs(w: u32) -> Vec<String> {
    let Some(ins) = decode_word(w) else { return Vec::new() };
    let mut r = Vec::new();
    for op in ins.operands.iter() {
        match *op {
            Operand::Register(_, n) | Operand::RegShift(_, _, _, n) if n < 31 => r.push(format!("x{n}")),
            Operand::RegisterOrSP(_, n) => r.push(if n < 31 { format!("x{n}") } else { "sp".into() }),
            Operand::SIMDRegister(_, n) | Operand::SIMDRegisterElements(_, n, _) => r.push(format!("v{n}")),
            Operand::RegPreIndex(n, ..) | Operand::RegPostIndex(n, _) => {
                r.push(if n < 31 { format!("x{n}") } else { "sp".into() })
            }
            _ => {}
        }
    }
    r.push("nzcv".into());
    r.dedup();
    r
}

fn show_regs(s: &State, names: &[String]) -> String {
    let f = s.fields();
    names
        .iter()
        .filter_map(|n| f.iter().find(|(k, _)| k == n).map(|(k, v)| format!("{k}={v:#x}")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The case as text: its instructions, disassembled, with their templates.
pub fn describe(c: &Case) -> String {
    let mut s = String::new();
    for (i, (&w, t)) in c.words.iter().zip(&c.from).enumerate() {
        s += &format!("    #{i:<3} {w:08x}  {:<40} ({t})\n", disasm(w));
    }
    s
}

/// Find the first instruction of `c` after which qemu and deja disagree, by running every
/// prefix of its sequence. Returns a report.
pub fn minimize(mode: Mode, c: &Case, engine: EngineKind) -> String {
    let prefixes: Vec<Case> = (0..=c.words.len())
        .map(|k| Case { words: c.words[..k].to_vec(), from: c.from[..k].to_vec(), ..c.clone() })
        .collect();
    let (image, layout) = elf::build(&prefixes);
    let q = run_qemu(&image).and_then(|o| elf::parse_output(&o, &layout));
    let d = run_deja(mode, &image, &layout, &prefixes, engine).and_then(|o| elf::parse_output(&o, &layout));
    let (q, d) = match (q, d) {
        (Ok(q), Ok(d)) => (q, d),
        (Err(e), _) | (_, Err(e)) => return format!("  (could not narrow it down: {e})\n"),
    };
    let Some(k) = (1..prefixes.len()).find(|&k| !diff(&q[k], &d[k]).is_empty()) else {
        return "  (every prefix agrees when run on its own)\n".into();
    };
    let w = c.words[k - 1];
    let regs = operand_regs(w);
    // Each prefix ran with its own buffer: show the state before as if it had used prefix
    // k's buffer (the base register moves by the distance between the two).
    let mut before = q[k - 1].0;
    if c.memory {
        let b = &mut before.x[BASE_REG as usize];
        *b = b.wrapping_add(layout.buf(k)).wrapping_sub(layout.buf(k - 1));
    }
    format!(
        "  first difference after #{} {w:08x} `{}` ({})\n    before: {}\n    qemu after: {}\n    deja after: {}\n    {}\n",
        k - 1,
        disasm(w),
        c.from[k - 1],
        show_regs(&before, &regs),
        show_regs(&q[k].0, &regs),
        show_regs(&d[k].0, &regs),
        diff(&q[k], &d[k]).join("\n    ")
    )
}

/// qemu refused a batch (e.g. SIGILL on an encoding yaxpeax decodes): find the instruction.
pub fn localize_qemu_failure(cases: &[Case]) -> String {
    let fails = |cs: &[Case]| run_qemu(&elf::build(cs).0).is_err();
    let mut cs = cases.to_vec();
    while cs.len() > 1 {
        let (a, b) = cs.split_at(cs.len() / 2);
        cs = if fails(a) { a.to_vec() } else { b.to_vec() };
    }
    let Some(c) = cs.first() else { return "no cases".into() };
    if !fails(&cs) {
        return "qemu fails only on the whole batch".into();
    }
    for k in 1..=c.words.len() {
        let p = Case { words: c.words[..k].to_vec(), from: c.from[..k].to_vec(), ..c.clone() };
        if fails(std::slice::from_ref(&p)) {
            let w = c.words[k - 1];
            return format!(
                "qemu-aarch64 fails on {w:08x} `{}` ({}): an encoding qemu treats as undefined? \
                 Fix the template or the decoder, or put it on the do-not-test list.",
                disasm(w),
                c.from[k - 1]
            );
        }
    }
    "qemu fails on the case but on none of its prefixes".into()
}

/// Run one batch under both; Err with a full report on any difference.
pub fn check_batch(mode: Mode, seed: u64, batch: usize, cases: &[Case]) -> Result<(), String> {
    let (image, layout) = elf::build(cases);
    let q = match run_qemu(&image) {
        Ok(o) => elf::parse_output(&o, &layout).map_err(|e| format!("qemu output: {e}"))?,
        Err(e) => return Err(format!("seed {seed} batch {batch}: {e}\n{}", localize_qemu_failure(cases))),
    };
    let mut report = String::new();
    let mut failing = 0;
    for engine in engines() {
        let d = run_deja(mode, &image, &layout, cases, engine)
            .and_then(|o| elf::parse_output(&o, &layout))
            .map_err(|e| format!("seed {seed} batch {batch} (--engine={}): {e}", engine.name()))?;
        for (i, c) in cases.iter().enumerate() {
            let dd = diff(&q[i], &d[i]);
            if dd.is_empty() {
                continue;
            }
            failing += 1;
            if failing <= 3 {
                report += &format!(
                    "seed {seed} batch {batch} case {i} (--engine={}): {} difference(s)\n{}  differences:\n    {}\n{}",
                    engine.name(),
                    dd.len(),
                    describe(c),
                    dd.join("\n    "),
                    minimize(mode, c, engine)
                );
            }
        }
    }
    if failing == 0 {
        Ok(())
    } else {
        Err(format!("{failing} of {} cases differ\n{report}", cases.len()))
    }
}

/// Byte size check of the state layout (the ELF code relies on it).
pub fn layout_ok() -> bool {
    off::V.is_multiple_of(16) && off::SIZE == off::V + 32 * 16
}
