"""nablab playground: TensorFlow Playground's controls on the real engine, in the browser.

``nablab playground`` starts the server (server.py); one websocket session trains one model
(session.py) built by the plain nablab script that "Export as Python" hands out (export.py),
from a validated state that the page's URL holds (spec.py), on seeded data (datasets.py).
"""
