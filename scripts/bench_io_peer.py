#!/usr/bin/env python3
"""The Python peer of ptx-io's benches: the same work with numpy and pydicom on the same files.

- rle: decode each of the 1,500 annotation rows to a 1024x1024 mask (numpy, runs written into
  a column-major buffer) and encode it back (vectorised numpy: flatten in column order,
  find the changes);
- dicom: pydicom.dcmread + pixel_array of one SIIM JPEG-baseline file from memory (the
  pylibjpeg-libjpeg plugin decodes it).

Prints JSON: best-of-N seconds per iteration of each, as criterion's benches define one.
"""
import io
import json
import os
import sys
import time

import numpy as np
import pydicom

DATA = os.environ.get("PTX_SHARED_DATA", os.path.join(os.path.dirname(__file__), "../../shared/data"))


def decode(text, width=1024, height=1024):
    flat = np.zeros(width * height, dtype=np.uint8)
    text = text.strip()
    if text != "-1":
        values = np.asarray(text.split(), dtype=np.int64)
        starts, lengths = values[0::2], values[1::2]
        ends = np.cumsum(starts + lengths)
        for s, e in zip(ends - lengths, ends):
            flat[s:e] = 1
    return flat.reshape(width, height).T


def encode(mask):
    flat = mask.T.reshape(-1)
    padded = np.concatenate([[0], flat, [0]])
    runs = np.flatnonzero(padded[1:] != padded[:-1])
    if len(runs) == 0:
        return "-1"
    runs[1::2] -= runs[0::2]  # lengths
    ends = runs[0::2] + runs[1::2]
    runs[2::2] -= ends[:-1]  # relative starts
    return " ".join(map(str, runs))


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    with open(os.path.join(DATA, "siim/csv/subset-1500rows_500pos_1000neg.srivatsav09_fin.csv"), encoding="utf-8-sig") as f:
        rows = [line.split(",", 1)[1].strip() for line in f.read().splitlines()[1:] if line.strip()]
    assert len(rows) == 1500
    for r in rows[:50]:
        assert encode(decode(r)) == " ".join(r.split())
    rle = best(lambda: [encode(decode(r)) for r in rows], 5)
    with open(os.path.join(DATA, "siim/dicom/1.2.276.0.7230010.3.1.4.8323329.301.1517875162.280319.dcm"), "rb") as f:
        raw = f.read()
    dicom = best(lambda: pydicom.dcmread(io.BytesIO(raw)).pixel_array, 30)
    json.dump({"rle/decode_encode_1500_rows": rle, "dicom/decode_siim_jpeg": dicom,
               "numpy": np.__version__, "pydicom": pydicom.__version__}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
