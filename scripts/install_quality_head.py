"""Put a fitted quality head into a model file, written as a new file (the model file
given is never changed).

    python scripts/install_quality_head.py vsdmot/weights/vsdmot-default.pt \\
        candidate/quality-head-v2.pt candidate/vsdmot-default-quality-v2.pt

The head file comes from ``benchmarks/bench_quality_real.py --save-head`` (or
``vsdmot.semantics.quality_file.save_quality_head``). The new file records the head's
name, sha256 and provenance under ``quality_head``. To ship it, check tracking with it
first (``vsdmot track ... --weights NEW``, ``benchmarks/reproduce.py``), then copy it over
``vsdmot/weights/vsdmot-default.pt``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vsdmot.engine.quality_swap import install_quality_head
from vsdmot.models.files import CheckpointError
from vsdmot.semantics.quality_file import QualityHeadFileError


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="model file whose quality head is replaced")
    ap.add_argument("head", type=Path, help="quality-head file")
    ap.add_argument("out", type=Path, help="the new model file")
    args = ap.parse_args()
    try:
        record = install_quality_head(args.model, args.head, args.out)
    except (CheckpointError, QualityHeadFileError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    version = record["provenance"].get("config", {}).get("version", "?")
    print(f"wrote {args.out}: {args.model.name} with quality head {args.head.name} "
          f"(version {version}, sha256 {record['sha256'][:12]})")
    after = record["provenance"].get("validation", {}).get("after")
    if after:
        keys = ("pooled_spearman", "min_spearman", "types_falling", "types")
        print("validation (fitted head):", json.dumps({k: after[k] for k in keys if k in after}))


if __name__ == "__main__":
    main()
