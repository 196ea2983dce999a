//! The AArch64 engine the platform runs (`Arch::Engine`): the reference interpreter, and the
//! JIT when `--engine=jit` picks it (cargo feature `jit`). The JIT needs the interpreter
//! anyway: for the tail of a block the budget does not cover, for `--trace`, and as the
//! semantics of every instruction it does not inline.

use super::interp_a64::InterpA64;
use super::{EngineKind, Exit};
use crate::isa::aarch64::M;

pub struct EngineA64 {
    pub interp: InterpA64,
    #[cfg(feature = "jit")]
    pub jit: Option<Box<super::jit_a64::JitA64>>,
}

impl EngineA64 {
    pub fn new(kind: EngineKind, trace: bool) -> EngineA64 {
        let mut interp = InterpA64::new();
        interp.trace = trace;
        match kind {
            EngineKind::Interp => EngineA64 {
                interp,
                #[cfg(feature = "jit")]
                jit: None,
            },
            #[cfg(feature = "jit")]
            EngineKind::Jit => {
                interp.keep_drained = true;
                EngineA64 { interp, jit: Some(Box::new(super::jit_a64::JitA64::new())) }
            }
        }
    }

    /// The JIT with a code cache of `bytes` (tests: forcing cache flushes).
    #[cfg(feature = "jit")]
    pub fn jit_with_cache_size(bytes: usize) -> EngineA64 {
        let mut interp = InterpA64::new();
        interp.keep_drained = true;
        EngineA64 { interp, jit: Some(Box::new(super::jit_a64::JitA64::with_cache_size(bytes))) }
    }

    /// Which engine runs the guest.
    pub fn kind(&self) -> EngineKind {
        #[cfg(feature = "jit")]
        if self.jit.is_some() {
            return EngineKind::Jit;
        }
        EngineKind::Interp
    }

    /// Run at most `budget` instructions (design §2).
    pub fn run(&mut self, m: &mut M, budget: u64) -> Exit {
        #[cfg(feature = "jit")]
        if let Some(jit) = &mut self.jit {
            if !self.interp.trace {
                return jit.run(&mut self.interp, m, budget);
            }
        }
        self.interp.run(m, budget)
    }
}
