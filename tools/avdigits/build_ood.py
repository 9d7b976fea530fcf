#!/usr/bin/env python3
"""Builds the out-of-distribution (OOD) splits of AV-Digits: both modalities shifted away from training.

Two splits, each in its own directory (default data/avdigits-ood/NAME), in the format of build_dataset.py
(manifest.jsonl, audio/ID.wav, images/ID.pgm, stats.json), every item with split "test":

  accent-strokes  speech: espeak-ng languages that the in-distribution builder never uses, with the
                  test split's held-out voice variants, at speeds and pitches outside the training ranges;
                  clean channel. Images: scikit-learn digits of the test split (never trained on), each
                  with one transform: thicker or thinner strokes, rotation, shear, blur, contrast inversion
                  or a half-resolution camera.
  channel-fonts   speech: other voices from the same unseen languages and variants, speeds and pitches,
                  through a telephone channel (300-3400 Hz, G.711 mu-law at 8 kHz, back to 16 kHz), a
                  reverberant room (sox reverb), or both. Images: digits typeset in the fonts of Debian font
                  packages, rasterised to a 32x32 bitmap and reduced to 8x8 by counting the set pixels of
                  each 4x4 block, as scikit-learn's digits were made (0..16).

Extra manifest fields, ignored by readers that do not know them: condition, language, variant, channel,
channelParams, imageSource (sklearn | font), imageTransform, imageParams, font (file name). imageIndex is
present only for images taken from scikit-learn's digits.

The in-distribution split plan (which variants and images are train/val/test) is recomputed with the
functions and seed of build_dataset.py, and the builder asserts that no OOD item shares a language, a
variant, a speed, a pitch or an image with the training split. Deterministic for a given --seed and
versions of espeak-ng, sox, numpy, scipy, Pillow and the font packages.
"""
import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_dataset as base  # noqa: E402

# espeak-ng languages missing from base.LANGUAGES that still say each English digit word as one word
# (checked with `espeak-ng -v LANG -q -x WORD`: no letter-by-letter spelling of any of the ten words).
# The first nine switch to English phonemes with their own voice and prosody (tones for cmn, vi*, yue);
# the other seven read the English spelling with their own letter-to-sound rules, a strong accent.
OOD_LANGUAGES = [
    "am", "bpy", "cmn", "fr-ch", "ru-lv", "vi", "vi-vn-x-central", "vi-vn-x-south", "yue",
    "fa-latn", "gn", "jbo", "lfn", "ltg", "nci", "smj",
]
# Training draws speed from 120..200 and pitch from 30..70 (build_dataset.py); these ranges avoid both.
SPEED_RANGES = [(80, 105), (225, 300)]
PITCH_RANGES = [(0, 20), (80, 99)]
TRAIN_SPEED = (120, 200)
TRAIN_PITCH = (30, 70)

# Font packages whose .ttf/.otf files give the typeset digits, one per line; build-ood.sh installs them.
FONT_PACKAGES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "font-packages.txt")

# Faces whose digit code points hold no digits (URW's Dingbats draws ornaments there).
EXCLUDED_FONTS = {"D050000L"}

SPLIT_NAMES = ["accent-strokes", "channel-fonts"]
IMAGE_TRANSFORMS = ["thick", "thin", "rotate", "shear", "blur", "invert", "lowres"]
CHANNELS = ["phone", "reverb", "phone+reverb"]
BITMAP = 32  # scikit-learn's digits are 32x32 bitmaps reduced to 8x8 by 4x4 block counts


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="data/avdigits-ood", help="parent directory of the splits")
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--base-seed", type=int, default=20261124,
                   help="seed of the in-distribution build whose split plan the OOD splits must avoid")
    p.add_argument("--voices", type=int, default=100, help="voices per split; each speaks every digit once")
    p.add_argument("--splits", default="accent-strokes,channel-fonts")
    p.add_argument("--sample", default=None, help="also write a balanced sample of channel-fonts here")
    p.add_argument("--sample-per-label", type=int, default=20)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    return p.parse_args()


def base_plan(base_seed):
    """The in-distribution split plan, recomputed exactly as build_dataset.main draws it."""
    rng = random.Random(base_seed)
    images, labels = base.load_digits()
    image_split = base.split_images(labels, rng)
    plan_args = argparse.Namespace(voices=[400, 60, 60], val_variants=16, test_variants=16)
    _, held = base.plan_voices(plan_args, rng)
    return images, labels, image_split, held


def draw_range(rng, ranges):
    lo, hi = ranges[rng.randrange(len(ranges))]
    return rng.randint(lo, hi)


# ---------------------------------------------------------------------------------------------- audio

def sox(args):
    # -D: no dither (sox would otherwise add it with a random seed).
    subprocess.run(["sox", "-D"] + args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def apply_channel(pcm, channel, params, tmp, stem):
    """Runs one second of 16 kHz audio through the item's channel with sox; returns 16000 samples."""
    if channel == "clean":
        return pcm
    src = os.path.join(tmp, stem + ".ch0.wav")
    base.write_wav(src, pcm)
    cur = src
    if "reverb" in channel:
        nxt = os.path.join(tmp, stem + ".rev.wav")
        sox([cur, nxt, "reverb", str(params["reverberance"]), str(params["hfDamping"]), str(params["roomScale"]),
             "100", str(params["preDelayMs"]), "0"])
        cur = nxt
    if "phone" in channel:
        narrow = os.path.join(tmp, stem + ".8k.wav")
        wide = os.path.join(tmp, stem + ".ph.wav")
        # Band-limit to the telephone band, resample to 8 kHz and store as G.711 mu-law; then back to 16 kHz.
        sox([cur, "-r", "8000", "-e", "u-law", "-b", "8", narrow, "sinc", "300-3400", "rate", "8000"])
        sox([narrow, "-r", str(base.SAMPLE_RATE), "-e", "signed", "-b", "16", wide, "rate", str(base.SAMPLE_RATE)])
        cur = wide
    out = base.read_wav(cur)
    for f in {src, cur, os.path.join(tmp, stem + ".rev.wav"), os.path.join(tmp, stem + ".8k.wav")}:
        if os.path.exists(f):
            os.remove(f)
    res = np.zeros(base.LENGTH, dtype=np.float32)
    n = min(base.LENGTH, len(out))  # the reverb tail past the second is cut, as a one-second window would
    res[:n] = out[:n]
    return res


def synthesise(job):
    """Speaks one word as build_dataset.synthesise does, places it in one second, then applies the channel."""
    item, tmpdir = job
    rng = random.Random(item["seedBits"])
    raw = os.path.join(tmpdir, item["id"] + ".22k.wav")
    res = os.path.join(tmpdir, item["id"] + ".16k.wav")
    subprocess.run(["espeak-ng", "-v", item["voice"], "-s", str(item["speed"]), "-p", str(item["pitch"]),
                    "-w", raw, base.WORDS[item["label"]]], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    sox([raw, "-r", str(base.SAMPLE_RATE), "-c", "1", "-b", "16", res])
    word = base.trim(base.read_wav(res))
    if len(word) > base.MAX_WORD:
        factor = len(word) / base.MAX_WORD * 1.02
        fitted = res + ".fit.wav"
        sox([res, fitted, "tempo", "-s", f"{factor:.4f}"])
        word = base.trim(base.read_wav(fitted))[:base.MAX_WORD]
        os.remove(fitted)
    os.remove(raw)
    os.remove(res)
    word = word / float(np.abs(word).max())
    offset = rng.randint(0, base.LENGTH - len(word))
    pcm = np.zeros(base.LENGTH, dtype=np.float32)
    pcm[offset:offset + len(word)] = word
    pcm = apply_channel(pcm, item["channel"], item["channelParams"], tmpdir, item["id"])
    peak = float(np.abs(pcm).max())
    pcm = pcm * (item["level"] / peak)
    base.write_wav(os.path.join(item["outdir"], item["audio"]), pcm)
    return item["id"], len(word) / base.SAMPLE_RATE


# ---------------------------------------------------------------------------------------------- images

def to_bitmap(pixels16):
    """An 8x8 image (0..16) as an approximate 32x32 bitmap: bilinear upsampling, threshold at half."""
    img = np.asarray(pixels16, dtype=np.float64).reshape(8, 8) / 16.0
    up = ndimage.zoom(img, BITMAP // 8, order=1, mode="nearest", grid_mode=True)
    return up >= 0.5


def to_counts(bitmap):
    """A 32x32 bitmap reduced to 8x8 by counting set pixels per 4x4 block (0..16), like scikit-learn's digits."""
    b = np.asarray(bitmap, dtype=np.float64).reshape(8, 4, 8, 4)
    return b.sum(axis=(1, 3)).reshape(64)


def affine_about_centre(bitmap, matrix):
    c = (np.array(bitmap.shape) - 1) / 2.0
    inv = np.linalg.inv(matrix)
    offset = c - inv @ c
    out = ndimage.affine_transform(bitmap.astype(np.float64), inv, offset=offset, order=1, mode="constant")
    return out >= 0.5


def transform_image(pixels16, name, rng):
    """One image transform; returns (64 values 0..16, parameters)."""
    x = np.asarray(pixels16, dtype=np.float64)
    if name == "thick":
        r = rng.choice([2, 3])
        return to_counts(ndimage.binary_dilation(to_bitmap(x), iterations=r)), {"pixels32": r}
    if name == "thin":
        r = rng.choice([1, 2])
        bm = to_bitmap(x)
        thin = ndimage.binary_erosion(bm, iterations=r)
        if thin.sum() < 0.25 * bm.sum():  # keep a visible digit
            r, thin = 1, ndimage.binary_erosion(bm, iterations=1)
        return to_counts(thin), {"pixels32": r}
    if name == "rotate":
        deg = rng.choice([-1, 1]) * rng.uniform(15.0, 35.0)
        a = np.deg2rad(deg)
        m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        return to_counts(affine_about_centre(to_bitmap(x), m)), {"degrees": round(deg, 2)}
    if name == "shear":
        s = rng.choice([-1, 1]) * rng.uniform(0.3, 0.6)
        m = np.array([[1.0, 0.0], [s, 1.0]])  # rows stay, columns shift with the row: slanted strokes
        return to_counts(affine_about_centre(to_bitmap(x), m)), {"shear": round(s, 3)}
    if name == "blur":
        sigma = rng.uniform(0.8, 1.2)
        y = ndimage.gaussian_filter(x.reshape(8, 8), sigma=sigma, mode="constant")
        y = y * (x.max() / max(y.max(), 1e-9))  # same peak: the blur spreads ink, it does not fade it
        return np.clip(y.reshape(64), 0, 16), {"sigma": round(sigma, 3)}
    if name == "invert":
        return 16.0 - x, {}
    if name == "lowres":
        # A camera of half the resolution: 2x2 block means (4x4), shown back at 8x8 by bilinear resampling.
        small = x.reshape(4, 2, 4, 2).mean(axis=(1, 3))
        y = ndimage.zoom(small, 2, order=1, mode="nearest", grid_mode=True)
        return np.clip(y.reshape(64), 0, 16), {"from": "4x4"}
    raise ValueError(name)


def font_files():
    """The .ttf/.otf files of the packages in font-packages.txt (from dpkg's file lists, so other installed fonts do not count)."""
    files = []
    with open(FONT_PACKAGES_FILE) as f:
        packages = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    for pkg in packages:
        out = subprocess.run(["dpkg", "-L", pkg], check=True, capture_output=True, text=True).stdout.split()
        files.extend(f for f in out if f.endswith((".ttf", ".otf")) and os.path.isfile(f))
    # One file per face: a package may ship the same face as .ttf and .otf.
    by_stem = {}
    for f in sorted(set(files)):
        by_stem.setdefault(os.path.splitext(os.path.basename(f))[0], f)
    return [by_stem[k] for k in sorted(by_stem)]


def glyph(font, ch):
    from PIL import Image, ImageDraw
    canvas = Image.new("L", (256, 256), 0)
    ImageDraw.Draw(canvas).text((64, 32), ch, fill=255, font=font)
    a = np.asarray(canvas) >= 128
    return a


def usable_fonts():
    """Fonts that draw ten distinct, non-empty digit glyphs that are not the missing-glyph box."""
    from PIL import ImageFont
    fonts = []
    for path in font_files():
        if os.path.splitext(os.path.basename(path))[0] in EXCLUDED_FONTS:
            continue
        try:
            font = ImageFont.truetype(path, 120)
        except OSError:
            continue
        glyphs = [glyph(font, str(d)) for d in range(10)]
        missing = glyph(font, "\ue000")
        crops = []
        ok = True
        for g in glyphs:
            if g.sum() < 50 or (missing.sum() > 0 and np.array_equal(g, missing)):
                ok = False
                break
            rows, cols = np.flatnonzero(g.any(1)), np.flatnonzero(g.any(0))
            crops.append(g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].tobytes())
        if ok and len(set(crops)) == 10:
            fonts.append(path)
    return fonts


def render_font_digit(path, digit, rng):
    """A typeset digit as scikit-learn's digits: ink box scaled into the 32x32 frame, binarised, 4x4 counts."""
    from PIL import Image, ImageFont
    font = ImageFont.truetype(path, 120)
    g = glyph(font, str(digit))
    rows, cols = np.flatnonzero(g.any(1)), np.flatnonzero(g.any(0))
    crop = g[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    target_h = rng.uniform(26.0, 32.0)  # scikit-learn's digits fill most of the frame's height
    scale = target_h / h
    aspect = rng.uniform(0.85, 1.15)
    new_h = max(1, min(BITMAP, int(round(h * scale))))
    new_w = max(1, min(BITMAP, int(round(w * scale * aspect))))
    img = Image.fromarray((crop * 255).astype(np.uint8)).resize((new_w, new_h), Image.BILINEAR)
    small = np.asarray(img) >= 128
    frame = np.zeros((BITMAP, BITMAP), dtype=bool)
    top = int(round((BITMAP - new_h) / 2 + rng.uniform(-1.5, 1.5)))
    left = int(round((BITMAP - new_w) / 2 + rng.uniform(-1.5, 1.5)))
    top = min(max(top, 0), BITMAP - new_h)
    left = min(max(left, 0), BITMAP - new_w)
    frame[top:top + new_h, left:left + new_w] = small
    return to_counts(frame), {"heightPixels32": round(target_h, 2), "aspect": round(aspect, 3)}


# ---------------------------------------------------------------------------------------------- plan

def plan(args, held, image_split):
    rng = random.Random(args.seed)
    train_variants = set(held["train"])
    variants = sorted(held["test"])
    pairs = [f"{lang}+{var}" for lang in OOD_LANGUAGES for var in variants]
    rng.shuffle(pairs)
    names = [s for s in args.splits.split(",") if s]
    for name in names:
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split '{name}'; expected {', '.join(SPLIT_NAMES)}")
    if len(pairs) < args.voices * len(SPLIT_NAMES):
        raise ValueError(f"{args.voices} voices x {len(SPLIT_NAMES)} splits > {len(pairs)} language/variant pairs")
    test_images = {d: sorted(image_split["test"][d]) for d in range(10)}
    fonts = usable_fonts()
    if len(fonts) < 20:
        raise RuntimeError(f"only {len(fonts)} usable fonts; run tools/avdigits/build-ood.sh, which installs them")
    # Both splits are always planned, in this order, so that building one of them alone gives the same bytes.
    plans = {}
    for k, name in enumerate(SPLIT_NAMES):
        voices = pairs[k * args.voices:(k + 1) * args.voices]
        prefix = {"accent-strokes": "oa", "channel-fonts": "ob"}[name]
        pool = {d: list(test_images[d]) for d in range(10)}
        for d in range(10):
            rng.shuffle(pool[d])
        cursor = collections.Counter()
        items = []
        n = 0
        for voice in voices:
            lang, var = voice.split("+", 1)
            assert lang not in base.LANGUAGES and var not in train_variants, voice
            for d in range(10):
                item_id = f"{prefix}-{n:05d}"
                n += 1
                it = {"id": item_id, "label": d, "split": "test", "audio": f"audio/{item_id}.wav",
                      "image": f"images/{item_id}.pgm", "voice": voice,
                      "speed": draw_range(rng, SPEED_RANGES), "pitch": draw_range(rng, PITCH_RANGES),
                      "condition": name, "language": lang, "variant": var,
                      "level": rng.uniform(0.3, 0.9), "seedBits": rng.getrandbits(63), "imageSeed": rng.getrandbits(63)}
                if name == "accent-strokes":
                    it["channel"], it["channelParams"] = "clean", {}
                    it["imageIndex"] = pool[d][cursor[d] % len(pool[d])]
                    cursor[d] += 1
                    it["imageSource"] = "sklearn"
                    it["imageTransform"] = IMAGE_TRANSFORMS[rng.randrange(len(IMAGE_TRANSFORMS))]
                else:
                    it["channel"] = CHANNELS[rng.randrange(len(CHANNELS))]
                    it["channelParams"] = {}
                    if "reverb" in it["channel"]:
                        it["channelParams"] = {"reverberance": rng.randint(40, 90), "hfDamping": rng.randint(20, 70),
                                               "roomScale": rng.randint(50, 100), "preDelayMs": rng.randint(0, 30)}
                    it["imageSource"] = "font"
                    it["font"] = fonts[rng.randrange(len(fonts))]
                    it["imageTransform"] = "none"
                items.append(it)
        plans[name] = items
    return {name: plans[name] for name in names}, fonts


def make_image(it, images):
    rng = random.Random(it["imageSeed"])
    if it["imageSource"] == "sklearn":
        return transform_image(images[it["imageIndex"]], it["imageTransform"], rng)
    return render_font_digit(it["font"], it["label"], rng)


FIELDS = ("id", "label", "split", "audio", "image", "voice", "speed", "pitch", "imageIndex", "condition",
          "language", "variant", "channel", "channelParams", "imageSource", "imageTransform", "imageParams", "font")


def manifest_line(it):
    o = {}
    for k in FIELDS:
        if k not in it:
            continue
        v = it[k]
        if k == "font":
            v = os.path.basename(v)
        o[k] = v
    return json.dumps(o) + "\n"


def build_split(name, items, images, held, image_split, out, jobs):
    started = time.time()
    os.makedirs(os.path.join(out, "audio"), exist_ok=True)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    for it in items:
        it["outdir"] = out
    with tempfile.TemporaryDirectory() as tmp:
        with multiprocessing.Pool(jobs) as pool:
            durations = dict(pool.imap_unordered(synthesise, [(it, tmp) for it in items], chunksize=16))
    for it in items:
        pixels, params = make_image(it, images)
        it["imageParams"] = params
        base.write_pgm(os.path.join(out, it["image"]), pixels)
    with open(os.path.join(out, "manifest.jsonl"), "w") as f:
        for it in items:
            f.write(manifest_line(it))

    # Shift checks: fail loudly rather than ship a split that overlaps training.
    train_images = {i for d in range(10) for i in image_split["train"][d]}
    val_images = {i for d in range(10) for i in image_split["val"][d]}
    for it in items:
        assert it["language"] not in base.LANGUAGES, it["id"]
        assert it["variant"] not in held["train"] and it["variant"] not in held["val"], it["id"]
        assert not TRAIN_SPEED[0] <= it["speed"] <= TRAIN_SPEED[1], it["id"]
        assert not TRAIN_PITCH[0] <= it["pitch"] <= TRAIN_PITCH[1], it["id"]
        if "imageIndex" in it:
            assert it["imageIndex"] not in train_images and it["imageIndex"] not in val_images, it["id"]

    stats = {
        "condition": name, "items": len(items),
        "perLabel": [sum(1 for it in items if it["label"] == d) for d in range(10)],
        "voices": len({it["voice"] for it in items}),
        "languages": sorted({it["language"] for it in items}),
        "variants": sorted({it["variant"] for it in items}),
        "speedRanges": SPEED_RANGES, "pitchRanges": PITCH_RANGES,
        "speedSeen": [min(it["speed"] for it in items), max(it["speed"] for it in items)],
        "pitchSeen": [min(it["pitch"] for it in items), max(it["pitch"] for it in items)],
        "channels": dict(sorted(collections.Counter(it["channel"] for it in items).items())),
        "imageSources": dict(sorted(collections.Counter(it["imageSource"] for it in items).items())),
        "imageTransforms": dict(sorted(collections.Counter(it["imageTransform"] for it in items).items())),
        "distinctImages": len({it["imageIndex"] for it in items if "imageIndex" in it}),
        "fonts": sorted({os.path.basename(it["font"]) for it in items if "font" in it}),
        "meanWordSeconds": round(float(np.mean([durations[it["id"]] for it in items])), 3),
        "seconds": round(time.time() - started, 1),
    }
    with open(os.path.join(out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
    print(f"{name}: {len(items)} items, {stats['voices']} voices ({len(stats['languages'])} languages x "
          f"{len(stats['variants'])} variants), channels {stats['channels']}, images {stats['imageTransforms']}"
          f"{', %d fonts' % len(stats['fonts']) if stats['fonts'] else ''}, mean word {stats['meanWordSeconds']} s, "
          f"{stats['seconds']} s")


def write_sample(items, src, dst, per_label, seed):
    """Balanced subset (per_label items per digit), written like the split itself."""
    rng = random.Random(seed + 1)
    chosen = []
    for d in range(10):
        of_d = [it for it in items if it["label"] == d]
        rng.shuffle(of_d)
        chosen.extend(of_d[:per_label])
    chosen.sort(key=lambda it: it["id"])
    for sub in ("audio", "images"):
        shutil.rmtree(os.path.join(dst, sub), ignore_errors=True)
        os.makedirs(os.path.join(dst, sub), exist_ok=True)
    with open(os.path.join(dst, "manifest.jsonl"), "w") as f:
        for it in chosen:
            shutil.copyfile(os.path.join(src, it["audio"]), os.path.join(dst, it["audio"]))
            shutil.copyfile(os.path.join(src, it["image"]), os.path.join(dst, it["image"]))
            f.write(manifest_line(it))
    print(f"sample: {len(chosen)} items of {os.path.basename(src)} ({per_label} per label) in {dst}")


def tree_hash(directory):
    """SHA-256 over every file's relative path and bytes, in sorted order (stats.json left out: it has timings)."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            rel = os.path.relpath(p, directory)
            if rel == "stats.json":
                continue
            h.update(rel.encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def main():
    args = parse_args()
    for tool in ("espeak-ng", "sox", "dpkg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found; run tools/avdigits/build-ood.sh, which installs it")
    images, _, image_split, held = base_plan(args.base_seed)
    plans, fonts = plan(args, held, image_split)
    for name, items in plans.items():
        out = os.path.join(args.out, name)
        if os.path.isdir(out):
            shutil.rmtree(out)
        build_split(name, items, images, held, image_split, out, args.jobs)
        print(f"{name}: sha256 {tree_hash(out)}")
    if args.sample and "channel-fonts" in plans:
        write_sample(plans["channel-fonts"], os.path.join(args.out, "channel-fonts"), args.sample,
                     args.sample_per_label, args.seed)
        print(f"sample: sha256 {tree_hash(args.sample)}")


if __name__ == "__main__":
    main()
