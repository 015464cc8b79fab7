#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The VM-only scenarios: what only a systemd machine with cgroup v2 shows.
# Run by tests/vm/guest-run inside the guest, after zlayer was installed into
# / (systemd unit, bus activation file, bus policy, polkit actions,
# sysusers/tmpfiles entries) and before anything started zlayerd:
#
#     tests/vm/scenarios.sh          (root, in the VM; ZL_ONLY=REGEX a subset)
#
# zlayerd runs as zlayerd.service, started by bus activation on the real
# system bus; polkit decides with the installed actions. A local registry
# (tests/integration/lib.sh) serves the busybox fixture on 127.0.0.1.
# Output: "ok N - name" / "not ok N - name", diagnostics on "#" lines, then
# "N passed, N failed"; exit 1 when any failed.
set -uo pipefail

ZL_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
. "$ZL_SRCDIR/tests/integration/lib.sh"

SYSBUS=unix:path=/run/dbus/system_bus_socket
MGR=(com.zlayer.Runtime1 /com/zlayer/Runtime1 com.zlayer.Runtime1.Manager)
TAG=v$(printf '%04x' $((RANDOM % 65536)))
CG=/sys/fs/cgroup

fail() { printf '#   FAIL: %s\n' "$*" >&2; return 1; }
note() { printf '#   %s\n' "$*" >&2; }

bcall() {   # bcall METHOD SIGNATURE ARGS…: JSON reply on stdout
        local m=$1; shift
        busctl --system --timeout=120 --json=short call "${MGR[@]}" "$m" "$@"
}
zc() { timeout 130 "$ZLC" "$SYSBUS" call "$@"; }

REPLICA=0
create() {   # create SERVICE SPEC_JSON: sets CID
        local out
        REPLICA=$((REPLICA + 1))
        out=$(bcall CreateContainer sus "$TAG-$1" "$REPLICA" "$2") || { fail "CreateContainer $TAG-$1 failed"; return 1; }
        CID=$(jq -r '.data[0]' <<<"$out")
}
spec() {     # spec SCRIPT [EXTRA_JSON]: busybox sh -c SCRIPT
        jq -cn --arg img "$REG/busybox:latest" --arg s "$1" --argjson extra "${2:-{\}}" \
                '{image: {name: $img}, command: {entrypoint: ["/bin/sh", "-c", $s]}} * $extra'
}
start() { bcall StartContainer s "$1" >/dev/null || fail "StartContainer $1 failed"; }
cpid() { bcall GetContainerPid s "$1" | jq -r '.data[0]'; }
state() { bcall GetContainerState s "$1" | jq -r '.data[0]'; }
logs() { bcall GetContainerLogs st "$1" 0 | jq -r '.data[0][] | .[2]'; }
wait_exit() {   # sets EXIT_CODE EXIT_REASON
        local out
        out=$(bcall WaitContainer ss "$1" "") || { fail "WaitContainer $1 failed"; return 1; }
        EXIT_CODE=$(jq -r '.data[0]' <<<"$out") EXIT_REASON=$(jq -r '.data[1]' <<<"$out")
}
discard() {
        bcall StopContainer st "$1" 1000000 >/dev/null 2>&1
        bcall RemoveContainer sb "$1" true >/dev/null 2>&1
        return 0
}
run_bg() {   # run_bg SERVICE SCRIPT [EXTRA_JSON]: a started container; sets CID PID
        create "$1" "$(spec "$2" "${3:-}")" && start "$CID" || return 1
        PID=$(cpid "$CID")
        [[ $PID =~ ^[0-9]+$ && $PID -gt 0 ]] || { fail "GetContainerPid gave '$PID'"; return 1; }
}
# cgroup2_dir PID: the cgroup v2 directory of PID ("0::/path" in /proc/PID/cgroup)
cgroup2_dir() { sed -n 's|^0::||p' "/proc/$1/cgroup" | sed "s|^|$CG|"; }
unit_cgroup() { systemctl show -P ControlGroup zlayerd.service; }

# ----------------------------------------------------------------- scenarios

t_systemd_cgroup2_host() {
        [[ $(stat -fc %T $CG) == cgroup2fs ]] || { fail "$CG is $(stat -fc %T $CG), not cgroup2fs"; return 1; }
        [[ $(cat /proc/1/comm) == systemd ]] || { fail "PID 1 is $(cat /proc/1/comm)"; return 1; }
        [[ -S /run/dbus/system_bus_socket ]] || { fail "no system bus"; return 1; }
        note "kernel $(uname -r), $(systemctl --version | head -1)"
}

t_bus_activation() {
        local owner
        systemctl is-active -q zlayerd.service && { fail "zlayerd.service already active before the first call"; return 1; }
        bcall ListContainers >/dev/null || { fail "ListContainers on the system bus failed"; return 1; }
        systemctl is-active -q zlayerd.service || { fail "zlayerd.service is $(systemctl is-active zlayerd.service) after the call"; return 1; }
        owner=$(busctl --system status com.zlayer.Runtime1 | sed -n 's/^PID=//p')
        [[ -n $owner ]] || { fail "no owner pid of com.zlayer.Runtime1"; return 1; }
        grep -q "zlayerd.service" "/proc/$owner/cgroup" ||
                { fail "the name owner $owner is not in zlayerd.service: $(cat "/proc/$owner/cgroup")"; return 1; }
        [[ $(ps -o user= -p "$owner") == zlayer ]] || { fail "the broker runs as $(ps -o user= -p "$owner"), not zlayer"; return 1; }
        note "activated; owner pid $owner ($(cat "/proc/$owner/comm")) in $(unit_cgroup)"
}

# The unit's hardening must not break what a runtime does: a pull from a
# registry, a container with its own namespaces, overlay rootfs and logs.
t_hardened_unit_pull_run() {
        local out
        out=$(bcall PullImage 'ssa{sv}' "$REG/busybox:latest" always 0) || { fail "PullImage failed"; return 1; }
        note "pulled $(jq -r '.data[0]' <<<"$out")"
        create hello "$(spec 'echo hello from $(hostname); cat /proc/self/cgroup; exit 7')" && start "$CID" && wait_exit "$CID" || return 1
        [[ $EXIT_CODE == 7 && $EXIT_REASON == exited ]] || { fail "exit $EXIT_CODE $EXIT_REASON, wanted 7 exited"; return 1; }
        logs "$CID" | zl_grep -q '^hello from ' || { fail "logs: $(logs "$CID" | tr '\n' '|')"; return 1; }
        note "logs: $(logs "$CID" | tr '\n' '|')"
        discard "$CID"
}

t_cgroup2_limits() {
        local dir
        run_bg limits 'sleep 1000' '{"resources": {"memory": "48Mi", "pids_limit": 23, "cpu": 0.5}}' || return 1
        dir=$(cgroup2_dir "$PID")
        [[ -d $dir ]] || { fail "no cgroup v2 dir for pid $PID"; return 1; }
        note "cgroup $dir"
        [[ $(cat "$dir/memory.max") == $((48 * 1024 * 1024)) ]] || { fail "memory.max $(cat "$dir/memory.max")"; return 1; }
        [[ $(cat "$dir/pids.max") == 23 ]] || { fail "pids.max $(cat "$dir/pids.max")"; return 1; }
        [[ $(cut -d' ' -f1 "$dir/cpu.max") == 50000 ]] || { fail "cpu.max $(cat "$dir/cpu.max")"; return 1; }
        grep -qx "$PID" "$dir/cgroup.procs" || { fail "$PID not in $dir/cgroup.procs"; return 1; }
        # not in the daemon's cgroup: a restart or stop of the unit leaves it alone
        [[ $dir != "$CG$(unit_cgroup)"* ]] || { fail "the container is in the unit's cgroup $(unit_cgroup)"; return 1; }
        discard "$CID"
}

t_cgroup2_freeze() {
        local dir n1 n2
        run_bg freeze 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done' || return 1
        dir=$(cgroup2_dir "$PID")
        bcall PauseContainer s "$CID" >/dev/null || { fail "PauseContainer failed"; return 1; }
        [[ $(cat "$dir/cgroup.freeze") == 1 ]] || { fail "cgroup.freeze $(cat "$dir/cgroup.freeze")"; return 1; }
        grep -qx 'frozen 1' "$dir/cgroup.events" || { fail "cgroup.events: $(tr '\n' ' ' < "$dir/cgroup.events")"; return 1; }
        n1=$(logs "$CID" | wc -l); sleep 1; n2=$(logs "$CID" | wc -l)
        [[ $n1 == "$n2" ]] || { fail "it kept logging while frozen ($n1 → $n2)"; return 1; }
        bcall UnpauseContainer s "$CID" >/dev/null || { fail "UnpauseContainer failed"; return 1; }
        [[ $(cat "$dir/cgroup.freeze") == 0 ]] || { fail "cgroup.freeze after unpause $(cat "$dir/cgroup.freeze")"; return 1; }
        sleep 1; n1=$(logs "$CID" | wc -l)
        [[ $n1 -gt $n2 ]] || { fail "no output after unpause"; return 1; }
        discard "$CID"
}

t_cgroup2_oom_event() {
        # busybox dd allocates its 256 MiB block and fills it: far over 32 MiB
        create oom "$(spec 'echo start; dd if=/dev/zero of=/dev/null bs=256M count=4; echo after dd' \
                '{"resources": {"memory": "32Mi"}}')" && start "$CID" && wait_exit "$CID" || return 1
        note "exit $EXIT_CODE $EXIT_REASON; logs: $(logs "$CID" | tr '\n' '|')"
        [[ $EXIT_REASON == oom_killed ]] || { fail "reason $EXIT_REASON, wanted oom_killed"; return 1; }
        # the kernel killed dd (the shell goes on): dd never finished
        logs "$CID" | zl_grep -q 'records out' && { fail "the hog finished its copy"; return 1; }
        discard "$CID"
}

t_cgroup2_stats() {
        local dir out used cur pids
        run_bg stats 'x=$(head -c 20000000 /dev/zero | tr "\000" a); echo ready ${#x}; sleep 1000 & wait' \
                '{"resources": {"memory": "128Mi", "pids_limit": 31}}' || return 1
        # "wait" keeps the shell (and x) alive: a last plain command would be
        # exec'd in its place. Slow under TCG: up to 3 minutes to fill 20 MB.
        for _ in $(seq 180); do logs "$CID" | zl_grep -q 'ready 20000000' && break; sleep 1; done
        logs "$CID" | zl_grep -q 'ready 20000000' || { fail "the container never filled its 20 MB: $(logs "$CID" | tr '\n' '|')"; return 1; }
        dir=$(cgroup2_dir "$PID")
        out=$(bcall GetContainerStats s "$CID") || { fail "GetContainerStats failed"; return 1; }
        note "sample: $(jq -c '.data[0] | map_values(.data)' <<<"$out")"
        used=$(jq -r '.data[0].mem_used_bytes.data' <<<"$out")
        cur=$(cat "$dir/memory.current")
        ((used >= 18000000 && used <= cur + 4 * 1024 * 1024)) || {
                fail "mem_used_bytes $used, memory.current $cur; pid $PID $(grep VmRSS "/proc/$PID/status"), in $(cat "/proc/$PID/cgroup"); memory.stat $(grep -E '^(anon|file) ' "$dir/memory.stat" | tr '\n' ' ')"
                return 1
        }
        [[ $(jq -r '.data[0].mem_limit_bytes.data' <<<"$out") == $((128 * 1024 * 1024)) ]] || { fail "mem_limit_bytes"; return 1; }
        [[ $(jq -r '.data[0].pids_limit.data' <<<"$out") == 31 ]] || { fail "pids_limit"; return 1; }
        pids=$(jq -r '.data[0].pids_current.data' <<<"$out")
        [[ $pids == "$(cat "$dir/pids.current")" && $pids -ge 2 ]] || { fail "pids_current $pids, pids.current $(cat "$dir/pids.current")"; return 1; }
        (($(jq -r '.data[0].cpu_total_ns.data' <<<"$out") > 0)) || { fail "cpu_total_ns is 0"; return 1; }
        discard "$CID"
}

# Delegate=yes: systemd hands the unit's subtree to zlayerd and leaves the
# cgroups zlayer manages alone, even across daemon-reload and restarts.
t_delegate_respected() {
        local dir
        [[ $(systemctl show -P Delegate zlayerd.service) == yes ]] || { fail "Delegate=$(systemctl show -P Delegate zlayerd.service)"; return 1; }
        [[ $(systemctl show -P KillMode zlayerd.service) == process ]] || { fail "KillMode=$(systemctl show -P KillMode zlayerd.service)"; return 1; }
        run_bg delegate 'sleep 1000' '{"resources": {"memory": "40Mi", "pids_limit": 19}}' || return 1
        dir=$(cgroup2_dir "$PID")
        systemctl daemon-reload || { fail "daemon-reload failed"; return 1; }
        [[ $(cgroup2_dir "$PID") == "$dir" ]] || { fail "systemd moved $PID to $(cgroup2_dir "$PID")"; return 1; }
        [[ $(cat "$dir/memory.max") == $((40 * 1024 * 1024)) && $(cat "$dir/pids.max") == 19 ]] ||
                { fail "limits changed after daemon-reload: $(cat "$dir/memory.max") $(cat "$dir/pids.max")"; return 1; }
        grep -qw memory "$(dirname "$dir")/cgroup.subtree_control" ||
                { fail "memory controller no longer enabled above $dir"; return 1; }
        discard "$CID"
}

t_restart_readopts() {
        local old_main new_main
        run_bg survivor 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done' || return 1
        old_main=$(systemctl show -P MainPID zlayerd.service)
        systemctl restart zlayerd.service || { fail "systemctl restart zlayerd failed"; return 1; }
        new_main=$(systemctl show -P MainPID zlayerd.service)
        [[ $new_main != "$old_main" && $new_main -gt 0 ]] || { fail "MainPID $old_main → $new_main"; return 1; }
        kill -0 "$PID" 2>/dev/null || { fail "container pid $PID died with the restart"; return 1; }
        [[ $(state "$CID") == running ]] || { fail "state after restart: $(state "$CID")"; return 1; }
        [[ $(cpid "$CID") == "$PID" ]] || { fail "GetContainerPid after restart: $(cpid "$CID"), was $PID"; return 1; }
        bcall StopContainer st "$CID" 2000000 >/dev/null || { fail "StopContainer after restart failed"; return 1; }
        wait_exit "$CID" || return 1
        [[ $EXIT_REASON == signal || $EXIT_REASON == exited ]] || { fail "exit reason $EXIT_REASON"; return 1; }
        kill -0 "$PID" 2>/dev/null && { fail "pid $PID still alive after stop"; return 1; }
        note "zlayerd $old_main → $new_main; container re-adopted and stopped ($EXIT_REASON)"
        discard "$CID"
}

t_polkit_system_policy() {
        local as=(setpriv --reuid=zltester --regid=zltester --init-groups) out
        "${as[@]}" busctl --system call "${MGR[@]}" ListContainers >/dev/null ||
                { fail "ListContainers as zltester refused"; return 1; }
        out=$("${as[@]}" "$ZLC" "$SYSBUS" call PullImage 'ssa{sv}' "$REG/busybox:latest" always 0 2>&1)
        [[ $out == "ERROR org.freedesktop.DBus.Error.AccessDenied: "* || $out == "ERROR com.zlayer.Runtime1.Error.PermissionDenied: "* ]] ||
                { fail "PullImage as zltester: $out"; return 1; }
        note "PullImage as zltester → ${out#ERROR }"
        out=$("${as[@]}" "$ZLC" "$SYSBUS" call CreateContainer sus "$TAG-nonroot" 1 "$(spec true)" 2>&1)
        [[ $out == ERROR* ]] || { fail "CreateContainer as zltester: $out"; return 1; }
}

SCENARIOS=(
        systemd-cgroup2-host t_systemd_cgroup2_host
        bus-activation t_bus_activation
        hardened-unit-pull-run t_hardened_unit_pull_run
        cgroup2-limits t_cgroup2_limits
        cgroup2-freeze t_cgroup2_freeze
        cgroup2-oom-event t_cgroup2_oom_event
        cgroup2-stats t_cgroup2_stats
        delegate-respected t_delegate_respected
        restart-readopts t_restart_readopts
        polkit-system-policy t_polkit_system_policy
)

# ----------------------------------------------------------------- setup

[[ $(id -u) == 0 ]] || zl_die "run as root in the VM"
zl_env_init
ZLC=$ZL_TMP/zl-client
cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 \
        -o "$ZLC" "$ZL_SRCDIR/tests/integration/zl-client.c" $(pkg-config --cflags --libs libsystemd) ||
        zl_die "cannot build zl-client"
chmod 0755 "$ZL_TMP" "$ZLC"
REG=127.0.0.1:$(zl_free_port)
zl_start_registry plain "${REG#*:}"
zl_push_fixtures "$REG" --only busybox || zl_die "pushing the busybox fixture failed"

PASSED=0 FAILED=0 N=0
for ((s = 0; s < ${#SCENARIOS[@]}; s += 2)); do
        name=${SCENARIOS[s]} fn=${SCENARIOS[s + 1]}
        [[ -n ${ZL_ONLY:-} && ! $name =~ $ZL_ONLY ]] && continue
        N=$((N + 1))
        if "$fn"; then
                echo "ok $N - $name"; PASSED=$((PASSED + 1))
        else
                echo "not ok $N - $name"; FAILED=$((FAILED + 1))
        fi
done
echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
