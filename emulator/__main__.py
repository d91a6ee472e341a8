"""`python -m emulator demo|serve|soak|bench`: what `make demo`, `serve`, `soak` and `bench` run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from emulator.terraform import ROOT, TerraformError, TerraformNotFound, terraform, work_folder
from emulator.work_examples import StandInInvalid, WorkExamples, WorkExamplesInvalid

# The worker's package and the work by name, as the function's package holds them: the demo's
# and serve's external system answers with the worker's callback code.
sys.path[:0] = [str(work_folder()), str(ROOT / "src")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description="The task-token callback pattern on moto, without an AWS account.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a success, a task failure and a timeout")
    demo.add_argument("--logs", action="store_true", help="show the worker's JSON logs on stderr")
    demo.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Terraform variable, as make serve takes it (worker_environment, workflow_path, "
        "heartbeat_seconds, ...); the demo keeps its own short task timeout",
    )
    serve = commands.add_parser("serve", help="an AWS-compatible endpoint with the pattern in it")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--logs", action="store_true", help="show the worker's JSON logs on stderr")
    serve.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes polling at once (at most maximum_concurrency; default 2)",
    )
    serve.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Terraform variable (a JSON value, or else a string), e.g. task_timeout_seconds=5",
    )
    serve.add_argument(
        "--hand-off",
        action="store_true",
        help="the worker hands every task off to an external system: you answer them",
    )
    serve.add_argument(
        "--answer-hand-offs",
        action="store_true",
        help="a work of yours that hands tasks off: the emulator answers each a second later, "
        "standing in for your external system (as make demo does)",
    )
    serve.add_argument(
        "--approval",
        action="store_true",
        help="the worker asks the approval service for every task: you answer on its page",
    )
    serve.add_argument(
        "--root",
        type=Path,
        help="a Terraform root of yours that calls the module, applied with real Terraform "
        "(make serve ROOT=examples/complete); by default the module itself",
    )
    serve.add_argument(
        "--in-process",
        action="store_true",
        help="deploy in-process in a few seconds (as make demo does), not with real Terraform",
    )
    serve.add_argument(
        "--outputs", type=Path, help="the outputs file (build/serve-PORT-outputs.json)"
    )
    serve.add_argument(
        "--worker-log", type=Path, help="the worker's log (build/serve-PORT-worker.log)"
    )
    soak = commands.add_parser("soak", help="executions with faults, every one accounted for")
    soak.add_argument("--executions", type=int, default=1000)
    soak.add_argument(
        "--consumers",
        default="1,2,4",
        help="worker processes at once, one soak for each count (default: 1,2,4)",
    )
    bench = commands.add_parser("bench", help="performance figures, each against a baseline")
    bench.add_argument("--quick", action="store_true", help="a small run that checks the bench")
    args = parser.parse_args(argv)

    try:
        terraform()  # everything the emulator deploys comes from Terraform's evaluation
    except TerraformNotFound as missing:
        print(missing, file=sys.stderr)
        return 2
    try:  # read by Terraform's locals too, whose error would not name the file
        WorkExamples.load()
        return run(args)
    except (WorkExamplesInvalid, StandInInvalid) as invalid:
        print(invalid, file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from emulator.demo import run_demo

        try:
            variables = dict(terraform_variable(assignment) for assignment in args.var)
            return run_demo(show_logs=args.logs, variables=variables)
        except VariableNotJson as refused:
            print(str(refused).replace("serve:", "demo:", 1).replace("make serve", "make demo"),
                  file=sys.stderr)  # fmt: skip
            return 2
        except TerraformError as refused:
            print(f"demo: {' '.join(str(refused).split())}", file=sys.stderr)
            return 2
    if args.command == "serve":
        from emulator.apply import provider_problem
        from emulator.deployment import Settings
        from emulator.serve import TerraformRoot, serve

        try:
            variables = dict(terraform_variable(assignment) for assignment in args.var)
        except VariableNotJson as refused:
            print(refused, file=sys.stderr)
            return 2
        settings, applying = None, None
        problem = None if args.in_process else provider_problem()
        if problem:
            print(f"serve: not applied with real Terraform ({problem}): deployed in-process.")
            if args.root:
                print(f"serve: {args.root} needs real Terraform", file=sys.stderr)
                return 2
        if args.root:
            applying = TerraformRoot(args.root, variables)
        else:
            variables.setdefault("approval", {})  # its page on 127.0.0.1 (--var approval=null)
            try:  # refused here in a line, as at plan, before anything starts
                settings = Settings.from_terraform(**variables)
            except TerraformError as refused:
                print(f"serve: {' '.join(str(refused).split())}", file=sys.stderr)
                return 2
            if not (args.in_process or problem):
                variables.setdefault("work_source_path", str(work_folder()))
                applying = TerraformRoot(ROOT, variables)
        return serve(
            args.port,
            settings,
            args.logs,
            args.outputs,
            args.worker_log,
            max(args.workers, 1),
            args.hand_off,
            args.answer_hand_offs,
            args.approval,
            applying,
        )
    if args.command == "soak":
        from emulator.soak import main as soak_main

        return soak_main(args.executions, tuple(int(n) for n in args.consumers.split(",")))
    from emulator.bench import main as bench_main

    return bench_main(quick=args.quick)


class VariableNotJson(ValueError):
    """A --var value that looks like a JSON object or list but is not JSON."""


def terraform_variable(assignment: str) -> tuple[str, Any]:
    """NAME=VALUE, the value read as JSON (a number, a list) or else taken as a string; a value
    in braces or brackets must be JSON (a shell has most likely taken its quotes); a *_path is
    made absolute (Terraform evaluates the variables elsewhere)."""
    name, _, value = assignment.partition("=")
    if name.endswith("_path") and value:  # a file or folder of the user's, from where they are
        return name, str(Path(value).resolve())
    try:
        return name, json.loads(value)
    except ValueError:
        if value.startswith(("{", "[")):
            raise VariableNotJson(
                f"serve: --var {assignment} is not JSON (the shell took its quotes?): quote it "
                f'for the shell, make serve ARGS="--var \'{name}={{\\"KEY\\":\\"value\\"}}\'"'
            ) from None
        return name, value


if __name__ == "__main__":
    sys.exit(main())
