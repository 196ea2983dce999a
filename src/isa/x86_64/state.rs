//! Architectural state of an x86-64 guest. `#[repr(C)]` so the JIT can address fields by
//! `offset_of!`.

/// GPR indices in the hardware encoding order.
pub mod reg {
    pub const RAX: usize = 0;
    pub const RCX: usize = 1;
    pub const RDX: usize = 2;
    pub const RBX: usize = 3;
    pub const RSP: usize = 4;
    pub const RBP: usize = 5;
    pub const RSI: usize = 6;
    pub const RDI: usize = 7;
    pub const R8: usize = 8;
    pub const R9: usize = 9;
    pub const R10: usize = 10;
    pub const R11: usize = 11;
    pub const R12: usize = 12;
    pub const R13: usize = 13;
    pub const R14: usize = 14;
    pub const R15: usize = 15;
}

/// RFLAGS bits.
pub mod fl {
    pub const CF: u64 = 1 << 0;
    /// Bit 1 always reads as 1.
    pub const FIXED: u64 = 1 << 1;
    pub const PF: u64 = 1 << 2;
    pub const AF: u64 = 1 << 4;
    pub const ZF: u64 = 1 << 6;
    pub const SF: u64 = 1 << 7;
    pub const TF: u64 = 1 << 8;
    pub const IF: u64 = 1 << 9;
    pub const DF: u64 = 1 << 10;
    pub const OF: u64 = 1 << 11;
    pub const AC: u64 = 1 << 18;
    pub const ID: u64 = 1 << 21;
    /// The six arithmetic status flags.
    pub const STATUS: u64 = CF | PF | AF | ZF | SF | OF;
    /// Flags user code may change with popf.
    pub const USER_WRITABLE: u64 = STATUS | DF | AC | ID | TF;
}

/// x87 FPU state. Registers hold 80-bit extended values as (mantissa, sign+exponent).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X87 {
    /// Physical registers R0..R7 (not stack-relative); each is 10 bytes of an 80-bit float
    /// stored in a 16-byte slot as in FXSAVE.
    pub regs: [[u8; 16]; 8],
    /// Control word (FNSTCW). Linux starts processes with 0x037f.
    pub fcw: u16,
    /// Status word without TOP (bits 11-13 are taken from `top`).
    pub fsw: u16,
    /// Stack top, 0..7.
    pub top: u8,
    /// Abridged tag word as in FXSAVE: bit i set = physical register i is valid.
    pub ftw: u8,
    pub _pad: [u8; 2],
}

impl Default for X87 {
    fn default() -> Self {
        X87 { regs: [[0; 16]; 8], fcw: 0x037f, fsw: 0, top: 0, ftw: 0, _pad: [0; 2] }
    }
}

/// Full user-visible CPU state of an x86-64 guest.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct X86State {
    /// RAX..R15 in hardware encoding order.
    pub gpr: [u64; 16],
    pub rip: u64,
    /// RFLAGS, always kept materialised (the interpreter computes flags eagerly).
    pub rflags: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    /// XMM0..XMM15.
    pub xmm: [u128; 16],
    /// MXCSR; Linux starts processes with 0x1f80 (all exceptions masked, round to nearest).
    pub mxcsr: u32,
    pub _pad: u32,
    pub x87: X87,
}

impl Default for X86State {
    fn default() -> Self {
        X86State {
            gpr: [0; 16],
            rip: 0,
            rflags: fl::FIXED | fl::IF,
            fs_base: 0,
            gs_base: 0,
            xmm: [0; 16],
            mxcsr: 0x1f80,
            _pad: 0,
            x87: X87::default(),
        }
    }
}
