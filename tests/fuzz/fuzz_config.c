/*
 * fuzz_config.c — the config loader (core/skynet_config.c:
 * skynet_config_load with the text given) on hostile config files.
 *
 * A config is a Lua chunk, and running arbitrary Lua from a fuzzer is neither
 * safe (os.execute, io.read on stdin) nor useful (it fuzzes Lua itself, and
 * `while true do end` just hangs).  So the input is turned into a config text
 * that can contain no call and no loop, in one of two modes (first byte):
 *
 *   even: raw text, but only if it holds none of ( { [ " ' : $ \ and none of
 *         the words while repeat goto for function; anything else (syntax
 *         errors, arithmetic errors, nil concatenation, assignments to the
 *         defaults, operators on them, long lines, binary bytes) goes through.
 *   odd:  a list of entries built from the bytes: each is
 *         _ENV["<key bytes, all escaped>"] = <value> where the value is a quoted
 *         string of arbitrary bytes (embedded NULs too), an integer, a float, a
 *         boolean, an empty table, a $SKIFF_FUZZ_SET / $SKIFF_FUZZ_UNSET
 *         expansion (in a quoted string, in code and in a long string; the
 *         set value holds quotes, ]], a newline and os.exit, so were it ever
 *         run as code the fuzzer would stop), or an include of a missing file
 *         or of a non-string.
 *
 * Properties: load returns 0 or -1; on -1 the error is one non-empty line;
 * on 0 every default is set in the env and, for keys made only of safe
 * characters, the env holds the value the text gave.  The env is re-created
 * for every input (skynet_env_exit / skynet_env_init), so nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "skynet_config.h"
#include "skynet_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct config_default defaults[] = {
	{ "luaservice", "./service/?.lua" },
	{ "cpath", "./cservice/?.so" },
	{ "thread", "8" },
	{ NULL, NULL },
};

struct text {
	char *p;
	size_t len, cap;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->cap);
		FUZZ_ASSERT(t->p != NULL);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void put_quoted(struct text *t, const uint8_t *s, size_t n)
{
	char esc[8];
	puts_(t, "\"");
	for (size_t i = 0; i < n; i++) {
		snprintf(esc, sizeof(esc), "\\%03u", s[i]);
		puts_(t, esc);
	}
	puts_(t, "\"");
}

static int raw_ok(const uint8_t *s, size_t n)
{
	static const char *const words[] = { "while", "repeat", "goto", "for", "function" };
	for (size_t i = 0; i < n; i++)
		if (strchr("({[\"':$\\", s[i]) != NULL && s[i] != '\0')
			return 0;
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (memmem(s, n, words[w], strlen(words[w])) != NULL)
			return 0;
	return 1;
}

static size_t take(const uint8_t **p, const uint8_t *end, size_t want)
{
	size_t left = (size_t)(end - *p);
	return want < left ? want : left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		/* a value that, pasted as text, would end any literal and stop the
		 * process: it must come through as data */
		setenv("SKIFF_FUZZ_SET", "set \"]]'==] by the fuzzer\nos.exit(3) --", 1);
		unsetenv("SKIFF_FUZZ_UNSET");
		ready = 1;
	}
	if (size == 0)
		return 0;
	struct text t = { NULL, 0, 0 };
	const uint8_t *p = data + 1, *end = data + size;

	if ((data[0] & 1) == 0) {
		if (!raw_ok(p, (size_t)(end - p)))
			return 0;
		put(&t, (const char *)p, (size_t)(end - p));
	} else {
		while (p < end) {
			uint8_t b = *p++;
			size_t kn = take(&p, end, b >> 4);
			puts_(&t, "_ENV[");
			put_quoted(&t, p, kn);
			p += kn;
			puts_(&t, "] = ");
			switch (b & 15) {
			case 0:
			case 1:
			case 2: { /* a string of arbitrary bytes */
				size_t vn = take(&p, end, p < end ? *p++ : 0);
				put_quoted(&t, p, vn);
				p += vn;
				break;
			}
			case 3: puts_(&t, "42"); break;
			case 4: puts_(&t, "-9223372036854775808"); break;
			case 5: puts_(&t, "1e308 * 10"); break;
			case 6: puts_(&t, "0/0"); break;
			case 7: puts_(&t, "true"); break;
			case 8: puts_(&t, "false"); break;
			case 9: puts_(&t, "{}"); break;
			case 10: puts_(&t, "\"$SKIFF_FUZZ_SET\""); break;
			case 11: puts_(&t, "\"$SKIFF_FUZZ_UNSET\""); break;
			case 12: puts_(&t, "luaservice .. \";x\""); break;
			case 13: puts_(&t, "nil include \"skiff-fuzz-no-such-file.conf\""); break;
			case 14: puts_(&t, "nil include(42)"); break;
			default: puts_(&t, "$SKIFF_FUZZ_SET .. [[$SKIFF_FUZZ_SET]]"); break;
			}
			puts_(&t, "\n");
		}
	}

	skynet_env_init();
	char err[512];
	err[0] = '\0';
	int r = skynet_config_load("fuzz.conf", t.p ? t.p : "", t.len, defaults, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -1);
	if (r == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		FUZZ_ASSERT(strlen(err) < sizeof(err));
	} else {
		for (const struct config_default *d = defaults; d->key; d++)
			FUZZ_ASSERT(skynet_getenv(d->key) != NULL);
	}
	skynet_env_exit();
	free(t.p);
	return 0;
}
