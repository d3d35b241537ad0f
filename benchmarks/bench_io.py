"""What checking every byte costs: loading and saving a 100 MB checkpoint.

    python benchmarks/bench_io.py

A state dict of 25 float32 tensors of 1,000,000 elements (100 MB), in the page cache.
Load: nablab.load (zip CRC-32 of every member read in full + SHA-256 of every array +
manifest checks) against np.load of every array (what format 1's load did, its CRCs not
checked past 4 KiB) and torch.load(weights_only=True); the SHA-256 and CRC-32 of 100 MB
alone say where the difference goes. Save: nablab.save (hashing, fsync, rename) against
np.savez and torch.save to a plain path. One thread; peers interleaved; medians.
"""

import hashlib
import os
import tempfile
import zlib

import numpy as np
import torch
from harness import interleaved, one_thread, report

import nablab

SIZE, COUNT = 1_000_000, 25


def main():
    rng = np.random.default_rng(0)
    arrays = {f"layer{i}.weight": rng.standard_normal(SIZE, dtype=np.float32) for i in range(COUNT)}
    state = {k: nablab.from_numpy(v) for k, v in arrays.items()}
    tensors = {k: torch.from_numpy(v) for k, v in arrays.items()}
    raw = np.concatenate(list(arrays.values())).view(np.uint8)
    with tempfile.TemporaryDirectory() as folder, one_thread():
        paths = {name: os.path.join(folder, name) for name in ("nl.npz", "np.npz", "t.pt")}
        nablab.save(state, paths["nl.npz"])
        np.savez(paths["np.npz"], **arrays)
        torch.save(tensors, paths["t.pt"])
        print(f"checkpoint: {os.path.getsize(paths['nl.npz']) / 1e6:.1f} MB")

        def np_load():
            with np.load(paths["np.npz"], allow_pickle=False) as archive:
                return {k: archive[k] for k in archive.files}

        loads = interleaved(
            {
                "nablab.load (verified)": lambda: nablab.load(paths["nl.npz"]),
                "np.load, every array": np_load,
                "torch.load(weights_only)": lambda: torch.load(paths["t.pt"], weights_only=True),
                "SHA-256 of 100 MB alone": lambda: hashlib.sha256(raw).digest(),
                "CRC-32 of 100 MB alone": lambda: zlib.crc32(raw),
            },
            rounds=9,
            number=1,
        )
        report("load a 100 MB checkpoint", loads, "np.load, every array")
        saves = interleaved(
            {
                "nablab.save (hashed, fsync)": lambda: nablab.save(state, paths["nl.npz"]),
                "np.savez": lambda: np.savez(paths["np.npz"], **arrays),
                "torch.save": lambda: torch.save(tensors, paths["t.pt"]),
            },
            rounds=5,
            number=1,
        )
        report("save a 100 MB checkpoint", saves, "np.savez")


if __name__ == "__main__":
    main()
