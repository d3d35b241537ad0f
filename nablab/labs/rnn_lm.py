"""rnn-lm: character-level language models on The Time Machine (seeds/004, d2l 8.5–9.4).

d2l's classic setting: the first 10,000 characters (vocabulary 28), windows of 35 steps,
batch 32, SGD, gradients clipped to global norm θ = 1. An RNN written from scratch
(sequential partitioning and random sampling), nn.RNN / nn.GRU / nn.LSTM, a 2-layer
LSTM and a bidirectional 2-layer LSTM, each beside d2l's published final perplexity,
with its greedy continuation of "time traveller".

Perplexity = exp(mean cross-entropy per token) over an epoch; 28 is the uniform guess,
1 a perfect predictor. The lab also scores every trained model a second way: on the
book's opening characters fed one at a time (as generation feeds them), where a
bidirectional model no longer sees the character it has to predict.

``config.iterations`` sets the epochs of every model (each model's own otherwise: its
``Run.epochs``, or QUICK_EPOCHS in the quick variant).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import nablab
from nablab import lm, nn, optim
from nablab.data import load_data_time_machine
from nablab.labs._panels import curve_panels
from nablab.labs._seeds import data_and_model_seeds
from nablab.labs.base import LabConfig, LabResult, Table, register, track

PREFIX, NUM_CHARS = "time traveller", 50
CLIP = 1.0
FULL = {"max_tokens": 10_000, "batch": 32, "steps": 35, "causal_chars": 1000}
QUICK = {"max_tokens": 3_000, "batch": 8, "steps": 10, "hidden": 32, "causal_chars": 200}
QUICK_EPOCHS = 16
BOOK_EPOCHS = 500


@dataclass(frozen=True)
class Run:
    """One model of the lab: `build(vocab_size, hidden)`, its hidden size and SGD lr in the
    full run, batching, the full run's epochs (d2l trains 500) and d2l 0.17's final
    perplexity after 500 epochs, as a (low, high) range."""

    name: str
    build: Callable[[int, int], nn.Module]
    hidden: int
    lr: float
    random_iter: bool
    epochs: int
    published: tuple[float, float]


def _fused(kind, num_layers=1, bidirectional=False):
    def build(vocab_size, hidden):
        layer = getattr(nn, kind)(vocab_size, hidden, num_layers, bidirectional=bidirectional)
        return lm.RNNModel(layer, vocab_size)

    return build


def _scratch(vocab_size, hidden):
    return lm.RNNModelScratch("rnn", vocab_size, hidden)


RUNS = (
    Run("RNN scratch, sequential", _scratch, 512, 1.0, False, 400, (1.0, 1.0)),
    Run("RNN scratch, random sampling", _scratch, 512, 1.0, True, 400, (1.3, 1.5)),
    Run("nn.RNN", _fused("RNN"), 256, 1.0, False, 500, (1.3, 1.3)),
    Run("nn.GRU", _fused("GRU"), 256, 1.0, False, 350, (1.0, 1.1)),
    Run("nn.LSTM", _fused("LSTM"), 256, 1.0, False, 350, (1.0, 1.3)),
    Run("nn.LSTM, 2 layers (lr 2)", _fused("LSTM", 2), 256, 2.0, False, 300, (1.0, 1.0)),
    Run(
        "nn.LSTM, 2 layers, bidirectional",
        _fused("LSTM", 2, True),
        256,
        1.0,
        False,
        120,
        (1.1, 1.1),
    ),
)
BIDIRECTIONAL = RUNS[-1].name


def train_run(run, setting, hidden, epochs, seed, config):
    """Train one model; returns its per-epoch perplexity and tokens/s, the wall time,
    the model and its loader (seeded: the same `seed` gives the same batches and init)."""
    data_seed, model_seed = data_and_model_seeds(seed)
    loader, vocab = load_data_time_machine(
        setting["batch"], setting["steps"], run.random_iter, setting["max_tokens"], seed=data_seed
    )
    nablab.manual_seed(model_seed)
    model = run.build(len(vocab), hidden)
    loss, optimizer = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=run.lr)
    history = {"perplexity": [], "tokens_per_s": []}
    start = time.perf_counter()
    for _ in track(range(epochs), total=epochs, description=run.name, config=config):
        ppl, speed = lm.train_epoch(model, loader, loss, optimizer, run.random_iter, CLIP)
        history["perplexity"].append(ppl)
        history["tokens_per_s"].append(speed)
    history["seconds"] = time.perf_counter() - start
    return history, model, loader, vocab


def window_and_causal_perplexity(model, ids):
    """Perplexity of `ids[1:]` given `ids[:-1]`, two ways, no gradient:

    window — the whole sequence in one call, as in training (a bidirectional layer's
    backward direction has then read x_{t+1} = y_t before predicting it);
    causal — one character per call with the state carried, as generation runs: the
    model sees x_1..x_t only. The two agree for a left-to-right model.
    """
    model.eval()
    loss = nn.CrossEntropyLoss()
    y = nablab.from_numpy(ids[1:])
    with nablab.no_grad():
        logits, _ = model(ids[None, :-1], model.begin_state(1))
        window = math.exp(loss(logits, y).item())
        state, steps = model.begin_state(1), []
        for t in range(len(ids) - 1):
            step, state = model(ids[None, t : t + 1], state)
            steps.append(step)
        causal = math.exp(loss(nablab.cat(steps, dim=0), y).item())
    model.train()
    return window, causal


def book_match(generation, text):
    """How many generated characters after the prefix continue a passage of the training
    text: the largest n with generation[:len(PREFIX) + n] a substring of `text`."""
    n = 0
    while n < len(generation) - len(PREFIX) and generation[: len(PREFIX) + n + 1] in text:
        n += 1
    return n


@register(
    "rnn-lm",
    summary="Character-level RNN/GRU/LSTM language models on The Time Machine (d2l's setting)",
    source="seeds/004 (d2l 8.5–8.6 RNN, 9.1 GRU, 9.2 LSTM, 9.3 deep, 9.4 bidirectional)",
)
def run(config: LabConfig) -> LabResult:
    setting = QUICK if config.quick else FULL
    start = time.perf_counter()
    results = {}
    for spec in track(RUNS, total=len(RUNS), description="models", config=config):
        epochs = config.steps(full=spec.epochs, quick=QUICK_EPOCHS)
        hidden = QUICK["hidden"] if config.quick else spec.hidden
        history, model, loader, vocab = train_run(
            spec, setting, hidden, epochs, config.seed, config
        )
        text = "".join(vocab.to_tokens(loader.corpus))
        generation = lm.predict(PREFIX, NUM_CHARS, model, vocab)
        window, causal = window_and_causal_perplexity(
            model, loader.corpus[: setting["causal_chars"] + 1]
        )
        results[spec.name] = {
            "hidden": hidden,
            "epochs": epochs,
            "lr": spec.lr,
            "partitioning": "random" if spec.random_iter else "sequential",
            "published": spec.published,
            "perplexity": history["perplexity"],
            "first_perplexity": history["perplexity"][0],
            "final_perplexity": history["perplexity"][-1],
            "tokens_per_s": float(np.median(history["tokens_per_s"])),
            "seconds": history["seconds"],
            "generation": generation,
            "book_match": book_match(generation, text),
            "window_perplexity": window,
            "causal_perplexity": causal,
            "vocab_size": len(vocab),
        }
    seconds = time.perf_counter() - start

    tables = [
        Table(
            f"Training perplexity (first {setting['max_tokens']:,} characters, batch "
            f"{setting['batch']} × {setting['steps']} steps, θ = {CLIP:g}) beside d2l 0.17's "
            f"final figure after {BOOK_EPOCHS} epochs",
            ["model", "hidden", "batches", "lr", "epochs", "ppl epoch 1", "ppl final", "d2l"]
            + ["tokens/s", "seconds"],
            [
                [name, r["hidden"], r["partitioning"], r["lr"], r["epochs"]]
                + [r["first_perplexity"], r["final_perplexity"], _range(r["published"])]
                + [round(r["tokens_per_s"]), round(r["seconds"], 1)]
                for name, r in results.items()
            ],
        ),
        Table(
            f"Greedy continuation of {PREFIX!r} ({NUM_CHARS} characters), how many of them "
            f"continue a passage of the training text, and perplexity on its first "
            f"{setting['causal_chars']:,} characters read as one window vs one character at "
            "a time",
            ["model", "generation", "chars as in the book", "ppl window", "ppl causal"],
            [
                [name, r["generation"], r["book_match"]]
                + [r["window_perplexity"], r["causal_perplexity"]]
                for name, r in results.items()
            ],
        ),
    ]
    deep = {n: r["perplexity"] for n, r in results.items() if "layers" in n or n == "nn.LSTM"}
    figure = curve_panels(
        {
            "one layer": {n: r["perplexity"] for n, r in results.items() if "layers" not in n},
            "2 layers, bidirectional; nn.LSTM": deep,
        },
        config.out / "rnn_lm_perplexity.png",
        logy=True,
        ylabel="training perplexity",
        ncols=2,
        title=f"Character-level LMs, first {setting['max_tokens']:,} characters of The Time "
        "Machine",
    )
    notes = [
        "Full run, epochs per model: "
        + ", ".join(
            f"{s.name} {s.epochs}"
            + ("" if s.epochs == BOOK_EPOCHS else f" instead of {BOOK_EPOCHS}")
            for s in RUNS
        )
        + ", so that the whole lab finishes in about 15 minutes on 2 CPU cores with one "
        "BLAS thread (`nablab run rnn-lm`). The d2l column is d2l's figure after "
        f"{BOOK_EPOCHS} epochs.",
        "The RNN from scratch has d2l's 512 hidden units; the nn layers have d2l's 256.",
        "tokens/s: an epoch's target tokens over its wall time (forward, backward, clipping, "
        "SGD step), median over the epochs; the machine's other load moves it.",
        "LABS.md asks for a 2-layer deep GRU; the lab trains d2l's 2-layer LSTM (lr 2), the "
        "model whose published perplexity (1.0) it can be set beside. The from-scratch GRU "
        "and LSTM (nablab.lm.gru/lstm) are not trained here: they compute what nn.GRU/LSTM "
        "compute (tests/test_lm.py) at about 1.4–2× the time per epoch.",
        "Perplexity is the training loss's, averaged over the epoch while the weights move "
        "(d2l's figure). The window and causal perplexities are measured after training on "
        "the text's first characters, which every model trained on: they show how a model "
        "is used, not how it generalises.",
        "Sequential batches carry the state across batches (detached) and reset it each "
        "epoch; random sampling resets it every batch. Weights: PyTorch's init for the nn "
        "layers, N(0, 0.01²) for the scratch RNN (d2l).",
    ]
    if config.iterations is not None:
        notes.append(
            f"iterations overridden: {config.iterations} epochs for every model instead of "
            f"each model's own count (listed above; {QUICK_EPOCHS} in the quick variant); "
            f"d2l's figures are after {BOOK_EPOCHS}."
        )
    if config.quick:
        notes.append(
            f"Quick variant: first {QUICK['max_tokens']:,} characters, batch {QUICK['batch']} "
            f"× {QUICK['steps']} steps, hidden {QUICK['hidden']}, "
            f"{config.iterations or QUICK_EPOCHS} epochs per model; the d2l column still "
            "quotes the full setting."
        )
    metrics = {"models": results, "seconds": seconds, "prefix": PREFIX}
    return LabResult(
        question="How well do RNN, GRU and LSTM language models fit d2l's 10,000 characters "
        "of The Time Machine, how fast does nablab train them, and why can a bidirectional "
        "LSTM not generate text?",
        setting=(
            f"d2l's Time Machine (char level, vocabulary 28), first {setting['max_tokens']:,} "
            f"characters, windows of {setting['steps']} steps, batch {setting['batch']}, SGD "
            f"with the global gradient norm clipped to {CLIP:g}, one-hot inputs and a linear "
            "read-out. Models: an RNN from scratch (nablab tensors, step by step) with "
            "sequential and with random batches, nn.RNN, nn.GRU, nn.LSTM, a 2-layer LSTM "
            f"(lr 2) and a bidirectional 2-layer LSTM; {_runs_text(results)}. Greedy "
            f"generation of {NUM_CHARS} characters after {PREFIX!r}. Whole lab: "
            f"{seconds:.0f} s."
        ),
        tables=tables,
        figures=[figure],
        answer=_answer(results, setting["max_tokens"], not config.quick),
        metrics=metrics,
        notes=notes,
    )


def _range(bounds):
    low, high = bounds
    return f"{low}" if low == high else f"{low}–{high}"


def _runs_text(results):
    """The setting's text: 'hidden 512, 400 epochs: A, B; hidden 256, 500 epochs: C'."""
    groups = {}
    for name, r in results.items():
        groups.setdefault((r["hidden"], r["epochs"]), []).append(name)
    return "; ".join(f"hidden {h}, {e} epochs: {', '.join(n)}" for (h, e), n in groups.items())


def _answer(results, max_tokens, versus_published):
    """The lab's findings in words, computed from its numbers; `versus_published` sets
    the final perplexities beside d2l's (the full run's setting only)."""
    forward = {n: r for n, r in results.items() if n != BIDIRECTIONAL}
    bi = results[BIDIRECTIONAL]
    finals = ", ".join(f"{n} {r['final_perplexity']:.2f}" for n, r in results.items())
    memorised = [n for n, r in forward.items() if r["final_perplexity"] < 1.2]
    reached = [n for n, r in results.items() if r["final_perplexity"] <= 1.05 * r["published"][1]]
    short = [n for n in results if n not in reached]
    fastest = max(results, key=lambda n: results[n]["tokens_per_s"])
    slowest = min(results, key=lambda n: results[n]["tokens_per_s"])
    text = (
        f"Final training perplexities (uniform guess: {bi['vocab_size']}): {finals}. "
        f"Throughput ranges from {results[fastest]['tokens_per_s']:,.0f} tokens/s ({fastest}) "
        f"to {results[slowest]['tokens_per_s']:,.0f} ({slowest}). "
    )
    if versus_published and reached:
        text += f"At or below d2l's published figure (within 5 %): {', '.join(reached)}. "
    if versus_published and short:
        text += (
            "Above it: "
            + ", ".join(
                f"{n} ({results[n]['final_perplexity']:.2f} after {results[n]['epochs']} epochs "
                f"vs {_range(results[n]['published'])} after {BOOK_EPOCHS})"
                for n in short
            )
            + ". "
        )
    if memorised:
        best = max(memorised, key=lambda n: forward[n]["book_match"])
        text += (
            f"Perplexity below 1.2 ({', '.join(memorised)}) is memorisation of the "
            f"{max_tokens:,} training characters, not a model of English: "
            f"{best}'s continuation repeats the book for {forward[best]['book_match']} of "
            f"{NUM_CHARS} characters ({forward[best]['generation']!r}). "
        )
    else:
        text += (
            "No left-to-right model got below perplexity 1.2 in these epochs; their "
            "continuations follow the book for at most "
            f"{max(r['book_match'] for r in forward.values())} characters. "
        )
    gaps = [r["causal_perplexity"] / r["window_perplexity"] for r in forward.values()]
    same = max(abs(g - 1) for g in gaps)
    text += (
        f"The bidirectional LSTM reaches training perplexity {bi['final_perplexity']:.2f}; on "
        f"the book's opening it scores {bi['window_perplexity']:.2f} read as one window and "
        f"{bi['causal_perplexity']:.1f} read one character at a time, while every "
        f"left-to-right model scores the same both ways (within {same:.1e}). "
    )
    if bi["causal_perplexity"] > 2 * bi["window_perplexity"]:
        text += (
            "Its backward direction reads x_(t+1), the very character it is trained to "
            "predict, so in training it copies the future; when generating, the future does "
            f"not exist yet, and its continuation {bi['generation']!r} follows the book for "
            f"{bi['book_match']} characters."
        )
    else:
        text += (
            "Its two scores are still close: at this stage it has not yet learnt to copy "
            "the future character its backward direction reads."
        )
    return text
