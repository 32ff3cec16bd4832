"""Runs `python -m jaxmc run SCRIPT ARGS` in forks of one process that imported jaxmc, ArviZ and pandas once, so that
each script of the examples corpus does not pay those imports again.

`ScriptServer().run(argv, cwd, log, timeout)` sends a request to the server (this file run as a script, started on
the first call), which forks a child for it: the child changes to `cwd`, writes its output to `log` and runs
`python -m jaxmc run` with `argv`; the call returns the child's exit status, as `subprocess.run` would. The server
forks before JAX starts its backends (importing jaxmc does not start them), so each child starts JAX afresh, as a
new process would.
"""

import json
import os
import select
import signal
import subprocess
import sys
import traceback

PRELOAD = ("jaxmc", "arviz", "pandas", "scipy.stats", "xarray", "pytensor.tensor")


class ScriptServer:
    """The client: one server process, started on the first `run`, stopped by `close`."""

    def __init__(self):
        self.proc = None

    def _start(self):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, start_new_session=True)

    def run(self, argv, cwd, log, timeout):
        """The exit status of `python -m jaxmc run *argv` run in `cwd`, its output in the file `log`; raises
        subprocess.TimeoutExpired (and stops the server) after `timeout` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.proc.stdin.write(json.dumps({"argv": list(argv), "cwd": cwd, "log": log}) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            proc = self.proc
            self.close()
            if ready:  # end of its output: the server stopped
                raise RuntimeError(f"the script server exited with {proc.returncode}: its error is in the captured "
                                   "stderr")
            raise subprocess.TimeoutExpired(["jaxmc", "run", *argv], timeout)
        return json.loads(line)["returncode"]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the server and a child it may be running
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None


def _exit_status(code):
    """The status Python's interpreter exits with for `sys.exit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _child(request):
    """Run the request in this forked child and exit with its status; never returns to the server's loop."""
    status = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.chdir(request["cwd"])
        from jaxmc.__main__ import main

        status = _exit_status(main(["run", *request["argv"]]))
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def serve():
    import importlib
    import warnings

    # No thread may hold a lock when the server forks. numpy's and SciPy's OpenBLAS start worker threads when
    # loaded unless told to use one (the children's BLAS then runs on one thread); what else runs is pyarrow's
    # jemalloc background thread (imported with ArviZ), whose locks jemalloc's own fork handlers take before a fork
    # and reset in the child, and of which Python warns on every fork.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    warnings.filterwarnings("ignore", message=r".*use of fork\(\) may lead to deadlocks", category=DeprecationWarning)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    from jax._src import xla_bridge

    if xla_bridge.backends_are_initialized():
        raise RuntimeError("JAX started its backends while importing: forks would share its threads")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _, wait_status = os.waitpid(pid, 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(wait_status)}), flush=True)


if __name__ == "__main__":
    serve()
