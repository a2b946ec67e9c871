/*
 * Cancel tokens racing every blocking call. Threads sit inside the _ex
 * calls on one handle (lookups with long attempts, browses, waits for
 * losses, registrations while probing, one-shot lookups); some share one
 * token, which several threads trigger at once, the others hold a token
 * of their own, triggered by the thread that owns it at a moment that
 * differs per thread (some before the call even starts). Every call must
 * return ZC_ERR_CANCELLED within the bound (ms, argv[1], default 50) of
 * its token's first trigger, write no output, and the handle must stay
 * usable: after each round a call without a token and a registration with
 * a fresh token succeed, and zc_close finds nothing to wait for. The driver
 * runs this also under valgrind --fair-sched=yes (no memory error, no
 * leak). Rounds: argv[2] (default 3).
 */
#define _POSIX_C_SOURCE 200809L
#include <ironicmdns.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KINDS 5      /* lookup, browse, wait lost, register, one-shot lookup */
#define PER_KIND 4   /* two share the common token, two have their own */
#define CALLS (KINDS * PER_KIND)
#define TRIGGERS 3   /* threads triggering the shared token at once */

static zc_zeroconf *zc;
static zc_cancel *shared;
static zc_options *lookup_opts;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int failures;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void fail(long id, const char *what, zc_status st) {
    pthread_mutex_lock(&lock);
    fprintf(stderr, "cancel_race: call %ld: %s: %d (%s)\n", id, what, (int)st, zc_strerror(st));
    failures++;
    pthread_mutex_unlock(&lock);
}

struct call {
    zc_cancel *token;     /* shared or own */
    long delay_ms;        /* own token: when its trigger comes */
    double triggered;     /* ms of the first trigger of its token */
    zc_status st;
    double end;
};
static struct call calls[CALLS];
static double shared_triggered;

static void *worker(void *arg) {
    long id = (long)arg;
    struct call *c = &calls[id];
    char type[32], *url = NULL, *lost = NULL;
    zc_props *props = NULL;
    zc_services *list = NULL;
    uint32_t flags = 0xdead;
    zc_status st;

    snprintf(type, sizeof type, "nobody-%ld", id);
    switch (id % KINDS) {
    case 0:
        st = zc_get_endpoint_ex(zc, type, 1, 0, c->token, &url, &props, &flags);
        break;
    case 1:
        st = zc_browse_ex(zc, 60000, c->token, &list);
        break;
    case 2:
        st = zc_wait_lost_ex(zc, 60000, c->token, &lost);
        break;
    case 3:
        st = zc_register_service_ex(zc, type, "http://127.0.0.1:6385", NULL, c->token);
        break;
    default:
        st = zc_lookup_ex(lookup_opts, type, 1, 0, c->token, &url, &props, &flags);
        break;
    }
    c->end = now_ms();
    c->st = st;
    if (url != NULL || props != NULL || list != NULL || lost != NULL || flags != 0xdead)
        fail(id, "outputs written on failure", st);
    if (st == ZC_OK) { /* free what a wrong success gave */
        zc_string_free(url);
        zc_props_free(props);
        zc_services_free(list);
        zc_string_free(lost);
    }
    return NULL;
}

/* Triggers the token of call `id` after its delay. */
static void *own_trigger(void *arg) {
    long id = (long)arg;
    sleep_ms(calls[id].delay_ms);
    calls[id].triggered = now_ms();
    if (zc_cancel_trigger(calls[id].token) != ZC_OK)
        fail(id, "zc_cancel_trigger", ZC_ERR_INTERNAL);
    return NULL;
}

static void *shared_trigger(void *arg) {
    (void)arg;
    double t = now_ms();
    pthread_mutex_lock(&lock);
    if (shared_triggered == 0)
        shared_triggered = t;
    pthread_mutex_unlock(&lock);
    if (zc_cancel_trigger(shared) != ZC_OK)
        fail(-1, "zc_cancel_trigger (shared)", ZC_ERR_INTERNAL);
    return NULL;
}

static int check_bad_input(void) {
    int bad = 0;
    char *url = NULL;
    bad |= zc_cancel_new(NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_cancel_trigger(NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_cancel_is_triggered(NULL) != 0;
    zc_cancel_free(NULL);
    bad |= zc_get_endpoint_ex(NULL, "x", 1, 0, NULL, &url, NULL, NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_get_endpoint_ex(zc, "x", 1, 0, NULL, NULL, NULL, NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_lookup_ex(NULL, NULL, 1, 0, NULL, &url, NULL, NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_browse_ex(zc, 60001, NULL, NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_wait_lost_ex(zc, -1, NULL, NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= zc_register_service_ex(zc, "", "http://127.0.0.1", NULL, NULL) != ZC_ERR_INVALID_ARGUMENT;
    bad |= url != NULL;
    if (bad)
        fprintf(stderr, "cancel_race: bad input not refused as documented\n");
    bad |= strcmp(zc_strerror(ZC_ERR_CANCELLED), "cancelled") != 0;
    return bad;
}

int main(int argc, char **argv) {
    double bound = argc > 1 ? atof(argv[1]) : 50.0;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    double worst = 0;
    zc_options *opts = NULL;

    if (zc_options_new(&opts) != ZC_OK || zc_options_set(opts, "lookup_attempts", "10") != ZC_OK ||
        zc_options_set(opts, "lookup_timeout", "2") != ZC_OK ||
        zc_options_set(opts, "interfaces", "127.0.0.1") != ZC_OK) {
        fprintf(stderr, "cancel_race: options failed\n");
        return 1;
    }
    lookup_opts = opts;
    if (zc_new(opts, &zc) != ZC_OK) {
        fprintf(stderr, "cancel_race: zc_new failed\n");
        return 1;
    }
    if (check_bad_input())
        failures++;
    for (int round = 0; round < rounds; round++) {
        pthread_t t[CALLS], own[CALLS], trig[TRIGGERS];
        zc_cancel *fresh = NULL;
        char *lost = (char *)1;

        memset(calls, 0, sizeof calls);
        shared_triggered = 0;
        if (zc_cancel_new(&shared) != ZC_OK)
            return 1;
        for (long i = 0; i < CALLS; i++) {
            if (i % PER_KIND < 2) {
                calls[i].token = shared;
            } else {
                if (zc_cancel_new(&calls[i].token) != ZC_OK)
                    return 1;
                /* 0 ms: often before the call starts; up to 400 ms: deep
                 * into probing, attempts and waits */
                calls[i].delay_ms = (i * 37 + round * 101) % 400;
                if (i % 7 == 0)
                    calls[i].delay_ms = 0;
            }
        }
        for (long i = 0; i < CALLS; i++)
            pthread_create(&t[i], NULL, worker, (void *)i);
        for (long i = 0; i < CALLS; i++)
            if (calls[i].token != shared)
                pthread_create(&own[i], NULL, own_trigger, (void *)i);
        sleep_ms(250);
        for (int i = 0; i < TRIGGERS; i++)
            pthread_create(&trig[i], NULL, shared_trigger, NULL);
        for (int i = 0; i < TRIGGERS; i++)
            pthread_join(trig[i], NULL);
        for (long i = 0; i < CALLS; i++) {
            pthread_join(t[i], NULL);
            if (calls[i].token != shared)
                pthread_join(own[i], NULL);
        }
        for (long i = 0; i < CALLS; i++) {
            double at = calls[i].token == shared ? shared_triggered : calls[i].triggered;
            double late = calls[i].end - at;
            if (calls[i].st != ZC_ERR_CANCELLED)
                fail(i, "want ZC_ERR_CANCELLED", calls[i].st);
            if (zc_cancel_is_triggered(calls[i].token) != 1)
                fail(i, "token not triggered", calls[i].st);
            if (late > worst)
                worst = late;
            if (late > bound) {
                pthread_mutex_lock(&lock);
                fprintf(stderr, "cancel_race: round %d call %ld returned %.1f ms after its trigger (bound %.0f)\n",
                        round, i, late, bound);
                failures++;
                pthread_mutex_unlock(&lock);
            }
            if (calls[i].token != shared)
                zc_cancel_free(calls[i].token);
        }
        /* a triggered token stays triggered: the next call ends at once */
        if (zc_wait_lost_ex(zc, 60000, shared, &lost) != ZC_ERR_CANCELLED || lost != (char *)1)
            fail(-1, "a call with a triggered token", ZC_ERR_INTERNAL);
        zc_cancel_free(shared);
        /* the handle is still usable */
        lost = (char *)1;
        if (zc_wait_lost_ex(zc, 0, NULL, &lost) != ZC_OK || lost != NULL)
            fail(-1, "zc_wait_lost_ex after the round", ZC_ERR_INTERNAL);
        if (round == rounds - 1) {
            zc_status st;
            if (zc_cancel_new(&fresh) != ZC_OK)
                return 1;
            st = zc_register_service_ex(zc, "after", "http://127.0.0.1:6385", NULL, fresh);
            if (st != ZC_OK)
                fail(-1, "a registration with a fresh token after the cancels", st);
            zc_cancel_free(fresh);
        }
    }
    {
        double start = now_ms();
        if (zc_close(zc) != ZC_OK)
            fail(-1, "zc_close", ZC_ERR_INTERNAL);
        printf("cancel_race: zc_close took %.1f ms\n", now_ms() - start);
    }
    zc_options_free(opts);
    printf("cancel_race: slowest return after a trigger: %.1f ms (bound %.0f)\n", worst, bound);
    if (failures) {
        fprintf(stderr, "cancel_race: %d failure(s)\n", failures);
        return 1;
    }
    printf("cancel_race: all checks passed\n");
    return 0;
}
