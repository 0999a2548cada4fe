/* exports.c - the exports table (see exports.h): parsing the file,
 * matching a peer, squashing credentials, and reloading under a lock so
 * that calls in flight never see half a table. */
#include "config.h"
#include "exports.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "log.h"
#include "netaddr.h"

#define EXPORTS_FILE_MAX (1u << 20)

struct export_client {
    int any;                            /* "*" */
    struct net_prefix net;
    struct export_rule rule;
};

struct export_line {
    char volume[META_NAME_MAX + 1];
    struct export_client *c;
    size_t n, cap;
};

struct export_table {
    struct export_line *v;
    size_t n, cap;
};

struct exports {
    char *path;                         /* NULL: no file, all open */
    int active;                         /* a table is in force (fixed) */
    pthread_rwlock_t lock;              /* guards t */
    struct export_table *t;
};

static void table_free(struct export_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].c);
    free(t->v);
    free(t);
}

/* ---- parsing ---- */

struct parse {
    const char *where;
    int lineno;
    struct export_table *t;
};

static int bad(const struct parse *p, const char *what, const char *tok)
{
    log_err("%s:%d: %s: \"%.80s\"", p->where, p->lineno, what, tok);
    return -EINVAL;
}

static int parse_id(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v > UINT32_MAX)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int parse_option(const struct parse *p, const char *opt,
                        struct export_rule *r)
{
    if (strcmp(opt, "ro") == 0)
        r->access = EXPORT_RO;
    else if (strcmp(opt, "rw") == 0)
        r->access = EXPORT_RW;
    else if (strcmp(opt, "root_squash") == 0)
        r->squash = EXPORT_SQUASH_ROOT;
    else if (strcmp(opt, "no_root_squash") == 0)
        r->squash = EXPORT_SQUASH_NONE;
    else if (strcmp(opt, "all_squash") == 0)
        r->squash = EXPORT_SQUASH_ALL;
    else if (strcmp(opt, "secure") == 0)
        r->secure = 1;
    else if (strcmp(opt, "insecure") == 0)
        r->secure = 0;
    else if (strncmp(opt, "anonuid=", 8) == 0) {
        if (parse_id(opt + 8, &r->anonuid) < 0)
            return bad(p, "bad anonuid", opt);
    } else if (strncmp(opt, "anongid=", 8) == 0) {
        if (parse_id(opt + 8, &r->anongid) < 0)
            return bad(p, "bad anongid", opt);
    } else {
        return bad(p, "unknown option", opt);
    }
    return 0;
}

/* "CLIENT" or "CLIENT(OPT,OPT)"; tok is modified. */
static int parse_client(const struct parse *p, char *tok,
                        struct export_client *c)
{
    memset(c, 0, sizeof *c);
    c->rule = (struct export_rule){ EXPORT_RO, EXPORT_SQUASH_ROOT,
                                    EXPORT_ANON_ID, EXPORT_ANON_ID, 0 };
    if (*tok == '(')
        return bad(p, "options must follow their client with no space",
                   tok);
    char *open = strchr(tok, '(');
    if (open) {
        size_t len = strlen(open);
        if (open[len - 1] != ')')
            return bad(p, "options do not end with ')'", tok);
        open[len - 1] = '\0';
        *open = '\0';
        char *save = NULL;
        for (char *o = strtok_r(open + 1, ",", &save); o;
             o = strtok_r(NULL, ",", &save))
            if (parse_option(p, o, &c->rule) < 0)
                return -EINVAL;
    }
    if (strcmp(tok, "*") == 0) {
        c->any = 1;
        return 0;
    }
    if (net_prefix_parse(tok, &c->net) < 0)
        return bad(p, "not \"*\", an address or ADDR/BITS (host names "
                      "are not taken)", tok);
    return 0;
}

/* "/" is the default volume, "/NAME" the volume NAME. */
static int parse_volume(const struct parse *p, const char *tok,
                        struct export_line *line)
{
    const char *name = tok + 1;
    if (*tok != '/' || strchr(name, '/') || strlen(name) > META_NAME_MAX)
        return bad(p, "not a volume (\"/\" or \"/NAME\")", tok);
    snprintf(line->volume, sizeof line->volume, "%s",
             *name ? name : "default");
    for (size_t i = 0; i < p->t->n; i++)
        if (&p->t->v[i] != line &&
            strcmp(p->t->v[i].volume, line->volume) == 0)
            return bad(p, "volume listed twice", tok);
    return 0;
}

static int parse_line(struct parse *p, char *text)
{
    char *save = NULL;
    char *tok = strtok_r(text, " \t\r", &save);
    if (!tok)
        return 0;
    struct export_table *t = p->t;
    struct export_line *v = grow_room(t->v, t->n, &t->cap, sizeof *v, 4);
    if (!v)
        return -ENOMEM;
    t->v = v;
    struct export_line *line = &t->v[t->n];
    memset(line, 0, sizeof *line);
    t->n++;                             /* freed with the table from now */
    int rc = parse_volume(p, tok, line);
    while (rc == 0 && (tok = strtok_r(NULL, " \t\r", &save))) {
        struct export_client *c = grow_room(line->c, line->n, &line->cap,
                                            sizeof *c, 4);
        if (!c)
            return -ENOMEM;
        line->c = c;
        rc = parse_client(p, tok, &line->c[line->n]);
        if (rc == 0)
            line->n++;
    }
    if (rc == 0 && line->n == 0)
        return bad(p, "no client for the volume", line->volume);
    return rc;
}

/* Logical lines: '#' starts a comment, '\' at the end of a line joins
 * the next one. */
static int parse_text(struct parse *p, char *text)
{
    char *line = text;
    int next = 1;
    while (line && *line) {
        p->lineno = next;
        char *end = line;
        for (;;) {
            end = strchr(end, '\n');
            next++;
            if (!end || end == line || end[-1] != '\\')
                break;
            end[-1] = ' ';
            *end = ' ';
        }
        char *rest = end ? end + 1 : NULL;
        if (end)
            *end = '\0';
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        int rc = parse_line(p, line);
        if (rc < 0)
            return rc;
        line = rest;
    }
    return 0;
}

static int parse_table(const char *text, const char *where,
                       struct export_table **out)
{
    struct export_table *t = calloc(1, sizeof *t);
    char *copy = strdup(text);
    int rc = t && copy ? 0 : -ENOMEM;
    if (rc == 0) {
        struct parse p = { where, 0, t };
        rc = parse_text(&p, copy);
    }
    free(copy);
    if (rc < 0) {
        table_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

static int read_file(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char *buf = malloc(EXPORTS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, EXPORTS_FILE_MAX + 1, f) : 0;
    int rc = !buf ? -ENOMEM : ferror(f) ? -EIO
             : n > EXPORTS_FILE_MAX ? -EFBIG : 0;
    fclose(f);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        return -EINVAL;
    }
    *out = buf;
    return 0;
}

static int load_table(const char *path, struct export_table **out)
{
    char *text = NULL;
    int rc = read_file(path, &text);
    if (rc < 0) {
        log_err("exports file %s: %s", path, strerror(-rc));
        return rc;
    }
    rc = parse_table(text, path, out);
    free(text);
    return rc;
}

/* ---- the handle ---- */

static int exports_new(char *path, struct export_table *t,
                       struct exports **out)
{
    struct exports *ex = calloc(1, sizeof *ex);
    if (!ex || pthread_rwlock_init(&ex->lock, NULL) != 0) {
        free(ex);
        return -ENOMEM;
    }
    ex->path = path;
    ex->active = t != NULL;
    ex->t = t;
    *out = ex;
    return 0;
}

int exports_open(const char *path, struct exports **out)
{
    struct export_table *t = NULL;
    char *copy = NULL;
    if (path) {
        int rc = load_table(path, &t);
        if (rc < 0)
            return rc;
        copy = strdup(path);
        if (!copy) {
            table_free(t);
            return -ENOMEM;
        }
    }
    int rc = exports_new(copy, t, out);
    if (rc < 0) {
        free(copy);
        table_free(t);
    }
    return rc;
}

int exports_parse(const char *text, const char *where, struct exports **out)
{
    struct export_table *t;
    int rc = parse_table(text, where, &t);
    if (rc == 0 && (rc = exports_new(NULL, t, out)) < 0)
        table_free(t);
    return rc;
}

int exports_reload(struct exports *ex)
{
    if (!ex->path)
        return 0;
    struct export_table *t;
    int rc = load_table(ex->path, &t);
    if (rc < 0) {
        log_err("exports file %s not reloaded: the table in force stays",
                ex->path);
        return rc;
    }
    pthread_rwlock_wrlock(&ex->lock);
    struct export_table *old = ex->t;
    ex->t = t;
    pthread_rwlock_unlock(&ex->lock);
    table_free(old);
    log_notice("exports file %s reloaded: %zu volumes", ex->path, t->n);
    return 0;
}

void exports_close(struct exports *ex)
{
    if (!ex)
        return;
    table_free(ex->t);
    pthread_rwlock_destroy(&ex->lock);
    free(ex->path);
    free(ex);
}

int exports_active(const struct exports *ex)
{
    return ex && ex->active;
}

/* ---- matching ---- */

static const struct export_client *match_line(const struct export_line *l,
                                              int family,
                                              const unsigned char *addr)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->c[i].any || net_prefix_match(&l->c[i].net, family, addr))
            return &l->c[i];
    return NULL;
}

void exports_rule(struct exports *ex, const char *volume,
                  const struct sockaddr *peer, socklen_t len,
                  struct export_rule *out)
{
    *out = (struct export_rule){ EXPORT_RW, EXPORT_SQUASH_NONE,
                                 EXPORT_ANON_ID, EXPORT_ANON_ID, 0 };
    if (!exports_active(ex))
        return;
    unsigned char addr[16];
    int family = net_peer_addr(peer, len, addr);
    out->access = EXPORT_DENIED;
    pthread_rwlock_rdlock(&ex->lock);
    for (size_t i = 0; i < ex->t->n; i++) {
        if (strcmp(ex->t->v[i].volume, volume) != 0)
            continue;
        const struct export_client *c = match_line(&ex->t->v[i], family,
                                                   addr);
        if (c)
            *out = c->rule;
        break;
    }
    pthread_rwlock_unlock(&ex->lock);
    if (out->secure && net_peer_port(peer, len) >= 1024)
        out->access = EXPORT_DENIED;
}

/* As Linux's nfsd: root_squash maps uid 0 and gid 0 (also among the
 * groups) to the anonymous ids, all_squash maps everyone. */
void export_squash_cred(const struct export_rule *r, struct meta_cred *cred)
{
    if (r->squash == EXPORT_SQUASH_ALL) {
        cred->uid = r->anonuid;
        cred->gid = r->anongid;
        cred->ngroups = 0;
        return;
    }
    if (r->squash != EXPORT_SQUASH_ROOT)
        return;
    if (cred->uid == 0)
        cred->uid = r->anonuid;
    if (cred->gid == 0)
        cred->gid = r->anongid;
    for (uint32_t i = 0; i < cred->ngroups; i++)
        if (cred->groups[i] == 0)
            cred->groups[i] = r->anongid;
}
