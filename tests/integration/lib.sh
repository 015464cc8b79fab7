# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Helpers shared by tests/integration/run, scripts/demo and
# tests/fixtures/start-registries: temporary registries, a private system
# bus, zlayerd, and cleanup of everything they started.
#
# Source it, then call zl_env_init once; zl_cleanup runs from the EXIT trap.

ZL_SRCDIR=${ZL_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZL_PIDS=()          # processes we started, killed (TERM, then KILL) on exit
ZL_MOUNTS_UNDER=()  # directories under which every mount is unmounted on exit

zl_log() { printf '# %s\n' "$*" >&2; }

# PRODUCER | zl_grep -q PATTERN: grep over the whole input. A plain
# `| grep -q` exits at the first match, and under `set -o pipefail` the
# producer's SIGPIPE on its next write fails the pipeline (a flaky test).
zl_grep() { local all; all=$(cat); grep "$@" <<<"$all"; }
zl_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port nobody listens on right now.
zl_free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

zl_env_init() {
        ZL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/zlayer-it.XXXXXXXX")
        chmod 0755 "$ZL_TMP"   # the broker runs as --user and must reach --root
        ZL_MOUNTS_UNDER+=("$ZL_TMP")
        trap zl_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
}

zl_track() { ZL_PIDS+=("$1"); }

# zl_children PID: pids whose parent is PID (no procps needed)
zl_children() {
        local f rest ppid
        for f in /proc/[0-9]*/stat; do
                read -r rest < "$f" 2>/dev/null || continue
                rest=${rest##*) }       # skip "pid (comm) ", comm may hold spaces
                read -r _ ppid _ <<<"$rest"
                [[ $ppid == "$1" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
        done
        return 0
}

zl_cleanup() {
        local rc=$? p m i
        set +e
        [[ -n ${ZL_CLEANUP_HOOK:-} ]] && "$ZL_CLEANUP_HOOK"
        # newest first: zlayerd before the bus before the registries
        for ((i = ${#ZL_PIDS[@]} - 1; i >= 0; i--)); do
                p=${ZL_PIDS[i]}
                kill -TERM "$p" 2>/dev/null
        done
        for p in "${ZL_PIDS[@]}"; do
                for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        # mounts (container rootfs, tmpfs, binds) below our temp dirs, deepest first
        for m in "${ZL_MOUNTS_UNDER[@]}"; do
                awk -v d="$m/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
                        while read -r p; do umount -l "$p" 2>/dev/null; done
        done
        if [[ -n ${ZL_TMP:-} && -d $ZL_TMP && -z ${ZL_KEEP_TMP:-} ]]; then
                rm -rf --one-file-system "$ZL_TMP"
        elif [[ -n ${ZL_TMP:-} ]]; then
                zl_log "kept $ZL_TMP"
        fi
        return $rc
}

# zl_wait_http URL SECONDS: until URL answers with any HTTP status
zl_wait_http() {
        local url=$1 secs=${2:-30} i
        for ((i = 0; i < secs * 10; i++)); do
                python3 - "$url" <<'PY' && return 0
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError:
    pass            # any HTTP status means the server answers
except Exception:
    sys.exit(1)
PY
                sleep 0.1
        done
        return 1
}

# zl_start_registry NAME PORT [USER PASS]: docker-registry on 127.0.0.1:PORT,
# storage in $ZL_TMP/registry-NAME; with USER/PASS it requires basic auth.
zl_start_registry() {
        local name=$1 port=$2 user=${3:-} pass=${4:-} dir=$ZL_TMP/registry-$1 auth=""
        mkdir -p "$dir/storage"
        if [[ -n $user ]]; then
                command -v htpasswd >/dev/null || zl_die "htpasswd missing (apt-get install apache2-utils)"
                htpasswd -Bbn "$user" "$pass" > "$dir/htpasswd"
                auth="auth:
  htpasswd:
    realm: zlayer-test
    path: $dir/htpasswd"
        fi
        cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$auth
EOF
        docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
        zl_track $!
        zl_wait_http "http://127.0.0.1:$port/v2/" 30 ||
                { cat "$dir/log" >&2; zl_die "registry $name on port $port did not come up"; }
        zl_log "registry $name on 127.0.0.1:$port (pid $!)"
}

# zl_push_fixtures HOST:PORT [--user U:P] [--only a,b]: build and push the
# fixture images, append "name digest" lines to $ZL_TMP/digests
zl_push_fixtures() {
        local reg=$1; shift
        python3 "$ZL_SRCDIR/tests/fixtures/build-images.py" --registry "$reg" \
                --digests "$ZL_TMP/digests" "$@" >&2
}

# zl_fixture_digest NAME: manifest digest of a fixture pushed above
zl_fixture_digest() { awk -v n="$1" '$1 == n { print $2; exit }' "$ZL_TMP/digests"; }

# zl_start_bus POLICY_FILE: a private system bus in $ZL_TMP/bus using
# tests/integration/bus.conf with POLICY_FILE included; sets ZL_BUS.
zl_start_bus() {
        local policy=$1 dir=$ZL_TMP/bus
        [[ -r $policy ]] || zl_die "bus policy $policy not found"
        mkdir -p "$dir"
        chmod 0755 "$dir"
        sed -e "s|@BUS_SOCKET@|$dir/system_bus_socket|" -e "s|@POLICY@|$policy|" \
                \
                "$ZL_SRCDIR/tests/integration/bus.conf" > "$dir/bus.conf"
        dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile \
                --print-address=1 > "$dir/address" 2> "$dir/log" &
        zl_track $!
        local i
        for ((i = 0; i < 100; i++)); do
                [[ -s $dir/address ]] && break
                sleep 0.1
        done
        [[ -s $dir/address ]] || { cat "$dir/log" >&2; zl_die "dbus-daemon did not start"; }
        ZL_BUS=unix:path=$dir/system_bus_socket
        export ZL_BUS
        zl_log "private bus at $ZL_BUS"
}

# zl_start_polkitd: a real polkitd on $ZL_BUS (start the bus first). It runs
# in its own mount namespace where $ZL_TMP/polkit/{actions,rules.d,vendor-rules.d}
# are bind-mounted over /usr/share/polkit-1/actions, /etc/polkit-1/rules.d and
# /usr/share/polkit-1/rules.d: it knows only our actions (with ZL_USER as the
# action owner that may ask about other users) and the rules scenarios drop
# into $ZL_POLKIT_RULES; nothing on the host changes. Sets ZL_POLKITD_PID.
zl_start_polkitd() {
        local dir=$ZL_TMP/polkit d i
        [[ -x /usr/lib/polkit-1/polkitd ]] || zl_die "polkitd missing (apt-get install polkitd)"
        for d in "$dir" "$dir/actions" "$dir/rules.d" "$dir/vendor-rules.d"; do
                mkdir -p "$d" && chmod 0755 "$d"
        done
        sed "s|unix-user:zlayer<|unix-user:${ZL_USER:-zlayer}<|" "$ZL_SRCDIR/policy/com.zlayer.runtime1.policy" \
                > "$dir/actions/com.zlayer.runtime1.policy"
        ZL_POLKIT_RULES=$dir/rules.d
        # unshare execs sh, sh execs polkitd: one pid throughout
        DBUS_SYSTEM_BUS_ADDRESS=$ZL_BUS unshare --mount --propagation private sh -c '
                mount --bind "$1/actions" /usr/share/polkit-1/actions &&
                mount --bind "$1/rules.d" /etc/polkit-1/rules.d &&
                mount --bind "$1/vendor-rules.d" /usr/share/polkit-1/rules.d &&
                exec /usr/lib/polkit-1/polkitd --no-debug' sh "$dir" >> "$dir/log" 2>&1 &
        ZL_POLKITD_PID=$!
        zl_track "$ZL_POLKITD_PID"
        for ((i = 0; i < 100; i++)); do
                busctl --address="$ZL_BUS" status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break
                sleep 0.1
        done
        busctl --address="$ZL_BUS" status org.freedesktop.PolicyKit1 >/dev/null 2>&1 ||
                { cat "$dir/log" >&2; zl_die "polkitd did not take org.freedesktop.PolicyKit1"; }
        zl_log "polkitd on the private bus (pid $ZL_POLKITD_PID)"
}

# zl_libexec BUILD: $ZL_TMP/libexec with the workers built in BUILD. Hard
# links (copies across file systems), not symlinks: zlayer-exec finds
# zlayer-shim next to /proc/self/exe, which resolves symlinks.
zl_libexec() {
        local build=$1 dir=$ZL_TMP/libexec f n
        mkdir -p "$dir"
        chmod 0755 "$dir"
        # ZL_EXTRA_LIBEXEC: a debugging aid, a dir of extra/replacement binaries
        for f in "$build"/broker/zlayer-broker "$build"/workers/*/zlayer-* ${ZL_EXTRA_LIBEXEC:+"$ZL_EXTRA_LIBEXEC"/*}; do
                [[ -x $f && -f $f ]] || continue
                n=$(basename "$f")
                ln -f "$(readlink -f "$f")" "$dir/$n" 2>/dev/null ||
                        cp -f "$(readlink -f "$f")" "$dir/$n"
        done
        echo "$dir"
}

# zl_wait_name BUS SECONDS: until com.zlayer.Runtime1 is owned on BUS
zl_wait_name() {
        local bus=$1 secs=${2:-30} i
        for ((i = 0; i < secs * 10; i++)); do
                busctl --address="$bus" status com.zlayer.Runtime1 >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        return 1
}

# zl_start_zlayerd BUILD BUS ROOT RUN [extra args]: sets ZLAYERD_PID
zl_start_zlayerd() {
        local build=$1 bus=$2 root=$3 run=$4; shift 4
        local libexec
        libexec=$(zl_libexec "$build")
        mkdir -p "$root" "$run"
        "$build/zlayerd/zlayerd" --bus="$bus" --root="$root" --run-dir="$run" \
                --user="${ZL_USER:-zlayer}" --libexec-dir="$libexec" "$@" \
                >> "$ZL_TMP/zlayerd.log" 2>&1 &
        ZLAYERD_PID=$!
        zl_track "$ZLAYERD_PID"
        zl_wait_name "$bus" 30
}
