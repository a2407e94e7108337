"""Sending a file through the HTTP API as a client does: one presigned PUT for a small file,
its parts (several at once) for a large one, then completion. Shared by the benchmarks."""
import http.client
import json
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def call(method: str, url: str, body=None, token=None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=600) as r:
        text = r.read()
        return json.loads(text) if text else {}


def put_range(url: str, headers: dict, path: Path, offset: int, length: int) -> None:
    """PUTs `length` bytes of a file from `offset` to a presigned URL, streaming from disk."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=3600)
    target = parts.path + ("?" + parts.query if parts.query else "")
    conn.putrequest("PUT", target, skip_accept_encoding=True)
    for name, value in headers.items():
        if name.lower() != "content-length":
            conn.putheader(name, value)
    conn.putheader("content-length", str(length))
    conn.endheaders()
    with open(path, "rb") as f:
        f.seek(offset)
        left = length
        while left:
            chunk = f.read(min(1 << 20, left))
            conn.send(chunk)
            left -= len(chunk)
    response = conn.getresponse()
    response.read()
    if response.status >= 300:
        sys.exit(f"error: a PUT answered {response.status}")


def send(api: str, token: str, ticket: dict, path: Path, parallel: int = 4) -> None:
    """Uploads `path` as `ticket` (POST /uploads' answer) says; completes an upload in parts."""
    if "upload_url" in ticket:
        put_range(ticket["upload_url"], ticket["headers"], path, 0, path.stat().st_size)
        return
    upload, size, job = ticket["upload"], path.stat().st_size, ticket["job_id"]
    part_size = upload["part_size"]
    while upload["parts"]:
        def one(part):
            offset = (part["number"] - 1) * part_size
            put_range(part["url"], {}, path, offset, min(part_size, size - offset))
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            list(pool.map(one, upload["parts"]))
        upload = call("GET", f"{api}/uploads/{job}", token=token)["upload"]
    call("POST", f"{api}/uploads/{job}/complete", token=token)
