"""The recurrences of RNN, GRU and LSTM layers as fused primitive ops.

One call runs one layer in one direction over all T time steps and records ONE graph
node. Its forward loop runs in NumPy and keeps the gates; its backward closure runs
back-propagation through time in NumPy. The input projections of all T steps are one
matrix product before the loop (X of shape (T·B, in) times W_ihᵀ), and each weight
gradient is one matrix product after the backward loop, so the work per step is one
(B, H) @ (H, gates·H) product and a few element-wise passes, all in float32 (the
parameters' dtype) into buffers allocated once per call (`out=`, in-place operators):
no per-step allocation, concatenation or copy of the gates.

Notation of seeds/004, per step t on a batch of B rows: X_t the input, H_t the hidden
state, C_t the LSTM cell. Weights have PyTorch's layout: W_ih of shape (gates·H, in)
and W_hh of shape (gates·H, H), the gate blocks stacked in PyTorch's order (LSTM
i, f, g, o; GRU r, z, n), so X_t W_ihᵀ is the seeds' X_t W_x·. A_t = X_t W_ihᵀ + b_ih +
H_{t−1} W_hhᵀ + b_hh are the pre-activations; δ_A their gradients.

A sigmoid is computed as σ(a) = ½ tanh(a/2) + ½: one transcendental, no overflow.
"""

import numpy as np

from ..autograd.grad_mode import mode
from ..autograd.tensor import record


def rnn_recurrence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh", reverse=False):
    """Elman RNN layer: H_t = φ(X_t W_ihᵀ + b_ih + H_{t−1} W_hhᵀ + b_hh), φ = tanh or ReLU.

    Backward through time, from the last step down, with δ_H ← δ_Y_t + δ_H:
    δ_A_t = δ_H ⊙ φ'(A_t) (tanh: 1 − H_t², ReLU: H_t > 0), δ_H_{t−1} = δ_A_t W_hh;
    then δ_W_ih = Σ_t δ_A_tᵀ X_t, δ_W_hh = Σ_t δ_A_tᵀ H_{t−1}, δ_b = Σ_t δ_A_t, δ_X_t = δ_A_t W_ih.

    x: (T, B, in), h0: (B, H). `reverse` runs from the last step to the first (the
    backward direction of a bidirectional layer). Returns (output (T, B, H), h_n (B, H)).
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"Unknown nonlinearity '{nonlinearity}'; expected 'tanh' or 'relu'")
    return _fused(_Elman(nonlinearity), x, (h0,), (w_ih, w_hh, b_ih, b_hh), reverse)


def gru_recurrence(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """GRU layer with PyTorch's placement of the reset gate:

    R_t = σ(X_t W_xrᵀ + b_xr + H_{t−1} W_hrᵀ + b_hr)             reset gate
    Z_t = σ(X_t W_xzᵀ + b_xz + H_{t−1} W_hzᵀ + b_hz)             update gate
    H̃_t = tanh(X_t W_xhᵀ + b_xh + R_t ⊙ (H_{t−1} W_hhᵀ + b_hh))  candidate state
    H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t

    Backward, with δ_H ← δ_Y_t + δ_H and S_t = H_{t−1} W_hhᵀ + b_hh (the candidate's
    recurrent term): δ_Ã = δ_H ⊙ (1 − Z_t) ⊙ (1 − H̃_t²) (both the x- and h-side of the
    candidate get it, the h-side times R_t), δ_A_z = δ_H ⊙ (H_{t−1} − H̃_t) ⊙ Z_t(1 − Z_t),
    δ_A_r = δ_Ã ⊙ S_t ⊙ R_t(1 − R_t), δ_H_{t−1} = δ_H ⊙ Z_t + [δ_A_r, δ_A_z, δ_Ã ⊙ R_t] W_hh.

    x: (T, B, in), h0: (B, H). Returns (output (T, B, H), h_n (B, H)).
    """
    return _fused(_GRU, x, (h0,), (w_ih, w_hh, b_ih, b_hh), reverse)


def lstm_recurrence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """LSTM layer (seeds/004):

    I_t = σ(X_t W_xiᵀ + H_{t−1} W_hiᵀ + b_i)     input gate
    F_t = σ(X_t W_xfᵀ + H_{t−1} W_hfᵀ + b_f)     forget gate
    C̃_t = tanh(X_t W_xcᵀ + H_{t−1} W_hcᵀ + b_c)  candidate cell
    O_t = σ(X_t W_xoᵀ + H_{t−1} W_hoᵀ + b_o)     output gate
    C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t,   H_t = O_t ⊙ tanh(C_t)

    Backward, with δ_H ← δ_Y_t + δ_H: δ_C ← δ_C + δ_H ⊙ O_t ⊙ (1 − tanh² C_t);
    δ_A_i = δ_C ⊙ C̃_t ⊙ I_t(1 − I_t), δ_A_f = δ_C ⊙ C_{t−1} ⊙ F_t(1 − F_t),
    δ_A_g = δ_C ⊙ I_t ⊙ (1 − C̃_t²), δ_A_o = δ_H ⊙ tanh(C_t) ⊙ O_t(1 − O_t);
    δ_C_{t−1} = δ_C ⊙ F_t, δ_H_{t−1} = δ_A_t W_hh.

    x: (T, B, in), h0 and c0: (B, H). Returns (output (T, B, H), h_n, c_n).
    """
    return _fused(_LSTM, x, (h0, c0), (w_ih, w_hh, b_ih, b_hh), reverse)


def _fused(kernel, x, states, weights, reverse):
    """Record one node for a whole layer-direction; slice its outputs out of it.

    The node's value is the output sequence (T, B, H) in time order, with the final
    cell state appended as row T for an LSTM. The kernel projects the inputs of all T
    steps in one GEMM before its loop and returns δ_X and δ_W_ih as one GEMM each.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    parents = (x, *states) + tuple(w for w in weights if w is not None)
    xd = x.array[::-1] if reverse else x.array
    T, B, _ = xd.shape
    x2 = xd.reshape(T * B, -1)
    need_grad = mode.grad_enabled and any(p.requires_grad for p in parents)
    data = [None if w is None else w.array for w in weights]
    hs, cell, saved = kernel.forward(x2, T, [s.array for s in states], *data, need_grad)
    if cell is None:
        out = hs[1:][::-1] if reverse else hs[1:]
    else:  # hs has a spare row T + 1 that holds the final cell
        hs[T + 1] = cell
        out = np.concatenate((hs[1 : T + 1][::-1], cell[None])) if reverse else hs[1:]

    def backward(g):
        dy = g[:T][::-1] if reverse else g[:T]
        dcell = g[T] if cell is not None else None
        needs = (x.requires_grad, w_ih.requires_grad, w_hh.requires_grad)
        dx, dw_ih, dw_hh, db_ih, db_hh, dstates = kernel.backward(dy, dcell, saved, needs)
        if dx is not None:
            dx = dx.reshape(xd.shape)
            dx = dx[::-1] if reverse else dx
        grads = [dx, *dstates, dw_ih, dw_hh]
        if b_ih is not None:
            grads += [db_ih if b_ih.requires_grad else None, db_hh if b_hh.requires_grad else None]
        return tuple(grads)

    node = record(out, parents, backward, kernel.name)
    last = 0 if reverse else T - 1
    return (node[:T], node[last], node[T]) if cell is not None else (node, node[last])


def _input_grads(dgx2, x2, w_ih, needs):
    """δ_X = δ_A W_ih and δ_W_ih = δ_Aᵀ X, one GEMM each over all T steps (or None)."""
    need_x, need_w_ih, _ = needs
    return dgx2 @ w_ih if need_x else None, dgx2.T @ x2 if need_w_ih else None


def _scaled_projection(x2, T, w_ih, scale, bias):
    """(s ⊙ (X W_ihᵀ + b)) for all T steps in one GEMM, as (T, B, gates·H); the column
    scales s go on the weights, not on the product."""
    gates = x2 @ (w_ih.T * scale)
    if bias is not None:
        gates += bias * scale
    return gates.reshape(T, x2.shape[0] // T, -1)


def _bias_sum(b_ih, b_hh):
    """b_ih + b_hh: the two biases enter every pre-activation together (not the GRU's)."""
    return None if b_ih is None else b_ih + b_hh


def _gate_scale(dtype, gates, H, tanh_gate):
    """Column scales s (½ on sigmoid gates, 1 on the tanh gate): σ(a) = ½ tanh(½a) + ½
    becomes a ← s ⊙ tanh(s ⊙ a) + (1 − s) on every gate at once."""
    scale = np.full(gates * H, 0.5, dtype)
    scale[tanh_gate * H : (tanh_gate + 1) * H] = 1.0
    return scale


class _Elman:
    """The loops of `rnn_recurrence`: forward keeps H_t, backward forms δ_A from it."""

    def __init__(self, nonlinearity):
        self.tanh = nonlinearity == "tanh"
        self.name = "rnn_" + nonlinearity

    def forward(self, x2, T, states, w_ih, w_hh, b_ih, b_hh, need_grad):
        gx = _scaled_projection(x2, T, w_ih, 1, _bias_sum(b_ih, b_hh))
        B, H = states[0].shape
        hs = np.empty((T + 1, B, H), gx.dtype)
        hs[0] = states[0]
        w_t = w_hh.T
        for t in range(T):
            h = hs[t + 1]
            np.dot(hs[t], w_t, out=h)
            h += gx[t]
            if self.tanh:
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)
        return hs, None, (x2, w_ih, hs, w_hh, b_ih is not None) if need_grad else None

    def backward(self, dy, dcell, saved, needs):
        x2, w_ih, hs, w_hh, bias = saved
        T, B, H = dy.shape
        da = np.empty((T, B, H), dy.dtype)
        dh = np.zeros((B, H), dy.dtype)
        db = np.zeros((B, H), dy.dtype)
        for t in range(T - 1, -1, -1):
            dh += dy[t]
            d = da[t]
            if self.tanh:  # δ_A = δ_H ⊙ (1 − H_t²)
                np.multiply(hs[t + 1], hs[t + 1], out=d)
                np.subtract(1, d, out=d)
                d *= dh
            else:  # δ_A = δ_H ⊙ (H_t > 0)
                np.multiply(dh, hs[t + 1] > 0, out=d)
            if bias:
                db += d
            np.dot(d, w_hh, out=dh)
        da2 = da.reshape(T * B, H)
        dw_hh = da2.T @ hs[:-1].reshape(T * B, H) if needs[2] else None
        db = db.sum(axis=0) if bias else None
        return *_input_grads(da2, x2, w_ih, needs), dw_hh, db, db, (dh,)


class _GRU:
    """The loops of `gru_recurrence`; the r, z columns of the weights are pre-scaled by ½
    so one tanh gives both sigmoids. The x-side and h-side δ differ in the candidate
    block (the h-side one is multiplied by R_t): backward writes both into one buffer
    D_t = [δ_Ã, δ_A_r, δ_A_z, δ_Ã ⊙ R_t], whose first three blocks are the x-side δ (gate
    order n, r, z) and last three the h-side δ (r, z, n), each a slice of D."""

    name = "gru"

    @staticmethod
    def forward(x2, T, states, w_ih, w_hh, b_ih, b_hh, need_grad):
        H = w_hh.shape[1]
        scale = _gate_scale(w_hh.dtype, 3, H, 2)
        bias = None
        if b_ih is not None:
            bias = np.concatenate((b_ih[: 2 * H] + b_hh[: 2 * H], b_ih[2 * H :]))
        gx = _scaled_projection(x2, T, w_ih, scale, bias)
        B = x2.shape[0] // T
        b_hn = None if b_hh is None else b_hh[2 * H :]
        w_t = w_hh.T * scale
        hs = np.empty((T + 1, B, H), gx.dtype)
        hs[0] = states[0]
        gh = np.empty((T, B, 3 * H), gx.dtype)
        tmp = np.empty((B, H), gx.dtype)
        for t in range(T):
            np.dot(hs[t], w_t, out=gh[t])
            s = gh[t, :, 2 * H :]
            if b_hn is not None:
                s += b_hn
            rz = gx[t, :, : 2 * H]
            rz += gh[t, :, : 2 * H]
            np.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
            r, z, n = gx[t, :, :H], gx[t, :, H : 2 * H], gx[t, :, 2 * H :]
            np.multiply(r, s, out=tmp)
            n += tmp
            np.tanh(n, out=n)
            h = hs[t + 1]
            np.subtract(hs[t], n, out=h)
            h *= z
            h += n
        return hs, None, (x2, w_ih, gx, gh, hs, w_hh, b_ih is not None) if need_grad else None

    @staticmethod
    def backward(dy, dcell, saved, needs):
        x2, w_ih, gates, gh, hs, w_hh, bias = saved
        T, B, H = dy.shape
        D = np.empty((T, B, 4 * H), dy.dtype)
        dh = np.zeros((B, H), dy.dtype)
        db = np.zeros((B, 4 * H), dy.dtype)
        one_minus_z = np.empty((B, H), dy.dtype)
        tmp = np.empty((B, H), dy.dtype)
        for t in range(T - 1, -1, -1):
            r, z, n = (gates[t, :, k * H : (k + 1) * H] for k in range(3))
            dn, dr, dz, dn_h = (D[t, :, k * H : (k + 1) * H] for k in range(4))
            dh += dy[t]
            np.subtract(1, z, out=one_minus_z)
            np.multiply(n, n, out=dn)  # δ_Ã = δ_H ⊙ (1 − Z) ⊙ (1 − H̃²)
            np.subtract(1, dn, out=dn)
            dn *= dh
            dn *= one_minus_z
            np.subtract(hs[t], n, out=dz)  # δ_A_z = δ_H ⊙ (H_{t−1} − H̃) ⊙ Z(1 − Z)
            dz *= dh
            dz *= z
            dz *= one_minus_z
            np.subtract(1, r, out=dr)  # δ_A_r = δ_Ã ⊙ S ⊙ R(1 − R)
            dr *= r
            dr *= gh[t, :, 2 * H :]
            dr *= dn
            np.multiply(dn, r, out=dn_h)
            if bias:
                db += D[t]
            dh *= z  # δ_H_{t−1} = δ_H ⊙ Z + [δ_A_r, δ_A_z, δ_Ã ⊙ R] W_hh
            np.matmul(D[t, :, H:], w_hh, out=tmp)
            dh += tmp
        D2 = D.reshape(T * B, 4 * H)
        dw_hh = D2[:, H:].T @ hs[:-1].reshape(T * B, H) if needs[2] else None
        w_ih_nrz = np.roll(w_ih, H, axis=0) if needs[0] else None
        dx, dw_ih = _input_grads(D2[:, : 3 * H], x2, w_ih_nrz, needs)
        dw_ih = None if dw_ih is None else np.roll(dw_ih, -H, axis=0)  # n, r, z -> r, z, n
        db_ih = db_hh = None
        if bias:
            db = db.sum(axis=0)
            db_ih, db_hh = np.roll(db[: 3 * H], -H), db[H:]
        return dx, dw_ih, dw_hh, db_ih, db_hh, (dh,)


class _LSTM:
    """The loops of `lstm_recurrence`; one tanh over all four gate blocks (σ via ½ scales).
    With a gradient to come, each forward step also forms, while its gates are in cache,
    the factors that turn δ_C (δ_H for o) into δ_A, and δ_C's factor O ⊙ (1 − tanh² C)."""

    name = "lstm"

    @staticmethod
    def forward(x2, T, states, w_ih, w_hh, b_ih, b_hh, need_grad):
        H = w_hh.shape[1]
        scale = _gate_scale(w_hh.dtype, 4, H, 2)
        shift = 1 - scale
        gates = _scaled_projection(x2, T, w_ih, scale, _bias_sum(b_ih, b_hh))
        B, dtype = x2.shape[0] // T, gates.dtype
        w_t = w_hh.T * scale
        hs = np.empty((T + 2, B, H), dtype)  # row T + 1: the final cell, for _fused
        cs = np.empty((2, B, H), dtype)
        hs[0], cs[0] = states
        rec = np.empty((B, 4 * H), dtype)
        ig, tanh_c = np.empty((B, H), dtype), np.empty((B, H), dtype)
        if need_grad:
            factors = np.empty((T, B, 4 * H), dtype)
            to_cell = np.empty((T, B, H), dtype)
        for t in range(T):
            a, c, c_next = gates[t], cs[t % 2], cs[(t + 1) % 2]
            i, f, g, o = (a[:, k * H : (k + 1) * H] for k in range(4))
            np.dot(hs[t], w_t, out=rec)
            a += rec
            np.tanh(a, out=a)
            a *= scale
            a += shift
            np.multiply(f, c, out=c_next)
            np.multiply(i, g, out=ig)
            c_next += ig
            np.tanh(c_next, out=tanh_c)
            np.multiply(o, tanh_c, out=hs[t + 1])
            if need_grad:
                k = factors[t]
                k_i, k_f, k_g, k_o = (k[:, j * H : (j + 1) * H] for j in range(4))
                np.subtract(1, a, out=k)  # σ'(a) = σ(1 − σ) on i, f, o
                k *= a
                np.multiply(g, g, out=k_g)  # tanh'(a) = 1 − C̃² on g
                np.subtract(1, k_g, out=k_g)
                k_i *= g  # δ_A_i = δ_C ⊙ C̃ ⊙ σ'
                k_f *= c  # δ_A_f = δ_C ⊙ C_{t−1} ⊙ σ'
                k_g *= i  # δ_A_g = δ_C ⊙ I ⊙ tanh'
                k_o *= tanh_c  # δ_A_o = δ_H ⊙ tanh C ⊙ σ'
                u = to_cell[t]  # δ_C += δ_H ⊙ O ⊙ (1 − tanh² C)
                np.multiply(tanh_c, tanh_c, out=u)
                np.subtract(1, u, out=u)
                u *= o
        saved = (
            (x2, w_ih, factors, to_cell, gates, hs, w_hh, b_ih is not None) if need_grad else None
        )
        return hs, cs[T % 2], saved

    @staticmethod
    def backward(dy, dcell, saved, needs):
        x2, w_ih, factors, to_cell, gates, hs, w_hh, bias = saved
        T, B, H = dy.shape
        da = np.empty((T, B, 4 * H), dy.dtype)
        dh = np.zeros((B, H), dy.dtype)
        dc = np.array(dcell, dtype=dy.dtype)
        db = np.zeros((B, 4 * H), dy.dtype)
        tmp = np.empty((B, H), dy.dtype)
        for t in range(T - 1, -1, -1):
            d = da[t]
            dh += dy[t]
            np.multiply(dh, to_cell[t], out=tmp)
            dc += tmp
            np.multiply(
                factors[t].reshape(B, 4, H)[:, :3], dc[:, None], out=d.reshape(B, 4, H)[:, :3]
            )
            np.multiply(dh, factors[t, :, 3 * H :], out=d[:, 3 * H :])
            dc *= gates[t, :, H : 2 * H]  # δ_C_{t−1} = δ_C ⊙ F_t
            if bias:
                db += d
            np.dot(d, w_hh, out=dh)
        da2 = da.reshape(T * B, 4 * H)
        dw_hh = da2.T @ hs[:T].reshape(T * B, H) if needs[2] else None
        db = db.sum(axis=0) if bias else None
        return *_input_grads(da2, x2, w_ih, needs), dw_hh, db, db, (dh, dc)
