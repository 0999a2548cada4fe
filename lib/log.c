/* log.c - the logging module (see log.h).
 *
 * State is process-wide: the sink is chosen once at start and swapped on
 * SIGHUP, so it is guarded by one mutex; the level is an atomic read on
 * every call. */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;          /* guarded by log_lock; NULL: stderr/syslog */
static char *log_path;          /* guarded by log_lock */
static int log_to_stderr = 1;   /* guarded by log_lock */
static char log_ident[64] = "flexfs";
static atomic_int log_level = LOG_NOTICE;

static const char *const level_names[] = {
    [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
    [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int log_level_parse(const char *name)
{
    for (int i = 0; i <= LOG_DEBUG; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warn") == 0)
        return LOG_WARNING;
    if (strcasecmp(name, "err") == 0)
        return LOG_ERR;
    return -1;
}

void log_set_level(int level) { atomic_store(&log_level, level); }
int log_get_level(void) { return atomic_load(&log_level); }

int log_open(const char *ident, int foreground, const char *file)
{
    int rc = 0;
    pthread_mutex_lock(&log_lock);
    snprintf(log_ident, sizeof(log_ident), "%s", ident);
    log_to_stderr = foreground && !file;
    free(log_path);
    log_path = file ? strdup(file) : NULL;
    if (log_file) {
        fclose(log_file);
        log_file = NULL;
    }
    if (log_path) {
        log_file = fopen(log_path, "a");
        if (!log_file)
            rc = -errno;
        else
            setvbuf(log_file, NULL, _IOLBF, 0);
    } else if (!log_to_stderr) {
        openlog(log_ident, LOG_PID, LOG_DAEMON);
    }
    pthread_mutex_unlock(&log_lock);
    return rc;
}

void log_reopen(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_path) {
        FILE *f = fopen(log_path, "a");
        if (f) {
            setvbuf(f, NULL, _IOLBF, 0);
            if (log_file)
                fclose(log_file);
            log_file = f;
        }
    }
    pthread_mutex_unlock(&log_lock);
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > atomic_load(&log_level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&log_lock);
    if (log_file || log_to_stderr) {
        struct timespec ts;
        struct tm tm;
        char stamp[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(log_file ? log_file : stderr, "%s.%03ld %s[%d] %s: %s\n",
                stamp, ts.tv_nsec / 1000000, log_ident, (int)getpid(),
                level_names[level & 7], msg);
    } else {
        syslog(level, "%s", msg);
    }
    pthread_mutex_unlock(&log_lock);
}
