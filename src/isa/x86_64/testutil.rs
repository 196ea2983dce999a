//! Small helpers for the x86-64 handler unit tests: a machine with a data page, and
//! "decode these bytes and run the handler" on it.

use super::table::TABLE;
use super::{Res, X86State, M};
use crate::engine::Machine;
use crate::mem::{flags, Memory};
use iced_x86::{Decoder, DecoderOptions, Instruction};

/// Guest address of the read-write data area every test machine has.
pub const DATA: u64 = 0x10000;
/// Size of the data area.
pub const DATA_LEN: u64 = 0x4000;
/// Address the test instructions are decoded at.
pub const CODE: u64 = 0x1000;

/// A machine with `DATA_LEN` bytes of zeroed read-write memory at `DATA`.
pub fn machine() -> M {
    let mut mem = Memory::new(1 << 24).expect("reserve guest memory");
    assert!(mem.map(DATA, DATA_LEN, flags::R | flags::W));
    Machine { cpu: X86State::default(), mem, icount: 0, limit: u64::MAX }
}

/// Decode one 64-bit instruction from `bytes` at `CODE`.
pub fn decode(bytes: &[u8]) -> Instruction {
    let mut d = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE);
    let ins = d.decode();
    assert!(!ins.is_invalid(), "invalid instruction bytes {bytes:02x?}");
    ins
}

/// Decode one instruction from `bytes` and run its handler on `m` (rip set past it first).
pub fn exec(m: &mut M, bytes: &[u8]) -> Res {
    let ins = decode(bytes);
    m.cpu.rip = ins.next_ip();
    TABLE.get(ins.mnemonic())(m, &ins)
}
