"""Character-level language models on The Time Machine, d2l's setting, nablab beside PyTorch.

    NABLAB_DATA_DIR=../shared/data python examples/rnn_lm.py [--epochs 500]

First 10,000 characters (vocabulary 28), 35 steps, batch 32, hidden 256, sequential
batches (state carried and detached), SGD lr 1, gradients clipped to global norm 1.
Trains nablab's nn.RNN, nn.GRU, nn.LSTM and the same models in torch.nn with the same
loop, then prints final perplexity, wall time, tokens/s and the greedy continuation of
"time traveller". d2l (0.17) reports after 500 epochs: nn.RNN 1.3, GRU 1.0-1.1,
LSTM 1.0-1.3. Perplexity near 1 means the 10,000 characters are memorised.
"""

import argparse
import math
import time

import numpy as np

import nablab
from nablab import lm, nn
from nablab.data import load_data_time_machine

PREFIX = "time traveller"


def train_nablab(kind, loader, vocab, args):
    nablab.manual_seed(args.seed)
    model = lm.RNNModel(getattr(nn, kind)(len(vocab), args.hidden), len(vocab))
    return lm.train(
        model, loader, vocab, args.lr, args.epochs, clip=args.clip, callback=progress(kind)
    )


def train_torch(kind, loader, vocab, args):
    """The same model and loop in PyTorch (one-hot -> torch.nn.<kind> -> Linear)."""
    import torch

    torch.manual_seed(args.seed)
    V, H = len(vocab), args.hidden
    layer, linear = getattr(torch.nn, kind)(V, H), torch.nn.Linear(H, V)
    params = list(layer.parameters()) + list(linear.parameters())
    opt, loss = torch.optim.SGD(params, lr=args.lr), torch.nn.CrossEntropyLoss()

    def model(X, state):
        Y, state = layer(torch.nn.functional.one_hot(torch.from_numpy(X.T), V).float(), state)
        return linear(Y.reshape(-1, H)), state

    def detach(state):
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    history = {"perplexity": [], "tokens_per_s": []}
    report, start = progress(f"torch {kind}"), time.perf_counter()
    for epoch in range(args.epochs):
        state, total, count, t0 = None, 0.0, 0, time.perf_counter()
        for X, Y in loader:
            state = None if state is None else detach(state)
            y = torch.from_numpy(np.ascontiguousarray(Y.T).reshape(-1))
            y_hat, state = model(X, state)
            l = loss(y_hat, y)
            opt.zero_grad()
            l.backward()
            torch.nn.utils.clip_grad_norm_(params, args.clip)
            opt.step()
            total, count = total + l.item() * y.numel(), count + y.numel()
        history["perplexity"].append(math.exp(total / count))
        history["tokens_per_s"].append(count / (time.perf_counter() - t0))
        report(epoch, history["perplexity"][-1], history["tokens_per_s"][-1])
    history["seconds"] = time.perf_counter() - start
    with torch.no_grad():
        out, state = [vocab[PREFIX[0]]], None
        for ch in PREFIX[1:]:
            _, state = model(np.array([[out[-1]]]), state)
            out.append(vocab[ch])
        for _ in range(50):
            y, state = model(np.array([[out[-1]]]), state)
            out.append(int(y.argmax(dim=1)[0]))
    history["generation"] = "".join(vocab.to_tokens(out))
    return history


def progress(name, every=25):
    def report(epoch, ppl, speed):
        if (epoch + 1) % every == 0:
            print(
                f"  {name:<12} epoch {epoch + 1:4d}  perplexity {ppl:7.2f}  {speed:8.0f} tokens/s"
            )

    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=["RNN", "GRU", "LSTM"])
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peers")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/torch threads (0: default)")
    args = parser.parse_args()

    limit = None
    if args.threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(args.threads)
    runs = [("nablab", k, train_nablab) for k in args.kinds]
    if not args.no_torch:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        runs += [("torch", k, train_torch) for k in args.kinds]

    results = []
    for framework, kind, fn in runs:
        loader, vocab = load_data_time_machine(32, 35, max_tokens=10000, seed=args.seed)
        history = fn(kind, loader, vocab, args)
        results.append((f"{framework} {kind}", history))

    print(
        f"\n{args.epochs} epochs, hidden {args.hidden}, lr {args.lr}, clip {args.clip}, "
        f"{args.threads or 'default'} thread(s)"
    )
    print(f"{'model':<14}{'perplexity':>11}{'time (s)':>10}{'tokens/s':>10}  generation")
    for name, h in results:
        speed = float(np.median(h["tokens_per_s"]))
        print(
            f"{name:<14}{h['perplexity'][-1]:>11.2f}{h['seconds']:>10.1f}{speed:>10.0f}  "
            f"{h['generation']!r}"
        )
    if limit is not None:
        limit.restore_original_limits()


if __name__ == "__main__":
    main()
