"""The report as a handout: course order, title, summary, answer-first sections, a quick banner,
a failed lab as one line, self-contained, print CSS; `report --from DIR` rebuilds the same page
without running (minus timings); and its first screen in headless Chromium."""

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from nablab import cli
from nablab.labs import LABS, Claim, Outcome, Param, Table, lab
from nablab.report import COURSE, course_parts
from nablab.report.run import LabInfo, LabRun
from nablab.viz import curves, save

CALLS = []


def _good(p, ctx):
    CALLS.append(ctx.seed)
    figures = [save(curves({"loss": [3.0, 2.0, 1.0 / (k + 1)]}), ctx.out / f"f{k}.png")
               for k in range(2)]  # fmt: skip
    return Outcome(
        tables=[Table("numbers", ["name", "ours"], [["a", np.float64(0.25)], ["b", None]])],
        figures=figures,
        metrics={"value": 0.25},
        notes=["a note"],
    )


def _broken(p, ctx):
    raise ValueError("the data went missing")


@pytest.fixture
def two_labs():
    """'zz-good' (two figures, a claim that holds and one that fails) and 'aa-broken'."""
    common = dict(source="tests", question="Does <it> work?", setting="steps {steps}",
                  params=[Param("steps", 100, "steps", quick=3, min=1)])  # fmt: skip
    lab("zz-good", summary="a lab that works", answer="It works. The rest is detail.",
        claims=[Claim("holds", lambda m, p: True), Claim("fails", lambda m, p: False)],
        **common)(_good)  # fmt: skip
    lab("aa-broken", summary="a lab that raises", answer="-", **common)(_broken)
    yield "zz-good,aa-broken"
    LABS.pop("zz-good", None)
    LABS.pop("aa-broken", None)


def _untimed(page: str) -> str:
    return re.sub(r"<span class=time>.*?</span>", "", page)


def _report(labs, out, *extra):
    argv = ["report", "--quick", "--labs", labs, "--out", str(out), "--no-progress", *extra]
    return cli.main(argv)


def test_report_from_a_folder_is_the_same_page_without_running(two_labs, tmp_path, capsys):
    assert _report(two_labs, tmp_path, "--title", "Week 3 <handout>") == 1  # one lab failed
    first = (tmp_path / "report.html").read_text()
    CALLS.clear()
    assert cli.main(["report", "--from", str(tmp_path)]) == 1
    assert CALLS == []  # nothing ran
    rebuilt = (tmp_path / "report.html").read_text()
    assert _untimed(rebuilt) == _untimed(first) and "<span class=time>" in first
    assert "<title>Week 3 &lt;handout&gt;</title>" in rebuilt
    moved = tmp_path.parent / "moved"
    shutil.copytree(tmp_path, moved)  # the folder travels: figures are found beside it
    assert cli.main(["report", "--from", str(moved), "--title", "Again"]) == 1
    again = (moved / "report.html").read_text()
    assert "<h1>Again</h1>" in again and again.count("data:image/png;base64,") == 2


def test_report_from_names_a_folder_without_results(tmp_path, capsys):
    assert cli.main(["report", "--from", str(tmp_path)]) == 1
    assert "no report.json and no LAB/results.json in" in capsys.readouterr().err


class _Structure(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.sections, self.srcs, self.hrefs, self.details = [], [], [], [], 0
        self.text: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.stack.append(tag)
        if tag == "section":
            self.sections.append(attrs["id"])
        self.srcs += [attrs["src"]] if "src" in attrs else []
        self.hrefs += [attrs["href"]] if "href" in attrs else []
        self.details += tag == "details"

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.stack:
            self.text.setdefault(self.stack[-1], []).append(data)


def test_handout_structure(two_labs, tmp_path):
    _report(two_labs, tmp_path, "--title", "Handout")
    page = (tmp_path / "report.html").read_text()
    s = _Structure()
    s.feed(page)
    assert s.text["h1"] == ["Handout"]
    assert s.sections == ["zz-good", "aa-broken"]  # not in the course: in the order given
    assert all(src.startswith("data:image/png;base64,") for src in s.srcs) and len(s.srcs) == 2
    assert all(href.startswith("#") for href in s.hrefs)  # self-contained: no file, no URL
    summary = page[page.index("<nav>") : page.index("</nav>")]
    assert "It works." in summary and "The rest is detail" not in summary  # one line
    assert "<span class=ok>✔ 1</span> <span class=err>✘ 1</span>" in summary
    good = page[page.index('<section id="zz-good">') : page.index('<section id="aa-broken">')]
    assert good.index("class=answer") < good.index("<table") < good.index("<figure>")
    assert "<div class=grid>" in good
    broken = page[page.index('<section id="aa-broken">') :]
    assert "<p class=err>The lab failed: ValueError: the data went missing</p>" in broken
    assert broken.index("<details><summary>traceback</summary><pre>Traceback") > 0
    assert "class=banner" in page and "Quick run." in page
    assert "@media print" in page and "@page" in page


def test_no_banner_on_a_full_run_and_the_course_order(tmp_path):
    def run_of(name):
        return LabRun(LabInfo(name, "s", "src"), None, 1.0, "Traceback\nValueError: x")

    names = [name for _, part in COURSE for name in part]
    assert sorted(names) == sorted(n for n in LABS if n in names) and len(set(names)) == len(names)
    assert set(names) >= {n for n in LABS if not n.startswith(("zz-", "aa-", "tiny"))}
    runs = [run_of(n) for n in ["regularization", "mine", "rnn-lm", "xor-relu", "optimizers"]]
    parts = [(title, [r.lab.name for r in part]) for title, part in course_parts(runs)]
    assert parts == [
        ("Feed-forward basics", ["xor-relu", "regularization"]),
        ("Recurrent networks", ["rnn-lm"]),
        ("Optimization", ["optimizers"]),
        ("Other labs", ["mine"]),
    ]
    from nablab.report import render_html

    assert "class=banner" not in render_html(runs)


def _browser():
    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not chromium.exists():
        if os.environ.get("NABLAB_REQUIRE_BROWSER"):
            pytest.fail("NABLAB_REQUIRE_BROWSER is set but playwright or chromium is missing")
        pytest.skip("playwright or /usr/bin/chromium is missing")
    return sync_playwright, str(chromium)


def test_first_screen_in_headless_chromium(two_labs, tmp_path):
    sync_playwright, chromium = _browser()
    _report(two_labs, tmp_path, "--title", "Week 3")
    page_path = tmp_path / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(page_path.as_uri())
        shot = page.screenshot(path=str(tmp_path / "first-screen.png"))
        box = {sel: page.locator(sel).first.bounding_box()
               for sel in ("h1", ".banner", "table.summary", "#zz-good figure")}  # fmt: skip
        tops = page.locator("#zz-good .grid > *").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().top)"
        )
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        pdf = page.pdf(format="A4")
        browser.close()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 10_000
    for sel in ("h1", ".banner", "table.summary"):  # the title, banner and summary come first
        assert box[sel] is not None and box[sel]["y"] < 800, sel
    assert box["h1"]["y"] < box[".banner"]["y"] < box["table.summary"]["y"]
    assert len(tops) == 3 and abs(tops[0] - tops[1]) < 20 < tops[2] - tops[1]  # side by side
    assert not overflow
    assert pdf[:5] == b"%PDF-"


def test_report_on_workers_is_the_same_page(tmp_path):
    labs = "vanishing-chain,activations"
    assert _report(labs, tmp_path / "one") == 0
    assert _report(labs, tmp_path / "two", "--workers", "2") == 0
    one, two = ((tmp_path / d / "report.html").read_text() for d in ("one", "two"))
    assert _untimed(two) == _untimed(one).replace(str(tmp_path / "one"), str(tmp_path / "two"))
    assert '<section id="vanishing-chain">' in two and "data:image/png;base64," in two


def test_report_on_workers_names_a_lab_a_worker_cannot_import(two_labs, tmp_path):
    assert _report("zz-good,vanishing-chain", tmp_path, "--workers", "2") == 1
    page = (tmp_path / "report.html").read_text()
    assert "zz-good" in page and "UnknownLabError" in page
    assert '<section id="vanishing-chain">' in page


def test_report_passes_iterations_to_every_lab(tmp_path):
    assert _report("vanishing-chain,xor-relu", tmp_path, "--iterations", "7") == 0
    import json

    results = json.loads((tmp_path / "xor-relu" / "results.json").read_text())
    assert results["parameters"][LABS["xor-relu"].length] == 7  # vanishing-chain has no length
