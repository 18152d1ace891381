"""The sandbox holds when the program wins: the escapes of issue 13 as regression tests.

In-process checks (fast) cover the allowlisted surface; worker checks cover the data-only
channel and the OS layer, which must hold on its own (static check switched off).
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from scenmine.execute import channel, confine, runner
from scenmine.execute.runner import Task, WorkerProcess
from scenmine.execute.sandbox import ProgramRejected, compile_program, program_globals


def run_inline(code: str, log_dir="/nonexistent") -> BaseException | None:
    """Run ``code`` in this process the way a worker does; the exception it raised, if any."""
    from scenmine.dsl import NAMESPACE
    try:
        exec(compile_program(code), program_globals(NAMESPACE, log_dir))  # noqa: S102
    except Exception as exc:  # the outcome under test
        return exc
    return None


USE_AFTER_FREE = """
a = np.zeros(514)
v = a[:]
a.resize(200000, refcheck=False)
t = tuple([get_objects_of_category] + [0.5] * 508)
address = v.view(np.int64)[5]
"""


def test_use_after_free_read_primitive_fails():
    exc = run_inline(USE_AFTER_FREE)
    assert isinstance(exc, AttributeError) and "'resize'" in str(exc)
    # each memory-reinterpreting corner is refused on its own too
    for code in ("a = np.zeros(4)\nb = a.view(np.int64)\n", "a = np.zeros(4)\nb = a.base\n",
                 "a = np.zeros(4)\nb = a.getfield(np.int64)\n", "a = np.zeros(4)\nb = a.ctypes\n",
                 "a = np.zeros(4)\nb = a.data\n", "a = np.zeros(4)\na.dump\n"):
        exc = run_inline(code)
        assert isinstance(exc, (AttributeError, ProgramRejected)), code


@pytest.mark.parametrize("code", [
    "p = Path('/tmp')\n",                                   # no Path class
    "x = log_dir.link_to('/tmp/x')\n",                      # the log is no path
    "x = log_dir.resolve()\n",
    "x = log_dir.parent\n",
    "x = log_dir.stat()\n",
    "x = output_dir.owner()\n",
    "x = log_dir._path\n",
    "x = np.linalg.norm.__module__\n",
    "x = (1).__class__\n",
    "x = [c for c in str.mro()]\n",
    "x = '{0.__class__}'.format(log_dir)\n",
])
def test_path_tricks_are_rejected(code):
    exc = run_inline(code)
    assert isinstance(exc, (NameError, AttributeError, ProgramRejected)), (code, exc)


@pytest.mark.parametrize("code", [
    "np.zeros = None\n",
    "log_dir.is_dir = 1\n",
    "get_objects_of_category.cache = {}\n",
    "math.pi = 3\n",
    "del np.zeros\n",
    "np.linalg.norm += 1\n",
])
def test_attribute_assignment_and_deletion_are_rejected(code):
    with pytest.raises(ProgramRejected, match="attribute|Delete"):
        compile_program(code)


def test_namespaces_and_handles_are_read_only_even_at_run_time():
    env = program_globals({}, "/nonexistent")
    for obj, name in ((env["np"], "zeros"), (env["math"], "pi"), (env["log_dir"], "x")):
        with pytest.raises(AttributeError):
            setattr(obj, name, None)
    with pytest.raises(TypeError):
        pickle.dumps(env["log_dir"])
    assert program_globals({}, "/nonexistent")["np"].zeros is np.zeros  # fresh globals, same np


# ----------------------------------------------------------------------------- the channel
def test_decode_never_unpickles(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    for data in (pickle.dumps(Evil()), pickle.dumps({"ok": True}), b"", b"\x00" * 7):
        with pytest.raises(channel.MalformedReply):
            channel.decode(data, 1 << 20)
    assert not marker.exists()


def test_decode_refuses_oversized_huge_ints_and_object_arrays():
    with pytest.raises(channel.MalformedReply, match="larger"):
        channel.decode(channel.encode({"x": "a" * 2000}), 1000)
    huge = b'{"x":' + b"9" * 5000 + b"}"
    with pytest.raises(channel.MalformedReply, match="JSON"):
        channel.decode(channel.HEADER.pack(len(huge)) + huge, 1 << 20)
    forged = b'{"a":{"$array":["|O",[2],0]}}'
    with pytest.raises(channel.MalformedReply, match="not allowed"):
        channel.decode(channel.HEADER.pack(len(forged)) + forged + b"\x00" * 16, 1 << 20)
    outside = b'{"a":{"$array":["<f8",[1000],0]}}'
    with pytest.raises(channel.MalformedReply, match="outside"):
        channel.decode(channel.HEADER.pack(len(outside)) + outside + b"\x00" * 16, 1 << 20)


def test_reply_values_are_checked():
    known = frozenset({100, 200})
    good = {"ok": True, "error": None, "seconds": 0.1, "scenario": {"u": [100]},
            "referred": {"u": [100]}, "related": {}, "frames": []}
    assert channel.check_reply(channel.decode(channel.encode(good), 1 << 20), "log", "d",
                               known)["referred"] == {"u": [100]}
    for bad in ({"referred": {"u": [10 ** 30]}}, {"referred": {"u": [150]}},
                {"referred": {"x" * 500: [100]}}, {"scenario": {"u": "text"}},
                {"ok": "yes"}, {"ok": False}, {"extra": 1},
                {"frames": [{"seq_id": ["other", "d"]}]}):
        with pytest.raises(channel.MalformedReply):
            channel.check_reply({**good, **bad}, "log", "d", known)


def test_error_text_is_bounded_and_has_no_control_characters():
    text = channel.clean_text("\x1b[2J\x1b]0;title\x07\rline\nnext" + "x" * 10_000)
    assert "\x1b" not in text and "\r" not in text and "\n" not in text and "\x07" not in text
    assert len(text) < channel.MAX_ERROR_CHARS + 50 and "more characters" in text


# ----------------------------------------------------------------------------- workers
@pytest.fixture(scope="module")
def log_dir(mini_root):
    return sorted((mini_root / "logs").iterdir())[0]


BENIGN = ("vehicles = get_objects_of_category(log_dir, category='VEHICLE')\n"
          "output_scenario(stationary(vehicles, log_dir), description, log_dir, output_dir)\n")


def unchecked_worker(log_dir, **kwargs) -> WorkerProcess:
    """A worker without the static check (test-only switch): programs get real builtins."""
    return WorkerProcess(4096, 10, served=(str(log_dir),), checked=False, **kwargs)


def test_forged_reply_does_not_run_code_in_the_runner(log_dir, tmp_path):
    marker = tmp_path / "runner-pwned"
    forge = f"""
import gc, pickle, os
class Evil:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))
conn = [o for o in gc.get_objects() if type(o).__name__ == "Connection"][0]
conn.send_bytes(pickle.dumps(Evil()))
"""
    worker = unchecked_worker(log_dir)
    try:
        result = worker.run(Task("forged", log_dir, forge, "d"), {})
        assert not result.ok and result.error.startswith("reply:"), result.error
        assert not marker.exists()
        # a well-formed reply with values that are not the log's is refused as well
        lie = forge.replace("pickle.dumps(Evil())", "__import__('scenmine.execute.channel', "
                            "fromlist=['x']).encode({'ok': True, 'seq': 2, 'referred': "
                            "{'u': [int('9' * 4000)]}})")
        result = worker.run(Task("lie", log_dir, lie, "d"), {})
        assert not result.ok and result.error.startswith("reply:"), result.error
    finally:
        worker.stop()


OS_ESCAPES = {  # name -> (program with code execution, what the worker must report)
    "os.system": ("import os\nrc = os.system('touch {marker}')\nraise RuntimeError(f'rc={{rc}}')\n",
                  "RuntimeError: rc="),
    "open_w": ("f = open('{marker}', 'w')\n", "PermissionError"),
    "socket": ("import socket\ns = socket.socket()\n", "PermissionError"),
    "fork": ("import os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\n", "PermissionError"),
}


def test_os_layer_alone_denies_system_write_socket_and_fork(log_dir, tmp_path):
    worker = unchecked_worker(log_dir, isolation="required")
    try:
        for name, (code, expected) in OS_ESCAPES.items():
            marker = tmp_path / f"{name}-pwned"
            try:
                result = worker.run(Task(name, log_dir, code.format(marker=marker), "d"), {})
            except confine.IsolationUnavailable as exc:
                pytest.skip(f"this machine lacks an OS layer: {exc}")
            assert not result.ok and expected in result.error, (name, result.error)
            assert "rc=0" not in result.error
            assert not marker.exists(), name
    finally:
        worker.stop()
    assert all(runner.ISOLATION[layer] == confine.ON for layer in confine.LAYERS)


def test_poisoning_does_not_cross_programs(log_dir):
    alone = runner.execute_tasks([Task("alone", log_dir, BENIGN, "d")], workers=1,
                                 timeout_s=30, progress=False)["alone"]
    poison = [
        "np.zeros = None\n",                                   # rejected statically
        "x = get_objects_of_category(log_dir, category='VEHICLE')\n"
        "for k in x:\n    x[k] = []\n"
        "output_scenario(x, description, log_dir, output_dir)\n",   # mutates its own copy
        "x = [1]\ny = x.append.__self__\n",                    # rejected
        "d = get_objects_of_category(log_dir, category='ANY')\nz = d['nope']\n",  # raises
    ]
    tasks = [Task(f"p{i}", log_dir, code, "d") for i, code in enumerate(poison)]
    tasks.append(Task("after", log_dir, BENIGN, "d"))
    after = runner.execute_tasks(tasks, workers=1, timeout_s=30, progress=False)["after"]
    assert alone.ok and after.ok
    assert after.referred == alone.referred and after.scenario == alone.scenario
