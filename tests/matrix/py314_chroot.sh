#!/usr/bin/env bash
# Make sure the CPython 3.14 chroot of ../shared/tools/py314 is ready, or say
# why it cannot be.
#   usage: py314_chroot.sh SHARED
# Environment: PY314_ROOT (default /opt/cpython314-sid), PY314_DEBUG=1 (also
# python3.14d). Exit status: 0 ready; 3 this machine cannot have it (not
# root, no unshare/chroot, no debootstrap and no apt-get to install it; the
# reason is the last line on stderr); 1 setup failed twice.
#
# setup.sh runs in a private mount namespace, so whatever debootstrap mounts
# inside the chroot never shows on the host, even when the run is killed.
# A chroot that setup.sh cannot finish (an interrupted debootstrap or apt-get
# leaves it half-made) is removed and built again from scratch, once; it is
# never used half-made: setup.sh's last step checks the interpreter and pip,
# and only then is the marker .gss-ready written.
set -euo pipefail
shared=$1
root=${PY314_ROOT:-/opt/cpython314-sid}
export PY314_ROOT=$root
setup=$shared/tools/py314/setup.sh
log=$root.gss-setup.log

cannot() { echo "$*" >&2; exit 3; }
[ -x "$setup" ] || [ -f "$setup" ] || cannot "no $setup"
[ "$(id -u)" = 0 ] || cannot "not root (debootstrap and chroot need root)"
command -v unshare >/dev/null && command -v chroot >/dev/null || cannot "no unshare/chroot"
if ! command -v debootstrap >/dev/null && ! command -v apt-get >/dev/null; then
    cannot "no debootstrap and no apt-get to install it"
fi

# Two runs at once (two checkouts' make test) share the chroot: setups run one
# at a time, and a chroot is removed only when no run is using it (matrix.py
# holds a shared lock on $root.gss-use.lock while its legs run).
command -v flock >/dev/null || cannot "no flock"
exec 8>"$root.gss-setup.lock"
flock -w 1200 8 || { echo "py314: another setup of $root did not finish in 20 minutes" >&2; exit 1; }

mounted() { grep -q " $root[/ ]" /proc/mounts; }
if mounted; then
    # Left by something outside this script (setup.sh and in_chroot.sh mount
    # only in private namespaces): unmount it, deepest first.
    awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r |
        while read -r m; do umount -l "$m" || true; done
fi

setup_once() {
    rm -f "$root/.gss-ready"
    if unshare --mount --propagation private -- bash "$setup" >"$log" 2>&1; then
        # The interpreters this project needs answer inside.
        local want=(python3.14)
        [ "${PY314_DEBUG:-0}" = 1 ] && want+=(python3.14d)
        for p in "${want[@]}"; do
            bash "$shared/tools/py314/in_chroot.sh" "$p" -c 'import venv, ensurepip, test.support' \
                >>"$log" 2>&1 || return 1
        done
        touch "$root/.gss-ready"
        return 0
    fi
    return 1
}

if ! setup_once; then
    command -v debootstrap >/dev/null || cannot "no debootstrap (setup.sh could not install it; $log)"
    echo "py314: setup.sh failed (tail of $log below); removing $root and building it again" >&2
    tail -n 5 "$log" >&2 || true
    mounted && { echo "py314: something is still mounted under $root; not removing it" >&2; exit 1; }
    exec 9>"$root.gss-use.lock"
    flock -x -w 1200 9 || { echo "py314: $root stayed in use by another run; not removing it" >&2; exit 1; }
    rm -rf "$root"
    setup_once || { tail -n 20 "$log" >&2; exit 1; }
fi
mounted && { echo "py314: something is mounted under $root on the host after setup" >&2; exit 1; }
exit 0
