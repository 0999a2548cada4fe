/* store_s3.c - the S3 block store, s3://BUCKET/PREFIX?endpoint=..., through
 * libcurl.
 *
 * libcurl signs every request itself (CURLOPT_AWS_SIGV4); we give it what
 * its 7.88 signer does not do for us: a query string already sorted and
 * encoded (s3_query_build) and the payload's SHA-256 in
 * x-amz-content-sha256.  That signed hash is also the body's integrity
 * check: S3 refuses a body whose SHA-256 does not match it.  Content-MD5
 * is sent only where S3 demands it (bulk delete): on 4 MiB blocks it
 * cost as much CPU as the signing hash.
 *
 * Threads: callers run store functions from their own thread pools.  Each
 * call borrows an easy handle from a small pool (a handle keeps its
 * connections alive between calls) and all handles share DNS and TLS
 * sessions through one CURLSH, whose locks are below.
 *
 * Failures: 5xx, 429, timeouts and connection errors are retried with
 * exponential backoff and full jitter, within max_retries attempts and a
 * time budget; then the call fails with -EIO.  404 is -ENOENT, 403 is
 * -EACCES.  Credentials are never logged. */
#include "config.h"
#include "store_impl.h"
#include "s3_cred.h"
#include "s3_url.h"
#include "s3_xml.h"
#include "log.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S3_DEFAULT_RETRIES 6
#define S3_DEFAULT_POOL 16
#define S3_BACKOFF_BASE_MS 50
#define S3_BACKOFF_CAP_MS 2000
#define S3_RETRY_BUDGET_MS 30000    /* no new attempt after this long */
#define S3_CONNECT_TIMEOUT_MS 5000
#define S3_STALL_BYTES 1024         /* slower than this ... */
#define S3_STALL_SECONDS 15         /* ... for this long is a timeout */
#define S3_MAX_RESPONSE (16u << 20) /* listings, errors, delete results */
#define S3_DELETE_BATCH 1000
#define EMPTY_SHA256 \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_store {
    struct store base;
    struct s3_loc loc;
    struct s3_cred cred;
    char sigv4[96];             /* "aws:amz:REGION:s3" */
    unsigned max_retries;
    unsigned pool_max;
    CURLSH *share;
    pthread_mutex_t share_lock[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;  /* guards pool and npool */
    CURL **pool;
    size_t npool;
};

static struct s3_store *s3_of(struct store *s)
{
    return (struct s3_store *)s;
}

/* --- one process-wide init of libcurl -------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;   /* written once under curl_once */

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    /* A TLS write to a connection the server has closed can raise
     * SIGPIPE, and libcurl leaves SIGPIPE alone under CURLOPT_NOSIGNAL
     * (which threads require).  A store must not kill its host process
     * for that, so an untouched SIGPIPE is ignored. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
        !(sa.sa_flags & SA_SIGINFO))
        signal(SIGPIPE, SIG_IGN);
}

/* --- digests ----------------------------------------------------------- */

static int digest(const char *name, const void *data, size_t len,
                  unsigned char *out, unsigned *outlen)
{
    const EVP_MD *md = EVP_get_digestbyname(name);
    if (!md || !EVP_Digest(data, len, out, outlen, md, NULL))
        return -EIO;
    return 0;
}

/* Hex SHA-256 (65 bytes) and, when md5_b64 is not NULL, base64 MD5 (25
 * bytes) of a body. */
static int body_digests(const void *data, size_t len, char *sha_hex,
                        char *md5_b64)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n;
    if (digest("SHA256", data ? data : "", len, d, &n) < 0)
        return -EIO;
    for (unsigned i = 0; i < n; i++)
        sprintf(sha_hex + 2 * i, "%02x", d[i]);
    if (!md5_b64)
        return 0;
    if (digest("MD5", data ? data : "", len, d, &n) < 0)
        return -EIO;
    EVP_EncodeBlock((unsigned char *)md5_b64, d, (int)n);
    return 0;
}

/* --- the handle pool and the share ---------------------------------- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
                       void *arg)
{
    struct s3_store *s = arg;
    pthread_mutex_lock(&s->share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    struct s3_store *s = arg;
    pthread_mutex_unlock(&s->share_lock[data]);
}

static CURL *handle_get(struct s3_store *s)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->npool)
        h = s->pool[--s->npool];
    pthread_mutex_unlock(&s->pool_lock);
    return h ? h : curl_easy_init();
}

/* Keeps the handle (and its live connections) for the next call unless
 * the pool is full.  A connection broken by a failed exchange is noticed
 * and replaced by curl itself. */
static void handle_put(struct s3_store *s, CURL *h)
{
    pthread_mutex_lock(&s->pool_lock);
    if (s->npool < s->pool_max) {
        s->pool[s->npool++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->pool_lock);
    if (h)
        curl_easy_cleanup(h);
}

/* --- one HTTP exchange ------------------------------------------------ */

struct xfer {
    CURL *h;
    long status;                /* 0 until the first body byte */
    /* Upload. */
    const char *body;
    size_t body_len, body_pos;
    /* Download of object data into the caller's buffer. */
    char *sink;
    size_t sink_len, sink_got;
    uint64_t skip;              /* bytes before the range (server sent 200) */
    uint64_t want_off;
    int full;                   /* sink filled from a 200: stop early */
    /* Anything else: listings, delete results, error documents. */
    struct s3_buf resp;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nmemb;
    if (x->status == 0) {
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
        /* A server that ignores Range answers 200 with the whole object. */
        x->skip = x->status == 200 ? x->want_off : 0;
    }
    if (x->sink && (x->status == 200 || x->status == 206)) {
        size_t p = 0;
        if (x->skip) {
            p = x->skip < n ? (size_t)x->skip : n;
            x->skip -= p;
        }
        size_t room = x->sink_len - x->sink_got;
        size_t c = n - p < room ? n - p : room;
        memcpy(x->sink + x->sink_got, ptr + p, c);
        x->sink_got += c;
        if (x->status == 200 && x->sink_got == x->sink_len && x->sink_len) {
            x->full = 1;
            return 0;           /* the rest is of no use: abort */
        }
        return n;
    }
    if (x->resp.len + n > S3_MAX_RESPONSE)
        return 0;
    s3_buf_add(&x->resp, ptr, n);
    return x->resp.oom ? 0 : n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
    struct xfer *x = arg;
    size_t n = size * nitems, left = x->body_len - x->body_pos;
    if (n > left)
        n = left;
    memcpy(buf, x->body + x->body_pos, n);
    x->body_pos += n;
    return n;
}

static int on_seek(void *arg, curl_off_t off, int origin)
{
    struct xfer *x = arg;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->body_len)
        return CURL_SEEKFUNC_FAIL;
    x->body_pos = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

struct req {
    const char *method;         /* GET HEAD PUT POST DELETE */
    const char *what;           /* for messages: the key or "list" */
    char *url;
    const void *body;
    size_t body_len;
    const char *content_type;
    int want_md5;               /* S3 requires Content-MD5 (bulk delete) */
    const char *range;          /* "bytes=A-B" or NULL */
    char *sink;                 /* GET object data */
    size_t sink_len;
    uint64_t off;
    struct store_objstat *stat; /* HEAD: size and Last-Modified go here */
};

/* Outcome of one attempt. */
enum verdict { OK, RETRY, FAIL };

static int curl_retryable(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return 1;
    default:
        return 0;
    }
}

/* The S3 error code of an error document, or "". */
static void error_code(const struct xfer *x, char *code, size_t len)
{
    char *c = NULL;
    code[0] = '\0';
    if (x->resp.len &&
        s3_xml_text(x->resp.p, x->resp.len, "Code", &c) == 1 && c) {
        snprintf(code, len, "%s", c);
    }
    free(c);
}

/* Maps a finished HTTP answer to a verdict and, when final, an errno. */
static enum verdict judge_status(const struct req *r, struct xfer *x,
                                 long status, int *err)
{
    char code[64];
    *err = 0;
    if (status >= 200 && status < 300)
        return OK;
    error_code(x, code, sizeof(code));
    if (status == 404) {
        if (strcmp(code, "NoSuchBucket") == 0) {
            log_err("s3: %s %s: the bucket does not exist", r->method,
                    r->what);
            *err = -EIO;
            return FAIL;
        }
        *err = -ENOENT;
        return FAIL;
    }
    if (status == 416 && r->sink) {
        return OK;              /* range past the end: nothing there */
    }
    if (status == 501) {
        *err = -EOPNOTSUPP;     /* e.g. no bulk delete: callers fall back */
        return FAIL;
    }
    if (status == 429 || status >= 500 ||
        (status == 400 && (strcmp(code, "RequestTimeout") == 0 ||
                           strcmp(code, "BadDigest") == 0 ||
                           strcmp(code, "XAmzContentSHA256Mismatch") == 0)))
        return RETRY;
    if (status == 403) {
        log_err("s3: %s %s: access denied (%s): check the credentials and "
                "the bucket policy", r->method, r->what,
                code[0] ? code : "403");
        *err = -EACCES;
        return FAIL;
    }
    if (status == 301 || status == 307 || status == 308 ||
        strcmp(code, "PermanentRedirect") == 0 ||
        strcmp(code, "AuthorizationHeaderMalformed") == 0) {
        log_err("s3: %s %s: %ld %s: wrong region or endpoint for the bucket",
                r->method, r->what, status, code);
        *err = -EIO;
        return FAIL;
    }
    log_err("s3: %s %s: HTTP %ld %s", r->method, r->what, status, code);
    *err = status == 400 ? -EINVAL : -EIO;
    return FAIL;
}

/* The request's headers: payload hash (always: SigV4 for S3 needs it),
 * body checksum and type, range, session token.  curl signs them all. */
static struct curl_slist *make_headers(const struct s3_store *s,
                                       const struct req *r, const char *sha,
                                       const char *md5)
{
    char line[160];
    struct curl_slist *l = NULL, *t;
#define ADD(str) do { if (!(t = curl_slist_append(l, (str)))) goto oom; \
                      l = t; } while (0)
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
    ADD(line);
    if (r->body && r->want_md5) {
        snprintf(line, sizeof(line), "Content-MD5: %s", md5);
        ADD(line);
    }
    if (r->body) {
        snprintf(line, sizeof(line), "Content-Type: %s",
                 r->content_type ? r->content_type :
                 "application/octet-stream");
        ADD(line);
    }
    if (r->range) {
        snprintf(line, sizeof(line), "Range: %s", r->range);
        ADD(line);
    }
    if (s->cred.token) {
        size_t n = strlen(s->cred.token) + 32;
        char *tok = malloc(n);
        if (!tok)
            goto oom;
        snprintf(tok, n, "x-amz-security-token: %s", s->cred.token);
        t = curl_slist_append(l, tok);
        explicit_bzero(tok, n);
        free(tok);
        if (!t)
            goto oom;
        l = t;
    }
#undef ADD
    return l;
oom:
    curl_slist_free_all(l);
    return NULL;
}

/* Sets up the handle for one attempt of r. */
static void setup(struct s3_store *s, CURL *h, const struct req *r,
                  struct xfer *x, struct curl_slist *hdrs)
{
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_SHARE, s->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
    curl_easy_setopt(h, CURLOPT_USERNAME, s->cred.key_id);
    curl_easy_setopt(h, CURLOPT_PASSWORD, s->cred.secret);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)S3_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)S3_STALL_BYTES);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)S3_STALL_SECONDS);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Blocks are megabytes: bigger buffers mean fewer callbacks. */
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "flexfs/" PACKAGE_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    /* TLS: peer and host verified against the system CA store (curl's
     * default paths); nothing here turns that off. */
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        if (r->stat)
            curl_easy_setopt(h, CURLOPT_FILETIME, 1L);
    } else if (strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, x);
    } else if (strcmp(r->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)r->body_len);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Full jitter: a random wait in [0, min(cap, base * 2^attempt)].  The
 * generator state is per thread, so no lock is needed. */
static unsigned backoff_ms(unsigned attempt)
{
    static __thread uint64_t state;
    if (state == 0)
        state = now_ms() ^ ((uint64_t)(uintptr_t)&state << 16) ^
                (uint64_t)getpid();
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    uint64_t cap = S3_BACKOFF_BASE_MS << (attempt < 10 ? attempt : 10);
    if (cap > S3_BACKOFF_CAP_MS)
        cap = S3_BACKOFF_CAP_MS;
    return (unsigned)(S3_BACKOFF_BASE_MS / 2 + state % (cap + 1));
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Judges one finished attempt: OK, RETRY or FAIL with *err set; why
 * gets a short reason for messages. */
static enum verdict judge(const struct req *r, struct xfer *x, CURLcode c,
                          long status, int *err, char *why, size_t whylen)
{
    if (c == CURLE_WRITE_ERROR && x->full)
        c = CURLE_OK;           /* we cut a too-long answer off ourselves */
    if (c == CURLE_OK) {
        snprintf(why, whylen, "HTTP %ld", status);
        return judge_status(r, x, status, err);
    }
    snprintf(why, whylen, "%s", curl_easy_strerror(c));
    if (curl_retryable(c))
        return RETRY;
    log_err("s3: %s %s: %s", r->method, r->what, why);
    *err = c == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
    return FAIL;
}

/* Size and Last-Modified of a HEAD answer (-1: the server sent none). */
static void object_stat(CURL *h, struct store_objstat *st)
{
    curl_off_t len = -1, when = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
    curl_easy_getinfo(h, CURLINFO_FILETIME_T, &when);
    st->size = len > 0 ? (uint64_t)len : 0;
    st->mtime = when >= 0 ? (int64_t)when : -1;
}

/* Runs r with retries.  On success the response body (when not sunk into
 * r->sink) is left in *resp for the caller to parse and free; *got is
 * what went into r->sink. */
static int perform(struct s3_store *s, const struct req *r,
                   struct s3_buf *resp, size_t *got)
{
    char sha[65] = EMPTY_SHA256, md5[32] = "", why[128];
    if (r->body && body_digests(r->body, r->body_len, sha,
                                r->want_md5 ? md5 : NULL) < 0)
        return -EIO;
    struct curl_slist *hdrs = make_headers(s, r, sha, md5);
    CURL *h = hdrs ? handle_get(s) : NULL;
    if (!h) {
        curl_slist_free_all(hdrs);
        return -ENOMEM;
    }
    uint64_t start = now_ms();
    int rc = 0;
    for (unsigned attempt = 0; ; attempt++) {
        struct xfer x = {.h = h, .body = r->body, .body_len = r->body_len,
                         .sink = r->sink, .sink_len = r->sink_len,
                         .want_off = r->off};
        setup(s, h, r, &x, hdrs);
        CURLcode c = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        enum verdict v = judge(r, &x, c, status, &rc, why, sizeof(why));
        log_debug("s3: %s %s: %s after %llu ms", r->method, r->what, why,
                  (unsigned long long)(now_ms() - start));
        if (v == OK) {
            if (r->stat)
                object_stat(h, r->stat);
            if (got)
                *got = status == 416 ? 0 : x.sink_got;
            if (resp)
                *resp = x.resp;
            else
                s3_buf_free(&x.resp);
            break;
        }
        s3_buf_free(&x.resp);
        if (v == FAIL)
            break;
        unsigned wait = backoff_ms(attempt);
        if (attempt >= s->max_retries ||
            now_ms() - start + wait > S3_RETRY_BUDGET_MS) {
            log_err("s3: %s %s: giving up after %u attempts: %s", r->method,
                    r->what, attempt + 1, why);
            rc = -EIO;
            break;
        }
        log_info("s3: %s %s: %s, retrying in %u ms", r->method, r->what, why,
                 wait);
        sleep_ms(wait);
    }
    handle_put(s, h);
    curl_slist_free_all(hdrs);
    return rc;
}

/* --- the store operations --------------------------------------------- */

static int s3_put(struct store *st, const char *key, const void *data,
                  size_t len)
{
    struct s3_store *s = s3_of(st);
    struct req r = {.method = "PUT", .what = key, .body = data ? data : "",
                    .body_len = len};
    if (!(r.url = s3_loc_url(&s->loc, key, NULL)))
        return -ENOMEM;
    int rc = perform(s, &r, NULL, NULL);
    free(r.url);
    return rc;
}

static int s3_get(struct store *st, const char *key, uint64_t off,
                  void *buf, size_t len, size_t *got)
{
    struct s3_store *s = s3_of(st);
    char range[64];
    char one[2];
    struct req r = {.method = "GET", .what = key, .off = off};
    if (len == 0) {
        r.method = "HEAD";      /* only whether it is there */
    } else {
        /* Always an A-B range with A < B: some servers mishandle
         * "bytes=A-A", so a one-byte read asks for two. */
        uint64_t last = off + (len > 1 ? len - 1 : 1);
        if (last < off)
            return -EINVAL;
        snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off,
                 last);
        r.range = range;
        r.sink = len > 1 ? buf : one;
        r.sink_len = len > 1 ? len : sizeof(one);
    }
    if (!(r.url = s3_loc_url(&s->loc, key, NULL)))
        return -ENOMEM;
    size_t n = 0;
    int rc = perform(s, &r, NULL, &n);
    free(r.url);
    if (rc == 0 && len == 1 && n > 0) {
        *(char *)buf = one[0];
        n = 1;
    }
    *got = rc == 0 ? n : 0;
    return rc;
}

static int s3_del(struct store *st, const char *key)
{
    struct s3_store *s = s3_of(st);
    struct req r = {.method = "DELETE", .what = key};
    if (!(r.url = s3_loc_url(&s->loc, key, NULL)))
        return -ENOMEM;
    int rc = perform(s, &r, NULL, NULL);
    free(r.url);
    return rc == -ENOENT ? 0 : rc;
}

static int s3_stat(struct store *st, const char *key,
                   struct store_objstat *out)
{
    struct s3_store *s = s3_of(st);
    struct req r = {.method = "HEAD", .what = key, .stat = out};
    if (!(r.url = s3_loc_url(&s->loc, key, NULL)))
        return -ENOMEM;
    int rc = perform(s, &r, NULL, NULL);
    free(r.url);
    return rc;
}

/* One bulk delete of up to S3_DELETE_BATCH keys. */
static int delete_batch(struct s3_store *s, const char *const *keys,
                        size_t n)
{
    struct s3_buf body = {0};
    s3_buf_adds(&body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<Quiet>true</Quiet>");
    for (size_t i = 0; i < n; i++) {
        s3_buf_adds(&body, "<Object><Key>");
        s3_xml_escape(&body, s->loc.prefix);
        s3_xml_escape(&body, keys[i]);
        s3_buf_adds(&body, "</Key></Object>");
    }
    s3_buf_adds(&body, "</Delete>");
    const struct s3_param q = {"delete", ""};
    char *query = s3_query_build(&q, 1);
    struct req r = {.method = "POST", .what = "bulk delete",
                    .content_type = "application/xml", .want_md5 = 1};
    if (body.oom || !query || !(r.url = s3_loc_url(&s->loc, NULL, query))) {
        s3_buf_free(&body);
        free(query);
        return -ENOMEM;
    }
    r.body = body.p;
    r.body_len = body.len;
    struct s3_buf resp = {0};
    int rc = perform(s, &r, &resp, NULL);
    if (rc == 0) {
        char code[64];
        int bad = s3_xml_delete_errors(resp.p ? resp.p : "", resp.len, code,
                                       sizeof(code));
        if (bad) {
            log_err("s3: bulk delete: %d of %zu keys failed (%s)", bad, n,
                    code);
            rc = strcmp(code, "AccessDenied") == 0 ? -EACCES : -EIO;
        }
    }
    s3_buf_free(&resp);
    s3_buf_free(&body);
    free(query);
    free(r.url);
    return rc;
}

static int s3_del_many(struct store *st, const char *const *keys, size_t n)
{
    struct s3_store *s = s3_of(st);
    int rc = 0;
    for (size_t i = 0; i < n; i += S3_DELETE_BATCH) {
        size_t m = n - i < S3_DELETE_BATCH ? n - i : S3_DELETE_BATCH;
        int r = delete_batch(s, keys + i, m);
        if (r == -EINVAL || r == -EOPNOTSUPP) {
            /* A server without bulk delete: one by one. */
            r = 0;
            for (size_t j = i; j < i + m; j++) {
                int d = s3_del(st, keys[j]);
                if (d < 0 && r == 0)
                    r = d;
            }
        }
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

struct list_ctx {
    const struct s3_store *s;
    store_list_cb cb;
    void *arg;
    int stopped;                /* the callback said stop (or failed) */
};

/* Strips the store's prefix from each listed key. */
static int list_one(void *arg, const char *key, uint64_t size)
{
    struct list_ctx *c = arg;
    size_t pl = strlen(c->s->loc.prefix);
    if (strncmp(key, c->s->loc.prefix, pl) != 0 || !key[pl])
        return 0;
    int r = c->cb(c->arg, key + pl, size);
    if (r)
        c->stopped = 1;
    return r > 0 ? 1 : r;
}

static int s3_list(struct store *st, const char *prefix, store_list_cb cb,
                   void *arg)
{
    struct s3_store *s = s3_of(st);
    struct list_ctx ctx = {s, cb, arg, 0};
    char maxkeys[16], *token = NULL;
    snprintf(maxkeys, sizeof(maxkeys), "%u", s->loc.max_keys);
    size_t fl = strlen(s->loc.prefix) + strlen(prefix) + 1;
    char *full = malloc(fl);
    if (!full)
        return -ENOMEM;
    snprintf(full, fl, "%s%s", s->loc.prefix, prefix);
    int rc = 0;
    for (int page = 0; ; page++) {
        struct s3_param q[4] = {
            {"list-type", "2"}, {"max-keys", maxkeys}, {"prefix", full},
            {"continuation-token", token},
        };
        char *query = s3_query_build(q, token ? 4 : 3);
        struct req r = {.method = "GET", .what = "list"};
        if (!query || !(r.url = s3_loc_url(&s->loc, NULL, query))) {
            free(query);
            rc = -ENOMEM;
            break;
        }
        struct s3_buf resp = {0};
        rc = perform(s, &r, &resp, NULL);
        free(query);
        free(r.url);
        char *prev = token;
        token = NULL;
        int truncated = 0;
        if (rc == 0)
            rc = s3_xml_list(resp.p ? resp.p : "", resp.len, list_one, &ctx,
                             &truncated, &token);
        s3_buf_free(&resp);
        if (rc < 0 && rc != -EIO && !ctx.stopped)
            log_err("s3: list: malformed ListObjectsV2 answer (page %d)",
                    page + 1);
        /* A server that hands back the same token would loop forever. */
        if (rc == 0 && truncated && prev && strcmp(prev, token) == 0) {
            log_err("s3: list: the server repeats its continuation token");
            rc = -EIO;
        }
        free(prev);
        if (rc != 0 || !truncated)
            break;
    }
    free(token);
    free(full);
    return rc > 0 ? 0 : rc;
}

static void s3_close(struct store *st)
{
    struct s3_store *s = s3_of(st);
    for (size_t i = 0; i < s->npool; i++)
        curl_easy_cleanup(s->pool[i]);
    free(s->pool);
    if (s->share)
        curl_share_cleanup(s->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&s->share_lock[i]);
    pthread_mutex_destroy(&s->pool_lock);
    s3_cred_free(&s->cred);
    s3_loc_free(&s->loc);
    free(s);
}

static int s3_open(const char *url, const struct store_opts *opts,
                   struct store **out)
{
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return -EIO;
    struct s3_store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->base.ops = &store_s3_ops;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s->share_lock[i], NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    int rc = s3_loc_parse(url, &s->loc);
    if (rc < 0)
        goto fail;
    rc = s3_cred_load(opts->credentials_file, &s->cred);
    if (rc < 0) {
        rc = -EACCES;
        goto fail;
    }
    snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->loc.region);
    s->max_retries = opts->max_retries ? opts->max_retries :
                     S3_DEFAULT_RETRIES;
    s->pool_max = opts->threads ? opts->threads : S3_DEFAULT_POOL;
    rc = -ENOMEM;
    if (!(s->pool = calloc(s->pool_max, sizeof(*s->pool))))
        goto fail;
    if (!(s->share = curl_share_init()))
        goto fail;
    curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    char shown[512];
    store_url_redact(url, shown, sizeof(shown));
    log_info("s3 store %s: %s-style at %s, region %s, %u connections",
             shown, s->loc.virtual_style ? "virtual-host" : "path",
             s->loc.endpoint, s->loc.region, s->pool_max);
    *out = &s->base;
    return 0;
fail:
    s3_close(&s->base);
    return rc;
}

const struct store_ops store_s3_ops = {
    .scheme = "s3",
    .open = s3_open,
    .put = s3_put,
    .get = s3_get,
    .del = s3_del,
    .del_many = s3_del_many,
    .list = s3_list,
    .statfs = NULL,
    .close = s3_close,
    .stat = s3_stat,
};
