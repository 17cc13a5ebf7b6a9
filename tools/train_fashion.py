#!/usr/bin/python3
"""Train the small CNN zoo of tools/ffp8_models.py on Fashion-MNIST (run once, not a test).

  /usr/bin/python3 tools/train_fashion.py [--models a,b] [--epochs N] [--workdir DIR] [--export]

Deterministic: fixed seeds, deterministic algorithms, 2 threads. For each model it writes
DIR/<name>.pth (state dict) and DIR/<name>.json (test top-1, epochs, seconds). With --export it
then runs tools/export.py on each trained model into experiments/models/<name>.h5.
"""
import argparse
import json
import os
import subprocess
import sys
import time

# The machine is shared: idle OpenMP threads must sleep, not spin (spinning made training 5x slower
# under load). Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import convert_data  # noqa: E402
import ffp8_models  # noqa: E402

EPOCHS = {"vgg_small": 4, "resnet_small": 4, "mobilenet_small": 4, "densenet_small": 4, "inception_small": 4,
          "convnext_mini": 8, "vit_mini": 10}
# Peak learning rate of the one-cycle schedule where it differs from --lr's default (small ViTs
# diverge at 3e-3).
LR = {"vit_mini": 1e-3}


def load_split(split):
    imgs, labs = convert_data.fashion_paths(split)
    x = torch.from_numpy(convert_data.read_idx(imgs).astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - convert_data.FASHION_MEAN[0]) / convert_data.FASHION_STD[0]
    y = torch.from_numpy(convert_data.read_idx(labs).astype(np.int64))
    return x, y


def augment(x, g, shift=False):
    """Random horizontal flip per image; with `shift` also a random shift of up to 2 pixels (one
    per quarter batch). Short schedules converge faster without shifts (the default)."""
    flip = torch.rand(x.shape[0], generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if not shift:
        return x
    pad = nn.functional.pad(x, (2, 2, 2, 2), value=float(-convert_data.FASHION_MEAN[0] / convert_data.FASHION_STD[0]))
    out = torch.empty_like(x)
    for part in torch.arange(x.shape[0]).chunk(4):
        dy, dx = torch.randint(0, 5, (2,), generator=g).tolist()
        out[part] = pad[part, :, dy:dy + 28, dx:dx + 28]
    return out


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def train(name, epochs, seed, data, log, init=None, lr=3e-3, shift=False):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    xtr, ytr, xte, yte = data
    model = ffp8_models.ZOO[name]()
    if init:   # continue training (fine-tuning) from a saved state dict
        model.load_state_dict(torch.load(init, map_location="cpu"))
    batch = 128
    steps = epochs * ((len(xtr) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        total = 0.0
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            xb, yb = augment(xtr[idx], g, shift), ytr[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        acc = evaluate(model, xte, yte)
        log(f"{name} epoch {ep + 1}/{epochs} loss {total / len(xtr):.4f} test top1 {acc:.4f} "
            f"({time.time() - t0:.0f} s)")
    return model, acc, time.time() - t0


def export(name, workdir, data_file):
    out = os.path.join(REPO, "experiments", "models", f"{name}.h5")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = ["/usr/bin/python3", os.path.join(HERE, "export.py"), f"tools/ffp8_models.py:{name}",
           "--out", out, "--input-shape", "1,28,28", "--state-dict", os.path.join(workdir, f"{name}.pth"),
           "--calib-data", data_file, "--calib", "0", "--reference", "16"]
    subprocess.run(cmd, check=True, cwd=REPO)
    return out


def data_file(workdir):
    path = os.path.join(workdir, "fashion-test.h5")
    if not os.path.exists(path):
        convert_data.convert_fashion(path, "test")
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description="Train the Fashion-MNIST zoo.")
    p.add_argument("--models", default=",".join(ffp8_models.ZOO))
    p.add_argument("--epochs", type=int, default=None, help="override the per-model epoch count")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default="/tmp/ffp8-fashion")
    p.add_argument("--init", metavar="W.pth", help="start from this state dict (one model only)")
    p.add_argument("--shift", action="store_true", help="also augment with random shifts of up to 2 pixels")
    p.add_argument("--lr", type=float, default=None,
                   help="peak learning rate of the one-cycle schedule (default 3e-3, 1e-3 for vit_mini)")
    p.add_argument("--export", action="store_true", help="export trained models to experiments/models/")
    p.add_argument("--export-only", action="store_true", help="skip training, export existing state dicts")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    os.makedirs(a.workdir, exist_ok=True)
    names = [n for n in a.models.split(",") if n]
    if a.init and len(names) != 1:
        p.error("--init needs exactly one model in --models")
    for n in names:
        if n not in ffp8_models.ZOO:
            p.error(f"unknown model {n!r}; known: {', '.join(ffp8_models.ZOO)}")

    def log(msg):
        print(msg, flush=True)

    if not a.export_only:
        data = (*load_split("train"), *load_split("test"))
        for n in names:
            epochs = a.epochs or EPOCHS[n]
            lr = a.lr or LR.get(n, 3e-3)
            model, acc, secs = train(n, epochs, a.seed, data, log, a.init, lr, a.shift)
            torch.save(model.state_dict(), os.path.join(a.workdir, f"{n}.pth.tmp"))
            os.replace(os.path.join(a.workdir, f"{n}.pth.tmp"), os.path.join(a.workdir, f"{n}.pth"))
            info = {"model": n, "test_top1": acc, "test_count": len(data[3]), "epochs": epochs,
                    "seed": a.seed, "train_seconds": round(secs, 1), "threads": 2, "lr": lr, "init": a.init, "shift": a.shift,
                    "params": sum(p.numel() for p in model.parameters())}
            with open(os.path.join(a.workdir, f"{n}.json"), "w") as f:
                json.dump(info, f, indent=1)
            log(json.dumps(info))
            if a.export:
                log(f"exported {export(n, a.workdir, data_file(a.workdir))}")
    if a.export_only:
        for n in names:
            log(f"exported {export(n, a.workdir, data_file(a.workdir))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
