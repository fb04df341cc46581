#!/usr/bin/env perl
# tests/integration/png_colours.pl FILE.png [RRGGBB ...]: decodes an 8-bit RGB or RGBA PNG (what
# a Chromium screenshot is) with nothing but core Perl, and prints "size WxH", "colours N" (the
# number of distinct pixel colours) and, for each colour asked about, "RRGGBB PIXELS".
use strict;
use warnings;
use Compress::Zlib qw(uncompress);

my ($file, @want) = @ARGV;
die "usage: $0 FILE.png [RRGGBB ...]\n" unless defined $file;
open(my $fh, '<:raw', $file) or die "$file: $!\n";
local $/;
my $png = <$fh>;
close $fh;
die "$file: not a PNG\n" unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";

my ($w, $h, $depth, $ctype, $interlace, $idat) = (0, 0, 0, 0, 0, '');
for (my $pos = 8; $pos + 8 <= length $png;) {
    my ($len, $type) = unpack('N a4', substr($png, $pos, 8));
    my $data = substr($png, $pos + 8, $len);
    if ($type eq 'IHDR') {
        ($w, $h, $depth, $ctype, undef, undef, $interlace) = unpack('N N C C C C C', $data);
    } elsif ($type eq 'IDAT') {
        $idat .= $data;
    } elsif ($type eq 'IEND') {
        last;
    }
    $pos += 12 + $len;
}
die "$file: only 8-bit RGB/RGBA without interlacing is handled\n"
    unless $depth == 8 && ($ctype == 2 || $ctype == 6) && !$interlace;
my $bpp = $ctype == 6 ? 4 : 3;
my $raw = uncompress($idat);
die "$file: bad image data\n" unless defined $raw && length $raw == $h * (1 + $w * $bpp);

# Undo the per-row filters (PNG spec, section 9), then count colours (alpha ignored).
my $stride = $w * $bpp;
my @prev = (0) x $stride;
my %seen;
for my $y (0 .. $h - 1) {
    my $off = $y * ($stride + 1);
    my $filter = ord substr($raw, $off, 1);
    my @cur = unpack('C*', substr($raw, $off + 1, $stride));
    for my $i (0 .. $stride - 1) {
        my $a = $i >= $bpp ? $cur[$i - $bpp] : 0;
        my $b = $prev[$i];
        if ($filter == 1) {
            $cur[$i] = ($cur[$i] + $a) & 255;
        } elsif ($filter == 2) {
            $cur[$i] = ($cur[$i] + $b) & 255;
        } elsif ($filter == 3) {
            $cur[$i] = ($cur[$i] + (($a + $b) >> 1)) & 255;
        } elsif ($filter == 4) {
            my $c = $i >= $bpp ? $prev[$i - $bpp] : 0;
            my $p = $a + $b - $c;
            my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
            my $pred = ($pa <= $pb && $pa <= $pc) ? $a : ($pb <= $pc ? $b : $c);
            $cur[$i] = ($cur[$i] + $pred) & 255;
        }
    }
    for (my $i = 0; $i < $stride; $i += $bpp) {
        $seen{sprintf('%02x%02x%02x', $cur[$i], $cur[$i + 1], $cur[$i + 2])}++;
    }
    @prev = @cur;
}
print "size ${w}x${h}\n";
print "colours ", scalar(keys %seen), "\n";
print lc($_), " ", ($seen{lc $_} // 0), "\n" for @want;
