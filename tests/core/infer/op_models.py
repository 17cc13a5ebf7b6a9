"""Small models that exercise the layout-2 ops one group at a time, as exporter MODEL specs
(`tests/core/infer/op_models.py:NAME`) for the engine's parity test. Input 3x8x8 (INPUT_SHAPE);
each output is flattened to [N, features] to serve as the logits."""
import torch
from torch import nn
from torch.nn import functional as F

INPUT_SHAPE = (3, 8, 8)


class Fn(nn.Module):
    def __init__(self, fn, **params):
        super().__init__()
        self.fn = fn
        g = torch.Generator().manual_seed(5)
        for k, shape in params.items():
            setattr(self, k, nn.Parameter(torch.randn(shape, generator=g) * 0.5 + 0.5))

    def forward(self, x):
        return torch.flatten(self.fn(self, x), 1)


def activations():
    return Fn(lambda m, x: torch.cat([torch.sigmoid(x), torch.tanh(x), F.silu(x), F.hardsigmoid(x * 3),
                                      F.hardswish(x * 3), F.gelu(x), F.gelu(x, approximate="tanh")], 1))


def softmax():
    return Fn(lambda m, x: torch.cat([x.softmax(1), x.softmax(2), F.softmax(x * 4, dim=-1)], 1))


def layernorm():
    return Fn(lambda m, x: torch.cat([F.layer_norm(x, (8,), m.w, m.b, 1e-5),
                                      F.layer_norm(x * 3 + 1, (8, 8), None, None, 1e-3)], 1), w=(8,), b=(8,))


def reductions():
    return Fn(lambda m, x: torch.cat([x.mean([2, 3]), x.mean(1).flatten(1), x.mean([1, 3]),
                                      x.mean(2, keepdim=True).flatten(1)], 1))


def layout():
    def f(m, x):
        p = x.permute(0, 2, 3, 1)                                   # [N, 8, 8, 3]
        s = x[:, 1:, ::2, 1:7:3]                                    # [N, 2, 4, 2]
        r = x.reshape(x.shape[0], 6, 32)
        t = x.transpose(1, 3).flatten(1)
        pad = F.pad(x, (1, 2, 0, 3), value=0.5)                    # [N, 3, 11, 11]
        roll = torch.roll(x, shifts=(-3, 2), dims=(2, 3))
        a, b = x.chunk(2, dim=2)
        return torch.cat([p.flatten(1), s.flatten(1), r.flatten(1), t, pad.flatten(1), roll.flatten(1),
                          (a - b).flatten(1), x[:, 0].flatten(1)], 1)
    return Fn(f)


def matmul():
    def f(m, x):
        xt = x.transpose(-2, -1)
        bc = x[:, :1] @ xt                                          # leading dim broadcast [1,8,8] @ [3,8,8]
        return torch.cat([(x @ xt).flatten(1), bc.flatten(1), torch.einsum("bchw,bcwk->bchk", x, x).flatten(1)], 1)
    return Fn(f)


def broadcast():
    return Fn(lambda m, x: torch.cat([x * x.mean([2, 3], keepdim=True), x / (x * x + 1), 2 - x,
                                      x + m.bias, m.scale * x, x - x[:, :, :1]], 1), bias=(3, 1, 1), scale=(8,))


def tokens():
    """Linear on [N, T, D], a class token and position embedding as constants, self-attention."""
    class T(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls = nn.Parameter(torch.randn(1, 1, 8))
            self.pos = nn.Parameter(torch.randn(1, 25, 8))
            self.embed = nn.Linear(3, 8)
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.fc = nn.Linear(8, 5)

        def forward(self, x):
            t = self.embed(F.avg_pool2d(x, 2).flatten(2).transpose(1, 2))         # [N, 16, 8]
            t = torch.cat([self.cls.expand(x.shape[0], -1, -1), t], 1) + self.pos[:, :17]
            t = t + self.attn(t, t, t, need_weights=False)[0]
            return self.fc(t[:, 0]) + self.fc(t.mean(1))
    return T()
