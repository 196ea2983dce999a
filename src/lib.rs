//! deja: a deterministic record/replay emulator for Linux user-space programs.
//!
//! Layers, bottom up: `mem` (the guest address space), `isa` (guest CPU state and the
//! reference interpreter, one file per instruction group), `engine` (the `run(budget) -> Exit`
//! contract and its implementations), `linux` (ELF loading, syscalls, signals: the platform),
//! and `world` (the one interface every non-deterministic input passes through).

pub mod arch;
pub mod bench;
pub mod check;
pub mod debug;
pub mod demo;
pub mod engine;
pub mod isa;
pub mod linux;
pub mod mem;
pub mod replay;
pub mod report;
pub mod world;

#[cfg(test)]
pub(crate) mod testrng;
