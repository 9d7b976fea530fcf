"""The AV-Digits sample format (samples/avdigits): manifest.jsonl, 16 kHz mono 16-bit WAVs of 1 s, 8x8 P5 PGMs."""

import json
import os
import struct
import wave

SAMPLE_RATE = 16000
PCM_LENGTH = 16000
AUDIO_FRAME = 320          # 20 ms
AUDIO_FRAME_US = 20_000
IMAGE_PIXELS = 64
CAMERA_FPS = 10
CAMERA_FRAME_US = 100_000
LABELS = [str(d) for d in range(10)]


class Item:
    def __init__(self, item_id, label, pcm, image):
        self.id, self.label, self.pcm, self.image = item_id, label, pcm, image


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != SAMPLE_RATE:
            raise ValueError(f"{path}: expected 16 kHz mono 16-bit PCM")
        raw = w.readframes(w.getnframes())
    samples = struct.unpack(f"<{len(raw) // 2}h", raw)
    if len(samples) != PCM_LENGTH:
        raise ValueError(f"{path}: {len(samples)} samples, expected {PCM_LENGTH}")
    return [s / 32768.0 for s in samples]


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and (data[pos:pos + 1].isspace() or data[pos:pos + 1] == b"#"):
            if data[pos:pos + 1] == b"#":
                while pos < len(data) and data[pos:pos + 1] != b"\n":
                    pos += 1
            pos += 1
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1  # the single whitespace after maxval
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P5" or width * height != IMAGE_PIXELS or not 1 <= maxval <= 255:
        raise ValueError(f"{path}: expected an 8x8 P5 PGM")
    pixels = data[pos:pos + IMAGE_PIXELS]
    if len(pixels) != IMAGE_PIXELS:
        raise ValueError(f"{path}: {len(pixels)} pixel bytes, expected {IMAGE_PIXELS}")
    return [p / maxval for p in pixels]


def load(directory, limit=None):
    items = []
    with open(os.path.join(directory, "manifest.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            e = json.loads(line)
            items.append(Item(e["id"], int(e["label"]), read_wav(os.path.join(directory, e["audio"])),
                              read_pgm(os.path.join(directory, e["image"]))))
            if limit is not None and len(items) >= limit:
                break
    return items


def spec(session_id, labels=LABELS):
    """The AV-Digits session (as src/FusionActors.Scenarios/AvDigitsSession.cs): audio in 1 s inputs, an 8x8 camera, 1 s windows."""
    return {
        "sessionId": session_id,
        "labels": labels,
        "window": {"kind": "Tumbling", "lengthUs": 1_000_000, "hopUs": 1_000_000},
        "policy": {"kind": "Adaptive"},
        "allowedLatenessUs": 150_000,
        "streams": [
            {"streamId": "audio", "modality": "audio", "model": "audio-digits", "frameLength": AUDIO_FRAME,
             "sampleRateHz": SAMPLE_RATE, "framing": {"kind": "Windowed", "lengthUs": 1_000_000, "hopUs": 1_000_000},
             "priority": 1},
            {"streamId": "camera", "modality": "image", "model": "image-digits", "frameLength": IMAGE_PIXELS,
             "priority": 0},
        ],
    }


def timeline(items):
    """(send at us, stream, event time us, values) for every frame, in the order a live sensor pair would send them:
    an audio frame when its 20 ms are complete, a camera frame when it is taken."""
    events = []
    for i, item in enumerate(items):
        base = i * 1_000_000
        for j in range(PCM_LENGTH // AUDIO_FRAME):
            t = base + j * AUDIO_FRAME_US
            events.append((t + AUDIO_FRAME_US, "audio", t, item.pcm[j * AUDIO_FRAME:(j + 1) * AUDIO_FRAME]))
        for j in range(CAMERA_FPS):
            t = base + j * CAMERA_FRAME_US
            events.append((t, "camera", t, item.image))
    events.sort(key=lambda e: (e[0], e[1]))
    return events
