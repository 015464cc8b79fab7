# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Exec, ExecStream, ExecPty and the Exec objects (issue 5). Sourced by
# tests/integration/run; uses its helpers. tests/integration/zl-pty.c is
# the interactive client (built here like zl-client).

ZLPTY=$ZL_TMP/zl-pty
ZLPTY_BUILT=0
cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 \
        -o "$ZLPTY" "$ZL_SRCDIR/tests/integration/zl-pty.c" $(pkg-config --cflags --libs libsystemd) &&
        ZLPTY_BUILT=1

zlpty() { [[ $ZLPTY_BUILT == 1 ]] || { fail "zl-pty did not build"; return 1; }; timeout 60 "$ZLPTY" "$ZL_BUS" "$@"; }

# xexec ID CMD…: buffered Exec; sets XCODE XOUT XERR
xexec() {
        local id=$1 out; shift
        out=$(bcall Exec sas -- "$id" "$#" "$@") || { fail "Exec $* failed"; return 1; }
        XCODE=$(jq -r '.data[0]' <<<"$out")
        XOUT=$(jq -r '.data[1] | implode' <<<"$out")
        XERR=$(jq -r '.data[2] | implode' <<<"$out")
}

# exec_sleeper [EXTRA_JSON]: a running sleeper with a known env and hostname
exec_sleeper() {
        SERVICE=execbox run_sleep "$(jq -cn --argjson extra "${1:-{\}}" \
                '{env: {FROM_SPEC: "spec-value", SHARED: "from-spec"}} * $extra')"
}

t_exec_buffered() {
        exec_sleeper || return 1
        xexec "$CID" /bin/sh -c 'echo out-line; echo err-line >&2; printf "%s" "$FROM_SPEC"; exit 3' || return 1
        note "Exec: code $XCODE stdout '$XOUT' stderr '$XERR'"
        [[ $XCODE == 3 ]] || { fail "exit code $XCODE, wanted 3"; return 1; }
        [[ $XOUT == $'out-line\nspec-value' ]] || { fail "stdout '$XOUT'"; return 1; }
        [[ $XERR == "err-line" ]] || { fail "stderr '$XERR'"; return 1; }
        # a command that is not there: ExecFailed naming it
        expect_error ExecFailed /nope Exec sas "$CID" 1 /nope || return 1
        # 1 MiB through the buffered path, byte exact
        xexec "$CID" /bin/sh -c 'head -c 1048576 /dev/zero | tr "\0" x' || return 1
        [[ ${#XOUT} == 1048576 ]] || { fail "1 MiB of stdout came back as ${#XOUT} bytes"; return 1; }
        discard "$CID"
}

t_exec_env_workdir_user() {
        exec_sleeper || return 1
        local out rc
        out=$(zlpty run "$CID" --env SHARED=from-exec --env ONLY_EXEC=1 --workdir /tmp --user nobody -- \
                /bin/sh -c 'echo "$FROM_SPEC $SHARED $ONLY_EXEC"; pwd; id -u; id -g; exit 4')
        rc=$?
        note "ExecPty (no tty) with env/working_dir/user: rc $rc, output $(tr '\n' '|' <<<"$out")"
        [[ $rc == 4 ]] || { fail "exit code $rc, wanted 4"; return 1; }
        has_line "$out" "spec-value from-exec 1" || return 1
        has_line "$out" "/tmp" || return 1
        has_line "$out" "65534" || return 1
        # the default user and working dir are the container's
        xexec "$CID" /bin/sh -c 'id -u; pwd' || return 1
        [[ $XOUT == $'0\n/' ]] || { fail "default exec user/cwd gave '$XOUT', wanted 0 and /"; return 1; }
        # stdin reaches the process through the socket
        out=$(zlpty run "$CID" --stdin $'typed-line\n' -- /bin/sh -c 'read x; echo "got:$x"') ||
                { fail "stdin exec failed: $out"; return 1; }
        [[ $out == "got:typed-line" ]] || { fail "stdin exec printed '$out'"; return 1; }
        discard "$CID"
}
t_exec_unknown_user() {
        exec_sleeper || return 1
        local out
        out=$(zlpty run "$CID" --user nobody-such -- /bin/true 2>&1)
        note "unknown user: $out"
        [[ $out == "ERROR com.zlayer.Runtime1.Error.ExecFailed: "*nobody-such* ]] ||
                { fail "unknown user gave '$out'"; return 1; }
        out=$(zlpty run "$CID" --workdir /no/such/dir -- /bin/true 2>&1)
        [[ $out == "ERROR com.zlayer.Runtime1.Error.ExecFailed: "*/no/such/dir* ]] ||
                { fail "missing working_dir gave '$out'"; return 1; }
        expect_error org.freedesktop.DBus.Error.InvalidArgs bogus ExecPty 'sa{sv}' "$CID" 2 \
                command as 1 /bin/true bogus b true || return 1
        discard "$CID"
}

t_exec_stream_framing() {
        exec_sleeper || return 1
        local out rc
        out=$(zlpty stream "$CID" --frames -- /bin/sh -c 'echo a; sleep 0.2; echo bb >&2; sleep 0.2; echo ccc; exit 5')
        rc=$?
        note "ExecStream frames: $(tr '\n' '|' <<<"$out") rc $rc"
        [[ $rc == 5 ]] || { fail "ExecStream exit code $rc, wanted 5"; return 1; }
        [[ $out == $'1 2\n2 3\n1 4' ]] || { fail "frames '$out', wanted stdout 2, stderr 3, stdout 4"; return 1; }
        out=$(zlpty stream "$CID" -- /bin/sh -c 'echo to-out; echo to-err >&2' 2>"$ZL_TMP/stream.err")
        [[ $out == to-out && $(cat "$ZL_TMP/stream.err") == to-err ]] ||
                { fail "demultiplexed stdout '$out' stderr '$(cat "$ZL_TMP/stream.err")'"; return 1; }
        discard "$CID"
}

t_exec_namespaces() {
        exec_sleeper '{"ulimits": {"nofile": {"soft": 512, "hard": 1024}}}' || return 1
        local ns mine theirs
        xexec "$CID" /bin/hostname || return 1
        [[ $XOUT == "$CID" ]] || { fail "exec hostname '$XOUT', wanted $CID"; return 1; }
        for ns in pid mnt net uts ipc cgroup; do
                xexec "$CID" /bin/readlink /proc/self/ns/$ns || return 1
                theirs=$(readlink "/proc/$PID/ns/$ns")
                [[ $XOUT == "$theirs" ]] || { fail "exec's $ns namespace $XOUT, the container's $theirs"; return 1; }
        done
        note "exec shares pid mnt net uts ipc cgroup namespaces with pid $PID"
        # the container's processes: its pid 1 and the sleep, seen from inside
        xexec "$CID" /bin/ps -o pid,args || return 1
        note "ps in the exec: $(tr '\n' '|' <<<"$XOUT")"
        grep -qE '^ *1 ' <<<"$XOUT" || { fail "ps shows no pid 1"; return 1; }
        grep -q 'sleep 1000' <<<"$XOUT" || { fail "ps does not show the container's sleep"; return 1; }
        # its cgroup: the container's (the root of the container's cgroup namespace)
        xexec "$CID" /bin/sh -c 'cat /proc/self/cgroup' || return 1
        grep -qv ':/$' <<<"$XOUT" && { fail "exec outside the container's cgroups: $XOUT"; return 1; }
        # capabilities and no_new_privs: those of the container's entrypoint
        # the container's rlimits (spec ulimits: nofile 512/1024)
        xexec "$CID" /bin/sh -c 'ulimit -n; ulimit -Hn' || return 1
        [[ $XOUT == $'512\n1024' ]] || { fail "exec nofile limits '$XOUT', wanted 512 and 1024"; return 1; }
        xexec "$CID" /bin/sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status' || return 1
        theirs=$(grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$PID/status")
        [[ $XOUT == "$theirs" ]] || { fail "exec caps '$XOUT', entrypoint's '$theirs'"; return 1; }
        note "caps: $(tr '\n\t' '| ' <<<"$XOUT")"
        grep -qP '^Seccomp:\t2$' <<<"$XOUT" || { fail "the exec runs without a seccomp filter"; return 1; }
        discard "$CID"
}

t_exec_pty_shell() {
        exec_sleeper || return 1
        local out rc
        out=$(zlpty shell "$CID")
        rc=$?
        note "$(tr '\n' '|' <<<"$out")"
        [[ $rc == 0 ]] || { fail "interactive shell test failed (rc $rc)"; return 1; }
        discard "$CID"
}

t_exec_invalid_state_not_found() {
        SERVICE=execdone run_sh "$REG/busybox:latest" 'exit 0' || return 1
        expect_error InvalidState "$CID" Exec sas "$CID" 1 /bin/true || return 1
        expect_error InvalidState "$CID" ExecStream sas "$CID" 1 /bin/true || return 1
        expect_error NotFound no-such-ctr Exec sas no-such-ctr 1 /bin/true || return 1
        expect_error NotFound no-such-ctr ExecPty 'sa{sv}' no-such-ctr 1 command as 1 /bin/true || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "" Exec sas "$CID" 0 || return 1
        remove "$CID"
}

# Exec objects: Kill, Wait, properties; a caller that disconnects takes its exec along
t_exec_object_kill_disconnect() {
        exec_sleeper || return 1
        local path out i gone=0
        rm -f "$ZL_TMP/hold.out" "$ZL_TMP/hold2.out"
        "$ZLPTY" "$ZL_BUS" hold "$CID" -- /bin/sleep 777 > "$ZL_TMP/hold.out" 2>&1 &
        local holder=$!
        for ((i = 0; i < 50; i++)); do [[ -s $ZL_TMP/hold.out ]] && break; sleep 0.1; done
        path=$(head -1 "$ZL_TMP/hold.out")
        [[ $path == /com/zlayer/Runtime1/exec/* ]] || { kill "$holder"; fail "hold printed '$path'"; return 1; }
        out=$(busctl --address="$ZL_BUS" --json=short get-property com.zlayer.Runtime1 "$path" \
                com.zlayer.Runtime1.Exec Running | jq -r .data)
        [[ $out == true ]] || { kill "$holder"; fail "Running is '$out'"; return 1; }
        pgrep -f '^/bin/sleep 777$' >/dev/null || { kill "$holder"; fail "no sleep 777 running"; return 1; }
        kill -KILL "$holder"
        wait "$holder" 2>/dev/null
        for ((i = 0; i < 50; i++)); do pgrep -f '^/bin/sleep 777$' >/dev/null || { gone=1; break; }; sleep 0.1; done
        [[ $gone == 1 ]] || { fail "the exec of a vanished caller still runs"; return 1; }
        out=$(busctl --address="$ZL_BUS" --json=short call com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Exec Wait | jq -r '.data[0]')
        note "caller gone: the exec was killed, Wait = $out"
        [[ $out == 137 ]] || { fail "Wait after the disconnect gave $out, wanted 137"; return 1; }

        # Kill through the object
        "$ZLPTY" "$ZL_BUS" hold "$CID" -- /bin/sleep 778 > "$ZL_TMP/hold2.out" 2>&1 &
        holder=$!
        for ((i = 0; i < 50; i++)); do [[ -s $ZL_TMP/hold2.out ]] && break; sleep 0.1; done
        path=$(head -1 "$ZL_TMP/hold2.out")
        busctl --address="$ZL_BUS" call com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Exec Kill s TERM ||
                { kill "$holder"; fail "Kill TERM failed"; return 1; }
        out=$(busctl --address="$ZL_BUS" --json=short call com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Exec Wait | jq -r '.data[0]')
        kill "$holder"; wait "$holder" 2>/dev/null
        [[ $out == 143 ]] || { fail "Wait after Kill TERM gave $out, wanted 143"; return 1; }
        out=$(busctl --address="$ZL_BUS" --json=short get-property com.zlayer.Runtime1 "$path" \
                com.zlayer.Runtime1.Exec ExitCode | jq -r .data)
        [[ $out == 143 ]] || { fail "ExitCode is $out"; return 1; }
        discard "$CID"
        # the Exec objects of a removed container go away
        for ((i = 0; i < 50; i++)); do
                busctl --address="$ZL_BUS" get-property com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Exec Running \
                        >/dev/null 2>&1 || break
                sleep 0.1
        done
        ((i < 50)) || { fail "$path still exported 5 s after its container was removed"; return 1; }
}

# 64 running execs at most; the callers' exits free their slots
t_exec_busy_limit() {
        exec_sleeper || return 1
        local i n holders=() out
        for ((i = 0; i < 64; i++)); do
                "$ZLPTY" "$ZL_BUS" hold "$CID" -- /bin/sleep 779 > "$ZL_TMP/busy.$i" 2>&1 &
                holders+=($!)
        done
        for ((n = 0; n < 100; n++)); do
                [[ $(cat "$ZL_TMP"/busy.* 2>/dev/null | grep -c '^/com/zlayer/Runtime1/exec/') == 64 ]] && break
                sleep 0.1
        done
        note "$(cat "$ZL_TMP"/busy.* | grep -c '^/com/zlayer/Runtime1/exec/') holders with an exec"
        out=$(zlpty run "$CID" -- /bin/true 2>&1)
        note "65th exec: $out"
        kill -KILL "${holders[@]}" 2>/dev/null; wait "${holders[@]}" 2>/dev/null
        [[ $out == "ERROR com.zlayer.Runtime1.Error.Busy: "* ]] || { fail "the 65th exec gave '$out', wanted Busy"; return 1; }
        for ((n = 0; n < 100; n++)); do pgrep -f '^/bin/sleep 779$' >/dev/null || break; sleep 0.1; done
        pgrep -f '^/bin/sleep 779$' >/dev/null && { fail "execs of killed callers still run"; return 1; }
        xexec "$CID" /bin/true && [[ $XCODE == 0 ]] || { fail "no exec after the holders left"; return 1; }
        discard "$CID"
}

# zombies (state Z) among the children of PID
zombies_of() {
        local c n=0
        for c in $(zl_children "$1" 2>/dev/null); do
                [[ $(awk '{ print $3 }' "/proc/$c/stat" 2>/dev/null) == Z ]] && n=$((n + 1))
        done
        echo "$n"
}

t_exec_200_no_zombies() {
        exec_sleeper || return 1
        local i w init fails=0
        for ((i = 0; i < 200; i++)); do
                xexec "$CID" /bin/sh -c "exit $((i % 7))" 2>/dev/null || fails=$((fails + 1))
                [[ ${XCODE:-} == $((i % 7)) ]] || fails=$((fails + 1))
        done
        [[ $fails == 0 ]] || { fail "$fails of 200 execs failed or gave the wrong code"; return 1; }
        # a daemonized leftover: the container's init reaps it
        xexec "$CID" /bin/sh -c '(sleep 0.3 &) ; exit 0' || return 1
        sleep 1
        w=$(worker_pid zlayer-exec) || { fail "no zlayer-exec worker"; return 1; }
        init=$(awk '{ print $4 }' "/proc/$PID/stat")   # the container's pid 1 (its init)
        note "zombies: worker $w: $(zombies_of "$w"), init $init: $(zombies_of "$init"); worker children: $(zl_children "$w" 2>/dev/null | wc -l)"
        [[ $(zombies_of "$w") == 0 ]] || { fail "zombies under zlayer-exec"; return 1; }
        [[ $(zombies_of "$init") == 0 ]] || { fail "zombies under the container's init"; return 1; }
        [[ $(zl_children "$w" 2>/dev/null | wc -l) == 0 ]] || { fail "exec monitors left under zlayer-exec"; return 1; }
        [[ $(zl_children "$init" 2>/dev/null | wc -l) == 1 ]] || { fail "processes left under the container's init: $(zl_children "$init")"; return 1; }
        discard "$CID"
}

SCENARIOS+=(
        exec-buffered t_exec_buffered
        exec-env-workdir-user t_exec_env_workdir_user
        exec-unknown-user-workdir t_exec_unknown_user
        exec-stream-framing t_exec_stream_framing
        exec-namespaces-cgroup-caps t_exec_namespaces
        exec-pty-interactive-shell t_exec_pty_shell
        exec-invalid-state-not-found t_exec_invalid_state_not_found
        exec-object-kill-disconnect t_exec_object_kill_disconnect
        exec-200-no-zombies t_exec_200_no_zombies
        exec-busy-limit t_exec_busy_limit
)
