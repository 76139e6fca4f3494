"""Lambda layers shared by every function: our ``mailcore`` package and third-party packages."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parent.parent
MAILCORE_LAYER_DIR = REPO_ROOT / "layers" / "mailcore"
REQUIREMENTS_FILE = REPO_ROOT / "requirements.txt"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64

# The wheels pip picks must match the Lambda runtime, not the machine that runs the synth.
PIP_PLATFORM = "manylinux2014_aarch64"
PIP_PYTHON_VERSION = "3.12"

ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


def pip_install_command(requirements: Path, output_dir: str) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--platform", PIP_PLATFORM,
        "--implementation", "cp",
        "--python-version", PIP_PYTHON_VERSION,
        "--only-binary=:all:",
        "--requirement", str(requirements),
        "--target", f"{output_dir}/python",
    ]  # fmt: skip


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Builds the dependency layer with this machine's pip, so synthesis needs no Docker."""

    def __init__(self, requirements: Path) -> None:
        self._requirements = requirements

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        if importlib.util.find_spec("pip") is None:
            return False  # CDK then falls back to bundling in the Docker image

        subprocess.run(pip_install_command(self._requirements, output_dir), check=True)
        return True


class SharedLayers(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.mailcore = lambda_.LayerVersion(
            self,
            "Mailcore",
            description="mailcore: the service's shared domain and adapter code",
            code=lambda_.Code.from_asset(str(MAILCORE_LAYER_DIR), exclude=ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            description="Third-party packages from requirements.txt",
            code=_dependencies_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            removal_policy=RemovalPolicy.DESTROY,
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.mailcore]


def _dependencies_code() -> lambda_.Code:
    # The asset's source is the repo root only because requirements.txt lives there; the custom
    # hash keeps CDK from fingerprinting the whole tree (virtualenv included) on every synth.
    return lambda_.Code.from_asset(
        str(REPO_ROOT),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=_requirements_digest(),
        bundling=BundlingOptions(
            local=PipLocalBundling(REQUIREMENTS_FILE),
            image=RUNTIME.bundling_image,
            platform="linux/arm64",
            command=[
                "bash", "-c",
                "pip install --only-binary=:all: -r requirements.txt -t /asset-output/python",
            ],
        ),
    )  # fmt: skip


def _requirements_digest() -> str:
    digest = hashlib.sha256(REQUIREMENTS_FILE.read_bytes())
    digest.update(f"{PIP_PLATFORM}/{PIP_PYTHON_VERSION}".encode())
    return digest.hexdigest()
