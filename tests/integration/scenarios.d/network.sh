# SPDX-License-Identifier: LGPL-2.1-or-later
# Bridge networking (docs/lifecycle.md, "Networking"). zlayerd runs with
# --bridge-name=$NET_BRIDGE --bridge-subnet=$NET_SUBNET (a random /24 of
# 198.18.0.0/15, see run): traffic goes only to 127.0.0.1 and to this run's
# containers. The table is zlayer-$NET_BRIDGE; no other table is looked at
# except to prove it unchanged.

NET_TABLE=zlayer-$NET_BRIDGE

# net_ip ID: GetContainerIP
net_ip() { bcall GetContainerIP s "$1" | jq -r '.data[0]'; }
# net_httpd SERVICE [EXTRA_JSON]: a running busybox httpd on port 80 serving
# /www/index.html = "hello from <id>"; sets CID
net_httpd() {
        create "$1" "$(spec_sh "$REG/busybox:latest" \
                'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www' "${2:-{\}}")" || return 1
        start "$CID"
}
# net_get HOST PORT: the body of GET / (HTTP/1.0) from the host, "" if none
net_get() {
        python3 - "$1" "$2" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.split(b"\r\n\r\n", 1)[-1].decode().strip())
PY
}
net_table_exists() { nft list table ip "$NET_TABLE" >/dev/null 2>&1; }

t_network_bridge_address() {
        local ip id j
        SERVICE=netaddr run_sh "$REG/busybox:latest" \
                'ip -4 -o addr show eth0 | awk "{print \"addr \" \$4}"; ip route | awk "/^default/ {print \"gw \" \$3}"; cat /etc/hostname; grep -c . /etc/resolv.conf >/dev/null && echo resolv-ok' || return 1
        id=$CID
        ip=$(net_ip "$id")
        note "address $ip"
        [[ $ip == "$NET_PREFIX".* && $ip != "$NET_PREFIX.0" && $ip != "$NET_PREFIX.1" ]] ||
                { fail "GetContainerIP gave '$ip', not a host of $NET_SUBNET"; return 1; }
        has_line "$LOGS" "stdout addr $ip/24" && has_line "$LOGS" "stdout gw $NET_PREFIX.1" &&
                has_line "$LOGS" "stdout $id" || return 1
        j=$(bcall InspectContainer s "$id" | jq -r '.data[0]')
        jq -e --arg ip "$ip" --arg gw "$NET_PREFIX.1" '.NetworkSettings.IPAddress == $ip and .NetworkSettings.Gateway == $gw
                and .NetworkSettings.IPPrefixLen == 24 and .NetworkSettings.Networks.bridge.IPAddress == $ip
                and .HostConfig.NetworkMode == "bridge"' <<<"$j" >/dev/null ||
                { fail "NetworkSettings: $(jq -c '{NetworkSettings, m: .HostConfig.NetworkMode}' <<<"$j")"; return 1; }
        local path
        path=$(bcall ListContainers | jq -r --arg id "$id" '.data[0][] | select(.[0] == $id) | .[7]')
        [[ $(busctl --address="$ZL_BUS" get-property com.zlayer.Runtime1 "$path" com.zlayer.Runtime1.Container IPAddress) == "s \"$ip\"" ]] ||
                { fail "the IPAddress property of $path is not $ip"; return 1; }
        remove "$id" || { fail "RemoveContainer $id failed"; return 1; }
        [[ -z $(jq -r --arg ip "$ip" '.addresses[$ip] // empty' "$ROOT/containers/.network-$NET_BRIDGE.json") ]] ||
                { fail "$ip still allocated after removal"; return 1; }
}
SCENARIOS+=(network-bridge-address t_network_bridge_address)

# net_veth ID: the host end of the container's veth (from eth0's iflink,
# which the container printed as "iflink N")
net_veth_of_log() {
        local idx
        idx=$(sed -n 's/^stdout iflink //p' <<<"$1" | head -1)
        [[ -n $idx ]] && ip -o link show | awk -F': ' -v i="$idx" '$1 == i { sub("@.*", "", $2); print $2 }'
}
# net_link_gone LINK: LINK is gone, or goes within 5 s (the kernel deletes a
# container's veth pair with its network namespace, asynchronously)
net_link_gone() {
        local i
        for ((i = 0; i < 50; i++)); do
                ip link show "$1" >/dev/null 2>&1 || return 0
                sleep 0.1
        done
        return 1
}
# after the last container of a scenario: no veth left on the bridge (other
# areas' containers may still run there: noted), and the bridge, which stays
# for the next container until zlayerd stops, still has its table
net_check_gone_when_empty() {
        if ip link show "$NET_BRIDGE" >/dev/null 2>&1; then
                net_table_exists || { fail "bridge $NET_BRIDGE without its table $NET_TABLE"; return 1; }
                [[ -z $(ip -o link show master "$NET_BRIDGE") ]] ||
                        note "(bridge $NET_BRIDGE still has containers: $(ip -o link show master "$NET_BRIDGE" | awk -F': ' '{print $2}' | tr '\n' ' '))"
        fi
        return 0
}
# net_stop_zlayerd: a clean stop (SIGTERM), waited for
net_stop_zlayerd() {
        local i
        kill -TERM "$ZLAYERD_PID"
        for ((i = 0; i < 100; i++)); do kill -0 "$ZLAYERD_PID" 2>/dev/null || break; sleep 0.1; done
        wait "$ZLAYERD_PID" 2>/dev/null
}

t_network_names() {
        local srv cli srv_svc=$TAG-netsrv
        # create() numbers replicas in order: the server will be the next one
        local srv_id=$srv_svc-rep-$((REPLICA + 2))
        # the client starts before the server exists: the runtime must add the
        # server to the client's /etc/hosts while the client runs
        create netcli "$(spec_sh "$REG/busybox:latest" "
                for n in $srv_svc $srv_id; do
                        for i in \$(seq 100); do
                                b=\$(printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 \$n 80 2>/dev/null | tail -1)
                                [ -n \"\$b\" ] && break
                                sleep 0.1
                        done
                        echo \"by \$n: \$b\"
                done")" || return 1
        cli=$CID
        start "$cli" || return 1
        net_httpd netsrv || return 1
        srv=$CID
        [[ $srv == "$srv_id" ]] || { fail "server id $srv, expected $srv_id"; return 1; }
        wait_exit "$cli" || return 1
        LOGS=$(logs "$cli")
        note "$cli: $(tr '\n' '|' <<<"$LOGS")"
        has_line "$LOGS" "stdout by $srv_svc: hello from $srv" && has_line "$LOGS" "stdout by $srv: hello from $srv" || return 1
        discard "$cli"
        # a removed container's names go from the others' /etc/hosts
        grep -q "$cli" "$ROOT/containers/$srv/hosts" && { fail "$cli still in $srv's hosts"; return 1; }
        discard "$srv"
        net_check_gone_when_empty
}
SCENARIOS+=(network-names t_network_names)

t_network_publish() {
        local id port uport body i veth out log
        port=$(zl_free_port)
        uport=$(zl_free_port)
        create netpub "$(spec_sh "$REG/busybox:latest" \
                'cat /sys/class/net/eth0/iflink | sed "s/^/iflink /"; mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www' \
                "$(jq -cn --argjson p "$port" --argjson u "$uport" '{port_mappings: [
                        {container_port: 80, host_port: $p, protocol: "tcp"},
                        {container_port: 53, host_port: $u, protocol: "udp"},
                        {container_port: 81}]}')")" || return 1
        id=$CID
        start "$id" || return 1
        # a published port answers on the host's loopback
        for ((i = 0; i < 50; i++)); do
                body=$(net_get 127.0.0.1 "$port") && [[ -n $body ]] && break
                sleep 0.1
        done
        [[ $body == "hello from $id" ]] || { fail "127.0.0.1:$port gave '$body'"; return 1; }
        out=$(bcall GetContainerPorts s "$id" | jq -c '.data[0]')
        [[ $out == "[[80,\"tcp\",\"\",$port],[53,\"udp\",\"\",$uport],[81,\"tcp\",\"\",0]]" ]] ||
                { fail "GetContainerPorts gave $out"; return 1; }
        nft get element ip "$NET_TABLE" ports "{ udp . $uport }" >/dev/null 2>&1 ||
                { fail "no DNAT of $uport/udp in $NET_TABLE"; return 1; }
        log=$(logs "$id")
        veth=$(net_veth_of_log "$log")
        [[ $veth == zv* ]] || { fail "no veth of $id on the host ('$veth' from $(tr '\n' '|' <<<"$log"))"; return 1; }
        # a second container cannot take a published port
        create netpub2 "$(spec_sh "$REG/busybox:latest" 'sleep 100' \
                "$(jq -cn --argjson p "$port" '{port_mappings: [{container_port: 8080, host_port: $p}]}')")" || return 1
        expect_error StartFailed "$port" StartContainer s "$CID" || return 1
        discard "$CID"

        remove "$id" || { fail "RemoveContainer $id failed"; return 1; }
        net_link_gone "$veth" || { fail "veth $veth still there after removal"; return 1; }
        ! nft get element ip "$NET_TABLE" ports "{ tcp . $port }" >/dev/null 2>&1 ||
                { fail "DNAT of $port/tcp still there after removal"; return 1; }
        body=$(net_get 127.0.0.1 "$port")
        [[ -z $body ]] || { fail "127.0.0.1:$port still answers '$body' after removal"; return 1; }
        net_check_gone_when_empty
}
SCENARIOS+=(network-publish t_network_publish)

t_network_port_busy() {
        local port lp
        port=$(zl_free_port)
        python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
        lp=$!
        for ((i = 0; i < 50; i++)); do ss -ltn "sport = :$port" | zl_grep -q LISTEN && break; sleep 0.1; done
        create netbusy "$(spec_sh "$REG/busybox:latest" 'sleep 100' \
                "$(jq -cn --argjson p "$port" '{port_mappings: [{container_port: 80, host_port: $p}]}')")" || { kill "$lp"; return 1; }
        expect_error StartFailed "host port $port/tcp is already in use" StartContainer s "$CID"
        local rc=$?
        kill "$lp"; wait "$lp" 2>/dev/null
        [[ $(state "$CID") != running ]] || { fail "$CID runs"; rc=1; }
        discard "$CID"
        # nothing of the failed start is left
        [[ $rc == 0 ]] && net_check_gone_when_empty
}
SCENARIOS+=(network-port-busy t_network_port_busy)

t_network_names_dns_extra_hosts() {
        local extra='{"hostname": "myhost", "dns": ["192.0.2.53"], "extra_hosts": ["db.example:192.0.2.10"]}'
        local script='echo "hostname $(hostname) $(cat /etc/hostname)"; grep "^nameserver" /etc/resolv.conf; grep -F db.example /etc/hosts; grep -qw myhost /etc/hosts && echo self-listed; grep -c "^127.0.0.1" /etc/hosts | sed "s/^/localhost /"'
        local mode
        for mode in bridge none host; do
                SERVICE=netdns-$mode run_sh "$REG/busybox:latest" "$script" \
                        "$(jq -c --arg m "$mode" '. + {network_mode: $m}' <<<"$extra")" || return 1
                has_line "$LOGS" "stdout hostname myhost myhost" &&
                        has_line "$LOGS" "stdout nameserver 192.0.2.53" &&
                        has_line "$LOGS" "stdout 192.0.2.10	db.example" || { fail "mode $mode"; return 1; }
                [[ $(grep -c '^stdout nameserver' <<<"$LOGS") == 1 ]] || { fail "$mode: other name servers too"; return 1; }
                # bridge: the container itself under its hostname
                [[ $mode != bridge ]] || has_line "$LOGS" "stdout self-listed" || return 1
                # host: the host's own /etc/hosts lines
                [[ $mode != host ]] || has_line "$LOGS" "stdout localhost $(grep -c '^127.0.0.1' /etc/hosts)" || return 1
                discard "$CID"
        done
}
SCENARIOS+=(network-names-dns-extra-hosts t_network_names_dns_extra_hosts)

# A daemon restart keeps the address and the published port, duplicates no
# rule, and a new container gets another address.
t_network_daemon_restart() {
        local id ip port kids body i ports_before rules_before
        port=$(zl_free_port)
        net_httpd netrst "$(jq -cn --argjson p "$port" '{port_mappings: [{container_port: 80, host_port: $p}]}')" || return 1
        id=$CID
        ip=$(net_ip "$id")
        for ((i = 0; i < 50; i++)); do body=$(net_get 127.0.0.1 "$port") && [[ -n $body ]] && break; sleep 0.1; done
        [[ $body == "hello from $id" ]] || { fail "127.0.0.1:$port gave '$body'"; return 1; }
        rules_before=$(nft -a list table ip "$NET_TABLE" | grep -c 'masquerade\|dnat')
        kids=$(zlayerd_children | tr '\n' ' ')
        kill -KILL "$ZLAYERD_PID" $kids
        wait "$ZLAYERD_PID" 2>/dev/null
        start_zlayerd || return 1
        for ((i = 0; i < 50; i++)); do [[ $(state "$id") == running ]] && break; sleep 0.2; done
        [[ $(net_ip "$id") == "$ip" ]] || { fail "address changed across the restart: $ip → $(net_ip "$id")"; return 1; }
        [[ $(net_get 127.0.0.1 "$port") == "hello from $id" ]] || { fail "port $port lost across the restart"; return 1; }
        # a second container: another address, its own start adds no rule twice
        SERVICE=netrst2 run_sh "$REG/busybox:latest" 'true' || return 1
        [[ $(net_ip "$CID") != "$ip" && -n $(net_ip "$CID") ]] || { fail "$CID got '$(net_ip "$CID")' (first has $ip)"; return 1; }
        discard "$CID"
        [[ $(nft -a list table ip "$NET_TABLE" | grep -c 'masquerade\|dnat') == "$rules_before" ]] ||
                { fail "rules duplicated: $(nft list table ip "$NET_TABLE")"; return 1; }
        [[ $(jq '.addresses | length' "$ROOT/containers/.network-$NET_BRIDGE.json") -ge 1 ]] || return 1
        discard "$id"
        [[ -z $(jq -r --arg id "$id" '.addresses | to_entries[] | select(.value == $id) | .key' \
                "$ROOT/containers/.network-$NET_BRIDGE.json") ]] || { fail "$id still holds an address"; return 1; }
        net_check_gone_when_empty
}
SCENARIOS+=(network-daemon-restart t_network_daemon_restart)

# A shim killed with its container leaves its DNAT entry and the bridge; the
# next container that publishes the port repairs both, the last stop removes
# them.
t_network_crash_repair() {
        local a b port body i shim
        port=$(zl_free_port)
        local extra
        extra=$(jq -cn --argjson p "$port" '{port_mappings: [{container_port: 80, host_port: $p}]}')
        net_httpd netcrash-a "$extra" || return 1
        a=$CID
        for ((i = 0; i < 50; i++)); do body=$(net_get 127.0.0.1 "$port") && [[ -n $body ]] && break; sleep 0.1; done
        [[ $body == "hello from $a" ]] || { fail "127.0.0.1:$port gave '$body'"; return 1; }
        read -r shim _ < "$RUN/containers/$a/shim.pid"
        note "kill -9 the shim $shim and the container of $a"
        kill -KILL "$shim" "$(cpid "$a")"
        for ((i = 0; i < 50; i++)); do [[ $(state "$a") != running ]] && break; sleep 0.1; done
        nft get element ip "$NET_TABLE" ports "{ tcp . $port }" >/dev/null 2>&1 ||
                note "(the DNAT entry went with the shim already)"
        net_httpd netcrash-b "$extra" || return 1
        b=$CID
        for ((i = 0; i < 50; i++)); do body=$(net_get 127.0.0.1 "$port") && [[ $body == "hello from $b" ]] && break; sleep 0.1; done
        [[ $body == "hello from $b" ]] || { fail "after the crash 127.0.0.1:$port gave '$body'"; return 1; }
        [[ $(nft list map ip "$NET_TABLE" ports | grep -o "tcp \. $port : " | wc -l) == 1 ]] ||
                { fail "ports map: $(nft list map ip "$NET_TABLE" ports)"; return 1; }
        discard "$a"
        discard "$b"
        ! nft get element ip "$NET_TABLE" ports "{ tcp . $port }" >/dev/null 2>&1 ||
                { fail "DNAT of $port/tcp left"; return 1; }
        net_check_gone_when_empty
}
SCENARIOS+=(network-crash-repair t_network_crash_repair)

# The bridge and its table outlive the containers (no nft transaction per
# container); a clean stop of zlayerd keeps them while a container runs on
# the bridge (live restore) and removes them once none does.
t_network_bridge_lifetime() {
        local id veth i
        SERVICE=netlife run_sh "$REG/busybox:latest" 'true' || return 1
        remove "$CID" || return 1
        ip link show "$NET_BRIDGE" >/dev/null 2>&1 && net_table_exists ||
                { fail "bridge $NET_BRIDGE or table $NET_TABLE gone with the last container"; return 1; }
        create netlife "$(spec_sh "$REG/busybox:latest" 'cat /sys/class/net/eth0/iflink | sed "s/^/iflink /"; exec sleep 100')" || return 1
        id=$CID
        start "$id" || return 1
        for ((i = 0; i < 50; i++)); do veth=$(net_veth_of_log "$(logs "$id")") && [[ -n $veth ]] && break; sleep 0.1; done
        [[ $veth == zv* ]] || { fail "no veth of $id"; return 1; }
        net_stop_zlayerd
        ip link show "$veth" >/dev/null 2>&1 && net_table_exists ||
                { fail "the network of running $id went with zlayerd's clean stop"; start_zlayerd; return 1; }
        start_zlayerd || return 1
        for ((i = 0; i < 50; i++)); do [[ $(state "$id") == running ]] && break; sleep 0.2; done
        [[ $(state "$id") == running ]] || { fail "after restart: $(state "$id")"; return 1; }
        discard "$id"
        net_link_gone "$veth" || { fail "veth $veth left after removal"; return 1; }
        if [[ -n $(ip -o link show master "$NET_BRIDGE" 2>/dev/null) ]]; then
                note "(other containers on $NET_BRIDGE: the removal at a clean stop is not checked)"
                return 0
        fi
        net_stop_zlayerd
        local gone=1
        ip link show "$NET_BRIDGE" >/dev/null 2>&1 && { fail "bridge $NET_BRIDGE left by a clean stop"; gone=0; }
        net_table_exists && { fail "table $NET_TABLE left by a clean stop"; gone=0; }
        start_zlayerd || return 1
        [[ $gone == 1 ]]
}
SCENARIOS+=(network-bridge-lifetime t_network_bridge_lifetime)

# Named networks (network_mode NAME): a bridge and a subnet of the pool
# each; containers of one network reach each other by name, containers of
# another network or of the default bridge reach neither the name nor the
# address.
t_network_named_isolation() {
        local srv ip cli out br i
        # the "ok" probe retries until the server listens; the refused ones
        # try once (the server is up by then)
        local probe='t=$1; n=$2; b=; for i in $(seq $n); do b=$(printf "GET / HTTP/1.0\r\n\r\n" | nc -w 2 $t 80 2>/dev/null | tail -1); [ -n "$b" ] && break; sleep 0.1; done; echo "to $t: ${b:-nothing}"'
        net_httpd netfront '{"network_mode": "front"}' || return 1
        srv=$CID
        ip=$(net_ip "$srv")
        note "$srv on front: $ip"
        [[ $ip == "$NET_POOL_PREFIX".* ]] || { fail "front's address $ip is not in the pool $NET_POOL"; return 1; }
        out=$(bcall InspectContainer s "$srv" | jq -c '.data[0] | fromjson? // . | .NetworkSettings')
        jq -e --arg ip "$ip" '.Networks.front.IPAddress == $ip and .IPPrefixLen == 28 and (.Bridge | startswith("zn"))' \
                <<<"$out" >/dev/null || { fail "NetworkSettings: $out"; discard "$srv"; return 1; }
        br=$(jq -r .Bridge <<<"$out")
        nft list chain ip "zlayer-$br" forward >/dev/null 2>&1 || { fail "no forward chain in zlayer-$br"; discard "$srv"; return 1; }

        SERVICE=netfront-cli run_sh "$REG/busybox:latest" "sh -c '$probe' - $TAG-netfront 50" '{"network_mode": "front"}' || { discard "$srv"; return 1; }
        has_line "$LOGS" "stdout to $TAG-netfront: hello from $srv" || { discard "$srv"; return 1; }
        cli=$CID
        SERVICE=netback-cli run_sh "$REG/busybox:latest" \
                "grep -qw $TAG-netfront /etc/hosts && echo resolved; sh -c '$probe' - $ip 1" \
                '{"network_mode": "back"}' || { discard "$srv"; return 1; }
        has_line "$LOGS" "stdout to $ip: nothing" && ! grep -qxF "stdout resolved" <<<"$LOGS" ||
                { fail "back reached front: $(tr '\n' '|' <<<"$LOGS")"; discard "$srv"; return 1; }
        [[ $(net_ip "$CID") == "$NET_POOL_PREFIX".* && $(net_ip "$CID") != "$ip" ]] || { fail "back's address $(net_ip "$CID")"; return 1; }
        discard "$CID"
        SERVICE=netdef-cli run_sh "$REG/busybox:latest" "sh -c '$probe' - $ip 1" || { discard "$srv"; return 1; }
        has_line "$LOGS" "stdout to $ip: nothing" || { fail "the default bridge reached front"; discard "$srv"; return 1; }
        discard "$CID"
        discard "$cli"
        discard "$srv"
        for ((i = 0; i < 50; i++)); do [[ -z $(ip -o link show master "$br" 2>/dev/null) ]] && break; sleep 0.1; done
        [[ -z $(ip -o link show master "$br" 2>/dev/null) ]] || { fail "veths left on $br"; return 1; }
}
SCENARIOS+=(network-named-isolation t_network_named_isolation)

# ---- UDP: busybox's nc has none, so tests/integration/zl-udp.c (static,
# bind-mounted read-only at /zl) is the container's server and client.
NET_UDP_DIR=$ZL_TMP/zl-udp
mkdir -p "$NET_UDP_DIR"
cc -static -O2 -Wall -Werror -o "$NET_UDP_DIR/zl-udp" "$ZL_SRCDIR/tests/integration/zl-udp.c" ||
        note "network.sh: cannot build the static zl-udp (libc6-dev's libc.a?)"
# net_udp_ask HOST PORT TEXT: the answer to one datagram from the host,
# "nothing" after 0.5 s
net_udp_ask() {
        python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recvfrom(600)[0].decode())
except OSError:
    print("nothing")
PY
}

t_network_udp() {
        local srv ip uport out i mnt
        [[ -x $NET_UDP_DIR/zl-udp ]] || { fail "no zl-udp"; return 1; }
        uport=$(python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("0.0.0.0",0)); print(s.getsockname()[1])')
        mnt=$(jq -cn --arg dir "$NET_UDP_DIR" '{storage: [{type: "bind", source: $dir, target: "/zl", readonly: true}]}')
        create netudp "$(jq -cn --arg img "$REG/busybox:latest" --argjson p "$uport" --argjson m "$mnt" '{image: {name: $img},
                command: {entrypoint: ["/zl/zl-udp", "serve", "5353"]},
                port_mappings: [{container_port: 5353, host_port: $p, protocol: "udp"}]} * $m')" || return 1
        srv=$CID
        start "$srv" || { discard "$srv"; return 1; }
        ip=$(net_ip "$srv")
        # the published port on the host's loopback, and the container's address
        for ((i = 0; i < 50; i++)); do out=$(net_udp_ask 127.0.0.1 "$uport" ping) && [[ $out == "echo ping" ]] && break; done
        [[ $out == "echo ping" ]] || { fail "127.0.0.1:$uport/udp answered '$out'"; discard "$srv"; return 1; }
        out=$(net_udp_ask "$ip" 5353 direct)
        [[ $out == "echo direct" ]] || { fail "$ip:5353/udp answered '$out'"; discard "$srv"; return 1; }
        # a container of the same bridge, to the address its /etc/hosts gives
        create netudp-cli "$(jq -cn --arg img "$REG/busybox:latest" --arg n "$srv" --argjson m "$mnt" '{image: {name: $img},
                command: {entrypoint: ["/bin/sh", "-c",
                        "a=$(awk -v n=\($n) '"'"'$2 == n {print $1; exit}'"'"' /etc/hosts); /zl/zl-udp ask $a 5353 neighbour"]}} * $m')" ||
                { discard "$srv"; return 1; }
        start "$CID" && wait_exit "$CID" || { discard "$CID"; discard "$srv"; return 1; }
        LOGS=$(logs "$CID")
        discard "$CID"
        has_line "$LOGS" "stdout echo neighbour" || { note "$(tr '\n' '|' <<<"$LOGS")"; discard "$srv"; return 1; }
        remove "$srv" || { fail "RemoveContainer $srv failed"; return 1; }
        ! nft get element ip "$NET_TABLE" ports "{ udp . $uport }" >/dev/null 2>&1 ||
                { fail "DNAT of $uport/udp still there after removal"; return 1; }
        [[ $(net_udp_ask 127.0.0.1 "$uport" after) == nothing ]] || { fail "$uport/udp still answers after removal"; return 1; }
}
SCENARIOS+=(network-udp t_network_udp)
