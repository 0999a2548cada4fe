/* s3_cred.h - S3 credentials: an access key id, its secret and an
 * optional session token, from an AWS-style credentials file or the
 * AWS_* environment.  They are never logged and never put in URLs. */
#ifndef FLEXFS_S3_CRED_H
#define FLEXFS_S3_CRED_H

struct s3_cred {
    char *key_id;
    char *secret;
    char *token;                /* NULL without a session token */
};

/* From file when given (profile AWS_PROFILE or "default"), else from
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else from
 * AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials.  0, -ENOKEY when none
 * is configured, -EINVAL for an incomplete set, or the file's error. */
int s3_cred_load(const char *file, struct s3_cred *out);

/* Wipes and frees. */
void s3_cred_free(struct s3_cred *c);

#endif
