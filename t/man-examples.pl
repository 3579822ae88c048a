#!/usr/bin/perl
# t/man-examples.pl PAGE OUTDIR [FROM=TO...]: the examples of a manual
# page, made runnable, for t/0102-man-examples.t.
#
# Every ".Bd -literal" block of the EXAMPLES section is one example. The
# comment lines ".\" example: ..." just before a block say how to treat
# it:
#
#   .\" example: skip REASON   not run; REASON says why (a real MTA, another
#                              machine, systemd...)
#   .\" example: fresh         run on a new server: no store, no master key,
#                              and thrown away afterwards
#   .\" example: config        a dz.yaml(5) file or part of one: the programs
#                              must accept it
#   .\" example: in DIR        run in DIR instead of the fixture's top
#
# Otherwise the block's content says what it is:
#
#   "$ command"    a transcript: each line that starts with "$ " is a
#                  command, continued on the next lines while the shell
#                  finds it incomplete; the other lines are its output,
#                  shown to the reader and not compared, except that the
#                  output of "$ cat FILE" is written to FILE first
#   "{" or "["     records: each JSON value must be an object whose first
#                  member is "type"
#   "m h dom mon dow command" lines (and comments, NAME=value lines):
#                  a crontab; each entry's command is run; an unescaped
#                  '%' is an error, since cron would cut the line there
#   anything else  a shell script, run with bash as it is
#
# Each FROM=TO argument replaces the text FROM by TO in what is run (ids
# and paths of the examples mapped to the fixture's).
#
# Output: OUTDIR/index, one line per block "N<TAB>LINE<TAB>KIND<TAB>ARG",
# and OUTDIR/N.sh (or N.txt for records and config). KIND is transcript,
# script, crontab, records, config or skip; ARG the directory to run in
# ("-" for the top), "fresh", or the reason to skip. Diagnostics about a
# malformed block go to standard error and make the exit status 1.
use strict;
use warnings;

my ($page, $out, @maps) = @ARGV;
die "usage: man-examples.pl PAGE OUTDIR [FROM=TO...]\n" unless defined $out;
my @map = map { /^(.*?)=(.*)$/s or die "bad mapping '$_'\n"; [$1, $2] } @maps;

open my $fh, '<', $page or die "$page: $!\n";
my @src = <$fh>;
close $fh;
chomp @src;

my $bad = 0;
sub complain { print STDERR "$page:$_[0]: $_[1]\n"; $bad = 1; }

# mdoc escapes that may appear in a literal block
my %esc = ('e' => '\\', '&' => '', '-' => '-', '(aq' => "'", '(dq' => '"',
    '(ga' => '`', '(ti' => '~', '(ha' => '^', '(rs' => '\\');
sub unescape {
	my ($s, $ln) = @_;
	$s =~ s{\\(\(..|.)}{
		exists $esc{$1} ? $esc{$1} : do { complain($ln, "unknown escape '\\$1'"); '' }
	}ge;
	return $s;
}

sub mapped {
	my ($s) = @_;
	for my $m (@map) {
		my ($from, $to) = @$m;
		if ($from =~ m{^/}) {
			# a path: only where a path may start
			$s =~ s{(^|[\s'"=(:,])\Q$from\E}{$1$to}gm;
		} else {
			$s =~ s{\Q$from\E}{$to}g;
		}
	}
	return $s;
}

# Is this shell text a complete command?
sub complete {
	my ($text) = @_;
	return 0 if $text =~ /\\$/;
	open my $sh, '|-', 'bash -n 2>/dev/null' or die "bash: $!\n";
	print $sh $text, "\n";
	close $sh;
	return $? == 0;
}

my $cron_time = qr/(?:[0-9*\/,-]+\s+){5}|\@(?:reboot|yearly|annually|monthly|weekly|daily|hourly)\s+/;

# The blocks of the EXAMPLES section, with their markers.
my ($in, $inblock, @marks, @blocks, $cur) = (0, 0);
for my $i (0 .. $#src) {
	my $l = $src[$i];
	my $ln = $i + 1;
	if ($l =~ /^\.Sh\s+(.*)/) {
		$in = $1 eq 'EXAMPLES';
		@marks = ();
		next;
	}
	next unless $in;
	if ($inblock) {
		if ($l =~ /^\.Ed\b/) {
			$inblock = 0;
			push @blocks, $cur;
			next;
		}
		if ($l =~ /^\.(?!\\")/) {
			complain($ln, "a macro inside a literal block");
			next;
		}
		next if $l =~ /^\.\\"/;
		push @{$cur->{lines}}, [unescape($l, $ln), $ln];
		next;
	}
	if ($l =~ /^\.\\"\s*example:\s*(.*?)\s*$/) {
		push @marks, [$1, $ln];
	} elsif ($l =~ /^\.Bd\s+-literal/) {
		$inblock = 1;
		$cur = { line => $ln, marks => [@marks], lines => [] };
		@marks = ();
	} elsif ($l =~ /^\.Bd/) {
		@marks = ();
	}
}
complain(scalar @src, "EXAMPLES: unterminated literal block") if $inblock;
for my $m (@marks) {
	complain($m->[1], "an example marker before no literal block");
}

mkdir $out;
open my $idx, '>', "$out/index" or die "$out/index: $!\n";
my $n = 0;
for my $b (@blocks) {
	$n++;
	my ($kind, $arg, $dir, $fresh, $config, $skip) = ('', '-', undef, 0, 0, undef);
	for my $m (@{$b->{marks}}) {
		my ($w, $ln) = @$m;
		if ($w =~ /^skip\s+(\S.*)$/) { $skip = $1; }
		elsif ($w eq 'fresh') { $fresh = 1; }
		elsif ($w eq 'config') { $config = 1; }
		elsif ($w =~ /^in\s+(\S+)$/) { $dir = mapped($1); }
		else { complain($ln, "unknown example marker '$w'"); }
	}
	my @lines = @{$b->{lines}};
	my $text = join("\n", map { $_->[0] } @lines) . "\n";
	my $file = "$out/$n.sh";
	my $body;
	if (defined $skip) {
		print $idx "$n\t$b->{line}\tskip\t$skip\n";
		next;
	} elsif ($config) {
		$kind = 'config';
		$file = "$out/$n.txt";
		$body = mapped($text);
	} elsif (!@lines) {
		complain($b->{line}, "an empty example");
		next;
	} elsif ($lines[0][0] =~ /^\$ /) {
		$kind = 'transcript';
		$body = "set -e -o pipefail\n";
		my ($cmd, $cmdln, @output);
		my $flush = sub {
			return unless defined $cmd;
			complain($cmdln, "an incomplete command") unless complete($cmd);
			if ($cmd =~ /^cat\s+(\S+)$/ && @output) {
				my $f = $1;
				$body .= "cat >" . mapped($f) . " <<'DZ_EXAMPLE_EOF'\n" .
				    mapped(join("\n", @output)) . "\nDZ_EXAMPLE_EOF\n";
			}
			$body .= mapped($cmd) . "\n";
			($cmd, @output) = ();
		};
		my $open = 0;
		for my $p (@lines) {
			my ($l, $ln) = @$p;
			if ($l =~ /^\$ (.*)$/) {
				$flush->();
				($cmd, $cmdln) = ($1, $ln);
				$open = !complete($cmd);
			} elsif ($open) {
				$cmd .= "\n$l";
				$open = !complete($cmd);
			} else {
				push @output, $l;
			}
		}
		$flush->();
	} elsif ($lines[0][0] =~ /^\s*[{\[]/) {
		$kind = 'records';
		$file = "$out/$n.txt";
		$body = $text;
	} elsif (!grep { $_->[0] !~ /^\s*(#.*)?$/ && $_->[0] !~ /^$cron_time/ && $_->[0] !~ /^[A-Z_]+=\S*$/ } @lines) {
		$kind = 'crontab';
		$body = "set -e -o pipefail\n";
		for my $p (@lines) {
			my ($l, $ln) = @$p;
			next if $l =~ /^\s*(#.*)?$/ || $l =~ /^[A-Z_]+=/;
			(my $c = $l) =~ s/^$cron_time//;
			complain($ln, "crontab: an unescaped '%' (cron makes it a newline): write '\\%'")
			    if $c =~ /(?<!\\)%/;
			$c =~ s/\\%/%/g;
			$body .= "( cd \"\$DZ_EXAMPLE_TOP\" && " . mapped($c) . " )\n";
		}
	} else {
		$kind = 'script';
		$body = mapped($text);
	}
	$arg = $fresh ? 'fresh' : defined $dir ? $dir : '-';
	open my $o, '>', $file or die "$file: $!\n";
	print $o $body;
	close $o;
	print $idx "$n\t$b->{line}\t$kind\t$arg\n";
}
close $idx;
exit $bad;
