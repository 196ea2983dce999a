//! Architectural state digests for checkpoints: registers plus memory, computed
//! incrementally. Each mapped page contributes xxh3(contents, seed = its address); the page
//! hashes are combined with XOR so only pages written since the last digest (the memory's
//! dirty list) are rehashed.

use crate::isa::x86_64::X86State;
use crate::mem::Memory;
use ahash::AHashMap;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

#[derive(Default)]
pub struct Digester {
    pages: AHashMap<u64, u64>,
    acc: u64,
}

impl Digester {
    /// Digest of the registers (as serialised by the ISA) and `mem`; consumes the memory's
    /// dirty list.
    pub fn digest(&mut self, regs: &[u8], mem: &mut Memory) -> u64 {
        for page in mem.dirty_pages() {
            if let Some(old) = self.pages.remove(&page) {
                self.acc ^= old;
            }
            if let Some(bytes) = mem.page_bytes(page) {
                let h = xxh3_64_with_seed(bytes, page);
                self.acc ^= h;
                self.pages.insert(page, h);
            }
        }
        mem.clear_dirty();
        self.acc ^ xxh3_64(regs)
    }
}

/// The architectural registers of an x86-64 guest, serialised field by field (so padding or
/// layout changes of `X86State` cannot leak into digests).
pub fn x86_state_bytes(c: &X86State) -> Vec<u8> {
    let mut b = Vec::with_capacity(640);
    for g in c.gpr {
        b.extend_from_slice(&g.to_le_bytes());
    }
    for v in [c.rip, c.rflags, c.fs_base, c.gs_base] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    for x in c.xmm {
        b.extend_from_slice(&x.to_le_bytes());
    }
    b.extend_from_slice(&c.mxcsr.to_le_bytes());
    for r in &c.x87.regs {
        b.extend_from_slice(&r[..10]);
    }
    b.extend_from_slice(&c.x87.fcw.to_le_bytes());
    b.extend_from_slice(&c.x87.fsw.to_le_bytes());
    b.push(c.x87.top);
    b.push(c.x87.ftw);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::flags;

    #[test]
    fn incremental_equals_fresh() {
        let mut mem = Memory::new(1 << 24).unwrap();
        mem.map(0x1000, 0x4000, flags::R | flags::W);
        let cpu = x86_state_bytes(&X86State::default());
        let mut d = Digester::default();
        let a = d.digest(&cpu, &mut mem);
        mem.write_u64(0x2000, 5).unwrap();
        let b = d.digest(&cpu, &mut mem);
        assert_ne!(a, b);
        // A fresh digester over the same state agrees with the incremental one.
        let mut mem2 = Memory::new(1 << 24).unwrap();
        mem2.map(0x1000, 0x4000, flags::R | flags::W);
        mem2.write_u64(0x2000, 5).unwrap();
        assert_eq!(Digester::default().digest(&cpu, &mut mem2), b);
        mem.write_u64(0x2000, 0).unwrap();
        assert_eq!(d.digest(&cpu, &mut mem), a);
        mem.unmap(0x4000, 0x1000);
        assert_ne!(d.digest(&cpu, &mut mem), a);
    }
}
