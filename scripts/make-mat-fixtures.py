#!/usr/bin/python3
"""Writes the small SVHN-shaped MAT v5 fixtures under test/fixtures/svhn/ with scipy.

    /usr/bin/python3 scripts/make-mat-fixtures.py   (Debian python3-scipy)

train_32x32.mat is uncompressed, test_32x32.mat zlib-compressed (scipy.io.savemat with
do_compression), both as SVHN stores them: X is 32x32x3xN uint8, y is Nx1 double with
labels 1..10 (10 = digit 0). Pixel values follow a formula that test/data/mat5.test.ts
recomputes, so the test needs no Python:
    X[r, c, ch, i] = (7*r + 13*c + 51*ch + 101*i + seed) % 256
"""
from pathlib import Path

import numpy as np
import scipy.io

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "svhn"


def images(n, seed):
    r, c, ch, i = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), np.arange(n), indexing="ij")
    return ((7 * r + 13 * c + 51 * ch + 101 * i + seed) % 256).astype(np.uint8)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    train_y = np.array([[10], [1], [5], [9], [10]], dtype=np.float64)
    test_y = np.array([[3], [10], [7]], dtype=np.float64)
    scipy.io.savemat(OUT / "train_32x32.mat", {"X": images(5, 0), "y": train_y}, format="5", do_compression=False)
    scipy.io.savemat(OUT / "test_32x32.mat", {"X": images(3, 17), "y": test_y}, format="5", do_compression=True)
    for f in sorted(OUT.glob("*.mat")):
        print(f, f.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
