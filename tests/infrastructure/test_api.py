from aws_cdk.assertions import Match

from .synthesis import HOME_REGION


def test_every_request_goes_to_the_api_function_behind_the_jwt_authorizer(each_region):
    each_region.resource_count_is("AWS::ApiGatewayV2::Route", 1)
    each_region.has_resource_properties(
        "AWS::ApiGatewayV2::Route",
        {"RouteKey": "$default", "AuthorizationType": "JWT", "AuthorizerId": Match.any_value()},
    )
    each_region.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": {"Fn::GetAtt": [Match.any_value(), "Arn"]},
        },
    )


def test_jwt_authorizer_trusts_the_user_pool_and_its_app_client(home):
    pool_id = next(iter(home.find_resources("AWS::Cognito::UserPool")))
    client_id = next(iter(home.find_resources("AWS::Cognito::UserPoolClient")))

    home.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "JWT",
            "IdentitySource": ["$request.header.Authorization"],
            "JwtConfiguration": {
                "Audience": [{"Ref": client_id}],
                "Issuer": {
                    "Fn::Join": [
                        "",
                        [f"https://cognito-idp.{HOME_REGION}.amazonaws.com/", {"Ref": pool_id}],
                    ]
                },
            },
        },
    )


def test_stage_writes_access_logs(each_region):
    each_region.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r"\$context\.requestId"),
            },
        },
    )


def test_user_pool_is_admin_only_with_immutable_account_id(each_region):
    each_region.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "UsernameAttributes": ["email"],
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": Match.any_value(),
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                    }
                )
            },
            "Schema": Match.array_with(
                [Match.object_like({"Name": "account_id", "AttributeDataType": "String", "Mutable": False})]
            ),
        },
    )


def test_app_client_reads_account_id_and_cannot_write_it(each_region):
    clients = each_region.find_resources("AWS::Cognito::UserPoolClient")
    assert len(clients) == 1
    client = next(iter(clients.values()))["Properties"]

    assert client["GenerateSecret"] is False
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert "custom:account_id" in client["ReadAttributes"]
    assert "custom:account_id" not in client["WriteAttributes"]
