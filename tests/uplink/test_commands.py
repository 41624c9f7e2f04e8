"""The kiosk's book of fleet commands: each id runs once, across restarts; results wait for
a heartbeat answered 2xx; a repeat of a finished command reports its result again."""

from __future__ import annotations

import json

from uplink.commands import (
    SEEN_KEPT,
    Command,
    CommandBook,
    CommandExchange,
    parse_commands,
)


def test_each_id_is_taken_once_even_after_a_restart(tmp_path):
    path = tmp_path / "commands.json"
    book = CommandBook(path)
    restart = Command("c-1", "restart")
    assert book.take(restart) is True
    book.finish("c-1", "done", "restarted between visits")
    again = CommandBook(path)  # the kiosk after its restart
    assert again.take(restart) is False
    assert again.unreported() == [{"id": "c-1", "status": "done",
                                   "detail": "restarted between visits"}]


def test_results_go_with_the_heartbeat_and_are_dropped_once_answered(tmp_path):
    book = CommandBook(tmp_path / "commands.json")
    got: list[list[Command]] = []
    exchange = CommandExchange(book, got.append)
    book.take(Command("c-1", "screenshot"))
    book.finish("c-1", "refused", "visit on screen")
    payload = exchange.add_results({"kiosk_id": "K"})
    assert payload["command_results"] == [{"id": "c-1", "status": "refused",
                                           "detail": "visit on screen"}]
    exchange.answered(payload, 503, None)  # not delivered: kept
    assert book.unreported()
    exchange.answered(payload, 200, {"commands": [{"id": "c-2", "type": "sync_now"}]})
    assert book.unreported() == []
    assert got == [[Command("c-2", "sync_now", {})]]
    assert "command_results" not in exchange.add_results({})
    # the central sends c-1 again (it lost the report): not run, but reported again
    assert book.take(Command("c-1", "screenshot")) is False
    assert [r["id"] for r in book.unreported()] == ["c-1"]


def test_answers_of_the_wrong_shape(tmp_path):
    assert parse_commands(None) == []
    assert parse_commands({"commands": "x"}) == []
    found = parse_commands({"commands": [{"type": "sync_now"}, {"id": "a", "type": 3},
                                         {"id": "b", "type": "screenshot", "args": []}]})
    assert found == [Command("a", "", {}), Command("b", "screenshot", {})]


def test_the_book_stays_bounded_and_survives_a_damaged_file(tmp_path):
    path = tmp_path / "commands.json"
    book = CommandBook(path)
    for i in range(SEEN_KEPT + 5):
        book.take(Command(f"c-{i}", "sync_now"))
    assert len(json.loads(path.read_text())["seen"]) == SEEN_KEPT
    path.write_text("{not json")
    damaged = CommandBook(path)
    assert damaged.take(Command("c-new", "sync_now")) is True  # logged, starts afresh
