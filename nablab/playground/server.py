"""The playground's ASGI app (Starlette): the page's files, and one websocket per session.

GET / serves static/index.html, /static/* the page's script and style (Starlette's StaticFiles
refuses paths outside that folder). /ws is a session: the page sends JSON messages and gets
JSON answers; every message is checked (size, JSON, type, each field) and a bad one is answered
with ``{"type": "error", "field": ..., "message": ...}`` while the session goes on. The model
lives as long as the websocket: a disconnect frees it. At most ``limits.max_sessions`` at once.

Messages from the page:
    {"type": "config", "query": "dataset=circle&hidden=4,2&..."}   a new state: a new model
    {"type": "reset"}                                               the same state, from step 0
    {"type": "train"} / {"type": "step"}                            spf steps / one step
    {"type": "set_weight", "layer": "fc1", "row": 0, "column": 1, "value": 0.5}
    {"type": "export"}                                              the plain nablab script
    {"type": "upload", "text": "x1,x2,label\\n..."}                 a CSV of labelled points
Answers: "hello" (the limits), "layout" (after config/reset/upload), "state" (the query after a
weight set by hand), "frame", "export", "error".
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import presets
from .datasets import UploadError, parse_csv
from .session import Session, SessionError
from .spec import ACTIVATION_LABELS, DEFAULT_LIMITS, Limits, Spec, SpecError

LOG = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
MESSAGE_TYPES = ("config", "reset", "train", "step", "set_weight", "export", "upload")
MESSAGE_OVERHEAD = 1000  # bytes of a message beyond an upload's text
SESSIONS_FULL, FOREIGN_PAGE = 1013, 1008  # websocket close codes: try again later; policy


class MessageError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def create_app(limits: Limits = DEFAULT_LIMITS) -> Starlette:
    app = Starlette(
        routes=[
            Route("/", _index),
            WebSocketRoute("/ws", _websocket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
    app.state.limits = limits
    app.state.sessions = set()  # the live sessions' websockets
    return app


async def _index(request):
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def _websocket(ws: WebSocket) -> None:
    state = ws.app.state
    limits: Limits = state.limits
    await ws.accept()
    refusal = _refusal(ws, limits, len(state.sessions))
    if refusal:
        code, message = refusal
        await ws.send_json({"type": "error", "field": "session", "message": message})
        await ws.close(code=code)
        return
    state.sessions.add(ws)
    handler = _Handler(limits)
    try:
        await ws.send_json({"type": "hello", "limits": dataclasses.asdict(limits),
                            "presets": presets.PRESETS,
                            "activations": ACTIVATION_LABELS})  # fmt: skip
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            for answer in handler.answer(message.get("text")):
                await ws.send_text(answer)
    except WebSocketDisconnect:
        pass
    finally:
        handler.close()  # the model goes with the connection
        state.sessions.discard(ws)


def _refusal(ws: WebSocket, limits: Limits, open_sessions: int) -> tuple[int, str] | None:
    """Why this websocket may not have a session (a close code and a message): another site's
    page (a browser lets any page open a websocket to 127.0.0.1), or the cap on sessions."""
    origin = ws.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
        return (
            FOREIGN_PAGE,
            f"a page from {origin} may not use this playground; open it from its own address",
        )
    if open_sessions >= limits.max_sessions:
        return SESSIONS_FULL, (
            f"the server already has {limits.max_sessions} sessions open (the limit); close "
            "another tab or try again later"
        )
    return None


class _Handler:
    """The messages of one websocket, answered in order."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.session: Session | None = None
        self.points: np.ndarray | None = None  # the uploaded CSV rows

    def answer(self, text: str) -> list[str]:
        """The JSON texts that answer one message (strict JSON: no NaN, which the page's
        JSON.parse would refuse)."""
        answers = self._answers(text)
        try:
            return [json.dumps(a, allow_nan=False) for a in answers]
        except ValueError as e:
            message = f"the server could not send its answer ({e})"
            return [json.dumps({"type": "error", "field": "server", "message": message})]

    def _answers(self, text: str) -> list[dict]:
        try:
            return self._dispatch(self._parse(text))
        except (MessageError, SpecError, SessionError) as e:
            return [{"type": "error", "field": e.field, "message": str(e)}]
        except UploadError as e:
            return [{"type": "error", "field": "upload", "message": f"upload refused: {e}"}]
        except Exception as e:  # a bug must not end the session: say what failed, go on
            LOG.exception("nablab playground: a message failed")  # the traceback: server side
            message = f"the server could not do this ({type(e).__name__}: {e})"
            return [{"type": "error", "field": "server", "message": message}]

    def _parse(self, text) -> dict:
        if not isinstance(text, str):
            raise MessageError("message", "expected a JSON text message")
        cap = self.limits.max_upload_bytes + MESSAGE_OVERHEAD
        if len(text.encode()) > cap:
            upload = self.limits.max_upload_bytes
            raise MessageError(
                "message",
                f"at most {cap} bytes (an upload at most {upload}), got {len(text.encode())}",
            )
        try:
            message = json.loads(text)
        except json.JSONDecodeError as e:
            raise MessageError("message", f"expected JSON, got a parse error: {e.msg}") from None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise MessageError("message", 'expected a JSON object with a string "type"')
        return message

    def _dispatch(self, message: dict) -> list[dict]:
        kind = message["type"]
        if kind not in MESSAGE_TYPES:
            raise MessageError("type", f"expected one of {', '.join(MESSAGE_TYPES)}, got {kind!r}")
        if kind == "config":
            spec = Spec.from_query(_field(message, "query", str), self.limits)
            return self._start(spec)
        if kind == "upload":
            return self._upload(_field(message, "text", str))
        session = self._require_session()
        if kind == "reset":
            return self._start(session.spec)
        if kind in ("train", "step"):
            session.train(session.spec.spf if kind == "train" else 1)
            return [session.frame()]
        if kind == "set_weight":
            session.set_weight(
                message.get("layer"), message.get("row"), message.get("column"),
                message.get("value"),
            )  # fmt: skip
            return [{"type": "state", "query": session.spec.to_query()}, session.frame()]
        return [{"type": "export", "steps": session.steps, "script": session.script()}]

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
        self.session = None

    def _require_session(self) -> Session:
        if self.session is None:
            raise MessageError("type", 'no model yet: send {"type": "config"} first')
        return self.session

    def _start(self, spec: Spec) -> list[dict]:
        points = self.points if spec.dataset == "csv" else None
        if points is not None:  # the uploaded file decides the points and the classes
            n, classes = len(points), int(points[:, 2].max()) + 1
            spec = dataclasses.replace(spec, points=n, classes=classes, batch=min(spec.batch, n))
            spec.validate(self.limits)
        session = Session(spec, self.limits, points)  # a bad spec leaves the old one running
        self.close()
        self.session = session
        return [{"type": "layout", **self.session.layout()}, self.session.frame()]

    def _upload(self, text: str) -> list[dict]:
        size = len(text.encode())
        if size > self.limits.max_upload_bytes:
            raise UploadError(
                f"the file has {size} bytes; the limit is {self.limits.max_upload_bytes}"
            )
        X, y = parse_csv(text, self.limits.max_points, self.limits.max_classes)
        self.points = np.column_stack([X, y])
        base = self.session.spec if self.session else Spec()
        return self._start(dataclasses.replace(base, dataset="csv", edits=()))


def _field(message: dict, name: str, kind: type):
    value = message.get(name)
    if not isinstance(value, kind):
        got = "nothing" if value is None else type(value).__name__
        raise MessageError(name, f"expected a {kind.__name__}, got {got}")
    return value


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def serve(host: str, port: int, open_browser: bool, limits: Limits = DEFAULT_LIMITS) -> None:
    """Run the app with uvicorn until Ctrl-C; open the page in the browser unless told not to."""
    import threading
    import webbrowser

    import uvicorn

    if host not in LOCAL_HOSTS:
        print(
            f"nablab playground: warning: listening on {host}, not 127.0.0.1: anyone who can "
            "reach this machine can use the playground (and its CPU)"
        )
    url = f"http://{'[::1]' if host == '::1' else host}:{port}/"
    print(f"nablab playground: {url}  (Ctrl-C to stop)")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    ws_max = limits.max_upload_bytes + MESSAGE_OVERHEAD + 1024
    uvicorn.run(create_app(limits), host=host, port=port, log_level="warning", ws_max_size=ws_max)
