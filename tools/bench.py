#!/usr/bin/env python3
"""Benchmark: the transcode engine against ffmpeg on the same input, in the same run.

Prints wall time (best of N runs), realtime factor, peak RSS and output size for
  ffmpeg -threads 1 -vn -c:a libmp3lame -q:a 2      (the reference single-thread encoder)
  transcode --threads 1                             (one LAME stream)
  transcode                                         (one encoder per core)
and the speed ratio against ffmpeg. The machine is shared and noisy: read the figures as
figures, not as a pass/fail test.

Usage: tools/bench.py [--input FILE] [--runs N]   (default input: .bench/ten-minutes.mp4,
made on first use with ffmpeg: 10 minutes of 720p H.264 + AAC 44.1 kHz stereo)
"""
import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / ".bench"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        sys.exit(f"error: {tool} not found; install it (Debian: apt-get install ffmpeg)")
    return path


def make_input(path: Path) -> None:
    """A minute of 720p video with music-like audio, looped to ten minutes by stream copy."""
    BENCH.mkdir(exist_ok=True)
    minute = BENCH / "minute.mp4"
    # A gliding tone, a pulsing chord tone and bursts of a high note per channel (commas in
    # lavfi expressions are escaped), mixed with pink noise below.
    left = "0.25*sin(2*PI*(220+110*sin(2*PI*0.1*t))*t)+0.15*sin(2*PI*330*t)*sin(2*PI*0.5*t)"
    right = "0.2*sin(2*PI*(330+90*sin(2*PI*0.07*t))*t)+0.1*sin(2*PI*1760*t)*gt(sin(2*PI*2*t)\\,0.6)"
    audio = f"aevalsrc={left}|{right}:s=44100:d=60"
    print(f"making {path} (once) ...", flush=True)
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
         "-f", "lavfi", "-i", audio,
         "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=44100:duration=60",
         "-filter_complex", "[1:a][2:a]amix=inputs=2:normalize=0[a]",
         "-map", "0:v", "-map", "[a]",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "30",
         "-c:a", "aac", "-b:a", "160k", str(minute)],
        check=True,
    )
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "9",
         "-i", str(minute), "-c", "copy", str(path)],
        check=True,
    )


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one run."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{stderr}")
    return elapsed, usage.ru_maxrss * 1024


def duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=duration", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=BENCH / "ten-minutes.mp4")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    need("ffmpeg")
    need("ffprobe")
    if not args.input.exists():
        make_input(args.input)
    transcode = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "transcode"
    if not transcode.exists():
        sys.exit(f"error: {transcode} missing; run: cargo build --release -p video2mp3-transcode")
    seconds = duration(args.input)
    size = args.input.stat().st_size
    print(f"input: {args.input} ({size / 1e6:.0f} MB, {seconds:.0f} s of audio), "
          f"{os.cpu_count()} cores, best of {args.runs}")
    out = BENCH / "out"
    out.mkdir(parents=True, exist_ok=True)
    cases = [
        ("ffmpeg -threads 1 libmp3lame -q:a 2", out / "ffmpeg.mp3",
         ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-threads", "1",
          "-i", str(args.input), "-vn", "-c:a", "libmp3lame", "-q:a", "2"]),
        ("transcode --threads 1 (V2)", out / "one.mp3",
         [str(transcode), str(args.input), "--threads", "1", "-o"]),
        ("transcode, one encoder per core (V2)", out / "all.mp3",
         [str(transcode), str(args.input), "-o"]),
    ]
    results = []
    for name, target, cmd in cases:
        best, rss = None, 0
        for _ in range(args.runs):
            elapsed, peak = run(cmd + [str(target)])
            best = elapsed if best is None else min(best, elapsed)
            rss = max(rss, peak)
        results.append((name, best, rss, target.stat().st_size))
    reference = results[0][1]
    print(f"{'':40} {'seconds':>8} {'realtime':>9} {'peak RSS':>9} {'MP3 MB':>7} {'vs ffmpeg':>9}")
    for name, best, rss, mp3 in results:
        print(f"{name:40} {best:8.2f} {seconds / best:8.0f}x {rss / 2**20:7.0f}Mi "
              f"{mp3 / 1e6:7.2f} {reference / best:8.2f}x")


if __name__ == "__main__":
    main()
