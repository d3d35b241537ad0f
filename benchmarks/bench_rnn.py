"""One training step of a character language model: nablab vs PyTorch.

    python benchmarks/bench_rnn.py [--rounds 15]

d2l's setting: batch 32, 35 time steps, vocabulary 28 (one-hot input), hidden 256,
float32. A step is forward over the 35 steps, mean cross-entropy, backward, clipping
to global norm 1, and an SGD update. Peers, per cell type (LSTM, GRU, RNN):
- nablab nn.LSTM/GRU/RNN (one fused recurrence op per layer),
- nablab from scratch (seeds/004's step functions, ~10 recorded ops per step),
- torch.nn.LSTM/GRU/RNN (PyTorch's fused CPU kernels),
- torch from scratch (the same step functions, d2l style, in PyTorch eager),
- the NumPy GEMM floor: the matrix products of one step alone, arranged at their best
  (one input projection, 35 recurrent products forward and 35 backward that must run in
  sequence, the read-out, and one product per weight gradient over all steps), with
  preallocated C-contiguous float32 operands and outputs: no step can be faster in NumPy;
- the NumPy GEMM + tanh floor: the same, plus the one transcendental per gate value that
  every step must evaluate, NumPy's float32 tanh (the LSTM's 5H columns per step: σ as
  ½ tanh(½a) + ½ on its four gates and tanh C_t; the GRU's 3H; the RNN's H).
One thread (BLAS and torch), peers interleaved in this process, medians over rounds.
"""

import argparse

import numpy as np
import torch
from harness import fmt_time, interleaved, one_thread

import nablab
from nablab import lm, nn, optim

BATCH, STEPS, VOCAB, HIDDEN = 32, 35, 28, 256


def batch(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, VOCAB, (BATCH, STEPS))
    return X, np.roll(X, -1, axis=1)


def nablab_step(model, X, Y):
    loss = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=1.0)
    y = nablab.from_numpy(np.ascontiguousarray(Y.T).reshape(-1))

    def step():
        out, _ = model(X, model.begin_state(BATCH))
        l = loss(out, y)
        opt.zero_grad()
        l.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    return step


class TorchModel(torch.nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.rnn, self.linear = layer, torch.nn.Linear(HIDDEN, VOCAB)

    def forward(self, X):
        Y, _ = self.rnn(torch.nn.functional.one_hot(X.T, VOCAB).float())
        return self.linear(Y.reshape(-1, HIDDEN))


def _torch_scratch_params(gates):
    g = torch.Generator().manual_seed(0)

    def p(*shape):
        return (torch.randn(*shape, generator=g) * 0.01).requires_grad_()

    params = []
    for _ in range(gates):
        params += [p(VOCAB, HIDDEN), p(HIDDEN, HIDDEN), torch.zeros(HIDDEN, requires_grad=True)]
    return params + [p(HIDDEN, VOCAB), torch.zeros(VOCAB, requires_grad=True)]


def _torch_rnn(inputs, H, C, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    outputs = []
    for X in inputs:
        H = torch.tanh(X @ W_xh + H @ W_hh + b_h)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs)


def _torch_gru(inputs, H, C, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    outputs = []
    for X in inputs:
        Z = torch.sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = torch.sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_tilda = torch.tanh(X @ W_xh + R * (H @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs)


def _torch_lstm(inputs, H, C, params):
    W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q = params
    outputs = []
    for X in inputs:
        I = torch.sigmoid(X @ W_xi + H @ W_hi + b_i)
        F = torch.sigmoid(X @ W_xf + H @ W_hf + b_f)
        O = torch.sigmoid(X @ W_xo + H @ W_ho + b_o)
        C_tilda = torch.tanh(X @ W_xc + H @ W_hc + b_c)
        C = F * C + I * C_tilda
        H = O * torch.tanh(C)
        outputs.append(H @ W_hq + b_q)
    return torch.cat(outputs)


TORCH_SCRATCH = {"LSTM": (_torch_lstm, 4), "GRU": (_torch_gru, 3), "RNN": (_torch_rnn, 1)}


def torch_step(forward, params, X, Y):
    X, y = torch.from_numpy(X), torch.from_numpy(np.ascontiguousarray(Y.T).reshape(-1))
    opt = torch.optim.SGD(params, lr=1.0)
    loss = torch.nn.CrossEntropyLoss()

    def step():
        l = loss(forward(X), y)
        opt.zero_grad()
        l.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    return step


TANH_COLUMNS = {"LSTM": 5, "GRU": 3, "RNN": 1}  # per step, in units of H


def gemm_floor(gates, tanh_columns=0):
    """The GEMMs of one training step of a `gates`-gate layer, nothing else; with
    `tanh_columns` > 0, also np.tanh over (B, tanh_columns·H) after each forward product."""
    rng = np.random.default_rng(0)
    G, TB = gates * HIDDEN, STEPS * BATCH

    def a(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    def empty(*shape):
        return np.empty(shape, np.float32)

    x, w_ih_t, w_hh_t, w_hh = a(TB, VOCAB), a(VOCAB, G), a(HIDDEN, G), a(G, HIDDEN)
    w_q_t, w_q, dlogits, dlogits_t = a(HIDDEN, VOCAB), a(VOCAB, HIDDEN), a(TB, VOCAB), a(VOCAB, TB)
    hs, da, da_t = a(STEPS, BATCH, HIDDEN), a(STEPS, BATCH, G), a(G, TB)
    hs2 = hs.reshape(TB, HIDDEN)
    gx, rec, dh, logits, dhs = (
        empty(TB, G),
        empty(BATCH, G),
        empty(BATCH, HIDDEN),
        empty(TB, VOCAB),
        empty(TB, HIDDEN),
    )
    dw_q, dw_ih, dw_hh = empty(VOCAB, HIDDEN), empty(G, VOCAB), empty(G, HIDDEN)
    pre, post = a(BATCH, tanh_columns * HIDDEN), empty(BATCH, tanh_columns * HIDDEN)

    def step():
        np.dot(x, w_ih_t, out=gx)  # input projection of all steps
        for t in range(STEPS):
            np.dot(hs[t], w_hh_t, out=rec)  # (B, H) @ (H, gates·H), in sequence
            if tanh_columns:
                np.tanh(pre, out=post)
        np.dot(hs2, w_q_t, out=logits)  # read-out, its weight gradient and δ_H
        np.dot(dlogits_t, hs2, out=dw_q)
        np.dot(dlogits, w_q, out=dhs)
        for t in range(STEPS):
            np.dot(da[t], w_hh, out=dh)  # (B, gates·H) @ (gates·H, H), in sequence
        np.dot(da_t, x, out=dw_ih)  # weight gradients over all steps
        np.dot(da_t, hs2, out=dw_hh)

    return step


def cases_for(kind, X, Y):
    nablab.manual_seed(0)
    torch.manual_seed(0)
    layer = getattr(nn, kind)(VOCAB, HIDDEN)
    fused = TorchModel(getattr(torch.nn, kind)(VOCAB, HIDDEN))
    fn, gates = TORCH_SCRATCH[kind]
    params = _torch_scratch_params(gates)
    zeros = torch.zeros(BATCH, HIDDEN)

    def scratch_forward(Xt):
        return fn(torch.nn.functional.one_hot(Xt.T, VOCAB).float(), zeros, zeros, params)

    return {
        f"nablab nn.{kind}": nablab_step(lm.RNNModel(layer, VOCAB), X, Y),
        f"nablab scratch {kind.lower()}": nablab_step(
            lm.RNNModelScratch(kind.lower(), VOCAB, HIDDEN), X, Y
        ),
        f"torch.nn.{kind}": torch_step(fused, list(fused.parameters()), X, Y),
        f"torch scratch {kind.lower()}": torch_step(scratch_forward, params, X, Y),
        "NumPy GEMM floor": gemm_floor(gates),
        "NumPy GEMM + tanh floor": gemm_floor(gates, TANH_COLUMNS[kind]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--kinds", nargs="+", default=["LSTM", "GRU", "RNN"])
    args = parser.parse_args()
    X, Y = batch()
    print(f"one training step: batch {BATCH}, {STEPS} steps, vocab {VOCAB}, hidden {HIDDEN}")
    print(f"float32, 1 thread, median of {args.rounds} interleaved rounds")
    with one_thread():
        for kind in args.kinds:
            medians = interleaved(cases_for(kind, X, Y), rounds=args.rounds, target_s=0.3)
            ref = medians[f"torch.nn.{kind}"]
            scratch = medians[f"torch scratch {kind.lower()}"]
            floor = medians["NumPy GEMM floor"]
            print(f"\n{kind}")
            width = max(map(len, medians))
            for name, t in medians.items():
                print(
                    f"  {name:<{width}}  {fmt_time(t):>9}   {t / ref:5.2f}x torch.nn.{kind}"
                    f"   {t / scratch:5.2f}x torch scratch   {t / floor:5.2f}x GEMM floor"
                )


if __name__ == "__main__":
    main()
