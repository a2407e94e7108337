#!/usr/bin/env python3
"""Benchmark: the transcode engine against ffmpeg on the same input, in the same run.

Prints wall time (best of N runs), realtime factor, peak RSS and output size for
  ffmpeg -threads 1 -vn -c:a libmp3lame -q:a 2      (the reference single-thread encoder)
  transcode --threads 1                             (one LAME stream)
  transcode                                         (one encoder per core)
and the speed ratio against ffmpeg. The machine is shared and noisy: read the figures as
figures, not as a pass/fail test.

Usage: tools/bench/bench.py [--minutes 10] [--runs 3] [--input FILE ...]
Without --input it makes (once, with ffmpeg, under .bench/) three inputs of --minutes length:
720p H.264 + AAC 44.1 kHz stereo, 5.1 AAC 48 kHz, and FLAC. `--minutes 60` shows that memory
does not grow with length.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / ".bench"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if not path:
        sys.exit(f"error: {tool} not found; install it (Debian: apt-get install ffmpeg)")
    return path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def music(rate: int) -> str:
    """A gliding tone and a pulsing one per channel (commas in lavfi expressions escaped)."""
    left = "0.25*sin(2*PI*(220+110*sin(2*PI*0.1*t))*t)+0.15*sin(2*PI*330*t)*sin(2*PI*0.5*t)"
    right = "0.2*sin(2*PI*(330+90*sin(2*PI*0.07*t))*t)+0.1*sin(2*PI*1760*t)*gt(sin(2*PI*2*t)\\,0.6)"
    return f"aevalsrc={left}|{right}:s={rate}:d=60"


def make_inputs(minutes: int) -> list[Path]:
    """Three kinds of upload, each a minute made once and looped by stream copy:
    720p H.264 + AAC stereo 44.1 kHz, 5.1 AAC 48 kHz (as cameras record), and FLAC."""
    BENCH.mkdir(exist_ok=True)
    made = []
    video = BENCH / "minute.mp4"
    if not video.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
               "-f", "lavfi", "-i", music(44100),
               "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=44100:duration=60",
               "-filter_complex", "[1:a][2:a]amix=inputs=2:normalize=0[a]",
               "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast",
               "-crf", "30", "-c:a", "aac", "-b:a", "160k", str(video))
    surround = BENCH / "minute-5.1.mp4"
    if not surround.exists():
        six = "|".join(f"0.2*sin(2*PI*{f}*t)*(1+0.5*sin(2*PI*0.3*t))" for f in (220, 330, 440, 55, 550, 660))
        ffmpeg("-f", "lavfi", "-i", f"aevalsrc={six}:s=48000:d=60:c=5.1",
               "-c:a", "aac", "-b:a", "384k", str(surround))
    flac = BENCH / "minute.flac"
    if not flac.exists():
        ffmpeg("-f", "lavfi", "-i", music(44100), "-c:a", "flac", str(flac))
    for minute in (video, surround, flac):
        target = BENCH / f"{minutes}min{minute.name.removeprefix('minute')}"
        if not target.exists():
            print(f"making {target} ...", flush=True)
            # FLAC frames carry their own numbers, so a stream-copied loop would repeat them:
            # that one is encoded again (a few seconds).
            codec = ["-c:a", "flac"] if minute.suffix == ".flac" else ["-c", "copy"]
            ffmpeg("-stream_loop", str(minutes - 1), "-i", str(minute), *codec, str(target))
        made.append(target)
    return made


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one run."""
    with tempfile.TemporaryFile() as errors:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - start
        if status != 0:
            errors.seek(0)
            sys.exit(f"error: {' '.join(cmd)} failed:\n{errors.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss * 1024


def duration(path: Path) -> float:
    """The audio stream's duration, else the container's (Matroska and WavPack give only that;
    a stream-copied loop may give neither, which is an error)."""
    for entries in ("stream=duration", "format=duration"):
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", entries,
             "-of", "default=noprint_wrappers=1:nokey=1", str(path)],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        for field in out:
            try:
                return float(field)
            except ValueError:
                continue
    sys.exit(f"error: ffprobe gives no duration for {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, action="append",
                        help="a file to convert (repeatable); default: the three made inputs")
    parser.add_argument("--minutes", type=int, default=10, help="length of the made inputs")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    need("ffmpeg")
    need("ffprobe")
    inputs = args.input or make_inputs(args.minutes)
    transcode = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "transcode"
    if not transcode.exists():
        sys.exit(f"error: {transcode} missing; run: cargo build --release -p video2mp3-transcode")
    out = BENCH / "out"
    out.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, best of {args.runs}; ffmpeg and the engine at VBR V2")
    for path in inputs:
        seconds = duration(path)
        print(f"\n{path.name}: {path.stat().st_size / 1e6:.0f} MB, {seconds:.0f} s of audio")
        cases = [
            ("ffmpeg -threads 1 libmp3lame -q:a 2", out / "ffmpeg.mp3",
             ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-threads", "1",
              "-i", str(path), "-vn", "-c:a", "libmp3lame", "-q:a", "2"]),
            ("transcode --threads 1", out / "one.mp3",
             [str(transcode), str(path), "--threads", "1", "-o"]),
            ("transcode (one encoder per core)", out / "all.mp3",
             [str(transcode), str(path), "-o"]),
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
        single = results[1][3]
        print(f"  {'':36} {'seconds':>8} {'realtime':>9} {'peak RSS':>9} {'MP3 MB':>7} "
              f"{'vs ffmpeg':>9} {'size vs 1 thread':>16}")
        for name, best, rss, mp3 in results:
            print(f"  {name:36} {best:8.2f} {seconds / best:8.0f}x {rss / 2**20:7.0f}Mi "
                  f"{mp3 / 1e6:7.2f} {reference / best:8.2f}x {100 * (mp3 / single - 1):+15.1f}%")


if __name__ == "__main__":
    main()
