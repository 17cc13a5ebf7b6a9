"""Small, architecturally representative CNNs for Fashion-MNIST (1x28x28, 10 classes).

Each public function returns a fresh ``nn.Module`` and is usable as an exporter MODEL spec,
e.g. ``python3 tools/export.py tools/ffp8_models.py:resnet_small --out m.h5``.
The zoo covers what FFP8 must handle: plain conv stacks without BatchNorm (VGG), BatchNorm and
residual adds (ResNet), depthwise convs, ReLU6 and linear bottlenecks whose outputs are signed
(MobileNetV2), channel concatenation (DenseNet), parallel branches with average pooling and
ceil-mode max pooling (Inception).
"""
import torch
from torch import nn

NUM_CLASSES = 10
IN_CHANNELS = 1
INPUT_SHAPE = (1, 28, 28)   # tools/export.py uses this when --input-shape is not given

# Name -> constructor; the training script and the tests iterate this table.
ZOO = {}


def _register(fn):
    ZOO[fn.__name__] = fn
    return fn


def _conv_bn(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- VGG-style, no BatchNorm
class VggSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        def c(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(
            *c(IN_CHANNELS, 16), nn.MaxPool2d(2),                      # 14x14
            *c(16, 32), *c(32, 32), nn.MaxPool2d(2),                   # 7x7
            *c(32, 64), nn.MaxPool2d(2, ceil_mode=True),               # 4x4
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(inplace=True), nn.Dropout(0.3),
            nn.Linear(128, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


@_register
def vgg_small():
    return VggSmall()


# ---------------------------------------------------------------- ResNet-style
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNetSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.stem = _conv_bn(IN_CHANNELS, 24, 3, 2)   # 14x14
        self.layer1 = BasicBlock(24, 24, 1)
        self.layer2 = BasicBlock(24, 48, 2)           # 7x7, 1x1 conv downsample on the shortcut
        self.layer3 = BasicBlock(48, 64, 1)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


@_register
def resnet_small():
    return ResNetSmall()


# ---------------------------------------------------------------- MobileNetV2-style
class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(_conv_bn(cin, hidden, 1, act=nn.ReLU6))
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
                   _conv_bn(hidden, cout, 1, act=None)]   # linear bottleneck: signed output
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        cfg = [  # expand, cout, repeats, first stride
            (1, 16, 1, 1), (3, 24, 2, 1), (3, 32, 2, 2), (3, 48, 2, 1)]
        layers = [_conv_bn(IN_CHANNELS, 16, 3, 2, act=nn.ReLU6)]   # 28 -> 14 -> 7
        cin = 16
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(_conv_bn(cin, 96, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(96, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        return self.classifier(torch.flatten(x, 1))


@_register
def mobilenet_small():
    return MobileNetSmall()


# ---------------------------------------------------------------- DenseNet-style
class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, 2 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(2 * growth)
        self.conv2 = nn.Conv2d(2 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        x = self.conv1(nn.functional.relu(self.norm1(x)))
        return self.conv2(nn.functional.relu(self.norm2(x)))


class DenseBlock(nn.Module):
    def __init__(self, cin, growth, n):
        super().__init__()
        self.layers = nn.ModuleList([DenseLayer(cin + i * growth, growth) for i in range(n)])

    def forward(self, x):
        features = [x]
        for layer in self.layers:
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.BatchNorm2d(cin), nn.ReLU(inplace=True), nn.Conv2d(cin, cout, 1, bias=False),
                         nn.AvgPool2d(2))


class DenseNetSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, growth=12):
        super().__init__()
        c = 24
        self.stem = nn.Conv2d(IN_CHANNELS, c, 3, padding=1, bias=False)
        self.pool0 = nn.MaxPool2d(3, 2, 1)                          # 14x14
        self.block1 = DenseBlock(c, growth, 3)
        c += 3 * growth
        self.trans1 = Transition(c, c // 2)                         # 7x7
        c //= 2
        self.block2 = DenseBlock(c, growth, 4)
        c += 4 * growth
        self.norm = nn.BatchNorm2d(c)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.block2(self.trans1(self.block1(self.pool0(self.stem(x)))))
        x = nn.functional.relu(self.norm(x))
        x = nn.functional.adaptive_avg_pool2d(x, (1, 1))
        return self.fc(torch.flatten(x, 1))


@_register
def densenet_small():
    return DenseNetSmall()


# ---------------------------------------------------------------- Inception-style
class Inception(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, cp):
        super().__init__()
        self.branch1 = _conv_bn(cin, c1, 1)
        self.branch2 = nn.Sequential(_conv_bn(cin, c3r, 1), _conv_bn(c3r, c3, 3))
        self.branch3 = nn.Sequential(_conv_bn(cin, c5r, 1), _conv_bn(c5r, c5, 3), _conv_bn(c5, c5, 3))
        self.branch4 = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), _conv_bn(cin, cp, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionSmall(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.stem = _conv_bn(IN_CHANNELS, 24, 3)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)             # 28 -> 14
        self.inc1 = Inception(24, 16, 16, 24, 8, 12, 12)            # 64 channels
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)             # 14 -> 7
        self.inc2 = Inception(64, 32, 24, 48, 12, 24, 24)           # 128 channels
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.inc2(self.pool2(self.inc1(self.pool1(self.stem(x)))))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


@_register
def inception_small():
    return InceptionSmall()


# ---------------------------------------------------------------- ConvNeXt-style
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW tensor (torchvision's ConvNeXt form: channels last,
    normalise, channels first again)."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, layer_scale=0.1):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * dim, dim)
        self.layer_scale = nn.Parameter(torch.full((dim, 1, 1), layer_scale))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)             # channels last: the linears act on C
        y = self.fc2(self.act(self.fc1(self.norm(y)))).permute(0, 3, 1, 2)
        return x + self.layer_scale * y


class ConvNeXtMini(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, dims=(32, 64), depths=(2, 2)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(IN_CHANNELS, dims[0], 2, 2), LayerNorm2d(dims[0], eps=1e-6))  # 14x14
        self.stage1 = nn.Sequential(*[ConvNeXtBlock(dims[0]) for _ in range(depths[0])])
        self.down = nn.Sequential(LayerNorm2d(dims[0], eps=1e-6), nn.Conv2d(dims[0], dims[1], 2, 2))   # 7x7
        self.stage2 = nn.Sequential(*[ConvNeXtBlock(dims[1]) for _ in range(depths[1])])
        self.norm = nn.LayerNorm(dims[1], eps=1e-6)
        self.head = nn.Linear(dims[1], num_classes)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.head(self.norm(x.mean([2, 3])))       # global average pool by axis


@_register
def convnext_mini():
    return ConvNeXtMini(dims=(48, 96))   # (32, 64) stayed below 90 % top-1 after 6 epochs (89.40 %)


# ---------------------------------------------------------------- ViT-style
class Attention(nn.Module):
    """Multi-head self-attention written as its matmuls and softmax (what an FP8 accelerator runs:
    both operands of Q K^T and of P V are quantized)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        attn = (q @ k.transpose(-2, -1)) * self.scale
        y = attn.softmax(dim=-1) @ v                        # [N, heads, T, d / heads]
        return self.proj(y.transpose(1, 2).reshape(n, t, d))


class EncoderBlock(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViTMini(nn.Module):
    def __init__(self, num_classes=NUM_CLASSES, patch=4, dim=64, depth=4, heads=4, mlp=128):
        super().__init__()
        tokens = (INPUT_SHAPE[1] // patch) * (INPUT_SHAPE[2] // patch)
        self.patch_embed = nn.Conv2d(IN_CHANNELS, dim, patch, patch)       # 7x7 patches of 4x4 pixels
        self.class_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[EncoderBlock(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)              # [N, 49, dim]
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])                                       # the class token


@_register
def vit_mini():
    return ViTMini()
