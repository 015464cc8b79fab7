# Foundation scenarios added after the first suite (issue 2).

# The container's pid 1 is zlayer's small init (a fork of the shim): inside
# the container it must not show the shim's command line with host paths.
t_pid1_hides_host_paths() {
        SERVICE=pid1 run_sh "$REG/busybox:latest" 'od -An -c /proc/1/cmdline | tr -s " "; cat /proc/1/comm' || return 1
        [[ $EXIT_CODE == 0 ]] || { fail "exit $EXIT_CODE"; return 1; }
        has_line "$LOGS" "stdout  z l a y e r - i n i t \\0" || return 1
        has_line "$LOGS" "stdout zlayer-init" || return 1
        if grep -qF -- "$ZL_TMP" <<<"$LOGS"; then
                fail "pid 1 shows a host path: $LOGS"; return 1
        fi
        discard "$CID"
}
SCENARIOS+=(pid1-hides-host-paths t_pid1_hides_host_paths)
