/*
 * skynet_config.h — load a node configuration file into the environment.
 *
 * The config is a Lua chunk (skynet's format): every global it assigns becomes
 * an env entry; `include "file"` runs another file relative to the including
 * one; `$NAME` in the raw text is replaced by the OS environment variable NAME.
 * Skiff's defaults for the path keys are pre-set before the chunk runs, so a
 * config can extend them (`luaservice = luaservice .. ";./my/?.lua"`).
 */
#ifndef SKYNET_CONFIG_H
#define SKYNET_CONFIG_H

#include <stddef.h>

struct config_default {
	const char *key;
	const char *value;
};

/* Load `path` (or, when text != NULL, the given text as if read from path).
 * defaults: NULL-key-terminated. On success every entry is set with
 * skynet_setenv and 0 is returned; on failure -1 and one line naming the file
 * and key is written to err. */
int skynet_config_load(const char *path, const char *text, size_t textlen,
                       const struct config_default *defaults, char *err, size_t errsz);

#endif
