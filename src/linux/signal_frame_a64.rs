//! The AArch64 signal frame (rt_sigframe: siginfo, ucontext with sigcontext and an
//! fpsimd_context record) and rt_sigreturn. (to be written)

use super::arch_aarch64::Aarch64;
use super::process::Process;
use super::syscall::SysResult;
use crate::engine::GuestFault;
use crate::mem::{Access, MemFault};

/// Push a signal frame for `signo` and enter the handler.
pub fn setup_frame(_p: &mut Process<Aarch64>, _signo: i32, _f: &GuestFault) -> Result<(), MemFault> {
    Err(MemFault { addr: 0, access: Access::Write, mapped: false })
}

/// rt_sigreturn.
pub fn sigreturn(_p: &mut Process<Aarch64>) -> SysResult {
    Err(super::syscall::SysErr::Errno(libc::ENOSYS))
}
