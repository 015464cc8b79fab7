# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# OpenContainerLogs (issue 5 item 3). Uses zl-pty (built by exec.sh) to
# read the multiplexed stream.

# lg ID OPTS…: the demultiplexed log, stdout to $ZL_TMP/lg.out, stderr to $ZL_TMP/lg.err
lg() {
        local id=$1; shift
        zlpty logs "$id" "$@" > "$ZL_TMP/lg.out" 2> "$ZL_TMP/lg.err"
}

t_logs_stream_select() {
        SERVICE=logsel run_sh "$REG/busybox:latest" 'echo o1; sleep 0.1; echo e1 >&2; sleep 0.1; echo o2; sleep 0.1; echo e2 >&2; sleep 0.1; printf o3' || return 1
        local out
        lg "$CID" || { fail "OpenContainerLogs failed: $(cat "$ZL_TMP/lg.out" "$ZL_TMP/lg.err")"; return 1; }
        [[ $(cat "$ZL_TMP/lg.out") == $'o1\no2\no3' && $(cat "$ZL_TMP/lg.err") == $'e1\ne2' ]] ||
                { fail "all: stdout '$(cat "$ZL_TMP/lg.out")' stderr '$(cat "$ZL_TMP/lg.err")'"; return 1; }
        lg "$CID" --no-stderr && [[ $(cat "$ZL_TMP/lg.out") == $'o1\no2\no3' && ! -s $ZL_TMP/lg.err ]] ||
                { fail "stdout only gave stderr '$(cat "$ZL_TMP/lg.err")'"; return 1; }
        lg "$CID" --no-stdout && [[ ! -s $ZL_TMP/lg.out && $(cat "$ZL_TMP/lg.err") == $'e1\ne2' ]] ||
                { fail "stderr only gave stdout '$(cat "$ZL_TMP/lg.out")'"; return 1; }
        lg "$CID" --tail 2 --no-stderr && [[ $(cat "$ZL_TMP/lg.out") == $'o2\no3' ]] ||
                { fail "tail 2 of stdout: '$(cat "$ZL_TMP/lg.out")'"; return 1; }
        lg "$CID" --tail 2 && [[ $(cat "$ZL_TMP/lg.out") == o3 && $(cat "$ZL_TMP/lg.err") == e2 ]] ||
                { fail "tail 2: stdout '$(cat "$ZL_TMP/lg.out")' stderr '$(cat "$ZL_TMP/lg.err")'"; return 1; }
        out=$(zlpty logs "$CID" --frames) || return 1
        [[ $(wc -l <<<"$out") == 5 && $(head -1 <<<"$out") == "1 3" && $(sed -n 2p <<<"$out") == "2 3" ]] ||
                { fail "frames: $(tr '\n' '|' <<<"$out")"; return 1; }
        lg "$CID" --timestamps --no-stderr || return 1
        grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]+Z o1$' "$ZL_TMP/lg.out" ||
                { fail "timestamps: $(head -1 "$ZL_TMP/lg.out")"; return 1; }
        note "timestamps: $(head -1 "$ZL_TMP/lg.out")"
        lg "$CID" --since $(( $(date +%s) + 3600 )) && [[ ! -s $ZL_TMP/lg.out && ! -s $ZL_TMP/lg.err ]] ||
                { fail "since in an hour gave output"; return 1; }
        lg "$CID" --until 1 && [[ ! -s $ZL_TMP/lg.out ]] || { fail "until 1970 gave output"; return 1; }
        lg "$CID" --since $(( $(date +%s) - 3600 )) --until $(( $(date +%s) + 3600 )) &&
                [[ $(cat "$ZL_TMP/lg.out") == $'o1\no2\no3' ]] || { fail "since/until around now lost lines"; return 1; }
        expect_error org.freedesktop.DBus.Error.InvalidArgs bogus OpenContainerLogs 'sa{sv}' "$CID" 1 bogus b true || return 1
        expect_error NotFound no-such-ctr OpenContainerLogs 'sa{sv}' no-such-ctr 0 || return 1
        remove "$CID"
}

# A follower sees every line of a fast writer exactly once and ends when it exits.
t_logs_follow() {
        create logfollow "$(spec_sh "$REG/busybox:latest" 'sleep 0.5; seq 1 20000; echo done-err >&2; sleep 0.3; echo last')" || return 1
        start "$CID" || return 1
        local t0=$SECONDS
        lg "$CID" --follow || { fail "follow failed: $(cat "$ZL_TMP/lg.err")"; return 1; }
        note "follow ended after $((SECONDS - t0)) s with $(wc -l < "$ZL_TMP/lg.out") stdout lines"
        diff -q <(seq 1 20000; echo last) "$ZL_TMP/lg.out" >/dev/null ||
                { fail "follow lost or repeated lines: $(diff <(seq 1 20000; echo last) "$ZL_TMP/lg.out" | head -5 | tr '\n' '|')"; return 1; }
        [[ $(cat "$ZL_TMP/lg.err") == done-err ]] || { fail "follow stderr '$(cat "$ZL_TMP/lg.err")'"; return 1; }
        [[ $(state "$CID") == exited ]] || { fail "follow ended before the container exited"; return 1; }
        remove "$CID"
}

# Followers whose readers leave cost the broker nothing afterwards.
t_logs_follow_reader_gone() {
        run_sleep || return 1
        local broker before after i
        broker=$(worker_pid zlayer-broker) || { fail "no broker"; return 1; }
        before=$(ls "/proc/$broker/fd" | wc -l)
        "$ZLPTY" "$ZL_BUS" logs "$CID" --follow >/dev/null 2>&1 &
        local reader=$! during
        sleep 0.5
        during=$(ls "/proc/$broker/fd" | wc -l)
        kill "$reader"; wait "$reader" 2>/dev/null
        ((during > before)) || { fail "no follower seen in the broker ($during fds, $before before)"; return 1; }
        for ((i = 0; i < 20; i++)); do
                timeout 0.3 "$ZLPTY" "$ZL_BUS" logs "$CID" --follow >/dev/null 2>&1
        done
        sleep 0.5
        after=$(ls "/proc/$broker/fd" | wc -l)
        note "broker fds: $before before, $during with a follower, $after after 21 abandoned followers"
        ((after <= before + 1)) || { fail "the broker keeps $((after - before)) fds of gone readers"; return 1; }
        discard "$CID"
}

# Lines longer than a record (16 KiB) in the shim's 64 KiB reads: P parts of
# 16 KiB ending with an F part, an unfinished line at the exit is an F
# record, and readers put the lines back together.
t_logs_long_lines_split() {
        create loglong "$(spec_sh "$REG/busybox:latest" 'head -c 40000 /dev/zero | tr "\0" a; echo; echo short; head -c 20000 /dev/zero | tr "\0" b')" || return 1
        start "$CID" || return 1
        wait_exit "$CID" || return 1
        local shape want
        shape=$(awk '{ printf "%s%s:%d ", $2 == "stdout" ? "" : $2, $3, length($0) - length($1) - length($2) - length($3) - 3 }' \
                "$ROOT/containers/$CID/ctr.log")
        want="P:16384 P:16384 F:7232 F:5 P:16384 F:3616 "
        note "ctr.log records: $shape"
        [[ $shape == "$want" ]] || { fail "records '$shape', wanted '$want'"; return 1; }
        lg "$CID" || { fail "OpenContainerLogs failed"; return 1; }
        [[ $(cat "$ZL_TMP/lg.out") == "$(printf '%040000d' 0 | tr 0 a; echo; echo short; printf '%020000d' 0 | tr 0 b)" ]] ||
                { fail "the lines read back differ: $(wc -c < "$ZL_TMP/lg.out") bytes"; return 1; }
        remove "$CID"
}

SCENARIOS+=(
        logs-long-lines-split t_logs_long_lines_split
        logs-stream-select t_logs_stream_select
        logs-follow t_logs_follow
        logs-follow-reader-gone t_logs_follow_reader_gone
)
