#!/usr/bin/perl
# t/mkbad.pl KIND OUT [SRC]: write a hostile image for the bad-input tests.
#   png-huge    a valid PNG header claiming 100000x100000 pixels
#   png-bomb    a 30000x30000 1-bit PNG of zeros: ~110 KB that inflates
#               to 112 MB of pixel rows (and 900 megapixels)
#   png-bomb-ok the same idea at 10000x9000 (90 megapixels, under the
#               default limit): must decode in bounded memory
#   jpeg-scans  SRC (a PPM): a valid progressive JPEG of it with 2080
#               scans, every AC coefficient of every component sent one
#               bit at a time. cjpeg takes at most 100 scans a file, so
#               several files are made and their AC scans spliced after
#               the first one's DC scan (same image and tables).
use strict;
use warnings;
use Compress::Zlib;

my ($kind, $out, $src) = @ARGV;
die "usage: mkbad.pl KIND OUT [SRC]\n" unless $kind && $out;

sub chunk {
	my ($type, $data) = @_;
	return pack('N', length $data) . $type . $data .
	    pack('N', crc32($type . $data));
}

sub png {
	my ($w, $h, $depth, $colour, $idat) = @_;
	return "\x89PNG\r\n\x1a\n" .
	    chunk('IHDR', pack('NNCCCCC', $w, $h, $depth, $colour, 0, 0, 0)) .
	    chunk('IDAT', $idat) . chunk('IEND', '');
}

sub zero_rows {
	my ($w, $h, $depth) = @_;
	my $row = "\0" x (1 + int(($w * $depth + 7) / 8));
	my ($d, $status) = deflateInit(-Level => 9);
	my $z = '';
	for (1 .. $h) {
		my ($o) = $d->deflate($row);
		$z .= $o;
	}
	my ($o) = $d->flush();
	return $z . $o;
}

my $data;
if ($kind eq 'png-huge') {
	$data = png(100000, 100000, 8, 2, compress("\0" x 300001));
} elsif ($kind eq 'png-bomb') {
	$data = png(30000, 30000, 1, 0, zero_rows(30000, 30000, 1));
} elsif ($kind eq 'png-bomb-ok') {
	$data = png(10000, 9000, 1, 0, zero_rows(10000, 9000, 1));
} elsif ($kind eq 'jpeg-scans') {
	my @pairs;
	for my $c (0 .. 2) {
		push @pairs, [$c, $_] for 1 .. 63;
	}
	my $tmp = "$out.tmp";
	while (@pairs) {
		my @part = splice(@pairs, 0, 9);
		open(my $s, '>', "$tmp.scans") or die "mkbad.pl: $tmp.scans: $!\n";
		print $s "0,1,2: 0-0, 0, 0;\n";
		for my $p (@part) {
			my ($c, $k) = @$p;
			print $s "$c: $k-$k, 0, 10;\n";
			print $s "$c: $k-$k, $_, " . ($_ - 1) . ";\n" for reverse 1 .. 10;
		}
		close($s);
		system('cjpeg', '-scans', "$tmp.scans", '-outfile', "$tmp.jpg", $src) == 0
		    or die "mkbad.pl: cjpeg failed\n";
		open(my $in, '<:raw', "$tmp.jpg") or die "mkbad.pl: $tmp.jpg: $!\n";
		local $/;
		my $j = <$in>;
		close($in);
		my $eoi = rindex($j, "\xff\xd9");
		if (!defined $data) {
			$data = substr($j, 0, $eoi);
			next;
		}
		# skip the header and the DC scan: from the first SOS, the next
		# marker that is not a stuffed byte or a restart marker
		my $pos = index($j, "\xff\xda") + 2;
		$pos++ while !(substr($j, $pos, 1) eq "\xff" &&
		    substr($j, $pos + 1, 1) =~ /[^\x00\xd0-\xd7]/);
		$data .= substr($j, $pos, $eoi - $pos);
	}
	$data .= "\xff\xd9";
	unlink("$tmp.scans", "$tmp.jpg");
} else {
	die "mkbad.pl: unknown kind '$kind'\n";
}
open(my $fh, '>:raw', $out) or die "mkbad.pl: cannot write $out\n";
print $fh $data;
close($fh) or die "mkbad.pl: cannot write $out\n";
