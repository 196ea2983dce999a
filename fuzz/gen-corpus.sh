#!/usr/bin/env bash
# Regenerate the committed seed corpus of the fuzz targets (fuzz/corpus/<target>/seed-*; the
# seed-regress-* files are inputs that found bugs and are kept). Needs gcc and the AArch64
# cross tools (aarch64-linux-gnu-gcc, -as, -objcopy); builds deja (release) to record.
#
#   elf_load    the seed guest (fuzz/seeds/guest.c) for x86-64 and AArch64, static and
#               static-PIE
#   log_parse   recordings of the seed guest: plain, alarm (async signal), wait (a host call
#   replay_log  answered by the log), segv (exception, killed), both ISAs; with the executable
#               embedded (replay_log needs it; log_parse gets some without)
#   exec_x86    register header + code: the seed guest's .text and a few hand-picked loops
#   exec_a64    (string instructions, self-modifying stores, syscalls, exclusives)
#
# Recordings hold real clock values and random bytes; regenerating changes the files.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cflags=(-static -nostdlib -O1 -fno-stack-protector -fno-asynchronous-unwind-tables -s
    -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,norelro -Wl,-z,noseparate-code)
gcc "${cflags[@]}" -fno-pie -no-pie -o "$tmp/x86" seeds/guest.c
gcc "${cflags[@]}" -fpie -static-pie -o "$tmp/x86-pie" seeds/guest.c
aarch64-linux-gnu-gcc "${cflags[@]}" -fno-pie -no-pie -o "$tmp/a64" seeds/guest.c
aarch64-linux-gnu-gcc "${cflags[@]}" -fpie -static-pie -o "$tmp/a64-pie" seeds/guest.c

(cd "$root" && cargo build --release --bin deja -q)
deja="${CARGO_TARGET_DIR:-$root/target}/release/deja"

# Keep the regression seeds (inputs that found bugs, see tests/hostile_fuzz.rs).
find corpus -name 'seed-*' ! -name 'seed-regress-*' -delete 2>/dev/null || true
mkdir -p corpus/{elf_load,log_parse,replay_log,exec_x86,exec_a64}
for b in x86 x86-pie a64 a64-pie; do cp "$tmp/$b" "corpus/elf_load/seed-$b"; done

for isa in x86 a64; do
    for mode in plain alarm wait segv; do
        log="$tmp/$isa-$mode.log"
        echo "some input" | "$deja" record -o "$log" --checkpoint-every 500 -- "$tmp/$isa" "$mode" >/dev/null 2>&1 || true
        verdict=$("$deja" replay --quiet "$log" 2>&1 >/dev/null || true)
        [[ $verdict == *"replay ok: "* ]] || { echo "gen-corpus: $isa $mode does not replay: $verdict" >&2; exit 1; }
        cp "$log" "corpus/replay_log/seed-$isa-$mode"
        cp "$log" "corpus/log_parse/seed-$isa-$mode"
    done
    echo "x" | "$deja" record -o "$tmp/$isa-noexe.log" --no-embed-exe -- "$tmp/$isa" >/dev/null 2>&1 || true
    cp "$tmp/$isa-noexe.log" "corpus/log_parse/seed-$isa-noexe"
done

# exec_*: header (registers; every register a pointer into the region) + code.
u64le() { # print $1 (< 2^63) as 8 little-endian bytes
    local v=$1 i
    for i in 0 1 2 3 4 5 6 7; do printf "\\x$(printf %02x $(((v >> (8 * i)) & 255)))"; done
}
header() { # $1 = number of GPRs, $2 = mask bytes (printf escapes), $3 = bytes after the mask
    local i
    for ((i = 0; i < $1; i++)); do u64le $((0x1000 + i * 0x2a8)); done
    printf "$2"
    head -c "$3" /dev/zero | tr '\0' '\125'
}
x86_header() { header 16 '\xff\xff' 33; }
a64_header() { header 31 '' 0; u64le 0x3000; printf '\xff\xff\xff\xff\x60\x00'; head -c 32 /dev/zero | tr '\0' '\252'; }
text() { objcopy -O binary -j .text "$1" "$2"; }

text "$tmp/x86" "$tmp/x86.text"
{ x86_header; cat "$tmp/x86.text"; } >corpus/exec_x86/seed-guest-text
# rep movsb/stosq/cmpsb with counts from registers, a loop, a store into the code page, a
# syscall, rdtsc, cpuid, int3.
{ x86_header; printf '\xf3\xa4\xf3\x48\xab\xf3\xa6\x48\xff\xc9\x75\xfb\xc6\x05\x00\x00\x00\x00\x90\x0f\x05\x0f\x31\x0f\xa2\xcc'; } \
    >corpus/exec_x86/seed-strings
# SSE and x87 arithmetic on the xmm/memory operands.
{ x86_header; printf '\x66\x0f\xfe\xc1\xf2\x0f\x59\xc1\x0f\x28\xd0\xf3\x0f\x5e\xd1\xdd\x03\xd8\xc0\xdd\x1b\x66\x0f\x3a\x0f\xc1\x05\x48\xf7\xf1'; } \
    >corpus/exec_x86/seed-simd

"${AARCH64_OBJCOPY:-aarch64-linux-gnu-objcopy}" -O binary -j .text "$tmp/a64" "$tmp/a64.text"
{ a64_header; cat "$tmp/a64.text"; } >corpus/exec_a64/seed-guest-text
# ldxr/stxr loop, a store to the code page, svc, mrs cntvct_el0, fp ops, brk.
printf '.text\n1: ldxr x1, [x0]\n add x1, x1, #1\n stxr w2, x1, [x0]\n cbnz w2, 1b\n adr x3, .\n str wzr, [x3, #64]\n svc #0\n mrs x4, cntvct_el0\n fmul d0, d0, d1\n fadd v2.4s, v0.4s, v1.4s\n fcvtzs x5, d0\n ldp x6, x7, [sp, #-16]!\n brk #1\n' >"$tmp/s.s"
aarch64-linux-gnu-as -o "$tmp/s.o" "$tmp/s.s"
"${AARCH64_OBJCOPY:-aarch64-linux-gnu-objcopy}" -O binary -j .text "$tmp/s.o" "$tmp/s.bin"
{ a64_header; cat "$tmp/s.bin"; } >corpus/exec_a64/seed-mixed

du -b corpus/*/seed-* | sort -n | tail -3
echo "gen-corpus: $(ls corpus/*/seed-* | wc -l) seeds"
