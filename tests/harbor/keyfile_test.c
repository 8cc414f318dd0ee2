/*
 * keyfile_test.c — loading, refusing and making cluster key files.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "linkpair.h"

static char dir[] = "/tmp/skiff-keyfile-XXXXXX";
static char path[256];
static char err[512];

static void put(const char *name, const void *data, size_t n, mode_t mode)
{
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, n) == (ssize_t)n);
	CHECK(fchmod(fd, mode) == 0);
	close(fd);
}

static bool refused(const char *needle)
{
	uint8_t key[KEYFILE_BYTES];
	err[0] = '\0';
	if (keyfile_load(path, key, err, sizeof err) == 0)
		return false;
	/* Every refusal names the file and says what is wrong. */
	return strstr(err, path) != NULL && strstr(err, needle) != NULL;
}

static const char hex[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

static void check_key(const uint8_t *key)
{
	static const uint8_t want[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		                          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	CHECK(memcmp(key, want, 16) == 0 && memcmp(key + 16, want, 16) == 0);
}

int main(void)
{
	uint8_t key[KEYFILE_BYTES], key2[KEYFILE_BYTES];
	char buf[128];

	alarm(60);
	CHECK(sodium_init() >= 0);
	CHECK(mkdtemp(dir) != NULL);

	/* missing */
	snprintf(path, sizeof path, "%s/absent.key", dir);
	CHECK(refused("No such file"));

	/* good hex, with and without a trailing newline */
	put("hex.key", hex, 64, 0600);
	CHECK(keyfile_load(path, key, err, sizeof err) == 0);
	check_key(key);
	snprintf(buf, sizeof buf, "%s\r\n  \n", hex);
	put("hexnl.key", buf, strlen(buf), 0400);
	CHECK(keyfile_load(path, key, err, sizeof err) == 0);
	check_key(key);

	/* bad hex digit, wrong lengths, leading junk */
	memcpy(buf, hex, 64); // NOLINT(bugprone-not-null-terminated-result): a key file holds no NUL
	buf[10] = 'g';
	put("badhex.key", buf, 64, 0600);
	CHECK(refused("byte 10 is not a hex digit"));
	put("short.key", hex, 63, 0600);
	CHECK(refused("holds 63 bytes"));
	snprintf(buf, sizeof buf, "%s0", hex);
	put("long.key", buf, 65, 0600);
	CHECK(refused("holds 65 bytes"));
	snprintf(buf, sizeof buf, " %s", hex);
	put("lead.key", buf, 65, 0600);
	CHECK(refused("malformed"));
	put("empty.key", "", 0, 0600);
	CHECK(refused("holds 0 bytes"));
	char big[1000];
	memset(big, 'a', sizeof big);
	put("huge.key", big, sizeof big, 0600);
	CHECK(refused("too long"));

	/* permissions: group or other access of any kind is refused */
	put("open.key", hex, 64, 0644);
	CHECK(refused("mode 0644"));
	CHECK(strstr(err, "chmod 600") != NULL);
	put("group.key", hex, 64, 0640);
	CHECK(refused("mode 0640"));
	put("otherw.key", hex, 64, 0602);
	CHECK(refused("mode 0602"));
	put("ok.key", hex, 64, 0600);
	CHECK(keyfile_load(path, key, err, sizeof err) == 0);

	/* raw 32 bytes (even ones that look like whitespace) */
	for (int k = 0; k < 32; k++)
		key2[k] = (uint8_t)(k == 31 ? '\n' : 0xa0 + k);
	put("raw.key", key2, 32, 0600);
	CHECK(keyfile_load(path, key, err, sizeof err) == 0);
	CHECK(memcmp(key, key2, 32) == 0);

	/* an all-zero key is a mistake, not a key */
	memset(key2, 0, sizeof key2);
	put("zero.key", key2, 32, 0600);
	CHECK(refused("all zeros"));

	/* a directory */
	snprintf(path, sizeof path, "%s", dir);
	CHECK(chmod(dir, 0700) == 0);
	CHECK(refused("is a directory, not a regular file"));

	/* A FIFO with no writer: opening it for reading would block start-up for
	 * ever.  It is refused at once (alarm(60) above catches a hang), and so is
	 * a symlink to it, a socket and a device. */
	snprintf(path, sizeof path, "%s/fifo.key", dir);
	CHECK(mkfifo(path, 0600) == 0);
	CHECK(refused("is a FIFO, not a regular file"));
	char link_path[sizeof path];
	snprintf(link_path, sizeof link_path, "%s/link.key", dir);
	CHECK(symlink(path, link_path) == 0);
	snprintf(path, sizeof path, "%s", link_path);
	CHECK(refused("is a FIFO, not a regular file"));
	snprintf(path, sizeof path, "%s/sock.key", dir);
	int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	CHECK(sfd >= 0 && strlen(path) < sizeof sun.sun_path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	CHECK(bind(sfd, (struct sockaddr *)&sun, sizeof sun) == 0);
	CHECK(refused("is a socket, not a regular file"));
	close(sfd);
	snprintf(path, sizeof path, "/dev/zero");
	CHECK(refused("is a device, not a regular file"));

	/* generate: mode 0600, loads back, never overwrites */
	snprintf(path, sizeof path, "%s/new.key", dir);
	CHECK(keyfile_generate(path, err, sizeof err) == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_size == 65);
	CHECK(keyfile_load(path, key, err, sizeof err) == 0);
	CHECK(keyfile_generate(path, err, sizeof err) == -1);
	CHECK(strstr(err, path) != NULL && strstr(err, "File exists") != NULL);
	CHECK(keyfile_load(path, key2, err, sizeof err) == 0);
	CHECK(memcmp(key, key2, 32) == 0);
	snprintf(path, sizeof path, "%s/no/such/dir.key", dir);
	CHECK(keyfile_generate(path, err, sizeof err) == -1 && strstr(err, path) != NULL);

	/* the parser on its own */
	CHECK(keyfile_parse((const uint8_t *)hex, 64, key, err, sizeof err) == 0);
	check_key(key);
	CHECK(keyfile_parse((const uint8_t *)hex, 62, key, err, sizeof err) == -1);

	/* clean up */
	const char *names[] = {
		"hex.key",   "hexnl.key", "badhex.key", "short.key", "long.key",   "lead.key",
		"empty.key", "huge.key",  "open.key",   "group.key", "otherw.key", "ok.key",
		"raw.key",   "zero.key",  "new.key",    "fifo.key",  "link.key",   "sock.key"
	};
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[k]);
		CHECK(unlink(path) == 0);
	}
	CHECK(rmdir(dir) == 0);
	printf("ok - keyfile\n");
	return 0;
}
