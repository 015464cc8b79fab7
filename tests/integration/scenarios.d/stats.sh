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
                logs "$CID" | grep -q "ready 60000000" && break
                sleep 0.2
        done
        logs "$CID" | grep -q "ready 60000000" || { fail "container never filled its 60 MB: $(logs "$CID")"; return 1; }
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

SCENARIOS+=(stats-sample t_stats_sample)
