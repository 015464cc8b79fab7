#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start docker-registry instances on 127.0.0.1 and push small images for
test-puller-link.

usage: puller-registry.py WORKDIR
       puller-registry.py --token-proxy UPSTREAM_PORT LISTEN_PORT   (internal)

Starts two registries (one anonymous, one with htpasswd Basic auth, user
"zl" password "secret"), pushes the images below through the distribution
API, and prints one JSON object on stdout:

  {"port": N, "auth_port": N, "token_port": N, "pids": [..], "images": {name: {...digests}}}

token_port serves the anonymous registry's content behind Bearer token
auth (its own /token realm; anonymous tokens, or Basic zl:secret), plus two
misbehaving repositories: "huge" (a 5 MiB manifest) and "evil" (x:latest's
manifest for any digest).

Images (all built from /bin/busybox of busybox-static, reproducible tars):
  x:latest        OCI manifest, one tar+gzip layer
  x:docker        Docker schema 2 manifest of the same layer
  multi:latest    OCI index: amd64, arm64 and one entry of unknown media type
  two:latest      OCI manifest, gzip + zstd layers
  corrupt:latest  a layer whose bytes in the registry storage were overwritten
  private:latest  (auth registry only) OCI manifest
The registries keep running; the caller kills the pids.
"""

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

AUTH_USER, AUTH_PASSWORD = "zl", "secret"
STARTED = []


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode in files:
            if data is None:
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                info.mode = mode
                t.addfile(info)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    return gzip.compress(data, mtime=0)


def zst(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, check=True, capture_output=True).stdout


def config(diff_ids, arch="amd64"):
    return json.dumps({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }, sort_keys=True).encode()


def manifest(cfg, layers, docker=False):
    """layers: list of (blob, media_type)."""
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
                   "digest": sha256(cfg), "size": len(cfg)},
        "layers": [{"mediaType": mt, "digest": sha256(b), "size": len(b)} for b, mt in layers],
    }, sort_keys=True).encode()


class Registry:
    def __init__(self, workdir, name, htpasswd=None):
        self.port = free_port()
        self.root = os.path.join(workdir, name)
        os.makedirs(self.root, exist_ok=True)
        cfg = ["version: 0.1", "log:", "  level: warn", "storage:", "  filesystem:",
               "    rootdirectory: " + os.path.join(self.root, "storage"),
               "  delete:", "    enabled: true",
               "http:", "  addr: 127.0.0.1:%d" % self.port]
        self.auth = None
        if htpasswd:
            import warnings
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            import crypt
            path = os.path.join(self.root, "htpasswd")
            with open(path, "w") as f:
                f.write("%s:%s\n" % (AUTH_USER, crypt.crypt(AUTH_PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH))))
            cfg += ["auth:", "  htpasswd:", "    realm: zlayer-test", "    path: " + path]
            self.auth = "Basic " + base64.b64encode(("%s:%s" % (AUTH_USER, AUTH_PASSWORD)).encode()).decode()
        path = os.path.join(self.root, "config.yml")
        with open(path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        log = open(os.path.join(self.root, "registry.log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", path], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True)
        STARTED.append(self.proc)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(200):
            try:
                self.request("GET", "/v2/")
                return
            except urllib.error.HTTPError:
                return  # 401 means it is up
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("docker-registry exited, see " + log.name)
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def request(self, method, path, data=None, headers=None):
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if self.auth:
            req.add_header("Authorization", self.auth)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def push_blob(self, repo, data):
        _, headers, _ = self.request("POST", "/v2/%s/blobs/uploads/" % repo, data=b"")
        loc = headers["Location"]
        if not loc.startswith("http"):
            loc = self.base + loc
        loc += ("&" if "?" in loc else "?") + "digest=" + sha256(data)
        self.request("PUT", loc, data=data, headers={"Content-Type": "application/octet-stream"})

    def push_manifest(self, repo, ref, media_type, data):
        self.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), data=data,
                     headers={"Content-Type": media_type})

    def push_image(self, repo, tag, cfg, layers, docker=False):
        for blob in [cfg] + [b for b, _ in layers]:
            self.push_blob(repo, blob)
        m = manifest(cfg, layers, docker)
        self.push_manifest(repo, tag, DOCKER_MANIFEST if docker else OCI_MANIFEST, m)
        return {"manifest": sha256(m), "config": sha256(cfg),
                "layers": [sha256(b) for b, _ in layers], "sizes": [len(b) for b, _ in layers]}

    def blob_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return os.path.join(self.root, "storage", "docker", "registry", "v2", "blobs", "sha256",
                            hexd[:2], hexd, "data")


class TokenProxy:
    """Bearer-token front of a registry: 401 + challenge without a token,
    /token hands them out, requests with one are proxied upstream."""

    def __init__(self, upstream, listen):
        import http.server

        realm = "http://127.0.0.1:%d/token" % listen
        good_basic = "Basic " + base64.b64encode(("%s:%s" % (AUTH_USER, AUTH_PASSWORD)).encode()).decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                import urllib.parse
                url = urllib.parse.urlparse(self.path)
                auth = self.headers.get("Authorization")
                if url.path == "/token":
                    q = urllib.parse.parse_qs(url.query)
                    if auth and auth != good_basic:
                        return self.reply(401)
                    if q.get("service") != ["zlayer-test"] or not q.get("scope"):
                        return self.reply(400)
                    repo = q["scope"][0].split(":")[1]
                    tok = json.dumps({"token": "tok-" + repo}).encode()
                    return self.reply(200, tok, [("Content-Type", "application/json")])
                parts = url.path.split("/")
                repo = parts[2] if len(parts) > 3 and parts[1] == "v2" else ""
                if auth != "Bearer tok-" + repo:
                    challenge = 'Bearer realm="%s",service="zlayer-test",scope="repository:%s:pull"' % (realm, repo)
                    return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}',
                                      [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
                if repo == "huge":
                    # Larger than any manifest the puller accepts.
                    return self.reply(200, b" " * (5 << 20) + b"{}", [("Content-Type", OCI_MANIFEST)])
                path = self.path
                if repo == "evil":
                    # Serves x:latest's manifest whatever digest was asked for.
                    path = "/v2/x/manifests/latest" if parts[3] == "manifests" else path.replace("/evil/", "/x/", 1)
                req = urllib.request.Request("http://127.0.0.1:%d%s" % (upstream, path))
                if self.headers.get("Accept"):
                    req.add_header("Accept", self.headers["Accept"])
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, headers, body = r.status, r.headers, r.read()
                except urllib.error.HTTPError as e:
                    status, headers, body = e.code, e.headers, e.read()
                keep = [(k, headers[k]) for k in ("Content-Type", "Docker-Content-Digest") if headers.get(k)]
                self.reply(status, body, keep)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", listen), Handler)

    def serve(self):
        self.server.serve_forever()


def main():
    if sys.argv[1] == "--token-proxy":
        TokenProxy(int(sys.argv[2]), int(sys.argv[3])).serve()
        return
    workdir = sys.argv[1]
    with open("/bin/busybox", "rb") as f:
        busybox = f.read()
    base_tar = tar_of([("bin", None, 0o755), ("bin/busybox", busybox, 0o755)])
    base_gz = gz(base_tar)
    small_tar = tar_of([("etc", None, 0o755), ("etc/hello", b"hello from zlayer\n", 0o644)])
    small_zst = zst(small_tar)

    reg = Registry(workdir, "open")
    auth = Registry(workdir, "auth", htpasswd=True)
    out = {"port": reg.port, "auth_port": auth.port, "pids": [reg.proc.pid, auth.proc.pid], "images": {}}
    images = out["images"]

    cfg = config([sha256(base_tar)])
    images["x:latest"] = reg.push_image("x", "latest", cfg, [(base_gz, OCI_GZIP)])
    images["x:latest"]["diff_ids"] = [sha256(base_tar)]
    images["x:docker"] = reg.push_image("x", "docker", cfg, [(base_gz, DOCKER_GZIP)], docker=True)

    two_cfg = config([sha256(base_tar), sha256(small_tar)])
    images["two:latest"] = reg.push_image("two", "latest", two_cfg, [(base_gz, OCI_GZIP), (small_zst, OCI_ZSTD)])
    images["two:latest"]["diff_ids"] = [sha256(base_tar), sha256(small_tar)]

    # An index: an entry we must skip (unknown media type, listed first and
    # claiming amd64), then amd64 and arm64/v8 images.
    amd = reg.push_image("multi", "amd64", cfg, [(base_gz, OCI_GZIP)])
    arm_cfg = config([sha256(base_tar)], arch="arm64")
    arm = reg.push_image("multi", "arm64", arm_cfg, [(base_gz, OCI_GZIP)])
    odd = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {
        "mediaType": "application/vnd.zlayer.test.unknown.v1+json", "digest": sha256(b"{}"), "size": 2},
        "layers": []}, sort_keys=True).encode()
    reg.push_blob("multi", b"{}")
    reg.push_manifest("multi", "odd", OCI_MANIFEST, odd)
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": "application/vnd.zlayer.test.unknown.v1+json", "digest": sha256(odd), "size": len(odd),
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI_MANIFEST, "digest": amd["manifest"], "size": len(manifest(cfg, [(base_gz, OCI_GZIP)])),
         "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI_MANIFEST, "digest": arm["manifest"],
         "size": len(manifest(arm_cfg, [(base_gz, OCI_GZIP)])),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ]}, sort_keys=True).encode()
    reg.push_manifest("multi", "latest", OCI_INDEX, index)
    images["multi:latest"] = {"index": sha256(index), "amd64": amd["manifest"], "arm64": arm["manifest"],
                              "arm64_config": arm["config"]}

    # Same size, other bytes: the registry serves them as the blob's content.
    bad_tar = tar_of([("etc", None, 0o755), ("etc/corrupt", b"x" * 1000, 0o644)])
    bad_gz = gz(bad_tar)
    images["corrupt:latest"] = reg.push_image("corrupt", "latest", config([sha256(bad_tar)]), [(bad_gz, OCI_GZIP)])
    path = reg.blob_path(sha256(bad_gz))
    with open(path, "r+b") as f:
        f.write(bytes(b ^ 0xff for b in bad_gz[:64]))

    token_port = free_port()
    log = open(os.path.join(workdir, "token-proxy.log"), "w")
    proxy = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--token-proxy", str(reg.port),
                              str(token_port)], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
    STARTED.append(proxy)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", token_port), timeout=1):
                break
        except OSError:
            if proxy.poll() is not None:
                raise RuntimeError("token proxy exited, see " + log.name)
            time.sleep(0.05)
    out["token_port"] = token_port
    out["pids"].append(proxy.pid)

    images["private:latest"] = auth.push_image("private", "latest", config([sha256(small_tar)]),
                                               [(gz(small_tar), OCI_GZIP)])
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the caller only needs to know it failed and why
        sys.stderr.write("puller-registry.py: %s\n" % e)
        for p in STARTED:
            p.kill()
        sys.exit(1)
