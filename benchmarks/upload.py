"""Upload benchmark: a 500 MB recording through the producer upload vs a bare endpoint.

One server process (``vlinder serve``'s app with the producer area, no in-process worker, so
the upload is stored, probed and queued but not processed) also carries a bare baseline route,
``POST /bare-upload``, that writes the raw request body to disk and nothing else. ``curl``
sends the same file to both, alternating, ``--runs`` times each:

* producer: ``curl -F csrf=… -F file=@rec.wav`` to ``/producent/upload`` (multipart, streamed
  parse, 1 MiB writes, content probe, job row);
* bare: ``curl --data-binary @rec.wav`` to ``/bare-upload``.

Figures: peak RSS of the server process (``VmHWM``, the kernel's high-water mark, plus a
sampled maximum during each upload) and the ratio of the best producer time to the best bare
time. Targets: peak RSS <= 200 MB, ratio <= 1.3.

Usage: ``.venv/bin/python benchmarks/upload.py [--size-mb 500] [--runs 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

SERVER = r"""
import sys, uvicorn
from pathlib import Path
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from pipeline.service.server import create_app
from pipeline.core.workspace import Workspace

ws = Workspace(Path(sys.argv[1]))
app = create_app(ws, producer=True)
bare_dir = Path(sys.argv[3])

async def bare_upload(request: Request) -> JSONResponse:
    size = 0
    with open(bare_dir / "bare.upload", "wb") as fh:
        async for chunk in request.stream():
            fh.write(chunk)
            size += len(chunk)
    return JSONResponse({"bytes": size}, status_code=201)

app.router.routes.insert(0, Route("/bare-upload", bare_upload, methods=["POST"]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_recording(path: Path, size_mb: int) -> None:
    """A real WAV of ``size_mb`` MB: 48 kHz stereo 16-bit tone (192 kB/s)."""
    seconds = size_mb * 1024 * 1024 / (48000 * 2 * 2)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=f=220:sample_rate=48000",
            "-ac",
            "2",
            "-t",
            f"{seconds:.1f}",
            str(path),
        ],
        check=True,
    )


def vm_hwm_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


class RssSampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.02):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return


def curl(args: list[str]) -> tuple[float, int, str]:
    out = subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{time_total}", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    body, _, tail = out.rpartition("\n")
    code, seconds = tail.split()
    return float(seconds), int(code), body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="vlinder-upload-bench-"))
    sys.path.insert(0, str(ROOT))
    from pipeline.flows import init as init_workspace
    from pipeline.service.webapp.auth import producer_token

    ws = init_workspace(tmp / "ws")
    text = ws.settings_path.read_text(encoding="utf-8")
    text = re.sub(r"max_upload_mb = \d+", f"max_upload_mb = {args.size_mb * 2}", text)
    ws.settings_path.write_text(text, encoding="utf-8")
    token, _ = producer_token(ws)
    recording = tmp / "opname.wav"
    print(f"making a {args.size_mb} MB WAV ...", flush=True)
    make_recording(recording, args.size_mb)
    size = recording.stat().st_size
    bare_dir = tmp / "bare"
    bare_dir.mkdir()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(ws.root), str(port), str(bare_dir)], cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/producent/login", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        idle_rss = psutil.Process(server.pid).memory_info().rss / 2**20

        with httpx.Client(base_url=base) as http:
            page = http.get("/producent/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            page = http.post(
                "/producent/login", data={"csrf": csrf, "token": token}, follow_redirects=True
            ).text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)

        times: dict[str, list[float]] = {"producer": [], "bare": []}
        peaks: dict[str, float] = {"producer": 0.0, "bare": 0.0}
        for run in range(args.runs):
            order = ("bare", "producer") if run % 2 == 0 else ("producer", "bare")
            for kind in order:
                sampler = RssSampler(server.pid)
                sampler.start()
                if kind == "bare":
                    seconds, code, body = curl(
                        [
                            "-H",
                            "Content-Type: application/octet-stream",
                            "--data-binary",
                            f"@{recording}",
                            f"{base}/bare-upload",
                        ]
                    )
                    assert code == 201 and json.loads(body)["bytes"] == size, body
                    (bare_dir / "bare.upload").unlink()
                else:
                    seconds, code, body = curl(
                        [
                            "-H",
                            f"Cookie: {cookie}",
                            "-H",
                            "Accept: application/json",
                            "-F",
                            f"csrf={csrf}",
                            "-F",
                            "title=Benchmark",
                            "-F",
                            f"file=@{recording};type=audio/wav",
                            f"{base}/producent/upload",
                        ]
                    )
                    assert code == 201, (code, body)
                    job_id = json.loads(body)["job"]
                    stored = ws.state_dir / "uploads" / f"{job_id}.upload"
                    assert stored.stat().st_size == size
                    stored.unlink()
                sampler.stop_event.set()
                sampler.join()
                peaks[kind] = max(peaks[kind], sampler.peak / 2**20)
                times[kind].append(seconds)
                print(
                    f"run {run + 1} {kind:8s} {seconds:6.2f} s "
                    f"({size / 2**20 / seconds:6.0f} MB/s), sampled RSS peak "
                    f"{sampler.peak / 2**20:.0f} MB",
                    flush=True,
                )
        hwm = vm_hwm_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    best_producer, best_bare = min(times["producer"]), min(times["bare"])
    ratio = best_producer / best_bare
    result = {
        "file_mb": round(size / 2**20, 1),
        "runs": args.runs,
        "producer_upload_s": [round(t, 3) for t in times["producer"]],
        "bare_upload_s": [round(t, 3) for t in times["bare"]],
        "producer_best_s": round(best_producer, 3),
        "bare_best_s": round(best_bare, 3),
        "producer_median_s": round(statistics.median(times["producer"]), 3),
        "bare_median_s": round(statistics.median(times["bare"]), 3),
        "producer_mb_per_s": round(size / 2**20 / best_producer, 1),
        "bare_mb_per_s": round(size / 2**20 / best_bare, 1),
        "ratio_producer_vs_bare": round(ratio, 3),
        "server_idle_rss_mb": round(idle_rss, 1),
        "server_peak_rss_mb_vmhwm": round(hwm, 1),
        "server_peak_rss_mb_sampled": {k: round(v, 1) for k, v in peaks.items()},
        "targets": {"peak_rss_mb": 200, "ratio": 1.3},
        "pass": bool(hwm <= 200 and ratio <= 1.3),
        "cpu_count": os.cpu_count(),
        "client": "curl",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "upload.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md = f"""# Upload benchmark

`{Path(__file__).relative_to(ROOT)}`: a {result["file_mb"]} MB WAV sent with curl to the
producer upload (`/producent/upload`, multipart, streamed to disk, probed, queued) and to a bare
raw-body-to-disk route in the same server process; {args.runs} runs each, alternating.

| | best time | throughput | median |
|---|---|---|---|
| producer upload | {best_producer:.2f} s | {result["producer_mb_per_s"]} MB/s | {result["producer_median_s"]} s |
| bare endpoint | {best_bare:.2f} s | {result["bare_mb_per_s"]} MB/s | {result["bare_median_s"]} s |

- ratio producer / bare: **{ratio:.2f}** (target <= 1.3)
- server peak RSS (VmHWM, whole run): **{hwm:.0f} MB** (target <= 200 MB); idle {idle_rss:.0f} MB
- sampled RSS peak during producer uploads: {peaks["producer"]:.0f} MB, bare: {peaks["bare"]:.0f} MB
- {os.cpu_count()} CPU cores, shared with other work; client and server on one machine
"""
    (RESULTS / "upload.md").write_text(md, encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
