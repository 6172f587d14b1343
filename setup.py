"""Which packages go into the wheel; everything else is declared in pyproject.toml.

pyproject.toml can either find the coda_tui packages by itself or list packages by hand,
not both, and the built-in keymaps and themes live outside coda_tui/ (keymaps/ and themes/
at the top of the repository, mapped to coda_tui.data.keymaps and coda_tui.data.themes by
[tool.setuptools.package-dir]). So the list is made here: every coda_tui package found on
disk, as before, plus those two.
"""

from setuptools import find_namespace_packages, setup

DATA_PACKAGES = ["coda_tui.data.keymaps", "coda_tui.data.themes"]

setup(packages=find_namespace_packages(include=["coda_tui", "coda_tui.*"], exclude=["*.__pycache__"]) + DATA_PACKAGES)
