# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Container lifecycle (issue 4): rename, pause, inspect, ports/IP, top,
# changes, prune, resource updates, restart policies.

# ctr_path ID: the container's object path
ctr_path() { bcall ListContainers | jq -r --arg id "$1" '.data[0][] | select(.[0] == $id) | .[7]'; }
# ctr_prop ID PROPERTY: a Container property's value
ctr_prop() {
        busctl --address="$ZL_BUS" --json=short get-property com.zlayer.Runtime1 "$(ctr_path "$1")" \
                com.zlayer.Runtime1.Container "$2" | jq -r '.data'
}
inspect() { bcall InspectContainer s "$1" | jq -r '.data[0]'; }
# wait_for SECONDS COMMAND…: until COMMAND succeeds
wait_for() {
        local secs=$1 i; shift
        for ((i = 0; i < secs * 10; i++)); do "$@" && return 0; sleep 0.1; done
        return 1
}

t_lifecycle_rename() {
        local w=$ZL_TMP/rename-watch.out wp i other new=$TAG-renamed
        SERVICE=rename run_sleep || return 1
        local id=$CID
        SERVICE=rename-other run_sleep || return 1
        other=$CID
        "$ZLC" "$ZL_BUS" watch 30 > "$w" 2>&1 &
        wp=$!
        for ((i = 0; i < 50; i++)); do grep -q WATCHING "$w" && break; sleep 0.1; done

        bcall RenameContainer ss "$id" "$new" >/dev/null || { fail "RenameContainer failed"; return 1; }
        sleep 0.3
        kill "$wp"; wait "$wp" 2>/dev/null
        grep -q "^PropertiesChanged .* com.zlayer.Runtime1.Container .*Name=\"$new\"" "$w" ||
                { fail "no PropertiesChanged Name=$new: $(tr '\n' '|' < "$w")"; return 1; }
        # the new name addresses it, the id still does, the id did not change
        [[ $(cpid "$new") == "$PID" || $(cpid "$new") -gt 0 ]] || { fail "GetContainerPid by the new name"; return 1; }
        [[ $(cpid "$new") == $(cpid "$id") ]] || { fail "id and new name address different containers"; return 1; }
        [[ $(ctr_prop "$id" Name) == "$new" ]] || { fail "Name property is $(ctr_prop "$id" Name)"; return 1; }
        [[ $(ctr_prop "$id" Id) == "$id" ]] || { fail "Id changed to $(ctr_prop "$id" Id)"; return 1; }
        bcall ListContainers | jq -e --arg id "$id" --arg n "$new" '.data[0][] | select(.[0] == $id and .[1] == $n)' >/dev/null ||
                { fail "ListContainers does not show $id named $new"; return 1; }
        [[ $(jq -r .name "$ROOT/containers/$id/state.json") == "$new" ]] || { fail "state.json name not $new"; return 1; }
        [[ $(inspect "$new" | jq -r .Name) == "/$new" ]] || { fail "InspectContainer Name"; return 1; }
        # names are unique: neither another's name nor another's id
        expect_error AlreadyExists "$new" RenameContainer ss "$other" "$new" || return 1
        expect_error AlreadyExists "$other" RenameContainer ss "$id" "$other" || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "Bad/Name" RenameContainer ss "$id" "Bad/Name" || return 1
        expect_error NotFound "$TAG-nosuch" RenameContainer ss "$TAG-nosuch" "$TAG-x" || return 1
        # renaming to its own name is fine
        bcall RenameContainer ss "$new" "$new" >/dev/null || { fail "rename to the same name failed"; return 1; }
        discard "$new"
        discard "$other"
}

t_lifecycle_pause() {
        local fz n1 n2
        SERVICE=pause run_sh_bg 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done' || return 1
        fz=$(cgroup_dir "$PID" freezer) || { fail "no freezer cgroup"; return 1; }
        bcall PauseContainer s "$CID" >/dev/null || { fail "PauseContainer failed"; return 1; }
        [[ $(cat "$fz/freezer.state") == FROZEN ]] || { fail "freezer.state $(cat "$fz/freezer.state")"; return 1; }
        [[ $(state "$CID") == running ]] || { fail "state while paused is $(state "$CID"), wanted running"; return 1; }
        inspect "$CID" | jq -e '.State.Paused == true and .State.Running == true and .State.Status == "paused"' >/dev/null ||
                { fail "InspectContainer State while paused: $(inspect "$CID" | jq -c .State)"; return 1; }
        jq -e '.paused == true' "$ROOT/containers/$CID/state.json" >/dev/null || { fail "state.json has no paused"; return 1; }
        n1=$(logs "$CID" | wc -l); sleep 0.8; n2=$(logs "$CID" | wc -l)
        [[ $n1 == "$n2" ]] || { fail "the container kept logging while paused ($n1 → $n2)"; return 1; }
        expect_error InvalidState "already paused" PauseContainer s "$CID" || return 1
        bcall UnpauseContainer s "$CID" >/dev/null || { fail "UnpauseContainer failed"; return 1; }
        [[ $(cat "$fz/freezer.state") == THAWED ]] || { fail "freezer.state after unpause $(cat "$fz/freezer.state")"; return 1; }
        sleep 0.5; n1=$(logs "$CID" | wc -l)
        [[ $n1 -gt $n2 ]] || { fail "no output after unpause"; return 1; }
        expect_error InvalidState "not paused" UnpauseContainer s "$CID" || return 1
        # a paused container still stops (the kill thaws it)
        bcall PauseContainer s "$CID" >/dev/null || { fail "second PauseContainer failed"; return 1; }
        timeout 20 busctl --address="$ZL_BUS" call "${MGR[@]}" StopContainer st "$CID" 2000000 >/dev/null ||
                { fail "StopContainer of a paused container failed"; return 1; }
        [[ $(state "$CID") == exited ]] || { fail "state after stop $(state "$CID")"; return 1; }
        inspect "$CID" | jq -e '.State.Paused == false' >/dev/null || { fail "still Paused after the exit"; return 1; }
        expect_error InvalidState "not running" PauseContainer s "$CID" || return 1
        discard "$CID"
}

# run_sh_bg SCRIPT [EXTRA_JSON]: a running sh -c SCRIPT container; sets CID PID
run_sh_bg() {
        create "${SERVICE:-shbg}" "$(spec_sh "$REG/busybox:latest" "$@")" || return 1
        start "$CID" || return 1
        PID=$(cpid "$CID")
        [[ $PID =~ ^[0-9]+$ && $PID -gt 0 ]] || { fail "GetContainerPid gave '$PID'"; return 1; }
}

t_lifecycle_inspect() {
        local j
        SERVICE=inspect run_sh "$REG/busybox:latest" 'echo hi; exit 3' \
                '{"labels": {"team": "blue"}, "env": {"MODE": "test"}, "resources": {"memory": "64Mi", "pids_limit": 40},
                  "restart_policy": {"kind": "no"}, "endpoints": [{"name": "http", "protocol": "http", "port": 8080}]}' || return 1
        j=$(inspect "$CID") || { fail "InspectContainer failed"; return 1; }
        note "inspect: $(jq -c '{Id, Name, Path, Args, State, Image, RestartCount}' <<<"$j")"
        jq -e --arg id "$CID" '.Id == $id and .Name == "/" + $id and .Path == "/bin/sh" and .Args == ["-c", "echo hi; exit 3"]' <<<"$j" >/dev/null ||
                { fail "Id/Name/Path/Args"; return 1; }
        jq -e '.State.Status == "exited" and .State.Running == false and .State.Paused == false and .State.ExitCode == 3
               and .State.OOMKilled == false and .State.Pid == 0 and (.State.StartedAt | test("^20[0-9-]+T"))
               and (.State.FinishedAt | test("^20[0-9-]+T")) and .RestartCount == 0' <<<"$j" >/dev/null ||
                { fail "State: $(jq -c .State <<<"$j")"; return 1; }
        jq -e '(.Created | test("^20[0-9-]+T")) and (.Image | startswith("sha256:")) and (.ImageName | endswith("/busybox:latest"))' <<<"$j" >/dev/null ||
                { fail "Created/Image"; return 1; }
        jq -e '.Config.Labels.team == "blue" and (.Config.Env | index("MODE=test")) != null and .Config.Cmd[0] == "/bin/sh"' <<<"$j" >/dev/null ||
                { fail "Config: $(jq -c .Config <<<"$j")"; return 1; }
        jq -e '.HostConfig.Memory == 67108864 and .HostConfig.PidsLimit == 40 and .HostConfig.RestartPolicy.Name == "no"' <<<"$j" >/dev/null ||
                { fail "HostConfig: $(jq -c .HostConfig <<<"$j")"; return 1; }
        # default network_mode = bridge: the address GetContainerIP gives
        jq -e --arg ip "$(bcall GetContainerIP s "$CID" | jq -r '.data[0]')" \
                '$ip != "" and .NetworkSettings.IPAddress == $ip and (.NetworkSettings.Ports | has("8080/tcp")) and (.Mounts | type == "array")
               and .Spec.image.name != null' <<<"$j" >/dev/null ||
                { fail "NetworkSettings/Mounts/Spec: $(jq -c '{NetworkSettings, Mounts}' <<<"$j")"; return 1; }
        expect_error NotFound "$TAG-nosuch" InspectContainer s "$TAG-nosuch" || return 1
        discard "$CID"
}

t_lifecycle_ports_ip() {
        local out
        create ports-host "$(spec_sh "$REG/busybox:latest" 'true' '{"network_mode": "host",
                "endpoints": [{"name": "web", "protocol": "http", "port": 8080}, {"name": "dns", "protocol": "udp", "port": 53, "target_port": 5353}],
                "port_mappings": [{"container_port": 9000, "host_port": 19000, "protocol": "tcp", "host_ip": "127.0.0.1"}]}')" || return 1
        out=$(bcall GetContainerPorts s "$CID" | jq -c '.data[0]')
        note "host ports: $out"
        [[ $out == '[[8080,"tcp","",8080],[5353,"udp","",5353],[9000,"tcp","127.0.0.1",9000]]' ]] ||
                { fail "GetContainerPorts (host) gave $out"; return 1; }
        [[ $(bcall GetContainerIP s "$CID" | jq -r '.data[0]') == "" ]] || { fail "GetContainerIP not empty"; return 1; }
        [[ $(bcall GetContainerPortOverride s "$CID" | jq -r '.data[0]') == 0 ]] || { fail "GetContainerPortOverride not 0"; return 1; }
        discard "$CID"
        create ports-none "$(spec_sh "$REG/busybox:latest" 'true' '{"network_mode": "none",
                "port_mappings": [{"container_port": 80, "host_port": 8081, "protocol": "udp"}]}')" || return 1
        out=$(bcall GetContainerPorts s "$CID" | jq -c '.data[0]')
        [[ $out == '[[80,"udp","",8081]]' ]] || { fail "GetContainerPorts (none) gave $out"; return 1; }
        discard "$CID"
        expect_error NotFound "$TAG-nosuch" GetContainerIP s "$TAG-nosuch"
}

t_lifecycle_top() {
        local out
        SERVICE=top run_sleep || return 1
        out=$(bcall TopContainer sas "$CID" 0) || { fail "TopContainer failed"; return 1; }
        note "top: $(jq -c '.data' <<<"$out")"
        [[ $(jq -c '.data[0]' <<<"$out") == '["UID","PID","PPID","C","STIME","TTY","TIME","CMD"]' ]] ||
                { fail "titles $(jq -c '.data[0]' <<<"$out")"; return 1; }
        jq -e --arg pid "$PID" '.data[1] | map(select(.[1] == $pid and .[0] == "root" and .[7] == "/bin/sleep 1000" and .[5] == "?")) | length == 1' <<<"$out" >/dev/null ||
                { fail "no row for pid $PID running /bin/sleep 1000"; return 1; }
        # "--": busctl must not take -o for its own option
        out=$(busctl --address="$ZL_BUS" --json=short -- call "${MGR[@]}" TopContainer sas "$CID" 2 -o pid,comm,args) ||
                { fail "TopContainer -o failed"; return 1; }
        [[ $(jq -c '.data[0]' <<<"$out") == '["PID","COMMAND","COMMAND"]' ]] || { fail "-o titles $(jq -c '.data[0]' <<<"$out")"; return 1; }
        jq -e --arg pid "$PID" '.data[1] | map(select(. == [$pid, "sleep", "/bin/sleep 1000"])) | length == 1' <<<"$out" >/dev/null ||
                { fail "-o rows $(jq -c '.data[1]' <<<"$out")"; return 1; }
        # every pid is in the container's cgroup
        local cg
        cg=$(cgroup_dir "$PID" pids)
        for p in $(jq -r '.data[1][][0]' <<<"$out"); do
                grep -qx "$p" "$cg/cgroup.procs" || { fail "pid $p is not in $cg"; return 1; }
        done
        expect_error org.freedesktop.DBus.Error.InvalidArgs "aux" TopContainer sas "$CID" 1 aux || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "bogus" TopContainer sas "$CID" 2 -o pid,bogus || return 1
        discard "$CID"
        expect_error InvalidState "not running" TopContainer sas "$CID" 0 2>/dev/null
        create top2 "$(spec_sh "$REG/busybox:latest" 'true')" || return 1
        expect_error InvalidState "not running" TopContainer sas "$CID" 0 || return 1
        discard "$CID"
}

t_lifecycle_changes() {
        local out
        SERVICE=changes run_sh "$REG/busybox:latest" \
                'mkdir /newdir && echo f > /newdir/f && echo x > /newfile && echo more >> /etc/passwd && rm /etc/group && rm /etc/os-release && echo done' || return 1
        [[ $EXIT_CODE == 0 ]] || { fail "script failed: $LOGS"; return 1; }
        out=$(bcall GetContainerChanges s "$CID" | jq -c '.data[0]') || { fail "GetContainerChanges failed"; return 1; }
        note "changes: $out"
        for want in '["/etc",0]' '["/etc/passwd",0]' '["/etc/group",2]' '["/etc/os-release",2]' '["/newdir",1]' '["/newdir/f",1]' '["/newfile",1]'; do
                jq -e --argjson w "$want" 'index([$w]) != null' <<<"$out" >/dev/null || { fail "missing change $want"; return 1; }
        done
        jq -e 'map(.[0]) == (map(.[0]) | sort)' <<<"$out" >/dev/null || { fail "changes not sorted by path"; return 1; }
        jq -e 'map(select(.[0] == "/bin/busybox")) | length == 0' <<<"$out" >/dev/null || { fail "unchanged /bin/busybox listed"; return 1; }
        discard "$CID"
        # never started: nothing changed
        create changes2 "$(spec_sh "$REG/busybox:latest" 'true')" || return 1
        [[ $(bcall GetContainerChanges s "$CID" | jq -c '.data[0]') == '[]' ]] || { fail "changes of a created container"; return 1; }
        discard "$CID"
}

t_lifecycle_prune() {
        local a b run out
        SERVICE=prune-a run_sh "$REG/busybox:latest" 'dd if=/dev/zero of=/blob bs=1024 count=300 2>/dev/null; exit 0' || return 1
        a=$CID
        SERVICE=prune-b run_sh "$REG/busybox:latest" 'exit 7' || return 1
        b=$CID
        SERVICE=prune-run run_sleep || return 1
        run=$CID
        out=$(bcall PruneContainers) || { fail "PruneContainers failed"; return 1; }
        note "prune: $(jq -c .data <<<"$out")"
        jq -e --arg a "$a" --arg b "$b" --arg r "$run" '(.data[0] | index($a)) != null and (.data[0] | index($b)) != null and (.data[0] | index($r)) == null' <<<"$out" >/dev/null ||
                { fail "deleted list wrong"; return 1; }
        [[ $(jq -r '.data[1]' <<<"$out") -ge 307200 ]] || { fail "reclaimed $(jq -r '.data[1]' <<<"$out") < 300 KiB"; return 1; }
        expect_error NotFound "$a" GetContainerState s "$a" || return 1
        [[ ! -e $ROOT/containers/$a ]] || { fail "$ROOT/containers/$a still there"; return 1; }
        [[ $(state "$run") == running ]] || { fail "running container touched by prune"; return 1; }
        # nothing left to prune of ours
        out=$(bcall PruneContainers) || { fail "second PruneContainers failed"; return 1; }
        jq -e --arg r "$run" '(.data[0] | index($r)) == null' <<<"$out" >/dev/null || { fail "pruned a running container"; return 1; }
        discard "$run"
}

t_lifecycle_update() {
        local mem pids out
        SERVICE=update run_sleep '{"resources": {"memory": "64Mi", "pids_limit": 50}}' || return 1
        mem=$(cgroup_dir "$PID" memory) && pids=$(cgroup_dir "$PID" pids) || { fail "no cgroups"; return 1; }
        out=$(bcall UpdateContainerResources 'sa{sv}' "$CID" 3 memory x 134217728 pids_limit x 77 kernel_memory x 1048576) ||
                { fail "UpdateContainerResources failed"; return 1; }
        note "warnings: $(jq -c '.data[0]' <<<"$out")"
        jq -e '.data[0] | length == 1 and (.[0] | startswith("kernel_memory"))' <<<"$out" >/dev/null || { fail "warnings wrong"; return 1; }
        [[ $(cat "$mem/memory.limit_in_bytes") == 134217728 ]] || { fail "memory.limit_in_bytes $(cat "$mem/memory.limit_in_bytes")"; return 1; }
        [[ $(cat "$pids/pids.max") == 77 ]] || { fail "pids.max $(cat "$pids/pids.max")"; return 1; }
        jq -e '.resources.memory == 134217728 and .resources.pids_limit == 77' "$ROOT/containers/$CID/config.json" >/dev/null ||
                { fail "config.json not updated"; return 1; }
        # empty = no-op; bad keys and types name themselves
        [[ $(bcall UpdateContainerResources 'sa{sv}' "$CID" 0 | jq -c '.data[0]') == '[]' ]] || { fail "empty update"; return 1; }
        expect_error org.freedesktop.DBus.Error.InvalidArgs "swappiness" UpdateContainerResources 'sa{sv}' "$CID" 1 swappiness x 1 || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "memory" UpdateContainerResources 'sa{sv}' "$CID" 1 memory s big || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "memory" UpdateContainerResources 'sa{sv}' "$CID" 1 memory x 1024 || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "sometimes" UpdateContainerResources 'sa{sv}' "$CID" 1 restart_policy s sometimes || return 1
        [[ $(cat "$mem/memory.limit_in_bytes") == 134217728 ]] || { fail "a refused update changed the limit"; return 1; }
        # a restart keeps the update
        bcall StopContainer st "$CID" 1000000 >/dev/null || { fail "stop failed"; return 1; }
        start "$CID" || return 1
        PID=$(cpid "$CID")
        mem=$(cgroup_dir "$PID" memory)
        [[ $(cat "$mem/memory.limit_in_bytes") == 134217728 ]] || { fail "after restart memory.limit_in_bytes $(cat "$mem/memory.limit_in_bytes")"; return 1; }
        discard "$CID"
}

restart_count() { ctr_prop "$1" RestartCount; }

t_lifecycle_restart_on_failure() {
        create restart-fail "$(spec_sh "$REG/busybox:latest" 'echo run; exit 1' '{"restart_policy": {"kind": "on_failure", "max_attempts": 2, "delay": "100ms"}}')" || return 1
        start "$CID" || return 1
        wait_for 15 eval '[[ $(restart_count "$CID") == 2 && $(state "$CID") == exited ]]' ||
                { fail "RestartCount $(restart_count "$CID"), state $(state "$CID")"; return 1; }
        sleep 1.5
        [[ $(restart_count "$CID") == 2 ]] || { fail "restarted beyond max_attempts: $(restart_count "$CID")"; return 1; }
        [[ $(logs "$CID" | grep -c '^stdout run$') == 3 ]] || { fail "runs: $(logs "$CID" | tr '\n' '|')"; return 1; }
        [[ $(inspect "$CID" | jq -r .RestartCount) == 2 ]] || { fail "InspectContainer RestartCount"; return 1; }
        [[ $(jq -r .restart_count "$ROOT/containers/$CID/state.json") == 2 ]] || { fail "state.json restart_count"; return 1; }
        # a start by the user counts afresh: the policy gets its two
        # attempts again (3 more runs). The count right after the start is
        # not asserted: the container exits at once and the policy may
        # already have restarted it once by then.
        start "$CID" || return 1
        wait_for 15 eval '[[ $(logs "$CID" | grep -c "^stdout run$") == 6 && $(restart_count "$CID") == 2 && $(state "$CID") == exited ]]' ||
                { fail "second round: RestartCount $(restart_count "$CID"), $(logs "$CID" | grep -c '^stdout run$') runs (not reset by a start?)"; return 1; }
        sleep 1.5
        [[ $(logs "$CID" | grep -c '^stdout run$') == 6 ]] || { fail "second round went beyond max_attempts"; return 1; }
        discard "$CID"
        # while a restart waits for its delay: "restarting", and prune leaves it
        create restart-wait "$(spec_sh "$REG/busybox:latest" 'exit 2' '{"restart_policy": {"kind": "on_failure", "max_attempts": 1, "delay": "3s"}}')" || return 1
        start "$CID" && wait_exit "$CID" || return 1
        inspect "$CID" | jq -e '.State.Restarting == true and .State.Status == "restarting"' >/dev/null ||
                { fail "not restarting: $(inspect "$CID" | jq -c .State)"; return 1; }
        bcall PruneContainers | jq -e --arg id "$CID" '(.data[0] | index($id)) == null' >/dev/null || { fail "pruned a restarting container"; return 1; }
        wait_for 10 eval '[[ $(restart_count "$CID") == 1 ]]' || { fail "the delayed restart did not happen"; return 1; }
        discard "$CID"
        # on_failure leaves a clean exit alone
        create restart-ok "$(spec_sh "$REG/busybox:latest" 'exit 0' '{"restart_policy": {"kind": "on_failure", "delay": "100ms"}}')" || return 1
        start "$CID" && wait_exit "$CID" || return 1
        sleep 1
        [[ $(restart_count "$CID") == 0 && $(state "$CID") == exited ]] || { fail "on_failure restarted a clean exit"; return 1; }
        discard "$CID"
}

t_lifecycle_restart_always_user_stop() {
        create restart-always "$(spec_sh "$REG/busybox:latest" 'sleep 0.3; exit 0' '{"restart_policy": {"kind": "always", "delay": "100ms"}}')" || return 1
        start "$CID" || return 1
        wait_for 15 eval '[[ $(restart_count "$CID") -ge 2 ]]' || { fail "always: RestartCount $(restart_count "$CID")"; return 1; }
        wait_for 10 eval '[[ $(state "$CID") == running ]]' || { fail "not running again"; return 1; }
        bcall StopContainer st "$CID" 2000000 >/dev/null || { fail "StopContainer failed"; return 1; }
        local n
        n=$(restart_count "$CID")
        sleep 2
        [[ $(state "$CID") == exited && $(restart_count "$CID") == "$n" ]] ||
                { fail "a user stop was undone: state $(state "$CID"), RestartCount $n → $(restart_count "$CID")"; return 1; }
        discard "$CID"
        # the policy set by UpdateContainerResources applies, and KillContainer is a user stop too
        create restart-upd "$(spec_sh "$REG/busybox:latest" 'sleep 1000')" || return 1
        bcall UpdateContainerResources 'sa{sv}' "$CID" 2 restart_policy s always restart_max_retries x 1 >/dev/null || { fail "update policy"; return 1; }
        start "$CID" || return 1
        bcall KillContainer ss "$CID" KILL >/dev/null || { fail "KillContainer failed"; return 1; }
        wait_exit "$CID"
        sleep 1.5
        [[ $(state "$CID") == exited && $(restart_count "$CID") == 0 ]] || { fail "a user kill was undone"; return 1; }
        discard "$CID"
}

t_lifecycle_restart_across_broker() {
        local bp
        # the exit happens while no broker runs (zlayerd stopped so it does
        # not restart one): the next broker learns it from Adopt and restarts
        create restart-broker "$(spec_sh "$REG/busybox:latest" 'sleep 1; exit 5' '{"restart_policy": {"kind": "on_failure", "max_attempts": 1, "delay": "100ms"}}')" || return 1
        start "$CID" || return 1
        bp=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        kill -STOP "$ZLAYERD_PID"
        kill -KILL "$bp"
        sleep 2
        kill -CONT "$ZLAYERD_PID"
        zl_wait_name "$ZL_BUS" 30 || { fail "no broker came back"; return 1; }
        wait_for 30 eval '[[ $(restart_count "$CID" 2>/dev/null) == 1 ]]' || { fail "not restarted after the broker came back: $(restart_count "$CID")"; return 1; }
        wait_for 15 eval '[[ $(state "$CID") == exited ]]' || { fail "state $(state "$CID")"; return 1; }
        [[ $(bcall GetContainerState s "$CID" | jq -r '.data[1]') == 5 ]] || { fail "exit code not 5"; return 1; }
        discard "$CID"

        # a restart waiting for its delay when the broker dies happens anyway
        create restart-delay "$(spec_sh "$REG/busybox:latest" 'exit 4' '{"restart_policy": {"kind": "on_failure", "max_attempts": 1, "delay": "3s"}}')" || return 1
        start "$CID" && wait_exit "$CID" || return 1
        bp=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        kill -KILL "$bp"
        sleep 0.5
        zl_wait_name "$ZL_BUS" 30 || { fail "no broker came back"; return 1; }
        wait_for 30 eval '[[ $(restart_count "$CID" 2>/dev/null) == 1 ]]' || { fail "pending restart lost with the broker"; return 1; }
        discard "$CID"
}

# race A B: runs the zl-client calls "A" and "B" (word lists) at once; sets
# RACE_A RACE_B to "ok" or the error name
race() {
        local oa=$ZL_TMP/race-a ob=$ZL_TMP/race-b pa pb
        # shellcheck disable=SC2086
        zc $1 > "$oa" 2>&1 & pa=$!
        # shellcheck disable=SC2086
        zc $2 > "$ob" 2>&1 & pb=$!
        wait "$pa"; wait "$pb"
        RACE_A=ok RACE_B=ok
        grep -q '^ERROR ' "$oa" && RACE_A=$(sed -n 's/^ERROR \([^:]*\):.*/\1/p' "$oa" | head -1)
        grep -q '^ERROR ' "$ob" && RACE_B=$(sed -n 's/^ERROR \([^:]*\):.*/\1/p' "$ob" | head -1)
        note "race: $1 → $RACE_A ($(head -c 200 "$oa" | tr '\n' ' ')); $2 → $RACE_B ($(head -c 200 "$ob" | tr '\n' ' '))"
}

t_lifecycle_races() {
        local ist=com.zlayer.Runtime1.Error.InvalidState i
        for i in 1 2 3; do
                create race-start "$(spec_sh "$REG/busybox:latest" 'sleep 1000')" || return 1
                race "StartContainer s $CID" "StartContainer s $CID"
                [[ "$RACE_A $RACE_B" == "ok $ist" || "$RACE_A $RACE_B" == "$ist ok" ]] ||
                        { fail "start vs start gave $RACE_A / $RACE_B"; return 1; }
                [[ $(state "$CID") == running ]] || { fail "state $(state "$CID") after start vs start"; return 1; }
                # stop vs remove: the stop succeeds, the remove is refused
                # (still running) or, when the stop won, succeeds
                race "StopContainer st $CID 2000000" "RemoveContainer sb $CID false"
                [[ $RACE_A == ok && ( $RACE_B == ok || $RACE_B == "$ist" ) ]] ||
                        { fail "stop vs remove gave $RACE_A / $RACE_B"; return 1; }
                if [[ $RACE_B == "$ist" ]]; then
                        [[ $(state "$CID") == exited ]] || { fail "state $(state "$CID") after stop vs remove"; return 1; }
                        # remove vs remove: one removes, the other is refused or finds nothing
                        race "RemoveContainer sb $CID false" "RemoveContainer sb $CID false"
                        [[ "$RACE_A $RACE_B" =~ ^(ok ($ist|com.zlayer.Runtime1.Error.NotFound)|($ist|com.zlayer.Runtime1.Error.NotFound) ok)$ ]] ||
                                { fail "remove vs remove gave $RACE_A / $RACE_B"; return 1; }
                fi
                expect_error NotFound "$CID" GetContainerState s "$CID" >/dev/null 2>&1 ||
                        { fail "$CID still exists"; return 1; }
        done
        # pause vs pause, update vs update: one each
        create race-pu "$(spec_sh "$REG/busybox:latest" 'sleep 1000')" || return 1
        start "$CID" || return 1
        race "PauseContainer s $CID" "PauseContainer s $CID"
        [[ "$RACE_A $RACE_B" == "ok $ist" || "$RACE_A $RACE_B" == "$ist ok" ]] || { fail "pause vs pause gave $RACE_A / $RACE_B"; return 1; }
        bcall UnpauseContainer s "$CID" >/dev/null || { fail "unpause failed"; return 1; }
        race "UpdateContainerResources sa{sv} $CID 1 pids_limit x 61" "UpdateContainerResources sa{sv} $CID 1 pids_limit x 62"
        [[ $RACE_A == ok || $RACE_B == ok ]] && [[ $RACE_A == ok || $RACE_A == "$ist" ]] && [[ $RACE_B == ok || $RACE_B == "$ist" ]] ||
                { fail "update vs update gave $RACE_A / $RACE_B"; return 1; }
        local want=61; [[ $RACE_B == ok ]] && want=62
        [[ $RACE_A == ok && $RACE_B == ok ]] && want=$(jq -r .resources.pids_limit "$ROOT/containers/$CID/config.json")
        [[ $(cat "$(cgroup_dir "$(cpid "$CID")" pids)/pids.max") == "$want" &&
           $(jq -r .resources.pids_limit "$ROOT/containers/$CID/config.json") == "$want" ]] ||
                { fail "cgroup and config.json disagree after update vs update"; return 1; }
        discard "$CID"
        # start vs remove of an exited container: one clean result, one clean error
        create race-sr "$(spec_sh "$REG/busybox:latest" 'sleep 1000')" || return 1
        start "$CID" && bcall StopContainer st "$CID" 1000000 >/dev/null || return 1
        race "StartContainer s $CID" "RemoveContainer sb $CID false"
        [[ "$RACE_A $RACE_B" == "ok $ist" || "$RACE_A $RACE_B" == "$ist ok" || "$RACE_A $RACE_B" == "com.zlayer.Runtime1.Error.NotFound ok" ]] ||
                { fail "start vs remove gave $RACE_A / $RACE_B"; return 1; }
        discard "$CID"
}

t_lifecycle_orphans() {
        local stale=$ROOT/containers/$TAG-orphan-rep-1 fresh=$ROOT/containers/$TAG-orphan-rep-2
        local run=$RUN/containers/$TAG-orphan-rep-3 bp
        mkdir -p "$stale/upper/etc" "$fresh" "$run"
        echo x > "$stale/upper/etc/f"
        echo '{}' > "$stale/spec.json"
        echo "999999999 1" > "$run/shim.pid"      # no such process
        touch -d '-5 minutes' "$stale"
        chown -R "$ZL_USER" "$fresh"
        bp=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        kill -KILL "$bp"
        sleep 0.5
        zl_wait_name "$ZL_BUS" 30 || { fail "no broker came back"; return 1; }
        wait_for 15 eval '[[ ! -e $stale && ! -e $run ]]' || { fail "orphans left: $(ls -d "$stale" "$run" 2>&1 | tr '\n' ' ')"; return 1; }
        [[ -d $fresh ]] || { fail "a fresh directory (a create in progress?) was removed"; return 1; }
        grep -q "Removing orphan state directory of container $TAG-orphan-rep-1" "$ZL_TMP/zlayerd.log" &&
                grep -q "Removing orphan run directory of container $TAG-orphan-rep-3" "$ZL_TMP/zlayerd.log" ||
                { fail "orphans not reported in the log"; return 1; }
        rm -rf "$fresh"
}

SCENARIOS+=(
        lifecycle-rename t_lifecycle_rename
        lifecycle-pause t_lifecycle_pause
        lifecycle-inspect t_lifecycle_inspect
        lifecycle-ports-ip t_lifecycle_ports_ip
        lifecycle-top t_lifecycle_top
        lifecycle-changes t_lifecycle_changes
        lifecycle-prune t_lifecycle_prune
        lifecycle-update t_lifecycle_update
        lifecycle-restart-on-failure t_lifecycle_restart_on_failure
        lifecycle-restart-always-user-stop t_lifecycle_restart_always_user_stop
        lifecycle-restart-across-broker t_lifecycle_restart_across_broker
        lifecycle-races t_lifecycle_races
        lifecycle-orphans t_lifecycle_orphans
)

# lifecycle_restart_zlayerd [OPTION…]: SIGTERM zlayerd, start it again with
# those options (and the caller's environment); containers are adopted
lifecycle_restart_zlayerd() {
        kill -TERM "$ZLAYERD_PID"
        wait "$ZLAYERD_PID" 2>/dev/null
        start_zlayerd "$@"
}

# rtype cron (broker/container-cron.c). A real minute is too long for the
# suite: test builds shorten the schedule's minute to 1 s with
# ZL_TEST_CRON_MINUTE_USEC (zlayerd restarted with it, then without).
cron_runs() { logs "$1" | zl_grep -c '^stdout start$'; }
cron_next_run() { inspect "$1" | jq -r .State.NextRun; }
t_lifecycle_cron() {
        local id n bp rc=0 seq
        grep -q ZL_TEST_CRON_MINUTE_USEC "$BUILD/broker/zlayer-broker" ||
                { note "SKIP: not a -Dtest_hooks=true build"; return 0; }
        ZL_TEST_CRON_MINUTE_USEC=1000000 lifecycle_restart_zlayerd || return 1
        # each run lasts 2.5 "minutes": the ticks in between are skipped
        create cron "$(spec_sh "$REG/busybox:latest" 'echo start; sleep 2.5; echo end' \
                '{"rtype": "cron", "schedule": "* * * * *"}')" || rc=1
        id=$CID
        # create never starts it; with a one-second "minute" the first tick
        # may already have (the broker logs each run it starts)
        local st
        st=$(state "$id")
        [[ $rc == 0 ]] && [[ $st == pending ]] || grep -qF "Cron run of container $id." "$ZL_TMP/zlayerd.log" ||
                { fail "cron container $st after create, and no tick started it"; rc=1; }
        [[ $rc == 0 && $(cron_next_run "$id") == 20* ]] || { fail "no NextRun after create: $(inspect "$id" | jq -c .State)"; rc=1; }
        [[ $rc == 0 ]] && { wait_for 20 eval '(( $(cron_runs "$id") >= 3 ))' || { fail "3 runs not seen: $(logs "$id" | tr '\n' '|')"; rc=1; }; }
        if [[ $rc == 0 ]]; then
                # one container, run again and again; runs never overlap
                n=$(bcall ListContainers | jq --arg s "$TAG-cron" '[.data[0][] | select(.[2] == $s)] | length')
                [[ $n == 1 ]] || { fail "$n containers of service cron"; rc=1; }
                seq=$(logs "$id" | tr '\n' ' ')
                [[ $seq =~ ^(stdout\ start\ stdout\ end\ )+(stdout\ start\ )?$ ]] || { fail "runs overlap: $seq"; rc=1; }
                grep -q "Cron run of container $id skipped: the previous run is still" "$ZL_TMP/zlayerd.log" ||
                        { fail "no skipped tick logged"; rc=1; }
                note "runs: $(cron_runs "$id"), next $(cron_next_run "$id")"
        fi
        # Stop ends the schedule: no run afterwards, no NextRun
        if [[ $rc == 0 ]]; then
                bcall StopContainer st "$id" 1000000 >/dev/null || { fail "StopContainer failed"; rc=1; }
                n=$(cron_runs "$id")
                [[ $(cron_next_run "$id") == 0001-01-01T00:00:00Z ]] || { fail "NextRun after stop: $(cron_next_run "$id")"; rc=1; }
                sleep 3
                [[ $(cron_runs "$id") == "$n" && $(state "$id") == exited ]] ||
                        { fail "ran after StopContainer: $(cron_runs "$id") runs (was $n), $(state "$id")"; rc=1; }
        fi
        # StartContainer runs it now and resumes the schedule, which a new
        # broker derives again from the spec
        if [[ $rc == 0 ]]; then
                start "$id" || rc=1
                wait_for 10 eval '[[ $(cron_next_run "$id") == 20* ]]' || { fail "schedule not resumed by StartContainer"; rc=1; }
                bp=$(worker_pid zlayer-broker) || { fail "no broker"; rc=1; }
                kill -KILL "$bp"
                sleep 0.5
                zl_wait_name "$ZL_BUS" 30 || { fail "no broker came back"; rc=1; }
                n=$(cron_runs "$id")
                wait_for 20 eval '(( $(cron_runs "$id") >= n + 2 ))' || { fail "no runs after a broker restart: $(cron_runs "$id") (was $n)"; rc=1; }
                [[ $(cron_next_run "$id") == 20* ]] || { fail "no NextRun after a broker restart"; rc=1; }
        fi
        # Remove (force) ends it with the container
        bcall RemoveContainer sb "$id" true >/dev/null || { fail "RemoveContainer failed"; rc=1; }
        expect_error NotFound "$id" GetContainerState s "$id" || rc=1
        lifecycle_restart_zlayerd || return 1
        return $rc
}
SCENARIOS+=(lifecycle-cron t_lifecycle_cron)

# --max-concurrent-ops (broker/container-ops.c): with 2, four StopContainer
# of containers that ignore SIGTERM: two wait for the exit, two are Busy at
# once; the two in flight end when the containers die (killed from the
# host, no timer involved), and their slots are free again afterwards.
t_lifecycle_busy() {
        local ids=() pids=() bg=() i rc=0 d=$ZL_TMP/busy n_busy
        lifecycle_restart_zlayerd --max-concurrent-ops=2 || return 1
        mkdir -p "$d"
        for i in 0 1 2 3; do
                create busy "$(spec_sh "$REG/busybox:latest" 'trap "" TERM; echo ready; while :; do sleep 0.2; done')" &&
                        start "$CID" || { rc=1; break; }
                ids+=("$CID")
                pids+=("$(cpid "$CID")")
        done
        if [[ $rc == 0 ]]; then
                wait_for 10 eval '[[ $(logs "${ids[3]}") == *ready* ]]' || note "(the last container printed nothing yet)"
                for i in 0 1 2 3; do
                        zc StopContainer st "${ids[i]}" 60000000 > "$d/$i" 2>&1 &
                        bg+=($!)
                done
                wait_for 30 eval '(( $(cat "$d"/? | zl_grep -c "Error.Busy: ") == 2 ))' ||
                        { fail "not two Busy: $(cat "$d"/? | tr '\n' '|')"; rc=1; }
                n_busy=$(cat "$d"/? | zl_grep -c "Error.Busy: StopContainer '$TAG-busy-rep-[0-9]*' refused: 2 container operations are in flight (--max-concurrent-ops=2)")
                [[ $n_busy == 2 ]] || { fail "the Busy errors do not name the call and the limit: $(cat "$d"/? | tr '\n' '|')"; rc=1; }
                for i in 0 1 2 3; do
                        [[ -s $d/$i ]] && continue
                        # in flight: the call has not returned and the container runs
                        kill -0 "${bg[i]}" 2>/dev/null || { fail "StopContainer ${ids[i]} returned early"; rc=1; }
                        kill -KILL "${pids[i]}"
                done
                wait "${bg[@]}"
                for i in 0 1 2 3; do
                        note "StopContainer ${ids[i]}: $(cat "$d/$i")"
                        if [[ $(cat "$d/$i") == *Error.Busy* ]]; then
                                [[ $(state "${ids[i]}") == running ]] || { fail "a Busy stop changed ${ids[i]}: $(state "${ids[i]}")"; rc=1; }
                        else
                                [[ $(cat "$d/$i") != ERROR* && $(state "${ids[i]}") == exited ]] ||
                                        { fail "stop of ${ids[i]}: $(cat "$d/$i"), $(state "${ids[i]}")"; rc=1; }
                        fi
                done
                # the slots were given back: two more calls at once succeed
                for i in 0 1 2 3; do
                        [[ $(state "${ids[i]}") == running ]] && kill -KILL "${pids[i]}"
                done
                for i in 0 1 2 3; do wait_for 10 eval '[[ $(state "${ids[i]}") == exited ]]' || rc=1; done
                zc StartContainer s "${ids[0]}" > "$d/r0" 2>&1 & bg=($!)
                zc StartContainer s "${ids[1]}" > "$d/r1" 2>&1 & bg+=($!)
                wait "${bg[@]}"
                [[ $(cat "$d/r0" "$d/r1") != *ERROR* ]] || { fail "starts after the stops: $(cat "$d/r0" "$d/r1")"; rc=1; }
        fi
        for i in "${ids[@]}"; do discard "$i"; done
        lifecycle_restart_zlayerd || return 1
        return $rc
}
SCENARIOS+=(lifecycle-busy t_lifecycle_busy)

# Removes at once of containers on one bridge: each removal rewrites the
# hosts file of the others, never of one being deleted (a hosts file created
# again in a directory zlayer-exec is emptying failed its Delete with
# "Directory not empty")
t_lifecycle_remove_concurrent() {
        local ids=() bg=() i rc=0 d=$ZL_TMP/rmconc
        mkdir -p "$d"
        for i in 0 1 2 3 4 5; do
                SERVICE=rmconc run_sh "$REG/busybox:latest" true || return 1
                ids+=("$CID")
        done
        for i in 0 1 2 3 4 5; do
                zc RemoveContainer sb "${ids[i]}" false > "$d/$i" 2>&1 &
                bg+=($!)
        done
        wait "${bg[@]}"
        for i in 0 1 2 3 4 5; do
                [[ $(cat "$d/$i") != *ERROR* ]] || { fail "RemoveContainer ${ids[i]}: $(cat "$d/$i")"; rc=1; discard "${ids[i]}"; }
                [[ ! -e $ROOT/containers/${ids[i]} ]] || { fail "${ids[i]} left its directory"; rc=1; }
        done
        return $rc
}
SCENARIOS+=(lifecycle-remove-concurrent t_lifecycle_remove_concurrent)

# A cron container between runs (no test hook: a yearly schedule):
# StartContainer runs it at once, PruneContainers keeps it while its
# schedule runs, and prunes it once a stop ended the schedule
t_lifecycle_cron_start_prune() {
        local id next rc=0
        create cronyear "$(spec_sh "$REG/busybox:latest" 'echo ran' '{"rtype": "cron", "schedule": "@yearly"}')" || return 1
        id=$CID
        next=$(inspect "$id" | jq -r .State.NextRun)
        [[ $next == 20[0-9][0-9]-01-01T00:00:00* ]] || { fail "NextRun of @yearly: $next"; rc=1; }
        start "$id" && wait_exit "$id" || rc=1
        [[ $(logs "$id") == "stdout ran" ]] || { fail "StartContainer did not run it: $(logs "$id")"; rc=1; }
        bcall PruneContainers >/dev/null || rc=1
        [[ $(state "$id") == exited ]] || { fail "pruned while scheduled: $(state "$id" 2>&1)"; rc=1; }
        [[ $(inspect "$id" | jq -r .State.NextRun) == "$next" ]] || { fail "NextRun changed by a run: $(inspect "$id" | jq -r .State.NextRun)"; rc=1; }
        bcall StopContainer st "$id" 0 >/dev/null || rc=1
        bcall PruneContainers | jq -e --arg id "$id" '.data[0] | index($id)' >/dev/null ||
                { fail "not pruned after StopContainer ended its schedule"; rc=1; discard "$id"; }
        return $rc
}
SCENARIOS+=(lifecycle-cron-start-prune t_lifecycle_cron_start_prune)
