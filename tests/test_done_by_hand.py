"""Issue 16: what a lookup no longer imports at start-up is done by hand, and must say
exactly what the library would have said: dates as strptime reads them, the data dir
as platformdirs names it, a random tail as `secrets.randbelow` draws it."""

from __future__ import annotations

import collections
import sys
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wibmo_cli.environment import config_dir, data_dir
from wibmo_cli.messages import _random_below
from wibmo_cli.views import values


def _by_strptime(text: str) -> tuple[datetime, str] | None:
    for parse, show in values._DATE_FORMATS:
        try:
            return datetime.strptime(text, parse), show
        except ValueError:
            continue
    return None


_DIGITS = st.text("0123456789", min_size=8, max_size=8) | st.text(
    "0123456789", min_size=14, max_size=14
)
_NEAR_DATES = st.builds(
    lambda y, m, d, rest: f"{y:04d}{m:02d}{d:02d}{rest}",
    st.integers(1, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.just("") | st.builds(lambda h, mi, s: f"{h:02d}{mi:02d}{s:02d}", st.integers(0, 25),
                            st.integers(0, 61), st.integers(0, 62)),
)  # fmt: skip
_MONTHS = ("jan", "Feb", "MAR", "aPr", "may", "Jun", "jul", "Aug", "sep", "Oct", "nov", "DEC",
           "Foo", "Ju", "June")  # fmt: skip
_NAMED = st.builds(
    lambda d, m, y: f"{d}-{m}-{y}",
    st.integers(0, 40).map(str) | st.integers(0, 9).map(lambda d: f"0{d}"),
    st.sampled_from(_MONTHS),
    st.integers(0, 12000).map(str),
)


@given(text=_DIGITS | _NEAR_DATES | _NAMED)
def test_dates_read_by_hand_as_strptime_reads_them(text: str) -> None:
    expected = _by_strptime(text)
    found = values._moment(text)
    if expected is not None:
        assert found == expected
    else:  # neither form: only the ISO reading (a later rule) may find something
        assert found is None or "T" in text


@pytest.mark.parametrize("xdg", [None, "", "  ", "/tmp/xdg-elsewhere"])
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
def test_the_data_and_config_dirs_are_where_platformdirs_puts_them(
    xdg: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from platformdirs import user_config_dir, user_data_dir

    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        if xdg is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, xdg)
    assert str(data_dir({})) == user_data_dir("wibmo", appauthor=False)
    assert str(config_dir({})) == user_config_dir("wibmo", appauthor=False)


@pytest.mark.parametrize("bound", [1, 2, 5, 36**5 // 2])
def test_random_below_stays_below_and_reaches_every_value(bound: int) -> None:
    draws = [_random_below(bound) for _ in range(4000)]
    assert all(0 <= d < bound for d in draws)
    if bound <= 5:
        counts = collections.Counter(draws)
        assert set(counts) == set(range(bound))
        assert min(counts.values()) > 4000 / bound * 0.8  # uniform, roughly
    else:
        assert max(draws) > bound * 0.9 and min(draws) < bound * 0.1
