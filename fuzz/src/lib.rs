//! Fuzz harnesses for deja's hostile inputs (docs/security.md, "Fuzzing").
//!
//! Each target is one function `fn(&[u8])` that must return normally for every input: a panic
//! (or, under cargo-fuzz, a sanitizer report, an abort or a timeout) is a bug. The harnesses
//! hold the oracles; the libFuzzer glue in `fuzz_targets/` and the stable driver in
//! `src/bin/fuzz-driver.rs` only feed them bytes.
//!
//! | target | input | oracle |
//! | --- | --- | --- |
//! | `elf_load` | an ELF file (either ISA) | loads with a named error or runs to a clean end, sealed from the host |
//! | `log_parse` | a replay log | parses or is refused; with its checksums fixed up too; events round-trip |
//! | `replay_log` | a replay log (checksums and exe hash fixed up) | replays to a verdict within a bound |
//! | `exec_x86`, `exec_a64` | registers + code bytes | every `Exit` clean; same final state under any split of the budget |
//!
//! Every target that executes guest code does so on each engine of
//! `deja::engine::EngineKind::ALL` and requires them to agree with the first (the
//! interpreter): the JIT joins the fuzzers by being listed there.

pub mod elf;
pub mod exec;
pub mod logs;

pub use elf::elf_load;
pub use exec::{exec_a64, exec_x86};
pub use logs::{log_parse, replay_log};

use deja::world::{HostCall, World};

/// A harness: returns normally for every input, or panics on a bug.
pub type Harness = fn(&[u8]);

/// Every target by name, for the stable driver.
pub const TARGETS: &[(&str, Harness)] = &[
    ("elf_load", elf_load),
    ("log_parse", log_parse),
    ("replay_log", replay_log),
    ("exec_x86", exec_x86),
    ("exec_a64", exec_a64),
];

/// A world sealed from the host: every host call fails with EPERM (the guest cannot touch a
/// file, a socket, the clock or another process), the time stamp counter and random bytes are
/// functions of the icount, and no asynchronous signal ever arrives. Fuzzed guests run in it.
#[derive(Default)]
pub struct Sealed;

/// -EPERM.
const EPERM: i64 = -1;

impl World for Sealed {
    fn syscall(&mut self, _icount: u64, _call: &HostCall) -> i64 {
        EPERM
    }

    fn tsc(&mut self, icount: u64) -> u64 {
        icount.wrapping_mul(3)
    }

    fn random(&mut self, icount: u64, buf: &mut [u8]) {
        let mut r = Rng::new(icount);
        for b in buf.iter_mut() {
            *b = r.next() as u8;
        }
    }

    fn pending_signal(&mut self, _icount: u64) -> Option<i32> {
        None
    }
}

/// splitmix64: small, deterministic, good enough for fuzzing decisions.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}
