/* Configuration from the environment. */
#include "config.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

START_TEST(listen_addresses_parse)
{
	char host[64];
	unsigned short port;
	const char *err;

	ck_assert(config_parse_listen("127.0.0.1:8080", host, sizeof host, &port, &err));
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 8080);
	ck_assert(config_parse_listen("[::1]:9000", host, sizeof host, &port, &err));
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 9000);
	ck_assert(config_parse_listen(":80", host, sizeof host, &port, &err));
	ck_assert_str_eq(host, "0.0.0.0");
}
END_TEST

START_TEST(bad_listen_addresses_say_why)
{
	char host[64];
	unsigned short port;
	const char *err = NULL;

	ck_assert(!config_parse_listen("localhost", host, sizeof host, &port, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert(!config_parse_listen("127.0.0.1:http", host, sizeof host, &port, &err));
	ck_assert(!config_parse_listen("127.0.0.1:70000", host, sizeof host, &port, &err));
	ck_assert(!config_parse_listen("127.0.0.1:", host, sizeof host, &port, &err));
	ck_assert(!config_parse_listen("[::1:80", host, sizeof host, &port, &err));
}
END_TEST

START_TEST(defaults_and_overrides_from_environment)
{
	struct config c;
	char err[256];

	unsetenv("WORKPLAN_LISTEN");
	unsetenv("WORKPLAN_THREADS");
	unsetenv("WORKPLAN_RATE_LIMIT");
	unsetenv("WORKPLAN_MAX_PER_IP");
	unsetenv("WORKPLAN_MAX_CONNECTIONS");
	unsetenv("WORKPLAN_IDLE_TIMEOUT_S");
	unsetenv("WORKPLAN_INPUTS_PER_HOUR");
	setenv("DATABASE_URL", "", 1);
	ck_assert(config_load(&c, err, sizeof err));
	ck_assert_str_eq(c.listen_host, "127.0.0.1");
	ck_assert_uint_eq(c.listen_port, 8080);
	ck_assert_ptr_null(c.database_url);
	/* the limits docs/security.md promises */
	ck_assert_int_eq(c.rate_limit, 100);
	ck_assert_int_eq(c.max_per_ip, 128);
	ck_assert_int_eq(c.max_connections, 1024);
	ck_assert_int_eq(c.idle_timeout_s, 15);
	ck_assert_int_eq(c.inputs_per_hour, 5);
	setenv("WORKPLAN_LISTEN", "0.0.0.0:9090", 1);
	setenv("WORKPLAN_THREADS", "8", 1);
	setenv("DATABASE_URL", "postgresql:///workplan", 1);
	ck_assert(config_load(&c, err, sizeof err));
	ck_assert_uint_eq(c.listen_port, 9090);
	ck_assert_int_eq(c.threads, 8);
	ck_assert_str_eq(c.database_url, "postgresql:///workplan");
}
END_TEST

START_TEST(bad_numbers_name_the_variable)
{
	struct config c;
	char err[256];

	setenv("WORKPLAN_THREADS", "lots", 1);
	ck_assert(!config_load(&c, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "WORKPLAN_THREADS"));
	setenv("WORKPLAN_THREADS", "0", 1);
	ck_assert(!config_load(&c, err, sizeof err));
}
END_TEST

START_TEST(the_retention_period_defaults_to_30_days)
{
	struct config c;
	char err[256];

	unsetenv("WORKPLAN_THREADS");
	unsetenv("WORKPLAN_RETENTION_DAYS");
	ck_assert(config_load(&c, err, sizeof err));
	ck_assert_int_eq(c.retention_days, 30);
	setenv("WORKPLAN_RETENTION_DAYS", "90", 1);
	ck_assert(config_load(&c, err, sizeof err));
	ck_assert_int_eq(c.retention_days, 90);
	setenv("WORKPLAN_RETENTION_DAYS", "0", 1);
	ck_assert(!config_load(&c, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "WORKPLAN_RETENTION_DAYS"));
	unsetenv("WORKPLAN_RETENTION_DAYS");
}
END_TEST

START_TEST(the_public_url_gives_links_and_the_origin)
{
	char url[512], origin[300];
	const char *err = NULL;
	struct config c;
	char e[256];

	ck_assert(config_parse_public_url("https://Workplan.example.org:443/app/", url, sizeof url,
					  origin, sizeof origin, &err));
	ck_assert_str_eq(url, "https://Workplan.example.org:443/app");
	ck_assert_str_eq(origin, "https://workplan.example.org");
	ck_assert(config_parse_public_url("http://127.0.0.1:8080", url, sizeof url, origin,
					  sizeof origin, &err));
	ck_assert_str_eq(origin, "http://127.0.0.1:8080");
	ck_assert(!config_parse_public_url("ftp://x", url, sizeof url, origin, sizeof origin, &err));
	ck_assert(!config_parse_public_url("http://", url, sizeof url, origin, sizeof origin, &err));
	ck_assert(!config_parse_public_url("http://a@b/", url, sizeof url, origin, sizeof origin, &err));
	ck_assert(!config_parse_public_url("http://x/a?b", url, sizeof url, origin, sizeof origin, &err));
	ck_assert(!config_parse_public_url("http://x/a\r\nb", url, sizeof url, origin, sizeof origin,
					   &err));
	/* the defaults of SPEC 10 and 11 */
	unsetenv("WORKPLAN_THREADS");
	unsetenv("WORKPLAN_PUBLIC_URL");
	unsetenv("WORKPLAN_SMTP_URL");
	unsetenv("WORKPLAN_MAIL_FROM");
	unsetenv("WORKPLAN_WEBHOOK_ALLOW_PRIVATE");
	ck_assert(config_load(&c, e, sizeof e));
	ck_assert_str_eq(c.public_url, "http://127.0.0.1:8080");
	ck_assert(!c.public_https);
	ck_assert_ptr_null(c.smtp_url);
	ck_assert(!c.webhook_allow_private);
	setenv("WORKPLAN_PUBLIC_URL", "https://wp.example.org/", 1);
	setenv("WORKPLAN_WEBHOOK_ALLOW_PRIVATE", "1", 1);
	ck_assert(config_load(&c, e, sizeof e));
	ck_assert(c.public_https);
	ck_assert(c.webhook_allow_private);
	setenv("WORKPLAN_MAIL_FROM", "Workplan <wp@example.org>\r\nBcc: x@y", 1);
	ck_assert(!config_load(&c, e, sizeof e));
	ck_assert_ptr_nonnull(strstr(e, "WORKPLAN_MAIL_FROM"));
	unsetenv("WORKPLAN_MAIL_FROM");
	setenv("WORKPLAN_SMTP_URL", "http://mail", 1);
	ck_assert(!config_load(&c, e, sizeof e));
	unsetenv("WORKPLAN_SMTP_URL");
	unsetenv("WORKPLAN_PUBLIC_URL");
	unsetenv("WORKPLAN_WEBHOOK_ALLOW_PRIVATE");
	/* the load balancers in front (SPEC 15), kept as the rate limits key
	 * addresses (IPv4 mapped into IPv6) */
	ck_assert(config_load(&c, e, sizeof e));
	ck_assert_int_eq(c.ntrusted_proxies, 0);
	setenv("WORKPLAN_TRUSTED_PROXIES", "10.213.0.30, ::1", 1);
	ck_assert(config_load(&c, e, sizeof e));
	ck_assert_int_eq(c.ntrusted_proxies, 2);
	ck_assert(!memcmp(c.trusted_proxies[0], "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\xd5\x00\x1e", 16));
	ck_assert(!memcmp(c.trusted_proxies[1], "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16));
	setenv("WORKPLAN_TRUSTED_PROXIES", "10.213.0.30, haproxy", 1);
	ck_assert(!config_load(&c, e, sizeof e));
	ck_assert_ptr_nonnull(strstr(e, "\"haproxy\" is not an IP address"));
	setenv("WORKPLAN_TRUSTED_PROXIES", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9", 1);
	ck_assert(!config_load(&c, e, sizeof e));
	unsetenv("WORKPLAN_TRUSTED_PROXIES");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, listen_addresses_parse);
	tcase_add_test(tc, bad_listen_addresses_say_why);
	tcase_add_test(tc, defaults_and_overrides_from_environment);
	tcase_add_test(tc, bad_numbers_name_the_variable);
	tcase_add_test(tc, the_retention_period_defaults_to_30_days);
	tcase_add_test(tc, the_public_url_gives_links_and_the_origin);
	suite_add_tcase(s, tc);
	return t_run(s);
}
