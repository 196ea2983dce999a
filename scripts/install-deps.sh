#!/usr/bin/env bash
# Install what building and testing deja needs on Debian bookworm (amd64):
#   - the Debian packages below (C toolchains for the guest programs, busybox-static, and the
#     AArch64 / debugger oracles: qemu-user, gdb, gdb-multiarch, the aarch64 cross compiler);
#   - Debian's busybox-static for arm64, downloaded (not installed) into a cache directory by
#     scripts/fetch-busybox-arm64.sh (adds the arm64 architecture to dpkg if needed);
#   - a Rust toolchain with rustfmt and clippy via rustup, if cargo is not on PATH
#     (Debian's own cargo is too old for our dependencies).
# Skips apt entirely when every package is already installed. Needs root (or password-less
# sudo) only when something is missing. Exits non-zero if something could not be installed.
set -euo pipefail
export HOME="${HOME:-$(cd ~ && pwd)}"

APT_PACKAGES=(
    ca-certificates curl
    gcc libc6-dev musl-tools busybox-static
    qemu-user gdb gdb-multiarch gcc-aarch64-linux-gnu libc6-dev-arm64-cross
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${APT_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
else
    echo "install-deps: no dpkg-query (not Debian?): not installing ${APT_PACKAGES[*]}" >&2
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        echo "install-deps: need root to run: $*" >&2
        return 1
    fi
}

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The arm64 busybox the AArch64 busybox tests run (idempotent; prints where it is).
"$(dirname "$0")/fetch-busybox-arm64.sh" >/dev/null

# Rust: keep an existing toolchain; otherwise install one with rustup.
if [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    toolchain="${DEJA_RUST_TOOLCHAIN:-stable}"
    echo "install-deps: installing Rust ($toolchain) with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y --profile minimal --default-toolchain "$toolchain" -c rustfmt -c clippy
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
elif command -v rustup >/dev/null 2>&1; then
    for c in rustfmt clippy; do
        rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
    done
fi
