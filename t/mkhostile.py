#!/usr/bin/env python3
"""t/mkhostile.py: hostile variants of harmless videos, for the tests of
lib/video. Standard library only; everything is derived from files the
test made itself with ffmpeg.

  mkhostile.py dref IN.mp4 TARGET OUT.mp4
      IN with its data reference made external: an 'alis' entry (a Mac
      alias record) that is not self-contained and names TARGET, as a file
      that points elsewhere for its media would (moov must follow mdat, as
      ffmpeg writes it).
  mkhostile.py huge IN.avi W H OUT.avi
      IN with the frame size in its BITMAPINFOHEADER and AVI headers set to
      W x H, the frames left as they are.
  mkhostile.py gab2 IN.avi PLAYLIST OUT.avi
      IN with a subtitle stream whose one chunk is a GAB2 block holding
      the text of PLAYLIST, the trick that once made FFmpeg's AVI demuxer
      open an HLS playlist.
"""
import struct
import sys


def boxes(b, o, e):
    while o + 8 <= e:
        size, kind = struct.unpack('>I4s', b[o:o + 8])
        if size < 8 or o + size > e:
            raise SystemExit('mkhostile: bad box')
        yield o, size, kind
        o += size


def dref(src, target, out):
    d = bytearray(open(src, 'rb').read())
    path = ['moov', 'trak', 'mdia', 'minf', 'dinf', 'dref']
    chain = []
    o, e = 0, len(d)
    for name in path:
        for bo, bs, bk in boxes(d, o, e):
            if bk == name.encode():
                chain.append(bo)
                header = 16 if name == 'dref' else 8
                o, e = bo + header, bo + bs
                break
        else:
            raise SystemExit('mkhostile: no ' + name)
    # the first entry of dref: 'url ' with flags 1 (self-contained)
    ent = o
    size, kind = struct.unpack('>I4s', d[ent:ent + 8])
    if kind != b'url ':
        raise SystemExit('mkhostile: no url entry')
    # a Macintosh alias record, the kind FFmpeg's MOV demuxer follows
    # (with enable_drefs): fixed part, then an absolute path (type 2)
    path = target.encode()
    if len(path) & 1:
        path += b'\0'
    name = target.rsplit('/', 1)[-1].encode()[:63]
    rec = (b'\0' * 10 + bytes([1]) + b'x'.ljust(27, b'\0') + b'\0' * 12 +
           bytes([len(name)]) + name.ljust(63, b'\0') + b'\0' * 16 +
           struct.pack('>hh', 1, 1) + b'\0' * 16 +
           struct.pack('>hH', 2, len(path)) + path + struct.pack('>hH', -1, 0))
    new = struct.pack('>I4sI', 12 + len(rec), b'alis', 0) + rec
    grow = len(new) - size
    d[ent:ent + size] = new
    for bo in chain:
        (s,) = struct.unpack('>I', d[bo:bo + 4])
        d[bo:bo + 4] = struct.pack('>I', s + grow)
    open(out, 'wb').write(d)


def huge(src, w, h, out):
    a = bytearray(open(src, 'rb').read())
    j = a.find(b'strf')
    struct.pack_into('<ii', a, j + 12, w, h)
    i = a.find(b'avih')
    struct.pack_into('<II', a, i + 8 + 32, w, h)
    k = a.find(b'strh')
    struct.pack_into('<hhhh', a, k + 8 + 48, 0, 0, min(w, 32767), min(h, 32767))
    open(out, 'wb').write(a)


def chunk(tag, data):
    pad = b'\0' if len(data) & 1 else b''
    return tag + struct.pack('<I', len(data)) + data + pad


def gab2(src, playlist, out):
    a = bytearray(open(src, 'rb').read())
    text = open(playlist, 'rb').read()
    name = 'x'.encode('utf-16-le') + b'\0\0'
    block = (b'GAB2\0' + struct.pack('<H', 2) + struct.pack('<I', len(name))
             + name + struct.pack('<H', 4) + struct.pack('<I', len(text)) + text)
    # a second stream list: a text stream
    strh = struct.pack('<4s4sIHHIIIIIIIIhhhh', b'txts', b'\0\0\0\0', 0, 0, 0,
                       0, 1, 10, 0, 1, len(block), 0xffffffff, 0, 0, 0, 0, 0)
    strl = b'LIST' + struct.pack('<I', 4 + 8 + len(strh)) + b'strl' + \
        chunk(b'strh', strh)
    hdrl = a.find(b'hdrl') - 8
    (hsize,) = struct.unpack('<I', a[hdrl + 4:hdrl + 8])
    insert = hdrl + 8 + hsize
    a[insert:insert] = strl
    struct.pack_into('<I', a, hdrl + 4, hsize + len(strl))
    i = a.find(b'avih')
    (n,) = struct.unpack('<I', a[i + 8 + 24:i + 8 + 28])
    struct.pack_into('<I', a, i + 8 + 24, n + 1)
    movi = a.find(b'movi') - 8
    (msize,) = struct.unpack('<I', a[movi + 4:movi + 8])
    c = chunk(b'01tx', block)
    a[movi + 12:movi + 12] = c
    struct.pack_into('<I', a, movi + 4, msize + len(c))
    idx = a.find(b'idx1')
    if idx > 0:     # drop the index: the demuxer then walks movi
        a[idx:idx + 4] = b'JUNK'
    struct.pack_into('<I', a, 4, len(a) - 8)
    open(out, 'wb').write(a)


def main(argv):
    if len(argv) == 5 and argv[1] == 'dref':
        dref(argv[2], argv[3], argv[4])
    elif len(argv) == 6 and argv[1] == 'huge':
        huge(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif len(argv) == 5 and argv[1] == 'gab2':
        gab2(argv[2], argv[3], argv[4])
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
