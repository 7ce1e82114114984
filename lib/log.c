/* Logging to stderr, one write(2) per line so threads never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "workplan";
static enum log_level log_threshold = LOG_INFO;

void log_init(const char *program)
{
	const char *lvl = getenv("WORKPLAN_LOG_LEVEL");

	log_program = program;
	if (!lvl)
		return;
	if (!strcmp(lvl, "debug"))
		log_threshold = LOG_DEBUG;
	else if (!strcmp(lvl, "warn"))
		log_threshold = LOG_WARN;
	else if (!strcmp(lvl, "error"))
		log_threshold = LOG_ERROR;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (level < log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level],
		     log_program);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	n += m < 0 ? 0 : m;
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	/* one line per message, whatever text from outside it quotes */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7F)
			line[i] = '?';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
