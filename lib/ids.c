/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "ids.h"
#include "macro.h"

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool service_name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

bool container_id_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > 128 || !is_lower_alnum(s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_lower_alnum(s[i]) && !strchr("-_.", s[i]))
                        return false;
        return true;
}

bool hex64_is_valid(const char *s) {
        if (!s || strlen(s) != 64)
                return false;
        for (size_t i = 0; i < 64; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

bool digest_is_valid(const char *s) {
        return s && strneq(s, "sha256:", 7) && hex64_is_valid(s + 7);
}

int container_id_format(const char *service, unsigned replica, char *buf, size_t size) {
        if (!service_name_is_valid(service))
                return -EINVAL;
        int n = snprintf(buf, size, "%s-rep-%u", service, replica);
        if (n < 0 || (size_t) n >= size)
                return -EINVAL;
        return 0;
}
