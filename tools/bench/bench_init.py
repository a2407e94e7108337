#!/usr/bin/env python3
"""Cold start and size of each function's bootstrap: the release binary on this machine.

For each function of the template it starts the local stack (`local-stack serve`, moto behind
it, so configuration, the AWS clients and the JWT secret are read as on Lambda), then starts the
function's release binary with the environment the template gives it, against a Lambda Runtime
API of its own, and measures the time from process start to its first `GET .../invocation/next`:
the part of a cold start that is the function's own (Lambda's sandbox and the download of the code
come on top). Prints the best and the median of --runs, and the binary's size (stripped, as
`[profile.release]` says).

Usage: tools/bench/bench_init.py [--runs 5]   (make bench-init builds the binaries first)
"""
import argparse
import http.server
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
FUNCTIONS = ["login", "account", "upload-url", "jobs", "convert", "notify", "web"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FirstNext:
    """A Runtime API that notes when the function first asks for an event, and gives none."""

    def __init__(self):
        self.asked = threading.Event()
        self.at = 0.0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next") and not api.asked.is_set():
                    api.at = time.monotonic()
                    api.asked.set()
                # No event: the process is stopped before it would get one.
                time.sleep(30)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def memory_of(binary: str) -> str:
    """The function's MemorySize in the template (the Globals' 256 when it has none)."""
    text = (ROOT / "template.yaml").read_text()
    block = text.split(f"Binary: {binary}\n", 1)[1].split("Type: AWS::Serverless::Function", 1)[0]
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("MemorySize:"):
            value = line.split(":", 1)[1].strip()
            if value.startswith("!Ref "):
                # A parameter: its default.
                param = text.split(f"\n  {value[5:]}:\n", 1)[1]
                return param.split("Default:", 1)[1].split()[0]
            return value
    return "256"


def init_ms(binary: str, env: dict) -> float:
    api = FirstNext()
    full = dict(os.environ)
    full.update(env)
    full.update(AWS_REGION="us-east-1", AWS_LAMBDA_RUNTIME_API=api.address,
                AWS_LAMBDA_FUNCTION_NAME=binary, AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE=memory_of(binary),
                AWS_LAMBDA_LOG_STREAM_NAME="bench", AWS_LAMBDA_LOG_GROUP_NAME="bench",
                RUST_LOG="warn")
    start = time.monotonic()
    proc = subprocess.Popen([str(TARGET / "release" / binary)], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not api.asked.wait(30):
            proc.kill()
            sys.exit(f"error: {binary} never asked for an event:\n"
                     f"{proc.communicate()[1].decode(errors='replace')}")
        return (api.at - start) * 1000
    finally:
        proc.kill()
        proc.wait()
        api.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for binary in ["local-stack", *FUNCTIONS]:
        if not (TARGET / "release" / binary).exists():
            sys.exit(f"error: {TARGET / 'release' / binary} not found: run `make bench-init`")
    api_port, moto_port = free_port(), free_port()
    externals = [a for b in FUNCTIONS for a in ("--external", b)]
    env = dict(os.environ, RUST_LOG="warn",
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    server = subprocess.Popen(
        [str(TARGET / "release" / "local-stack"), "serve", "--api-port", str(api_port),
         "--moto-port", str(moto_port), *externals],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        envs = {}
        for line in server.stdout:
            if line.startswith("external "):
                _, binary, data = line.split(" ", 2)
                envs[binary] = json.loads(data)
            if line.startswith("ready:"):
                break
        if len(envs) != len(FUNCTIONS):
            sys.exit("error: the local stack did not start (run `make venv` first)")
        print(f"init: process start to the first /next call, release build, {os.cpu_count()} "
              f"cores, {args.runs} runs each (the local stack's moto stands in for AWS)")
        print(f"{'function':<11} {'memory':>6} {'best ms':>8} {'median ms':>10} {'bootstrap':>10}")
        for binary in FUNCTIONS:
            times = [init_ms(binary, envs[binary]) for _ in range(args.runs)]
            size = (TARGET / "release" / binary).stat().st_size
            print(f"{binary:<11} {memory_of(binary):>6} {min(times):>8.1f} "
                  f"{statistics.median(times):>10.1f} {size / 2**20:>8.1f} MiB", flush=True)
    finally:
        os.killpg(server.pid, 15)
        server.wait()


if __name__ == "__main__":
    main()
