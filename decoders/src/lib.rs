//! Guest instruction decoding and block formation, shared by every deja engine.
//!
//! A *block* is a run of instructions that ends at a control transfer, a syscall, a REP string
//! instruction, the end of a guest page, or [`MAX_BLOCK_INSNS`]. Interpreter and JIT use the
//! same rule, so block-level accounting lines up between them (design §5).

pub mod aarch64;
pub mod x86;

/// Longest block, in instructions. Bounded so a budget check per block stays cheap and a
/// budget-limited tail is short.
pub const MAX_BLOCK_INSNS: usize = 64;

/// Guest page size used for block boundaries and code-page invalidation.
pub const PAGE_SIZE: u64 = 4096;

/// Why decoding stopped before an instruction could be formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes at `pc` are not a valid instruction (or one the decoder does not know).
    Invalid { pc: u64 },
    /// The bytes at `addr` could not be fetched (unmapped or not executable).
    Fetch { pc: u64, addr: u64 },
}
