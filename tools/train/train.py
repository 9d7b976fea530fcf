#!/usr/bin/env python3
"""Trains the two AV-Digits encoders and exports them to ONNX with their calibration and metrics.

  models/audio-digits.onnx   pcm [N,16000] float32 in [-1,1] at 16 kHz -> embedding [N,64], logits [N,10]
                             (log-mel front end inside the graph: fixed DFT as conv1d, mel matrix, log, CMVN)
  models/image-digits.onnx   image [N,1,8,8] float32 in [0,1]       -> embedding [N,32], logits [N,10]
  models/models.json         catalog: inputs, outputs, labels, temperature (fitted on val), metrics, provenance

Usage: /usr/bin/python3 tools/train/train.py [--data data/avdigits] [--out models] [--sample samples/avdigits]
"""
import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
import wave

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE = 16000
LENGTH = 16000
N_FFT = 400          # 25 ms window
HOP = 160            # 10 ms hop -> 98 frames
N_MELS = 40
AUDIO_EMB = 64
IMAGE_EMB = 32
LABELS = [str(d) for d in range(10)]
SNRS_TRAIN = [None, 20.0, 10.0, 5.0, 0.0]
OPSET = 13


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/avdigits")
    p.add_argument("--sample", default="samples/avdigits")
    p.add_argument("--out", default="models")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--audio-epochs", type=int, default=24)
    p.add_argument("--image-epochs", type=int, default=60)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--checkpoints", default="data/checkpoints",
                   help="where the trained torch weights are kept (git-ignored)")
    p.add_argument("--calibrate-only", action="store_true",
                   help="reuse the weights in --checkpoints: refit temperatures, re-evaluate, re-export")
    return p.parse_args()


# ---------------------------------------------------------------------------------------------- data

def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != SAMPLE_RATE:
            raise ValueError(f"{path}: expected 16 kHz mono 16-bit PCM")
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if pcm.size != LENGTH:
        raise ValueError(f"{path}: expected {LENGTH} samples, got {pcm.size}")
    return pcm


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    header = b"P5\n8 8\n255\n"
    if not data.startswith(header) or len(data) != len(header) + 64:
        raise ValueError(f"{path}: expected an 8x8 binary PGM with maxval 255")
    return np.frombuffer(data[len(header):], dtype=np.uint8)


def load_split(root):
    """Returns {split: dict(pcm int16 [N,16000], image uint8 [N,64], label [N], voice [N], imageIndex [N])}."""
    rows = [json.loads(line) for line in open(os.path.join(root, "manifest.jsonl")) if line.strip()]
    out = {}
    for split in ("train", "val", "test"):
        rs = [r for r in rows if r["split"] == split]
        if not rs:
            continue
        out[split] = {
            "pcm": np.stack([read_wav(os.path.join(root, r["audio"])) for r in rs]),
            "image": np.stack([read_pgm(os.path.join(root, r["image"])) for r in rs]),
            "label": np.array([r["label"] for r in rs], dtype=np.int64),
            "voice": [r["voice"] for r in rs],
            "imageIndex": np.array([r["imageIndex"] for r in rs], dtype=np.int64),
        }
    return out


def pcm_float(x):
    return torch.from_numpy(x.astype(np.float32) / 32768.0)


def unique_images(split):
    """One row per distinct sklearn image of the split (items reuse images)."""
    _, first = np.unique(split["imageIndex"], return_index=True)
    return (torch.from_numpy(split["image"][first].astype(np.float32) / 255.0).view(-1, 1, 8, 8),
            torch.from_numpy(split["label"][first]))


# ---------------------------------------------------------------------------------------------- noise

def pink_noise(shape, gen):
    """1/f noise by shaping white noise in the frequency domain; unit variance per row."""
    white = torch.randn(shape, generator=gen)
    spec = torch.fft.rfft(white, dim=-1)
    f = torch.arange(spec.shape[-1], dtype=torch.float32)
    f[0] = 1.0
    pink = torch.fft.irfft(spec / torch.sqrt(f), n=shape[-1], dim=-1)
    return pink / pink.std(dim=-1, keepdim=True).clamp_min(1e-8)


def add_noise(pcm, snr_db, kind, gen):
    """Adds white or pink noise at snr_db relative to the power of the whole one-second window, clipped to [-1,1]."""
    if snr_db is None:
        return pcm
    noise = torch.randn(pcm.shape, generator=gen) if kind == "white" else pink_noise(pcm.shape, gen)
    p_signal = pcm.pow(2).mean(dim=-1, keepdim=True).clamp_min(1e-10)
    scale = torch.sqrt(p_signal / (10.0 ** (snr_db / 10.0)))
    return (pcm + noise * scale).clamp(-1.0, 1.0)


def augment_audio(pcm, gen):
    n = pcm.shape[0]
    # Time shift with zero fill (up to 0.15 s either way).
    shifts = torch.randint(-2400, 2401, (n,), generator=gen)
    out = torch.zeros_like(pcm)
    for i in range(n):
        s = int(shifts[i])
        if s >= 0:
            out[i, s:] = pcm[i, :LENGTH - s]
        else:
            out[i, :LENGTH + s] = pcm[i, -s:]
    # Random gain (-12 dB .. +4 dB).
    gain = 10.0 ** (torch.empty(n, 1).uniform_(-12.0, 4.0, generator=gen) / 20.0)
    out = (out * gain).clamp(-1.0, 1.0)
    # Noise: clean, 20, 10, 5, 0 dB (plus a continuous spread), white or pink.
    result = torch.empty_like(out)
    choice = torch.randint(0, len(SNRS_TRAIN) + 1, (n,), generator=gen)
    kinds = torch.randint(0, 2, (n,), generator=gen)
    for i in range(n):
        c = int(choice[i])
        snr = float(torch.empty(1).uniform_(0.0, 25.0, generator=gen)) if c == len(SNRS_TRAIN) else SNRS_TRAIN[c]
        result[i:i + 1] = add_noise(out[i:i + 1], snr, "white" if kinds[i] == 0 else "pink", gen)
    return result


def augment_images(img, gen):
    n = img.shape[0]
    # Shifts of up to one pixel (zero fill).
    padded = F.pad(img, (1, 1, 1, 1))
    dx = torch.randint(0, 3, (n,), generator=gen)
    dy = torch.randint(0, 3, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 8, dx[i]:dx[i] + 8] for i in range(n)])
    # Occlusion: a 2x2..3x3 patch of zeros or ones on half of the images.
    for i in range(n):
        if torch.rand(1, generator=gen) < 0.5:
            s = int(torch.randint(2, 4, (1,), generator=gen))
            y = int(torch.randint(0, 9 - s, (1,), generator=gen))
            x = int(torch.randint(0, 9 - s, (1,), generator=gen))
            out[i, :, y:y + s, x:x + s] = float(torch.randint(0, 2, (1,), generator=gen))
    # Pixel Gaussian noise with sigma in {0, 0.05 .. 0.35}.
    sigma = torch.empty(n, 1, 1, 1).uniform_(0.0, 0.35, generator=gen)
    sigma[torch.rand(n, generator=gen) < 0.25] = 0.0
    out = out + torch.randn(out.shape, generator=gen) * sigma
    return out.clamp(0.0, 1.0)


# ---------------------------------------------------------------------------------------------- models

def mel_matrix(n_mels=N_MELS, n_fft=N_FFT, sr=SAMPLE_RATE, fmin=20.0, fmax=7600.0):
    """HTK mel filterbank [n_mels, n_fft//2+1]."""
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m):
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    bins = np.linspace(0, sr / 2, n_fft // 2 + 1)
    pts = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fb = np.zeros((n_mels, bins.size), dtype=np.float32)
    for m in range(n_mels):
        lo, mid, hi = pts[m], pts[m + 1], pts[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        fb[m] = np.maximum(0.0, np.minimum(up, down))
    return fb


class LogMel(nn.Module):
    """PCM [N,16000] -> normalised log-mel [N,1,40,98]; a fixed DFT as conv1d so it exports to plain ONNX ops."""

    def __init__(self):
        super().__init__()
        n = np.arange(N_FFT)
        k = np.arange(N_FFT // 2 + 1)[:, None]
        window = 0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)  # periodic Hann
        real = window * np.cos(2 * np.pi * k * n / N_FFT)
        imag = -window * np.sin(2 * np.pi * k * n / N_FFT)
        self.register_buffer("dft", torch.from_numpy(np.concatenate([real, imag]).astype(np.float32)).unsqueeze(1))
        self.register_buffer("mel", torch.from_numpy(mel_matrix()))
        self.bins = N_FFT // 2 + 1

    def forward(self, pcm):
        spec = F.conv1d(pcm.unsqueeze(1), self.dft, stride=HOP)            # [N, 402, 98]
        power = spec[:, :self.bins] ** 2 + spec[:, self.bins:] ** 2         # [N, 201, 98]
        mel = torch.matmul(self.mel, power)                                 # [N, 40, 98]
        logmel = torch.log(mel + 1e-4)
        # CMVN over the whole window: removes the gain, keeps the spectral shape.
        mean = logmel.mean(dim=(1, 2), keepdim=True)
        std = torch.sqrt(((logmel - mean) ** 2).mean(dim=(1, 2), keepdim=True) + 1e-5)
        return ((logmel - mean) / std).unsqueeze(1)


def conv_block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class AudioNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.front = LogMel()
        self.body = nn.Sequential(
            conv_block(1, 24), nn.MaxPool2d(2),
            conv_block(24, 48), nn.MaxPool2d(2),
            conv_block(48, 96), nn.MaxPool2d(2),
            conv_block(96, 128),
        )
        self.embed = nn.Linear(256, AUDIO_EMB)
        self.drop = nn.Dropout(0.2)
        self.head = nn.Linear(AUDIO_EMB, 10)
        self.spec_augment = False

    def features(self, x):
        h = self.body(x)                                   # [N, 128, 5, 12]
        h = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return F.relu(self.embed(h))

    def forward(self, pcm):
        x = self.front(pcm)
        if self.training and self.spec_augment:
            x = spec_augment(x)
        emb = self.features(x)
        return emb, self.head(self.drop(emb))


def spec_augment(x):
    """One frequency mask (up to 6 mels) and one time mask (up to 12 frames) per example."""
    n, _, fbins, frames = x.shape
    x = x.clone()
    for i in range(n):
        f = int(torch.randint(0, 7, (1,)))
        f0 = int(torch.randint(0, fbins - f + 1, (1,)))
        t = int(torch.randint(0, 13, (1,)))
        t0 = int(torch.randint(0, frames - t + 1, (1,)))
        x[i, :, f0:f0 + f, :] = 0.0
        x[i, :, :, t0:t0 + t] = 0.0
    return x


class ImageNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            conv_block(1, 32), conv_block(32, 64), nn.MaxPool2d(2),   # 4x4
            conv_block(64, 96),
        )
        self.embed = nn.Linear(96 * 16, IMAGE_EMB)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(IMAGE_EMB, 10)

    def forward(self, image):
        h = self.body(image).flatten(1)
        emb = F.relu(self.embed(h))
        return emb, self.head(self.drop(emb))


# ---------------------------------------------------------------------------------------------- training

@torch.no_grad()
def logits_of(model, x, batch=200):
    model.eval()
    return torch.cat([model(x[i:i + batch])[1] for i in range(0, x.shape[0], batch)])


def accuracy(logits, y):
    return float((logits.argmax(1) == y).float().mean())


def ece(probs, y, bins=15):
    conf, pred = probs.max(1)
    correct = (pred == y).float()
    total = 0.0
    edges = torch.linspace(0, 1, bins + 1)
    for b in range(bins):
        # Bins are (lo, hi], the first also takes 0; matches Calibration.ExpectedCalibrationError in C#.
        lo, hi = edges[b], edges[b + 1]
        m = (conf > lo) & (conf <= hi) if b > 0 else (conf >= lo) & (conf <= hi)
        if m.any():
            total += float(m.float().mean()) * abs(float(conf[m].mean()) - float(correct[m].mean()))
    return total


def audio_calibration_set(split):
    """The val split clean and under every training noise condition (white and pink at 20/10/5/0 dB).

    Fitting on clean val alone is degenerate: with no errors there, the NLL keeps falling as T -> 0."""
    x, y = pcm_float(split["pcm"]), torch.from_numpy(split["label"])
    xs, ys = [x], [y]
    for kind in ("white", "pink"):
        for snr in (20.0, 10.0, 5.0, 0.0):
            xs.append(add_noise(x, snr, kind, torch.Generator().manual_seed(500 + int(snr) + (kind == "pink"))))
            ys.append(y)
    return torch.cat(xs), torch.cat(ys)


def image_calibration_set(split):
    """The val images clean, with pixel noise sigma 0.1/0.2/0.3 and with a 3x3 occlusion (see audio_calibration_set)."""
    x, y = unique_images(split)
    xs, ys = [x], [y]
    for sigma in (0.1, 0.2, 0.3):
        gen = torch.Generator().manual_seed(600 + int(sigma * 100))
        xs.append((x + torch.randn(x.shape, generator=gen) * sigma).clamp(0, 1))
        ys.append(y)
    xs.append(occlude(x, torch.Generator().manual_seed(700)))
    ys.append(y)
    return torch.cat(xs), torch.cat(ys)


def occlude(x, gen):
    out = x.clone()
    for i in range(x.shape[0]):
        r, c = int(torch.randint(0, 6, (1,), generator=gen)), int(torch.randint(0, 6, (1,), generator=gen))
        out[i, :, r:r + 3, c:c + 3] = 0.0
    return out


def fit_temperature(logits, y):
    """Temperature scaling (Guo et al. 2017): minimise the NLL of softmax(logits/T) over T with LBFGS."""
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.exp())


def train_audio(data, args, gen, log):
    model = AudioNet()
    model.spec_augment = True
    xtr, ytr = pcm_float(data["train"]["pcm"]), torch.from_numpy(data["train"]["label"])
    xva, yva = pcm_float(data["val"]["pcm"]), torch.from_numpy(data["val"]["label"])
    val_noisy = add_noise(xva, 10.0, "white", torch.Generator().manual_seed(11))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    batch = 64
    steps = args.audio_epochs * math.ceil(xtr.shape[0] / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    best, best_state = -1.0, None
    for epoch in range(args.audio_epochs):
        started = time.time()
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        total = 0.0
        for i in range(0, xtr.shape[0], batch):
            idx = perm[i:i + batch]
            x = augment_audio(xtr[idx], gen)
            _, logits = model(x)
            loss = F.cross_entropy(logits, ytr[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * idx.numel()
        acc_clean = accuracy(logits_of(model, xva), yva)
        acc_noisy = accuracy(logits_of(model, val_noisy), yva)
        score = acc_clean + acc_noisy
        if score >= best:
            best, best_state = score, {k: v.clone() for k, v in model.state_dict().items()}
        log(f"audio epoch {epoch + 1}/{args.audio_epochs}: loss {total / xtr.shape[0]:.4f}, "
            f"val {acc_clean:.4f}, val@10dB {acc_noisy:.4f}, {time.time() - started:.1f} s")
    model.load_state_dict(best_state)
    model.eval()
    return model


def train_image(data, args, gen, log):
    model = ImageNet()
    xtr, ytr = unique_images(data["train"])
    xva, yva = unique_images(data["val"])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
    batch = 64
    steps = args.image_epochs * math.ceil(xtr.shape[0] / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps, pct_start=0.2)
    val_noisy = (xva + torch.randn(xva.shape, generator=torch.Generator().manual_seed(12)) * 0.3).clamp(0, 1)
    best, best_state = -1.0, None
    for epoch in range(args.image_epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        for i in range(0, xtr.shape[0], batch):
            idx = perm[i:i + batch]
            _, logits = model(augment_images(xtr[idx], gen))
            loss = F.cross_entropy(logits, ytr[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        acc_clean = accuracy(logits_of(model, xva), yva)
        acc_noisy = accuracy(logits_of(model, val_noisy), yva)
        if acc_clean + acc_noisy >= best:
            best, best_state = acc_clean + acc_noisy, {k: v.clone() for k, v in model.state_dict().items()}
        if (epoch + 1) % 10 == 0:
            log(f"image epoch {epoch + 1}/{args.image_epochs}: val {acc_clean:.4f}, val@sigma0.3 {acc_noisy:.4f}")
    model.load_state_dict(best_state)
    model.eval()
    return model


# ---------------------------------------------------------------------------------------------- export

class Exportable(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)


def export(model, example, input_name, path):
    model.eval()
    torch.onnx.export(Exportable(model), example, path, input_names=[input_name],
                      output_names=["embedding", "logits"], opset_version=OPSET,
                      dynamic_axes={input_name: {0: "batch"}, "embedding": {0: "batch"}, "logits": {0: "batch"}},
                      do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)


def evaluate_audio(model, split, temperature):
    x, y = pcm_float(split["pcm"]), torch.from_numpy(split["label"])
    logits = logits_of(model, x)
    return {"accuracy": round(accuracy(logits, y), 4),
            "ece15": round(ece(F.softmax(logits / temperature, 1), y), 4)}


def robustness_audio(model, split):
    x, y = pcm_float(split["pcm"]), torch.from_numpy(split["label"])
    out = {}
    for kind in ("white", "pink"):
        for snr in (20.0, 10.0, 5.0, 0.0):
            gen = torch.Generator().manual_seed(1000 + int(snr))
            out[f"{kind}{int(snr)}dB"] = round(accuracy(logits_of(model, add_noise(x, snr, kind, gen)), y), 4)
    return out


def robustness_image(model, split):
    x, y = unique_images(split)
    out = {}
    for sigma in (0.1, 0.2, 0.3):
        gen = torch.Generator().manual_seed(2000 + int(sigma * 100))
        noisy = (x + torch.randn(x.shape, generator=gen) * sigma).clamp(0, 1)
        out[f"sigma{sigma}"] = round(accuracy(logits_of(model, noisy), y), 4)
    out["occlusion3x3"] = round(accuracy(logits_of(model, occlude(x, torch.Generator().manual_seed(3000))), y), 4)
    return out


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    started = time.time()
    os.makedirs(args.out, exist_ok=True)
    log_lines = []

    def log(msg):
        print(msg, flush=True)
        log_lines.append(msg)

    data = load_split(args.data)
    sample = load_split(args.sample)["test"] if os.path.exists(os.path.join(args.sample, "manifest.jsonl")) else None
    stats_path = os.path.join(args.data, "stats.json")
    dataset_stats = json.load(open(stats_path)) if os.path.exists(stats_path) else None
    counts = ", ".join(f"{k}={v['label'].size}" for k, v in data.items())
    log(f"loaded {counts} in {time.time() - started:.1f} s")

    os.makedirs(args.checkpoints, exist_ok=True)
    image_ckpt = os.path.join(args.checkpoints, "image-digits.pt")
    audio_ckpt = os.path.join(args.checkpoints, "audio-digits.pt")

    # ---- image
    t0 = time.time()
    if args.calibrate_only:
        image_model = ImageNet()
        saved = torch.load(image_ckpt)
        image_model.load_state_dict(saved["state"])
        image_model.eval()
        image_seconds = saved["seconds"]
    else:
        image_model = train_image(data, args, gen, log)
        image_seconds = time.time() - t0
        torch.save({"state": image_model.state_dict(), "seconds": image_seconds}, image_ckpt)
    xca, yca = image_calibration_set(data["val"])
    t_image = fit_temperature(logits_of(image_model, xca), yca)
    xva, yva = unique_images(data["val"])
    xte, yte = unique_images(data["test"])
    image_test_logits = logits_of(image_model, xte)
    xtn, ytn = image_calibration_set(data["test"])
    image_metrics = {
        "testAccuracy": round(accuracy(image_test_logits, yte), 4),
        "testEce15": round(ece(F.softmax(image_test_logits / t_image, 1), yte), 4),
        "testEce15Uncalibrated": round(ece(F.softmax(image_test_logits, 1), yte), 4),
        "testEce15NoiseMix": round(ece(F.softmax(logits_of(image_model, xtn) / t_image, 1), ytn), 4),
        "valAccuracy": round(accuracy(logits_of(image_model, xva), yva), 4),
        "testImages": int(xte.shape[0]),
        "testNoiseAccuracy": robustness_image(image_model, data["test"]),
    }
    if sample is not None:
        # Per item, as the C# tests measure it (sample items may share an image).
        xs = torch.from_numpy(sample["image"].astype(np.float32) / 255.0).view(-1, 1, 8, 8)
        ys = torch.from_numpy(sample["label"])
        ls = logits_of(image_model, xs)
        image_metrics["sampleAccuracy"] = round(accuracy(ls, ys), 4)
        image_metrics["sampleEce15"] = round(ece(F.softmax(ls / t_image, 1), ys), 4)
        image_metrics["sampleItems"] = int(ys.numel())
    log(f"image: T={t_image:.4f} {json.dumps(image_metrics)} ({image_seconds:.0f} s)")

    # ---- audio
    t0 = time.time()
    if args.calibrate_only:
        audio_model = AudioNet()
        saved = torch.load(audio_ckpt)
        audio_model.load_state_dict(saved["state"])
        audio_model.eval()
        audio_seconds = saved["seconds"]
    else:
        audio_model = train_audio(data, args, gen, log)
        audio_seconds = time.time() - t0
        torch.save({"state": audio_model.state_dict(), "seconds": audio_seconds}, audio_ckpt)
    xca, yca = audio_calibration_set(data["val"])
    t_audio = fit_temperature(logits_of(audio_model, xca), yca)
    xva_a, yva_a = pcm_float(data["val"]["pcm"]), torch.from_numpy(data["val"]["label"])
    test_eval = evaluate_audio(audio_model, data["test"], t_audio)
    test_logits = logits_of(audio_model, pcm_float(data["test"]["pcm"]))
    xtn, ytn = audio_calibration_set(data["test"])
    audio_metrics = {
        "testAccuracy": test_eval["accuracy"],
        "testEce15": test_eval["ece15"],
        "testEce15Uncalibrated": round(ece(F.softmax(test_logits, 1), torch.from_numpy(data["test"]["label"])), 4),
        "testEce15NoiseMix": round(ece(F.softmax(logits_of(audio_model, xtn) / t_audio, 1), ytn), 4),
        "valAccuracy": round(accuracy(logits_of(audio_model, xva_a), yva_a), 4),
        "testItems": int(data["test"]["label"].size),
        "testNoiseAccuracy": robustness_audio(audio_model, data["test"]),
    }
    if sample is not None:
        s = evaluate_audio(audio_model, sample, t_audio)
        audio_metrics["sampleAccuracy"] = s["accuracy"]
        audio_metrics["sampleEce15"] = s["ece15"]
        audio_metrics["sampleItems"] = int(sample["label"].size)
    log(f"audio: T={t_audio:.4f} {json.dumps(audio_metrics)} ({audio_seconds:.0f} s)")

    # ---- export
    audio_path = os.path.join(args.out, "audio-digits.onnx")
    image_path = os.path.join(args.out, "image-digits.onnx")
    export(audio_model, torch.zeros(2, LENGTH), "pcm", audio_path)
    export(image_model, torch.zeros(2, 1, 8, 8), "image", image_path)

    provenance = {
        "script": "tools/train/train.py",
        "command": "bash tools/train/train.sh  (= /usr/bin/python3 tools/train/train.py --data data/avdigits)",
        "seed": args.seed,
        "gitCommit": git_commit(),
        "trainedAt": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "opset": OPSET,
        "threads": args.threads,
        "dataset": {"builder": "tools/avdigits/build_dataset.py", "seed": dataset_stats and dataset_stats["seed"],
                    "splits": dataset_stats and {k: {kk: vv for kk, vv in v.items() if kk != "perLabel"}
                                                 for k, v in dataset_stats["splits"].items()}},
        "temperatureFit": "LBFGS on the NLL of the val split, clean plus every noise condition of testNoiseAccuracy "
                          "(clean val alone has no audio errors, so its NLL optimum is T -> 0)",
        "eceBins": 15,
    }
    catalog = {"models": [
        {
            "name": "audio-digits", "file": "audio-digits.onnx", "modality": "audio",
            "input": {"name": "pcm", "shape": [-1, LENGTH], "min": -1.0, "max": 1.0, "sampleRate": SAMPLE_RATE},
            "outputs": {"embedding": {"name": "embedding", "size": AUDIO_EMB}, "logits": {"name": "logits", "size": 10}},
            "labels": LABELS,
            "temperature": round(t_audio, 6),
            "metrics": audio_metrics,
            "training": dict(provenance, epochs=args.audio_epochs, seconds=round(audio_seconds),
                             trainItems=int(data["train"]["label"].size),
                             frontEnd=f"in-graph log-mel: Hann {N_FFT}/{HOP} DFT as conv1d, {N_MELS} HTK mels "
                                      "20-7600 Hz, log(x+1e-4), per-window mean/variance normalisation",
                             augmentation="time shift +-0.15 s, gain -12..+4 dB, white/pink noise at "
                                          "clean/20/10/5/0 dB and uniform 0-25 dB (SNR over the whole window), "
                                          "SpecAugment (1 freq mask <=6 mels, 1 time mask <=12 frames)",
                             noiseSnrDefinition="10*log10(mean(pcm^2)/mean(noise^2)) over the whole 1 s window"),
        },
        {
            "name": "image-digits", "file": "image-digits.onnx", "modality": "image",
            "input": {"name": "image", "shape": [-1, 1, 8, 8], "min": 0.0, "max": 1.0},
            "outputs": {"embedding": {"name": "embedding", "size": IMAGE_EMB}, "logits": {"name": "logits", "size": 10}},
            "labels": LABELS,
            "temperature": round(t_image, 6),
            "metrics": image_metrics,
            "training": dict(provenance, epochs=args.image_epochs, seconds=round(image_seconds),
                             trainImages=int(unique_images(data["train"])[0].shape[0]),
                             augmentation="shift <=1 px, 2x2-3x3 occlusion (0 or 1) on half, pixel Gaussian noise "
                                          "sigma 0..0.35 (0 for a quarter), clipped to [0,1]"),
        },
    ]}
    with open(os.path.join(args.out, "models.json"), "w") as f:
        json.dump(catalog, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "training-log.txt"), "w") as f:
        f.write("\n".join(log_lines) + "\n")
    log(f"wrote {audio_path}, {image_path}, models.json in {time.time() - started:.0f} s total")


if __name__ == "__main__":
    main()
