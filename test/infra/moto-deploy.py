"""Deploys a synthesized Kozmic stack into moto's CloudFormation (test/infra/moto-deploy.test.ts).

Usage: python3 moto-deploy.py <endpoint> <cloud assembly dir> <stack name>
Uploads the stack's assets as `cdk deploy` would (directories zipped) to the bootstrap
bucket, makes a VPC with a subnet for the runner hosts, takes out what moto does not model
(NOT_MODELED), then creates and deletes the stack four times, as a user who destroys and
deploys again: twice with the table's name left to CloudFormation, twice with a fixed name.
The bucket properties moto's CloudFormation ignores are put through its S3 API into the first
deployment's artifact bucket and read back, and the bucket is given an object
(artifact_bucket_settings).
Prints one JSON object: for each, the stack's status and reason, its resources (type,
status) and outputs; what was taken out; the tables and artifact buckets left.
"""
import io
import json
import os
import sys
import zipfile

import boto3

endpoint, assembly, stack_name = sys.argv[1:4]
ACCOUNT, REGION = "123456789012", "us-east-1"
session = boto3.session.Session(
    aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
)
client = lambda name: session.client(name, endpoint_url=endpoint)  # noqa: E731
s3, ec2, ssm = client("s3"), client("ec2"), client("ssm")
cfn = client("cloudformation")


def upload_assets():
    manifest = json.load(open(os.path.join(assembly, f"{stack_name}.assets.json")))
    for asset in manifest["files"].values():
        source = os.path.join(assembly, asset["source"]["path"])
        for destination in asset["destinations"].values():
            bucket = (
                destination["bucketName"]
                .replace("${AWS::AccountId}", ACCOUNT)
                .replace("${AWS::Region}", REGION)
            )
            s3.create_bucket(Bucket=bucket)
            if asset["source"].get("packaging") == "zip":
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w") as archive:
                    for root, _, files in os.walk(source):
                        for name in files:
                            path = os.path.join(root, name)
                            archive.write(path, os.path.relpath(path, source))
                body = buffer.getvalue()
            else:
                body = open(source, "rb").read()
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)


# Resource types moto's CloudFormation does not create (docs/aws.md says how each is
# checked instead). They are taken out; a reference to one becomes a stand-in value, the
# App secret's an ARN of a secret made through moto's Secrets Manager API.
NOT_MODELED = {
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::Url",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SecretsManager::Secret",
}


def without_unmodeled(body):
    removed = {
        id: r["Type"] for id, r in body["Resources"].items() if r["Type"] in NOT_MODELED
    }
    stand_in = {}
    for id, type in removed.items():
        del body["Resources"][id]
        if type == "AWS::SecretsManager::Secret":
            secrets = client("secretsmanager")
            stand_in[id] = secrets.create_secret(Name=f"kozmic-{id}", SecretString="{}")["ARN"]
        else:
            stand_in[id] = f"stand-in-for-{id}"

    def replace(value):
        if isinstance(value, list):
            return [replace(v) for v in value]
        if not isinstance(value, dict):
            return value
        if value.get("Ref") in removed:
            return stand_in[value["Ref"]]
        if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in removed:
            id, attribute = value["Fn::GetAtt"]
            return f"https://{stand_in[id]}.example/" if attribute == "FunctionUrl" else stand_in[id]
        return {
            k: [d for d in v if d not in removed] if k == "DependsOn" and isinstance(v, list)
            else (None if k == "DependsOn" and v in removed else replace(v))
            for k, v in value.items()
        }

    body = replace(body)
    # moto makes up an ECR repository's name from the stack's, capitals and all, which its own
    # check then refuses; CloudFormation's names are lower case.
    for id, resource in body["Resources"].items():
        if resource["Type"] == "AWS::ECR::Repository":
            resource["Properties"].setdefault("RepositoryName", f"kozmic-{id.lower()}")
    for resource in body["Resources"].values():
        if resource.get("DependsOn") in (None, []):
            resource.pop("DependsOn", None)
    return body, removed


def deploy(template, parameters):
    try:
        cfn.create_stack(
            StackName=stack_name,
            TemplateBody=template,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
    except Exception as error:  # moto refuses some failures at once, as an error
        return {"status": "CREATE_FAILED", "reason": str(error), "resources": {}, "outputs": {}}
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    resources = cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    return {
        "status": stack["StackStatus"],
        "reason": stack.get("StackStatusReason"),
        "resources": {
            r["LogicalResourceId"]: {
                "type": r["ResourceType"],
                "status": r["ResourceStatus"],
                "id": r.get("PhysicalResourceId"),
            }
            for r in resources
        },
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
    }


def resolve(value, names, parameters):
    """A template value with the intrinsics the bucket's settings use filled in."""
    if isinstance(value, list):
        return [resolve(v, names, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return parameters[value["Ref"]]
    if "Fn::GetAtt" in value:
        id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", attribute
        return f"arn:aws:s3:::{names[id]}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(p, names, parameters)) for p in parts)
    return {k: resolve(v, names, parameters) for k, v in value.items()}


def artifact_bucket_settings(original, deployment, parameters):
    """moto's CloudFormation makes the bucket and its encryption, and ignores its lifecycle
    rules, public access block and ownership controls (and has no AWS::S3::BucketPolicy):
    the template's own values go through moto's S3 API, as CloudFormation would send them,
    and are read back, so S3's API takes them as they are, with the parameters the stack
    was given."""
    [(id, bucket)] = [
        (id, r) for id, r in original["Resources"].items() if r["Type"] == "AWS::S3::Bucket"
    ]
    [policy] = [
        r for r in original["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"
    ]
    name = deployment["resources"][id]["id"]
    values = {
        **{k: v.get("Default") for k, v in original["Parameters"].items()},
        **parameters,
    }
    props = resolve(bucket["Properties"], {id: name}, values)
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": rule["Id"],
                    "Status": rule["Status"],
                    "Filter": {"Prefix": rule["Prefix"]},
                    "Expiration": {"Days": int(rule["ExpirationInDays"])},
                    "AbortIncompleteMultipartUpload": rule["AbortIncompleteMultipartUpload"],
                }
                for rule in props["LifecycleConfiguration"]["Rules"]
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
    )
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
    # A job's file, which must outlive the stack with its bucket. Put before the policy: moto
    # does not evaluate aws:SecureTransport, and refuses every object request under a policy
    # whose condition it cannot meet (bucket requests, such as listing, are not checked).
    s3.put_object(Bucket=name, Key="artifacts/job-1/kept.txt", Body=b"kept")
    document = resolve(policy["Properties"]["PolicyDocument"], {id: name}, values)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(document))
    return {
        "bucket": name,
        "encryption": s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"],
        "lifecycle": s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"],
        "publicAccessBlock": s3.get_public_access_block(Bucket=name)[
            "PublicAccessBlockConfiguration"
        ],
        "ownership": s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"],
        "policy": json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]),
    }


upload_assets()
# AWS's public parameter naming the current Amazon Linux AMI is not in moto (nor may one
# put a parameter under /aws/), and moto resolves a default even when a value is given: the
# default goes, and the stack is given a parameter of the test's own.
body = json.load(open(os.path.join(assembly, f"{stack_name}.template.json")))
del body["Parameters"]["RunnerImageId"]["Default"]
original = json.loads(json.dumps(body))
body, removed = without_unmodeled(body)
template = json.dumps(body)
image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
ssm.put_parameter(Name="/kozmic-test/runner-image", Value=image, Type="String")
# What `cdk bootstrap` leaves besides the bucket: the version the template checks.
ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
parameters = {
    "AppId": "4242",
    "RunnerVpcId": vpc,
    "RunnerSubnetIds": subnet,
    "RunnerImageId": "/kozmic-test/runner-image",
    # Not the default: the artifacts' expiry is this parameter.
    "LogRetentionDays": "9",
}
results = {"removed": removed}
# Deployed, destroyed and deployed again: with the table's name left to CloudFormation, and
# with a fixed name, which the table the first stack left behind still holds.
for name, table in [("first", ""), ("again", ""), ("named", "kozmic"), ("namedAgain", "kozmic")]:
    given = {**parameters, "TableName": table}
    results[name] = deploy(template, given)
    if name == "first" and results[name]["status"] == "CREATE_COMPLETE":
        results["artifactBucket"] = artifact_bucket_settings(original, results[name], given)
    cfn.delete_stack(StackName=stack_name)
results["tables"] = client("dynamodb").list_tables()["TableNames"]
results["buckets"] = {
    b["Name"]: [o["Key"] for o in s3.list_objects_v2(Bucket=b["Name"]).get("Contents", [])]
    for b in s3.list_buckets()["Buckets"]
    if not b["Name"].startswith("cdk-")
}
print(json.dumps(results))
