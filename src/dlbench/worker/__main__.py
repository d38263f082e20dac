"""Entry point of a trial process: `python -m dlbench.worker`, the trial as JSON on standard input."""
import json
import signal
import sys

from dlbench.worker.protocol import EventWriter
from dlbench.worker.run import main


def _interrupted(signum, frame):
    raise KeyboardInterrupt()


if __name__ == "__main__":
    # The parent stops a trial with SIGTERM (to its process group): end with an `interrupted` event, not silence.
    signal.signal(signal.SIGTERM, _interrupted)
    writer = EventWriter()
    try:
        trial = json.loads(sys.stdin.read())
    except ValueError as exc:
        writer.end("failed", error="the trial description is not valid JSON: %s" % exc)
        sys.exit(2)
    main(writer, trial)
