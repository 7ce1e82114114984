/* workplan login URL: the token comes from standard input (a prompt
 * without echo at a terminal), never from the command line, where shell
 * history and ps would show it; it is checked with GET /v1/me, then kept
 * with the URL in the config file (conf.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char login_help[] =
	"Usage: workplan login URL\n\n"
	"Reads your API token from standard input (at a terminal: a prompt that does not\n"
	"echo), checks it with the service at URL, and keeps both in\n"
	"$XDG_CONFIG_HOME/workplan/config (default ~/.config/workplan/config), mode 600.\n"
	"The token is never taken from the command line. Make one in the web app\n"
	"(POST /v1/me/tokens) or on the server with 'workplan-admin token create'.\n\n"
	"  --json   print the service's account of you (GET /v1/me) as is\n"
	"Example: workplan login https://workplan.example.org < token.txt\n";

/* One line from standard input into buf, without its end of line. */
static bool read_token(char *buf, size_t n)
{
	bool tty = isatty(0);
	struct termios old, quiet;
	bool ok;
	size_t len;

	if (tty) {
		fprintf(stderr, "Token: ");
		tcgetattr(0, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSAFLUSH, &quiet);
	}
	ok = fgets(buf, (int)n, stdin) != NULL;
	if (tty) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!ok)
		return false;
	len = strcspn(buf, "\r\n");
	/* a line longer than buf is no token of ours */
	if (buf[len] == '\0' && !feof(stdin))
		return false;
	buf[len] = '\0';
	return true;
}

int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct conf c = { 0 };
	struct answer a;
	char line[1024], b[3][32];
	int o, rc;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			fputs(login_help, stdout);
			return EXIT_OK;
		} else if (o == 'j') {
			cli.json = true;
		} else {
			return opt_bad("login", argv);
		}
	}
	if (optind == argc)
		return usage_error("login", "the service's URL is missing");
	if (argc - optind > 1)
		return usage_error("login", "give only the URL: the token is read from standard input, "
					    "never from the command line (shell history and ps would show it)");
	if (!conf_url_ok(argv[optind], c.url, sizeof c.url))
		return usage_error("login", "'%s' is not an http:// or https:// URL", argv[optind]);
	if (!conf_path(&c))
		return EXIT_USAGE;
	if (!read_token(line, sizeof line) || !conf_token_ok(line)) {
		fprintf(stderr, "%s login: no token on standard input (one line, printable, no spaces)\n",
			cli.prog);
		return EXIT_USAGE;
	}
	strcpy(c.token, line);
	memset(line, 0, sizeof line);
	rc = client_get(&c, "/v1/me", &a);
	if (rc == EXIT_REFUSED)
		rc = client_problem(&a, "login", NULL);
	if (rc == EXIT_OK)
		rc = conf_save(&c);
	if (rc == EXIT_OK) {
		if (cli.json)
			client_print_json(&a);
		else
			printf("Signed in to %s as %s (%s, %s); kept in %s\n", c.url,
			       jtext(a.json, "name", b[0]), jtext(a.json, "role", b[1]),
			       jtext(a.json, "entity", b[2]), c.path);
	}
	answer_free(&a);
	memset(&c, 0, sizeof c);
	return rc;
}
