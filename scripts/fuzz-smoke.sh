#!/usr/bin/env bash
# Bounded fuzz smoke run over every fuzz target (docs/security.md, "Fuzzing"); .ci/run calls
# it after the tests. Runs from anywhere; on a fresh Debian machine it installs what it needs.
#
# Default engine: the stable driver (fuzz/src/bin/fuzz-driver.rs): every seed of
# fuzz/corpus/<target>/, then seeded random mutations, DEJA_FUZZ_SECS seconds (default 60)
# shared by the targets. Needs only cargo; the seed is fixed (DEJA_FUZZ_SEED), so a run
# repeats the previous one's inputs (more of them on a faster machine): a failure is a bug in
# deja, not bad luck.
#
# DEJA_FUZZ_ENGINE=libfuzzer: coverage-guided cargo-fuzz (libFuzzer + AddressSanitizer)
# instead, same time budget. Installs cargo-fuzz and a C++ compiler if missing; on a stable
# toolchain it sets RUSTC_BOOTSTRAP=1 (cargo-fuzz passes nightly-only -Z flags).
#
# A crash, a hang or a fatal signal ends the run with status 1 and prints the reproducer's
# path (fuzz/artifacts/<target>/…) and the command that runs it again.
set -euo pipefail
export HOME="${HOME:-$(cd ~ && pwd)}"
cd "$(dirname "$0")/.."

if [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    ./scripts/install-deps.sh
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

secs="${DEJA_FUZZ_SECS:-60}"
seed="${DEJA_FUZZ_SEED:-14555648}"
engine="${DEJA_FUZZ_ENGINE:-driver}"
targets=(elf_load log_parse replay_log exec_x86 exec_a64)
echo "== fuzz smoke run ($engine, ${secs}s over ${#targets[@]} targets, seed $seed)"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        echo "fuzz-smoke: need root to run: $*" >&2
        return 1
    fi
}

case "$engine" in
driver)
    # The emulator's notes about unimplemented syscalls of mutated guests are noise here. Not
    # --locked: fuzz/Cargo.lock follows the root crate's dependencies as they change.
    cargo run --quiet --release --manifest-path fuzz/Cargo.toml --no-default-features \
        --bin fuzz-driver -- all --secs "$secs" --seed "$seed" --timeout 120 2> >(grep -v '^deja: ' >&2)
    ;;
libfuzzer)
    if ! command -v c++ >/dev/null 2>&1; then
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends g++
    fi
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
    if ! rustc --version | grep -q nightly; then
        export RUSTC_BOOTSTRAP=1
    fi
    cargo fuzz build -O
    per=$((secs / ${#targets[@]}))
    per=$((per > 0 ? per : 1))
    for t in "${targets[@]}"; do
        # New inputs go to a scratch corpus (listed first); the committed seeds stay as they are.
        scratch=$(mktemp -d)
        if ! cargo fuzz run -O "$t" "$scratch" "fuzz/corpus/$t" -- \
            -max_total_time="$per" -timeout=60 -rss_limit_mb=4096 -seed="$seed" \
            -print_final_stats=1 2> >(grep -v '^deja: ' >&2); then
            rm -rf "$scratch"
            echo "fuzz-smoke: $t failed; the reproducer is in fuzz/artifacts/$t/ (see above)" >&2
            exit 1
        fi
        rm -rf "$scratch"
    done
    ;;
*)
    echo "fuzz-smoke: DEJA_FUZZ_ENGINE must be driver or libfuzzer, not $engine" >&2
    exit 2
    ;;
esac
