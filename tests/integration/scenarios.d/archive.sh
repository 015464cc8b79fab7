# SPDX-License-Identifier: LGPL-2.1-or-later
# ArchiveGet / ArchivePut / ArchiveHead / ExportContainer (issue 6).
# Sourced by tests/integration/run.

# ac head|get|put|export ID …: see archive-client.c (built on first use)
ARCHIVE_CLIENT=$ZL_TMP/archive-client
ac() {
        if [[ ! -x $ARCHIVE_CLIENT ]]; then
                cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -O2 -o "$ARCHIVE_CLIENT" \
                        "$ZL_SRCDIR/tests/integration/scenarios.d/archive-client.c" $(pkg-config --cflags --libs libsystemd) ||
                        { echo "ERROR cannot build archive-client"; return 2; }
        fi
        timeout "${AC_TIMEOUT:-200}" "$ARCHIVE_CLIENT" "$ZL_BUS" "$@"
}

# mktar OUT PYTHON: runs PYTHON with `t` an open tarfile on OUT and helpers
# reg(name, data, mode=0o644, **attrs), add(TarInfo)
mktar() {
        python3 - "$1" "$2" <<'PY'
import io, sys, tarfile, time
out, body = sys.argv[1], sys.argv[2]
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
def reg(name, data=b"", mode=0o644, **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; ti.mtime = 1700000000
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data))
def add(name, type, **kw):
    ti = tarfile.TarInfo(name); ti.type = type; ti.mode = kw.pop("mode", 0o755); ti.mtime = 1700000000
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti)
exec(body)
t.close()
PY
}
# tar_names TARFILE: the entry names, one a line
tar_names() { python3 -c 'import sys, tarfile; [print(m.name + ("/" if m.isdir() else "")) for m in tarfile.open(sys.argv[1])]' "$1"; }
# tar_file TARFILE NAME: the content of one member
tar_file() { python3 -c 'import sys, tarfile; sys.stdout.write(tarfile.open(sys.argv[1]).extractfile(sys.argv[2]).read().decode())' "$1" "$2"; }

t_archive_roundtrip_running() {
        SERVICE=arcrun run_sleep || return 1
        local d=$ZL_TMP/arc-rt out names
        mkdir -p "$d"
        mktar "$d/in.tar" '
add("sub", tarfile.DIRTYPE)
reg("hello.txt", b"hi archive\n", 0o640, uid=1234, gid=99)
reg("sub/x", b"xx")
add("sub/link", tarfile.SYMTYPE, linkname="/etc/hostname")' || return 1
        out=$(ac put "$CID" /tmp "$d/in.tar") || { fail "put: $out"; return 1; }
        # without copy_uid_gid the container's user (root) owns what came in
        [[ $(stat -c '%u:%g %a %s' "/proc/$PID/root/tmp/hello.txt") == "0:0 640 11" ]] ||
                { fail "in the container: $(stat -c '%u:%g %a %s' "/proc/$PID/root/tmp/hello.txt")"; return 1; }
        out=$(ac head "$CID" /tmp/hello.txt) || { fail "head: $out"; return 1; }
        note "head: $out"
        [[ $(jq -r '"\(.name) \(.size) \(.mode)"' <<<"$out") == "hello.txt 11 $((0100640))" ]] || { fail "head $out"; return 1; }
        [[ $(jq -r .mtime <<<"$out") == 2023-11-14T22:13:20.000000000Z ]] || { fail "mtime $(jq -r .mtime <<<"$out")"; return 1; }
        out=$(ac head "$CID" /tmp/sub/link) || { fail "head link: $out"; return 1; }
        [[ $(jq -r .link_target <<<"$out") == /etc/hostname ]] || { fail "link_target in $out"; return 1; }

        out=$(ac get "$CID" /tmp/hello.txt "$d/file.tar") || { fail "get: $out"; return 1; }
        [[ $(tar_names "$d/file.tar") == hello.txt ]] || { fail "file tar has $(tar_names "$d/file.tar" | tr '\n' ' ')"; return 1; }
        [[ $(tar_file "$d/file.tar" hello.txt) == "hi archive" ]] || { fail "content $(tar_file "$d/file.tar" hello.txt)"; return 1; }
        [[ $(jq -r .size <<<"$out") == 11 ]] || { fail "get stat $out"; return 1; }

        ac get "$CID" /tmp/sub "$d/dir.tar" >/dev/null || { fail "get dir"; return 1; }
        [[ $(tar_names "$d/dir.tar" | sort | tr '\n' ' ') == "sub/ sub/link sub/x " ]] ||
                { fail "dir tar has $(tar_names "$d/dir.tar" | tr '\n' ' ')"; return 1; }
        ac get "$CID" /tmp/sub/. "$d/dot.tar" >/dev/null || { fail "get dir/."; return 1; }
        [[ $(tar_names "$d/dot.tar" | sort | tr '\n' ' ') == "link x " ]] ||
                { fail "dir/. tar has $(tar_names "$d/dot.tar" | tr '\n' ' ')"; return 1; }

        # symlinks in the path resolve inside the container: /tmp/sub/link → /etc/hostname
        out=$(ac get "$CID" /tmp/sub/link "$d/l.tar") || { fail "get link: $out"; return 1; }
        [[ $(tar_names "$d/l.tar") == link ]] || { fail "link tar $(tar_names "$d/l.tar")"; return 1; }

        # the whole root of a running container: /proc and /sys as empty mount points
        out=$(ac get "$CID" / "$d/root.tar") || { fail "get /: $out"; return 1; }
        names=$(tar_names "$d/root.tar")
        has_line "$names" bin/busybox || return 1
        has_line "$names" proc/ || return 1
        grep -q '^proc/.' <<<"$names" && { fail "get / has /proc contents"; return 1; }
        grep -q '^sys/.' <<<"$names" && { fail "get / has /sys contents"; return 1; }
        note "get /: $(wc -l <<<"$names") entries, $(jq -r .bytes <<<"$out") bytes"
        out=$(ac put "$CID" /tmp "$d/in.tar" copy_uid_gid=true) || { fail "put copy_uid_gid: $out"; return 1; }
        [[ $(stat -c '%u:%g' "/proc/$PID/root/tmp/hello.txt") == "1234:99" ]] || { fail "copy_uid_gid owner $(stat -c '%u:%g' "/proc/$PID/root/tmp/hello.txt")"; return 1; }

        expect_error NotFound /nope ArchiveHead ss "$CID" /nope || return 1
        out=$(ac put "$CID" /nope/dir "$d/in.tar") && { fail "put into a missing dir worked"; return 1; }
        [[ $out == "ERROR com.zlayer.Runtime1.Error.NotFound: "*"/nope/dir"* ]] || { fail "put missing dir: $out"; return 1; }
        out=$(ac put "$CID" /tmp/hello.txt "$d/in.tar") && { fail "put onto a file worked"; return 1; }
        [[ $out == "ERROR org.freedesktop.DBus.Error.InvalidArgs: "*"/tmp/hello.txt"*"not a directory"* ]] || { fail "put onto a file: $out"; return 1; }
        out=$(ac put "$CID" /tmp "$d/in.tar" bogus=true) && { fail "unknown option accepted"; return 1; }
        [[ $out == "ERROR org.freedesktop.DBus.Error.InvalidArgs: "*bogus* ]] || { fail "unknown option: $out"; return 1; }
        out=$(ac put "$CID" /tmp "$d/in.tar" no_overwrite_dir_non_dir=true) || { fail "put again: $out"; return 1; }
        mktar "$d/clash.tar" 'reg("sub", b"now a file")' || return 1
        out=$(ac put "$CID" /tmp "$d/clash.tar" no_overwrite_dir_non_dir=true) && { fail "dir replaced by a file"; return 1; }
        [[ $out == *"no_overwrite_dir_non_dir"* ]] || { fail "clash: $out"; return 1; }
        discard "$CID"
}
SCENARIOS+=(archive-roundtrip-running t_archive_roundtrip_running)

t_archive_stopped() {
        SERVICE=arcstop run_sh "$REG/busybox:latest" 'mkdir /made && echo made > /made/it.txt' || return 1
        [[ $EXIT_CODE == 0 ]] || { fail "exit $EXIT_CODE"; return 1; }
        local d=$ZL_TMP/arc-stop out
        mkdir -p "$d"
        out=$(ac head "$CID" /made/it.txt) || { fail "head: $out"; return 1; }
        [[ $(jq -r .size <<<"$out") == 5 ]] || { fail "head $out"; return 1; }
        mktar "$d/in.tar" 'reg("put.txt", b"into a stopped one\n")' || return 1
        out=$(ac put "$CID" /made "$d/in.tar") || { fail "put: $out"; return 1; }
        [[ -f $ROOT/containers/$CID/upper/made/put.txt ]] || { fail "put.txt not in the upper dir"; return 1; }
        ac get "$CID" /made/. "$d/out.tar" >/dev/null || { fail "get"; return 1; }
        [[ $(tar_names "$d/out.tar" | sort | tr '\n' ' ') == "it.txt put.txt " ]] || { fail "tar has $(tar_names "$d/out.tar" | tr '\n' ' ')"; return 1; }
        [[ $(tar_file "$d/out.tar" put.txt) == "into a stopped one" ]] || { fail "content"; return 1; }
        # the busybox layer is visible too (merged overlay)
        ac get "$CID" /bin/busybox - >/dev/null || { fail "get of a lower-layer file"; return 1; }
        # the detached overlay is gone with its fds: the container starts again
        # and sees what was put
        start "$CID" || return 1
        wait_exit "$CID" || return 1
        [[ $EXIT_CODE == 1 ]] || { fail "second run exit $EXIT_CODE (mkdir /made should fail)"; return 1; }
        [[ -f $ROOT/containers/$CID/upper/made/put.txt ]] || { fail "put.txt gone after the restart"; return 1; }
        out=$(ac head "$CID" /made/put.txt) || { fail "head after restart: $out"; return 1; }
        discard "$CID"
}
SCENARIOS+=(archive-stopped t_archive_stopped)

t_archive_never_started() {
        create arcnew "$(spec_sh "$REG/busybox:latest" true)" || return 1
        expect_error InvalidState "never been started" ArchiveHead ss "$CID" / || return 1
        bcall RemoveContainer sb "$CID" false >/dev/null || { fail "RemoveContainer failed"; return 1; }
}
SCENARIOS+=(archive-never-started t_archive_never_started)

# A hostile tar must change nothing outside the container.
t_archive_hostile() {
        SERVICE=archost run_sleep || return 1
        local d=$ZL_TMP/arc-host canary=$ZL_TMP/arc-canary out before after
        mkdir -p "$d" "$canary"
        echo original > "$canary/victim"
        before=$(find "$canary" /etc -maxdepth 1 -newer "$canary/victim" 2>/dev/null | sort; cat "$canary/victim")
        # each: name, python body, word the error must name
        local cases=(
                "absolute|reg('$canary/abs-pwned', b'x')|abs-pwned"
                "dotdot|reg('../../../../../../../..$canary/dd-pwned', b'x')|dd-pwned"
                "hardlink-abs|add('hl', tarfile.LNKTYPE, linkname='$canary/victim')|hl"
                "hardlink-dotdot|add('hl', tarfile.LNKTYPE, linkname='../../../../../../..$canary/victim')|hl"
                "device|add('dev', tarfile.CHRTYPE, devmajor=1, devminor=3)|device node dev"
                "setuid|reg('suid', b'x', 0o4755)|setuid bit on suid"
                "symlink-then-file|add('esc', tarfile.SYMTYPE, linkname='$canary'); reg('esc/sl-pwned', b'x')|esc/sl-pwned"
        )
        local c name body word
        for c in "${cases[@]}"; do
                IFS='|' read -r name body word <<<"$c"
                mktar "$d/$name.tar" "$body" || return 1
                out=$(ac put "$CID" /tmp "$d/$name.tar") && { fail "$name: accepted"; return 1; }
                [[ $out == "ERROR org.freedesktop.DBus.Error.InvalidArgs: "*"$word"* ||
                   $out == "ERROR com.zlayer.Runtime1.Error.NotFound: "*"$word"* ]] || { fail "$name: $out"; return 1; }
                note "$name → ${out#ERROR }"
        done
        # the kernel's files: never written (docker cp's core_pattern escape)
        local core
        core=$(cat /proc/sys/kernel/core_pattern)
        mktar "$d/core.tar" 'reg("core_pattern", b"|/tmp/pwned")' || return 1
        out=$(ac put "$CID" /proc/sys/kernel "$d/core.tar") && { fail "put into /proc accepted"; return 1; }
        [[ $out == *InvalidArgs*"kernel filesystem"* ]] || { fail "put into /proc: $out"; return 1; }
        mktar "$d/core2.tar" 'reg("proc/sys/kernel/core_pattern", b"|/tmp/pwned")' || return 1
        out=$(ac put "$CID" / "$d/core2.tar") && { fail "entry into /proc accepted"; return 1; }
        [[ $out == *InvalidArgs*"kernel filesystem"* ]] || { fail "entry into /proc: $out"; return 1; }
        note "core_pattern → ${out#ERROR }"
        [[ $(cat /proc/sys/kernel/core_pattern) == "$core" ]] || { fail "core_pattern changed"; return 1; }
        # a symlink to the root followed by a file through it: contained in
        # the container (lands in its own /tmp), not the host's
        mktar "$d/up.tar" "add('up', tarfile.SYMTYPE, linkname='../../../../..'); reg('up/tmp/contained', b'in')" || return 1
        out=$(ac put "$CID" /tmp "$d/up.tar") || { fail "up: $out"; return 1; }
        [[ -f /proc/$PID/root/tmp/contained && ! -e /tmp/contained ]] || { fail "up/tmp/contained not contained"; return 1; }
        # truncated: cut in the middle of the data
        mktar "$d/big.tar" 'reg("big", b"z" * 100000)' || return 1
        head -c 30000 "$d/big.tar" > "$d/trunc.tar"
        out=$(ac put "$CID" /tmp "$d/trunc.tar") && { fail "truncated: accepted"; return 1; }
        [[ $out == *"InvalidArgs"*"big"* || $out == *"InvalidArgs"*"truncated"* ]] || { fail "truncated: $out"; return 1; }
        note "truncated → ${out#ERROR }"
        after=$(find "$canary" /etc -maxdepth 1 -newer "$canary/victim" 2>/dev/null | sort; cat "$canary/victim")
        [[ $before == "$after" ]] || { fail "host tree changed: $after"; return 1; }
        [[ $(ls "$canary") == victim ]] || { fail "canary dir has $(ls "$canary")"; return 1; }
        [[ $(stat -c %h "$canary/victim") == 1 ]] || { fail "victim got a hard link"; return 1; }
        [[ ! -e /proc/$PID/root/tmp/dev && ! -e /proc/$PID/root/tmp/suid ]] || { fail "refused entries were created"; return 1; }
        discard "$CID"
}
SCENARIOS+=(archive-hostile t_archive_hostile)

t_archive_export() {
        SERVICE=arcexp run_sleep || return 1
        local d=$ZL_TMP/arc-exp out names
        mkdir -p "$d"
        out=$(ac export "$CID" "$d/exp.tar") || { fail "export: $out"; return 1; }
        names=$(tar_names "$d/exp.tar")
        has_line "$names" bin/busybox || return 1
        has_line "$names" proc/ || return 1
        grep -q '^proc/.' <<<"$names" && { fail "export has /proc contents"; return 1; }
        grep -q '^sys/.' <<<"$names" && { fail "export has /sys contents"; return 1; }
        note "export: $(wc -l <<<"$names") entries, $(jq -r .bytes <<<"$out") bytes"
        discard "$CID"
}
SCENARIOS+=(archive-export t_archive_export)

# archive_restart_zlayerd [VAR=VALUE…]: SIGTERM zlayerd, start it again with that
# environment (containers keep running and are adopted)
archive_restart_zlayerd() {
        local i
        kill -TERM "$ZLAYERD_PID"
        for ((i = 0; i < 100; i++)); do kill -0 "$ZLAYERD_PID" 2>/dev/null || break; sleep 0.1; done
        wait "$ZLAYERD_PID" 2>/dev/null
        local v rc
        for v in "$@"; do export "$v"; done
        start_zlayerd; rc=$?
        for v in "$@"; do unset "${v%%=*}"; done
        return $rc
}

# Tar bombs: limits on entries and bytes (set low through zlayer-archive's
# environment for this scenario).
t_archive_limits() {
        archive_restart_zlayerd ZLAYER_ARCHIVE_MAX_BYTES=1048576 ZLAYER_ARCHIVE_MAX_ENTRIES=100 || return 1
        local d=$ZL_TMP/arc-lim out rc=0
        mkdir -p "$d"
        SERVICE=arclim run_sleep || rc=1
        if [[ $rc == 0 ]]; then
                # 64 MiB of zeros, gzip'ed to a few KiB
                mktar "$d/bomb.tar" 'reg("bomb", b"\0" * (64 << 20))' && gzip -9 "$d/bomb.tar" || rc=1
                out=$(ac put "$CID" /tmp "$d/bomb.tar.gz") && { fail "bomb accepted"; rc=1; }
                [[ $out == *InvalidArgs*"limit of 1048576 bytes"* ]] || { fail "bomb: $out"; rc=1; }
                note "bomb ($(stat -c %s "$d/bomb.tar.gz") bytes gzip) → ${out#ERROR }"
                mktar "$d/many.tar" 'for i in range(200): reg("m%d" % i)' || rc=1
                out=$(ac put "$CID" /tmp "$d/many.tar") && { fail "200 entries accepted"; rc=1; }
                [[ $out == *InvalidArgs*"more than 100 entries"* ]] || { fail "entries: $out"; rc=1; }
                note "entries → ${out#ERROR }"
                discard "$CID"
        fi
        archive_restart_zlayerd || return 1
        return $rc
}
SCENARIOS+=(archive-limits t_archive_limits)

# docker cp onto a non-empty directory: a directory of the same name merges
# into it; a non-directory replaces it whole (Docker's API default) or, with
# no_overwrite_dir_non_dir (what the docker CLI sends), is refused naming the
# path; a directory that is, or holds, a mount point is never replaced.
t_archive_put_over_nonempty_dir() {
        SERVICE=arcmerge run_sleep '{"storage": [{"type": "tmpfs", "target": "/srv/keep/t", "size": "1Mi"}]}' || return 1
        local d=$ZL_TMP/arc-merge r=/proc/$PID/root out
        mkdir -p "$d" "$r/tmp/m/old" && echo a > "$r/tmp/m/a" && echo b > "$r/tmp/m/b" && echo o > "$r/tmp/m/old/o" ||
                { fail "cannot prepare /tmp/m"; return 1; }
        mktar "$d/merge.tar" '
add("m", tarfile.DIRTYPE)
reg("m/a", b"new a\n")
reg("m/c", b"c\n")' || return 1
        out=$(ac put "$CID" /tmp "$d/merge.tar" no_overwrite_dir_non_dir=true) || { fail "merge: $out"; return 1; }
        [[ $(cat "$r/tmp/m/a") == "new a" && $(cat "$r/tmp/m/b") == b && $(cat "$r/tmp/m/c") == c && -f $r/tmp/m/old/o ]] ||
                { fail "not merged: $(ls -R "$r/tmp/m" | tr '\n' ' ')"; return 1; }

        mktar "$d/file.tar" 'reg("m", b"a file now\n")' || return 1
        out=$(ac put "$CID" /tmp "$d/file.tar" no_overwrite_dir_non_dir=true) && { fail "a file replaced /tmp/m"; return 1; }
        note "$out"
        [[ $out == "ERROR org.freedesktop.DBus.Error.InvalidArgs: "*"cannot overwrite directory /tmp/m with a non-directory"* ]] ||
                { fail "file over dir: $out"; return 1; }
        [[ -d $r/tmp/m && -f $r/tmp/m/b ]] || { fail "/tmp/m changed"; return 1; }
        out=$(ac put "$CID" /tmp "$d/file.tar") || { fail "file over dir without the flag: $out"; return 1; }
        [[ -f $r/tmp/m && $(cat "$r/tmp/m") == "a file now" ]] || { fail "/tmp/m is not the file: $(ls -ld "$r/tmp/m")"; return 1; }

        # mount points: /proc itself, /srv/keep holding a tmpfs
        echo kept > "$r/srv/keep/t/f" && echo k > "$r/srv/keep/k" || { fail "cannot prepare /srv/keep"; return 1; }
        mktar "$d/mnt.tar" 'reg("proc", b"x"); reg("keep", b"x")' || return 1
        out=$(ac put "$CID" / "$d/mnt.tar") && { fail "a file replaced /proc"; return 1; }
        note "$out"
        [[ $out == *"cannot replace directory /proc with a non-directory: it is a mount point"* ]] || { fail "/proc: $out"; return 1; }
        [[ -e $r/proc/1/status ]] || { fail "/proc is damaged"; return 1; }
        mktar "$d/keep.tar" 'reg("keep", b"x")' || return 1
        out=$(ac put "$CID" /srv "$d/keep.tar") && { fail "a file replaced /srv/keep"; return 1; }
        note "$out"
        [[ $out == *"cannot replace directory /srv/keep with a non-directory: /srv/keep/t is a mount point"* ]] ||
                { fail "/srv/keep: $out"; return 1; }
        [[ $(cat "$r/srv/keep/t/f") == kept && $(cat "$r/srv/keep/k") == k ]] || { fail "/srv/keep was touched"; return 1; }
        discard "$CID"
}
SCENARIOS+=(archive-put-over-nonempty-dir t_archive_put_over_nonempty_dir)
