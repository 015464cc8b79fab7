# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# ctr.log rotation by size (issue 5 item 3): the spec's logs {max_size,
# max_files}, GetContainerLogs over the rotated files, and a follower
# across rotations. Uses lg/zlpty from logs.sh and exec.sh.

# 20000 numbered lines in batches of 500 every 50 ms (about 0.5 MB/s of CRI
# lines): some 14 rotations of 64 KiB, and a follower polling every 100 ms
# stays within the 3 files kept.
t_logs_rotate() {
        local script='sleep 0.5; i=1; while [ $i -le 20000 ]; do seq $i $((i + 499)); i=$((i + 500)); sleep 0.05; done; echo last'
        create logrot "$(spec_sh "$REG/busybox:latest" "$script" '{"logs": {"max_size": "64Ki", "max_files": 3}}')" || return 1
        start "$CID" || return 1
        lg "$CID" --follow || { fail "follow failed: $(cat "$ZL_TMP/lg.err")"; return 1; }
        diff -q <(seq 1 20000; echo last) "$ZL_TMP/lg.out" >/dev/null ||
                { fail "follower lost or repeated lines ($(wc -l < "$ZL_TMP/lg.out") lines): $(diff <(seq 1 20000; echo last) "$ZL_TMP/lg.out" | head -5 | tr '\n' '|')"; return 1; }
        wait_exit "$CID" || return 1

        local files n size
        files=$(cd "$ROOT/containers/$CID" && echo ctr.log*)
        n=$(wc -w <<<"$files")
        note "files: $files"
        [[ $n -ge 2 && $n -le 3 && ! -e $ROOT/containers/$CID/ctr.log.3 ]] || { fail "want 2-3 log files: $files"; return 1; }
        for f in $files; do
                size=$(stat -c %s "$ROOT/containers/$CID/$f")
                ((size <= 65536)) || { fail "$f is $size bytes"; return 1; }
                [[ $(stat -c %a "$ROOT/containers/$CID/$f") == 640 ]] || { fail "$f mode $(stat -c %a "$ROOT/containers/$CID/$f")"; return 1; }
        done

        # GetContainerLogs: the newest lines, in order, no gap in what is kept
        logs "$CID" | sed 's/^stdout //' > "$ZL_TMP/rot.all"
        local first kept
        first=$(head -1 "$ZL_TMP/rot.all")
        kept=$(wc -l < "$ZL_TMP/rot.all")
        note "GetContainerLogs: $kept lines from $first"
        ((kept > 2800)) || { fail "only $kept lines kept in 3 files of 64 KiB"; return 1; }
        diff -q <(seq "$first" 20000; echo last) "$ZL_TMP/rot.all" >/dev/null ||
                { fail "GetContainerLogs has a gap: $(diff <(seq "$first" 20000; echo last) "$ZL_TMP/rot.all" | head -5 | tr '\n' '|')"; return 1; }
        logs_tail=$(bcall GetContainerLogs st "$CID" 3 | jq -r '.data[0][] | .[2]' | tr '\n' ' ')
        [[ $logs_tail == "19999 20000 last " ]] || { fail "tail 3: '$logs_tail'"; return 1; }
        # OpenContainerLogs without follow: the same, over the rotated files
        lg "$CID" || return 1
        diff -q "$ZL_TMP/rot.all" "$ZL_TMP/lg.out" >/dev/null ||
                { fail "OpenContainerLogs differs from GetContainerLogs: $(diff "$ZL_TMP/rot.all" "$ZL_TMP/lg.out" | head -5 | tr '\n' '|')"; return 1; }
        # with a tail reaching back into the rotated files
        lg "$CID" --tail 3 && [[ $(tr '\n' ' ' < "$ZL_TMP/lg.out") == "19999 20000 last " ]] ||
                { fail "OpenContainerLogs tail 3: '$(tr '\n' ' ' < "$ZL_TMP/lg.out")'"; return 1; }
        lg "$CID" --tail 2500 && diff -q <(tail -n 2500 "$ZL_TMP/rot.all") "$ZL_TMP/lg.out" >/dev/null ||
                { fail "OpenContainerLogs tail 2500: $(wc -l < "$ZL_TMP/lg.out") lines from $(head -1 "$ZL_TMP/lg.out")"; return 1; }
        lg "$CID" --tail 100000 && diff -q "$ZL_TMP/rot.all" "$ZL_TMP/lg.out" >/dev/null ||
                { fail "OpenContainerLogs tail 100000 is not everything kept"; return 1; }
        remove "$CID"
}

# The spec's logs field is checked.
t_logs_rotate_spec() {
        expect_error InvalidSpec max_size CreateContainer sus logrotbad 1 \
                "$(spec_sh "$REG/busybox:latest" 'true' '{"logs": {"max_size": "12"}}')" || return 1
        expect_error InvalidSpec max_files CreateContainer sus logrotbad 1 \
                "$(spec_sh "$REG/busybox:latest" 'true' '{"logs": {"max_files": 0}}')" || return 1
        expect_error InvalidSpec driver CreateContainer sus logrotbad 1 \
                "$(spec_sh "$REG/busybox:latest" 'true' '{"logs": {"driver": "json-file"}}')" || return 1
}

SCENARIOS+=(
        logs-rotate t_logs_rotate
        logs-rotate-spec t_logs_rotate_spec
)
