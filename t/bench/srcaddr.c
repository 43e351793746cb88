/*
 * srcaddr.so - give every outgoing loopback TCP connection of a program its
 * own client /24, so that a load generator that cannot choose its source
 * address (wrk) looks like many clients to ip_hash.
 *
 *   LD_PRELOAD=build/srcaddr.so wrk ...
 *
 * connect() to an IPv4 loopback address first binds the socket to
 * 127.A.B.1, where A.B walks through 1.0, 1.1, ... 1.255, 2.0, ... one step
 * per connection.  ip_hash looks at the first three octets only, so each
 * connection is a distinct client for it.  Everything else goes straight to
 * the real connect().  Loopback only: a destination outside 127.0.0.0/8 is
 * never touched.
 */
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

static atomic_uint next_client;

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn real_connect;

	if (real_connect == NULL)
		real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");

	if (sa != NULL && sa->sa_family == AF_INET &&
	    len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *to = (const struct sockaddr_in *)sa;
		uint32_t dst = ntohl(to->sin_addr.s_addr);

		if ((dst >> 24) == 127) {
			unsigned n = atomic_fetch_add(&next_client, 1);
			/* 127.(1..254).(0..255).1: 65024 distinct /24s */
			uint32_t a = 1 + (n / 256) % 254, b = n % 256;
			struct sockaddr_in from = {
				.sin_family = AF_INET,
				.sin_addr.s_addr =
				    htonl(127u << 24 | a << 16 | b << 8 | 1),
			};

			/* A failed bind leaves the kernel's choice: the
			 * connection still works, as one more 127.0.0.1. */
			(void)bind(fd, (const struct sockaddr *)&from,
			    sizeof(from));
		}
	}
	return real_connect(fd, sa, len);
}
