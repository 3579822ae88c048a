#!/bin/bash
# dz-export stats: the figures of the yearly report (DSA Article 22(3))
# counted exactly on a store built step by step over a year, the period
# (dates, offsets, bounds), the same figures after dz-purge, no personal
# data, the store only read, the HTML page rendered by headless Chromium
# with no request made, bad input; and dz-export bank's progress line.
. "$(dirname "$0")/lib.sh"
require_testdata

cat >providers.yaml <<'EOF'
version: 1
providers:
  - name: Pixhost
    domains: [pix.example]
    abuse: abuse@pix.example
  - name: 'Vidéo <Libre> & "Cie"'
    domains: [video.example]
    abuse: signalement@video.example
    language: fr
  - name: Formonly
    domains: [form.example]
    form: https://form.example/report
EOF
cat >dz.yaml <<EOF
store: $TRASH/store
master_key: $TRASH/master.key
retention: {personal_data_days: 14, unverified_media_days: 30, withdrawn_hash_days: 30}
notify:
  hotline: Hotline <b>test</b> & "Co"
  providers: $TRASH/providers.yaml
EOF
export DZ_CONFIG=$TRASH/dz.yaml
export DZ_NOW=2027-01-15T00:00:00Z

L=$TESTDATA/pdq/labelme-subset
cp "$L/q2821.jpg" a.jpg
cp "$L/q0746.jpg" b.jpg
cp "$L/q1050.jpg" c.jpg
cp "$L/q0122.jpg" d.jpg
cp "$L/q0291.jpg" e.jpg

# at TIME CMD...: CMD with the clock at TIME
at() { local t=$1; shift; DZ_NOW=$t "$@"; }
# submit TIME ID AGE FOLLOWUP RECEIVED FILES URLS...: prints the case id;
# the contact is $CONTACT, else an e-mail address, a name and a phone
CANARY='{"email":"canary-7f3a@victim.example","name":"Canary Person","phone":"+33 6 12 34 56 78"}'
submit() {
	local t=$1 id=$2 age=$3 fu=$4 rcv=$5 files=$6
	shift 6
	jq -cn --arg id "$id" --argjson age "$age" --argjson fu "$fu" \
		--arg rcv "$rcv" --arg files "$files" \
		--argjson contact "${CONTACT:-$CANARY}" '$ARGS.positional as $u |
		{type:"submission",submission:$id,age:$age,followup:$fu,
		 received_at:$rcv,urls:$u,
		 files:($files | split(" ") | map(select(. != ""))),
		 contact:$contact,
		 description:"canary description 51c2"}' --args "$@" >sub.jsonl &&
	at "$t" dz-ingest sub.jsonl >ack && jq -r .case ack
}
# verdict TIME ITEM illegal CATEGORY | verdict TIME ITEM not_illegal
verdict() {
	if [ "$3" = illegal ]; then
		printf '{"type":"verdict","item":"%s","illegal":true,"category":"%s"}\n' "$2" "$4"
	else
		printf '{"type":"verdict","item":"%s","illegal":false}\n' "$2"
	fi | at "$1" dz-ingest >/dev/null
}
op() {	# op TIME TYPE CASE-OR-ITEM [PROVIDER]
	local key=case
	case $2 in removed|notified) key=item ;; esac
	if [ -n "${4-}" ]; then
		printf '{"type":"%s","%s":"%s","provider":"%s"}\n' "$2" $key "$3" "$4"
	else
		printf '{"type":"%s","%s":"%s"}\n' "$2" $key "$3"
	fi | at "$1" dz-ingest >/dev/null
}
notify() { at "$1" dz-notify --maildir "$TRASH/md" "${@:2}" >>notices.jsonl 2>/dev/null; }
stats() { dz-export stats --from 2026-01-01 --to 2027-01-01 "$@"; }
# fig FILE STAT CONDITION: the one record of STAT in FILE meets the jq
# CONDITION (STAT "verdict" or "removal": that delay)
fig() {
	jq -se --arg s "$2" 'map(select(.stat == $s or .delay == $s)) |
		length == 1 and (.[0] | '"$3"')' "$1" >/dev/null
}

# The year 2026, and a report on each side of it. Times are UTC unless
# they say otherwise.
test_expect_success 'setup: a year of reports, verdicts, hashes, notices, removals, answers' '
	dz-ingest --init 2>/dev/null &&
	ffmpeg -v error -f lavfi -i testsrc=size=96x64:rate=10 -t 2 \
		-c:v libx264 -pix_fmt yuv420p v.mp4 &&
	old=$(submit 2025-12-20T10:00:00Z sub-old 30 false 2025-12-20T10:00:00Z "" https://pix.example/old.jpg) &&
	verdict 2025-12-21T10:00:00Z $old-1 illegal adult_ncii &&
	notify 2026-01-05T10:00:00Z &&
	op 2026-01-07T10:00:00Z removed $old-1 &&
	a=$(submit 2026-03-01T10:00:00Z sub-a 25 true 2026-03-01T10:00:00Z a.jpg \
		https://pix.example/1.jpg https://cdn.pix.example/2.jpg https://video.example/v/3 \
		https://form.example/x https://nobody.example/y) &&
	b=$(submit 2026-03-01T10:00:00Z sub-b 16 false 2026-03-01T12:00:00+02:00 "b.jpg v.mp4" \
		https://pix.example/9.jpg) &&
	for i in 1 2 3 4 5 6; do verdict 2026-03-02T10:00:00Z $a-$i illegal adult_ncii || return 1; done &&
	for i in 1 2 3; do verdict 2026-03-04T10:00:00Z $b-$i illegal minor || return 1; done &&
	at 2026-03-05T10:00:00Z dz-hash --store >h1.jsonl &&
	notify 2026-03-05T10:00:00Z &&
	at 2026-03-06T10:00:00Z dz-export bank --unsigned -o full1.jsonl >x1.jsonl &&
	op 2026-03-08T10:00:00Z removed $a-1 &&
	op 2026-03-10T10:00:00Z notified $a-4 Formonly &&
	notify 2026-03-12T10:00:00Z --remind 7 &&
	op 2026-03-15T10:00:00Z removed $a-3 &&
	op 2026-03-20T10:00:00Z close $a && op 2026-03-20T10:00:00Z close $b &&
	notify 2026-03-20T11:00:00Z &&
	c=$(CONTACT="{\"phone\":\"+33 6 12 34 56 78\"}" submit 2026-06-01T00:00:00Z sub-c 35 true \
		2026-06-01T00:00:00Z c.jpg https://pix.example/n.jpg) &&
	verdict 2026-06-01T12:00:00Z $c-1 not_illegal && verdict 2026-06-01T12:00:00Z $c-2 not_illegal &&
	op 2026-06-02T00:00:00Z close $c &&
	notify 2026-06-03T00:00:00Z &&
	d=$(submit 2026-07-01T00:00:00Z sub-d 40 false 2026-07-01T00:00:00Z d.jpg https://video.example/w) &&
	verdict 2026-07-11T00:00:00Z $d-1 illegal other && verdict 2026-07-11T00:00:00Z $d-2 illegal other &&
	at 2026-07-11T00:00:00Z dz-hash --store >h2.jsonl &&
	notify 2026-07-11T00:00:00Z &&
	at 2026-07-11T12:00:00Z dz-export bank --unsigned --since last -o delta2.jsonl >x2.jsonl &&
	op 2026-07-12T00:00:00Z withdraw $d &&
	f=$(submit 2026-09-01T00:00:00Z sub-f 22 false 2026-09-01T00:00:00Z e.jpg \
		https://form.example/z https://pix.example/due https://nobody.example/z2) &&
	verdict 2026-09-02T00:00:00Z $f-1 illegal other &&
	verdict 2026-09-02T00:00:00Z $f-3 illegal other &&
	op 2026-09-03T00:00:00Z notified $f-3 "Some Host" &&
	verdict 2026-12-30T00:00:00Z $f-2 illegal adult_ncii &&
	e=$(submit 2027-01-01T00:30:00Z sub-e 20 false 2026-12-31T23:30:00-01:00 "" https://pix.example/late) &&
	verdict 2027-01-02T00:00:00Z $e-1 illegal adult_ncii &&
	printf "%s\n" $old $a $b $c $d $f $e >cases
'
read -r old a b c d f e <<<"$(tr "\n" " " <cases 2>/dev/null)"

test_expect_success 'setup went as planned: hashes, exports, notices, answers' '
	test $(jq -s "length" h1.jsonl) = 3 && test $(jq -s "length" h2.jsonl) = 1 &&
	jq -e ".kind == \"full\" and .entries >= 3" x1.jsonl &&
	jq -e ".kind == \"delta\" and .entries == 1" x2.jsonl &&
	jq -r "select(.type == \"notice\") | [.kind, .state, .provider // \"-\", .urls // 0] | @tsv" \
		notices.jsonl >n.tsv &&
	cat >want.tsv <<-\EOF &&
	provider	sent	Pixhost	1
	provider	sent	Pixhost	2
	provider	sent	Vidéo <Libre> & "Cie"	1
	provider	sent	Pixhost	1
	reminder	sent	Pixhost	1
	reminder	sent	Vidéo <Libre> & "Cie"	1
	reminder	sent	Pixhost	1
	victim	sent	-	0
	victim	cancelled	-	0
	provider	sent	Vidéo <Libre> & "Cie"	1
	EOF
	test_cmp want.tsv n.tsv
'

# Hand-counted. Reports: sub-a, sub-b (received at 12:00+02:00, 10:00 UTC),
# sub-c, sub-d, sub-f; not sub-old (2025) nor sub-e (23:30-01:00 on
# December 31st is 2027 in UTC). Verdict delays in days: 1 x6 (a), 3 x3
# (b), 0.5 x2 (c), 10 x2 (d), 1 x2 and 120 (f): median 1, 90th
# percentile (nearest rank, the 15th of 16) 10. Notices sent in 2026:
# Pixhost on January 5th (sub-old's URL, removed 2 days later) and March
# 5th (3 URLs, one removed after 3 days), Vidéo on March 5th (removed
# after 10 days) and July 11th, Formonly and "Some Host" (not in the
# directory) by hand, two reminders. Outcomes of the 10 illegal URLs of
# the reports: removed a-1 a-3, withdrawn d-1, pending a-2 a-4 b-1 f-3,
# due f-2 (no dz-notify since), manual f-1 (Formonly: a form only),
# unresolved a-5. Bank rows shared: 3 PDQs (one withdrawn since), a
# video's MD5 and vPDQ.
cat >want.jsonl <<EOF
{"type":"stats","stat":"period","from":"2026-01-01T00:00:00Z","to":"2027-01-01T00:00:00Z","made":"2027-01-15T00:00:00Z"}
{"type":"stats","stat":"reports","reports":5,"withdrawn":1,"adult":4,"minor":1,"age_unknown":0,"followup":2}
{"type":"stats","stat":"items","kind":"image","items":5,"review":1,"illegal":3,"not_illegal":1}
{"type":"stats","stat":"items","kind":"video","items":1,"review":0,"illegal":1,"not_illegal":0}
{"type":"stats","stat":"items","kind":"url","items":11,"review":0,"illegal":10,"not_illegal":1}
{"type":"stats","stat":"illegal","category":"adult_ncii","items":7,"image":1,"video":0,"url":6}
{"type":"stats","stat":"illegal","category":"minor","items":3,"image":1,"video":1,"url":1}
{"type":"stats","stat":"illegal","category":"other","items":4,"image":1,"video":0,"url":3}
{"type":"stats","stat":"outcomes","urls":10,"removed":2,"withdrawn":1,"pending":4,"due":1,"manual":1,"unresolved":1}
{"type":"stats","stat":"notices","notices":5,"manual":2,"reminders":3,"urls":8,"removed":3,"refused":0,"no_answer":0,"providers":4}
{"type":"stats","stat":"provider","provider":"Formonly","notices":0,"manual":1,"reminders":0,"urls":1,"removed":0,"refused":0,"no_answer":0}
{"type":"stats","stat":"provider","provider":"Pixhost","notices":3,"manual":0,"reminders":2,"urls":4,"removed":2,"refused":0,"no_answer":0}
{"type":"stats","stat":"provider","provider":"Vidéo <Libre> & \"Cie\"","notices":2,"manual":0,"reminders":1,"urls":2,"removed":1,"refused":0,"no_answer":0}
{"type":"stats","stat":"provider","provider":null,"notices":0,"manual":1,"reminders":0,"urls":1,"removed":0,"refused":0,"no_answer":0}
{"type":"stats","stat":"notice_category","category":"adult_ncii","notices":4,"urls":5,"removed":3}
{"type":"stats","stat":"notice_category","category":"minor","notices":1,"urls":1,"removed":0}
{"type":"stats","stat":"notice_category","category":"other","notices":2,"urls":2,"removed":0}
{"type":"stats","stat":"delay","delay":"verdict","count":16,"median_days":1.0,"p90_days":10.0}
{"type":"stats","stat":"delay","delay":"removal","count":3,"median_days":3.0,"p90_days":10.0}
{"type":"stats","stat":"hashes","images":3,"videos":1,"shared":5,"shared_withdrawn":1,"exports_full":1,"exports_delta":1}
{"type":"stats","stat":"answers","sent":1,"cancelled":1}
EOF

test_expect_success 'the figures of 2026, exactly' '
	stats >got.jsonl &&
	test_cmp want.jsonl got.jsonl
'

test_expect_success 'the period: from included, to excluded, offsets honoured' '
	dz-export stats --from 2026-03-01 --to 2026-03-02 >p1 &&
	fig p1 reports ".reports == 2 and .minor == 1" &&
	dz-export stats --from 2026-03-01T10:00:00Z --to 2026-03-01T10:00:01Z >p2 &&
	fig p2 reports ".reports == 2" &&
	dz-export stats --from 2026-03-01 --to 2026-03-01T12:00:00+02:00 >p3 &&
	fig p3 reports ".reports == 0" &&
	fig p3 period ".to == \"2026-03-01T10:00:00Z\"" &&
	dz-export stats --from 2026-12-31 --to 2027-01-01T00:30:00Z >p4 &&
	fig p4 reports ".reports == 0" &&
	dz-export stats --from 2026-12-31 --to 2027-01-01T00:30:01Z >p5 &&
	fig p5 reports ".reports == 1"
'

test_expect_success 'the period: events counted on their own date' '
	dz-export stats --from 2026-03-05 --to 2026-03-06 >q1 &&
	fig q1 reports ".reports == 0" &&
	fig q1 notices ".notices == 3 and .urls == 4 and
		.removed == 2 and .reminders == 0 and .manual == 0" &&
	fig q1 hashes ".images == 2 and .videos == 1 and
		.exports_full == 0" &&
	dz-export stats --from 2026-01-01 --to 2026-01-06 >q2 &&
	fig q2 notices ".notices == 1 and .urls == 1" &&
	fig q2 removal ".count == 1 and .median_days == 2.0"
'

test_expect_success 'without --from: from the first report; without --to: until now' '
	dz-export stats >all &&
	fig all period ".from == null and
		.to == \"2027-01-15T00:00:00Z\" and .made == .to" &&
	fig all reports ".reports == 7" &&
	DZ_NOW=2026-03-01T10:00:00Z dz-export stats --from 2026-01-01 >now &&
	fig now reports ".reports == 0" &&
	dz-export stats --from 2026-07-01 --to 2026-07-01 >empty &&
	fig empty reports ".reports == 0"
'

test_expect_success 'no personal data, no id, no URL in the figures' '
	stats >s.jsonl && stats --format html >s.html &&
	for page in s.jsonl s.html; do
		! grep -i -e canary -e "+33" -e "12 34" -e "://" -e "\.example" -e sub- $page || return 1
		for id in $old $a $b $c $d $f $e; do ! grep -q "$id" $page || return 1; done
		! grep -E -q "[0-9a-f]{16}" $page || return 1
	done
'

test_expect_success 'the store is only read: no change, no lock taken, works under a lock' '
	sqlite3 store/store.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sha256sum store/store.db >before &&
	flock store/export.lock flock store/purge.lock flock store/notify.lock \
		dz-export stats --from 2026-01-01 --to 2027-01-01 >locked.jsonl &&
	test_cmp got.jsonl locked.jsonl &&
	sha256sum store/store.db >after && test_cmp before after &&
	test ! -s store/store.db-wal
'

# figures_of_json FILE: every figure of the records, as the page's "id=value"
figures_of_json() {
	jq -r 'def d: if . == null then "–" else (. * 10 | round) as $t |
			"\($t / 10 | floor).\($t % 10)" end;
		def f(k; v): "\(k)=\(v)";
		if .stat == "period" then f("from"; .from), f("to"; .to), f("made"; .made)
		elif .stat == "reports" then f("reports"; .reports),
			f("withdrawn"; .withdrawn), f("minor"; .minor),
			f("adult"; .adult), f("followup"; .followup)
		elif .stat == "items" then . as $r | f("items-\(.kind)"; .items),
			(["illegal", "not_illegal", "review"][] |
			 f("items-\($r.kind)-\(.)"; $r[.]))
		elif .stat == "illegal" then . as $r | f("illegal-\(.category)"; .items),
			(["image", "video", "url"][] | f("illegal-\($r.category)-\(.)"; $r[.]))
		elif .stat == "outcomes" then . as $r | f("outcome-urls"; .urls),
			(["removed", "withdrawn", "pending", "due", "manual",
			  "unresolved"][] | f("outcome-\(.)"; $r[.]))
		elif .stat == "notices" then . as $r | (["notices", "manual",
			"reminders", "urls", "removed", "providers"][] | f(.; $r[.]))
		elif .stat == "provider" then "provider=\(.provider //
			"Providers not in the directory")|\(.notices)|\(.manual)|\(.reminders)|\(.urls)|\(.removed)"
		elif .stat == "notice_category" then f("notice-\(.category)"; .notices),
			f("notice-\(.category)-urls"; .urls),
			f("notice-\(.category)-removed"; .removed)
		elif .stat == "delay" then f("delay-\(.delay)"; .count),
			f("delay-\(.delay)-median"; .median_days | d),
			f("delay-\(.delay)-p90"; .p90_days | d)
		elif .stat == "hashes" then f("hashed-images"; .images),
			f("hashed-videos"; .videos), f("shared"; .shared),
			f("shared-withdrawn"; .shared_withdrawn),
			f("exports-full"; .exports_full), f("exports-delta"; .exports_delta)
		elif .stat == "answers" then f("answers-sent"; .sent),
			f("answers-cancelled"; .cancelled)
		else error("unknown stat \(.stat)") end' "$1" | LC_ALL=C sort
}
# figures_of_html FILE: "id=text" of every element with an id and the rows
# of the provider table, sorted; the names of the elements used in
# FILE.tags
cat >figures.py <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.cur = None; self.row = None; self.cell = None
        self.out = []; self.tags = set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.cur = [a["id"], ""]
            self.dt = a.get("datetime") if tag == "time" else None
        if tag == "tr" and a.get("class") == "provider":
            self.row = []
        if self.row is not None and tag in ("th", "td"):
            self.cell = ""
    def handle_endtag(self, tag):
        if self.cur and tag == "time" and self.dt:
            self.cur[1] = self.dt
        if self.cur and tag in ("td", "time"):
            self.out.append("%s=%s" % tuple(self.cur)); self.cur = None
        if self.row is not None and tag in ("th", "td"):
            self.row.append(self.cell); self.cell = None
        if tag == "tr" and self.row is not None:
            self.out.append("provider=" + "|".join(self.row)); self.row = None
    def handle_data(self, d):
        if self.cur: self.cur[1] += d
        if self.cell is not None: self.cell += d
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
for l in p.out: print(l)
with open(sys.argv[1] + ".tags", "w") as f:
    print("tags=" + " ".join(sorted(p.tags)), file=f)
PY
figures_of_html() { python3 figures.py "$1" | LC_ALL=C sort; }
TAGS="body footer h1 h2 h3 head html i meta p rect span style svg table tbody td text th thead time title tr"

test_expect_success 'the page: whole in itself, the CSP before anything, every string escaped' '
	stats --format html >s.html &&
	head -1 s.html | grep -qx "<!DOCTYPE html>" &&
	test "$(grep -c Content-Security-Policy s.html)" = 1 &&
	grep -q "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src '\''none'\''; style-src '\''unsafe-inline'\''\">" s.html &&
	csp=$(grep -n Content-Security-Policy s.html | cut -d: -f1) &&
	style=$(grep -n "<style>" s.html | cut -d: -f1) && test "$csp" -lt "$style" &&
	! grep -i -e "<script" -e "src=" -e "href" -e "url(" -e "@import" -e "<link" \
		-e "<img" -e "<iframe" -e "<object" -e "://" -e "javascript:" s.html &&
	grep -q "<h1>Hotline &lt;b&gt;test&lt;/b&gt; &amp; &quot;Co&quot;: statistics</h1>" s.html &&
	grep -q "<th scope=\"row\">Vidéo &lt;Libre&gt; &amp; &quot;Cie&quot;</th>" s.html &&
	grep -q "<text x=\"0\" y=\"[0-9]*\">Vidéo &lt;Libre&gt; &amp; &quot;Cie&quot;</text>" s.html &&
	! grep -q -e "<b>" -e "<Libre>" s.html
'

test_expect_success 'the page shows every figure of the records' '
	figures_of_json got.jsonl >want.fig &&
	figures_of_html s.html >got.fig &&
	test_cmp want.fig got.fig &&
	echo "tags=$TAGS" >want.tags && test_cmp want.tags s.html.tags
'

if ! command -v chromium >/dev/null 2>&1; then
	skip "chromium is not installed (Debian package chromium, in scripts/deps): the page is not rendered"
	skip "chromium is not installed: no check that the page makes no request"
else
	# A network namespace of its own keeps a mistake from leaving the
	# machine; the net log says what the page asked for.
	NS=
	if unshare -n true 2>/dev/null; then NS="unshare -n"; fi
	render() {	# render FILE.html DOM NETLOG
		rm -rf "$TRASH/chromium"
		timeout 120 $NS chromium --headless --no-sandbox --disable-gpu \
			--disable-background-networking --disable-component-update \
			--disable-sync --disable-default-apps --disable-extensions \
			--no-first-run --user-data-dir="$TRASH/chromium" \
			--log-net-log="$3" --dump-dom "file://$1" >"$2" 2>chromium.err
	}
	# requests NETLOG: the URLs asked for, but Chromium's own calls home
	# (which no switch stops)
	requests() {
		jq -r ".. | objects | .url? // empty | strings" "$1" |
			grep -v -E "^(file|data|chrome|about):|^https?://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)(/|:|$)" |
			sort -u
	}
	test_expect_success 'Chromium renders the page: the figures are in its DOM, nothing injected' '
		render "$TRASH/s.html" dom.html net.json &&
		grep -q "id=\"reports\">5<" dom.html &&
		grep -q "id=\"items-url-illegal\">10<" dom.html &&
		grep -q "id=\"delay-verdict-p90\">10.0<" dom.html &&
		grep -q "<th scope=\"row\">Vidéo &lt;Libre&gt; &amp; \"Cie\"</th><td class=\"n\">2</td>" dom.html &&
		figures_of_html dom.html >dom.fig && test_cmp want.fig dom.fig &&
		test_cmp want.tags dom.html.tags
	'
	test_expect_success 'Chromium makes no request for the page, and the CSP would stop one' '
		test -s net.json && requests net.json >req && test_cmp /dev/null req &&
		sed "s|<body>|<body><img src=\"http://127.0.0.1:9/canary.png\">|" s.html >inj.html &&
		render "$TRASH/inj.html" dom2.html net2.json &&
		requests net2.json >req2 && test_cmp /dev/null req2 &&
		sed "/Content-Security-Policy/d" inj.html >nocsp.html &&
		render "$TRASH/nocsp.html" dom3.html net3.json &&
		requests net3.json >req3 && grep -qx "http://127.0.0.1:9/canary.png" req3
	'
fi

test_expect_success 'after dz-purge, the same figures' '
	for x in $old $d $f $e; do op 2027-01-20T00:00:00Z close $x || return 1; done &&
	DZ_NOW=2027-03-01T00:00:00Z stats >before.jsonl &&
	at 2027-03-01T00:00:00Z dz-purge >purged.jsonl &&
	jq -se "any(.[]; .what == \"personal_data\") and any(.[]; .what == \"media\") and
		any(.[]; .what == \"hashes\" and .tombstones == 1)" purged.jsonl &&
	test "$(sqlite3 store/store.db "SELECT count(*) FROM cases WHERE contact IS NOT NULL")" = 0 &&
	DZ_NOW=2027-03-01T00:00:00Z stats >after.jsonl &&
	test_cmp before.jsonl after.jsonl &&
	grep -v "\"stat\":\"period\"" want.jsonl >w && grep -v "\"stat\":\"period\"" after.jsonl >g &&
	test_cmp w g
'

test_expect_success 'bad dates and periods: exit 64, the reason on the first line' '
	for d in 2026-02-30 2026-13-01 2026-1-1 20260101 2025-02-29T00:00:00Z \
		2026-01-01T25:00:00Z 2026-01-01T00:00:00 yesterday ""; do
		expect_exit 64 dz-export stats --from "$d" 2>err || return 1
		head -1 err | grep -qx "dz-export: --from: not a date (YYYY-MM-DD) or an RFC 3339 time" || return 1
		expect_exit 64 dz-export stats --to "$d" 2>err || return 1
		head -1 err | grep -qx "dz-export: --to: not a date (YYYY-MM-DD) or an RFC 3339 time" || return 1
	done &&
	dz-export stats --from 2028-02-29 --to 2028-03-01 >/dev/null &&
	expect_exit 64 dz-export stats --from 2027-01-01 --to 2026-01-01 2>err &&
	head -1 err | grep -qx "dz-export: --from is after --to" &&
	grep -q "^usage: dz-export" err &&
	expect_exit 64 dz-export stats --from 2026-01-01T10:00:00+01:00 --to 2026-01-01T08:59:59Z 2>err &&
	expect_exit 64 dz-export stats --from 2030-01-01 2>err &&
	head -1 err | grep -qx "dz-export: --from is in the future"
'

test_expect_success 'usage errors: format, operands, options of other views' '
	expect_exit 64 dz-export stats --format csv 2>err &&
	head -1 err | grep -qx "dz-export: --format: jsonl or html with stats" &&
	expect_exit 64 dz-export stats 2026 2>err &&
	expect_exit 64 dz-export stats --state open 2>err &&
	expect_exit 64 dz-export stats -o x.html 2>err && test ! -e x.html &&
	expect_exit 64 dz-export stats --since last 2>err &&
	expect_exit 64 dz-export cases --from 2026-01-01 2>err &&
	head -1 err | grep -qx "dz-export: --from and --to go with stats" &&
	expect_exit 64 dz-export bank --to 2026-01-01 2>err &&
	expect_exit 64 dz-export items --format html 2>err &&
	stats --format jsonl >j.jsonl && test_cmp got.jsonl j.jsonl
'

test_expect_success 'no store: exit 66 and a one-line message, nothing created' '
	sed "s|^store: .*|store: $TRASH/none|" dz.yaml >nostore.yaml &&
	expect_exit 66 dz-export -c nostore.yaml stats 2>err &&
	test $(wc -l <err) = 1 && grep -qx "dz-export: cannot open store '\''$TRASH/none'\'': no store (create one with dz-ingest --init)" err &&
	test ! -e none &&
	mkdir nodb && sed "s|^store: .*|store: $TRASH/nodb|" dz.yaml >nodb.yaml &&
	expect_exit 66 dz-export -c nodb.yaml stats 2>err && test $(wc -l <err) = 1 &&
	grep -q "^dz-export: cannot open store '\''$TRASH/nodb'\'': there is no store database" err &&
	test -z "$(ls nodb)"
'

test_expect_success 'a store of a later schema, a bad provider directory: exit 78' '
	cp -r store later && sqlite3 later/store.db "PRAGMA user_version = 99" &&
	sed "s|^store: .*|store: $TRASH/later|" dz.yaml >later.yaml &&
	expect_exit 78 dz-export -c later.yaml stats 2>err && grep -q "schema version 99" err &&
	printf "version: 1\nproviders:\n  - name: X\n    domains: [BAD]\n" >badp.yaml &&
	sed "s|providers: .*|providers: $TRASH/badp.yaml|" dz.yaml >bad.yaml &&
	expect_exit 78 dz-export -c bad.yaml stats 2>err && grep -q "badp.yaml:4" err
'

test_expect_success 'output that cannot be written: exit 74' '
	expect_exit 74 dz-export stats >/dev/full 2>err &&
	expect_exit 74 dz-export stats --format html >/dev/full 2>err &&
	grep -q "^dz-export: cannot write output" err
'

test_expect_success '--help covers stats' '
	dz-export --help >out &&
	grep -q "dz-export \[-hV\] \[-c config\] stats \[--from date\] \[--to date\]" out &&
	grep -q "^  stats " out && grep -q "^      --from DATE" out && grep -q "^      --to DATE" out
'

test_done
