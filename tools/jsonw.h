/* jsonw.h - a small streaming JSON writer for flexfs-admin --json:
 * objects, arrays, strings (escaped as RFC 8259 asks), integers, doubles
 * and booleans, pretty-printed with two-space indents. */
#ifndef FLEXFS_JSONW_H
#define FLEXFS_JSONW_H

#include <stdint.h>
#include <stdio.h>

#define JSONW_DEPTH 16

struct jsonw {
    FILE *f;
    int depth;
    int count[JSONW_DEPTH];             /* members written at each level */
    char close[JSONW_DEPTH];            /* '}' or ']' for each level */
};

void jw_init(struct jsonw *w, FILE *f);
/* key is the member name inside an object, NULL inside an array or at
 * the top. */
void jw_obj(struct jsonw *w, const char *key);
void jw_arr(struct jsonw *w, const char *key);
void jw_end(struct jsonw *w);           /* closes the innermost; a newline
                                           after the outermost */
void jw_str(struct jsonw *w, const char *key, const char *v);
void jw_strn(struct jsonw *w, const char *key, const char *v, size_t len);
void jw_u64(struct jsonw *w, const char *key, uint64_t v);
void jw_i64(struct jsonw *w, const char *key, int64_t v);
void jw_dbl(struct jsonw *w, const char *key, double v);
void jw_bool(struct jsonw *w, const char *key, int v);
void jw_null(struct jsonw *w, const char *key);

#endif
