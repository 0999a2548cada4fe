/* admin_jobs.h - long admin operations (gc, fsck) run as jobs on their
 * own threads, so a call starts one and returns at once and the tool
 * polls its progress (FAPROC_JOB_STATUS) to draw a progress bar.
 *
 * At most one job of a kind runs at a time; the last few finished jobs
 * are kept for their results. */
#ifndef FLEXFS_ADMIN_JOBS_H
#define FLEXFS_ADMIN_JOBS_H

#include <stdint.h>

#include "flexfs_admin.h"

struct admin_jobs;
struct admin_job;

/* The work: returns 0 or a negative errno (the job's error). */
typedef int (*admin_job_fn)(struct admin_job *j, void *arg);

int admin_jobs_create(struct admin_jobs **out);
/* Asks running jobs to stop, waits for them, frees everything. */
void admin_jobs_destroy(struct admin_jobs *t);

/* Starts fn(arg) on a new thread; free_arg(arg) runs when it is done.
 * -EBUSY if a job of this kind is running (then free_arg runs at once). */
int admin_jobs_start(struct admin_jobs *t, const char *kind,
                     admin_job_fn fn, void *arg, void (*free_arg)(void *),
                     uint64_t *id);

/* Fills out (malloc'd strings, for xdr_free) with the job's state.
 * -ENOENT for an unknown or forgotten job. */
int admin_jobs_status(struct admin_jobs *t, uint64_t id, fa_job_ok *out);

/* For the job's own thread. */
void admin_job_progress(struct admin_job *j, const char *phase,
                        uint64_t done, uint64_t total);
void admin_job_counter(struct admin_job *j, const char *name, uint64_t value);
void admin_job_message(struct admin_job *j, const char *msg);
int admin_job_cancelled(struct admin_job *j);

#endif
