#!/usr/bin/env python3
"""`make test-hf`: what `ablate export` writes works in the Hugging Face / pandas world.

With the real binary it trains tiny runs on the prepared corpus — SP `learned` with a tied head, μP (tied table,
α_in = 10 and α_out/m = 1 ≠ α_in, d_model ≠ base_width, attention scale 1/d_head), `hashed` with biases, and
`lowrank`, `frozen-random` and `transplant` — and checks for each:
  1. `ablate export hf` loads with AutoModelForCausalLM / AutoTokenizer (as GPT2LMHeadModel /
     PreTrainedTokenizerFast, no custom code);
  2. the HF logits equal ablate's (`ablate eval --dump-logits`) on the same windows of a text neither model nor
     tokenizer has seen: max |Δ| / max |logit| ≤ 1e-5;
  3. the HF tokenizer's ids equal `ablate tokenizer encode`'s on unseen text (non-ASCII, whitespace runs, digits,
     punctuation, CR/LF, control bytes), and decoding gives the text back;
then `ablate export table` over the runs: runs.csv and metrics.csv load with pandas.read_csv with numeric
dtypes and the values of the run folders.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel, PreTrainedTokenizerFast

transformers.utils.logging.disable_progress_bar()
transformers.utils.logging.set_verbosity_error()  # e.g. "sequence longer than model_max_length": we only tokenize

TOLERANCE = 1e-5
VOCAB = 2048
COMMON = ["--preset", "tiny", "--vocab", str(VOCAB), "--steps", "60", "--set", "context_length=32",
          "--set", "batch_size=8", "--set", "eval_interval=20", "--set", "checkpoint_interval=60",
          "--set", "learning_rate=3e-3", "--set", "warmup_steps=10"]
RUNS = {
    "sp": ["--strategy", "learned", "--set", "tie_embeddings=true"],
    "mup": ["--strategy", "mup", "--set", "parametrization=mup", "--set", "d_model=128", "--set", "n_head=4",
            "--set", "base_width=64", "--set", "output_multiplier=2", "--set", "tie_embeddings=true"],
    "hashed": ["--strategy", "hashed", "--set", "bias=true"],
    # The other strategies (their effective tables: a product, a frozen table, another run's table).
    "lowrank": ["--strategy", "lowrank"],
    "frozen-random": ["--strategy", "frozen-random"],
    # Frozen tables under μP: σ_base 0.08 and α_in 10 (folded into wte), like the trained table.
    "frozen-random-mup": ["--strategy", "frozen-random", "--set", "parametrization=mup", "--set", "base_width=64"],
    "hashed-mup": ["--strategy", "hashed", "--set", "parametrization=mup", "--set", "base_width=64"],
    "transplant": ["--strategy", "transplant", "--set", "strategy_options={checkpoint: {runs}/sp, trainable: true}"],
}
# Text the tokenizer was not trained on (the corpus is ASCII Shakespeare), one case per pre-split rule.
TEXTS = [
    "Zürich's café — naïve façade, 日本語のテキスト and emoji 🙂👍🏽!",
    "  leading spaces, two  spaces,   three   spaces, trailing   ",
    "\n\n\nblank lines\n  \n \nHi\n  indented\n\tTab\t\tdouble tab \t mixed\n",
    "CRLF line\r\nnext\rline\x0bvertical\x0cform feed",
    "digits 12345 6.789 3,000,000 x2y 2nd 10th -42 +7e10",
    "punct \"quoted\" (parens) [brackets] {braces} @#$%^&*_+=~`|\\/<>?;: -- ... !!! '' o'er",
    "control \x00\x01\x07\x1b\x7f bytes",
    "ÀÉÎÕÜ ß ø æ œ Ω π Σ ∑ √ ∞ → ← “smart quotes” ‘single’ …",
]


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def check_model(ablate, name, run_dir, export_dir, work):
    cfg = json.load(open(os.path.join(export_dir, "config.json")))
    model = AutoModelForCausalLM.from_pretrained(export_dir, dtype=torch.float32)
    assert isinstance(model, GPT2LMHeadModel), type(model)
    model.eval()

    text_file = os.path.join(work, "heldout.txt")
    with open(text_file, "w", encoding="utf-8") as f:
        f.write("".join(TEXTS) * 2)
    ids_file, logits_file = os.path.join(work, f"{name}.u16"), os.path.join(work, f"{name}.f32")
    run([ablate, "tokenizer", "encode", "--vocab", str(VOCAB), "--file", text_file, "--out", ids_file])
    run([ablate, "eval", run_dir, "--tokens", ids_file, "--dump-logits", logits_file])
    ids = np.fromfile(ids_file, dtype="<u2").astype(np.int64)
    T, V = cfg["n_positions"], cfg["vocab_size"]
    ours = np.fromfile(logits_file, dtype="<f4").reshape(-1, T, V)
    windows = (len(ids) - 1) // T
    inputs = np.stack([ids[min(b, windows - 1) * T:][:T] for b in range(ours.shape[0])])
    with torch.no_grad():
        theirs = model(torch.from_numpy(inputs)).logits.numpy()
    abs_err = float(np.max(np.abs(theirs - ours)))
    rel_err = abs_err / float(np.max(np.abs(ours)))
    print(f"  {name}: logits of {ours.shape[0]}×{T} tokens, max |Δ| {abs_err:.3e}, relative {rel_err:.3e} "
          f"(tied head: {cfg['tie_word_embeddings']})")
    assert rel_err <= TOLERANCE, f"{name}: HF logits differ from ablate's by {rel_err:.3e} relative (> {TOLERANCE})"
    return rel_err


def check_tokenizer(ablate, name, export_dir, work):
    tok = AutoTokenizer.from_pretrained(export_dir)
    assert isinstance(tok, PreTrainedTokenizerFast), type(tok)
    for i, text in enumerate(TEXTS + ["".join(TEXTS)]):
        path = os.path.join(work, f"text{i}.txt")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        ours = [int(x) for x in run([ablate, "tokenizer", "encode", "--vocab", str(VOCAB), "--file", path]).split()]
        theirs = tok(text, add_special_tokens=False)["input_ids"]
        assert theirs == ours, f"{name}: token ids differ on {text!r}:\n  HF     {theirs}\n  ablate {ours}"
        assert tok.decode(theirs) == text, f"{name}: decode does not give {text!r} back"
    print(f"  {name}: tokenizer ids equal on {len(TEXTS) + 1} unseen texts ({len(theirs)} tokens in the longest)")


def check_tables(ablate, runs_dir, work):
    out = os.path.join(work, "tables")
    run([ablate, "export", "table", runs_dir, "--out", out])
    runs = pd.read_csv(os.path.join(out, "runs.csv"))
    metrics = pd.read_csv(os.path.join(out, "metrics.csv"))
    assert sorted(runs["run_id"]) == sorted(RUNS), list(runs["run_id"])
    for column, kind in [("config.seed", "i"), ("model.d_model", "i"), ("parameters.total", "i"),
                         ("summary.final_val_loss", "f"), ("summary.elapsed_s", "f"), ("summary.tokens", "i"),
                         ("config.learning_rate", "f"), ("config.tie_embeddings", "b"), ("config.bias", "b")]:
        assert runs[column].dtype.kind == kind, f"runs.csv {column}: dtype {runs[column].dtype}, expected kind {kind}"
    assert (runs["status.state"] == "finished").all()
    for column, kind in [("step", "i"), ("tokens", "i"), ("loss", "f"), ("bpb", "f"), ("lr", "f"), ("grad_norm", "f"),
                         ("tokens_per_s", "f"), ("elapsed_s", "f")]:
        assert metrics[column].dtype.kind == kind, f"metrics.csv {column}: dtype {metrics[column].dtype}"
    assert set(metrics["split"]) == {"train", "val"}
    assert metrics[metrics.split == "val"]["bpb"].notna().all() and metrics[metrics.split == "train"]["bpb"].isna().all()
    for run_id in RUNS:
        folder = os.path.join(runs_dir, run_id)
        summary = json.load(open(os.path.join(folder, "summary.json")))
        row = runs[runs["run_id"] == run_id].iloc[0]
        assert row["summary.final_val_loss"] == summary["final_val_loss"], run_id
        lines = [json.loads(l) for l in open(os.path.join(folder, "metrics.jsonl"))]
        expected = [(l["step"], "train", l["train_loss"]) for l in lines if l.get("train_loss") is not None]
        expected += [(l["step"], "val", l["val_loss"]) for l in lines if l.get("val_loss") is not None]
        got = metrics[metrics["run_id"] == run_id]
        assert sorted(zip(got["step"], got["split"], got["loss"])) == sorted(expected), f"metrics.csv rows of {run_id}"
    hashed = runs[runs["run_id"] == "hashed"].iloc[0]
    assert json.loads(hashed["strategy_options.ngram_sizes"]) == [1, 2, 3], hashed["strategy_options.ngram_sizes"]
    print(f"  tables: runs.csv {runs.shape[0]}×{runs.shape[1]}, metrics.csv {metrics.shape[0]} rows; dtypes and values as in the run folders")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ablate", default=".build/release/ablate")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    a = p.parse_args()
    ablate = os.path.abspath(a.ablate)
    start = time.time()
    work = tempfile.mkdtemp(prefix="ablate-test-hf-")
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, "
          f"tokenizers {__import__('tokenizers').__version__}, pandas {pd.__version__}; work folder {work}")
    runs_dir = os.path.join(work, "runs")
    worst = 0.0
    for name, extra in RUNS.items():
        run_dir, export_dir = os.path.join(runs_dir, name), os.path.join(work, "hf", name)
        run([ablate, "train", *COMMON, *[x.replace("{runs}", runs_dir) for x in extra], "--out", run_dir])
        print(run([ablate, "export", "hf", run_dir, "--out", export_dir]).rstrip())
        worst = max(worst, check_model(ablate, name, run_dir, export_dir, work))
        check_tokenizer(ablate, name, export_dir, work)
    check_tables(ablate, runs_dir, work)
    if not a.keep:
        shutil.rmtree(work)
    print(f"test-hf passed in {time.time() - start:.0f} s: max relative logit error {worst:.3e} (tolerance {TOLERANCE})")


if __name__ == "__main__":
    main()
