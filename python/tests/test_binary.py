"""Which `flags` the plugin runs: FLAGS_BIN, then the wheel's, then PATH."""

import os
import sysconfig
from pathlib import Path

import pytest

from flags_pytest import FlagsNotFound, find_flags


def test_the_wheels_binary_by_default(monkeypatch):
    monkeypatch.delenv("FLAGS_BIN", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    found = Path(find_flags())
    # Where this interpreter's installer put scripts (a venv's bin, or the user's).
    places = {
        Path(sysconfig.get_path("scripts")).resolve(),
        Path(sysconfig.get_path("scripts", f"{os.name}_user")).resolve(),
    }
    assert found.parent in places, (found, places)


def test_flags_bin_overrides_it(monkeypatch, tmp_path):
    other = tmp_path / "my-flags"
    other.write_text(f'#!/bin/sh\nexec {find_flags()} "$@"\n')
    other.chmod(0o755)
    monkeypatch.setenv("FLAGS_BIN", str(other))
    assert find_flags() == str(other)


def test_a_wrong_flags_bin_is_an_error_not_a_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("FLAGS_BIN", str(tmp_path / "missing"))
    with pytest.raises(FlagsNotFound, match="FLAGS_BIN=.*missing is not an executable file"):
        find_flags()
