/* Loads a compiled seccomp filter as berth writes it into a bundle (seccomp.filter: the flags,
 * 4 bytes little-endian, then the BPF program, 8 bytes per instruction) and prints how long
 * seccomp(SECCOMP_SET_MODE_FILTER) took, in microseconds, once per line, N times: what berth's
 * executor adds to each start. Each load is in a child of its own, as a filter cannot be
 * removed once loaded. Used by bench/security.sh: cc -O1 -o seccomp-load seccomp-load.c */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: seccomp-load FILE N\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    static unsigned char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (len < 4 || (len - 4) % 8 != 0) {
        fprintf(stderr, "%s: not a compiled filter\n", argv[1]);
        return 1;
    }
    unsigned flags = buf[0] | buf[1] << 8 | buf[2] << 16 | (unsigned)buf[3] << 24;
    struct sock_fprog prog = {.len = (len - 4) / 8, .filter = (struct sock_filter *)(buf + 4)};
    int n = atoi(argv[2]);
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        pid_t pid = fork();
        if (pid == 0) {
            struct timespec a, b;
            prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            clock_gettime(CLOCK_MONOTONIC, &a);
            long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
            clock_gettime(CLOCK_MONOTONIC, &b);
            double us = rc != 0 ? -1 : ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3;
            if (write(p[1], &us, sizeof us) != sizeof us)
                _exit(1);
            _exit(0);
        }
        double us = -1;
        close(p[1]);
        if (read(p[0], &us, sizeof us) != sizeof us || us < 0) {
            fprintf(stderr, "seccomp(SET_MODE_FILTER) failed\n");
            return 1;
        }
        close(p[0]);
        waitpid(pid, NULL, 0);
        printf("%.1f\n", us);
    }
    fprintf(stderr, "%u instructions, flags %#x\n", prog.len, flags);
    return 0;
}
