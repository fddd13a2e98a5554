"""`python -m tools.soak [--minutes N] [--seed S] [--chains C] [--dir DIR] [--report FILE]`: see soak.py."""
import argparse
import json
import os
import signal
import sys
import tempfile

from .soak import Soak

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    p = argparse.ArgumentParser(prog="scripts/soak", description="The whole bot under continuous faults; checks every minute and at the end.")
    p.add_argument("--minutes", type=float, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--chains", type=int, default=3)
    p.add_argument("--dir", help="where logs, the journal and the event log go (default: a new temporary directory)")
    p.add_argument("--report", help="write the JSON report here too")
    p.add_argument("--bin", default=os.environ.get("ARBITER_BIN", os.path.join(ROOT, ".build", "debug", "arbiter")))
    a = p.parse_args()
    if a.minutes <= 0 or a.chains < 1:
        p.error("--minutes and --chains must be positive")
    directory = os.path.abspath(a.dir or tempfile.mkdtemp(prefix="arbiter-soak-"))
    os.makedirs(directory, exist_ok=True)
    print(f"soak: {a.minutes} min, {a.chains} chains, seed {a.seed}; logs in {directory}", file=sys.stderr)
    # Ctrl-C or SIGTERM: stop at once but still check, stop everything and report.
    interrupted = []
    def interrupt(signum, _frame):
        interrupted.append(signum)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)
    soak = Soak(a.bin, directory, a.minutes, seed=a.seed, chains=a.chains)
    try:
        soak.setup()
        soak.run()
    except KeyboardInterrupt:
        soak.problems.append("interrupted before the end")
    except Exception as e:  # noqa: BLE001 - reported with everything stopped, not left running
        soak.problems.append(f"the soak itself failed: {type(e).__name__}: {e}")
    finally:
        left = soak.stop()
    report = soak.report(left)
    text = json.dumps(report, indent=2)
    if a.report:
        with open(a.report, "w") as f:
            f.write(text + "\n")
    print(text)
    final = report["final"]
    print(f"soak: {report['faultsInjected']} faults, {final.get('published', 0)} published, {final.get('received', 0)} received, "
          f"{final.get('landed', 0)} landed, lost {final.get('lost', '?')}, executed twice {final.get('executedTwice', '?')}, "
          f"nonce gaps {final.get('nonceGaps', '?')}, processes left {report['processesLeft']}: {'ok' if report['ok'] else 'FAILED'}",
          file=sys.stderr)
    for problem in report["problems"]:
        print(f"soak: {problem[:2000]}", file=sys.stderr)
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
