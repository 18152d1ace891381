"""Static checks: benign programs pass, hostile constructs are rejected with a reason."""
import re

import pytest

from scenmine.execute.sandbox import ProgramRejected, check_program, program_globals

BENIGN = """
description = 'stopped car'
cars = get_objects_of_category(log_dir, category='REGULAR_VEHICLE')
slow = [k for k in cars if len(cars[k]) > 2]
stopped = scenario_not(has_velocity)(cars, log_dir, min_velocity=0.5, max_velocity=np.inf)
output_scenario(stopped, description, log_dir, output_dir)
"""

HOSTILE = {
    "import os": "imports",
    "from os import system": "imports",
    "().__class__.__bases__[0].__subclasses__()": "attribute '__",
    "open('/etc/passwd').read()": "'open'",
    "Path('/tmp/x').write_text('x')": "write_text",
    "log_dir.read_text()": "read_text",
    "while True:\n    pass": "while",
    "eval('1+1')": "'eval'",
    "getattr(np, 'load')": "'getattr'",
    "np.load('x.npy')": "'load'",
    "'{0.__class__}'.format(1)": "format",
    "try:\n    x = 1\nexcept Exception:\n    pass": "Try",
    "with x as y:\n    pass": "With",
    "global x": "Global",
    "_secret = 1": "_secret",
    "class A:\n    pass": "ClassDef",
    "f = lambda: __import__('os')": "__import__",
}


def test_benign_program_passes():
    check_program(BENIGN)


@pytest.mark.parametrize("code,reason", HOSTILE.items())
def test_hostile_program_rejected(code, reason):
    with pytest.raises(ProgramRejected, match=re.escape(reason)):
        check_program(code)


@pytest.mark.parametrize("code", ["", "   ", "x = (", "x" * 30000])
def test_empty_syntax_error_and_huge_rejected(code):
    with pytest.raises(ProgramRejected):
        check_program(code)


def test_globals_expose_no_dangerous_builtins(tmp_path):
    env = program_globals({}, tmp_path, "d")
    assert "open" not in env["__builtins__"] and "__import__" not in env["__builtins__"]
    assert not hasattr(env["np"], "load") and hasattr(env["np"], "inf")
    assert env["description"] == "d"
