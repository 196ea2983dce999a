//! cargo-fuzz glue: the harness and its oracle are `deja_fuzz::log_parse` (fuzz/src/).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| deja_fuzz::log_parse(data));
