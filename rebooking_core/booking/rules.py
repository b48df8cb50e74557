"""What booking a chosen option changes, decided from plain values: no database, no SQLAlchemy.

Given the booking as the offer's winner read it (its active segments, the disrupted flights among
them) and the option chosen, `plan_rewrite` says which segments are cancelled and where the new
legs go, and `plan_moves` which seat counters move: our holds committed (or lost legs sold), the
offer's other holds released, the replaced segments' seats given back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from rebooking_core.impact_rules import SegmentRow, segments_to_replace

__all__ = [
    "BookingResult",
    "BookingStatus",
    "Choice",
    "CounterMove",
    "CurrentBooking",
    "Hold",
    "OnRefuse",
    "Rewrite",
    "SeatChange",
    "can_wait_for_commit",
    "each_row_once",
    "net_moves",
    "plan_moves",
    "plan_rewrite",
]


class BookingStatus(StrEnum):
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    EXPIRED = "expired"
    #: The booking changed elsewhere (an agent, the PSS, another disruption's rebooking): nothing left to replace.
    CHANGED = "changed"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class BookingResult:
    """`option_id`/`flight_ids` name the option that holds the booking (the winner if not ours)."""

    status: BookingStatus
    booking_id: int | None = None
    option_id: int | None = None
    flight_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Choice:
    """The option a passenger chose, as its offer shows it."""

    booking_id: int
    option_id: int
    flight_ids: tuple[int, ...]
    cabin: str
    seats: int


@dataclass(frozen=True)
class Hold:
    """A seat-hold row of the offer that was still held when the choice won."""

    id: int
    option_id: int
    flight_id: int
    cabin: str
    seats: int


@dataclass(frozen=True)
class CurrentBooking:
    """The booking as the guard's winner read it: active segments in journey order and what the rewrite needs."""

    segments: tuple[SegmentRow, ...]
    #: The flights among the segments' that the disruption hits.
    hit_flight_ids: tuple[int, ...]
    #: Where the chosen option leaves from: the replaced part of the journey starts there.
    rebook_from: str
    #: The booking's last seq, active segment or not.
    last_seq: int
    #: The offer's held holds, when read with the segments (PostgreSQL); None: not read yet.
    holds: tuple[Hold, ...] | None = None


@dataclass(frozen=True)
class Rewrite:
    """Replaced segments become HX; the new legs take their place, later segments move up (if `later`).

    A booking whose replaced part is the end of it has no later segments to move, and skips that.
    """

    choice: Choice
    replaced: tuple[SegmentRow, ...]
    later: bool

    @property
    def replaced_ids(self) -> list[int]:
        return [s.segment_id for s in self.replaced]

    @property
    def last_seq(self) -> int:
        return max(s.seq for s in self.replaced)

    @property
    def new_seqs(self) -> list[int]:
        """The new legs' seqs, in the option's order, right after the replaced segments."""
        last = self.last_seq
        return [last + n for n in range(1, len(self.choice.flight_ids) + 1)]


def plan_rewrite(choice: Choice, current: CurrentBooking) -> Rewrite | None:
    """What the choice cancels; None when nothing is left to replace (the booking changed elsewhere)."""
    if not current.segments:
        return None
    replaced = segments_to_replace(current.segments, current.hit_flight_ids, current.rebook_from)
    if not replaced:
        return None
    return Rewrite(choice, replaced, later=current.last_seq > max(s.seq for s in replaced))


class SeatChange(Enum):
    """One counter move per seat, as (sold, held) deltas."""

    HOLD = (0, 1)
    COMMIT = (1, -1)
    SELL = (1, 0)
    RELEASE = (0, -1)
    UNSELL = (-1, 0)


class OnRefuse(StrEnum):
    """What a counter move refused by its guard means."""

    ABORT = "abort"  # no seat left: undo and answer "unavailable"
    SKIP = "skip"  # best effort (old seats of a replaced segment)
    RAISE = "raise"  # a held seat-hold row without held seats: a bug, never hidden


@dataclass(frozen=True)
class CounterMove:
    """One counter move and the moves that take it back."""

    flight_id: int
    cabin: str
    seats: int
    change: SeatChange
    undo: tuple[SeatChange, ...]
    on_refuse: OnRefuse

    @property
    def key(self) -> tuple[int, str]:
        return (self.flight_id, self.cabin)

    @property
    def delta(self) -> tuple[int, int]:
        sold, held = self.change.value
        return sold * self.seats, held * self.seats

    def inconsistency(self) -> str:
        """Why a RAISE move refused is a bug (the message of `InventoryInconsistent`)."""
        return f"flight {self.flight_id} cabin {self.cabin}: fewer than {self.seats} seats held"


def plan_moves(choice: Choice, holds: Sequence[Hold], replaced: Iterable[SegmentRow]) -> list[CounterMove]:
    """Counter moves: commit our holds (or sell lost legs), release the rest, return old seats."""
    ours = {h.flight_id for h in holds if h.option_id == choice.option_id}
    moves = [
        CounterMove(h.flight_id, h.cabin, h.seats, SeatChange.COMMIT, (SeatChange.UNSELL, SeatChange.HOLD), OnRefuse.RAISE)
        for h in holds
        if h.option_id == choice.option_id
    ]
    moves += [
        CounterMove(fid, choice.cabin, choice.seats, SeatChange.SELL, (SeatChange.UNSELL,), OnRefuse.ABORT)
        for fid in choice.flight_ids
        if fid not in ours
    ]
    moves += [
        CounterMove(h.flight_id, h.cabin, h.seats, SeatChange.RELEASE, (SeatChange.HOLD,), OnRefuse.RAISE)
        for h in holds
        if h.option_id != choice.option_id
    ]
    moves += [
        CounterMove(s.flight_id, s.cabin, choice.seats, SeatChange.UNSELL, (SeatChange.SELL,), OnRefuse.SKIP)
        for s in replaced
    ]
    return moves


def each_row_once(moves: Sequence[CounterMove]) -> bool:
    """No two moves of one counter row: the moves can go in one statement."""
    return len({m.key for m in moves}) == len(moves)


def can_wait_for_commit(moves: Sequence[CounterMove]) -> bool:
    """Each row moves once and no lack of seats can refuse a move (every leg held)."""
    return each_row_once(moves) and not any(m.on_refuse is OnRefuse.ABORT for m in moves)


def net_moves(moves: Iterable[CounterMove]) -> dict[tuple[int, str], tuple[int, int]]:
    """The (sold, held) deltas per counter row, several moves of one row added up."""
    net: dict[tuple[int, str], tuple[int, int]] = {}
    for move in moves:
        sold, held = net.get(move.key, (0, 0))
        net[move.key] = (sold + move.delta[0], held + move.delta[1])
    return net
