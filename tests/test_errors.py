"""One root for what a user reads: every public exception class of the package is a
CodaError, so the CLI and the app each catch one class, and a new kind of failure is
reported (one line, the right exit status) the day it is added."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import coda_tui
from coda_tui.config import ConfigError
from coda_tui.context.attachments import AttachmentError
from coda_tui.core.spec import SpecError
from coda_tui.errors import CodaError
from coda_tui.providers.errors import AuthError


def exception_classes() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(coda_tui.__path__, "coda_tui."):
        if info.name == "coda_tui.__main__":
            continue  # runs the command
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra (voice) not installed here
            continue
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__
                    and not name.startswith("_")):
                found.append(obj)
    return found


def test_every_public_exception_is_a_coda_error():
    classes = exception_classes()
    assert len(classes) > 20
    assert [c.__qualname__ for c in classes if not issubclass(c, CodaError)] == []


@pytest.mark.parametrize("exc, exit_code, text", [
    (ConfigError("bad", key="k"), 2, "key 'k': bad"),
    (AuthError("srv", "401", hint="check the key"), 1, "srv: 401 — check the key"),
    (AttachmentError("x.py: no such file"), 2, "x.py: no such file"),
    (SpecError("unknown operation", "refactr", 0, 7), 2, "column 1: unknown operation"),
])
def test_each_says_its_line_and_its_exit_status(exc, exit_code, text):
    assert exc.exit_code == exit_code and text in str(exc) and str(exc) == exc.render()
