#!/usr/bin/env python3
"""The tracker test with real dlib (PyPI dlib-bin 20.0.1.post1): a tracker enrols the cloaked photos of a person
as its gallery and probes with clean photos of that person it has not enrolled; at dlib's 0.6 threshold no probe
should match. Uses dlib's own HOG detection, 5-point landmarks, get_face_chip and descriptor.

    Datasets/.venv-dlib/bin/python Tests/CloakFaceTests/Fixtures/tracker_test_with_dlib.py CLOAKED [PERSON_FILES...]

CLOAKED holds `<stem>.cloaked.<ext>` for the sample photos (as CloakMeasurementRun and `cloak faces` write them); the person's files
default to the Obama photos of Datasets/face-samples, and biden.jpg is the other identity for scale. For each
probe, the gallery is every other file of the person, cloaked (and, for comparison, clean).
"""
import glob
import os
import sys

import dlib
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MODELS = os.path.join(ROOT, "Datasets", "dlib-models")
SAMPLES = os.path.join(ROOT, "Datasets", "face-samples")
PERSON = ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama_partial_face.jpg", "obama_partial_face2.jpg", "32bit.png"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cloaked_dir, person = sys.argv[1], sys.argv[2:] or PERSON
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(os.path.join(MODELS, "shape_predictor_5_face_landmarks.dat"))
    embedder = dlib.face_recognition_model_v1(os.path.join(MODELS, "dlib_face_recognition_resnet_model_v1.dat"))

    def descriptor(path):
        img = dlib.load_rgb_image(path)
        faces = detector(img, 0)
        if not faces:
            return None
        chip = dlib.get_face_chip(img, predictor(img, faces[0]), size=150, padding=0.25)
        return np.array(embedder.compute_face_descriptor(chip))

    clean = {p: descriptor(os.path.join(SAMPLES, p)) for p in person + ["biden.jpg"]}
    def cloaked_path(p):
        matches = sorted(glob.glob(os.path.join(cloaked_dir, os.path.splitext(p)[0] + ".cloaked.*")))
        if not matches:
            sys.exit("no cloaked copy of %s in %s" % (p, cloaked_dir))
        return matches[0]

    cloaked = {p: descriptor(cloaked_path(p)) for p in person}
    print("| clean probe | nearest cloaked gallery | matches < 0.6 | nearest clean gallery | to biden.jpg |")
    print("|---|---|---|---|---|")
    for probe in person:
        others = [g for g in person if g != probe and cloaked[g] is not None]
        to_cloaked = [np.linalg.norm(clean[probe] - cloaked[g]) for g in others]
        to_clean = [np.linalg.norm(clean[probe] - clean[g]) for g in others]
        matches = sum(d < 0.6 for d in to_cloaked)
        print(f"| {probe} | {min(to_cloaked):.3f} | {matches}/{len(others)} | {min(to_clean):.3f} | "
              f"{np.linalg.norm(clean[probe] - clean['biden.jpg']):.3f} |")


if __name__ == "__main__":
    main()
