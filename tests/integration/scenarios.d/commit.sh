# shellcheck shell=bash
# CommitContainer (issue 6 item 4): the upper dir as a new layer, the
# source config with `changes`, a tag; then the new image runs.

t_commit_run_new_image() {
        local out id j src ref=zlcommit/test:v1 full
        # layered: /opq holds old-a, old-b, old-sub in the lower layers
        SERVICE=commitsrc run_sh "$REG/layered:latest" \
                'echo committed content > /hello.txt && rm /etc/os-release && rm -rf /opq && mkdir /opq && echo n > /opq/n2' || return 1
        [[ $EXIT_CODE == 0 ]] || { fail "source container exit $EXIT_CODE"; return 1; }
        src=$CID
        expect_error org.freedesktop.DBus.Error.InvalidArgs bogus CommitContainer 'sa{sv}' "$src" 1 bogus s x || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs FROB CommitContainer 'sa{sv}' "$src" 2 repository s zlcommit/x changes s 'FROB x' || return 1
        expect_error NotFound nope-nope CommitContainer 'sa{sv}' nope-nope 1 repository s zlcommit/x || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "'v9'" CommitContainer 'sa{sv}' "$src" 1 tag s v9 || return 1
        out=$(bcall CommitContainer 'sa{sv}' "$src" 5 repository s zlcommit/test tag s v1 author s "Ann Author" \
                comment s "a commit" changes s $'ENV COMMITTED=1\nCMD ["cat","/hello.txt"]\nLABEL zl.commit=yes\nEXPOSE 8080') ||
                { fail "CommitContainer failed"; return 1; }
        id=$(jq -r '.data[0]' <<<"$out")
        note "image id $id"
        [[ $id =~ ^sha256:[0-9a-f]{64}$ ]] || { fail "id '$id'"; return 1; }
        full=$(bcall ListImages | jq -r '.data[0][][0]' | grep 'zlcommit/test:v1$') ||
                { fail "ListImages lacks $ref: $(bcall ListImages | jq -c .data[0])"; return 1; }
        j=$(bcall InspectImage s "$ref" | jq -r '.data[0]') || { fail "InspectImage $ref"; return 1; }
        note "$(jq -c '{Id, RepoTags, Author, Comment, Config: {Cmd: .Config.Cmd, Env: .Config.Env, ExposedPorts: .Config.ExposedPorts}, Layers: (.RootFS.Layers | length)}' <<<"$j")"
        jq -e --arg id "$id" '.Id == $id and .Author == "Ann Author" and .Comment == "a commit" and
               (.Config.Env | index("COMMITTED=1")) != null and (.Config.Env | map(select(startswith("PATH="))) | length) == 1 and
               .Config.Cmd == ["cat", "/hello.txt"] and .Config.Labels["zl.commit"] == "yes" and
               .Config.Labels["com.zlayer.test.image"] != null and .Config.ExposedPorts["8080/tcp"] != null and
               (.RootFS.Layers | length) == 4' <<<"$j" >/dev/null || { fail "InspectImage: $j"; return 1; }
        out=$(bcall GetImageHistory s "$ref" | jq -c '.data[0][0]') || { fail "GetImageHistory"; return 1; }
        note "history top: $out"
        [[ $out == *'zlayer commit'* && $out == *'a commit'* ]] || { fail "history $out"; return 1; }

        # the new image runs: its CMD prints the file, the changes are there
        create commitnew "$(jq -cn --arg img "$ref" '{image: {name: $img}}')" || return 1
        start "$CID" || return 1
        wait_exit "$CID" || return 1
        out=$(logs "$CID")
        [[ $EXIT_CODE == 0 && $out == "stdout committed content" ]] || { fail "new image: exit $EXIT_CODE logs '$out'"; return 1; }
        discard "$CID"
        SERVICE=commitchk run_sh "$ref" 'echo "env=$COMMITTED"; ls /etc/os-release 2>&1; echo "opq=$(ls -A /opq | tr "\n" " ")"; cat /etc/zl-kept' || return 1
        has_line "$LOGS" "stdout env=1" || return 1
        has_line "$LOGS" "stdout ls: /etc/os-release: No such file or directory" || return 1
        has_line "$LOGS" "stdout opq=n2 " || return 1
        has_line "$LOGS" "stdout layer 1 file, kept" || return 1
        discard "$CID"
        discard "$src"
        bcall RemoveImage 'sb' "$ref" false >/dev/null || { fail "RemoveImage $ref"; return 1; }
}
SCENARIOS+=(commit-run-new-image t_commit_run_new_image)

t_commit_never_started() {
        create commitnever "$(spec_sh "$REG/busybox:latest" 'true')" || return 1
        expect_error InvalidState never CommitContainer 'sa{sv}' "$CID" 1 repository s zlcommit/never || return 1
        discard "$CID"
}
SCENARIOS+=(commit-never-started t_commit_never_started)

t_commit_running_pause() {
        local out fz ref=zlcommit/paused:v1
        SERVICE=commitrun run_sleep || return 1
        # a file written by the running container
        echo live > "/proc/$PID/root/live.txt" || { fail "cannot write into the container"; return 1; }
        out=$(bcall CommitContainer 'sa{sv}' "$CID" 3 repository s zlcommit/paused tag s v1 pause b true) ||
                { fail "CommitContainer of a running container failed"; return 1; }
        grep -q "Froze container $CID" "$ZL_TMP/zlayerd.log" || { fail "the container was not frozen"; return 1; }
        grep -q "Thawed container $CID" "$ZL_TMP/zlayerd.log" || { fail "the container was not thawed"; return 1; }
        fz=$(cgroup_dir "$PID" freezer) || { fail "no freezer cgroup"; return 1; }
        [[ $(cat "$fz/freezer.state") == THAWED ]] || { fail "freezer.state $(cat "$fz/freezer.state")"; return 1; }
        [[ $(state "$CID") == running ]] || { fail "state $(state "$CID")"; return 1; }
        # Pause/Unpause work again (the commit's freeze is over)
        bcall PauseContainer s "$CID" >/dev/null && bcall UnpauseContainer s "$CID" >/dev/null ||
                { fail "Pause/Unpause after the commit"; return 1; }
        local src=$CID
        SERVICE=commitrunchk run_sh "$ref" 'cat /live.txt' || return 1
        has_line "$LOGS" "stdout live" || return 1
        discard "$CID"
        discard "$src"
        bcall RemoveImage 'sb' "$ref" false >/dev/null || { fail "RemoveImage $ref"; return 1; }
}
SCENARIOS+=(commit-running-pause t_commit_running_pause)

# list_images: the ListImages rows as "reference digest" lines
list_images() { bcall ListImages | jq -r '.data[0][] | "\(.[0]) \(.[1])"'; }

# Without `repository`: a dangling image (Docker's <none>:<none>), found by
# id, runnable, kept by PruneImages while a container uses it, collected
# when none does; RemoveImage by id; TagImage makes it a tagged image.
t_commit_untagged() {
        local src id id2 out j
        SERVICE=commitdangl run_sh "$REG/busybox:latest" 'echo dangling > /d.txt' || return 1
        src=$CID
        out=$(bcall CommitContainer 'sa{sv}' "$src" 1 changes s 'CMD ["cat","/d.txt"]') || { fail "untagged commit failed"; return 1; }
        id=$(jq -r '.data[0]' <<<"$out")
        [[ $id =~ ^sha256:[0-9a-f]{64}$ ]] || { fail "id '$id'"; return 1; }
        note "untagged image $id"
        out=$(list_images)
        [[ $(grep -c '^<none>:<none> sha256:' <<<"$out") == 1 ]] || { fail "ListImages: $out"; return 1; }
        j=$(bcall InspectImage s "${id:7:12}" | jq -r '.data[0]') || { fail "InspectImage by id prefix"; return 1; }
        jq -e --arg id "$id" '.Id == $id and .RepoTags == [] and .RepoDigests == []' <<<"$j" >/dev/null ||
                { fail "InspectImage: $(jq -c '{Id, RepoTags, RepoDigests}' <<<"$j")"; return 1; }
        # it runs, by id
        create commitdrun "$(jq -cn --arg img "$id" '{image: {name: $img}}')" || return 1
        local user=$CID
        start "$CID" && wait_exit "$CID" || return 1
        out=$(logs "$CID")
        [[ $out == "stdout dangling" ]] || { fail "the untagged image ran with '$out'"; return 1; }
        # PruneImages keeps it while a container uses it (as docker image prune)
        out=$(bcall PruneImages) || { fail "PruneImages"; return 1; }
        jq -e --arg id "$id" '.data[0] | index($id) == null' <<<"$out" >/dev/null || { fail "pruned an image in use: $out"; return 1; }
        list_images | zl_grep -q '^<none>:<none> ' || { fail "the used untagged image is gone"; return 1; }
        discard "$user"
        out=$(bcall PruneImages) || { fail "PruneImages"; return 1; }
        note "prune: $(jq -c '.data' <<<"$out")"
        jq -e --arg id "$id" '.data[0] | index($id) != null' <<<"$out" >/dev/null || { fail "not pruned: $out"; return 1; }
        # each id once (the config blob's digest is the image id already listed)
        jq -e '.data[0] | length == (unique | length)' <<<"$out" >/dev/null || { fail "an id listed twice: $out"; return 1; }
        list_images | zl_grep -q '^<none>:<none> ' && { fail "still listed after the prune: $(list_images)"; return 1; }
        expect_error NotFound "$id" InspectImage s "$id" || return 1

        # RemoveImage by id
        id2=$(bcall CommitContainer 'sa{sv}' "$src" 0 | jq -r '.data[0]') || { fail "second untagged commit"; return 1; }
        bcall RemoveImage sb "$id2" false >/dev/null || { fail "RemoveImage $id2"; return 1; }
        list_images | zl_grep -q '^<none>:<none> ' && { fail "still listed after RemoveImage: $(list_images)"; return 1; }
        expect_error NotFound "${id2:7:12}" InspectImage s "${id2:7:12}" || return 1

        # TagImage turns it into a tagged image: no <none> row left
        id2=$(bcall CommitContainer 'sa{sv}' "$src" 0 | jq -r '.data[0]') || { fail "third untagged commit"; return 1; }
        bcall TagImage ss "$id2" zlcommit/fromdangling:v1 >/dev/null || { fail "TagImage $id2"; return 1; }
        out=$(list_images)
        zl_grep -q '^<none>:<none> ' <<<"$out" && { fail "tagged but still <none>: $out"; return 1; }
        zl_grep -q 'zlcommit/fromdangling:v1 ' <<<"$out" || { fail "tag missing: $out"; return 1; }
        j=$(bcall InspectImage s "$id2" | jq -r '.data[0]') || return 1
        jq -e '.RepoTags | length == 1' <<<"$j" >/dev/null || { fail "RepoTags $(jq -c .RepoTags <<<"$j")"; return 1; }
        discard "$src"
        bcall RemoveImage sb zlcommit/fromdangling:v1 false >/dev/null || { fail "RemoveImage the tag"; return 1; }
}
SCENARIOS+=(commit-untagged t_commit_untagged)

# layer_tar_check IMAGE PYTHON: runs PYTHON with `t` the image's top layer
# (a tarfile) and `m` its members by name
layer_tar_check() {
        local manifest layer
        manifest=$(bcall InspectImage s "$1" | jq -r '.data[0]' | jq -r '.RepoDigests[0] // empty' | sed 's/.*@//')
        [[ -n $manifest ]] || manifest=$(bcall ListImages | jq -r --arg r "$1" '.data[0][] | select(.[0] | endswith($r)) | .[1]')
        layer=$(jq -r '.layers[-1].digest' "$ROOT/images/blobs/sha256/${manifest#sha256:}") || return 1
        python3 - "$ROOT/images/blobs/sha256/${layer#sha256:}" "$2" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1])
m = {x.name: x for x in t.getmembers()}
exec(sys.argv[2])
PY
}

# A hard-linked pair in the upper dir is one file and a hard link entry in
# the layer (the image runs with the link); user.* xattrs and file
# capabilities ride in pax SCHILY.xattr headers and are there when the new
# image runs.
t_commit_hardlinks_xattrs() {
        local src ref=zlcommit/links:v1 f pid cap
        SERVICE=commitlinks run_sleep || return 1
        src=$CID
        f=/proc/$PID/root
        echo linked > "$f/hl1" && ln "$f/hl1" "$f/hl2" && mkdir "$f/xdir" && echo x > "$f/xdir/xf" &&
                cp "$f/bin/busybox" "$f/capbin" || { fail "cannot write into the container"; return 1; }
        # user.* on a file and a directory; cap_net_raw+ep as a v2 vfs_cap_data
        python3 -c '
import os, struct, sys
f = sys.argv[1]
os.setxattr(f + "/xdir/xf", "user.zl.note", b"hello xattr")
os.setxattr(f + "/xdir", "user.zl.dir", b"on a dir")
os.setxattr(f + "/capbin", "security.capability", struct.pack("<5I", 0x02000001, 1 << 13, 0, 0, 0))' "$f" ||
                { fail "setxattr failed"; return 1; }
        bcall CommitContainer 'sa{sv}' "$src" 2 repository s zlcommit/links tag s v1 >/dev/null || { fail "commit"; return 1; }
        layer_tar_check "$ref" '
f, l = (m["hl1"], m["hl2"]) if m["hl1"].isfile() else (m["hl2"], m["hl1"])  # readdir order
assert f.isfile() and f.size == 7 and l.islnk() and l.linkname == f.name, (f.type, l.type, l.linkname)
assert m["xdir/xf"].pax_headers.get("SCHILY.xattr.user.zl.note") == "hello xattr", m["xdir/xf"].pax_headers
assert "SCHILY.xattr.user.zl.dir" in m["xdir"].pax_headers, m["xdir"].pax_headers
assert "SCHILY.xattr.security.capability" in m["capbin"].pax_headers, m["capbin"].pax_headers' ||
                { fail "the layer tar lacks the link or the xattrs"; return 1; }
        discard "$src"

        create commitlinkrun "$(jq -cn --arg img "$ref" '{image: {name: $img}, command: {entrypoint: ["/bin/sleep", "1000"]}}')" || return 1
        start "$CID" || return 1
        pid=$(cpid "$CID")
        f=/proc/$pid/root
        [[ $(stat -c %i "$f/hl1") == $(stat -c %i "$f/hl2") && $(stat -c %h "$f/hl1") == 2 ]] ||
                { fail "not a hard link in the new image: $(stat -c '%n %i %h' "$f/hl1" "$f/hl2" | tr '\n' ' ')"; discard "$CID"; return 1; }
        cap=$(python3 -c '
import os, sys
f = sys.argv[1]
print(os.getxattr(f + "/xdir/xf", "user.zl.note").decode(), os.getxattr(f + "/xdir", "user.zl.dir").decode(),
      os.getxattr(f + "/capbin", "security.capability").hex())' "$f") || { fail "xattrs missing in the new image"; discard "$CID"; return 1; }
        note "xattrs in the new image: $cap"
        [[ $cap == "hello xattr on a dir 0100000200200000000000000000000000000000" ]] || { fail "xattrs: $cap"; discard "$CID"; return 1; }
        discard "$CID"
        bcall RemoveImage 'sb' "$ref" false >/dev/null || { fail "RemoveImage $ref"; return 1; }
}
SCENARIOS+=(commit-hardlinks-xattrs t_commit_hardlinks_xattrs)

# PruneImages while a commit writes its layer: Busy (the commit counts as a
# pull), so the new blobs are not collected before index.json names them;
# after the commit a prune keeps every blob of the new image.
t_commit_prune_race() {
        local src ref=zlcommit/race:latest out manifest i seen=0 d
        SERVICE=commitrace run_sleep || return 1
        src=$CID
        # ~1 s of gzip: enough to catch the commit in flight
        head -c 24M /dev/urandom > "/proc/$PID/root/big" || { fail "cannot write into the container"; return 1; }
        busctl --address="$ZL_BUS" --timeout=90 --json=short call "${MGR[@]}" CommitContainer 'sa{sv}' "$src" 1 \
                repository s zlcommit/race > "$ZL_TMP/race.out" 2> "$ZL_TMP/race.err" &
        local cp=$!
        for ((i = 0; i < 400; i++)); do
                compgen -G "$ROOT/images/ingest/commit-*" >/dev/null && { seen=1; break; }
                sleep 0.05
        done
        ((seen)) || { wait "$cp"; fail "never saw the commit's ingest file"; return 1; }
        expect_error Busy commits PruneImages '' || { wait "$cp"; return 1; }
        wait "$cp" || { fail "CommitContainer failed: $(cat "$ZL_TMP/race.err")"; return 1; }
        out=$(bcall PruneImages) || { fail "PruneImages after the commit"; return 1; }
        manifest=$(bcall ListImages | jq -r --arg r "$ref" '.data[0][] | select(.[0] | endswith($r)) | .[1]')
        [[ -n $manifest ]] || { fail "ListImages lacks $ref"; return 1; }
        d=$ROOT/images/blobs/sha256
        for b in "${manifest#sha256:}" $(jq -r '.config.digest, .layers[].digest' "$d/${manifest#sha256:}" | sed 's/^sha256://'); do
                [[ -f $d/$b ]] || { fail "blob $b of $ref is gone"; return 1; }
        done
        discard "$src"
        bcall RemoveImage 'sb' "$ref" false >/dev/null || { fail "RemoveImage $ref"; return 1; }
}
SCENARIOS+=(commit-prune-race t_commit_prune_race)

# CommitLayer runs in a child of zlayer-archive: an ArchiveHead of another
# container is answered while a big commit is still writing its layer (its
# ingest file is still there when the Head has answered; a commit in the
# worker's loop would have answered CommitLayer first, and the broker would
# have renamed that file).
t_commit_does_not_block_archive() {
        local src other i seen=0 out
        SERVICE=commitbig run_sleep || return 1
        src=$CID
        head -c 24M /dev/urandom > "/proc/$PID/root/big" || { fail "cannot write into the container"; return 1; }
        SERVICE=commithead run_sleep || return 1
        other=$CID
        busctl --address="$ZL_BUS" --timeout=90 --json=short call "${MGR[@]}" CommitContainer 'sa{sv}' "$src" 1 \
                repository s zlcommit/big > "$ZL_TMP/big.out" 2> "$ZL_TMP/big.err" &
        local cp=$!
        for ((i = 0; i < 400; i++)); do
                compgen -G "$ROOT/images/ingest/commit-$src-*" >/dev/null && { seen=1; break; }
                sleep 0.05
        done
        ((seen)) || { wait "$cp"; fail "never saw the commit's ingest file"; return 1; }
        out=$(bcall ArchiveHead ss "$other" /bin/busybox) || { wait "$cp"; fail "ArchiveHead during the commit"; return 1; }
        compgen -G "$ROOT/images/ingest/commit-$src-*" >/dev/null ||
                { wait "$cp"; fail "ArchiveHead was answered only after the commit's layer was written"; return 1; }
        note "ArchiveHead answered during the commit: $(jq -c .data <<<"$out")"
        wait "$cp" || { fail "CommitContainer failed: $(cat "$ZL_TMP/big.err")"; return 1; }
        discard "$src"
        discard "$other"
        bcall RemoveImage 'sb' zlcommit/big false >/dev/null || { fail "RemoveImage zlcommit/big"; return 1; }
}
SCENARIOS+=(commit-does-not-block-archive t_commit_does_not_block_archive)
