"""Code extraction from messy model answers."""
from __future__ import annotations

from scenmine.generate.extract import extract_program

PROG = ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
        "output_scenario(vehicles, description, log_dir, output_dir)\n")


def test_fenced_block_with_prose():
    ext = extract_program(f"Sure! Here is the program:\n\n```python\n{PROG}```\nHope it helps.")
    assert ext.error is None and ext.program == PROG


def test_last_block_with_output_scenario_wins():
    draft = "x = get_objects_of_category(log_dir, category='BUS')\n"
    ans = f"First try:\n```python\n{draft}```\nBetter:\n```py\n{PROG}```\n```bash\nls\n```"
    assert extract_program(ans).program == PROG


def test_unfenced_code_after_prose_and_trailing_prose():
    ans = "I think this works.\n" + PROG + "This finds all vehicles."
    ext = extract_program(ans)
    assert ext.error is None and ext.program == PROG


def test_unterminated_fence_is_taken():
    ext = extract_program("```python\n" + PROG)
    assert ext.program == PROG


def test_tags_and_imports_stripped():
    ans = ("<program>\nimport numpy as np\nfrom refAV.atomic_functions import *\n"
           + PROG + "</program>")
    assert extract_program(ans).program == PROG


def test_missing_output_scenario_is_appended():
    ext = extract_program("```python\nresult = get_objects_of_category(log_dir, "
                          "category='BUS')\n```")
    assert ext.program.rstrip().endswith("output_scenario(result, description, log_dir, "
                                         "output_dir)")


def test_no_code_is_a_failure_with_a_snippet():
    ext = extract_program("I cannot help with that request, sorry.")
    assert ext.program is None and ext.error.startswith("no code in answer: I cannot help")
    assert extract_program("").error.startswith("no code in answer")
    assert extract_program(None).program is None


def test_syntax_error_keeps_draft_and_explains():
    ext = extract_program("```python\nx = get_objects_of_category(log_dir, category='BUS'\n"
                          "output_scenario(x, description, log_dir, output_dir)\n```")
    assert ext.program is not None and ext.error.startswith("cannot parse:")
