"""`afterglow phone enroll|send|inbox`: the built-in SMS simulator from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from afterglow.config import get_settings

app = typer.Typer(help="Simulated phones (when no Twilio credentials are set).")


@app.command("send")
def send(
    number: Annotated[str, typer.Argument(help="The simulated phone, E.164 (+15555550101).")],
    text: Annotated[str, typer.Argument(help="What the phone texts to the clinic.")],
) -> None:
    """Text Afterglow from a simulated phone (through the web process, like Twilio would)."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from afterglow.security.operator_token import read_operator_token

    settings = get_settings()
    token = read_operator_token(settings)
    quoted = urllib.parse.quote(number, safe="")
    url = f"http://{settings.web_host}:{settings.web_port}/simulator/phones/{quoted}/messages"
    request = urllib.request.Request(
        url,
        data=json.dumps({"body": text}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            typer.echo(f"sent ({json.loads(response.read())['message_sid']})")
    except urllib.error.HTTPError as error:
        typer.echo(f"afterglow phone send: web process answered {error.code}", err=True)
        raise typer.Exit(1) from None
    except urllib.error.URLError as error:
        typer.echo(f"afterglow phone send: web process not reachable ({error.reason})", err=True)
        raise typer.Exit(1) from None


@app.command("inbox")
def inbox(
    number: Annotated[str, typer.Argument(help="The simulated phone, E.164.")],
) -> None:
    """Every text to and from a simulated phone, oldest first."""
    from afterglow.sms.simulator import simulated_inbox

    for message in simulated_inbox(get_settings(), number):
        arrow = "<-" if message["direction"] == "out" else "->"
        typer.echo(f"{message['at']} {arrow} {message['body']}")


@app.command("enroll")
def enroll(
    number: Annotated[str, typer.Argument(help="The simulated phone, E.164 (+15555550101).")],
    timezone: Annotated[
        str, typer.Option(help="The patient's IANA time zone (the send window is local).")
    ] = "America/New_York",
    language: Annotated[str, typer.Option(help="en or es.")] = "en",
    clinic: Annotated[str, typer.Option(help="A clinic of the clinic settings file.")] = (
        "clinic-a"
    ),
) -> None:
    """Register a fictional patient with this phone in `clinic.patients`, as a clinic's
    system would: SMS consent, no baseline score, so the baseline check-in is texted in the
    next send window (at once when it is open)."""
    import orjson
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from afterglow.intake.records import parse_patient
    from afterglow.topics import PATIENTS
    from afterglow.validation import InvalidEvent, default_catalog

    settings = get_settings()
    patient_id = "demo-" + "".join(ch for ch in number if ch.isdigit())[-4:]
    record = {
        "patient_id": patient_id,
        "clinic_id": clinic,
        "phone": number,
        "timezone": timezone,
        "language": language,
        "clinician_id": "demo-clinician",
        "sms_consent": True,
    }
    value = orjson.dumps(record)
    try:
        parse_patient(default_catalog(), patient_id.encode(), value)  # what intake will check
    except InvalidEvent as error:
        typer.echo(f"afterglow phone enroll: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
        try:
            producer.send(settings.topic(PATIENTS), key=patient_id.encode(), value=value)
            producer.flush(timeout=30)
        finally:
            producer.close()
    except KafkaError as error:
        typer.echo(f"afterglow phone enroll: Kafka unreachable ({type(error).__name__})", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"enrolled {patient_id} ({timezone}); the baseline check-in follows")
