# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Sourced by bench/exec-latency and bench/log-throughput: what the
# integration suite starts (tests/integration/lib.sh), for a benchmark.
#
# bench_zlayer_up BUILD: a registry with the busybox fixture, a private bus,
# zlayerd from BUILD with a temporary root and run dir, the image pulled;
# sets IMAGE, ZL_BUS, ZL_TMP (removed on exit with everything started).
# b METHOD SIGNATURE ARGS…: a Manager call (busctl, JSON reply).

. "$SRC/tests/integration/lib.sh"

MGR=(com.zlayer.Runtime1 /com/zlayer/Runtime1 com.zlayer.Runtime1.Manager)
b() { busctl --address="$ZL_BUS" --timeout=300 --json=short call "${MGR[@]}" "$@"; }

bench_zlayer_up() {
        local build registry
        build=$(cd "$1" && pwd) || zl_die "no build dir $1"
        zl_env_init
        registry=127.0.0.1:$(zl_free_port)
        IMAGE=$registry/busybox:latest
        zl_start_registry bench "${registry#*:}"
        zl_push_fixtures "$registry" --only busybox >/dev/null || zl_die "pushing busybox failed"
        zl_start_bus "$SRC/dbus/com.zlayer.Runtime1.conf"
        zl_start_zlayerd "$build" "$ZL_BUS" "$ZL_TMP/root" "$ZL_TMP/run" || zl_die "zlayerd did not start"
        b PullImage 'ssa{sv}' "$IMAGE" "" 0 >/dev/null || zl_die "PullImage failed"
}
