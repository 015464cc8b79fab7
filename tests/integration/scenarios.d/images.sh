# shellcheck shell=bash
# Image API scenarios (issue 3): lookup by reference / id / id prefix,
# InspectImage, GetImageHistory, TagImage, RemoveImage, PruneImages, pull
# policies. Sourced by tests/integration/run.

# img_push NAME [CONTENT [RANDOM_BYTES]]: pushes $REG/it-$TAG-NAME:1 to the
# registry, made of the busybox fixture layer plus one layer unique to NAME
# (or to CONTENT; with RANDOM_BYTES of incompressible data too), with a
# config whose history has an empty-layer entry in between. Prints the
# manifest digest.
img_push() {
        python3 - "$ZL_SRCDIR/tests/fixtures/build-images.py" "$REG" "it-$TAG-$1" "${2:-$1-$TAG}" "${3:-0}" <<'PY'
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("fixtures", sys.argv[1])
fx = importlib.util.module_from_spec(spec); spec.loader.exec_module(fx)
host, repo, content = sys.argv[2], sys.argv[3], sys.argv[4]
reg = fx.Registry(host)
st, _, body = reg.request("GET", "/v2/busybox/manifests/latest", headers={"Accept": fx.OCI_MANIFEST})
bb = json.loads(body)
_, _, bb_cfg = reg.request("GET", "/v2/busybox/blobs/" + bb["config"]["digest"])
_, _, bb_layer = reg.request("GET", "/v2/busybox/blobs/" + bb["layers"][0]["digest"])
t = fx.Tar(); t.dir("it"); t.file("it/content", content * 4096)
if int(sys.argv[5]) > 0:
    t.file("it/random", os.urandom(int(sys.argv[5])))
tar = t.bytes(); layer = fx.gzip_bytes(tar)
cfg = json.loads(bb_cfg)
cfg["rootfs"]["diff_ids"] = [cfg["rootfs"]["diff_ids"][0], fx.sha256(tar)]
cfg["author"] = "zlayer tests"
cfg["history"] = [
    {"created": "2024-01-01T00:00:00Z", "created_by": "busybox layer"},
    {"created": "2024-01-02T00:00:00Z", "created_by": "ENV IT=1", "empty_layer": True, "comment": "no layer"},
    {"created": "2024-01-03T00:00:00Z", "created_by": "ADD it/content"},
]
config = json.dumps(cfg, sort_keys=True).encode()
m = fx.manifest(config, [(bb_layer, fx.OCI_LAYER_GZIP), (layer, fx.OCI_LAYER_GZIP)])
img = fx.Image(repo, "1", fx.OCI_MANIFEST, m, [config, bb_layer, layer])
reg.push_image(img)
print(img.digest)
PY
}

# img_inspect IMAGE: the InspectImage JSON
img_inspect() { bcall InspectImage s "$1" | jq -r '.data[0]'; }
# img_chain_ids DIFF_ID…: the chain id hex of each layer, bottom first
img_chain_ids() {
        local c="" d
        for d in "$@"; do
                if [[ -z $c ]]; then c=$d; else c=sha256:$(printf '%s %s' "$c" "$d" | sha256sum | cut -d' ' -f1); fi
                echo "${c#sha256:}"
        done
}

t_image_inspect() {
        local j dig
        j=$(img_inspect "$REG/busybox:latest") || { fail "InspectImage failed"; return 1; }
        dig=$(zl_fixture_digest busybox)
        note "$(jq -c '{Id, RepoTags, RepoDigests, Os, Architecture, Size, RootFS}' <<<"$j")"
        jq -e '.Id | test("^sha256:[0-9a-f]{64}$")' <<<"$j" >/dev/null || { fail "Id"; return 1; }
        jq -e --arg r "$REG/busybox:latest" '.RepoTags | index($r)' <<<"$j" >/dev/null || { fail "RepoTags"; return 1; }
        jq -e --arg r "$REG/busybox@$dig" '.RepoDigests | index($r)' <<<"$j" >/dev/null || { fail "RepoDigests lacks $REG/busybox@$dig"; return 1; }
        jq -e '.Os == "linux" and .Architecture == "amd64" and .Created == "2024-01-01T00:00:00Z"' <<<"$j" >/dev/null ||
                { fail "Os/Architecture/Created"; return 1; }
        jq -e '.Config.Cmd == ["sh"] and .Config.Labels["com.zlayer.test.image"] != null' <<<"$j" >/dev/null ||
                { fail "Config"; return 1; }
        jq -e '.RootFS.Type == "layers" and (.RootFS.Layers | length) == 1 and .Size > 0 and .Parent == "" and
               .Metadata.LastTagTime != null and has("Comment") and has("Author")' <<<"$j" >/dev/null ||
                { fail "RootFS/Size/Parent/Metadata"; return 1; }
        # the Id is the config digest the registry serves
        local cfg
        cfg=$(curl -sf "http://$REG/v2/busybox/manifests/latest" -H 'Accept: application/vnd.oci.image.manifest.v1+json' | jq -r .config.digest)
        [[ $(jq -r .Id <<<"$j") == "$cfg" ]] || { fail "Id $(jq -r .Id <<<"$j") is not the config digest $cfg"; return 1; }
        j=$(img_inspect "$REG/layered:latest") || return 1
        [[ $(jq '.RootFS.Layers | length' <<<"$j") == 3 ]] || { fail "layered has not 3 layers"; return 1; }
        expect_error NotFound "$REG/nope:latest" InspectImage s "$REG/nope:latest"
}

t_image_lookup_by_id() {
        local id j name
        id=$(img_inspect "$REG/busybox:latest" | jq -r .Id) || return 1
        for name in "$id" "${id#sha256:}" "${id:7:12}" "sha256:${id:7:12}" "${id:7:20}"; do
                j=$(img_inspect "$name") || { fail "InspectImage $name failed"; return 1; }
                [[ $(jq -r .Id <<<"$j") == "$id" ]] || { fail "InspectImage $name gave another image"; return 1; }
        done
        expect_error NotFound "${id:7:11}" InspectImage s "${id:7:11}" || return 1
        expect_error NotFound "" GetImageHistory s "0000000000000000" || return 1
        # CreateContainer takes an image id prefix too
        create byid "$(jq -cn --arg img "${id:7:12}" '{image: {name: $img}, command: {entrypoint: ["/bin/true"]}}')" ||
                return 1
        local img
        img=$(bcall ListContainers | jq -r --arg c "$CID" '.data[0][] | select(.[0] == $c) | .[4]')
        discard "$CID"
        # any reference of that image (the auth registry's busybox is the same image)
        [[ -n $img && $(img_inspect "$img" | jq -r .Id) == "$id" ]] ||
                { fail "container from ${id:7:12} has image '$img', not one of image $id"; return 1; }
}

t_image_history() {
        local dig out id
        dig=$(img_push hist) || { fail "pushing it-$TAG-hist failed"; return 1; }
        pull "$REG/it-$TAG-hist:1" >/dev/null || { fail "pull failed"; return 1; }
        id=$(img_inspect "$REG/it-$TAG-hist:1" | jq -r .Id)
        out=$(bcall GetImageHistory s "$REG/it-$TAG-hist:1") || { fail "GetImageHistory failed"; return 1; }
        note "$(jq -c '.data[0]' <<<"$out")"
        [[ $(jq '.data[0] | length' <<<"$out") == 3 ]] || { fail "history has not 3 entries"; return 1; }
        local bbsize topsize
        topsize=$(curl -sf "http://$REG/v2/it-$TAG-hist/manifests/1" -H 'Accept: application/vnd.oci.image.manifest.v1+json' | jq '.layers[1].size')
        bbsize=$(curl -sf "http://$REG/v2/it-$TAG-hist/manifests/1" -H 'Accept: application/vnd.oci.image.manifest.v1+json' | jq '.layers[0].size')
        # newest first: the top layer carries the id and the tags
        jq -e --arg id "$id" --arg t "$REG/it-$TAG-hist:1" --argjson s "$topsize" \
                '.data[0][0] == [$id, 1704240000, "ADD it/content", [$t], $s, ""]' <<<"$out" >/dev/null ||
                { fail "entry 0"; return 1; }
        jq -e '.data[0][1] == ["<missing>", 1704153600, "ENV IT=1", [], 0, "no layer"]' <<<"$out" >/dev/null ||
                { fail "entry 1 (empty layer)"; return 1; }
        jq -e --argjson s "$bbsize" '.data[0][2] == ["<missing>", 1704067200, "busybox layer", [], $s, ""]' <<<"$out" >/dev/null ||
                { fail "entry 2"; return 1; }
        [[ $(img_inspect "$REG/it-$TAG-hist:1" | jq -r .Author) == "zlayer tests" ]] || { fail "Author"; return 1; }
}

t_image_tag() {
        local w=$ZL_TMP/watch-tag.out wp i out src dst=$REG/it-$TAG-tagged:v1
        "$ZLC" "$ZL_BUS" watch 30 > "$w" 2>&1 &
        wp=$!
        for ((i = 0; i < 50; i++)); do grep -q WATCHING "$w" && break; sleep 0.1; done
        bcall TagImage ss "$REG/busybox:latest" "$dst" >/dev/null || { kill "$wp"; fail "TagImage failed"; return 1; }
        out=$(bcall ListImages) || { kill "$wp"; return 1; }
        src=$(jq -r --arg r "$REG/busybox:latest" '.data[0][] | select(.[0] == $r) | .[1]' <<<"$out")
        [[ $(jq -r --arg r "$dst" '.data[0][] | select(.[0] == $r) | .[1]' <<<"$out") == "$src" ]] ||
                { kill "$wp"; fail "ListImages lacks $dst with digest $src"; return 1; }
        [[ $(img_inspect "$dst" | jq -r .Id) == $(img_inspect "$REG/busybox:latest" | jq -r .Id) ]] ||
                { kill "$wp"; fail "$dst is another image"; return 1; }
        img_inspect "$dst" | jq -e --arg r "$dst" '.RepoTags | index($r)' >/dev/null || { kill "$wp"; fail "RepoTags"; return 1; }
        sleep 0.3
        kill "$wp"; wait "$wp" 2>/dev/null
        grep -qxF "ImageNew $dst $src" "$w" || { fail "no ImageNew $dst: $(tr '\n' '|' < "$w")"; return 1; }
        expect_error org.freedesktop.DBus.Error.InvalidArgs "x@sha256" TagImage ss "$REG/busybox:latest" "x@sha256:$(printf '%064d' 0)" ||
                return 1
        expect_error NotFound "$REG/nope:1" TagImage ss "$REG/nope:1" "$REG/x:1" || return 1
        # remove the tag again: busybox stays
        bcall RemoveImage sb "$dst" false >/dev/null || { fail "RemoveImage $dst failed"; return 1; }
        bcall ListImages | jq -e --arg r "$dst" '[.data[0][][0]] | index($r) | not' >/dev/null || { fail "$dst still listed"; return 1; }
        img_inspect "$REG/busybox:latest" >/dev/null || { fail "busybox gone with its tag"; return 1; }
}

t_image_remove_untag_vs_delete() {
        local ref=$REG/it-$TAG-rm:1 ref2=$REG/it-$TAG-rm:2 j id chains w=$ZL_TMP/watch-rm.out wp i
        img_push rm >/dev/null || return 1
        pull "$ref" >/dev/null || { fail "pull failed"; return 1; }
        bcall TagImage ss "$ref" "$ref2" >/dev/null || return 1
        j=$(img_inspect "$ref") || return 1
        id=$(jq -r .Id <<<"$j")
        mapfile -t chains < <(img_chain_ids $(jq -r '.RootFS.Layers[]' <<<"$j"))
        [[ -d $ROOT/layers/${chains[1]} && -f $ROOT/images/blobs/sha256/${id#sha256:} ]] || { fail "layer/config not stored"; return 1; }
        "$ZLC" "$ZL_BUS" watch 30 > "$w" 2>&1 &
        wp=$!
        for ((i = 0; i < 50; i++)); do grep -q WATCHING "$w" && break; sleep 0.1; done
        # by reference with another tag left: untag only
        bcall RemoveImage sb "$ref" false >/dev/null || { kill "$wp"; fail "RemoveImage $ref failed"; return 1; }
        [[ $(img_inspect "$ref2" | jq -r .Id) == "$id" ]] || { kill "$wp"; fail "$ref2 lost"; return 1; }
        expect_error NotFound "$ref" InspectImage s "$ref" || { kill "$wp"; return 1; }
        [[ -f $ROOT/images/blobs/sha256/${id#sha256:} ]] || { kill "$wp"; fail "config deleted by an untag"; return 1; }
        # the last tag: the image is deleted, its own layer too, busybox's stays
        bcall RemoveImage sb "$ref2" false >/dev/null || { kill "$wp"; fail "RemoveImage $ref2 failed"; return 1; }
        sleep 0.3
        kill "$wp"; wait "$wp" 2>/dev/null
        expect_error NotFound "" InspectImage s "$id" || return 1
        [[ ! -e $ROOT/images/blobs/sha256/${id#sha256:} ]] || { fail "config blob left"; return 1; }
        [[ ! -e $ROOT/layers/${chains[1]} ]] || { fail "layer ${chains[1]} left"; return 1; }
        [[ -d $ROOT/layers/${chains[0]} ]] || { fail "the busybox layer was removed"; return 1; }
        grep -qxF "ImageRemoved $ref" "$w" && grep -qxF "ImageRemoved $ref2" "$w" ||
                { fail "no ImageRemoved: $(tr '\n' '|' < "$w")"; return 1; }
        bcall ListImages | jq -e --arg r "$ref2" '[.data[0][][0]] | index($r) | not' >/dev/null || { fail "$ref2 listed"; return 1; }
        # by id: every tag goes (force needed with two)
        img_push rm2 >/dev/null && pull "$REG/it-$TAG-rm2:1" >/dev/null || return 1
        bcall TagImage ss "$REG/it-$TAG-rm2:1" "$REG/it-$TAG-rm2:2" >/dev/null || return 1
        id=$(img_inspect "$REG/it-$TAG-rm2:1" | jq -r .Id)
        expect_error InvalidState "$id" RemoveImage sb "${id:7:16}" false || return 1
        bcall RemoveImage sb "${id:7:16}" true >/dev/null || { fail "RemoveImage by id, force"; return 1; }
        expect_error NotFound "" InspectImage s "$REG/it-$TAG-rm2:2" || return 1
        expect_error NotFound "" InspectImage s "$REG/it-$TAG-rm2:1"
}

t_image_remove_in_use_and_prune() {
        local ref=$REG/it-$TAG-used:1 j id chains out
        img_push used >/dev/null || return 1
        pull "$ref" >/dev/null || { fail "pull failed"; return 1; }
        j=$(img_inspect "$ref") || return 1
        id=$(jq -r .Id <<<"$j")
        mapfile -t chains < <(img_chain_ids $(jq -r '.RootFS.Layers[]' <<<"$j"))
        create used "$(jq -cn --arg img "$ref" '{image: {name: $img}, command: {entrypoint: ["/bin/true"]}}')" || return 1
        local cid=$CID
        expect_error InvalidState "$cid" RemoveImage sb "$ref" false || { discard "$cid"; return 1; }
        expect_error InvalidState "$cid" RemoveImage sb "$id" false || { discard "$cid"; return 1; }
        img_inspect "$ref" >/dev/null || { discard "$cid"; fail "refused remove removed it"; return 1; }
        bcall RemoveImage sb "$ref" true >/dev/null || { discard "$cid"; fail "RemoveImage force failed"; return 1; }
        expect_error NotFound "" InspectImage s "$ref" || { discard "$cid"; return 1; }
        # the container keeps its layers; its blobs are gone with the image
        [[ -d $ROOT/layers/${chains[1]} ]] || { discard "$cid"; fail "layer of a container removed"; return 1; }
        out=$(bcall PruneImages) || { discard "$cid"; fail "PruneImages failed"; return 1; }
        [[ -d $ROOT/layers/${chains[1]} ]] || { discard "$cid"; fail "prune removed a container's layer"; return 1; }
        # container gone: prune reclaims the layer
        bcall RemoveContainer sb "$cid" true >/dev/null || { fail "RemoveContainer"; return 1; }
        out=$(bcall PruneImages) || { fail "PruneImages failed"; return 1; }
        note "PruneImages → $(jq -c .data <<<"$out")"
        jq -e --arg c "sha256:${chains[1]}" '.data[0] | index($c)' <<<"$out" >/dev/null || { fail "prune did not list the layer"; return 1; }
        [[ $(jq '.data[1]' <<<"$out") -ge $(( (5 + ${#TAG}) * 4096 )) ]] || { fail "reclaimed $(jq '.data[1]' <<<"$out") bytes"; return 1; }
        [[ ! -e $ROOT/layers/${chains[1]} ]] || { fail "layer dir left after prune"; return 1; }
        [[ -d $ROOT/layers/${chains[0]} ]] || { fail "prune removed busybox's layer"; return 1; }
        # nothing left to prune; images still work
        out=$(bcall PruneImages) || return 1
        [[ $(jq '.data[1]' <<<"$out") == 0 && $(jq '.data[0] | length' <<<"$out") == 0 ]] || { fail "second prune: $out"; return 1; }
        SERVICE=afterprune run_sh "$REG/busybox:latest" 'echo alive' || return 1
        discard "$CID"
        has_line "$LOGS" "stdout alive"
}

t_image_pull_never() {
        expect_error NotFound "$REG/it-$TAG-absent:1" PullImage 'ssa{sv}' "$REG/it-$TAG-absent:1" never 0 || return 1
        local out
        out=$(pull "$REG/busybox:latest" never) || { fail "never with the image present failed"; return 1; }
        [[ $(jq -r '.data[0]' <<<"$out") == "$REG/busybox:latest" ]] || { fail "never: $out"; return 1; }
}

t_image_pull_newer() {
        local ref=$REG/it-$TAG-newer:1 d1 d2 out w=$ZL_TMP/watch-newer.out wp i
        d1=$(img_push newer) || return 1
        out=$(pull "$ref" newer) || { fail "newer of an absent image failed"; return 1; }
        [[ $(jq -r '.data[1]' <<<"$out") == "$d1" ]] || { fail "newer pulled $(jq -r '.data[1]' <<<"$out"), wanted $d1"; return 1; }
        "$ZLC" "$ZL_BUS" watch 30 > "$w" 2>&1 &
        wp=$!
        for ((i = 0; i < 50; i++)); do grep -q WATCHING "$w" && break; sleep 0.1; done
        # unchanged in the registry: nothing pulled, no ImageNew
        out=$(pull "$ref" newer) || { kill "$wp"; fail "newer (unchanged) failed"; return 1; }
        [[ $(jq -r '.data[1]' <<<"$out") == "$d1" ]] || { kill "$wp"; fail "newer (unchanged) gave $out"; return 1; }
        sleep 0.3
        grep -q "^ImageNew $ref " "$w" && { kill "$wp"; fail "newer pulled an unchanged image"; return 1; }
        # the tag moves in the registry
        d2=$(img_push newer "newer-v2-$TAG") || { kill "$wp"; return 1; }
        [[ $d1 != "$d2" ]] || { kill "$wp"; fail "the new push has the same digest"; return 1; }
        out=$(pull "$ref") || { kill "$wp"; return 1; }
        [[ $(jq -r '.data[1]' <<<"$out") == "$d1" ]] || { kill "$wp"; fail "if_not_present refreshed the image"; return 1; }
        out=$(pull "$ref" newer) || { kill "$wp"; fail "newer (changed) failed"; return 1; }
        sleep 0.3
        kill "$wp"; wait "$wp" 2>/dev/null
        [[ $(jq -r '.data[1]' <<<"$out") == "$d2" ]] || { fail "newer gave $(jq -r '.data[1]' <<<"$out"), the registry has $d2"; return 1; }
        grep -qxF "ImageNew $ref $d2" "$w" || { fail "no ImageNew $ref $d2"; return 1; }
        bcall ListImages | jq -e --arg r "$ref" --arg d "$d2" '.data[0][] | select(.[0] == $r and .[1] == $d)' >/dev/null ||
                { fail "ListImages does not show $d2"; return 1; }
        bcall RemoveImage sb "$ref" false >/dev/null
        expect_error NotFound "it-$TAG-gone" PullImage 'ssa{sv}' "$REG/it-$TAG-gone:1" newer 0
}

# zlayerd runs with --auth-file=$ZL_TMP/auth.json (tests/integration/run),
# absent except in this scenario.
t_image_auth_file() {
        local f=$ZL_TMP/auth.json out
        printf '{"auths":{"%s":{"auth":"%s"}}}' "$AUTH_REG" "$(printf '%s:%s' "$AUTH_USER" "$AUTH_PASS" | base64 -w0)" > "$f.tmp"
        chmod 0644 "$f.tmp" && mv "$f.tmp" "$f"
        out=$(pull "$AUTH_REG/busybox:latest" always) || { rm -f "$f"; fail "pull with the credential file failed"; return 1; }
        [[ $(jq -r '.data[1]' <<<"$out") == "$(zl_fixture_digest busybox)" ]] || { rm -f "$f"; fail "digest: $out"; return 1; }
        out=$(pull "$AUTH_REG/busybox:latest" newer) || { rm -f "$f"; fail "newer with the credential file failed"; return 1; }
        # read at each pull: a wrong password now fails without a restart
        printf '{"auths":{"http://%s/v2/":{"username":"%s","password":"wrong"}}}' "$AUTH_REG" "$AUTH_USER" > "$f"
        expect_error PullFailed "127.0.0.1:$AUTH_PORT" PullImage 'ssa{sv}' "$AUTH_REG/busybox:latest" always 0 || { rm -f "$f"; return 1; }
        # the call's options win over the file
        out=$(bcall PullImage 'ssa{sv}' "$AUTH_REG/busybox:latest" always 2 username s "$AUTH_USER" password s "$AUTH_PASS") ||
                { rm -f "$f"; fail "options did not override the file"; return 1; }
        # a malformed file is an error naming it
        echo '{"auths":{"'"$AUTH_REG"'":{"auth":"***"}}}' > "$f"
        expect_error PullFailed "$f" PullImage 'ssa{sv}' "$AUTH_REG/busybox:latest" always 0 || { rm -f "$f"; return 1; }
        rm -f "$f"
        # gone again: anonymous
        expect_error PullFailed "127.0.0.1:$AUTH_PORT" PullImage 'ssa{sv}' "$AUTH_REG/busybox:latest" always 0
}

# img_slow_proxy PORT: a proxy to $REG on 127.0.0.1:PORT that serves blobs
# at about 256 KiB/s, so a pull lasts long enough to watch and cancel.
# Sets SLOW_PID.
img_slow_proxy() {
        python3 - "$1" "$REG" <<'PY' > "$ZL_TMP/slow-proxy.log" 2>&1 &
import http.server, sys, time, urllib.request, urllib.error
port, upstream = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def relay(self, head):
        req = urllib.request.Request("http://" + upstream + self.path, method="HEAD" if head else "GET",
                                     headers={k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization", "range")})
        try:
            r = urllib.request.urlopen(req, timeout=30)
        except urllib.error.HTTPError as e:
            r = e
        body = b"" if head else r.read()
        self.send_response(r.status if hasattr(r, "status") else r.code)
        for k in ("Content-Type", "Docker-Content-Digest", "Docker-Distribution-Api-Version", "WWW-Authenticate"):
            if r.headers.get(k):
                self.send_header(k, r.headers[k])
        self.send_header("Content-Length", str(len(body)) if not head else r.headers.get("Content-Length", "0"))
        self.end_headers()
        slow = "/blobs/" in self.path
        try:
            for i in range(0, len(body), 16384):
                self.wfile.write(body[i:i + 16384])
                self.wfile.flush()
                if slow:
                    time.sleep(1 / 16)
        except (BrokenPipeError, ConnectionResetError):
            pass
    def do_GET(self): self.relay(False)
    def do_HEAD(self): self.relay(True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
        SLOW_PID=$!
        zl_wait_http "http://127.0.0.1:$1/v2/" 10
}

# monitor FILE: Job signals and property changes on the bus, as JSON lines
# (busctl monitor, root on the test bus). Sets MON_PID.
img_monitor() {
        busctl --address="$ZL_BUS" --json=short monitor \
                --match="type='signal',interface='com.zlayer.Runtime1.Job'" \
                --match="type='signal',member='JobNew'" --match="type='signal',member='JobRemoved'" \
                --match="type='signal',member='PropertiesChanged',arg0='com.zlayer.Runtime1.Job'" > "$1" 2>/dev/null &
        MON_PID=$!
        sleep 0.5
}

t_image_pull_job_progress() {
        local m=$ZL_TMP/jobs.out out port ref
        port=$(zl_free_port)
        img_push progress "" 400000 >/dev/null || return 1
        img_slow_proxy "$port" || { kill "$SLOW_PID" 2>/dev/null; fail "slow proxy did not start"; return 1; }
        ref=127.0.0.1:$port/it-$TAG-progress:1
        img_monitor "$m"
        out=$(pull "$ref" always)
        local rc=$?
        sleep 0.5
        kill "$MON_PID" "$SLOW_PID" 2>/dev/null; wait "$MON_PID" "$SLOW_PID" 2>/dev/null
        [[ $rc == 0 ]] || { fail "pull through the slow proxy failed"; return 1; }
        local new removed progress pc
        new=$(jq -c --arg r "$ref" 'select(.member == "JobNew" and .payload.data[2] == "pull" and .payload.data[3] == $r) | .payload.data' "$m" | head -1)
        note "JobNew: $new"
        [[ -n $new ]] || { fail "no JobNew for $ref: $(head -c 600 "$m")"; return 1; }
        local id path
        id=$(jq -r '.[0]' <<<"$new"); path=$(jq -r '.[1]' <<<"$new")
        [[ $path == "/com/zlayer/Runtime1/job/$id" ]] || { fail "job path $path"; return 1; }
        progress=$(jq -c --arg p "$path" 'select(.path == $p and .member == "Progress") | .payload.data' "$m")
        note "Progress signals: $(wc -l <<<"$progress"); last: $(tail -1 <<<"$progress")"
        # the unique layer is downloaded in many reports, the busybox one exists already or is downloaded
        grep -q '"downloading"' <<<"$progress" || { fail "no downloading Progress"; return 1; }
        grep -q '"done"' <<<"$progress" || { fail "no done Progress"; return 1; }
        [[ $(grep -c '"downloading"' <<<"$progress") -le 40 ]] || { fail "Progress not rate-limited"; return 1; }
        pc=$(jq -c --arg p "$path" 'select(.path == $p and .member == "PropertiesChanged") | .payload.data[1].Progress.data // empty' "$m" | tail -1)
        [[ $pc == 1 ]] || { fail "Progress property ended at '$pc'"; return 1; }
        removed=$(jq -c --argjson id "$id" 'select(.member == "JobRemoved" and .payload.data[0] == $id) | .payload.data' "$m")
        note "JobRemoved: $removed"
        [[ $(jq -r '.[2]' <<<"$removed") == done ]] || { fail "JobRemoved result not done"; return 1; }
        # the object is gone with the job
        busctl --address="$ZL_BUS" get-property com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Job State >/dev/null 2>&1 &&
                { fail "job object $path still there"; return 1; }
        bcall RemoveImage sb "$ref" false >/dev/null
}

t_image_pull_cancel() {
        local m=$ZL_TMP/jobs-cancel.out port ref out id path i
        port=$(zl_free_port)
        img_push cancel "" 1500000 >/dev/null || return 1
        img_slow_proxy "$port" || { kill "$SLOW_PID" 2>/dev/null; fail "slow proxy did not start"; return 1; }
        ref=127.0.0.1:$port/it-$TAG-cancel:1
        img_monitor "$m"
        zc PullImage 'ssa{sv}' "$ref" always 0 > "$ZL_TMP/cancel-pull.out" 2>&1 &
        local pp=$!
        for ((i = 0; i < 100; i++)); do
                grep -q '"downloading"' "$m" && break
                sleep 0.1
        done
        path=$(jq -r --arg r "$ref" 'select(.member == "JobNew" and .payload.data[3] == $r) | .payload.data[1]' "$m" | head -1)
        id=${path##*/}
        [[ -n $path ]] || { kill "$MON_PID" "$SLOW_PID" "$pp" 2>/dev/null; fail "no JobNew"; return 1; }
        [[ $(busctl --address="$ZL_BUS" get-property com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Job Type) == 's "pull"' ]] ||
                { kill "$MON_PID" "$SLOW_PID" "$pp" 2>/dev/null; fail "Job Type"; return 1; }
        busctl --address="$ZL_BUS" call com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Job Cancel ||
                { kill "$MON_PID" "$SLOW_PID" "$pp" 2>/dev/null; fail "Cancel failed"; return 1; }
        wait "$pp"
        sleep 0.5
        kill "$MON_PID" "$SLOW_PID" 2>/dev/null; wait "$MON_PID" "$SLOW_PID" 2>/dev/null
        out=$(cat "$ZL_TMP/cancel-pull.out")
        note "PullImage → $out"
        [[ $out == "ERROR com.zlayer.Runtime1.Error.Canceled: "* ]] || { fail "PullImage did not answer Canceled"; return 1; }
        jq -e --argjson id "$id" 'select(.member == "JobRemoved" and .payload.data[0] == $id and .payload.data[2] == "canceled")' "$m" >/dev/null ||
                { fail "no JobRemoved canceled"; return 1; }
        [[ -z $(ls -A "$ROOT/images/ingest" 2>/dev/null) ]] || { fail "ingest/ not empty: $(ls -A "$ROOT/images/ingest")"; return 1; }
        expect_error NotFound "" InspectImage s "$ref"
}

SCENARIOS+=(
        image-inspect t_image_inspect
        image-lookup-by-id t_image_lookup_by_id
        image-history t_image_history
        image-tag t_image_tag
        image-remove-untag-vs-delete t_image_remove_untag_vs_delete
        image-remove-in-use-and-prune t_image_remove_in_use_and_prune
        image-pull-never t_image_pull_never
        image-pull-newer t_image_pull_newer
        image-auth-file t_image_auth_file
        image-pull-job-progress t_image_pull_job_progress
        image-pull-cancel t_image_pull_cancel
)
