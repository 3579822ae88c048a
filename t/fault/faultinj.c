/*
 * t/fault/faultinj.c: an LD_PRELOAD fault injector for the error-path
 * tests (t/0210-0213, scripts/faults). It makes one call of a class of
 * functions fail as the system would, and can count the calls and list
 * the call sites of a run.
 *
 * Classes and the functions they cover (errno by default):
 *   write   write, pwrite, pwrite64                        (ENOSPC)
 *   fsync   fsync, fdatasync                               (EIO)
 *   rename  rename, renameat, renameat2                    (EIO)
 *   open    open, open64, openat, openat64, creat, the _FORTIFY_SOURCE
 *           variants __open_2, __open64_2, __openat_2, __openat64_2,
 *           fopen, fopen64                                 (EIO)
 *   malloc  malloc, calloc, realloc                        (ENOMEM)
 * (glibc's stdio writes and opens through internal calls that cannot be
 * interposed: a full stdout is tested with >/dev/full instead.)
 *
 * Environment, read once by the constructor:
 *   DZ_FAULT=CLASS:N            fail the Nth call of CLASS (1-based)
 *   DZ_FAULT=CLASS@site:N       fail the first call from the Nth distinct
 *                               call site of CLASS (in order of discovery)
 *   DZ_FAULT=CLASS@site=KEY     fail the first call from the site KEY, as
 *                               DZ_FAULT_COUNT lists it (stable across runs)
 *   DZ_FAULT_ERRNO=E            errno of the failure: a number or EIO,
 *                               ENOSPC, ENOMEM, EDQUOT, EACCES, EMFILE, EROFS
 *   DZ_FAULT_STICKY=1           once fired, every later call of the class
 *                               fails too (a disk that stays full)
 *   DZ_FAULT_MARK=FILE          append "fired CLASS CALL KEY errno" to FILE
 *                               when the fault fires
 *   DZ_FAULT_COUNT=FILE         write "count CLASS N" lines (kept up to date
 *                               in place through a shared mapping, so they
 *                               survive a kill) and one "site CLASS K KEY"
 *                               line per call site as it is discovered
 *
 * A call site KEY is OBJECT+0xOFFSET of the return address, the object
 * named by its file name so that keys are stable under ASLR. When the
 * caller is a library (jansson, SQLite, libcrypto, libc's strdup), the
 * key adds "<" and the innermost frame of the main program on the stack,
 * so that each line of the program that makes a library allocate is a
 * site of its own; a function of the program that a library calls back
 * (lib/core/record's allocator hooks for jansson) is keyed with the library's
 * frame and the program's frame beyond it, for the same reason. Frames
 * are found with backtrace(3) and the objects
 * with dl_iterate_phdr(3) (what dladdr(3) does, without its symbol scan).
 *
 * Only the program's activity counts: calls made before the constructor
 * has run (other libraries' constructors) or from inside the injector do
 * not, and the injector writes its own files with raw system calls. The
 * constructor removes the injector from LD_PRELOAD so that child
 * processes (dz-notify's sendmail) run without it.
 *
 * Built twice by t/fault/fault.mk: faultinj.so, and faultinj-io.so
 * (-DFAULTINJ_NO_MALLOC) for AddressSanitizer builds, whose runtime owns
 * malloc.
 *
 * Only libc and libdl: -fPIC -shared, no _FORTIFY_SOURCE (it would turn
 * open() into an inline wrapper that cannot be redefined).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

enum { C_WRITE, C_FSYNC, C_RENAME, C_OPEN, C_MALLOC, NCLASS };
static const char *const class_name[NCLASS] = {
	"write", "fsync", "rename", "open", "malloc",
};
static const int class_errno[NCLASS] = { ENOSPC, EIO, EIO, EIO, ENOMEM };

enum { M_NONE, M_CALL, M_SITE_ORD, M_SITE_KEY };

#define KEY_MAX 256
#define MAX_SITES 8192		/* per process, all classes */
#define MAX_OBJS 256
#define MAX_FRAMES 48

static int active;		/* set at the end of the constructor */
static int mode = M_NONE, target = -1, sticky, fault_errno;
static long target_n;
static char target_key[KEY_MAX];
static int fired;
static int count_fd = -1, mark_fd = -1;
static char *count_map;		/* the "count" lines, shared mapping */
static size_t count_map_len;
static size_t count_digits_at[NCLASS];
static long calls[NCLASS];
static long nsites[NCLASS];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread int in_hook __attribute__((tls_model("initial-exec")));

/* ---------- loaded objects ---------- */

struct obj {
	uintptr_t lo, hi, base;
	char name[64];
	int main_prog, self;
};
static struct obj objs[MAX_OBJS];
static int nobjs;

static int
add_obj(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct obj *o;
	const char *n = info->dlpi_name, *slash;

	(void)size;
	(void)arg;
	if (nobjs == MAX_OBJS)
		return 1;
	o = &objs[nobjs];
	o->lo = UINTPTR_MAX;
	o->hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t a;
		if (p->p_type != PT_LOAD)
			continue;
		a = info->dlpi_addr + p->p_vaddr;
		if (a < o->lo)
			o->lo = a;
		if (a + p->p_memsz > o->hi)
			o->hi = a + p->p_memsz;
	}
	if (o->hi == 0)
		return 0;
	o->base = info->dlpi_addr;
	o->main_prog = nobjs == 0;
	if (o->main_prog || !n || !*n)
		n = program_invocation_short_name;
	slash = strrchr(n, '/');
	snprintf(o->name, sizeof o->name, "%s", slash ? slash + 1 : n);
	o->self = (uintptr_t)&add_obj >= o->lo && (uintptr_t)&add_obj < o->hi;
	nobjs++;
	return 0;
}

static const struct obj *
find_obj(uintptr_t a)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < nobjs; i++)
			if (a >= objs[i].lo && a < objs[i].hi)
				return &objs[i];
		if (pass == 0) {	/* a library opened since: look again */
			nobjs = 0;
			dl_iterate_phdr(add_obj, NULL);
		}
	}
	return NULL;
}

static size_t
put_frame(char *buf, size_t len, uintptr_t a)
{
	const struct obj *o = find_obj(a);
	int n = o ? snprintf(buf, len, "%s+0x%lx", o->name,
	    (unsigned long)(a - o->base)) : snprintf(buf, len, "?+0x%lx",
	    (unsigned long)a);

	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

/*
 * The site KEY of a call whose return address is ra (lock held). A call
 * from a library adds the innermost frame of the main program. So does a
 * call from the main program made for a library: a function of the
 * program that a library calls back (jansson's allocator hooks), whose
 * every call would otherwise be one site: "prog+A<lib+B<prog+C".
 */
static void
site_key(void *ra, char *buf, size_t len)
{
	const struct obj *o = find_obj((uintptr_t)ra);
	void *fr[MAX_FRAMES];
	size_t k;
	int n, i = 0;

	k = put_frame(buf, len, (uintptr_t)ra);
	n = backtrace(fr, MAX_FRAMES);
	if (o && o->main_prog) {
		const struct obj *f;

		while (i < n && fr[i] != ra)
			i++;
		if (++i >= n || !(f = find_obj((uintptr_t)fr[i])) ||
		    f->main_prog || f->self)
			return;		/* called by the program itself */
		if (k + 2 < len) {
			buf[k++] = '<';
			k += put_frame(buf + k, len - k, (uintptr_t)fr[i]);
		}
	}
	for (; i < n; i++) {
		const struct obj *f = find_obj((uintptr_t)fr[i]);
		if (f && f->main_prog && fr[i] != ra) {
			if (k + 2 < len) {
				buf[k++] = '<';
				put_frame(buf + k, len - k, (uintptr_t)fr[i]);
			}
			return;
		}
	}
}

/* ---------- the site table: open addressing on a 64-bit hash ---------- */

struct site {
	uint64_t h;
	int cls;
	long ord;
};
static struct site sites[MAX_SITES * 2];

static uint64_t
fnv(const char *s, int cls)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)cls;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h ? h : 1;
}

/* The ordinal of a site, *is_new set when first seen; 0 if the table is full. */
static long
site_ord(const char *key, int cls, int *is_new)
{
	uint64_t h = fnv(key, cls);
	size_t i = (size_t)(h % (MAX_SITES * 2));

	*is_new = 0;
	for (size_t probe = 0; probe < MAX_SITES * 2; probe++) {
		struct site *s = &sites[(i + probe) % (MAX_SITES * 2)];
		if (s->h == h && s->cls == cls)
			return s->ord;
		if (s->h == 0) {
			if (nsites[cls] >= MAX_SITES)
				return 0;
			s->h = h;
			s->cls = cls;
			s->ord = ++nsites[cls];
			*is_new = 1;
			return s->ord;
		}
	}
	return 0;
}

/* ---------- raw output, never through the wrappers ---------- */

static void
raw_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		long w = syscall(SYS_write, fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static int
raw_open(const char *path, int flags)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0600);
}

static void
count_update(int c)
{
	char *p;
	long v = calls[c];

	if (!count_map)
		return;
	p = count_map + count_digits_at[c] + 12;
	for (int i = 0; i < 12; i++, v /= 10)
		*--p = (char)('0' + v % 10);
}

/* ---------- the decision ---------- */

static int
fail_now(int c, void *ra)
{
	char key[KEY_MAX] = "";
	int fail = 0, err, saved = errno;
	long n, ord = 0;

	if (!active || in_hook)
		return 0;
	in_hook = 1;
	pthread_mutex_lock(&lock);
	n = ++calls[c];
	count_update(c);
	if (count_fd >= 0 || (c == target && !fired &&
	    (mode == M_SITE_ORD || mode == M_SITE_KEY))) {
		int is_new;
		site_key(ra, key, sizeof key);
		ord = site_ord(key, c, &is_new);
		if (is_new && count_fd >= 0) {
			char line[KEY_MAX + 64];
			int k = snprintf(line, sizeof line, "site %s %ld %s\n",
			    class_name[c], ord, key);
			if (k > 0)
				raw_write(count_fd, line, (size_t)k < sizeof line ?
				    (size_t)k : sizeof line - 1);
		}
	}
	if (c == target) {
		if (fired)
			fail = sticky;
		else if (mode == M_CALL)
			fail = n == target_n;
		else if (mode == M_SITE_ORD)
			fail = ord == target_n;
		else if (mode == M_SITE_KEY)
			fail = strcmp(key, target_key) == 0;
	}
	err = fault_errno ? fault_errno : class_errno[c];
	if (fail && !fired) {
		fired = 1;
		if (mark_fd >= 0) {
			char line[KEY_MAX + 64];
			int k;
			if (!*key)
				site_key(ra, key, sizeof key);
			k = snprintf(line, sizeof line, "fired %s %ld %s %d\n",
			    class_name[c], n, key, err);
			if (k > 0)
				raw_write(mark_fd, line, (size_t)k < sizeof line ?
				    (size_t)k : sizeof line - 1);
		}
	}
	pthread_mutex_unlock(&lock);
	in_hook = 0;
	errno = fail ? err : saved;
	return fail;
}

#define RA __builtin_return_address(0)
/* The next definitions (libc's, or a sanitizer's interceptors). */
#define WRAPPED(X) X(write) X(pwrite) X(pwrite64) X(fsync) X(fdatasync) \
	X(rename) X(renameat) X(renameat2) X(open) X(open64) X(openat) \
	X(openat64) X(creat) X(__open_2) X(__open64_2) X(__openat_2) \
	X(__openat64_2) X(fopen) X(fopen64)
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
#define DECLARE(name) static __typeof__(name) *real_##name;
WRAPPED(DECLARE)
#define REAL(name) \
	if (!real_##name) \
		*(void **)&real_##name = dlsym(RTLD_NEXT, #name)

static int
ours(int fd)
{
	return fd >= 0 && (fd == count_fd || fd == mark_fd);
}

/* ---------- write ---------- */

EXPORT ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(write);
	if (!ours(fd) && fail_now(C_WRITE, RA))
		return -1;
	return real_write(fd, buf, n);
}

EXPORT ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	if (!ours(fd) && fail_now(C_WRITE, RA))
		return -1;
	return real_pwrite(fd, buf, n, off);
}

EXPORT ssize_t
pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64);
	if (!ours(fd) && fail_now(C_WRITE, RA))
		return -1;
	return real_pwrite64(fd, buf, n, off);
}

/* ---------- fsync ---------- */

EXPORT int
fsync(int fd)
{
	REAL(fsync);
	if (!ours(fd) && fail_now(C_FSYNC, RA))
		return -1;
	return real_fsync(fd);
}

EXPORT int
fdatasync(int fd)
{
	REAL(fdatasync);
	if (!ours(fd) && fail_now(C_FSYNC, RA))
		return -1;
	return real_fdatasync(fd);
}

/* ---------- rename ---------- */

EXPORT int
rename(const char *from, const char *to)
{
	REAL(rename);
	if (fail_now(C_RENAME, RA))
		return -1;
	return real_rename(from, to);
}

EXPORT int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	REAL(renameat);
	if (fail_now(C_RENAME, RA))
		return -1;
	return real_renameat(fd1, from, fd2, to);
}

EXPORT int
renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
	REAL(renameat2);
	if (fail_now(C_RENAME, RA))
		return -1;
	return real_renameat2(fd1, from, fd2, to, flags);
}

/* ---------- open ---------- */

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ?
	    (mode_t)va_arg(ap, int) : 0;
}

EXPORT int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	REAL(open);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real_open(path, flags, m);
}

EXPORT int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	REAL(open64);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real_open64(path, flags, m);
}

EXPORT int
openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	REAL(openat);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real_openat(dfd, path, flags, m);
}

EXPORT int
openat64(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	REAL(openat64);
	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real_openat64(dfd, path, flags, m);
}

EXPORT int
creat(const char *path, mode_t m)
{
	REAL(creat);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real_creat(path, m);
}

/* The checked variants _FORTIFY_SOURCE=2 calls (no mode: O_CREAT is not allowed). */

EXPORT int
__open_2(const char *path, int flags)
{
	REAL(__open_2);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real___open_2(path, flags);
}

EXPORT int
__open64_2(const char *path, int flags)
{
	REAL(__open64_2);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real___open64_2(path, flags);
}

EXPORT int
__openat_2(int dfd, const char *path, int flags)
{
	REAL(__openat_2);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real___openat_2(dfd, path, flags);
}

EXPORT int
__openat64_2(int dfd, const char *path, int flags)
{
	REAL(__openat64_2);
	if (fail_now(C_OPEN, RA))
		return -1;
	return real___openat64_2(dfd, path, flags);
}

EXPORT FILE *
fopen(const char *path, const char *how)
{
	REAL(fopen);
	if (fail_now(C_OPEN, RA))
		return NULL;
	return real_fopen(path, how);
}

EXPORT FILE *
fopen64(const char *path, const char *how)
{
	REAL(fopen64);
	if (fail_now(C_OPEN, RA))
		return NULL;
	return real_fopen64(path, how);
}

/* ---------- malloc ---------- */

#ifndef FAULTINJ_NO_MALLOC
/* glibc's own entry points: no dlsym, so no bootstrap and no recursion. */
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);

EXPORT void *
malloc(size_t n)
{
	if (fail_now(C_MALLOC, RA))
		return NULL;
	return __libc_malloc(n);
}

EXPORT void *
calloc(size_t k, size_t n)
{
	if (fail_now(C_MALLOC, RA))
		return NULL;
	return __libc_calloc(k, n);
}

EXPORT void *
realloc(void *p, size_t n)
{
	if ((p == NULL || n > 0) && fail_now(C_MALLOC, RA))
		return NULL;
	return __libc_realloc(p, n);
}
#endif

/* ---------- set-up ---------- */

static int
parse_errno(const char *s)
{
	static const struct { const char *n; int e; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "ENOMEM", ENOMEM },
		{ "EDQUOT", EDQUOT }, { "EACCES", EACCES }, { "EMFILE", EMFILE },
		{ "EROFS", EROFS }, { "EINTR", EINTR }, { "EAGAIN", EAGAIN },
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].n) == 0)
			return names[i].e;
	return atoi(s);
}

static int
parse_class(const char *s, size_t len)
{
	static const struct { const char *n; int c; } alias[] = {
		{ "pwrite", C_WRITE }, { "fdatasync", C_FSYNC },
		{ "renameat", C_RENAME }, { "openat", C_OPEN },
		{ "fopen", C_OPEN }, { "calloc", C_MALLOC }, { "realloc", C_MALLOC },
	};

	for (int c = 0; c < NCLASS; c++)
		if (strlen(class_name[c]) == len && !strncmp(s, class_name[c], len))
			return c;
	for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
		if (strlen(alias[i].n) == len && !strncmp(s, alias[i].n, len))
			return alias[i].c;
	return -1;
}

static void
complain(const char *what, const char *v)
{
	char m[512];
	int k = snprintf(m, sizeof m, "faultinj: ignoring %s='%s'\n", what, v);

	if (k > 0)
		raw_write(2, m, (size_t)k < sizeof m ? (size_t)k : sizeof m - 1);
}

static void
parse_fault(const char *s)
{
	const char *p = s + strcspn(s, ":@");

	target = parse_class(s, (size_t)(p - s));
	if (target < 0)
		goto bad;
	if (*p == ':') {
		mode = M_CALL;
		target_n = atol(p + 1);
		if (target_n <= 0)
			goto bad;
	} else if (strncmp(p, "@site:", 6) == 0) {
		mode = M_SITE_ORD;
		target_n = atol(p + 6);
		if (target_n <= 0)
			goto bad;
	} else if (strncmp(p, "@site=", 6) == 0 && p[6] &&
	    strlen(p + 6) < sizeof target_key) {
		mode = M_SITE_KEY;
		strcpy(target_key, p + 6);
	} else {
		goto bad;
	}
	return;
bad:
	complain("DZ_FAULT", s);
	mode = M_NONE;
	target = -1;
}

static void
open_count(const char *path)
{
	char head[NCLASS * 32];
	size_t k = 0;

	count_fd = raw_open(path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND);
	if (count_fd < 0) {
		complain("DZ_FAULT_COUNT", path);
		return;
	}
	for (int c = 0; c < NCLASS; c++) {
		int n = snprintf(head + k, sizeof head - k, "count %-6s ",
		    class_name[c]);
		k += (size_t)n;
		count_digits_at[c] = k;
		memcpy(head + k, "000000000000\n", 13);
		k += 13;
	}
	raw_write(count_fd, head, k);
	count_map_len = k;
	count_map = mmap(NULL, k, PROT_READ | PROT_WRITE, MAP_SHARED, count_fd, 0);
	if (count_map == MAP_FAILED)
		count_map = NULL;
}

/* Take this library out of LD_PRELOAD: children must not inherit it. */
static void
unpreload(void)
{
	static char keep[4096];
	const char *lp = getenv("LD_PRELOAD");
	size_t k = 0;

	if (!lp || getenv("DZ_FAULT_INHERIT"))
		return;
	while (*lp) {
		size_t n = strcspn(lp, ": ");
		if (n > 0 && !memmem(lp, n, "faultinj", 8) && k + n + 2 < sizeof keep) {
			if (k)
				keep[k++] = ':';
			memcpy(keep + k, lp, n);
			k += n;
		}
		lp += n;
		lp += strspn(lp, ": ");
	}
	keep[k] = '\0';
	if (k)
		setenv("LD_PRELOAD", keep, 1);
	else
		unsetenv("LD_PRELOAD");
}

__attribute__((constructor)) static void
faultinj_init(void)
{
	const char *v;
	void *warm[4];

	in_hook = 1;
	dl_iterate_phdr(add_obj, NULL);
	/* backtrace loads libgcc_s on first use: do it now, uncounted */
	(void)backtrace(warm, 4);
	if ((v = getenv("DZ_FAULT")) && *v)
		parse_fault(v);
	if ((v = getenv("DZ_FAULT_ERRNO")) && *v)
		fault_errno = parse_errno(v);
	sticky = (v = getenv("DZ_FAULT_STICKY")) && strcmp(v, "1") == 0;
	if ((v = getenv("DZ_FAULT_MARK")) && *v) {
		mark_fd = raw_open(v, O_WRONLY | O_CREAT | O_APPEND);
		if (mark_fd < 0)
			complain("DZ_FAULT_MARK", v);
	}
	if ((v = getenv("DZ_FAULT_COUNT")) && *v)
		open_count(v);
	unpreload();
	/* resolve every wrapped function now, so dlsym's own calls never count */
#define RESOLVE(name) REAL(name);
	WRAPPED(RESOLVE)
	in_hook = 0;
	active = 1;
}
