from .synthesis import (
    API_DOMAIN,
    CERTIFICATE_ARNS,
    OPTIONS_DOMAINS,
    OPTIONS_REGIONS,
    ZONE_ID,
    SynthesizedApp,
    function_logical_id,
)

HOME = OPTIONS_REGIONS[0]


def _record_sets(template, **properties) -> list[dict]:
    return [
        record["Properties"]
        for record in template.find_resources("AWS::Route53::RecordSet").values()
        if all(record["Properties"].get(key) == value for key, value in properties.items())
    ]


def test_without_a_hosted_zone_nothing_is_published(each_region):
    for kind in ("RecordSet", "HealthCheck"):
        each_region.resource_count_is(f"AWS::Route53::{kind}", 0)
    each_region.resource_count_is("AWS::ApiGatewayV2::DomainName", 0)


def test_home_stack_alone_publishes_each_domains_mx_set(with_options: SynthesizedApp):
    for region, template in with_options.templates.items():
        records = _record_sets(template, Type="MX", HostedZoneId=ZONE_ID)
        mx_sets = {record["Name"]: record["ResourceRecords"] for record in records}
        mx_sets = {name: values for name, values in mx_sets.items() if not name.startswith("bounce-")}

        if region == HOME:
            assert mx_sets == {
                domain: [f"10 inbound-smtp.{r}.amazonaws.com" for r in OPTIONS_REGIONS]
                for domain in OPTIONS_DOMAINS
            }
        else:
            assert mx_sets == {}


def test_every_region_publishes_its_own_dkim_and_mail_from_records(each_options_region):
    region, template = each_options_region

    dkim = _record_sets(template, Type="CNAME", HostedZoneId=ZONE_ID)
    mail_from = {
        (record["Name"], record["Type"])
        for record in _record_sets(template, HostedZoneId=ZONE_ID)
        if record["Type"] in {"MX", "TXT"} and str(record["Name"]).startswith("bounce-")
    }

    assert len(dkim) == 3 * len(OPTIONS_DOMAINS)
    assert all(record["Name"]["Fn::GetAtt"][1].startswith("DkimDNSTokenName") for record in dkim)
    assert mail_from == {
        (f"bounce-{region}.{domain}", kind) for domain in OPTIONS_DOMAINS for kind in ("MX", "TXT")
    }


def test_custom_domain_maps_the_regional_api_behind_its_regions_certificate(each_options_region):
    region, template = each_options_region
    [stage_api] = [
        stage["Properties"]["ApiId"] for stage in template.find_resources("AWS::ApiGatewayV2::Stage").values()
    ]

    template.has_resource_properties(
        "AWS::ApiGatewayV2::DomainName",
        {
            "DomainName": API_DOMAIN,
            "DomainNameConfigurations": [
                {
                    "CertificateArn": CERTIFICATE_ARNS[region],
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ApiGatewayV2::ApiMapping", {"ApiId": stage_api, "Stage": "$default"}
    )


def test_latency_record_answers_with_this_region_while_its_health_check_passes(each_options_region):
    region, template = each_options_region
    [health_check_id] = template.find_resources("AWS::Route53::HealthCheck")
    [domain_id] = template.find_resources("AWS::ApiGatewayV2::DomainName")

    [record] = _record_sets(template, Type="A")

    assert record["Name"] == f"{API_DOMAIN}."
    assert record["HostedZoneId"] == ZONE_ID
    assert (record["Region"], record["SetIdentifier"]) == (region, f"api-{region}")
    assert record["HealthCheckId"] == {"Ref": health_check_id}
    assert record["AliasTarget"] == {
        "DNSName": {"Fn::GetAtt": [domain_id, "RegionalDomainName"]},
        "HostedZoneId": {"Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]},
    }


def test_health_check_calls_get_health_on_the_regions_own_endpoint(each_options_region):
    region, template = each_options_region
    [api_id] = template.find_resources("AWS::ApiGatewayV2::Api")

    template.has_resource_properties(
        "AWS::Route53::HealthCheck",
        {
            "HealthCheckConfig": {
                "Type": "HTTPS",
                "FullyQualifiedDomainName": {
                    "Fn::Join": ["", [{"Ref": api_id}, f".execute-api.{region}.", {"Ref": "AWS::URLSuffix"}]]
                },
                "Port": 443,
                "ResourcePath": "/health",
                "EnableSNI": True,
                "RequestInterval": 30,
                "FailureThreshold": 3,
                "Inverted": False,
                "MeasureLatency": False,
            }
        },
    )


def test_health_route_reaches_the_api_function_without_a_token(each_options_region):
    _, template = each_options_region
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }

    assert routes["GET /health"]["AuthorizationType"] == "NONE"
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {"IntegrationUri": {"Fn::GetAtt": [function_logical_id(template, "api"), "Arn"]}},
    )
