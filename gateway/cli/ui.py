"""What the CLI shows a person: step-by-step progress bars on stderr (only on a terminal), summary tables on stdout."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Sequence

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table


class Steps:
    """A bar over a command's known steps: each step is announced, then advanced when done."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    @contextlib.contextmanager
    def step(self, description: str) -> Iterator[None]:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)
        yield
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


@contextlib.contextmanager
def steps(title: str, total: int) -> Iterator[Steps]:
    """A rich progress bar on stderr while a long command runs; nothing when stderr is not a terminal."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield Steps(None, None)
        return
    columns = (SpinnerColumn(), TextColumn(f"[bold]{title}[/] {{task.description}}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("", total=total)
        yield Steps(progress, task)
        progress.update(task, description="done")


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A summary table on stdout (plain columns when piped, so scripts can still read it)."""
    out = Console(file=sys.stdout, soft_wrap=True)
    grid = Table(title=title if out.is_terminal else None, show_edge=out.is_terminal, box=None if not out.is_terminal else Table().box)
    for i, header in enumerate(headers):
        grid.add_column(header, justify="right" if i else "left")
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    out.print(grid)


def fail(message: str, code: int = 2) -> int:
    """One line on stderr, `rebook: …`; the exit code to return."""
    click.echo(f"rebook: {message}", err=True)
    return code
