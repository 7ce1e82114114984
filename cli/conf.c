/* The client's configuration: the service's URL and the member's token,
 * kept by 'workplan login' in $XDG_CONFIG_HOME/workplan/config (mode 600,
 * like ssh's keys: a file others can read is refused, and login writes a
 * new one). WORKPLAN_URL and WORKPLAN_TOKEN override it, each alone. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX 8192

bool conf_url_ok(const char *url, char *out, size_t n)
{
	size_t len = strlen(url);

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	while (len > 0 && url[len - 1] == '/')
		len--;
	if (len >= n || len <= strlen("https://"))
		return false;
	memcpy(out, url, len);
	out[len] = '\0';
	return true;
}

bool conf_token_ok(const char *token)
{
	size_t len = strlen(token);

	if (len == 0 || len > 500)
		return false;
	for (const char *p = token; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

bool conf_path(struct conf *c)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	/* the XDG base directory spec: a relative XDG_CONFIG_HOME is ignored */
	if (xdg && xdg[0] == '/')
		n = snprintf(c->path, sizeof c->path, "%s/workplan/config", xdg);
	else if (home && home[0] == '/')
		n = snprintf(c->path, sizeof c->path, "%s/.config/workplan/config", home);
	else {
		fprintf(stderr, "%s: set HOME or XDG_CONFIG_HOME: the config file lives there\n", cli.prog);
		return false;
	}
	if (n < 0 || (size_t)n >= sizeof c->path) {
		fprintf(stderr, "%s: the config file's path is too long\n", cli.prog);
		return false;
	}
	return true;
}

/* "name = value" lines; '#' starts a comment line. */
static void conf_parse(struct conf *c, char *text, bool *has_url, bool *has_token)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *eq = strchr(line, '='), *name = line, *value, *end;

		if (*line == '#' || !eq)
			continue;
		*eq = '\0';
		value = eq + 1;
		for (end = eq; end > name && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		while (*value == ' ' || *value == '\t')
			value++;
		for (end = value + strlen(value); end > value && (end[-1] == ' ' || end[-1] == '\r');)
			*--end = '\0';
		if (!strcmp(name, "url") && !*has_url)
			*has_url = conf_url_ok(value, c->url, sizeof c->url);
		else if (!strcmp(name, "token") && !*has_token && conf_token_ok(value) &&
			 strlen(value) < sizeof c->token) {
			strcpy(c->token, value);
			*has_token = true;
		}
	}
}

int conf_load(struct conf *c)
{
	const char *url = getenv("WORKPLAN_URL"), *token = getenv("WORKPLAN_TOKEN");
	bool has_url = false, has_token = false;
	struct stat st;
	char *text;
	size_t len;
	int fd;

	memset(c, 0, sizeof *c);
	if (url && *url) {
		if (!conf_url_ok(url, c->url, sizeof c->url)) {
			fprintf(stderr, "%s: WORKPLAN_URL must be an http:// or https:// URL\n", cli.prog);
			return EXIT_USAGE;
		}
		has_url = true;
	}
	if (token && *token) {
		if (!conf_token_ok(token) || strlen(token) >= sizeof c->token) {
			fprintf(stderr, "%s: WORKPLAN_TOKEN is not a token (printable, no spaces)\n", cli.prog);
			return EXIT_USAGE;
		}
		strcpy(c->token, token);
		has_token = true;
	}
	if (has_url && has_token)
		return EXIT_OK;
	if (!conf_path(c))
		return EXIT_USAGE;
	fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, "%s: not signed in: run 'workplan login URL' (or set WORKPLAN_URL "
					"and WORKPLAN_TOKEN)\n", cli.prog);
		else
			fprintf(stderr, "%s: cannot open %s: %s\n", cli.prog, c->path, strerror(errno));
		return EXIT_USAGE;
	}
	/* the token is a password: a file others may read, or that is not
	 * ours, is refused rather than used */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		fprintf(stderr, "%s: %s must be a file of yours that only you can read (mode 600; it is "
				"%03o): run 'chmod 600 %s', or 'workplan login' again\n",
			cli.prog, c->path, (unsigned)(st.st_mode & 0777), c->path);
		close(fd);
		return EXIT_USAGE;
	}
	close(fd);
	text = read_file(c->path, CONF_MAX, &len);
	if (!text)
		return EXIT_USAGE;
	conf_parse(c, text, &has_url, &has_token);
	free(text);
	if (!has_url || !has_token) {
		fprintf(stderr, "%s: %s has no %s: run 'workplan login URL'\n", cli.prog, c->path,
			has_url ? "token" : "url");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* mkdir -p with mode 700 for the folders we make. */
static bool make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			fprintf(stderr, "%s: cannot make %s: %s\n", cli.prog, path, strerror(errno));
			*p = '/';
			return false;
		}
		*p = '/';
	}
	return true;
}

int conf_save(const struct conf *c)
{
	char dir[sizeof c->path], tmp[sizeof c->path + 16];
	FILE *f;
	bool ok;
	int fd;

	snprintf(dir, sizeof dir, "%s", c->path);
	if (!make_dirs(dir))
		return EXIT_USAGE;
	/* a new file made 600 from the start, then renamed over the old one:
	 * never a moment where the token sits in a file others can read */
	snprintf(tmp, sizeof tmp, "%s.XXXXXX", c->path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0600)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", cli.prog, c->path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return EXIT_USAGE;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return EXIT_USAGE;
	}
	fprintf(f, "# workplan command-line client: written by 'workplan login'; keep it mode 600\n"
		   "url = %s\ntoken = %s\n", c->url, c->token);
	ok = !fflush(f) && !fsync(fileno(f));
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, c->path)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", cli.prog, c->path, strerror(errno));
		unlink(tmp);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
