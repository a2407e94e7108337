#!/usr/bin/env python3
"""One conversion fanned out over Lambda workers: each part measured here, and the wall time
modelled for 1 and 4 hours of audio on AWS.

Converts --minutes of the music of `make bench` as one continuous AAC-LC stream (44.1 kHz stereo,
160 kbit/s, encoded once by ffmpeg from the 720p MP4's audio: that MP4 is one minute copied over
and over, and a part does not seek past such a join) once whole on one thread (`transcode --threads 1`, one worker's way), then part by part (`transcode --part N`, each
its own process reading the file as a worker reads the upload: it seeks to its segment), in
segments of --segment-frames MP3 frames (default: the fewest frames that make a part of at least
5 MiB, S3's smallest multipart part, at the bitrate the whole MP3 came out at). Prints each
part's CPU and wall time, the parts' total CPU against the one worker's, and then the model:

  wall = cold start + waves x worker + joiner
  waves = ceil(parts / workers); part time = CPU per part / min(1, memory / 1769 MB)
  worker = S3 first byte + part time + PUT of its frames + PUT of its figures
  joiner = rounds x (GET of a part's figures) + rounds x (copy of a part within S3)
           + GET and PUT of part 0 (its head written in) + completing the upload
  rounds = ceil(parts / 8): the joiner makes eight calls at once (JOIN_CALLS)

Every constant of the model is an argument, with its default's source in --help and in the
README ("Fanning one job out"). The machine is shared and noisy, and x86_64 (Graviton runs LAME
without its SIMD code): read the times as this machine's. Best of --runs runs per process.

Usage: tools/bench/bench_fanout.py [--minutes 60] [--runs 2] [--segment-frames N]
       [--memory 3008] [--workers 1,10,100,1000] [--cold-start-ms 250] [--first-byte-ms 100]
       [--s3-mb-per-s 90] [--complete-ms 200]
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the inputs of make bench)

ROOT = Path(__file__).resolve().parent.parent.parent
PART_MIN_BYTES = 5 * 1024 * 1024
VCPU_MB = 1769
# The joiner's calls to S3 at once (functions/convert/src/fanout.rs, JOIN_CALLS).
JOIN_CALLS = 8


def transcode() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "release" / "transcode"
    if not path.exists():
        sys.exit(f"error: {path} is missing: run `make bench-fanout` (it builds it)")
    return path


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and standard output of one run."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        if status != 0:
            errors.seek(0)
            sys.exit(f"error: {' '.join(cmd)} failed:\n{errors.read().decode(errors='replace')}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, out.read().decode()


def best(runs: int, cmd: list[str]) -> tuple[float, float, str]:
    results = [run(cmd) for _ in range(runs)]
    return min(results, key=lambda r: r[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=int, default=60, help="length of the input")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--segment-frames", type=int,
                        help="MP3 frames per part (default: the fewest for 5 MiB)")
    parser.add_argument("--memory", type=int, default=3008,
                        help="a worker's memory in MB (the stack's ConvertMemorySize default)")
    parser.add_argument("--workers", default="1,10,100,1000",
                        help="workers at once (1,000 is a new account's concurrency limit)")
    parser.add_argument("--cold-start-ms", type=float, default=250.0,
                        help="a worker's start: a new sandbox for a small arm64 zip (assumed "
                             "200 ms: AWS publishes no figure) plus the function's own init "
                             "(make bench-init)")
    parser.add_argument("--first-byte-ms", type=float, default=100.0,
                        help="an S3 GET's first byte (AWS's performance guidelines: 100-200 ms "
                             "for small objects; the low end)")
    parser.add_argument("--s3-mb-per-s", type=float, default=90.0,
                        help="one S3 connection's throughput from Lambda (AWS's guidelines: "
                             "85-90 MB/s); a copy within S3 is assumed no faster")
    parser.add_argument("--complete-ms", type=float, default=200.0,
                        help="completing the multipart upload and recording the job (assumed)")
    args = parser.parse_args()
    bench.need("ffmpeg")
    bench.need("ffprobe")
    looped = bench.make_inputs(args.minutes)[0]
    source = bench.BENCH / f"{args.minutes}min-continuous.m4a"
    if not source.exists():
        print(f"making {source} ...", flush=True)
        bench.ffmpeg("-i", str(looped), "-vn", "-c:a", "aac", "-b:a", "160k", str(source))
    seconds = bench.duration(source)
    binary = transcode()
    out = Path(tempfile.mkdtemp(prefix="fanout-"))
    print(f"input: {source.name}, {seconds:.0f} s of AAC-LC 44.1 kHz stereo", flush=True)

    whole = out / "whole.mp3"
    wall_one, cpu_one, _ = best(args.runs, [str(binary), str(source), "-o", str(whole),
                                            "--threads", "1"])
    size = whole.stat().st_size
    frames = math.ceil((seconds * 44100 + 576) / 1152)
    per_frame = size / frames
    segment = args.segment_frames or math.ceil(PART_MIN_BYTES / per_frame)
    print(f"one worker: {cpu_one:.2f} s CPU, {wall_one:.2f} s wall, {size / 2**20:.1f} MiB "
          f"({per_frame:.0f} bytes a frame)", flush=True)
    print(f"parts of {segment} frames ({segment * 1152 / 44100:.0f} s of audio, about "
          f"{segment * per_frame / 2**20:.1f} MiB of MP3)", flush=True)

    part_cpu, part_wall, total_bytes, index = [], [], 0, 0
    while True:
        path = out / f"part{index}.mp3"
        wall, cpu, text = best(args.runs, [str(binary), str(source), "-o", str(path),
                                           "--part", str(index),
                                           "--segment-frames", str(segment)])
        figures = re.search(r"part \d+( \(the last\))?: (\d+) frames, (\d+) bytes, (\d+) samples",
                            text)
        if not figures:
            sys.exit(f"error: part {index} printed no figures:\n{text}")
        last = figures.group(1) is not None
        part_cpu.append(cpu)
        part_wall.append(wall)
        total_bytes += path.stat().st_size
        again = "; encoded again without the reservoir" if "without the bit" in text else ""
        print(f"  part {index:3}: {cpu:6.2f} s CPU {wall:6.2f} s wall, "
              f"{int(figures.group(4)) / 44100:7.0f} s of audio passed over{again}", flush=True)
        index += 1
        if last:
            break
    cpu_parts = sum(part_cpu)
    print(f"{len(part_cpu)} parts: {cpu_parts:.2f} s CPU in all against {cpu_one:.2f} s for one "
          f"worker ({100 * (cpu_parts / cpu_one - 1):+.1f}%); {total_bytes} bytes against "
          f"{size} (the head is the join's)", flush=True)

    # The model, per hour of audio as measured here.
    whole_parts = part_cpu[:-1] or part_cpu
    cpu_per_part = max(whole_parts)
    share = min(1.0, args.memory / VCPU_MB)
    part_time = cpu_per_part / share
    part_audio = segment * 1152 / 44100
    mb = segment * per_frame / 1e6
    first_byte = args.first_byte_ms / 1000
    transfer = first_byte + mb / args.s3_mb_per_s
    # A worker: its GETs' first byte, the part, then its frames and its figures PUT.
    worker = first_byte + part_time + transfer + first_byte

    def joiner(parts):
        rounds = math.ceil(parts / JOIN_CALLS)
        # Part 0 is read and sent in the first round of copies (its two transfers, not one).
        return (rounds * first_byte + rounds * transfer + transfer
                + args.complete_ms / 1000)

    print(f"\nmodel at {args.memory} MB ({share:.2f} vCPU for a part's one thread): "
          f"a part {part_time:.2f} s (the slowest whole part here), a worker {worker:.2f} s, "
          f"start {args.cold_start_ms:.0f} ms, first byte {args.first_byte_ms:.0f} ms, "
          f"joiner {joiner(15):.2f} s for 15 parts, {joiner(58):.2f} s for 58")
    print("| audio | parts | " + " | ".join(f"{w} workers" for w in args.workers.split(","))
          + " | one worker, one thread |")
    print("|---|---|" + "---|" * (len(args.workers.split(",")) + 1))
    cpu_per_audio_second = cpu_one / seconds
    for hours in (1, 4):
        parts = math.ceil(hours * 3600 / part_audio)
        cells = []
        for workers in (int(w) for w in args.workers.split(",")):
            waves = math.ceil(parts / workers)
            wall = args.cold_start_ms / 1000 + waves * worker + joiner(parts)
            cells.append(f"{wall:.1f} s")
        one = cpu_per_audio_second * hours * 3600 / share
        print(f"| {hours} h | {parts} | " + " | ".join(cells) + f" | {one:.0f} s |")


if __name__ == "__main__":
    main()
