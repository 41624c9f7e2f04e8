"""RFC 3339 times (contract.times): the one formatter and parser of kiosk, central and admin."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.errors import ContractError
from contract.times import TimeFormatError, is_rfc3339_z, parse_rfc3339, rfc3339, utc_now


def test_epoch_seconds_format_as_utc_with_z_to_the_second():
    assert rfc3339(0) == "1970-01-01T00:00:00Z"
    assert rfc3339(1795512600.999) == "2026-11-24T09:30:00Z"  # cut, never rounded up


def test_an_aware_datetime_is_written_in_utc():
    east8 = dt.timezone(dt.timedelta(hours=8))
    assert rfc3339(dt.datetime(2026, 11, 24, 17, 30, tzinfo=east8)) == "2026-11-24T09:30:00Z"


def test_a_naive_datetime_is_refused():
    with pytest.raises(TimeFormatError, match="no time zone"):
        rfc3339(dt.datetime(2026, 11, 24, 9, 30))


def test_utc_now_is_what_the_api_accepts():
    assert is_rfc3339_z(utc_now())


@given(st.integers(min_value=0, max_value=4_102_444_799))  # up to 2099-12-31T23:59:59Z
def test_format_then_parse_round_trips(seconds):
    text = rfc3339(seconds)
    assert is_rfc3339_z(text)
    assert parse_rfc3339(text) == seconds


@pytest.mark.parametrize("text, seconds", [
    ("2026-11-24T09:30:00Z", 1795512600),
    ("2026-11-24T09:30:00.250Z", 1795512600.25),
    ("2026-11-24T17:30:00+08:00", 1795512600),
    ("2026-11-24t09:30:00z", 1795512600),
])
def test_parse_accepts_z_fractions_and_offsets(text, seconds):
    assert parse_rfc3339(text) == seconds


@pytest.mark.parametrize("text", ["", "yesterday", "2026-11-24", "2026-11-24T09:30:00",
                                  "2026-13-01T00:00:00Z", None, 1795512600])
def test_parse_refuses_what_is_not_a_zoned_time(text):
    with pytest.raises(TimeFormatError):
        parse_rfc3339(text)


def test_a_format_error_is_a_contract_error_and_a_value_error():
    assert issubclass(TimeFormatError, ContractError)
    assert issubclass(TimeFormatError, ValueError)


@pytest.mark.parametrize("value, ok", [
    ("2026-11-24T09:30:00Z", True),
    ("2026-11-24T09:30:00.123456789Z", True),
    ("2026-11-24T09:30:00+00:00", False),  # the API wants the Z suffix
    ("2026-02-30T09:30:00Z", False),  # no such day
    ("2026-11-24 09:30:00Z", False),
    ("2026-11-24T09:30Z", False),
    (None, False), (1795512600, False),
])
def test_is_rfc3339_z(value, ok):
    assert is_rfc3339_z(value) is ok
