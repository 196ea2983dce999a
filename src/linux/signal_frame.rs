//! The x86-64 signal frame (rt_sigframe: ucontext with mcontext and fpstate, siginfo) and
//! rt_sigreturn. (to be written)

use super::process::Process;
use crate::engine::GuestFault;
use crate::mem::MemFault;

/// Push a signal frame for `signo` and redirect the guest to its handler.
pub fn setup_frame(_p: &mut Process, _signo: i32, _f: &GuestFault) -> Result<(), MemFault> {
    Err(MemFault { addr: 0, access: crate::mem::Access::Write, mapped: false })
}
