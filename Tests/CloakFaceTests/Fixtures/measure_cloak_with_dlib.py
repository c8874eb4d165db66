#!/usr/bin/env python3
"""Measures face cloaks with real dlib (PyPI dlib-bin 20.0.1.post1): its own HOG detection, 5-point
landmarks, get_face_chip alignment and ResNet descriptor, on each original photo and its cloaked copy.

    Datasets/.venv-dlib/bin/python Tests/CloakFaceTests/Fixtures/measure_cloak_with_dlib.py ORIGINALS CLOAKED

For every photo in ORIGINALS with cloaked versions in CLOAKED named `<stem>.<variant>.<ext>` (for example
obama.cloaked.png, obama.q85.jpg, obama.q75.jpg: the cloak and its JPEG re-encodings), prints per face and
variant the descriptor distance between the original and the cloaked face (faces paired by box overlap).
A face dlib no longer finds on a cloaked version is reported as "not found".
"""
import glob
import os
import sys

import dlib
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MODELS = os.path.join(ROOT, "Datasets", "dlib-models")


def iou(a, b):
    l, t, r, btm = max(a.left(), b.left()), max(a.top(), b.top()), min(a.right(), b.right()), min(a.bottom(), b.bottom())
    inter = max(0, r - l + 1) * max(0, btm - t + 1)
    area = lambda x: (x.right() - x.left() + 1) * (x.bottom() - x.top() + 1)
    return inter / float(area(a) + area(b) - inter)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    originals, cloaked_dir = sys.argv[1], sys.argv[2]
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(MODELS, "shape_predictor_5_face_landmarks.dat"))
    embedder = dlib.face_recognition_model_v1(os.path.join(MODELS, "dlib_face_recognition_resnet_model_v1.dat"))

    def faces(img):
        out = []
        for rect in detector(img, 0):
            shape = predictor(img, rect)
            chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
            out.append((rect, np.array(embedder.compute_face_descriptor(chip))))
        return out

    rows = []
    for path in sorted(glob.glob(os.path.join(originals, "*"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        versions = sorted(glob.glob(os.path.join(cloaked_dir, stem + ".*.*")))
        if not versions:
            continue
        original = dlib.load_rgb_image(path)
        for version in versions:
            variant = os.path.basename(version)[len(stem) + 1:]
            found = faces(dlib.load_rgb_image(version))
            for i, (rect, descriptor) in enumerate(faces(original)):
                match = max(found, key=lambda x: iou(x[0], rect), default=None)
                if match is None or iou(match[0], rect) < 0.5:
                    cell = "not found"
                else:
                    cell = f"{np.linalg.norm(match[1] - descriptor):.3f}"
                rows.append(f"| {os.path.basename(path)} | {i} | {variant} | {cell} |")
    print("| photo | face | version | dlib shift |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
