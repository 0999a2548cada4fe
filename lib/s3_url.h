/* s3_url.h - the pure parts of talking to S3: the s3:// store URL, RFC 3986
 * encoding of paths and query strings, and a growable byte buffer.  No
 * network here, so all of it is unit-tested without a server. */
#ifndef FLEXFS_S3_URL_H
#define FLEXFS_S3_URL_H

#include <stddef.h>

/* A growable string; after a failed allocation oom is set and further
 * appends do nothing, so callers check once at the end. */
struct s3_buf {
    char *p;
    size_t len, cap;
    int oom;
};

void s3_buf_add(struct s3_buf *b, const void *data, size_t n);
void s3_buf_adds(struct s3_buf *b, const char *s);
void s3_buf_free(struct s3_buf *b);

/* Appends s with every byte outside RFC 3986's unreserved set
 * (A-Z a-z 0-9 - . _ ~) as %XX (upper-case hex); '/' is kept when
 * keep_slash, as in object paths, and encoded (%2F) in query values. */
void s3_buf_encode(struct s3_buf *b, const char *s, int keep_slash);

struct s3_param {
    const char *name;
    const char *value;          /* NULL or "": written as "name=" */
};

/* The query string (without '?') SigV4 wants as written: parameters
 * sorted by encoded name then value, each as "name=value", both
 * encoded.  malloc'd; NULL when out of memory. */
char *s3_query_build(const struct s3_param *p, size_t n);

/* Where a store lives, parsed from
 *   s3://BUCKET[/PREFIX][?endpoint=URL&region=R&style=path|virtual&max_keys=N] */
struct s3_loc {
    char *bucket;
    char *prefix;               /* "" or ends with '/' */
    char *endpoint;             /* "scheme://host[:port][/path]", no '/' at end */
    char *region;
    int virtual_style;          /* bucket in the host name */
    unsigned max_keys;          /* per ListObjectsV2 page, 1..1000 */
    char *base_url;             /* what object paths are appended to */
};

/* 0, -EINVAL (logged, without secrets) or -ENOMEM. */
int s3_loc_parse(const char *url, struct s3_loc *out);
void s3_loc_free(struct s3_loc *loc);

/* The URL of an object (key relative to the prefix) or, with key NULL,
 * of the bucket; query appended after '?' when not NULL.  malloc'd. */
char *s3_loc_url(const struct s3_loc *loc, const char *key,
                 const char *query);

#endif
