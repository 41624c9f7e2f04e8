"""Menu drafts in both stores: created, read, saved only from the revision they started at."""

from __future__ import annotations

from central.storage import open_store


def test_a_draft_is_saved_only_from_its_current_revision(db_url):
    with open_store(db_url) as store:
        made = store.create_draft(menu_json='{"version": 2}', digest="d1", base_version=1,
                                  admin="alice", summary="made from version 1", now=100.0)
        assert (made["revision"], made["state"], made["created_by"]) == (1, "editing", "alice")
        saved = store.save_draft(made["id"], revision=1, menu_json='{"version": 3}',
                                 digest="d2", state="editing", admin="bob",
                                 summary="title changed", now=101.0)
        assert saved is not None and saved["revision"] == 2 and saved["updated_by"] == "bob"
        stale = store.save_draft(made["id"], revision=1, menu_json='{"version": 4}',
                                 digest="d3", state="editing", admin="alice", summary="late")
        assert stale is None
        kept = store.draft(made["id"])
        assert kept["menu"] == '{"version": 3}' and kept["digest"] == "d2"
        approved = store.save_draft(made["id"], revision=2, menu_json=None, digest="d2",
                                    state="approved", admin="carol", summary="approved",
                                    approved=True, now=102.0)
        assert (approved["approved_by"], approved["approved_at"]) == ("carol", 102.0)
        assert store.draft(made["id"])["menu"] == '{"version": 3}'
        history = store.draft_changes(made["id"])
        assert [(c["revision"], c["admin"], c["summary"]) for c in history] == [
            (3, "carol", "approved"), (2, "bob", "title changed"),
            (1, "alice", "made from version 1")]
        assert [d["id"] for d in store.drafts()] == [made["id"]]
        assert store.draft(made["id"] + 1) is None


def test_drafts_survive_reopening(db_url):
    with open_store(db_url) as store:
        made = store.create_draft(menu_json="{}", digest="d", base_version=0, admin="a",
                                  summary="new")
    with open_store(db_url) as store:
        assert store.draft(made["id"])["created_by"] == "a"
