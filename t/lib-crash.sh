# t/lib-crash.sh: crash trials, sourced after t/lib.sh by the t/*-crash.t
# tests (and driven many times over by scripts/crash-trials).
#
# A trial starts a program, kills it with SIGKILL after a random delay,
# runs it again to completion and checks the store. The delays come from a
# seeded generator, so that a failing run can be replayed (as far as a
# machine's timing allows) with the seed it printed:
#
#   crash_init              the seed (DZ_CRASH_SEED, or a fresh one),
#                           printed as a TAP comment
#   crash_rand N            CRASH_R: the next number in [0, N)
#   crash_now               CRASH_NOW: microseconds since the epoch
#   crash_sleep US          sleep US microseconds without starting a process
#   crash_delay RUN_US      CRASH_DELAY: a delay in microseconds for a run
#                           that takes RUN_US: 0 to 1.2 x RUN_US, biased to
#                           short delays (startup is where surprises hide)
#   crash_kill RUN_US OUT ERR CMD...
#                           CMD in the background (stdout to OUT, stderr to
#                           ERR), SIGKILL after crash_delay; CRASH_STATUS is
#                           its wait status, CRASH_KILLED 1 when the kill
#                           landed before CMD finished (status 137).
#                           With CRASH_PIPE=1 its stdout is a pipe (records
#                           line-buffered, as in a pipeline), else a file
#                           (block-buffered: a killed run loses records)
#   crash_summary PROGRAM TRIALS KILLED LOST DUPLICATED FAILED [OTHER]
#                           the "# crash-summary:" line scripts/crash-trials
#                           reads; call it once, after the checks, before
#                           test_done. FAILED counts failed trials, OTHER
#                           those of them that lost and duplicated nothing;
#                           the failed checks of the script but the one of
#                           the trials (when FAILED > 0) are added to OTHER
#
# DZ_CRASH_TRIALS sets the number of trials of every family (each test
# keeps a default that fits `make check`).

# 48-bit linear congruential generator (drand48's constants): bash's own
# $RANDOM is reseeded in every subshell, and test bodies run in one.
crash_init() {
	if [ -n "${DZ_CRASH_SEED:-}" ]; then
		CRASH_SEED=$DZ_CRASH_SEED
	else
		CRASH_SEED=$(( ($(date +%s%N) / 1000) % 1000000007 ))
	fi
	CRASH_STATE=$(( CRASH_SEED ^ 0x5DEECE66D ))
	say "# seed $CRASH_SEED (replay with DZ_CRASH_SEED=$CRASH_SEED)"
	# a pipe nobody writes to: read -t on it is a sleep without a fork
	exec 9<> <(:)
}

crash_rand() {
	CRASH_STATE=$(( (CRASH_STATE * 0x5DEECE66D + 0xB) & 0xFFFFFFFFFFFF ))
	CRASH_R=$(( (CRASH_STATE >> 17) % $1 ))
}

crash_now() {
	CRASH_NOW=$(( ${EPOCHREALTIME/./} ))
}

crash_sleep() {
	local frac
	[ "$1" -gt 0 ] || return 0
	printf -v frac %06d $(( $1 % 1000000 ))
	read -r -t "$(( $1 / 1000000 )).$frac" -u 9 _ || true
}

crash_delay() {
	local span=$(( $1 * 6 / 5 + 1 )) u
	crash_rand 4
	case $CRASH_R in
	0|1)	# uniform over the whole run and a little beyond
		crash_rand $span; CRASH_DELAY=$CRASH_R ;;
	2)	# u² x span: more weight early
		crash_rand 1000; u=$CRASH_R
		CRASH_DELAY=$(( span * u / 1000 * u / 1000 )) ;;
	*)	# the first tenth: startup, the first unit of work
		crash_rand $(( span / 10 + 1 )); CRASH_DELAY=$CRASH_R ;;
	esac
}

crash_kill() {
	local run=$1 out=$2 err=$3 pid cat=
	shift 3
	crash_delay "$run"
	: >"$out" && : >"$err" || return 1
	if [ "${CRASH_PIPE:-0}" = 1 ]; then
		# stdout a pipe (line-buffered records, as in a pipeline): the
		# reader holds no writer of its own, so it ends with CMD
		rm -f "$out.fifo" && mkfifo "$out.fifo" || return 1
		cat "$out.fifo" >"$out" &
		cat=$!
		exec 8>"$out.fifo"
		"$@" >&8 2>"$err" 8>&- &
		pid=$!
		exec 8>&-
	else
		"$@" >"$out" 2>"$err" &
		pid=$!
	fi
	crash_sleep "$CRASH_DELAY"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	CRASH_STATUS=$?
	CRASH_KILLED=0
	[ "$CRASH_STATUS" = 137 ] && CRASH_KILLED=1
	if [ -n "$cat" ]; then
		wait "$cat"
		rm -f "$out.fifo"
	fi
	return 0
}

crash_summary() {
	local other=$(( ${7:-0} + t_failed - ($6 > 0 ? 1 : 0) ))
	[ $other -ge 0 ] || other=0
	say "# crash-summary: program=$1 trials=$2 killed=$3 lost=$4 duplicated=$5 failed=$6 other=$other seed=${CRASH_SEED:--}"
}
