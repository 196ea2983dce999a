//! deja's JIT backend: x86-64 host code for guest blocks, independent of the guest ISA.
//!
//! A guest ISA's translator (deja's `engine/jit_x86.rs` for x86-64 guests) turns one decoded
//! guest block into host code with [`emit::Asm`] and registers it in a [`Blocks`] table; the
//! dispatcher (also the translator's, since it needs the interpreter) runs blocks with
//! [`CodeCache::enter`]. What this crate provides:
//!
//! - [`CodeCache`]: executable memory of a fixed size, never writable and executable at once
//!   (W^X: code is copied in with the pages read+write, then made read+execute), flushed as a
//!   whole when full; the entry/exit trampolines.
//! - [`emit::Asm`]: position-independent sequences: the budget check at a block's entry, the
//!   instruction-count update, calls to helpers (`extern "sysv64" fn(state, arg, ctx) ->
//!   u32`, non-zero = leave with that status), exits, chaining through data slots (never by
//!   patching code), the inline lookup of indirect targets, and the inline check of a guest
//!   memory access against the page-flags byte.
//! - [`Blocks`]: translated blocks by guest pc (ahash) and by guest page (for invalidation
//!   when guest code is written), with their chaining slots, and [`Lookup`], the
//!   direct-mapped table translated code consults for indirect branches.
//!
//! The contract translated code keeps (design §2): a block is entered only when the budget
//! covers all its instructions (the check is at its entry, so chained jumps obey it too);
//! the guest state (pc, icount) is exact whenever a helper runs and whenever code exits.

pub mod code;
pub mod emit;

pub use code::CodeCache;
pub use dynasmrt;

use ahash::AHashMap;
use std::cell::Cell;

/// Exit status: go back to the dispatcher, which finds the block for the guest pc (or runs
/// the interpreter when the budget does not cover it).
pub const EXIT_DISPATCH: u32 = 1;
/// Exit status: a helper stopped the run; the translator's context holds why.
pub const EXIT_TRAP: u32 = 2;

/// What translated code needs from the run, at a stable address for the run's duration
/// (`r14` points to it).
#[repr(C)]
#[derive(Debug)]
pub struct Ctx {
    /// Host address of guest address 0.
    pub host_base: usize,
    /// Host address of the guest page-flags table.
    pub flags_base: usize,
    /// Size of the guest address window in bytes.
    pub mem_size: u64,
    /// The exit trampoline ([`CodeCache::exit_addr`]).
    pub exit: usize,
    /// The indirect-branch table ([`Lookup::as_ptr`]).
    pub lookup: usize,
    /// Set by a slot's stub when it exits: the slot to chain to the block the dispatcher
    /// finds next (0: none).
    pub link: usize,
    /// The translator's own data for its helpers.
    pub user: usize,
}

/// Entries in the indirect-branch lookup table.
pub const LOOKUP_SLOTS: usize = 4096;

/// A direct-mapped table guest pc → block entry that translated code probes inline for
/// indirect branches ([`emit::Asm::jump_lookup`]); a miss exits to the dispatcher.
pub struct Lookup {
    entries: Box<[[usize; 2]]>,
}

impl Default for Lookup {
    fn default() -> Self {
        Self::new()
    }
}

impl Lookup {
    pub fn new() -> Lookup {
        let mut l = Lookup { entries: vec![[0, 0]; LOOKUP_SLOTS].into_boxed_slice() };
        l.clear();
        l
    }

    #[inline]
    fn slot(pc: u64) -> usize {
        ((pc ^ (pc >> 12)) as usize) & (LOOKUP_SLOTS - 1)
    }

    pub fn insert(&mut self, pc: u64, entry: *const u8) {
        self.entries[Self::slot(pc)] = [pc as usize, entry as usize];
    }

    /// Empty every entry. An empty slot's tag is a pc that hashes to *another* slot, so no
    /// guest pc can ever match it (a fixed tag such as `usize::MAX` would, and the jump would
    /// go to host address 0: found by the elf_load fuzz target).
    pub fn clear(&mut self) {
        for (i, e) in self.entries.iter_mut().enumerate() {
            *e = [i + 1, 0];
        }
    }

    /// Would a probe for `pc` jump somewhere (its slot holds `pc`)?
    pub fn hits(&self, pc: u64) -> bool {
        self.entries[Self::slot(pc)][0] == pc as usize
    }

    pub fn as_ptr(&mut self) -> usize {
        self.entries.as_mut_ptr() as usize
    }
}

/// One translated block.
pub struct Block<Meta> {
    /// Guest pc of its first instruction.
    pub start: u64,
    /// Host address of its entry (the budget check).
    pub entry: *const u8,
    /// Guest instructions in it.
    pub len: u32,
    /// Chaining slots: each holds the entry of a chained successor, or its stub.
    pub slots: Box<[Cell<usize>]>,
    /// The stub of each slot (what it holds when unchained).
    pub stubs: Box<[usize]>,
    /// What the translator keeps alive for the code (e.g. the operands its helpers read).
    pub meta: Meta,
}

impl<Meta> Block<Meta> {
    /// Point every slot back to its stub.
    pub fn unchain(&self) {
        for (s, &stub) in self.slots.iter().zip(self.stubs.iter()) {
            s.set(stub);
        }
    }
}

/// Fresh slots for a block about to be assembled (their addresses go into its code).
pub fn new_slots(n: usize) -> Box<[Cell<usize>]> {
    (0..n).map(|_| Cell::new(0)).collect()
}

/// Translated blocks by guest pc and by guest page.
pub struct Blocks<Meta> {
    blocks: Vec<Option<Block<Meta>>>,
    by_pc: AHashMap<u64, u32>,
    by_page: AHashMap<u64, Vec<u32>>,
    live: usize,
}

impl<Meta> Default for Blocks<Meta> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Meta> Blocks<Meta> {
    pub fn new() -> Self {
        Blocks { blocks: Vec::new(), by_pc: AHashMap::new(), by_page: AHashMap::new(), live: 0 }
    }

    /// The block starting at guest `pc`.
    #[inline]
    pub fn get(&self, pc: u64) -> Option<&Block<Meta>> {
        let id = *self.by_pc.get(&pc)?;
        self.blocks[id as usize].as_ref()
    }

    /// Number of live blocks.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Register a block decoded from the guest pages `pages` (page addresses).
    pub fn insert(&mut self, b: Block<Meta>, pages: impl IntoIterator<Item = u64>) -> &Block<Meta> {
        let id = self.blocks.len() as u32;
        for p in pages {
            self.by_page.entry(p).or_default().push(id);
        }
        if let Some(old) = self.by_pc.insert(b.start, id) {
            // Replaced (cannot happen while the old one is live, but stay consistent).
            if self.blocks[old as usize].take().is_some() {
                self.live -= 1;
            }
        }
        self.blocks.push(Some(b));
        self.live += 1;
        self.blocks[id as usize].as_ref().unwrap()
    }

    /// Drop every block decoded from the given guest pages (page addresses) and unchain
    /// every remaining block (a slot may have pointed into a dropped one). Returns whether
    /// any block was dropped.
    pub fn invalidate_pages(&mut self, pages: &[u64], page_size: u64) -> bool {
        let mut dropped = false;
        for &p in pages {
            if let Some(ids) = self.by_page.remove(&(p & !(page_size - 1))) {
                for id in ids {
                    if let Some(b) = self.blocks[id as usize].take() {
                        if self.by_pc.get(&b.start) == Some(&id) {
                            self.by_pc.remove(&b.start);
                        }
                        self.live -= 1;
                        dropped = true;
                    }
                }
            }
        }
        if dropped {
            for b in self.blocks.iter().flatten() {
                b.unchain();
            }
        }
        if self.live == 0 {
            self.clear();
        }
        dropped
    }

    /// Drop every block.
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.by_pc.clear();
        self.by_page.clear();
        self.live = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No pc matches an empty slot, the last address of the 64-bit space included.
    #[test]
    fn empty_lookup_slots_match_no_pc() {
        let l = Lookup::new();
        for pc in [0, 1, 4095, 4096, u64::MAX, u64::MAX - 1, 0x5555_51c2] {
            assert!(!l.hits(pc), "{pc:#x}");
        }
        for i in 0..LOOKUP_SLOTS {
            let tag = l.entries[i][0] as u64;
            assert_ne!(Lookup::slot(tag), i, "slot {i}");
        }
    }
}
