/*
 * keyfile.c — loading and making the cluster key file (format in keyfile.h).
 *
 * The permission check uses fstat on the descriptor actually read, so the file
 * checked is the file loaded.  Every buffer that held key bytes is wiped.
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
#define READ_MAX 256    /* anything longer is malformed; no need to read it */

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int keyfile_parse(const uint8_t *data, size_t n, uint8_t key[KEYFILE_BYTES], char *err,
                  size_t errlen)
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
				snprintf(err, errlen, "byte %zu is not a hex digit; expected 64 hex digits "
				         "or 32 raw bytes", i);
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

int keyfile_load(const char *path, uint8_t key[KEYFILE_BYTES], char *err, size_t errlen)
{
	uint8_t buf[READ_MAX + 1];
	char why[160];
	struct stat st;
	size_t n = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cluster key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cluster key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cluster key file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "cluster key file %s: group or others may access it (mode %04o); "
		         "run chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while (n < sizeof buf) {
		ssize_t r = read(fd, buf + n, sizeof buf - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cluster key file %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > READ_MAX) {
		snprintf(err, errlen, "cluster key file %s: malformed (too long); expected 64 hex "
		         "digits or 32 raw bytes", path);
		goto out;
	}
	if (keyfile_parse(buf, n, key, why, sizeof why) != 0) {
		snprintf(err, errlen, "cluster key file %s: malformed (%s)", path, why);
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(buf, sizeof buf);
	close(fd);
	return rc;
}

int keyfile_generate(const char *path, char *err, size_t errlen)
{
	uint8_t key[KEYFILE_BYTES];
	char hex[HEX_LEN + 2];
	int fd, rc = -1;
	size_t off = 0;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create cluster key file %s: %s", path, strerror(errno));
		return -1;
	}
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	hex[HEX_LEN] = '\n';
	/* umask can only remove bits; make sure of the exact mode anyway. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < HEX_LEN + 1) {
		ssize_t w = write(fd, hex + off, HEX_LEN + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "cannot write cluster key file %s: %s", path, strerror(errno));
	unlink(path);
out:
	sodium_memzero(key, sizeof key);
	sodium_memzero(hex, sizeof hex);
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errlen, "cannot write cluster key file %s: %s", path, strerror(errno));
		unlink(path);
		rc = -1;
	}
	return rc;
}
