/*
 * lua-secretfile.c — `skynet.secretfile`: read a small secret (an access
 * token) from a file only its owner can read, and compare secrets in constant
 * time.  Used by the debug console for its token (config key console_token).
 *
 *   read(path) -> text | nil, err
 *       The file must be a regular file (a FIFO or a device would block or
 *       never end: it is opened non-blocking and refused), with no permission
 *       bits for group or others (mode 0600 or 0400), at most SECRET_MAX bytes.
 *       Trailing white space (the newline an editor adds) is dropped.  err is
 *       one line that names the file and says what to do.
 *   equal(a, b) -> boolean
 *       Compares two strings without an early exit on the first difference,
 *       so the time taken does not tell how much of a guess was right.
 */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 4096

int luaopen_skynet_secretfile(lua_State *L);

static int fail(lua_State *L, const char *path, const char *what)
{
	lua_pushnil(L);
	lua_pushfstring(L, "token file %s: %s", path, what);
	return 2;
}

static int lread(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char buf[SECRET_MAX + 1];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(L, path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fail(L, path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(L, path, "not a regular file");
	}
	if (st.st_mode & 077) {
		close(fd);
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
		lua_pushnil(L);
		lua_pushfstring(L, "token file %s: group or others may access it (mode %s); run chmod 600 %s",
		                path, mode, path);
		return 2;
	}
	size_t n = 0;
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return fail(L, path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n > SECRET_MAX)
		return fail(L, path, "longer than 4096 bytes");
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	lua_pushlstring(L, buf, n);
	memset(buf, 0, sizeof(buf));
	return 1;
}

static int lequal(lua_State *L)
{
	size_t na, nb;
	const unsigned char *a = (const unsigned char *)luaL_checklstring(L, 1, &na);
	const unsigned char *b = (const unsigned char *)luaL_checklstring(L, 2, &nb);
	/* the loop runs over b (the guess) whatever a holds; a length mismatch
	 * still walks all of b */
	unsigned diff = na != nb;
	for (size_t i = 0; i < nb; i++)
		diff |= (unsigned)(b[i] ^ (na ? a[i % na] : 0));
	lua_pushboolean(L, diff == 0);
	return 1;
}

int luaopen_skynet_secretfile(lua_State *L)
{
	luaL_checkversion(L);
	static const luaL_Reg l[] = {
		{ "read", lread },
		{ "equal", lequal },
		{ NULL, NULL },
	};
	luaL_newlib(L, l);
	return 1;
}
