#!/usr/bin/env python3
"""A small face beside a large one, cloaked with `cloak faces --upsample 0` and `--upsample 1`, then read by real
dlib (PyPI dlib-bin) as face_recognition's default tracker reads photos: `detector(img, 1)` (the photo doubled once,
faces from about 40 px), 5-point landmarks, descriptor. Prints each face's descriptor distance between the original
and each cloaked copy (dlib's same-person threshold is 0.6: below it, the tracker still ties the face to the person).

    Datasets/.venv-dlib/bin/python bench/faces/small_faces_with_dlib.py [WORK_FOLDER]

The group photo (written as PNG into WORK_FOLDER, default /tmp/cloak-small-faces): obama.jpg as it is, and
obama2.jpg shrunk 6x by 6x6 block means (a face of about 45 px) beside it, on a grey background.
"""
import os
import subprocess
import sys

import dlib
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "Datasets", "dlib-models")
SAMPLES = os.path.join(ROOT, "Datasets", "face-samples")
CLOAK = os.path.join(ROOT, ".build", "release", "cloak")


def group_photo(path):
    big = dlib.load_rgb_image(os.path.join(SAMPLES, "obama.jpg"))
    other = dlib.load_rgb_image(os.path.join(SAMPLES, "obama2.jpg")).astype(np.float64)
    h, w = other.shape[0] // 6, other.shape[1] // 6
    small = other[:h * 6, :w * 6].reshape(h, 6, w, 6, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    canvas = np.full((big.shape[0], big.shape[1] + w + 100, 3), (120, 130, 140), dtype=np.uint8)
    canvas[:big.shape[0], :big.shape[1]] = big
    canvas[400:400 + h, big.shape[1] + 50:big.shape[1] + 50 + w] = small
    dlib.save_image(canvas, path)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else "/tmp/cloak-small-faces"
    os.makedirs(os.path.join(work, "photos"), exist_ok=True)
    original = os.path.join(work, "photos", "group.png")
    group_photo(original)
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(MODELS, "shape_predictor_5_face_landmarks.dat"))
    net = dlib.face_recognition_model_v1(os.path.join(MODELS, "dlib_face_recognition_resnet_model_v1.dat"))

    def faces(path):
        img = dlib.load_rgb_image(path)
        return [(r, np.array(net.compute_face_descriptor(img, predictor(img, r)))) for r in detector(img, 1)]

    clean = faces(original)
    print(f"{original}: dlib detector(img, 1) finds {len(clean)} faces: "
          + ", ".join(f"{r.width()}x{r.height()} px at ({r.left()}, {r.top()})" for r, _ in clean))
    print("\n| cloak faces | " + " | ".join(f"face {r.width()} px: distance" for r, _ in clean) + " |")
    print("|---|" + "---:|" * len(clean))
    for upsample in (0, 1):
        out = os.path.join(work, f"upsample{upsample}")
        subprocess.run([CLOAK, "faces", os.path.join(work, "photos"), "--out", out, "--upsample", str(upsample),
                        "--mode", "mid", "--force", "--quiet", "--models", MODELS,
                        "--store", os.path.join(work, "cloak.sqlite")], check=True, stdout=subprocess.DEVNULL)
        cloaked = faces(os.path.join(out, "group.png"))
        cells = []
        for box, descriptor in clean:
            overlapping = [d for r, d in cloaked if r.intersect(box).area() > 0]
            cells.append(f"{min(np.linalg.norm(descriptor - d) for d in overlapping):.3f}" if overlapping else "not found")
        print(f"| --upsample {upsample} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
