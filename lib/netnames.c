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

int veth_host_name(const char *bridge, const char *id, char *buf, size_t size) {
        /* FNV-1a over "bridge/id": 32 bits suffice among one host's containers;
         * a collision fails the start (EEXIST), never touches another's veth */
        uint32_t h = 2166136261u;
        for (const char *p = bridge; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        h = (h ^ '/') * 16777619u;
        for (const char *p = id; *p; p++)
                h = (h ^ (uint8_t) *p) * 16777619u;
        int n = snprintf(buf, size, "zv%08x", h);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}
