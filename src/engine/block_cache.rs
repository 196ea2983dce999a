//! A cache of pre-decoded guest blocks keyed by guest pc, shared by the interpreters: a
//! direct-mapped array in front of a hash map (no hashing on the hot path), with
//! invalidation by guest page when the memory reports writes to code pages.

use crate::mem::{Memory, PAGE_SIZE};
use ahash::AHashMap;

const FAST_SLOTS: usize = 4096;
const NO_BLOCK: u32 = u32::MAX;
/// Blocks kept before the cache is flushed wholesale (bounds memory for guests that
/// generate code without end).
const MAX_BLOCKS: usize = 1 << 20;

pub struct BlockCache<Op> {
    blocks: Vec<Vec<Op>>,
    starts: Vec<u64>,
    by_pc: AHashMap<u64, u32>,
    by_page: AHashMap<u64, Vec<u32>>,
    fast: Box<[(u64, u32)]>,
}

impl<Op> Default for BlockCache<Op> {
    fn default() -> Self {
        Self::new()
    }
}

impl<Op> BlockCache<Op> {
    pub fn new() -> Self {
        BlockCache {
            blocks: Vec::new(),
            starts: Vec::new(),
            by_pc: AHashMap::new(),
            by_page: AHashMap::new(),
            fast: vec![(u64::MAX, NO_BLOCK); FAST_SLOTS].into_boxed_slice(),
        }
    }

    /// The block starting at `pc`, if cached.
    #[inline]
    pub fn lookup(&mut self, pc: u64) -> Option<u32> {
        let slot = (pc as usize ^ (pc as usize >> 12)) & (FAST_SLOTS - 1);
        let (tag, id) = self.fast[slot];
        if tag == pc && id != NO_BLOCK {
            return Some(id);
        }
        let id = *self.by_pc.get(&pc)?;
        self.fast[slot] = (pc, id);
        Some(id)
    }

    /// Cache a block decoded from guest bytes `[start, end)`; marks its pages as code.
    pub fn insert(&mut self, mem: &mut Memory, start: u64, end: u64, ops: Vec<Op>) -> u32 {
        if self.blocks.len() >= MAX_BLOCKS {
            self.flush();
        }
        let id = self.blocks.len() as u32;
        let first = start & !(PAGE_SIZE - 1);
        let last = (end.max(start + 1) - 1) & !(PAGE_SIZE - 1);
        let mut p = first;
        loop {
            mem.mark_code(p);
            self.by_page.entry(p).or_default().push(id);
            if p >= last {
                break;
            }
            p += PAGE_SIZE;
        }
        self.blocks.push(ops);
        self.starts.push(start);
        self.by_pc.insert(start, id);
        id
    }

    #[inline]
    pub fn ops(&self, id: u32) -> &[Op] {
        &self.blocks[id as usize]
    }

    /// Drop every block decoded from the given guest pages.
    pub fn invalidate_pages(&mut self, pages: &[u64]) {
        for &p in pages {
            if let Some(ids) = self.by_page.remove(&(p & !(PAGE_SIZE - 1))) {
                for id in ids {
                    let start = self.starts[id as usize];
                    if self.by_pc.get(&start) == Some(&id) {
                        self.by_pc.remove(&start);
                    }
                }
            }
        }
        self.fast.fill((u64::MAX, NO_BLOCK));
        if self.by_pc.is_empty() {
            self.blocks.clear();
            self.starts.clear();
            self.by_page.clear();
        }
    }

    pub fn flush(&mut self) {
        self.blocks.clear();
        self.starts.clear();
        self.by_pc.clear();
        self.by_page.clear();
        self.fast.fill((u64::MAX, NO_BLOCK));
    }
}
