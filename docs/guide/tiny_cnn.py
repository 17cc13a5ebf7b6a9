#!/usr/bin/python3
"""The model of docs/guide.md: a tiny CNN for Fashion-MNIST, and a short training run.

  /usr/bin/python3 docs/guide/tiny_cnn.py --out tiny.pth [--images 10000] [--epochs 1]

`tiny_cnn` is what tools/export.py imports (`docs/guide/tiny_cnn.py:tiny_cnn`); INPUT_SHAPE tells
it the input shape. Training reads the Debian package dataset-fashion-mnist (the first --images
training images, normalised as tools/convert_data.py writes the test set) and saves a state dict.
"""
import argparse
import os
import sys

import torch
from torch import nn

INPUT_SHAPE = (1, 28, 28)


def tiny_cnn():
    """Two 3x3 convolutions with BatchNorm and ReLU, a pooling, and a linear classifier."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(32, 10))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="state dict to write (torch.save)")
    p.add_argument("--images", type=int, default=10000, help="training images used (default: 10000)")
    p.add_argument("--epochs", type=int, default=1, help="passes over them (default: 1)")
    a = p.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
    import numpy as np
    import convert_data
    torch.manual_seed(0)
    torch.set_num_threads(2)
    imgs, labs = convert_data.fashion_paths("train")
    x = torch.from_numpy(convert_data.read_idx(imgs)[:a.images].astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - convert_data.FASHION_MEAN[0]) / convert_data.FASHION_STD[0]
    y = torch.from_numpy(convert_data.read_idx(labs)[:a.images].astype(np.int64))
    model = tiny_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(a.epochs):
        model.train()
        for i in range(0, len(x), 64):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[i:i + 64]), y[i:i + 64])
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f}")
    torch.save(model.state_dict(), a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
