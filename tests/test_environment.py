"""Unit tests for the set-up every notebook runs: course_utils.environment (notebook 00's environment report)
and ``seed_everything`` (the first code cell of every notebook)."""
import pytest
import torch

from course_utils import seed_everything
from course_utils.environment import environment_report


def test_environment_report_ok_here():
    report = environment_report()
    assert report.ok, str(report)
    assert report.versions["torch"].startswith("2.") and report.device in ("cpu", "cuda")
    assert "Everything the course needs is here." in str(report)


def test_environment_report_names_a_corrupt_data_file(monkeypatch, tmp_path):
    import course_utils.data as data

    (tmp_path / "digits.csv.gz").write_bytes(b"not the digits")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    report = environment_report()
    assert not report.ok and any("corrupted" in p and "git checkout" in p for p in report.problems)


def test_seed_everything_repeats_and_rejects_bad_seeds():
    seed_everything(5)
    a = torch.rand(3)
    seed_everything(5)
    assert torch.equal(a, torch.rand(3))
    with pytest.raises(TypeError, match="seed must be an int, got 1.5"):
        seed_everything(1.5)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        seed_everything(-1)
