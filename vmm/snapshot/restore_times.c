// SPDX-License-Identifier: MIT
#include <time.h>

#include "restore_times.h"

uint64_t restore_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *restore_phase_name(enum restore_phase p)
{
	static const char *const names[RESTORE_NR_PHASES] = {
		[RESTORE_OPEN] = "open",
		[RESTORE_MAP] = "map",
		[RESTORE_STATE] = "state",
		[RESTORE_VMGENID] = "vmgenid",
		[RESTORE_FIRST_RUN] = "first-run",
	};

	return (unsigned int)p < RESTORE_NR_PHASES ? names[p] : "?";
}

json_t *restore_times_json(const struct restore_times *t)
{
	json_t *list = json_array();
	uint64_t prev = t->start_ns;

	if (!list)
		return NULL;
	for (unsigned int i = 0; i < RESTORE_NR_PHASES; i++) {
		uint64_t end = t->end_ns[i];
		json_t *o;

		/* A phase not reached ends the list: the later ones cannot have been either. */
		if (!end || end < prev)
			break;
		o = json_pack("{s:s,s:I,s:I}", "phase", restore_phase_name((enum restore_phase)i),
			      "us", (json_int_t)((end - prev) / 1000u),
			      "end-us", (json_int_t)((end - t->start_ns) / 1000u));
		if (!o || json_array_append_new(list, o) < 0) {
			json_decref(list);
			return NULL;
		}
		prev = end;
	}
	return list;
}
