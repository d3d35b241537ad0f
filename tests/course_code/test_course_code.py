"""Course-style PyTorch scripts (written here, in the style of d2l and the seeds) run on
nablab with only their imports changed, and, where torch is installed, beside torch: every
script is deterministic (data and starting weights from NumPy), so the numbers must agree."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted(p.name for p in HERE.glob("*.py") if not p.name.startswith("test_"))
IMPORTS = [  # the only change: each torch import becomes nablab's
    (r"^import torch$", "import nablab as torch"),
    (r"^from torch import ", "from nablab import "),
    (r"^from torch\.(\S+) import ", r"from nablab.\1 import "),
]


def as_nablab(source):
    for pattern, replacement in IMPORTS:
        source = re.sub(pattern, replacement, source, flags=re.M)
    return source


def run(source, tmp_path, name):
    path = tmp_path / name
    path.write_text(source)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_import_change_touches_only_imports():
    source = (HERE / "mlp_concise.py").read_text()
    changed = as_nablab(source)
    differing = [a for a, b in zip(source.splitlines(), changed.splitlines()) if a != b]
    assert differing == ["import torch", "from torch import nn", "from torch.utils import data"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_trains_on_nablab(name, tmp_path):
    ours = run(as_nablab((HERE / name).read_text()), tmp_path, name)
    assert ours["losses"][-1] < ours["losses"][0], ours["losses"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_gives_torch_numbers(name, tmp_path):
    pytest.importorskip("torch")
    source = (HERE / name).read_text()
    ours = run(as_nablab(source), tmp_path, "nablab_" + name)
    theirs = run(source, tmp_path, "torch_" + name)
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key], theirs[key]
        if isinstance(a, (str, bool)):
            assert a == b, key
        else:
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6, err_msg=key)
