from aws_cdk.assertions import Match

from cdk.storage import TABLE_NAME

from .synthesis import API_THROTTLE, as_list, custom_resources, function_logical_id, only, sdk_call


def _routes(template) -> dict[str, dict]:
    return {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }


def test_every_request_but_health_goes_past_the_lambda_authorizer_to_the_api_function(each_region):
    routes = _routes(each_region)
    [integration_id] = each_region.find_resources(
        "AWS::ApiGatewayV2::Integration",
        {
            "Properties": {
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {"Fn::GetAtt": [function_logical_id(each_region, "api"), "Arn"]},
            }
        },
    )
    [authorizer_id] = each_region.find_resources("AWS::ApiGatewayV2::Authorizer")

    assert set(routes) == {"$default", "GET /health"}
    assert routes["$default"]["AuthorizationType"] == "CUSTOM"
    assert routes["$default"]["AuthorizerId"] == {"Ref": authorizer_id}
    assert routes["GET /health"]["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in routes["GET /health"]
    for route in routes.values():
        assert route["Target"] == {"Fn::Join": ["", ["integrations/", {"Ref": integration_id}]]}


def test_lambda_authorizer_answers_simply_per_token_and_caches_five_minutes(each_region):
    each_region.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {
            "AuthorizerType": "REQUEST",
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": True,
            "IdentitySource": ["$request.header.Authorization"],
            "AuthorizerResultTtlInSeconds": 300,
            "AuthorizerUri": {
                "Fn::Join": [
                    "",
                    Match.array_with(
                        [{"Fn::GetAtt": [function_logical_id(each_region, "authorizer"), "Arn"]}]
                    ),
                ]
            },
        },
    )
    each_region.resource_count_is("AWS::ApiGatewayV2::Authorizer", 1)


def test_api_gateway_may_invoke_the_authorizer(each_region):
    each_region.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_logical_id(each_region, "authorizer"), "Arn"]},
            "Principal": "apigateway.amazonaws.com",
        },
    )


def test_each_region_registers_its_pool_in_the_table_and_removes_it_on_delete(each_named_region):
    region, template = each_named_region
    [registration] = custom_resources(template, "DynamoDB", "putItem")
    pool_id = next(iter(template.find_resources("AWS::Cognito::UserPool")))
    client_id = next(iter(template.find_resources("AWS::Cognito::UserPoolClient")))
    key = {"pk": {"S": "POOLS"}, "sk": {"S": region}}

    for phase in ("Create", "Update"):
        call = sdk_call(registration, phase)
        assert call["parameters"]["Item"] == {
            **key,
            "kind": {"S": "pool"},
            "region": {"S": region},
            "user_pool_id": {"S": f"<{pool_id}>"},
            "client_id": {"S": f"<{client_id}>"},
        }
    delete = sdk_call(registration, "Delete")
    assert (delete["action"], delete["parameters"]["Key"]) == ("deleteItem", key)
    assert {sdk_call(registration, phase)["parameters"]["TableName"] for phase in ("Create", "Delete")} <= {
        TABLE_NAME,
        f"<{_metadata_table_id(template)}>",
    }


def test_pool_registration_may_write_only_the_pools_partition(each_region):
    statements = [
        statement
        for policy in each_region.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "dynamodb:PutItem" in as_list(statement["Action"]) and "Condition" in statement
    ]

    [statement] = statements
    assert sorted(statement["Action"]) == ["dynamodb:DeleteItem", "dynamodb:PutItem"]
    assert statement["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["POOLS"]}}


def _metadata_table_id(template) -> str:
    tables = template.find_resources("AWS::DynamoDB::GlobalTable", {"Properties": {"TableName": TABLE_NAME}})
    return next(iter(tables), "none")


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


def test_stage_throttles_the_default_route_at_2000_per_second_with_bursts_of_5000(each_region):
    stage = only(each_region.find_resources("AWS::ApiGatewayV2::Stage"))[1]["Properties"]

    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 2000, "ThrottlingBurstLimit": 5000}


def test_api_throttle_context_sets_the_stage_limits(each_options_region):
    _, template = each_options_region
    stage = only(template.find_resources("AWS::ApiGatewayV2::Stage"))[1]["Properties"]

    assert API_THROTTLE == {"rateLimit": 750, "burstLimit": 1500}
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 750, "ThrottlingBurstLimit": 1500}


def test_user_pool_is_on_the_lite_plan_without_threat_protection(each_region):
    pool = only(each_region.find_resources("AWS::Cognito::UserPool"))[1]["Properties"]

    assert pool["UserPoolTier"] == "LITE"
    assert "UserPoolAddOns" not in pool


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
