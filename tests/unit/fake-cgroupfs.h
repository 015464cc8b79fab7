/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* A fake cgroupfs (or /proc) tree in a temp dir, for the unit tests of the
 * cgroup code: fake_root is its path while a group of tests runs. */
extern char fake_root[64];

/* cmocka setup and teardown of a test: make fake_root, remove it whole. */
int fake_cgroupfs_setup(void **state);
int fake_cgroupfs_teardown(void **state);

/* Writes @content to @rel under fake_root, making the directories on the way. */
void fake_put(const char *rel, const char *content);
/* Asserts that @rel under fake_root holds @content exactly. */
void fake_expect(const char *rel, const char *content);
bool fake_exists(const char *rel);
