"""MVT, DIV, ASM and SSM samples read into the updates and records they say; malformed ones name line and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rebooking_core.flight_updates import FlightRef, UpdateKind
from rebooking_core.ingest import asm, mvt, ssm
from rebooking_core.ingest.typeb import MalformedMessage

SAMPLES = Path(__file__).parent / "samples"
RECEIVED = dt.datetime(2026, 12, 6, 18, 0, tzinfo=dt.UTC)


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def at(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


RB391 = FlightRef("RB", "391", dt.date(2026, 12, 6))


def test_an_estimated_departure_is_a_delay_with_its_codes_and_the_envelope_time() -> None:
    [update] = mvt.parse(sample("mvt_delay.txt"), received=RECEIVED)
    assert update.kind is UpdateKind.DELAY
    assert update.flight == RB391
    assert update.new_departure == at(6, 11, 30)
    assert update.issued_at == at(6, 8, 12)
    assert update.delay_codes == (("93", 45),)
    assert update.reason == "93"
    assert ("si", "LATE INBOUND AIRCRAFT FROM DUB") in update.extra
    assert update.source == "mvt"


def test_a_departure_with_two_delay_codes_gives_off_blocks_and_the_estimated_arrival() -> None:
    [update] = mvt.parse(sample("mvt_departure.txt"), received=RECEIVED)
    assert update.kind is UpdateKind.DELAY
    assert update.new_departure == at(6, 11, 58)
    assert update.new_arrival == at(6, 14, 2)
    assert update.delay_codes == (("93", 50), ("41", 18))
    movement = mvt.read(sample("mvt_departure.txt"), received=RECEIVED)[0]
    assert movement.airborne == at(6, 12, 9)
    assert movement.registration == "GREBA"
    assert movement.arrival_station == "CDG"


def test_on_time_departures_and_arrivals_change_nothing() -> None:
    # An on-time departure's EA is an arrival estimate: intake judges it against the schedule.
    [eta] = mvt.parse(sample("mvt_on_time.txt"), received=RECEIVED)
    assert (eta.kind, eta.new_departure, eta.new_arrival) == (UpdateKind.ARRIVAL, None, at(6, 15, 28))
    assert mvt.parse(sample("mvt_arrival.txt"), received=RECEIVED) == []
    [arrived] = mvt.read(sample("mvt_arrival.txt"), received=RECEIVED)
    assert (arrived.touchdown, arrived.on_blocks) == (at(6, 13, 57), at(6, 14, 4))


def test_next_information_delays_the_flight_at_least_until_then() -> None:
    [update] = mvt.parse(sample("mvt_next_information.txt"), received=RECEIVED)
    assert update.kind is UpdateKind.DELAY
    assert update.new_departure == at(6, 11, 0)
    assert ("next_information", "true") in update.extra
    assert update.delay_codes == (("41", 0),)


def test_a_batch_holds_several_messages_and_a_correction() -> None:
    updates = mvt.parse(sample("mvt_batch.txt"), received=RECEIVED)[:2]
    assert [u.new_departure for u in updates] == [at(6, 11, 30), at(6, 12, 15)]
    assert ("correction", "true") in updates[1].extra
    assert updates[0].issued_at < updates[1].issued_at
    assert len({u.message_id for u in updates}) == 2
    assert len(mvt.read(sample("mvt_batch.txt"), received=RECEIVED)) == 3


def test_an_estimated_arrival_alone_is_an_arrival_estimate_on_the_utc_day() -> None:
    eta = mvt.parse(sample("mvt_batch.txt"), received=RECEIVED)
    assert len(eta) == 3
    assert (eta[2].kind, eta[2].new_departure, eta[2].new_arrival) == (UpdateKind.ARRIVAL, None, at(6, 17, 12))
    assert eta[2].flight == FlightRef("RB", "2207", dt.date(2026, 12, 6))


def test_a_diversion_names_the_airport() -> None:
    [update] = mvt.parse(sample("div_weather.txt"), received=RECEIVED)
    assert update.kind is UpdateKind.DIVERSION
    assert update.diverted_to == "BRU"
    assert update.new_arrival == at(6, 14, 25)


def test_the_same_message_always_has_the_same_id() -> None:
    first = mvt.parse(sample("mvt_delay.txt"), received=RECEIVED)
    again = mvt.parse("\n\n" + sample("mvt_delay.txt").lower(), received=RECEIVED + dt.timedelta(hours=1))
    assert first == again
    assert asm.parse(sample("asm_cancel.txt"), received=RECEIVED) == asm.parse(sample("asm_cancel.txt"), received=RECEIVED)


def test_the_flight_day_is_the_nearest_one_with_that_number() -> None:
    text = "MVT\nRB391/31.GREBA.LHR\nED310130\n"
    [update] = mvt.parse(text, received=dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC))
    assert update.flight.date == dt.date(2026, 12, 31)
    assert update.new_departure == dt.datetime(2026, 12, 31, 1, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("name", "line", "field", "words"),
    [
        ("mvt_bad_date.txt", 2, "flight date", "day 32"),
        ("mvt_unknown_code.txt", 3, "movement", "unknown action code 'XD'"),
        ("mvt_missing_flight.txt", 2, "flight", "missing flight line"),
    ],
)
def test_malformed_mvt_names_the_line_and_field(name: str, line: int, field: str, words: str) -> None:
    with pytest.raises(MalformedMessage) as refused:
        mvt.parse(sample(name), received=RECEIVED)
    assert (refused.value.line, refused.value.field) == (line, field)
    assert words in str(refused.value)
    assert str(refused.value).startswith(f"line {line}: {field}: ")


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("MVT\nRB391/06.GREBA.LHR\nED0611\n", 3, "ED"),
        ("MVT\nRB391/06.GREBA.LHR\nED062460\n", 3, "estimated departure"),
        ("MVT\nRB391/06.GREBA.LHR\nED061130\nDL93/41/0030\n", 2, "delay"),
        ("MVT\nRB391/06.GREBA.LHR\nAD1158\nDL9/0030\n", 4, "delay"),
        ("MVT\nRB391/06.GREBA.LHR\nEA1430\n", 2, "diversion"),
        ("DIV\nRB391/06.GREBA.LHR\nSI NOWHERE\n", 2, "diversion"),
        ("MVT\n", 1, "flight"),
        ("RB391/06.GREBA.LHR\nED061130\n", 1, "header"),
        ("", 1, "header"),
        ("MVT\nRB391/06.GREBA.LHR\nED06\x001130\n", 3, "line"),
    ],
)
def test_more_malformed_mvt(text: str, line: int, field: str) -> None:
    text = text if field != "diversion" or text.startswith("DIV") else text.replace("MVT", "DIV")
    with pytest.raises(MalformedMessage) as refused:
        mvt.parse(text, received=RECEIVED)
    assert (refused.value.line, refused.value.field) == (line, field), str(refused.value)


def test_asm_cancellation_time_and_equipment_changes() -> None:
    [cancel] = asm.parse(sample("asm_cancel.txt"), received=RECEIVED)
    assert cancel.kind is UpdateKind.CANCELLATION
    assert cancel.flight == FlightRef("RB", "391", dt.date(2026, 12, 7))
    assert cancel.reason == "OPER"
    assert cancel.issued_at == at(6, 17, 5)
    assert cancel.new_departure is None

    [tim] = asm.parse(sample("asm_time.txt"), received=RECEIVED)
    assert tim.kind is UpdateKind.TIME_CHANGE
    assert (tim.new_departure, tim.new_arrival) == (at(7, 16, 30), at(7, 18, 45))

    [eqt] = asm.parse(sample("asm_equipment.txt"), received=RECEIVED)
    assert eqt.kind is UpdateKind.EQUIPMENT
    assert eqt.capacity == (("J", 8), ("Y", 132))
    assert eqt.flight.date == dt.date(2026, 12, 8)


def test_asm_local_times_are_read_at_each_station() -> None:
    [tim] = asm.parse(sample("asm_local_time.txt"), received=RECEIVED)
    # London is on UTC in December, Paris one hour ahead.
    assert (tim.new_departure, tim.new_arrival) == (at(7, 16, 30), at(7, 18, 45))
    # In LT mode the flight's date is its local service date.
    assert tim.flight == FlightRef("RB", "393", dt.date(2026, 12, 7), local=True)


def test_asm_reinstatement_and_replace() -> None:
    [rin] = asm.parse(sample("asm_reinstate.txt"), received=RECEIVED)
    assert rin.kind is UpdateKind.REINSTATEMENT
    assert rin.new_departure == at(7, 10, 15)
    replaced = asm.parse(sample("asm_replace.txt"), received=RECEIVED)
    assert [(u.kind, u.flight.date.day) for u in replaced] == [
        (UpdateKind.TIME_CHANGE, 8),
        (UpdateKind.EQUIPMENT, 8),
        (UpdateKind.TIME_CHANGE, 9),
        (UpdateKind.EQUIPMENT, 9),
    ]
    assert replaced[1].capacity == (("J", 16), ("Y", 190))
    assert len({u.message_id for u in replaced}) == 4


def test_asm_sub_messages_share_an_action_and_new_is_ignored() -> None:
    updates = asm.parse(sample("asm_multi.txt"), received=RECEIVED)
    assert [(u.kind, u.flight.number) for u in updates] == [
        (UpdateKind.CANCELLATION, "391"),
        (UpdateKind.CANCELLATION, "392"),
        (UpdateKind.TIME_CHANGE, "393"),
    ]
    assert len({u.message_id for u in updates}) == 3
    assert [c.action for c in asm.read(sample("asm_multi.txt"), received=RECEIVED)] == ["CNL", "CNL", "NEW", "TIM"]


@pytest.mark.parametrize(
    ("name", "line", "field", "words"),
    [
        ("asm_unknown_action.txt", 3, "action", "unknown action code 'XYZ'"),
        ("asm_bad_date.txt", 4, "flight date", "NOV has no day 31"),
        ("asm_missing_flight.txt", 4, "flight", "missing flight line"),
    ],
)
def test_malformed_asm_names_the_line_and_field(name: str, line: int, field: str, words: str) -> None:
    with pytest.raises(MalformedMessage) as refused:
        asm.parse(sample(name), received=RECEIVED)
    assert (refused.value.line, refused.value.field) == (line, field)
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("ASM\nCNL\nRB391/07DEC26\n", 2, "time mode"),
        ("ASM\nUTC\n", 1, "action"),
        ("ASM\nUTC\nTIM\nRB393/07DEC26\n", 4, "leg"),
        ("ASM\nUTC\nTIM\nRB393/07DEC26\nLHR1630 CDG1545\n", 5, "arrival"),
        ("ASM\nUTC\nTIM\nRB393/07DEC26\nLHR2460 CDG1545\n", 5, "departure"),
        ("ASM\nUTC\nEQT\nRB395/08DEC26\nJ 319 J8Q132\n", 5, "configuration"),
        ("ASM\nUTC\nEQT\nRB395/08DEC26\nJ 319 Z8Y132\n", 5, "configuration"),
        ("ASM\nUTC\nEQT\nRB395/08DEC26\n", 4, "configuration"),
        ("ASM\nUTC\nCNL\nRB391/07XYZ26\n", 4, "flight date"),
        ("ASM\nLT\nTIM\nRB393/07DEC26\nZZZ1630 CDG1845\n", 5, "departure"),
        ("ASM\nUTC\nCNL\nRB391/07DEC26\n//\n//\nRB392/07DEC26\n", 6, "flight"),
    ],
)
def test_more_malformed_asm(text: str, line: int, field: str) -> None:
    with pytest.raises(MalformedMessage) as refused:
        asm.parse(text, received=RECEIVED)
    assert (refused.value.line, refused.value.field) == (line, field), str(refused.value)


def test_ssm_new_becomes_schedule_records_every_operating_day() -> None:
    result = ssm.parse(sample("ssm_winter.txt"), received=RECEIVED)
    assert result.skipped == 1  # the CNL
    rb391 = [r for r in result.records if r.number == "391"]
    assert [r.date.isoformat() for r in rb391] == [
        f"2027-01-{d:02d}" for d in (4, 5, 6, 7, 8, 11, 12, 13, 14, 15)
    ]
    first = rb391[0]
    assert (first.origin, first.destination, first.aircraft) == ("LHR", "CDG", "320")
    assert (first.cabins.J, first.cabins.Y) == (12, 162)
    assert first.departure == dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
    fortnightly = [r.date.isoformat() for r in result.records if r.number == "1770"]
    assert fortnightly == ["2027-01-02", "2027-01-16", "2027-01-30"]
    assert [r for r in result.records if r.number == "1770"][0].cabins.J == 16  # C is business


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("ssm_bad_period.txt", 5, "period end"),
        ("SSM\nUTC\nNEW\nRB391\n04JAN27 17JAN27 12345\nLHR0900 CDG1015\n", 4, "configuration"),
        ("SSM\nUTC\nNEW\nRB391\nJ 320 J12Y162\nLHR0900 CDG1015\n", 4, "period"),
        ("SSM\nUTC\nNEW\nRB391\n04JAN27 17JAN27 12345\nJ 320 J12Y162\nLHR0900 LHR1015\n", 7, "leg"),
        ("SSM\nUTC\nNEW\nRB391\n04JAN27 17JAN27 12345\nJ 320 J12Y162\nLHR0900 XXQ1015\n", 7, "station"),
        ("SSM\nUTC\nXXX\nRB391\n", 3, "action"),
        ("SSM\nUTC\nNEW\n04JAN27 17JAN27 12345\n", 4, "flight"),
    ],
)
def test_malformed_ssm(text: str, line: int, field: str) -> None:
    body = sample(text) if text.endswith(".txt") else text
    with pytest.raises(MalformedMessage) as refused:
        ssm.parse(body, received=RECEIVED)
    assert (refused.value.line, refused.value.field) == (line, field), str(refused.value)


def test_an_envelope_starts_the_next_message_without_an_end_line() -> None:
    text = sample("mvt_delay.txt") + sample("mvt_next_information.txt")
    updates = mvt.parse(text, received=RECEIVED)
    assert [u.flight.number for u in updates] == ["391", "395"]
    assert [u.issued_at for u in updates] == [at(6, 8, 12), at(6, 9, 5)]
