/*
 * t/fuzz/fuzz.h: what every harness in t/fuzz/ shares.
 *
 * Each t/fuzz/NAME.c defines LLVMFuzzerTestOneInput and is built twice:
 * with clang and libFuzzer into t/fuzz/bin/fuzz-NAME (scripts/fuzz runs
 * it), and with the project's compiler and t/fuzz/replay.c into
 * t/fuzz/bin/replay-NAME, which runs the saved inputs (t/0200).
 *
 * A harness never writes a file: inputs that lib/ wants as a path go to
 * an anonymous memory file (memfd) named by /proc/self/fd/N. It frees
 * everything it allocates, so that LeakSanitizer can blame lib/.
 */
#ifndef DZ_FUZZ_H
#define DZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * One anonymous memory file per process, reused: fz_memfile(data, size)
 * makes its content exactly data[0..size) and returns its path,
 * "/proc/self/fd/N" (valid for the life of the process). Aborts when
 * that cannot be done: it is the harness failing, not lib/.
 */
const char *fz_memfile(const uint8_t *data, size_t size);

/* Its descriptor, positioned at offset 0 (for readers of an fd). */
int fz_memfile_fd(void);

/* A malloc'd, NUL-terminated copy of data[0..size) (aborts on ENOMEM). */
char *fz_strndup(const uint8_t *data, size_t size);

/*
 * Fixed test keys, so that seeds made by t/fuzz/seedtool authenticate in
 * the harnesses: the blob and field key (lib/crypto/crypt) and an Ed25519
 * signing key (lib/crypto/sign, minisign's format). Never used outside t/fuzz.
 */
#define FZ_KEY_BYTES 32
extern const uint8_t fz_test_key[FZ_KEY_BYTES];
struct dz_sign_key;
struct dz_sign_pub;
/* Fill key (release with dz_sign_key_release); aborts on failure. */
void fz_test_sign_key(struct dz_sign_key *key);
void fz_test_sign_pub(struct dz_sign_pub *pub);

/* Abort with a message: an oracle in a harness failed. */
void fz_fail(const char *what) __attribute__((noreturn));

#endif
