"""The playground in a real browser: Playwright drives Debian's Chromium against a uvicorn
server started in a thread.

Skipped only when Playwright or Chromium is missing and NABLAB_REQUIRE_BROWSER is unset; CI
sets NABLAB_REQUIRE_BROWSER=1, and then a missing browser fails these tests. Screenshots go to
tmp/artifacts/playground/ (and, with NABLAB_UPDATE_SCREENSHOT=1, the README's
docs/playground.png); the frames/s of a [2, 8, 8, 1] net on 500 points goes to
tmp/artifacts/playground/browser_fps.json (benchmarks/bench_playground.py reads it).
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tmp" / "artifacts" / "playground"
CHROMIUM = os.environ.get("NABLAB_CHROMIUM", "/usr/bin/chromium")
REQUIRED = bool(os.environ.get("NABLAB_REQUIRE_BROWSER"))


def _missing() -> str | None:
    for module in ("playwright", "starlette", "uvicorn", "websockets"):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    return None


@pytest.fixture(scope="module")
def server():
    reason = _missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"NABLAB_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    import uvicorn

    from nablab.playground.server import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 960})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.open = lambda query="": _open(page, server, query)
    yield page
    page.close()
    assert not errors, errors


def _open(page, server, query):
    page.goto(f"{server}/?{query}")
    page.wait_for_function("window.pgStats.frames > 0", timeout=15000)


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def play_until(page, steps, timeout=30000):
    page.click("#play")
    page.wait_for_function(f"window.pgStats.step >= {steps}", timeout=timeout)
    page.click("#play")
    page.wait_for_timeout(150)  # the last frame in flight


def stats(page):
    return page.evaluate("({...window.pgStats})")


def test_page_loads_with_the_network_and_the_boundary(page):
    page.open()
    assert page.title() == "nablab playground"
    assert page.locator(".node.input").count() == 7  # every feature, unused ones dimmed
    assert page.locator("#h-1-0").count() == 1 and page.locator("#h-2-1").count() == 1
    assert page.locator("#links path").count() == 2 * 4 + 4 * 2 + 2
    assert "dataset=circle" in page.url  # the state is in the URL
    shot(page, "load")


def test_play_on_circle_lowers_the_test_loss(page):
    page.open("dataset=circle&hidden=8,8&act=relu&points=500&batch=25&spf=10&lr=0.1")
    first = stats(page)["test_loss"]
    page.click("#play")
    page.wait_for_function("window.pgStats.step >= 100", timeout=15000)
    before, start = stats(page), time.monotonic()
    page.wait_for_timeout(2000)
    now, seconds = stats(page), time.monotonic() - start
    fps = (now["frames"] - before["frames"]) / seconds
    drawn = now["frames"] - before["frames"]
    steps_per_frame = (now["step"] - before["step"]) / drawn
    page.wait_for_function("window.pgStats.step >= 800", timeout=60000)
    page.click("#play")
    page.wait_for_timeout(150)
    after = stats(page)
    assert after["test_loss"] < 0.5 * first, (first, after)
    # each drawn frame shows at least one chunk of 10 steps (one chunk received before the
    # window may be drawn in it)
    assert steps_per_frame >= 10 * (drawn - 1) / drawn
    assert float(page.inner_text("#epoch")) > 0 and int(page.inner_text("#steps")) >= 800
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser_fps.json").write_text(
        json.dumps(
            {
                "net": [2, 8, 8, 1],
                "points": 500,
                "fps": fps,
                "steps_per_drawn_frame": steps_per_frame,
            }
        )  # fmt: skip
    )
    page.check("#show-test")
    shot(page, "circle-trained")
    if os.environ.get("NABLAB_UPDATE_SCREENSHOT"):
        page.screenshot(path=str(ROOT / "docs" / "playground.png"))


def test_changing_the_activation_restarts_the_run(page):
    page.open("hidden=4,2&act=tanh")
    play_until(page, 50)
    page.select_option("#activation", "relu")
    page.wait_for_function("window.pgStats.step === 0", timeout=10000)
    assert "act=relu%2Crelu" in page.url or "act=relu,relu" in page.url
    assert page.locator(".column-head select").evaluate_all("s => s.map(x => x.value)") == [
        "relu",
        "relu",
    ]
    assert page.inner_text("#steps") == "0"


def test_dead_relu_preset_shows_the_finding_and_greys_the_units(page):
    page.open()
    page.select_option("#preset", "dead-relu")
    page.wait_for_function("location.search.includes('bias=-8')", timeout=10000)
    page.click("#step")
    page.wait_for_selector("#findings li[data-kind=dead-units]", timeout=10000)
    assert page.locator(".node.dead").count() == 12  # 4 layers × 3 units
    assert "output exactly 0" in page.inner_text("#findings")
    shot(page, "dead-relu")


def test_vanishing_mlp_preset_marks_the_layers_near_the_input(page):
    page.open()
    page.select_option("#preset", "vanishing-mlp")
    page.wait_for_function("location.search.includes('act=sigmoid')", timeout=10000)
    play_until(page, 60)
    page.wait_for_selector("#findings li[data-kind=vanishing-gradients]", timeout=10000)
    assert page.locator("#head-1.flagged").count() == 1
    assert "vanishing" in page.inner_text("#head-1")
    assert page.locator("#head-4.flagged").count() == 0  # the layer next to the output learns
    shot(page, "vanishing-mlp")


def test_exported_script_reproduces_the_page_loss(page, tmp_path):
    page.open("dataset=moons&hidden=5,3&act=tanh,relu&optimizer=adam&lr=0.01&dropout=0.1")
    play_until(page, 200)
    page.click("#export")
    page.wait_for_selector("#export-box:not([hidden])")
    script = page.input_value("#export-text")
    shown = stats(page)
    path = tmp_path / "exported.py"
    path.write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    losses = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines()[:2])
    assert f"STEPS = {shown['step']}" in script
    assert abs(float(losses["train loss"]) - shown["train_loss"]) < 1e-6
    assert abs(float(losses["test loss"]) - shown["test_loss"]) < 1e-6
    shot(page, "export")


def test_bad_upload_shows_its_error(page, tmp_path):
    page.open()
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,oops,0\n0.7,0.8,1\n")
    page.set_input_files("#upload", str(bad))
    page.wait_for_selector("#error:not([hidden])", timeout=10000)
    assert "row 4: x1 and x2 must be numbers" in page.inner_text("#error-text")
    shot(page, "bad-upload")
    page.fill("#wd", "0.7")
    page.dispatch_event("#wd", "change")
    page.wait_for_function(
        "document.getElementById('error-text').textContent.includes('wd: expected a number')"
    )
    assert page.input_value("#wd") == "0.0"  # the control is back at the running value
    big = tmp_path / "big.csv"
    big.write_text("0.1,0.2,0\n" * 20000)
    page.set_input_files("#upload", str(big))
    page.wait_for_function(
        "document.getElementById('error-text').textContent.includes('the limit is')"
    )
    good = tmp_path / "good.csv"
    rows = (f"{i / 40 - 0.5},{(i * 7 % 40) / 40 - 0.5},{i % 2}\n" for i in range(40))
    good.write_text("".join(rows))
    page.set_input_files("#upload", str(good))
    page.wait_for_function("location.search.includes('dataset=csv')", timeout=10000)


def test_layers_neurons_features_and_a_weight_by_hand(page):
    page.open("hidden=4,2&act=tanh&features=x1,x2")
    page.click("#add-layer")
    page.wait_for_selector("#h-3-1")
    page.click("#head-1 button >> text=+")
    page.wait_for_selector("#h-1-4")
    page.click("#remove-layer")
    page.wait_for_function("new URLSearchParams(location.search).get('hidden') === '5,2'")
    page.click("#feature-x1sq")
    page.wait_for_function("new URLSearchParams(location.search).get('features') === 'x1,x2,x1sq'")
    links = 3 * 5 + 5 * 2 + 2  # drawn with the first frame after the new layout
    page.wait_for_function(f"document.querySelectorAll('#links path').length === {links}")
    link = page.locator('#links path[data-layer="fc1"][data-row="0"][data-column="2"]')
    link.dispatch_event("click")
    page.wait_for_selector("#weight-editor:not([hidden])")
    assert page.inner_text("#weight-label") == "fc1.weight[0, 2]"
    page.fill("#weight-value", "1.5")
    page.press("#weight-value", "Enter")
    page.wait_for_function(
        'document.querySelector(\'#links path[data-layer=fc1][data-row="0"][data-column="2"]\')'
        ".dataset.weight === '1.5'"
    )
    assert "edits=0%3Afc1%3A0%3A2%3A1.5" in page.url or "edits=0:fc1:0:2:1.5" in page.url
