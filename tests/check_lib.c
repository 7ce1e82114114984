/* Small library pieces: SHA-256, base64, tokens, bounded buffers. */
#include "base64.h"
#include "buf.h"
#include "harness.h"
#include "sha256.h"
#include "sign.h"
#include "token.h"

#include <stdlib.h>
#include <string.h>

static void hex_of(const char *s, size_t n, char out[65])
{
	unsigned char d[SHA256_LEN];

	sha256(s, n, d);
	sha256_hex(d, out);
}

START_TEST(sha256_matches_the_standard_vectors)
{
	char hex[65], *million = malloc(1000000);

	hex_of("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(million, 'a', 1000000);
	hex_of(million, 1000000, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(million);
}
END_TEST

/* RFC 4231, test cases 1, 2 and 6 (a key longer than a block). */
START_TEST(hmac_sha256_matches_rfc_4231)
{
	unsigned char key[131], mac[SHA256_LEN];
	char hex[65];
	const char *big = "Test Using Larger Than Block-Size Key - Hash Key First";

	memset(key, 0x0b, 20);
	hmac_sha256(key, 20, "Hi There", 8, mac);
	sha256_hex(mac, hex);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	sha256_hex(mac, hex);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof key);
	hmac_sha256_parts(key, sizeof key, mac, big, (size_t)20, big + 20, strlen(big) - 20,
			  (const void *)NULL);
	sha256_hex(mac, hex);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	ck_assert(equal_secret("abc", "abc", 3));
	ck_assert(!equal_secret("abc", "abd", 3));
}
END_TEST

/* RFC 4648 section 10's vectors, both alphabets, and text a decoder
 * must refuse: signatures, secrets, cursors and tokens all go through it */
START_TEST(base64_matches_rfc_4648_and_refuses_bad_text)
{
	static const char *const std[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *const url[] = { "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	static const char *const bad[] = { "Zg=", "Z===", "Zm=v", "Zm9v=", "Zm 9", "Zm9-", "Zm9\n" };
	const unsigned char odd[] = { 0xfb, 0xff, 0xbf };
	char out[64];
	unsigned char dec[16], many[100];
	char whole[BASE64_LEN(100) + 1];
	struct buf b;

	for (size_t n = 0; n <= 6; n++) {
		ck_assert_uint_eq(base64_encode("foobar", n, false, out, sizeof out), strlen(std[n]));
		ck_assert_str_eq(out, std[n]);
		ck_assert_uint_eq(base64_encode("foobar", n, true, out, sizeof out), strlen(url[n]));
		ck_assert_str_eq(out, url[n]);
		ck_assert_int_eq(base64_decode(std[n], strlen(std[n]), false, dec, sizeof dec), (long)n);
		ck_assert(!memcmp(dec, "foobar", n));
		ck_assert_int_eq(base64_decode(url[n], strlen(url[n]), true, dec, sizeof dec), (long)n);
		ck_assert(!memcmp(dec, "foobar", n));
	}
	/* the two alphabets differ in their last two digits */
	base64_encode(odd, 3, false, out, sizeof out);
	ck_assert_str_eq(out, "+/+/");
	base64_encode(odd, 3, true, out, sizeof out);
	ck_assert_str_eq(out, "-_-_");
	ck_assert_int_eq(base64_decode("+/+/", 4, true, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("-_-_", 4, false, dec, sizeof dec), -1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(base64_decode(bad[i], strlen(bad[i]), false, dec, sizeof dec) == -1,
			      "%s was decoded", bad[i]);
	ck_assert_int_eq(base64_decode("Zm9vY", 5, true, dec, sizeof dec), -1);
	ck_assert_int_eq(base64_decode("Zm9vYmFy", 8, false, dec, 5), -1);
	/* too small a buffer gives nothing rather than a cut encoding */
	ck_assert_uint_eq(base64_encode("foobar", 6, false, out, 8), 0);
	ck_assert_str_eq(out, "");
	/* long input in a buffer: the same text as at once, padding at the end */
	buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof many; i++)
		many[i] = (unsigned char)(i * 37);
	ck_assert(buf_base64(&b, many, sizeof many, false));
	base64_encode(many, sizeof many, false, whole, sizeof whole);
	ck_assert_str_eq(b.data, whole);
	buf_free(&b);
}
END_TEST

START_TEST(tokens_are_long_random_and_distinct)
{
	char a[TOKEN_STRLEN], b[TOKEN_STRLEN];
	unsigned char ha[SHA256_LEN], hb[SHA256_LEN];

	ck_assert(token_generate(a));
	ck_assert(token_generate(b));
	ck_assert_uint_eq(strlen(a), TOKEN_STRLEN - 1);
	ck_assert(!strncmp(a, TOKEN_PREFIX, strlen(TOKEN_PREFIX)));
	ck_assert_str_ne(a, b);
	/* 43 base64url digits carry 256 bits, well above the 160 required */
	ck_assert_uint_ge((strlen(a) - strlen(TOKEN_PREFIX)) * 6, 160);
	for (const char *p = a + strlen(TOKEN_PREFIX); *p; p++)
		ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
	token_hash(a, ha);
	token_hash(b, hb);
	ck_assert(memcmp(ha, hb, SHA256_LEN));
}
END_TEST

/* sign-in tokens and sessions have the shape of bearer tokens and a
 * prefix of their own: none passes for another */
START_TEST(token_kinds_are_told_apart_by_their_prefix)
{
	char t[TOKEN_STRLEN], l[TOKEN_STRLEN], s[TOKEN_STRLEN];

	ck_assert(token_generate(t) && token_generate_as(TOKEN_PREFIX_SIGNIN, l) &&
		  token_generate_as(TOKEN_PREFIX_SESSION, s));
	ck_assert(token_well_formed(t, TOKEN_PREFIX));
	ck_assert(token_well_formed(l, TOKEN_PREFIX_SIGNIN));
	ck_assert(token_well_formed(s, TOKEN_PREFIX_SESSION));
	ck_assert(!token_well_formed(t, TOKEN_PREFIX_SESSION));
	ck_assert(!token_well_formed(s, TOKEN_PREFIX_SIGNIN));
	ck_assert(!token_well_formed(l, TOKEN_PREFIX));
	s[10] = ';';
	ck_assert(!token_well_formed(s, TOKEN_PREFIX_SESSION));
	l[TOKEN_STRLEN - 2] = '\0';
	ck_assert(!token_well_formed(l, TOKEN_PREFIX_SIGNIN));
}
END_TEST

START_TEST(buffers_refuse_to_grow_past_their_maximum)
{
	struct buf b;
	char *s;
	size_t n;

	buf_init(&b, 10);
	ck_assert(buf_adds(&b, "0123456789"));
	ck_assert(!buf_adds(&b, "x"));
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(b.data, "0123456789");
	buf_reset(&b);
	ck_assert(buf_printf(&b, "%d-%s", 42, "ab"));
	ck_assert(!buf_printf(&b, "%s", "this is too long"));
	s = buf_steal(&b, &n);
	ck_assert_str_eq(s, "42-ab");
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lib");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, sha256_matches_the_standard_vectors);
	tcase_add_test(tc, hmac_sha256_matches_rfc_4231);
	tcase_add_test(tc, base64_matches_rfc_4648_and_refuses_bad_text);
	tcase_add_test(tc, tokens_are_long_random_and_distinct);
	tcase_add_test(tc, token_kinds_are_told_apart_by_their_prefix);
	tcase_add_test(tc, buffers_refuse_to_grow_past_their_maximum);
	suite_add_tcase(s, tc);
	return t_run(s);
}
