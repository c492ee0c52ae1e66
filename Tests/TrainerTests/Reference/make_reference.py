#!/usr/bin/env python3
"""PyTorch reference for ablate's GPT (llm.c-style "does the hand-written model match torch?" test).

Builds the same tiny decoder-only transformer as Sources/Model/GPT.swift in PyTorch, and writes, per
configuration, one safetensors fixture to Tests/TrainerTests/Fixtures/ with

    <name>                   initial weights (F32, under the Swift tensor names; [out, in] Linear layout)
    inputs, targets          the batch [B, T], token ids stored exactly as F32 (the Swift reader is F32-only)
    logits                   [B*T, V] after the logit multiplier, for the initial weights
    loss                     [1] mean cross-entropy, initial weights
    grad.<name>              dLoss/d<name> for the initial weights (before clipping)
    losses                   [11] loss before AdamW updates 1..10 (same batch every step), then after the 10th
    grad_norms               [10] global gradient L2 norm (before clipping) at each step
    final.<name>             weights after the 10 AdamW updates

and a JSON config in __metadata__["config"]. CI never runs this; PyTorchReferenceTests.swift reads the fixtures.

The reference values are computed in float64 from the float32 initial weights (so they carry essentially no
rounding error and the Swift test measures only its own float32 error); the script also repeats everything in
float32 and stores the float32-vs-float64 spread in the metadata as a calibration of float32 noise.

Usage (from the package root):  python3 Tests/TrainerTests/Reference/make_reference.py
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

COMMAND = "python3 Tests/TrainerTests/Reference/make_reference.py"

CONFIGS = {
    # Standard parametrization, no biases (nanoGPT's default).
    "sp": dict(vocab_size=64, d_model=32, n_layer=2, n_head=4, context_length=16, batch_size=4, bias=False,
               parametrization="sp", base_width=32, output_multiplier=1.0, input_multiplier=1.0),
    # μP relative to base_width 16 (width multiplier m = 2), with biases everywhere.
    "mup": dict(vocab_size=64, d_model=32, n_layer=2, n_head=4, context_length=16, batch_size=4, bias=True,
                parametrization="mup", base_width=16, output_multiplier=1.0, input_multiplier=1.0),
}

TRAIN = dict(steps=10, lr=1e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, grad_clip=1.0)
INIT_STD = 0.1
SEED = 1234


# ----------------------------------------------------------------------------------------------- model

class SelfAttention(nn.Module):
    def __init__(self, d, n_head, bias, scale):
        super().__init__()
        self.n_head, self.scale = n_head, scale
        self.c_attn = nn.Linear(d, 3 * d, bias=bias)   # rows: q (d), k (d), v (d); head h = rows h*hs..<(h+1)*hs
        self.c_proj = nn.Linear(d, d, bias=bias)

    def forward(self, x):
        B, T, D = x.shape
        hs = D // self.n_head
        q, k, v = self.c_attn(x).split(D, dim=2)
        q, k, v = (t.view(B, T, self.n_head, hs).transpose(1, 2) for t in (q, k, v))   # [B, H, T, hs]
        scores = (q @ k.transpose(-2, -1)) * self.scale
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = scores.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, D)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, d, bias):
        super().__init__()
        self.c_fc = nn.Linear(d, 4 * d, bias=bias)
        self.c_proj = nn.Linear(4 * d, d, bias=bias)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, n_head, bias, scale):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5, bias=bias)
        self.attn = SelfAttention(d, n_head, bias, scale)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5, bias=bias)
        self.mlp = MLP(d, bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """x0 = wte[idx]*alpha_in + wpe[pos]; pre-LN blocks; ln_f; untied head; logits * c_out; mean CE."""

    def __init__(self, c):
        super().__init__()
        V, D, T, L, H = c["vocab_size"], c["d_model"], c["context_length"], c["n_layer"], c["n_head"]
        hs = D // H
        self.mup = c["parametrization"] == "mup"
        m = D / c["base_width"] if self.mup else 1.0
        self.width_multiplier = m
        self.alpha_in = c["input_multiplier"]
        self.c_out = c["output_multiplier"] / m if self.mup else 1.0
        scale = 1.0 / hs if self.mup else 1.0 / math.sqrt(hs)
        self.embedding = nn.ParameterDict({"wte": nn.Parameter(torch.empty(V, D))})   # -> "embedding.wte"
        self.wpe = nn.Parameter(torch.empty(T, D))
        self.h = nn.ModuleList(Block(D, H, c["bias"], scale) for _ in range(L))
        self.ln_f = nn.LayerNorm(D, eps=1e-5, bias=c["bias"])
        self.lm_head = nn.Linear(D, V, bias=False)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.embedding["wte"][idx] * self.alpha_in + self.wpe[:T]
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x)) * self.c_out
        logits = logits.view(B * T, -1)
        return logits, F.cross_entropy(logits, targets.view(-1))


def kind(name):
    """The Swift TensorKind of a tensor (ParameterRules.swift)."""
    if name == "embedding.wte":
        return "embedding"
    if name == "wpe":
        return "positional"
    if name == "lm_head.weight":
        return "readout"
    if name.endswith(".bias"):
        return "bias"
    if ".ln_" in name or name.startswith("ln_f"):
        return "normGain"
    if name.endswith("attn.c_attn.weight") or name.endswith("mlp.c_fc.weight"):
        return "hiddenMatrix"
    if name.endswith("attn.c_proj.weight") or name.endswith("mlp.c_proj.weight"):
        return "residualProjection"
    raise ValueError(name)


def lr_multiplier(name, model):
    """ParameterRules: hidden matrices and residual projections get Adam LR eta/m under μP, the rest eta."""
    if model.mup and kind(name) in ("hiddenMatrix", "residualProjection"):
        return 1.0 / model.width_multiplier
    return 1.0


def decays(name):
    """Decoupled weight decay only on the Linear weights and lm_head (not embeddings, wpe, LayerNorm, biases)."""
    return kind(name) in ("hiddenMatrix", "residualProjection", "readout")


def init_weights(model, seed):
    """Deterministic float32 init (need not match Swift's: the test loads these weights). N(0, 0.1) for
    matrices and tables; LayerNorm gains 1 + N(0, 0.1) and biases N(0, 0.1), so no term is trivially 1 or 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32) * INIT_STD
            p.copy_(noise + 1.0 if kind(name) == "normGain" else noise)


# ----------------------------------------------------------------------------------------------- run

def run(c, weights, inputs, targets, dtype):
    """Forward/backward at the initial weights, then TRAIN['steps'] AdamW steps on the same batch."""
    model = GPT(c).to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=True)
    params = dict(model.named_parameters())
    groups = [dict(params=[p], lr=TRAIN["lr"] * lr_multiplier(n, model),
                   weight_decay=TRAIN["weight_decay"] if decays(n) else 0.0) for n, p in params.items()]
    opt = torch.optim.AdamW(groups, lr=TRAIN["lr"], betas=(TRAIN["beta1"], TRAIN["beta2"]), eps=TRAIN["eps"],
                            foreach=False, fused=False)
    out = {}
    losses, norms = [], []
    for step in range(TRAIN["steps"]):
        opt.zero_grad(set_to_none=True)
        logits, loss = model(inputs, targets)
        loss.backward()
        if step == 0:
            out["logits"] = logits.detach().clone()
            out["loss"] = loss.detach().reshape(1).clone()
            for n, p in params.items():
                out["grad." + n] = p.grad.detach().clone()
        losses.append(loss.item())
        # torch scales by max_norm / (norm + 1e-6); Swift by max_norm / norm (see README: the effect is < 1e-6 relative
        # on the gradient scale and, since Adam is invariant to a gradient scale up to eps, negligible on the updates).
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), TRAIN["grad_clip"])
        norms.append(norm.item())
        opt.step()
    with torch.no_grad():
        _, loss = model(inputs, targets)
    losses.append(loss.item())
    out["losses"] = torch.tensor(losses, dtype=torch.float64)
    out["grad_norms"] = torch.tensor(norms, dtype=torch.float64)
    for n, p in params.items():
        out["final." + n] = p.detach().clone()
    return out


def save_safetensors(path, tensors, metadata):
    """The safetensors format: u64 LE header length, JSON header, raw little-endian F32 data (8-byte aligned)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (len(text) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def max_rel(a, b):
    """max |a - b| / max |b| (0 when b is all zero)."""
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / scale if scale > 0 else (a - b).abs().max().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "Fixtures"))
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    for cname, c in CONFIGS.items():
        model = GPT(c)
        init_weights(model, SEED)
        weights = {n: p.detach().clone() for n, p in model.state_dict().items()}
        g = torch.Generator().manual_seed(SEED + 1)
        B, T, V = c["batch_size"], c["context_length"], c["vocab_size"]
        inputs = torch.randint(0, V, (B, T), generator=g)
        targets = torch.randint(0, V, (B, T), generator=g)

        ref = run(c, weights, inputs, targets, torch.float64)
        f32 = run(c, weights, inputs, targets, torch.float32)

        # float32 torch vs float64 torch: the size of plain float32 rounding on this model (for the tolerances).
        spread = {
            "loss_rel": abs(f32["loss"].item() - ref["loss"].item()) / ref["loss"].item(),
            "logits_max_abs": (f32["logits"].double() - ref["logits"]).abs().max().item(),
            "grad_max_rel": max(max_rel(f32[k].double(), ref[k]) for k in ref if k.startswith("grad.")),
            "losses_max_abs": (f32["losses"] - ref["losses"]).abs().max().item(),
            "final_max_abs": max((f32[k].double() - ref[k]).abs().max().item() for k in ref if k.startswith("final.")),
        }
        model64 = GPT(c)
        meta_config = dict(c, init_std=INIT_STD, seed=SEED, width_multiplier=model64.width_multiplier,
                           logit_multiplier=model64.c_out, attention_scale=model64.h[0].attn.scale,
                           lr_multipliers={n: lr_multiplier(n, model64) for n in weights},
                           weight_decay_tensors=[n for n in weights if decays(n)], train=TRAIN,
                           clip="torch.nn.utils.clip_grad_norm_ (scale max_norm/(norm+1e-6) when norm > max_norm)",
                           reference_dtype="float64 (from float32 weights); stored as F32")
        metadata = {
            "config": json.dumps(meta_config, sort_keys=True),
            "torch_version": torch.__version__,
            "python_version": sys.version.split()[0],
            "command": COMMAND,
            "float32_spread": json.dumps(spread, sort_keys=True),
        }
        tensors = dict(weights)
        tensors["inputs"] = inputs.to(torch.float32)
        tensors["targets"] = targets.to(torch.float32)
        for k in ["logits", "loss", "losses", "grad_norms"]:
            tensors[k] = ref[k]
        tensors.update({k: v for k, v in ref.items() if k.startswith("grad.") or k.startswith("final.")})
        path = os.path.join(args.out, f"reference_{cname}.safetensors")
        save_safetensors(path, tensors, metadata)
        print(f"{cname}: wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")
        print(f"  loss {ref['loss'].item():.6f}; losses {[round(x, 6) for x in ref['losses'].tolist()]}")
        print(f"  grad norms {[round(x, 4) for x in ref['grad_norms'].tolist()]}")
        print(f"  float32 vs float64 torch: {json.dumps(spread)}")


if __name__ == "__main__":
    main()
