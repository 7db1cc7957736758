"""Publishes through the real Python SNS Extended Client library (amazon-sns-extended-client) to moto.

It patches boto3's sessions when imported, so the tests run it in a separate process:
    python sns_library.py publish ENDPOINT TOPIC_ARN BUCKET BODY_FILE [--legacy]
Output: one JSON document on standard output, the MessageId.
"""

import json
import sys

from sns_extended_client import SNSExtendedClientSession

REGION = "us-east-1"
CREDENTIALS = dict(aws_access_key_id="AKIALIBRARY", aws_secret_access_key="library", region_name=REGION)


def main(argv):
    command, endpoint, topic, bucket, body_file = argv[:5]
    if command != "publish":
        raise SystemExit(f"unknown command {command}")
    with open(body_file, encoding="utf-8", newline="") as f:
        body = f.read()
    sns = SNSExtendedClientSession(**CREDENTIALS).client("sns", endpoint_url=endpoint)
    sns.s3_client = SNSExtendedClientSession(**CREDENTIALS).client("s3", endpoint_url=endpoint)
    sns.large_payload_support = bucket
    sns.use_legacy_attribute = "--legacy" in argv
    response = sns.publish(TopicArn=topic, Message=body)
    print(json.dumps({"MessageId": response["MessageId"]}))


if __name__ == "__main__":
    main(sys.argv[1:])
