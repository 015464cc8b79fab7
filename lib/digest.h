/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* sha256 through OpenSSL's EVP interface. */
typedef struct Sha256 Sha256;

int sha256_new(Sha256 **ret);
int sha256_update(Sha256 *s, const void *data, size_t len);
/* Writes "sha256:<64 hex>" (72 bytes with NUL) into @out. */
int sha256_final(Sha256 *s, char out[72]);
Sha256 *sha256_free(Sha256 *s);
static inline void sha256_freep(Sha256 **s) {
        if (*s)
                sha256_free(*s);
}
#define _cleanup_sha256_ __attribute__((cleanup(sha256_freep)))

/* One-shot digest of a buffer. */
int sha256_digest(const void *data, size_t len, char out[72]);

/* OCI chain id of the next layer: sha256(parent + " " + diff_id), or diff_id when parent is NULL. */
int chain_id_next(const char *parent_chain, const char *diff_id, char out[72]);
