#!/usr/bin/env python3
"""What the converter costs on Lambda, by memory size and encoder threads.

Lambda gives a function CPU time in proportion to its memory (1,769 MB is one vCPU-second per
second) while it sees two cores up to 3,008 MB. This runs `transcode --threads N` (N = 1, 2, 3)
on the 10-minute 720p MP4 of `make bench` under a CPU quota matching each memory size (a cgroup
v1 `cpu` group with cfs_quota_us: needs root), and prints per hour of audio: wall seconds (what
Lambda bills, times the memory), CPU seconds, GB-seconds and the price at the arm64 rate.

This machine is x86_64 with two cores: quotas above 2 vCPU (memory above 3,538 MB) cannot be
played here, and arm64 (Graviton) runs LAME without its x86 SIMD code, so read the absolute
times as this machine's and the comparison between thread counts as the finding. The machine is
shared and noisy: best of --runs runs.

Usage: tools/bench/bench_lambda.py [--runs 2] [--minutes 10] [--memory 1024,1769,2048,3008]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the inputs of make bench)

ROOT = Path(__file__).resolve().parent.parent.parent
CGROUP = Path("/sys/fs/cgroup/cpu")
# AWS Lambda, arm64, us-east-1, first 6 billion GB-seconds a month: USD per GB-second, as AWS's
# pricing page lists it (read 2026-12-03). Requests ($0.20 per million) are left out.
ARM64_PRICE_PER_GB_SECOND = 0.0000133334
PRICE_DATE = "2026-12-03"
VCPU_MB = 1769
PERIOD_US = 100_000


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def quota_group(memory_mb: int) -> Path:
    """A cgroup whose processes get memory_mb / 1769 of a CPU, as Lambda gives."""
    if not CGROUP.is_dir():
        sys.exit(f"error: no cgroup v1 cpu controller at {CGROUP}; this bench needs one (and root)")
    group = CGROUP / f"video2mp3-bench-{memory_mb}"
    group.mkdir(exist_ok=True)
    (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    quota = int(PERIOD_US * memory_mb / VCPU_MB)
    (group / "cpu.cfs_quota_us").write_text(str(quota))
    return group


def run_in(group: Path, cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (bytes) of one run in `group`."""
    wrapped = ["sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh", *cmd]
    with tempfile.TemporaryFile() as errors:
        start = time.monotonic()
        proc = subprocess.Popen(wrapped, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        if status != 0:
            errors.seek(0)
            sys.exit(f"error: {' '.join(cmd)} failed:\n{errors.read().decode(errors='replace')}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--memory", default="1024,1769,2048,2560,3008,3538",
                        help="memory sizes in MB (at most 3538 on two cores)")
    parser.add_argument("--threads", default="1,2,3")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("error: setting a CPU quota needs root (run as root, or with sudo)")
    bench.need("ffmpeg")
    bench.need("ffprobe")
    transcode = target_dir() / "release" / "transcode"
    if not transcode.exists():
        sys.exit(f"error: {transcode} not found: run `make bench-lambda` (it builds it first)")
    source = bench.make_inputs(args.minutes)[0]
    seconds = bench.duration(source)
    hours = seconds / 3600
    memories = [int(m) for m in args.memory.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    cores = os.cpu_count() or 1
    print(f"{source.name}: {seconds:.0f} s of audio; {cores} cores; best of {args.runs}; "
          f"figures per hour of audio; price {ARM64_PRICE_PER_GB_SECOND} USD/GB-s (arm64, "
          f"us-east-1, read {PRICE_DATE})")
    print(f"{'memory':>7} {'vCPU':>5} {'threads':>7} {'wall s':>8} {'CPU s':>8} {'GB-s':>8} "
          f"{'USD':>8} {'peak RSS':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp3"
        for memory in memories:
            share = memory / VCPU_MB
            if share > cores + 1e-9:
                print(f"{memory:>7} {share:>5.2f}  (more CPU than this machine has: skipped)")
                continue
            group = quota_group(memory)
            for n in threads:
                best = None
                for _ in range(args.runs):
                    result = run_in(group, [str(transcode), str(source), "-o", str(out),
                                            "--threads", str(n)])
                    best = result if best is None or result[0] < best[0] else best
                wall, cpu, rss = best
                gb_s = wall / hours * memory / 1024
                print(f"{memory:>7} {share:>5.2f} {n:>7} {wall / hours:>8.1f} {cpu / hours:>8.1f} "
                      f"{gb_s:>8.1f} {gb_s * ARM64_PRICE_PER_GB_SECOND:>8.5f} "
                      f"{rss / 2**20:>7.0f} Mi", flush=True)
            group.rmdir()


if __name__ == "__main__":
    main()
