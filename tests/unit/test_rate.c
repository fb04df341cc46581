/* test_rate.c - net/http/rate.c: the GCRA budgets of --limit-rate and --limit-rate-each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "net/http/rate.h"

#define S 1000000000ULL               /* one second in ns */

static void test_budget_arithmetic(void **state)
{
    uint64_t tat = 0;

    (void)state;
    /* 1 MiB at 1 MiB/s, received at t = 1 s, is paid for until t = 2 s; the caller may run the
     * burst (100 ms) ahead. */
    http_rate_tat_charge(&tat, 1048576, 1048576, 1 * S);
    assert_int_equal(tat, 2 * S);
    assert_int_equal(http_rate_tat_wait(tat, 1 * S), S - HTTP_RATE_BURST_NS);
    assert_int_equal(http_rate_tat_wait(tat, 2 * S - HTTP_RATE_BURST_NS), 0);
    assert_int_equal(http_rate_tat_wait(tat, 3 * S), 0);
    /* more while in debt adds up */
    http_rate_tat_charge(&tat, 1048576, 524288, 1 * S);
    assert_int_equal(tat, 2 * S + S / 2);
    /* an idle budget does not save up: after 10 s of nothing, the same 1 MiB costs 1 s again */
    http_rate_tat_charge(&tat, 1048576, 1048576, 10 * S);
    assert_int_equal(tat, 11 * S);
    /* nothing charged: nothing to wait */
    http_rate_tat_charge(&tat, 1048576, 0, 20 * S);
    assert_int_equal(http_rate_tat_wait(tat, 20 * S), 0);
}

static void test_shared_budget(void **state)
{
    http_rate_t *rl = http_rate_new(1000);

    (void)state;
    assert_non_null(rl);
    http_rate_charge(rl, 500, 0);                /* half a second of it */
    assert_int_equal(http_rate_wait(rl, 0), S / 2 - HTTP_RATE_BURST_NS);
    assert_int_equal(http_rate_wait(rl, S / 2), 0);
    http_rate_free(rl);
    http_rate_free(NULL);
    assert_null(http_rate_new(0));
    assert_null(http_rate_new(-1));
}

/* Pool threads charge one budget at once: no charge may be lost. */
static void *charge_many(void *arg)
{
    for (int i = 0; i < 10000; i++)
        http_rate_charge(arg, 1024, 0);
    return NULL;
}

static void test_threads_charge_one_budget(void **state)
{
    http_rate_t *rl = http_rate_new(1024000);   /* 1 KiB costs exactly 1 ms */
    pthread_t t[4];

    (void)state;
    assert_non_null(rl);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, charge_many, rl), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    /* 40000 ms charged at t = 0 */
    assert_int_equal(http_rate_wait(rl, 0), 40 * S - HTTP_RATE_BURST_NS);
    http_rate_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_budget_arithmetic),
        cmocka_unit_test(test_shared_budget),
        cmocka_unit_test(test_threads_charge_one_budget),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
