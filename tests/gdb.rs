//! The time-travel debugger against the real gdb (design §8: the oracle is gdb in batch
//! mode). Each test records `gdb_guests/rev.c` (built with `gcc -static -O0 -g`), serves the
//! replay with `deja replay --gdb 127.0.0.1:0` (small snapshot interval, so reverse
//! execution crosses many snapshots; frequent checkpoints, so a wrong restore shows up as a
//! divergence), and drives it with a gdb script. Every gdb and deja run is bounded by a
//! timeout and deja is killed when the test ends.

mod common;

use common::{deja_bin, scratch_root, skip_or_fail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(180);

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Run `cmd` to completion or kill it at the timeout; (exit code, stdout, stderr). With
/// `merged`, stdout and stderr are one stream (in the order written), returned as stdout.
fn run_with(mut cmd: Command, merged: bool) -> (Option<i32>, String, String) {
    cmd.stdin(Stdio::null());
    let (mut out, mut err): (Box<dyn std::io::Read + Send>, Box<dyn std::io::Read + Send>) = if merged {
        let (r, w) = std::io::pipe().expect("pipe");
        cmd.stdout(w.try_clone().expect("pipe")).stderr(w);
        (Box::new(r), Box::new(std::io::empty()))
    } else {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        (Box::new(std::io::empty()), Box::new(std::io::empty()))
    };
    let what = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    // The command keeps its own ends of a merged pipe; ours were moved into it.
    drop(cmd);
    if !merged {
        out = Box::new(child.stdout.take().unwrap());
        err = Box::new(child.stderr.take().unwrap());
    }
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let (o, e) = (o.join().unwrap(), e.join().unwrap());
            panic!("timed out after {TIMEOUT:?}: {what}\nstdout:\n{o}\nstderr:\n{e}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (status.code(), o.join().unwrap(), e.join().unwrap())
}

fn run(cmd: Command) -> (Option<i32>, String, String) {
    run_with(cmd, false)
}

/// The guest built once per test run, or None when gcc or gdb is missing.
fn guest() -> Option<&'static Path> {
    static EXE: OnceLock<Option<PathBuf>> = OnceLock::new();
    EXE.get_or_init(|| {
        if !have("gcc") || !have("gdb") {
            return None;
        }
        let dir = scratch_root().join("gdb");
        std::fs::create_dir_all(&dir).unwrap();
        let exe = dir.join("rev");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gdb_guests/rev.c");
        let mut cmd = Command::new("gcc");
        cmd.args(["-static", "-O0", "-g", "-o"]).arg(&exe).arg(&src);
        let (code, _, err) = run(cmd);
        assert_eq!(code, Some(0), "gcc failed:\n{err}");
        Some(exe)
    })
    .as_deref()
}

/// A recording of the guest with `args`, made once per test run.
fn recording(args: &'static [&'static str]) -> Option<PathBuf> {
    type Logs = std::sync::Mutex<Vec<(&'static [&'static str], PathBuf)>>;
    static LOGS: OnceLock<Logs> = OnceLock::new();
    let Some(exe) = guest() else {
        skip_or_fail("gcc or gdb is missing");
        return None;
    };
    let logs = LOGS.get_or_init(Default::default);
    let mut logs = logs.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = logs.iter().find(|(a, _)| *a == args) {
        return Some(p.clone());
    }
    let log = exe.with_file_name(format!("rev-{}.deja", args.join("-")));
    let mut cmd = Command::new(deja_bin());
    cmd.args(["record", "--checkpoint-every", "500", "-o"]).arg(&log).arg("--").arg(exe).args(args);
    let (_, _, err) = run(cmd);
    assert!(log.exists(), "recording failed:\n{err}");
    logs.push((args, log.clone()));
    Some(log)
}

/// `deja replay LOG --gdb 127.0.0.1:0`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Server {
    fn start(log: &Path, every: u64) -> Server {
        let mut child = Command::new(deja_bin())
            .arg("replay")
            .arg(log)
            .args(["--gdb", "127.0.0.1:0", "--snapshot-every", &every.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn deja");
        let (tx, rx) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // From here on, Drop kills deja whatever happens.
        let mut server = Server { child, addr: String::new(), stderr: rx };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = server.stderr.recv_timeout(left).unwrap_or_else(|_| panic!("deja did not say where it listens"));
            if let Some(i) = line.find("target remote ") {
                server.addr = line[i + "target remote ".len()..].trim_end_matches('\'').to_string();
                assert!(line.contains("gdb "), "connect hint names gdb: {line}");
                return server;
            }
        }
    }

    /// What deja printed on stderr so far.
    fn stderr(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run gdb in batch mode on `script` against the server; returns its stdout and stderr.
fn gdb(server: &Server, script: &str) -> String {
    let exe = guest().unwrap();
    let file = exe.with_file_name(format!("script-{}-{}.gdb", std::process::id(), next_id()));
    std::fs::write(&file, script).unwrap();
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx", "-ex", "set pagination off", "-ex", "set confirm off"])
        .arg("-ex")
        .arg(format!("target remote {}", server.addr))
        .arg("-x")
        .arg(&file)
        .arg(exe);
    let (_, out, _) = run_with(cmd, true);
    let _ = std::fs::remove_file(&file);
    out
}

fn next_id() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Values printed on lines `TAG value` (gdb `printf "TAG %…\n"` or `echo TAG ` + monitor).
fn tagged(out: &str, tag: &str) -> Vec<String> {
    out.lines().filter_map(|l| l.strip_prefix(tag)).map(|v| v.trim().to_string()).collect()
}

fn nums(out: &str, tag: &str) -> Vec<u64> {
    tagged(out, tag)
        .iter()
        .map(|v| match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => v.parse().unwrap_or_else(|_| panic!("not a number after {tag}: {v}")),
        })
        .collect()
}

fn check(cond: bool, what: &str, out: &str, server: &Server) {
    assert!(cond, "{what}\n--- gdb output:\n{out}\n--- deja stderr:\n{}", server.stderr());
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
