"""docs/python-example.ipynb runs (nbclient, the ipykernel of /usr/bin/python3) and prints exactly
the outputs committed with it, so the example cannot rot.

Run by CTest (tests/python/CMakeLists.txt) with PYTHONPATH at the build's python/ folder (the
kernel inherits it) and FFP8_REPO set.
"""
import copy
import os
import unittest

import nbformat
from nbclient import NotebookClient

NOTEBOOK = os.path.join(os.environ["FFP8_REPO"], "docs", "python-example.ipynb")


def texts(nb):
    """Per code cell: its printed text and its result's text/plain, in order."""
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.outputs:
            if o.output_type == "error":
                out.append("ERROR " + o.ename + ": " + o.evalue)
            elif o.output_type == "stream" and o.name == "stdout":
                out.append(o.text)
            elif "text/plain" in o.get("data", {}):
                out.append(o["data"]["text/plain"])
    return out


class Notebook(unittest.TestCase):
    def test_runs_and_prints_what_is_committed(self):
        committed = nbformat.read(NOTEBOOK, as_version=4)
        nb = copy.deepcopy(committed)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        NotebookClient(nb, timeout=600, kernel_name="python3").execute()
        want = texts(committed)
        self.assertGreaterEqual(len(want), 5)
        self.assertEqual(texts(nb), want)


if __name__ == "__main__":
    unittest.main()
