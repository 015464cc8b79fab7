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

ac() { [[ $ATTACH_CLIENT_BUILT == 1 ]] || { fail "attach-client did not build"; return 1; }; timeout 60 "$ATTACH_CLIENT" "$ZL_BUS" "$@"; }

# attach_box SPEC_EXTRA_JSON ENTRYPOINT…: a running container
attach_box() {
        local extra=$1; shift
        create "${SERVICE:-attach}" "$(jq -cn --arg img "$REG/busybox:latest" --argjson extra "$extra" \
                '{image: {name: $img}, command: {entrypoint: $ARGS.positional}} * $extra' --args "$@")" || return 1
        start "$CID" || return 1
}

shim_fds() { ls "/proc/$(cut -d' ' -f1 "$RUN/containers/$1/shim.pid")/fd" | wc -l; }

t_attach_tty_shell() {
        local out
        SERVICE=ttybox attach_box '{"tty": true, "stdin_open": true}' /bin/sh || return 1
        out=$(ac shell "$CID") || { fail "attach-client shell: $out"; return 1; }
        note "$(tr '\n' '|' <<<"$out")"
        wait_exit "$CID" || return 1
        [[ $EXIT_CODE == 7 ]] || { fail "exit code $EXIT_CODE after 'exit 7', wanted 7"; return 1; }
        # the tty's output is in the log as stdout
        logs "$CID" | grep -q '^stdout .*hello-42' || { fail "hello-42 not logged as stdout: $(logs "$CID")"; return 1; }
        expect_error InvalidState "$CID" AttachContainer 'sa{sv}' "$CID" 0 || return 1
        expect_error InvalidState "$CID" ResizeContainerTTY sqq "$CID" 10 10 || return 1
        discard "$CID"
}

t_attach_stdin_socket() {
        local out
        SERVICE=catbox attach_box '{"stdin_open": true}' /bin/cat || return 1
        out=$(ac cat "$CID" $'typed-through-attach\n') || { fail "attach-client cat: $out"; return 1; }
        note "$(tr '\n' '|' <<<"$out")"
        has_line "$out" "echoed: typed-through-attach" || return 1
        grep -q '^frame 1 ' <<<"$out" || { fail "no stdout frame"; return 1; }
        # a second attacher after the first left: stdin is still open (no stdin_once)
        out=$(ac cat "$CID" $'second-line\n') || { fail "second attach: $out"; return 1; }
        has_line "$out" "echoed: second-line" || return 1
        wait_for 5 eval 'logs "$CID" | grep -qx "stdout second-line"' || { fail "second-line not logged"; return 1; }
        expect_error InvalidState "no tty" ResizeContainerTTY sqq "$CID" 24 80 || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs bogus AttachContainer 'sa{sv}' "$CID" 1 bogus b true || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs 0x0 ResizeContainerTTY sqq "$CID" 0 0 || return 1
        expect_error NotFound nope-such AttachContainer 'sa{sv}' nope-such 0 || return 1
        discard "$CID"
}

t_attach_limit_and_detach() {
        local before pids=() i out
        SERVICE=holdbox attach_box '{}' /bin/sleep 1000 || return 1
        before=$(shim_fds "$CID")
        for ((i = 0; i < 16; i++)); do
                ac hold "$CID" 5 > "$ZL_TMP/hold-$i" 2>&1 &
                pids+=($!)
        done
        wait_for 20 eval '[[ $(cat "$ZL_TMP"/hold-* | grep -c attached) == 16 ]]' ||
                { wait "${pids[@]}"; fail "16 attachers did not all attach: $(cat "$ZL_TMP"/hold-*)"; return 1; }
        out=$(ac hold "$CID" 0)
        note "17th attacher: $out"
        # they close their fds and exit after 5 s
        wait "${pids[@]}"
        rm -f "$ZL_TMP"/hold-*
        [[ $out == "ERROR com.zlayer.Runtime1.Error.Busy: "* ]] || { fail "17th attacher got '$out', wanted Busy"; return 1; }
        # the attachers that went away left nothing in the shim
        wait_for 5 eval '[[ $(shim_fds "$CID") == "$before" ]]' ||
                { fail "shim has $(shim_fds "$CID") fds after the attachers left, $before before"; return 1; }
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
        wait_for 20 eval 'out=$(ac cat "$CID" $'"'"'after-restart\n'"'"' 2>&1)' || { fail "attach after restart: $out"; return 1; }
        has_line "$out" "echoed: after-restart" || return 1
        discard "$CID"
}

SCENARIOS+=(
        attach-tty-shell-two-attachers-resize t_attach_tty_shell
        attach-stdin-open-socket-frames t_attach_stdin_socket
        attach-limit-busy-detach-leaves-nothing t_attach_limit_and_detach
        attach-after-daemon-restart t_attach_after_daemon_restart
)
