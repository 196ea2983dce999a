//! cargo-fuzz glue: the harness and its oracle are `deja_fuzz::exec_a64` (fuzz/src/).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| deja_fuzz::exec_a64(data));
