# shellcheck shell=bash
# Pull faults (issue 3, items 1 and 6): a registry that dies, stalls, drops
# the connection, serves a bad blob or a bad manifest, redirects blobs to
# another host; a disk that fills. Each checks the store afterwards with
# tests/fixtures/verify-store.py (every blob rehashed, no temp file or temp
# layer dir, every index entry whole) and that no entry was recorded, then
# that a retry succeeds. The misbehaving registry is
# tests/fixtures/fault-registry.py in front of $REG, on 127.0.0.1 only.

PF_PORT= PF_PID= PF_LOG=

# pf_server: the fault registry (once for the file); sets PF_PORT, PF_LOG
pf_server() {
        [[ -n $PF_PID ]] && kill -0 "$PF_PID" 2>/dev/null && return 0
        PF_PORT=$(zl_free_port)
        PF_LOG=$ZL_TMP/fault-registry.log
        : > "$PF_LOG"
        python3 "$ZL_SRCDIR/tests/fixtures/fault-registry.py" "$REG" "$PF_PORT" "$(zl_free_port)" "$PF_LOG" \
                > "$ZL_TMP/fault-registry.out" 2>&1 &
        PF_PID=$!
        zl_track "$PF_PID"
        zl_wait_http "http://127.0.0.1:$PF_PORT/v2/" 10 || { fail "fault registry did not start"; return 1; }
}

# pf_image NAME [LAYERS [MIB]]: pushes $REG/pf-$TAG-NAME:1 (busybox + LAYERS
# layers of MIB MiB, unique to NAME) and prints its info JSON
pf_image() {
        ZL_TMP=$ZL_TMP python3 "$ZL_SRCDIR/tests/fixtures/big-image.py" --registry "$REG" --repo "pf-$TAG-$1" \
                --tag 1 --layers "${2:-2}" --layer-mib "${3:-1}" --seed "$(cksum <<<"$TAG-$1" | cut -d' ' -f1)"
}

# pf_layers NAME [FROM]: the layer digests of $REG/pf-$TAG-NAME:1, from
# index FROM on (1: not the busybox layer, which other images may share)
pf_layers() {
        curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/pf-$TAG-$1/manifests/1" |
                jq -r --argjson from "${2:-0}" '.layers[$from:][].digest'
}

# pf_consistent REF [ROOT]: the store is whole and REF has no entry
pf_consistent() {
        local out root=${2:-$ROOT}
        out=$(python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$root") || { fail "store: $out"; return 1; }
        note "$out"
        expect_error NotFound "" InspectImage s "$1" >/dev/null || { fail "$1 has an entry after a failed pull"; return 1; }
}

# pf_no_blobs NAME: none of the image's layer blobs is in the store
pf_no_blobs() {
        local d
        for d in $(pf_layers "$1" 1); do
                [[ ! -e $ROOT/images/blobs/sha256/${d#sha256:} ]] || { fail "blob $d was stored"; return 1; }
        done
}

t_pull_fault_corrupt_blob() {
        pf_server || return 1
        pf_image corrupt >/dev/null || { fail "pushing the image failed"; return 1; }
        local ref=127.0.0.1:$PF_PORT/corrupt/pf-$TAG-corrupt:1 out d named=0
        out=$(zc PullImage 'ssa{sv}' "$ref" always 0 2>&1)
        note "PullImage → $out"
        [[ $out == "ERROR com.zlayer.Runtime1.Error.PullFailed: "*"digest mismatch"* ]] ||
                { fail "wanted PullFailed with a digest mismatch"; return 1; }
        for d in $(pf_layers corrupt); do [[ $out == *"$d"* ]] && named=1; done
        [[ $named == 1 ]] || { fail "the error names none of the layer digests $(pf_layers corrupt | tr '\n' ' ')"; return 1; }
        pf_consistent "$ref" && pf_no_blobs corrupt || return 1
        # the same blobs served right
        pull "127.0.0.1:$PF_PORT/pass/pf-$TAG-corrupt:1" always >/dev/null || { fail "retry failed"; return 1; }
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" >/dev/null || { fail "store after the retry"; return 1; }
        bcall RemoveImage sb "127.0.0.1:$PF_PORT/pass/pf-$TAG-corrupt:1" false >/dev/null
}

t_pull_fault_bad_manifests() {
        pf_server || return 1
        expect_error PullFailed "larger than" PullImage 'ssa{sv}' "127.0.0.1:$PF_PORT/huge/busybox:latest" always 0 || return 1
        expect_error PullFailed "not valid JSON" PullImage 'ssa{sv}' "127.0.0.1:$PF_PORT/malformed/busybox:latest" always 0 ||
                return 1
        # nothing crashed: the same puller serves the next pull
        pull "127.0.0.1:$PF_PORT/pass/busybox:latest" always >/dev/null || { fail "pull after bad manifests failed"; return 1; }
        bcall RemoveImage sb "127.0.0.1:$PF_PORT/pass/busybox:latest" false >/dev/null
        pf_consistent "127.0.0.1:$PF_PORT/huge/busybox:latest"
}

t_pull_fault_drop_resumes() {
        pf_server || return 1
        pf_image drop >/dev/null || { fail "pushing the image failed"; return 1; }
        local ref=127.0.0.1:$PF_PORT/drop/pf-$TAG-drop:1 n
        pull "$ref" always >/dev/null || { fail "pull over dropped connections failed"; return 1; }
        n=$(grep -c "GET /v2/drop/pf-$TAG-drop/blobs/.* range=bytes=" "$PF_LOG")
        note "resumed with Range: $n requests"
        [[ $n -ge 2 ]] || { fail "no Range requests: $(grep "pf-$TAG-drop" "$PF_LOG" | tail -5)"; return 1; }
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" || { fail "store after the resumed pull"; return 1; }
        SERVICE=pfdrop run_sh "$ref" 'ls /data/0 | wc -l' || return 1
        has_line "$LOGS" "stdout 1" || return 1
        discard "$CID"
        bcall RemoveImage sb "$ref" false >/dev/null
}

t_pull_fault_no_range_support() {
        pf_server || return 1
        pf_image norange >/dev/null || { fail "pushing the image failed"; return 1; }
        local ref=127.0.0.1:$PF_PORT/norange/pf-$TAG-norange:1
        expect_error PullFailed "cannot resume" PullImage 'ssa{sv}' "$ref" always 0 || return 1
        pf_consistent "$ref" && pf_no_blobs norange
}

t_pull_fault_stall() {
        pf_server || return 1
        pf_image stall >/dev/null || { fail "pushing the image failed"; return 1; }
        local ref=127.0.0.1:$PF_PORT/stall/pf-$TAG-stall:1 t0=$SECONDS
        expect_error PullFailed "127.0.0.1:$PF_PORT" PullImage 'ssa{sv}' "$ref" always 0 || return 1
        note "failed after $((SECONDS - t0)) s"
        (( SECONDS - t0 <= 45 )) || { fail "a stalled transfer took $((SECONDS - t0)) s to fail"; return 1; }
        pf_consistent "$ref" && pf_no_blobs stall
}

t_pull_fault_registry_killed() {
        pf_image killed 2 3 >/dev/null || { fail "pushing the image failed"; return 1; }
        local port pid log=$ZL_TMP/fault-killed.log ref out i
        port=$(zl_free_port)
        ref=127.0.0.1:$port/slow/pf-$TAG-killed:1
        python3 "$ZL_SRCDIR/tests/fixtures/fault-registry.py" "$REG" "$port" "$(zl_free_port)" "$log" >/dev/null 2>&1 &
        pid=$!
        zl_wait_http "http://127.0.0.1:$port/v2/" 10 || { kill "$pid"; fail "fault registry did not start"; return 1; }
        zc PullImage 'ssa{sv}' "$ref" always 0 > "$ZL_TMP/killed-pull.out" 2>&1 &
        local pp=$!
        # killed once a layer is on its way
        for ((i = 0; i < 100; i++)); do grep -q "GET /v2/slow/pf-$TAG-killed/blobs/" "$log" 2>/dev/null && break; sleep 0.1; done
        sleep 1
        kill -9 "$pid"; wait "$pid" 2>/dev/null
        wait "$pp"
        out=$(cat "$ZL_TMP/killed-pull.out")
        note "PullImage → $out"
        [[ $out == "ERROR com.zlayer.Runtime1.Error.PullFailed: "*"127.0.0.1:$port"* ]] ||
                { fail "wanted PullFailed naming 127.0.0.1:$port"; return 1; }
        pf_consistent "$ref" && pf_no_blobs killed || return 1
        # the registry is back: the retry succeeds
        python3 "$ZL_SRCDIR/tests/fixtures/fault-registry.py" "$REG" "$port" "$(zl_free_port)" "$log" >/dev/null 2>&1 &
        pid=$!
        zl_wait_http "http://127.0.0.1:$port/v2/" 10 || { kill "$pid"; fail "fault registry did not restart"; return 1; }
        out=$(pull "$ref" always); local rc=$?
        kill "$pid"; wait "$pid" 2>/dev/null
        [[ $rc == 0 ]] || { fail "retry failed"; return 1; }
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" || { fail "store after the retry"; return 1; }
        bcall RemoveImage sb "$ref" false >/dev/null
}

t_pull_fault_auth_redirect() {
        pf_server || return 1
        pf_image auth >/dev/null || { fail "pushing the image failed"; return 1; }
        local ref=127.0.0.1:$PF_PORT/auth/pf-$TAG-auth:1 tokens
        pull "$ref" always >/dev/null || { fail "pull with a token and redirected blobs failed"; return 1; }
        grep -q "REDIRECTED-GET" "$PF_LOG" || { fail "no blob was redirected"; return 1; }
        grep -q "REDIRECTED-GET auth=yes" "$PF_LOG" && { fail "Authorization was sent to the other host"; return 1; }
        note "redirected blob GETs: $(grep -c 'REDIRECTED-GET auth=no' "$PF_LOG"), none with Authorization"
        tokens=$(grep -c "^TOKEN .*pf-$TAG-auth" "$PF_LOG")
        [[ $tokens == 1 ]] || { fail "$tokens token requests for one pull"; return 1; }
        # a second pull within the token's lifetime asks the token service nothing
        bcall RemoveImage sb "$ref" false >/dev/null
        pull "$ref" always >/dev/null || { fail "second pull failed"; return 1; }
        tokens=$(grep -c "^TOKEN .*pf-$TAG-auth" "$PF_LOG")
        [[ $tokens == 1 ]] || { fail "the token was not reused: $tokens token requests"; return 1; }
        bcall RemoveImage sb "$ref" false >/dev/null
}

# Two pulls of one image at once: each layer blob crosses the wire once
# (the second pull waits for the first one's download), both succeed.
t_pull_concurrent_one_transfer() {
        pf_server || return 1
        pf_image shared 2 2 >/dev/null || { fail "pushing the image failed"; return 1; }
        local ref=127.0.0.1:$PF_PORT/slow/pf-$TAG-shared:1 p1 p2 rc1 rc2 d n
        zc PullImage 'ssa{sv}' "$ref" always 0 > "$ZL_TMP/shared-1.out" 2>&1 & p1=$!
        zc PullImage 'ssa{sv}' "$ref" always 0 > "$ZL_TMP/shared-2.out" 2>&1 & p2=$!
        wait "$p1"; rc1=$?
        wait "$p2"; rc2=$?
        note "pull 1 → $(cat "$ZL_TMP/shared-1.out"); pull 2 → $(cat "$ZL_TMP/shared-2.out")"
        [[ $rc1 == 0 && $rc2 == 0 ]] || { fail "a concurrent pull failed"; return 1; }
        for d in $(pf_layers shared 1); do
                n=$(grep -c "GET /v2/slow/pf-$TAG-shared/blobs/$d " "$PF_LOG")
                [[ $n == 1 ]] || { fail "blob $d downloaded $n times"; return 1; }
        done
        note "each of $(pf_layers shared 1 | wc -l) layer blobs downloaded once"
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" || { fail "store after concurrent pulls"; return 1; }
        bcall RemoveImage sb "$ref" false >/dev/null
}

# PullImage's platform option picks the index entry; one the index lacks
# is NotFound naming it.
t_pull_platform_option() {
        pf_server || return 1
        local ref=127.0.0.1:$PF_PORT/pass/multiarch:latest j
        bcall PullImage 'ssa{sv}' "$ref" always 1 platform s linux/arm64/v8 >/dev/null ||
                { fail "pull for linux/arm64/v8 failed"; return 1; }
        j=$(bcall InspectImage s "$ref" | jq -r '.data[0]') || { fail "InspectImage failed"; return 1; }
        note "$(jq -c '{Architecture, Variant, Os}' <<<"$j")"
        [[ $(jq -r .Architecture <<<"$j") == arm64 ]] || { fail "architecture is not arm64"; return 1; }
        [[ $(jq -r '.Config.Labels["com.zlayer.test.platform"]' <<<"$j") == arm64 ]] ||
                { fail "not the arm64 manifest's config"; return 1; }
        expect_error NotFound "linux/s390x" PullImage 'ssa{sv}' "$ref" always 1 platform s linux/s390x || return 1
        bcall RemoveImage sb "$ref" false >/dev/null
}

# The store on a 40 MiB tmpfs (a zlayerd of its own, with its own run dir
# so that it sees no container of the others), an image that needs more.
t_pull_fault_disk_full() {
        pf_image full 3 8 >/dev/null || { fail "pushing the image failed"; return 1; }
        local small=$ZL_TMP/small ref="$REG/pf-$TAG-full:1" out rc=0
        mkdir -p "$small"
        mount -t tmpfs -o size=40m,mode=0755 zl-small "$small" || { fail "mounting a tmpfs failed"; return 1; }
        kill -TERM "$ZLAYERD_PID"; wait "$ZLAYERD_PID" 2>/dev/null
        ROOT=$small/root RUN=$small/run start_zlayerd || rc=1
        if [[ $rc == 0 ]]; then
                out=$(zc PullImage 'ssa{sv}' "$ref" always 0 2>&1)
                note "PullImage → $out"
                [[ $out == "ERROR com.zlayer.Runtime1.Error."*"No space left on device"* ]] ||
                        { fail "wanted an error naming ENOSPC"; rc=1; }
                [[ $out == *"$small/root"* ]] || { fail "the error does not name the store on $small"; rc=1; }
                [[ $rc == 0 ]] && { pf_consistent "$ref" "$small/root" || rc=1; }
                bcall ListImages >/dev/null || { fail "the daemon does not serve after ENOSPC"; rc=1; }
                # room again: the retry succeeds
                mount -o remount,size=160m "$small"
                [[ $rc == 0 ]] && { pull "$ref" always >/dev/null || { fail "retry with room failed"; rc=1; }; }
                [[ $rc == 0 ]] && { python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$small/root" || rc=1; }
        fi
        kill -TERM "$ZLAYERD_PID"; wait "$ZLAYERD_PID" 2>/dev/null
        umount -l "$small"
        start_zlayerd || rc=1
        return $rc
}

SCENARIOS+=(
        pull-fault-corrupt-blob t_pull_fault_corrupt_blob
        pull-fault-bad-manifests t_pull_fault_bad_manifests
        pull-fault-drop-resumes t_pull_fault_drop_resumes
        pull-fault-no-range-support t_pull_fault_no_range_support
        pull-fault-stall t_pull_fault_stall
        pull-fault-registry-killed t_pull_fault_registry_killed
        pull-fault-auth-redirect t_pull_fault_auth_redirect
        pull-concurrent-one-transfer t_pull_concurrent_one_transfer
        pull-platform-option t_pull_platform_option
        pull-fault-disk-full t_pull_fault_disk_full
)
