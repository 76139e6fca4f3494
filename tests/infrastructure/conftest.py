"""Synthesizes the whole CDK app once per test session, with dependency bundling skipped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from cdk.app import build_app  # noqa: E402
from cdk.layers import PipLocalBundling  # noqa: E402

from .synthesis import (  # noqa: E402
    HOME_REGION,
    HOSTED_DOMAINS,
    REPLICA_REGION,
    SynthesizedApp,
    app_context,
)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    bundling_attempts: list[str] = []

    def record_bundling(self: PipLocalBundling, output_dir: str, options: object) -> bool:
        bundling_attempts.append(output_dir)
        return True

    with pytest.MonkeyPatch.context() as patch:
        # Account-agnostic stacks, whatever the developer's shell exports.
        patch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
        patch.setattr(PipLocalBundling, "try_bundle", record_bundling)

        outdir = tmp_path_factory.mktemp("cdk.out")
        context = app_context(regions=[HOME_REGION, REPLICA_REGION], hostedDomains=HOSTED_DOMAINS)
        app = App(context=context, outdir=str(outdir))
        stacks = build_app(app)
        app.synth()
        templates = {region: Template.from_stack(stack) for region, stack in stacks.items()}

    return SynthesizedApp(stacks, templates, outdir, bundling_attempts)


@pytest.fixture(scope="session")
def home(synthesized: SynthesizedApp) -> Template:
    return synthesized.templates[HOME_REGION]


@pytest.fixture(scope="session")
def replica(synthesized: SynthesizedApp) -> Template:
    return synthesized.templates[REPLICA_REGION]


@pytest.fixture(scope="session", params=[HOME_REGION, REPLICA_REGION])
def each_region(request: pytest.FixtureRequest, synthesized: SynthesizedApp) -> Template:
    """Parametrizes a test over every regional stack's template."""
    return synthesized.templates[request.param]


@pytest.fixture(scope="session", params=[HOME_REGION, REPLICA_REGION])
def each_named_region(request: pytest.FixtureRequest, synthesized: SynthesizedApp) -> tuple[str, Template]:
    """Like ``each_region``, for tests that also need the region's name."""
    return request.param, synthesized.templates[request.param]
