//! Regression tests for what the fuzz targets (fuzz/, docs/security.md "Fuzzing") found. Each
//! test carries its reproducer, cut down by hand to the few bytes that matter; the raw fuzz
//! inputs are seeds of the fuzz corpus (`fuzz/corpus/<target>/seed-regress-*`), so every fuzz
//! run repeats them too.

use deja::arch::Arch;
use deja::engine::interp_x86::InterpX86;
use deja::engine::{Exit, Machine};
use deja::isa::x86_64::X86State;
use deja::linux::arch_x86_64::X86_64;
use deja::linux::process::Options;
use deja::mem::{flags, Memory};
use deja::world::{HostCall, World};
use iced_x86::code_asm::*;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// Run `f` on another thread; fail if it takes longer than `secs` (a hang).
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {secs}s (hang)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// A static x86-64 ELF (deja's demo writer: code at 0x401000, `bss` zeroed bytes at 0x600000).
fn x86_elf(build: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>, bss: u64) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    build(&mut a).unwrap();
    deja::demo::elf(62, &a.assemble(0x40_1000).unwrap(), bss)
}

// ---- elf_load: the loader's messages ----

/// Found by elf_load: the error for a dynamically linked executable quoted its PT_INTERP
/// bytes raw, so a hostile ELF could print several lines and terminal control sequences
/// (ESC, BEL) on the user's terminal. Now they are escaped and cut to 256 characters.
#[test]
fn a_hostile_pt_interp_is_quoted_escaped() {
    let mut img = x86_elf(|a| a.hlt(), 16);
    // A third program header (PT_INTERP) in the padding after the two the writer emits, its
    // "path" at 0x800.
    let interp = b"/lib/ld.so\n\x1b[2J\x1b]0;owned\x07\0";
    let mut ph = Vec::new();
    ph.extend_from_slice(&3u32.to_le_bytes()); // PT_INTERP
    ph.extend_from_slice(&4u32.to_le_bytes());
    for v in [0x800u64, 0x40_0800, 0x40_0800, interp.len() as u64, interp.len() as u64, 1] {
        ph.extend_from_slice(&v.to_le_bytes());
    }
    img[64 + 2 * 56..64 + 3 * 56].copy_from_slice(&ph);
    img[56..58].copy_from_slice(&3u16.to_le_bytes()); // e_phnum
    img[0x800..0x800 + interp.len()].copy_from_slice(interp);
    let argv = [b"guest".to_vec()];
    let r = deja::linux::start_image::<X86_64>(
        "dyn",
        &img,
        Path::new("/dyn"),
        &argv,
        &[],
        Box::new(NoHost),
        Options::default(),
    );
    let e = r.err().expect("a PT_INTERP executable was loaded").to_string();
    assert!(!e.chars().any(char::is_control), "{e:?}");
    assert!(e.contains(r"PT_INTERP /lib/ld.so\n\u{1b}[2J\u{1b}]0;owned\u{7})"), "{e}");
    // A long one is cut.
    let mut img2 = img.clone();
    img2[0x800..0x800 + 0x700].fill(b'a');
    img2[64 + 2 * 56 + 32..64 + 2 * 56 + 40].copy_from_slice(&0x700u64.to_le_bytes()); // filesz
    let r = deja::linux::start_image::<X86_64>(
        "dyn",
        &img2,
        Path::new("/dyn"),
        &argv,
        &[],
        Box::new(NoHost),
        Options::default(),
    );
    let e = r.err().expect("a PT_INTERP executable was loaded").to_string();
    assert!(e.contains(&format!("PT_INTERP {}...)", "a".repeat(256))), "{e}");
}

// ---- exec_x86: a REP string instruction that overwrites its own bytes ----

/// The state a run ends in: registers, icount, the exit, the code page.
fn rep_run(budgets: impl Fn(u64) -> u64) -> (Vec<u8>, u64, Exit, Vec<u8>) {
    const CODE: u64 = 0x10000;
    let mut mem = Memory::new(1 << 24).unwrap();
    mem.map(CODE, 0x1000, flags::R | flags::W | flags::X);
    mem.map(CODE + 0x1000, 0x1000, flags::R | flags::W);
    mem.poke(CODE, &[0xf3, 0xa4]).unwrap(); // rep movsb
    mem.poke(CODE + 0x1000, &[0x90; 64]).unwrap(); // nops, copied over the code
    let mut cpu = X86State { rip: CODE, ..X86State::default() };
    cpu.gpr[6] = CODE + 0x1000; // rsi
    cpu.gpr[7] = CODE; // rdi: the instruction itself
    cpu.gpr[1] = 64; // rcx
    let mut m = Machine { cpu, mem, icount: 0, limit: 0 };
    let mut e = InterpX86::new();
    let exit = loop {
        let b = budgets(m.icount);
        match e.run(&mut m, b) {
            Exit::Budget if m.icount < 1000 => {}
            other => break other,
        }
    };
    let mut page = vec![0u8; 0x1000];
    m.mem.peek(CODE, &mut page).unwrap();
    (X86_64::state_bytes(&m.cpu), m.icount, exit, page)
}

/// Found by exec_x86: `rep movsb` copying over its own bytes ran on with its old decoding in
/// one run, but was decoded afresh (seeing the new bytes) when a budget ended it after an
/// iteration, so the state depended on the budgets (design §2). Now an iteration that writes
/// to a page of decoded code ends the run of iterations, whatever the budget.
#[test]
fn rep_movs_over_its_own_code_does_not_depend_on_the_budget() {
    let whole = rep_run(|_| 1000);
    let stepped = rep_run(|_| 1);
    let odd = rep_run(|ic| 1 + ic % 7);
    assert_eq!(whole, stepped, "whole budget vs single steps");
    assert_eq!(whole, odd, "whole budget vs budgets of 1..7");
    // The first iteration wrote a nop over `rep`; the fresh decode ran it, then the `movsb`
    // left of the instruction, then faulted on the zero bytes after it.
    assert!(matches!(whole.2, Exit::Fault(ref f) if f.signo == 11), "{:?}", whole.2);
    assert_eq!(whole.1, 3, "rep (1 iteration), nop, movsb");
}

// ---- exec_a64: a branch into the last page of the 64-bit space ----

/// Found by exec_a64 (whose harness builds with overflow checks, like `cargo test` without
/// --release): a jump to a pc in the last page overflowed computing the end of that page in
/// the block decoder of either ISA. Now the pc faults like any other unmapped one.
#[test]
fn a_pc_in_the_last_page_faults() {
    use deja::engine::interp_a64::InterpA64;
    use deja::isa::aarch64::A64State;
    for pc in [0xffff_ffff_ffff_f000u64, u64::MAX - 3, u64::MAX] {
        let mem = Memory::new(1 << 24).unwrap();
        let mut m = Machine { cpu: A64State { pc, ..A64State::default() }, mem, icount: 0, limit: 0 };
        match InterpA64::new().run(&mut m, 100) {
            Exit::Fault(f) => assert_eq!((f.signo, f.addr), (11, pc), "AArch64 pc {pc:#x}"),
            other => panic!("AArch64 pc {pc:#x}: {other:?}"),
        }
        let mem = Memory::new(1 << 24).unwrap();
        let mut m = Machine { cpu: X86State { rip: pc, ..X86State::default() }, mem, icount: 0, limit: 0 };
        match InterpX86::new().run(&mut m, 100) {
            Exit::Fault(f) => assert_eq!((f.signo, f.addr), (11, pc), "x86-64 rip {pc:#x}"),
            other => panic!("x86-64 rip {pc:#x}: {other:?}"),
        }
    }
}

/// Found by elf_load: a jump to rip u64::MAX from a block whose successor links were still
/// empty matched the empty slot (pc u64::MAX, no block, epoch 0) and indexed the block table
/// with "no block". Now it faults at u64::MAX like any unmapped pc (AArch64 checked too).
#[test]
fn a_jump_to_the_last_address_faults() {
    use deja::engine::interp_a64::InterpA64;
    use deja::isa::aarch64::A64State;
    const CODE: u64 = 0x10000;
    let mut mem = Memory::new(1 << 24).unwrap();
    mem.map(CODE, 0x1000, flags::R | flags::X);
    mem.poke(CODE, &[0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe0]).unwrap(); // mov rax, -1; jmp rax
    let mut m = Machine { cpu: X86State { rip: CODE, ..X86State::default() }, mem, icount: 0, limit: 0 };
    match InterpX86::new().run(&mut m, 100) {
        Exit::Fault(f) => assert_eq!((f.signo, f.addr, m.icount), (11, u64::MAX, 2)),
        other => panic!("x86-64: {other:?}"),
    }
    let mut mem = Memory::new(1 << 24).unwrap();
    mem.map(CODE, 0x1000, flags::R | flags::X);
    let code: Vec<u8> = [0x9280_0000u32, 0xd61f_0000].iter().flat_map(|w| w.to_le_bytes()).collect(); // movn x0, #0; br x0
    mem.poke(CODE, &code).unwrap();
    let mut m = Machine { cpu: A64State { pc: CODE, ..A64State::default() }, mem, icount: 0, limit: 0 };
    match InterpA64::new().run(&mut m, 100) {
        Exit::Fault(f) => assert_eq!((f.signo, f.addr, m.icount), (11, u64::MAX, 2)),
        other => panic!("AArch64: {other:?}"),
    }
}

/// Found by the CI fuzz smoke run (elf_load, seed-regress-jit-lookup-empty): the JIT's
/// indirect-branch table tagged empty slots with pc u64::MAX and host entry 0, so a guest
/// `jmp` to u64::MAX made translated code jump to host address 0 (a host SIGSEGV). On every
/// engine it must be a guest fault at u64::MAX, like on the interpreter.
#[test]
fn a_jump_to_the_last_address_faults_on_every_engine() {
    use deja::linux::arch_aarch64::Aarch64;
    const CODE: u64 = 0x10000;
    for &kind in deja::engine::EngineKind::ALL {
        let mut mem = Memory::new(1 << 24).unwrap();
        mem.map(CODE, 0x1000, flags::R | flags::X);
        mem.poke(CODE, &[0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe0]).unwrap(); // mov rax, -1; jmp rax
        let mut m = Machine { cpu: X86State { rip: CODE, ..X86State::default() }, mem, icount: 0, limit: 0 };
        let mut e = X86_64::new_engine(kind, false);
        match X86_64::run(&mut e, &mut m, 100) {
            Exit::Fault(f) => assert_eq!((f.signo, f.addr, m.icount), (11, u64::MAX, 2), "{kind:?}"),
            other => panic!("x86-64 {kind:?}: {other:?}"),
        }
        let mut mem = Memory::new(1 << 24).unwrap();
        mem.map(CODE, 0x1000, flags::R | flags::X);
        let code: Vec<u8> = [0x9280_0000u32, 0xd61f_0000].iter().flat_map(|w| w.to_le_bytes()).collect();
        mem.poke(CODE, &code).unwrap();
        let cpu = deja::isa::aarch64::A64State { pc: CODE, ..Default::default() };
        let mut m = Machine { cpu, mem, icount: 0, limit: 0 };
        let mut e = Aarch64::new_engine(kind, false);
        match Aarch64::run(&mut e, &mut m, 100) {
            Exit::Fault(f) => assert_eq!((f.signo, f.addr, m.icount), (11, u64::MAX, 2), "{kind:?}"),
            other => panic!("AArch64 {kind:?}: {other:?}"),
        }
    }
}

// ---- replay_log / elf_load: rt_sigsuspend when the world cannot wait ----

/// rt_sigsuspend(&zero_mask, 8) in a loop, as a guest waiting for a signal does.
fn sigsuspend_guest() -> Vec<u8> {
    x86_elf(
        |a| {
            let mut top = a.create_label();
            a.set_label(&mut top)?;
            a.mov(eax, 130)?; // rt_sigsuspend
            a.mov(edi, 0x60_0000)?;
            a.mov(esi, 8)?;
            a.syscall()?;
            a.jmp(top)
        },
        16,
    )
}

/// A world whose host calls all fail with EPERM, with no signal source: nothing can wake a
/// waiting guest.
struct NoHost;
impl World for NoHost {
    fn syscall(&mut self, _: u64, _: &HostCall) -> i64 {
        -1
    }
    fn tsc(&mut self, _: u64) -> u64 {
        0
    }
    fn random(&mut self, _: u64, buf: &mut [u8]) {
        buf.fill(0);
    }
    fn pending_signal(&mut self, _: u64) -> Option<i32> {
        None
    }
}

/// Found by elf_load (which runs guests in such a world): the wait for a signal asked the
/// world to pause again and again, for ever. Now it returns EINTR and the guest goes on (here
/// it loops until the instruction limit).
#[test]
fn sigsuspend_returns_when_the_world_cannot_wait() {
    let img = sigsuspend_guest();
    let r = within(20, "rt_sigsuspend in a world without a host", move || {
        let opts = Options { max_icount: Some(10_000), ..Options::default() };
        let argv = [b"guest".to_vec()];
        let mut p =
            deja::linux::start_image::<X86_64>("guest", &img, Path::new("/guest"), &argv, &[], Box::new(NoHost), opts)
                .unwrap();
        p.run().map_err(|e| e.to_string())
    });
    assert_eq!(r, Err("instruction limit of 10000 reached".to_string()));
}

/// Found by replay_log: a log whose rt_sigsuspend entry had one argument changed made the
/// replay diverge there, and the wait then asked the diverged replay (which answers EIO to
/// everything) to pause for ever: `deja replay` hung. Now it reports the divergence.
#[test]
fn sigsuspend_in_a_diverged_replay_reports_the_divergence() {
    use deja::replay::event::{EndKind, Event};
    use deja::replay::log::{self, Header, LogWriter};
    use deja::replay::session::{self, ReplayOptions};
    let img = sigsuspend_guest();
    let dir = std::env::temp_dir().join(format!("deja-hostile-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sigsuspend.log");
    let header = Header {
        isa: log::ISA_X86_64,
        flags: log::FLAG_EXE_EMBEDDED,
        checkpoint_every: 0,
        exe_hash: log::exe_hash(&img),
        exe_len: img.len() as u64,
        exe_path: b"/guest".to_vec(),
        exe_image: Some(img),
        argv: vec![b"guest".to_vec()],
        envp: vec![],
        recorder: "hostile_fuzz".into(),
    };
    let mut w = LogWriter::create(&path, &header).unwrap();
    // AT_RANDOM, then the syscall with its mask pointer off by one (the guest passes 0x600000),
    // then the wait's host call and the signal that ended it when recording.
    w.event(0, &Event::Random { bytes: vec![7; 16] }).unwrap();
    w.event(3, &Event::Syscall { nr: 130, args: [0x60_0001, 8, 0, 0, 0, 0] }).unwrap();
    w.event(3, &Event::HostCall { nr: libc::SYS_pause as u64, ret: -4, outs: vec![], input: None }).unwrap();
    w.event(3, &Event::Signal { signo: 14 }).unwrap();
    w.event(4, &Event::End { kind: EndKind::Killed, value: 14, digest: 0 }).unwrap();
    w.finish().unwrap();
    drop(w);
    let p2 = path.clone();
    let r = within(20, "replay of the diverging log", move || {
        let opts = ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
        session::replay::<X86_64>(&p2, opts).map(|r| r.result.map_err(|e| e.to_string()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(Err(e)) => assert!(e.contains("replay diverged at icount 3"), "{e}"),
        Ok(Ok(out)) => panic!("replay ended as {out:?}, not in a divergence"),
        Err(e) => panic!("replay refused the log: {e}"),
    }
}

// ---- elf_load: segments far larger than their file bytes ----

/// Found by elf_load: a 1.5 KB executable whose bss segment claims 24 GiB took 30 s (a
/// permission table with an entry per page) and ignored --max-memory. Now --max-memory bounds
/// the image as it bounds mmap, and the permissions are applied per run of pages.
#[test]
fn huge_segments_are_bounded_by_max_memory() {
    let img = x86_elf(|a| a.hlt(), 24 << 30);
    let (r, secs) = within(20, "loading a 24 GiB bss under --max-memory", move || {
        let t = std::time::Instant::now();
        let opts = Options { max_memory: Some(256 << 20), ..Options::default() };
        let argv = [b"guest".to_vec()];
        let r = deja::linux::start_image::<X86_64>("big", &img, Path::new("/big"), &argv, &[], Box::new(NoHost), opts)
            .map(|_| ())
            .map_err(|e| e.to_string());
        (r, t.elapsed().as_secs_f64())
    });
    let e = r.expect_err("a 24 GiB image loaded under --max-memory 256M");
    assert!(e.contains("more than --max-memory allows"), "{e}");
    assert!(secs < 5.0, "refusing took {secs:.1}s");
}

/// Segment permissions are the union over the segments sharing a page, and exact elsewhere
/// (the per-run-of-pages rewrite keeps what the per-page table did).
#[test]
fn segment_permissions_are_unions_on_shared_pages() {
    // Three segments: RX [0x400000, 0x401800), RW [0x401800, 0x404000) sharing page 0x401000,
    // and R [0x410000, 0x410001).
    let segs: [(u64, u64, u32); 3] = [(0x40_0000, 0x1800, 5), (0x40_1800, 0x2800, 6), (0x41_0000, 1, 4)];
    let mut f = Vec::new();
    f.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&62u16.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&0x40_0100u64.to_le_bytes()); // entry
    f.extend_from_slice(&64u64.to_le_bytes()); // phoff
    f.extend_from_slice(&0u64.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&64u16.to_le_bytes());
    f.extend_from_slice(&56u16.to_le_bytes());
    f.extend_from_slice(&(segs.len() as u16).to_le_bytes());
    f.extend_from_slice(&[0; 6]);
    for (vaddr, memsz, fl) in segs {
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&fl.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes()); // offset
        f.extend_from_slice(&vaddr.to_le_bytes());
        f.extend_from_slice(&vaddr.to_le_bytes());
        f.extend_from_slice(&0u64.to_le_bytes()); // filesz
        f.extend_from_slice(&memsz.to_le_bytes());
        f.extend_from_slice(&0x1000u64.to_le_bytes());
    }
    let argv = [b"guest".to_vec()];
    let p = deja::linux::start_image::<X86_64>(
        "perm",
        &f,
        Path::new("/perm"),
        &argv,
        &[],
        Box::new(NoHost),
        Options::default(),
    )
    .unwrap();
    let (r, w, x) = (flags::R, flags::W, flags::X);
    for (addr, want) in [
        (0x40_0000, Some(r | x)),
        (0x40_1000, Some(r | w | x)),
        (0x40_2000, Some(r | w)),
        (0x40_3000, Some(r | w)),
        (0x40_4000, None),
        (0x41_0000, Some(r)),
        (0x41_1000, None),
    ] {
        assert_eq!(p.m.mem.prot_of(addr), want, "page {addr:#x}");
    }
}

// ---- log headers: the messages built from them ----

/// Found by reading while writing the log targets: `deja info` and replay's messages printed a
/// log header's strings (executable path, recorder) raw, so a hostile log could add lines (a
/// fake "replay ok") and terminal control sequences to deja's output. Now they are escaped.
#[test]
fn a_hostile_log_header_is_shown_escaped() {
    use deja::replay::log::{exe_hash, Header, LogWriter, ISA_X86_64};
    let dir = std::env::temp_dir().join(format!("deja-hostile-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let image = x86_elf(|a| a.hlt(), 16);
    let evil = b"/nowhere\nreplay ok: 1 instructions, exit 0\x1b[2J\x07".to_vec();
    let mut h = Header {
        isa: ISA_X86_64,
        flags: 0,
        checkpoint_every: 0,
        exe_hash: exe_hash(&image),
        exe_len: image.len() as u64,
        exe_path: evil.clone(),
        exe_image: None,
        argv: vec![b"guest".to_vec()],
        envp: vec![],
        recorder: "deja\nreplay ok\x1b[31m".into(),
    };
    let log = dir.join("evil.deja");
    LogWriter::create(&log, &h).unwrap().finish().unwrap();
    let info = deja::replay::session::info(&log).unwrap();
    for line in info.lines() {
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(!line.starts_with("replay ok"), "{info}");
    }
    // Replay: the executable named by the header is missing; the message quotes it escaped.
    let opts =
        deja::replay::session::ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
    let e = deja::replay::session::prepare_replay::<X86_64>(&log, opts).err().expect("replayed without its executable");
    let msg = e.to_string();
    assert!(!msg.chars().any(char::is_control), "{msg:?}");
    // With the image embedded, a replay starts; its names are escaped too.
    h.exe_image = Some(image);
    LogWriter::create(&log, &h).unwrap().finish().unwrap();
    let opts =
        deja::replay::session::ReplayOptions { quiet: true, to_icount: None, exe: None, run: Options::default() };
    if let Err(e) = deja::replay::session::prepare_replay::<X86_64>(&log, opts) {
        assert!(!e.to_string().chars().any(char::is_control), "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
