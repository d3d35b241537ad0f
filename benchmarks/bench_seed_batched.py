"""Where a seed-batched lab's time goes: one training step of MLP_3L [2, 20, 3, 1] for S seed
copies at once (bias-penalty's and regularization's step: forward, BCE with logits, the ℓ2
penalty, backward, SGD), for S = 10 (one run of 10 seeds) and S = 70 (bias-penalty's seven
runs as one model). If Python's per-op overhead dominated, 70 copies would cost about what
10 do; if the arrays' arithmetic does, 7x.

    python benchmarks/bench_seed_batched.py [--rounds 9]

One BLAS thread, the two sizes interleaved in this process, medians over rounds.
"""

import argparse

from harness import fmt_time, interleaved, one_thread

from nablab import nn, optim
from nablab.labs.recipes import mlp_3l, moons_per_seed
from nablab.nn.functional import binary_cross_entropy_with_logits as bce


def step_for(copies, lam=0.7):
    seeds = [s % 10 for s in range(copies)]
    batch, model = moons_per_seed(seeds), mlp_3l(seeds)
    n = batch.X_train.shape[1]
    optimizer = optim.SGD(model.parameters(), lr=0.2)

    def step():
        loss = bce(model(batch.X_train), batch.y_train, reduction="sum") / n
        loss = loss + lam / (2 * n) * nn.l2_penalty(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with one_thread():
        medians = interleaved({f"{s} copies": step_for(s) for s in (10, 70)}, rounds=args.rounds)
    ten = medians["10 copies"]
    for name, t in medians.items():
        print(f"  {name:<10} {fmt_time(t):>9}   {t / ten:5.2f}x 10 copies")


if __name__ == "__main__":
    main()
