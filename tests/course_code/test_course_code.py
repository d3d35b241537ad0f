"""Course-style PyTorch scripts (written here, in the style of d2l and the seeds) run on
nablab with only their imports changed, and, where torch is installed, beside torch: every
script but dropout_scratch is deterministic (data and starting weights from NumPy), so the
numbers must agree; dropout_scratch draws its masks from each backend's generator, so only its
shapes, exact facts and statistics are compared."""

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

# drawn from each backend's own generator: per script, the keys left uncompared and the
# tolerance for its statistics (a kept fraction of 10⁵ Bernoulli(0.5) draws: σ ≈ 0.0016)
RANDOM = {"dropout_scratch.py": ({"losses"}, {"rtol": 0, "atol": 0.01})}
EXACT = {"rtol": 2e-5, "atol": 1e-6}


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
    uncompared, tolerance = RANDOM.get(name, (set(), EXACT))
    for key in ours.keys() - uncompared:
        a, b = ours[key], theirs[key]
        if isinstance(a, (str, bool)):
            assert a == b, key
        else:
            np.testing.assert_allclose(a, b, **tolerance, err_msg=key)


def test_weight_decay_shrinks_w_and_the_test_loss_on_nablab(tmp_path):
    ours = run(as_nablab((HERE / "weight_decay_scratch.py").read_text()), tmp_path, "wd.py")
    assert ours["decay_norm"] < ours["plain_norm"] / 3, ours
    assert ours["decay_test"] < ours["plain_test"] / 10, ours


def test_dropout_keeps_half_scaled_by_two_on_nablab(tmp_path):
    ours = run(as_nablab((HERE / "dropout_scratch.py").read_text()), tmp_path, "dropout.py")
    assert abs(ours["kept_fraction"] - 0.5) < 0.01, ours["kept_fraction"]
    assert ours["kept_values"] == [2.0]
    assert ours["p0_is_identity"] and ours["p1_all_zero"] and ours["eval_is_deterministic"]
