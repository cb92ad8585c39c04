"""Audio, streamed: the MP3 is decoded by ffmpeg into 16 kHz mono and read in chunks of
``chunk_seconds`` (3 minutes), each cut at the quietest moment of its last seconds, so memory
does not grow with the length of the recording.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from pipeline.core.errors import (
    AudioError,
    ToolError,
)

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class AudioChunk:
    index: int
    start: float  # seconds from the start of the file
    samples: np.ndarray  # float32, 16 kHz mono

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / SAMPLE_RATE


def audio_duration(path: Path) -> float:
    """Duration in seconds, from the container (PyAV)."""
    import av

    try:
        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / 1_000_000
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return 0.0
    except (av.FFmpegError, IndexError) as exc:
        raise AudioError(f"{path.name}: geen leesbare audio ({exc})") from exc


def _quiet_cut(samples: np.ndarray, window: int) -> int:
    """The sample index of the quietest 100 ms in the last ``window`` samples."""
    import numpy as np  # heavy: imported when audio is decoded, not with the package

    frame = SAMPLE_RATE // 10
    tail = samples[-window:]
    n = len(tail) // frame
    if n < 2:
        return len(samples)
    energy = np.square(tail[: n * frame].reshape(n, frame)).mean(axis=1)
    best = int(np.argmin(energy))
    return len(samples) - window + best * frame + frame // 2


def stream_chunks(
    path: Path, chunk_seconds: float, start: float = 0.0, first_index: int = 0
) -> Iterator[AudioChunk]:
    """Decode ``path`` from ``start`` with ffmpeg and yield chunks of ~``chunk_seconds``.

    Each chunk ends at the quietest 100 ms within its last quarter (at most 30 s), so words are
    not cut in two; what follows the cut starts the next chunk. A rest shorter than half a chunk
    joins the last chunk (which is then up to 1.5x as long): a short last chunk would decode
    its few windows in a batch of their own, nearly as slowly as a full one. Memory: one chunk
    and a half.
    """
    import numpy as np  # heavy: imported when audio is decoded, not with the package

    if shutil.which("ffmpeg") is None:
        raise ToolError("ffmpeg is niet geïnstalleerd (nodig om audio te lezen)")
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if start > 0:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path), "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    target = int(chunk_seconds * SAMPLE_RATE)
    rest = target // 2  # read ahead: a rest shorter than this joins the last chunk
    window = min(30 * SAMPLE_RATE, target // 4)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    index = first_index
    offset = start
    pending = np.zeros(0, dtype=np.float32)
    try:
        while True:
            need = target + rest - len(pending)
            raw = proc.stdout.read(need * 2) if need > 0 else b""
            if len(raw) % 2:
                raw = raw[:-1]
            fresh = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0
            buffer = np.concatenate([pending, fresh]) if len(pending) else fresh
            at_end = need > 0 and len(raw) < need * 2
            if at_end:
                if len(buffer) >= SAMPLE_RATE // 20 or (index == first_index and len(buffer)):
                    yield AudioChunk(index, offset, buffer)
                break
            cut = _quiet_cut(buffer[:target], window)
            yield AudioChunk(index, offset, buffer[:cut])
            offset += cut / SAMPLE_RATE
            pending = buffer[cut:].copy()
            index += 1
        proc.wait()
        if proc.returncode not in (0, None):
            message = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
            raise AudioError(f"{path.name}: ffmpeg kon de audio niet lezen ({message[-200:]})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
