//! The Linux user-space platform: ELF loading, the process (its run loop), syscalls by
//! family, and signals.

pub mod abi;
pub mod arch_aarch64;
pub mod arch_x86_64;
pub mod errno;
pub mod layout;
pub mod loader;
pub mod process;
pub mod signal;
pub mod signal_frame;
pub mod signal_frame_a64;
pub mod syscall;
pub mod sysno;

pub use process::{Outcome, Process};

use crate::mem::Memory;
use crate::world::World;
use std::path::Path;

/// Why a guest could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Load(#[from] loader::LoadError),
    #[error("cannot reserve the guest address space: {0}")]
    Memory(std::io::Error),
    #[error("{0}: the executable is for another ISA ({1}) than this session")]
    WrongIsa(String, &'static str),
}

/// Load `exe` and prepare a process that will run it with `argv` and `envp`.
pub fn start<A: crate::arch::Arch>(
    exe: &Path,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    world: Box<dyn World>,
    opts: process::Options,
) -> Result<Process<A>, StartError> {
    let name = exe.display().to_string();
    let data = std::fs::read(exe).map_err(|e| loader::LoadError::Io(name.clone(), e))?;
    let abs = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    start_image(&name, &data, &abs, argv, envp, world, opts)
}

/// Like `start`, from an ELF image in memory; `exe` is what /proc/self/exe will name.
pub fn start_image<A: crate::arch::Arch>(
    name: &str,
    data: &[u8],
    exe: &Path,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    world: Box<dyn World>,
    opts: process::Options,
) -> Result<Process<A>, StartError> {
    let isa = loader::elf_isa(name, data)?;
    if isa.machine() != A::ELF_MACHINE {
        let other = match isa {
            loader::Isa::Aarch64 => "AArch64",
            loader::Isa::X86_64 => "x86-64",
        };
        return Err(StartError::WrongIsa(name.to_string(), other));
    }
    let mem = Memory::new(layout::WINDOW).map_err(StartError::Memory)?;
    let mut p = Process::new(mem, world, exe.to_path_buf(), opts);
    let l = loader::load_elf(&mut p, name, data)?;
    let execfn = argv.first().cloned().unwrap_or_else(|| name.as_bytes().to_vec());
    loader::setup_stack(&mut p, &l, argv, envp, &execfn)?;
    A::init_process(&mut p);
    Ok(p)
}
