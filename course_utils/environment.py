"""The environment check of notebook 00: versions, device, data, and whether torch and torchvision match."""
from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field


@dataclass
class EnvironmentReport:
    """What notebook 00 reports: versions, the device the course will use, and any problems found."""

    versions: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    threads: int = 1
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"{name:<12} {version}" for name, version in self.versions.items()]
        lines.append(f"{'device':<12} {self.device} ({self.threads} CPU threads for torch)")
        lines += [f"PROBLEM: {p}" for p in self.problems] or ["Everything the course needs is here."]
        return "\n".join(lines)


def environment_report() -> EnvironmentReport:
    """Check that every package the course needs imports, that torch and torchvision belong together, and the data."""
    report = EnvironmentReport()
    report.versions["python"] = platform.python_version()
    for name in ("torch", "torchvision", "matplotlib", "ipywidgets", "jupyterlab", "course_utils"):
        try:
            module = __import__(name)
            report.versions[name] = getattr(module, "__version__", "?")
        except Exception as error:  # report every missing piece, not only the first
            report.versions[name] = "missing"
            report.problems.append(f"{name} does not import ({type(error).__name__}: {error}); "
                                   "run `make setup` (or `pip install -r requirements.txt`) in the course folder")
    if report.versions.get("torch", "missing") != "missing":
        import torch

        report.device = "cuda" if torch.cuda.is_available() else "cpu"
        report.threads = torch.get_num_threads()
    if report.versions.get("torchvision", "missing") != "missing":
        try:
            import torch
            import torchvision

            torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
        except Exception as error:
            report.problems.append(f"torchvision {report.versions['torchvision']} does not work with torch "
                                   f"{report.versions.get('torch')} ({error}); install the pair pinned in "
                                   "requirements.txt")
    try:
        from .data import verified_path

        verified_path("digits.csv.gz")
    except Exception as error:
        report.problems.append(str(error))
    if sys.version_info < (3, 10):
        report.problems.append(f"Python {platform.python_version()} is too old; the course needs 3.10 or newer")
    return report
