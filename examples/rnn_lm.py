"""Character-level language models on The Time Machine, d2l's setting, nablab beside PyTorch.

    NABLAB_DATA_DIR=../shared/data python examples/rnn_lm.py [--epochs 500]

First 10,000 characters (vocabulary 28), 35 steps, batch 32, hidden 256, sequential
batches (state carried and detached), SGD lr 1, gradients clipped to global norm 1.
Trains nablab's nn.RNN, nn.GRU, nn.LSTM and the same models in torch.nn with the same
loop, one epoch of each in turn (a busy machine then slows all of them alike), and
prints final perplexity, training time, tokens/s and the greedy continuation of
"time traveller". d2l (0.17) reports after 500 epochs: nn.RNN 1.3, GRU 1.0-1.1,
LSTM 1.0-1.3. Perplexity near 1 means the 10,000 characters are memorised.
"""

import argparse
import math
import time

import numpy as np

import nablab
from nablab import lm, nn, optim
from nablab.data import load_data_time_machine

PREFIX, NUM_CHARS = "time traveller", 50


def nablab_run(kind, loader, vocab, args):
    """(one-epoch function -> (perplexity, tokens/s), generation function)."""
    nablab.manual_seed(args.seed)
    model = lm.RNNModel(getattr(nn, kind)(len(vocab), args.hidden), len(vocab))
    loss, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=args.lr)

    def epoch():
        return lm.train_epoch(model, loader, loss, opt, clip=args.clip)

    return epoch, lambda: lm.predict(PREFIX, NUM_CHARS, model, vocab)


def torch_run(kind, loader, vocab, args):
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

    def epoch():
        state, total, count, start = None, 0.0, 0, time.perf_counter()
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
        return math.exp(total / count), count / (time.perf_counter() - start)

    @torch.no_grad()
    def generate():
        out, state = [vocab[PREFIX[0]]], None
        for ch in PREFIX[1:]:
            _, state = model(np.array([[out[-1]]]), state)
            out.append(vocab[ch])
        for _ in range(NUM_CHARS):
            y, state = model(np.array([[out[-1]]]), state)
            out.append(int(y.argmax(dim=1)[0]))
        return "".join(vocab.to_tokens(out))

    return epoch, generate


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
    parser.add_argument("--every", type=int, default=25, help="print progress every N epochs")
    args = parser.parse_args()

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    makers = [("nablab", nablab_run)]
    if not args.no_torch:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        makers.append(("torch", torch_run))

    runs = {}
    for framework, make in makers:
        for kind in args.kinds:
            loader, vocab = load_data_time_machine(32, 35, max_tokens=10000, seed=args.seed)
            runs[f"{framework} {kind}"] = make(kind, loader, vocab, args)
    history = {name: {"perplexity": [], "tokens_per_s": [], "seconds": 0.0} for name in runs}
    for epoch in range(args.epochs):
        for name, (train_one_epoch, _) in runs.items():
            start = time.perf_counter()
            ppl, speed = train_one_epoch()
            h = history[name]
            h["seconds"] += time.perf_counter() - start
            h["perplexity"].append(ppl)
            h["tokens_per_s"].append(speed)
            if (epoch + 1) % args.every == 0:
                print(
                    f"{name:<13} epoch {epoch + 1:4d}  perplexity {ppl:7.2f}  {speed:7.0f} tokens/s"
                )

    print(
        f"\n{args.epochs} epochs, hidden {args.hidden}, lr {args.lr}, clip {args.clip}, "
        f"{args.threads or 'default'} thread(s); tokens/s: median over epochs"
    )
    print(f"{'model':<14}{'perplexity':>11}{'time (s)':>10}{'tokens/s':>10}  generation")
    for name, (_, generate) in runs.items():
        h = history[name]
        speed = float(np.median(h["tokens_per_s"]))
        print(
            f"{name:<14}{h['perplexity'][-1]:>11.2f}{h['seconds']:>10.1f}{speed:>10.0f}  "
            f"{generate()!r}"
        )


if __name__ == "__main__":
    main()
