/* fdhog.h: fill the process's descriptor table for a test, and free it again (included by the
 * unit tests that check a full table delays work instead of failing it; needs cmocka first). */
#ifndef TESTS_UNIT_FDHOG_H
#define TESTS_UNIT_FDHOG_H

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

/* Every free descriptor of the process, held: the soft limit is lowered to 256 so that filling
 * the table takes few, and restored by hog_release. */
struct hog {
    int fds[256];
    int n;
    struct rlimit saved;
};

static void hog_fill(struct hog *h)
{
    struct rlimit rl;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &h->saved), 0);
    rl = h->saved;
    if (rl.rlim_cur > 256)
        rl.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    h->n = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            assert_int_equal(errno, EMFILE);
            break;
        }
        assert_true(h->n < 256);
        h->fds[h->n++] = fd;
    }
}

static void hog_release(struct hog *h)
{
    while (h->n > 0)
        close(h->fds[--h->n]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &h->saved), 0);
}

/* A uv_timer_t callback whose data is the hog: frees the table from the loop, later. */
static void hog_release_later(uv_timer_t *t)
{
    hog_release(t->data);
}

#endif
