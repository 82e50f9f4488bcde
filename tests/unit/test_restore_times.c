// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "restore_times.h"

static const char *const order[] = { "open", "map", "state", "vmgenid", "first-run" };

/* A restore whose phases took 1, 2, 3, 4 and 5 ms, started at 7 s. */
static struct restore_times sample(void)
{
	struct restore_times t = { .restored = true, .start_ns = 7000000000u };
	uint64_t at = t.start_ns;

	for (unsigned int i = 0; i < RESTORE_NR_PHASES; i++) {
		at += (i + 1) * 1000000u;
		t.end_ns[i] = at;
	}
	return t;
}

static void check_prefix(json_t *list, size_t n)
{
	json_int_t prev_end = 0;

	assert_non_null(list);
	assert_true(json_is_array(list));
	assert_int_equal(json_array_size(list), n);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(list, i);
		json_int_t us = json_integer_value(json_object_get(o, "us"));
		json_int_t end = json_integer_value(json_object_get(o, "end-us"));

		assert_string_equal(json_string_value(json_object_get(o, "phase")), order[i]);
		assert_int_equal(us, (json_int_t)(i + 1) * 1000);
		/* Each phase ends where the next one begins. */
		assert_int_equal(end, prev_end + us);
		prev_end = end;
	}
}

static void all_phases_in_order(void **state)
{
	struct restore_times t = sample();
	json_t *list = restore_times_json(&t);

	(void)state;
	check_prefix(list, RESTORE_NR_PHASES);
	json_decref(list);
}

/* Under -S no vCPU has run yet: the list stops before first-run. */
static void unreached_phase_ends_the_list(void **state)
{
	struct restore_times t = sample();
	json_t *list;

	(void)state;
	t.end_ns[RESTORE_FIRST_RUN] = 0;
	list = restore_times_json(&t);
	check_prefix(list, RESTORE_FIRST_RUN);
	json_decref(list);
}

static void names(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < RESTORE_NR_PHASES; i++)
		assert_string_equal(restore_phase_name((enum restore_phase)i), order[i]);
	assert_string_equal(restore_phase_name(RESTORE_NR_PHASES), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_phases_in_order),
		cmocka_unit_test(unreached_phase_ends_the_list),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
