"""The ``nablab`` console script. Ctrl-C at any moment exits 130 with one line, also in the
first third of a second, while NumPy and nablab are still being imported: this module lives
outside the nablab package because importing anything inside it imports NumPy first.

While the command runs, Ctrl-C is a KeyboardInterrupt, which nablab.cli.main turns into its one
line after the files being written are cleaned up; before (importing: nothing written yet) and
after (everything written) it ends the process at once.
"""

import os
import signal
import sys

INTERRUPTED = 130
_command_running = False


def _on_interrupt(signum, frame):
    if _command_running:
        raise KeyboardInterrupt
    os.write(2, b"\nnablab: interrupted\n")
    os._exit(INTERRUPTED)


def main() -> int:
    """Run ``nablab`` with the command line's arguments; returns the exit code."""
    global _command_running
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup)
        signal.signal(signal.SIGINT, _on_interrupt)
    from nablab.cli import main as run_command

    _command_running = True
    code = run_command()
    _command_running = False
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a closed pipe: nothing more to say
            pass
    return code
