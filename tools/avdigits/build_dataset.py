#!/usr/bin/env python3
"""Builds the AV-Digits data set: espeak-ng spoken digits paired with scikit-learn's 8x8 handwritten digits.

Output (default data/avdigits):
  manifest.jsonl   one JSON object per item: id, label, split, audio, image, voice, speed, pitch, imageIndex
  audio/ID.wav     16 kHz mono 16-bit PCM, exactly 16000 samples, the word at a random offset
  images/ID.pgm    binary PGM (P5), 8x8, sklearn's 0..16 scaled to 0..255

Splits are disjoint by voice for audio (an espeak variant used in val/test never occurs in train,
so no val/test voice does either) and by sklearn image index for images.
Deterministic for a given --seed and espeak-ng/sox version.
"""
import argparse
import collections
import csv
import gzip
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np

SAMPLE_RATE = 16000
LENGTH = 16000
MAX_WORD = 15200  # leave room for a random offset inside the second
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGITS_CSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

# espeak-ng languages that read the English digit words as words (not letter by letter); each gives its accent.
LANGUAGES = [
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-029", "en-us-nyc",
    "af", "an", "ar", "as", "az", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "eo", "es", "es-419",
    "et", "eu", "fa", "fi", "fr-be", "fr-fr", "ga", "gd", "gu", "hi", "hr", "ht", "hu", "hy", "ia", "id", "io",
    "is", "it", "ka", "kk", "kl", "kn", "ko", "ku", "la", "lb", "lt", "lv", "mk", "ml", "mr", "ms", "mt", "nb",
    "ne", "nl", "om", "or", "pa", "pap", "pl", "pt", "pt-br", "py", "qu", "ro", "ru", "sd", "si", "sk", "sl",
    "sq", "sr", "sv", "sw", "ta", "te", "th", "tn", "tr", "tt", "uk", "ur", "uz",
]
# espeak-ng voice variants (espeak-ng-data/voices/!v); whisper/whisperf left out: unvoiced speech is another task.
VARIANTS = [
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5",
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Demonic", "Denis", "Diogo", "Gene", "Gene2",
    "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Mr serious", "Nguyen",
    "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm", "Tweaky", "UniRobot", "adam", "anika", "anikaRobot",
    "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "caleb", "croak", "david", "ed", "edward",
    "edward2", "fast", "grandma", "grandpa", "gustave", "iven", "iven2", "iven3", "iven4", "john", "kaukovalta",
    "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6", "linda", "marcelo", "max", "michel", "miguel",
    "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert", "robosoft", "robosoft2", "robosoft3",
    "robosoft4", "robosoft5", "robosoft6", "robosoft7", "robosoft8", "sandro", "shelby", "steph", "steph2",
    "steph3", "travis", "victor", "zac",
]
SPLITS = ("train", "val", "test")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="data/avdigits", help="output directory (default data/avdigits)")
    p.add_argument("--seed", type=int, default=20261124)
    p.add_argument("--voices", type=int, nargs=3, default=[400, 60, 60], metavar=("TRAIN", "VAL", "TEST"),
                   help="number of distinct voices per split; each voice speaks every digit once")
    p.add_argument("--val-variants", type=int, default=16, help="espeak variants held out for val")
    p.add_argument("--test-variants", type=int, default=16, help="espeak variants held out for test")
    p.add_argument("--sample", default=None, help="also write a balanced sample of the test split here")
    p.add_argument("--sample-per-label", type=int, default=22)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    return p.parse_args()


def load_digits(path=DIGITS_CSV):
    """Reads sklearn's digits.csv.gz directly: 64 pixel columns (0..16) then the label."""
    images, labels = [], []
    with gzip.open(path, "rt") as f:
        for row in csv.reader(f):
            if not row:
                continue
            values = [float(v) for v in row]
            if len(values) != 65:
                raise ValueError(f"{path}: expected 65 columns, got {len(values)}")
            images.append(values[:64])
            labels.append(int(values[64]))
    return np.array(images, dtype=np.float64), np.array(labels, dtype=np.int64)


def split_images(labels, rng):
    """Stratified 70/15/15 split of image indices by label."""
    out = {s: collections.defaultdict(list) for s in SPLITS}
    for d in range(10):
        idx = [int(i) for i in np.flatnonzero(labels == d)]
        rng.shuffle(idx)
        n_val = round(len(idx) * 0.15)
        n_test = round(len(idx) * 0.15)
        out["test"][d] = idx[:n_test]
        out["val"][d] = idx[n_test:n_test + n_val]
        out["train"][d] = idx[n_test + n_val:]
    return out


def plan_voices(args, rng):
    variants = sorted(VARIANTS)
    rng.shuffle(variants)
    held = {"test": variants[:args.test_variants],
            "val": variants[args.test_variants:args.test_variants + args.val_variants],
            "train": variants[args.test_variants + args.val_variants:]}
    voices = {}
    for split, n in zip(SPLITS, args.voices):
        pairs = [(lang, var) for lang in LANGUAGES for var in held[split]]
        if n > len(pairs):
            raise ValueError(f"{split}: asked for {n} voices, only {len(pairs)} language/variant pairs")
        rng.shuffle(pairs)
        # Round-robin over variants so every held-out variant gets used, then over languages.
        by_var = collections.defaultdict(list)
        for lang, var in pairs:
            by_var[var].append(lang)
        chosen = []
        while len(chosen) < n:
            for var in held[split]:
                if by_var[var] and len(chosen) < n:
                    chosen.append(f"{by_var[var].pop()}+{var}")
        voices[split] = chosen
    return voices, held


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != SAMPLE_RATE:
            raise ValueError(f"{path}: expected 16 kHz mono 16-bit, got {w.getparams()}")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0


def write_wav(path, pcm):
    data = np.clip(np.round(pcm * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(data.tobytes())


def write_pgm(path, pixels16):
    data = np.clip(np.round(np.asarray(pixels16) * 255.0 / 16.0), 0, 255).astype(np.uint8)
    with open(path, "wb") as f:
        f.write(b"P5\n8 8\n255\n")
        f.write(data.tobytes())


def trim(pcm):
    """Cuts leading/trailing silence (below 2 % of the peak, with 10 ms margin)."""
    env = np.abs(pcm)
    loud = np.flatnonzero(env > 0.02 * max(env.max(), 1e-6))
    if loud.size == 0:
        raise ValueError("synthesised audio is silent")
    a = max(0, loud[0] - 160)
    b = min(len(pcm), loud[-1] + 160)
    return pcm[a:b]


def synthesise(job):
    """Speaks one word, resamples to 16 kHz, places it at a random offset inside one second."""
    item, tmpdir = job
    rng = random.Random(item["seedBits"])
    lang, variant = item["voice"].split("+", 1)
    raw = os.path.join(tmpdir, item["id"] + ".22k.wav")
    res = os.path.join(tmpdir, item["id"] + ".16k.wav")
    subprocess.run(["espeak-ng", "-v", f"{lang}+{variant}", "-s", str(item["speed"]), "-p", str(item["pitch"]),
                    "-w", raw, WORDS[item["label"]]], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # -D: no dither, which sox otherwise adds with a random seed (the data set must be reproducible).
    subprocess.run(["sox", "-D", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", res], check=True,
                   stderr=subprocess.PIPE)
    word = trim(read_wav(res))
    if len(word) > MAX_WORD:
        # Too long for one second at this speed: time-compress with sox (keeps pitch).
        factor = len(word) / MAX_WORD * 1.02
        fitted = res + ".fit.wav"
        subprocess.run(["sox", "-D", res, fitted, "tempo", "-s", f"{factor:.4f}"], check=True, stderr=subprocess.PIPE)
        word = trim(read_wav(fitted))[:MAX_WORD]
        os.remove(fitted)
    os.remove(raw)
    os.remove(res)
    peak = float(np.abs(word).max())
    word = word * (rng.uniform(0.3, 0.9) / peak)
    offset = rng.randint(0, LENGTH - len(word))
    pcm = np.zeros(LENGTH, dtype=np.float32)
    pcm[offset:offset + len(word)] = word
    write_wav(os.path.join(item["outdir"], item["audio"]), pcm)
    return item["id"], len(word) / SAMPLE_RATE


def main():
    args = parse_args()
    started = time.time()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found; run tools/avdigits/build.sh, which installs it")
    rng = random.Random(args.seed)
    images, labels = load_digits()
    image_split = split_images(labels, rng)
    voices, held = plan_voices(args, rng)

    out = args.out
    os.makedirs(os.path.join(out, "audio"), exist_ok=True)
    os.makedirs(os.path.join(out, "images"), exist_ok=True)

    items = []
    for split in SPLITS:
        prefix = {"train": "tr", "val": "va", "test": "te"}[split]
        cursor = {d: 0 for d in range(10)}
        pool = {d: list(image_split[split][d]) for d in range(10)}
        for d in range(10):
            rng.shuffle(pool[d])
        n = 0
        for voice in voices[split]:
            for d in range(10):
                # Cycle through the split's images of this digit so each is used about equally often.
                image_index = pool[d][cursor[d] % len(pool[d])]
                cursor[d] += 1
                item_id = f"{prefix}-{n:05d}"
                n += 1
                items.append({
                    "id": item_id, "label": d, "split": split,
                    "audio": f"audio/{item_id}.wav", "image": f"images/{item_id}.pgm",
                    "voice": voice, "speed": rng.randint(120, 200), "pitch": rng.randint(30, 70),
                    "imageIndex": image_index,
                    "seedBits": rng.getrandbits(63), "outdir": out,
                })

    with tempfile.TemporaryDirectory() as tmp:
        with multiprocessing.Pool(args.jobs) as pool:
            durations = dict(pool.imap_unordered(synthesise, [(it, tmp) for it in items], chunksize=16))
    for it in items:
        write_pgm(os.path.join(out, it["image"]), images[it["imageIndex"]])

    fields = ("id", "label", "split", "audio", "image", "voice", "speed", "pitch", "imageIndex")
    with open(os.path.join(out, "manifest.jsonl"), "w") as f:
        for it in items:
            f.write(json.dumps({k: it[k] for k in fields}) + "\n")

    stats = {}
    for split in SPLITS:
        its = [it for it in items if it["split"] == split]
        stats[split] = {
            "items": len(its),
            "voices": len({it["voice"] for it in its}),
            "variants": len(held[split]),
            "languages": len({it["voice"].split("+")[0] for it in its}),
            "images": len({it["imageIndex"] for it in its}),
            "imagesAvailable": sum(len(v) for v in image_split[split].values()),
            "perLabel": [sum(1 for it in its if it["label"] == d) for d in range(10)],
            "meanWordSeconds": round(float(np.mean([durations[it["id"]] for it in its])), 3),
        }
    # Disjointness checks: fail loudly rather than ship a leaky split.
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                va = {it["voice"] for it in items if it["split"] == a}
                vb = {it["voice"] for it in items if it["split"] == b}
                ia = {it["imageIndex"] for it in items if it["split"] == a}
                ib = {it["imageIndex"] for it in items if it["split"] == b}
                assert not (va & vb) and not (ia & ib), f"{a}/{b} overlap"
                assert not (set(held[a]) & set(held[b])), f"{a}/{b} variants overlap"
    summary = {"seed": args.seed, "splits": stats, "heldOutVariants": {s: sorted(held[s]) for s in SPLITS},
               "seconds": round(time.time() - started, 1)}
    with open(os.path.join(out, "stats.json"), "w") as f:
        json.dump(summary, f, indent=2)
    for split in SPLITS:
        s = stats[split]
        print(f"{split:5s}: {s['items']} items, {s['voices']} voices ({s['variants']} variants x "
              f"{s['languages']} languages), {s['images']} distinct images of {s['imagesAvailable']}, "
              f"mean word {s['meanWordSeconds']} s")
    print(f"wrote {len(items)} items to {out} in {summary['seconds']} s")

    if args.sample:
        write_sample(items, out, args.sample, args.sample_per_label, args.seed)


def write_sample(items, src, dst, per_label, seed):
    """Balanced subset of the test split (per_label items per digit, spread over voices)."""
    rng = random.Random(seed + 1)
    test = [it for it in items if it["split"] == "test"]
    chosen = []
    for d in range(10):
        of_d = [it for it in test if it["label"] == d]
        rng.shuffle(of_d)
        chosen.extend(sorted(of_d[:per_label], key=lambda it: it["id"]))
    chosen.sort(key=lambda it: it["id"])
    if os.path.isdir(dst):
        for sub in ("audio", "images"):
            shutil.rmtree(os.path.join(dst, sub), ignore_errors=True)
    os.makedirs(os.path.join(dst, "audio"), exist_ok=True)
    os.makedirs(os.path.join(dst, "images"), exist_ok=True)
    fields = ("id", "label", "split", "audio", "image", "voice", "speed", "pitch", "imageIndex")
    with open(os.path.join(dst, "manifest.jsonl"), "w") as f:
        for it in chosen:
            shutil.copyfile(os.path.join(src, it["audio"]), os.path.join(dst, it["audio"]))
            shutil.copyfile(os.path.join(src, it["image"]), os.path.join(dst, it["image"]))
            f.write(json.dumps({k: it[k] for k in fields}) + "\n")
    print(f"sample: {len(chosen)} test items ({per_label} per label, {len({it['voice'] for it in chosen})} voices, "
          f"{len({it['imageIndex'] for it in chosen})} images) in {dst}")


if __name__ == "__main__":
    main()
