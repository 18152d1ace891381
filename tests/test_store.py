"""The run store: atomic units, content hashes, and reads that fall back to a resumed run."""
from scenmine.store import Store, content_hash


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
