/* posix_lock.c - advisory-lock cases for the integration tests.  Each
 * lock owner is a child process that takes commands over a pipe, so one
 * test drives several owners on the same file seen through two mounts.
 *
 *   posix_lock cases PATH1 PATH2
 *       every two-owner case below; PATH1 and PATH2 name one file through
 *       two mounts (or the same mount)
 *   posix_lock hold PATH TYPE START LEN READY
 *       takes an fcntl lock (TYPE r or w; LEN 0: to EOF) and creates the
 *       file READY; on SIGUSR1 it unlocks and creates READY.unlocked; it
 *       exits on SIGTERM (or when killed)
 *   posix_lock try PATH TYPE START LEN
 *       F_SETLK: exit 0 if granted, 3 if refused (EAGAIN/EACCES)
 *   posix_lock getlk PATH TYPE START LEN
 *       prints "unlocked" or "TYPE START LEN PID" of the conflicting lock
 *   posix_lock wait PATH TYPE START LEN SECS
 *       F_SETLKW bounded by SECS: exit 0 if granted, 4 if it timed out */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...) do { fprintf(stderr, "posix_lock: line %d: ", __LINE__); \
        fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

static short type_of(const char *t)
{
    switch (t[0]) {
    case 'r': return F_RDLCK;
    case 'w': return F_WRLCK;
    case 'u': return F_UNLCK;
    }
    FAIL("bad lock type %s", t);
}

static const char *type_name(short t)
{
    return t == F_RDLCK ? "r" : t == F_WRLCK ? "w" : "u";
}

static int do_lock(int fd, int cmd, const char *type, long long start,
                   long long len, struct flock *out)
{
    struct flock fl = { .l_type = type_of(type), .l_whence = SEEK_SET,
                        .l_start = start, .l_len = len };
    int rc = fcntl(fd, cmd, &fl);
    if (out)
        *out = fl;
    return rc < 0 ? errno : 0;
}

/* ---- an owner: a child process serving commands ---- */

struct owner {
    const char *name;
    pid_t pid;
    int cmd, res;                       /* pipe ends in the parent */
};

static void on_alarm(int sig)
{
    (void)sig;
}

/* Runs one command line; writes the reply line into out. */
static void serve(char *line, int *fds, int *nfds, char *out, size_t cap)
{
    char verb[16], a1[4096], a2[16];
    long long s = 0, l = 0;
    int fd = -1;
    int n = sscanf(line, "%15s %4095s %15s %lld %lld", verb, a1, a2, &s, &l);
    if (n < 1)
        FAIL("empty command");
    if (n >= 2 && strcmp(verb, "open") != 0 && strcmp(verb, "alarm") != 0) {
        fd = atoi(a1);
        if (fd < 0 || fd >= *nfds)
            FAIL("bad descriptor index %s", a1);
        fd = fds[fd];
    }
    if (strcmp(verb, "open") == 0) {
        int f = open(a1, O_RDWR);
        if (f < 0)
            snprintf(out, cap, "%d", errno);
        else {
            fds[*nfds] = f;
            snprintf(out, cap, "0 %d", (*nfds)++);
        }
    } else if (strcmp(verb, "setlk") == 0) {
        snprintf(out, cap, "%d", do_lock(fd, F_SETLK, a2, s, l, NULL));
    } else if (strcmp(verb, "setlkw") == 0) {
        snprintf(out, cap, "%d", do_lock(fd, F_SETLKW, a2, s, l, NULL));
    } else if (strcmp(verb, "getlk") == 0) {
        struct flock fl;
        int rc = do_lock(fd, F_GETLK, a2, s, l, &fl);
        snprintf(out, cap, "%d %s %lld %lld %d", rc, type_name(fl.l_type),
                 (long long)fl.l_start, (long long)fl.l_len, (int)fl.l_pid);
    } else if (strcmp(verb, "close") == 0) {
        snprintf(out, cap, "%d", close(fd) < 0 ? errno : 0);
    } else if (strcmp(verb, "flock") == 0) {
        int op = strncmp(a2, "sh", 2) == 0 ? LOCK_SH
                 : strncmp(a2, "ex", 2) == 0 ? LOCK_EX : LOCK_UN;
        if (strstr(a2, "nb"))
            op |= LOCK_NB;
        snprintf(out, cap, "%d", flock(fd, op) < 0 ? errno : 0);
    } else if (strcmp(verb, "write") == 0) {
        /* write FD TEXT OFFSET: TEXT at OFFSET, no close */
        ssize_t n = pwrite(fd, a2, strlen(a2), (off_t)s);
        snprintf(out, cap, "%d", n < 0 ? errno : 0);
    } else if (strcmp(verb, "read") == 0) {
        /* read FD - OFFSET LEN: replies "0 TEXT" */
        char buf[64] = "";
        ssize_t n = pread(fd, buf, l < 63 ? (size_t)l : 63, (off_t)s);
        if (n >= 0)
            buf[n] = 0;
        for (char *c = buf; *c; c++)    /* one reply, one line */
            if (*c < ' ' || *c > '~')
                *c = '.';
        snprintf(out, cap, "%d %s", n < 0 ? errno : 0, buf);
    } else if (strcmp(verb, "alarm") == 0) {
        /* The next blocking call is interrupted after a1 milliseconds. */
        struct itimerval it = { { 0, 0 }, { 0, atoi(a1) * 1000 } };
        setitimer(ITIMER_REAL, &it, NULL);
        snprintf(out, cap, "0");
    } else {
        FAIL("unknown command %s", verb);
    }
}

static void owner_main(int cmd, int res)
{
    struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    FILE *in = fdopen(cmd, "r");
    int fds[64], nfds = 0;
    char line[8192], out[256];
    while (fgets(line, sizeof(line), in)) {
        if (strncmp(line, "exit", 4) == 0)
            break;
        serve(line, fds, &nfds, out, sizeof(out));
        size_t len = strlen(out);
        out[len++] = '\n';
        if (write(res, out, len) != (ssize_t)len)
            _exit(1);
    }
    _exit(0);
}

static struct owner owner_new(const char *name)
{
    int c[2], r[2];
    if (pipe(c) < 0 || pipe(r) < 0)
        FAIL("pipe: %s", strerror(errno));
    struct owner o = { .name = name };
    fflush(NULL);
    o.pid = fork();
    if (o.pid < 0)
        FAIL("fork: %s", strerror(errno));
    if (o.pid == 0) {
        close(c[1]);
        close(r[0]);
        owner_main(c[0], r[1]);
    }
    close(c[0]);
    close(r[1]);
    o.cmd = c[1];
    o.res = r[0];
    return o;
}

static void osend(struct owner *o, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    buf[n++] = '\n';
    if (write(o->cmd, buf, (size_t)n) != n)
        FAIL("%s: command not sent", o->name);
}

/* The next reply line within ms (-1: forever); 0 if none came. */
static int oreply(struct owner *o, int ms, char *line, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        struct pollfd p = { .fd = o->res, .events = POLLIN };
        int rc = poll(&p, 1, ms);
        if (rc == 0)
            return 0;
        if (rc < 0 && errno == EINTR)
            continue;
        if (read(o->res, line + n, 1) != 1)
            FAIL("%s: died", o->name);
        if (line[n] == '\n') {
            line[n] = 0;
            return 1;
        }
        n++;
    }
    FAIL("%s: reply too long", o->name);
}

/* Sends a command and returns the first number of its reply (an errno). */
static int ocmd(struct owner *o, char *line, size_t cap, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    osend(o, "%s", buf);
    if (!oreply(o, 20000, line, cap))
        FAIL("%s: no reply to '%s' in 20 s", o->name, buf);
    return atoi(line);
}

static char L[256];
#define DO(o, ...) ocmd(o, L, sizeof(L), __VA_ARGS__)
#define EXPECT(what, got, want) do { int g_ = (got), w_ = (want); \
        if (g_ != w_) FAIL("%s: got %d (%s), want %d (%s)", what, g_, \
                           strerror(g_), w_, strerror(w_)); } while (0)

/* Still no reply after ms. */
static void blocked(struct owner *o, int ms, const char *what)
{
    char line[256];
    if (oreply(o, ms, line, sizeof(line)))
        FAIL("%s: answered '%s' while it should block", what, line);
}

static int answered(struct owner *o, int ms, const char *what)
{
    char line[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!oreply(o, ms, line, sizeof(line)))
        FAIL("%s: no answer in %d ms", what, ms);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("  %s: answered in %.1f ms\n", what,
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    return atoi(line);
}

/* Repeats a command until it answers want, for at most ms. */
static void eventually(struct owner *o, const char *cmd, int want, int ms,
                       const char *what)
{
    int got = -1;
    for (int waited = 0; waited <= ms; waited += 50) {
        if ((got = DO(o, "%s", cmd)) == want)
            return;
        usleep(50000);
    }
    EXPECT(what, got, want);
}

static void owner_end(struct owner *o)
{
    osend(o, "exit");
    int st;
    waitpid(o->pid, &st, 0);
}

/* The conflict F_GETLK reports, checked. */
static void getlk_is(struct owner *o, int fd, const char *type, long long s,
                     long long l, const char *wtype, long long ws,
                     long long wl, pid_t wpid)
{
    char t[4];
    long long gs, gl;
    int pid, rc;
    DO(o, "getlk %d %s %lld %lld", fd, type, s, l);
    if (sscanf(L, "%d %3s %lld %lld %d", &rc, t, &gs, &gl, &pid) != 5)
        FAIL("getlk reply '%s'", L);
    EXPECT("getlk", rc, 0);
    if (strcmp(t, wtype) != 0 || (wtype[0] != 'u' &&
        (gs != ws || gl != wl || (wpid && pid != wpid))))
        FAIL("getlk %s %lld %lld: got '%s', want %s %lld %lld pid %d", type,
             s, l, L + 2, wtype, ws, wl, (int)wpid);
}

static void cases(const char *p1, const char *p2)
{
    struct owner A = owner_new("A (mount 1)"), B = owner_new("B (mount 2)");
    struct owner C = owner_new("C (mount 1)");
    EXPECT("A open", DO(&A, "open %s", p1), 0);
    EXPECT("B open", DO(&B, "open %s", p2), 0);
    EXPECT("C open", DO(&C, "open %s", p1), 0);

    printf("exclusive locks across mounts, F_GETLK\n");
    EXPECT("A w", DO(&A, "setlk 0 w 0 0"), 0);
    EXPECT("B w", DO(&B, "setlk 0 w 0 0"), EAGAIN);
    EXPECT("B r", DO(&B, "setlk 0 r 100 10"), EAGAIN);
    EXPECT("C w (same mount)", DO(&C, "setlk 0 w 5 1"), EAGAIN);
    getlk_is(&B, 0, "r", 10, 5, "w", 0, 0, A.pid);
    getlk_is(&A, 0, "w", 0, 0, "u", 0, 0, 0);

    printf("F_SETLKW waits, and wakes on release\n");
    osend(&B, "setlkw 0 w 0 10");
    blocked(&B, 500, "B's F_SETLKW");
    EXPECT("A unlock elsewhere", DO(&A, "setlk 0 u 100 0"), 0);
    blocked(&B, 300, "B's F_SETLKW after an unrelated unlock");
    EXPECT("A unlock", DO(&A, "setlk 0 u 0 0"), 0);
    EXPECT("B granted", answered(&B, 5000, "B's F_SETLKW"), 0);
    getlk_is(&A, 0, "w", 0, 0, "w", 0, 10, B.pid);
    EXPECT("B unlock", DO(&B, "setlk 0 u 0 0"), 0);

    printf("shared locks, upgrade and downgrade\n");
    EXPECT("A r", DO(&A, "setlk 0 r 0 100"), 0);
    EXPECT("B r", DO(&B, "setlk 0 r 50 100"), 0);
    EXPECT("B w over A's r", DO(&B, "setlk 0 w 0 10"), EAGAIN);
    EXPECT("A upgrades 0-9", DO(&A, "setlk 0 w 0 10"), 0);
    EXPECT("A upgrade over B's r", DO(&A, "setlk 0 w 60 10"), EAGAIN);
    getlk_is(&C, 0, "w", 0, 50, "w", 0, 10, A.pid);
    EXPECT("A downgrades 0-9", DO(&A, "setlk 0 r 0 10"), 0);
    EXPECT("B r 0-9", DO(&B, "setlk 0 r 0 10"), 0);
    EXPECT("A unlock", DO(&A, "setlk 0 u 0 0"), 0);
    EXPECT("B unlock", DO(&B, "setlk 0 u 0 0"), 0);

    printf("splitting, and ranges to EOF\n");
    EXPECT("A w 0-99", DO(&A, "setlk 0 w 0 100"), 0);
    EXPECT("A u 40-59", DO(&A, "setlk 0 u 40 20"), 0);
    EXPECT("B w 40-59", DO(&B, "setlk 0 w 40 20"), 0);
    EXPECT("B w 39", DO(&B, "setlk 0 w 39 1"), EAGAIN);
    EXPECT("B w 60", DO(&B, "setlk 0 w 60 1"), EAGAIN);
    getlk_is(&C, 0, "r", 60, 1000, "w", 60, 40, A.pid);
    EXPECT("A merges back", DO(&A, "setlk 0 u 0 0"), 0);
    EXPECT("B u", DO(&B, "setlk 0 u 0 0"), 0);
    EXPECT("A w to EOF", DO(&A, "setlk 0 w 1000 0"), 0);
    getlk_is(&B, 0, "r", 1LL << 40, 1, "w", 1000, 0, A.pid);
    EXPECT("B below", DO(&B, "setlk 0 w 0 1000"), 0);
    EXPECT("A u", DO(&A, "setlk 0 u 0 0"), 0);
    EXPECT("B u", DO(&B, "setlk 0 u 0 0"), 0);

    printf("closing any descriptor drops the owner's locks\n");
    EXPECT("A w", DO(&A, "setlk 0 w 0 10"), 0);
    EXPECT("A second open", DO(&A, "open %s", p1), 0);
    EXPECT("B w", DO(&B, "setlk 0 w 0 10"), EAGAIN);
    EXPECT("A closes the other", DO(&A, "close 1"), 0);
    EXPECT("B w after A's close", DO(&B, "setlk 0 w 0 10"), 0);
    EXPECT("B u", DO(&B, "setlk 0 u 0 0"), 0);

    printf("deadlock between two owners\n");
    EXPECT("A w 0-9", DO(&A, "setlk 0 w 0 10"), 0);
    EXPECT("B w 10-19", DO(&B, "setlk 0 w 10 10"), 0);
    osend(&A, "setlkw 0 w 10 10");
    blocked(&A, 300, "A's F_SETLKW");
    EXPECT("B closes the cycle", DO(&B, "setlkw 0 w 0 10"), EDEADLK);
    EXPECT("B u", DO(&B, "setlk 0 u 0 0"), 0);
    EXPECT("A granted", answered(&A, 5000, "A's F_SETLKW"), 0);

    printf("an interrupted F_SETLKW leaves no lock\n");
    EXPECT("alarm", DO(&B, "alarm 300"), 0);
    osend(&B, "setlkw 0 w 0 10");
    EXPECT("B interrupted", answered(&B, 5000, "B's F_SETLKW"), EINTR);
    EXPECT("A u", DO(&A, "setlk 0 u 0 0"), 0);
    getlk_is(&C, 0, "w", 0, 0, "u", 0, 0, 0);
    EXPECT("C w", DO(&C, "setlk 0 w 0 0"), 0);
    EXPECT("C u", DO(&C, "setlk 0 u 0 0"), 0);

    printf("a lock holder reads what the previous holder wrote\n");
    EXPECT("B reads (caches) the old bytes", DO(&B, "read 0 - 0 5"), 0);
    EXPECT("A w", DO(&A, "setlk 0 w 0 0"), 0);
    EXPECT("A writes", DO(&A, "write 0 fresh 0"), 0);
    EXPECT("A unlocks (no close)", DO(&A, "setlk 0 u 0 0"), 0);
    EXPECT("B w", DO(&B, "setlk 0 w 0 0"), 0);
    EXPECT("B reads", DO(&B, "read 0 - 0 5"), 0);
    if (strcmp(L, "0 fresh") != 0)
        FAIL("B read '%s' under the lock, not A's 'fresh'", L + 2);
    EXPECT("B u", DO(&B, "setlk 0 u 0 0"), 0);

    printf("flock, beside fcntl locks\n");
    EXPECT("A flock ex", DO(&A, "flock 0 ex"), 0);
    EXPECT("B flock exnb", DO(&B, "flock 0 exnb"), EWOULDBLOCK);
    EXPECT("B flock shnb", DO(&B, "flock 0 shnb"), EWOULDBLOCK);
    EXPECT("B fcntl w", DO(&B, "setlk 0 w 0 0"), 0);
    osend(&B, "flock 0 ex");
    blocked(&B, 300, "B's blocking flock");
    EXPECT("A flock un", DO(&A, "flock 0 un"), 0);
    EXPECT("B flock granted", answered(&B, 5000, "B's flock"), 0);
    EXPECT("C flock shnb", DO(&C, "flock 0 shnb"), EWOULDBLOCK);
    EXPECT("B close", DO(&B, "close 0"), 0);
    /* The kernel releases the open file after close() returns. */
    eventually(&C, "flock 0 exnb", 0, 3000, "C flock exnb after B's close");
    EXPECT("C flock sh (downgrade)", DO(&C, "flock 0 sh"), 0);
    EXPECT("A flock shnb", DO(&A, "flock 0 shnb"), 0);

    owner_end(&A);
    owner_end(&B);
    owner_end(&C);
    printf("all lock cases passed\n");
}

/* ---- single commands for the shell tests ---- */

static volatile sig_atomic_t got_usr1, got_term;

static void on_usr1(int sig)
{
    (void)sig;
    got_usr1 = 1;
}

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

static int open_rw(const char *path)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        FAIL("open %s: %s", path, strerror(errno));
    return fd;
}

static void touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        FAIL("create %s: %s", path, strerror(errno));
    close(fd);
}

static int cmd_hold(char **a)
{
    struct sigaction sa = { .sa_handler = on_usr1 };
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    int fd = open_rw(a[0]);
    int rc = do_lock(fd, F_SETLK, a[1], atoll(a[2]), atoll(a[3]), NULL);
    if (rc)
        FAIL("hold: %s", strerror(rc));
    touch(a[4]);
    while (!got_term) {
        pause();
        if (got_usr1 == 1) {
            got_usr1 = 2;
            rc = do_lock(fd, F_SETLK, "u", 0, 0, NULL);
            if (rc)
                FAIL("unlock: %s", strerror(rc));
            char p[4096];
            snprintf(p, sizeof(p), "%s.unlocked", a[4]);
            touch(p);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && strcmp(argv[1], "cases") == 0) {
        cases(argv[2], argv[3]);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "hold") == 0)
        return cmd_hold(argv + 2);
    if (argc == 6 && strcmp(argv[1], "try") == 0) {
        int rc = do_lock(open_rw(argv[2]), F_SETLK, argv[3], atoll(argv[4]),
                         atoll(argv[5]), NULL);
        if (rc && rc != EAGAIN && rc != EACCES)
            FAIL("try: %s", strerror(rc));
        return rc ? 3 : 0;
    }
    if (argc == 6 && strcmp(argv[1], "getlk") == 0) {
        struct flock fl;
        int rc = do_lock(open_rw(argv[2]), F_GETLK, argv[3], atoll(argv[4]),
                         atoll(argv[5]), &fl);
        if (rc)
            FAIL("getlk: %s", strerror(rc));
        if (fl.l_type == F_UNLCK)
            printf("unlocked\n");
        else
            printf("%s %lld %lld %d\n", type_name(fl.l_type),
                   (long long)fl.l_start, (long long)fl.l_len,
                   (int)fl.l_pid);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "wait") == 0) {
        struct sigaction sa = { .sa_handler = on_alarm };
        sigaction(SIGALRM, &sa, NULL);
        int fd = open_rw(argv[2]);
        alarm((unsigned)atoi(argv[6]));
        int rc = do_lock(fd, F_SETLKW, argv[3], atoll(argv[4]),
                         atoll(argv[5]), NULL);
        if (rc == EINTR)
            return 4;
        if (rc)
            FAIL("wait: %s", strerror(rc));
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of posix_lock.c\n");
    return 2;
}
