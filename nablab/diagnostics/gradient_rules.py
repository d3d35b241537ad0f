"""Gradient rules, judged over the recorded steps of a run (weight matrices, input side first).

The scale-free quantity is ρ = ‖∇W‖ / ‖W‖: the update per unit learning rate relative to the
weight it changes (a plain ‖∇W‖ grows with the batch size under sum reduction and with the
weights' scale, ρ does neither). A condition counts when it holds on at least half of the
recorded steps, the last included, and the finding says from which step.
"""

from __future__ import annotations

import numpy as np

from .findings import Finding, persistent, span, steps_text

VANISHING_RATIO = 1e-3  # ρ a thousand times below the best-fed layer's
VANISHING_FLOOR = 1e-6  # ρ below this in every layer: no layer can learn at any sane rate
GRADIENT_FLOOR = 1e-10  # an RMS gradient below this is float32 noise, whatever the weights
EXPLODING_GROWTH = 1e3  # ‖∇‖ of the whole model grew a thousand times over the run


def relative_gradients(grad: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """ρ = ‖∇W‖/‖W‖ per recorded step and layer; +∞ for a zero weight with a gradient."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = grad / weight
    rho[(weight == 0) & (grad > 0)] = np.inf
    rho[(weight == 0) & (grad == 0)] = 0.0
    return rho


def zero_gradient_findings(names: list[str], steps, grad: np.ndarray) -> list[Finding]:
    """Layers whose weight gradient is exactly 0 on at least half of the recorded steps,
    the last included: no signal reaches them, so gradient descent cannot change them."""
    zero = [i for i in range(len(names)) if persistent(grad[:, i] == 0)]
    if not zero:
        return []
    first, last = span(np.asarray(steps), (grad[:, zero] == 0).all(axis=1))
    every = len(zero) == len(names)
    return [
        Finding(
            "zero-gradients",
            ", ".join(names[i] for i in zero),
            f"the weight gradient of {len(zero)} of {len(names)} layers is exactly 0 "
            f"{steps_text(first, last)}: gradient descent cannot change them",
            {"layers": [names[i] for i in zero], "first_step": first, "last_step": last},
            "error" if every else "warning",
            "every unit feeding these layers outputs 0 on every input (dead ReLUs, often from "
            "negative biases), or the weights after them are all 0",
            "initialise biases at 0 and weights with Kaiming init, or use Leaky ReLU",
        )
    ]


def vanishing_findings(
    names: list[str],
    steps,
    grad: np.ndarray,
    weight: np.ndarray,
    numel: np.ndarray,
    loss_falls: bool | None = None,
) -> list[Finding]:
    """Vanishing gradients, two ways.

    Relative: ρ_i < VANISHING_RATIO · max_j ρ_j for a layer i on the input side of the
    best-fed layer j (the signal fades on its way back).
    Uniform: every layer's ρ < VANISHING_FLOOR, or its RMS gradient ‖∇W‖/√n <
    GRADIENT_FLOOR, from the first recorded step on (at initialisation, so not convergence);
    or every layer's ρ < VANISHING_RATIO while the loss does not fall (``loss_falls`` False:
    the small gradients are not those of a minimum reached).
    """
    steps = np.asarray(steps)
    finite = np.isfinite(grad).all(axis=1) & np.isfinite(weight).all(axis=1)
    steps, grad, weight = steps[finite], grad[finite], weight[finite]
    if steps.size == 0:
        return []
    rho = relative_gradients(grad, weight)
    stuck = loss_falls is False
    tiny = (rho < (VANISHING_RATIO if stuck else VANISHING_FLOOR)) | (
        grad / np.sqrt(numel) < GRADIENT_FLOOR
    )
    live = grad > 0
    found = []
    if (stuck or tiny[0].all()) and live.all() and persistent(tiny.all(axis=1)):
        first, last = span(steps, tiny.all(axis=1))
        found.append(
            Finding(
                "vanishing-gradients",
                "(every layer)",
                f"every layer's gradient is at most {rho.max():.2g} of its weight "
                f"(‖∇W‖/‖W‖) {steps_text(first, last)}: no layer can learn at any usable rate",
                {"layers": names, "relative_gradient_max": float(rho.max()),
                 "first_step": first, "last_step": last},
                "error",
                "the signal fades through every layer (saturated or tiny activations, or a "
                "loss scaled far down)",
                "standardise the inputs, use ReLU with Kaiming init, and check the loss scale",
            )
        )  # fmt: skip
        return found
    best = np.argmax(np.where(np.isfinite(rho), rho, -1.0), axis=1)
    top = rho[np.arange(len(rho)), best]
    faded = (rho < VANISHING_RATIO * top[:, None]) & live
    faded &= np.arange(len(names))[None, :] < best[:, None]
    layers = [i for i in range(len(names)) if persistent(faded[:, i])]
    if layers:
        first, last = span(steps, faded[:, layers].any(axis=1))
        worst = min(float(np.min(rho[:, i] / top)) for i in layers)
        found.append(
            Finding(
                "vanishing-gradients",
                names[layers[0]],
                f"{', '.join(names[i] for i in layers)} {'gets' if len(layers) == 1 else 'get'} "
                f"a gradient down to {worst:.1g} "
                f"times that of {names[int(best[-1])]} relative to the weights, "
                f"{steps_text(first, last)}: the layers near the input barely learn",
                {"layers": [names[i] for i in layers], "ratio": worst,
                 "best_fed": names[int(best[-1])], "first_step": first, "last_step": last,
                 "relative_gradients": dict(zip(names, rho[-1].tolist()))},
                "error" if worst < VANISHING_RATIO**2 else "warning",
                "every layer multiplies the gradient by less than 1 on its way back: small "
                "weights, or small activation derivatives (sigmoid, tanh, Leaky ReLU below 0)",
                "initialise with Kaiming (ReLU) or Xavier (tanh) init so each layer keeps the "
                "gradient's scale, use ReLU over sigmoid, or fewer layers",
            )
        )  # fmt: skip
    return found


def exploding_findings(names: list[str], steps, grad: np.ndarray, weight: np.ndarray):
    """Exploding gradients over the run (growing_gradient_findings) or, failing that, through
    the layers: a layer's ρ exceeds every later layer's by 1/VANISHING_RATIO."""
    steps = np.asarray(steps)
    found = growing_gradient_findings(names, steps, grad)
    ok = np.isfinite(grad).all(axis=1) & np.isfinite(weight).all(axis=1)
    if found or ok.sum() == 0 or len(names) < 2:
        return found
    rho = relative_gradients(grad[ok], weight[ok])
    later = np.maximum.accumulate(rho[:, ::-1], axis=1)[:, ::-1]  # max over layers ≥ i
    after = np.concatenate([later[:, 1:], np.full((len(rho), 1), np.inf)], axis=1)
    big = np.isfinite(rho) & (rho * VANISHING_RATIO > after) & (after > 0)
    layers = [i for i in range(len(names)) if persistent(big[:, i])]
    if not layers:
        return []
    first, last = span(steps[ok], big[:, layers].any(axis=1))
    i = layers[0]
    ratio = float(np.max(rho[:, i] / after[:, i]))
    return [
        Finding(
            "exploding-gradients",
            names[i],
            f"{names[i]} gets a gradient {ratio:.3g} times that of every later layer "
            f"relative to the weights, {steps_text(first, last)}: it takes huge steps",
            {"layers": [names[j] for j in layers], "ratio": ratio,
             "first_step": first, "last_step": last},
            "error",
            "weights too large for the depth: the gradient is multiplied by more than 1 at "
            "every layer on its way back",
            "scale the init down (Xavier/Kaiming), add normalisation, or clip the gradient",
        )
    ]  # fmt: skip


def growing_gradient_findings(names: list[str], steps: np.ndarray, grad: np.ndarray):
    """The whole model's ‖∇‖ grew EXPLODING_GROWTH times from its first recorded value, or
    a tenth of that and then turned NaN/Inf."""
    total = np.sqrt(np.sum(grad**2, axis=1))
    finite = np.isfinite(total)
    if not finite.any() or total[finite][0] <= 0:
        return []
    start = total[finite][0]
    growth = np.where(finite, total / start, np.nan)
    blew_up = not finite[-1]
    peak = int(np.nanargmax(growth))
    if growth[peak] < (EXPLODING_GROWTH / 10 if blew_up else EXPLODING_GROWTH):
        return []
    first, worst = int(steps[np.flatnonzero(growth >= 10)[0]]), int(np.argmax(grad[peak]))
    then = ", then turned NaN/Inf" if blew_up else ""
    return [
        Finding(
            "exploding-gradients",
            names[worst],
            f"the gradient norm grew {growth[peak]:.3g} times, from {start:.3g} to "
            f"{total[peak]:.3g} {steps_text(first, int(steps[peak]))}{then}; {names[worst]} "
            "has the largest",
            {"growth": float(growth[peak]), "first_step": first, "peak_step": int(steps[peak]),
             "norm_start": float(start), "norm_peak": float(total[peak])},
            "error",
            "a learning rate too large for this loss, or recurrent/deep weights whose "
            "products grow (spectral radius above 1)",
            "lower the learning rate and clip the gradient norm (nn.utils.clip_grad_norm_)",
        )
    ]  # fmt: skip


def update_findings(updates: list[tuple[int, float, str]], blew_up: bool) -> list[Finding]:
    """exploding-gradients from the measured updates (step, ‖ΔW‖/‖W‖, matrix), one per checked
    optimizer step: an update larger than the weight itself, followed by NaN/Inf
    (``blew_up``), or on at least half of three or more checked steps after the first (the
    first step from a small initialisation may well outgrow it)."""
    big = np.array([u > 1 for _, u, _ in updates], dtype=bool)
    later = np.array([u > 1 for s, u, _ in updates if s > 0], dtype=bool)
    if not big.any() or not (blew_up or (later.size >= 3 and persistent(later))):
        return []
    step, size, name = max((u for u in updates if u[1] > 1), key=lambda u: u[1])
    then = ", then the run turned NaN/Inf" if blew_up else ""
    return [
        Finding(
            "exploding-gradients",
            name,
            f"one optimizer step changed {name} by {size:.3g} times its own size (at step "
            f"{step}){then}: the gradient is far too large for the learning rate",
            {"update_ratio": size, "step": step, "big_updates": int(big.sum()),
             "checked": len(updates)},
            "error",
            "a gradient that exploded (deep or recurrent weights whose products grow) or a "
            "learning rate too large for this loss",
            "clip the gradient norm (nn.utils.clip_grad_norm_) and lower the learning rate",
        )
    ]  # fmt: skip
