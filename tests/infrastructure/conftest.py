"""Synthesizes the CDK app twice per test session, with dependency bundling skipped: once as
cdk.json configures it (two regions, nothing optional), once with three regions and every
optional setting on."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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
    OPTIONS_CONTEXT,
    OPTIONS_REGIONS,
    REPLICA_REGION,
    SynthesizedApp,
    app_context,
)


def _synthesize(outdir: Path, context: dict[str, Any]) -> SynthesizedApp:
    bundling_attempts: list[str] = []

    def record_bundling(self: PipLocalBundling, output_dir: str, options: object) -> bool:
        bundling_attempts.append(output_dir)
        return True

    with pytest.MonkeyPatch.context() as patch:
        # Account-agnostic stacks, whatever the developer's shell exports.
        patch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
        patch.setattr(PipLocalBundling, "try_bundle", record_bundling)

        app = App(context=app_context(**context), outdir=str(outdir))
        stacks = build_app(app)
        app.synth()
        templates = {region: Template.from_stack(stack) for region, stack in stacks.regional.items()}
        replication = Template.from_stack(stacks.replication) if stacks.replication else None

    return SynthesizedApp(
        stacks.regional, templates, stacks.replication, replication, outdir, bundling_attempts
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    context = {"regions": [HOME_REGION, REPLICA_REGION], "hostedDomains": HOSTED_DOMAINS}
    return _synthesize(tmp_path_factory.mktemp("cdk.out"), context)


@pytest.fixture(scope="session")
def with_options(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    return _synthesize(tmp_path_factory.mktemp("cdk.out.options"), OPTIONS_CONTEXT)


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


@pytest.fixture(scope="session", params=OPTIONS_REGIONS)
def each_options_region(request: pytest.FixtureRequest, with_options: SynthesizedApp) -> tuple[str, Template]:
    """Every regional stack of the three-region app with every option on, with its region."""
    return request.param, with_options.templates[request.param]
