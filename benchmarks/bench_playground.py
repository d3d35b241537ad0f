"""The playground's speed target: a [2, 8, 8, 1] net on 500 points redraws at ≥ 20 frames/s
while training ≥ 10 steps per frame, on one core.

    python benchmarks/bench_playground.py            # 15 rounds
    python benchmarks/bench_playground.py --rounds 5

Server side, one BLAS thread, in one process (medians over rounds): a training chunk of 10
steps (batch 25, 250 training points, ReLU, SGD, the Monitor on), one frame (the 50 × 50
boundary, 16 unit heatmaps, weights, both losses, the Monitor's findings) and the JSON bytes
of a frame; from them the frames/s the server could sustain at 10 steps per frame. The
browser's frames/s (page and server together, Chromium drawing every frame) is measured by
tests/test_playground_browser.py::test_play_on_circle_lowers_the_test_loss into
tmp/artifacts/playground/browser_fps.json, printed here when present.
"""

import argparse
import json
import statistics
import time
from pathlib import Path

from harness import one_thread

from nablab.playground.session import Session
from nablab.playground.spec import Spec

QUERY = "dataset=circle&points=500&train=50&batch=25&hidden=8,8&act=relu&lr=0.1&spf=10"
BROWSER = Path(__file__).resolve().parents[1] / "tmp" / "artifacts" / "playground"


def measure(rounds: int) -> dict:
    session = Session(Spec.from_query(QUERY))
    session.train(100)
    chunk, frame, sizes = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(10):
            session.train(10)
        chunk.append((time.perf_counter() - start) / 10)
        start = time.perf_counter()
        for _ in range(10):
            data = session.frame()
        frame.append((time.perf_counter() - start) / 10)
        sizes.append(len(json.dumps(data)))
    chunk_s, frame_s = statistics.median(chunk), statistics.median(frame)
    return {
        "steps_per_s": 10 / chunk_s,
        "chunk_ms": 1000 * chunk_s,
        "frame_ms": 1000 * frame_s,
        "frame_bytes": statistics.median(sizes),
        "server_fps": 1 / (chunk_s + frame_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with one_thread():
        r = measure(args.rounds)
    print("[2, 8, 8, 1] on 500 points (250 train), batch 25, 10 steps per frame, 1 thread")
    print(f"  training: {r['steps_per_s']:,.0f} steps/s ({r['chunk_ms']:.2f} ms per 10 steps)")
    print(f"  frame: {r['frame_ms']:.2f} ms to compute, {r['frame_bytes']:,.0f} bytes of JSON")
    print(f"  server alone: {r['server_fps']:.0f} frames/s at 10 steps per frame")
    measured = BROWSER / "browser_fps.json"
    if measured.exists():
        browser = json.loads(measured.read_text())
        print(
            f"  browser (tests/test_playground_browser.py): {browser['fps']:.1f} frames/s drawn, "
            f"{browser['steps_per_drawn_frame']:.1f} training steps per drawn frame"
        )
    else:
        print("  browser: run tests/test_playground_browser.py to measure frames/s")


if __name__ == "__main__":
    main()
