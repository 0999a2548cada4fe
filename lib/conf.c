/* conf.c - INI configuration files and value parsers (see conf.h). */
#include "config.h"
#include "conf.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int parse_line(char *line, char *section, size_t seclen, conf_cb cb,
                      void *arg, int lineno)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *end = strchr(s, ']');
        if (!end || end[1] != '\0')
            return -EINVAL;
        *end = '\0';
        snprintf(section, seclen, "%s", trim(s + 1));
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq)
        return -EINVAL;
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (*key == '\0')
        return -EINVAL;
    size_t vlen = strlen(value);
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value[vlen - 1] = '\0';
        value++;
    }
    for (char *p = key; *p; p++)
        if (*p == '-')
            *p = '_';
    return cb(arg, section, key, value, lineno);
}

int conf_parse_file(const char *path, conf_cb cb, void *arg)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char line[4096], section[128] = "";
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        rc = parse_line(line, section, sizeof(section), cb, arg, lineno);
        if (rc == -EINVAL)
            log_err("%s:%d: malformed line", path, lineno);
    }
    fclose(f);
    return rc;
}

int conf_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -EINVAL;
    uint64_t mul = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k': mul = 1ULL << 10; end++; break;
    case 'm': mul = 1ULL << 20; end++; break;
    case 'g': mul = 1ULL << 30; end++; break;
    case 't': mul = 1ULL << 40; end++; break;
    default: return -EINVAL;
    }
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || (v && mul > UINT64_MAX / v))
        return -EINVAL;
    *out = v * mul;
    return 0;
}

int conf_parse_seconds(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -EINVAL;
    unsigned long mul = 1;
    if (*end == 's') end++;
    else if (*end == 'm') { mul = 60; end++; }
    else if (*end == 'h') { mul = 3600; end++; }
    if (*end != '\0' || v > UINT32_MAX / mul)
        return -EINVAL;
    *out = (uint32_t)(v * mul);
    return 0;
}

int conf_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) { *out = 1; return 0; }
        if (strcasecmp(s, no[i]) == 0) { *out = 0; return 0; }
    }
    return -EINVAL;
}

int conf_parse_hostport(const char *s, char *host, size_t hostlen,
                        uint16_t *port)
{
    const char *colon, *hstart = s;
    size_t hlen;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        hstart = s + 1;
        hlen = (size_t)(close - hstart);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {                   /* just a port */
            colon = s - 1;
            hlen = 0;
        } else {
            hlen = (size_t)(colon - s);
        }
    }
    if (hlen >= hostlen)
        return -ENAMETOOLONG;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end != '\0' || p > 65535)
        return -EINVAL;
    memcpy(host, hstart, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return 0;
}
