//! Where the emulator places things in the guest address space. Deterministic by
//! construction (design §3): the same program gets the same addresses on every run and host.

/// Size of the guest address window (all guest addresses are below it).
pub const WINDOW: u64 = 1 << 38;
/// Load bias for static-PIE (ET_DYN) executables.
pub const PIE_BASE: u64 = 0x5555_5000;
/// Highest stack address (exclusive); one guard page sits above it.
pub const STACK_TOP: u64 = WINDOW - 0x1000;
/// Stack mapped for the main thread (RLIMIT_STACK).
pub const STACK_SIZE: u64 = 8 << 20;
/// mmap allocations are placed top-down from here, leaving a gap below the stack.
pub const MMAP_TOP: u64 = STACK_TOP - STACK_SIZE - (256 << 20);
/// Lowest address mmap hands out without MAP_FIXED.
pub const MMAP_MIN: u64 = 0x1_0000;
