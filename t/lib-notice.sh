# t/lib-notice.sh: the fixture of the notice and desk tests, sourced after
# t/lib.sh. A provider directory and a dz.yaml with a notify section in
# the trash directory, URL-only submissions, verdicts, and jq tests of
# record files.

# notice_providers [NAME DOMAIN]...: providers.yaml with Pixhost
# (pix.example) and the providers given, each with an abuse address.
notice_providers() {
	{
		printf 'version: 1\nproviders:\n'
		set -- Pixhost pix.example "$@"
		while [ $# -ge 2 ]; do
			printf '  - name: %s\n    domains: [%s]\n    abuse: abuse@%s\n' "$1" "$2" "$2"
			shift 2
		done
	} >"$TRASH/providers.yaml"
}

# notice_config [LINE]...: dz.yaml (store, master key, notify, the lines
# given added to the notify section) and DZ_CONFIG pointing at it.
notice_config() {
	{
		printf 'store: %s\nmaster_key: %s\nnotify:\n' "$TRASH/store" "$TRASH/master.key"
		printf '  from: "Hotline test <notices@hotline.example>"\n'
		printf '  hotline: Hotline test\n  providers: %s\n' "$TRASH/providers.yaml"
		for l; do printf '%s\n' "$l"; done
	} >"$TRASH/dz.yaml"
	DZ_CONFIG=$TRASH/dz.yaml
	export DZ_CONFIG
}

# url_submit ID AGE LANGUAGE URL...: a submission of URLs alone, no
# contact; prints its case id.
url_submit() {
	local id=$1 age=$2 lang=$3
	shift 3
	jq -cn --arg id "$id" --argjson age "$age" --arg lang "$lang" \
		'$ARGS.positional as $u | {type:"submission",submission:$id,
		age:$age,followup:false,contact:{},urls:$u,language:$lang}' \
		--args "$@" >sub.jsonl &&
	dz-ingest sub.jsonl >ack && jq -r .case ack
}

# judge_all CASE N [CATEGORY]: items 1 to N of CASE judged illegal, in
# CATEGORY (adult_ncii).
judge_all() {
	local i
	for i in $(seq "$2"); do
		printf '{"type":"verdict","item":"%s-%s","illegal":true,"category":"%s"}\n' \
			"$1" "$i" "${3:-adult_ncii}"
	done >v.jsonl && dz-ingest v.jsonl >/dev/null
}

# has FILE CONDITION: some record of FILE meets the jq CONDITION.
has() {
	jq -s -e "any(.[]; $2)" "$1" >/dev/null
}

# count FILE CONDITION: how many records of FILE meet it.
count() {
	jq -s "map(select($2)) | length" "$1"
}
