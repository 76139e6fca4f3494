"""One API name for every region: latency-based Route 53 records with a health check per region.

Each regional stack maps ``apiDomainName`` onto its own HTTP API (behind its own region's ACM
certificate) and adds its latency record, answered only while its health check passes. A client
then reaches the nearest healthy region; when a region fails its checks, Route 53 answers with
the next nearest one.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from cdk.api import HEALTH_PATH, MailApi
from cdk.config import ApiDomain, HostedZone

# Route 53's standard interval; three failures in a row (about 90 s) take a region out.
HEALTH_CHECK_INTERVAL = Duration.seconds(30)
HEALTH_CHECK_FAILURES = 3


class ApiRouting(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, api: MailApi, domain: ApiDomain, zone: HostedZone
    ) -> None:
        super().__init__(scope, construct_id)
        region = Stack.of(self).region

        self.domain_name = apigwv2.DomainName(
            self,
            "DomainName",
            domain_name=domain.name,
            certificate=acm.Certificate.from_certificate_arn(
                self, "Certificate", domain.certificate_arns[region]
            ),
            security_policy=apigwv2.SecurityPolicy.TLS_1_2,
        )
        apigwv2.ApiMapping(self, "Mapping", api=api.http_api, domain_name=self.domain_name, stage=api.stage)
        # The check calls the API's own endpoint, not the shared name, which would resolve to
        # whichever region is nearest to the checker.
        self.health_check = route53.HealthCheck(
            self,
            "HealthCheck",
            type=route53.HealthCheckType.HTTPS,
            fqdn=api.endpoint_host,
            port=443,
            resource_path=HEALTH_PATH,
            enable_sni=True,
            request_interval=HEALTH_CHECK_INTERVAL,
            failure_threshold=HEALTH_CHECK_FAILURES,
        )
        self.record = route53.ARecord(
            self,
            "LatencyRecord",
            zone=route53.HostedZone.from_hosted_zone_attributes(
                self, "Zone", hosted_zone_id=zone.zone_id, zone_name=zone.zone_name
            ),
            record_name=domain.name,
            target=route53.RecordTarget.from_alias(
                targets.ApiGatewayv2DomainProperties(
                    self.domain_name.regional_domain_name, self.domain_name.regional_hosted_zone_id
                )
            ),
            region=region,
            set_identifier=f"api-{region}",
            health_check=self.health_check,
        )
