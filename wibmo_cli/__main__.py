"""`python -m wibmo_cli`: the entry point, light enough to guard start-up.

Before anything else, Ctrl-C and SIGTERM are made to end the process at once with 130
(nothing has been done yet): a signal in the first moments, while typer and click load,
prints no traceback. `interrupts` takes over from there (see its docstring).
"""

import _signal  # type: ignore[import-not-found]  # the C module: `signal` loads slowly
import os


def _exit_now(signum: int, frame: object) -> None:
    os._exit(130)


for _signum in (_signal.SIGINT, _signal.SIGTERM):
    if _signal.getsignal(_signum) is not _signal.SIG_IGN:  # a background job keeps ignoring
        _signal.signal(_signum, _exit_now)


def main() -> None:
    from wibmo_cli.app import main as run

    run()  # interrupts.starting(), then the command


if __name__ == "__main__":
    main()
