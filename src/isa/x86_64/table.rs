//! The x86-64 instruction table: iced `Mnemonic` → handler. Each instruction-group file
//! registers its own mnemonics; anything unregistered raises SIGILL with a diagnostic.
//!
//! Beside its handler, a mnemonic may have a *specializer* (`predecode.rs`): at block-decode
//! time it picks the same handler monomorphised for the instruction's operand form.

use super::predecode::Specializer;
use super::{unimplemented, Handler};
use iced_x86::Mnemonic;
use std::sync::LazyLock;

/// Room for every iced mnemonic (1894 in iced 1.22; checked when the table is built).
pub const MNEMONICS: usize = 2048;

pub struct Table {
    handlers: Vec<Handler>,
    implemented: Vec<bool>,
    specializers: Vec<Option<Specializer>>,
}

impl Table {
    /// Register `h` for each mnemonic in `ms`. Registering one twice is a bug.
    pub fn add(&mut self, ms: &[Mnemonic], h: Handler) {
        for &mn in ms {
            let i = mn as usize;
            assert!(!self.implemented[i], "mnemonic {mn:?} registered twice");
            self.handlers[i] = h;
            self.implemented[i] = true;
        }
    }

    /// Register a specializer for mnemonics that already have their handler.
    pub fn specialize(&mut self, ms: &[Mnemonic], s: Specializer) {
        for &mn in ms {
            let i = mn as usize;
            assert!(self.implemented[i], "specializer for {mn:?} without a handler");
            assert!(self.specializers[i].is_none(), "mnemonic {mn:?} specialised twice");
            self.specializers[i] = Some(s);
        }
    }

    /// The specializer of a mnemonic, if it has one.
    #[inline]
    pub fn specializer(&self, mn: Mnemonic) -> Option<Specializer> {
        self.specializers[mn as usize]
    }

    #[inline]
    pub fn get(&self, mn: Mnemonic) -> Handler {
        self.handlers[mn as usize]
    }

    pub fn is_implemented(&self, mn: Mnemonic) -> bool {
        self.implemented[mn as usize]
    }

    /// All implemented mnemonics (for tests and fuzz generators).
    pub fn implemented(&self) -> impl Iterator<Item = Mnemonic> + '_ {
        Mnemonic::values().filter(|&m| self.is_implemented(m))
    }
}

fn build() -> Table {
    assert!(Mnemonic::values().count() <= MNEMONICS);
    let mut t = Table {
        handlers: vec![unimplemented as Handler; MNEMONICS],
        implemented: vec![false; MNEMONICS],
        specializers: vec![None; MNEMONICS],
    };
    super::alu::register(&mut t);
    super::data_move::register(&mut t);
    super::control::register(&mut t);
    super::stack::register(&mut t);
    super::shift_rotate::register(&mut t);
    super::bit::register(&mut t);
    super::muldiv::register(&mut t);
    super::string::register(&mut t);
    super::atomic::register(&mut t);
    super::system::register(&mut t);
    super::sse_int::register(&mut t);
    super::sse_move::register(&mut t);
    super::sse_fp::register(&mut t);
    super::sse_fp_convert::register(&mut t);
    super::sse_fp_state::register(&mut t);
    super::x87::register(&mut t);
    t
}

/// The table, built once.
pub static TABLE: LazyLock<Table> = LazyLock::new(build);
