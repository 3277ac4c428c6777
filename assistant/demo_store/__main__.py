"""``python -m assistant.demo_store --data-dir DIR --seed 42``: write the demo store."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.demo_store.generate import generate_demo_store


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.demo_store", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path, help="store directory to write into")
    parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same files)")
    args = parser.parse_args(argv)
    print(generate_demo_store(args.data_dir, seed=args.seed).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
