/* SPDX-License-Identifier: MIT */
/*
 * timeit.c - run a command once and print how long it took from exec to
 * exit, and its peak RSS:
 *
 *     timeit CMD [ARGS...]   ->   "<microseconds> <maxrss KiB> <status>"
 *
 * The clock (CLOCK_MONOTONIC) starts just before fork and stops when
 * wait4 returns, so each program pays the same fork/exec/exit/reap costs;
 * the peak RSS is the child's own (ru_maxrss from wait4).  The command's
 * output goes to /dev/null, so no console speed is measured.  busybox's
 * date has no sub-second format, hence this helper.  TIMEIT_LIMIT=S kills
 * a run still going after S seconds (status 137), so one hung run cannot
 * stop a whole benchmark; the timer costs the run itself nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	kill(child, SIGKILL);
}

int main(int argc, char **argv)
{
	const char *limit = getenv("TIMEIT_LIMIT");
	struct timespec t0, t1;
	struct rusage ru;
	int st;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: timeit CMD [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	child = pid;
	if (limit && atoi(limit) > 0) {
		signal(SIGALRM, on_alarm);
		alarm((unsigned)atoi(limit));
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno == EINTR)
			continue;
		perror("wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld %ld %d\n",
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000,
	       ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
