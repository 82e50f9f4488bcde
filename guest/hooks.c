// SPDX-License-Identifier: MIT
/*
 * Drop-in hooks for vmgenid watch (see hooks.h).  Each hook is a process
 * group of its own, so a timeout kills what it started too; the watch
 * waits for it by polling waitpid, which needs no signal handler in a
 * program that otherwise has none.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"

#define WAIT_STEP_MS 10

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for pid until deadline (ms, CLOCK_MONOTONIC): true and *status once
 * it ended, false at the deadline. */
static bool wait_until(pid_t pid, long long deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			return true; /* not ours to wait for any more */
		if (now_ms() >= deadline)
			return false;
		nanosleep(&(struct timespec){ 0, WAIT_STEP_MS * 1000000L }, NULL);
	}
}

enum hook_outcome hooks_run(char *const argv[], char *const env[], unsigned int timeout_ms,
			    const char *label)
{
	int status = 0, fd;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		/* The watch's own signal mask and dispositions stay with it. */
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		fprintf(stderr, "vmgenid: watch: %s: cannot run %s: %s\n", label, argv[0],
			strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		fprintf(stderr, "vmgenid: watch: %s: cannot start: %s\n", label, strerror(errno));
		return HOOK_NOT_RUN;
	}
	/* Also from here: the child may not have run setpgid yet. */
	setpgid(pid, pid);
	if (!wait_until(pid, now_ms() + timeout_ms, &status)) {
		fprintf(stderr, "vmgenid: watch: %s: still running after %u s: killing it "
			"(SIGTERM, then SIGKILL after %d s)\n", label, timeout_ms / 1000,
			HOOKS_GRACE_MS / 1000);
		kill(-pid, SIGTERM);
		if (!wait_until(pid, now_ms() + HOOKS_GRACE_MS, &status)) {
			kill(-pid, SIGKILL);
			wait_until(pid, now_ms() + HOOKS_GRACE_MS, &status);
		}
		/* Whatever it left in its group goes too. */
		kill(-pid, SIGKILL);
		return HOOK_TIMED_OUT;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return HOOK_OK;
	if (WIFEXITED(status))
		fprintf(stderr, "vmgenid: watch: %s: exited with status %d\n", label,
			WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		fprintf(stderr, "vmgenid: watch: %s: killed by signal %d\n", label,
			WTERMSIG(status));
	return HOOK_FAILED;
}

static bool hook_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n && name[0] != '.' && name[n - 1] != '~' && !strstr(name, ".dpkg-");
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int hooks_list(const char *dir, char ***names, size_t *n, char *why, size_t cap)
{
	char path[1024];
	struct dirent *e;
	struct stat st;
	char **v;
	DIR *d;
	int err;

	*names = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d) {
		err = errno;
		if (err != ENOENT)
			snprintf(why, cap, "%s: %s", dir, strerror(err));
		return -err;
	}
	v = calloc(HOOKS_MAX, sizeof(*v));
	if (!v) {
		closedir(d);
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	while ((e = readdir(d))) {
		if (!hook_name_ok(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			continue;
		if (*n == HOOKS_MAX) {
			fprintf(stderr, "vmgenid: watch: %s: more than %d hooks; the rest are "
				"left out\n", dir, HOOKS_MAX);
			break;
		}
		v[*n] = strdup(e->d_name);
		if (!v[*n])
			break;
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), name_cmp);
	*names = v;
	return 0;
}

void hooks_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void hooks_run_dir(const char *dir, char *const env[], unsigned int timeout_ms,
		   struct hooks_result *r)
{
	char why[1200], path[1024], label[1100];
	char **names;
	size_t n;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = hooks_list(dir, &names, &n, why, sizeof(why));
	if (ret) {
		if (ret != -ENOENT)
			fprintf(stderr, "vmgenid: watch: hooks: %s\n", why);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *argv[2] = { path, NULL };

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(label, sizeof(label), "hook %s", path);
		switch (hooks_run(argv, env, timeout_ms, label)) {
		case HOOK_OK:
			break;
		case HOOK_TIMED_OUT:
			r->timed_out++;
			r->failed++;
			break;
		default:
			r->failed++;
			break;
		}
		r->ran++;
	}
	hooks_free(names, n);
}
