"""The recurrences of RNN, GRU and LSTM layers as fused primitive ops.

One call runs one layer in one direction over all T time steps and records ONE graph
node. Its forward loop runs in NumPy and keeps the gates; its backward closure runs
back-propagation through time in NumPy. The input projections of all T steps are one
matrix product before the loop (X of shape (T·B, in) times W_ihᵀ), and each weight
gradient is one matrix product after the backward loop, so the work per step is one
(B, H) @ (H, gates·H) product and a few element-wise passes.

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
    cell state appended as row T for an LSTM.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    parents = (x, *states) + tuple(w for w in weights if w is not None)
    xd = x.data[::-1] if reverse else x.data
    T, B, _ = xd.shape
    x2 = xd.reshape(T * B, -1)
    wi, wh = w_ih.data, w_hh.data
    gx = x2 @ wi.T
    if b_ih is not None:
        gx += b_ih.data
    need_grad = mode.grad_enabled and any(p.requires_grad for p in parents)
    bh = None if b_hh is None else b_hh.data
    hs, cell, saved = kernel.forward(
        gx.reshape(T, B, -1), [s.data for s in states], wh, bh, need_grad
    )
    y = hs[1:][::-1] if reverse else hs[1:]
    out = y if cell is None else np.concatenate((y, cell[None]))
    H = hs.shape[2]

    def backward(g):
        dy = g[:T][::-1] if reverse else g[:T]
        dgx, dgh, dstates = kernel.backward(dy, g[T] if cell is not None else None, saved, wh)
        dgx2, dgh2 = dgx.reshape(T * B, -1), dgh.reshape(T * B, -1)
        dx = None
        if x.requires_grad:
            dx = (dgx2 @ wi).reshape(xd.shape)
            dx = dx[::-1] if reverse else dx
        grads = [
            dx,
            *dstates,
            dgx2.T @ x2 if w_ih.requires_grad else None,
            dgh2.T @ hs[:-1].reshape(T * B, H) if w_hh.requires_grad else None,
        ]
        if b_ih is not None:
            grads.append(dgx2.sum(axis=0) if b_ih.requires_grad else None)
        if b_hh is not None:
            grads.append(dgh2.sum(axis=0) if b_hh.requires_grad else None)
        return tuple(grads)

    node = record(out, parents, backward, kernel.name)
    last = 0 if reverse else T - 1
    return (node[:T], node[last], node[T]) if cell is not None else (node, node[last])


def _gate_scale(dtype, gates, H, tanh_gate):
    """Column scales s (½ on sigmoid gates, 1 on the tanh gate): σ(a) = ½ tanh(½a) + ½
    becomes a ← s ⊙ tanh(s ⊙ a) + (1 − s) on every gate at once."""
    scale = np.full(gates * H, 0.5, dtype)
    scale[tanh_gate * H : (tanh_gate + 1) * H] = 1.0
    return scale


class _Elman:
    """The loops of `rnn_recurrence`: forward keeps φ'(A_t), backward returns δ_A."""

    def __init__(self, nonlinearity):
        self.tanh = nonlinearity == "tanh"
        self.name = "rnn_" + nonlinearity

    def forward(self, gx, states, w_hh, b_hh, need_grad):
        T, B, H = gx.shape
        if b_hh is not None:
            gx += b_hh
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
        if not need_grad:
            return hs, None, None
        y = hs[1:]
        factor = 1 - y * y if self.tanh else (y > 0).astype(y.dtype)
        return hs, None, factor

    def backward(self, dy, dcell, factor, w_hh):
        T, B, H = dy.shape
        da = np.empty_like(factor)
        dh = np.zeros((B, H), factor.dtype)
        for t in range(T - 1, -1, -1):
            dh += dy[t]
            np.multiply(dh, factor[t], out=da[t])
            np.dot(da[t], w_hh, out=dh)
        return da, da, (dh,)


class _GRU:
    """The loops of `gru_recurrence`; the r, z columns of X W_ihᵀ and W_hhᵀ are pre-scaled
    by ½ so one tanh gives both sigmoids. Backward returns the x-side and h-side δ, which
    differ in the candidate block (the h-side is multiplied by R_t)."""

    name = "gru"

    @staticmethod
    def forward(gx, states, w_hh, b_hh, need_grad):
        T, B, G = gx.shape
        H = G // 3
        scale = _gate_scale(gx.dtype, 3, H, 2)
        if b_hh is not None:
            gx[..., : 2 * H] += b_hh[: 2 * H]
        gx *= scale
        w_t = w_hh.T * scale
        hs = np.empty((T + 1, B, H), gx.dtype)
        hs[0] = states[0]
        gh = np.empty((T, B, G), gx.dtype)
        tmp = np.empty((B, H), gx.dtype)
        for t in range(T):
            np.dot(hs[t], w_t, out=gh[t])
            s = gh[t, :, 2 * H :]
            if b_hh is not None:
                s += b_hh[2 * H :]
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
        if not need_grad:
            return hs, None, None
        gates = gx.reshape(T, B, 3, H)
        r, z, n = (gates[:, :, k] for k in range(3))
        factors = 1 - gates  # becomes, per gate, what δ_H (δ_Ã for r) is multiplied by:
        factors *= gates  # σ'(a) = σ(1 − σ) on r, z
        factors[:, :, 0] *= gh.reshape(T, B, 3, H)[:, :, 2]  # δ_A_r = δ_Ã ⊙ S ⊙ σ'
        factors[:, :, 1] *= hs[:-1] - n  # δ_A_z = δ_H ⊙ (H_{t−1} − H̃) ⊙ σ'
        np.multiply(n, n, out=factors[:, :, 2])
        np.subtract(1, factors[:, :, 2], out=factors[:, :, 2])
        factors[:, :, 2] *= 1 - z  # δ_Ã = δ_H ⊙ (1 − Z) ⊙ (1 − H̃²)
        saved = (factors, r, z)
        return hs, None, saved

    @staticmethod
    def backward(dy, dcell, saved, w_hh):
        factors, r, z = saved
        fac_r, fac_z, fac_n = (factors[:, :, k] for k in range(3))
        T, B, H = dy.shape
        dgx = np.empty((T, B, 3 * H), dy.dtype)
        dgh = np.empty_like(dgx)
        dh = np.zeros((B, H), dy.dtype)
        tmp = np.empty((B, H), dy.dtype)
        for t in range(T - 1, -1, -1):
            dh += dy[t]
            dn = dgx[t, :, 2 * H :]
            np.multiply(dh, fac_n[t], out=dn)
            np.multiply(dh, fac_z[t], out=dgh[t, :, H : 2 * H])
            np.multiply(dn, fac_r[t], out=dgh[t, :, :H])
            np.multiply(dn, r[t], out=dgh[t, :, 2 * H :])
            dh *= z[t]
            np.dot(dgh[t], w_hh, out=tmp)
            dh += tmp
        dgx[..., : 2 * H] = dgh[..., : 2 * H]
        return dgx, dgh, (dh,)


class _LSTM:
    """The loops of `lstm_recurrence`; one tanh over all four gate blocks (σ via ½ scales).
    Forward keeps, per gate, the factor that turns δ_C (δ_H for o) into δ_A."""

    name = "lstm"

    @staticmethod
    def forward(gx, states, w_hh, b_hh, need_grad):
        T, B, G = gx.shape
        H = G // 4
        scale = _gate_scale(gx.dtype, 4, H, 2)
        shift = 1 - scale
        if b_hh is not None:
            gx += b_hh
        gx *= scale
        w_t = w_hh.T * scale
        hs = np.empty((T + 1, B, H), gx.dtype)
        cs = np.empty((T + 1, B, H), gx.dtype)
        tanh_c = np.empty((T, B, H), gx.dtype)
        hs[0], cs[0] = states
        tmp = np.empty((B, G), gx.dtype)
        ig = np.empty((B, H), gx.dtype)
        for t in range(T):
            a = gx[t]
            np.dot(hs[t], w_t, out=tmp)
            a += tmp
            np.tanh(a, out=a)
            a *= scale
            a += shift
            np.multiply(a[:, H : 2 * H], cs[t], out=cs[t + 1])
            np.multiply(a[:, :H], a[:, 2 * H : 3 * H], out=ig)
            cs[t + 1] += ig
            np.tanh(cs[t + 1], out=tanh_c[t])
            np.multiply(a[:, 3 * H :], tanh_c[t], out=hs[t + 1])
        if not need_grad:
            return hs, cs[T], None
        gates = gx.reshape(T, B, 4, H)
        i, f, g, o = (gates[:, :, k] for k in range(4))
        factors = 1 - gates  # becomes, per gate, what δ_C (δ_H for o) is multiplied by:
        factors *= gates  # σ'(a) = σ(1 − σ) on i, f, o
        np.multiply(g, g, out=factors[:, :, 2])
        np.subtract(1, factors[:, :, 2], out=factors[:, :, 2])  # tanh'(a) = 1 − C̃² on g
        factors[:, :, 0] *= g  # δ_A_i = δ_C ⊙ C̃ ⊙ σ'
        factors[:, :, 1] *= cs[:-1]  # δ_A_f = δ_C ⊙ C_{t−1} ⊙ σ'
        factors[:, :, 2] *= i  # δ_A_g = δ_C ⊙ I ⊙ tanh'
        factors[:, :, 3] *= tanh_c  # δ_A_o = δ_H ⊙ tanh C ⊙ σ'
        to_cell = tanh_c * tanh_c
        np.subtract(1, to_cell, out=to_cell)
        to_cell *= o  # δ_C += δ_H ⊙ O ⊙ (1 − tanh² C)
        return hs, cs[T], (factors, to_cell, f)

    @staticmethod
    def backward(dy, dcell, saved, w_hh):
        factors, to_cell, f = saved
        T, B, H = dy.shape
        da = np.empty((T, B, 4, H), dy.dtype)
        dh = np.zeros((B, H), dy.dtype)
        dc = np.array(dcell, dtype=dy.dtype)
        tmp = np.empty((B, H), dy.dtype)
        for t in range(T - 1, -1, -1):
            dh += dy[t]
            np.multiply(dh, to_cell[t], out=tmp)
            dc += tmp
            np.multiply(dc[:, None, :], factors[t, :, :3], out=da[t, :, :3])
            np.multiply(dh, factors[t, :, 3], out=da[t, :, 3])
            dc *= f[t]
            np.dot(da[t].reshape(B, 4 * H), w_hh, out=dh)
        da = da.reshape(T, B, 4 * H)
        return da, da, (dh, dc)
