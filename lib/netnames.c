/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "netnames.h"

bool bridge_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 12)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

int nft_table_name(const char *bridge, char *buf, size_t size) {
        int n = snprintf(buf, size, "zlayer-%s", bridge);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* FNV-1a over "a/b" */
static uint32_t hash_pair(const char *a, const char *b) {
        uint32_t h = 2166136261u;
        for (const char *p = a; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (const char *p = b; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        return h;
}

int veth_host_name(const char *bridge, const char *id, char *buf, size_t size) {
        /* 32 bits suffice among one host's containers; a collision fails
         * the start (EEXIST), never touches another's veth */
        int n = snprintf(buf, size, "zv%08x", hash_pair(bridge, id));
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

bool network_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > NETWORK_NAME_MAX || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])))
                        return false;
        return true;
}

int network_bridge_name(const char *bridge, const char *name, char *buf, size_t size) {
        int n = snprintf(buf, size, "zn%08x", hash_pair(bridge, name));
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}
