//! `elf_load`: the ELF loader of both ISAs, and a short run of whatever it loaded.

use crate::Sealed;
use deja::arch::Arch;
use deja::engine::EngineKind;
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
/// header), then run it briefly in a world sealed from the host, on every engine. Oracle: no
/// panic; the loader's error is one line without control characters; the run ends in an exit, a guest signal or the
/// limit, the same way on every engine.
pub fn elf_load(data: &[u8]) {
    load::<X86_64>(data);
    load::<Aarch64>(data);
}

fn load<A: Arch>(data: &[u8]) {
    // Every engine runs the image; they must end alike (result, icount, state digest).
    let mut first: Option<(String, u64, u64)> = None;
    for &engine in EngineKind::ALL {
        let opts = Options { max_icount: Some(RUN_BUDGET), max_memory: Some(MAX_MEMORY), engine, ..Options::default() };
        let argv = [b"fuzz".to_vec(), b"arg".to_vec()];
        let envp = [b"HOME=/".to_vec()];
        let mut p =
            match deja::linux::start_image::<A>("fuzz", data, Path::new("/fuzz"), &argv, &envp, Box::new(Sealed), opts)
            {
                Ok(p) => p,
                Err(e) => {
                    let msg = e.to_string();
                    // One line, and nothing of the file that could drive the user's terminal.
                    assert!(
                        !msg.is_empty() && !msg.chars().any(char::is_control),
                        "loader error is not one plain line: {msg:?}"
                    );
                    return;
                }
            };
        // Any outcome is fine (an exit, a signal, the icount limit, a deadlock in a wait):
        // only a panic is not, or engines that disagree.
        let r = p.run();
        let end = (format!("{r:?}"), p.m.icount, p.digest());
        match &first {
            None => first = Some(end),
            Some(want) => assert_eq!(&end, want, "{engine:?} ends differently from {:?}", EngineKind::ALL[0]),
        }
    }
}
