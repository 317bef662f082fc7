/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Plain main() for fuzz targets: feed every file of the given corpus folders
 * (or files) to LLVMFuzzerTestOneInput once, as an ordinary regression test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    return -1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

int main(int argc, char **argv)
{
  int count = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    DIR *d;
    struct dirent *de;
    if (stat(argv[i], &st) < 0) {
      fprintf(stderr, "replay: %s: missing\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      count += replay_file(argv[i]) == 0;
      continue;
    }
    if (!(d = opendir(argv[i])))
      return 1;
    while ((de = readdir(d))) {
      char path[4096];
      if (de->d_name[0] == '.')
        continue;
      snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
      if (replay_file(path) < 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        closedir(d);
        return 1;
      }
      count++;
    }
    closedir(d);
  }
  if (count == 0) {
    fprintf(stderr, "replay: no corpus files\n");
    return 1;
  }
  printf("replayed %d inputs\n", count);
  return 0;
}
