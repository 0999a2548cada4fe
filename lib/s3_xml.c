/* s3_xml.c - the little XML S3 answers with (see s3_xml.h).
 *
 * S3's documents are flat and machine-written: no CDATA in the parts we
 * read, no attributes on them, no nesting of an element in itself.  So an
 * element is found by its literal start and end tags, which also never
 * confuses <Key> with <KeyCount>. */
#define _GNU_SOURCE 1           /* memmem */
#include "config.h"
#include "s3_xml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* memmem over a bounded range. */
static const char *find(const char *s, const char *end, const char *pat)
{
    size_t n = strlen(pat);
    if (end < s || (size_t)(end - s) < n)
        return NULL;
    return memmem(s, (size_t)(end - s), pat, n);
}

/* Locates <tag>..</tag> in [s, end): sets *in, *inend to the content and
 * returns the end of the element, or NULL.  Also accepts <tag/>. */
static const char *element(const char *s, const char *end, const char *tag,
                           const char **in, const char **inend)
{
    char open[64], close[64], empty[64];
    size_t t = strlen(tag);
    if (t + 4 > sizeof(open))
        return NULL;
    open[0] = '<';
    memcpy(open + 1, tag, t);
    memcpy(open + 1 + t, ">", 2);
    memcpy(empty, open, t + 1);
    memcpy(empty + 1 + t, "/>", 3);
    close[0] = '<';
    close[1] = '/';
    memcpy(close + 2, tag, t);
    memcpy(close + 2 + t, ">", 2);
    const char *o = find(s, end, open);
    const char *e = find(s, end, empty);
    if (e && (!o || e < o)) {
        *in = *inend = e + t + 3;
        return e + t + 3;
    }
    if (!o)
        return NULL;
    *in = o + t + 2;
    const char *c = find(*in, end, close);
    if (!c)
        return NULL;
    *inend = c;
    return c + t + 3;
}

/* Writes code point cp as UTF-8. */
static size_t utf8(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int decode_text(const char *s, const char *end, char **out)
{
    char *o = malloc((size_t)(end - s) + 1);
    if (!o)
        return -ENOMEM;
    size_t n = 0;
    while (s < end) {
        if (*s == '<') {
            free(o);
            return -EINVAL;     /* markup where text belongs */
        }
        if (*s != '&') {
            o[n++] = *s++;
            continue;
        }
        const char *semi = memchr(s, ';', (size_t)(end - s));
        if (!semi || semi - s > 12) {
            free(o);
            return -EINVAL;
        }
        size_t l = (size_t)(semi - s) - 1;
        const char *name = s + 1;
        static const struct { const char *n; char c; } named[] = {
            {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'},
            {"apos", '\''},
        };
        int done = 0;
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
            if (strlen(named[i].n) == l && memcmp(name, named[i].n, l) == 0) {
                o[n++] = named[i].c;
                done = 1;
            }
        if (!done && l >= 2 && name[0] == '#') {
            int hex = name[1] == 'x' || name[1] == 'X';
            const char *d = name + 1 + hex;
            unsigned long cp = 0;
            for (; d < semi; d++) {
                int v;
                if (*d >= '0' && *d <= '9')
                    v = *d - '0';
                else if (hex && *d >= 'a' && *d <= 'f')
                    v = *d - 'a' + 10;
                else if (hex && *d >= 'A' && *d <= 'F')
                    v = *d - 'A' + 10;
                else
                    break;
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            }
            /* Code points we can write, and never NUL in a string. */
            if (d == semi && d > name + 1 + hex && cp > 0 && cp <= 0x10FFFF) {
                n += utf8(cp, o + n);   /* <= 4 bytes for >= 4 consumed */
                done = 1;
            }
        }
        if (!done) {
            free(o);
            return -EINVAL;
        }
        s = semi + 1;
    }
    o[n] = '\0';
    *out = o;
    return 0;
}

int s3_xml_text(const char *xml, size_t len, const char *tag, char **out)
{
    const char *in, *inend;
    *out = NULL;
    if (!element(xml, xml + len, tag, &in, &inend))
        return 0;
    int rc = decode_text(in, inend, out);
    return rc < 0 ? rc : 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
    if (!*s)
        return -EINVAL;
    uint64_t x = 0;
    for (; *s; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - d) / 10)
            return -EINVAL;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

/* One <Contents> element: its Key and Size. */
static int one_object(const char *s, const char *end, s3_xml_key_cb cb,
                      void *arg)
{
    char *key = NULL, *size = NULL;
    uint64_t sz = 0;
    int rc = s3_xml_text(s, (size_t)(end - s), "Key", &key);
    if (rc == 1)
        rc = s3_xml_text(s, (size_t)(end - s), "Size", &size);
    if (rc == 1)
        rc = parse_u64(size, &sz);
    else if (rc == 0)
        rc = -EINVAL;           /* an object without key or size */
    if (rc == 0 && !*key)
        rc = -EINVAL;
    if (rc == 0)
        rc = cb(arg, key, sz);
    free(key);
    free(size);
    return rc;
}

int s3_xml_list(const char *xml, size_t len, s3_xml_key_cb cb, void *arg,
                int *truncated, char **next)
{
    const char *end = xml + len, *p = xml, *in, *inend;
    *truncated = 0;
    *next = NULL;
    if (!find(xml, end, "<ListBucketResult"))
        return -EINVAL;
    /* Top-level fields first: the callback may stop the walk. */
    char *t = NULL;
    int rc = s3_xml_text(xml, len, "IsTruncated", &t);
    if (rc < 0)
        return rc;
    *truncated = rc == 1 && strcmp(t, "true") == 0;
    free(t);
    rc = s3_xml_text(xml, len, "NextContinuationToken", next);
    if (rc < 0)
        return rc;
    if (*truncated && (!*next || !**next)) {
        free(*next);
        *next = NULL;
        return -EINVAL;         /* cannot go on without a token */
    }
    while ((p = element(p, end, "Contents", &in, &inend)) != NULL) {
        rc = one_object(in, inend, cb, arg);
        if (rc != 0)
            break;
    }
    if (rc != 0) {
        free(*next);
        *next = NULL;
    }
    return rc;
}

int s3_xml_delete_errors(const char *xml, size_t len, char *code,
                         size_t codelen)
{
    const char *end = xml + len, *p = xml, *in, *inend;
    int n = 0;
    if (codelen)
        code[0] = '\0';
    while ((p = element(p, end, "Error", &in, &inend)) != NULL) {
        if (n++ == 0 && codelen) {
            char *c = NULL;
            if (s3_xml_text(in, (size_t)(inend - in), "Code", &c) == 1) {
                strncpy(code, c, codelen - 1);
                code[codelen - 1] = '\0';
            }
            free(c);
        }
    }
    return n;
}

void s3_xml_escape(struct s3_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': s3_buf_adds(b, "&amp;"); break;
        case '<': s3_buf_adds(b, "&lt;"); break;
        case '>': s3_buf_adds(b, "&gt;"); break;
        case '"': s3_buf_adds(b, "&quot;"); break;
        case '\'': s3_buf_adds(b, "&apos;"); break;
        default: s3_buf_add(b, s, 1);
        }
    }
}
