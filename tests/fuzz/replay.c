/* Runs a fuzz target over every file of its corpus folder (CORPUS, set at
 * build time): the regression test make test runs for each target. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	DIR *d = opendir(CORPUS);
	struct dirent *e;
	int n = 0;

	if (!d) {
		perror(CORPUS);
		return 1;
	}
	while ((e = readdir(d))) {
		char path[1024];
		static unsigned char buf[1 << 20];
		size_t len;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", CORPUS, e->d_name);
		f = fopen(path, "rb");
		if (!f) {
			perror(path);
			return 1;
		}
		len = fread(buf, 1, sizeof buf, f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, len);
		n++;
	}
	closedir(d);
	printf("%s: %d inputs replayed, none failed\n", CORPUS, n);
	return n > 0 ? 0 : 1;
}
