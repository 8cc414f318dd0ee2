/*
 * replay_main.c — runs a fuzz target over every file of the corpus
 * directories (or files) named on the command line, so the committed corpus is
 * replayed by plain gcc builds in the normal test run.  An empty corpus fails:
 * a replay that replays nothing proves nothing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (buf == NULL) {
			fclose(f);
			return -1;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		uint8_t *nbuf = realloc(buf, cap);
		if (nbuf == NULL)
			free(buf);
		buf = nbuf;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = 0;

	alarm(300);
	for (int a = 1; a < argc; a++) {
		struct stat st;
		if (stat(argv[a], &st) != 0) {
			perror(argv[a]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[a]) != 0)
				return 1;
			count++;
			continue;
		}
		DIR *dir = opendir(argv[a]);
		if (dir == NULL) {
			perror(argv[a]);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(dir)) != NULL) {
			char path[4096];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
			if (run_file(path) != 0)
				return 1;
			count++;
		}
		closedir(dir);
	}
	printf("replayed %zu inputs\n", count);
	return count > 0 ? 0 : 1;
}
