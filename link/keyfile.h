/*
 * keyfile.h — the cluster key file (config key `cluster_key`).
 *
 * Format: 64 hex digits (upper or lower case) optionally followed by white space
 * such as a newline, or exactly 32 raw bytes.  The file must be a regular file
 * that neither group nor others may read or write (mode 0600 or 0400).
 *
 * Making one:
 *     skiff --genkey /etc/skiff/cluster.key
 * or, without Skiff at hand:
 *     (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > cluster.key)
 * Every node of a cluster gets a copy of the same file.
 */
#ifndef SKIFF_KEYFILE_H
#define SKIFF_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_BYTES 32

/* Loads the key into key[] (which the caller should keep in sodium_malloc'd or
 * otherwise wiped memory).  0 on success; -1 with a message naming the file and
 * what is wrong with it in err[0..errlen). */
int keyfile_load(const char *path, uint8_t key[KEYFILE_BYTES], char *err, size_t errlen);
/* Parses the contents of a key file (the format above).  0 or -1, with a short
 * description of the problem in err (no file name). */
int keyfile_parse(const uint8_t *data, size_t n, uint8_t key[KEYFILE_BYTES], char *err, size_t errlen);
/* Reads a small file (the key files and credential files all are).  Refuses,
 * before opening it, anything but a regular file (a FIFO would block the open,
 * a device could have side effects), and re-checks the descriptor it opened.
 * With `private_only`, group or others must have no access (0600 or 0400).
 * Reads at most cap bytes; a longer file is refused as "too long".  `what`
 * starts every message ("cluster key file").  0 with *n set, or -1. */
int keyfile_read(const char *path, const char *what, int private_only, uint8_t *buf, size_t cap, size_t *n,
                 char *err, size_t errlen);
/* Creates `path` (which must not exist) with `mode` and writes data[0..n) to it,
 * synced; removes it again on failure.  0, or -1 with a message. */
int keyfile_write_new(const char *path, const char *what, unsigned mode, const void *data, size_t n,
                      char *err, size_t errlen);
/* Writes a fresh random key as hex to a new file of mode 0600; refuses to
 * overwrite an existing file.  0, or -1 with a message in err. */
int keyfile_generate(const char *path, char *err, size_t errlen);

#endif
