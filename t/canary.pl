#!/usr/bin/perl
# t/canary.pl SECRET FILE...: print every FILE that contains any 32-byte
# window of the file SECRET (or, for a SECRET shorter than 32 bytes, the
# whole of it), and exit 1 if any does. Used to prove that plaintext media
# and personal data never reach the store's files.
use strict;
use warnings;

my ($secret, @files) = @ARGV;
die "usage: canary.pl SECRET FILE...\n" unless defined $secret;
open(my $s, '<:raw', $secret) or die "canary.pl: $secret: $!\n";
my $data = do { local $/; <$s> };
close($s);
my $w = length($data) < 32 ? length($data) : 32;
die "canary.pl: empty secret\n" if $w == 0;
my %window;
$window{substr($data, $_, $w)} = 1 for 0 .. length($data) - $w;
my $hits = 0;
for my $f (@files) {
	open(my $fh, '<:raw', $f) or die "canary.pl: $f: $!\n";
	my $bytes = do { local $/; <$fh> };
	close($fh);
	next unless defined $bytes && length($bytes) >= $w;
	for my $i (0 .. length($bytes) - $w) {
		if ($window{substr($bytes, $i, $w)}) {
			print "$f: secret found at byte $i\n";
			$hits++;
			last;
		}
	}
}
exit($hits ? 1 : 0);
