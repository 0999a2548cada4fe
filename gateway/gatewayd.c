/* gatewayd.c - flexfs-gatewayd: options and config file, daemonizing, the
 * pid file, signals, and bringing the parts up and down in order
 * (metadata core, block store, RPC server with the native program, lease
 * reaper, garbage collector).
 *
 * Startup errors (bad config, port in use, unusable meta dir) reach
 * stderr with a non-zero exit before the daemon detaches: the parent
 * waits on a pipe until the daemon reports that it is serving. */
#define _GNU_SOURCE                     /* pipe2 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "admin.h"
#include "conf.h"
#include "gateway.h"
#include "gc.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "native.h"
#include "nfs4.h"
#include "rpcsvc.h"

#define PROG "flexfs-gatewayd"

static const char usage_text[] =
"Usage: " PROG " [OPTIONS]\n"
"The flexfs metadata gateway: serves the namespace over ONC RPC.\n"
"\n"
"  -f, --foreground      stay in the foreground, log to stderr\n"
"  -c, --config FILE     read settings from an INI file (same keys as below,\n"
"                        with '_' for '-'; the command line wins)\n"
"      --listen ADDR:PORT  address to serve on (default " GW_DEFAULT_LISTEN ")\n"
"      --meta-dir DIR    Berkeley DB environment (default " GW_DEFAULT_META_DIR ")\n"
"      --store URL       block store (default " GW_DEFAULT_STORE ")\n"
"      --s3-credentials FILE  AWS-style credentials file for an s3:// store\n"
"                        (default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,\n"
"                        AWS_SESSION_TOKEN, else ~/.aws/credentials)\n"
"      --pid-file FILE   write the daemon's PID here\n"
"      --port-file FILE  write the bound port here once serving\n"
"      --log-level LEVEL error, warning, notice, info or debug (default notice)\n"
"      --log-file FILE   log here instead of syslog (SIGHUP reopens it)\n"
"      --workers N       RPC worker threads (default: cores x 2)\n"
"      --lease-time SECS client session lease (default 30)\n"
"      --grace-time SECS after a restart, how long locks held before it\n"
"                        are kept for their holders (default: the lease)\n"
"      --gc-grace SECS   age of garbage blocks before deletion (default 60)\n"
"      --idle-timeout SECS  close client connections idle this long\n"
"                        (default 360; 0: never); clients reconnect\n"
"      --block-size SIZE block size of the default volume made on first\n"
"                        start (default 4M)\n"
"      --metrics ADDR:PORT  serve Prometheus metrics at /metrics (default off)\n"
"      --admin-hosts LIST  hosts (ADDR or ADDR/BITS, comma-separated) whose\n"
"                        root may use the admin program besides this host\n"
"      --exports FILE    which hosts may use which volume, ro or rw, and\n"
"                        root squashing (see flexfs-exports(5); SIGHUP\n"
"                        rereads it); default: all hosts, rw, no squash\n"
"      --version         print the version and exit\n"
"  -h, --help            print this help and exit\n";

enum {
    OPT_KEY = 256,                      /* long options that are keys */
    OPT_VERSION,
};

static const struct option long_opts[] = {
    { "foreground", no_argument, NULL, 'f' },
    { "config", required_argument, NULL, 'c' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { "listen", required_argument, NULL, OPT_KEY },
    { "meta-dir", required_argument, NULL, OPT_KEY },
    { "store", required_argument, NULL, OPT_KEY },
    { "s3-credentials", required_argument, NULL, OPT_KEY },
    { "pid-file", required_argument, NULL, OPT_KEY },
    { "port-file", required_argument, NULL, OPT_KEY },
    { "log-level", required_argument, NULL, OPT_KEY },
    { "log-file", required_argument, NULL, OPT_KEY },
    { "workers", required_argument, NULL, OPT_KEY },
    { "lease-time", required_argument, NULL, OPT_KEY },
    { "grace-time", required_argument, NULL, OPT_KEY },
    { "gc-grace", required_argument, NULL, OPT_KEY },
    { "idle-timeout", required_argument, NULL, OPT_KEY },
    { "block-size", required_argument, NULL, OPT_KEY },
    { "metrics", required_argument, NULL, OPT_KEY },
    { "admin-hosts", required_argument, NULL, OPT_KEY },
    { "exports", required_argument, NULL, OPT_KEY },
    { NULL, 0, NULL, 0 },
};

/* ---- settings ---- */

static int set_string(char **dst, const char *val)
{
    char *s = strdup(val);
    if (!s)
        return -ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

static int parse_workers(const char *val, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(val, &end, 10);
    if (errno || end == val || *end || n < 1 || n > 1024)
        return -EINVAL;
    *out = (unsigned)n;
    return 0;
}

static int parse_block_size(const char *val, uint32_t *out)
{
    uint64_t v;
    if (conf_parse_size(val, &v) < 0 || v < 4096 || v > (64u << 20) ||
        (v & (v - 1)))
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* One setting, from the file or the command line ("where" names it in
 * messages).  Keys use '_'. */
static int set_key(struct gateway_opts *o, const char *key, const char *val,
                   const char *where)
{
    char host[256];
    uint16_t port;
    int rc;

    if (strcmp(key, "listen") == 0) {
        rc = conf_parse_hostport(val, host, sizeof(host), &port);
        if (rc == 0)
            rc = set_string(&o->listen, val);
    } else if (strcmp(key, "meta_dir") == 0) {
        rc = set_string(&o->meta_dir, val);
    } else if (strcmp(key, "store") == 0) {
        rc = strstr(val, "://") ? set_string(&o->store, val) : -EINVAL;
    } else if (strcmp(key, "s3_credentials") == 0) {
        /* A file name: the secrets themselves never go in arguments. */
        rc = *val ? set_string(&o->s3_credentials, val) : -EINVAL;
    } else if (strcmp(key, "pid_file") == 0) {
        rc = set_string(&o->pid_file, val);
    } else if (strcmp(key, "port_file") == 0) {
        rc = set_string(&o->port_file, val);
    } else if (strcmp(key, "log_file") == 0) {
        rc = set_string(&o->log_file, val);
    } else if (strcmp(key, "log_level") == 0) {
        o->log_level = log_level_parse(val);
        rc = o->log_level < 0 ? -EINVAL : 0;
    } else if (strcmp(key, "workers") == 0) {
        rc = parse_workers(val, &o->workers);
    } else if (strcmp(key, "lease_time") == 0) {
        rc = conf_parse_seconds(val, &o->lease_time);
        if (rc == 0 && o->lease_time == 0)
            rc = -EINVAL;
    } else if (strcmp(key, "grace_time") == 0) {
        rc = conf_parse_seconds(val, &o->grace_time);
    } else if (strcmp(key, "gc_grace") == 0) {
        rc = conf_parse_seconds(val, &o->gc_grace);
    } else if (strcmp(key, "idle_timeout") == 0) {
        rc = conf_parse_seconds(val, &o->idle_timeout);
    } else if (strcmp(key, "block_size") == 0) {
        rc = parse_block_size(val, &o->block_size);
    } else if (strcmp(key, "metrics") == 0) {
        rc = conf_parse_hostport(val, host, sizeof(host), &port);
        if (rc == 0)
            rc = set_string(&o->metrics, val);
    } else if (strcmp(key, "admin_hosts") == 0) {
        rc = set_string(&o->admin_hosts, val);
    } else if (strcmp(key, "exports") == 0) {
        rc = *val ? set_string(&o->exports, val) : -EINVAL;
    } else {
        fprintf(stderr, PROG ": %s: unknown setting '%s'\n", where, key);
        return -EINVAL;
    }
    if (rc == -ENOMEM)
        fprintf(stderr, PROG ": out of memory\n");
    else if (rc < 0)
        fprintf(stderr, PROG ": %s: bad value for %s: '%s'\n", where, key, val);
    return rc;
}

struct conf_ctx {
    struct gateway_opts *o;
    const char *path;
};

static int conf_key(void *arg, const char *section, const char *key,
                    const char *value, int lineno)
{
    struct conf_ctx *c = arg;
    char where[PATH_MAX + 16];
    /* One file may configure several programs: ours is the top or
     * [gateway]. */
    if (*section && strcmp(section, "gateway") != 0)
        return 0;
    snprintf(where, sizeof(where), "%s:%d", c->path, lineno);
    return set_key(c->o, key, value, where);
}

static void opts_defaults(struct gateway_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->listen = strdup(GW_DEFAULT_LISTEN);
    o->meta_dir = strdup(GW_DEFAULT_META_DIR);
    o->store = strdup(GW_DEFAULT_STORE);
    o->log_level = LOG_NOTICE;
    o->lease_time = GW_DEFAULT_LEASE;
    o->gc_grace = GW_DEFAULT_GC_GRACE;
    o->idle_timeout = GW_DEFAULT_IDLE_TIMEOUT;
    o->block_size = GW_DEFAULT_BLOCK_SIZE;
}

static void opts_free(struct gateway_opts *o)
{
    free(o->config);
    free(o->listen);
    free(o->meta_dir);
    free(o->store);
    free(o->s3_credentials);
    free(o->pid_file);
    free(o->port_file);
    free(o->log_file);
    free(o->metrics);
    free(o->admin_hosts);
    free(o->exports);
}

/* The daemon runs in "/": relative paths are made absolute first. */
static int make_absolute(char **path)
{
    char cwd[PATH_MAX], *abs;
    if (!*path || **path == '/')
        return 0;
    if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, *path) < 0)
        return -errno;
    free(*path);
    *path = abs;
    return 0;
}

/* Returns 0 to run, 1 to exit successfully (help, version), -1 on error.
 * The config file is read first so that the command line overrides it. */
static int parse_args(int argc, char **argv, struct gateway_opts *o)
{
    int c, idx;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "fc:h", long_opts, NULL)) != -1)
        if (c == 'c' && set_string(&o->config, optarg) < 0)
            return -1;
    if (o->config) {
        struct conf_ctx cc = { o, o->config };
        int rc = conf_parse_file(o->config, conf_key, &cc);
        if (rc < 0) {
            if (rc != -EINVAL)
                fprintf(stderr, PROG ": cannot read %s: %s\n", o->config,
                        strerror(-rc));
            else
                fprintf(stderr, PROG ": %s: invalid configuration\n",
                        o->config);
            return -1;
        }
    }

    opterr = 1;
    optind = 0;                         /* GNU getopt: start over */
    while ((c = getopt_long(argc, argv, "fc:h", long_opts, &idx)) != -1) {
        switch (c) {
        case 'f':
            o->foreground = 1;
            break;
        case 'c':
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 1;
        case OPT_VERSION:
            printf(PROG " (flexfs) %s\n", PACKAGE_VERSION);
            return 1;
        case OPT_KEY: {
            char key[32], where[48];
            snprintf(key, sizeof(key), "%s", long_opts[idx].name);
            for (char *p = key; *p; p++)
                if (*p == '-')
                    *p = '_';
            snprintf(where, sizeof(where), "--%s", long_opts[idx].name);
            if (set_key(o, key, optarg, where) < 0)
                return -1;
            break;
        }
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (make_absolute(&o->meta_dir) < 0 || make_absolute(&o->pid_file) < 0 ||
        make_absolute(&o->port_file) < 0 || make_absolute(&o->log_file) < 0 ||
        make_absolute(&o->s3_credentials) < 0) {
        fprintf(stderr, PROG ": %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- process plumbing ---- */

static int ready_fd = -1;               /* main thread only: the pipe to the parent */
static int logs_to_stderr;              /* set once before any thread */

static void startup_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void startup_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_err("%s", msg);
    if (!logs_to_stderr)
        fprintf(stderr, PROG ": %s\n", msg);
}

/* Forks the daemon.  The parent only waits: it exits 0 when the daemon
 * writes a byte on the pipe (serving), 1 when the pipe closes without
 * one (the daemon printed its error and exited). */
static int daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0) {
        char c;
        ssize_t n;
        close(p[1]);
        do
            n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        waitpid(pid, NULL, 0);
        _exit(n == 1 ? 0 : 1);
    }
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();                       /* not a session leader: no tty */
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        _exit(1);
    ready_fd = p[1];
    return 0;
}

static void daemon_ready(void)
{
    if (ready_fd < 0)
        return;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    char c = 1;
    if (write(ready_fd, &c, 1) != 1)
        log_warn("cannot tell the parent process we are up: %s",
                 strerror(errno));
    close(ready_fd);
    ready_fd = -1;
}

/* The pid file is locked while we run, so a second gateway with the same
 * file refuses to start instead of overwriting it. */
static int pidfile_create(const char *path, int *fdp)
{
    char buf[32];
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        startup_error("cannot open pid file %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        startup_error("pid file %s is locked: already running as pid %s",
                      path, buf);
        close(fd);
        return -1;
    }
    int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
        startup_error("cannot write pid file %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *fdp = fd;
    return 0;
}

/* Written whole or not at all: tests poll for it. */
static int portfile_write(const char *path, uint16_t port)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        int rc = -errno;
        unlink(tmp);
        return rc;
    }
    return 0;
}

/* ---- signals ---- */

/* Signals are taken by one thread with sigwait (every thread blocks
 * them).  It exists from before startup, so that SIGTERM also ends a
 * startup that takes long (recovering a large environment) or hangs:
 * then nothing was acknowledged yet and the process just exits, leaving
 * Berkeley DB to recover on the next start as after a crash. */
struct sigctl {
    sigset_t set;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int serving;                        /* guarded by lock */
    int stop;                           /* guarded by lock */
    const char *pid_file;               /* unlinked on an early exit */
    struct exports *exports;            /* reread on SIGHUP (under lock) */
};

static void *signal_main(void *arg)
{
    struct sigctl *sc = arg;
    for (;;) {
        int sig;
        if (sigwait(&sc->set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            log_reopen();
            log_notice("SIGHUP: logs reopened");
            pthread_mutex_lock(&sc->lock);
            if (sc->exports)
                exports_reload(sc->exports);
            pthread_mutex_unlock(&sc->lock);
            continue;
        }
        pthread_mutex_lock(&sc->lock);
        if (!sc->serving) {
            log_notice("%s during startup: exiting", strsignal(sig));
            if (sc->pid_file)
                unlink(sc->pid_file);
            _exit(1);
        }
        log_notice("%s: shutting down", strsignal(sig));
        sc->stop = 1;
        pthread_cond_signal(&sc->cond);
        pthread_mutex_unlock(&sc->lock);
        return NULL;
    }
}

/* Call before any other thread exists, so that all inherit the mask. */
static int signals_start(struct sigctl *sc)
{
    sigemptyset(&sc->set);
    sigaddset(&sc->set, SIGTERM);
    sigaddset(&sc->set, SIGINT);
    sigaddset(&sc->set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sc->set, NULL);
    signal(SIGPIPE, SIG_IGN);
    pthread_mutex_init(&sc->lock, NULL);
    pthread_cond_init(&sc->cond, NULL);
    return -pthread_create(&sc->thread, NULL, signal_main, sc);
}

/* Startup is over: from now on a signal asks for a clean stop, which
 * this waits for. */
static void signals_wait_stop(struct sigctl *sc)
{
    pthread_mutex_lock(&sc->lock);
    sc->serving = 1;
    while (!sc->stop)
        pthread_cond_wait(&sc->cond, &sc->lock);
    pthread_mutex_unlock(&sc->lock);
    pthread_join(sc->thread, NULL);
}

/* ---- running ---- */

struct running {
    struct gateway gw;
    struct rpc_server *srv;
    struct lease *lease;
    struct gc *gc;
    struct admin *admin;
    struct metrics_http *metrics;
    struct rpc_program nfs4;
    int nfs4_up;
    int pid_fd;
    int port_written;
};

/* Every served call lands in the metrics. */
static void count_op(const struct rpc_req *req, const char *name, uint64_t ns,
                     int ok)
{
    metrics_op_done(req->prog, req->proc, name, ns, ok);
}

/* Binds the address and adds the programs; serving starts later, once
 * the core they call is open. */
static int make_server(struct running *r, const struct gateway_opts *o)
{
    char host[256];
    uint16_t port;
    struct rpc_program prog;

    conf_parse_hostport(o->listen, host, sizeof(host), &port);
    struct rpc_server_opts so = { .host = host, .port = port,
                                  .workers = o->workers,
                                  .idle_secs = o->idle_timeout,
                                  .op_done = count_op };
    int rc = rpc_server_create(&so, &r->srv);
    if (rc < 0) {
        startup_error("cannot listen on %s: %s", o->listen, strerror(-rc));
        return rc;
    }
    native_program(&r->gw, &prog);
    rc = rpc_server_add(r->srv, &prog);
    if (rc < 0) {
        startup_error("cannot add the native program: %s", strerror(-rc));
        return rc;
    }
    char where[300];                    /* the port really bound */
    snprintf(where, sizeof(where), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
             *host ? host : "0.0.0.0", rpc_server_port(r->srv));
    struct admin_opts ao = { .store_url = o->store, .meta_dir = o->meta_dir,
                             .listen = where,
                             .admin_hosts = o->admin_hosts,
                             .gc_grace = o->gc_grace,
                             .default_block_size = o->block_size };
    rc = admin_create(&ao, &r->admin);
    if (rc < 0) {
        startup_error("bad admin_hosts '%s'", o->admin_hosts);
        return rc;
    }
    rc = rpc_server_add(r->srv, admin_program(r->admin));
    if (rc < 0)
        startup_error("cannot add the admin program: %s", strerror(-rc));
    return rc;
}

static int start(struct running *r, const struct gateway_opts *o,
                 struct sigctl *sc)
{
    int rc;

    r->gw.opts = o;
    metrics_init();
    if (o->pid_file) {
        /* Under the lock: a signal now finds the file known or absent. */
        pthread_mutex_lock(&sc->lock);
        rc = pidfile_create(o->pid_file, &r->pid_fd);
        if (rc == 0)
            sc->pid_file = o->pid_file;
        pthread_mutex_unlock(&sc->lock);
        if (rc < 0)
            return rc;
    }
    rc = exports_open(o->exports, &r->gw.exports);
    if (rc < 0) {
        startup_error("cannot use the exports file %s: %s", o->exports,
                      strerror(-rc));
        return rc;
    }
    if (!o->exports)
        log_notice("no exports file: every host may use every volume "
                   "read-write, without root squashing");
    pthread_mutex_lock(&sc->lock);
    sc->exports = r->gw.exports;
    pthread_mutex_unlock(&sc->lock);
    store_url_redact(o->store, r->gw.store_url, sizeof(r->gw.store_url));
    /* The store's credentials are ours alone: MOUNT hands clients the
     * redacted URL, and each client brings its own. */
    struct store_opts so = { .credentials_file = o->s3_credentials };
    rc = store_open(o->store, &so, &r->gw.store);
    if (rc < 0) {
        startup_error("cannot open the block store %s: %s", r->gw.store_url,
                      strerror(-rc));
        return rc;
    }
    /* Bind before recovering the metadata: a taken port fails fast. */
    rc = make_server(r, o);
    if (rc < 0)
        return rc;
    struct meta_opts mo = { .dir = o->meta_dir,
                            .default_block_size = o->block_size,
                            .lease_secs = o->lease_time,
                            .grace_secs = o->grace_time };
    rc = meta_open(&mo, &r->gw.meta);
    if (rc < 0) {
        startup_error("cannot open the metadata in %s: %s", o->meta_dir,
                      strerror(-rc));
        return rc;
    }
    rc = lease_start(r->gw.meta, &r->lease);
    if (rc == 0)
        rc = gc_start(r->gw.meta, r->gw.store, o->gc_grace, &r->gc);
    if (rc < 0) {
        startup_error("cannot start a thread: %s", strerror(-rc));
        return rc;
    }
    admin_attach(r->admin, r->gw.meta, r->gw.store, gc_run, r->gc);
    struct nfs4_opts no = { .lease_secs = o->lease_time, .grace_secs = -1,
                            .exports = r->gw.exports };
    rc = nfs4_program_init(r->gw.meta, r->gw.store, &no, &r->nfs4);
    if (rc == 0) {
        r->nfs4_up = 1;
        rc = rpc_server_add(r->srv, &r->nfs4);
    }
    if (rc < 0) {
        startup_error("cannot start the NFSv4 front end: %s", strerror(-rc));
        return rc;
    }
    if (o->metrics &&
        (rc = metrics_http_start(o->metrics, admin_gauges, r->admin,
                                 &r->metrics)) < 0) {
        startup_error("cannot serve metrics on %s: %s", o->metrics,
                      strerror(-rc));
        return rc;
    }
    rc = rpc_server_start(r->srv);
    if (rc < 0) {
        startup_error("cannot start the RPC server: %s", strerror(-rc));
        return rc;
    }
    rpc_server_register(r->srv);
    if (o->port_file) {
        rc = portfile_write(o->port_file, rpc_server_port(r->srv));
        if (rc < 0) {
            startup_error("cannot write port file %s: %s", o->port_file,
                          strerror(-rc));
            return rc;
        }
        r->port_written = 1;
    }
    return 0;
}

/* Takes down whatever start() brought up, in reverse. */
static void stop(struct running *r, const struct gateway_opts *o)
{
    if (r->srv) {
        rpc_server_unregister(r->srv);
        rpc_server_stop(r->srv);
    }
    if (r->nfs4_up)
        nfs4_program_fini(&r->nfs4);
    metrics_http_stop(r->metrics);
    admin_destroy(r->admin);            /* its jobs use the core and gc */
    gc_stop(r->gc);
    lease_stop(r->lease);
    rpc_server_destroy(r->srv);
    if (r->gw.meta)
        meta_close(r->gw.meta);
    store_close(r->gw.store);
    exports_close(r->gw.exports);
    if (r->port_written)
        unlink(o->port_file);
    if (r->pid_fd >= 0) {
        unlink(o->pid_file);
        close(r->pid_fd);
    }
}

int main(int argc, char **argv)
{
    struct gateway_opts o;
    struct running r;
    struct sigctl sc;

    opts_defaults(&o);
    int rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        opts_free(&o);
        return rc > 0 ? 0 : 2;
    }

    logs_to_stderr = o.foreground && !o.log_file;
    rc = log_open(PROG, o.foreground, o.log_file);
    if (rc < 0) {
        fprintf(stderr, PROG ": cannot open log file %s: %s\n", o.log_file,
                strerror(-rc));
        opts_free(&o);
        return 1;
    }
    log_set_level(o.log_level);
    if (!o.foreground && (rc = daemonize()) < 0) {
        fprintf(stderr, PROG ": cannot daemonize: %s\n", strerror(-rc));
        opts_free(&o);
        return 1;
    }

    memset(&sc, 0, sizeof(sc));
    rc = signals_start(&sc);
    if (rc < 0) {
        startup_error("cannot start the signal thread: %s", strerror(-rc));
        opts_free(&o);
        return 1;
    }
    memset(&r, 0, sizeof(r));
    r.pid_fd = -1;
    if (start(&r, &o, &sc) < 0) {
        pthread_mutex_lock(&sc.lock);   /* the signal thread still runs */
        sc.exports = NULL;
        pthread_mutex_unlock(&sc.lock);
        stop(&r, &o);
        opts_free(&o);
        return 1;
    }
    log_notice("flexfs-gatewayd %s serving on %s (port %u), metadata in %s, "
               "blocks in %s", PACKAGE_VERSION, o.listen,
               rpc_server_port(r.srv), o.meta_dir, r.gw.store_url);
    daemon_ready();

    signals_wait_stop(&sc);
    stop(&r, &o);
    log_notice("stopped");
    opts_free(&o);
    return 0;
}
