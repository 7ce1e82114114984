/* Fault points for the crash tests. Compiled in only when WORKPLAN_FAULTS
 * is defined, which the Makefile does for the test build of the API
 * ($(BUILD)/faults/workplan-api), never for bin/. There, fault_point(name)
 * kills the process at once when WORKPLAN_FAULT=name, as a crash would. */
#ifndef WP_FAULT_H
#define WP_FAULT_H

#ifdef WORKPLAN_FAULTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void fault_point(const char *name)
{
	const char *f = getenv("WORKPLAN_FAULT");

	if (f && !strcmp(f, name))
		raise(SIGKILL);
}
#else
#define fault_point(name) ((void)0)
#endif

#endif
