// SPDX-License-Identifier: MIT
/*
 * Both ends of the e2e vsock scenario (t_vsock.sh) in one static program:
 * inside the guest it listens and connects over AF_VSOCK, on the host it
 * speaks genvm's hybrid protocol over the unix sockets.  Payloads are a
 * pattern both ends can regenerate, so a transfer is checked byte for
 * byte without shipping a file.
 *
 *   vsockio guest-echo PORT          echo every connection (one child each);
 *                                    prints how each one ended
 *   vsockio guest-connect PORT SIZE  to the host (CID 2): send SIZE bytes,
 *                                    check the echo
 *   vsockio vsock-connect CID PORT SIZE  the same to any CID (a host
 *                                    program reaching a vhost-vsock guest)
 *   vsockio uds-connect PATH PORT SIZE   CONNECT PORT on PATH, same check
 *   vsockio uds-hold PATH PORT       CONNECT, then hold the connection open
 *                                    and say how it ended
 *   vsockio vsock-hold CID PORT      the same over AF_VSOCK (vhost)
 *   vsockio uds-echo PATH            listen on PATH, echo every connection
 *
 * Exit 0 when the check passed, 1 otherwise; 2 when the other end refused.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static uint8_t pattern(uint64_t i)
{
	/* Not periodic at any power of two: a shifted or dropped block shows. */
	return (uint8_t)((i * 2654435761u) >> 13 ^ i / 251);
}

static const char *how(ssize_t n)
{
	if (n == 0)
		return "eof";
	switch (errno) {
	case ECONNRESET:
		return "ECONNRESET";
	case ENOTCONN:
		return "ENOTCONN";
	case EPIPE:
		return "EPIPE";
	default:
		return strerror(errno);
	}
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Echo until EOF; return how the connection ended ("eof" or an error). */
static const char *echo(int fd)
{
	uint8_t buf[65536];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			const char *h = how(n);

			shutdown(fd, SHUT_WR);
			return h;
		}
		if (write_all(fd, buf, (size_t)n) < 0)
			return how(-1);
	}
}

/* Send size pattern bytes and read them back, interleaved so neither side stalls. */
static int exchange(int fd, uint64_t size)
{
	uint64_t sent = 0, got = 0;
	uint8_t buf[65536];

	while (got < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0) };

		if (poll(&p, 1, 60000) <= 0) {
			fprintf(stderr, "vsockio: stalled at %llu sent, %llu received\n",
				(unsigned long long)sent, (unsigned long long)got);
			return 1;
		}
		if ((p.revents & POLLOUT) && sent < size) {
			size_t len = size - sent < sizeof(buf) ? (size_t)(size - sent) : sizeof(buf);
			ssize_t n;

			for (size_t i = 0; i < len; i++)
				buf[i] = pattern(sent + i);
			n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				fprintf(stderr, "vsockio: send: %s\n", how(-1));
				return 1;
			}
			if (n > 0)
				sent += (uint64_t)n;
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				fprintf(stderr, "vsockio: receive ended (%s) after %llu of %llu bytes\n",
					how(n), (unsigned long long)got, (unsigned long long)size);
				return 1;
			}
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] != pattern(got + (uint64_t)i)) {
					fprintf(stderr, "vsockio: byte %llu differs\n",
						(unsigned long long)(got + (uint64_t)i));
					return 1;
				}
			}
			got += (uint64_t)n;
		}
	}
	printf("ok %llu bytes both ways\n", (unsigned long long)size);
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		fprintf(stderr, "vsockio: %s: too long\n", path);
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* CONNECT port on path; the connected socket, -2 when genvm closed it without OK. */
static int uds_connect(const char *path, unsigned long port)
{
	struct sockaddr_un sa;
	char line[64];
	size_t n = 0;
	int fd;

	if (unix_addr(path, &sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vsockio: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = (size_t)snprintf(line, sizeof(line), "CONNECT %lu\n", port);
	if (write_all(fd, (uint8_t *)line, n) < 0)
		return -1;
	/* The answer byte by byte: what follows the newline is the guest's. */
	for (n = 0; n + 1 < sizeof(line); n++) {
		if (recv(fd, line + n, 1, 0) != 1) {
			close(fd);
			return -2;
		}
		if (line[n] == '\n')
			break;
	}
	line[n] = '\0';
	if (strncmp(line, "OK ", 3)) {
		fprintf(stderr, "vsockio: unexpected answer '%s'\n", line);
		close(fd);
		return -1;
	}
	return fd;
}

static int serve(int lfd, const char *label)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("vsockio: accept");
			return 1;
		}
		if (fork() == 0) {
			const char *h;

			close(lfd);
			printf("VMGENID-E2E: vsock_conn_open %s\n", label);
			fflush(stdout);
			h = echo(fd);
			printf("VMGENID-E2E: vsock_conn_end %s how=%s\n", label, h);
			fflush(stdout);
			_exit(0);
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "guest-echo") && argc == 3) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
					  .svm_port = (unsigned int)strtoul(argv[2], NULL, 10) };
		char label[32];
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
			perror("vsockio: vsock listen");
			return 1;
		}
		snprintf(label, sizeof(label), "port=%s", argv[2]);
		return serve(fd, label);
	}
	if ((!strcmp(cmd, "guest-connect") && argc == 4) ||
	    (!strcmp(cmd, "vsock-connect") && argc == 5)) {
		int a = argc == 5 ? 3 : 2;
		struct sockaddr_vm sa = {
			.svm_family = AF_VSOCK,
			.svm_cid = argc == 5 ? (unsigned int)strtoul(argv[2], NULL, 10)
					     : VMADDR_CID_HOST,
			.svm_port = (unsigned int)strtoul(argv[a], NULL, 10),
		};
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			fprintf(stderr, "vsockio: connect to CID %u port %s: %s\n", sa.svm_cid,
				argv[a], how(-1));
			return errno == ECONNRESET || errno == ECONNREFUSED ? 2 : 1;
		}
		return exchange(fd, strtoull(argv[a + 1], NULL, 10));
	}
	if (!strcmp(cmd, "uds-connect") && argc == 5) {
		int fd = uds_connect(argv[2], strtoul(argv[3], NULL, 10));

		if (fd < 0)
			return fd == -2 ? 2 : 1;
		return exchange(fd, strtoull(argv[4], NULL, 10));
	}
	if ((!strcmp(cmd, "uds-hold") || !strcmp(cmd, "vsock-hold")) && argc == 4) {
		uint8_t buf[4096];
		ssize_t n;
		int fd;

		if (cmd[0] == 'u') {
			fd = uds_connect(argv[2], strtoul(argv[3], NULL, 10));
		} else {
			struct sockaddr_vm sa = {
				.svm_family = AF_VSOCK,
				.svm_cid = (unsigned int)strtoul(argv[2], NULL, 10),
				.svm_port = (unsigned int)strtoul(argv[3], NULL, 10),
			};

			fd = socket(AF_VSOCK, SOCK_STREAM, 0);
			if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
				close(fd);
				fd = -2;
			}
		}
		if (fd < 0)
			return fd == -2 ? 2 : 1;
		printf("held\n");
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR))
			;
		printf("ended how=%s\n", how(n));
		return 0;
	}
	if (!strcmp(cmd, "uds-echo") && argc == 3) {
		struct sockaddr_un sa;
		int fd;

		if (unix_addr(argv[2], &sa) < 0)
			return 1;
		unlink(argv[2]);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
			perror("vsockio: unix listen");
			return 1;
		}
		return serve(fd, argv[2]);
	}
	fprintf(stderr, "usage: vsockio guest-echo PORT | guest-connect PORT SIZE | "
			"vsock-connect CID PORT SIZE | uds-connect PATH PORT SIZE | uds-hold PATH PORT | "
			"vsock-hold CID PORT | uds-echo PATH\n");
	return 1;
}
