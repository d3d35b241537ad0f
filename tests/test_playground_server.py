"""The playground server through Starlette's test client: the session's life, every control's
validation, the stream, the export (run in a subprocess), uploads, limits and disconnects."""

import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from nablab.playground import presets  # noqa: E402
from nablab.playground.server import create_app  # noqa: E402
from nablab.playground.spec import Limits, Spec, SpecError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app():
    return create_app(Limits(max_sessions=2, max_points=600, max_upload_bytes=5000))


@pytest.fixture
def client(app):
    return TestClient(app)


def start(ws, query=""):
    """hello, then a config: returns (layout, first frame)."""
    assert ws.receive_json()["type"] == "hello"
    ws.send_json({"type": "config", "query": query})
    layout, frame = ws.receive_json(), ws.receive_json()
    assert layout["type"] == "layout" and frame["type"] == "frame", (layout, frame)
    return layout, frame


def ask(ws, message):
    ws.send_text(message if isinstance(message, str) else json.dumps(message))
    return ws.receive_json()


def test_page_and_static_files_served_and_nothing_else(client):
    page = client.get("/")
    assert page.status_code == 200 and "nablab playground" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    for path in ("/static/../server.py", "/static/%2e%2e/server.py", "/static/../../cli.py",
                 "/etc/passwd", "/static/nope.js"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 404, path
        assert "import" not in response.text


def test_the_page_offers_the_activation_catalogue(client):
    from nablab import activations

    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
    assert list(hello["activations"]) == [*activations.NAMES, "linear"]
    assert hello["activations"]["leaky_relu"] == "Leaky ReLU (0.01)"


def test_session_life_cycle_train_step_reset(client, app):
    with client.websocket_connect("/ws") as ws:
        layout, frame = start(ws, "dataset=circle&hidden=4,2&act=tanh&lr=0.3&seed=3")
        assert layout["query"].startswith("dataset=circle")
        assert "seed=3" in layout["query"] and layout["layers"] == [2, 4, 2, 1]
        assert len(layout["train"]) + len(layout["test"]) == 500
        assert frame["step"] == 0 and len(app.state.sessions) == 1
        first = ask(ws, {"type": "train"})
        assert first["step"] == 10 and first["epoch"] == pytest.approx(10 * 10 / 250)
        assert ask(ws, {"type": "step"})["step"] == 11
        for _ in range(60):
            last = ask(ws, {"type": "train"})
        assert last["test_loss"] < 0.8 * frame["test_loss"]  # the circle is being learned
        assert set(last["grad_norms"]) == {"fc1", "fc2", "out"}
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["type"] == "layout"
        again = ws.receive_json()
        assert again["step"] == 0 and again["test_loss"] == frame["test_loss"]  # seeded


def test_frame_contents_sizes(client):
    with client.websocket_connect("/ws") as ws:
        layout, frame = start(ws, "hidden=8,8&act=relu")
        import base64

        assert len(base64.b64decode(frame["output"]["value"])) == layout["grid"] ** 2
        assert [len(layer) for layer in frame["neurons"]] == [8, 8]
        assert len(base64.b64decode(frame["neurons"][0][0])) == layout["neuron_grid"] ** 2
        assert [len(w["w"]) for w in frame["weights"]] == [8, 8, 1]


def test_multi_class_softmax_output(client):
    with client.websocket_connect("/ws") as ws:
        layout, frame = start(ws, "dataset=spiral&classes=3&hidden=8&act=relu&points=300")
        assert layout["classes"] == 3 and layout["layers"][-1] == 3
        assert set(frame["output"]) == {"class", "confidence", "units"}
        assert len(frame["output"]["units"]) == 3  # one probability heatmap per class


def test_same_query_same_run_and_url_round_trip():
    spec = Spec.from_query("dataset=moons&hidden=3,3&act=relu,tanh&lr=0.1&bias=-1&seed=4")
    assert Spec.from_query(spec.to_query()) == spec
    assert spec.act == ("relu", "tanh") and spec.bias == -1.0
    assert Spec.from_query("hidden=5,5&act=sigmoid").act == ("sigmoid", "sigmoid")


BAD_VALUES = [
    ("dataset=nope", "dataset", "expected one of circle, xor, gauss, spiral, moons"),
    ("classes=3", "classes", "only gauss and spiral can have more than 2 classes"),
    ("dataset=spiral&classes=9", "classes", "expected an integer from 2 to 5"),
    ("points=5", "points", "expected an integer from 20 to 600"),
    ("noise=lots", "noise", "expected a number from 0.0 to 1.0, got 'lots'"),
    ("noise=nan", "noise", "expected a number from 0.0 to 1.0"),
    ("train=95", "train", "expected an integer from 10 to 90"),
    ("batch=0", "batch", "expected an integer from 1 to 600"),
    ("points=100&batch=200", "batch", "at most the number of points (100)"),
    ("features=x3", "features", "expected items from x1, x2, x1sq"),
    ("features=", "features", "expected at least one of x1"),
    ("features=x1,x1", "features", "each feature at most once"),
    ("hidden=4,99", "hidden", "expected layer sizes from 1 to 8 neurons, got '99'"),
    ("hidden=1,1,1,1,1,1,1", "hidden", "at most 6 hidden layers, got 7"),
    ("hidden=4,2&act=relu,tanh,relu", "act", "one per hidden layer (2), got 3"),
    (
        "act=swish",
        "act",
        "expected items from sigmoid, tanh, relu, leaky_relu, elu, softplus, linear",
    ),
    ("dropout=0.95", "dropout", "expected a number from 0.0 to 0.9"),
    ("lr=0", "lr", "expected a number above 0.0 to 10.0"),
    ("lr=-1", "lr", "expected a number above 0.0"),
    ("optimizer=lbfgs", "optimizer", "expected one of sgd, momentum, adam"),
    ("wd=0.7", "wd", "expected a number from 0.0 to 0.5"),
    ("reg=l3", "reg", "expected one of none, l1, l2"),
    ("reg_rate=100", "reg_rate", "expected a number from 0.0 to 10.0"),
    ("init=ones", "init", "expected one of default, xavier, kaiming, normal, zero, constant"),
    ("init_value=50", "init_value", "expected a number from -10.0 to 10.0"),
    ("bias=x", "bias", "expected a number from -20.0 to 20.0, got 'x'"),
    ("seed=-1", "seed", "expected an integer from 0"),
    ("seed=1.5", "seed", "expected an integer"),
    ("spf=1000", "spf", "expected an integer from 1 to 100"),
    ("colour=red", "colour", "unknown setting; expected one of dataset"),
    ("x" * 5000, "query", "at most 4000 characters"),
    ("edits=1:fc1:0", "edits", "expected step:layer:row:column:value items joined by ';'"),
    (
        "edits=1:fc7:0:0:1.0",
        "edits",
        "edit 1 (1:fc7:0:0:1.0): layer: expected one of fc1, fc2, out",
    ),
    (
        "edits=1:fc1:0:0:1.0;2:out:1:0:1.0",
        "edits",
        "edit 2 (2:out:1:0:1.0): row: expected an integer from 0 to 0, got 1",
    ),
    ("edits=1:fc1:0:5:1.0", "edits", "column: expected an integer from 0 to 1, got 5"),
    ("edits=1:fc1:0:0:500.0", "edits", "value: expected a number within ±100.0, got 500.0"),
    ("edits=-1:fc1:0:0:1.0", "edits", "step: expected an integer from 0 to 10000000"),
    ("edits=" + ";".join(["1:fc1:0:0:1.0"] * 65), "edits", "at most 64 weights set by hand"),
    ("dataset=csv", "dataset", "csv needs an uploaded file"),
]


@pytest.mark.parametrize(("query", "field", "message"), BAD_VALUES)
def test_every_control_is_validated_with_a_clear_message(client, query, field, message):
    with client.websocket_connect("/ws") as ws:
        start(ws)
        error = ask(ws, {"type": "config", "query": query})
        assert error["type"] == "error" and error["field"] == field, error
        assert message in error["message"]
        assert ask(ws, {"type": "step"})["step"] == 1  # the session goes on, unchanged


def test_spec_error_names_the_field():
    with pytest.raises(SpecError, match=r"^lr: expected a number above 0.0 to 10.0, got '0'$"):
        Spec.from_query("lr=0")


BAD_MESSAGES = [
    ("not json", "message", "expected JSON"),
    ("[1, 2]", "message", 'a JSON object with a string "type"'),
    ('{"type": 3}', "message", 'a JSON object with a string "type"'),
    ('{"type": "fly"}', "type", "expected one of config, reset, train"),
    ('{"type": "config"}', "query", "expected a str, got nothing"),
    ('{"type": "config", "query": 5}', "query", "expected a str, got int"),
    ('{"type": "set_weight", "layer": "fc9", "row": 0, "column": 0, "value": 1}', "layer",
     "expected one of fc1, fc2, out, got 'fc9'"),
    ('{"type": "set_weight", "layer": "fc1", "row": 4, "column": 0, "value": 1}', "row",
     "expected an integer from 0 to 3, got 4"),
    ('{"type": "set_weight", "layer": "fc1", "row": 0, "column": "a", "value": 1}', "column",
     "expected an integer from 0 to 1"),
    ('{"type": "set_weight", "layer": "fc1", "row": 0, "column": 0, "value": 1e9}', "value",
     "expected a number within ±100.0"),
    ('{"type": "set_weight", "layer": "fc1", "row": 0, "column": 0, "value": "1"}', "value",
     "expected a number within"),
    ('{"type": "upload"}', "text", "expected a str"),
    ("x" * 7000, "message", "at most 6000 bytes"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "field", "message"), BAD_MESSAGES)
def test_malformed_messages_get_an_error_and_the_session_lives(client, text, field, message):
    with client.websocket_connect("/ws") as ws:
        start(ws)
        error = ask(ws, text)
        assert error == {"type": "error", "field": field, "message": error["message"]}
        assert message in error["message"]
        assert "Traceback" not in error["message"]
        assert ask(ws, {"type": "train"})["step"] == 10


def test_a_diverging_run_streams_strict_json_and_goes_on(client):
    with client.websocket_connect("/ws") as ws:
        start(ws, "dataset=plane&lr=10&optimizer=momentum&init=constant&init_value=10")
        for _ in range(5):
            ws.send_json({"type": "train"})
            text = ws.receive_text()
            frame = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} sent"))
        assert frame["type"] == "frame" and frame["train_loss"] is None
        assert set(frame["grad_norms"].values()) == {None}
        assert any(f["kind"] == "non-finite" for f in frame["findings"]), frame["findings"]


def test_messages_before_config_are_refused(client):
    with client.websocket_connect("/ws") as ws:
        ws.receive_json()
        error = ask(ws, {"type": "train"})
        assert error["type"] == "error" and "send {" in error["message"]
        error = ask(ws, {"type": "fly"})
        assert (
            error["field"] == "type" and "expected one of config, reset, train" in error["message"]
        )


def set_weight(ws, layer, row, column, value):
    """Set a weight by hand: returns (the new query, the frame)."""
    state = ask(ws, {"type": "set_weight", "layer": layer, "row": row, "column": column,
                     "value": value})  # fmt: skip
    assert state["type"] == "state", state
    return state["query"], ws.receive_json()


def test_set_weight_changes_the_model_the_frame_and_the_url(client):
    with client.websocket_connect("/ws") as ws:
        start(ws)
        ask(ws, {"type": "train"})
        query, frame = set_weight(ws, "fc1", 1, 0, 2.5)
        assert frame["weights"][0]["w"][1][0] == 2.5
        assert "edits=10:fc1:1:0:2.5" in query


def test_a_link_with_weights_set_by_hand_reproduces_the_run(client):
    with client.websocket_connect("/ws") as ws:
        start(ws, "hidden=4,2&act=relu")
        ask(ws, {"type": "train"})
        set_weight(ws, "fc2", 1, 3, -1.5)
        ask(ws, {"type": "train"})
        query, _ = set_weight(ws, "out", 0, 0, 0.75)
        for _ in range(3):
            frame = ask(ws, {"type": "train"})
        ws.send_json({"type": "reset"})  # the same state from step 0 replays both edits
        ws.receive_json(), ws.receive_json()
        for _ in range(5):
            again = ask(ws, {"type": "train"})
    assert "edits=10:fc2:1:3:-1.5;20:out:0:0:0.75" in query
    with client.websocket_connect("/ws") as ws:  # the link, opened in another tab
        start(ws, query)
        for _ in range(5):
            linked = ask(ws, {"type": "train"})
    assert frame["step"] == again["step"] == linked["step"] == 50
    assert frame["train_loss"] == again["train_loss"] == linked["train_loss"]
    assert frame["weights"] == linked["weights"]


def test_weight_shapes_match_the_model():
    from nablab.playground.session import Session

    for query in ("hidden=4,2", "hidden=", "dataset=spiral&classes=4&hidden=3&features=x1,sinx2",
                  "dataset=bumps&hidden=5,5,5"):  # fmt: skip
        session = Session(Spec.from_query(query))
        shapes = {name: tuple(m.weight.shape) for name, m in session.linears}
        assert shapes == session.spec.weight_shapes()


def run_script(text, tmp_path):
    path = tmp_path / "exported.py"
    path.write_text(text)
    assert "playground" not in "".join(
        line for line in text.splitlines() if line.startswith(("import", "from"))
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.rsplit(" ", 1) for line in done.stdout.splitlines()[:2])
    return float(lines["train loss"]), float(lines["test loss"]), done.stdout


EXPORTED = [
    "dataset=circle&hidden=4,2&act=tanh&lr=0.3",
    "dataset=spiral&classes=3&hidden=8,6&act=relu,tanh&optimizer=adam&wd=0.001&dropout=0.2"
    "&lr=0.01&features=x1,x2,sinx1,sinx2&points=300",
    "dataset=bumps&hidden=6&act=sigmoid&reg=l2&reg_rate=0.001&optimizer=momentum"
    "&init=xavier&bias=0.1&lr=0.05&features=x1,x2,x1sq,x2sq,x1x2",
    "dataset=xor&hidden=3&act=leaky_relu&reg=l1&reg_rate=0.001&init=constant&init_value=0.2"
    "&batch=1&seed=7",
    "dataset=moons&hidden=5,5&act=elu,softplus&lr=0.1",  # any activation of the catalogue
]


@pytest.mark.parametrize("query", EXPORTED)
def test_export_reproduces_the_loss_to_1e6(client, tmp_path, query):
    with client.websocket_connect("/ws") as ws:
        start(ws, query)
        for _ in range(7):
            ask(ws, {"type": "train"})
        set_weight(ws, "fc1", 0, 1, 0.7)
        frame = ask(ws, {"type": "step"})
        export = ask(ws, {"type": "export"})
    assert export["type"] == "export" and export["steps"] == 71
    train, test, out = run_script(export["script"], tmp_path)
    assert abs(train - frame["train_loss"]) < 1e-6
    assert abs(test - frame["test_loss"]) < 1e-6
    assert "Monitor:" in out
    assert_clean_python(export["script"], tmp_path)


def assert_clean_python(text, tmp_path):
    """A script a student can read: ruff-formatted and lint-clean (at the project's 100)."""
    if importlib.util.find_spec("ruff") is None:
        return
    path = tmp_path / "formatted.py"
    path.write_text(text)
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--line-length", "100", str(path)],
            capture_output=True, text=True, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


GOOD_CSV = "x1,x2,label\n" + "\n".join(
    f"{(i % 7) / 7 - 0.5},{(i % 5) / 5 - 0.5},{i % 3}" for i in range(60)
)


def test_upload_good_csv_trains_and_exports(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        start(ws)
        layout = ask(ws, {"type": "upload", "text": GOOD_CSV})
        assert layout["type"] == "layout" and "dataset=csv" in layout["query"]
        assert layout["classes"] == 3 and len(layout["train"]) + len(layout["test"]) == 60
        ws.receive_json()
        frame = ask(ws, {"type": "train"})
        export = ask(ws, {"type": "export"})
    train, _, _ = run_script(export["script"], tmp_path)
    assert abs(train - frame["train_loss"]) < 1e-6
    assert_clean_python(export["script"], tmp_path)


BAD_CSV = [
    ("1,2\n3,4\n5,6\n7,8", "row 1: expected 3 fields x1,x2,label, got 2"),
    ("x1,x2,label\n1,2,0\n3,4,1\n5,a,0\n7,8,1", "row 4: x1 and x2 must be numbers"),
    ("1,2,0\n3,4,1\n5,6,0.5\n7,8,1", "row 3: the label must be a class index 0 to 4, got '0.5'"),
    ("1,2,0\n3,4,9\n5,6,0\n7,8,1", "got '9'"),
    ("1,2,0\n3,inf,1\n5,6,0\n7,8,1", "row 2: x1 and x2 must be finite"),
    ("1,2,0\n3,4,0\n5,6,0\n7,8,0", "one class only"),
    ("1,2,0\n3,4,1", "at least 4 rows"),
    ("\n".join(f"0,0,{i % 2}" for i in range(700)), "700 rows; the limit is 600"),
    ("1,2,0\n" * 850, "the file has 5100 bytes; the limit is 5000"),
    ("1,2,0\n" * 2000, "message: at most 6000 bytes (an upload at most 5000)"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSV)
def test_bad_upload_is_refused_with_a_message(client, text, message):
    with client.websocket_connect("/ws") as ws:
        start(ws)
        error = ask(ws, {"type": "upload", "text": text})
        assert error["type"] == "error" and error["field"] in ("upload", "message"), error
        assert message in error["message"]
        assert ask(ws, {"type": "step"})["step"] == 1


def test_binary_frames_are_refused_and_the_session_lives(client):
    with client.websocket_connect("/ws") as ws:
        start(ws)
        ws.send_bytes(b"\x00\x01")
        error = ws.receive_json()
        assert error["field"] == "message" and "expected a JSON text message" in error["message"]
        assert ask(ws, {"type": "step"})["step"] == 1


def test_pages_of_other_sites_are_refused(client, app):
    with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
        refused = ws.receive_json()
        assert (
            refused["field"] == "session"
            and "http://evil.example may not use" in refused["message"]
        )
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        start(ws)  # the playground's own page
    assert not app.state.sessions


def test_session_cap(client, app):
    with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
        start(a), start(b)
        with client.websocket_connect("/ws") as c:
            refused = c.receive_json()
            assert (
                refused["type"] == "error" and "2 sessions open (the limit)" in refused["message"]
            )
        assert len(app.state.sessions) == 2


def _wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_disconnect_mid_training_frees_the_session_and_its_model(client, app, monkeypatch):
    from nablab.autograd import tensor as tensor_module
    from nablab.playground import server

    listeners = len(tensor_module.accumulate_listeners)
    models = []
    made = server.Session

    def recording(*args, **kwargs):
        session = made(*args, **kwargs)
        models.append(weakref.ref(session.model))
        return session

    monkeypatch.setattr(server, "Session", recording)
    with client.websocket_connect("/ws") as ws:
        start(ws)
        ask(ws, {"type": "config", "query": "hidden=3"})  # a new model replaces the first
        ws.receive_json()
        ws.send_json({"type": "train"})
        ws.send_json({"type": "train"})  # left unread: the client goes away mid-training
    assert _wait_until(lambda: not app.state.sessions)
    gc.collect()
    assert len(models) == 2 and all(ref() is None for ref in models)  # both models freed
    assert len(tensor_module.accumulate_listeners) == listeners  # no Monitor left listening
    with client.websocket_connect("/ws") as ws:  # the freed slot can be used again
        start(ws)


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_presets_are_valid_and_show_their_finding(name):
    from nablab.playground.session import Session

    session = Session(Spec.from_query(presets.PRESETS[name]["query"]))
    session.train(200)
    kinds = {f["kind"]: f for f in session.frame()["findings"]}
    expected = {"dead-relu": "dead-units", "zero-init": "symmetric-units",
                "vanishing-mlp": "vanishing-gradients", "xor-relu": None}[name]  # fmt: skip
    if expected:
        assert expected in kinds, kinds
    if name == "dead-relu":
        assert kinds["dead-units"]["units"] == [0, 1, 2]
    if name == "vanishing-mlp":
        assert kinds["vanishing-gradients"]["layers"][0] == "fc1"


def test_cli_starts_the_server_or_says_what_is_missing(monkeypatch, capsys):
    import types

    import nablab.cli as cli
    import nablab.playground.server as server

    for name in ("uvicorn", "websockets"):  # present for this test, whatever is installed
        if importlib.util.find_spec(name) is None:
            monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    calls = []
    monkeypatch.setattr(server, "serve", lambda *a: calls.append(a))
    assert cli.main(["playground", "--no-browser", "--port", "9999", "--max-sessions", "3"]) == 0
    host, port, browser, limits = calls[0]
    assert (host, port, browser, limits.max_sessions) == ("127.0.0.1", 9999, False, 3)
    assert cli.main(["playground", "--max-neurons", "2"]) == 2
    assert "the limits refuse the default state: hidden: at most 2 neurons per layer, got 4" in (
        capsys.readouterr().err
    )
    for missing in ("uvicorn", "websockets"):
        with monkeypatch.context() as patch:
            patch.setitem(sys.modules, missing, None)
            assert cli.main(["playground"]) == 1
            assert "pip install 'nablab[playground]'" in capsys.readouterr().err


def test_serve_warns_when_not_local(monkeypatch, capsys):
    import types

    import nablab.playground.server as server

    monkeypatch.setitem(sys.modules, "uvicorn", types.SimpleNamespace(run=lambda *a, **k: None))
    server.serve("0.0.0.0", 8765, False)
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().out
    server.serve("127.0.0.1", 8765, False)
    assert "warning" not in capsys.readouterr().out


def test_the_monitor_compares_train_and_test_after_each_epoch():
    from nablab.playground.session import Session

    query = "dataset=spiral&classes=3&hidden=8,8,8&act=relu&train=10&noise=0.4&optimizer=adam"
    session = Session(Spec.from_query(query + "&lr=0.01&points=600"))
    session.train(1000)
    frame = session.frame()
    assert frame["test_loss"] > 5 * frame["train_loss"]
    assert "over-fitting" in {f["kind"] for f in frame["findings"]}


def test_an_internal_failure_is_one_line_in_the_page_and_the_session_goes_on(
    client, monkeypatch, caplog
):
    from nablab.playground.session import Session

    with client.websocket_connect("/ws") as ws:
        start(ws)
        monkeypatch.setattr(Session, "script", lambda self: 1 / 0)
        error = ask(ws, {"type": "export"})
        assert error == {"type": "error", "field": "server",
                         "message": "the server could not do this (ZeroDivisionError: division by "
                                    "zero)"}  # fmt: skip
        assert "Traceback" in caplog.text  # the traceback goes to the server's log only
        assert ask(ws, {"type": "step"})["step"] == 1
