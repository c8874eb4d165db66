#!/usr/bin/python3
"""`make bench-faces`: the face cloak's speed, end to end, and its dominant cost side by side with PyTorch.

  /usr/bin/python3 bench/faces/compare.py --cloak .build/release/cloak --data Datasets/face-samples \
      [--step .build/release/cloak-face-step] [--rounds 3] [--reps 20] [--crop 400] [--mode mid] [--out DIR]

Each round (default 3; the order of the two sides alternates between rounds, Cloak first in rounds 1 and 3):
  * Cloak: the sample photos are copied to a fresh folder and cloaked by one fresh `cloak faces` process
    (`--json --quiet --no-recompression-check --force`, its own store). From its JSON: seconds per face
    (`photos[].faces[].seconds`, the optimisation of that face), seconds per photo (`photos[].seconds`, with
    detection, and the measurement on the cloaked photo), photo sizes.
  * Cloak's step, timed directly (when --step is given): a fresh `cloak-face-step` process (bench/faces/
    StepTiming.swift, Cloak's own objects) runs the step of every sample face as `FaceCloaker.optimise` does and
    times its parts (warp, embedder forward, embedder backward, warp backward, DSSIM), median of `reps` / 2 steps.
  * PyTorch: a fresh `bench/faces/torch_step.py` process times one cloak step's network work (4 jittered 150x150
    chips warped from a face-region crop by grid_sample, dlib's face ResNet forward, backward to the crop,
    frozen parameters), median of `reps` steps for each form and layout; the fastest counts.
Cloak ms/step = median seconds per face / steps of the mode (50 for mid). That time also holds Cloak's DSSIM,
warp, pyramid and Adam work and the face's clean-chip descriptor and one more forward pass (the last iterate is
scored), so it is conservative for Cloak. The direct timing's network + warp part (warp, embedder forward and
backward, warp backward; median over faces) is the like-for-like number. Ratio = PyTorch ms/step / Cloak ms/step
(> 1: Cloak faster).
The table shows the median over rounds of each round's median, and every round's ratio.
"""
import argparse, json, os, resource, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = {"low": 25, "mid": 50, "high": 100}


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_cloak(args, work, env, r):
    """One fresh `cloak faces` process on a fresh copy of the photos; its JSON, wall and CPU seconds."""
    photos = os.path.join(work, f"round{r}", "photos")
    shutil.copytree(args.data, photos)
    out = os.path.join(work, f"round{r}", "cloaked")
    cmd = [args.cloak, "faces", photos, "--out", out, "--mode", args.mode, "--json", "--quiet",
           "--no-recompression-check", "--force", "--store", os.path.join(work, "store.sqlite")]
    c0, t0 = children_cpu(), time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"bench-faces: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    with open(os.path.join(work, f"round{r}", "cloak.json"), "w") as f:
        f.write(p.stdout)
    return json.loads(p.stdout), wall, cpu


def run_torch(args, work, env, r):
    cmd = ["/usr/bin/python3", os.path.join(HERE, "torch_step.py"), "--json", "--reps", str(args.reps),
           "--crop", str(args.crop), "--jitters", "4"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench-faces: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    with open(os.path.join(work, f"round{r}", "torch.json"), "w") as f:
        f.write(p.stdout)
    return json.loads(p.stdout)


def run_step(args, work, env, r):
    photos = sorted(os.path.join(args.data, f) for f in os.listdir(args.data)
                    if f.lower().endswith((".jpg", ".jpeg", ".png")))
    cmd = [args.step, args.models, str(max(args.reps // 2, 5)), "3", *photos]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench-faces: {' '.join(cmd[:4])} ... failed ({p.returncode}):\n{p.stderr[-2000:]}")
    with open(os.path.join(work, f"round{r}", "step.json"), "w") as f:
        f.write(p.stdout)
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cloak", default=".build/release/cloak")
    ap.add_argument("--data", default="Datasets/face-samples")
    ap.add_argument("--step", help="cloak-face-step binary (bench/faces/build-step-timing.sh); omitted: no direct timing")
    ap.add_argument("--models", default=os.environ.get("CLOAK_MODELS", "Datasets/dlib-models"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--crop", type=int, default=400)
    ap.add_argument("--mode", choices=sorted(STEPS), default="mid")
    ap.add_argument("--out", help="keep the JSON of every round here (default: a temporary folder, removed)")
    args = ap.parse_args()
    if not os.path.isdir(args.data) or not os.listdir(args.data):
        sys.exit(f"bench-faces: no photos in {args.data} (make setup fetches the samples; or set BENCH_DATA)")
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"),
               OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
    work = args.out or tempfile.mkdtemp(prefix="bench-faces-")
    os.makedirs(work, exist_ok=True)
    steps = STEPS[args.mode]

    per_face, per_photo, photos, torch_best, ratios, cloak_runs, loads = [], [], {}, [], [], [], []
    step_runs, step_ratios = [], []
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    loads.append(os.getloadavg()[0])
    started = time.time()
    for r in range(1, args.rounds + 1):
        os.makedirs(os.path.join(work, f"round{r}"), exist_ok=True)
        order = ["cloak", "step", "torch"] if r % 2 == 1 else ["torch", "step", "cloak"]
        if not args.step:
            order.remove("step")
        run = {"cloak": run_cloak, "step": run_step, "torch": run_torch}
        got = {}
        for side in order:
            got[side] = run[side](args, work, env, r)
        result, wall, cpu = got["cloak"]
        faces = [f["seconds"] for p in result["photos"] for f in p.get("faces", [])]
        if not faces:
            sys.exit("bench-faces: Cloak cloaked no face")
        per_face.append(faces)
        per_photo.append([p["seconds"] for p in result["photos"] if p.get("faces")])
        for p in result["photos"]:
            name = os.path.relpath(p["input"], os.path.join(work, f"round{r}", "photos"))
            e = photos.setdefault(name, {"size": f"{p.get('width', '?')}x{p.get('height', '?')}", "outcome":
                                         p.get("outcome"), "boxes": [], "face_s": [], "photo_s": []})
            e["boxes"] = [f"{f['box']['right'] - f['box']['left'] + 1}x{f['box']['bottom'] - f['box']['top'] + 1}"
                          for f in p.get("faces", [])]
            e["face_s"].append([f["seconds"] for f in p.get("faces", [])])
            e["photo_s"].append(p["seconds"])
        cloak_runs.append((wall, cpu, result.get("seconds", wall)))
        best = got["torch"]["best"]
        torch_best.append(got["torch"])
        ratios.append(best["ms"] / (median(faces) / steps * 1e3))
        if "step" in got:
            step_runs.append(got["step"])
            step_ratios.append(best["ms"] / median([f["networkAndWarpMs"] for f in got["step"]["faces"]]))
        loads.append(os.getloadavg()[0])
        print(f"round {r}/{args.rounds} done ({time.time() - started:.0f} s, load average {loads[-1]:.1f}): Cloak "
              f"{median(faces):.2f} s/face, "
              + (f"Cloak step (network + warp) {median([f['networkAndWarpMs'] for f in got['step']['faces']]):.1f} ms, "
                 if "step" in got else "") + f"PyTorch {best['ms']:.1f} ms/step ({best['form']}, {best['layout']})",
              file=sys.stderr)
    uptime_end = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    tv = torch_best[0]
    face_med = median([median(f) for f in per_face])
    all_faces = [s for f in per_face for s in f]
    photo_med = median([median(p) for p in per_photo])
    cloak_step = face_med / steps * 1e3
    torch_step = median([t["best"]["ms"] for t in torch_best])
    torch_cpu = median([t["best"]["cpu_ms"] for t in torch_best])
    winners = [f"{t['best']['form']}/{t['best']['layout']}" for t in torch_best]
    winner = max(set(winners), key=winners.count)
    n_faces = len(per_face[0])

    print(f"Face cloak speed, Cloak `cloak faces --mode {args.mode}` ({steps} Adam steps, 4 jittered chips per step) "
          f"vs PyTorch {tv['torch']} ({tv['threads']} threads), {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{args.rounds} interleaved rounds in {time.time() - started:.0f} s, {len(photos)} photos / {n_faces} faces; "
          f"1-min load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    print(f"uptime before: {uptime}")
    print(f"uptime after:  {uptime_end}")
    print()
    print("Per photo (median over rounds; s per face = optimisation of the face, s per photo = the whole photo "
          "with detection and the measurement of the cloaked result):")
    print()
    print("| photo | size (px) | faces (box px) | s per face | s per photo |")
    print("|---|---:|---:|---:|---:|")
    for name in sorted(photos):
        e = photos[name]
        face = [median([s[i] for s in e["face_s"]]) for i in range(len(e["boxes"]))]
        print(f"| {name} | {e['size']} | {len(e['boxes'])} ({', '.join(e['boxes']) or e['outcome']}) | "
              f"{', '.join(f'{s:.2f}' for s in face) or '-'} | {median(e['photo_s']):.2f} |")
    print()
    print(f"Cloak: median {face_med:.2f} s per face (range {min(all_faces):.2f}-{max(all_faces):.2f} over "
          f"{len(all_faces)} face runs), median {photo_med:.2f} s per photo; per round: "
          + ", ".join(f"{median(f):.2f}" for f in per_face) + " s/face. Cloak process wall / CPU s per round: "
          + ", ".join(f"{w:.1f} / {c:.1f}" for w, c, _ in cloak_runs) + ".")
    print(f"PyTorch step: fastest form/layout {winner} in {winners.count(winner)} of {len(winners)} rounds; "
          f"{tv['jitters']} chips from a {tv['crop']}x{tv['crop']} crop, median of {tv['reps']} steps after "
          f"{tv['warmup']}; CPU {torch_cpu:.0f} ms/step. All forms and layouts, ms/step per round: "
          + "; ".join(", ".join(f"{x['form']}/{x['layout']} {x['ms']:.0f}" for x in t["rows"]) for t in torch_best)
          + ".")
    if step_runs:
        direct = median([median([f["networkAndWarpMs"] for f in s["faces"]]) for s in step_runs])
        direct_cpu = median([median([f["networkAndWarpCPUMs"] for f in s["faces"]]) for s in step_runs])
        parts = {k: median([median([f["partsMs"][k] for f in s["faces"]]) for s in step_runs])
                 for k in step_runs[0]["faces"][0]["partsMs"]}
        regions = ", ".join(f"{os.path.basename(f['photo'])} {f['region']}" for f in step_runs[0]["faces"])
        print()
        print(f"Cloak's step timed directly (cloak-face-step, dlib's real weights, median of "
              f"{step_runs[0]['reps']} steps after {step_runs[0]['warmup']} per face, median over faces and rounds), "
              "ms: " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
              + f"; network + warp {direct:.1f} (CPU {direct_cpu:.1f} ms/step, PyTorch {torch_cpu:.1f}: CPU ratio "
                f"{torch_cpu / direct_cpu:.2f}x). Face regions (the perturbed crop): {regions}.")
        print()
    else:
        print()
    print("| Cloak s/face | Cloak ms/step (s/face / %d) | Cloak ms/step, network + warp (timed) | PyTorch ms/step, "
          "network + warp | ratio (vs s/face / %d) | ratio (vs timed) | per-round ratios (vs s/face; vs timed) |"
          % (steps, steps))
    print("|---:|---:|---:|---:|---:|---:|---:|")
    d_cell = f"{direct:.1f}" if step_runs else "n/a"
    dr_cell = f"{torch_step / direct:.2f}x" if step_runs else "n/a"
    rounds_cell = ", ".join(f"{x:.2f}" for x in ratios) + ("; " + ", ".join(f"{x:.2f}" for x in step_ratios)
                                                          if step_runs else "")
    print(f"| {face_med:.2f} | {cloak_step:.1f} | {d_cell} | {torch_step:.1f} ({winner}) | "
          f"{torch_step / cloak_step:.2f}x | {dr_cell} | {rounds_cell} |")
    print()
    verdict = "met" if face_med <= 3 else "NOT met"
    print(f"Target <= 3 s per face at the default mode: {verdict} ({face_med:.2f} s). PyTorch's network + warp alone "
          f"for {steps} steps: {torch_step * steps / 1e3:.2f} s per face.")
    if not args.out:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
