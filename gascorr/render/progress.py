"""The ingest progress bar: rich, on stderr, only when stderr is a terminal.

It appears only once an ingest has run for about a second, so quick runs stay silent.
"""

from __future__ import annotations

import time
from typing import IO, Any


class IngestProgress:
    DELAY = 1.0

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.progress: Any = None
        self.task: Any = None

    def update(self, name: str, done: int, total: int) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("ingesting"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=Console(file=self.stream),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task("", total=total)
        self.progress.update(self.task, completed=done, description=name[-60:])

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
