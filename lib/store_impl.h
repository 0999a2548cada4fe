/* store_impl.h - what the store front door (store.c) and its backends
 * share; not for callers of the store. */
#ifndef FLEXFS_STORE_IMPL_H
#define FLEXFS_STORE_IMPL_H

#include "store.h"

/* Longest key accepted (S3 allows 1024 bytes with its prefix). */
#define STORE_KEY_MAX 900

/* Start of the names of the file backend's temporary files; keys may not
 * have a component starting with it, so a listing never shows one. */
#define STORE_TMP_MARK ".flexfs-tmp."

extern const struct store_ops store_file_ops;
extern const struct store_ops store_s3_ops;

/* 1 if key is a relative path of non-empty components other than "."
 * and "..", not longer than STORE_KEY_MAX; else 0. */
int store_key_valid(const char *key);

#endif
