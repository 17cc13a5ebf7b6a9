"""ffp8 for PyTorch: fake quantization with the exact C++ kernels, and eval-style quantization of a
model's conv2d/linear layers (weights and input activations), for running your own PyTorch
pipelines, and fine-tuning, under any ffp8 format.

- fake_quant(t, fmt, ...): quantize-dequantize a CPU tensor (float32 or float64) with a
  straight-through gradient; the tensor's memory is handed to the kernel as a numpy view.
- quantize_model(model, formats, calib=...): applies an `ffp8 eval` format assignment (role
  defaults, per-layer overrides, "fit:" templates with the fit bias from the weights or from
  calibration batches, "int8") to every nn.Conv2d / nn.Linear of a model. Returns the plan (per
  layer formats, like eval.json's "layers") with remove() to restore the model.

Layer names are the module names with "." replaced by "_" (layer1.conv1 -> layer1_conv1), the
node names of models exported by tools/export.py, so an eval config's overrides apply as they are.
"""
import torch
from torch import nn
from torch.nn.utils import parametrize

from . import _ffp8
from .codec import quantize as _quantize
from .format import Format, as_format

__all__ = ["fake_quant", "quantize_model", "QuantizedModel", "layer_name", "load_weights"]


def _check_tensor(t, what="tensor"):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, not {type(t).__name__}")
    if t.device.type != "cpu":
        raise ValueError(f"{what} is on {t.device}: ffp8 kernels run on CPU tensors (move it with .cpu())")
    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"{what} must be float32 or float64, not {t.dtype}")


class _FakeQuant(torch.autograd.Function):
    """Quantize-dequantize forward, straight-through backward (optionally zero beyond max(V))."""

    @staticmethod
    def forward(ctx, x, fmt, rounding, saturate, seed, threads, clip_grad):
        xc = x.detach().contiguous()
        # numpy allocates the output and torch wraps it (no copy): cheaper than torch.empty here.
        out = torch.from_numpy(_quantize(xc.numpy(), fmt, rounding, saturate, seed, threads))
        if clip_grad:
            ctx.save_for_backward(xc.abs() <= fmt.max)
        ctx.clip_grad = clip_grad
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.clip_grad:
            (inside,) = ctx.saved_tensors
            grad = grad * inside
        return grad, None, None, None, None, None, None


def fake_quant(t, fmt, rounding="rne", saturate=True, seed=0, threads=0, *, clip_grad=False):
    """t quantized to format `fmt` and back (same shape and dtype), as an autograd function whose
    gradient is straight-through: d out / d t = 1 (clip_grad=True: 0 where |t| > max(V)).

    t: a CPU float32 or float64 tensor (float32 runs the vectorized kernel; the tensor's memory is
    passed as a numpy view, copied only when not contiguous). The other arguments are those of
    ffp8.quantize(); results equal ffp8.quantize(t.numpy(), fmt, ...) bit for bit.
    """
    _check_tensor(t)
    return _FakeQuant.apply(t, as_format(fmt), rounding, saturate, seed, threads, clip_grad)


def _int8(t, scale, threads):
    """INT8 per-tensor symmetric, the library's kernel (float32), straight-through gradient."""
    return _Int8.apply(t, scale, threads)


class _Int8(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale, threads):
        xc = x.detach().to(torch.float32).contiguous()
        out = torch.empty_like(xc)
        _ffp8.int8_quantize(xc.numpy(), out.numpy(), float(scale), int(threads))
        return out.to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad, None, None


def layer_name(module_name):
    """The node name of a module, as tools/export.py writes it: dots become underscores."""
    return module_name.replace(".", "_")


def load_weights(model, path):
    """Copies the float32 parameters of an ffp8 model file (tools/export.py's layout: /params/<node>/
    weight, bias, mean, var) into a PyTorch model of the same architecture (module names with "_"
    for "."); returns the model. Every parameter and BatchNorm statistic must be found."""
    import h5py
    names = {"weight": "weight", "bias": "bias", "mean": "running_mean", "var": "running_var"}
    state = model.state_dict()
    loaded = set()
    with h5py.File(path, "r") as f:
        params = f["params"]
        for mod_name, _ in model.named_modules():
            node = layer_name(mod_name)
            if not mod_name or node not in params:
                continue
            for key, ds in params[node].items():
                target = f"{mod_name}.{names.get(key, key)}"
                if target not in state:
                    raise ValueError(f"{path}: /params/{node}/{key} has no parameter '{target}' in the model")
                state[target] = torch.from_numpy(ds[()])
                loaded.add(target)
    missing = [k for k in state if k not in loaded and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"{path}: no parameter for '{missing[0]}' of the model ({len(missing)} missing)")
    model.load_state_dict(state)
    return model


class _Choice:
    """One role's choice ("float32", a format name, "fit:TEMPLATE", "fit:auto:eE", "int8")."""

    def __init__(self, text, where):
        if not isinstance(text, str):
            raise ValueError(f"{where}: expected a format name, \"float32\", \"int8\" or \"fit:TEMPLATE\", not {text!r}")
        self.c = _ffp8.FormatChoice(text)
        self.kind = self.c.kind.name  # float32, fixed, fit, int8
        self.text = self.c.text()


class _Range:
    """Largest magnitudes of a tensor's finite values (the library's RangeStats)."""

    def __init__(self):
        self.max_abs, self.max_positive, self.min = 0.0, 0.0, 0.0

    def add(self, t):
        v = t.detach().to(torch.float64).reshape(-1)
        v = v[torch.isfinite(v)]
        if v.numel():
            self.max_abs = max(self.max_abs, float(v.abs().max()))
            self.max_positive = max(self.max_positive, float(v.max()))
            self.min = min(self.min, float(v.min()))


def _fitted(choice, ranges):
    """The formats of a fit choice for groups with these ranges (the sign of an auto template from
    the smallest value of all groups), as the library resolves them."""
    t = choice.c.template_for(min(r.min for r in ranges) < 0)
    out = []
    for r in ranges:
        b = _ffp8.fit_bias(t, _ffp8.fit_input(t.sign, r.max_abs, r.max_positive))
        out.append(Format(_ffp8.Format.make(t.sign, t.exp, t.man, b, _ffp8.parse_specials(t.specials), t.subnormals)))
    return out


class _WeightQuant(nn.Module):
    """Parametrization: the weight as the layer sees it, quantized on every access (straight-through
    gradient to the float weight underneath, so fine-tuning updates the float weight)."""

    def __init__(self, formats, int8_scale, options):
        super().__init__()
        self.formats, self.int8_scale, self.options = formats, int8_scale, options

    def forward(self, w):
        r, sat, seed, threads = self.options
        if self.int8_scale is not None:
            return _int8(w, self.int8_scale, threads)
        if len(self.formats) == 1:
            return fake_quant(w, self.formats[0], r, sat, seed, threads)
        return torch.stack([fake_quant(w[c], f, r, sat, seed, threads) for c, f in enumerate(self.formats)])


class QuantizedModel:
    """What quantize_model() did: `layers` (per layer: node, op, weight and activation formats as
    eval.json writes them) and remove() to take the quantization off the model again."""

    def __init__(self, model, layers, handles):
        self.model, self.layers, self._handles = model, layers, handles

    def remove(self):
        """Restores the float weights and removes the input quantization."""
        for name, module, handle in self._handles:
            if handle is not None:
                handle.remove()
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
        self._handles = []

    def __repr__(self):
        rows = "\n".join(f"  {l['node']:<24} weight {l['weight']!s:<20} activation {l['activation']}" for l in self.layers)
        return f"QuantizedModel({len(self.layers)} layers)\n{rows}"


def _layers(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _calibrate(model, layers, batches, limit):
    """Per layer: the range of its float32 input over the calibration batches (first `limit` samples)."""
    ranges = {layer_name(n): _Range() for n, _ in layers}
    seen = [0]
    hooks = [m.register_forward_pre_hook(lambda mod, inp, key=layer_name(n): ranges[key].add(inp[0])) for n, m in layers]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for b in batches:
                x = torch.as_tensor(b[0] if isinstance(b, (tuple, list)) else b)
                if limit is not None:
                    if seen[0] >= limit:
                        break
                    x = x[: limit - seen[0]]
                model(x)
                seen[0] += x.shape[0]
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    if seen[0] == 0:
        raise ValueError("calib: no calibration batches (fit and int8 activations need some)")
    return ranges, seen[0]


def quantize_model(model, formats, calib=None, *, calib_limit=None, per_channel=False, rounding="rne",
                   saturate=True, seed=0, threads=0):
    """Quantizes the weights and input activations of every nn.Conv2d and nn.Linear of `model` as
    an `ffp8 eval` config's "formats" says; the model is changed in place. Returns a QuantizedModel
    (its `layers` and remove()).

    formats: {"weight": CHOICE, "activation": CHOICE, "overrides": {layer: CHOICE or
      {"weight": CHOICE, "activation": CHOICE}}}, a CHOICE being "float32", a format name or preset,
      "fit:TEMPLATE" ("fit:s1e4m3": that template with the fit bias of the weights, or of the
      layer's calibration inputs), "fit:auto:eE" (signed or unsigned per layer) or "int8".
    calib: calibration batches (an iterable of input tensors or arrays, or of (input, label) pairs), needed when an
      activation is "fit" or "int8": the float32 model runs on them first, as `ffp8 eval` does on
      its first "calib" images. calib_limit: use only the first N samples.
    per_channel: "fit" weights get one bias per output channel.
    rounding, saturate, seed, threads: as for ffp8.quantize().

    Weights are quantized on every forward from the float weights (a parametrization with a
    straight-through gradient, so fine-tuning trains the float weights); their fit biases and the
    activations' formats are fixed here. Unknown override names raise ValueError.
    """
    if not isinstance(formats, dict):
        raise TypeError("formats must be a dict like an eval config's \"formats\"")
    unknown = set(formats) - {"weight", "activation", "overrides"}
    if unknown:
        raise ValueError(f"formats: unknown key \"{sorted(unknown)[0]}\" (expected weight, activation, overrides)")
    for role in ("weight", "activation"):
        if role not in formats:
            raise ValueError(f"formats: missing key \"{role}\": the default format of that role")
    default = {r: _Choice(formats[r], f"formats.{r}") for r in ("weight", "activation")}
    layers = _layers(model)
    names = {layer_name(n) for n, _ in layers}
    per_layer = {}
    for node, v in (formats.get("overrides") or {}).items():
        if node not in names:
            raise ValueError(f"formats.overrides.{node}: the model has no conv2d or linear layer of that name "
                             f"(its layers are: {', '.join(layer_name(n) for n, _ in layers)})")
        if isinstance(v, str):
            per_layer[node] = {r: _Choice(v, f"formats.overrides.{node}") for r in ("weight", "activation")}
        elif isinstance(v, dict):
            bad = set(v) - {"weight", "activation"}
            if bad:
                raise ValueError(f"formats.overrides.{node}: unknown key \"{sorted(bad)[0]}\"")
            per_layer[node] = {r: _Choice(v[r], f"formats.overrides.{node}.{r}") if r in v else default[r]
                               for r in ("weight", "activation")}
        else:
            raise ValueError(f"formats.overrides.{node}: expected a choice or {{weight, activation}}, not {v!r}")
    choice = {layer_name(n): per_layer.get(layer_name(n), default) for n, _ in layers}

    ranges = None
    if any(c["activation"].kind in ("fit", "int8") for c in choice.values()):
        if calib is None:
            raise ValueError("calib: fit and int8 activations need calibration batches (calib=...)")
        ranges, _ = _calibrate(model, layers, calib, calib_limit)

    opts = (rounding, bool(saturate), int(seed), int(threads))
    out_layers, handles = [], []
    for n, m in layers:
        node = layer_name(n)
        wc, ac = choice[node]["weight"], choice[node]["activation"]
        w = m.weight.detach()
        row = {"node": node, "op": "conv2d" if isinstance(m, nn.Conv2d) else "linear"}
        # Weights.
        wf, scale = [], None
        if wc.kind == "fixed":
            wf = [Format(wc.c.format)]
        elif wc.kind == "int8":
            scale = _ffp8.int8_scale(float(w.abs().max()))
        elif wc.kind == "fit":
            groups = w.reshape(w.shape[0], -1) if per_channel else [w]
            rs = []
            for g in groups:
                r = _Range()
                r.add(g)
                rs.append(r)
            wf = _fitted(wc, rs)
        for f in wf:
            if not f.fits_float32:
                raise ValueError(f"layer '{node}': weight format '{f.name}' has values that are not float32 numbers")
        row["weight"] = ("int8" if scale is not None else
                         "float32" if not wf else wf[0].name if len(wf) == 1 else [f.name for f in wf])
        if scale is not None:
            row["weight_scale"] = float(scale)
        if wf or scale is not None:
            parametrize.register_parametrization(m, "weight", _WeightQuant(wf, scale, opts))
        # Input activation.
        af, ascale = None, None
        if ac.kind == "fixed":
            af = Format(ac.c.format)
        elif ac.kind == "fit":
            af = _fitted(ac, [ranges[node]])[0]
        elif ac.kind == "int8":
            ascale = _ffp8.int8_scale(ranges[node].max_abs)
        if af is not None and not af.fits_float32:
            raise ValueError(f"layer '{node}': activation format '{af.name}' has values that are not float32 numbers")
        row["activation"] = "int8" if ascale is not None else af.name if af is not None else "float32"
        if ascale is not None:
            row["activation_scale"] = float(ascale)
        handle = None
        if af is not None:
            handle = m.register_forward_pre_hook(
                lambda mod, inp, f=af: (fake_quant(inp[0], f, *opts),) + tuple(inp[1:]))
        elif ascale is not None:
            handle = m.register_forward_pre_hook(
                lambda mod, inp, s=ascale: (_int8(inp[0], s, opts[3]),) + tuple(inp[1:]))
        handles.append((n, m, handle))
        out_layers.append(row)
    return QuantizedModel(model, out_layers, handles)
