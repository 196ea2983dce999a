//! The x86-64 engine the platform runs (`Arch::Engine`): the reference interpreter, and the
//! JIT when `--engine=jit` picks it (cargo feature `jit`). The JIT needs the interpreter
//! anyway: for the tail of a block the budget does not cover, for debugger stops and
//! `--trace`, and as the semantics of every instruction it does not inline.

use super::interp_x86::InterpX86;
use super::{EngineKind, Exit};
use crate::isa::x86_64::M;

pub struct EngineX86 {
    pub interp: InterpX86,
    #[cfg(feature = "jit")]
    pub jit: Option<Box<super::jit_x86::JitX86>>,
}

impl EngineX86 {
    pub fn new(kind: EngineKind, trace: bool) -> EngineX86 {
        let mut interp = InterpX86::new();
        interp.trace = trace;
        match kind {
            EngineKind::Interp => EngineX86 {
                interp,
                #[cfg(feature = "jit")]
                jit: None,
            },
            #[cfg(feature = "jit")]
            EngineKind::Jit => {
                interp.keep_drained = true;
                EngineX86 { interp, jit: Some(Box::new(super::jit_x86::JitX86::new())) }
            }
        }
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

    /// Like `run`, stopping before any instruction at an address in `stops` (the debugger's
    /// breakpoints): always the interpreter, which checks stops once per block.
    pub fn run_stops(&mut self, m: &mut M, budget: u64, stops: &[u64]) -> Exit {
        self.interp.run_stops(m, budget, stops)
    }

    /// Turn the interpreter's specialised handlers on or off (see
    /// [`InterpX86::set_specialize`]); the JIT translates from the same ops, so it follows.
    pub fn set_specialize(&mut self, on: bool) {
        self.interp.set_specialize(on);
        #[cfg(feature = "jit")]
        if let Some(jit) = &mut self.jit {
            jit.flush();
        }
    }
}
