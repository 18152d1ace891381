"""The run store: atomic units, content hashes, and reads that fall back to a resumed run."""
import dataclasses
import os

import numpy as np

from scenmine.hashing import content_hash
from scenmine.store import Store


def test_content_hash_is_stable_and_order_free():
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1})
    assert content_hash("x", 1) != content_hash("x", 2)


def test_put_get_and_resume(tmp_path):
    old = Store(tmp_path / "old")
    old.put("execute", "k1", {"v": 1})
    new = Store(tmp_path / "new", resume_from=tmp_path / "old")
    assert new.get("execute", "k1") == {"v": 1} and new.hits == {"execute": 1}
    assert new.get("execute", "missing") is None
    new.put("execute", "k2", [1, 2])
    assert Store(tmp_path / "new").get("execute", "k2") == [1, 2]
    assert not list((tmp_path / "new").rglob("*.tmp"))


def test_torn_file_is_ignored(tmp_path):
    store = Store(tmp_path)
    (tmp_path / "execute").mkdir()
    (tmp_path / "execute" / "bad.pkl").write_bytes(b"\x80\x04garbage")
    assert store.get("execute", "bad") is None


def test_a_corrupt_unit_is_recomputed_with_a_warning(tmp_path, caplog):
    """A flipped byte fails the checksum: a miss (recomputed) with a warning, never a wrong
    value or a crash; the rewritten unit reads back."""
    store = Store(tmp_path)
    store.put("execute", "k", {"referred": [1, 2, 3]})
    path = tmp_path / "execute" / "k.pkl"
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # one bit inside the pickled payload
    path.write_bytes(bytes(data))
    assert store.get("execute", "k") is None
    assert store.corrupt == {"execute": 1} and "checksum mismatch" in caplog.text
    store.put("execute", "k", {"referred": [1, 2, 3]})
    assert store.get("execute", "k") == {"referred": [1, 2, 3]}


class _Plant:
    """Pickles as a call of os.system: what a hostile unit in a copied run folder would hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_unit_with_a_valid_checksum_that_asks_for_code_is_refused(tmp_path, caplog):
    """A checksum proves the bytes, not who wrote them: a resumed store whose unit would call
    os.system is refused like a corrupt one (a miss, recomputed) and nothing runs; the store's
    own records (scenmine dataclasses, numpy values) still read back."""
    from scenmine.execute.runner import ExecResult

    marker = tmp_path / "ran"
    Store(tmp_path / "copied").put("execute", "k", _Plant(marker))
    store = Store(tmp_path / "mine", tmp_path / "copied")
    assert store.get("execute", "k") is None
    assert not marker.exists()
    assert store.corrupt == {"execute": 1} and "posix.system" in caplog.text
    fields = {f.name: None for f in dataclasses.fields(ExecResult)}
    record = ExecResult(**fields)
    store.put("execute", "ok", {"result": record, "frames": [np.arange(3.0)]})
    back = store.get("execute", "ok")
    assert back["result"] == record and np.array_equal(back["frames"][0], np.arange(3.0))


def test_json_units_carry_a_checksum_and_read_legacy_records(tmp_path, caplog):
    store = Store(tmp_path, codec="json", fanout=True)
    store.put("vlm", "ab12", {"p_yes": 0.25, "raw": "yes"})
    path = tmp_path / "vlm" / "ab" / "ab12.json"
    assert store.get("vlm", "ab12") == {"p_yes": 0.25, "raw": "yes"}
    path.write_text(path.read_text().replace("0.25", "0.75"))  # an edited score
    assert store.get("vlm", "ab12") is None and "checksum mismatch" in caplog.text
    path.write_text('{"p_yes": 0.5')  # torn
    assert store.get("vlm", "ab12") is None and store.corrupt == {"vlm": 2}
    path.write_text('{"p_yes": 0.5, "raw": "no"}')  # written before checksums: read as it is
    assert store.get("vlm", "ab12") == {"p_yes": 0.5, "raw": "no"}
    assert list(store.records("vlm")) == [{"p_yes": 0.5, "raw": "no"}]


def test_disabled_store_reads_and_writes_nothing(tmp_path):
    store = Store(None)
    store.put("vlm", "k", {"x": 1})
    assert store.get("vlm", "k") is None and not store.enabled and not list(tmp_path.iterdir())
