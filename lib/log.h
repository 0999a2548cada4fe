/* log.h - the one logging module: syslog-style levels, to stderr in the
 * foreground, to syslog or a log file otherwise. */
#ifndef FLEXFS_LOG_H
#define FLEXFS_LOG_H

#include <syslog.h>

/* Levels are syslog's: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG. */

/* Where messages go: to stderr when foreground, else to file if given,
 * else to syslog under ident.  Safe to call again (SIGHUP reopens). */
int log_open(const char *ident, int foreground, const char *file);
void log_reopen(void);
void log_set_level(int level);
int log_get_level(void);
/* "error", "warning", "notice", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)    log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  do { if (log_get_level() >= LOG_DEBUG) \
                               log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
