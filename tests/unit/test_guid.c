// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <cmocka.h>

#include "vmgenid/guid.h"
#include "vmgenid/log.h"

/*
 * getrandom(2) is wrapped at link time (-Wl,--wrap=getrandom) so the tests
 * can script EINTR, short reads and failure.  Unscripted calls reach the
 * real syscall.
 */
ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);
ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags);

struct rand_step {
	ssize_t ret; /* > 0: bytes to hand out from the pattern; else -errno */
};

static const struct rand_step *rand_script;
static size_t rand_steps, rand_next;
static uint8_t rand_pattern_pos;

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	const struct rand_step *st;
	uint8_t *p = buf;
	size_t i;

	if (!rand_script)
		return __real_getrandom(buf, len, flags);
	assert_true(rand_next < rand_steps);
	st = &rand_script[rand_next++];
	if (st->ret <= 0) {
		errno = (int)-st->ret;
		return -1;
	}
	assert_true((size_t)st->ret <= len);
	for (i = 0; i < (size_t)st->ret; i++)
		p[i] = rand_pattern_pos++;
	return st->ret;
}

static void rand_set_script(const struct rand_step *script, size_t n)
{
	rand_script = script;
	rand_steps = n;
	rand_next = 0;
	rand_pattern_pos = 0xf0;
}

static int errors_logged;

static void count_errors(void *opaque, enum vmgenid_log_level level, const char *module,
			 const char *msg)
{
	(void)opaque;
	(void)msg;
	if (level == VMGENID_LOG_ERR && !strcmp(module, "guid"))
		errors_logged++;
}

static int rand_reset(void **state)
{
	(void)state;
	rand_script = NULL;
	vmgenid_log_set_sink(NULL, NULL);
	return 0;
}

static const char sample[] = "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87";
static const struct vmgenid_guid sample_guid = { {
	0x32, 0x4e, 0x6e, 0xaf, 0xd1, 0xd1, 0x4b, 0xf6,
	0xbf, 0x41, 0xb9, 0xbb, 0x6c, 0x91, 0xfb, 0x87,
} };

static void test_parse_and_format_round_trip(void **state)
{
	static const char *const inputs[] = {
		"324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87",
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff",
		"01234567-89ab-cdef-0123-456789abcdef",
	};
	char text[VMGENID_GUID_STR_LEN + 1];
	struct vmgenid_guid g;
	size_t i;

	(void)state;
	assert_int_equal(vmgenid_guid_parse(sample, &g, NULL), 0);
	assert_memory_equal(g.bytes, sample_guid.bytes, VMGENID_GUID_SIZE);

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		assert_int_equal(vmgenid_guid_parse(inputs[i], &g, NULL), 0);
		memset(text, 'x', sizeof(text));
		vmgenid_guid_format(&g, text);
		assert_string_equal(text, inputs[i]);
		assert_int_equal(strlen(text), VMGENID_GUID_STR_LEN);
	}
}

static void test_parse_accepts_uppercase(void **state)
{
	char text[VMGENID_GUID_STR_LEN + 1];
	struct vmgenid_guid g;

	(void)state;
	assert_int_equal(vmgenid_guid_parse("324E6EAF-D1D1-4BF6-BF41-B9BB6C91FB87", &g, NULL), 0);
	assert_true(vmgenid_guid_equal(&g, &sample_guid));
	assert_int_equal(vmgenid_guid_parse("324e6EAF-d1D1-4Bf6-bf41-B9BB6c91fb87", &g, NULL), 0);
	assert_true(vmgenid_guid_equal(&g, &sample_guid));
	vmgenid_guid_format(&g, text);
	assert_string_equal(text, sample);

	assert_int_equal(vmgenid_guid_parse("ABCDEFAB-CDEF-ABCD-EFAB-CDEFABCDEFAB", &g, NULL), 0);
	vmgenid_guid_format(&g, text);
	assert_string_equal(text, "abcdefab-cdef-abcd-efab-cdefabcdefab");
}

struct reject_case {
	const char *text;
	const char *why;
};

#define WHY_EMPTY "empty GUID: expected 8-4-4-4-12 hex digits"
#define WHY_SHORT "too short: a GUID has 36 characters (8-4-4-4-12)"
#define WHY_LONG "too long: a GUID has 36 characters (8-4-4-4-12)"
#define WHY_BRACES "braces are not accepted: write the GUID without { }"
#define WHY_DASH "dash missing or misplaced: expected 8-4-4-4-12 hex digits"
#define WHY_HEX "bad hex digit: only 0-9, a-f and A-F are allowed"
#define WHY_SPACE "leading or trailing whitespace around the GUID"
#define WHY_TRAILING "unexpected characters after the GUID"

static const struct reject_case rejects[] = {
	{ NULL, WHY_EMPTY },
	{ "", WHY_EMPTY },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb8", WHY_SHORT },
	{ "324e6eaf", WHY_SHORT },
	{ "324e6eafd1d14bf6bf41b9bb6c91fb87", WHY_SHORT },
	{ "324e6eaf0-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_LONG },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87-0000", WHY_TRAILING },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87x", WHY_TRAILING },
	{ "{324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87}", WHY_BRACES },
	{ "{324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb8", WHY_BRACES },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87}", WHY_BRACES },
	{ "324e6eafd-1d1-4bf6-bf41-b9bb6c91fb87", WHY_DASH },
	{ "324e6ea-fd1d1-4bf6-bf41-b9bb6c91fb87", WHY_DASH },
	{ "324e6eaf-d1d1-4bf6-bf41+b9bb6c91fb87", WHY_DASH },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91-b87", WHY_DASH },
	{ "324e6eaf_d1d1_4bf6_bf41_b9bb6c91fb87", WHY_DASH },
	{ "324g6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb8z", WHY_HEX },
	{ "0x4e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	/* The ASCII neighbours of each hex range. */
	{ "/24e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ ":24e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ "@24e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ "G24e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ "`24e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ "g24e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_HEX },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb 6c91fb8", WHY_HEX },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb\xc3\xa9" "6c91fb", WHY_HEX },
	{ " 324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87", WHY_SPACE },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87\n", WHY_SPACE },
	{ "324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb87 ", WHY_SPACE },
	{ "\t324e6eaf-d1d1-4bf6-bf41-b9bb6c91fb8", WHY_SPACE },
};

/* Name the input on failure: cmocka's asserts alone would not say which case. */
static void expect_reject(int (*parse)(const char *, struct vmgenid_guid *, const char **),
			  const struct reject_case *c)
{
	struct vmgenid_guid g = sample_guid;
	const char *why = NULL;
	int ret;

	ret = parse(c->text, &g, &why);
	if (ret != -EINVAL || !why || strcmp(why, c->why))
		fail_msg("\"%s\": got %d \"%s\", want %d \"%s\"",
			 c->text ? c->text : "(null)", ret, why ? why : "(null)", -EINVAL, c->why);
	/* *out untouched on error. */
	assert_memory_equal(g.bytes, sample_guid.bytes, VMGENID_GUID_SIZE);
	/* why is optional. */
	assert_int_equal(parse(c->text, &g, NULL), -EINVAL);
	assert_memory_equal(g.bytes, sample_guid.bytes, VMGENID_GUID_SIZE);
}

static void test_parse_rejects_with_reason(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		expect_reject(vmgenid_guid_parse, &rejects[i]);
		/* The property parser gives the same verdict for non-"auto" text. */
		expect_reject(vmgenid_guid_parse_property, &rejects[i]);
	}
}

static void test_le_layout(void **state)
{
	static const uint8_t expect_le[VMGENID_GUID_SIZE] = {
		0xaf, 0x6e, 0x4e, 0x32, 0xd1, 0xd1, 0xf6, 0x4b,
		0xbf, 0x41, 0xb9, 0xbb, 0x6c, 0x91, 0xfb, 0x87,
	};
	uint8_t le[VMGENID_GUID_SIZE];
	struct vmgenid_guid g, back;
	size_t i;

	(void)state;
	assert_int_equal(vmgenid_guid_parse(sample, &g, NULL), 0);
	memset(le, 0, sizeof(le));
	vmgenid_guid_to_le(&g, le);
	for (i = 0; i < VMGENID_GUID_SIZE; i++)
		assert_int_equal(le[i], expect_le[i]);

	memset(&back, 0, sizeof(back));
	vmgenid_guid_from_le(expect_le, &back);
	assert_true(vmgenid_guid_equal(&back, &sample_guid));

	/* In-place conversion both ways. */
	back = sample_guid;
	vmgenid_guid_to_le(&back, back.bytes);
	assert_memory_equal(back.bytes, expect_le, VMGENID_GUID_SIZE);
	vmgenid_guid_from_le(back.bytes, &back);
	assert_true(vmgenid_guid_equal(&back, &sample_guid));
}

static void test_le_is_not_identity(void **state)
{
	/* Distinct bytes so any wrong permutation shows. */
	struct vmgenid_guid g = { { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 } };
	static const uint8_t expect_le[VMGENID_GUID_SIZE] = {
		3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15,
	};
	uint8_t le[VMGENID_GUID_SIZE];
	struct vmgenid_guid back;

	(void)state;
	vmgenid_guid_to_le(&g, le);
	assert_memory_equal(le, expect_le, VMGENID_GUID_SIZE);
	vmgenid_guid_from_le(le, &back);
	assert_memory_equal(back.bytes, g.bytes, VMGENID_GUID_SIZE);
}

static void assert_v4_variant10(const struct vmgenid_guid *g)
{
	assert_int_equal(g->bytes[6] >> 4, 4);
	assert_int_equal(g->bytes[8] >> 6, 2);
}

static void test_generate(void **state)
{
	struct vmgenid_guid a, b;
	char text[VMGENID_GUID_STR_LEN + 1];

	(void)state;
	assert_int_equal(vmgenid_guid_generate(&a), 0);
	assert_int_equal(vmgenid_guid_generate(&b), 0);
	assert_v4_variant10(&a);
	assert_v4_variant10(&b);
	assert_false(vmgenid_guid_equal(&a, &b));
	assert_false(vmgenid_guid_is_null(&a));

	/* The text of a generated GUID parses back to the same GUID. */
	vmgenid_guid_format(&a, text);
	assert_int_equal(text[14], '4');
	assert_int_equal(vmgenid_guid_parse(text, &b, NULL), 0);
	assert_true(vmgenid_guid_equal(&a, &b));
}

static void test_generate_retries_eintr_and_short_reads(void **state)
{
	static const struct rand_step script[] = {
		{ -EINTR }, { 5 }, { -EINTR }, { 1 }, { 10 },
	};
	struct vmgenid_guid g;
	size_t i;

	(void)state;
	rand_set_script(script, sizeof(script) / sizeof(script[0]));
	assert_int_equal(vmgenid_guid_generate(&g), 0);
	assert_int_equal(rand_next, sizeof(script) / sizeof(script[0]));
	/* Pattern 0xf0, 0xf1, ... wrapping: every byte landed at its own offset. */
	for (i = 0; i < VMGENID_GUID_SIZE; i++) {
		uint8_t want = (uint8_t)(0xf0 + i);

		if (i == 6)
			want = (uint8_t)((want & 0x0f) | 0x40);
		if (i == 8)
			want = (uint8_t)((want & 0x3f) | 0x80);
		assert_int_equal(g.bytes[i], want);
	}
	assert_v4_variant10(&g);
}

static void test_generate_failure(void **state)
{
	static const struct rand_step fail_at_once[] = { { -ENOSYS } };
	static const struct rand_step fail_midway[] = { { 7 }, { -EFAULT } };
	struct vmgenid_guid g = sample_guid;
	const char *why = NULL;

	(void)state;
	vmgenid_log_set_sink(count_errors, NULL);
	errors_logged = 0;
	rand_set_script(fail_at_once, 1);
	assert_int_equal(vmgenid_guid_generate(&g), -EIO);
	assert_true(vmgenid_guid_equal(&g, &sample_guid));
	assert_int_equal(errors_logged, 1);

	rand_set_script(fail_midway, 2);
	assert_int_equal(vmgenid_guid_generate(&g), -EIO);
	assert_true(vmgenid_guid_equal(&g, &sample_guid));
	assert_int_equal(rand_next, 2);
	assert_int_equal(errors_logged, 2);

	rand_set_script(fail_at_once, 1);
	assert_int_equal(vmgenid_guid_parse_property("auto", &g, &why), -EIO);
	assert_non_null(why);
	assert_string_equal(why, "no randomness available to generate a GUID for guid=auto");
	assert_true(vmgenid_guid_equal(&g, &sample_guid));
}

static void test_property(void **state)
{
	struct vmgenid_guid a = { { 0 } }, b = { { 0 } };
	const char *why = NULL;

	(void)state;
	assert_int_equal(vmgenid_guid_parse_property("auto", &a, &why), 0);
	assert_v4_variant10(&a);
	assert_int_equal(vmgenid_guid_parse_property("auto", &b, NULL), 0);
	assert_false(vmgenid_guid_equal(&a, &b));

	assert_int_equal(vmgenid_guid_parse_property(sample, &a, NULL), 0);
	assert_true(vmgenid_guid_equal(&a, &sample_guid));

	/* The keyword is case-sensitive and exact; anything else is GUID text. */
	a = sample_guid;
	assert_int_equal(vmgenid_guid_parse_property("AUTO", &a, &why), -EINVAL);
	assert_string_equal(why, WHY_SHORT);
	assert_true(vmgenid_guid_equal(&a, &sample_guid));
	assert_int_equal(vmgenid_guid_parse_property("auto ", &a, &why), -EINVAL);
	assert_string_equal(why, WHY_SPACE);
	assert_int_equal(vmgenid_guid_parse_property("autox", &a, &why), -EINVAL);
	assert_string_equal(why, WHY_SHORT);
	assert_true(vmgenid_guid_equal(&a, &sample_guid));
}

static void test_equal_and_null(void **state)
{
	struct vmgenid_guid zero = { { 0 } }, g = sample_guid;
	size_t i;

	(void)state;
	assert_true(vmgenid_guid_is_null(&zero));
	assert_false(vmgenid_guid_is_null(&g));
	assert_true(vmgenid_guid_equal(&g, &sample_guid));
	assert_false(vmgenid_guid_equal(&g, &zero));
	/* A difference in any single byte, first or last, counts. */
	for (i = 0; i < VMGENID_GUID_SIZE; i++) {
		struct vmgenid_guid h = sample_guid, z = zero;

		h.bytes[i] ^= 0x01;
		assert_false(vmgenid_guid_equal(&h, &sample_guid));
		z.bytes[i] = 0x80;
		assert_false(vmgenid_guid_is_null(&z));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_parse_and_format_round_trip, rand_reset),
		cmocka_unit_test_teardown(test_parse_accepts_uppercase, rand_reset),
		cmocka_unit_test_teardown(test_parse_rejects_with_reason, rand_reset),
		cmocka_unit_test_teardown(test_le_layout, rand_reset),
		cmocka_unit_test_teardown(test_le_is_not_identity, rand_reset),
		cmocka_unit_test_teardown(test_generate, rand_reset),
		cmocka_unit_test_teardown(test_generate_retries_eintr_and_short_reads, rand_reset),
		cmocka_unit_test_teardown(test_generate_failure, rand_reset),
		cmocka_unit_test_teardown(test_property, rand_reset),
		cmocka_unit_test_teardown(test_equal_and_null, rand_reset),
	};

	return cmocka_run_group_tests_name("guid", tests, NULL, NULL);
}
