"""Ends a helper process when the process that started it is gone.

`arbiter lab` starts the devnets and the bridge relayer as children. They must not outlive it,
however it ends: on a normal end or a signal it stops them itself, but a SIGKILL gives it no
chance. So each child, given its parent's pid, polls: once that process is no longer its parent
(the kernel has handed the orphan to init or a subreaper), it exits."""
import os
import sys
import threading
import time


def exit_with_parent(parent_pid, poll=0.5):
    """Starts a daemon thread that ends this process (exit status 0, one line on stderr) as soon as
    `parent_pid` is no longer its parent. Checked once at once: a parent that died before the
    call is noticed immediately."""

    def gone():
        return os.getppid() != parent_pid

    def watch():
        while not gone():
            time.sleep(poll)
        try:
            print(f"{os.path.basename(sys.argv[0])}: parent {parent_pid} is gone; exiting", file=sys.stderr, flush=True)
        except OSError:  # stderr was a pipe to the parent that is gone
            pass
        finally:
            os._exit(0)

    if gone():
        watch()
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
