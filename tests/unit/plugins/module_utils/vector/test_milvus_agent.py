"""milvus-restore's journal: a restore the agent API died in is undone by the next run, so that a partial
collection is never left live, nor taken for a kept copy by --rollback (milvus_vectors and milvus_agent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.ods.fix.plugins.module_utils.vector import milvus_agent
from ansible_collections.ods.fix.plugins.module_utils.vector.backup_format import VectorError, kept_name
from ansible_collections.ods.fix.plugins.modules import milvus_vectors


class FakeMilvus:
    def __init__(self, names: set[str]) -> None:
        self.names, self.loaded = set(names), set()

    def has_collection(self, name: str) -> bool:
        return name in self.names

    def drop_collection(self, name: str) -> None:
        self.names.remove(name)

    def rename_collection(self, old: str, new: str) -> None:
        self.names.remove(old)
        self.names.add(new)

    def load_collection(self, name: str) -> None:
        self.loaded.add(name)


def recover(milvus: FakeMilvus, items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    said: list[dict[str, Any]] = []
    monkeypatch.setattr(milvus_agent, "client", lambda: milvus)
    monkeypatch.setattr(milvus_agent, "say", lambda event, **data: said.append(data))
    milvus_agent.recover({"items": items})
    return said[-1]["undone"]


def test_a_partial_replacement_is_dropped_and_the_kept_copy_goes_back_once(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = kept_name("docs", 0)
    milvus = FakeMilvus({"docs", kept, "other"})  # the agent API died while inserting into the new docs
    items = [{"name": "docs", "kept": kept}]
    assert recover(milvus, items, monkeypatch) == [{"name": "docs", "kept": kept, "dropped_partial": True}]
    assert milvus.names == {"docs", "other"} and milvus.loaded == {"docs"}
    assert recover(milvus, items, monkeypatch) == []  # twice: nothing more (the kept copy is gone)
    assert milvus.names == {"docs", "other"}


@pytest.mark.parametrize(
    ("names", "item", "left", "undone"),
    [
        ({"docs"}, {"name": "docs", "kept": kept_name("docs", 0)}, {"docs"}, 0),  # died before its rename
        ({"faq", "docs"}, {"name": "faq", "kept": None}, {"docs"}, 1),  # a new collection, partial
        ({"docs"}, {"name": "faq", "kept": None}, {"docs"}, 0),  # a new collection never begun
    ],
)
def test_what_is_undone_is_told_by_what_exists(
    monkeypatch: pytest.MonkeyPatch, names: set[str], item: dict[str, Any], left: set[str], undone: int
) -> None:
    milvus = FakeMilvus(names)
    assert len(recover(milvus, [item], monkeypatch)) == undone and milvus.names == left


class Module:
    def __init__(self, project: Path, check_mode: bool = False) -> None:
        self.check_mode = check_mode
        self.params = {
            "project_dir": str(project),
            "plans": [{"name": "docs", "action": "replace"}, {"name": "faq", "action": "create"}],
            "backup": str(project / "b.tar"),
            "workers": 1,
            "index_timeout": 60,
            "progress_file": None,
            "collections": [],
            "entries": [],
            "replace": True,
            "action": "restore",
        }


class Container:
    def put_archive(self, path: str, data: object) -> None:
        return None


def test_the_agent_api_dying_mid_restore_leaves_a_journal_the_next_run_undoes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "b.tar").write_bytes(b"")
    monkeypatch.setattr(milvus_vectors, "checked_backup", lambda module: {})
    monkeypatch.setattr(milvus_vectors, "in_container", lambda *a: None)
    sent: list[dict[str, Any]] = []

    def dies_after_docs(api, container, args, progress_file=None, on_event=None):  # type: ignore[no-untyped-def]
        sent.append(args)
        if args["action"] == "restore":
            on_event({"event": "restored", "name": "docs"})
            raise VectorError("the vector script failed in ods-agent-api: no output", "fix")  # killed
        return {"undone": [{"name": "faq", "kept": None, "dropped_partial": True}], "plans": []}

    monkeypatch.setattr(milvus_vectors, "run_script", dies_after_docs)
    module = Module(tmp_path)
    with pytest.raises(VectorError):
        milvus_vectors.restore(module, None, Container())
    journal = json.loads((tmp_path / ".ods-fix" / "milvus-restore.json").read_text())
    assert journal == {"items": [{"name": "faq", "kept": None}]}  # docs completed; faq was under way
    assert (tmp_path / ".ods-fix" / "milvus-restore.json").stat().st_mode & 0o777 == 0o600
    result = milvus_vectors.plan(module, None, Container())  # the next run, whatever it is: recover first
    assert sent[-2] == {"action": "recover", "items": [{"name": "faq", "kept": None}]}
    assert result["recovered"] == ["finished undoing an interrupted restore of faq: the partial one was dropped"]
    assert not (tmp_path / ".ods-fix" / "milvus-restore.json").exists()


def test_in_check_mode_the_journal_is_only_reported(tmp_path: Path) -> None:
    milvus_vectors.write_journal(str(tmp_path / ".ods-fix" / "milvus-restore.json"), [{"name": "docs", "kept": "k"}])
    said = milvus_vectors.recover(Module(tmp_path, check_mode=True), None, None)
    assert said == [
        f"would finish undoing an interrupted restore of docs (the journal {tmp_path}/.ods-fix/milvus-restore.json)"
    ]
    assert (tmp_path / ".ods-fix" / "milvus-restore.json").exists()
