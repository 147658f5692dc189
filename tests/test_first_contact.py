"""First contact: installing prints no packaging warnings, the demo and the emulator share one
default token, and what the demo writes stays out of ``git status``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from improvado_loads.emulator import EmulatorSettings

ROOT = Path(__file__).resolve().parents[1]


def test_the_build_backend_warns_about_nothing(tmp_path: Path) -> None:
    """The metadata (license as an SPDX expression) and an editable build give setuptools nothing to warn about."""
    probe = textwrap.dedent(
        f"""
        import json, os, warnings
        from setuptools import build_meta
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            build_meta.prepare_metadata_for_build_wheel({str(tmp_path / "meta")!r})
            build_meta.build_editable({str(tmp_path / "wheel")!r})
        print("WARNINGS=" + json.dumps([f"{{w.category.__name__}}: {{w.message}}" for w in caught]))
        """
    )
    (tmp_path / "meta").mkdir()
    (tmp_path / "wheel").mkdir()
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("WARNINGS="))
    assert json.loads(line.removeprefix("WARNINGS=")) == []
    assert "Deprecat" not in done.stdout + done.stderr
    metadata = next((tmp_path / "meta").glob("*.dist-info")) / "METADATA"
    assert "License-Expression: Apache-2.0" in metadata.read_text()


def test_the_demo_uses_the_emulator_default_token() -> None:
    demo = (ROOT / "scripts" / "demo").read_text()
    defaults = re.findall(r"IMPROVADO_DEMO_TOKEN:-([^}\s]+)\}", demo)
    assert defaults, "scripts/demo names no default token"
    assert set(defaults) == {EmulatorSettings(data_dir=Path(".")).token}


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_what_the_demo_writes_is_ignored_by_git() -> None:
    """scripts/demo writes its state under .demo/, the venv in .venv/, and the demo stack's config."""
    written = [".demo/state/.pulumi/stacks/x.json", ".demo/emulator/emulator.sqlite3", ".demo/emulator.pid",
               ".venv/bin/python", "Pulumi.demo.yaml", "__pycache__/__main__.cpython-311.pyc",
               "improvado_loads.egg-info/PKG-INFO"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=ROOT, capture_output=True, text=True)
    assert sorted(done.stdout.split()) == sorted(written), done.stdout + done.stderr
    # ...and nothing the project keeps is ignored by mistake.
    kept = ["Pulumi.yaml", "__main__.py", "examples/multi-environment/Pulumi.dev.yaml"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *kept], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == []


def test_pulumi_is_a_range_so_the_library_fits_an_existing_program() -> None:
    """The installed metadata asks for ``pulumi>=3.272,<4`` (a library never pins exactly)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    wanted = [Requirement(spec) for spec in requires("improvado-loads") or []]
    pulumi = [req for req in wanted if req.name == "pulumi"]
    assert pulumi, wanted
    for req in pulumi:
        assert not any(spec.operator in ("==", "===", "~=") for spec in req.specifier), req
        assert req.specifier.contains("3.272.0") and req.specifier.contains("3.299.0"), req
        assert not req.specifier.contains("4.0.0") and not req.specifier.contains("3.271.0"), req
