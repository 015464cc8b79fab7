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
# net_wait_port PORT: until something accepts on 127.0.0.1:PORT (≤ 10 s)
net_wait_http() {
        local i
        for ((i = 0; i < 100; i++)); do
                NET_BODY=$(timeout 2 busybox wget -q -O - "$1" 2>/dev/null) && return 0
                sleep 0.1
        done
        fail "nothing answered on $1"
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
