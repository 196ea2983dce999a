//! Architectural state of an AArch64 guest at EL0. `#[repr(C)]` so the JIT can address fields
//! by `offset_of!`.

/// NZCV bits as they sit in the NZCV system register (bits 31..28).
pub mod nzcv {
    pub const N: u64 = 1 << 31;
    pub const Z: u64 = 1 << 30;
    pub const C: u64 = 1 << 29;
    pub const V: u64 = 1 << 28;
    pub const MASK: u64 = N | Z | C | V;
}

#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct A64State {
    /// X0..X30. Register number 31 is XZR or SP depending on the instruction.
    pub x: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    /// NZCV in bits 31..28.
    pub nzcv: u64,
    /// V0..V31 (Q registers).
    pub v: [u128; 32],
    /// FPCR (rounding mode, FZ, DN, AHP, trap enables — traps are not supported, Linux
    /// reports them as not implemented).
    pub fpcr: u64,
    /// FPSR cumulative exception flags (IOC DZC OFC UFC IXC IDC, QC).
    pub fpsr: u64,
    /// TPIDR_EL0 (thread pointer).
    pub tpidr: u64,
    /// Exclusive monitor for LDXR/STXR (single-threaded semantics): the address and size
    /// of the last exclusive load, valid when `excl_size != 0`.
    pub excl_addr: u64,
    pub excl_size: u64,
}
