# shellcheck shell=bash
# zlayerctl (cli/), driven as a person would: through its own output and
# exit codes. Sourced by tests/integration/run; uses its helpers.

ZLCTL=$BUILD/cli/zlayerctl
# zctl ARGS…: zlayerctl on the suite's bus
zctl() { timeout 120 "$ZLCTL" --bus="$ZL_BUS" "$@"; }
cli_built() { [[ -x $ZLCTL ]] || { fail "$ZLCTL is not built"; return 1; }; }

t_cli_pull_pipe_then_images() {
        cli_built || return 1
        local out rc id
        out=$(zctl pull "$REG/busybox:latest" | cat); rc=${PIPESTATUS[0]}
        note "pull: $(tr '\n' '|' <<<"$out")"
        [[ $rc == 0 ]] || { fail "pull exited $rc"; return 1; }
        has_line "$out" "Pulling $REG/busybox:latest" || return 1
        has_line "$out" "Digest: $(zl_fixture_digest busybox)" || return 1
        [[ $(tail -1 <<<"$out") == "$REG/busybox:latest" ]] || { fail "last line is not the reference"; return 1; }
        [[ $out != *$'\e'* ]] || { fail "escape sequences in a pipe"; return 1; }
        out=$(zctl images) || { fail "images failed"; return 1; }
        note "images: $(tr '\n' '|' <<<"$out")"
        # docker's columns; the image id is the config digest InspectImage reports
        id=$(bcall InspectImage s "$REG/busybox:latest" | jq -r '.data[0] | fromjson | .Id') || { fail "InspectImage"; return 1; }
        [[ $id == sha256:* ]] || { fail "InspectImage gave no Id: $id"; return 1; }
        grep -Eq "^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$" <<<"$out" || { fail "no table header"; return 1; }
        grep -Eq "^$REG/busybox +latest +${id:7:12} +[A-Za-z0-9 ]+ ago +[0-9.]+[kM]?B$" <<<"$out" || { fail "no busybox row"; return 1; }
        zctl images -q "$REG/busybox" | zl_grep -qx "${id:7:12}" || { fail "images -q does not print the id"; return 1; }
        zctl images -q --no-trunc | zl_grep -qx "$id" || { fail "images -q --no-trunc does not print the whole id"; return 1; }
        zctl images --digests | zl_grep -Eq "^$REG/busybox +latest +$(zl_fixture_digest busybox) +${id:7:12} " ||
                { fail "images --digests lacks the manifest digest"; return 1; }
        [[ $(zctl images --format '{{.Repository}}:{{.Tag}}|{{.ID}}' "$REG/busybox") == "$REG/busybox:latest|${id:7:12}" ]] ||
                { fail "images --format: $(zctl images --format '{{.Repository}}:{{.Tag}}|{{.ID}}' "$REG/busybox")"; return 1; }
        zctl images --format '{{.Nope}}' >/dev/null 2>&1 && { fail "an unknown --format field was accepted"; return 1; }
        zctl images --json | jq -e --arg r "$REG/busybox:latest" --arg d "$(zl_fixture_digest busybox)" --arg id "$id" \
                'map(select(.reference == $r and .digest == $d and .id == $id and .size > 0 and (.created | test("^[0-9]{4}-")))) | length == 1' >/dev/null ||
                { fail "images --json lacks $REG/busybox:latest"; return 1; }
}

t_cli_run_output_and_exit_code() {
        cli_built || return 1
        local out rc
        out=$(zctl run --rm --service "$TAG-clirun" "$REG/busybox:latest" sh -c 'echo to-out; echo to-err >&2; exit 3' \
                2> "$ZL_TMP/cli.err"); rc=$?
        note "run: rc $rc, stdout '$out', stderr '$(tr '\n' '|' < "$ZL_TMP/cli.err")'"
        [[ $rc == 3 ]] || { fail "run exited $rc, the container exited 3"; return 1; }
        [[ $out == to-out ]] || { fail "stdout '$out'"; return 1; }
        grep -qx to-err "$ZL_TMP/cli.err" || { fail "stderr lacks to-err"; return 1; }
        # --rm: gone afterwards
        zctl ps -a --format '{{.ID}}' | zl_grep -qx "$TAG-clirun-rep-0" && { fail "--rm left $TAG-clirun-rep-0"; return 1; }
        return 0
}

t_cli_run_generated_name() {
        cli_built || return 1
        local id
        id=$(zctl run -d "$REG/busybox:latest" sleep 100) || { fail "run -d failed"; return 1; }
        note "generated id $id"
        [[ $id =~ ^[a-z]+-[a-z]+-rep-0$ ]] || { fail "id '$id' is not adjective-noun-rep-0"; zctl rm -f "$id" >/dev/null; return 1; }
        zctl rm -f "$id" >/dev/null || { fail "rm -f $id failed"; return 1; }
}

t_cli_detach_ps_stop_rm() {
        cli_built || return 1
        local id out
        id=$(zctl run -d --service "$TAG-clid" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        [[ $id == "$TAG-clid-rep-0" ]] || { fail "run -d printed '$id'"; return 1; }
        out=$(zctl ps) || return 1
        note "ps: $(grep -F "$id" <<<"$out")"
        grep -Eq "^$id +$REG/busybox:latest +.* ago +Up .* +$id$" <<<"$out" || { fail "ps lacks a running $id row"; return 1; }
        zctl ps --json | jq -e --arg id "$id" 'map(select(.id == $id and .state == "running" and .created_usec > 0)) | length == 1' \
                >/dev/null || { fail "ps --json lacks running $id"; return 1; }
        [[ $(zctl ps --format '{{.ID}}|{{.Names}}|{{.Image}}|{{.State}}' | grep -F "$id|") == "$id|$id|$REG/busybox:latest|running" ]] ||
                { fail "ps --format: $(zctl ps --format '{{.ID}}|{{.Names}}|{{.Image}}|{{.State}}')"; return 1; }
        [[ $(zctl stop -t 1 "$id") == "$id" ]] || { fail "stop did not print $id"; return 1; }
        zctl ps --format '{{.ID}}' | zl_grep -qx "$id" && { fail "ps (without -a) still shows the stopped $id"; return 1; }
        out=$(zctl ps -a --format '{{.ID}} {{.Status}}' | grep "^$id ")
        note "ps -a: $out"
        [[ $out =~ ^$id\ Exited\ \(143\)\ .*ago$ ]] || { fail "ps -a status '$out'"; return 1; }
        [[ $(zctl wait "$id") == 143 ]] || { fail "wait did not print 143"; return 1; }
        [[ $(zctl rm "$id") == "$id" ]] || { fail "rm did not print $id"; return 1; }
        zctl ps -a --format '{{.ID}}' | zl_grep -qx "$id" && { fail "rm left $id"; return 1; }
        out=$(zctl rm "$id" 2>&1); local rc=$?
        [[ $rc == 125 && $out == *"$id"* ]] || { fail "rm of a removed container: rc $rc '$out'"; return 1; }
}

t_cli_run_flags() {
        cli_built || return 1
        local out
        out=$(zctl run --rm --service "$TAG-cliflags" -e GREETING=hello-e -w /tmp -u 1234:4321 "$REG/busybox:latest" \
                sh -c 'echo "$GREETING"; pwd; id -u; id -g') || { fail "run failed"; return 1; }
        note "run -e -w -u: $(tr '\n' '|' <<<"$out")"
        [[ $out == $'hello-e\n/tmp\n1234\n4321' ]] || { fail "output '$out'"; return 1; }
        out=$(zctl run --rm --service "$TAG-cliep" --entrypoint /bin/echo "$REG/busybox:latest" from entrypoint) ||
                { fail "run --entrypoint failed"; return 1; }
        [[ $out == "from entrypoint" ]] || { fail "--entrypoint output '$out'"; return 1; }
}

t_cli_run_bind_volume() {
        cli_built || return 1
        local dir=$ZL_TMP/cli-bind out
        mkdir -p "$dir/ro" "$dir/rw" && chmod 0777 "$dir/rw"
        echo from-host > "$dir/ro/file"
        out=$(zctl run --rm --service "$TAG-clibind" -v "$dir/ro:/in:ro" -v "$dir/rw:/out" --tmpfs /scratch \
                "$REG/busybox:latest" sh -c 'cat /in/file; touch /in/x 2>/dev/null && echo ro-writable || echo ro-readonly; echo from-ctr > /out/f; touch /scratch/t && echo tmpfs-ok') ||
                { fail "run -v failed: $out"; return 1; }
        note "run -v: $(tr '\n' '|' <<<"$out")"
        [[ $out == $'from-host\nro-readonly\ntmpfs-ok' ]] || { fail "output '$out'"; return 1; }
        [[ $(cat "$dir/rw/f") == from-ctr ]] || { fail "rw bind not written through"; return 1; }
}

t_cli_run_memory_cgroup() {
        cli_built || return 1
        local id pid mem pids
        id=$(zctl run -d --service "$TAG-climem" --memory 48m --pids-limit 33 "$REG/busybox:latest" sleep 1000) ||
                { fail "run -d --memory failed"; return 1; }
        pid=$(cpid "$id")
        mem=$(cgroup_dir "$pid" memory) && pids=$(cgroup_dir "$pid" pids) || { fail "no cgroups for $pid"; return 1; }
        [[ $(cat "$mem/memory.limit_in_bytes") == $((48 * 1024 * 1024)) ]] ||
                { fail "memory.limit_in_bytes $(cat "$mem/memory.limit_in_bytes")"; return 1; }
        [[ $(cat "$pids/pids.max") == 33 ]] || { fail "pids.max $(cat "$pids/pids.max")"; return 1; }
        zctl rm -f "$id" >/dev/null || { fail "rm -f failed"; return 1; }
}

t_cli_logs_tail() {
        cli_built || return 1
        local id out
        id=$(zctl create --service "$TAG-clilogs" "$REG/busybox:latest" sh -c 'for i in 1 2 3 4 5; do echo line$i; done') ||
                { fail "create failed"; return 1; }
        [[ $(zctl ps -a --format '{{.ID}} {{.Status}}' | grep "^$id ") == "$id Created" ]] || { fail "created container not 'Created'"; return 1; }
        zctl start "$id" >/dev/null || { fail "start failed"; return 1; }
        [[ $(zctl wait "$id") == 0 ]] || { fail "wait did not print 0"; return 1; }
        out=$(zctl logs --tail 2 "$id")
        [[ $out == $'line4\nline5' ]] || { fail "logs --tail 2: '$out'"; return 1; }
        out=$(zctl logs -t "$id" | tail -1)
        [[ $out =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ line5$ ]] || { fail "logs -t: '$out'"; return 1; }
        # -f of an exited container prints everything and ends
        out=$(zctl logs -f "$id" 2>&1); local rc=$?
        [[ $rc == 0 && $out == $'line1\nline2\nline3\nline4\nline5' ]] || { fail "logs -f: rc $rc '$out'"; return 1; }
        # --since/--until: unix seconds, RFC 3339 and durations, as docker takes them
        out=$(zctl logs --since 10m "$id") && [[ $out == *line5* ]] || { fail "logs --since 10m: '$out'"; return 1; }
        out=$(zctl logs --since "$(( $(date +%s) + 3600 ))" "$id") && [[ -z $out ]] || { fail "logs --since an hour ahead: '$out'"; return 1; }
        out=$(zctl logs --until 1970-01-02T00:00:00Z "$id") && [[ -z $out ]] || { fail "logs --until 1970: '$out'"; return 1; }
        out=$(zctl logs --since 1h --until "$(( $(date +%s) + 60 ))" "$id") && [[ $out == *line1* ]] ||
                { fail "logs --since 1h --until in a minute: '$out'"; return 1; }
        zctl logs --since yesterday "$id" >/dev/null 2>&1 && { fail "logs --since yesterday accepted"; return 1; }
        zctl rm "$id" >/dev/null
}

t_cli_exit_codes_125_127() {
        cli_built || return 1
        local rc out
        out=$(zctl run --rm --service "$TAG-clibad" "127.0.0.1:$DEAD_PORT/nope:latest" true 2>&1); rc=$?
        note "bad image: rc $rc: $(tr '\n' '|' <<<"$out")"
        [[ $rc == 125 && $out == *"127.0.0.1:$DEAD_PORT"* ]] || { fail "bad image gave $rc"; return 1; }
        out=$(zctl run --rm --service "$TAG-clinocmd" "$REG/busybox:latest" /no/such/cmd 2>&1); rc=$?
        note "missing command: rc $rc: $out"
        [[ $rc == 127 && $out == *"/no/such/cmd"* ]] || { fail "missing command gave $rc"; return 1; }
        zctl ps -a --format '{{.ID}}' | zl_grep -q "^$TAG-clinocmd" && { fail "--rm left the failed container"; return 1; }
        out=$(zctl run --bogus-flag "$REG/busybox:latest" 2>&1); rc=$?
        [[ $rc == 125 ]] || { fail "unknown flag gave $rc"; return 1; }
        out=$(zctl frobnicate 2>&1); rc=$?
        [[ $rc == 125 && $out == *frobnicate* ]] || { fail "unknown verb gave $rc: $out"; return 1; }
}

t_cli_bus_from_env_info_version() {
        cli_built || return 1
        local out
        out=$(ZLAYER_BUS_ADDRESS=$ZL_BUS timeout 30 "$ZLCTL" version) || { fail "version via ZLAYER_BUS_ADDRESS failed"; return 1; }
        grep -q "^ Version: " <<<"$out" && [[ $(grep -c "Version:" <<<"$out") == 2 ]] || { fail "version: $out"; return 1; }
        out=$(ZLAYER_BUS_ADDRESS=$ZL_BUS timeout 30 "$ZLCTL" info) || { fail "info failed"; return 1; }
        has_line "$out" "Storage Root: $ROOT" || return 1
        grep -Eq "^Images: [1-9]" <<<"$out" || { fail "info: $out"; return 1; }
        ZLAYER_BUS_ADDRESS=unix:path=$ZL_TMP/no-such-bus timeout 30 "$ZLCTL" ps >/dev/null 2>&1
        [[ $? == 125 ]] || { fail "ps on a missing bus did not exit 125"; return 1; }
}

t_cli_inspect() {
        cli_built || return 1
        local out rc
        out=$(zctl inspect "$REG/busybox:latest" 2>&1); rc=$?
        if [[ $out == *"not supported by this zlayerd"* ]]; then
                [[ $rc == 125 ]] || { fail "unsupported inspect exit $rc"; return 1; }
                note "InspectImage unsupported: $out"
        else
                [[ $rc == 0 ]] || { fail "inspect exit $rc: $out"; return 1; }
                jq -e 'length == 1 and (.[0] | type == "object")' <<<"$out" >/dev/null || { fail "inspect output is not a JSON array of one object"; return 1; }
        fi
        out=$(zctl inspect no-such-thing-xyz 2>&1); rc=$?
        [[ $rc == 125 && $out == *no-such-thing-xyz* ]] || { fail "inspect of nothing: $rc $out"; return 1; }
}

t_cli_deploy_idempotent() {
        cli_built || return 1
        local f=$ZL_TMP/deploy.yaml svc=$TAG-clidep out n
        cat > "$f" <<EOY
version: v1
deployment: clitest
services:
  $svc:
    image:
      name: $REG/busybox:latest
    command:
      entrypoint: ["/bin/sleep", "1000"]
    scale:
      mode: fixed
      replicas: 2
EOY
        out=$(zctl deploy "$f") || { fail "deploy failed: $out"; return 1; }
        note "deploy: $(tr '\n' '|' <<<"$out")"
        has_line "$out" "$svc-rep-1: created and started" && has_line "$out" "$svc-rep-2: created and started" || return 1
        n=$(zctl ps --format '{{.ID}} {{.State}}' | grep -c "^$svc-rep-[12] running$")
        [[ $n == 2 ]] || { fail "$n running replicas after deploy"; return 1; }
        out=$(zctl deploy "$f") || { fail "second deploy failed"; return 1; }
        has_line "$out" "$svc-rep-1: running (unchanged)" && has_line "$out" "$svc-rep-2: running (unchanged)" || return 1
        [[ $(zctl ps -a --format '{{.ID}}' | grep -c "^$svc-") == 2 ]] || { fail "second deploy changed the count"; return 1; }
        zctl rm -f "$svc-rep-1" "$svc-rep-2" >/dev/null
}

t_cli_ps_table_in_tmux() {
        cli_built || return 1
        command -v tmux >/dev/null || { fail "tmux is not installed (apt-get install tmux)"; return 1; }
        local id sock=$ZL_TMP/tmux.sock screen hdr row i
        id=$(zctl run -d --service "$TAG-clitty" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        tmux -S "$sock" new-session -d -x 220 -y 40 -s clitest "env -u TMUX bash --norc --noprofile" || { fail "tmux failed"; return 1; }
        tmux -S "$sock" send-keys -t clitest "PS1='$ '; clear; '$ZLCTL' --bus='$ZL_BUS' ps; echo END-OF-PS" Enter
        for ((i = 0; i < 50; i++)); do
                screen=$(tmux -S "$sock" capture-pane -p -t clitest)
                grep -q '^END-OF-PS' <<<"$screen" && break
                sleep 0.1
        done
        tmux -S "$sock" kill-server
        zctl rm -f "$id" >/dev/null
        note "screen: $(grep -v '^$' <<<"$screen" | tr '\n' '|')"
        hdr=$(grep '^CONTAINER ID' <<<"$screen") || { fail "no header on the terminal"; return 1; }
        row=$(grep "^$id " <<<"$screen") || { fail "no row for $id on the terminal"; return 1; }
        # every column of the row starts where its header does
        local col off
        for col in IMAGE CREATED STATUS NAMES; do
                off=$(awk -v h="$hdr" -v c="$col" 'BEGIN { print index(h, c) }')
                [[ $off -gt 1 && ${row:off-2:1} == " " && ${row:off-1:1} != " " ]] ||
                        { fail "column $col (offset $off) not aligned: '$row'"; return 1; }
        done
        [[ ${row:$(( $(awk -v h="$hdr" 'BEGIN { print index(h, "IMAGE") }') - 1 ))} == "$REG/busybox:latest "* ]] ||
                { fail "IMAGE column does not hold the image"; return 1; }
}

t_cli_bash_completion() {
        cli_built || return 1
        local id out
        id=$(zctl create --service "$TAG-clicomp" "$REG/busybox:latest" true) || { fail "create failed"; return 1; }
        out=$(PATH=$BUILD/cli:$PATH ZLAYER_BUS_ADDRESS=$ZL_BUS bash --norc -c '
                . "$1"
                COMP_WORDS=(zlayerctl st); COMP_CWORD=1; _zlayerctl; echo "verbs: ${COMPREPLY[*]}"
                COMP_WORDS=(zlayerctl rm ""); COMP_CWORD=2; _zlayerctl; echo "ids: ${COMPREPLY[*]}"
                COMP_WORDS=(zlayerctl run ""); COMP_CWORD=2; _zlayerctl; echo "images: ${COMPREPLY[*]}"
                COMP_WORDS=(zlayerctl stop --t); COMP_CWORD=2; _zlayerctl; echo "flags: ${COMPREPLY[*]}"' _ "$ZL_SRCDIR/cli/zlayerctl.bash")
        zctl rm "$id" >/dev/null
        note "completion: $(tr '\n' '|' <<<"$out")"
        has_line "$out" "verbs: start stats stop" && has_line "$out" "flags: --time" || return 1
        grep -q "^ids: .*\b$id\b" <<<"$out" || { fail "container $id not completed"; return 1; }
        grep -qF "$REG/busybox:latest" <<<"$(grep '^images: ' <<<"$out")" || { fail "image not completed"; return 1; }
}

t_cli_run_forwards_sigterm() {
        cli_built || return 1
        local pid rc i
        "$ZLCTL" --bus="$ZL_BUS" run --rm --service "$TAG-clisig" "$REG/busybox:latest" \
                sh -c 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.1; done' > "$ZL_TMP/clisig.out" 2>&1 &
        pid=$!
        for ((i = 0; i < 100; i++)); do grep -q ready "$ZL_TMP/clisig.out" && break; sleep 0.1; done
        grep -q ready "$ZL_TMP/clisig.out" || { fail "the container never said ready"; kill "$pid"; return 1; }
        kill -TERM "$pid"
        wait "$pid"; rc=$?
        note "run after SIGTERM: rc $rc, output $(tr '\n' '|' < "$ZL_TMP/clisig.out")"
        [[ $rc == 9 ]] || { fail "run exited $rc, the container's trap exits 9"; return 1; }
        grep -qx got-term "$ZL_TMP/clisig.out" || { fail "the container's trap output was not printed"; return 1; }
}

# ExecPty may not be in every daemon yet: then the verbs must say so (125).
cli_exec_pty_supported() {
        local out rc
        out=$(zctl exec -e PROBE=1 "$1" true 2>&1); rc=$?
        if [[ $out == *"not supported by this zlayerd"* ]]; then
                [[ $rc == 125 ]] || { fail "unsupported ExecPty exit $rc"; return 2; }
                note "ExecPty unsupported: $out"
                return 1
        fi
        [[ $rc == 0 ]] || { fail "exec -e … true exit $rc: $out"; return 2; }
}

t_cli_exec() {
        cli_built || return 1
        local id out rc
        id=$(zctl run -d --service "$TAG-cliexec" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        out=$(zctl exec "$id" sh -c 'echo buffered-out; echo buffered-err >&2; exit 4' 2> "$ZL_TMP/cliexec.err"); rc=$?
        if grep -q "not supported by this zlayerd" "$ZL_TMP/cliexec.err"; then
                [[ $rc == 125 ]] || { fail "unsupported Exec exit $rc"; return 1; }
        else
                [[ $rc == 4 && $out == buffered-out ]] || { fail "exec: rc $rc '$out'"; return 1; }
                grep -qx buffered-err "$ZL_TMP/cliexec.err" || { fail "exec stderr"; return 1; }
        fi
        cli_exec_pty_supported "$id"; rc=$?
        if [[ $rc == 0 ]]; then
                out=$(zctl exec -e FOO=bar -w /tmp -u 1234 "$id" sh -c 'echo "$FOO $(pwd) $(id -u)"; exit 5'); rc=$?
                [[ $rc == 5 && $out == "bar /tmp 1234" ]] || { fail "exec -e -w -u: rc $rc '$out'"; return 1; }
                out=$(printf 'line-a\nline-b\n' | zctl exec -i "$id" sh -c 'cat; echo stdin-closed') ||
                        { fail "exec -i failed"; return 1; }
                [[ $out == $'line-a\nline-b\nstdin-closed' ]] || { fail "exec -i output '$out'"; return 1; }
                out=$(zctl exec -t "$id" true < /dev/null 2>&1); rc=$?
                [[ $rc == 125 && $out == *"not a TTY"* ]] || { fail "exec -t without a tty: rc $rc '$out'"; return 1; }
        elif [[ $rc == 2 ]]; then
                return 1
        fi
        zctl rm -f "$id" >/dev/null
}

# tmux_wait SOCK PATTERN: until the pane shows a line matching PATTERN (5 s)
tmux_wait() {
        local i
        for ((i = 0; i < 50; i++)); do
                TMUX_SCREEN=$(tmux -S "$1" capture-pane -p -t clitest)
                grep -q -- "$2" <<<"$TMUX_SCREEN" && return 0
                sleep 0.1
        done
        fail "the terminal never showed '$2': $(grep -v '^$' <<<"$TMUX_SCREEN" | tr '\n' '|')"
        return 1
}

t_cli_exec_it_in_tmux() {
        cli_built || return 1
        command -v tmux >/dev/null || { fail "tmux is not installed (apt-get install tmux)"; return 1; }
        local id sock=$ZL_TMP/tmux-exec.sock rc
        id=$(zctl run -d --service "$TAG-cliexit" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        cli_exec_pty_supported "$id"; rc=$?
        if [[ $rc != 0 ]]; then
                zctl rm -f "$id" >/dev/null
                [[ $rc == 1 ]]; return
        fi
        # tmux_typed, tmux_shell_resize_exit: attach.sh (run -it does the same)
        tmux_typed "$sock" "'$ZLCTL' --bus='$ZL_BUS' exec -it $id sh" || return 1
        tmux_shell_resize_exit "$sock"; rc=$?
        tmux -S "$sock" kill-server
        zctl rm -f "$id" >/dev/null
        return $rc
}

t_cli_pull_tty_bars() {
        cli_built || return 1
        command -v script >/dev/null || { fail "script(1) missing"; return 1; }
        local pipe tty
        pipe=$(zctl pull "$REG/layered:latest" | cat) || { fail "pull into a pipe failed"; return 1; }
        if ! grep -Eq '^[0-9a-f]{12}: ' <<<"$pipe"; then
                note "no per-layer lines: this zlayerd has no pull Jobs; pipe output: $(tr '\n' '|' <<<"$pipe")"
                return 0
        fi
        tty=$(script -qfec "'$ZLCTL' --bus='$ZL_BUS' pull '$REG/layered:latest'" /dev/null) || { fail "pull on a pty failed"; return 1; }
        note "pty: $(cat -v <<<"$tty" | tr '\n' '|' | cut -c1-400)"
        [[ $tty == *$'\e[2K'* ]] || { fail "no bar redraws (ESC [2K) on a terminal"; return 1; }
        grep -q "Digest: $(zl_fixture_digest layered)" <<<"$tty" || { fail "no digest line on the terminal"; return 1; }
}

# A non-root user on a terminal gets pkttyagent (as systemctl does), unless
# --no-ask-password; root and pipes never. Watched with strace: this machine
# has no logind session, so polkit cannot route a challenge to the agent.
t_cli_polkit_agent_on_tty() {
        cli_built || return 1
        command -v tmux >/dev/null && command -v strace >/dev/null || { fail "tmux or strace missing"; return 1; }
        [[ -x /usr/bin/pkttyagent ]] || { fail "/usr/bin/pkttyagent missing (polkitd package)"; return 1; }
        local sock=$ZL_TMP/tmux-pk.sock t=$ZL_TMP/pk-trace as="setpriv --reuid=65534 --regid=65534 --clear-groups"
        rm -f "$t".*
        tmux -S "$sock" new-session -d -x 200 -y 40 -s clitest "env -u TMUX bash --norc --noprofile" || { fail "tmux failed"; return 1; }
        tmux -S "$sock" send-keys -t clitest "clear; for m in user nopw root; do case \$m in user) p='$as'; o=;; nopw) p='$as'; o=--no-ask-password;; root) p=; o=;; esac; strace -f -o $t.\$m -e trace=execve \$p '$ZLCTL' \$o --bus='$ZL_BUS' ps > /dev/null; done; echo PK-DONE" Enter
        tmux_wait "$sock" '^PK-DONE' || { tmux -S "$sock" kill-server; return 1; }
        tmux -S "$sock" kill-server
        grep -q 'execve("/usr/bin/pkttyagent", \["/usr/bin/pkttyagent", "--notify-fd", "3", "--fallback"\].* = 0$' "$t.user" ||
                { fail "no pkttyagent for a non-root user on a terminal"; return 1; }
        grep -q 'execve(".*zlayerctl"' "$t.nopw" && grep -q 'execve(".*zlayerctl"' "$t.root" ||
                { fail "no trace of zlayerctl with --no-ask-password or as root"; return 1; }
        ! grep -q pkttyagent "$t.nopw" || { fail "pkttyagent despite --no-ask-password"; return 1; }
        ! grep -q pkttyagent "$t.root" || { fail "pkttyagent for root"; return 1; }
        strace -f -o "$t.pipe" -e trace=execve setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$ZLCTL" --bus="$ZL_BUS" ps < /dev/null > /dev/null 2>&1
        grep -q 'execve(".*zlayerctl"' "$t.pipe" || { fail "no trace of zlayerctl without a terminal"; return 1; }
        ! grep -q pkttyagent "$t.pipe" || { fail "pkttyagent without a terminal"; return 1; }
}

# cli_try CMD…: runs zctl CMD, its output (stdout and stderr) in CLI_OUT,
# returns its exit status. Every method zlayerctl calls is implemented now:
# "not supported by this zlayerd" is a failure, whatever the exit status.
cli_try() {
        local rc
        CLI_OUT=$(zctl "$@" 2>&1); rc=$?
        if [[ $CLI_OUT == *"not supported by this zlayerd"* ]]; then
                fail "$1: the daemon says unsupported: $CLI_OUT"
                return 125
        fi
        return $rc
}

t_cli_thin_wrappers() {
        cli_built || return 1
        local id pids
        id=$(zctl run -d --service "$TAG-cliwrap" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        cli_try top "$id" && grep -Eq '^UID +PID +' <<<"$CLI_OUT" && grep -Eq ' sleep 1000$' <<<"$CLI_OUT" ||
                { fail "top: $(tr '\n' '|' <<<"$CLI_OUT")"; return 1; }
        cli_try pause "$id" && [[ $CLI_OUT == "$id" ]] || { fail "pause: $CLI_OUT"; return 1; }
        [[ $(zctl ps --format '{{.ID}} {{.State}}' | grep "^$id ") == "$id paused" ]] ||
                { fail "pause not shown by ps: $(zctl ps --format '{{.ID}} {{.State}}')"; return 1; }
        cli_try unpause "$id" && [[ $CLI_OUT == "$id" ]] || { fail "unpause: $CLI_OUT"; return 1; }
        [[ $(zctl ps --format '{{.ID}} {{.State}}' | grep "^$id ") == "$id running" ]] ||
                { fail "unpause not shown by ps"; return 1; }
        cli_try rename "$id" "$TAG-cliwrap-renamed" || { fail "rename: $CLI_OUT"; return 1; }
        [[ $(zctl ps --format '{{.ID}} {{.Names}}' | grep "^$id ") == "$id $TAG-cliwrap-renamed" ]] ||
                { fail "rename not shown by ps"; return 1; }
        zctl exec "$id" sh -c 'echo x > /cli-diff-file' >/dev/null 2>&1 || { fail "exec failed"; return 1; }
        cli_try diff "$id" && has_line "$CLI_OUT" "A /cli-diff-file" || { fail "diff: $CLI_OUT"; return 1; }
        cli_try update --pids-limit 21 "$id" || { fail "update: $CLI_OUT"; return 1; }
        pids=$(cgroup_dir "$(cpid "$id")" pids)
        [[ $(cat "$pids/pids.max") == 21 ]] || { fail "update --pids-limit: pids.max $(cat "$pids/pids.max")"; return 1; }
        cli_try inspect --type container "$id" && jq -e 'length == 1 and (.[0] | type == "object")' <<<"$CLI_OUT" >/dev/null ||
                { fail "inspect container: $CLI_OUT"; return 1; }
        zctl rm -f "$id" >/dev/null
        cli_try history "$REG/busybox:latest" && grep -Eq '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' <<<"$CLI_OUT" ||
                { fail "history: $CLI_OUT"; return 1; }
        cli_try tag "$REG/busybox:latest" "$REG/busybox:cli-tag" || { fail "tag: $CLI_OUT"; return 1; }
        zctl images --format '{{.Repository}}:{{.Tag}}' | zl_grep -qx "$REG/busybox:cli-tag" || { fail "tag not listed by images"; return 1; }
        cli_try rmi "$REG/busybox:cli-tag" || { fail "rmi: $CLI_OUT"; return 1; }
        ! zctl images --format '{{.Repository}}:{{.Tag}}' | zl_grep -qx "$REG/busybox:cli-tag" || { fail "rmi left the tag"; return 1; }
        zctl images --format '{{.Repository}}:{{.Tag}}' | zl_grep -qx "$REG/busybox:latest" || { fail "rmi of a tag removed the image"; return 1; }
}

t_cli_cp_both_directions() {
        cli_built || return 1
        local id d=$ZL_TMP/cli-cp rc
        rm -rf "$d"; mkdir -p "$d/in/sub" "$d/out"
        echo top-file > "$d/in/f1"; echo deep-file > "$d/in/sub/f2"
        id=$(zctl run -d --service "$TAG-clicp" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        cli_try cp "$d/in/f1" "$id:/tmp" || { fail "cp file in: $CLI_OUT"; return 1; }
        cli_try cp "$d/in/sub" "$id:/tmp" || { fail "cp dir in: $CLI_OUT"; return 1; }
        cli_try cp "$id:/tmp/sub" "$d/out" || { fail "cp dir out: $CLI_OUT"; return 1; }
        cli_try cp "$id:/tmp/f1" "$d/out/renamed" || { fail "cp file out to a new name: $CLI_OUT"; return 1; }
        [[ $(cat "$d/out/sub/f2") == deep-file && $(cat "$d/out/renamed") == top-file ]] || { fail "files not on the host"; return 1; }
        [[ $(ls -A "$d/out" | tr '\n' ' ') == "renamed sub " ]] || { fail "leftovers in $d/out: $(ls -A "$d/out")"; return 1; }
        zctl cp "$id:/tmp/f1" - | tar -t | zl_grep -qx f1 || { fail "cp to - is not a tar of f1"; return 1; }
        cli_try cp "$id:/no/such/file" "$d/out/x"; rc=$?
        [[ $rc == 125 && $CLI_OUT == */no/such/file* ]] || { fail "cp of a missing file: rc $rc $CLI_OUT"; return 1; }
        zctl rm -f "$id" >/dev/null
}

t_cli_save_export_files() {
        cli_built || return 1
        local d=$ZL_TMP/cli-files id rc
        rm -rf "$d"; mkdir -p "$d"
        cli_try save -o "$d/bb.tar" "$REG/busybox:latest" || { fail "save: $CLI_OUT"; return 1; }
        tar -tf "$d/bb.tar" | zl_grep -q manifest.json || { fail "save -o is not a docker-archive"; return 1; }
        # a running container: exporting a never-started one leaves it unremovable (reported)
        id=$(zctl run -d --service "$TAG-cliexp" "$REG/busybox:latest" sleep 1000) || { fail "run -d failed"; return 1; }
        cli_try export -o "$d/exp.tar" "$id" || { fail "export: $CLI_OUT"; return 1; }
        tar -tf "$d/exp.tar" | zl_grep -Eq '^(\./)?bin/busybox$' || { fail "export -o lacks bin/busybox"; return 1; }
        cli_try export -o "$d/none.tar" "$TAG-no-such-rep-0"; rc=$?
        [[ $rc == 125 && ! -e $d/none.tar ]] || { fail "export of a missing container: rc $rc, file left: $(ls "$d")"; return 1; }
        [[ -z $(find "$d" -name '*.zlayerctl-*') ]] || { fail "temp files left: $(ls -A "$d")"; return 1; }
        zctl rm -f "$id" >/dev/null || { fail "rm -f $id failed"; return 1; }
}

# kill -s, port (all, one, an unpublished one), --network NAME
t_cli_kill_port_network() {
        cli_built || return 1
        local id hp out rc
        hp=$(zl_free_port)
        id=$(zctl run -d --service "$TAG-clikill" -p "$hp:80" "$REG/busybox:latest" \
                sh -c 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done') || { fail "run -d failed"; return 1; }
        [[ $(zctl port "$id") == "80/tcp -> 0.0.0.0:$hp" ]] || { fail "port: $(zctl port "$id" 2>&1)"; return 1; }
        [[ $(zctl port "$id" 80/tcp) == "0.0.0.0:$hp" ]] || { fail "port 80/tcp: $(zctl port "$id" 80/tcp 2>&1)"; return 1; }
        out=$(zctl port "$id" 81 2>&1); rc=$?
        [[ $rc == 125 && $out == *81/tcp* ]] || { fail "port of an unpublished port: rc $rc $out"; return 1; }
        out=$(zctl port "$id" 80/sctp 2>&1); rc=$?
        [[ $rc == 125 && $out == *80/sctp* ]] || { fail "port 80/sctp accepted: rc $rc $out"; return 1; }
        for _ in $(seq 50); do zctl logs "$id" 2>/dev/null | zl_grep -qx ready && break; sleep 0.1; done
        out=$(zctl kill -s NOPE "$id" 2>&1); rc=$?
        [[ $rc == 125 && $out == *NOPE* ]] || { fail "kill -s NOPE: rc $rc $out"; return 1; }
        [[ $(zctl kill -s USR1 "$id") == "$id" ]] || { fail "kill -s USR1 did not print the id"; return 1; }
        [[ $(zctl wait "$id") == 7 ]] || { fail "the trap did not run (wait: $(zctl wait "$id"))"; return 1; }
        zctl logs "$id" | zl_grep -qx got-usr1 || { fail "no got-usr1 in the logs"; return 1; }
        # ps --filter: a status filter looks at every container, as docker's
        [[ $(zctl ps -q --filter status=exited --filter "name=$TAG-clikill") == "$id" ]] ||
                { fail "ps --filter status=exited: $(zctl ps -a --format '{{.ID}} {{.State}}')"; return 1; }
        [[ -z $(zctl ps -q --filter status=running --filter status=paused --filter "name=$TAG-clikill") ]] ||
                { fail "ps --filter status=running lists an exited container"; return 1; }
        zctl ps -aq --filter "ancestor=$REG/busybox" --filter "id=${id:0:8}" | zl_grep -qx "$id" ||
                { fail "ps --filter ancestor= id= misses $id"; return 1; }
        [[ -z $(zctl ps -aq --filter "ancestor=$REG/layered" --filter "name=$TAG-clikill") ]] ||
                { fail "ps --filter ancestor matched another image"; return 1; }
        out=$(zctl ps --filter status=sleepy 2>&1); rc=$?
        [[ $rc == 125 && $out == *sleepy* ]] || { fail "ps --filter status=sleepy: rc $rc $out"; return 1; }
        out=$(zctl ps --filter colour=red 2>&1); rc=$?
        [[ $rc == 125 && $out == *colour=red* ]] || { fail "ps --filter colour=red: rc $rc $out"; return 1; }
        zctl rm "$id" >/dev/null || { fail "rm $id"; return 1; }
        # a user-defined network: an address from the pool, as docker network create + run --network
        out=$(zctl run --rm --service "$TAG-clinet" --network "$TAG-clinet" "$REG/busybox:latest" ip -o -4 addr show eth0) ||
                { fail "run --network $TAG-clinet: $out"; return 1; }
        [[ $out == *" inet $NET_POOL_PREFIX."* ]] || { fail "no address of the pool $NET_POOL: $out"; return 1; }
        out=$(zctl run --rm --network 'Bad Name' "$REG/busybox:latest" true 2>&1); rc=$?
        [[ $rc == 125 && $out == *"Bad Name"* ]] || { fail "--network 'Bad Name': rc $rc $out"; return 1; }
}

# commit, image prune (asks first), save → rmi → load, export | import,
# search, container prune: the image verbs as a person types them
t_cli_image_verbs() {
        cli_built || return 1
        local d=$ZL_TMP/cli-imgverbs id img dangling out rc
        rm -rf "$d"; mkdir -p "$d"
        id=$(zctl run -d --service "$TAG-clicommit" "$REG/busybox:latest" sh -c 'echo committed > /c.txt; sleep 1000') ||
                { fail "run -d failed"; return 1; }
        for _ in $(seq 50); do [[ -e /proc/$(cpid "$id")/root/c.txt ]] && break; sleep 0.1; done
        img=$(zctl commit "$id" "$REG/cli-commit:v1") && [[ $img == sha256:* ]] || { fail "commit: $img"; return 1; }
        dangling=$(zctl commit "$id") && [[ $dangling == sha256:* ]] || { fail "commit without a name: $dangling"; return 1; }
        zctl images --format '{{.Repository}} {{.Tag}} {{.ID}}' | zl_grep -qx "<none> <none> ${dangling:7:12}" ||
                { fail "the untagged commit is not listed as <none>: $(zctl images)"; return 1; }
        # images --filter, docker's way to find dangling images and names
        zctl images -q --no-trunc --filter dangling=true | zl_grep -qx "$dangling" || { fail "--filter dangling=true misses it"; return 1; }
        ! zctl images -q --no-trunc --filter dangling=false | zl_grep -qx "$dangling" || { fail "--filter dangling=false lists it"; return 1; }
        [[ $(zctl images --filter "reference=*/cli-commit:*" --format '{{.Repository}}:{{.Tag}}') == "$REG/cli-commit:v1" ]] ||
                { fail "--filter reference: $(zctl images --filter "reference=*/cli-commit:*")"; return 1; }
        zctl images --filter dangling=maybe >/dev/null 2>&1 && { fail "--filter dangling=maybe accepted"; return 1; }
        zctl rm -f "$id" >/dev/null || { fail "rm -f"; return 1; }
        out=$(zctl run --rm "$REG/cli-commit:v1" cat /c.txt) && [[ $out == committed ]] || { fail "the committed image: $out"; return 1; }
        # image prune asks; "n" keeps everything, -f removes the dangling image once
        out=$(echo n | zctl image prune) || { fail "image prune (n) failed"; return 1; }
        [[ $out == *"Are you sure you want to continue? [y/N]"* && $out != *Deleted* ]] || { fail "image prune did not ask: $out"; return 1; }
        zctl images -q --no-trunc | zl_grep -qx "$dangling" || { fail "answering n pruned anyway"; return 1; }
        out=$(zctl image prune -f) || { fail "image prune -f failed"; return 1; }
        [[ $(grep -cx "$dangling" <<<"$out") == 1 ]] || { fail "prune -f did not list $dangling once: $out"; return 1; }
        grep -q '^Total reclaimed space: ' <<<"$out" || { fail "no reclaimed space: $out"; return 1; }
        ! zctl images -q --no-trunc | zl_grep -qx "$dangling" || { fail "the dangling image survived the prune"; return 1; }
        # save → rmi → load keeps the id
        zctl save -o "$d/img.tar" "$REG/cli-commit:v1" || { fail "save"; return 1; }
        zctl rmi "$REG/cli-commit:v1" >/dev/null || { fail "rmi"; return 1; }
        out=$(zctl load -i "$d/img.tar") || { fail "load: $out"; return 1; }
        has_line "$out" "Loaded image: $REG/cli-commit:v1" || return 1
        [[ $(zctl images -q --no-trunc "$REG/cli-commit") == "$img" ]] || { fail "load changed the id: $(zctl images --no-trunc)"; return 1; }
        # export | import -: a one-layer image of the root file system
        id=$(zctl create --service "$TAG-cliimport" "$REG/cli-commit:v1" true) || { fail "create"; return 1; }
        zctl start "$id" >/dev/null && zctl wait "$id" >/dev/null || { fail "start/wait"; return 1; }
        out=$(zctl export "$id" | zctl import - "$REG/cli-import:v1") && [[ $out == sha256:* ]] || { fail "import: $out"; return 1; }
        out=$(zctl run --rm "$REG/cli-import:v1" cat /c.txt) && [[ $out == committed ]] || { fail "the imported image: $out"; return 1; }
        # search the fixture registry's catalog
        out=$(zctl search "$REG/busy") || { fail "search: $out"; return 1; }
        grep -Eq '^NAME +DESCRIPTION +STARS +OFFICIAL +AUTOMATED$' <<<"$out" && grep -Eq "^$REG/busybox " <<<"$out" ||
                { fail "search table: $out"; return 1; }
        [[ $(zctl search --limit 1 "$REG/" | wc -l) == 2 ]] || { fail "search --limit 1: $(zctl search --limit 1 "$REG/")"; return 1; }
        zctl search --limit x "$REG/" >/dev/null 2>&1 && { fail "search --limit x accepted"; return 1; }
        # container prune asks too; -f removes the exited container
        out=$(zctl container prune </dev/null) || { fail "container prune (no answer)"; return 1; }
        zctl ps -a --format '{{.ID}}' | zl_grep -qx "$id" || { fail "no answer pruned anyway"; return 1; }
        out=$(zctl container prune -f) || { fail "container prune -f"; return 1; }
        has_line "$out" "$id" || return 1
        ! zctl ps -a --format '{{.ID}}' | zl_grep -qx "$id" || { fail "container prune -f left $id"; return 1; }
        zctl rmi "$REG/cli-commit:v1" "$REG/cli-import:v1" >/dev/null || { fail "rmi of the test images"; return 1; }
}

# Ctrl-C during pull cancels its Job: a registry that accepts and never
# answers keeps the pull waiting until then.
t_cli_pull_ctrl_c_cancels() {
        cli_built || return 1
        command -v tmux >/dev/null || { fail "tmux is not installed"; return 1; }
        local sock=$ZL_TMP/tmux-pull.sock sp port rc
        python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16); s.settimeout(0.5)
print(s.getsockname()[1], flush=True)
conns, end = [], time.time() + 60
while time.time() < end:
    try:
        conns.append(s.accept()[0])
    except socket.timeout:
        pass' > "$ZL_TMP/stall.port" &
        sp=$!
        for ((rc = 0; rc < 50; rc++)); do [[ -s $ZL_TMP/stall.port ]] && break; sleep 0.1; done
        port=$(cat "$ZL_TMP/stall.port")
        tmux -S "$sock" new-session -d -x 150 -y 40 -s clitest "env -u TMUX bash --norc --noprofile" || { kill "$sp"; fail "tmux failed"; return 1; }
        tmux -S "$sock" send-keys -t clitest "clear; '$ZLCTL' --bus='$ZL_BUS' pull 127.0.0.1:$port/stall:latest; echo \"rc=\$?\"" Enter
        (
                tmux_wait "$sock" "^Pulling 127.0.0.1:$port/stall:latest" || exit 1
                sleep 1
                tmux -S "$sock" send-keys -t clitest C-c
                tmux_wait "$sock" '^rc=' || exit 1
                grep -q '^rc=130$' <<<"$TMUX_SCREEN" || { fail "pull after Ctrl-C: $(grep '^rc=' <<<"$TMUX_SCREEN")"; exit 1; }
                grep -q "pull of 127.0.0.1:$port/stall:latest canceled" <<<"$TMUX_SCREEN" ||
                        { fail "the pull was not canceled: $(grep -v '^$' <<<"$TMUX_SCREEN" | tr '\n' '|')"; exit 1; }
        ); rc=$?
        tmux -S "$sock" kill-server
        kill "$sp"; wait "$sp" 2>/dev/null
        return $rc
}

# stats: one table with --no-stream; live, a table per second (CPU % from the
# second sample on) that ends by itself when its container stops.
t_cli_stats() {
        cli_built || return 1
        local id out n
        id=$(zctl run -d --service "$TAG-clistats" --memory 64m "$REG/busybox:latest" \
                sh -c 'while :; do :; done & sleep 4; kill $!') || { fail "run -d failed"; return 1; }
        out=$(zctl stats --no-stream "$id") || { fail "stats --no-stream failed: $out"; zctl rm -f "$id" >/dev/null; return 1; }
        note "no-stream: $(tr '\n' '|' <<<"$out")"
        grep -Eq "^CONTAINER +CPU % +MEM USAGE / LIMIT +MEM % +PIDS$" <<<"$out" || { fail "no header"; return 1; }
        grep -Eq "^$id +-- +[0-9.]+[kMG]?B / 67.1[0-9]*MB +[0-9.]+% +[2-5]$" <<<"$out" || { fail "no row for $id"; return 1; }
        # live into a pipe: tables until the container stops (~4 s), no escapes
        out=$(timeout 30 "$ZLCTL" --bus="$ZL_BUS" stats "$id"); rc=$?
        n=$(grep -c '^CONTAINER ' <<<"$out")
        note "live: rc $rc, $n tables, CPU column: $(awk -v id="$id" '$1 == id {printf "%s ", $2}' <<<"$out")"
        [[ $rc == 0 ]] || { fail "live stats exited $rc (did not end when the container stopped?)"; return 1; }
        ((n >= 2)) || { fail "$n tables"; return 1; }
        [[ $out != *$'\e'* ]] || { fail "escape sequences in a pipe"; return 1; }
        # the spinner holds one CPU: some sample after the first shows well above 0 %
        awk -v id="$id" '$1 == id && $2 ~ /%$/ && $2 + 0 > 30 {found = 1} END {exit !found}' <<<"$out" ||
                { fail "no CPU % above 30 while a spinner ran"; return 1; }
        zctl rm -f "$id" >/dev/null || { fail "rm -f $id failed"; return 1; }
}

SCENARIOS+=(
        cli-pull-pipe-then-images t_cli_pull_pipe_then_images
        cli-run-output-and-exit-code t_cli_run_output_and_exit_code
        cli-run-generated-name t_cli_run_generated_name
        cli-detach-ps-stop-wait-rm t_cli_detach_ps_stop_rm
        cli-run-env-workdir-user-entrypoint t_cli_run_flags
        cli-run-bind-volume-tmpfs t_cli_run_bind_volume
        cli-run-memory-pids-cgroup t_cli_run_memory_cgroup
        cli-create-start-wait-logs-tail t_cli_logs_tail
        cli-exit-codes-125-127 t_cli_exit_codes_125_127
        cli-bus-env-info-version t_cli_bus_from_env_info_version
        cli-inspect t_cli_inspect
        cli-deploy-idempotent t_cli_deploy_idempotent
        cli-ps-table-in-tmux t_cli_ps_table_in_tmux
        cli-bash-completion t_cli_bash_completion
        cli-run-forwards-sigterm t_cli_run_forwards_sigterm
        cli-exec t_cli_exec
        cli-exec-it-in-tmux t_cli_exec_it_in_tmux
        cli-pull-tty-bars t_cli_pull_tty_bars
        cli-polkit-agent-on-tty t_cli_polkit_agent_on_tty
        cli-thin-wrappers t_cli_thin_wrappers
        cli-cp-both-directions t_cli_cp_both_directions
        cli-save-export-whole-files t_cli_save_export_files
        cli-pull-ctrl-c-cancels-job t_cli_pull_ctrl_c_cancels
        cli-stats t_cli_stats
        cli-kill-port-network t_cli_kill_port_network
        cli-image-verbs t_cli_image_verbs
)

# start -a of a tty container: what this run printed before the attach is
# replayed (the shim's log since the start), not the runs before it
t_cli_start_a_tty_replays_this_run() {
        cli_built || return 1
        local id out1 out2 rc run1 run2
        id=$(zctl create -t --service "$TAG-startatty" "$REG/busybox:latest" \
                sh -c 'echo "run-$(cat /proc/sys/kernel/random/uuid)"; sleep 0.3; echo tty-done; exit 5') ||
                { fail "create -t failed"; return 1; }
        out1=$(zctl start -a "$id" </dev/null 2>&1 | tr -d '\r'); rc=${PIPESTATUS[0]}
        note "first start -a: rc $rc, $(tr '\n' '|' <<<"$out1")"
        [[ $rc == 5 ]] || { fail "start -a exited $rc, wanted the container's 5"; return 1; }
        run1=$(grep '^run-' <<<"$out1")
        [[ $(wc -l <<<"$run1") == 1 && -n $run1 ]] || { fail "wanted one run- line"; return 1; }
        has_line "$out1" tty-done || return 1
        out2=$(zctl start -a "$id" </dev/null 2>&1 | tr -d '\r'); rc=${PIPESTATUS[0]}
        note "second start -a: rc $rc, $(tr '\n' '|' <<<"$out2")"
        [[ $rc == 5 ]] || { fail "second start -a exited $rc"; return 1; }
        run2=$(grep '^run-' <<<"$out2")
        [[ $(wc -l <<<"$run2") == 1 && -n $run2 && $run2 != "$run1" ]] ||
                { fail "the second start -a did not show exactly its own run's line"; return 1; }
        zctl rm -f "$id" >/dev/null
}

# run -i with a pipe: the EOF of our stdin ends the container's (Docker's
# stdin_once for run -i); attach's EOF does not (the container's stdin
# stays open for the next attacher)
t_cli_run_i_stdin_eof() {
        cli_built || return 1
        local out rc id
        out=$(echo hi | timeout 20 "$ZLCTL" --bus="$ZL_BUS" run -i --rm --service "$TAG-runicat" "$REG/busybox:latest" cat); rc=$?
        note "run -i cat: rc $rc, out '$out'"
        [[ $rc == 0 ]] || { fail "echo hi | run -i cat exited $rc (124: did not end at EOF)"; return 1; }
        [[ $out == hi ]] || { fail "output '$out', wanted hi"; return 1; }
        id=$(zctl run -d -i --service "$TAG-attachcat" "$REG/busybox:latest" cat) || { fail "run -d -i failed"; return 1; }
        out=$(echo one | timeout 2 "$ZLCTL" --bus="$ZL_BUS" attach "$id"); rc=$?
        note "attach: rc $rc, out '$out', state $(state "$id")"
        [[ $rc == 124 && $out == one ]] || { fail "attach: rc $rc (wanted still attached at the timeout), out '$out'"; zctl rm -f "$id" >/dev/null; return 1; }
        [[ $(state "$id") == running ]] || { fail "cat ended with attach's EOF"; zctl rm -f "$id" >/dev/null; return 1; }
        zctl rm -f "$id" >/dev/null
}

SCENARIOS+=(
        cli-start-a-tty-replays-this-run t_cli_start_a_tty_replays_this_run
        cli-run-i-stdin-eof-ends-stdin t_cli_run_i_stdin_eof
)
