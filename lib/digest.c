/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <stdio.h>

#include "digest.h"
#include "ids.h"
#include "macro.h"

struct Sha256 {
        EVP_MD_CTX *ctx;
};

int sha256_new(Sha256 **ret) {
        Sha256 *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->ctx = EVP_MD_CTX_new();
        if (!s->ctx || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1) {
                sha256_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

int sha256_update(Sha256 *s, const void *data, size_t len) {
        return EVP_DigestUpdate(s->ctx, data, len) == 1 ? 0 : -EIO;
}

int sha256_final(Sha256 *s, char out[72]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        if (EVP_DigestFinal_ex(s->ctx, md, &n) != 1 || n != 32)
                return -EIO;
        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < 32; i++)
                sprintf(out + 7 + 2 * i, "%02x", md[i]);
        return 0;
}

Sha256 *sha256_free(Sha256 *s) {
        if (s) {
                EVP_MD_CTX_free(s->ctx);
                free(s);
        }
        return NULL;
}

int sha256_digest(const void *data, size_t len, char out[72]) {
        _cleanup_sha256_ Sha256 *s = NULL;
        int r = sha256_new(&s);
        if (r < 0)
                return r;
        r = sha256_update(s, data, len);
        if (r < 0)
                return r;
        return sha256_final(s, out);
}

int chain_id_next(const char *parent_chain, const char *diff_id, char out[72]) {
        char buf[160];

        if (!digest_is_valid(diff_id) || (parent_chain && !digest_is_valid(parent_chain)))
                return -EINVAL;
        if (!parent_chain) {
                memcpy(out, diff_id, 72);
                return 0;
        }
        int n = snprintf(buf, sizeof(buf), "%s %s", parent_chain, diff_id);
        return sha256_digest(buf, (size_t) n, out);
}
