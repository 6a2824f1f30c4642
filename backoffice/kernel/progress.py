"""Progress bars for management commands: shown on a terminal, silent in cron and pipes."""

import sys

from tqdm import tqdm


def progress_bar(*, total: int, description: str, unit: str) -> tqdm:
    """Return a tqdm bar on stderr, disabled when stderr is not a terminal."""
    return tqdm(
        total=total, desc=description, unit=unit, unit_scale=True, file=sys.stderr, disable=not sys.stderr.isatty()
    )
