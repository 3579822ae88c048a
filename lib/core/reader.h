/*
 * lib/core/reader: the bounded line reader every program reads its
 * records and name lists with.
 *
 * struct dz_reader cuts a stream into lines (or NUL-terminated entries)
 * with one reusable buffer that never grows past the line limit. It
 * copes with a missing final newline, CRLF, NUL bytes and over-long
 * lines; a bad line is reported with its number and reading goes on.
 * What a line means is the caller's business (lib/core/record parses
 * records, lib/core/input takes names).
 *
 * Nothing here prints or exits; failures fill a struct dz_err whose
 * message never quotes input content.
 *
 * May use: core/ (err).
 */
#ifndef DZ_READER_H
#define DZ_READER_H

#include <stddef.h>
#include <stdio.h>

struct dz_err;

/* Strip one CR before the LF ("\r\n" line ends); only with delim '\n'. */
#define DZ_READER_STRIP_CR 0x1

/* Longest record line accepted when dz_reader_new() is given 0. */
#define DZ_READER_MAX_DEFAULT (16u * 1024 * 1024)

struct dz_reader;

/*
 * Read f (not owned: the caller closes it) as lines ending in delim, '\n'
 * or '\0'. Lines longer than max_line bytes (delimiter excluded; 0 means
 * DZ_READER_MAX_DEFAULT) are skipped, never stored: memory stays bounded
 * by max_line whatever the input. flags: DZ_READER_STRIP_CR or 0.
 * Returns NULL with err filled on bad arguments (EX_SOFTWARE) or when out
 * of memory (EX_SOFTWARE). Free with dz_reader_free().
 *
 * The reader takes bytes from f with getc_unlocked() and returns a line
 * as soon as its delimiter arrives: it never waits for more input than
 * that, so records from a pipe are processed as they come.
 */
struct dz_reader *dz_reader_new(FILE *f, int delim, size_t max_line,
    unsigned flags, struct dz_err *err);

/*
 * The next line.
 *   1  *line is the line without its delimiter (and without the CR with
 *      DZ_READER_STRIP_CR), NUL-terminated, *len bytes long (0 for an empty
 *      line). The buffer belongs to the reader and is valid until the next
 *      call or dz_reader_free().
 *   0  end of input. A last line without a delimiter is still returned
 *      (as 1) first; empty input gives 0 at once. Later calls return 0.
 *  -1  a bad line was read and skipped; err (EX_DATAERR) says why:
 *      "line 12: too long (more than 16 bytes)" or, with delim '\n',
 *      "line 12: contains a NUL byte" ("entry 12: ..." with delim '\0').
 *      *line is NULL. Call again for the next line.
 *  -2  fatal: read error (EX_IOERR "read error: ...") or out of memory
 *      (EX_SOFTWARE). Later calls return -2 again.
 */
int dz_reader_next(struct dz_reader *r, const char **line, size_t *len,
    struct dz_err *err);

/* 1-based number of the line last returned (bad lines count); 0 before. */
size_t dz_reader_lineno(const struct dz_reader *r);

/* Free r and its buffer (not the FILE). NULL is fine. */
void dz_reader_free(struct dz_reader *r);

#endif
