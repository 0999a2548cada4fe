/* s3_cred.c - S3 credentials from a credentials file or the environment
 * (see s3_cred.h).  Messages name where credentials were looked for,
 * never their values. */
#include "config.h"
#include "s3_cred.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void s3_cred_free(struct s3_cred *c)
{
    wipe_free(c->key_id);
    wipe_free(c->secret);
    wipe_free(c->token);
    c->key_id = c->secret = c->token = NULL;
}

struct file_scan {
    const char *profile;
    struct s3_cred *cred;
    int nomem;
};

static int replace(char **slot, const char *value)
{
    char *v = strdup(value);
    if (!v)
        return -ENOMEM;
    wipe_free(*slot);
    *slot = v;
    return 0;
}

static int file_key(void *arg, const char *section, const char *key,
                    const char *value, int lineno)
{
    struct file_scan *fs = arg;
    /* ~/.aws/config style names its sections "profile NAME". */
    const char *sec = section;
    if (strncmp(sec, "profile ", 8) == 0)
        sec += 8;
    if (strcmp(sec, fs->profile) != 0)
        return 0;
    if (strcmp(key, "aws_access_key_id") == 0)
        return replace(&fs->cred->key_id, value);
    if (strcmp(key, "aws_secret_access_key") == 0)
        return replace(&fs->cred->secret, value);
    if (strcmp(key, "aws_session_token") == 0)
        return replace(&fs->cred->token, value);
    return 0;
}

static int from_file(const char *path, struct s3_cred *c)
{
    const char *profile = getenv("AWS_PROFILE");
    struct file_scan fs = {.profile = profile && *profile ? profile : "default",
                           .cred = c};
    int rc = conf_parse_file(path, file_key, &fs);
    if (rc < 0) {
        log_err("s3: cannot read credentials file %s: %s", path,
                strerror(-rc));
        return rc;
    }
    if (!c->key_id || !c->secret || !*c->key_id || !*c->secret) {
        log_err("s3: credentials file %s has no aws_access_key_id and "
                "aws_secret_access_key in profile [%s]", path, fs.profile);
        return -EINVAL;
    }
    return 0;
}

static int from_env(struct s3_cred *c)
{
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if ((!id || !*id) && (!secret || !*secret))
        return -ENOKEY;
    if (!id || !*id || !secret || !*secret) {
        log_err("s3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be "
                "set together");
        return -EINVAL;
    }
    if (replace(&c->key_id, id) || replace(&c->secret, secret) ||
        (token && *token && replace(&c->token, token)))
        return -ENOMEM;
    return 0;
}

int s3_cred_load(const char *file, struct s3_cred *out)
{
    *out = (struct s3_cred){0};
    int rc;
    if (file && *file) {
        rc = from_file(file, out);
    } else {
        rc = from_env(out);
        if (rc == -ENOKEY) {
            char path[4096];
            const char *shared = getenv("AWS_SHARED_CREDENTIALS_FILE");
            const char *home = getenv("HOME");
            if (shared && *shared)
                snprintf(path, sizeof(path), "%s", shared);
            else if (home && *home)
                snprintf(path, sizeof(path), "%s/.aws/credentials", home);
            else
                path[0] = '\0';
            if (path[0] && access(path, R_OK) == 0)
                rc = from_file(path, out);
        }
        if (rc == -ENOKEY)
            log_err("s3: no credentials: set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, or name a credentials file");
    }
    if (rc < 0)
        s3_cred_free(out);
    return rc;
}
