import pytest
from aws_cdk.assertions import Template

from cdk.storage import REPLICATED_PREFIXES

from .synthesis import (
    BUCKET_PREFIX,
    HOME_REGION,
    OPTIONS_REGIONS,
    REPLICA_REGION,
    SynthesizedApp,
    as_list,
    custom_resources,
    flat,
    sdk_call,
)

ACCOUNT = "<AWS::AccountId>"


def _bucket(region: str, prefix: str = f"mail-raw-{ACCOUNT}") -> str:
    return f"{prefix}-{region}"


def _arn(name: str) -> str:
    return f"arn:<AWS::Partition>:s3:::{name}"


def _configurations(template: Template) -> dict[str, dict]:
    """Each bucket's replication call, by bucket name, with tokens shown as ``<Ref>``."""
    calls = [
        sdk_call(resource, "Create") for resource in custom_resources(template, "S3", "putBucketReplication")
    ]
    return {call["parameters"]["Bucket"]: call for call in calls}


def _role_statements(template: Template, role_arn: str) -> list[dict]:
    role_id = role_arn.strip("<>").split(".")[0]
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    return [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_every_bucket_replicates_each_prefix_to_every_other_region(synthesized: SynthesizedApp):
    configurations = _configurations(synthesized.replication)
    regions = [HOME_REGION, REPLICA_REGION]

    assert set(configurations) == {_bucket(region) for region in regions}
    for region in regions:
        call = configurations[_bucket(region)]
        rules = call["parameters"]["ReplicationConfiguration"]["Rules"]
        others = [_arn(_bucket(other)) for other in regions if other != region]

        assert call["region"] == region
        assert {(rule["Destination"]["Bucket"], rule["Filter"]["Prefix"]) for rule in rules} == {
            (destination, prefix) for destination in others for prefix in REPLICATED_PREFIXES
        }
        assert len({rule["Priority"] for rule in rules}) == len(rules)


@pytest.mark.parametrize("app", ["synthesized", "with_options"])
def test_downloads_stay_in_the_region_that_wrote_them(request, app):
    synthesized: SynthesizedApp = request.getfixturevalue(app)
    prefixes = {
        rule["Filter"]["Prefix"]
        for call in _configurations(synthesized.replication).values()
        for rule in call["parameters"]["ReplicationConfiguration"]["Rules"]
    }

    assert prefixes == {"inbound/", "outbound/", "notices/", "drafts/"}
    assert "downloads/" not in REPLICATED_PREFIXES


def test_rules_leave_delete_markers_and_run_without_time_control_by_default(synthesized: SynthesizedApp):
    for call in _configurations(synthesized.replication).values():
        for rule in call["parameters"]["ReplicationConfiguration"]["Rules"]:
            assert rule["Status"] == "Enabled"
            assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}
            assert set(rule["Destination"]) == {"Bucket"}


def test_replication_time_control_adds_the_15_minute_target_and_metrics(with_options: SynthesizedApp):
    configurations = _configurations(with_options.replication)

    assert set(configurations) == {_bucket(region, BUCKET_PREFIX) for region in OPTIONS_REGIONS}
    for call in configurations.values():
        rules = call["parameters"]["ReplicationConfiguration"]["Rules"]
        assert len(rules) == 2 * len(REPLICATED_PREFIXES)
        for rule in rules:
            assert rule["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
            assert rule["Destination"]["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}


def test_stack_deletion_removes_each_buckets_replication(synthesized: SynthesizedApp):
    for resource in custom_resources(synthesized.replication, "S3", "putBucketReplication"):
        create, delete = sdk_call(resource, "Create"), sdk_call(resource, "Delete")

        assert delete["action"] == "deleteBucketReplication"
        assert (delete["parameters"], delete["region"]) == (
            {"Bucket": create["parameters"]["Bucket"]},
            create["region"],
        )


def test_replication_role_reads_only_its_bucket_and_writes_only_the_others(synthesized: SynthesizedApp):
    template = synthesized.replication
    for bucket, call in _configurations(template).items():
        role_arn = call["parameters"]["ReplicationConfiguration"]["Role"]
        granted = {
            action: {flat(resource) for resource in as_list(statement["Resource"])}
            for statement in _role_statements(template, role_arn)
            for action in as_list(statement["Action"])
        }
        others = [_bucket(region) for region in (HOME_REGION, REPLICA_REGION) if _bucket(region) != bucket]
        objects = {f"{_arn(bucket)}/{prefix}*" for prefix in REPLICATED_PREFIXES}
        destinations = {f"{_arn(other)}/{prefix}*" for other in others for prefix in REPLICATED_PREFIXES}

        assert granted == {
            "s3:GetReplicationConfiguration": {_arn(bucket)},
            "s3:ListBucket": {_arn(bucket)},
            "s3:GetObjectVersionForReplication": objects,
            "s3:GetObjectVersionAcl": objects,
            "s3:GetObjectVersionTagging": objects,
            "s3:ReplicateObject": destinations,
            "s3:ReplicateTags": destinations,
        }


def test_only_s3_assumes_the_replication_roles(synthesized: SynthesizedApp):
    roles = synthesized.replication.find_resources("AWS::IAM::Role")
    s3_roles = [
        role
        for role in roles.values()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": "s3.amazonaws.com"}
    ]

    assert len(s3_roles) == 2
    for role in s3_roles:
        assert len(role["Properties"]["AssumeRolePolicyDocument"]["Statement"]) == 1


def test_setting_replication_may_pass_only_the_replication_role_to_s3(synthesized: SynthesizedApp):
    statements = [
        statement
        for policy in synthesized.replication.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "iam:PassRole"
    ]

    assert len(statements) == 2
    for statement in statements:
        assert statement["Resource"]["Fn::GetAtt"][1] == "Arn"
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "s3.amazonaws.com"}}


@pytest.mark.parametrize("kind", ["default", "time control"])
def test_failed_replication_alarms_exist_only_with_replication_metrics(
    synthesized: SynthesizedApp, with_options: SynthesizedApp, kind
):
    app = with_options if kind == "time control" else synthesized
    for region, template in app.templates.items():
        alarms = [
            alarm["Properties"]
            for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
            if any(
                metric.get("MetricStat", {}).get("Metric", {}).get("MetricName")
                == "OperationsFailedReplication"
                for metric in alarm["Properties"].get("Metrics", [])
            )
        ]

        expected = len(app.templates) - 1 if kind == "time control" else 0
        assert len(alarms) == expected, region
        for alarm in alarms:
            sources = {
                dimension["Value"]
                for metric in alarm["Metrics"]
                if "MetricStat" in metric
                for dimension in metric["MetricStat"]["Metric"]["Dimensions"]
                if dimension["Name"] == "SourceBucket"
            }
            assert sources == {_bucket(region, BUCKET_PREFIX)}
