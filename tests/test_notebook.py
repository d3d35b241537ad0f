"""nablab in Jupyter: notebooks executed by a real kernel (nbclient) show plots as image/png,
results and findings as HTML tables, progress without "No such comm" or any stderr; and
`nablab notebook LAB` writes a notebook that runs."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from nablab import cli  # noqa: E402
from nablab.notebook import notebook  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

API_CELLS = [
    """import numpy as np
import nablab
from nablab import nn, optim, viz
from nablab.data import moons
from nablab.diagnostics import Monitor
from nablab.diagnostics.display import monitor_html
from nablab.progress import track
from IPython.display import HTML, display""",
    """nablab.manual_seed(0)
X, y = moons(200, noise=0.2)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
opt = optim.SGD(model.parameters(), lr=0.5)
loss_fn = nn.BCEWithLogitsLoss()
monitor = Monitor(model, every=10)
losses = []
for step in track(range(150), description="training"):
    loss = loss_fn(model(X), y)
    monitor.check_finite(loss)
    opt.zero_grad()
    loss.backward()
    monitor.step()
    opt.step()
    losses.append(loss.item())""",
    "model[0].weight[:2]",
    "display(HTML(monitor_html(monitor)))",
    "viz.curves({'training BCE': losses}, ylabel='BCE', title='moons, 16 ReLU units')",
    """proba = lambda G: nablab.sigmoid(model(nablab.tensor(G.astype(np.float32)))).array[:, 0]
viz.decision_boundary(proba, X.array, y.array)""",
]


def _execute(nb, folder: Path):
    """Run every cell in a python3 kernel of this interpreter, this checkout first on its path."""
    env_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env_path]))
    try:
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        )
        client.execute()
    finally:
        if env_path is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = env_path
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _quiet(outputs) -> None:
    """No stderr stream, no error, and no "No such comm" anywhere in the outputs."""
    assert [o for o in outputs if o.output_type == "stream" and o.name == "stderr"] == []
    assert [o for o in outputs if o.output_type == "error"] == []
    assert "No such comm" not in str(outputs)


def _data(outputs, mime: str) -> list[str]:
    return [o["data"][mime] for o in outputs if mime in o.get("data", {})]


def test_python_api_notebook_shows_plots_findings_tensors_and_progress(tmp_path):
    import nbformat.v4 as nbf

    nb = nbf.new_notebook(cells=[nbf.new_code_cell(source) for source in API_CELLS])
    outputs = _execute(nb, tmp_path)
    _quiet(outputs)
    assert len(_data(outputs, "image/png")) == 2  # the curves and the decision boundary
    html = _data(outputs, "text/html")
    monitor = [h for h in html if "nablab-monitor" in h]
    assert monitor and "<table" in monitor[0] and "‖∇W‖" in monitor[0]
    assert any("<progress" in h and "training: 150/150" in h for h in html)
    tensors = [t for t in _data(outputs, "text/plain") if t.startswith("tensor(")]
    assert tensors and "grad_fn=" in tensors[0]  # torch's repr: a slice of a parameter
    assert list(tmp_path.iterdir()) == []  # a plot without a path writes no file


def test_nablab_notebook_xor_relu_runs_and_shows_tables_figures_and_claims(tmp_path):
    path = tmp_path / "xor.ipynb"
    small = ["--set", "hidden=[2,20]", "--set", "epochs=300", "--set", "seeds=3"]
    assert cli.main(["notebook", "xor-relu", "--out", str(path), *small]) == 0
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "parameters" in nb.cells[3].metadata["tags"]
    assert "epochs=300," in nb.cells[3].source and "def experiment(p, ctx)" in nb.cells[5].source
    outputs = _execute(nb, tmp_path)
    _quiet(outputs)
    assert len(_data(outputs, "image/png")) == 2  # the regions panel and the loss curves
    html = "".join(_data(outputs, "text/html"))
    assert "<table" in html and "class=answer" in html and "data:image/png;base64," in html
    assert "✔ A linear model cannot separate XOR" in html
    assert (tmp_path / "runs" / "xor-relu-notebook" / "results.json").exists()


def test_the_experiment_cell_is_the_lab_code_and_a_change_to_it_runs(tmp_path):
    nb = notebook("xor-relu", quick=True, hidden=[2], epochs=50, seeds=2)
    experiment = nb.cells[5]
    assert experiment.source.startswith("def experiment(p, ctx)") and "@lab" not in str(nb)
    experiment.source = experiment.source.replace(
        "    seeds = ctx.seeds(p.seeds)", "    seeds = ctx.seeds(p.seeds)\n    print('edited')"
    )
    nb.cells = nb.cells[:8]  # up to the run
    outputs = _execute(nb, tmp_path)
    _quiet(outputs)
    assert "edited" in str([o.get("text", "") for o in outputs])


def test_every_lab_exports_a_valid_notebook_and_bad_input_is_named(tmp_path):
    from nablab.labs import LABS, ParameterError
    from nablab.notebook import write_notebook

    for name in LABS:
        nb = nbformat.read(write_notebook(name, tmp_path / f"{name}.ipynb"), as_version=4)
        nbformat.validate(nb)
        compile(nb.cells[5].source, name, "exec")  # the experiment cell is Python
    with pytest.raises(ValueError, match=r"expected a path ending in \.ipynb, got '.*x\.txt'"):
        write_notebook("xor-relu", tmp_path / "x.txt")
    with pytest.raises(ParameterError, match="epochs"):
        write_notebook("xor-relu", tmp_path / "y.ipynb", epochs=0)
