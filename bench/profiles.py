"""Where a server's time goes: the cProfile output of a `--profile` run, as text."""

from __future__ import annotations

import io
import pstats
from pathlib import Path


def summarize(prof: Path, *, top: int = 30) -> str:
    """The top functions by own time and by cumulative time; also written next to `prof`."""
    out = io.StringIO()
    stats = pstats.Stats(str(prof), stream=out)
    stats.strip_dirs()
    out.write(f"== {prof.name}: by own time ==\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write(f"== {prof.name}: by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    prof.with_suffix(".txt").write_text(text)
    return text


def summarize_all(directory: Path, *, top: int = 30) -> dict[str, str]:
    return {p.stem: summarize(p, top=top) for p in sorted(directory.glob("*.prof"))}
