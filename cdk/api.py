"""The HTTP API: every request goes to the API function, past a Lambda authorizer that accepts a
Cognito ID token from any region's user pool; ``GET /health`` alone needs no token."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk import nag
from cdk.config import ApiThrottle

HEALTH_PATH = "/health"
# A verdict is cached per Authorization header: a token stays accepted that long after it is
# revoked, and the authorizer runs at most once per token and period.
AUTHORIZER_CACHE_TTL = Duration.minutes(5)

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _JsonAccessLogs:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class MailApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        authorizer: lambda_.IFunction,
        throttle: ApiThrottle,
    ) -> None:
        super().__init__(scope, construct_id)

        # One integration for both routes: the function routes requests itself.
        integration = integrations.HttpLambdaIntegration("ApiFunction", function)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="mail service API",
            default_integration=integration,
            default_authorizer=authorizers.HttpLambdaAuthorizer(
                "AnyRegionsPool",
                authorizer,
                response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
                identity_source=["$request.header.Authorization"],
                results_cache_ttl=AUTHORIZER_CACHE_TTL,
            ),
            create_default_stage=False,
        )
        self.health_routes = self.http_api.add_routes(
            path=HEALTH_PATH,
            methods=[apigwv2.HttpMethod.GET],
            integration=integration,
            authorizer=apigwv2.HttpNoneAuthorizer(),
        )
        nag.acknowledge(
            self.health_routes[0],
            {
                "AwsSolutions-APIG4": "Route 53 health checkers call GET /health without a token; "
                "it answers only that the region is up, and no other route goes without authorization.",
            },
        )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            # The default route's limits, for all callers together: they keep a runaway client
            # from using up the account's API Gateway quota in the region. Per-client limits
            # need a usage plan or AWS WAF, which HTTP APIs do not offer (docs/OPERATIONS.md).
            throttle=apigwv2.ThrottleSettings(
                rate_limit=throttle.rate_limit, burst_limit=throttle.burst_limit
            ),
            access_log_settings=_JsonAccessLogs(access_logs),
        )

    @property
    def url(self) -> str:
        return self.stage.url

    @property
    def endpoint_host(self) -> str:
        """The API's own host name, ``<api id>.execute-api.<region>.amazonaws.com``."""
        return f"{self.http_api.api_id}.execute-api.{Stack.of(self).region}.{Aws.URL_SUFFIX}"
