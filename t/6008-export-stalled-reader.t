#!/bin/bash
# dz-export's views read the store to the end before they write: a reader
# that stops reading their output (a pager left open, a full pipe) holds
# no read transaction, so dz-purge's and dz-hash's WAL checkpoints go on
# (issue 15: no lock held across I/O that can block).
. "$(dirname "$0")/lib.sh"

export DZ_NOW=2026-05-01T10:00:00Z
cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
retention:
  personal_data_days: 14
EOF
export DZ_CONFIG=$TRASH/dz.yaml

test_expect_success 'setup: more cases than a pipe holds the listing of' '
	dz-ingest --init 2>/dev/null &&
	for i in $(seq 600); do
		printf "{\"type\":\"submission\",\"submission\":\"s-%04d\",\"age\":30,\"followup\":false,\"contact\":{},\"urls\":[\"https://pix.example/%d\"],\"language\":\"en\"}\n" $i $i
	done >subs.jsonl &&
	dz-ingest subs.jsonl >acks && test "$(wc -l <acks)" = 600 &&
	jq -c "{type:\"close\",case:.case}" acks >closes &&
	dz-ingest closes >/dev/null &&
	dz-export cases >all && test "$(wc -c <all)" -gt 131072
'

stalled() {	# stalled VIEW...: dz-export VIEW into a pipe nobody reads
	rm -f pipe && mkfifo pipe &&
	{ sleep 60 <pipe & } && holder=$! &&
	{ dz-export "$@" >pipe 2>/dev/null & } && writer=$! &&
	test_when_finished "kill $writer $holder 2>/dev/null; wait $writer $holder 2>/dev/null; :" &&
	sleep 1 && kill -0 $writer
}

# After the reader stalls, a new report is written, and dz-purge deletes
# personal data: both write past the reader's view, which dz-purge's
# checkpoint then has to get by.
test_expect_success 'cases: the writer blocks on the pipe, dz-purge still checkpoints' '
	stalled cases &&
	sed "s/s-0001/s-late1/" subs.jsonl | head -n 1 | dz-ingest >/dev/null &&
	DZ_NOW=2026-06-01T10:00:00Z timeout 60 dz-purge >purge.out 2>purge.err ||
		{ cat purge.err; return 1; }
	test -s purge.out
'

test_expect_success 'items: the same' '
	stalled items &&
	sed "s/s-0002/s-late2/" subs.jsonl | sed -n 2p | dz-ingest >/dev/null &&
	DZ_NOW=2026-06-02T10:00:00Z timeout 60 dz-purge >purge.out 2>purge.err ||
		{ cat purge.err; return 1; }
'

test_expect_success 'the listing is whole when it is read' '
	dz-export cases >again && test "$(wc -l <again)" = 602
'

test_done
