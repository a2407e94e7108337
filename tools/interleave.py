#!/usr/bin/env python3
"""Re-interleaves a plain (non-fragmented) MP4 so each track's samples sit in runs of about
`--seconds` (default 1), as phones and cameras write them and as `MP4Box -inter 1000` does
(gpac is not packaged here). ffmpeg's own MP4s interleave every ~13 KiB instead.

    tools/interleave.py IN.mp4 OUT.mp4 [--seconds 1]

Reads the sample tables (stsz, stco/co64, stsc, stts) of every track, writes the samples back
grouped per track per period, and rewrites each track's stsc and chunk offsets (co64). The
output is ftyp + moov + mdat. Used to make test fixtures and the streaming benchmark's inputs.
"""
import argparse
import struct
import sys

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta", b"dinf"}


def boxes(data, start=0, end=None):
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        head = 8
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
            head = 16
        elif size == 0:
            size = end - at
        yield kind, at, head, size
        at += size


def top_level(f):
    f.seek(0, 2)
    length = f.tell()
    at = 0
    while at + 8 <= length:
        f.seek(at)
        size, kind = struct.unpack(">I4s", f.read(8))
        head = 8
        if size == 1:
            size = struct.unpack(">Q", f.read(8))[0]
            head = 16
        elif size == 0:
            size = length - at
        yield kind, at, head, size
        at += size


class Tree:
    """A box tree of the moov, with leaves kept as bytes."""

    def __init__(self, kind, body):
        self.kind = kind
        self.children = None
        self.body = body
        if kind in CONTAINERS:
            self.children = [Tree(k, body[a + h:a + s]) for k, a, h, s in boxes(body)]

    def find(self, *path):
        node = self
        for kind in path:
            node = next((c for c in node.children if c.kind == kind), None)
            if node is None:
                return None
        return node

    def serialize(self):
        body = self.body if self.children is None else b"".join(c.serialize() for c in self.children)
        return struct.pack(">I4s", len(body) + 8, self.kind) + body


def track_samples(trak):
    stbl = trak.find(b"mdia", b"minf", b"stbl")
    timescale = struct.unpack(">I", trak.find(b"mdia", b"mdhd").body[12:16])[0]
    if trak.find(b"mdia", b"mdhd").body[0] == 1:
        timescale = struct.unpack(">I", trak.find(b"mdia", b"mdhd").body[20:24])[0]
    stsz = stbl.find(b"stsz").body
    fixed, count = struct.unpack(">II", stsz[4:12])
    sizes = [fixed] * count if fixed else list(struct.unpack(">%dI" % count, stsz[12:12 + 4 * count]))
    co = stbl.find(b"stco") or stbl.find(b"co64")
    n = struct.unpack(">I", co.body[4:8])[0]
    offsets = (struct.unpack(">%dI" % n, co.body[8:8 + 4 * n]) if co.kind == b"stco"
               else struct.unpack(">%dQ" % n, co.body[8:8 + 8 * n]))
    stsc = stbl.find(b"stsc").body
    entries = [struct.unpack(">III", stsc[8 + 12 * i:20 + 12 * i])
               for i in range(struct.unpack(">I", stsc[4:8])[0])]
    stts = stbl.find(b"stts").body
    deltas = []
    for i in range(struct.unpack(">I", stts[4:8])[0]):
        c, d = struct.unpack(">II", stts[8 + 8 * i:16 + 8 * i])
        deltas.extend([d] * c)
    positions = []
    sample = 0
    run = 0
    for chunk, offset in enumerate(offsets, start=1):
        while run + 1 < len(entries) and entries[run + 1][0] <= chunk:
            run += 1
        at = offset
        for _ in range(entries[run][1]):
            if sample >= count:
                break
            positions.append((at, sizes[sample]))
            at += sizes[sample]
            sample += 1
    times = []
    t = 0
    for i in range(len(positions)):
        times.append(t / timescale)
        t += deltas[i] if i < len(deltas) else (deltas[-1] if deltas else 0)
    return stbl, positions, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()

    with open(args.input, "rb") as f:
        top = list(top_level(f))
        ftyp = next(((a, s) for k, a, h, s in top if k == b"ftyp"), None)
        moov_at = next(((a, h, s) for k, a, h, s in top if k == b"moov"), None)
        if moov_at is None or any(k == b"moof" for k, *_ in top):
            sys.exit("error: not a plain MP4 with a moov (fragmented files are not supported)")
        f.seek(ftyp[0])
        ftyp_bytes = f.read(ftyp[1])
        f.seek(moov_at[0] + moov_at[1])
        moov = Tree(b"moov", f.read(moov_at[2] - moov_at[1]))

        tracks = [track_samples(t) for t in moov.children if t.kind == b"trak"]
        end = max((times[-1] for _, _, times in tracks if times), default=0.0)
        periods = int(end / args.seconds) + 1
        # chunks[track] = list of (first sample, count) per period that has samples.
        layout = []
        for _, positions, times in tracks:
            per = []
            i = 0
            for p in range(periods):
                first = i
                while i < len(times) and times[i] < (p + 1) * args.seconds:
                    i += 1
                per.append((first, i - first))
            if i < len(times):
                per[-1] = (per[-1][0], per[-1][1] + len(times) - i)
            layout.append(per)

        # New stsc and co64 per track; the offsets are known once the moov's size is.
        for (stbl, _, _), per in zip(tracks, layout):
            chunks = [(first, n) for first, n in per if n > 0]
            stsc = []
            for number, (_, n) in enumerate(chunks, start=1):
                if not stsc or stsc[-1][1] != n:
                    stsc.append((number, n, 1))
            stbl.find(b"stsc").body = struct.pack(">II", 0, len(stsc)) + b"".join(
                struct.pack(">III", *e) for e in stsc)
            co = stbl.find(b"stco") or stbl.find(b"co64")
            co.kind = b"co64"
            co.body = struct.pack(">II", 0, len(chunks)) + b"\0" * (8 * len(chunks))
        moov_size = len(moov.serialize())
        mdat_head = 16
        data_start = len(ftyp_bytes) + moov_size + mdat_head
        at = data_start
        offsets = [[] for _ in tracks]
        for p in range(periods):
            for t, ((_, positions, _), per) in enumerate(zip(tracks, layout)):
                first, n = per[p]
                if n:
                    offsets[t].append(at)
                    at += sum(size for _, size in positions[first:first + n])
        for (stbl, _, _), offs in zip(tracks, offsets):
            stbl.find(b"co64").body = struct.pack(">II", 0, len(offs)) + b"".join(
                struct.pack(">Q", o) for o in offs)
        moov_bytes = moov.serialize()
        assert len(moov_bytes) == moov_size

        with open(args.output, "wb") as out:
            out.write(ftyp_bytes)
            out.write(moov_bytes)
            out.write(struct.pack(">I4sQ", 1, b"mdat", at - data_start + mdat_head))
            for p in range(periods):
                for (_, positions, _), per in zip(tracks, layout):
                    first, n = per[p]
                    for offset, size in positions[first:first + n]:
                        f.seek(offset)
                        out.write(f.read(size))


if __name__ == "__main__":
    main()
