"""PyTorch eager CPU baseline for `ablate bench`: the same nanoGPT-shaped model (fp32, untied head, no biases,
AdamW, SDPA attention), timed the same way (warm-up steps, then the fastest of --windows windows of --steps steps;
with --gated, taking turns with ablate's worker window by window),
and the sgemm peak of torch's own BLAS, measured as ablate's is (best of the square 1024³ product and the model's two
widest products, before the timed steps and after each window). Prints one JSON object.

Run by `ablate bench` when torch is importable (CPU wheel: pip install torch --index-url https://download.pytorch.org/whl/cpu).
"""
import argparse, json, math, re, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d, bias=False)
        self.c_attn = nn.Linear(d, 3 * d, bias=False)
        self.c_proj = nn.Linear(d, d, bias=False)
        self.ln_2 = nn.LayerNorm(d, bias=False)
        self.c_fc = nn.Linear(d, 4 * d, bias=False)
        self.mlp_proj = nn.Linear(4 * d, d, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, V, d, L, H, T):
        super().__init__()
        self.wte = nn.Embedding(V, d)
        self.wpe = nn.Embedding(T, d)
        self.blocks = nn.ModuleList(Block(d, H) for _ in range(L))
        self.ln_f = nn.LayerNorm(d, bias=False)
        self.lm_head = nn.Linear(d, V, bias=False)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for b in self.blocks:
            x = b(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def sgemm_gflops(m, n, k, repeats=5):
    """Best GFLOP/s of an fp32 m×k · k×n product over `repeats` timed calls after one untimed call."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    c = torch.empty(m, n)
    torch.mm(a, b, out=c)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * m * n * k / best / 1e9


def sgemm_peak(a):
    """The same three products as ablate's peak (TrainingBenchmark.sgemmPeak): square 1024³, the MLP's and the head's."""
    rows = a.batch * a.context
    return max(sgemm_gflops(1024, 1024, 1024), sgemm_gflops(rows, 4 * a.d_model, a.d_model),
               sgemm_gflops(rows, a.vocab, a.d_model))


def blas_name():
    """The BLAS torch was built with, from its build configuration (e.g. "mkl", "open")."""
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def main():
    p = argparse.ArgumentParser()
    for k in ("vocab", "d_model", "layers", "heads", "context", "batch", "threads", "steps"):
        p.add_argument("--" + k, type=int, required=True)
    p.add_argument("--windows", type=int, default=1)
    p.add_argument("--gated", action="store_true",
                   help="stop before each window and after the last until a line arrives on stdin (ablate takes turns)")
    a = p.parse_args()

    def gate():
        if a.gated:
            print("bench-gate", flush=True)
            sys.stdin.readline()

    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = GPT(a.vocab, a.d_model, a.layers, a.heads, a.context)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and not n.startswith(("wte", "wpe"))]
    other = [p for n, p in model.named_parameters() if not (p.dim() == 2 and not n.startswith(("wte", "wpe")))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    x = torch.randint(a.vocab, (a.batch, a.context))
    y = torch.randint(a.vocab, (a.batch, a.context))

    def step():
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    peak_before = sgemm_peak(a)
    for _ in range(2):
        step()
    dt, peak = float("inf"), peak_before
    for _ in range(max(1, a.windows)):
        gate()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        dt = min(dt, time.perf_counter() - t0)
        peak = max(peak, sgemm_peak(a))
    gate()
    print(json.dumps({"tokens_per_s": a.batch * a.context * a.steps / dt, "torch": torch.__version__,
                      "threads": torch.get_num_threads(), "sgemm_gflops": peak, "blas": blas_name()}))


if __name__ == "__main__":
    main()
