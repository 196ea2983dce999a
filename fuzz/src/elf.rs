//! `elf_load`: the ELF loader of both ISAs, and a short run of whatever it loaded.

use crate::Sealed;
use deja::arch::Arch;
use deja::linux::arch_aarch64::Aarch64;
use deja::linux::arch_x86_64::X86_64;
use deja::linux::process::Options;
use std::path::Path;

/// Instructions a loaded image may run (enough to reach the first syscalls of a small
/// program, few enough for thousands of runs a second).
const RUN_BUDGET: u64 = 20_000;
/// Guest memory a loaded image may map.
const MAX_MEMORY: u64 = 256 << 20;

/// Load `data` as an executable of each ISA (the loader refuses the other one by its
/// header), then run it briefly in a world sealed from the host. Oracle: no panic; the
/// loader's error is one line; the run ends in an exit, a guest signal or the limit.
pub fn elf_load(data: &[u8]) {
    load::<X86_64>(data);
    load::<Aarch64>(data);
}

fn load<A: Arch>(data: &[u8]) {
    let opts = Options { max_icount: Some(RUN_BUDGET), max_memory: Some(MAX_MEMORY), ..Options::default() };
    let argv = [b"fuzz".to_vec(), b"arg".to_vec()];
    let envp = [b"HOME=/".to_vec()];
    match deja::linux::start_image::<A>("fuzz", data, Path::new("/fuzz"), &argv, &envp, Box::new(Sealed), opts) {
        Ok(mut p) => {
            // Any outcome is fine (an exit, a signal, the icount limit, a deadlock in a
            // wait): only a panic is not.
            let _ = p.run();
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains('\n'), "loader error is not one line: {msg:?}");
        }
    }
}
