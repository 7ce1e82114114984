/* noop jobs: they measure the queue itself (make bench) and let the tests
 * exercise leases, retries and crashes. Payload: {"sleep_ms": n} to take
 * that long (renewing the lease), {"fail": true} to fail every attempt. */
#include "util.h"
#include "worker.h"

#include <stdio.h>
#include <unistd.h>

int job_noop(struct worker *w, char *err, size_t n)
{
	json_int_t sleep_ms = json_integer_value(json_object_get(w->job->payload, "sleep_ms"));
	long long until = now_us() + sleep_ms * 1000;

	while (now_us() < until) {
		usleep(10000);
		worker_tick(w);
	}
	if (json_is_true(json_object_get(w->job->payload, "fail"))) {
		snprintf(err, n, "failed on purpose (attempt %d)", w->job->attempt);
		return -1;
	}
	return 0;
}
