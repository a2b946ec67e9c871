/*
 * browse: list every OpenStack service (_openstack._tcp) heard on the link.
 *
 *   browse [--interface IP] [-o NAME=VALUE]... [MILLISECONDS]
 *   browse 1500
 *
 * Listens MILLISECONDS (default 1000, at most 60000), then prints one line
 * per service: TYPE URL [KEY=VALUE | KEY]...; when its URL cannot be built,
 * TYPE "-" and the reason after '#'. Exits 0 (also when none answered), 2
 * on a failure.
 * Build: cc browse.c $(pkg-config --cflags --libs ironicmdns)
 */
#include <ironicmdns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: browse [--interface IP] [-o NAME=VALUE]... [MILLISECONDS]\n");
    return 2;
}

static int set_option(zc_options *opts, const char *name, const char *value) {
    zc_status st = zc_options_set(opts, name, value);
    if (st != ZC_OK) {
        char detail[512];
        zc_options_last_error(opts, detail, sizeof detail);
        fprintf(stderr, "browse: option %s: %s (%s)\n", name, zc_strerror(st), detail);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    zc_options *opts = NULL;
    zc_zeroconf *zc = NULL;
    zc_services *list = NULL;
    unsigned long ms = 1000;
    char detail[512];
    int i = 1, rc = 2;
    zc_status st;

    if (zc_options_new(&opts) != ZC_OK)
        return 2;
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
    if (argc - i > 1) {
        rc = usage();
        goto out;
    }
    if (argc - i == 1) {
        char *end;
        ms = strtoul(argv[i], &end, 10);
        if (*argv[i] == '\0' || *end != '\0' || ms > 60000) {
            rc = usage();
            goto out;
        }
    }

    st = zc_new(opts, &zc);
    if (st != ZC_OK) {
        zc_options_last_error(opts, detail, sizeof detail);
        fprintf(stderr, "browse: cannot start mDNS: %s (%s)\n", zc_strerror(st), detail);
        goto out;
    }
    st = zc_browse(zc, (uint32_t)ms, &list);
    if (st != ZC_OK) {
        zc_last_error(zc, detail, sizeof detail);
        fprintf(stderr, "browse: %s (%s)\n", zc_strerror(st), detail);
        goto out;
    }
    for (size_t k = 0; k < zc_services_count(list); k++) {
        const char *type, *url, *error;
        const zc_props *props;
        if (zc_services_get_at(list, k, &type, &url, &error, &props) != ZC_OK)
            break;
        printf("%s %s", type, url ? url : "-");
        for (size_t p = 0; p < zc_props_count(props); p++) {
            const char *key, *value;
            size_t len;
            int has_value;
            if (zc_props_get_at(props, p, &key, &value, &len, &has_value) != ZC_OK)
                break;
            if (has_value)
                printf(" %s=%.*s", key, (int)len, value);
            else
                printf(" %s", key);
        }
        if (error)
            printf(" # %s", error);
        putchar('\n');
    }
    rc = 0;
out:
    zc_services_free(list);
    zc_close(zc);
    zc_options_free(opts);
    return rc;
}
