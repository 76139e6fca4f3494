"""The HTTP API: every request, authenticated by a Cognito JWT, goes to the API function."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

# Steady-state and burst limits for the whole stage, well above one user's needs; they cap
# what a leaked token or a runaway client can cost.
THROTTLE = apigwv2.ThrottleSettings(rate_limit=100, burst_limit=200)

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
        user_pool: cognito.IUserPool,
        client: cognito.IUserPoolClient,
    ) -> None:
        super().__init__(scope, construct_id)

        issuer = f"https://cognito-idp.{Stack.of(self).region}.amazonaws.com/{user_pool.user_pool_id}"
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="mail service API",
            # One catch-all route: the function routes requests itself.
            default_integration=integrations.HttpLambdaIntegration("ApiFunction", function),
            default_authorizer=authorizers.HttpJwtAuthorizer(
                "CognitoJwt", issuer, jwt_audience=[client.user_pool_client_id]
            ),
            create_default_stage=False,
        )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=THROTTLE,
            access_log_settings=_JsonAccessLogs(access_logs),
        )

    @property
    def url(self) -> str:
        return self.stage.url
