"""Setup rules: mistakes in the training loop rather than in the numbers of the model.

weights-unchanged: parameters that never move; zero-grad-forgotten: gradients that keep
accumulating across optimizer steps; probability-into-logits-loss: a sigmoid or softmax
output fed to a loss that applies one itself.
"""

from __future__ import annotations

from .findings import Finding

MOVABLE = 1e-4
LOGITS_LOSSES = {"binary_cross_entropy_with_logits": "sigmoid", "cross_entropy": "softmax"}


def unchanged_findings(
    names: list[str],
    moved: list[bool],
    largest_step: list[float],
    frozen: list[bool],
    steps: int,
    loss_falls: bool | None,
) -> list[Finding]:
    """Parameters equal to their first recorded value after ``steps`` ≥ 2 steps.

    With a gradient of at least MOVABLE of the parameter (‖∇p‖/‖p‖ at some sampled step:
    smaller steps can round away in float32) they should have moved: none moved
    (optimizer.step() is never called) or some did not (they are missing from the optimizer,
    or their learning rate is 0). Frozen ones (requires_grad=False) are reported only when the
    loss does not fall (freezing a layer on purpose while the rest learns is healthy).
    """
    if steps < 2:
        return []
    learners = [i for i in range(len(names)) if largest_step[i] >= MOVABLE]
    still = [i for i in learners if not moved[i]]
    found = []
    if still:
        none_moved = len(still) == len(learners)
        found.append(
            Finding(
                "weights-unchanged",
                ", ".join(names[i] for i in still),
                f"{len(still)} of {len(learners)} parameters with a non-zero gradient are "
                f"exactly as they were at the first step, after {steps} steps",
                {"parameters": [names[i] for i in still], "steps": steps},
                "error",
                "optimizer.step() is never called"
                if none_moved
                else "these parameters are not in the optimizer (or their learning rate is 0)",
                "call optimizer.step() after loss.backward() in every step"
                if none_moved
                else "build the optimizer from model.parameters() after the model is complete",
            )
        )
    stuck = [i for i, n in enumerate(names) if frozen[i]]
    if stuck and loss_falls is False:
        found.append(
            Finding(
                "weights-unchanged",
                ", ".join(names[i] for i in stuck),
                f"{len(stuck)} parameters have requires_grad=False and the loss does not fall",
                {"parameters": [names[i] for i in stuck], "steps": steps, "frozen": True},
                "error" if len(stuck) == len(names) else "warning",
                "these parameters are frozen (requires_grad=False), so nothing trains them",
                "set requires_grad=True on the parameters meant to learn (requires_grad_())",
            )
        )
    return found


def accumulation_findings(
    names: list[str], accumulated: dict[str, int], observed: int
) -> list[Finding]:
    """zero-grad-forgotten: at ``observed`` sampled backward passes that followed an
    optimizer step, ``accumulated[name]`` times the parameter's .grad still held the
    previous step's gradient; reported when it is at least half of them."""
    if observed == 0:
        return []
    hit = [n for n in names if accumulated.get(n, 0) >= 0.5 * observed]
    if not hit:
        return []
    return [
        Finding(
            "zero-grad-forgotten",
            ", ".join(hit) if len(hit) < len(names) else "(every parameter)",
            f"at {max(accumulated[n] for n in hit)} of {observed} checked steps, backward added "
            "the new gradient to the previous step's (not zeroed in between): every update "
            "uses the sum of all gradients so far",
            {"parameters": hit, "accumulated": {n: accumulated[n] for n in hit},
             "observed": observed},
            "error",
            "optimizer.zero_grad() (or model.zero_grad()) is not called in the training loop",
            "call optimizer.zero_grad() before loss.backward() in every step",
        )
    ]  # fmt: skip


def probability_findings(loss_op: str, input_op: str, count: int, seen: int) -> list[Finding]:
    """probability-into-logits-loss: the input of a loss that applies sigmoid (softmax)
    itself came straight from a sigmoid (softmax) op, at ``count`` of ``seen`` losses."""
    if count == 0:
        return []
    return [
        Finding(
            "probability-into-logits-loss",
            "(model output)",
            f"the input of {loss_op} comes from a {input_op} at {count} of {seen} checked "
            f"losses: the loss applies {input_op} a second time, so outputs are squashed "
            "into a narrow band and the gradient shrinks",
            {"loss": loss_op, "input_op": input_op, "count": count, "seen": seen},
            "error",
            f"the model ends in {input_op.capitalize()} and the loss expects logits",
            f"remove the final {input_op.capitalize()} (keep it only for predictions), or use "
            + ("BCELoss" if input_op == "sigmoid" else "NLLLoss on log_softmax"),
        )
    ]
