/*
 * ctl_set.c - fcgatectl `set`: change one server's weight or admin state.
 *
 * The server is found by upstream name and address in the segment; the
 * new value goes in through shm_server_set_weight() / _set_admin(), which
 * every worker reads on its next pick.  Nothing else in the segment is
 * changed, and nothing is signalled: the master does not need to know.
 */
#include <stdio.h>
#include <string.h>

#include "shared/proto/num.h"
#include "ctl_set.h"

#define CTL_MIN_WEIGHT 1
#define CTL_MAX_WEIGHT 1000

/* The server `addr` of upstream `name`, or NULL with the reason printed. */
static struct shm_server *
ctl_find_server(struct ctl *c, const char *name, const char *addr)
{
	const struct shm_header *h = c->shm.hdr;
	struct shm_upstream *up;
	struct shm_server *s;
	uint32_t u, i;

	for (u = 0; u < h->nupstreams; u++) {
		up = &c->shm.upstreams[u];
		if (strncmp(up->name, name, SHM_NAME_LEN) != 0 ||
		    strlen(name) >= SHM_NAME_LEN)
			continue;
		for (i = 0; i < up->nservers; i++) {
			if (up->first_server + i >= h->nservers)
				break;
			s = &c->shm.servers[up->first_server + i];
			if (strlen(addr) < SHM_ADDR_LEN &&
			    strncmp(s->addr, addr, SHM_ADDR_LEN) == 0)
				return s;
		}
		fprintf(stderr, "fcgatectl: no server %s in upstream %s\n",
		    addr, name);
		return NULL;
	}
	fprintf(stderr, "fcgatectl: no upstream %s\n", name);
	return NULL;
}

static const char *
ctl_admin_name(int32_t admin)
{
	return admin == SHM_ADMIN_DOWN ? "down" :
	    admin == SHM_ADMIN_DRAIN   ? "drain" :
					 "up";
}

/* CTL_MIN_WEIGHT..CTL_MAX_WEIGHT, or -1. */
static int
ctl_parse_weight(const char *s)
{
	uint64_t v;

	if (num_parse_str(s, CTL_MAX_WEIGHT, &v) == -1 || v < CTL_MIN_WEIGHT)
		return -1;
	return (int)v;
}

/* A text field of the segment as printf's "%.*s" arguments: a worker may
 * have left it without its NUL, so it is read no further than its size. */
#define CTL_FIELD(f) (int)strnlen((f), sizeof(f)), (f)

static void
ctl_set_print_weight(const struct ctl *c, const struct shm_server *s,
    char **argv, int32_t old)
{
	int32_t now = atomic_load_explicit(&s->weight, memory_order_relaxed);

	if (c->json)
		printf("{\"upstream\":\"%.*s\",\"server\":\"%.*s\","
		       "\"weight\":{\"old\":%d,\"new\":%d}}\n",
		    CTL_FIELD(s->upstream), CTL_FIELD(s->addr), (int)old,
		    (int)now);
	else
		printf("%s %s: weight %d -> %d\n", argv[0], argv[1], (int)old,
		    (int)now);
}

/* argv: UPSTREAM SERVER (weight N | down | up | drain), checked. */
int
ctl_set(struct ctl *c, char **argv)
{
	struct shm_server *s;
	int32_t old, admin;

	if ((s = ctl_find_server(c, argv[0], argv[1])) == NULL)
		return -1;
	if (strcmp(argv[2], "weight") == 0) {
		old = shm_server_set_weight(s, ctl_parse_weight(argv[3]));
		ctl_set_print_weight(c, s, argv, old);
		return 0;
	}
	admin = strcmp(argv[2], "down") == 0 ? SHM_ADMIN_DOWN :
	    strcmp(argv[2], "drain") == 0    ? SHM_ADMIN_DRAIN :
					       SHM_ADMIN_UP;
	old = shm_server_set_admin(s, admin);
	if (c->json)
		printf("{\"upstream\":\"%.*s\",\"server\":\"%.*s\","
		       "\"state\":{\"old\":\"%s\",\"new\":\"%s\"}}\n",
		    CTL_FIELD(s->upstream), CTL_FIELD(s->addr),
		    ctl_admin_name(old), ctl_admin_name(admin));
	else
		printf("%s %s: %s -> %s\n", argv[0], argv[1],
		    ctl_admin_name(old), ctl_admin_name(admin));
	return 0;
}

enum ctl_check
ctl_set_check(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[2], "weight") == 0) {
		if (ctl_parse_weight(argv[3]) == -1) {
			fprintf(stderr,
			    "fcgatectl: weight must be a number "
			    "from %d to %d\n",
			    CTL_MIN_WEIGHT, CTL_MAX_WEIGHT);
			return CTL_CHECK_REFUSED;
		}
		return CTL_CHECK_OK;
	}
	if (argc == 3 &&
	    (strcmp(argv[2], "down") == 0 || strcmp(argv[2], "up") == 0 ||
		strcmp(argv[2], "drain") == 0))
		return CTL_CHECK_OK;
	return CTL_CHECK_USAGE;
}
