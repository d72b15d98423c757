"""The wheel is the product: installed from it (not the checkout), `turnaround` finds its dbt
project inside the package and refreshes the demo end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"

pytestmark = pytest.mark.slow


def run(*args: object, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_installed_from_the_wheel_it_refreshes_the_demo(tmp_path: Path) -> None:
    uv = str(UV) if UV.exists() else "uv"
    out = tmp_path / "dist"
    run(uv, "build", "--quiet", "--wheel", "--out-dir", out, cwd=ROOT)
    (wheel,) = out.glob("turnaround-*.whl")
    requirements = tmp_path / "requirements.txt"
    run(uv, "export", "--quiet", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes",
        "--output-file", requirements, cwd=ROOT)  # fmt: skip
    venv = tmp_path / "venv"
    run(uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    run(uv, "pip", "install", "--quiet", "-r", requirements, wheel, cwd=tmp_path, env=env)

    python = venv / "bin" / "python"
    project = run(python, "-c", "import turnaround.dbt as d; print(d.PROJECT_DIR)", cwd=tmp_path)
    assert Path(project.strip()).is_relative_to(venv)  # the packaged project, not the checkout

    turnaround = venv / "bin" / "turnaround"
    run(turnaround, "demo", "--out", tmp_path / "demo", cwd=tmp_path, env=env)
    run(turnaround, "refresh", "--config", tmp_path / "demo" / "turnaround.toml", cwd=tmp_path,
        env=env)  # fmt: skip
    con = duckdb.connect(str(tmp_path / "demo" / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from marts.transfer_comparison").fetchone() == (4,)
    finally:
        con.close()
    # dbt wrote nothing into the installed package (its target and logs go beside the warehouse)
    assert not (Path(project.strip()) / "target").exists()
    assert not (Path(project.strip()) / "logs").exists()
