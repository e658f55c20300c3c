#!/usr/bin/env python3
"""Decodes DICOM files with pydicom (and its pylibjpeg / pyjpegls plugins) into .npy files,
the reference ptx-io's tests compare their decoded stored values with.

For every FILE it writes OUT/<file name>.npy holding `pixel_array` exactly (dtype and shape as
pydicom gives them), or OUT/<file name>.error holding pydicom's error.
"""
import argparse
import os
import sys
import warnings

import numpy as np
import pydicom


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ok = failed = 0
    for path in args.files:
        name = os.path.basename(path)
        for stale in (".npy", ".error"):
            if os.path.exists(os.path.join(args.out, name + stale)):
                os.remove(os.path.join(args.out, name + stale))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, force=True)
                arr = ds.pixel_array
            np.save(os.path.join(args.out, name + ".npy"), np.ascontiguousarray(arr))
            ok += 1
        except Exception as e:  # noqa: BLE001 - any failure is a reference outcome
            with open(os.path.join(args.out, name + ".error"), "w") as f:
                f.write(f"{type(e).__name__}: {e}\n")
            failed += 1
    print(f"pydicom_reference: {ok} decoded, {failed} errors -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
