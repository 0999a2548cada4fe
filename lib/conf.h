/* conf.h - INI configuration files ("key = value" lines, optional
 * [section] headers, '#' or ';' comments) and small value parsers shared
 * by the gateway, the client and the admin tool. */
#ifndef FLEXFS_CONF_H
#define FLEXFS_CONF_H

#include <stddef.h>
#include <stdint.h>

/* Called for each key; section is "" before any header.  Keys are given
 * with '-' turned into '_'.  Return 0 to go on, a negative errno to stop. */
typedef int (*conf_cb)(void *arg, const char *section, const char *key,
                       const char *value, int lineno);

/* Reads path; returns 0, the callback's error, -errno if unreadable, or
 * -EINVAL for a malformed line (logged with its number). */
int conf_parse_file(const char *path, conf_cb cb, void *arg);

/* "4M", "64k", "1G", "123" -> bytes (powers of 1024). */
int conf_parse_size(const char *s, uint64_t *out);
/* "30", "30s", "5m", "1h" -> seconds. */
int conf_parse_seconds(const char *s, uint32_t *out);
/* "yes/no/true/false/on/off/1/0". */
int conf_parse_bool(const char *s, int *out);
/* "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT" -> host (static
 * buffer of size hostlen, "" for any) and port. */
int conf_parse_hostport(const char *s, char *host, size_t hostlen,
                        uint16_t *port);

#endif
