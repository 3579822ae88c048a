# t/lib-smtp.sh: a real SMTP server and a real sendmail-compatible client
# for mail tests, both from Debian packages. Source it after t/lib.sh.
#
#   smtp_require          "Bail out!" unless python3-aiosmtpd and msmtp are
#                         installed (scripts/deps installs them)
#   smtp_sink_start DIR   start aiosmtpd on 127.0.0.1 at a free port; every
#                         message it accepts lands, whole, in the Maildir DIR
#                         (DIR/new), with X-Peer, X-MailFrom and X-RcptTo
#                         lines added at the end of its header. Sets
#                         SMTP_PORT and SMTP_MTA, a sendmail-compatible
#                         command (msmtp, no configuration file) that
#                         delivers to it. Call it at the top level of the
#                         test script, not inside test_expect_success.
#   smtp_sink_stop        stop the server; also done on exit
#
# The server listens on the loopback only and is stopped however the
# script ends. Its own messages go to DIR.log.

SMTP_PID=
SMTP_PORT=
SMTP_MTA=
SMTP_PYTHON=

smtp_require() {
	local py
	for py in /usr/bin/python3 "$(command -v python3)"; do
		if [ -x "$py" ] && "$py" -c 'import aiosmtpd' 2>/dev/null; then
			SMTP_PYTHON=$py
			break
		fi
	done
	if [ -z "$SMTP_PYTHON" ]; then
		say "Bail out! python3-aiosmtpd is not installed (run scripts/deps)"
		exit 1
	fi
	if ! command -v msmtp >/dev/null 2>&1; then
		say "Bail out! msmtp is not installed (run scripts/deps)"
		exit 1
	fi
}

# A port that was free a moment ago (the kernel's choice).
smtp__free_port() {
	"$SMTP_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Does an aiosmtpd greeting answer on port $1? (A subshell: a failed
# /dev/tcp redirection must not end the script.)
smtp__probe() (
	exec 9<>"/dev/tcp/127.0.0.1/$1" || exit 1
	IFS= read -r -t 2 line <&9 || exit 1
	printf 'QUIT\r\n' >&9
	case $line in
	"220 "*"Python SMTP"*) exit 0 ;;
	esac
	exit 1
)

smtp_sink_start() {
	local dir=$1 try i
	[ -n "$SMTP_PYTHON" ] || smtp_require
	# aiosmtpd's Mailbox makes DIR/{tmp,new,cur} only when DIR is new.
	if [ -e "$dir" ]; then
		say "Bail out! smtp_sink_start: $dir exists already"
		exit 1
	fi
	test_atexit smtp_sink_stop
	trap 'exit 130' INT TERM
	for try in 1 2 3 4 5; do
		SMTP_PORT=$(smtp__free_port) || return 1
		"$SMTP_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
			-c aiosmtpd.handlers.Mailbox "$dir" \
			</dev/null >>"$dir.log" 2>&1 &
		SMTP_PID=$!
		# Up to 10 s for Python to start; usually a few tenths.
		for i in $(seq 200); do
			if smtp__probe "$SMTP_PORT" 2>/dev/null; then
				SMTP_MTA="msmtp --host=127.0.0.1 --port=$SMTP_PORT"
				SMTP_MTA="$SMTP_MTA --auth=off --tls=off"
				SMTP_MTA="$SMTP_MTA --read-envelope-from -t -i"
				return 0
			fi
			kill -0 "$SMTP_PID" 2>/dev/null || break  # port taken: retry
			sleep 0.05
		done
		smtp_sink_stop
		rm -rf "$dir"
	done
	say "Bail out! cannot start the SMTP server (see $dir.log)"
	exit 1
}

smtp_sink_stop() {
	if [ -n "$SMTP_PID" ]; then
		kill "$SMTP_PID" 2>/dev/null
		wait "$SMTP_PID" 2>/dev/null
		SMTP_PID=
	fi
}
