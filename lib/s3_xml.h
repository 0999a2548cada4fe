/* s3_xml.h - just enough XML for S3's answers: ListObjectsV2 results,
 * error documents and bulk-delete results, plus escaping for the
 * bulk-delete request.  Elements are found by name; text is entity-decoded
 * (&amp; &lt; &gt; &quot; &apos; and numeric references). */
#ifndef FLEXFS_S3_XML_H
#define FLEXFS_S3_XML_H

#include <stddef.h>
#include <stdint.h>

#include "s3_url.h"

/* Text of the first <tag>...</tag> inside [xml, xml+len), decoded into a
 * new string in *out; 1 if found, 0 if not, -EINVAL if malformed,
 * -ENOMEM. */
int s3_xml_text(const char *xml, size_t len, const char *tag, char **out);

/* Called for each <Contents> of a listing; nonzero stops. */
typedef int (*s3_xml_key_cb)(void *arg, const char *key, uint64_t size);

/* Parses a ListBucketResult: calls cb for every object, sets *truncated
 * from <IsTruncated> and *next (malloc'd, or NULL) from
 * <NextContinuationToken>.  Returns 0, the callback's nonzero value (the
 * rest is not parsed), -EINVAL if malformed or -ENOMEM. */
int s3_xml_list(const char *xml, size_t len, s3_xml_key_cb cb, void *arg,
                int *truncated, char **next);

/* Counts the <Error> entries of a DeleteResult; the first one's <Code>
 * goes to code (truncated to codelen) when there is one. */
int s3_xml_delete_errors(const char *xml, size_t len, char *code,
                         size_t codelen);

/* Appends s with & < > " ' escaped. */
void s3_xml_escape(struct s3_buf *b, const char *s);

#endif
