//! The time-travel debugger on AArch64 guests against the real `gdb-multiarch` in batch mode
//! (design §8). The scenarios mirror gdb.rs (x86-64) on the same guest, `gdb_guests/rev.c`,
//! cross-compiled with `aarch64-linux-gnu-gcc -static -O0 -g`; `gdb_guests/regs_a64.c` adds
//! the FP/SIMD, FPSR/FPCR and TPIDR registers. The harness is common/gdb.rs. Without the cross
//! compiler or gdb-multiarch the tests print a note and pass, unless `DEJA_REQUIRE_TOOLS` is
//! set.
//!
//! What differs from x86 is visible here: gdb treats AArch64 watchpoints as non-steppable
//! (reported before the access, gdb steps over it), and deja reports them that way; what the
//! user sees must be the same as on x86.

mod common;
#[path = "common/gdb.rs"]
mod harness;

use common::deja_bin;
use harness::{check, gdb, nums, run, tagged, Isa, Recording, Server};
use std::process::Command;

/// A recording of `rev.c` with `args`, made once per test run.
fn recording(args: &'static [&'static str]) -> Option<Recording> {
    harness::recording(Isa::Aarch64, "rev", args)
}

/// `=> ` lines of `x/i $pc` whose instruction is `mnemonic`.
fn insns(out: &str, mnemonic: &str) -> usize {
    out.lines().filter(|l| l.starts_with("=> ") && l.contains(&format!(":\t{mnemonic}\t"))).count()
}

#[test]
fn stepi_then_reverse_stepi_retraces_the_same_pcs() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
break add
continue
printf "START %#lx %#lx %#lx\n", $pc, $sp, $x0
echo IC:
monitor icount
set $i = 0
while $i < 40
  stepi
  printf "FWD %#lx %#lx %#lx\n", $pc, $sp, $x0
  set $i = $i + 1
end
echo IC:
monitor icount
set $i = 0
while $i < 40
  reverse-stepi
  printf "REV %#lx %#lx %#lx\n", $pc, $sp, $x0
  set $i = $i + 1
end
echo IC:
monitor icount
"#,
    );
    let fwd = tagged(&out, "FWD ");
    let rev = tagged(&out, "REV ");
    let ic = nums(&out, "IC:");
    check(fwd.len() == 40 && rev.len() == 40 && ic.len() == 3, "all steps ran", &out, &server);
    check(ic[1] == ic[0] + 40 && ic[2] == ic[0], "icounts: 40 forward, 40 back", &out, &server);
    // Going back visits the forward states (pc, sp, x0) in reverse, ending at the start.
    let mut expect: Vec<String> = fwd[..39].iter().rev().cloned().collect();
    expect.extend(tagged(&out, "START "));
    check(rev == expect, "reverse-stepi retraces the forward states", &out, &server);
    // The steps return from add into work and call it again: more than straight-line code.
    let pcs: Vec<u64> = fwd.iter().map(|l| u64::from_str_radix(&l[2..l.find(' ').unwrap()], 16).unwrap()).collect();
    let jumps = pcs.windows(2).filter(|w| w[1] != w[0] + 4).count();
    check(jumps >= 3, "the steps cross a return, a branch and a call", &out, &server);
    check(!server.stderr().contains("diverged"), "no divergence", &out, &server);
}

#[test]
fn reverse_continue_from_the_end_stops_at_the_last_breakpoint_hit() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
break add
set $n = 0
while $n < 10
  continue
  printf "HIT %d %d\n", a, b
  echo IC:
  monitor icount
  set $n = $n + 1
end
disable 1
continue
enable 1
reverse-continue
printf "BACK %d %d\n", a, b
echo IC:
monitor icount
reverse-continue
printf "BACK %d %d\n", a, b
echo IC:
monitor icount
"#,
    );
    let hits = tagged(&out, "HIT ");
    let back = tagged(&out, "BACK ");
    let ic = nums(&out, "IC:");
    check(hits.len() == 10 && back.len() == 2 && ic.len() == 12, "all stops happened", &out, &server);
    check(out.contains("No more reverse-execution history"), "forward reaches the end of the log", &out, &server);
    // add is called 10 times: work(6) then work(4); the last call is add(3, 3).
    check(hits[9] == "3 3" && back[0] == "3 3" && back[1] == "1 2", "the last hits, backwards", &out, &server);
    check(ic[10] == ic[9] && ic[11] == ic[8], "same icounts as the forward hits", &out, &server);
}

#[test]
fn watchpoint_found_backwards_at_the_instruction_that_last_wrote() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
break main
continue
delete
watch g
set $n = 0
while $n < 10
  continue
  printf "NEW %d\n", g
  echo IC:
  monitor icount
  set $n = $n + 1
end
delete
continue
watch g
set $n = 0
while $n < 4
  reverse-continue
  printf "OLD %d\n", g
  x/i $pc
  printf "AT %d\n", $x0 == &g
  echo IC:
  monitor icount
  set $n = $n + 1
end
"#,
    );
    let new: Vec<String> = tagged(&out, "NEW ");
    let old: Vec<String> = tagged(&out, "OLD ");
    let ic = nums(&out, "IC:");
    // g's changes (writing 0 over 0 is not one): the value history, as on x86.
    check(new == ["1", "3", "6", "10", "15", "0", "1", "3", "6", "7"], "forward value history", &out, &server);
    check(old == ["6", "3", "1", "0"], "backwards: the value before each last write", &out, &server);
    check(ic.len() == 14, "all stops happened", &out, &server);
    // Forward stops after the writing instruction, backward before it (gdb steps over the
    // access itself: deja reports it before the store going forward, after it going back).
    for k in 0..4 {
        check(ic[10 + k] + 1 == ic[9 - k], "reverse stop is one instruction before the forward one", &out, &server);
    }
    // Each reverse stop is at the store to g (`str w1, [x0]` with x0 = &g).
    check(insns(&out, "str") == 4 && tagged(&out, "AT ") == ["1"; 4], "stopped at the stores to g", &out, &server);
    check(!server.stderr().contains("diverged"), "no divergence", &out, &server);
}

/// stepi and reverse-stepi over the store with a watchpoint set: one instruction each way,
/// and the watchpoint reported on the store both ways.
#[test]
fn stepping_over_a_watched_store() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
break add
continue
continue
watch g
set $i = 0
while $i < 12
  stepi
  printf "FWD %#lx %d\n", $pc, g
  echo IC:
  monitor icount
  set $i = $i + 1
end
set $i = 0
while $i < 12
  reverse-stepi
  printf "REV %#lx %d\n", $pc, g
  echo IC:
  monitor icount
  set $i = $i + 1
end
"#,
    );
    let fwd = tagged(&out, "FWD ");
    let rev = tagged(&out, "REV ");
    let ic = nums(&out, "IC:");
    check(fwd.len() == 12 && rev.len() == 12 && ic.len() == 24, "all steps ran", &out, &server);
    check(ic.windows(2).take(11).all(|w| w[1] == w[0] + 1), "each stepi is one instruction", &out, &server);
    check(ic.windows(2).skip(12).all(|w| w[1] + 1 == w[0]), "each reverse-stepi is one instruction", &out, &server);
    // add(0, 1): g goes 0 -> 1 on one step, and back on the matching reverse step.
    let g = |l: &String| l.rsplit(' ').next().unwrap().to_string();
    let fg: Vec<String> = fwd.iter().map(g).collect();
    let changes = fg.windows(2).filter(|w| w[0] != w[1]).count();
    check(fg[0] == "0" && fg[11] == "1" && changes == 1, "g changes once going forward", &out, &server);
    let mut expect: Vec<String> = fwd[..11].iter().rev().cloned().collect();
    expect.push(rev[11].clone());
    check(rev == expect, "reverse-stepi retraces the forward steps", &out, &server);
    check(
        out.matches("Hardware watchpoint 2: g\n\nOld value = 0\nNew value = 1").count() == 1
            && out.matches("Hardware watchpoint 2: g\n\nOld value = 1\nNew value = 0").count() == 1,
        "the watchpoint reported once each way",
        &out,
        &server,
    );
}

#[test]
fn read_and_access_watchpoints() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
rwatch g
continue
echo IC:
monitor icount
printf "READ %d\n", g
reverse-continue
echo IC:
monitor icount
x/i $pc
delete
awatch g
reverse-continue
echo IC:
monitor icount
x/i $pc
"#,
    );
    let ic = nums(&out, "IC:");
    check(out.contains("Hardware read watchpoint") && out.contains("Value = 7"), "read watchpoint stop", &out, &server);
    check(tagged(&out, "READ ") == ["7"], "read g = 7 (main's printf)", &out, &server);
    check(ic.len() == 3 && ic[1] + 1 == ic[0], "backwards: just before the reading instruction", &out, &server);
    check(insns(&out, "ldr") == 1, "stopped on the load of g", &out, &server);
    // The last access before that read is main's `g = 7`.
    check(out.contains("Hardware access (read/write) watchpoint") && ic[2] < ic[1], "access watchpoint", &out, &server);
    check(insns(&out, "str") == 1 && out.contains("g = 7;"), "the access is the store of g = 7", &out, &server);
}

#[test]
fn reverse_finish_and_reverse_next() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
break add
continue
continue
continue
echo IC:
monitor icount
reverse-finish
echo IC:
monitor icount
bt 1
delete
break rev.c:31
continue
reverse-next
echo IC:
monitor icount
"#,
    );
    let ic = nums(&out, "IC:");
    check(
        out.lines().any(|l| l.starts_with("#0") && l.contains("work (n=6)")),
        "reverse-finish: back in work",
        &out,
        &server,
    );
    check(ic.len() == 3 && ic[1] < ic[0], "reverse-finish went back", &out, &server);
    check(out.contains("int r = work(6);"), "reverse-next stepped back over the call", &out, &server);
}

/// `monitor seek` to the icount a forward `stepi` run reached shows the same registers (all of
/// them: x, sp, pc, cpsr, v, fpsr, fpcr, tpidr) and stack, after seeking far away in both
/// directions; and the state digest at every seek equals a plain forward replay's.
#[test]
fn monitor_seek_matches_a_forward_run() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let targets = [25000u64, 1, 12345, 1001, 1000, 999, 20000];
    let mut script = String::from(
        "break work\ncontinue\ndelete\nset $i = 0\nwhile $i < 25\n  stepi\n  set $i = $i + 1\nend\n\
         python k = gdb.execute('monitor icount', to_string=True).strip()\n\
         echo BEGIN\\n\ninfo all-registers\nx/16gx $sp\necho END\\n\n",
    );
    for t in targets {
        script.push_str(&format!("monitor seek {t}\nmonitor digest\n"));
    }
    script.push_str("python gdb.execute('monitor seek ' + k)\nmaintenance flush register-cache\n");
    script.push_str("echo BEGIN\\n\ninfo all-registers\nx/16gx $sp\necho END\\n\n");
    let out = gdb(&server, &script);
    let blocks: Vec<&str> = out.split("BEGIN\n").skip(1).filter_map(|b| b.split("END\n").next()).collect();
    check(blocks.len() == 2, "two register dumps", &out, &server);
    for reg in ["x0 ", "sp ", "pc ", "cpsr ", "v31 ", "fpsr ", "fpcr ", "tpidr "] {
        check(
            blocks[0].lines().any(|l| l.starts_with(reg)),
            &format!("`info all-registers` shows {reg}"),
            &out,
            &server,
        );
    }
    check(blocks[0] == blocks[1], "registers and stack after the seeks = after the stepi", &out, &server);
    // Each digest equals a plain forward replay's at the same icount.
    let digests: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("icount "))
        .filter_map(|l| l.split_once(" digest "))
        .map(|(_, d)| d.trim().to_string())
        .collect();
    check(digests.len() == targets.len(), "a digest per seek", &out, &server);
    for (t, d) in targets.iter().zip(&digests) {
        let mut cmd = Command::new(deja_bin());
        cmd.arg("replay").arg(&log).args(["-q", "--to-icount", &t.to_string()]);
        let (code, _, err) = run(cmd);
        assert_eq!(code, Some(0), "deja replay --to-icount {t}: {err}");
        assert!(err.contains(&format!("digest {d}")), "icount {t}: seek digest {d}, forward replay says: {err}");
    }
}

#[test]
fn end_and_start_of_the_log() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
printf "START %#lx\n", $pc
continue
echo IC:
monitor icount
stepi
continue
reverse-continue
printf "BACK %#lx\n", $pc
echo IC:
monitor icount
reverse-stepi
monitor events 2
continue
echo IC:
monitor icount
"#,
    );
    let ic = nums(&out, "IC:");
    check(
        out.matches("No more reverse-execution history").count() >= 5,
        "ends reported as history ends",
        &out,
        &server,
    );
    check(ic.len() == 3 && ic[0] > 20000 && ic[1] == 0 && ic[2] == ic[0], "end, start, end", &out, &server);
    check(nums(&out, "START ") == nums(&out, "BACK "), "back at the entry point", &out, &server);
    check(server.stderr().contains("replay reached the recorded end"), "end verified against the log", &out, &server);
    check(!server.stderr().contains("diverged"), "the second trip agrees with the log too", &out, &server);
    check(out.contains("checkpoint") && out.contains("> #"), "monitor events lists the log", &out, &server);
}

#[test]
fn writes_are_refused() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
break work
continue
python
for c in ["set var g = 5", "set $x0 = 12345", "set $v0.d.u[0] = 1", "set $fpsr = 1", "set $tpidr = 0", "set $pc = 0"]:
    try:
        gdb.execute(c)
    except gdb.error as e:
        print("REFUSED", e)
end
printf "G %d\n", g
printf "X0 %ld\n", $x0
continue
"#,
    );
    check(out.contains("Cannot access memory at address"), "memory write refused", &out, &server);
    for reg in ["x0", "v0", "fpsr", "tpidr", "pc"] {
        let refused = format!("Could not write register \"{reg}\"");
        check(out.contains(&refused), &format!("register write refused: {reg}"), &out, &server);
    }
    check(tagged(&out, "G ") == ["0"] && tagged(&out, "X0 ") == ["6"], "nothing changed", &out, &server);
    check(out.contains("Breakpoint 1, work (n=4)"), "the replay goes on unchanged", &out, &server);
}

#[test]
fn ctrl_c_interrupts_a_continue() {
    let Some(log) = recording(&["20000000"]) else { return };
    let server = Server::start(&log, 2_000_000);
    let out = gdb(
        &server,
        r#"
python
import threading, os, signal
threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
end
continue
echo IC:
monitor icount
reverse-stepi
echo IC:
monitor icount
"#,
    );
    let ic = nums(&out, "IC:");
    check(out.contains("Program received signal SIGINT"), "interrupted", &out, &server);
    check(
        ic.len() == 2 && ic[1] + 1 == ic[0] && ic[0] > 0,
        "stopped mid-run, and steps back from there",
        &out,
        &server,
    );
}

#[test]
fn guest_crash_is_a_signal_stop_then_reversible() {
    let Some(log) = recording(&["crash"]) else { return };
    let server = Server::start(&log, 1000);
    let out = gdb(
        &server,
        r#"
continue
echo IC:
monitor icount
continue
reverse-stepi
echo IC:
monitor icount
printf "G %d\n", g
"#,
    );
    let ic = nums(&out, "IC:");
    check(out.contains("Program received signal SIGSEGV"), "the crash is reported", &out, &server);
    check(out.contains("No more reverse-execution history"), "nothing after it", &out, &server);
    check(ic.len() == 2 && ic[1] + 1 == ic[0], "reverse-stepi from the crash", &out, &server);
    check(tagged(&out, "G ") == ["7"], "state before the crash", &out, &server);
}

/// The FP/SIMD, FPSR, FPCR and TPIDR registers as gdb shows them, against what the program
/// itself printed (regs_a64.c: values read back with mrs) and against its own variables (the
/// arguments of `show`, read by gdb from their stack slots, are also in v0 and d1).
#[test]
fn fp_simd_and_thread_registers() {
    let Some(rec) = harness::recording(Isa::Aarch64, "regs_a64", &[]) else { return };
    // The guest's line: qbits=… fpsr=… fpcr=… tpidr=… r=…
    let printed: std::collections::BTreeMap<&str, &str> =
        rec.stdout.split_whitespace().filter_map(|kv| kv.split_once('=')).collect();
    let server = Server::start(&rec, 1000);
    let out = gdb(
        &server,
        r#"
break main
continue
printf "FPSR0 %#x\n", $fpsr
printf "FPCR0 %#x\n", $fpcr
break show
continue
printf "V0 %#x %#x %#x %#x\n", $v0.s.u[0], $v0.s.u[1], $v0.s.u[2], $v0.s.u[3]
printf "V0F %d\n", $v0.s.f[3] == v[3] && $v0.s.f[0] == 1.5 && $v0.s.f[1] == -2.25
printf "QBITS %#lx\n", $v1.d.u[0]
printf "D1 %d\n", $d1.f == q && $v1.d.f[0] == q
printf "FPSR %#x\n", $fpsr
printf "FPCR %#x\n", $fpcr
printf "TPIDR %#lx\n", $tpidr
info registers fpsr fpcr
"#,
    );
    check(tagged(&out, "FPSR0 ") == ["0"] && tagged(&out, "FPCR0 ") == ["0"], "FPSR, FPCR at main", &out, &server);
    // {1.5, -2.25, 3.0, 1e10} as single-precision bits.
    check(
        tagged(&out, "V0 ") == ["0x3fc00000 0xc0100000 0x40400000 0x501502f9"] && tagged(&out, "V0F ") == ["1"],
        "v0 holds show's vector argument",
        &out,
        &server,
    );
    // 1/10 rounded toward zero (FPCR.RMode = 3): ...99, not ...9a.
    check(tagged(&out, "QBITS ") == ["0x3fb9999999999999"], "d1 = 1/10 rounded toward zero", &out, &server);
    check(tagged(&out, "QBITS ") == [printed["qbits"]] && tagged(&out, "D1 ") == ["1"], "d1 = q", &out, &server);
    check(tagged(&out, "FPSR ") == ["0x10"] && printed["fpsr"] == "0x10", "FPSR.IXC after 1/10", &out, &server);
    check(tagged(&out, "FPCR ") == ["0xc00000"] && printed["fpcr"] == "0xc00000", "FPCR.RMode", &out, &server);
    check(tagged(&out, "TPIDR ") == [printed["tpidr"]], "tpidr = the program's thread pointer", &out, &server);
    check(out.contains("[ IXC ]") && out.contains("[ RMode=3 ]"), "gdb decodes the flags", &out, &server);
}

/// A watchpoint on bytes a syscall writes (read() from a pipe into a global): no load or
/// store names them, so deja sees the change after the `svc` and reports it before it (going
/// back one instruction), and gdb, stepping over it, shows the new value after the `svc`.
#[test]
fn watchpoint_on_a_buffer_a_syscall_writes() {
    let Some(rec) = harness::recording(Isa::Aarch64, "regs_a64", &[]) else { return };
    let server = Server::start(&rec, 1000);
    let out = gdb(
        &server,
        r#"
break main
continue
watch buf[3]
continue
x/i $pc-4
echo IC:
monitor icount
printf "B %d\n", buf[3]
continue
reverse-continue
x/i $pc
echo IC:
monitor icount
printf "B %d\n", buf[3]
"#,
    );
    let ic = nums(&out, "IC:");
    check(rec.stdout.contains("buf=written!"), "the guest read its pipe", &out, &server);
    check(out.contains("Old value = 0 '\\000'\nNew value = 116 't'"), "forward: the read() wrote buf", &out, &server);
    check(out.contains("Old value = 116 't'\nNew value = 0 '\\000'"), "backward: before the read()", &out, &server);
    // Forward the stop is just after the svc; backward, on it.
    let svc = out.lines().filter(|l| l.contains(":\tsvc\t")).collect::<Vec<_>>();
    check(svc.len() == 2 && !svc[0].starts_with("=> ") && svc[1].starts_with("=> "), "around the svc", &out, &server);
    check(ic.len() == 2 && ic[1] + 1 == ic[0], "one instruction apart", &out, &server);
    check(tagged(&out, "B ") == ["116", "0"], "buf[3] after and before", &out, &server);
}
