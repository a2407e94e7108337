#!/usr/bin/env python3
"""Benchmark: the converter streaming hour-long uploads from S3 on the local stack (moto).

Makes (once, with ffmpeg, under .bench/stream/) 60-minute inputs of over 1 GB:
  inter1s   720p H.264 + AAC MP4 with audio in one-second runs, as phones write
            (tools/fixtures/interleave.py, which does what `MP4Box -inter 1000` does)
  frag      the same, fragmented every 2 s (ffmpeg -movflags frag_keyframe+empty_moov)
  ffmpeg    the same as ffmpeg muxes it (audio every ~13 KiB)
  flac      a 60-minute FLAC
then for each starts a fresh local stack (`local-stack serve`, release build, its own moto
with ranged GETs that cost what they do on S3: tools/local-stack/moto/moto-ranged) and runs the real `convert`
Lambda binary (release build) on a minimal Lambda Runtime API, fed from the convert queue as the
event source mapping would. It uploads the file through the API as a client would, waits for
the job and prints the job's stats: bytes read of the source, elapsed time, realtime factor,
and the function process's peak RSS (its VmHWM, which the function records itself).

Checks what the streaming issue asks and exits 1 if a figure is over: at most 10% of the source
read for inter1s and frag, at most 102% for ffmpeg, peak RSS at most 64 MiB for all. With
--compare, the MP3 from S3 is also compared byte for byte with what `transcode` makes from the
local file.

Usage: tools/bench/bench_stream.py [--only inter1s,frag,ffmpeg,flac] [--compare] [--minutes 60]
"""
import argparse
import http.server
import queue
import threading
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from uploads import call, send  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / ".bench" / "stream"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
LIMITS = {"inter1s": 0.10, "frag": 0.10, "ffmpeg": 1.02, "flac": 1.02}
RSS_LIMIT = 64 << 20
EMAIL, PASSWORD = "bench@example.com", "bench password 1234"


def need(tool: str) -> None:
    if not shutil.which(tool):
        sys.exit(f"error: {tool} not found; install it (Debian: apt-get install ffmpeg)")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True)


def music(seconds: int) -> str:
    left = "0.25*sin(2*PI*(220+110*sin(2*PI*0.1*t))*t)+0.15*sin(2*PI*330*t)*sin(2*PI*0.5*t)"
    right = "0.2*sin(2*PI*(330+90*sin(2*PI*0.07*t))*t)+0.1*sin(2*PI*1760*t)*gt(sin(2*PI*2*t)\\,0.6)"
    return f"aevalsrc={left}|{right}:s=44100:d={seconds}"


def make_inputs(minutes: int) -> dict:
    BENCH.mkdir(parents=True, exist_ok=True)
    minute = BENCH / "minute.mp4"
    if not minute.exists():
        # 2.5 Mbit/s constant (filler where the pattern compresses well), a keyframe every 2 s.
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
               "-f", "lavfi", "-i", music(60),
               "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
               "-b:v", "2500k", "-minrate", "2500k", "-maxrate", "2500k", "-bufsize", "2500k",
               "-x264-params", "nal-hrd=cbr", "-g", "60",
               "-c:a", "aac", "-b:a", "128k", str(minute))
    files = {
        "ffmpeg": BENCH / f"{minutes}min-ffmpeg.mp4",
        "frag": BENCH / f"{minutes}min-frag.mp4",
        "inter1s": BENCH / f"{minutes}min-inter1s.mp4",
        "flac": BENCH / f"{minutes}min.flac",
    }
    if not files["ffmpeg"].exists():
        ffmpeg("-stream_loop", str(minutes - 1), "-i", str(minute), "-c", "copy",
               str(files["ffmpeg"]))
    if not files["frag"].exists():
        ffmpeg("-i", str(files["ffmpeg"]), "-c", "copy", "-movflags", "frag_keyframe+empty_moov",
               str(files["frag"]))
    if not files["inter1s"].exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "fixtures" / "interleave.py"),
                        str(files["ffmpeg"]), str(files["inter1s"])], check=True)
    if not files["flac"].exists():
        flac_minute = BENCH / "minute.flac"
        if not flac_minute.exists():
            ffmpeg("-f", "lavfi", "-i", music(60), "-c:a", "flac", str(flac_minute))
        # Re-encoded, not stream-copied: a copied FLAC keeps the first minute's sample count.
        ffmpeg("-stream_loop", str(minutes - 1), "-i", str(flac_minute), "-c:a", "flac",
               str(files["flac"]))
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class RuntimeApi:
    """The Lambda Runtime API, as much of it as one function binary needs: it hands out the
    events put on `events` and collects the responses on `responses`."""

    def __init__(self):
        self.events: "queue.Queue[dict]" = queue.Queue()
        self.responses: "queue.Queue[tuple]" = queue.Queue()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                event = api.events.get()
                body = json.dumps(event["payload"]).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", event["id"])
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 900_000))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:convert")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                parts = self.path.split("/")
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.responses.put((parts[-1], parts[-2], body))

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, payload: dict, timeout: float = 3600) -> dict:
        request_id = f"bench-{time.monotonic_ns()}"
        self.events.put({"id": request_id, "payload": payload})
        kind, rid, body = self.responses.get(timeout=timeout)
        if kind != "response" or rid != request_id:
            sys.exit(f"error: the function answered {kind} for {rid}: {body[:500]!r}")
        return json.loads(body or b"{}")


def start_function(binary: str, env: dict, runtime: RuntimeApi):
    """The real Lambda binary, configured as the template configures it, on the emulator."""
    full = dict(os.environ)
    # The local stack hands over the function's own credentials and its IAM gate as the
    # endpoint (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL), so its role judges
    # every call, as on AWS.
    full.update(env)
    full.update(AWS_REGION="us-east-1",
                AWS_LAMBDA_RUNTIME_API=runtime.address, AWS_LAMBDA_FUNCTION_NAME=binary,
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE="3008", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_LAMBDA_LOG_STREAM_NAME="bench", AWS_LAMBDA_LOG_GROUP_NAME="bench",
                RUST_LOG="warn")
    # BENCH_WRAP runs the function under a profiler, e.g. BENCH_WRAP="heaptrack -o /tmp/convert".
    wrap = os.environ.get("BENCH_WRAP", "").split()
    return subprocess.Popen([*wrap, str(TARGET / "release" / binary)], env=full,
                            stdout=subprocess.DEVNULL)


def sqs_event(messages: list, queue_arn: str) -> dict:
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {k: str(v) for k, v in m.get("Attributes", {}).items()},
        "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": "us-east-1"} for m in messages]}


def run_one(name: str, path: Path, compare: bool) -> dict:
    import boto3

    api_port, moto_port = free_port(), free_port()
    # moto reads a whole object for every ranged GET; tools/local-stack/moto/moto-local (with moto-ranged) reads
    # just the range, as S3 does (it needs the venv's python, with moto, first on PATH).
    env = dict(os.environ, RUST_LOG="warn", MOTO_SERVER=str(ROOT / "tools" / "local-stack" / "moto" / "moto-local"),
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    server = subprocess.Popen(
        [str(TARGET / "release" / "local-stack"), "serve", "--api-port", str(api_port),
         "--moto-port", str(moto_port), "--external", "convert"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    function = None
    try:
        convert_env = None
        for line in server.stdout:
            if line.startswith("external convert "):
                convert_env = json.loads(line.split(" ", 2)[2])
            if line.startswith("ready:"):
                break
        if convert_env is None:
            sys.exit("error: the local stack did not start")
        api = f"http://127.0.0.1:{api_port}"
        moto = f"http://127.0.0.1:{moto_port}"
        sqs = boto3.client("sqs", endpoint_url=moto, region_name="us-east-1",
                           aws_access_key_id="local", aws_secret_access_key="local")
        queue_url = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-ConvertQueue"))
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        runtime = RuntimeApi()
        function = start_function("convert", convert_env, runtime)
        subprocess.run([str(TARGET / "release" / "local-stack"), "add-user", "--email", EMAIL,
                        "--password", PASSWORD, "--moto-port", str(moto_port)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        token = call("POST", f"{api}/login", {"email": EMAIL, "password": PASSWORD})["token"]
        ticket = call("POST", f"{api}/uploads", {
            "filename": path.name,
            "content_type": "video/mp4" if path.suffix == ".mp4" else "audio/flac",
            "size": path.stat().st_size,
        }, token)
        started = time.monotonic()
        send(api, token, ticket, path)
        uploaded = time.monotonic()
        # The event source mapping: every message to the function, one per invocation, as the
        # template's BatchSize says; what it reports failed stays on the queue.
        while True:
            job = call("GET", f"{api}/jobs/{ticket['job_id']}", token=token)
            if job["status"] in ("done", "failed"):
                break
            if time.monotonic() - uploaded > 3600:
                sys.exit(f"error: {name}: still {job['status']} after an hour")
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1,
                                      WaitTimeSeconds=1, AttributeNames=["All"])
            for message in got.get("Messages", []):
                answer = runtime.invoke(sqs_event([message], queue_arn))
                failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if job["status"] != "done":
            sys.exit(f"error: {name}: the job failed: {job.get('error')}")
        stats = job["stats"]
        result = dict(name=name, upload_s=uploaded - started, hwm=vm_hwm(function.pid), **stats)
        if compare:
            with urllib.request.urlopen(job["download_url"], timeout=600) as r:
                mp3 = r.read()
            with tempfile.NamedTemporaryFile(suffix=".mp3") as local:
                subprocess.run([str(TARGET / "release" / "transcode"), str(path), "-o",
                                local.name], check=True, stdout=subprocess.DEVNULL)
                result["identical"] = Path(local.name).read_bytes() == mp3
        return result
    finally:
        if function is not None:
            function.kill()
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def main() -> None:
    try:
        import boto3  # noqa: F401  (moto's dependency: the venv has it)
    except ImportError:
        venv_python = ROOT / ".venv" / "bin" / "python3"
        if not venv_python.exists():
            sys.exit("error: run `make venv` first (moto and boto3 come from requirements-dev.txt)")
        os.execv(venv_python, [str(venv_python), *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--only", default="inter1s,frag,ffmpeg,flac")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    need("ffmpeg")
    files = make_inputs(args.minutes)
    results = [run_one(name, files[name], args.compare) for name in args.only.split(",")]

    mib = 1 << 20
    print(f"\n{'input':8} {'source':>9} {'read':>9} {'read %':>7} {'audio':>7} {'convert':>8} "
          f"{'x rt':>6} {'peak RSS':>9}" + (" identical" if args.compare else ""))
    bad = []
    for r in results:
        share = r["bytes_read"] / r["source_bytes"]
        rt = r["audio_seconds"] / (r["elapsed_ms"] / 1000)
        print(f"{r['name']:8} {r['source_bytes'] / mib:7.0f}Mi {r['bytes_read'] / mib:7.1f}Mi "
              f"{share * 100:6.1f}% {r['audio_seconds']:6.0f}s {r['elapsed_ms'] / 1000:7.1f}s "
              f"{rt:5.0f}x {r['peak_rss_bytes'] / mib:7.1f}Mi"
              + (f" {r['identical']}" if args.compare else ""))
        if share > LIMITS[r["name"]]:
            bad.append(f"{r['name']}: read {share:.1%} of the source (limit {LIMITS[r['name']]:.0%})")
        if r["peak_rss_bytes"] > RSS_LIMIT:
            bad.append(f"{r['name']}: peak RSS {r['peak_rss_bytes'] / mib:.1f} MiB (limit 64)")
        if args.compare and not r["identical"]:
            bad.append(f"{r['name']}: the MP3 from S3 differs from transcode's")
    for line in bad:
        print("over:", line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
