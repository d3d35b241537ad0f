"""The `nablab` command as a user installs it: a fresh virtual environment with only
`pip install <this checkout>` and NumPy (no extras). Every command works or says, in one line,
which package it needs; Ctrl-C while NumPy and nablab are being imported exits 130 with one line.

The environment is built once for this module (about 10 s: a wheel of the checkout, NumPy).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from nablab import cli

ROOT = Path(__file__).resolve().parent.parent
LAB_MESSAGE = "needs matplotlib, rich, scikit-learn, threadpoolctl: pip install 'nablab[lab]'"
PLAYGROUND_MESSAGE = "needs starlette, uvicorn, websockets: pip install 'nablab[playground]'"


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """(the venv's bin folder, a working folder) of a NumPy-only install of this checkout."""
    home = tmp_path_factory.mktemp("bare-venv")
    source = home / "source"  # a copy: pip builds in the tree it installs
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "nablab_console.py"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "nablab", source / "nablab", ignore=shutil.ignore_patterns("__pycache__")
    )
    venv.create(home / "venv", with_pip=True)  # a plain venv: the extras in ours are not seen
    pip = [str(home / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "--no-cache-dir"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run([*pip, "--no-deps", str(source)], check=True, capture_output=True, env=env)
    subprocess.run([*pip, "numpy"], check=True, capture_output=True, env=env)
    work = home / "work"
    work.mkdir()
    return home / "venv" / "bin", work


def nablab(bare, *argv):
    bin_dir, work = bare
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(bin_dir / "nablab"), *argv], cwd=work, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


COMMANDS = {  # every command of the parser, and what it does without the extras
    "labs": (["labs"], 0),
    "show": (["show", "xor-relu", "--json"], 0),
    "run": (["run", "--quick", "xor-relu"], 1),
    "sweep": (["sweep", "xor-relu", "--quick", "--grid", "lr=0.1,0.2", "--seeds", "0-1"], 1),
    "report": (["report", "--quick", "--labs", "xor-relu"], 1),
    "notebook": (["notebook", "xor-relu"], 1),
    "playground": (["playground", "--no-browser"], 1),
}
MESSAGES = {
    "notebook": "needs nbformat: pip install 'nablab[lab]'",
    "playground": PLAYGROUND_MESSAGE,
}


def test_every_command_is_covered():
    commands = cli._build_parser()._subparsers._group_actions[0].choices
    assert sorted(commands) == sorted(COMMANDS)


def test_the_bare_install_has_no_extras(bare):
    bin_dir, _ = bare
    probe = "import importlib.util as u; print([m for m in ('rich', 'matplotlib', 'sklearn', "
    probe += "'threadpoolctl', 'torch', 'starlette', 'uvicorn') if u.find_spec(m)])"
    done = subprocess.run([str(bin_dir / "python"), "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_works_or_names_what_it_needs(bare, name):
    argv, code = COMMANDS[name]
    done = nablab(bare, *argv)
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == code, done.stderr
    if code == 0:
        assert done.stderr == ""
    else:
        message = MESSAGES.get(name, LAB_MESSAGE)
        assert done.stderr == f"nablab {name} {message}\n" and done.stdout == ""
        assert not (bare[1] / "runs").exists()  # checked before anything was written


def test_labs_and_show_print_the_catalogue(bare):
    assert "xor-relu" in nablab(bare, "labs").stdout
    assert json.loads(nablab(bare, "show", "xor-relu", "--json").stdout)["lab"] == "xor-relu"


def test_help_and_bad_input_without_the_extras(bare):
    for argv in (["--help"], *([name, "--help"] for name in COMMANDS)):
        done = nablab(bare, *argv)
        assert done.returncode == 0 and "usage: nablab" in done.stdout and done.stderr == ""
    done = nablab(bare, "frobnicate")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "invalid choice" in done.stderr
    done = nablab(bare, "show", "no-such-lab")
    assert done.returncode == 2 and done.stderr.startswith("nablab: error: unknown lab")


def test_a_ray_sweep_also_names_ray(bare):
    done = nablab(bare, "sweep", "xor-relu", "--grid", "lr=0.1,0.2", "--backend", "ray")
    assert done.returncode == 1
    assert done.stderr == (
        "nablab sweep needs matplotlib, rich, scikit-learn, threadpoolctl, ray: "
        "pip install 'nablab[cluster,lab]'\n"
    )


def test_the_named_packages_are_the_extras_of_the_installed_metadata(bare):
    bin_dir, work = bare
    probe = "import importlib.metadata as m, json; print(json.dumps(m.requires('nablab')))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the venv's metadata only
    done = subprocess.run(  # not run in the checkout: its nablab.egg-info would be read
        [str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, env=env, cwd=work
    )
    requires = json.loads(done.stdout)

    def extra(name):  # 'rich>=13; extra == "lab"' → 'rich'
        marked = [r.split(";")[0] for r in requires if r.replace("'", '"').endswith(f'"{name}"')]
        return {re.split("[<>=]", r)[0].strip() for r in marked}

    def dists(needs):
        return {dist for dist, _ in needs.values()}

    lab = dists(cli.LAB_NEEDS) | dists(cli.NOTEBOOK_NEEDS) | {"nablab[playground]"}
    assert extra("lab") == lab  # `pip install nablab[lab]` can run, write notebooks and serve
    assert extra("playground") == dists(cli.PLAYGROUND_NEEDS)
    assert extra("cluster") == dists(cli.RAY_NEEDS)


def interrupt_when(command, imported, env=None, occurrence=1):
    """Run ``command`` with import tracing, send Ctrl-C (SIGINT to its process group, as a
    terminal does) as soon as a module whose name starts with ``imported`` has been imported
    (for the ``occurrence``-th time: in a worker process); returns (exit code, stderr without
    the tracing lines, seconds from Ctrl-C to the exit)."""
    env = {**(env or os.environ), "PYTHONPROFILEIMPORTTIME": "1"}
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    said, seen, sent = [], 0, False
    for line in child.stderr:
        module = line.rsplit("|", 1)[-1].strip()
        if line.startswith("import time:"):
            seen += module.startswith(imported)
            if not sent and seen == occurrence:
                os.killpg(child.pid, signal.SIGINT)
                sent = time.perf_counter()
        else:
            said.append(line)
    code = child.wait(timeout=60)
    assert sent, f"{imported} was never imported"
    return code, "".join(said), time.perf_counter() - sent


@pytest.mark.parametrize("imported", ["numpy", "nablab.autograd", "nablab.labs."])
def test_ctrl_c_while_importing_exits_130_with_one_line(bare, imported):
    bin_dir, work = bare
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code, said, _ = interrupt_when([str(bin_dir / "nablab"), "labs"], imported, env)
    assert code == 130
    assert said == "\nnablab: interrupted\n"


def test_ctrl_c_while_a_lab_runs_exits_130_with_one_line(tmp_path):
    """With the extras (this environment): Ctrl-C once the lab is importing scikit-learn."""
    pytest.importorskip("sklearn")
    launcher = "import sys, nablab_console; sys.exit(nablab_console.main())"
    argv = ["run", "--quick", "xor-relu", "--no-progress", "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code, said, _ = interrupt_when([sys.executable, "-c", launcher, *argv], "sklearn", env)
    assert code == 130
    assert said == "\nnablab: interrupted; no results file was written for the unfinished lab\n"
    assert not (tmp_path / "results.json").exists()


def test_ctrl_c_while_sweep_workers_start_exits_130_with_one_line(tmp_path):
    """Ctrl-C reaches the workers too (the whole process group): while one is still importing
    nablab, neither it nor the sweep prints a traceback, and the sweep ends at once (its
    workers do not finish their tasks first: 35 s here before they were ended)."""
    pytest.importorskip("sklearn")
    launcher = "import sys, nablab_console; sys.exit(nablab_console.main())"
    argv = ["sweep", "xor-relu", "--quick", "--grid", "lr=0.1,0.2", "--workers", "2"]
    argv += ["--no-progress", "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", launcher, *argv]
    code, said, seconds = interrupt_when(command, "nablab.sweep.folder", env, occurrence=2)
    assert code == 130
    assert said == "\nnablab: interrupted; no results file was written for the unfinished lab\n"
    assert seconds < 10
