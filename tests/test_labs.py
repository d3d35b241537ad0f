"""Every lab, through the one runner: its quick variant runs, writes what it declares, and
every claim it declares holds (each claim is written once, in its lab's declaration)."""

import json

import pytest

import nablab.labs as labs
from nablab.report import claim_line

LAB_NAMES = sorted(labs.LABS)


# Quick variants whose per-seed verdicts are decided by floating-point rounding: measured on
# 2026-12-02, regularization --quick (2 seeds, 6,500 steps) gives ✔✔✔ with OpenBLAS's
# Haswell kernels, ✔✘✔ with Prescott's and ✔✘✘ with SkylakeX's (OPENBLAS_CORETYPE=...;
# 20,000 steps does not settle it either). Their claims are asserted on the full run instead
# (tests/test_lab_regularization.py, NABLAB_SLOW=1, which CI sets); here they must be
# evaluated, each with its numbers.
ROUNDING_DECIDES_QUICK = {"regularization"}


@pytest.mark.parametrize("name", LAB_NAMES)
def test_quick_variant_shows_every_claim(name, quick_run):
    result = quick_run(name)
    lab = labs.get_lab(name)
    assert lab.claims, f"{name} declares no claim"
    assert len(result.claims) == len(lab.claims)
    if name in ROUNDING_DECIDES_QUICK:
        assert all(c["holds"] is not None and c["numbers"] for c in result.claims)
        return
    failed = [claim_line(c) for c in result.claims if c["holds"] is not True]
    assert not failed, f"{name} --quick: claims that do not hold:\n" + "\n".join(failed)


@pytest.mark.parametrize("name", LAB_NAMES)
def test_quick_variant_writes_figures_and_results(name, quick_run):
    result = quick_run(name)
    assert result.tables and result.answer and result.question and result.setting
    assert result.figures, f"{name} made no figure"
    for figure in result.figures:
        assert figure.exists() and figure.stat().st_size > 0, figure
    saved = json.loads((result.out / "results.json").read_text())
    assert saved["lab"] == name and saved["quick"] is True
    assert saved["parameters"] == json.loads(json.dumps(result.params))
    assert [c["holds"] for c in saved["claims"]] == [c["holds"] for c in result.claims]
    assert saved["nablab_version"]


@pytest.mark.parametrize("name", LAB_NAMES)
def test_declaration_is_complete(name):
    lab = labs.get_lab(name)
    assert lab.summary and lab.source and lab.question
    for p in lab.params:
        assert p.help, f"{name}.{p.name} has no help"
        p.check(p.value(quick=False))
        p.check(p.value(quick=True))
    if lab.length is not None:
        assert lab.param(lab.length).kind is int


def test_every_lab_exposes_the_issues_main_knobs():
    required = {
        "xor-relu": {"hidden", "lr", "epochs"},
        "regularization": {"l2", "weight_decay", "dropout", "lr"},
        "dead-relu": {"bias", "slopes"},
        "zero-init": {"init_value"},
        "vanishing-mlp": {"activations", "lr"},
        "rnn-lm": {"hidden", "epochs", "lr", "models"},
    }
    for name, knobs in required.items():
        declared = {p.name for p in labs.get_lab(name).params}
        assert knobs <= declared, f"{name} lacks {knobs - declared}"
    for name in LAB_NAMES:
        assert labs.get_lab(name).params, f"{name} exposes no parameter"


def test_runner_docstring_examples_hold():
    import doctest

    from nablab.labs import runner

    failed, tried = doctest.testmod(runner)
    assert tried >= 2 and failed == 0
