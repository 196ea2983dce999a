//! Named registers per guest ISA, and what differs between two states: registers (with the
//! flag bits that differ, by name) and memory (byte ranges with both values).

use crate::arch::Arch;
use crate::isa::aarch64::state::A64State;
use crate::isa::x86_64::X86State;
use crate::linux::arch_aarch64::Aarch64;
use crate::linux::arch_x86_64::X86_64;
use crate::mem::{Memory, PAGE_SHIFT};

/// One architectural register: its name, width in bytes (at most 16) and value, and the
/// names of its bits where they have names (flags, status and control registers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg {
    pub name: &'static str,
    pub width: u8,
    pub value: u128,
    /// (bit number, name) of its named bits (flags, exception and mode bits).
    pub bits: &'static [(u8, &'static str)],
}

/// What `deja check` needs from a guest ISA beyond `Arch`: its registers by name.
pub trait CheckArch: Arch {
    /// Every architectural register, by name, in the order (and with the bytes) of
    /// `Arch::state_bytes`, so the digest covers exactly these: whenever two digests differ
    /// with equal memory, some register here differs.
    fn registers(c: &Self::Cpu) -> Vec<Reg>;
}

const RFLAGS_BITS: &[(u8, &str)] = &[
    (0, "CF"),
    (2, "PF"),
    (4, "AF"),
    (6, "ZF"),
    (7, "SF"),
    (8, "TF"),
    (9, "IF"),
    (10, "DF"),
    (11, "OF"),
    (18, "AC"),
    (21, "ID"),
];
const MXCSR_BITS: &[(u8, &str)] = &[
    (0, "IE"),
    (1, "DE"),
    (2, "ZE"),
    (3, "OE"),
    (4, "UE"),
    (5, "PE"),
    (6, "DAZ"),
    (7, "IM"),
    (8, "DM"),
    (9, "ZM"),
    (10, "OM"),
    (11, "UM"),
    (12, "PM"),
    (13, "RC0"),
    (14, "RC1"),
    (15, "FZ"),
];
const FSW_BITS: &[(u8, &str)] = &[
    (0, "IE"),
    (1, "DE"),
    (2, "ZE"),
    (3, "OE"),
    (4, "UE"),
    (5, "PE"),
    (6, "SF"),
    (7, "ES"),
    (8, "C0"),
    (9, "C1"),
    (10, "C2"),
    (14, "C3"),
    (15, "B"),
];
const NZCV_BITS: &[(u8, &str)] = &[(31, "N"), (30, "Z"), (29, "C"), (28, "V")];
const FPSR_BITS: &[(u8, &str)] = &[(0, "IOC"), (1, "DZC"), (2, "OFC"), (3, "UFC"), (4, "IXC"), (7, "IDC"), (27, "QC")];
const FPCR_BITS: &[(u8, &str)] = &[(19, "FZ16"), (22, "RMode0"), (23, "RMode1"), (24, "FZ"), (25, "DN"), (26, "AHP")];

const X86_GPR: [&str; 16] =
    ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
const XMM: [&str; 16] = [
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
    "xmm14", "xmm15",
];
/// x87 physical registers (not stack-relative: `top` says which is st0).
const X87_R: [&str; 8] = ["x87.r0", "x87.r1", "x87.r2", "x87.r3", "x87.r4", "x87.r5", "x87.r6", "x87.r7"];

const A64_X: [&str; 31] = [
    "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
    "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30",
];
const A64_V: [&str; 32] = [
    "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17",
    "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31",
];

fn reg(name: &'static str, width: u8, value: u128) -> Reg {
    Reg { name, width, value, bits: &[] }
}

fn flags_reg(name: &'static str, width: u8, value: u128, bits: &'static [(u8, &'static str)]) -> Reg {
    Reg { name, width, value, bits }
}

impl CheckArch for X86_64 {
    fn registers(c: &X86State) -> Vec<Reg> {
        let mut v = Vec::with_capacity(48);
        for (i, &g) in c.gpr.iter().enumerate() {
            v.push(reg(X86_GPR[i], 8, g as u128));
        }
        v.push(reg("rip", 8, c.rip as u128));
        v.push(flags_reg("rflags", 8, c.rflags as u128, RFLAGS_BITS));
        v.push(reg("fs_base", 8, c.fs_base as u128));
        v.push(reg("gs_base", 8, c.gs_base as u128));
        for (i, &x) in c.xmm.iter().enumerate() {
            v.push(reg(XMM[i], 16, x));
        }
        v.push(flags_reg("mxcsr", 4, c.mxcsr as u128, MXCSR_BITS));
        for (i, r) in c.x87.regs.iter().enumerate() {
            let mut b = [0u8; 16];
            b[..10].copy_from_slice(&r[..10]);
            v.push(reg(X87_R[i], 10, u128::from_le_bytes(b)));
        }
        v.push(reg("fcw", 2, c.x87.fcw as u128));
        v.push(flags_reg("fsw", 2, c.x87.fsw as u128, FSW_BITS));
        v.push(reg("x87.top", 1, c.x87.top as u128));
        v.push(reg("x87.ftw", 1, c.x87.ftw as u128));
        v
    }
}

impl CheckArch for Aarch64 {
    fn registers(c: &A64State) -> Vec<Reg> {
        let mut v = Vec::with_capacity(72);
        for (i, &x) in c.x.iter().enumerate() {
            v.push(reg(A64_X[i], 8, x as u128));
        }
        v.push(reg("sp", 8, c.sp as u128));
        v.push(reg("pc", 8, c.pc as u128));
        v.push(flags_reg("nzcv", 8, c.nzcv as u128, NZCV_BITS));
        v.push(flags_reg("fpcr", 8, c.fpcr as u128, FPCR_BITS));
        v.push(flags_reg("fpsr", 8, c.fpsr as u128, FPSR_BITS));
        v.push(reg("tpidr_el0", 8, c.tpidr as u128));
        v.push(reg("excl_addr", 8, c.excl_addr as u128));
        v.push(reg("excl_size", 8, c.excl_size as u128));
        for (i, &q) in c.v.iter().enumerate() {
            v.push(reg(A64_V[i], 16, q));
        }
        v
    }
}

/// A register whose values differ between the two sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegDiff {
    pub name: &'static str,
    pub width: u8,
    pub a: u128,
    pub b: u128,
    /// Named bits that differ: (name, value on side a, value on side b).
    pub bits: Vec<(&'static str, bool, bool)>,
}

impl RegDiff {
    /// The value in hex at the register's width (16-byte registers as two 64-bit halves,
    /// high first).
    pub fn hex(&self, v: u128) -> String {
        match self.width {
            16 => format!("{:016x}_{:016x}", (v >> 64) as u64, v as u64),
            10 => format!("{:04x}_{:016x}", (v >> 64) as u16, v as u64),
            w => format!("{:0width$x}", v, width = 2 * w as usize),
        }
    }
}

/// The registers of `a` and `b` that differ, in `CheckArch::registers` order.
pub fn reg_diffs<A: CheckArch>(a: &A::Cpu, b: &A::Cpu) -> Vec<RegDiff> {
    let (ra, rb) = (A::registers(a), A::registers(b));
    ra.iter()
        .zip(&rb)
        .filter(|(x, y)| x.value != y.value)
        .map(|(x, y)| RegDiff {
            name: x.name,
            width: x.width,
            a: x.value,
            b: y.value,
            bits: x
                .bits
                .iter()
                .filter(|(bit, _)| (x.value ^ y.value) >> bit & 1 != 0)
                .map(|&(bit, n)| (n, x.value >> bit & 1 != 0, y.value >> bit & 1 != 0))
                .collect(),
        })
        .collect()
}

/// Serialise `registers` the way `state_bytes` does (for the coverage test).
pub fn registers_bytes(regs: &[Reg]) -> Vec<u8> {
    regs.iter().flat_map(|r| r.value.to_le_bytes()[..r.width as usize].to_vec()).collect()
}

/// A range of guest memory that differs: its address and the bytes on each side (`None`:
/// not mapped on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemDiff {
    pub addr: u64,
    pub a: Option<Vec<u8>>,
    pub b: Option<Vec<u8>>,
}

/// Differences in memory, capped for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemDiffs {
    /// The first ranges that differ, at most `MAX_RANGES`, each at most `MAX_RANGE` bytes.
    pub ranges: Vec<MemDiff>,
    /// Bytes that differ in all (unmapped-vs-mapped pages count whole).
    pub total_bytes: u64,
    /// Pages whose protection differs (page address, side a, side b; None = unmapped).
    pub prot: Vec<(u64, Option<u8>, Option<u8>)>,
}

/// Ranges shown at most.
pub const MAX_RANGES: usize = 16;
/// Bytes shown per range at most.
pub const MAX_RANGE: usize = 32;
/// Differing bytes closer than this are one range.
const JOIN_GAP: usize = 8;

/// Compare the pages `pages` (page numbers) of two memories.
pub fn mem_diffs(a: &Memory, b: &Memory, pages: &[u64]) -> MemDiffs {
    let mut out = MemDiffs::default();
    let mut pages = pages.to_vec();
    pages.sort_unstable();
    pages.dedup();
    for page in pages {
        let base = page << PAGE_SHIFT;
        let (sa, sb) = (a.page_state(page), b.page_state(page));
        if sa.map(|s| s.0) != sb.map(|s| s.0) {
            out.prot.push((base, sa.map(|s| s.0), sb.map(|s| s.0)));
        }
        match (sa, sb) {
            (None, None) => {}
            (Some((_, x)), Some((_, y))) => {
                let mut i = 0;
                while i < x.len() {
                    if x[i] == y[i] {
                        i += 1;
                        continue;
                    }
                    // A run of differing bytes, joined across short equal gaps.
                    let start = i;
                    let mut end = i + 1;
                    let mut j = end;
                    while j < x.len() && j < end + JOIN_GAP {
                        if x[j] != y[j] {
                            end = j + 1;
                        }
                        j += 1;
                    }
                    out.total_bytes += (start..end).filter(|&k| x[k] != y[k]).count() as u64;
                    if out.ranges.len() < MAX_RANGES {
                        let shown = end.min(start + MAX_RANGE);
                        out.ranges.push(MemDiff {
                            addr: base + start as u64,
                            a: Some(x[start..shown].to_vec()),
                            b: Some(y[start..shown].to_vec()),
                        });
                    }
                    i = end;
                }
            }
            (x, y) => {
                out.total_bytes += crate::mem::PAGE_SIZE;
                if out.ranges.len() < MAX_RANGES {
                    let show = |s: Option<(u8, &[u8])>| s.map(|(_, d)| d[..MAX_RANGE].to_vec());
                    out.ranges.push(MemDiff { addr: base, a: show(x), b: show(y) });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::flags;

    /// The named registers are exactly what digests cover: a field added to `state_bytes`
    /// and not named here fails this.
    #[test]
    fn registers_cover_state_bytes() {
        let mut x = X86State::default();
        for (i, g) in x.gpr.iter_mut().enumerate() {
            *g = 0x0101_0101_0101_0101u64.wrapping_mul(i as u64 + 1);
        }
        x.rip = 0x401000;
        x.rflags = 0x247;
        x.xmm[3] = u128::MAX / 3;
        x.x87.regs[5] = [7; 16];
        x.x87.top = 5;
        assert_eq!(registers_bytes(&X86_64::registers(&x)), X86_64::state_bytes(&x));
        let mut a = A64State::default();
        for (i, r) in a.x.iter_mut().enumerate() {
            *r = 0x0101_0101 * (i as u64 + 3);
        }
        a.v[31] = u128::MAX / 7;
        a.nzcv = 0x6000_0000;
        a.excl_size = 8;
        assert_eq!(registers_bytes(&Aarch64::registers(&a)), Aarch64::state_bytes(&a));
    }

    #[test]
    fn flag_bits_are_named() {
        let a = X86State::default();
        let mut b = a;
        b.rflags ^= 1 | 1 << 11;
        b.gpr[3] = 5;
        let d = reg_diffs::<X86_64>(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].name, d[0].a, d[0].b), ("rbx", 0, 5));
        assert_eq!(d[1].name, "rflags");
        assert_eq!(d[1].bits, vec![("CF", false, true), ("OF", false, true)]);
        assert_eq!(d[1].hex(d[1].a), "0000000000000202");
    }

    #[test]
    fn memory_ranges() {
        let mut a = Memory::new(1 << 24).unwrap();
        let mut b = Memory::new(1 << 24).unwrap();
        a.map(0x1000, 0x2000, flags::R | flags::W);
        b.map(0x1000, 0x1000, flags::R | flags::W);
        a.write_u32(0x1010, 0x11223344).unwrap();
        a.write_u8(0x1016, 9).unwrap();
        a.write_u8(0x1100, 1).unwrap();
        let d = mem_diffs(&a, &b, &[1, 2, 3]);
        assert_eq!(d.ranges.len(), 3);
        assert_eq!(d.ranges[0].addr, 0x1010);
        assert_eq!(d.ranges[0].a.as_deref(), Some(&[0x44, 0x33, 0x22, 0x11, 0, 0, 9][..]));
        assert_eq!(d.ranges[0].b.as_deref(), Some(&[0u8; 7][..]));
        assert_eq!(d.ranges[1].addr, 0x1100);
        assert_eq!((d.ranges[2].addr, d.ranges[2].b.is_none()), (0x2000, true));
        assert_eq!(d.total_bytes, 6 + 4096);
        assert_eq!(d.prot, vec![(0x2000, Some(flags::R | flags::W), None)]);
    }
}
