# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# AttachContainer / ResizeContainerTTY and zlayerctl run -it / attach
# (issues 5 and 8). Sourced by tests/integration/run; uses its helpers.
# attach-client.c is the interactive client (built here like zl-pty).

ATTACH_CLIENT=$ZL_TMP/attach-client
ATTACH_CLIENT_BUILT=0
cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 \
        -o "$ATTACH_CLIENT" "$ZL_SRCDIR/tests/integration/scenarios.d/attach-client.c" \
        $(pkg-config --cflags --libs libsystemd) && ATTACH_CLIENT_BUILT=1

attc() { [[ $ATTACH_CLIENT_BUILT == 1 ]] || { fail "attach-client did not build"; return 1; }; timeout 60 "$ATTACH_CLIENT" "$ZL_BUS" "$@"; }

# attach_box SPEC_EXTRA_JSON ENTRYPOINT…: a running container
attach_box() {
        local extra=$1; shift
        create "${SERVICE:-attach}" "$(jq -cn --arg img "$REG/busybox:latest" --argjson extra "$extra" \
                '{image: {name: $img}, command: {entrypoint: $ARGS.positional}} * $extra' --args "$@")" || return 1
        start "$CID" || return 1
}

attach_shim_fds() { ls "/proc/$(cut -d' ' -f1 "$RUN/containers/$1/shim.pid")/fd" | wc -l; }

t_attach_tty_shell() {
        local out
        SERVICE=ttybox attach_box '{"tty": true, "stdin_open": true}' /bin/sh || return 1
        out=$(attc shell "$CID") || { fail "attach-client shell: $out"; return 1; }
        note "$(tr '\n' '|' <<<"$out")"
        wait_exit "$CID" || return 1
        [[ $EXIT_CODE == 7 ]] || { fail "exit code $EXIT_CODE after 'exit 7', wanted 7"; return 1; }
        # the tty's output is in the log as stdout
        logs "$CID" | zl_grep -q '^stdout .*hello-42' || { fail "hello-42 not logged as stdout: $(logs "$CID")"; return 1; }
        expect_error InvalidState "$CID" AttachContainer 'sa{sv}' "$CID" 0 || return 1
        expect_error InvalidState "$CID" ResizeContainerTTY sqq "$CID" 10 10 || return 1
        discard "$CID"
}

t_attach_stdin_socket() {
        local out
        SERVICE=catbox attach_box '{"stdin_open": true}' /bin/cat || return 1
        out=$(attc cat "$CID" $'typed-through-attach\n') || { fail "attach-client cat: $out"; return 1; }
        note "$(tr '\n' '|' <<<"$out")"
        has_line "$out" "echoed: typed-through-attach" || return 1
        grep -q '^frame 1 ' <<<"$out" || { fail "no stdout frame"; return 1; }
        # a second attacher after the first left: stdin is still open (no stdin_once)
        out=$(attc cat "$CID" $'second-line\n') || { fail "second attach: $out"; return 1; }
        has_line "$out" "echoed: second-line" || return 1
        wait_for 5 eval 'logs "$CID" | zl_grep -qx "stdout second-line"' || { fail "second-line not logged"; return 1; }
        expect_error InvalidState "no tty" ResizeContainerTTY sqq "$CID" 24 80 || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs bogus AttachContainer 'sa{sv}' "$CID" 1 bogus b true || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs 0x0 ResizeContainerTTY sqq "$CID" 0 0 || return 1
        expect_error NotFound nope-such AttachContainer 'sa{sv}' nope-such 0 || return 1
        discard "$CID"
}

t_attach_limit_and_detach() {
        local before pids=() i out
        SERVICE=holdbox attach_box '{}' /bin/sleep 1000 || return 1
        before=$(attach_shim_fds "$CID")
        for ((i = 0; i < 16; i++)); do
                attc hold "$CID" 5 > "$ZL_TMP/hold-$i" 2>&1 &
                pids+=($!)
        done
        wait_for 20 eval '[[ $(cat "$ZL_TMP"/hold-* | grep -c attached) == 16 ]]' ||
                { wait "${pids[@]}"; fail "16 attachers did not all attach: $(cat "$ZL_TMP"/hold-*)"; return 1; }
        out=$(attc hold "$CID" 0)
        note "17th attacher: $out"
        # they close their fds and exit after 5 s
        wait "${pids[@]}"
        rm -f "$ZL_TMP"/hold-*
        [[ $out == "ERROR com.zlayer.Runtime1.Error.Busy: "* ]] || { fail "17th attacher got '$out', wanted Busy"; return 1; }
        # the attachers that went away left nothing in the shim
        wait_for 5 eval '[[ $(attach_shim_fds "$CID") == "$before" ]]' ||
                { fail "shim has $(attach_shim_fds "$CID") fds after the attachers left, $before before"; return 1; }
        discard "$CID"
}

t_attach_after_daemon_restart() {
        local bp out
        SERVICE=restorebox attach_box '{"stdin_open": true}' /bin/cat || return 1
        bp=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        kill -KILL "$bp"
        sleep 0.5
        zl_wait_name "$ZL_BUS" 30 || { fail "no broker came back"; return 1; }
        wait_for 30 eval '[[ $(state "$CID" 2>/dev/null) == running ]]' || { fail "state $(state "$CID")"; return 1; }
        # the shim held the state: the new broker and zlayer-exec attach
        wait_for 20 eval 'out=$(attc cat "$CID" $'"'"'after-restart\n'"'"' 2>&1)' || { fail "attach after restart: $out"; return 1; }
        has_line "$out" "echoed: after-restart" || return 1
        discard "$CID"
}

# zlayerctl under tmux, as a person types (helpers tmux_wait, zctl: cli.sh).
# tmux_typed SOCK COMMAND: a 120x40 tmux running bash, COMMAND typed at a
# "host$ " prompt
tmux_typed() {
        tmux -S "$1" new-session -d -x 120 -y 40 -s clitest "env -u TMUX bash --norc --noprofile" || { fail "tmux failed"; return 1; }
        tmux -S "$1" send-keys -t clitest "PS1='host\$ '; clear; $2" Enter
}
# tmux_back_at_host SOCK RC: the host prompt again, $? was RC, the terminal
# is no longer raw
tmux_back_at_host() {
        tmux_wait "$1" '^host\$$' || return 1
        tmux -S "$1" send-keys -t clitest 'echo "rc=$?"; stty -a | grep -o -- "-\?icanon"' Enter
        tmux_wait "$1" "^rc=$2\$" || return 1
        tmux_wait "$1" '^icanon$' || { fail "the terminal was left raw"; return 1; }
}
# tmux_shell_resize_exit SOCK: in a container's sh: stty size follows the
# tmux window, `exit 7` ends the command with 7 and the terminal restored
tmux_shell_resize_exit() {
        tmux_wait "$1" '^/ #' || return 1
        tmux -S "$1" send-keys -t clitest "stty size" Enter
        tmux_wait "$1" '^40 120$' || return 1
        tmux -S "$1" resize-window -t clitest -x 100 -y 30
        sleep 0.3
        tmux -S "$1" send-keys -t clitest "clear; stty size" Enter
        tmux_wait "$1" '^30 100$' || return 1
        tmux -S "$1" send-keys -t clitest "exit 7" Enter
        tmux_back_at_host "$1" 7
}

t_attach_cli_run_it_tmux() {
        cli_built || return 1
        local sock=$ZL_TMP/tmux-run-it.sock rc
        tmux_typed "$sock" "'$ZLCTL' --bus='$ZL_BUS' run -it --service $TAG-runit $REG/busybox:latest sh" || return 1
        tmux_shell_resize_exit "$sock"; rc=$?
        tmux -S "$sock" kill-server
        zctl rm -f "$TAG-runit-rep-0" >/dev/null 2>&1
        return $rc
}

t_attach_cli_attach_detach_keys() {
        cli_built || return 1
        local sock=$ZL_TMP/tmux-attach.sock rc id
        id=$(zctl run -d -it --service "$TAG-attachcli" "$REG/busybox:latest" sh) || { fail "run -d -it failed"; return 1; }
        tmux_typed "$sock" "'$ZLCTL' --bus='$ZL_BUS' attach $id" || return 1
        (
                sleep 0.5
                tmux -S "$sock" send-keys -t clitest "echo att''ached-ok" Enter
                tmux_wait "$sock" '^attached-ok$' || exit 1
                # ctrl-p ctrl-q: detach, the container keeps running
                tmux -S "$sock" send-keys -t clitest C-p C-q
                tmux_wait "$sock" 'read escape sequence' || exit 1
                tmux_back_at_host "$sock" 0 || exit 1
                [[ $(state "$id") == running ]] || { fail "state $(state "$id") after detaching"; exit 1; }
        ); rc=$?
        tmux -S "$sock" kill-server
        zctl rm -f "$id" >/dev/null 2>&1
        return $rc
}

t_attach_cli_start_a_run_i() {
        cli_built || return 1
        local id out rc
        id=$(zctl create --service "$TAG-starta" "$REG/busybox:latest" sh -c 'echo started-output; echo to-stderr >&2; exit 3') ||
                { fail "create failed"; return 1; }
        out=$(zctl start -a "$id" 2>&1); rc=$?
        note "start -a: rc $rc, $(tr '\n' '|' <<<"$out")"
        [[ $rc == 3 ]] || { fail "start -a exited $rc, wanted the container's 3"; return 1; }
        has_line "$out" started-output || return 1
        has_line "$out" to-stderr || return 1
        zctl rm -f "$id" >/dev/null
        # run -i: our stdin reaches the container, its code is ours
        out=$(echo typed-in | zctl run -i --rm --service "$TAG-runi" "$REG/busybox:latest" sh -c 'read x; echo "got:$x"; exit 4'); rc=$?
        note "run -i: rc $rc, $(tr '\n' '|' <<<"$out")"
        [[ $rc == 4 ]] || { fail "run -i exited $rc, wanted 4"; return 1; }
        has_line "$out" "got:typed-in" || return 1
        # -it without a terminal: refused like docker does
        out=$(zctl run -it --rm "$REG/busybox:latest" true </dev/null 2>&1); rc=$?
        [[ $rc == 125 && $out == *"not a TTY"* ]] || { fail "run -it without a tty: rc $rc, $out"; return 1; }
}

SCENARIOS+=(
        attach-tty-shell-two-attachers-resize t_attach_tty_shell
        attach-stdin-open-socket-frames t_attach_stdin_socket
        attach-limit-busy-detach-leaves-nothing t_attach_limit_and_detach
        attach-after-daemon-restart t_attach_after_daemon_restart
        attach-cli-run-it-in-tmux t_attach_cli_run_it_tmux
        attach-cli-attach-detach-keys t_attach_cli_attach_detach_keys
        attach-cli-start-a-run-i t_attach_cli_start_a_run_i
)
