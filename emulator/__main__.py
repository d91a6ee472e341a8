"""`python -m emulator demo|serve`: what `make demo` and `make serve` run."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="The task-token callback pattern on moto, without an AWS account.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a success, a task failure and a timeout")
    demo.add_argument("--logs", action="store_true", help="show the worker's JSON logs on stderr")
    serve = commands.add_parser("serve", help="an AWS-compatible endpoint with the pattern in it")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--logs", action="store_true", help="show the worker's JSON logs on stderr")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from emulator.demo import run_demo

        return run_demo(show_logs=args.logs)
    from emulator.serve import serve as run_serve

    return run_serve(port=args.port, show_logs=args.logs)


if __name__ == "__main__":
    sys.exit(main())
