//! ELF loading and the initial process stack (argv, envp, auxv) for static and static-PIE
//! executables.

use super::layout::{PIE_BASE, STACK_SIZE, STACK_TOP};
use super::process::Process;
use super::syscall::mm::page_up;
use crate::arch::Arch;
use crate::mem::{flags, PAGE_SIZE};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::Endianness;

/// Why an executable cannot be loaded. Each message is one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: not an ELF file")]
    NotElf(String),
    #[error("{0}: malformed ELF: {1}")]
    Malformed(String, String),
    #[error("{0}: unsupported ELF: {1}")]
    Unsupported(String, String),
    #[error("{0}: dynamically linked (PT_INTERP {1}); only static and static-PIE executables are supported yet")]
    Dynamic(String, String),
    #[error("{0}: does not fit in the guest address space")]
    TooBig(String),
    #[error("{0}: its segments need {1} bytes of memory, more than --max-memory allows")]
    MaxMemory(String, u64),
}

/// Guest ISA named by an ELF header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    X86_64,
    Aarch64,
}

impl Isa {
    /// The ELF e_machine of this ISA.
    pub fn machine(self) -> u16 {
        match self {
            Isa::X86_64 => elf::EM_X86_64,
            Isa::Aarch64 => elf::EM_AARCH64,
        }
    }
}

/// What the loader learned, for the initial stack and the process.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub entry: u64,
    pub phdr: u64,
    pub phnum: u64,
    pub phent: u64,
    pub brk: u64,
    pub isa: Isa,
}

/// Inspect an ELF header enough to tell the ISA (for choosing the machine).
pub fn elf_isa(path: &str, data: &[u8]) -> Result<Isa, LoadError> {
    if data.len() < 4 || &data[..4] != b"\x7fELF" {
        return Err(LoadError::NotElf(path.into()));
    }
    let hdr = elf::FileHeader64::<Endianness>::parse(data).map_err(|e| {
        if data.len() > 4 && data[4] == 1 {
            LoadError::Unsupported(path.into(), "32-bit ELF".into())
        } else {
            LoadError::Malformed(path.into(), e.to_string())
        }
    })?;
    let en = hdr.endian().map_err(|e| LoadError::Malformed(path.into(), e.to_string()))?;
    if en != Endianness::Little {
        return Err(LoadError::Unsupported(path.into(), "big-endian".into()));
    }
    match hdr.e_machine(en) {
        elf::EM_X86_64 => Ok(Isa::X86_64),
        elf::EM_AARCH64 => Ok(Isa::Aarch64),
        m => Err(LoadError::Unsupported(path.into(), format!("machine type {m} (only x86-64 and AArch64)"))),
    }
}

/// Load the ELF image into guest memory.
pub fn load_elf<A: Arch>(p: &mut Process<A>, path: &str, data: &[u8]) -> Result<Loaded, LoadError> {
    let isa = elf_isa(path, data)?;
    let bad = |e: object::read::Error| LoadError::Malformed(path.into(), e.to_string());
    let hdr = elf::FileHeader64::<Endianness>::parse(data).map_err(bad)?;
    let en = hdr.endian().map_err(bad)?;
    let etype = hdr.e_type(en);
    if etype != elf::ET_EXEC && etype != elf::ET_DYN {
        return Err(LoadError::Unsupported(path.into(), format!("ELF type {etype} is not an executable")));
    }
    let phdrs = hdr.program_headers(en, data).map_err(bad)?;
    if let Some(interp) = phdrs.iter().find(|ph| ph.p_type(en) == elf::PT_INTERP) {
        // The name is bytes of the file: shown escaped, so no newline or terminal control
        // sequence of a hostile ELF reaches the user's terminal (found by the elf_load fuzz
        // target), and cut to a sane length.
        let name = interp.data(en, data).map(crate::report::untrusted).unwrap_or_default();
        return Err(LoadError::Dynamic(path.into(), name));
    }
    let loads: Vec<_> = phdrs.iter().filter(|ph| ph.p_type(en) == elf::PT_LOAD).collect();
    if loads.is_empty() {
        return Err(LoadError::Malformed(path.into(), "no PT_LOAD segment".into()));
    }
    let bias = if etype == elf::ET_DYN { PIE_BASE } else { 0 };
    let window = p.m.mem.size();
    let mut max_end = 0u64;
    let mut min_start = u64::MAX;
    let mut phdr_addr = None;
    for ph in &loads {
        let (vaddr, memsz, filesz, off) = (ph.p_vaddr(en), ph.p_memsz(en), ph.p_filesz(en), ph.p_offset(en));
        if filesz > memsz {
            return Err(LoadError::Malformed(path.into(), "segment file size exceeds memory size".into()));
        }
        let start = vaddr.checked_add(bias).ok_or_else(|| LoadError::TooBig(path.into()))?;
        let end = start.checked_add(memsz).ok_or_else(|| LoadError::TooBig(path.into()))?;
        if end > window - STACK_SIZE - (1 << 30) || start < PAGE_SIZE {
            return Err(LoadError::TooBig(path.into()));
        }
        // A segment with no file bytes (only .bss) may name any offset, even past the end of
        // the file, as linkers emit for -nostdlib programs: Linux reads nothing for it.
        let file_end = if filesz == 0 { Some(off.min(data.len() as u64)) } else { off.checked_add(filesz) };
        let Some(file_end) = file_end.filter(|&e| e <= data.len() as u64) else {
            return Err(LoadError::Malformed(path.into(), "segment extends past the end of the file".into()));
        };
        let off = off.min(file_end);
        let page_start = start & !(PAGE_SIZE - 1);
        let page_end = page_up(end);
        // --max-memory bounds the image as it bounds mmap (and RLIMIT_AS bounds execve).
        if let Some(max) = p.opts.max_memory {
            let fresh = (page_start..page_end).step_by(PAGE_SIZE as usize).filter(|&pg| p.m.mem.prot_of(pg).is_none());
            let need = p.m.mem.mapped_bytes().saturating_add(fresh.count() as u64 * PAGE_SIZE);
            if need > max {
                return Err(LoadError::MaxMemory(path.into(), need));
            }
        }
        // Segments may share a page; map what is not yet mapped, then write.
        let mut pg = page_start;
        while pg < page_end {
            if p.m.mem.prot_of(pg).is_none() {
                p.m.mem.map(pg, PAGE_SIZE, flags::R | flags::W);
            }
            pg += PAGE_SIZE;
        }
        p.m.mem.poke(start, &data[off as usize..file_end as usize]).map_err(|_| LoadError::TooBig(path.into()))?;
        max_end = max_end.max(end);
        min_start = min_start.min(page_start);
        let phoff = hdr.e_phoff(en);
        if phoff >= off && phoff < file_end {
            phdr_addr = Some(start + (phoff - off));
        }
    }
    // Apply permissions after all segments are written: a page shared by segments gets the
    // union. One `protect` per run of pages covered by the same segments, never a per-page
    // table: a segment of a few bytes on file may span millions of pages.
    let mut edges: Vec<(u64, bool, u8)> = Vec::with_capacity(2 * loads.len());
    for ph in &loads {
        let start = ph.p_vaddr(en) + bias;
        let end = start + ph.p_memsz(en);
        let pf = ph.p_flags(en);
        let mut f = 0;
        if pf & elf::PF_R != 0 {
            f |= flags::R;
        }
        if pf & elf::PF_W != 0 {
            f |= flags::W | flags::R;
        }
        if pf & elf::PF_X != 0 {
            f |= flags::X | flags::R;
        }
        let (lo, hi) = (start & !(PAGE_SIZE - 1), page_up(end));
        if lo < hi {
            edges.push((lo, true, f));
            edges.push((hi, false, f));
        }
    }
    edges.sort_unstable_by_key(|e| e.0);
    // Segments covering the current run of pages, in total and per permission bit.
    let perm = [flags::R, flags::W, flags::X];
    let (mut active, mut bits) = (0i64, [0i64; 3]);
    let mut i = 0;
    while i < edges.len() {
        let at = edges[i].0;
        while let Some(&(_, opens, f)) = edges.get(i).filter(|e| e.0 == at) {
            let d = if opens { 1 } else { -1 };
            active += d;
            for (n, flag) in bits.iter_mut().zip(perm) {
                if f & flag != 0 {
                    *n += d;
                }
            }
            i += 1;
        }
        if let Some(&(next, _, _)) = edges.get(i) {
            if active > 0 && next > at {
                let f = perm.iter().zip(bits).filter(|&(_, n)| n > 0).fold(0, |acc, (flag, _)| acc | flag);
                p.m.mem.protect(at, next - at, f);
            }
        }
    }
    let phnum = hdr.e_phnum(en) as u64;
    let phent = hdr.e_phentsize(en) as u64;
    let phdr = phdrs
        .iter()
        .find(|ph| ph.p_type(en) == elf::PT_PHDR)
        .map(|ph| ph.p_vaddr(en).wrapping_add(bias))
        .or(phdr_addr)
        .unwrap_or(0);
    let brk = page_up(max_end);
    p.image = (min_start, brk);
    // Lying headers may name any address: the guest faults there, deja must not overflow.
    Ok(Loaded { entry: hdr.e_entry(en).wrapping_add(bias), phdr, phnum, phent, brk, isa })
}

// auxv keys
const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_BASE: u64 = 7;
const AT_FLAGS: u64 = 8;
const AT_ENTRY: u64 = 9;
const AT_UID: u64 = 11;
const AT_EUID: u64 = 12;
const AT_GID: u64 = 13;
const AT_EGID: u64 = 14;
const AT_PLATFORM: u64 = 15;
const AT_HWCAP: u64 = 16;
const AT_CLKTCK: u64 = 17;
const AT_SECURE: u64 = 23;
const AT_RANDOM: u64 = 25;
const AT_HWCAP2: u64 = 26;
const AT_EXECFN: u64 = 31;
const AT_MINSIGSTKSZ: u64 = 51;

/// Build the initial stack as Linux does: strings at the top, then AT_RANDOM bytes, then
/// (16-byte aligned) argc, argv[], NULL, envp[], NULL, auxv pairs.
pub fn setup_stack<A: Arch>(
    p: &mut Process<A>,
    l: &Loaded,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
) -> Result<(), LoadError> {
    let stack_lo = STACK_TOP - STACK_SIZE;
    p.m.mem.map(stack_lo, STACK_SIZE, flags::R | flags::W);
    let mut sp = STACK_TOP;
    let too_big = || LoadError::TooBig("arguments and environment".into());
    let mut push_bytes = |p: &mut Process<A>, b: &[u8]| -> Result<u64, LoadError> {
        sp = sp.checked_sub(b.len() as u64).filter(|&s| s > stack_lo + (64 << 10)).ok_or_else(too_big)?;
        p.m.mem.poke(sp, b).map_err(|_| too_big())?;
        Ok(sp)
    };
    let cstr = |s: &[u8]| {
        let mut v = s.to_vec();
        v.push(0);
        v
    };
    let execfn_addr = push_bytes(p, &cstr(execfn))?;
    let mut env_addrs = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        env_addrs.push(push_bytes(p, &cstr(e))?);
    }
    env_addrs.reverse();
    let mut arg_addrs = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        arg_addrs.push(push_bytes(p, &cstr(a))?);
    }
    arg_addrs.reverse();
    let mut plat = A::PLATFORM.as_bytes().to_vec();
    plat.push(0);
    let platform = push_bytes(p, &plat)?;
    let (hwcap, hwcap2) = A::hwcap();
    let mut rnd = [0u8; 16];
    p.world.random(0, &mut rnd);
    let random = push_bytes(p, &rnd)?;
    let auxv: Vec<(u64, u64)> = vec![
        (AT_HWCAP, hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, 100),
        (AT_PHDR, l.phdr),
        (AT_PHENT, l.phent),
        (AT_PHNUM, l.phnum),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, l.entry),
        (AT_UID, crate::linux::syscall::proc::GUEST_UID),
        (AT_EUID, crate::linux::syscall::proc::GUEST_UID),
        (AT_GID, crate::linux::syscall::proc::GUEST_GID),
        (AT_EGID, crate::linux::syscall::proc::GUEST_GID),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_HWCAP2, hwcap2),
        (AT_EXECFN, execfn_addr),
        (AT_PLATFORM, platform),
        (AT_MINSIGSTKSZ, A::ABI.at_minsigstksz()),
        (AT_NULL, 0),
    ];
    let words = 1 + arg_addrs.len() + 1 + env_addrs.len() + 1 + auxv.len() * 2;
    let mut start = (sp - words as u64 * 8) & !15;
    if start < stack_lo + (64 << 10) {
        return Err(too_big());
    }
    let sp_final = start;
    let mut put = |p: &mut Process<A>, v: u64| {
        let _ = p.m.mem.poke(start, &v.to_le_bytes());
        start += 8;
    };
    put(p, argv.len() as u64);
    for a in &arg_addrs {
        put(p, *a);
    }
    put(p, 0);
    for e in &env_addrs {
        put(p, *e);
    }
    put(p, 0);
    for (k, v) in auxv {
        put(p, k);
        put(p, v);
    }
    A::init_regs(&mut p.m.cpu, l.entry, sp_final);
    // Linux's x86-64 ELF entry state: rdx = 0 (no rtld fini), other GPRs zero.
    p.brk_start = l.brk;
    p.brk = l.brk;
    Ok(())
}
