"""What a translated job would run: its transforms, worker environment and staged artifacts.

`--runner DataflowRunner --dry_run=True` translates the whole pipeline without submitting it
(no network: nothing is staged or created); this reads the translated portable pipeline so
that a user can check a job before paying for one: the labelmill stages, the container image
the workers would start, the files they would be sent, and the worker options that decide
cost (machine type, accelerator, worker counts).
"""

from __future__ import annotations

from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2

DOCKER = "beam:env:docker:v1"
STAGING = "beam:artifact:role:staging_to:v1"
WORKER_OPTIONS = (
    "runner", "project", "region", "temp_location", "staging_location", "sdk_container_image",
    "experiments", "machine_type", "dataflow_service_options", "num_workers", "max_num_workers",
    "number_of_worker_harness_threads", "sdk_location", "extra_packages", "setup_file",
    "requirements_file",
)


def _staged_name(artifact: beam_runner_api_pb2.ArtifactInformation) -> str:
    if artifact.role_urn == STAGING:
        payload = beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(artifact.role_payload)
        return payload.staged_name
    return artifact.role_urn


def describe_pipeline(proto: beam_runner_api_pb2.Pipeline, options: PipelineOptions) -> dict:
    """Top-level transforms (with their steps), environments and the options that matter."""
    components = proto.components
    transforms: list[dict[str, Any]] = []
    for root in proto.root_transform_ids:
        tops = components.transforms[root].subtransforms or [root]
        for tid in tops:
            transform = components.transforms[tid]
            steps = [components.transforms[s].unique_name for s in transform.subtransforms]
            transforms.append({"name": transform.unique_name, "steps": steps})
    environments = []
    for env_id, env in sorted(components.environments.items()):
        image = ""
        if env.urn == DOCKER:
            image = beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image
        environments.append(
            {
                "id": env_id,
                "urn": env.urn,
                "container_image": image,
                "staged": sorted(_staged_name(a) for a in env.dependencies),
            }
        )
    given = options.get_all_options(drop_default=True)
    return {
        "transforms": transforms,
        "environments": environments,
        "options": {k: given[k] for k in WORKER_OPTIONS if given.get(k) not in (None, [], "")},
    }


def job_proto(result: Any) -> beam_runner_api_pb2.Pipeline | None:
    """The translated pipeline of a dry-run result (Dataflow keeps it on `result.job`)."""
    job = getattr(result, "job", None)
    return getattr(job, "proto_pipeline", None)


def format_description(description: dict) -> str:
    """The description as indented text for the terminal (names only, no data)."""
    lines = ["transforms:"]
    for transform in description["transforms"]:
        lines.append(f"  {transform['name']}")
        lines.extend(f"    {step}" for step in transform["steps"])
    lines.append("environments:")
    for env in description["environments"]:
        lines.append(f"  {env['id']}: {env['urn']} {env['container_image']}".rstrip())
        lines.extend(f"    staged: {name}" for name in env["staged"])
    lines.append("options:")
    lines.extend(f"  {key}: {value}" for key, value in description["options"].items())
    return "\n".join(lines)
