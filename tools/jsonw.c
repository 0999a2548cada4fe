/* jsonw.c - the JSON writer of flexfs-admin (see jsonw.h). */
#include "config.h"
#include "jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void jw_init(struct jsonw *w, FILE *f)
{
    memset(w, 0, sizeof *w);
    w->f = f;
}

static void indent(struct jsonw *w)
{
    for (int i = 0; i < w->depth; i++)
        fputs("  ", w->f);
}

static void put_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

/* The separator, indentation and key of the next member. */
static void member(struct jsonw *w, const char *key)
{
    if (w->depth > 0) {
        if (w->count[w->depth]++)
            fputc(',', w->f);
        fputc('\n', w->f);
        indent(w);
    }
    if (key) {
        put_string(w->f, key, strlen(key));
        fputs(": ", w->f);
    }
}

static void open_level(struct jsonw *w, const char *key, char c)
{
    member(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < JSONW_DEPTH)
        w->depth++;
    w->count[w->depth] = 0;
    w->close[w->depth] = c == '{' ? '}' : ']';
}

void jw_obj(struct jsonw *w, const char *key) { open_level(w, key, '{'); }
void jw_arr(struct jsonw *w, const char *key) { open_level(w, key, '['); }

void jw_end(struct jsonw *w)
{
    int had = w->count[w->depth];
    char c = w->close[w->depth];
    w->depth--;
    if (had) {
        fputc('\n', w->f);
        indent(w);
    }
    fputc(c, w->f);
    if (w->depth == 0)
        fputc('\n', w->f);
}

void jw_strn(struct jsonw *w, const char *key, const char *v, size_t len)
{
    member(w, key);
    put_string(w->f, v, len);
}

void jw_str(struct jsonw *w, const char *key, const char *v)
{
    if (!v) {
        jw_null(w, key);
        return;
    }
    jw_strn(w, key, v, strlen(v));
}

void jw_u64(struct jsonw *w, const char *key, uint64_t v)
{
    member(w, key);
    fprintf(w->f, "%" PRIu64, v);
}

void jw_i64(struct jsonw *w, const char *key, int64_t v)
{
    member(w, key);
    fprintf(w->f, "%" PRId64, v);
}

void jw_dbl(struct jsonw *w, const char *key, double v)
{
    member(w, key);
    if (isfinite(v))
        fprintf(w->f, "%.6g", v);
    else
        fputs("null", w->f);
}

void jw_bool(struct jsonw *w, const char *key, int v)
{
    member(w, key);
    fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jsonw *w, const char *key)
{
    member(w, key);
    fputs("null", w->f);
}
