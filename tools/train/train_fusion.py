#!/usr/bin/env python3
"""Fits the fusion's own parameters: the `learned` policy's head and the per-availability-pattern temperatures.

Input: the feature dump of `eval --dump-features DIR --dataset data/avdigits --split val` (features.csv, fused.csv,
dump.txt): what the real pipeline's fusion saw on val windows under the fault curriculum. Nothing here reads test
or out-of-distribution data.

Output (--out, default models/): fusion-head.onnx (features [N, F] -> weight [N, 1]), fusion.json (the calibration
the node loads, the head's file and feature names, and how everything was fitted) and fusion-training-log.txt.

Every choice is made on val, split by voice: items 0..299 of val (30 voices) fit the head ("val-A"), items
300..599 (30 other voices) select its epoch and fit every temperature ("val-B").

The fused posterior is computed exactly as FusionEngine does: log p = sum_m (w_m / sum w) log p_m, renormalised,
then divided by the temperature of (policy, pattern) and renormalised again.
"""
import argparse
import csv
import json
import math
import os
import random
import sys
import time
from collections import defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The features, their names and their order are the dump's (LearnedFeatures.Names in C# is the one definition): set by
# read_features from the header of features.csv. A feature whose name starts with "peer" describes the other modalities
# and is 0 for a lone modality (modality dropout zeroes it).
FEATURES = []
PEER_FEATURES = []
T_MIN, T_MAX = 0.05, 20.0
ECE_BINS = 15

LOG = []


def log(msg):
    print(msg, flush=True)
    LOG.append(msg)


def ece(conf, correct, bins=ECE_BINS):
    """15 equal-width bins, (lo, hi], the first also takes 0: Calibration.ExpectedCalibrationError in C#."""
    conf = np.asarray(conf, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if conf.size == 0:
        return float("nan")
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for b in range(bins):
        lo, hi = edges[b], edges[b + 1]
        m = (conf > lo) & (conf <= hi) if b > 0 else (conf >= lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(conf[m].mean() - correct[m].mean())
    return float(total)


def log_softmax_np(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def fit_temperature(logp, labels):
    """T minimising the NLL of log_softmax(logp / T): a log-spaced grid, then golden-section refinement."""
    logp = np.asarray(logp, dtype=np.float64)
    labels = np.asarray(labels)

    def nll(t):
        lp = log_softmax_np(logp / t)
        return -lp[np.arange(len(labels)), labels].mean()

    grid = np.exp(np.linspace(math.log(T_MIN), math.log(T_MAX), 121))
    values = [nll(t) for t in grid]
    i = int(np.argmin(values))
    lo, hi = math.log(grid[max(i - 1, 0)]), math.log(grid[min(i + 1, len(grid) - 1)])
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    for _ in range(60):
        c, d = b - g * (b - a), a + g * (b - a)
        if nll(math.exp(c)) < nll(math.exp(d)):
            b = d
        else:
            a = c
    t = math.exp((a + b) / 2)
    return float(min(max(t, T_MIN), T_MAX))


def fit_drift_temperature(logp, labels, d):
    """(T0, beta >= 0) minimising the NLL of log_softmax(logp / (T0 exp(beta d))), d = the window's mean drift feature:
    a grid over log T0 and beta (0..4 by 0.1), the best point kept (T clipped to [T_MIN, T_MAX])."""
    logp = np.asarray(logp, dtype=np.float64)
    labels = np.asarray(labels)
    d = np.asarray(d, dtype=np.float64)
    best = (float("inf"), 1.0, 0.0)
    for beta in np.linspace(0.0, 4.0, 41):  # temperature grows with drift, or not at all
        for lt0 in np.linspace(math.log(0.2), math.log(5.0), 65):
            t = np.clip(np.exp(lt0 + beta * d), T_MIN, T_MAX)[:, None]
            lp = log_softmax_np(logp / t)
            nll = -lp[np.arange(len(labels)), labels].mean()
            if nll < best[0]:
                best = (nll, math.exp(lt0), float(beta))
    return best[1], best[2]


def metrics_t(logp, labels, t):
    """metrics with one temperature per row."""
    lp = log_softmax_np(np.asarray(logp, dtype=np.float64) / np.asarray(t, dtype=np.float64)[:, None])
    p = np.exp(lp)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == np.asarray(labels)
    nll = -lp[np.arange(len(labels)), labels].mean()
    return {"windows": int(len(labels)), "accuracy": round(float(correct.mean()), 4), "ece": round(ece(conf, correct), 4),
            "nll": round(float(nll), 4), "meanConfidence": round(float(conf.mean()), 4)}


def metrics(logp, labels, t=1.0):
    lp = log_softmax_np(np.asarray(logp, dtype=np.float64) / t)
    p = np.exp(lp)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == np.asarray(labels)
    nll = -lp[np.arange(len(labels)), labels].mean()
    return {"windows": int(len(labels)), "accuracy": round(float(correct.mean()), 4), "ece": round(ece(conf, correct), 4),
            "nll": round(float(nll), 4), "meanConfidence": round(float(conf.mean()), 4)}


def read_features(path):
    """Windows: (condition, window) -> label, {modality: (features, logp)}."""
    windows = {}
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        if header[:4] != ["condition", "window", "label", "modality"]:
            sys.exit(f"{path}: unexpected header {header[:4]}")
        names = []
        for h in header[4:]:
            if h.startswith("logp"):
                break
            names.append(h)
        if not names or len(set(names)) != len(names):
            sys.exit(f"{path}: no or repeated feature names {names}")
        FEATURES[:] = names
        PEER_FEATURES[:] = [i for i, n in enumerate(names) if n.startswith("peer")]
        k = len(header) - 4 - len(FEATURES)
        for row in r:
            cond, w, label, modality = row[0], int(row[1]), int(row[2]), row[3]
            feats = np.array([float(x) for x in row[4:4 + len(FEATURES)]], dtype=np.float32)
            logp = np.array([float(x) for x in row[4 + len(FEATURES):]], dtype=np.float64)
            if len(logp) != k or not np.all(np.isfinite(feats)) or not np.all(np.isfinite(logp)):
                sys.exit(f"{path}: malformed row for {cond}/{w}/{modality}")
            entry = windows.setdefault((cond, w), {"label": label, "mods": {}})
            entry["mods"][modality] = (feats, logp)
    return windows


def read_fused(path):
    rows = defaultdict(list)  # (policy, pattern) -> [(condition, window, label, logp)]
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            cond, w, label, policy, pattern = row[0], int(row[1]), int(row[2]), row[3], row[4]
            logp = np.array([float(x) for x in row[5:]], dtype=np.float64)
            rows[(policy, pattern)].append((cond, w, label, logp))
    return rows


def pattern_of(mods):
    return "+".join(sorted(mods))


MAX_ABS_LOG_T = math.log(T_MAX)


class Head(nn.Module):
    """features [N, F] -> (weight [N, 1] = softplus(.) + 1e-4, log_temperature [N, 1] = log(20) * tanh(.)):
    the same small MLP for every modality."""

    def __init__(self, n_features, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 2))

    def forward(self, x):
        out = self.net(x)
        return F.softplus(out[:, 0:1]) + 1e-4, MAX_ABS_LOG_T * torch.tanh(out[:, 1:2])


def batch(windows, keys, m_max, drop_p, rng):
    """Padded tensors of the windows with >= 1 modality: features [B, M, F], logp [B, M, K], mask [B, M], labels [B].
    Modality dropout: a window with several modalities loses one at random with probability drop_p (what is left
    then has no peers, so its peer features are those of a lone modality: 0)."""
    k = len(next(iter(windows[keys[0]]["mods"].values()))[1])
    fx = np.zeros((len(keys), m_max, len(FEATURES)), dtype=np.float32)
    lx = np.zeros((len(keys), m_max, k), dtype=np.float32)
    mask = np.zeros((len(keys), m_max), dtype=np.float32)
    y = np.zeros(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        entry = windows[key]
        mods = sorted(entry["mods"])
        if len(mods) > 1 and drop_p > 0 and rng.random() < drop_p:
            mods.remove(rng.choice(mods))
        for j, m in enumerate(mods):
            feats, logp = entry["mods"][m]
            feats = feats.copy()
            if len(mods) == 1:
                feats[PEER_FEATURES] = 0.0
            fx[i, j] = feats
            lx[i, j] = logp
            mask[i, j] = 1.0
        y[i] = entry["label"]
    return torch.from_numpy(fx), torch.from_numpy(lx), torch.from_numpy(mask), torch.from_numpy(y)


def fuse(head, fx, lx, mask):
    """FusionEngine's fused log-posterior with the head's weights and window temperature:
    log_softmax(sum_m w_m lp_m / sum w / exp(sum_m w_m logT_m / sum w))."""
    b, m, f = fx.shape
    w, logt = head(fx.reshape(b * m, f))
    w = w.reshape(b, m) * mask
    w = w / w.sum(dim=1, keepdim=True).clamp_min(1e-12)
    logp = (w.unsqueeze(2) * lx).sum(dim=1)
    window_logt = (w * logt.reshape(b, m)).sum(dim=1, keepdim=True)
    return torch.log_softmax(logp / torch.exp(window_logt), dim=1), w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="folder of eval --dump-features (features.csv, fused.csv, dump.txt)")
    ap.add_argument("--out", default="models")
    ap.add_argument("--epochs", type=int, default=120)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--modality-dropout", type=float, default=0.15)
    ap.add_argument("--split-at", type=int, default=300, help="val windows below fit the head (val-A), the rest select and calibrate (val-B)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--zero-features", default="", help="comma-separated feature names held at 0 (an ablation: the head keeps its inputs, they carry nothing)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()

    dump_info = open(os.path.join(args.dump, "dump.txt")).read()
    if "split val" not in dump_info and "split train" not in dump_info:
        sys.exit("the dump must come from the train or val split (dump.txt names it)")
    log(f"train_fusion.py: dump {args.dump}\n{dump_info.strip()}")
    windows = read_features(os.path.join(args.dump, "features.csv"))
    fused_rows = read_fused(os.path.join(args.dump, "fused.csv"))
    zeroed = [n for n in args.zero_features.split(",") if n]
    for n in zeroed:
        if n not in FEATURES:
            sys.exit(f"--zero-features: no feature '{n}' in the dump ({FEATURES})")
        for entry in windows.values():
            for feats, _ in entry["mods"].values():
                feats[FEATURES.index(n)] = 0.0
    if zeroed:
        log(f"ablation: features held at 0: {', '.join(zeroed)}")
    log(f"features ({len(FEATURES)}, from the dump): {', '.join(FEATURES)}")
    keys = sorted(windows)
    fit_keys = [k for k in keys if k[1] < args.split_at]
    sel_keys = [k for k in keys if k[1] >= args.split_at]
    m_max = max(len(windows[k]["mods"]) for k in keys)
    log(f"windows: {len(keys)} ({len(fit_keys)} val-A fit, {len(sel_keys)} val-B select/calibrate), up to {m_max} modalities")

    head = Head(len(FEATURES), args.hidden)
    opt = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    rng = random.Random(args.seed)
    sel = batch(windows, sel_keys, m_max, 0.0, rng)
    best = (float("inf"), None, -1)
    bs = 256
    for epoch in range(args.epochs):
        head.train()
        rng.shuffle(fit_keys)
        total = 0.0
        for i in range(0, len(fit_keys), bs):
            fx, lx, mask, y = batch(windows, fit_keys[i:i + bs], m_max, args.modality_dropout, rng)
            logp, _ = fuse(head, fx, lx, mask)
            loss = F.nll_loss(logp, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(y)
        head.eval()
        with torch.no_grad():
            logp, _ = fuse(head, *sel[:3])
            nll = float(F.nll_loss(logp, sel[3]))
            acc = float((logp.argmax(1) == sel[3]).float().mean())
        if nll < best[0]:
            best = (nll, {k: v.clone() for k, v in head.state_dict().items()}, epoch)
        if epoch % 5 == 0 or epoch == args.epochs - 1:
            log(f"epoch {epoch:3d}: val-A nll {total / len(fit_keys):.4f}  val-B nll {nll:.4f} accuracy {acc:.4f}")
    head.load_state_dict(best[1])
    head.eval()
    log(f"kept epoch {best[2]} (lowest val-B NLL {best[0]:.4f})")

    # How the head answers drift: the median features of val-B's lone and paired image and audio rows, their drift moved.
    if "drift" in FEATURES:
        di = FEATURES.index("drift")
        for modality in ("image", "audio"):
            for alone in (True, False):
                rows = [windows[k]["mods"][modality][0] for k in sel_keys if modality in windows[k]["mods"] and (len(windows[k]["mods"]) == 1) == alone]
                if not rows:
                    continue
                med = np.median(np.stack(rows), axis=0).astype(np.float32)
                grid = np.tile(med, (7, 1))
                grid[:, di] = np.linspace(0.2, 0.8, 7)
                with torch.no_grad():
                    gw, gt = head(torch.from_numpy(grid))
                log(f"head on the median val-B {modality} row ({'alone' if alone else 'with a peer'}), drift feature 0.2..0.8: weight "
                    + " ".join(f"{float(x):.3f}" for x in gw.reshape(-1)) + "; T " + " ".join(f"{math.exp(float(x)):.3f}" for x in gt.reshape(-1)))

    # The learned policy's fused posteriors on val-B, by pattern.
    learned = defaultdict(list)
    with torch.no_grad():
        logp, w = fuse(head, *sel[:3])
    for i, key in enumerate(sel_keys):
        learned[pattern_of(windows[key]["mods"])].append((key[0], key[1], windows[key]["label"], logp[i].numpy().astype(np.float64)))

    by_policy = {"learned": learned}
    for (policy, pattern), rows in fused_rows.items():
        by_policy.setdefault(policy, defaultdict(list))[pattern].extend(r for r in rows if r[1] >= args.split_at)

    calibration, fit_report = {}, {}
    for policy in sorted(by_policy):
        calibration[policy], fit_report[policy] = {}, {}
        pooled_lp, pooled_y = [], []
        for pattern in sorted(by_policy[policy]):
            rows = by_policy[policy][pattern]
            lp = np.stack([r[3] for r in rows])
            y = np.array([r[2] for r in rows])
            t_fit = fit_temperature(lp, y)
            before, fitted = metrics(lp, y), metrics(lp, y, t_fit)
            # Kept only when it lowers both the NLL and the ECE on val-B: a single temperature cannot fix a pattern whose
            # windows mix confidently right and confidently wrong ones, and there the NLL-optimal T raises the ECE.
            t = t_fit if fitted["nll"] < before["nll"] and fitted["ece"] < before["ece"] else 1.0
            calibration[policy][pattern] = round(t, 4)
            fit_report[policy][pattern] = {"temperature": round(t, 4), "nllOptimal": round(t_fit, 4), "kept": t != 1.0,
                                           "before": before, "atNllOptimal": fitted, "after": metrics(lp, y, t)}
            # A drift-conditioned temperature, T = T0 exp(beta d) with d the mean "drift" feature of the window's modalities:
            # fitted and reported, so that its gain over the constant T on val-B is on record.
            if "drift" in FEATURES:
                di = FEATURES.index("drift")
                d = np.array([np.mean([windows[(r[0], r[1])]["mods"][m][0][di] for m in pattern.split("+") if m in windows.get((r[0], r[1]), {"mods": {}})["mods"]] or [0.0])
                              for r in rows])
                t0, beta = fit_drift_temperature(lp, y, d)
                dt = metrics_t(lp, y, np.clip(t0 * np.exp(beta * d), T_MIN, T_MAX))
                fit_report[policy][pattern]["driftTemperature"] = {"t0": round(t0, 4), "beta": round(beta, 3), "meanDrift": round(float(d.mean()), 4), "metrics": dt}
                log(f"{policy:9s} {pattern:12s} drift-conditioned T = {t0:.4f} exp({beta:.3f} d) (mean d {d.mean():.3f}): val-B ECE "
                    f"{dt['ece'] * 100:.2f}% NLL {dt['nll']:.4f} (constant T kept: ECE {fit_report[policy][pattern]['after']['ece'] * 100:.2f}% "
                    f"NLL {fit_report[policy][pattern]['after']['nll']:.4f})")
            pooled_lp.append(lp)
            pooled_y.append(y)
            log(f"{policy:9s} {pattern:12s} T={t:.4f} (NLL-optimal {t_fit:.4f}, {'kept' if t != 1.0 else 'not kept'})  val-B ECE {fit_report[policy][pattern]['before']['ece'] * 100:.2f}% -> "
                f"{fit_report[policy][pattern]['after']['ece'] * 100:.2f}%  NLL {fit_report[policy][pattern]['before']['nll']:.4f} -> "
                f"{fit_report[policy][pattern]['after']['nll']:.4f}  ({len(y)} windows, accuracy {fit_report[policy][pattern]['after']['accuracy'] * 100:.1f}%)")
        all_lp, all_y = np.concatenate(pooled_lp), np.concatenate(pooled_y)
        t_any = fit_temperature(all_lp, all_y)
        b_any, f_any = metrics(all_lp, all_y), metrics(all_lp, all_y, t_any)
        t_keep = t_any if f_any["nll"] < b_any["nll"] and f_any["ece"] < b_any["ece"] else 1.0
        calibration[policy]["*"] = round(t_keep, 4)
        fit_report[policy]["*"] = {"temperature": round(t_keep, 4), "nllOptimal": round(t_any, 4), "kept": t_keep != 1.0,
                                   "before": b_any, "atNllOptimal": f_any, "after": metrics(all_lp, all_y, t_keep)}
        log(f"{policy:9s} {'*':12s} T={t_keep:.4f} (NLL-optimal {t_any:.4f}; every pattern pooled, for patterns val never had)")

    # Per condition on val-B, for the log: learned vs adaptive vs fixed accuracy.
    per_condition = defaultdict(dict)
    for policy, patterns in by_policy.items():
        acc = defaultdict(list)
        for rows in patterns.values():
            for cond, _, label, lp in rows:
                acc[cond].append(int(np.argmax(lp) == label))
        for cond, xs in acc.items():
            per_condition[cond][policy] = round(float(np.mean(xs)), 4)
    log("val-B accuracy per condition (fused windows): " + "; ".join(
        f"{c}: " + " ".join(f"{p} {v * 100:.1f}" for p, v in sorted(per_condition[c].items())) for c in sorted(per_condition)))

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "fusion-head.onnx")
    torch.onnx.export(head, torch.zeros(1, len(FEATURES)), onnx_path, input_names=["features"], output_names=["weight", "log_temperature"],
                      dynamic_axes={"features": {0: "n"}, "weight": {0: "n"}, "log_temperature": {0: "n"}}, opset_version=13)
    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))
    # A probe for the C# side: ONNX Runtime must give these weights for these features (FusionHeadSpec checks it).
    probe_gen = torch.Generator().manual_seed(args.seed)
    probe = torch.tensor([[round(float(x), 6) for x in row] for row in torch.rand(8, len(FEATURES), generator=probe_gen)])
    with torch.no_grad():
        probe_w, probe_t = head(probe)
        probe_w, probe_t = probe_w.reshape(-1), probe_t.reshape(-1)
    log(f"exported {onnx_path} ({os.path.getsize(onnx_path)} bytes), onnx.checker passed")

    doc = {
        "calibration": calibration,
        "learned": {"file": "fusion-head.onnx", "features": FEATURES},
        "fit": {
            "script": "tools/train/train_fusion.py",
            "command": " ".join(["tools/train/train_fusion.py"] + sys.argv[1:]),
            "dump": dump_info.strip().splitlines(),
            "split": f"val items < {args.split_at} (val-A) fit the head; the others (val-B) select its epoch and fit every temperature",
            "head": {"hidden": args.hidden, "epochs": args.epochs, "keptEpoch": best[2], "lr": args.lr, "weightDecay": args.weight_decay,
                     "modalityDropout": args.modality_dropout, "seed": args.seed, "valBNll": round(best[0], 4),
                     "parameters": sum(p.numel() for p in head.parameters())},
            "temperatures": fit_report,
            "valBAccuracyPerCondition": per_condition,
            "probe": {"features": [[round(float(x), 6) for x in row] for row in probe], "weight": [round(float(x), 6) for x in probe_w],
                      "logTemperature": [round(float(x), 6) for x in probe_t]},
            "torch": torch.__version__,
            "seconds": round(time.time() - started, 1),
        },
    }
    with open(os.path.join(args.out, "fusion.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    with open(os.path.join(args.out, "fusion-training-log.txt"), "w") as f:
        f.write("\n".join(LOG) + "\n")
    log(f"wrote {args.out}/fusion.json, fusion-head.onnx, fusion-training-log.txt in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
