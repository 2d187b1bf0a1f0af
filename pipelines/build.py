"""The build: one Beam pipeline, run once, from the input files to run.json.

The launcher lists the input files, fingerprints the config, takes the output lock and starts
the pipeline (`graph.build_graph`); reading, dedup, shard assignment, building, the label-model
fit, the manifests and run.json all run on workers. The launcher then checks the job's final
state: a dry run, a template or a failed job is never reported as a finished build.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
    TestOptions,
)
from apache_beam.runners.runner import PipelineState

from labelmill.fileio import join, read_json
from labelmill.filesystems import check_build_filesystems, require_filesystems
from labelmill.manifests.parts import FOLDER, absolute
from labelmill.manifests.tables import TableError
from labelmill.pipelines.graph import build_graph
from labelmill.pipelines.job_description import describe_pipeline, format_description, job_proto
from labelmill.pipelines.lock import output_lock
from labelmill.pipelines.plan import Plan, make_plan, release_plan
from labelmill.pipelines.progress import Progress, metrics_counts
from labelmill.schemas.config import BuildConfig

log = logging.getLogger(__name__)
REMOTE_RUNNERS = ("dataflowrunner", "dataflow", "testdataflowrunner")
# The portable runner's job-service calls, its state stream included, time out after
# --job_server_timeout (Beam's default 300 s): a longer build would end as a failed job.
JOB_SERVER_TIMEOUT_S = 7 * 24 * 3600
JOB_ENDPOINT_WAIT_S = 60  # the same timeout is Beam's wait for the endpoint: probe it first


class BuildNotFinished(RuntimeError):
    """The pipeline did not end in state DONE (a dry run, a template, a failed or cancelled job).
    `result` is the runner's result when there is one (a dry run's holds the translated job)."""

    def __init__(self, message: str, result: Any = None, ran: bool = True) -> None:
        super().__init__(message)
        self.result, self.ran = result, ran


class DryRun(BuildNotFinished):
    """A job translated but not submitted (`--dry_run`): `description` lists what it would run
    (transforms, worker image, staged files, worker options), so a user can check it for free."""

    def __init__(self, message: str, result: Any, description: str) -> None:
        super().__init__(message, result, ran=False)
        self.description = description


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options from the command line; the local default is the in-process FnApiRunner,
    never the DirectRunner's Prism path, which downloads a binary at run time."""
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = "FnApiRunner"
    if not _given(beam_args, "--job_server_timeout", "--job-server-timeout"):
        options.view_as(PortableOptions).job_server_timeout = JOB_SERVER_TIMEOUT_S
    return options


def _given(beam_args: Sequence[str], *names: str) -> bool:
    """Whether the command line sets an option (`--name value` or `--name=value`), not only
    whether it holds a value, since Beam fills in its defaults."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument(*names, dest="value", default=None)
    return parser.parse_known_args(list(beam_args))[0].value is not None


def check_job_endpoint(options: PipelineOptions) -> None:
    """A job service named by `--job_endpoint` must answer within a minute: the long default
    `--job_server_timeout` is also how long Beam would wait for a wrong address."""
    endpoint = options.view_as(PortableOptions).job_endpoint
    if not endpoint or endpoint == "embed":
        return
    import grpc

    channel = grpc.insecure_channel(endpoint)
    try:
        grpc.channel_ready_future(channel).result(timeout=JOB_ENDPOINT_WAIT_S)
    except grpc.FutureTimeoutError as exc:
        raise BuildNotFinished(
            f"--job_endpoint {endpoint}: no job service answered in {JOB_ENDPOINT_WAIT_S} s",
            ran=False,
        ) from exc
    finally:
        channel.close()


def check_paths(config: BuildConfig, options: PipelineOptions) -> BuildConfig:
    """Local paths made absolute (workers may start elsewhere); refused with a remote runner,
    whose workers cannot see this machine's disk."""
    runner = str(options.view_as(StandardOptions).runner or "").lower()
    if runner in REMOTE_RUNNERS:
        local = [p for p in (config.input, config.output) if "://" not in p]
        if local:
            raise ValueError(
                f"{', '.join(local)}: a local path with {runner}, whose workers cannot read"
                " this machine's disk; use gs:// (or another shared file system) URLs"
            )
    return replace(config, input=absolute(config.input), output=absolute(config.output))


def check_finished(result: Any, options: PipelineOptions | None = None) -> None:
    """Raise BuildNotFinished unless the job ran and ended DONE: nothing may claim its outputs.

    A Dataflow dry run reports DONE without running anything, and a template run only writes
    the template, so both are told apart by their options before the state is read."""
    if options is not None:
        if options.view_as(TestOptions).dry_run:
            proto = job_proto(result)
            description = format_description(describe_pipeline(proto, options)) if proto else ""
            raise DryRun(
                "--dry_run: the pipeline was checked, not run; nothing was built",
                result,
                description,
            )
        template = options.view_as(GoogleCloudOptions).template_location
        if template:
            raise BuildNotFinished(
                f"--template_location: a template was written to {template};"
                " nothing was built until it runs",
                ran=False,
            )
    if result is None:
        raise BuildNotFinished(
            "the runner returned no job (a dry run?); nothing was built", ran=False
        )
    state = result.wait_until_finish()
    state = state or getattr(result, "state", None)
    if state != PipelineState.DONE:
        raise BuildNotFinished(
            f"the pipeline ended in state {state} (a dry run, a template or a failed job);"
            " no build output is claimed"
        )


class OutOfSpace(OSError):
    """A worker's write that failed on a full disk (Beam wraps it in its own exception, or only
    in text): the command line says so in one line, and that the build resumes once space is
    freed (`cli_errors.one_line`), instead of a failed pipeline's last line."""


_ENOSPC_TEXT = re.compile(rf"\[Errno {errno.ENOSPC}\][^:\n]*(?::\s*'([^'\n]*)')?")


def _out_of_space(exc: BaseException) -> OutOfSpace | None:
    """The full disk behind `exc`: an ENOSPC OSError in its chain, or one named in its text."""
    seen: set[int] = set()
    inner: BaseException | None = exc
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        if isinstance(inner, OSError) and inner.errno == errno.ENOSPC:
            return OutOfSpace(
                errno.ENOSPC, inner.strerror or os.strerror(errno.ENOSPC), inner.filename
            )
        inner = inner.__cause__ or inner.__context__
    found = _ENOSPC_TEXT.search(str(exc))
    if found:
        return OutOfSpace(errno.ENOSPC, os.strerror(errno.ENOSPC), found.group(1))
    return None


def _left_shards(plan: Plan, result: Any) -> bool:
    """Whether a failed job finished any shard, in one look whatever the build's size: the first
    entry of a local output's marker folder, or a remote job's sample counters. Unknown is yes,
    so a partial build stays protected from another config."""
    if "://" not in plan.config.output:
        try:
            with os.scandir(join(plan.work, "shards")) as entries:
                return next(entries, None) is not None
        except FileNotFoundError:
            return False
    counts = metrics_counts(result) if result is not None else None
    return counts != (0, 0)


def _failure(exc: Exception) -> Exception:
    """A failed job as one line: a full disk as OutOfSpace, a worker's file-level input error
    (which Beam wraps in text) as the TableError it was, anything else as BuildNotFinished with
    its last line."""
    full = _out_of_space(exc)
    if full is not None:
        return full
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if isinstance(exc, TableError) and lines:  # the in-process runner re-raises the type
        return TableError(lines[0].split(" [while running", 1)[0])
    for line in lines:
        for marker in ("ManifestError: ", "TableError: "):
            if marker in line:
                return TableError(line.split(marker, 1)[1])
    telling = [
        line for line in lines if "Error" in line or "Exception" in line or "details" in line
    ]
    last = (telling or lines or [type(exc).__name__])[-1][:500]
    return BuildNotFinished(f"the pipeline failed: {last}")


def run(
    config: BuildConfig,
    beam_args: Sequence[str] = (),
    overwrite: bool = False,
    show_progress: bool = True,
    verify_resume: bool = False,
) -> dict[str, Any]:
    """Build `config.input` into `config.output`; returns the run summary (also in run.json).
    `verify_resume` re-hashes every kept shard instead of trusting its recorded size."""
    started = time.time()
    options = pipeline_options(beam_args)
    config = check_paths(config, options)
    check_job_endpoint(options)
    # The input's and output's file systems before the lock creates the output folder.
    require_filesystems([config.input], "the input")
    require_filesystems([config.output], "the output")
    with output_lock(config.output):
        plan = make_plan(config, overwrite=overwrite)
        if plan.units and plan.units[0].kind != FOLDER:
            # the file systems named by the first rows (a folder's files are in the folder)
            check_build_filesystems(replace(config, input=plan.units[0].url))
        pipeline = beam.Pipeline(options=options)
        build_graph(pipeline, plan, verify_resume, started)
        with Progress(plan, enabled=show_progress) as progress:
            try:
                progress.result = pipeline.run()
                check_finished(progress.result, options)
            except Exception as exc:
                if not getattr(exc, "ran", True) or not _left_shards(plan, progress.result):
                    release_plan(plan)  # nothing to resume: a corrected config starts afresh
                if isinstance(exc, BuildNotFinished):
                    raise
                log.debug("pipeline failed", exc_info=True)
                raise _failure(exc) from exc
            summary = read_json(join(plan.config.output, "run.json"))
            counts = summary["counts"]
            progress.final = (counts["written"], counts["rejected"])
    log.info("built %d shards (%d this run)", len(summary["shards"]), summary["shards_rebuilt"])
    if not summary["counts"]["balanced"]:
        raise RuntimeError(
            f"accounting error: written {counts['written']} + rejected {counts['rejected']}"
            f" != read {counts['read']}"
        )
    return summary
