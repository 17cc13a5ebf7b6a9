"""Shared helpers of the experiment scripts: locate the repository and the `ffp8` binary, run its
subcommands and parse their JSON outputs, provenance blocks, atomic writes and small tables.

The experiments never re-implement quantization or inference: every number comes from
`build/bin/ffp8` (`eval`, `sweep`, `hwcost`, `format`, `inspect`, `record`), and format names are
parsed by the library through the `ffp8` Python module (build/python), not by a regex here.

Where scripts write: only under their --out and --work folders (the eval cache is in --work unless
$FFP8_EVAL_CACHE names one), whose defaults are below build/experiments/, never the committed
results/ (give --out results/... to regenerate those).
"""
import argparse
import contextlib
import datetime
import hashlib
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"  # Debian's interpreter (torch, h5py, matplotlib)
DEFAULT_DATA = ROOT / "build" / "data" / "fashion-mnist-test.h5"
BUILD = ROOT / "build" / "experiments"  # default home of every script's --out and --work
ZOO = ["vgg_small", "resnet_small", "mobilenet_small", "densenet_small", "inception_small"]

# Fixed 8-bit formats from prior work: (label, format spec as ffp8 accepts it, note).
FIXED_FORMATS = [
    ("FP8 (1,5,2) IEEE bias", "s1e5m2b15", "prior work (1,5,2), bias 15, all codes finite"),
    ("FP8 (1,4,3) bias 7", "s1e4m3b7", "prior work (1,4,3), bias 7, all codes finite"),
    ("OCP E4M3", "e4m3fn", "s1e4m3b7-fn, max 448"),
    ("OCP E5M2", "e5m2", "s1e5m2b15-ieee, max 57344"),
    ("E3M4", "e3m4", "s1e3m4b3-fn, max 30"),
]


class _Help(argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as it is written and each option's default (where it has one)."""

    def _get_help_string(self, action):
        h = action.help or ""
        d = action.default
        if "%(default)" not in h and action.option_strings and not (d is None or d is False or d is argparse.SUPPRESS):
            h += " (default: %(default)s)"
        return h


def parser(doc):
    """The argument parser of an experiment script: its docstring as the description."""
    return argparse.ArgumentParser(description=doc, formatter_class=_Help)


def add_run_args(p, script, out_help, work_help):
    """The options every experiment that runs evaluations shares: --limit, --out (default
    build/experiments/SCRIPT/out), --work (its help names its default), --data, --ffp8, --threads,
    --no-reuse."""
    p.add_argument("--limit", type=int, help="images per evaluation (default: the config's; 0 = all)")
    p.add_argument("--out", default=str(BUILD / script / "out"), help=out_help)
    p.add_argument("--work", help=work_help)
    p.add_argument("--data", help="data file (default: the config's; converted from Fashion-MNIST if missing)")
    p.add_argument("--ffp8", help="ffp8 binary (default: $FFP8 or build/bin/ffp8)")
    p.add_argument("--threads", type=int, default=0, help="threads per ffp8 run (0: OpenMP's default)")
    p.add_argument("--no-reuse", action="store_true", help="re-run evaluations even when cached")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def ffp8_binary(arg=None):
    """--ffp8 argument, else $FFP8, else build/bin/ffp8 under the repository root."""
    b = arg or os.environ.get("FFP8") or str(ROOT / "build" / "bin" / "ffp8")
    p = Path(b)
    if not p.is_absolute() and not p.exists():
        p = ROOT / b
    if not (p.is_file() and os.access(p, os.X_OK)):
        sys.exit(f"ffp8 binary not found or not executable: {p} (build it, or set FFP8=... / --ffp8)")
    return str(p.resolve())


class Runner:
    """Runs ffp8 subcommands and records every command line (for the tables' provenance)."""

    def __init__(self, ffp8, threads=None, verbose=True, cache=None):
        self.ffp8 = ffp8
        self.threads = threads
        self.verbose = verbose
        self.cache = cache  # eval cache folder of cached_eval (eval_cache())
        self.commands = []

    def run(self, args, capture=True, cwd=None):
        cmd = [str(a) for a in args]
        self.commands.append(" ".join(shlex.quote(c) for c in cmd))
        t0 = time.time()
        r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"command failed (exit {r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
        if self.verbose:
            log(f"  [{time.time() - t0:6.1f} s] {self.commands[-1]}")
        return r.stdout

    def json(self, args):
        return json.loads(self.run(args))

    def format(self, spec):
        return self.json([self.ffp8, "format", spec, "--json"])

    def inspect(self, path):
        return self.json([self.ffp8, "inspect", str(path), "--json"])

    def hwcost(self, weight, activation=None, accumulator="fp32", flexible=False):
        args = [self.ffp8, "hwcost", "--weight", weight, "--activation", activation or weight,
                "--accumulator", accumulator, "--json"]
        if flexible:
            args.append("--flexible")
        return self.json(args)

    def hwcost_int8(self):
        return self.json([self.ffp8, "hwcost", "--int8", "--json"])

    def eval(self, config, out_dir):
        """Writes `config` to out_dir/eval-config.json, runs `ffp8 eval`, returns eval.json."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        cfg_path = out_dir / "eval-config.json"
        write_atomic(cfg_path, json.dumps(config, indent=1) + "\n")
        args = [self.ffp8, "eval", str(cfg_path), "--out", str(out_dir), "--quiet"]
        if self.threads:
            args += ["--threads", str(self.threads)]
        self.run(args)
        with open(out_dir / "eval.json") as f:
            return json.load(f)

    def record(self, model, data, count, out):
        """`ffp8 record`: the float32 inputs of every conv2d/linear/matmul node of `count` images."""
        return self.json([self.ffp8, "record", str(model), str(data), "--count", str(count), "--out", str(out),
                          "--quiet", "--json"] + (["--threads", str(self.threads)] if self.threads else []))

    def sweep(self, config, out_dir):
        """Writes `config` to out_dir/sweep-config.json, runs `ffp8 sweep`, returns summary.json."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        cfg_path = out_dir / "sweep-config.json"
        config = dict(config)
        config["out"] = str(out_dir)
        if self.threads:
            config["threads"] = self.threads
        write_atomic(cfg_path, json.dumps(config, indent=1) + "\n")
        self.run([self.ffp8, "sweep", str(cfg_path), "--out", str(out_dir)])
        with open(out_dir / "summary.json") as f:
            return json.load(f)


def _binary_key(path):
    st = os.stat(path)
    return f"{st.st_size}-{int(st.st_mtime)}"


def eval_cache(work):
    """The eval cache of a script: $FFP8_EVAL_CACHE when set (scripts of one job share it), else
    <work>/eval-cache."""
    return Path(os.environ.get("FFP8_EVAL_CACHE") or Path(work) / "eval-cache")


def cached_eval(runner, config, out_dir, reuse):
    """`ffp8 eval` of `config` into out_dir, unless an identical config was already evaluated by the
    same binary (same size and mtime): then its eval.json is reused from the content-addressed
    cache runner.cache/<config hash>-<binary>."""
    import shutil
    out_dir = Path(out_dir)
    if runner.cache is None:
        raise ValueError("cached_eval needs a Runner with a cache folder (eval_cache(work))")
    cache_root = Path(runner.cache)
    key = f"{config_hash(config)}-{_binary_key(runner.ffp8)}"
    cached = cache_root / key / "eval.json"
    if reuse and cached.exists():
        try:
            ej = load_json(cached)
        except ValueError:
            ej = None
        if ej is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(out_dir / "eval-config.json", json.dumps(config, indent=1) + "\n")
            write_atomic(out_dir / "eval.json", json.dumps(ej, indent=1) + "\n")
            cfg_file = out_dir / "eval-config.json"
            runner.commands.append(f"{runner.ffp8} eval {cfg_file} --out {out_dir} --quiet  # reused: same config and binary")
            if runner.verbose:
                log(f"  (reused eval of identical config: {rel(cached)})")
            return ej
    ej = runner.eval(config, out_dir)
    (cache_root / key).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out_dir / "eval.json", cache_root / key / ".eval.json.tmp")
    os.replace(cache_root / key / ".eval.json.tmp", cached)
    return ej


def ffp8_module():
    """The `ffp8` Python module of this checkout (build/python), else the one on sys.path."""
    own = ROOT / "build" / "python"
    if own.is_dir() and str(own) not in sys.path:
        sys.path.insert(0, str(own))
    import ffp8
    return ffp8


def parse_format(name):
    """(sign, exp, man, bias, suffix) of a format name, or None (float32, int8, lists). Parsed by
    the library (ffp8.Format), so it accepts exactly what the CLI accepts; suffix is e.g. "-fn-nosub"."""
    if not isinstance(name, str):
        return None
    ffp8 = ffp8_module()
    try:
        f = ffp8.Format(name)
    except ValueError:
        return None
    suffix = ("" if f.specials == "none" else "-" + f.specials) + ("" if f.subnormals else "-nosub")
    return f.sign, f.exp, f.man, f.bias, suffix


def layer_formats_summary(layers, key):
    """Compact text of the per-layer formats of one role, e.g. 's1e4m3 b7..11 ×12; s0e4m4b9 ×3'."""
    names = [l.get(key) for l in layers]
    if all(n == "float32" for n in names):
        return "float32"
    groups = {}
    for n in names:
        if isinstance(n, list):  # per output channel
            p = parse_format(n[0])
            lay = (f"s{p[0]}e{p[1]}m{p[2]}", p[4] + " per channel") if p else (str(n[0]), " per channel")
            groups.setdefault(lay, []).extend(parse_format(x)[3] for x in n if parse_format(x))
            continue
        p = parse_format(n)
        if p is None:
            groups.setdefault((str(n), ""), []).append(None)
        else:
            groups.setdefault((f"s{p[0]}e{p[1]}m{p[2]}", p[4]), []).append(p[3])
    parts = []
    for (lay, suffix), biases in groups.items():
        bs = [b for b in biases if b is not None]
        count = len(biases)
        if not bs:
            parts.append(f"{lay}{suffix} ×{count}")
        elif min(bs) == max(bs):
            parts.append(f"{lay}b{bs[0]}{suffix} ×{count}")
        else:
            parts.append(f"{lay} b{min(bs)}..{max(bs)}{suffix} ×{count}")
    return "; ".join(parts)


@contextlib.contextmanager
def atomic_target(path, suffix=".tmp"):
    """Yields a temporary path beside `path`; renamed onto `path` when the block succeeds,
    removed when it raises, so `path` is never left half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_atomic(path, text):
    with atomic_target(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def save_figure(fig, path_no_ext):
    """Saves PNG and SVG, each atomically."""
    out = []
    for ext in ("png", "svg"):
        final = Path(path_no_ext).with_suffix("." + ext)
        with atomic_target(final, suffix="." + ext) as tmp:
            fig.savefig(tmp, format=ext, dpi=150, bbox_inches="tight")
        out.append(final)
    return out


def config_hash(obj):
    canon = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:16]


def git_commit():
    try:
        c = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                           check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return c + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(config, command=None):
    return {
        "git_commit": git_commit(),
        "command": command or " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "host": socket.gethostname(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config_hash": config_hash(config),
    }


def provenance_md(prov, extra=None):
    lines = ["Provenance:", ""]
    for k in ("command", "git_commit", "host", "date_utc", "config_hash"):
        lines.append(f"- {k}: `{prov[k]}`")
    for k, v in (extra or {}).items():
        lines.append(f"- {k}: `{v}`" if not isinstance(v, str) or "\n" not in v else f"- {k}:\n{v}")
    return "\n".join(lines) + "\n"


def md_table(headers, rows):
    def cell(v):
        return str(v).replace("|", "\\|")
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def csv_text(headers, rows):
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers)
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def ensure_data(path=None, runner=None):
    """The Fashion-MNIST test set as a data file; converted with tools/convert_data.py if missing."""
    path = Path(path) if path else DEFAULT_DATA
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [PYTHON, str(ROOT / "tools" / "convert_data.py"), "fashion-mnist", "--split", "test", "--out", str(path)]
    log(f"converting the Fashion-MNIST test set: {' '.join(cmd)}")
    if runner:
        runner.commands.append(" ".join(cmd))
    subprocess.run(cmd, check=True)
    return path


def model_path(name):
    p = Path(name)
    if p.suffix == ".h5":
        return p if p.is_absolute() else (ROOT / p if not p.exists() else p.resolve())
    return ROOT / "experiments" / "models" / f"{name}.h5"


def rel(path):
    try:
        return os.path.relpath(Path(path).resolve(), ROOT)
    except ValueError:
        return str(path)


def load_json(path):
    with open(path) as f:
        return json.load(f)
