#!/usr/bin/python3
"""Writes test/fixtures/tiny-imagenet/gray_64.JPEG: a 64x64 single-channel (grayscale)
JPEG, like the few grayscale images in Tiny-ImageNet, made with Pillow (Debian
python3-pil), since the pure-JavaScript encoder the tests use writes colour JPEGs only.

    /usr/bin/python3 scripts/make-jpeg-fixture.py
Pixel (r, c) = (3*r + 2*c) % 256 before compression.
"""
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "test" / "fixtures" / "tiny-imagenet" / "gray_64.JPEG"

img = Image.new("L", (64, 64))
img.putdata([(3 * r + 2 * c) % 256 for r in range(64) for c in range(64)])
OUT.parent.mkdir(parents=True, exist_ok=True)
img.save(OUT, "JPEG", quality=95)
print(OUT, OUT.stat().st_size, "bytes")
