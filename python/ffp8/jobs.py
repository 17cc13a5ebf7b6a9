"""ffp8.sweep and ffp8.eval: the library entry points `ffp8 sweep` and `ffp8 eval` run on, called
in this process (no subprocess). They return what the CLI writes: the CSV tables as pandas
DataFrames (lists of dicts when pandas is missing) and summary.json / eval.json as dicts."""
import csv
import errno
import io
import json
import os
from typing import Any, NamedTuple, Optional

from . import _ffp8
from ._ffp8 import ConfigError


class MissingFileError(ConfigError, FileNotFoundError):
    """A config names a file that does not exist (a ConfigError naming the JSON path, and a
    FileNotFoundError)."""


def _call(fn, *args):
    """fn(*args), with a config error about a missing file raised as MissingFileError."""
    try:
        return fn(*args)
    except ConfigError as e:
        msg = str(e)
        if "does not exist" in msg or "no such file" in msg:
            raise MissingFileError(msg) from None
        raise


class SweepResult(NamedTuple):
    """Outputs of sweep(): points.csv and pareto.csv as tables, summary.json as a dict."""
    points: Any
    pareto: Any
    summary: dict


class EvalResult(NamedTuple):
    """Outputs of eval(): `summary` is eval.json (a single evaluation) or a dict candidate name ->
    eval.json; `layers` is the per-layer format table of a single evaluation (eval.json "layers");
    `candidates` is candidates.csv as a table (None for a single evaluation)."""
    summary: dict
    layers: Any
    candidates: Any


def _table(csv_text):
    try:
        import pandas as pd
    except ImportError:
        return list(csv.DictReader(io.StringIO(csv_text)))
    return pd.read_csv(io.StringIO(csv_text))


def _records(rows):
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows)


def _source(config, overrides, threads, base_dir):
    sets = list(overrides or ())
    if threads is not None:
        sets.append(f"threads={int(threads)}")
    if isinstance(config, dict):
        base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
        return _ffp8.config_source("", json.dumps(config), base, sets)
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        if base_dir is not None:
            raise ValueError("base_dir applies to a config dict; a config file's paths are relative to its folder")
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, f"cannot read config file '{path}': no such file", path)
        return _ffp8.config_source(path, "", "", sets)
    raise TypeError(f"a config is a dict or a path, not {type(config).__name__}")


def sweep(config, *, overrides=(), threads=None, out=None, base_dir=None):
    """Runs a design-space sweep (`ffp8 sweep`'s config, docs/sweep.md) and returns a SweepResult
    (points, pareto, summary) with the numbers the CLI writes.

    config: a dict (its relative paths resolve against base_dir, default the working folder) or
      a config file path (its paths resolve against the file's folder, as for the CLI).
    overrides: "key.path=value" strings, like the CLI's --set.
    threads: OpenMP threads (overrides the config's "threads"; 0: OpenMP's default).
    out: a folder to also write points.csv, pareto.csv and summary.json into (nothing is written
      without it, whatever the config's "out" says).

    A bad config raises ConfigError (a ValueError) naming the JSON path; a missing input file
    FileNotFoundError.
    """
    r = _call(_ffp8.sweep, _source(config, overrides, threads, base_dir), os.fspath(out) if out is not None else "")
    return SweepResult(_table(r["points_csv"]), _table(r["pareto_csv"]), json.loads(r["summary_json"]))


def eval(config, *, overrides=(), threads=None, out=None, base_dir=None):  # noqa: A001 (the CLI's name)
    """Evaluates a model under a format assignment (`ffp8 eval`'s config, docs/inference.md) and
    returns an EvalResult (summary, layers, candidates) with the numbers the CLI writes. Arguments
    as for sweep(); `out` writes eval.json (and the candidates' files) there.

    >>> r = ffp8.eval({"model": "experiments/models/resnet_small.h5", "data": "fashion.h5",
    ...                "limit": 500, "formats": {"weight": "fit:s1e4m3", "activation": "fit:s0e4m4"}})
    >>> r.summary["top1"]
    """
    r = _call(_ffp8.eval, _source(config, overrides, threads, base_dir), os.fspath(out) if out is not None else "")
    docs = [json.loads(d) for d in r["documents_json"]]
    if not r["names"]:
        doc = docs[0]
        return EvalResult(doc, _records(doc.get("layers", [])), None)
    return EvalResult(dict(zip(r["names"], docs)), None, _table(r["candidates_csv"]))
