# shellcheck shell=bash
# SaveImages, LoadImages, ImportImage (issue 3 items 4 and 5), with real
# peers: podman (private --root/--runroot, vfs) and skopeo.

ZLCTL=${ZLCTL:-$BUILD/cli/zlayerctl}
io_ctl() { timeout 300 "$ZLCTL" --bus="$ZL_BUS" "$@"; }
# podman on a private store: nothing global changes; io_podman_done removes it
io_podman() {
        timeout 300 podman --root "$ZL_TMP/podman/root" --runroot "$ZL_TMP/podman/run" --tmpdir "$ZL_TMP/podman/tmp" \
                --storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}
io_podman_done() {
        io_podman rm -af >/dev/null 2>&1
        io_podman rmi -af >/dev/null 2>&1
        umount -R "$ZL_TMP/podman/run" 2>/dev/null
        rm -rf "$ZL_TMP/podman" 2>/dev/null
}
# what a failed load must not change: the index, the blobs, the layers
io_store_listing() {
        bcall ListImages | jq -c '.data[0]'
        ls "$ROOT/images/blobs/sha256" "$ROOT/layers"
}
io_image_id() { bcall InspectImage s "$1" | jq -r '.data[0]' | jq -r .Id; }

t_images_save_podman_load_run() {
        local ref=$REG/layered:latest out n
        pull "$ref" >/dev/null || { fail "pull $ref"; return 1; }
        io_ctl save -o "$ZL_TMP/save.tar" "$ref" || { fail "zlayerctl save"; return 1; }
        out=$(tar tf "$ZL_TMP/save.tar" | sort | tr '\n' ' ')
        note "archive: $out"
        [[ $out == *manifest.json* && $out == *repositories* ]] || { fail "no manifest.json/repositories"; return 1; }
        n=$(tar tf "$ZL_TMP/save.tar" | grep -c '\.tar$')
        [[ $n == 3 ]] || { fail "$n layer tars, want 3"; return 1; }
        # skopeo reads it as a docker-archive (zlayer's store is an OCI layout too, see images.sh)
        out=$(timeout 60 skopeo inspect "docker-archive:$ZL_TMP/save.tar") || { fail "skopeo inspect"; return 1; }
        jq -e --arg id "$(io_image_id "$ref")" '(.Layers | length) == 3' <<<"$out" >/dev/null ||
                { fail "skopeo inspect: $out"; return 1; }
        mkdir -p "$ZL_TMP/podman"
        out=$(io_podman load -i "$ZL_TMP/save.tar" 2>&1) || { fail "podman load: $out"; io_podman_done; return 1; }
        note "podman load: $(tail -1 <<<"$out")"
        # podman asks for rlimits above this machine's hard limits unless told;
        # crun refuses hybrid cgroups, runc does not
        out=$(io_podman run --rm --net none --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
                "$ref" cat /etc/zl-kept 2>&1)
        note "podman run: $out"
        [[ $out == "layer 1 file, kept" ]] || { fail "podman run printed '$out'"; io_podman_done; return 1; }
        # podman keeps the image id: the config bytes are zlayer's
        out=$(io_podman image inspect --format '{{.Id}}' "$ref")
        [[ sha256:$out == "$(io_image_id "$ref")" ]] || { fail "podman id $out"; io_podman_done; return 1; }
        io_podman_done
}
SCENARIOS+=(images-save-podman-load-run t_images_save_podman_load_run)

# podman save (docker-archive, oci-archive) → LoadImages → zlayer runs it
t_images_load_podman_save() {
        local ref=$REG/busybox:latest fmt out want
        pull "$ref" >/dev/null || { fail "pull $ref"; return 1; }
        mkdir -p "$ZL_TMP/podman"
        io_ctl save -o "$ZL_TMP/bb.tar" "$ref" || { fail "zlayerctl save"; return 1; }
        io_podman load -i "$ZL_TMP/bb.tar" >/dev/null 2>&1 || { fail "podman load"; io_podman_done; return 1; }
        io_podman tag "$ref" localhost/zlio/fromdocker:v1 localhost/zlio/fromoci:v1 || { fail "podman tag"; io_podman_done; return 1; }
        for fmt in docker-archive oci-archive; do
                local name=localhost/zlio/from${fmt%%-*}:v1
                [[ $fmt == oci-archive ]] && name=localhost/zlio/fromoci:v1
                rm -f "$ZL_TMP/p.tar"
                io_podman save --format "$fmt" -o "$ZL_TMP/p.tar" "$name" >/dev/null 2>&1 ||
                        { fail "podman save --format $fmt"; io_podman_done; return 1; }
                out=$(io_ctl load -i "$ZL_TMP/p.tar") || { fail "zlayerctl load of podman's $fmt"; io_podman_done; return 1; }
                note "$fmt: $out"
                [[ $out == "Loaded image: $name" ]] || { fail "load printed '$out'"; io_podman_done; return 1; }
                SERVICE=zlio run_sh "$name" 'echo loaded-runs' || { io_podman_done; return 1; }
                has_line "$LOGS" "stdout loaded-runs" || { io_podman_done; return 1; }
                discard "$CID"
                # docker-archive keeps podman's config bytes; oci-archive has the config podman
                # converted to OCI: the id is the config digest skopeo reads from the archive
                if [[ $fmt == docker-archive ]]; then
                        want=$(io_image_id "$ref")
                else
                        want=$(timeout 60 skopeo inspect --raw "oci-archive:$ZL_TMP/p.tar" | jq -r .config.digest)
                fi
                [[ $(io_image_id "$name") == "$want" ]] || { fail "$fmt: id $(io_image_id "$name"), want $want"; io_podman_done; return 1; }
                bcall RemoveImage sb "$name" false >/dev/null || { fail "RemoveImage $name"; io_podman_done; return 1; }
        done
        io_podman_done
}
SCENARIOS+=(images-load-podman-save t_images_load_podman_save)

# save → remove → load: same id, same references, ImageNew, and it runs
t_images_save_load_roundtrip() {
        local ref=$REG/layered:latest id out
        pull "$ref" >/dev/null || { fail "pull $ref"; return 1; }
        bcall TagImage ss "$ref" zlio/round:v2 >/dev/null || { fail "TagImage"; return 1; }
        id=$(io_image_id "$ref")
        io_ctl save -o "$ZL_TMP/rt.tar" "$ref" zlio/round:v2 || { fail "zlayerctl save"; return 1; }
        bcall RemoveImage sb "$id" true >/dev/null || { fail "RemoveImage $id"; return 1; }
        bcall PruneImages >/dev/null || { fail "PruneImages"; return 1; }
        out=$(io_ctl load < "$ZL_TMP/rt.tar" | sort | tr '\n' '|') || { fail "zlayerctl load"; return 1; }
        note "load: $out"
        [[ $out == "Loaded image: $ref|Loaded image: docker.io/zlio/round:v2|" ]] || { fail "load printed '$out'"; return 1; }
        [[ $(io_image_id "$ref") == "$id" && $(io_image_id zlio/round:v2) == "$id" ]] || { fail "ids changed"; return 1; }
        # what the load stored is a valid OCI layout entry: skopeo reads it from the store
        out=$(timeout 60 skopeo inspect "oci:$ROOT/images:docker.io/zlio/round:v2") || { fail "skopeo inspect oci:"; return 1; }
        jq -e '(.Layers | length) == 3' <<<"$out" >/dev/null || { fail "skopeo inspect oci: $out"; return 1; }
        out=$(timeout 60 skopeo inspect --raw "oci:$ROOT/images:docker.io/zlio/round:v2" | jq -r .config.digest)
        [[ $out == "$id" ]] || { fail "skopeo reads config $out, want $id"; return 1; }
        SERVICE=zlround run_sh zlio/round:v2 'cat /etc/zl-kept' || return 1
        has_line "$LOGS" "stdout layer 1 file, kept" || return 1
        discard "$CID"
        # gzip input too
        gzip -c "$ZL_TMP/rt.tar" > "$ZL_TMP/rt.tar.gz"
        out=$(io_ctl load -i "$ZL_TMP/rt.tar.gz" | wc -l) || { fail "load of a gzip archive"; return 1; }
        [[ $out == 2 ]] || { fail "gzip load: $out references"; return 1; }
        bcall RemoveImage sb zlio/round:v2 false >/dev/null
}
SCENARIOS+=(images-save-load-roundtrip t_images_save_load_roundtrip)

t_images_import_runs() {
        local root=$ZL_TMP/importroot id out
        rm -rf "$root"; mkdir -p "$root/bin" "$root/etc"
        cp /bin/busybox "$root/bin/busybox"
        ln -s busybox "$root/bin/sh"; ln -s busybox "$root/bin/cat"
        echo imported-marker > "$root/etc/marker"
        tar -C "$root" -czf "$ZL_TMP/rootfs.tgz" .
        id=$(io_ctl import "$ZL_TMP/rootfs.tgz" zlio/imported:v1) || { fail "zlayerctl import"; return 1; }
        note "imported $id"
        [[ $id =~ ^sha256:[0-9a-f]{64}$ && $(io_image_id zlio/imported:v1) == "$id" ]] || { fail "id '$id'"; return 1; }
        out=$(bcall InspectImage s zlio/imported:v1 | jq -r '.data[0]')
        jq -e '(.RootFS.Layers | length) == 1 and .Os == "linux"' <<<"$out" >/dev/null || { fail "inspect: $out"; return 1; }
        bcall GetImageHistory s zlio/imported:v1 | zl_grep -q 'zlayer import' || { fail "history"; return 1; }
        SERVICE=zlimport run_sh zlio/imported:v1 'cat /etc/marker' || return 1
        has_line "$LOGS" "stdout imported-marker" || return 1
        discard "$CID"
        # a tag without a repository names nothing (no repository at all: images-import-untagged)
        expect_error org.freedesktop.DBus.Error.InvalidArgs "'v1'" ImportImage hss 3 "" v1 3< "$ZL_TMP/rootfs.tgz" || return 1
        out=$(io_ctl import "$ZL_TMP/rootfs.tgz" 'Bad Repo' 2>&1) && { fail "bad repository accepted"; return 1; }
        [[ $out == *"Bad Repo"* ]] || { fail "error does not name the repository: $out"; return 1; }
        bcall RemoveImage sb zlio/imported:v1 false >/dev/null
}
SCENARIOS+=(images-import-runs t_images_import_runs)

# hostile inputs are refused with InvalidArgs naming the problem; the store
# (index, blobs, layers) is what it was
t_images_load_hostile() {
        local ref=$REG/busybox:latest before after out case
        pull "$ref" >/dev/null || { fail "pull $ref"; return 1; }
        io_ctl save -o "$ZL_TMP/good.tar" "$ref" || { fail "save"; return 1; }
        python3 - "$ZL_TMP" <<'PY' || { fail "building the hostile archives"; return 1; }
import io, json, sys, tarfile
d = sys.argv[1]
good = tarfile.open(d + "/good.tar")
members = [(m, good.extractfile(m).read() if m.isfile() else None) for m in good.getmembers()]
def write(name, items):
    with tarfile.open(d + "/" + name, "w") as t:
        for m, data in items:
            m = tarfile.TarInfo(m) if isinstance(m, str) else m
            if data is not None:
                m.size = len(data)
            t.addfile(m, io.BytesIO(data) if data is not None else None)
# wrong digest: the layer tar changed by one byte (diff_id no longer matches)
bad = []
for m, data in members:
    if m.name.endswith(".tar"):
        data = data[:600] + bytes([data[600] ^ 1]) + data[601:]
    bad.append((m, data))
write("wrong-digest.tar", bad)
# the config renamed: <hex>.json whose content is not <hex>
bad = []
for m, data in members:
    if m.name.endswith(".json") and m.name != "manifest.json":
        data = data.replace(b'"os"', b'"os" ', 1)
    bad.append((m, data))
write("wrong-config.tar", bad)
# path traversal in the archive
write("traversal.tar", members + [("../../evil", b"x")])
# path traversal inside a layer: a valid archive whose layer writes ../
lt = io.BytesIO()
with tarfile.open(fileobj=lt, mode="w") as t:
    ti = tarfile.TarInfo("../../escape"); ti.size = 1
    t.addfile(ti, io.BytesIO(b"x"))
layer = lt.getvalue()
import hashlib
diff = "sha256:" + hashlib.sha256(layer).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
man = json.dumps([{"Config": ch + ".json", "RepoTags": ["zlio/evil:v1"], "Layers": [diff[7:] + ".tar"]}]).encode()
write("layer-traversal.tar", [(ch + ".json", cfg), (diff[7:] + ".tar", layer), ("manifest.json", man)])
# a gzip layer under a neutral name whose content is not the config's diff_id
import gzip
other = io.BytesIO()
with tarfile.open(fileobj=other, mode="w") as t:
    ti = tarfile.TarInfo("etc/x"); ti.size = 1
    t.addfile(ti, io.BytesIO(b"y"))
write("layer-gz-digest.tar", [(ch + ".json", cfg), ("l1/layer.tar", gzip.compress(other.getvalue())),
      ("manifest.json", man.replace((diff[7:] + ".tar").encode(), b"l1/layer.tar"))])
PY
        head -c 20000 "$ZL_TMP/good.tar" > "$ZL_TMP/truncated.tar"
        before=$(io_store_listing)
        for case in "truncated:truncated" "wrong-digest:has the digest" "wrong-config:has the digest" \
                    "traversal:../../evil" "layer-traversal:../../escape" "layer-gz-digest:digest mismatch"; do
                out=$(zc LoadImages hb 3 false 3< "$ZL_TMP/${case%%:*}.tar")
                note "${case%%:*}: $out"
                [[ $out == "ERROR org.freedesktop.DBus.Error.InvalidArgs: "* ]] ||
                        { fail "${case%%:*}: not refused with InvalidArgs"; return 1; }
                grep -q -- "${case#*:}" <<<"$out" || { fail "${case%%:*}: the error does not say '${case#*:}'"; return 1; }
                after=$(io_store_listing)
                [[ $after == "$before" ]] || { fail "${case%%:*} changed the store: $(diff <(echo "$before") <(echo "$after"))"; return 1; }
        done
        ls "$ROOT/images/ingest" | zl_grep -q '^\.load-' && { fail "a staging dir was left in ingest/"; return 1; }
        return 0
}
SCENARIOS+=(images-load-hostile t_images_load_hostile)

# SearchImages: the catalog of the registry the term names, substring, limit
t_images_search_catalog() {
        local out
        out=$(bcall SearchImages su "$REG/busy" 0 | jq -c '[.data[0][] | .[0]] | sort') || { fail "SearchImages"; return 1; }
        note "search $REG/busy: $out"
        [[ $out == "[\"$REG/busybox\",\"$REG/busybox-docker\",\"$REG/busybox-zstd\"]" ]] || { fail "results $out"; return 1; }
        out=$(bcall SearchImages su "$REG/busy" 2 | jq -c '.data[0]') || { fail "SearchImages limit"; return 1; }
        [[ $(jq length <<<"$out") == 2 ]] || { fail "limit 2 gave $out"; return 1; }
        jq -e 'all(.[]; .[1] == "" and .[2] == 0 and .[3] == false and .[4] == false)' <<<"$out" >/dev/null ||
                { fail "description/stars/flags $out"; return 1; }
        out=$(bcall SearchImages su "$REG/LAYER" 0 | jq -c '[.data[0][] | .[0]]')
        [[ $out == "[\"$REG/layered\"]" ]] || { fail "case-insensitive match: $out"; return 1; }
        expect_error org.freedesktop.DBus.Error.InvalidArgs busybox SearchImages su busybox 0 || return 1
        expect_error PullFailed "127.0.0.1:1" SearchImages su "127.0.0.1:1/x" 0 || return 1
        # zlayerctl prints the table
        out=$(io_ctl search --limit 1 "$REG/layered") || { fail "zlayerctl search"; return 1; }
        note "zlayerctl search: $(tr '\n' '|' <<<"$out")"
        grep -q "^$REG/layered " <<<"$out" || { fail "zlayerctl search output"; return 1; }
}
SCENARIOS+=(images-search-catalog t_images_search_catalog)

# --- untagged (dangling) images from ImportImage and LoadImages ---

# io_rootfs MARKER OUT: a busybox rootfs tar with /etc/marker = MARKER
io_rootfs() {
        local root=$ZL_TMP/rootfs-$RANDOM
        mkdir -p "$root/bin" "$root/etc"
        cp /bin/busybox "$root/bin/busybox"
        ln -s busybox "$root/bin/sh"; ln -s busybox "$root/bin/cat"
        echo "$1" > "$root/etc/marker"
        tar -C "$root" -czf "$2" . && rm -rf "$root"
}
# io_dangling_ids: the image ids of the <none>:<none> rows of ListImages
# (the row's digest is the manifest; its config digest is the image id)
io_dangling_ids() {
        local d
        for d in $(bcall ListImages | jq -r '.data[0][] | select(.[0] == "<none>:<none>") | .[1]'); do
                jq -r .config.digest "$ROOT/images/blobs/sha256/${d#sha256:}"
        done
}
# io_refs_of ID: the ListImages references whose image is ID, sorted
io_refs_of() {
        local ref d
        bcall ListImages | jq -r '.data[0][] | "\(.[0]) \(.[1])"' | while read -r ref d; do
                [[ $(jq -r .config.digest "$ROOT/images/blobs/sha256/${d#sha256:}") == "$1" ]] && echo "$ref"
        done | sort
}

# docker import FILE (no REPOSITORY): <none>:<none>, runnable by id, pruned when unused
t_images_import_untagged() {
        local id out
        io_rootfs untagged-import "$ZL_TMP/untagged.tgz" || { fail "rootfs tar"; return 1; }
        id=$(io_ctl import "$ZL_TMP/untagged.tgz") || { fail "zlayerctl import without a repository"; return 1; }
        note "imported $id"
        [[ $id =~ ^sha256:[0-9a-f]{64}$ ]] || { fail "zlayerctl import printed '$id'"; return 1; }
        [[ $(io_refs_of "$id") == "<none>:<none>" ]] || { fail "ListImages rows of $id: $(io_refs_of "$id")"; return 1; }
        out=$(bcall InspectImage s "$id" | jq -r '.data[0]')
        jq -e --arg id "$id" '.Id == $id and .RepoTags == [] and (.RootFS.Layers | length) == 1' <<<"$out" >/dev/null ||
                { fail "InspectImage: $(jq -c '{Id, RepoTags}' <<<"$out")"; return 1; }
        SERVICE=zluntag run_sh "$id" 'cat /etc/marker' || return 1
        has_line "$LOGS" "stdout untagged-import" || return 1
        discard "$CID"
        out=$(bcall PruneImages) || { fail "PruneImages"; return 1; }
        jq -e --arg id "$id" '.data[0] | index($id) != null' <<<"$out" >/dev/null || { fail "not pruned: $out"; return 1; }
        expect_error NotFound "$id" InspectImage s "$id" || return 1
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" >/dev/null || { fail "store after the prune"; return 1; }
}
SCENARIOS+=(images-import-untagged t_images_import_untagged)

# docker save IMAGE_ID (RepoTags null) → a dangling image with the same id;
# the tagged archive then names it (one row), and a dangling load never untags
t_images_load_untagged() {
        local id out ref=docker.io/zlio/untag:v1
        io_rootfs untagged-load "$ZL_TMP/ul.tgz" || { fail "rootfs tar"; return 1; }
        id=$(io_ctl import "$ZL_TMP/ul.tgz" zlio/untag:v1) || { fail "import"; return 1; }
        io_ctl save -o "$ZL_TMP/ul-tagged.tar" "$ref" || { fail "save"; return 1; }
        python3 - "$ZL_TMP/ul-tagged.tar" "$ZL_TMP/ul-null.tar" <<'PY' || { fail "rewriting RepoTags"; return 1; }
import io, json, sys, tarfile
src, dst = tarfile.open(sys.argv[1]), tarfile.open(sys.argv[2], "w")
for m in src.getmembers():
    data = src.extractfile(m).read() if m.isfile() else None
    if m.name == "manifest.json":
        man = json.loads(data)
        for item in man:
            item["RepoTags"] = None
        data = json.dumps(man).encode()
    if m.name == "repositories":
        continue
    if data is not None:
        m.size = len(data)
    dst.addfile(m, io.BytesIO(data) if data is not None else None)
dst.close()
PY
        bcall RemoveImage sb "$ref" false >/dev/null || { fail "RemoveImage $ref"; return 1; }
        out=$(io_ctl load -i "$ZL_TMP/ul-null.tar") || { fail "load of RepoTags null"; return 1; }
        [[ $out == "Loaded image ID: $id" ]] || { fail "load printed '$out'"; return 1; }
        [[ $(io_refs_of "$id") == "<none>:<none>" ]] || { fail "rows of $id: $(io_refs_of "$id")"; return 1; }
        SERVICE=zluntagl run_sh "$id" 'cat /etc/marker' || return 1
        has_line "$LOGS" "stdout untagged-load" || return 1
        discard "$CID"
        out=$(io_ctl load -i "$ZL_TMP/ul-tagged.tar") || { fail "load of the tagged archive"; return 1; }
        [[ $out == "Loaded image: $ref" ]] || { fail "tagged load printed '$out'"; return 1; }
        [[ $(io_refs_of "$id") == "$ref" ]] || { fail "after the tagged load, rows of $id: $(io_refs_of "$id")"; return 1; }
        # loading it without a name again changes nothing
        out=$(zc LoadImages hb 3 false 3< "$ZL_TMP/ul-null.tar") || { fail "second untagged load"; return 1; }
        [[ $out == *"$id"* ]] || { fail "LoadImages returned '$out', want the id"; return 1; }
        [[ $(io_refs_of "$id") == "$ref" ]] || { fail "an untagged load untagged it: $(io_refs_of "$id")"; return 1; }
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" >/dev/null || { fail "store"; return 1; }
        bcall RemoveImage sb "$ref" false >/dev/null
}
SCENARIOS+=(images-load-untagged t_images_load_untagged)

# a multi-platform oci-archive (index.json → image index → manifests): the
# host's manifest is loaded and runs, the other platform's blobs stay out;
# an index without the host's platform is refused naming what it has
t_images_load_nested_index() {
        local id ref=localhost/zlio/multi:v1 out before after d
        io_rootfs nested-index "$ZL_TMP/ni.tgz" || { fail "rootfs tar"; return 1; }
        id=$(io_ctl import "$ZL_TMP/ni.tgz" zlio/nested-src:v1) || { fail "import"; return 1; }
        io_ctl save -o "$ZL_TMP/ni.tar" zlio/nested-src:v1 || { fail "save"; return 1; }
        timeout 120 skopeo copy -q "docker-archive:$ZL_TMP/ni.tar" "oci-archive:$ZL_TMP/ni-oci.tar" >/dev/null ||
                { fail "skopeo copy to an oci-archive"; return 1; }
        bcall RemoveImage sb zlio/nested-src:v1 false >/dev/null || { fail "RemoveImage"; return 1; }
        bcall PruneImages >/dev/null || { fail "PruneImages"; return 1; }
        python3 - "$ZL_TMP" <<'PY' || { fail "building the multi-platform archives"; return 1; }
import gzip, hashlib, io, json, sys, tarfile
d = sys.argv[1]
src = tarfile.open(d + "/ni-oci.tar")
blobs = {}
for m in src.getmembers():
    if m.isfile() and m.name.startswith("blobs/sha256/"):
        blobs[m.name.split("/")[-1]] = src.extractfile(m).read()
entry = json.loads(src.extractfile("index.json").read())["manifests"][0]
def add(data):
    h = hashlib.sha256(data).hexdigest()
    blobs[h] = data
    return {"digest": "sha256:" + h, "size": len(data)}
# the arm64 image: its own config, layer and manifest (never to be stored)
amd_man = json.loads(blobs[entry["digest"][7:]])
cfg = json.loads(blobs[amd_man["config"]["digest"][7:]])
cfg["architecture"] = "arm64"
lt = io.BytesIO()
with tarfile.open(fileobj=lt, mode="w") as t:
    ti = tarfile.TarInfo("etc/arm64-only"); ti.size = 1
    t.addfile(ti, io.BytesIO(b"a"))
arm_cfg = add(json.dumps(cfg).encode())
arm_layer = add(gzip.compress(lt.getvalue()))
arm_man = add(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(arm_cfg, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(arm_layer, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
arm = dict(arm_man, mediaType="application/vnd.oci.image.manifest.v1+json",
           platform={"os": "linux", "architecture": "arm64", "variant": "v8"})
amd = {"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"],
       "platform": {"os": "linux", "architecture": "amd64"}}
def write(name, children, ref):
    nested = add(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                             "manifests": children}).encode())
    index = {"schemaVersion": 2, "manifests": [dict(nested, mediaType="application/vnd.oci.image.index.v1+json",
             annotations={"org.opencontainers.image.ref.name": ref})]}
    with tarfile.open(d + "/" + name, "w") as t:
        for n, data in [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", json.dumps(index).encode())] + \
                       [("blobs/sha256/" + h, b) for h, b in blobs.items()]:
            ti = tarfile.TarInfo(n); ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return nested["digest"]
with open(d + "/ni-foreign", "w") as f:
    for x in (arm_cfg, arm_layer, arm_man):
        print(x["digest"], file=f)
    print(write("ni-multi.tar", [arm, amd], "localhost/zlio/multi:v1"), file=f)
    print(write("ni-armonly.tar", [arm], "localhost/zlio/armonly:v1"), file=f)
PY
        out=$(io_ctl load -i "$ZL_TMP/ni-multi.tar") || { fail "load of the multi-platform archive"; return 1; }
        [[ $out == "Loaded image: $ref" ]] || { fail "load printed '$out'"; return 1; }
        [[ $(io_image_id "$ref") == "$id" ]] || { fail "id $(io_image_id "$ref"), want the amd64 image's $id"; return 1; }
        while read -r d; do
                [[ -e $ROOT/images/blobs/sha256/${d#sha256:} ]] && { fail "blob $d of the other platform or the index was stored"; return 1; }
        done < "$ZL_TMP/ni-foreign"
        python3 "$ZL_SRCDIR/tests/fixtures/verify-store.py" "$ROOT" >/dev/null || { fail "store"; return 1; }
        SERVICE=zlnested run_sh "$ref" 'cat /etc/marker; ls /etc' || return 1
        has_line "$LOGS" "stdout nested-index" || return 1
        zl_grep -q arm64-only <<<"$LOGS" && { fail "the arm64 layer is in the container"; return 1; }
        discard "$CID"
        bcall RemoveImage sb "$ref" false >/dev/null
        bcall PruneImages >/dev/null
        before=$(io_store_listing)
        expect_error org.freedesktop.DBus.Error.InvalidArgs "linux/arm64" LoadImages hb 3 false 3< "$ZL_TMP/ni-armonly.tar" || return 1
        after=$(io_store_listing)
        [[ $after == "$before" ]] || { fail "the refused load changed the store: $(diff <(echo "$before") <(echo "$after"))"; return 1; }
}
SCENARIOS+=(images-load-nested-index t_images_load_nested_index)
