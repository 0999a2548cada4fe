/* s3_url.c - the s3:// store URL, RFC 3986 encoding and SigV4-ready query
 * strings (see s3_url.h). */
#include "config.h"
#include "s3_url.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void s3_buf_add(struct s3_buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void s3_buf_adds(struct s3_buf *b, const char *s)
{
    s3_buf_add(b, s, strlen(s));
}

void s3_buf_free(struct s3_buf *b)
{
    free(b->p);
    *b = (struct s3_buf){0};
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

void s3_buf_encode(struct s3_buf *b, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p) || (keep_slash && *p == '/')) {
            s3_buf_add(b, p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            s3_buf_add(b, esc, 3);
        }
    }
}

struct enc_param {
    char *name, *value;
};

static int param_cmp(const void *a, const void *b)
{
    const struct enc_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
    struct s3_buf b = {0};
    s3_buf_add(&b, "", 0);
    s3_buf_encode(&b, s ? s : "", 0);
    if (b.oom) {
        s3_buf_free(&b);
        return NULL;
    }
    return b.p;
}

char *s3_query_build(const struct s3_param *p, size_t n)
{
    struct enc_param *e = calloc(n ? n : 1, sizeof(*e));
    if (!e)
        return NULL;
    struct s3_buf b = {0};
    s3_buf_add(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        e[i].name = encoded(p[i].name);
        e[i].value = encoded(p[i].value);
        if (!e[i].name || !e[i].value)
            b.oom = 1;
    }
    if (!b.oom) {
        /* SigV4 sorts by the encoded names, byte by byte. */
        qsort(e, n, sizeof(*e), param_cmp);
        for (size_t i = 0; i < n; i++) {
            if (i)
                s3_buf_add(&b, "&", 1);
            s3_buf_adds(&b, e[i].name);
            s3_buf_add(&b, "=", 1);
            s3_buf_adds(&b, e[i].value);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].value);
    }
    free(e);
    if (b.oom) {
        s3_buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* --- the store URL ---------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into a new string; NULL on a bad escape or
 * an encoded NUL ('+' stays '+': this is no form). */
static char *decode(const char *s, size_t n, int *err)
{
    char *out = malloc(n + 1);
    if (!out) {
        *err = -ENOMEM;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            *err = -EINVAL;
            return NULL;
        }
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return out;
}

static int bucket_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > 255)
        return 0;
    for (const char *p = b; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' &&
            *p != '_')
            return 0;
    return 1;
}

/* "http[s]://host[:port][/path]" without user info, query or fragment. */
static int endpoint_ok(const char *e)
{
    const char *host;
    if (strncasecmp(e, "http://", 7) == 0)
        host = e + 7;
    else if (strncasecmp(e, "https://", 8) == 0)
        host = e + 8;
    else
        return 0;
    size_t hlen = strcspn(host, "/");
    if (hlen == 0 || memchr(host, '@', hlen))
        return 0;
    return strpbrk(e, "?# \t\r\n") == NULL;
}

/* Trims slashes off both ends of the prefix, refuses empty, "." and ".."
 * components inside it, and adds one trailing '/'. */
static int normalize_prefix(char **prefix)
{
    char *p = *prefix;
    while (*p == '/')
        p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == '/')
        n--;
    char *out = malloc(n + 2);
    if (!out)
        return -ENOMEM;
    memcpy(out, p, n);
    out[n] = '\0';
    for (char *c = out; n; ) {
        size_t l = strcspn(c, "/");
        if (l == 0 || (l == 1 && c[0] == '.') ||
            (l == 2 && c[0] == '.' && c[1] == '.')) {
            free(out);
            return -EINVAL;
        }
        if (!c[l])
            break;
        c += l + 1;
    }
    if (n)
        memcpy(out + n, "/", 2);
    free(*prefix);
    *prefix = out;
    return 0;
}

/* Applies one "name=value" query parameter. */
static int set_option(struct s3_loc *loc, const char *name, size_t nlen,
                      const char *val, size_t vlen, int *style)
{
    int err = 0;
    char *v = decode(val, vlen, &err);
    if (!v)
        return err;
#define IS(s) (nlen == strlen(s) && strncmp(name, s, nlen) == 0)
    if (IS("endpoint")) {
        free(loc->endpoint);
        size_t l = strlen(v);
        while (l && v[l - 1] == '/')
            v[--l] = '\0';
        loc->endpoint = v;
        if (!endpoint_ok(v)) {
            log_err("s3 store URL: endpoint must be http[s]://HOST[:PORT] "
                    "without user info");
            return -EINVAL;
        }
        return 0;
    }
    if (IS("region")) {
        free(loc->region);
        loc->region = v;
        for (char *c = v; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
                err = -EINVAL;
        if (!*v || err) {
            log_err("s3 store URL: bad region");
            return -EINVAL;
        }
        return 0;
    }
    if (IS("style")) {
        if (strcmp(v, "path") == 0)
            *style = 0;
        else if (strcmp(v, "virtual") == 0)
            *style = 1;
        else
            err = -EINVAL;
        if (err)
            log_err("s3 store URL: style must be path or virtual");
        free(v);
        return err;
    }
    if (IS("max_keys")) {
        char *end;
        unsigned long m = strtoul(v, &end, 10);
        if (*v == '\0' || *end || m < 1 || m > 1000) {
            log_err("s3 store URL: max_keys must be 1..1000");
            err = -EINVAL;
        }
        loc->max_keys = (unsigned)m;
        free(v);
        return err;
    }
#undef IS
    free(v);
    /* Secrets never travel in URLs: refuse rather than ignore. */
    log_err("s3 store URL: unknown option '%.*s' (credentials come from the "
            "environment or a credentials file)", (int)(nlen > 40 ? 40 : nlen),
            name);
    return -EINVAL;
}

static int parse_query(struct s3_loc *loc, const char *q, int *style)
{
    while (*q) {
        size_t plen = strcspn(q, "&");
        size_t nlen = strcspn(q, "=&");
        if (plen == 0) {
            q++;
            continue;
        }
        const char *val = nlen < plen ? q + nlen + 1 : q + plen;
        size_t vlen = nlen < plen ? plen - nlen - 1 : 0;
        int rc = set_option(loc, q, nlen, val, vlen, style);
        if (rc < 0)
            return rc;
        q += plen;
        if (*q == '&')
            q++;
    }
    return 0;
}

static int make_base(struct s3_loc *loc)
{
    struct s3_buf b = {0};
    if (loc->virtual_style) {
        const char *host = strstr(loc->endpoint, "://") + 3;
        s3_buf_add(&b, loc->endpoint, (size_t)(host - loc->endpoint));
        s3_buf_adds(&b, loc->bucket);
        s3_buf_add(&b, ".", 1);
        s3_buf_adds(&b, host);
    } else {
        s3_buf_adds(&b, loc->endpoint);
        s3_buf_add(&b, "/", 1);
        s3_buf_encode(&b, loc->bucket, 0);
    }
    if (b.oom) {
        s3_buf_free(&b);
        return -ENOMEM;
    }
    loc->base_url = b.p;
    return 0;
}

int s3_loc_parse(const char *url, struct s3_loc *out)
{
    struct s3_loc loc = {.max_keys = 1000};
    int rc = -EINVAL, style = -1;
    if (strncasecmp(url, "s3://", 5) != 0)
        return -EINVAL;
    const char *p = url + 5;
    size_t blen = strcspn(p, "/?#");
    if (memchr(p, '@', blen)) {
        log_err("s3 store URL: credentials do not belong in the URL; use "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a credentials file");
        return -EINVAL;
    }
    if (strchr(url, '#'))
        return -EINVAL;
    loc.bucket = decode(p, blen, &rc);
    if (!loc.bucket)
        goto fail;
    rc = -EINVAL;
    if (!bucket_ok(loc.bucket)) {
        log_err("s3 store URL: bad bucket name");
        goto fail;
    }
    p += blen;
    size_t plen = strcspn(p, "?");
    loc.prefix = decode(p, plen, &rc);
    if (!loc.prefix)
        goto fail;
    if ((rc = normalize_prefix(&loc.prefix)) < 0)
        goto fail;
    p += plen;
    if (*p == '?' && (rc = parse_query(&loc, p + 1, &style)) < 0)
        goto fail;
    rc = -ENOMEM;
    if (!loc.region && !(loc.region = strdup("us-east-1")))
        goto fail;
    if (!loc.endpoint) {
        /* AWS itself: virtual-host style unless the name has dots (which
         * break the TLS wildcard certificate). */
        size_t n = strlen(loc.region) + 32;
        if (!(loc.endpoint = malloc(n)))
            goto fail;
        snprintf(loc.endpoint, n, "https://s3.%s.amazonaws.com", loc.region);
        if (style < 0)
            style = strchr(loc.bucket, '.') == NULL;
    }
    loc.virtual_style = style > 0;
    if ((rc = make_base(&loc)) < 0)
        goto fail;
    *out = loc;
    return 0;
fail:
    s3_loc_free(&loc);
    return rc;
}

void s3_loc_free(struct s3_loc *loc)
{
    free(loc->bucket);
    free(loc->prefix);
    free(loc->endpoint);
    free(loc->region);
    free(loc->base_url);
    *loc = (struct s3_loc){0};
}

char *s3_loc_url(const struct s3_loc *loc, const char *key,
                 const char *query)
{
    struct s3_buf b = {0};
    s3_buf_adds(&b, loc->base_url);
    s3_buf_add(&b, "/", 1);
    if (key) {
        s3_buf_encode(&b, loc->prefix, 1);
        s3_buf_encode(&b, key, 1);
    }
    if (query) {
        s3_buf_add(&b, "?", 1);
        s3_buf_adds(&b, query);
    }
    if (b.oom) {
        s3_buf_free(&b);
        return NULL;
    }
    return b.p;
}
