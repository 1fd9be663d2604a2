"""The phone directory's decisions on one entry: claims, releases, and routing a shared phone."""

from __future__ import annotations

from typing import Any

from afterglow.worker.phone_directory import MAX_WAITING, apply, route_patient

PHONE = "+15555550101"


def _change(kind: str, owner: str, role: str = "patient", **extra: Any) -> dict[str, Any]:
    return {"phone": PHONE, "type": kind, "role": role, "owner_id": owner, **extra}


def _shared(*owners: str) -> dict[str, Any] | None:
    entry = None
    for owner in owners:
        entry = apply(entry, _change("claim", owner, shared=True)).entry
    return entry


def test_an_entry_from_before_shared_phones_is_read_as_one_owner() -> None:
    legacy = {"phone": PHONE, "role": "patient", "owner_id": "ana"}
    assert route_patient(legacy) == "ana"
    assert apply(legacy, _change("release", "ana")).entry is None
    assert apply(legacy, _change("claim", "ben")).refused is not None


def test_a_claim_without_type_is_a_claim() -> None:
    record = {"phone": PHONE, "role": "clinician", "owner_id": "clin-1"}
    assert route_patient(apply(None, record).entry or {}) == "clin-1"


def test_a_release_by_someone_else_changes_nothing() -> None:
    entry = _shared("ana")
    decision = apply(entry, _change("release", "ben"))
    assert (decision.entry, decision.changed) == (entry, False)


def test_without_checkins_a_shared_phone_goes_to_the_first_registered() -> None:
    assert route_patient(_shared("ana", "ben", "cy") or {}) == "ana"


def test_an_open_checkin_wins_over_a_more_recent_closed_one() -> None:
    entry = _shared("ana", "ben")
    for change in (
        _change("checkin", "ana", open=True, at="2026-03-09T15:00:00+00:00"),
        _change("checkin", "ben", open=True, at="2026-03-10T15:00:00+00:00"),
        _change("checkin", "ben", open=False, at="2026-03-10T16:00:00+00:00"),
    ):
        entry = apply(entry, change).entry
    assert route_patient(entry or {}) == "ana"


def test_send_times_compare_as_instants_not_as_text() -> None:
    entry = _shared("ana", "ben")
    # 10:00 in Chicago is later than 14:00 UTC, although "10" sorts before "14".
    later = apply(entry, _change("checkin", "ana", open=True, at="2026-03-09T10:00:00-05:00"))
    earlier = _change("checkin", "ben", open=True, at="2026-03-09T14:00:00+00:00")
    assert route_patient(apply(later.entry, earlier).entry or {}) == "ana"


def test_a_registration_sent_again_changes_nothing() -> None:
    entry = _shared("ana", "ben")
    decision = apply(entry, _change("claim", "ben", shared=True))
    assert (decision.entry, decision.refused, decision.changed) == (entry, None, False)


def test_a_refused_patient_waits_and_gets_the_phone_when_its_last_owner_leaves() -> None:
    entry = apply(None, _change("claim", "ana")).entry
    for waiting in ("ben", "cy"):
        decision = apply(entry, _change("claim", waiting))
        assert decision.refused is not None
        entry = decision.entry
    assert apply(entry, _change("claim", "ben")).changed is False  # re-sent: same place
    freed = apply(entry, _change("release", "ana"))
    assert freed.promoted == "ben"
    assert route_patient(freed.entry or {}) == "ben"
    assert (freed.entry or {})["waiting"] == ["cy"]
    assert apply(freed.entry, _change("claim", "cy")).refused is not None  # still taken


def test_a_shared_phone_promotes_nobody_until_every_owner_has_left() -> None:
    entry = apply(_shared("ana", "ben"), _change("claim", "cy")).entry
    after_ana = apply(entry, _change("release", "ana"))
    assert (after_ana.promoted, route_patient(after_ana.entry or {})) == (None, "ben")
    assert apply(after_ana.entry, _change("release", "ben")).promoted == "cy"


def test_a_patient_waiting_for_a_clinicians_phone_gets_it_when_the_clinician_moves() -> None:
    entry = apply(None, _change("claim", "clin-1", role="clinician")).entry
    entry = apply(entry, _change("claim", "ana")).entry
    freed = apply(entry, _change("release", "clin-1", role="clinician"))
    assert freed.promoted == "ana"
    assert (freed.entry or {})["role"] == "patient"


def test_a_waiting_patient_who_leaves_is_forgotten() -> None:
    entry = apply(apply(None, _change("claim", "ana")).entry, _change("claim", "ben")).entry
    entry = apply(entry, _change("release", "ben")).entry
    assert apply(entry, _change("release", "ana")) == apply(
        apply(None, _change("claim", "ana")).entry, _change("release", "ana")
    )


def test_the_waiting_list_is_bounded() -> None:
    entry = apply(None, _change("claim", "ana")).entry
    for n in range(MAX_WAITING + 5):
        entry = apply(entry, _change("claim", f"p-{n}")).entry
    assert len((entry or {})["waiting"]) == MAX_WAITING
