"""A Dataflow job translated offline (`--dry_run=True`): what it would run is printed, nothing
is submitted or staged."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from labelmill.pipelines.job_description import describe_pipeline, format_description, job_proto

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
IMAGE = "europe-west4-docker.pkg.dev/my-project-123456/labelmill/worker:0.1.0-gpu"
DATAFLOW = [
    "--runner=DataflowRunner",
    "--project=my-project-123456",
    "--region=europe-west4",
    "--temp_location=gs://my-bucket-123/tmp",
    "--dry_run=True",
    "--no_auth",
    f"--sdk_container_image={IMAGE}",
    "--experiments=use_runner_v2",
    "--machine_type=g2-standard-8",
    "--dataflow_service_options=worker_accelerator=type:nvidia-l4;count:1;install-nvidia-driver",
]


def test_dry_run_translates_offline_and_describes_the_job() -> None:
    options = PipelineOptions(DATAFLOW)
    pipeline = beam.Pipeline(options=options)
    _ = (
        pipeline
        | "ShardIds" >> beam.Create([0, 1, 2])
        | "Spread" >> beam.Reshuffle()
        | "BuildShards" >> beam.Map(lambda i: i)
    )
    result = pipeline.run()
    proto = job_proto(result)
    assert proto is not None
    description = describe_pipeline(proto, options)
    names = [t["name"] for t in description["transforms"]]
    assert names == ["ShardIds", "Spread", "BuildShards"]
    (env,) = [e for e in description["environments"] if e["container_image"]]
    assert env["container_image"] == IMAGE
    assert "submission_environment_dependencies.txt" in env["staged"]
    assert description["options"]["machine_type"] == "g2-standard-8"
    assert "use_runner_v2" in description["options"]["experiments"]
    text = format_description(description)
    assert IMAGE in text and "worker_accelerator=type:nvidia-l4" in text
    assert text.index("ShardIds") < text.index("BuildShards")


def test_labelmill_build_dry_run_prints_the_job_and_claims_nothing() -> None:
    """The whole build graph, translated offline for Dataflow from a gs:// input: exit 0, the
    stages and the worker image printed, no shard, manifest or run.json written."""
    import fsspec
    from typer.testing import CliRunner

    from labelmill.pipelines.cli import app
    from labelmill.testing.object_stores import fake_gcs, upload

    with fake_gcs() as bucket:
        upload(SAMPLE, f"{bucket}/data")
        output = f"{bucket}/out"
        args = ["build", "-i", f"{bucket}/data/manifest.csv", "-o", output, "--quiet"]
        result = CliRunner().invoke(app, args + DATAFLOW)
        assert result.exit_code == 0, result.output
        assert IMAGE in result.stdout and "worker_accelerator=type:nvidia-l4" in result.stdout
        assert "not built: --dry_run" in result.stderr
        fs, root = fsspec.core.url_to_fs(output)
        written = [p for p in fs.find(root) if "/_work/" not in p]
        assert written == []
        assert not fs.exists(f"{root}/_work/plan.json")  # nothing that blocks another config
