#!/usr/bin/env bash
# The test command (README): install the test dependencies if they are missing, then run the
# whole suite optimised (the emulator is too slow unoptimised for the guest-program tests).
#
# Extra arguments go to `cargo test`, e.g. `./scripts/test.sh --test busybox sort`.
# Environment: DEJA_TEST_TIMEOUT=<seconds> per emulated run (default 120);
# DEJA_REQUIRE_TOOLS=0 lets tests skip when gcc/musl-gcc/busybox are missing (default here:
# required, since this script installs them).
set -euo pipefail
export HOME="${HOME:-$(cd ~ && pwd)}"
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
if [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi

export DEJA_REQUIRE_TOOLS="${DEJA_REQUIRE_TOOLS:-1}"
# --no-fail-fast: a failing test binary must not hide the results of the others.
status=0
cargo test --release --no-fail-fast "$@" || status=$?
if [ $# -eq 0 ]; then
    # `deja check` against a deliberately broken JIT: a separate build (cargo feature
    # broken-engine), so only the tests that need it, in its own target directory so the
    # broken binary never replaces target/release/deja.
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/broken-engine" \
        cargo test --release --features broken-engine --test check broken_engine || status=$?
fi
exit "$status"
