#!/usr/bin/env python3
"""OpenCV side of scripts/bench_preproc.sh: CLAHE (clip 2, 8x8), AHE (clip 0, 8x8),
equalizeHist and resize (area / bilinear / nearest to 512, 256, 700) on the positive SIIM DICOM's 1024x1024 pixels, one thread (cv2.setNumThreads(1)),
3 warm-up runs then the median of RUNS. With --write-raw PATH it writes the pixels for the
Rust side and exits. Prints one JSON object {name: seconds}.
Usage: bench_preproc_peer.py DICOM [RUNS=50] [--write-raw PATH]
"""
import json
import sys
import time

import cv2
import pydicom


def median(f, runs):
    for _ in range(3):
        f()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return sorted(times)[runs // 2]


def main():
    image = pydicom.dcmread(sys.argv[1]).pixel_array.astype("uint8")
    if "--write-raw" in sys.argv:
        image.tofile(sys.argv[sys.argv.index("--write-raw") + 1])
        return
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    cv2.setNumThreads(1)
    clahe, ahe = cv2.createCLAHE(2.0, (8, 8)), cv2.createCLAHE(0.0, (8, 8))
    print(json.dumps({
        "clahe_2_8x8": median(lambda: clahe.apply(image), runs),
        "ahe_8x8": median(lambda: ahe.apply(image), runs),
        "equalize_hist": median(lambda: cv2.equalizeHist(image), runs),
        "resize_area_512": median(lambda: cv2.resize(image, (512, 512), interpolation=cv2.INTER_AREA), runs),
        "resize_area_256": median(lambda: cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA), runs),
        "resize_bilinear_512": median(lambda: cv2.resize(image, (512, 512), interpolation=cv2.INTER_LINEAR), runs),
        "resize_bilinear_700": median(lambda: cv2.resize(image, (700, 700), interpolation=cv2.INTER_LINEAR), runs),
        "resize_area_700": median(lambda: cv2.resize(image, (700, 700), interpolation=cv2.INTER_AREA), runs),
        "resize_nearest_512": median(lambda: cv2.resize(image, (512, 512), interpolation=cv2.INTER_NEAREST), runs),
    }))


if __name__ == "__main__":
    main()
