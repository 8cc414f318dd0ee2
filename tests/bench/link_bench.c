/*
 * link_bench.c — secure link micro-benchmark (an executable, not a test).
 *
 * Measures, in one process and one thread, with no sockets:
 *   - sealing records of 64 B and 1 KiB in batches into one output buffer,
 *   - opening them on the other end (whole records, opened in place),
 *   - full handshakes (both ends, four X25519 operations in all), with the
 *     shared key only and with per-node credentials (each side also signs once
 *     and verifies two Ed25519 signatures: the peer's certificate and its
 *     transcript signature).
 * Usage: link_bench [seconds-per-case, default 1]
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "credential.h"
#include "linkpair.h"

#define BATCH 1000

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_records(const uint8_t *key, size_t size, double budget)
{
	struct pair_end i, r;
	uint8_t *msg = malloc(size);
	double seal = 0, open = 0;
	size_t n = 0;

	CHECK(msg != NULL);
	memset(msg, 0x5a, size);
	end_init(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "a", 1, key, 0);
	end_init(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "b", 2, key, 0);
	CHECK(pair_handshake(&i, &r, 0, 0) == 0);
	r.keep_log = 0;
	while (seal + open < budget) {
		double t0 = now_s();
		for (int k = 0; k < BATCH; k++)
			CHECK(link_seal(i.l, &i.out, 16, msg, size) == LINK_OK);
		double t1 = now_s();
		CHECK(link_feed(r.l, i.out.data, i.out.len, 0, &r.out) == LINK_ESTABLISHED);
		double t2 = now_s();
		i.out.len = 0;
		seal += t1 - t0;
		open += t2 - t1;
		n += BATCH;
	}
	CHECK(r.nrec == n);
	printf("%5zu B records: seal %8.0f rec/s %7.1f MB/s | open %8.0f rec/s %7.1f MB/s "
	       "| %.0f ns per seal+open\n",
	       size, n / seal, n * size / seal / 1e6, n / open, n * size / open / 1e6,
	       (seal + open) / n * 1e9);
	end_free(&i);
	end_free(&r);
	free(msg);
}

static void bench_handshake(const uint8_t *key, const struct link_credential *ci,
                            const struct link_credential *cr, const char *what, double budget)
{
	double spent = 0;
	size_t n = 0;

	while (spent < budget) {
		struct pair_end i, r;
		double t0 = now_s();
		end_init_cred(&i, LINK_INITIATOR, LINK_HARBOR_PEER, 1, "a", 1, key, ci, 0, 0);
		end_init_cred(&r, LINK_RESPONDER, LINK_HARBOR_PEER, 2, "b", 2, key, cr, 0, 0);
		CHECK(pair_handshake(&i, &r, 0, 0) == 0);
		end_free(&i);
		end_free(&r);
		spent += now_s() - t0;
		n++;
	}
	printf("handshake %-22s (both ends, incl. create/destroy): %.1f us, %.0f per second\n", what,
	       spent / n * 1e6, n / spent);
}

int main(int argc, char **argv)
{
	uint8_t key[LINK_KEY_BYTES];
	double budget = argc > 1 ? atof(argv[1]) : 1.0;

	CHECK(sodium_init() >= 0);
	randombytes_buf(key, sizeof key);
	bench_records(key, 64, budget);
	bench_records(key, 1024, budget);
	bench_handshake(key, NULL, NULL, "shared key", budget);
	/* per-node credentials, made here the way credential.c makes them */
	uint8_t ca_pub[LINK_SIGN_PUBLIC], ca_sec[LINK_SIGN_SECRET], pub[LINK_SIGN_PUBLIC];
	struct link_credential c[2];
	crypto_sign_keypair(ca_pub, ca_sec);
	for (int k = 0; k < 2; k++) {
		crypto_sign_keypair(pub, c[k].node_secret);
		c[k].cert_len = cred_cert_make((uint32_t)k + 1, NULL, 0, pub, ca_sec, c[k].cert);
		CHECK(c[k].cert_len > 0);
		memcpy(c[k].cluster_pub, ca_pub, sizeof ca_pub);
	}
	bench_handshake(key, &c[0], &c[1], "credentials + key", budget);
	bench_handshake(NULL, &c[0], &c[1], "credentials only", budget);
	return 0;
}
