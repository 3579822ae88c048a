#!/bin/bash
# dz-notify killed with SIGKILL at random instants. Each trial copies a
# prepared store in which a run is due to send fourteen messages: six
# notices for new URLs, six reminders (--remind 7) and two answers to
# victims. It kills a run at a random instant within 1.2 times what a
# whole run takes, then runs dz-notify again to completion (the recovery
# run). Odd trials deliver into a Maildir (--maildir), even ones through a
# fake MTA (notify.mta) that queues each message it is handed, and, as
# sendmail -t does, refuses one without recipients (what a dz-notify killed
# before it wrote the message leaves it). Checked after the recovery run:
#
#   the plan: the notices of the run (kind, provider, address, case, the
#     items each covers, its outcome) are exactly those a fault-free run of
#     the same store plans; no URL is in two notices of one kind;
#   delivery: every notice planned is sent, none pending; every one was
#     delivered at least once under its Message-ID (zero lost); no message
#     has a Message-ID the store does not know; a Message-ID delivered more
#     than once through the MTA is the documented redelivery (dz-notify(1):
#     killed after a message was handed over but before it was recorded as
#     sent, the next run sends it again under the same Message-ID): counted
#     and reported, and its copies must be identical; into a Maildir, where
#     a message is named after its Message-ID, none is delivered twice and
#     nothing is left in tmp/; every message is whole;
#   the records: the recovery run exits 0 and reports as sent exactly the
#     notices not sent when the killed run died; no notice is reported
#     sent by both runs; a notice the killed run reported sent is sent in
#     the store;
#   the store: PRAGMA integrity_check and foreign_key_check clean.
#
# DZ_CRASH_TRIALS (default 60) trials; DZ_CRASH_SEED replays the delays.
# slow: crash trials (make check-quick leaves it out)
. "$(dirname "$0")/lib.sh"
. "$TOP/t/lib-crash.sh"

TRIALS=${DZ_CRASH_TRIALS:-60}
crash_init
T0=2026-03-02T09:00:00Z
T1=2026-03-12T09:00:00Z

{
	echo 'version: 1'
	echo 'providers:'
	for p in 1 2 3 4 5 6; do
		printf '  - name: Host %s\n    domains: [p%s.example]\n    abuse: abuse@p%s.example\n' $p $p $p
	done
} >providers.yaml
cat >fake-sendmail <<'EOF'
#!/bin/bash
# fake-sendmail OUTBOX: each message handed over is read whole, then kept
# as OUTBOX/msg.*, as an MTA queues it. Like sendmail -t, it refuses a
# message without a To: header (a dz-notify killed before it wrote the
# message leaves it an empty one). OUTBOX/.busy.PID exists while it works,
# so that a checker can wait for it. Builtins only, but for one rm: fast.
: >"$1/.busy.$$"
IFS= read -r -d '' msg
case $msg in
'To: '*|*$'\nTo: '*)
	set -C
	n=$$
	until { printf '%s' "$msg" >"$1/msg.$n"; } 2>/dev/null; do n=$n.1; done
	rc=0 ;;
*)	echo "fake-sendmail: no recipient addresses found in header" >&2
	rc=65 ;;
esac
rm -f "$1/.busy.$$"
exit $rc
EOF
chmod +x fake-sendmail

config() {	# config DIR: DIR/dz.yaml for the store DIR/store
	cat >"$1/dz.yaml" <<-EOF
	store: $TRASH/$1/store
	master_key: $TRASH/master.key
	notify:
	  from: "Hotline test <notices@hotline.example>"
	  hotline: Hotline test
	  providers: $TRASH/providers.yaml
	  mta: $TRASH/fake-sendmail $TRASH/$1/outbox
	EOF
}
submit() {	# submit ID FOLLOWUP CONTACT URLS...: the case id
	local id=$1 fu=$2 contact=$3
	shift 3
	jq -cn --arg id "$id" --argjson fu "$fu" --argjson contact "$contact" \
		'$ARGS.positional as $u | {type:"submission",submission:$id,age:25,
		 followup:$fu,contact:$contact,urls:$u}' --args "$@" >sub.jsonl &&
	dz-ingest sub.jsonl >ack && jq -r .case ack
}
judge() {	# judge CASE N
	for i in $(seq "$2"); do
		printf '{"type":"verdict","item":"%s-%s","illegal":true,"category":"adult_ncii"}\n' "$1" "$i"
	done >v.jsonl && dz-ingest v.jsonl >/dev/null
}

mkdir tpl
config tpl
export DZ_CONFIG=$TRASH/tpl/dz.yaml
test_expect_success 'setup: a store with 14 messages due (6 notices, 6 reminders, 2 answers)' '
	dz-ingest --init 2>/dev/null &&
	export DZ_NOW=$T0 &&
	a1=$(submit a1 true "{\"email\":\"victim-one@example.org\"}" \
		https://p1.example/a1 https://p2.example/a1 https://p3.example/a1 https://www.p4.example/a1) &&
	a2=$(submit a2 true "{\"email\":\"victim-two@example.org\"}" \
		https://p4.example/a2 https://p5.example/a2 https://p6.example/a2 https://p1.example/a2b) &&
	judge $a1 4 && judge $a2 4 &&
	dz-notify --maildir pre >pre.out 2>/dev/null &&
	test $(ls pre/new | wc -l) = 6 &&
	export DZ_NOW=$T1 &&
	b1=$(submit b1 false "{}" https://p1.example/b1 https://p2.example/b1 https://p3.example/b1) &&
	b2=$(submit b2 false "{}" https://p4.example/b2 https://p5.example/b2 https://p6.example/b2 https://p6.example/b2b) &&
	judge $b1 3 && judge $b2 4 &&
	c1=$(submit c1 true "{\"email\":\"victim-three@example.org\"}" https://unjudged.example/c1) &&
	c2=$(submit c2 true "{\"email\":\"victim-four@example.org\"}" https://unjudged.example/c2) &&
	printf "{\"type\":\"close\",\"case\":\"%s\"}\n{\"type\":\"close\",\"case\":\"%s\"}\n" $c1 $c2 >c.jsonl &&
	dz-ingest c.jsonl >/dev/null &&
	dz-notify --remind 7 --dry-run >dry.mbox 2>/dev/null &&
	test $(grep -c "^From dz-notify " dry.mbox) = 14 &&
	test $(sqlite3 tpl/store/store.db "SELECT count(*) FROM notices WHERE state = '\''pending'\''") = 0
'
export DZ_NOW=$T1

copy_store() {	# copy_store DIR
	mkdir -p "$1/outbox" && cp -a tpl/store "$1/store" && config "$1"
}
q() { sqlite3 "$1/store/store.db" "$2"; }
# the notices of this run, one line each: what a fault-free run must give
plan() {
	q "$1" "SELECT n.kind, coalesce(n.provider, '-'), coalesce(n.recipient, '-'),
		coalesce(n.case_id, '-'), n.state,
		(SELECT group_concat(item_id, ' ') FROM (SELECT item_id FROM notice_items
		 WHERE notice_id = n.id ORDER BY item_id))
		FROM notices n WHERE n.created_at = '$T1' ORDER BY 1, 2, 3, 4"
}
# the messages delivered: "MESSAGE-ID FILE whole|partial" lines, whole
# when it has its headers and the last line of its template ("-" for the
# Message-ID of an empty file)
delivered() {	# delivered DIR MODE
	if [ "$2" = maildir ]; then
		set -- "$1"/md/new/*
	else
		set -- "$1"/outbox/msg.*
	fi
	[ -e "$1" ] || return 0
	awk 'function out() {
		print (id == "" ? "-" : id), f, (id != "" && ref && last ~ /Hotline test/) ? "whole" : "partial"
	}
	FNR == 1 { if (f != "") out(); f = FILENAME; id = ""; ref = 0; hdr = 1 }
	hdr && /^$/ { hdr = 0 }
	hdr && /^Message-ID: </ { id = $2 }
	hdr && /^X-DZ-Reference: / { ref = 1 }
	{ last = $0 }
	END { if (f != "") out() }' "$@"
	for f; do [ -s "$f" ] || echo "- $f partial"; done
}
notify() {	# notify DIR MODE [dz-notify options]: the command line
	local d=$1 m=$2
	shift 2
	set -- dz-notify -c "$TRASH/$d/dz.yaml" --remind 7 "$@"
	[ "$m" = maildir ] && set -- "$@" --maildir "$TRASH/$d/md"
	printf '%s\n' "$*"
}

test_expect_success 'fault-free runs, to a Maildir and through the MTA, send all 14 once' '
	for m in maildir mta; do
		copy_store ref-$m && crash_now && t0=$CRASH_NOW &&
		$(notify ref-$m $m) >ref-$m/out 2>ref-$m/err &&
		crash_now && echo $(( CRASH_NOW - t0 )) >run_us.$m &&
		plan ref-$m >ref-$m/plan && test $(wc -l <ref-$m/plan) = 14 &&
		! grep -v "|sent|" ref-$m/plan &&
		delivered ref-$m $m >ref-$m/msgs && test $(wc -l <ref-$m/msgs) = 14 &&
		! grep -v " whole\$" ref-$m/msgs &&
		test $(cut -d" " -f1 ref-$m/msgs | sort -u | wc -l) = 14 || return 1
	done &&
	test_cmp ref-maildir/plan ref-mta/plan &&
	cp ref-maildir/plan ref.plan &&
	test $(grep -c "^provider|" ref.plan) = 6 && test $(grep -c "^reminder|" ref.plan) = 6 &&
	test $(grep -c "^victim|" ref.plan) = 2
'
run_us_maildir=$(cat run_us.maildir 2>/dev/null || echo 100000)
run_us_mta=$(cat run_us.mta 2>/dev/null || echo 500000)
diag "a whole run takes about $((run_us_maildir / 1000)) ms to a Maildir," \
	"$((run_us_mta / 1000)) ms through the MTA"

# check_trial DIR MODE: prints "lost dup redelivered tmpleft", reasons on
# stderr; fails when something is wrong
check_trial() {
	local d=$1 m=$2 bad=0 lost=0 dup=0 redel=0 tmpleft=0 n id f
	[ "$(cat "$d/rc")" = 0 ] || { echo "the recovery run exited $(cat "$d/rc")" >&2; bad=1; }
	for n in $(seq 500); do	# no fake MTA still at work
		ls -A "$d/outbox" | grep -q "^\.busy\." || break
		crash_sleep 10000
	done
	# the plan
	plan "$d" >"$d/plan"
	n=$(comm -23 ref.plan "$d/plan" | wc -l)
	[ "$n" = 0 ] || { echo "$n notices missing or different from a fault-free run:" >&2
		diff ref.plan "$d/plan" | sed -n "s/^[<>]/  &/p" >&2; lost=$((lost + n)); }
	n=$(comm -13 ref.plan "$d/plan" | wc -l)
	[ "$n" = 0 ] || { echo "$n notices more than a fault-free run" >&2; dup=$((dup + n)); }
	n=$(q "$d" "SELECT count(*) FROM (SELECT 1 FROM notice_items i JOIN notices n ON n.id = i.notice_id
		GROUP BY i.item_id, n.kind, n.created_at HAVING count(*) > 1)")
	[ "$n" = 0 ] || { echo "$n URLs in two notices of one kind" >&2; dup=$((dup + n)); }
	n=$(q "$d" "SELECT count(*) FROM notices WHERE state = 'pending'")
	[ "$n" = 0 ] || { echo "$n notices still pending" >&2; lost=$((lost + n)); }
	# delivery, by Message-ID
	q "$d" "SELECT message_id FROM notices WHERE created_at = '$T1' AND state = 'sent' ORDER BY 1" >"$d/want"
	delivered "$d" "$m" >"$d/msgs"
	cut -d" " -f1 "$d/msgs" | sort >"$d/ids"
	n=$(sort -u "$d/ids" | comm -23 "$d/want" - | wc -l)
	[ "$n" = 0 ] || { echo "$n notices sent in the store but never delivered" >&2; lost=$((lost + n)); }
	n=$(sort -u "$d/ids" | comm -13 "$d/want" - | wc -l)
	[ "$n" = 0 ] || { echo "$n messages with a Message-ID the store does not have as sent" >&2; dup=$((dup + n)); }
	redel=$(( $(wc -l <"$d/ids") - $(sort -u "$d/ids" | wc -l) ))
	for id in $(uniq -d "$d/ids"); do
		set -- $(grep -F "$id " "$d/msgs" | cut -d" " -f2)
		f=$1; shift
		for g; do
			cmp -s "$f" "$g" || { echo "two different messages under $id" >&2; bad=1; }
		done
	done
	n=$(grep -c -v " whole\$" "$d/msgs")
	[ "$n" = 0 ] || { echo "$n messages not whole:" >&2; grep -v " whole\$" "$d/msgs" >&2; bad=1; }
	# the records
	jq -R -r "fromjson? | select(.type == \"notice\" and .state == \"sent\") | .notice" "$d/killed.out" | sort >"$d/rec.k"
	jq -R -r "fromjson? | select(.type == \"notice\" and .state == \"sent\") | .notice" "$d/out" | sort >"$d/rec.r"
	n=$(comm -12 "$d/rec.k" "$d/rec.r" | wc -l)
	[ "$n" = 0 ] || { echo "$n notices reported sent by both runs" >&2; dup=$((dup + n)); }
	n=$(comm -23 "$d/rec.k" "$d/sent.k" | wc -l)
	[ "$n" = 0 ] || { echo "$n notices reported sent by the killed run, not sent in its store" >&2; bad=1; }
	q "$d" "SELECT id FROM notices WHERE created_at = '$T1' ORDER BY 1" | comm -23 - "$d/sent.k" >"$d/due.r"
	cmp -s "$d/due.r" "$d/rec.r" || { echo "the recovery run did not report exactly the notices left" >&2; bad=1; }
	n=$(q "$d" "PRAGMA integrity_check; PRAGMA foreign_key_check")
	[ "$n" = ok ] || { echo "integrity check: $n" >&2; bad=1; }
	if [ "$m" = maildir ]; then
		# named after its Message-ID, a message is delivered into a
		# Maildir once, whatever the kill interrupted
		[ "$redel" = 0 ] || { echo "$redel messages delivered twice into the Maildir" >&2
			dup=$((dup + redel)); }
		[ -d "$d/md/tmp" ] && tmpleft=$(ls -A "$d/md/tmp" | wc -l)
		[ "$tmpleft" = 0 ] || { echo "$tmpleft files left in the Maildir's tmp/" >&2; bad=1; }
	fi
	echo "$lost $dup $redel $tmpleft"
	[ $bad = 0 ] && [ $lost = 0 ] && [ $dup = 0 ]
}

test_expect_success "$TRIALS trials: a run killed at a random instant, then a run to completion" '
	killed=0 midway=0 lost=0 dup=0 failed=0 other=0 redel=0 tmpleft=0
	for t in $(seq 1 "$TRIALS"); do
		d=trial-$t m=mta
		[ $((t % 2)) = 1 ] && m=maildir
		copy_store $d || return 1
		CRASH_PIPE=$(( (t / 2) % 2 ))
		run_us=$run_us_mta; [ $m = maildir ] && run_us=$run_us_maildir
		crash_kill "$run_us" $d/killed.out $d/killed.err $(notify $d $m)
		killed=$((killed + CRASH_KILLED))
		q $d "SELECT id FROM notices WHERE created_at = '\''$T1'\'' AND state = '\''sent'\'' ORDER BY 1" >$d/sent.k
		n=$(wc -l <$d/sent.k)
		[ "$n" -gt 0 ] && [ "$n" -lt 14 ] && midway=$((midway + 1))
		$(notify $d $m) >$d/out 2>$d/err; echo $? >$d/rc
		if check_trial $d $m >$d/counts 2>$d/why; then
			read -r l u r k <$d/counts
			redel=$((redel + r)) tmpleft=$((tmpleft + k))
			rm -rf $d
		else
			read -r l u r k <$d/counts
			lost=$((lost + l)) dup=$((dup + u)) failed=$((failed + 1))
			[ "$l$u" = 00 ] && other=$((other + 1))
			redel=$((redel + r)) tmpleft=$((tmpleft + k))
			echo "trial $t ($m, delay $CRASH_DELAY us, status $CRASH_STATUS, $n sent when killed):"
			sed "s/^/  /" $d/why
		fi
	done
	echo "$TRIALS $killed $midway $lost $dup $failed $other $redel $tmpleft" >counts
	test $failed = 0 && test $killed -gt 0
'
read -r n killed midway lost dup failed other redel tmpleft <counts 2>/dev/null ||
	{ n=$TRIALS killed=0 midway=0 lost=0 dup=0 failed=$TRIALS other=$TRIALS redel=0 tmpleft=0; }
diag "$killed of $n runs killed before they finished, $midway with part of the messages sent;" \
	"$redel messages handed to the MTA again under the same Message-ID (the documented" \
	"at-least-once of sendmail delivery; into a Maildir each message goes once)"
crash_summary dz-notify "$n" "$killed" "$lost" "$dup" "$failed" "$other"
test_done
