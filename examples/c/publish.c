/*
 * publish: register an OpenStack service over mDNS until SIGINT/SIGTERM.
 *
 *   publish [--interface IP] [-o NAME=VALUE]... TYPE URL [KEY=VALUE | KEY]...
 *   publish baremetal https://198.18.0.2/baremetal ipa_debug=1
 *
 * --interface IP is the "interfaces" option; -o sets any [mdns] option.
 * A KEY without '=' is a property without value. Exits 0 after withdrawing
 * the service (goodbye packets) on SIGINT or SIGTERM; exits 3 when another
 * host takes the name later (the registration is lost, RFC 6762 s9).
 * Build: cc publish.c $(pkg-config --cflags --libs ironicmdns)
 */
#define _POSIX_C_SOURCE 200809L
#include <ironicmdns.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int usage(void) {
    fprintf(stderr, "usage: publish [--interface IP] [-o NAME=VALUE]... TYPE URL [KEY=VALUE | KEY]...\n");
    return 2;
}

/* Set "NAME=VALUE" on opts; prints why not and returns nonzero on failure. */
static int set_option(zc_options *opts, const char *name, const char *value) {
    zc_status st = zc_options_set(opts, name, value);
    if (st != ZC_OK) {
        char detail[512];
        zc_options_last_error(opts, detail, sizeof detail);
        fprintf(stderr, "publish: option %s: %s (%s)\n", name, zc_strerror(st), detail);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    zc_options *opts = NULL;
    zc_props *props = NULL;
    zc_zeroconf *zc = NULL;
    sigset_t stop;
    int sig = 0, i = 1, rc = 1;
    zc_status st;
    char detail[512];

    /* Block the stop signals before the library starts its thread, so that
     * they reach sigtimedwait below and nothing else. */
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    if (zc_options_new(&opts) != ZC_OK || zc_props_new(&props) != ZC_OK) {
        fprintf(stderr, "publish: out of memory\n");
        goto out;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--interface") == 0 && i + 1 < argc) {
            if (set_option(opts, "interfaces", argv[++i]))
                goto out;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            char *eq = strchr(argv[++i], '=');
            if (!eq) {
                rc = usage();
                goto out;
            }
            *eq = '\0';
            if (set_option(opts, argv[i], eq + 1))
                goto out;
        } else {
            rc = usage();
            goto out;
        }
    }
    if (argc - i < 2) {
        rc = usage();
        goto out;
    }
    for (int k = i + 2; k < argc; k++) {
        char *eq = strchr(argv[k], '=');
        if (eq) {
            *eq = '\0';
            st = zc_props_set(props, argv[k], eq + 1, strlen(eq + 1));
        } else {
            st = zc_props_set(props, argv[k], NULL, 0);
        }
        if (st != ZC_OK) {
            zc_last_error(NULL, detail, sizeof detail);
            fprintf(stderr, "publish: property %s: %s\n", argv[k], detail);
            goto out;
        }
    }

    st = zc_new(opts, &zc);
    if (st != ZC_OK) {
        zc_options_last_error(opts, detail, sizeof detail);
        fprintf(stderr, "publish: cannot start mDNS: %s (%s)\n", zc_strerror(st), detail);
        goto out;
    }
    st = zc_register_service(zc, argv[i], argv[i + 1], props);
    if (st != ZC_OK) {
        zc_last_error(zc, detail, sizeof detail);
        fprintf(stderr, "publish: %s: %s (%s)\n", argv[i], zc_strerror(st), detail);
        goto out;
    }
    printf("published %s at %s\n", argv[i], argv[i + 1]);
    fflush(stdout);

    /* Until a stop signal: check for a lost registration once a second. */
    while (sig <= 0) {
        const struct timespec now = {0, 0};
        char *lost = NULL;
        st = zc_wait_lost(zc, 1000, &lost);
        if (st != ZC_OK) {
            zc_last_error(zc, detail, sizeof detail);
            fprintf(stderr, "publish: %s (%s)\n", zc_strerror(st), detail);
            goto out;
        }
        if (lost) {
            for (char *nl = strchr(lost, '\n'); nl; nl = strchr(nl, '\n'))
                *nl = ' ';
            fprintf(stderr, "publish: registration lost: %s\n", lost);
            zc_string_free(lost);
            rc = 3;
            goto out;
        }
        sig = sigtimedwait(&stop, NULL, &now); /* -1 (EAGAIN) when none is pending */
    }
    rc = 0;
out:
    st = zc_close(zc); /* withdraws the service; NULL is fine */
    if (st != ZC_OK && rc == 0) {
        zc_last_error(NULL, detail, sizeof detail);
        fprintf(stderr, "publish: withdrawing: %s\n", detail);
    }
    zc_props_free(props);
    zc_options_free(opts);
    return rc;
}
