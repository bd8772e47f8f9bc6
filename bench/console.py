"""What a long run shows while it runs: log lines on stderr, and progress on stdout as one
updating line on a terminal, or a plain line every few seconds when stdout is a file or pipe."""

from __future__ import annotations

import sys
import time


class Console:
    def __init__(self, every: float = 5.0) -> None:
        self.every = every  # seconds between two plain progress lines
        self._open = 0  # length of the updating line on the terminal, 0 when none is open
        self._last_print = 0.0
        self._pending = ""  # the latest progress text not printed yet (plain mode)

    def log(self, message: str) -> None:
        self._end_line()
        print(f"bench: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    def progress(self, what: str, done: int, total: int, elapsed: float, unit: str = "Ready") -> None:
        """`what: done/total unit, elapsed s`, e.g. `scale: 812/1220 Ready, 31 s`."""
        text = f"bench: {what}: {done}/{total} {unit}, {elapsed:.0f} s"
        out = sys.stdout
        if out.isatty():
            out.write("\r" + text.ljust(self._open))
            out.flush()
            self._open = len(text)
            return
        now = time.monotonic()
        if now - self._last_print >= self.every:
            print(text, flush=True)
            self._last_print = now
            self._pending = ""
        else:
            self._pending = text

    def finish(self) -> None:
        """A phase is over: close the terminal line, or print its last state if not yet printed."""
        if self._pending:
            print(self._pending, flush=True)
            self._pending = ""
        self._last_print = 0.0
        self._end_line()

    def _end_line(self) -> None:
        if self._open:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._open = 0


console = Console()
