"""The alert desk's texts to clinicians, in every language: GSM-7, one segment for
realistic values (clinic names up to 24 characters, patient references up to 12), the
reply code where there is one, and none of what a patient text may not carry either (no
diagnosis, drug name, score, or the words "depression"/"ketamine")."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import UndefinedError, meta

from afterglow.core.alerting import CLINICIAN_TEMPLATE_PARAMS, ClinicianTemplate, Role
from afterglow.resources import templates_dir
from afterglow.sms.templates import LANGUAGES, environment, gsm7_segments, non_gsm7_characters
from afterglow.sms.templates import render as render_text
from tests.sms.test_templates import FORBIDDEN

CLINIC = "Northside Wellness Group"  # 24 characters: the longest display name expected
PATIENT = "AG-7Q4K-2M9X"  # 12 characters: an opaque reference, never a name
CODE = "4821"
# Neutral labels a page may carry (P1 and P2 are paged; P3 only goes to the digest).
KIND_LABELS = {
    "en": ["safety", "clinical change", "opted out", "x" * 18],
    "es": ["seguridad", "cambio clinico", "dejo los avisos", "x" * 18],
}
# Clinician texts must not name the clinical picture either: SMS is not a secure channel.
CLINICIAN_FORBIDDEN = [
    *FORBIDDEN,
    "relapse",
    "recaida",
    "suicide",
    "suicidal",
    "suicidio",
    "self-harm",
    "autolesion",
    "item 9",
    "pregunta 9",
]
_FORBIDDEN = re.compile(r"\b(?:" + "|".join(map(re.escape, CLINICIAN_FORBIDDEN)) + r")\b")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def render(name: ClinicianTemplate, language: str, **params: Any) -> str:
    assert set(params) == CLINICIAN_TEMPLATE_PARAMS[name], f"{name}: {sorted(params)}"
    return render_text(str(name), language, **params)


def _variants(language: str) -> list[tuple[str, ClinicianTemplate, dict[str, Any]]]:
    """(label, template, params) for every clinician text, with realistic long values."""
    out: list[tuple[str, ClinicianTemplate, dict[str, Any]]] = []
    for priority in ("P1", "P2"):
        for label in KIND_LABELS[language]:
            for escalated_from in (None, *Role):
                out.append(
                    (
                        f"alert:{priority}:{label}:{escalated_from}",
                        ClinicianTemplate.ALERT,
                        {
                            "clinic_name": CLINIC,
                            "patient_ref": PATIENT,
                            "priority": priority,
                            "kind_label": label,
                            "code": CODE,
                            "escalated_from": None
                            if escalated_from is None
                            else escalated_from.value,
                        },
                    )
                )
    out.append(("ack_confirmed", ClinicianTemplate.ACK_CONFIRMED, _ack(patient_ref=PATIENT)))
    for owner in ("you", "a colleague"):
        out.append(
            (
                f"ack_already:{owner}",
                ClinicianTemplate.ACK_ALREADY,
                _ack(patient_ref=PATIENT, owner_label=owner),
            )
        )
    out.append(("ack_closed", ClinicianTemplate.ACK_CLOSED, _ack()))
    for code in (None, "12", CODE, "48219"):
        for open_codes in ([], ["1234"], ["1234", "2345", "3456", "4567", "5678"]):
            out.append(
                (
                    f"ack_unknown:{code}:{len(open_codes)}",
                    ClinicianTemplate.ACK_UNKNOWN,
                    {"code": code, "open_codes": open_codes},
                )
            )
    out.append(("help", ClinicianTemplate.HELP, {}))
    for count in (1, 2, 137):
        out.append(
            (
                f"digest:{count}",
                ClinicianTemplate.DIGEST,
                {"clinic_name": CLINIC, "count": count, "date": date(2026, 12, 31)},
            )
        )
    out.append(
        (
            "crisis_sender",
            ClinicianTemplate.CRISIS_SENDER,
            {"clinic_name": CLINIC, "sender": "+1******0199"},
        )
    )
    return out


def _ack(**extra: Any) -> dict[str, Any]:
    return {"code": CODE, **extra}


TEXTS = [
    pytest.param(language, name, params, id=f"{language}-{label}")
    for language in LANGUAGES
    for label, name, params in _variants(language)
]


def test_each_language_has_every_clinician_template_and_no_other() -> None:
    for language in LANGUAGES:
        folder = templates_dir() / "sms" / language
        found = {p.stem for p in folder.glob("clinician_*.j2")}
        assert found == {str(name) for name in ClinicianTemplate}, language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", list(ClinicianTemplate))
def test_each_template_uses_exactly_its_declared_parameters(
    language: str, name: ClinicianTemplate
) -> None:
    env = environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, f"{language}/{name}.j2")
    used = meta.find_undeclared_variables(env.parse(source))
    assert used == CLINICIAN_TEMPLATE_PARAMS[name]


@pytest.mark.parametrize(("language", "name", "params"), TEXTS)
def test_every_clinician_text_is_one_gsm7_segment(
    language: str, name: ClinicianTemplate, params: dict[str, Any]
) -> None:
    text = render(name, language, **params)
    assert text
    assert text == text.strip()
    assert "\n" not in text
    assert "  " not in text
    assert non_gsm7_characters(text) == [], text
    assert not set("áíóúÁÍÓÚ—–“”‘’…") & set(text)
    assert gsm7_segments(text) == 1, f"{len(text)} chars: {text!r}"


@pytest.mark.parametrize(("language", "name", "params"), TEXTS)
def test_no_diagnosis_drug_name_or_score_in_any_clinician_text(
    language: str, name: ClinicianTemplate, params: dict[str, Any]
) -> None:
    text = render(name, language, **params)
    found = _FORBIDDEN.findall(_fold(text))
    assert not found, f"{found} in {text!r}"
    assert "/27" not in text
    # No phone numbers either; the page about an unregistered sender carries it masked.
    assert re.search(r"\+\d{5}", text) is None, text


@pytest.mark.parametrize(("language", "name", "params"), TEXTS)
def test_the_code_and_patient_reference_are_shown_where_given(
    language: str, name: ClinicianTemplate, params: dict[str, Any]
) -> None:
    text = render(name, language, **params)
    if params.get("code"):
        assert params["code"] in text
    if "patient_ref" in params:
        assert PATIENT in text
    if "clinic_name" in params:
        assert CLINIC in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_asks_for_ack_with_its_code(language: str) -> None:
    text = render(
        ClinicianTemplate.ALERT,
        language,
        clinic_name=CLINIC,
        patient_ref=PATIENT,
        priority="P1",
        kind_label=KIND_LABELS[language][0],
        code=CODE,
        escalated_from=None,
    )
    assert f"ACK {CODE}" in text
    assert "P1" in text
    assert "ESCALA" not in text


@pytest.mark.parametrize(
    ("language", "says", "role_labels"),
    [
        (
            "en",
            "no ACK in time",
            {"primary": "primary", "backup": "backup", "director": "director"},
        ),
        (
            "es",
            "sin ACK a tiempo",
            {"primary": "principal", "backup": "respaldo", "director": "director"},
        ),
    ],
)
def test_an_escalated_page_says_it_was_not_acknowledged_in_time(
    language: str, says: str, role_labels: dict[str, str]
) -> None:
    for role in Role:
        text = render(
            ClinicianTemplate.ALERT,
            language,
            clinic_name=CLINIC,
            patient_ref=PATIENT,
            priority="P1",
            kind_label=KIND_LABELS[language][0],
            code=CODE,
            escalated_from=role.value,
        )
        assert ("ESCALATED" if language == "en" else "ESCALADA") in text
        assert says in text
        assert role_labels[role.value] in text
        assert f"ACK {CODE}" in text


@pytest.mark.parametrize(
    ("language", "you", "colleague"),
    [("en", "by you", "by a colleague"), ("es", "por usted", "por un colega")],
)
def test_already_acknowledged_says_by_whom(language: str, you: str, colleague: str) -> None:
    params = {"code": CODE, "patient_ref": PATIENT}
    assert you in render(ClinicianTemplate.ACK_ALREADY, language, owner_label="you", **params)
    assert colleague in render(
        ClinicianTemplate.ACK_ALREADY, language, owner_label="a colleague", **params
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_code_gets_the_open_codes_and_the_format(language: str) -> None:
    text = render(ClinicianTemplate.ACK_UNKNOWN, language, code="12", open_codes=["1234", "5678"])
    assert "12" in text
    assert "1234, 5678" in text
    assert "ACK 1234" in text
    none_open = render(ClinicianTemplate.ACK_UNKNOWN, language, code=None, open_codes=[])
    assert "ACK 1234" in none_open
    assert "None" not in none_open


@pytest.mark.parametrize("language", LANGUAGES)
def test_at_most_five_open_codes_are_listed(language: str) -> None:
    codes = [str(n) for n in range(1001, 1009)]
    text = render(ClinicianTemplate.ACK_UNKNOWN, language, code=None, open_codes=codes)
    assert "1005" in text
    assert "1006" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_shows_the_ack_format_and_points_to_the_dashboard(language: str) -> None:
    text = render(ClinicianTemplate.HELP, language)
    assert "ACK 1234" in text
    assert ("dashboard" if language == "en" else "panel") in text


@pytest.mark.parametrize(
    ("language", "one", "many"),
    [
        ("en", "1 patient missed", "3 patients missed"),
        ("es", "1 paciente no respondio", "3 pacientes no respondieron"),
    ],
)
def test_the_digest_counts_patients_without_naming_them(language: str, one: str, many: str) -> None:
    day = date(2026, 3, 1)
    assert one in render(ClinicianTemplate.DIGEST, language, clinic_name=CLINIC, count=1, date=day)
    text = render(ClinicianTemplate.DIGEST, language, clinic_name=CLINIC, count=3, date=day)
    assert many in text
    assert "2026-03-01" in text
    assert ("dashboard" if language == "en" else "panel") in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_parameter_is_an_error(language: str) -> None:
    with pytest.raises(UndefinedError):
        render_text(str(ClinicianTemplate.ALERT), language, code=CODE)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.sampled_from(LANGUAGES),
    st.none() | st.text("0123456789", min_size=1, max_size=40),
    st.lists(st.integers(1000, 9999).map(str), max_size=9, unique=True),
)
def test_the_unknown_code_answer_fits_one_segment_whatever_was_typed(
    language: str, code: str | None, open_codes: list[str]
) -> None:
    text = render(ClinicianTemplate.ACK_UNKNOWN, language, code=code, open_codes=open_codes)
    assert gsm7_segments(text) == 1
    assert "ACK 1234" in text


def test_segment_report() -> None:
    """Run with -s to see how much room each clinician text leaves."""
    rows = []
    for language in LANGUAGES:
        for label, name, params in _variants(language):
            text = render(name, language, **params)
            rows.append(f"{language} {label:<48} {len(text):>4} chars")
    print("\nClinician SMS lengths (160 per segment):")
    print("\n".join(rows))
    assert rows
