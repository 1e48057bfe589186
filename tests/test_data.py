"""course_utils.data: the shipped digits (checksummed), splits, loaders and the generated 2-D toy sets; the files in
data/ match their recorded SHA-256, and a corrupted, truncated or missing file gets a message saying how to restore it.
"""
from __future__ import annotations

import torch
import pytest
from torch.utils.data import TensorDataset

from course_utils import data as D
from course_utils.data import TensorBatches


@pytest.fixture(scope="module")
def digits():
    return D.load_digits_tensors()


def test_digits_have_the_documented_shape_and_range(digits):
    images, labels = digits
    assert images.shape == (1797, 8, 8) and images.dtype == torch.uint8
    assert labels.shape == (1797,) and labels.dtype == torch.int64
    assert int(images.min()) == 0 and int(images.max()) == 16
    counts = torch.bincount(labels, minlength=10)
    assert counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180], "the UCI class counts"


def test_verified_path_accepts_the_shipped_file_and_rejects_unknown_names():
    assert D.verified_path("digits.csv.gz") == D.DATA_DIR / "digits.csv.gz"
    with pytest.raises(ValueError, match="'mnist.pt'.*digits.csv.gz"):
        D.verified_path("mnist.pt")


def test_sha256_of_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "x.bin"
    path.write_bytes(b"train() and eval()" * 10_000)
    assert D.sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_load_from_a_copied_data_dir(tmp_path, digits):
    (tmp_path / "digits.csv.gz").write_bytes((D.DATA_DIR / "digits.csv.gz").read_bytes())
    images, labels = D.load_digits_tensors(data_dir=tmp_path)
    assert torch.equal(images, digits[0]) and torch.equal(labels, digits[1])


def test_digits_dataset_items_and_subset(digits):
    full = D.DigitsDataset()
    assert len(full) == 1797 and full.classes == [str(d) for d in range(10)]
    image, label = full[5]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert label == int(digits[1][5]) and isinstance(label, int)
    subset = D.DigitsDataset(indices=[5, 0])
    assert len(subset) == 2 and torch.equal(subset[0][0], image)


def test_digits_dataset_applies_torchvision_transforms():
    from torchvision.transforms import v2

    ds = D.DigitsDataset(transform=v2.Compose([v2.Resize((16, 16), antialias=True)]),
                         target_transform=lambda y: y + 100)
    image, label = ds[0]
    assert image.shape == (1, 16, 16) and label >= 100


def test_split_indices_is_a_seeded_partition():
    train, val = D.split_indices(100, val_fraction=0.3, seed=7)
    assert len(val) == 30 and len(train) == 70
    assert sorted(torch.cat([train, val]).tolist()) == list(range(100)), "disjoint and complete"
    again = D.split_indices(100, val_fraction=0.3, seed=7)
    assert torch.equal(train, again[0]) and torch.equal(val, again[1])
    other = D.split_indices(100, val_fraction=0.3, seed=8)
    assert not torch.equal(val, other[1])
    tiny_train, tiny_val = D.split_indices(2, val_fraction=0.01)
    assert len(tiny_train) == 1 and len(tiny_val) == 1, "both sides keep at least one item"


def test_digits_tensors_shapes_and_determinism():
    train, val = D.digits_tensors()
    assert isinstance(train, TensorDataset) and len(train) + len(val) == 1797
    x, y = train.tensors
    assert x.shape[1] == 64 and x.dtype == torch.float32 and float(x.max()) <= 1.0
    assert y.dtype == torch.int64
    cnn_train, _ = D.digits_tensors(flatten=False)
    assert cnn_train.tensors[0].shape[1:] == (1, 8, 8)
    small, _ = D.digits_tensors(train_size=50)
    assert len(small) == 50 and torch.equal(small.tensors[0], x[:50])
    again, _ = D.digits_tensors()
    assert torch.equal(again.tensors[0], x)


def test_make_loaders_shuffle_is_seeded_and_drop_last_works():
    train = TensorDataset(torch.arange(10).float().unsqueeze(1), torch.arange(10))
    val = TensorDataset(torch.arange(4).float().unsqueeze(1), torch.arange(4))

    def order(seed):
        loader, _ = D.make_loaders(train, val, batch_size=3, seed=seed)
        return [b[1].tolist() for b in loader]

    assert order(0) == order(0) and order(0) != order(1)
    assert [len(b) for b in order(0)] == [3, 3, 3, 1]
    loader, val_loader = D.make_loaders(train, val, batch_size=3, drop_last=True)
    assert [len(b[1]) for b in loader] == [3, 3, 3], "no batch of one for BatchNorm"
    assert [b[1].tolist() for b in val_loader] == [[0, 1, 2, 3]], "validation in order"


@pytest.mark.parametrize("kind", ["moons", "spirals"])
def test_make_toy_2d_is_deterministic_and_balanced(kind):
    x, y = D.make_toy_2d(kind, n=301, noise=0.1, seed=3)
    assert x.shape == (301, 2) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert sorted(set(y.tolist())) == [0, 1] and int(y.sum()) == 151
    assert float(x.abs().max()) < 3
    x2, y2 = D.make_toy_2d(kind, n=301, noise=0.1, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    x3, _ = D.make_toy_2d(kind, n=301, noise=0.1, seed=4)
    assert not torch.equal(x, x3)
    clean, _ = D.make_toy_2d(kind, n=50, noise=0.0)
    assert torch.isfinite(clean).all()


def test_make_toy_2d_does_not_touch_the_global_generator():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    D.make_toy_2d(seed=5)
    assert torch.equal(torch.rand(3), expected), "a toy set drawn mid-notebook must not shift later random numbers"


def test_toy_2d_tensors_split_sizes():
    train, val = D.toy_2d_tensors("spirals", n_train=20, n_val=30, seed=1)
    assert len(train) == 20 and len(val) == 30
    x, _ = D.make_toy_2d("spirals", 50, 0.25, 1)
    assert torch.equal(torch.cat([train.tensors[0], val.tensors[0]]), x)


# --- TensorBatches ---------------------------------------------------------------------------------------------

def test_tensor_batches():
    data = TensorDataset(torch.arange(10.0).unsqueeze(1), torch.arange(10))
    batches = list(TensorBatches(data, 4))
    assert [len(y) for _, y in batches] == [4, 4, 2] and len(TensorBatches(data, 4)) == 3
    assert [len(y) for _, y in TensorBatches(data, 4, drop_last=True)] == [4, 4]
    shuffled = TensorBatches(data, 10, shuffle=True, seed=0)
    first = next(iter(shuffled))[1]
    assert sorted(first.tolist()) == list(range(10)) and first.tolist() != list(range(10))
    shuffled.generator.manual_seed(0)
    assert torch.equal(next(iter(shuffled))[1], first), "re-seeding the generator repeats the order"
    with pytest.raises(TypeError, match="list"):
        TensorBatches([1, 2], 2)
    with pytest.raises(ValueError, match="0"):
        TensorBatches(data, 0)


# --- The files in data/: checksums; a corrupted, truncated or missing file -----------------------------------

def test_corrupted_data_file_is_detected_with_restore_hint(tmp_path):
    from course_utils.data import DATA_DIR, DataFileError, load_digits_tensors

    shipped = DATA_DIR / "digits.csv.gz"
    copy = tmp_path / "digits.csv.gz"
    raw = bytearray(shipped.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte
    copy.write_bytes(bytes(raw))
    with pytest.raises(DataFileError) as info:
        load_digits_tensors(data_dir=tmp_path)
    message = str(info.value)
    assert "corrupted" in message and "digits.csv.gz" in message
    assert "git checkout -- data/digits.csv.gz" in message and "export_digits.py" in message


def test_truncated_data_file_is_detected(tmp_path):
    from course_utils.data import DATA_DIR, DataFileError, load_digits_tensors

    (tmp_path / "digits.csv.gz").write_bytes((DATA_DIR / "digits.csv.gz").read_bytes()[:1000])
    with pytest.raises(DataFileError, match="git checkout"):
        load_digits_tensors(data_dir=tmp_path)


def test_missing_data_file_is_detected_with_restore_hint(tmp_path):
    from course_utils.data import DataFileError, DigitsDataset, load_digits_tensors

    for load in (load_digits_tensors, lambda data_dir: DigitsDataset(data_dir=data_dir)):
        with pytest.raises(DataFileError) as info:
            load(data_dir=tmp_path)
        assert "missing" in str(info.value) and "git checkout -- data/digits.csv.gz" in str(info.value)


def test_every_shipped_file_matches_its_checksum():
    from course_utils.data import CHECKSUMS, DATA_DIR, sha256_of

    for name, expected in CHECKSUMS.items():
        assert sha256_of(DATA_DIR / name) == expected, f"data/{name} does not match its recorded SHA-256"
    shipped = {p.name for p in DATA_DIR.iterdir() if p.is_file() and p.name != "README.md"}
    assert shipped <= set(CHECKSUMS), f"files in data/ without a recorded checksum: {shipped - set(CHECKSUMS)}"


def test_data_readme_lists_the_checksums():
    from course_utils.data import CHECKSUMS, DATA_DIR

    readme = DATA_DIR / "README.md"
    if not readme.exists():
        pytest.skip("data/README.md is not written yet (it should list provenance, licence and SHA-256)")
    text = readme.read_text(encoding="utf-8")
    for name, digest in CHECKSUMS.items():
        assert digest in text, f"data/README.md does not list the SHA-256 of {name}"
