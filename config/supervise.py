"""Keep one development process running: `python -m config.supervise -- CMD ARGS...`.

`make run` runs its processes with honcho, which stops all of them when any one exits. A
crash of the web process (an OOM kill, a segfault in a C extension, `kill -9` while trying
things) would end the whole demo. Procfile.dev therefore starts the web process under this
supervisor: when the command dies of a signal or exits with an error, it is started again
after a short pause; when it exits cleanly, or when the supervisor itself is asked to stop
(SIGTERM, SIGINT: Ctrl-C, honcho's shutdown), it stops and passes the signal on. Production
uses its own supervisor (systemd, Kubernetes, the platform's process manager)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

RESTART_PAUSE_S = 2.0


def supervise(command: list[str], *, pause: float = RESTART_PAUSE_S, max_restarts: int | None = None) -> int:
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    restarts = 0
    while True:
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping or code == 0:
            return code
        if max_restarts is not None and restarts >= max_restarts:
            return code
        restarts += 1
        cause = f"signal {-code}" if code < 0 else f"exit code {code}"
        print(f"supervise: {command[0]} stopped ({cause}); restarting in {pause:g} s", file=sys.stderr, flush=True)
        time.sleep(pause)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m config.supervise -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return supervise(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
