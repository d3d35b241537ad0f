"""A lab as a runnable Jupyter notebook (``nablab notebook LAB``): a parameters cell to edit,
the lab's own experiment function (its code, to change), a cell that runs it through the
labs' runner (parameters checked, seeded, claims checked, results.json written), and the
result shown inline: question, answer, claims ✔/✘, tables and figures.

    from nablab.notebook import write_notebook
    write_notebook("xor-relu", "xor-relu.ipynb", quick=True, epochs=300)
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

from .labs.declaration import Lab, get_lab
from .labs.params import resolve
from .labs.runner import render_partial


def notebook(lab: str | Lab, quick: bool = False, seed: int = 0, **parameters):
    """The notebook (an nbformat NotebookNode) of ``lab``, its parameters cell filled with the
    lab's defaults (quick ones with ``quick``) overridden by ``parameters`` (checked here)."""
    import nbformat.v4 as nbf

    lab = lab if isinstance(lab, Lab) else get_lab(lab)
    values = dict(resolve(lab.params, quick, parameters))
    module = inspect.getmodule(lab.experiment).__name__
    helpers = _private_names(lab.experiment)
    imports = [
        "from dataclasses import replace",
        "",
        "from IPython.display import Image, display",
        "",
        "import nablab",
        "import nablab.labs as labs",
        f"from {module} import *  # the lab's own functions, tables and plots",
    ]
    if helpers:
        imports.append(f"from {module} import {', '.join(helpers)}")
    cells = [
        nbf.new_markdown_cell(_introduction(lab, values)),
        nbf.new_code_cell("\n".join(imports)),
        nbf.new_markdown_cell(
            "## Parameters\n\nChange any value and run the notebook again "
            f"(`nablab show {lab.name}` lists each parameter's range). `quick` only picks "
            "the lab's quick defaults for parameters you leave out."
        ),
        nbf.new_code_cell(
            _parameters_cell(lab, values, quick, seed), metadata={"tags": ["parameters"]}
        ),
        nbf.new_markdown_cell(
            "## The experiment\n\nThe lab's code, from "
            f"`{module.replace('.', '/')}.py`: it receives the parameters `p` (`p.name`) and "
            "the run's context `ctx` (`ctx.seeds(n)`, `ctx.out`, `ctx.track`), and returns "
            "the tables, figures and metrics that the lab's claims are checked on. Edit it "
            "and run the cells below again."
        ),
        nbf.new_code_cell(_experiment_source(lab.experiment)),
        nbf.new_markdown_cell(
            "## Run it\n\nThe labs' runner seeds everything from `seed`, checks the "
            "parameters, runs the experiment above, checks the claims and writes "
            "`results.json` and the figures into `out`."
        ),
        nbf.new_code_cell(
            f"lab = replace(labs.get_lab({lab.name!r}), experiment=experiment)\n"
            "result = labs.run(lab, quick=quick, seed=seed, out=out, progress=True, **params)\n"
            "result"
        ),
        nbf.new_markdown_cell("## The figures, one by one (saved in `out`)"),
        nbf.new_code_cell("for path in result.figures:\n    display(Image(filename=str(path)))"),
        nbf.new_markdown_cell(
            "## Tables and numbers\n\n`result.tables` are the tables above (`.columns`, "
            "`.rows`), `result.metrics` every number the experiment returned, "
            "`result.claims` each claim with whether it holds."
        ),
        nbf.new_code_cell(
            "for claim in result.claims:\n"
            "    print({True: '✔', False: '✘', None: '–'}[claim['holds']], claim['text'])\n"
            "result.tables[0]"
        ),
    ]
    nb = nbf.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write_notebook(
    lab: str | Lab, path=None, quick: bool = False, seed: int = 0, **parameters
) -> Path:
    """Write ``notebook(lab, ...)`` to ``path`` (default LAB.ipynb) and return the Path."""
    import nbformat

    from .labs.base import write_atomic

    lab = lab if isinstance(lab, Lab) else get_lab(lab)
    path = Path(path if path is not None else f"{lab.name}.ipynb")
    if path.suffix != ".ipynb":
        raise ValueError(f"notebook: expected a path ending in .ipynb, got '{path}'")
    nb = notebook(lab, quick=quick, seed=seed, **parameters)
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, nbformat.writes(nb))


def _introduction(lab: Lab, values: dict) -> str:
    setting = render_partial(lab.setting, values)
    return (
        f"# {lab.name} — {lab.summary}\n\n*{lab.source}*\n\n**Question.** {lab.question}\n\n"
        f"**Setting.** {setting}\n\nWritten by `nablab notebook {lab.name}`; the same run "
        f"from a shell: `nablab run {lab.name}`."
    )


def _parameters_cell(lab: Lab, values: dict, quick: bool, seed: int) -> str:
    lines = ["params = dict("]
    for p in lab.params:
        lines.append(f"    {p.name}={values[p.name]!r},  # {p.help}")
    lines += [
        ")",
        f"seed = {seed}  # every draw (data, init, dropout) follows from it",
        f"quick = {quick}",
        f"out = {f'runs/{lab.name}-notebook'!r}  # where results.json and the figures go",
    ]
    return "\n".join(lines)


def _experiment_source(fn) -> str:
    """The experiment function's source without its @lab(...) declaration."""
    source = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(source).body[0]
    return "\n".join(source.splitlines()[node.lineno - 1 :]).rstrip() + "\n"


def _private_names(fn) -> list[str]:
    """The module's _underscore names the experiment uses (``import *`` leaves them out)."""
    tree = ast.parse(_experiment_source(fn))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id.startswith("_")}
    return sorted(name for name in used if name in fn.__globals__)
