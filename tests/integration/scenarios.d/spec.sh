# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# The whole ServiceSpec (issue 4 item 5): named and anonymous volumes,
# SyncContainerVolumes, sysctls, extra_groups, pid/ipc modes, and the
# values zlayer refuses by name.

spec_inspect() { bcall InspectContainer s "$1" | jq -r '.data[0]'; }

t_spec_named_volume() {
        local vol=$TAG-data seed=$TAG-etc first second
        SERVICE=vol-a run_sh "$REG/busybox:latest" \
                'echo from-a > /data/file && echo wrote; grep -q ^root: /etc/passwd && echo seeded' \
                "$(jq -cn --arg v "$vol" --arg s "$seed" '{storage: [
                        {type: "named", name: $v, target: "/data"},
                        {type: "named", name: $s, target: "/etc", readonly: true}]}')" || return 1
        first=$CID
        has_line "$LOGS" "stdout wrote" && has_line "$LOGS" "stdout seeded" || return 1
        # Docker's Mounts entry for a volume
        spec_inspect "$first" | jq -e --arg v "$vol" --arg src "$ROOT/volumes/$vol/_data" \
                '.Mounts[] | select(.Type == "volume" and .Name == $v and .Source == $src and .Destination == "/data" and .RW == true)' \
                >/dev/null || { fail "InspectContainer Mounts: $(spec_inspect "$first" | jq -c .Mounts)"; return 1; }
        # root's, kept after the container is removed, seeded from the image's /etc
        [[ $(stat -c %U "$ROOT/volumes/$vol/_data") == root ]] || { fail "volume not root's"; return 1; }
        remove "$first" || { fail "RemoveContainer $first failed"; return 1; }
        [[ $(cat "$ROOT/volumes/$vol/_data/file" 2>/dev/null) == from-a ]] ||
                { fail "named volume gone after remove"; return 1; }
        [[ -f $ROOT/volumes/$seed/_data/passwd ]] || { fail "volume not seeded from the image's /etc"; return 1; }
        ls "$ROOT/volumes" | zl_grep -q '^\.tmp' && { fail "temporary volume dirs left: $(ls -a "$ROOT/volumes")"; return 1; }
        # a second container sees it; the read-only one stays read-only
        SERVICE=vol-b run_sh "$REG/busybox:latest" \
                'cat /data/file; touch /etc/x 2>/dev/null && echo ro-writable || echo ro-readonly' \
                "$(jq -cn --arg v "$vol" --arg s "$seed" '{storage: [
                        {type: "named", name: $v, target: "/data"},
                        {type: "named", name: $s, target: "/etc", readonly: true}]}')" || return 1
        second=$CID
        has_line "$LOGS" "stdout from-a" && has_line "$LOGS" "stdout ro-readonly" || return 1
        # an existing volume is not seeded again: the image's /etc has no "file"
        SERVICE=vol-c run_sh "$REG/busybox:latest" 'ls /etc/file >/dev/null 2>&1 && echo kept || echo reseeded' \
                "$(jq -cn --arg v "$vol" '{storage: [{type: "named", name: $v, target: "/etc"}]}')" || return 1
        has_line "$LOGS" "stdout kept" || return 1
        discard "$second"
        discard "$CID"
}

t_spec_anonymous_volume() {
        local dir
        SERVICE=anon run_sh "$REG/busybox:latest" 'echo x > /scratch/x && ls /scratch' \
                '{"storage": [{"type": "anonymous", "target": "/scratch"}]}' || return 1
        has_line "$LOGS" "stdout x" || return 1
        dir=$ROOT/containers/$CID/volumes/0/_data
        [[ -f $dir/x ]] || { fail "anonymous volume not at $dir"; return 1; }
        spec_inspect "$CID" | jq -e '.Mounts[] | select(.Type == "volume" and .Destination == "/scratch")' >/dev/null ||
                { fail "InspectContainer Mounts: $(spec_inspect "$CID" | jq -c .Mounts)"; return 1; }
        # a restart keeps it, a remove takes it away
        start "$CID" || return 1
        wait_exit "$CID" || return 1
        [[ -f $dir/x ]] || { fail "anonymous volume lost on restart"; return 1; }
        remove "$CID" || { fail "RemoveContainer failed"; return 1; }
        [[ ! -e $dir ]] || { fail "anonymous volume left after remove"; return 1; }
}

t_spec_sync_volumes() {
        local vol=$TAG-sync plain
        SERVICE=sync-none run_sleep || return 1
        plain=$CID
        SERVICE=sync-vol run_sleep "$(jq -cn --arg v "$vol" '{storage: [{type: "named", name: $v, target: "/v"}]}')" || return 1
        bcall SyncContainerVolumes s "$CID" >/dev/null || { fail "SyncContainerVolumes with a named volume failed"; return 1; }
        grep -q "Synced volume $vol" "$ZL_TMP/zlayerd.log" || note "(no debug log of the syncfs)"
        # no named volume: nothing to flush, not an error; stopped is fine too
        bcall SyncContainerVolumes s "$plain" >/dev/null || { fail "SyncContainerVolumes without volumes failed"; return 1; }
        bcall StopContainer st "$CID" 1000000 >/dev/null || return 1
        bcall SyncContainerVolumes s "$CID" >/dev/null || { fail "SyncContainerVolumes of a stopped container failed"; return 1; }
        expect_error NotFound "$TAG-nosuch" SyncContainerVolumes s "$TAG-nosuch" || return 1
        discard "$plain"
        discard "$CID"
}

t_spec_sysctls() {
        local host_port host_shm
        host_port=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
        host_shm=$(cat /proc/sys/kernel/shmmax)
        SERVICE=sysctl run_sh "$REG/busybox:latest" \
                'echo port $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start); echo shm $(cat /proc/sys/kernel/shmmax)' \
                '{"sysctls": {"net.ipv4.ip_unprivileged_port_start": 80, "kernel.shmmax": "123456789"}}' || return 1
        has_line "$LOGS" "stdout port 80" && has_line "$LOGS" "stdout shm 123456789" || return 1
        [[ $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) == "$host_port" &&
           $(cat /proc/sys/kernel/shmmax) == "$host_shm" ]] || { fail "a container's sysctl changed the host"; return 1; }
        discard "$CID"
}

t_spec_extra_groups() {
        SERVICE=groups run_sh "$REG/busybox:latest" 'id' '{"user": "nobody", "extra_groups": ["daemon", "4242"]}' || return 1
        grep -q '^stdout uid=65534(nobody) .*groups=.*1(daemon).*4242' <<<"$LOGS" ||
                { fail "id does not show the extra groups: $LOGS"; return 1; }
        discard "$CID"
}

t_spec_host_pid_ipc() {
        local host_ipc
        host_ipc=$(readlink /proc/self/ns/ipc)
        SERVICE=hostpid run_sh "$REG/busybox:latest" \
                'echo init $(cat /proc/1/comm); echo ipc $(readlink /proc/self/ns/ipc)' \
                '{"pid_mode": "host", "ipc_mode": "host"}' || return 1
        has_line "$LOGS" "stdout init $(cat /proc/1/comm)" && has_line "$LOGS" "stdout ipc $host_ipc" || return 1
        discard "$CID"
        SERVICE=privpid run_sh "$REG/busybox:latest" \
                'echo init $(cat /proc/1/comm); echo ipc $(readlink /proc/self/ns/ipc)' '{"pid_mode": "private"}' || return 1
        has_line "$LOGS" "stdout init zlayer-init" || return 1
        grep -qxF "stdout ipc $host_ipc" <<<"$LOGS" && { fail "private ipc namespace is the host's"; return 1; }
        discard "$CID"
}

# health_is ID STATUS: InspectContainer's State.Health.Status is STATUS
health_is() { [[ $(spec_inspect "$1" | jq -r '.State.Health.Status') == "$2" ]]; }
# health_run NAME SCRIPT HEALTH_JSON: a running container with a health check
health_run() {
        create "$1" "$(spec_sh "$REG/busybox:latest" "$2" "{\"health\": $3}")" || return 1
        start "$CID"
}

t_spec_health_command() {
        local good h
        health_run health-ok 'exec sleep 1000' \
                '{"interval": "200ms", "timeout": "5s", "retries": 2, "check": {"type": "command", "command": "test -d /proc/1"}}' || return 1
        good=$CID
        health_run health-bad 'exec sleep 1000' \
                '{"interval": "200ms", "timeout": "5s", "retries": 3, "check": {"type": "command", "command": ["/bin/sh", "-c", "echo probing; exit 3"]}}' || return 1
        health_is "$CID" starting || note "(already past starting: $(spec_inspect "$CID" | jq -c .State.Health))"
        wait_for 60 health_is "$good" healthy || { fail "passing check: $(spec_inspect "$good" | jq -c .State.Health)"; return 1; }
        wait_for 60 health_is "$CID" unhealthy || { fail "failing check: $(spec_inspect "$CID" | jq -c .State.Health)"; return 1; }
        h=$(spec_inspect "$CID" | jq -c .State.Health)
        note "unhealthy: $h"
        jq -e '.FailingStreak >= 3 and (.Log | length) >= 3 and (.Log | length) <= 5 and
                all(.Log[]; .ExitCode == 3 and .Start != "" and .End != "")' <<<"$h" >/dev/null ||
                { fail "State.Health of the failing check: $h"; return 1; }
        # five results at most, kept as the checks go on
        wait_for 60 eval '[[ $(spec_inspect "$CID" | jq ".State.Health.FailingStreak") -ge 6 ]]' || return 1
        [[ $(spec_inspect "$CID" | jq '.State.Health.Log | length') == 5 ]] || { fail "Log is not the last 5"; return 1; }
        [[ $(spec_inspect "$good" | jq '.State.Health.FailingStreak') == 0 ]] || { fail "passing check has a streak"; return 1; }
        # a new broker re-adopts the container and checks it again
        local bp
        bp=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        kill -KILL "$bp"
        sleep 0.5
        zl_wait_name "$ZL_BUS" 30 || { fail "no broker came back"; return 1; }
        wait_for 60 health_is "$CID" unhealthy || { fail "no checks after a broker restart: $(spec_inspect "$CID" | jq -c .State.Health)"; return 1; }
        discard "$good"
        discard "$CID"
}

t_spec_health_tcp_http() {
        local srv='mkdir -p /tmp/www && echo hi > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www' ids=() i
        health_run tcp-ok "$srv" '{"interval": "200ms", "timeout": "2s", "retries": 2, "check": {"type": "tcp", "port": 8080}}' || return 1
        ids+=("$CID")
        health_run tcp-closed "$srv" '{"interval": "200ms", "timeout": "2s", "retries": 2, "check": {"type": "tcp", "port": 9}}' || return 1
        ids+=("$CID")
        health_run http-ok "$srv" '{"interval": "200ms", "timeout": "2s", "retries": 2, "check": {"type": "http", "url": "http://localhost:8080/index.html"}}' || return 1
        ids+=("$CID")
        health_run http-404 "$srv" '{"interval": "200ms", "timeout": "2s", "retries": 2, "check": {"type": "http", "url": "http://127.0.0.1:8080/nope", "expect_status": 200}}' || return 1
        ids+=("$CID")
        wait_for 60 health_is "${ids[0]}" healthy || { fail "tcp to a listening port: $(spec_inspect "${ids[0]}" | jq -c .State.Health)"; return 1; }
        wait_for 60 health_is "${ids[1]}" unhealthy || { fail "tcp to a closed port: $(spec_inspect "${ids[1]}" | jq -c .State.Health)"; return 1; }
        wait_for 60 health_is "${ids[2]}" healthy || { fail "http 200: $(spec_inspect "${ids[2]}" | jq -c .State.Health)"; return 1; }
        wait_for 60 health_is "${ids[3]}" unhealthy || { fail "http 404: $(spec_inspect "${ids[3]}" | jq -c .State.Health)"; return 1; }
        spec_inspect "${ids[3]}" | jq -e '.State.Health.Log[-1].Output | startswith("404")' >/dev/null ||
                { fail "http 404 output: $(spec_inspect "${ids[3]}" | jq -c .State.Health.Log[-1])"; return 1; }
        note "tcp closed: $(spec_inspect "${ids[1]}" | jq -c '.State.Health.Log[-1].Output')"
        for i in "${ids[@]}"; do discard "$i"; done
}

t_spec_health_restart() {
        # unhealthy + a restart policy: killed and restarted by the policy
        create health-restart "$(spec_sh "$REG/busybox:latest" 'exec sleep 1000' \
                '{"restart_policy": {"kind": "always", "delay": "100ms"},
                  "health": {"interval": "200ms", "timeout": "2s", "retries": 2, "check": {"type": "command", "command": "false"}}}')" ||
                return 1
        start "$CID" || return 1
        wait_for 60 eval '[[ $(spec_inspect "$CID" | jq .RestartCount) -ge 1 ]]' ||
                { fail "not restarted: $(spec_inspect "$CID" | jq -c '{RestartCount, State}')"; return 1; }
        grep -q "Killing unhealthy container $CID" "$ZL_TMP/zlayerd.log" || { fail "no log of the kill"; return 1; }
        discard "$CID"
        # without a policy it stays (unhealthy, running)
        health_run health-stays 'exec sleep 1000' \
                '{"interval": "200ms", "timeout": "2s", "retries": 2, "check": {"type": "command", "command": "false"}}' || return 1
        wait_for 60 health_is "$CID" unhealthy || return 1
        sleep 1
        [[ $(state "$CID") == running && $(spec_inspect "$CID" | jq .RestartCount) == 0 ]] ||
                { fail "an unhealthy container without a policy was touched: $(state "$CID")"; return 1; }
        discard "$CID"
}

# spec_rejects WORD EXTRA_JSON: CreateContainer fails with InvalidSpec naming WORD
spec_rejects() {
        expect_error InvalidSpec "$1" CreateContainer sus "$TAG-rejected" 1 "$(spec_sh "$REG/busybox:latest" true "$2")"
}

t_spec_unsupported_values() {
        spec_rejects "container:other" '{"pid_mode": "container:other"}' || return 1
        spec_rejects "none" '{"ipc_mode": "none"}' || return 1
        spec_rejects "private" '{"userns_mode": "private"}' || return 1
        spec_rejects "/custom" '{"cgroup_parent": "/custom"}' || return 1
        spec_rejects "init_container" '{"init_container": false}' || return 1
        spec_rejects "net.ipv4.ip_forward" '{"network_mode": "host", "sysctls": {"net.ipv4.ip_forward": 1}}' || return 1
        spec_rejects "kernel.shmmax" '{"ipc_mode": "host", "sysctls": {"kernel.shmmax": 1}}' || return 1
        spec_rejects "kernel.hostname" '{"sysctls": {"kernel.hostname": "x"}}' || return 1
        spec_rejects "bad/name" '{"storage": [{"type": "named", "name": "bad/name", "target": "/x"}]}' || return 1
        spec_rejects "'61 * * * *'" '{"rtype": "cron", "schedule": "61 * * * *"}' || return 1
        spec_rejects "never matches" '{"rtype": "cron", "schedule": "0 0 31 feb *"}' || return 1
        spec_rejects "rtype cron" '{"schedule": "* * * * *"}' || return 1
        spec_rejects "memory_swappiness" '{"resources": {"memory_swappiness": 10}}' || return 1
        spec_rejects "example.com" '{"health": {"check": {"type": "http", "url": "http://example.com/"}}}' || return 1
        spec_rejects "health.check.port" '{"health": {"check": {"type": "tcp"}}}' || return 1
        spec_rejects "health.interval" '{"health": {"interval": "1ms", "check": {"type": "tcp", "port": 80}}}' || return 1
        # accepted as they are what zlayer does anyway
        create accepted "$(spec_sh "$REG/busybox:latest" true \
                '{"init_container": true, "userns_mode": "host", "ipc_mode": "shareable", "pid_mode": ""}')" ||
                return 1
        discard "$CID"
}

SCENARIOS+=(
        spec-named-volume t_spec_named_volume
        spec-anonymous-volume t_spec_anonymous_volume
        spec-sync-volumes t_spec_sync_volumes
        spec-sysctls t_spec_sysctls
        spec-extra-groups t_spec_extra_groups
        spec-host-pid-ipc t_spec_host_pid_ipc
        spec-unsupported-values t_spec_unsupported_values
        spec-health-command t_spec_health_command
        spec-health-tcp-http t_spec_health_tcp_http
        spec-health-restart t_spec_health_restart
)
