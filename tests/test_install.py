"""`pip install .` into a fresh virtual environment gives a working `cornlens` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_pip_install_gives_a_working_cornlens_command(tmp_path):
    source = tmp_path / "clone"  # a copy, so that the build leaves nothing in the project
    for name in ("analysis", "dashboard"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, source / name)
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    # The dependencies come from the running environment (a .pth), so the test installs no gigabytes;
    # what it checks is the package itself: metadata, package data and the console command.
    purelib = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                           text=True).strip())
    (purelib / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-build-isolation", "--no-index", str(source)], check=True, cwd=tmp_path)

    clean = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # no checkout in front of it
    helped = subprocess.run([target / "bin" / "cornlens", "--help"], capture_output=True, text=True, cwd=tmp_path,
                            env=clean)
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout and "validate" in helped.stdout
    where = subprocess.check_output([python, "-c", "import analysis, pathlib; p = pathlib.Path(analysis.__file__).parent; "
                                     "print(p); print((p / 'stages' / 'prompts' / 'corn.json').is_file())"],
                                    text=True, cwd=tmp_path, env=clean).split()
    assert Path(where[0]).is_relative_to(target) and where[1] == "True"  # the installed copy, with its data files
    shipped = subprocess.check_output([python, "-c", "import dashboard, pathlib; p = pathlib.Path(dashboard.__file__).parent; "
                                       "print(sorted(x.name for x in (p / 'vendor').iterdir())); "
                                       "print((p / 'map_canvas.js').is_file() and (p / 'chart.js').is_file())"],
                                      text=True, cwd=tmp_path, env=clean).splitlines()
    assert "plotly-LICENSE.txt" in shipped[0] and "plotly-cartesian-" in shipped[0] and shipped[1] == "True"  # the charts' code
