"""Beam options labelmill sets when the user did not: a portable job service's timeout long
enough for a long build, and a fast refusal of a job endpoint that does not answer."""

from __future__ import annotations

import socket

import pytest
from apache_beam.options.pipeline_options import PortableOptions

from labelmill.pipelines import build
from labelmill.pipelines.build import BuildNotFinished, check_job_endpoint, pipeline_options

PORTABLE = ["--runner", "PortableRunner", "--job_endpoint", "embed"]


def timeout(args: list[str]) -> int:
    return pipeline_options(args).view_as(PortableOptions).job_server_timeout


def test_job_server_timeout_defaults_past_beams_five_minutes():
    assert timeout(PORTABLE) == build.JOB_SERVER_TIMEOUT_S
    assert timeout([]) > 24 * 3600


@pytest.mark.parametrize(
    "given",
    [["--job_server_timeout", "42"], ["--job_server_timeout=42"], ["--job-server-timeout", "42"]],
)
def test_a_given_job_server_timeout_is_kept(given):
    assert timeout([*PORTABLE, *given]) == 42


def test_a_job_endpoint_that_does_not_answer_is_refused(monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(build, "JOB_ENDPOINT_WAIT_S", 1)
    options = pipeline_options(
        ["--runner", "PortableRunner", "--job_endpoint", f"localhost:{port}"]
    )
    with pytest.raises(BuildNotFinished, match=f"localhost:{port}: no job service answered"):
        check_job_endpoint(options)
    check_job_endpoint(pipeline_options(PORTABLE))  # the embedded service needs no probe
