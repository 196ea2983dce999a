#!/usr/bin/env bash
# Fetch Debian's busybox-static for arm64 (the AArch64 real-program oracle, run under
# qemu-aarch64 and deja) into a cache directory, without installing it:
#   apt-get download busybox-static:arm64 && dpkg-deb -x busybox-static_*_arm64.deb DIR
# The binary ends up at $DEJA_CACHE/busybox-static-arm64/bin/busybox (DEJA_CACHE defaults to
# ${XDG_CACHE_HOME:-$HOME/.cache}/deja); the path is printed on success.
#
# Idempotent: does nothing when the binary is already there. apt only knows arm64 packages
# once the architecture is added (`dpkg --add-architecture arm64`) and the package lists are
# updated; both need root (or password-less sudo) and are done only when needed. Exits
# non-zero with a message if the package cannot be fetched.
set -euo pipefail
export HOME="${HOME:-$(cd ~ && pwd)}"

cache="${DEJA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deja}"
dest="$cache/busybox-static-arm64"
bin="$dest/bin/busybox"

if [ -x "$bin" ]; then
    echo "$bin"
    exit 0
fi

for tool in apt-get dpkg dpkg-deb; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fetch-busybox-arm64: $tool not found (not Debian?)" >&2
        exit 1
    fi
done

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        echo "fetch-busybox-arm64: need root to run: $*" >&2
        return 1
    fi
}

# Does apt know the arm64 package (architecture added and lists fetched)?
known() {
    apt-cache show busybox-static:arm64 >/dev/null 2>&1
}

if ! known; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        echo "fetch-busybox-arm64: adding the arm64 architecture to dpkg" >&2
        as_root dpkg --add-architecture arm64
    fi
    echo "fetch-busybox-arm64: updating the package lists" >&2
    as_root apt-get update -q >&2
fi
if ! known; then
    echo "fetch-busybox-arm64: apt does not know busybox-static:arm64 (no arm64 in the sources?)" >&2
    exit 1
fi

mkdir -p "$cache"
work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# apt-get download writes into the current directory and needs no root. Without root it
# drops privileges to the _apt user, which must be able to write there.
chmod 0777 "$work"
(cd "$work" && apt-get download -q busybox-static:arm64 >&2)
deb="$(ls "$work"/busybox-static_*_arm64.deb 2>/dev/null | head -n1)"
if [ -z "$deb" ]; then
    echo "fetch-busybox-arm64: apt-get download produced no .deb" >&2
    exit 1
fi
dpkg-deb -x "$deb" "$work/root"
if [ ! -x "$work/root/bin/busybox" ]; then
    echo "fetch-busybox-arm64: $deb has no bin/busybox" >&2
    exit 1
fi
# Keep the package name and version next to the binary, then publish atomically.
mkdir -p "$work/out/bin"
cp "$work/root/bin/busybox" "$work/out/bin/busybox"
basename "$deb" >"$work/out/PACKAGE"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$bin"
