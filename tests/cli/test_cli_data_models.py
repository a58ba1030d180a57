"""``advlab models`` and ``advlab data list | info | fetch``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from advlab.cli import cli
from advlab.data import list_datasets
from advlab.models import families


def test_models_lists_every_family() -> None:
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == [f.name for f in families()]
    assert any(line.startswith("cnn-small") and "fast-AT" in line for line in lines)


def test_data_list() -> None:
    result = CliRunner().invoke(cli, ["data", "list"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.strip().splitlines()]
    assert names == [d.name for d in list_datasets()]
    assert {"iris", "digits", "mnist", "fashion-mnist", "cifar10"} <= set(names)


def test_data_info_digits() -> None:
    result = CliRunner().invoke(cli, ["data", "info", "digits"])
    assert result.exit_code == 0
    fields = {line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1] for line in result.output.strip().splitlines()}
    assert fields["name"] == "digits" and fields["kind"] == "embedded"
    assert fields["input_shape"] == "(1, 8, 8)"


def test_data_fetch_verifies_a_local_copy(shared_data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["data", "fetch", "mnist", "--data-dir", str(shared_data_dir), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"mnist: verified in {shared_data_dir / 'mnist'}"


def test_unknown_dataset_is_one_line() -> None:
    for args in (["data", "info", "no-such-data"], ["data", "fetch", "no-such-data", "-q"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
        text = result.output.strip()
        assert "Traceback" not in text and len(text.splitlines()) == 1
        assert "unknown dataset 'no-such-data'" in text
