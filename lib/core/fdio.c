#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fdio.h"

ssize_t
dz_fd_read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t have = 0;

	while (have < len) {
		ssize_t n = read(fd, p + have, len - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	return (ssize_t)have;
}

int
dz_fd_write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
dz_fd_sync_parent(const char *path, const char *what, struct dz_err *err)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc = 0;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return dz_err_set(err, EX_SOFTWARE, "out of memory");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0 || fsync(fd) != 0)
		rc = dz_err_set(err, EX_IOERR, "cannot sync the directory of %s: %s",
		    what, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}
