/*
 * lib/core/input: where the names of input files come from, and reading one
 * input file into memory.
 *
 * A program takes file names as operands or, with none, one name per line
 * on standard input (NUL-separated with -0, as `find -print0` writes).
 * Nothing here writes to disk; nothing prints or exits.
 *
 * May use: core/ (err, reader).
 */
#ifndef DZ_INPUT_H
#define DZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct dz_err;

/*** File names ***/

/* Longest name read from a list (PATH_MAX * 4: room for odd encodings). */
#define DZ_NAME_MAX (4096 * 4)

struct dz_names;

/*
 * With n > 0, iterate operands[0..n-1] (not copied: they must outlive the
 * iterator, as argv does). With n == 0, read names from list (not owned,
 * not closed) separated by delim, '\n' or '\0'; no CR is stripped (a name
 * may end in CR). NULL with err when out of memory or on bad arguments.
 */
struct dz_names *dz_names_new(char **operands, int n, FILE *list, int delim,
    struct dz_err *err);

/*
 * The next name.
 *   1  *name is the name: an operand (argv storage), or a name from the
 *      list in a buffer owned by the iterator, valid until the next call.
 *      "-" is returned as is: the caller takes it for standard input.
 *   0  no more names.
 *  -1  a bad entry was skipped; err (EX_DATAERR) says which and why:
 *      "line 3: empty name", "entry 3: too long (more than 16384 bytes)",
 *      "line 3: contains a NUL byte", "argument 2: empty name".
 *      Call again for the next name.
 *  -2  read error on the list (EX_IOERR) or out of memory (EX_SOFTWARE);
 *      stop.
 */
int dz_names_next(struct dz_names *it, const char **name, struct dz_err *err);

/* Free the iterator (not the list stream). NULL is fine. */
void dz_names_free(struct dz_names *it);

/*** Reading a file ***/

/*
 * Read the whole of path into memory. "-" means standard input (file
 * descriptor 0, read directly: do not mix with stdio reads of stdin).
 * On success *buf is a malloc'd buffer the caller frees, non-NULL even
 * for an empty file (*len == 0; the decoder says "empty file").
 *
 * Accepted: regular files and FIFOs, and for "-" also sockets. Refused,
 * with err and -1:
 *   EX_NOINPUT  "cannot open: No such file or directory" (any stat/open
 *               failure, with its reason), "is a directory",
 *               "not a regular file" (devices, including /dev/null and a
 *               terminal on standard input)
 *   EX_DATAERR  "file too large: 12345 bytes exceeds limit 1000" for a
 *               regular file; "file too large: more than 1000 bytes" for a
 *               pipe (or a file that grows), checked while reading, so
 *               memory never exceeds the limit (plus one byte).
 *   EX_IOERR    "read error: ..."
 *   EX_SOFTWARE    "out of memory"
 * max_bytes == 0 means no limit.
 *
 * The type is checked with stat() before opening, so a device is never
 * opened. Files are opened O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK and
 * O_NONBLOCK is then cleared: opening a FIFO never blocks, and a FIFO that
 * has no writer at that moment reads as empty. Nothing is written anywhere.
 */
int dz_file_read(const char *path, uint64_t max_bytes, uint8_t **buf,
    size_t *len, struct dz_err *err);

#endif
