"""The time of a signature or of a password reset request tells nothing: the work, whichever way it went (a new or
a repeated signature, an address with or without an account), is held until it has taken its floor.

Whether it works is measured, not asserted here (`bench/sign_timing.py`, `bench/password_reset.py`: a time
threshold tells the cases apart no better than chance); these tests pin the mechanism: what is held, for how long.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from petition_app import timefloor, write_lock
from petition_app.admin import accounts
from petition_app.extensions import db
from petition_app.models import Signature
from petition_app.signing.service import REPEAT_MAILS_PER_DAY, Outcome, SignatureInput, sign
from petition_app.timefloor import MAX_WAIT, TimeFloor
from tests.conftest import make_user

MS = 0.001


class Waits:
    """Stands in for time.sleep: the waits asked for, none taken."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def test_a_write_faster_than_the_floor_waits_up_to_it_and_a_slower_one_not_at_all():
    waits = Waits()
    floor = TimeFloor(sleep=waits)
    for _ in range(100):
        floor.hold(2 * MS)
    assert floor.floor == pytest.approx(2 * MS)
    assert waits.asked == []  # none was faster than the floor
    assert floor.hold(1.5 * MS) == pytest.approx(0.5 * MS)
    assert floor.hold(3 * MS) == 0.0
    assert floor.hold(0.2 * MS) == pytest.approx(1.8 * MS)
    assert waits.asked == pytest.approx([0.5 * MS, 1.8 * MS])


def test_the_floor_is_a_high_quantile_of_recent_writes_not_their_slowest():
    floor = TimeFloor(sleep=Waits())
    for i in range(1, 101):
        floor.hold(i * 0.01 * MS)  # 0.01 ms ... 1 ms
    assert 0.97 * MS <= floor.floor < 1 * MS  # the 98th percentile: the slowest writes do not set it
    # A spike: the floor follows the recent writes, old ones leave the window.
    for _ in range(timefloor.WINDOW):
        floor.hold(40 * MS)
    assert floor.floor == pytest.approx(40 * MS)
    for _ in range(timefloor.WINDOW):
        floor.hold(1 * MS)
    assert floor.floor == pytest.approx(1 * MS)


def test_no_write_waits_longer_than_the_cap_however_slow_the_others():
    waits = Waits()
    floor = TimeFloor(sleep=waits)
    for _ in range(50):
        floor.hold(80 * MS)
    assert floor.hold(1 * MS) == MAX_WAIT
    assert waits.asked == [MAX_WAIT]


def recorded(name: str) -> list[bool]:
    """Install a floor for `name` (that sleeps not) recording, for each piece of work it holds, whether that work was
    still open then: a transaction of the session, or SQLite's signing write lock held by this process. The list."""
    held: list[bool] = []

    class Recording(TimeFloor):
        def hold(self, took: float) -> float:
            locked = any(lock.locked() for lock, _fd in write_lock._locks.values())  # noqa: SLF001 (the lock's state)
            held.append(db.session().in_transaction() or locked)
            return super().hold(took)

    timefloor.floors()[name] = Recording(sleep=Waits())
    return held


def test_every_signature_new_repeated_or_over_the_mail_limit_is_held_once_its_write_is_committed(app, make_campaign):
    campaign = make_campaign(slug="held")
    held = recorded("sign")
    anna = SignatureInput("Anna", "Example", "anna@example.org", "DE")
    assert sign(campaign, anna) is Outcome.SIGNED
    assert sign(campaign, anna) is Outcome.DUPLICATE  # the first repeat of the day: mailed
    db.session.execute(sa.update(Signature).values(repeat_day=datetime.now(timezone.utc).date(),
                                                   repeat_mails=REPEAT_MAILS_PER_DAY))
    db.session.commit()
    assert sign(campaign, anna) is Outcome.DUPLICATE  # over the day's limit: not mailed
    # Each held, after its commit: holding inside the write would hold up every other signer (SQLite's lock).
    assert held == [False, False, False]


def test_a_password_reset_request_is_held_with_or_without_an_account_and_apart_from_signatures(app):
    make_user("admin@example.org")
    resets, signatures = recorded("password_reset"), recorded("sign")
    with app.test_request_context():
        accounts.request_reset("admin@example.org")
        accounts.request_reset("nobody@example.org")
    assert resets == [False, False]  # both held, each once its token and mail are committed
    assert signatures == []  # each kind of work has a floor of its own
