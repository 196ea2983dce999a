//! The time-travel debugger against the real gdb (design §8: the oracle is gdb in batch
//! mode), x86-64 guests. Each test records `gdb_guests/rev.c` (built with
//! `gcc -static -O0 -g`), serves the replay with `deja replay --gdb 127.0.0.1:0` (small
//! snapshot interval, so reverse execution crosses many snapshots; frequent checkpoints, so a
//! wrong restore shows up as a divergence), and drives it with a gdb script. The harness
//! (common/gdb.rs) is shared with the AArch64 tests, gdb_a64.rs. Every gdb and deja run is
//! bounded by a timeout and deja is killed when the test ends.

mod common;
#[path = "common/gdb.rs"]
mod harness;

use common::deja_bin;
use harness::{check, gdb, nums, run, tagged, Isa, Recording, Server};
use std::process::Command;

/// A recording of `rev.c` with `args`, made once per test run.
fn recording(args: &'static [&'static str]) -> Option<Recording> {
    harness::recording(Isa::X86_64, "rev", args)
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
printf "START %#lx\n", $pc
echo IC:
monitor icount
set $i = 0
while $i < 40
  stepi
  printf "FWD %#lx\n", $pc
  set $i = $i + 1
end
echo IC:
monitor icount
set $i = 0
while $i < 40
  reverse-stepi
  printf "REV %#lx\n", $pc
  set $i = $i + 1
end
echo IC:
monitor icount
"#,
    );
    let fwd = nums(&out, "FWD ");
    let rev = nums(&out, "REV ");
    let ic = nums(&out, "IC:");
    check(fwd.len() == 40 && rev.len() == 40 && ic.len() == 3, "all steps ran", &out, &server);
    check(ic[1] == ic[0] + 40 && ic[2] == ic[0], "icounts: 40 forward, 40 back", &out, &server);
    // Going back visits the forward pcs in reverse, ending where the forward steps began.
    let mut expect: Vec<u64> = fwd[..39].iter().rev().copied().collect();
    expect.extend(nums(&out, "START "));
    check(rev == expect, "reverse-stepi retraces the forward pcs", &out, &server);
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
  echo IC:
  monitor icount
  set $n = $n + 1
end
"#,
    );
    let new: Vec<String> = tagged(&out, "NEW ");
    let old: Vec<String> = tagged(&out, "OLD ");
    let ic = nums(&out, "IC:");
    // g's changes (writing 0 over 0 is not one): the value history.
    check(new == ["1", "3", "6", "10", "15", "0", "1", "3", "6", "7"], "forward value history", &out, &server);
    check(old == ["6", "3", "1", "0"], "backwards: the value before each last write", &out, &server);
    check(ic.len() == 14, "all stops happened", &out, &server);
    // Forward stops after the writing instruction, backward before it.
    for k in 0..4 {
        check(ic[10 + k] + 1 == ic[9 - k], "reverse stop is one instruction before the forward one", &out, &server);
    }
    let writes = out.lines().filter(|l| l.starts_with("=> ") && l.contains("<g>")).count();
    check(writes == 4, "each reverse stop is at an instruction writing g", &out, &server);
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
"#,
    );
    let ic = nums(&out, "IC:");
    check(out.contains("Hardware read watchpoint") && out.contains("Value = 7"), "read watchpoint stop", &out, &server);
    check(tagged(&out, "READ ") == ["7"], "read g = 7 (main's printf)", &out, &server);
    check(ic.len() == 3 && ic[1] + 1 == ic[0], "backwards: just before the reading instruction", &out, &server);
    check(out.lines().any(|l| l.starts_with("=> ") && l.contains("<g>")), "stopped on the read of g", &out, &server);
    // The last access before that read is main's `g = 7`.
    check(out.contains("Hardware access (read/write) watchpoint") && ic[2] < ic[1], "access watchpoint", &out, &server);
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

#[test]
fn monitor_seek_matches_a_forward_replay() {
    let Some(log) = recording(&[]) else { return };
    let server = Server::start(&log, 1000);
    let targets = [29999u64, 1, 12345, 1001, 1000, 999, 20000];
    let mut script = String::from(
        "break work\ncontinue\ninfo registers rip rsp rax\n\
         python k = gdb.execute('monitor icount', to_string=True).strip()\nmonitor seek 25000\n",
    );
    for t in targets {
        script.push_str(&format!("monitor seek {t}\nmonitor digest\n"));
    }
    // Back to the breakpoint's icount by seeking.
    script.push_str("python gdb.execute('monitor seek ' + k)\nmaintenance flush register-cache\n");
    script.push_str("info registers rip rsp rax\n");
    let out0 = gdb(&server, &script);
    let regs: Vec<&str> =
        out0.lines().filter(|l| l.starts_with("rip") || l.starts_with("rsp") || l.starts_with("rax")).collect();
    check(regs.len() == 6 && regs[..3] == regs[3..], "registers after seeks = at the breakpoint", &out0, &server);
    // Each digest equals a plain forward replay's at the same icount.
    let digests: Vec<String> = out0
        .lines()
        .filter_map(|l| l.strip_prefix("icount "))
        .filter_map(|l| l.split_once(" digest "))
        .map(|(_, d)| d.trim().to_string())
        .collect();
    check(digests.len() == targets.len(), "a digest per seek", &out0, &server);
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
"#,
    );
    let ic = nums(&out, "IC:");
    check(
        out.matches("No more reverse-execution history").count() >= 4,
        "ends reported as history ends",
        &out,
        &server,
    );
    check(ic.len() == 2 && ic[0] > 20000 && ic[1] == 0, "end then start", &out, &server);
    check(nums(&out, "START ") == nums(&out, "BACK "), "back at the entry point", &out, &server);
    check(server.stderr().contains("replay reached the recorded end"), "end verified against the log", &out, &server);
    check(out.contains("checkpoint") && out.contains("> #"), "monitor events lists the log", &out, &server);
    // At icount 0 the marked event is the first not yet replayed: the one listed before it
    // (if any) happened at icount 0 (during loading), none after the mark did.
    let rows: Vec<(bool, u64)> = out
        .lines()
        .filter(|l| l.starts_with("> #") || l.starts_with("  #"))
        .filter_map(|l| {
            Some((l.starts_with('>'), l.split_whitespace().nth(if l.starts_with('>') { 2 } else { 1 })?.parse().ok()?))
        })
        .collect();
    let mark = rows.iter().position(|r| r.0);
    check(
        mark.is_some_and(|k| rows[..k].iter().all(|r| r.1 == 0)),
        "monitor events marks the next event",
        &out,
        &server,
    );
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
for c in ["set var g = 5", "set $rax = 12345"]:
    try:
        gdb.execute(c)
    except gdb.error as e:
        print("REFUSED", e)
end
printf "G %d\n", g
printf "RAX %ld\n", $rax
continue
"#,
    );
    check(out.contains("Cannot access memory at address"), "memory write refused", &out, &server);
    check(out.contains("Could not write register"), "register write refused", &out, &server);
    check(tagged(&out, "G ") == ["0"] && tagged(&out, "RAX ") != ["12345"], "nothing changed", &out, &server);
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
