"""Precision and recall of ``course-lint`` on the labelled corpus in ``tests/lint_corpus/``.

    python scripts/lint_corpus.py                      # table per rule, exit 1 under the targets
    python scripts/lint_corpus.py --markdown           # the same table as Markdown (for docs/lint.md)
    python scripts/lint_corpus.py --lint old_lint.py   # measure another version of the checker (before/after)

Each corpus file is a short reproduction of a pattern seen in public training code (its header names the
repository and file). A line the checker must flag ends with ``# EXPECT <code> <bug|latent>: reason``; every
other finding counts as a false alarm. A finding is right when its line and code match a marker.
Precision = right findings / all findings; recall = matched markers / all markers. Nothing is downloaded.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "lint_corpus"
MARKER = re.compile(r"#\s*EXPECT\s+([a-z-]+)\s+(bug|latent)\b")
MIN_PRECISION = 0.90
MIN_RECALL = 0.80


@dataclass(frozen=True)
class Expected:
    """One labelled site: file, line (joined-cell line for notebooks), rule and label (bug or latent)."""

    path: str
    line: int
    code: str
    label: str


@dataclass
class Score:
    """Counts for one rule (or all): findings that match a label, false alarms, labelled sites missed."""

    right: int = 0
    false_alarms: int = 0
    missed: int = 0

    @property
    def precision(self) -> float:
        found = self.right + self.false_alarms
        return self.right / found if found else 1.0

    @property
    def recall(self) -> float:
        sites = self.right + self.missed
        return self.right / sites if sites else 1.0


def load_lint(path: Path | None) -> ModuleType:
    """``course_utils.lint``, or the checker in another file (e.g. an older version from ``git show``)."""
    if path is None:
        sys.path.insert(0, str(ROOT))
        import course_utils.lint as lint
        return lint
    spec = importlib.util.spec_from_file_location("lint_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def corpus_files() -> list[Path]:
    """Every ``.py`` and ``.ipynb`` case of the corpus, sorted."""
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".py", ".ipynb") and p.name != "conftest.py")


def expected_sites(lint: ModuleType, path: Path) -> list[Expected]:
    """The ``# EXPECT`` markers of one case (for a notebook: on the joined code cells, as the lint numbers)."""
    if path.suffix == ".ipynb":
        source, _ = lint.notebook_source(path)
    else:
        source = path.read_text(encoding="utf-8")
    return [Expected(str(path), number, m.group(1), m.group(2))
            for number, line in enumerate(source.split("\n"), start=1) if (m := MARKER.search(line))]


def measure(lint: ModuleType) -> tuple[dict[str, Score], list[str], float, int]:
    """Scores per rule (key ``"all"`` for the total), a line per mistake, seconds taken and files checked."""
    scores: dict[str, Score] = {"all": Score()}
    mistakes: list[str] = []
    files = corpus_files()
    start = time.perf_counter()
    for path in files:
        expected = {(e.line, e.code): e for e in expected_sites(lint, path)}
        try:
            found = {(f.line, f.code): f for f in lint.check_path(path)}
        except SyntaxError as error:  # a checker that cannot read the file finds nothing in it
            mistakes.append(f"{path.name}: could not check: {error}")
            found = {}
        for key in found.keys() | expected.keys():
            code = key[1]
            score = scores.setdefault(code, Score())
            if key in found and key in expected:
                score.right += 1
                scores["all"].right += 1
            elif key in found:
                score.false_alarms += 1
                scores["all"].false_alarms += 1
                mistakes.append(f"false alarm  {path.name}:{key[0]}: {code}")
            else:
                score.missed += 1
                scores["all"].missed += 1
                mistakes.append(f"missed       {path.name}:{key[0]}: {code} ({expected[key].label})")
    return scores, mistakes, time.perf_counter() - start, len(files)


def table(scores: dict[str, Score], markdown: bool) -> str:
    """The per-rule table, plain or Markdown."""
    rows = [(code, s) for code, s in sorted(scores.items()) if code != "all"] + [("all rules", scores["all"])]
    if markdown:
        lines = ["| rule | right | false alarms | missed | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {c} | {s.right} | {s.false_alarms} | {s.missed} | {s.precision:.0%} | {s.recall:.0%} |"
                  for c, s in rows]
    else:
        lines = [f"{'rule':<28} {'right':>5} {'false':>5} {'missed':>6} {'precision':>9} {'recall':>6}"]
        lines += [f"{c:<28} {s.right:>5} {s.false_alarms:>5} {s.missed:>6} {s.precision:>9.0%} {s.recall:>6.0%}"
                  for c, s in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lint", type=Path, help="a lint.py to measure instead of course_utils.lint")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    options = parser.parse_args(argv)
    lint = load_lint(options.lint)
    scores, mistakes, seconds, files = measure(lint)
    print(table(scores, options.markdown))
    total = scores["all"]
    print(f"\n{files} files, {total.right + total.missed} labelled sites, checked in {seconds:.2f} s")
    for line in mistakes:
        print(line)
    ok = total.precision >= MIN_PRECISION and total.recall >= MIN_RECALL
    if not ok:
        print(f"below the targets: precision {total.precision:.0%} (>= {MIN_PRECISION:.0%}), "
              f"recall {total.recall:.0%} (>= {MIN_RECALL:.0%})", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
