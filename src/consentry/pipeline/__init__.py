"""Training-data builds: consent-filtered datasets with manifests, lineage and withdrawal propagation.

    from consentry.pipeline import build
    result = build(store, "genai_training", ["lake/"], "out/genai-2025-01")

See `consentry.pipeline.build` for the stages, `consentry.pipeline.registry`
for lineage (which builds used a member) and `consentry.pipeline.staleness`
for which builds went stale and rebuilding them.
"""

from consentry.pipeline.build import BuildResult, build
from consentry.pipeline.manifest import BuildManifest, read_manifest
from consentry.pipeline.progress import BuildProgress, BuildStage
from consentry.pipeline.registry import BuildRecord, builds_for_member, get_build, list_builds
from consentry.pipeline.staleness import StaleBuild, rebuild, stale_builds

__all__ = [
    "BuildManifest",
    "BuildProgress",
    "BuildRecord",
    "BuildResult",
    "BuildStage",
    "StaleBuild",
    "build",
    "builds_for_member",
    "get_build",
    "list_builds",
    "read_manifest",
    "rebuild",
    "stale_builds",
]
