# shellcheck shell=bash
# SearchImages over the registries of zlayerd --search-registry (a term
# without a host), and catalogs behind Basic and Bearer token auth
# (broker/manager-image-search.c, workers/puller/catalog.c). The term with a
# host is in images-io.sh (images-search-catalog).

search_names() { bcall SearchImages su "$1" "$2" | jq -c '[.data[0][] | .[0]]'; }
search_auth_file() {
        printf '{"auths":{"%s":{"auth":"%s"}}}' "$AUTH_REG" "$(printf '%s:%s' "$AUTH_USER" "$AUTH_PASS" | base64 -w0)" \
                > "$ZL_TMP/auth.json.tmp" && chmod 0644 "$ZL_TMP/auth.json.tmp" && mv "$ZL_TMP/auth.json.tmp" "$ZL_TMP/auth.json"
}

# zlayerd refuses a bad --search-registry, naming it, before it starts anything
t_search_registry_option_refused() {
        local bad out rc=0 i many=()
        for bad in "https://r.example" "r.example/x" "r.example:99999" ""; do
                out=$(timeout 10 "$BUILD/zlayerd/zlayerd" --search-registry="$bad" --root="$ZL_TMP/none" --run-dir="$ZL_TMP/none" 2>&1)
                [[ $? == 2 && $out == *"--search-registry must be a registry HOST[:PORT]"*": $bad"* ]] ||
                        { fail "'$bad': $out"; rc=1; }
        done
        for ((i = 0; i < 17; i++)); do many+=(--search-registry="r$i.example"); done
        out=$(timeout 10 "$BUILD/zlayerd/zlayerd" "${many[@]}" --root="$ZL_TMP/none" 2>&1)
        [[ $? == 2 && $out == *"at most 16 times: r16.example"* ]] || { fail "17 registries: $out"; rc=1; }
        [[ ! -e $ZL_TMP/none ]] || { fail "zlayerd created its root before refusing"; rc=1; }
        return $rc
}
SCENARIOS+=(search-registry-option-refused t_search_registry_option_refused)

# A bare term searches every configured registry in order; limit cuts
# across them; a registry that fails (down, or its catalog wants
# credentials) is skipped with a warning while another answers; the
# credential file is read at each call; none answering gives the first
# error; none configured is InvalidArgs.
t_search_registries() {
        local out rc=0 dead=127.0.0.1:$DEAD_PORT
        rm -f "$ZL_TMP/auth.json"
        lifecycle_restart_zlayerd --search-registry="$dead" --search-registry="$AUTH_REG" --search-registry="$REG" || return 1
        out=$(search_names busy 0) || { fail "SearchImages busy"; rc=1; }
        note "without credentials: $out"
        [[ $out == "[\"$REG/busybox\",\"$REG/busybox-docker\",\"$REG/busybox-zstd\"]" ]] || { fail "results $out"; rc=1; }
        zl_grep -qF "SearchImages: skipping registry $dead: $dead: " < "$ZL_TMP/zlayerd.log" ||
                { fail "no warning for the dead registry"; rc=1; }
        zl_grep -qF "SearchImages: skipping registry $AUTH_REG: $AUTH_REG: the catalog needs credentials" < "$ZL_TMP/zlayerd.log" ||
                { fail "no warning for the auth registry"; rc=1; }
        expect_error PullFailed "$AUTH_REG: the catalog needs credentials" SearchImages su "$AUTH_REG/" 0 || rc=1

        search_auth_file || { fail "writing auth.json"; rc=1; }
        out=$(search_names busy 0) || { fail "SearchImages busy with credentials"; rc=1; }
        note "with credentials: $out"
        [[ $out == "[\"$AUTH_REG/busybox\",\"$REG/busybox\",\"$REG/busybox-docker\",\"$REG/busybox-zstd\"]" ]] ||
                { fail "results $out"; rc=1; }
        out=$(search_names BUSY 2)
        [[ $out == "[\"$AUTH_REG/busybox\",\"$REG/busybox\"]" ]] || { fail "limit 2 across registries: $out"; rc=1; }
        out=$(search_names "$AUTH_REG/" 0)
        [[ $out == "[\"$AUTH_REG/busybox\"]" ]] || { fail "the auth registry alone: $out"; rc=1; }
        out=$(timeout 60 "$BUILD/cli/zlayerctl" --bus="$ZL_BUS" search --limit 1 busybox) || { fail "zlayerctl search busybox"; rc=1; }
        note "zlayerctl search --limit 1 busybox: $(tr '\n' '|' <<<"$out")"
        [[ $(wc -l <<<"$out") == 2 ]] && zl_grep -q "^$AUTH_REG/busybox " <<<"$out" || { fail "zlayerctl search output"; rc=1; }
        rm -f "$ZL_TMP/auth.json"

        lifecycle_restart_zlayerd --search-registry="$dead" --search-registry="$AUTH_REG" || return 1
        out=$(zc SearchImages su busy 0 2>&1)
        note "all failing: $out"
        [[ $out == "ERROR com.zlayer.Runtime1.Error.PullFailed: $dead: "* ]] || { fail "not the first registry's error"; rc=1; }

        lifecycle_restart_zlayerd || return 1
        expect_error org.freedesktop.DBus.Error.InvalidArgs "--search-registry" SearchImages su busy 0 || rc=1
        return $rc
}
SCENARIOS+=(search-registries t_search_registries)

# A catalog behind a Bearer token: the token is asked for the scope
# registry:catalog:* (tests/fixtures/fault-registry.py opens the catalog
# only with that token), and reused from the cache on the next search
t_search_catalog_token() {
        local out n rc=0
        pf_server || return 1
        out=$(search_names "127.0.0.1:$PF_PORT/busybox-" 0) || { fail "SearchImages on the token registry"; return 1; }
        note "token registry: $out"
        [[ $out == "[\"127.0.0.1:$PF_PORT/busybox-docker\",\"127.0.0.1:$PF_PORT/busybox-zstd\"]" ]] || { fail "results $out"; rc=1; }
        n=$(zl_grep -cF "TOKEN /token?service=fault&scope=registry:catalog:*" < "$PF_LOG")
        [[ $n == 1 ]] || { fail "$n catalog token requests: $(zl_grep TOKEN < "$PF_LOG" | tail -3 | tr '\n' '|')"; rc=1; }
        search_names "127.0.0.1:$PF_PORT/" 1 >/dev/null || { fail "second search"; rc=1; }
        n=$(zl_grep -cF "TOKEN /token?service=fault&scope=registry:catalog:*" < "$PF_LOG")
        [[ $n == 1 ]] || { fail "the cached token was not reused: $n token requests"; rc=1; }
        return $rc
}
SCENARIOS+=(search-catalog-token t_search_catalog_token)
