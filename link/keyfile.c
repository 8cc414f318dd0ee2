/*
 * keyfile.c — loading and making the cluster key file (format in keyfile.h).
 *
 * The permission check uses fstat on the descriptor actually read, so the file
 * checked is the file loaded.  Every buffer that held key bytes is wiped.
 * keyfile_read and keyfile_write_new serve the credential files too.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

#define HEX_LEN (2 * KEYFILE_BYTES)
#define READ_MAX 256 /* anything longer is malformed; no need to read it */

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int keyfile_parse(const uint8_t *data, size_t n, uint8_t key[KEYFILE_BYTES], char *err, size_t errlen)
{
	size_t len = n;

	if (n == KEYFILE_BYTES) {
		memcpy(key, data, KEYFILE_BYTES);
	} else {
		while (len > 0 && is_space(data[len - 1]))
			len--;
		if (len != HEX_LEN) {
			snprintf(err, errlen, "holds %zu bytes; expected 64 hex digits or 32 raw bytes", n);
			return -1;
		}
		for (size_t i = 0; i < HEX_LEN; i++) {
			if (!is_hex(data[i])) {
				snprintf(err, errlen,
				         "byte %zu is not a hex digit; expected 64 hex digits "
				         "or 32 raw bytes",
				         i);
				return -1;
			}
		}
		if (sodium_hex2bin(key, KEYFILE_BYTES, (const char *)data, HEX_LEN, NULL, NULL, NULL) != 0) {
			snprintf(err, errlen, "cannot decode the hex digits");
			return -1;
		}
	}
	if (sodium_is_zero(key, KEYFILE_BYTES)) {
		sodium_memzero(key, KEYFILE_BYTES);
		snprintf(err, errlen, "key is all zeros");
		return -1;
	}
	return 0;
}

static const char *kind_of(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "something else";
}

int keyfile_read(const char *path, const char *what, int private_only, uint8_t *buf, size_t cap, size_t *n,
                 char *err, size_t errlen)
{
	struct stat st, fst;
	size_t got = 0;
	int fd, rc = -1;

	/* stat first: opening a FIFO for reading blocks until a writer comes, and
	 * opening a device may do something.  Neither is ever a key file. */
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s: is %s, not a regular file", what, path, kind_of(st.st_mode));
		return -1;
	}
	/* O_NONBLOCK: if the path was swapped for a FIFO since the stat, the open
	 * still returns at once and the fstat below refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &fst) != 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(fst.st_mode)) {
		snprintf(err, errlen, "%s %s: is %s, not a regular file", what, path, kind_of(fst.st_mode));
		goto out;
	}
	if (private_only && (fst.st_mode & 077)) {
		snprintf(err, errlen,
		         "%s %s: group or others may access it (mode %04o); "
		         "run chmod 600 %s",
		         what, path, (unsigned)(fst.st_mode & 07777), path);
		goto out;
	}
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got == cap) {
		snprintf(err, errlen, "%s %s: malformed (too long)", what, path);
		goto out;
	}
	*n = got;
	rc = 0;
out:
	if (rc != 0)
		sodium_memzero(buf, cap);
	close(fd);
	return rc;
}

int keyfile_write_new(const char *path, const char *what, unsigned mode, const void *data, size_t n,
                      char *err, size_t errlen)
{
	const uint8_t *p = data;
	size_t off = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, (mode_t)mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	/* umask can only remove bits; make sure of the exact mode anyway. */
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot write %s %s: %s", what, path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}

int keyfile_load(const char *path, uint8_t key[KEYFILE_BYTES], char *err, size_t errlen)
{
	uint8_t buf[READ_MAX + 1];
	char why[160];
	size_t n = 0;
	int rc = -1;

	if (keyfile_read(path, "cluster key file", 1, buf, sizeof buf, &n, err, errlen) != 0)
		return -1;
	if (keyfile_parse(buf, n, key, why, sizeof why) != 0) {
		snprintf(err, errlen, "cluster key file %s: malformed (%s)", path, why);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	return rc;
}

int keyfile_generate(const char *path, char *err, size_t errlen)
{
	uint8_t key[KEYFILE_BYTES];
	char hex[HEX_LEN + 2];
	int rc;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -1;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	hex[HEX_LEN] = '\n';
	rc = keyfile_write_new(path, "cluster key file", 0600, hex, HEX_LEN + 1, err, errlen);
	sodium_memzero(key, sizeof key);
	sodium_memzero(hex, sizeof hex);
	return rc;
}
