/* metrics_http.c - the optional HTTP listener of the gateway's metrics
 * (--metrics ADDR:PORT): a tiny HTTP/1.0 server on its own thread.
 *
 * One request per connection, read with a bound on size and time, so a
 * slow or hostile peer holds the thread for at most a few seconds and
 * never makes it allocate much.  Only GET and HEAD of /metrics are
 * served; other paths get 404, other methods 405, garbage 400. */
#define _GNU_SOURCE                     /* accept4, pipe2 */
#include "config.h"
#include "metrics.h"
#include "conf.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX        8192             /* bytes of request head read */
#define IO_TIMEOUT_SEC 3

struct metrics_http {
    int lfd;
    int stop_pipe[2];
    uint16_t port;
    pthread_t thread;
    metrics_gauge_fn gauges;
    void *arg;
};

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void reply_simple(int fd, int code, const char *reason)
{
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                     code, reason, strlen(reason) + 1, reason);
    if (n > 0 && (size_t)n < sizeof hdr)
        (void)write_all(fd, hdr, (size_t)n);
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads the request head (up to the blank line) into buf; returns its
 * length or a negative errno (-EMSGSIZE when over the bound).  The whole
 * head must come within IO_TIMEOUT_SEC: SO_RCVTIMEO bounds each recv
 * only, and a peer sending a byte now and then would hold the one thread
 * that serves /metrics for as long as it liked. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    double deadline = now_sec() + IO_TIMEOUT_SEC;
    while (got < cap - 1) {
        if (now_sec() >= deadline)
            return -ETIMEDOUT;
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return (ssize_t)got;
    }
    buf[got] = '\0';
    if (got == cap - 1)
        return -EMSGSIZE;
    /* An HTTP/0.9-style peer that closed after the request line. */
    return strchr(buf, '\n') ? (ssize_t)got : -EPROTO;
}

static void serve_metrics(struct metrics_http *h, int fd, int head)
{
    char *body;
    size_t len;
    int rc = metrics_render(h->gauges, h->arg, &body, &len);
    if (rc < 0) {
        log_warn("metrics: cannot render: %s", strerror(-rc));
        reply_simple(fd, 500, "Internal Server Error");
        return;
    }
    char hdr[256];
    int n = snprintf(hdr, sizeof hdr,
                     "HTTP/1.0 200 OK\r\n"
                     "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n", len);
    if (n > 0 && (size_t)n < sizeof hdr && write_all(fd, hdr, (size_t)n) == 0
        && !head)
        (void)write_all(fd, body, len);
    free(body);
}

static void serve_conn(struct metrics_http *h, int fd)
{
    struct timeval tv = { .tv_sec = IO_TIMEOUT_SEC };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    char *req = malloc(REQ_MAX);
    if (!req)
        return;
    ssize_t n = read_head(fd, req, REQ_MAX);
    if (n == -EMSGSIZE) {
        reply_simple(fd, 431, "Request Header Fields Too Large");
        goto out;
    }
    if (n < 0)
        goto out;               /* timed out or reset: nothing to answer */

    char method[16], target[1024], version[16];
    if (sscanf(req, "%15s %1023s %15s", method, target, version) != 3 ||
        strncmp(version, "HTTP/", 5) != 0) {
        reply_simple(fd, 400, "Bad Request");
        goto out;
    }
    int head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        reply_simple(fd, 405, "Method Not Allowed");
        goto out;
    }
    char *q = strchr(target, '?');
    if (q)
        *q = '\0';
    if (strcmp(target, "/metrics") != 0) {
        reply_simple(fd, 404, "Not Found");
        goto out;
    }
    serve_metrics(h, fd, head);
out:
    free(req);
}

static void *http_thread(void *arg)
{
    struct metrics_http *h = arg;
    struct pollfd pfd[2] = {
        { .fd = h->lfd, .events = POLLIN },
        { .fd = h->stop_pipe[0], .events = POLLIN },
    };
    for (;;) {
        int rc = poll(pfd, 2, -1);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            log_err("metrics: poll: %s", strerror(errno));
            break;
        }
        if (pfd[1].revents)
            break;
        if (!(pfd[0].revents & POLLIN))
            continue;
        int fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
                log_warn("metrics: accept: %s", strerror(errno));
            if (errno == EMFILE || errno == ENFILE)
                usleep(100000);         /* do not spin on a full fd table */
            continue;
        }
        serve_conn(h, fd);
        /* Tell the peer we are done writing before closing, so it sees
         * the whole body rather than a reset. */
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    return NULL;
}

static int listen_on(const char *addr, int *fd_out, uint16_t *port_out)
{
    char host[256];
    uint16_t port;
    int rc = conf_parse_hostport(addr, host, sizeof host, &port);
    if (rc < 0)
        return rc;
    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *ai;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int g = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &ai);
    if (g != 0) {
        log_err("metrics: cannot resolve %s: %s", addr, gai_strerror(g));
        return -EINVAL;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        freeaddrinfo(ai);
        return rc;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        rc = -errno;
        freeaddrinfo(ai);
        close(fd);
        return rc;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    *port_out = ntohs(ss.ss_family == AF_INET6
                      ? ((struct sockaddr_in6 *)&ss)->sin6_port
                      : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

int metrics_http_start(const char *addr, metrics_gauge_fn gauges, void *arg,
                       struct metrics_http **out)
{
    struct metrics_http *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->gauges = gauges;
    h->arg = arg;
    int rc = listen_on(addr, &h->lfd, &h->port);
    if (rc < 0) {
        log_err("metrics: cannot listen on %s: %s", addr, strerror(-rc));
        free(h);
        return rc;
    }
    if (pipe2(h->stop_pipe, O_CLOEXEC) < 0) {
        rc = -errno;
        close(h->lfd);
        free(h);
        return rc;
    }
    rc = -pthread_create(&h->thread, NULL, http_thread, h);
    if (rc < 0) {
        close(h->stop_pipe[0]);
        close(h->stop_pipe[1]);
        close(h->lfd);
        free(h);
        return rc;
    }
    log_notice("metrics: serving /metrics on %s (port %u)", addr, h->port);
    *out = h;
    return 0;
}

uint16_t metrics_http_port(const struct metrics_http *h)
{
    return h->port;
}

void metrics_http_stop(struct metrics_http *h)
{
    if (!h)
        return;
    char c = 1;
    while (write(h->stop_pipe[1], &c, 1) < 0 && errno == EINTR)
        ;
    pthread_join(h->thread, NULL);
    close(h->stop_pipe[0]);
    close(h->stop_pipe[1]);
    close(h->lfd);
    free(h);
}
