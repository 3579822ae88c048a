#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

void
dz_clock_format(time_t t, char out[DZ_TIME_LEN])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, DZ_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
dz_clock_parse(const char *s, time_t *t)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	struct tm tm = { 0 };
	const char *p;

	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &se))
		return -1;
	p = s + 19;
	if (*p == '.') {	/* fractions of a second: ignored */
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
	    !digits(p + 1, 2, &oh) && !digits(p + 4, 2, &om)) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60 || oh > 23 || om > 59 || y < 1970)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*t = timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
}

int
dz_clock_now(char out[DZ_TIME_LEN])
{
	const char *env = getenv("DZ_NOW");
	time_t t;

	if (env && *env) {
		if (dz_clock_parse(env, &t))
			return -1;
	} else {
		t = time(NULL);
	}
	dz_clock_format(t, out);
	return 0;
}

int
dz_clock_days_before(const char *now, int days, char out[DZ_TIME_LEN])
{
	time_t t;

	if (dz_clock_parse(now, &t))
		return -1;
	dz_clock_format(t - (time_t)days * 86400, out);
	return 0;
}
