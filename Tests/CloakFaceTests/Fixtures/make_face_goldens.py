#!/usr/bin/env python3
"""Writes Tests/CloakFaceTests/Fixtures/face_goldens.json from real dlib (PyPI dlib-bin 20.0.1.post1).

Run from the repository root with the private venv that scripts/fetch-face-data.sh creates:

    Datasets/.venv-dlib/bin/python Tests/CloakFaceTests/Fixtures/make_face_goldens.py

For every photo in Datasets/face-samples/ (decoded by dlib.load_rgb_image) it records:
  - the image size and the sum of its decoded RGB samples (so a test can tell a decoder difference
    from an algorithm difference);
  - the HOG frontal detector's boxes with upsample 0 (what Cloak's HOGFaceDetector reproduces) and
    with upsample 1 (face_recognition's default, for information), each with score and filter index;
  - per upsample-0 box: the 5 landmarks of shape_predictor_5_face_landmarks.dat (dlib rounds them to
    whole pixels), the chip of get_face_chip(img, shape, size=150, padding=0.25) as per-channel means
    of the full chip plus every 6th pixel in both directions (25x25x3 bytes, base64, row-major RGB),
    and dlib's 128-D ResNet descriptor of that chip (for the embedder's golden test);
  - per upsample-0 box: a "stride chip", 150x150 pixels copied from the decoded photo without any
    interpolation (pixel (c, r) of the chip is photo pixel (left + stride * c, top + stride * r), clamped to
    the photo), and dlib's descriptor of it: a chip Cloak reproduces bit for bit, so the embedder can be
    checked against dlib to float precision, independently of chip extraction.
No photo, model or chip is committed; the fixture stays a few KB per face.
"""
import base64
import glob
import json
import os
import sys

import dlib
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SAMPLES = os.path.join(ROOT, "Datasets", "face-samples")
MODELS = os.path.join(ROOT, "Datasets", "dlib-models")
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "face_goldens.json")
CHIP_STRIDE = 6


def box(r):
    return [r.left(), r.top(), r.right(), r.bottom()]


def main():
    photos = sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")) + glob.glob(os.path.join(SAMPLES, "*.png")))
    if not photos:
        sys.exit(f"no photos in {SAMPLES}; run scripts/fetch-face-data.sh first")
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(MODELS, "shape_predictor_5_face_landmarks.dat"))
    embedder = dlib.face_recognition_model_v1(os.path.join(MODELS, "dlib_face_recognition_resnet_model_v1.dat"))

    images = []
    for path in photos:
        img = dlib.load_rgb_image(path)
        rects0, scores0, index0 = detector.run(img, 0, 0.0)
        rects1, scores1, index1 = detector.run(img, 1, 0.0)
        faces = []
        height, width = img.shape[:2]
        for rect, score, index in zip(rects0, scores0, index0):
            shape = predictor(img, rect)
            chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
            sample = np.ascontiguousarray(chip[::CHIP_STRIDE, ::CHIP_STRIDE, :])
            descriptor = embedder.compute_face_descriptor(chip)
            stride = max(1, (rect.right() - rect.left() + 1) // 100)
            rows = np.clip(rect.top() + stride * np.arange(150), 0, height - 1)
            cols = np.clip(rect.left() + stride * np.arange(150), 0, width - 1)
            stride_chip = np.ascontiguousarray(img[rows][:, cols, :])
            stride_descriptor = embedder.compute_face_descriptor(stride_chip)
            faces.append({
                "box": box(rect),
                "score": round(float(score), 6),
                "filter": int(index),
                "landmarks": [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)],
                "chipMean": [round(float(chip[:, :, c].mean()), 4) for c in range(3)],
                "chipSampleStride": CHIP_STRIDE,
                "chipSample": base64.b64encode(sample.tobytes()).decode("ascii"),
                "descriptor": [float(f"{v:.7g}") for v in descriptor],
                "strideChip": {"left": rect.left(), "top": rect.top(), "stride": stride,
                               "descriptor": [float(f"{v:.7g}") for v in stride_descriptor]},
            })
        images.append({
            "file": os.path.basename(path),
            "width": int(img.shape[1]),
            "height": int(img.shape[0]),
            "rgbSum": int(img.astype(np.int64).sum()),
            "faces": faces,
            "upsampled": [{"box": box(r), "score": round(float(s), 6), "filter": int(i)}
                          for r, s, i in zip(rects1, scores1, index1)],
        })
    fixture = {
        "generator": "Tests/CloakFaceTests/Fixtures/make_face_goldens.py",
        "dlib": dlib.__version__,
        "images": images,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(images)} photos, {sum(len(i['faces']) for i in images)} faces")


if __name__ == "__main__":
    main()
