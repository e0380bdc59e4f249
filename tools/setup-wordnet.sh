#!/usr/bin/env bash
# Install Debian's WordNet 3.0 database (package wordnet-base), which the training corpus
# generator (tools/train/corpus.py) reads for synonyms, and tests/paraphrases.rs reads to
# regenerate the shipped model's corpus. Needs root or sudo; idempotent.
set -euo pipefail
if [ -f /usr/share/wordnet/index.noun ]; then
    echo /usr/share/wordnet
    exit 0
fi
if [ "$(id -u)" = 0 ]; then as_root=(); elif command -v sudo >/dev/null; then as_root=(sudo); else
    echo "error: WordNet (Debian's wordnet-base) is not installed, and this user cannot install it." >&2
    echo "       As root: apt-get install -y wordnet-base" >&2
    exit 1
fi
echo "installing Debian's wordnet-base ..." >&2
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq wordnet-base >/dev/null
echo /usr/share/wordnet
