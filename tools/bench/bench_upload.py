#!/usr/bin/env python3
"""Benchmark: uploads through the local stack (`local-stack serve`, release build: the HTTP API,
the IAM gate in front of moto), in parts, one at a time and several at once, as the page and
the CLI send them.

Makes a file of random bytes (--mb, default 512; a file the converter refuses at once, so
no conversion runs while the next upload is timed), then for each --parallel value asks
POST /uploads, PUTs every part with that many at once, completes, and prints the time and
MB/s. A 100 MB file (one part) by single PUT is timed too, for reference. Figures from this
shared machine are noisy: compare them within one run.

Usage: tools/bench/bench_upload.py [--mb 512] [--parallel 1,2,4,8]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stream import free_port  # noqa: E402
from uploads import call, send  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
EMAIL, PASSWORD = "bench@example.com", "bench password 1234"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--parallel", default="1,2,4,8")
    args = parser.parse_args()
    api_port, moto_port = free_port(), free_port()
    env = dict(os.environ, RUST_LOG="warn",
               MOTO_SERVER=str(ROOT / "tools" / "local-stack" / "moto" / "moto-local"),
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    server = subprocess.Popen(
        [str(TARGET / "release" / "local-stack"), "serve", "--api-port", str(api_port),
         "--moto-port", str(moto_port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in server.stdout:
            if line.startswith("ready:"):
                break
        else:
            sys.exit("error: the local stack did not start")
        api = f"http://127.0.0.1:{api_port}"
        subprocess.run([str(TARGET / "release" / "local-stack"), "add-user", "--email", EMAIL,
                        "--password", PASSWORD, "--moto-port", str(moto_port)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        token = call("POST", f"{api}/login", {"email": EMAIL, "password": PASSWORD})["token"]
        with tempfile.TemporaryDirectory() as tmp:
            big = Path(tmp) / "random.mp4"
            with open(big, "wb") as f:
                for _ in range(args.mb):
                    f.write(os.urandom(1 << 20))
            rows = []
            for parallel in [int(p) for p in args.parallel.split(",")]:
                ticket = call("POST", f"{api}/uploads", {
                    "filename": big.name, "content_type": "video/mp4",
                    "size": big.stat().st_size}, token)
                started = time.monotonic()
                send(api, token, ticket, big, parallel)
                seconds = time.monotonic() - started
                parts = ticket["upload"]["part_count"]
                rows.append((f"{args.mb} MB in {parts} parts, {parallel} at once", seconds,
                             args.mb / seconds))
            small = Path(tmp) / "small.mp4"
            small.write_bytes(os.urandom(8 << 20))
            ticket = call("POST", f"{api}/uploads", {
                "filename": small.name, "content_type": "video/mp4", "size": 8 << 20}, token)
            started = time.monotonic()
            send(api, token, ticket, small)
            seconds = time.monotonic() - started
            rows.append(("8 MiB by one presigned PUT", seconds, 8.39 / seconds))
        print(f"{'upload':<36} {'seconds':>8} {'MB/s':>8}")
        for name, seconds, rate in rows:
            print(f"{name:<36} {seconds:>8.2f} {rate:>8.1f}")
    finally:
        os.killpg(server.pid, 15)
        server.wait()


if __name__ == "__main__":
    main()
