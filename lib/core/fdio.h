/*
 * lib/core/fdio: whole reads and writes on file descriptors, and making a new
 * directory entry durable. The loops every module would otherwise write
 * again (EINTR, short reads and writes).
 *
 * May use: core/ (err).
 */
#ifndef DZ_FDIO_H
#define DZ_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dz_err;

/* Read up to len bytes, stopping only at end of file: the count, or -1 (errno). */
ssize_t dz_fd_read_full(int fd, void *buf, size_t len);

/* Write all len bytes: 0, or -1 (errno; EIO if the descriptor takes none). */
int dz_fd_write_full(int fd, const void *buf, size_t len);

/*
 * fsync the directory holding path, so that a file just created or
 * renamed there survives a crash. -1 with err (EX_IOERR "cannot sync the
 * directory of <what>: ...") on failure.
 */
int dz_fd_sync_parent(const char *path, const char *what, struct dz_err *err);

#endif
