"""One torchvision classifier of each of the 20 families, as exporter MODEL specs for the parity
tests: `tests/tools/families.py:NAME` builds torchvision's NAME for its native input size and
`...:NAME_at_SIZE` for SIZE x SIZE inputs (vit and maxvit fix their input size at construction).

Untrained torchvision models start with degenerate values that would hide translation errors:
ViT's head is zero (every logit 0), ConvNeXt's layer scales are 1e-6 (the residual branches
vanish), BatchNorm statistics are 0 and 1. Every parameter or buffer whose elements are all
equal is therefore redrawn at random (seeded), at the scale it has (0.05 for zeros, at least 0.1).
"""
import re

import torch

# family -> (torchvision model, native input size)
FAMILIES = {
    "alexnet": ("alexnet", 224), "convnext": ("convnext_tiny", 224), "densenet": ("densenet121", 224),
    "efficientnet": ("efficientnet_b0", 224), "efficientnet_v2": ("efficientnet_v2_s", 384),
    "googlenet": ("googlenet", 224), "inception": ("inception_v3", 299), "maxvit": ("maxvit_t", 224),
    "mnasnet": ("mnasnet0_5", 224), "mobilenet_v2": ("mobilenet_v2", 224),
    "mobilenet_v3": ("mobilenet_v3_small", 224), "regnet": ("regnet_y_400mf", 224), "resnet": ("resnet18", 224),
    "resnext": ("resnext50_32x4d", 224), "shufflenet": ("shufflenet_v2_x0_5", 224),
    "squeezenet": ("squeezenet1_0", 224), "swin": ("swin_t", 224), "vgg": ("vgg11", 224),
    "vit": ("vit_b_16", 224), "wide_resnet": ("wide_resnet50_2", 224),
}


def perturb(model, seed=1):
    """Redraws every constant-valued floating parameter and buffer of `model` (in place)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if not t.is_floating_point() or t.numel() < 1 or not bool((t == t.reshape(-1)[0]).all()):
                continue
            c = float(t.reshape(-1)[0])
            if c == 0.0:
                t.copy_(torch.randn(t.shape, generator=g) * 0.05)
            else:
                scale = max(abs(c), 0.1) * (1 if c > 0 else -1)
                t.copy_(scale * (0.5 + torch.rand(t.shape, generator=g)))
    return model


def build(name, size):
    import torchvision
    kwargs = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, transform_input=False, init_weights=True)
    if name.startswith("vit_"):
        kwargs["image_size"] = size
    if name.startswith("maxvit_"):
        if size % 32 or (size // 32) % 7:   # its windows need a partition size dividing every stage
            from torchvision.models.maxvit import MaxVit
            torch.manual_seed(0)
            return perturb(MaxVit(input_size=(size, size), stem_channels=64, partition_size=size // 32,
                                  block_channels=[64, 128, 256, 512], block_layers=[2, 2, 5, 2], head_dim=32,
                                  stochastic_depth_prob=0.2))
        kwargs["input_size"] = (size, size)
    torch.manual_seed(0)
    return perturb(getattr(torchvision.models, name)(**kwargs))


def __getattr__(attr):
    m = re.fullmatch(r"(\w+?)(?:_at_(\d+))?", attr)
    name, size = (m.group(1), m.group(2)) if m else (attr, None)
    import torchvision
    if not m or not callable(getattr(torchvision.models, m.group(1), None)):
        raise AttributeError(attr)
    native = {v[0]: v[1] for v in FAMILIES.values()}.get(name, 224)
    return lambda: build(name, int(size) if size else native)
