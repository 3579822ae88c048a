/*
 * lib/core/builtin: the data files of share/dz/ (the provider directory, the
 * notice templates), compiled into the programs by scripts/embed, so
 * that they work with nothing installed. Configuration settings name
 * files that replace them (see dz.yaml(5)).
 *
 * May use: the C library only.
 */
#ifndef DZ_BUILTIN_H
#define DZ_BUILTIN_H

#include <stddef.h>

/*
 * The text of the file name ("providers.yaml", "templates/notice.en.txt"),
 * static, with its length in *len; NULL when there is no such file.
 */
const char *dz_builtin(const char *name, size_t *len);

#endif
