/* crawl_signals: two uv_signal_t handles and the two-stage stop. */
#include "crawler/job/signals.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void signals_on_signal(uv_signal_t *h, int signum)
{
    crawl_signals_t *s = h->data;

    if (s->interrupted) {
        static const char msg[] = "\ngather: interrupted again: exiting now\n";
        if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
            /* nothing more to do */
        }
        _exit(130);
    }
    s->interrupted = 1;
    if (s->rep && s->rep->before_print)
        s->rep->before_print(s->rep->before_print_arg);
    fprintf(stderr, "gather: %s: stopping; %s (again to quit now)\n",
            signum == SIGINT ? "interrupt" : "terminated", s->hint);
    s->on_stop(s->arg);
}

int crawl_signals_start(crawl_signals_t *s, uv_loop_t *loop, void (*on_stop)(void *arg), void *arg,
                        crawl_report_t *rep, const char *hint)
{
    int result;

    s->on_stop = on_stop;
    s->arg = arg;
    s->rep = rep;
    s->hint = hint;
    s->interrupted = 0;
    if ((result = uv_signal_init(loop, &s->sigint)) < 0)
        return result;
    if ((result = uv_signal_init(loop, &s->sigterm)) < 0) {
        uv_close((uv_handle_t *)&s->sigint, NULL);
        return result;
    }
    s->on = 1;
    s->sigint.data = s->sigterm.data = s;
    if ((result = uv_signal_start(&s->sigint, signals_on_signal, SIGINT)) < 0 ||
        (result = uv_signal_start(&s->sigterm, signals_on_signal, SIGTERM)) < 0)
        return result;
    uv_unref((uv_handle_t *)&s->sigint);
    uv_unref((uv_handle_t *)&s->sigterm);
    return 0;
}

void crawl_signals_stop(crawl_signals_t *s)
{
    if (!s->on)
        return;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    s->on = 0;
}

/* ---- without a loop ------------------------------------------------------------------------ */

static volatile sig_atomic_t *blocking_flag;
static volatile pid_t *blocking_forward;
static struct sigaction blocking_old_int, blocking_old_term;

static void blocking_on_signal(int signum)
{
    pid_t child = blocking_forward ? *blocking_forward : 0;

    if (*blocking_flag)
        _exit(130);
    *blocking_flag = signum;
    if (signum == SIGTERM && child > 0)
        kill(child, SIGTERM);
}

void crawl_signals_start_blocking(volatile sig_atomic_t *flag, volatile pid_t *forward)
{
    struct sigaction sa;

    blocking_flag = flag;
    blocking_forward = forward;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = blocking_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &blocking_old_int);
    sigaction(SIGTERM, &sa, &blocking_old_term);
}

void crawl_signals_stop_blocking(void)
{
    sigaction(SIGINT, &blocking_old_int, NULL);
    sigaction(SIGTERM, &blocking_old_term, NULL);
}
