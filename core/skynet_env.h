/*
 * skynet_env.h — the node's write-once key/value environment (config keys and
 * whatever services add with setenv).
 */
#ifndef SKYNET_ENV_H
#define SKYNET_ENV_H

/* The returned string stays valid for the life of the process. */
const char *skynet_getenv(const char *key);
/* Returns 0, or -1 if the key is already set (entries are write-once). */
int skynet_setenv(const char *key, const char *value);

void skynet_env_init(void);
void skynet_env_exit(void);

#endif
