# shellcheck shell=bash
# Stats: GetContainerStats samples of running containers (issue 5 item 4).

# stat_of OUT KEY: the value of KEY in a GetContainerStats reply
stat_of() { jq -r --arg k "$2" '.data[0][$k].data' <<<"$1"; }

t_stats_sample() {
        local out out2 i v rx tx want_rx want_tx
        # holds 60 MB in the shell's heap, then spins in a subshell next to a sleep
        create stats "$(spec_sh "$REG/busybox:latest" \
                'x=$(head -c 60000000 /dev/zero | tr "\000" a); echo ready ${#x}; while :; do :; done & sleep 1000' \
                '{"resources": {"memory": "200Mi", "pids_limit": 40}}')" || return 1
        start "$CID" || return 1
        for i in $(seq 100); do
                logs "$CID" | zl_grep -q "ready 60000000" && break
                sleep 0.2
        done
        logs "$CID" | zl_grep -q "ready 60000000" || { fail "container never filled its 60 MB: $(logs "$CID")"; return 1; }
        sleep 0.5 # the spinner and the sleep are forked
        out=$(bcall GetContainerStats s "$CID") || { fail "GetContainerStats failed"; return 1; }
        note "sample: $(jq -c '.data[0] | map_values(.data)' <<<"$out")"
        for k in cpu_total_ns cpu_system_ns mem_used_bytes mem_limit_bytes net_rx_bytes net_tx_bytes \
                blkio_read_bytes blkio_write_bytes pids_current pids_limit timestamp; do
                [[ $(jq -r --arg k "$k" '.data[0][$k].type' <<<"$out") == t ]] || { fail "key $k is not a t"; return 1; }
        done
        [[ $(jq -r '.data[0].online_cpus.type' <<<"$out") == u ]] || { fail "online_cpus is not a u"; return 1; }
        [[ $(stat_of "$out" online_cpus) == "$(nproc)" ]] || { fail "online_cpus $(stat_of "$out" online_cpus), nproc $(nproc)"; return 1; }
        v=$(stat_of "$out" mem_used_bytes)
        ((v >= 50 * 1024 * 1024)) || { fail "mem_used_bytes $v < 50 MiB"; return 1; }
        ((v < 200 * 1024 * 1024)) || { fail "mem_used_bytes $v over the limit"; return 1; }
        [[ $(stat_of "$out" mem_limit_bytes) == $((200 * 1024 * 1024)) ]] || { fail "mem_limit_bytes $(stat_of "$out" mem_limit_bytes)"; return 1; }
        v=$(stat_of "$out" pids_current)
        ((v >= 2)) || { fail "pids_current $v < 2"; return 1; }
        [[ $(stat_of "$out" pids_limit) == 40 ]] || { fail "pids_limit $(stat_of "$out" pids_limit)"; return 1; }
        v=$(stat_of "$out" timestamp)
        (( ${v:-0} / 1000000 >= $(date +%s) - 5 && v / 1000000 <= $(date +%s) )) || { fail "timestamp $v is not now"; return 1; }
        # network: the entrypoint's namespace, without lo
        PID=$(cpid "$CID")
        read -r want_rx want_tx < <(awk -F'[: ]+' 'NR > 2 { sub(/^ +/, ""); split($0, a, /[: ]+/); if (a[1] != "lo") { rx += a[2]; tx += a[10] } } END { print rx + 0, tx + 0 }' "/proc/$PID/net/dev")
        rx=$(stat_of "$out" net_rx_bytes) tx=$(stat_of "$out" net_tx_bytes)
        [[ $rx == "$want_rx" && $tx == "$want_tx" ]] || { fail "net rx/tx $rx/$tx, /proc/$PID/net/dev says $want_rx/$want_tx"; return 1; }
        # the spinner: at most one CPU between two samples a second apart, and
        # a good part of one even on a loaded 2-core host
        sleep 1
        out2=$(bcall GetContainerStats s "$CID") || { fail "second GetContainerStats failed"; return 1; }
        local dcpu dsys dt
        dcpu=$(($(stat_of "$out2" cpu_total_ns) - $(stat_of "$out" cpu_total_ns)))
        dsys=$(($(stat_of "$out2" cpu_system_ns) - $(stat_of "$out" cpu_system_ns)))
        dt=$(($(stat_of "$out2" timestamp) - $(stat_of "$out" timestamp)))
        note "Δcpu ${dcpu} ns, Δsystem ${dsys} ns over ${dt} µs"
        ((dcpu > dt * 1000 / 5 && dcpu < dt * 1000 * 5 / 4)) || { fail "the spinner used $dcpu ns of CPU in $dt µs"; return 1; }
        ((dsys >= dcpu)) || { fail "host CPU time grew less ($dsys) than the container's ($dcpu)"; return 1; }
        discard "$CID"
        create stats2 "$(spec_sh "$REG/busybox:latest" 'true')" || return 1
        expect_error InvalidState "not running" GetContainerStats s "$CID" || return 1
        start "$CID" || return 1
        wait_exit "$CID" || return 1
        expect_error InvalidState "not running" GetContainerStats s "$CID" || return 1
        discard "$CID"
        expect_error NotFound "no-such-container" GetContainerStats s no-such-container || return 1
}

# sc ID INTERVAL_USEC LINES [HOLD_SECS]: see stats-client.c (built on first use)
STATS_CLIENT=$ZL_TMP/stats-client
sc() {
        if [[ ! -x $STATS_CLIENT ]]; then
                cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$STATS_CLIENT" \
                        "$ZL_SRCDIR/tests/integration/scenarios.d/stats-client.c" $(pkg-config --cflags --libs libsystemd) ||
                        { echo "ERROR cannot build stats-client"; return 2; }
        fi
        timeout "${SC_TIMEOUT:-60}" "$STATS_CLIENT" "$ZL_BUS" "$@"
}

t_stats_stream() {
        local out t0 t1 broker before during after pid i
        SERVICE=statstream run_sleep '{"resources": {"pids_limit": 30}}' || return 1
        t0=$(date +%s%N)
        out=$(sc "$CID" 100000 5) || { fail "OpenContainerStats failed: $out"; return 1; }
        t1=$(date +%s%N)
        note "5 lines at 100 ms in $(((t1 - t0) / 1000000)) ms; last $(tail -1 <<<"$out")"
        [[ $(wc -l <<<"$out") == 5 ]] || { fail "wanted 5 lines: $out"; return 1; }
        jq -se 'length == 5 and all(.[]; (keys | length) == 12 and .pids_limit == 30 and .pids_current >= 1 and .mem_used_bytes > 0 and .online_cpus >= 1)' <<<"$out" >/dev/null ||
                { fail "bad samples: $out"; return 1; }
        jq -se '[.[].timestamp] | . as $t | [range(1; 5) | $t[.] - $t[. - 1]] | all(. >= 80000 and . < 600000)' <<<"$out" >/dev/null ||
                { fail "samples are not ~100 ms apart: $(jq -sc 'map(.timestamp)' <<<"$out")"; return 1; }
        # interval 0 is a second
        t0=$(date +%s%N)
        out=$(sc "$CID" 0 2) || { fail "OpenContainerStats 0 failed: $out"; return 1; }
        t1=$(date +%s%N)
        (((t1 - t0) / 1000000 >= 900)) || { fail "2 samples at interval 0 came in $(((t1 - t0) / 1000000)) ms"; return 1; }
        # a reader that stops reading holds the broker up in nothing and
        # costs it one line at most; a reader that leaves costs nothing
        broker=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        before=$(ls "/proc/$broker/fd" | wc -l)
        "$STATS_CLIENT" "$ZL_BUS" "$CID" 10000 0 6 > "$ZL_TMP/sc.out" &
        pid=$!
        sleep 3 # 300 lines at 10 ms: more than the pipe holds
        during=$(ls "/proc/$broker/fd" | wc -l)
        t0=$(date +%s%N)
        bcall GetContainerStats s "$CID" >/dev/null || { fail "GetContainerStats beside a stalled stream failed"; return 1; }
        t1=$(date +%s%N)
        (((t1 - t0) / 1000000 < 1000)) || { fail "GetContainerStats took $(((t1 - t0) / 1000000)) ms beside a stalled stream"; return 1; }
        kill "$pid"
        wait "$pid"
        for i in $(seq 20); do
                after=$(ls "/proc/$broker/fd" | wc -l)
                ((after <= before)) && break
                sleep 0.1
        done
        note "broker fds: $before before, $during with a stalled reader, $after after it left"
        ((after <= before)) || note "broker fds now: $(ls -l /proc/$broker/fd | awk "{print \$9, \$11}" | tr "\n" " ")"
        ((during > before)) || { fail "no stream seen in the broker ($during fds, $before before)"; return 1; }
        ((after <= before)) || { fail "the broker kept $((after - before)) fds of a gone reader"; return 1; }
        # one that stalls and then reads gets whole lines
        out=$(sc "$CID" 10000 3 3) || { fail "stalled read failed"; return 1; }
        jq -se 'length == 3 and all(.[]; (keys | length) == 12)' <<<"$out" >/dev/null || { fail "after a stall: $out"; return 1; }
        # the stream ends when the container stops
        "$STATS_CLIENT" "$ZL_BUS" "$CID" 100000 0 > "$ZL_TMP/sc.out" &
        pid=$!
        sleep 0.5
        bcall StopContainer st "$CID" 1000000 >/dev/null || { fail "StopContainer failed"; return 1; }
        for i in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
                kill "$pid"; wait "$pid"
                fail "the stream did not end when the container stopped"
                return 1
        fi
        wait "$pid"
        (($(wc -l < "$ZL_TMP/sc.out") >= 3)) || { fail "only $(wc -l < "$ZL_TMP/sc.out") lines before the stop"; return 1; }
        [[ $(sc "$CID" 0 1) == "ERROR com.zlayer.Runtime1.Error.InvalidState: "*"not running"* ]] ||
                { fail "OpenContainerStats of a stopped container: $(sc "$CID" 0 1)"; return 1; }
        [[ $(sc no-such-container 0 1) == "ERROR com.zlayer.Runtime1.Error.NotFound: "* ]] ||
                { fail "OpenContainerStats of an unknown container: $(sc no-such-container 0 1)"; return 1; }
        discard "$CID"
}

SCENARIOS+=(stats-sample t_stats_sample)
SCENARIOS+=(stats-stream t_stats_stream)

# ---- zlayer-stats, the sampler behind the broker (docs/internals.md "Stats")

# (sec_status, sec_expect: security.sh)
# The worker zlayerd runs: --user, no capabilities at all, no_new_privs, a
# seccomp filter, and a network namespace of its own (it reads the
# containers' counters through /proc, never a socket).
t_stats_worker_process() {
        local pid uid eff prm bnd nnp mode zns sns rc=0
        pid=$(worker_pid zlayer-stats) || { fail "no zlayer-stats child of zlayerd: $(zlayerd_children | xargs -r -I{} cat /proc/{}/comm | tr '\n' ' ')"; return 1; }
        uid=$(sec_status "$pid" Uid) eff=$(sec_status "$pid" CapEff) prm=$(sec_status "$pid" CapPrm)
        bnd=$(sec_status "$pid" CapBnd) nnp=$(sec_status "$pid" NoNewPrivs) mode=$(sec_status "$pid" Seccomp)
        zns=$(readlink "/proc/$ZLAYERD_PID/ns/net") sns=$(readlink "/proc/$pid/ns/net")
        note "zlayer-stats (pid $pid): uid $uid CapEff $eff CapPrm $prm CapBnd $bnd NoNewPrivs $nnp Seccomp $mode net $sns (zlayerd $zns)"
        [[ $uid == "$(id -u "$ZL_USER")" ]] || { fail "zlayer-stats runs as uid $uid"; rc=1; }
        [[ $eff == 0000000000000000 && $prm == 0000000000000000 ]] || { fail "zlayer-stats has capabilities"; rc=1; }
        [[ $nnp == 1 ]] || { fail "zlayer-stats lacks no_new_privs"; rc=1; }
        [[ $mode == 2 ]] || { fail "zlayer-stats has no seccomp filter"; rc=1; }
        [[ -n $sns && $sns != "$zns" ]] || { fail "zlayer-stats shares zlayerd's network namespace"; rc=1; }
        return $rc
}

# Killed, zlayer-stats is restarted by zlayerd and sampling goes on: a
# stream open across the restart keeps its lines coming, GetContainerStats
# answers again. A worker that does not answer (stopped) costs a caller a
# clear Internal error after the call's timeout, never a hang.
t_stats_worker_restart() {
        local old new out i t_kill last pid
        SERVICE=statsrestart run_sleep || return 1
        old=$(worker_pid zlayer-stats) || { fail "no zlayer-stats"; discard "$CID"; return 1; }
        out=$(sc "$CID" 0 1) && jq -e .pids_current <<<"$out" >/dev/null ||
                { fail "OpenContainerStats before the kill: $out"; discard "$CID"; return 1; }

        timeout 60 "$STATS_CLIENT" "$ZL_BUS" "$CID" 100000 15 > "$ZL_TMP/sc-restart.out" 2>&1 &
        pid=$!
        for i in $(seq 100); do
                (($(wc -l < "$ZL_TMP/sc-restart.out") >= 3)) && break
                sleep 0.1
        done
        t_kill=$(date +%s%6N)
        kill -KILL "$old"
        wait "$pid" || { fail "the stream across the restart failed: $(tail -3 "$ZL_TMP/sc-restart.out")"; discard "$CID"; return 1; }
        [[ $(wc -l < "$ZL_TMP/sc-restart.out") == 15 ]] || { fail "stream: $(cat "$ZL_TMP/sc-restart.out")"; discard "$CID"; return 1; }
        last=$(tail -1 "$ZL_TMP/sc-restart.out" | jq -r .timestamp)
        ((last > t_kill)) || { fail "no sample after the kill (last $last, kill at $t_kill)"; discard "$CID"; return 1; }

        for i in $(seq 50); do
                new=$(worker_pid zlayer-stats) && [[ $new != "$old" ]] && break
                sleep 0.1
        done
        [[ -n $new && $new != "$old" ]] || { fail "zlayer-stats was not restarted"; discard "$CID"; return 1; }
        out=$(bcall GetContainerStats s "$CID") || { fail "GetContainerStats after the restart"; discard "$CID"; return 1; }
        [[ $(stat_of "$out" pids_current) -ge 1 ]] || { fail "after the restart: $out"; discard "$CID"; return 1; }
        note "zlayer-stats pid $old killed, pid $new samples: $(jq -c '.data[0] | map_values(.data) | {pids_current, mem_used_bytes}' <<<"$out")"

        # a stopped worker: the call times out with a clear error
        kill -STOP "$new"
        expect_error Internal "zlayer-stats" GetContainerStats s "$CID"
        i=$?
        kill -KILL "$new"
        ((i == 0)) || { discard "$CID"; return 1; }
        for i in $(seq 50); do
                out=$(bcall GetContainerStats s "$CID" 2>/dev/null) && break
                sleep 0.1
        done
        [[ $(stat_of "$out" pids_current) -ge 1 ]] || { fail "no sample after the second restart: $out"; discard "$CID"; return 1; }
        discard "$CID"
}

SCENARIOS+=(stats-worker-process t_stats_worker_process)
SCENARIOS+=(stats-worker-restart t_stats_worker_restart)

# zlayer-stats' sandbox from inside (the ZL_SANDBOX_SELFTEST hook of a test
# build, driven by security.sh's sec_expect): it reads cgroupfs and /proc,
# and can write nowhere, not even where its own user may (containers/),
# read nothing else, reach no network, and anything outside its allowlist
# kills it.
t_sandbox_stats() {
        local rc=0 port=${REG##*:} cg
        cg=/sys/fs/cgroup/pids/cgroup.procs
        [[ -e $cg ]] || cg=/sys/fs/cgroup/cgroup.procs # cgroup v2
        sec_expect zlayer-stats "read:$cg" ok || rc=1
        sec_expect zlayer-stats "read:/proc/1/stat" ok || rc=1
        if (($(sec_landlock_abi) > 0)); then
                sec_expect zlayer-stats "write:$ROOT/containers/zl-selftest" EACCES || rc=1
                sec_expect zlayer-stats "write:/tmp/zl-stats-selftest" EACCES || rc=1
                sec_expect zlayer-stats "read:/etc/hostname" EACCES || rc=1
                sec_expect zlayer-stats "read:$ROOT/containers" EACCES || rc=1
        else
                grep -q "has no Landlock" "$ZL_TMP/selftest.err" ||
                        { fail "no Landlock here and no warning: $(cat "$ZL_TMP/selftest.err")"; rc=1; }
        fi
        sec_expect zlayer-stats "connect:127.0.0.1:$port" ENETUNREACH || rc=1
        sec_expect zlayer-stats exit ok || rc=1
        sec_expect zlayer-stats setuid0 SIGSYS || rc=1
        sec_expect zlayer-stats mount SIGSYS || rc=1
        sec_expect zlayer-stats ptrace SIGSYS || rc=1
        sec_expect zlayer-stats clone-newuser SIGSYS || rc=1
        return $rc
}

if declare -F sec_expect >/dev/null && sec_has_test_hooks; then
        SCENARIOS+=(sandbox-stats t_sandbox_stats)
else
        note "stats.sh: $BUILD has no test hooks (-Dtest_hooks=true) or security.sh's sec_expect: sandbox-stats not run"
fi
