/* Makes one raw system call named on the command line and prints "ok" or the errno's number:
 * what a seccomp filter answers, without a libc wrapper deciding for the test (glibc's clone
 * and unshare paths differ between versions). Built static by the tests. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/personality.h>
#include <time.h>
#include <unistd.h>

static int report(long rc) {
    if (rc < 0) {
        printf("%d\n", errno);
        return 1;
    }
    printf("ok\n");
    return 0;
}

/* clone(2) with `flags`; the child exits at once. */
static long do_clone(unsigned long flags) {
    long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    const char *what = argv[1];
    long arg = argc > 2 ? strtol(argv[2], NULL, 0) : 0;
    if (!strcmp(what, "fork"))
        return report(do_clone(0));
    if (!strcmp(what, "clone-newuser"))
        return report(do_clone(CLONE_NEWUSER));
    if (!strcmp(what, "clone3")) {
        unsigned long long args[11] = {0};
        args[4] = SIGCHLD; /* exit_signal */
        long pid = syscall(SYS_clone3, args, sizeof args);
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        return report(pid);
    }
    if (!strcmp(what, "unshare-user"))
        return report(syscall(SYS_unshare, CLONE_NEWUSER));
    if (!strcmp(what, "keyctl")) /* KEYCTL_GET_KEYRING_ID of the session keyring */
        return report(syscall(SYS_keyctl, 0, -3, 0));
    if (!strcmp(what, "socket"))
        return report(syscall(SYS_socket, arg, SOCK_STREAM, 0));
    if (!strcmp(what, "personality"))
        return report(syscall(SYS_personality, arg));
    if (!strcmp(what, "mseal")) /* newer than Debian's libseccomp: allowed by number */
        return report(syscall(462, 0, 0, 0));
    if (!strcmp(what, "finit_module")) { /* load the file argv[2] as a module: never valid */
        int fd = open(argv[2], O_RDONLY);
        return report(fd < 0 ? fd : syscall(SYS_finit_module, fd, "", 0));
    }
    if (!strcmp(what, "getppid")) { /* a syscall-heavy loop: nanoseconds per call */
        struct timespec a, b;
        long n = arg > 0 ? arg : 1000000;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n; i++)
            syscall(SYS_getppid);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
        return 0;
    }
    fprintf(stderr, "unknown probe %s\n", what);
    return 2;
}
